/*
 * derive.c - evidence to tags, markers and text lines.
 *
 * Evidence is grouped by (analyzer, label). For each group the frames that count are those
 * whose best confidence meets the tag's threshold; each such frame stands for the interval
 * [t, t + sampling interval) clipped to the media's duration. Neighbouring hits closer than
 * max_gap merge into segments; segments long enough become markers; the total hit time decides
 * the video-level tag. A marker's edges snap to the item's shot boundaries when one lies in the
 * sampling interval before them (the samples only bracket a change; a cut inside the bracket
 * is where it happened; technical cues, "cue:" labels, keep their own edges); whether a marker
 * exists is decided before snapping, from the evidence alone. A finding that lasts (a spoken
 * segment: evidence with an end) counts for [t, end) instead of one interval. Keywords
 * ("keyword:" labels, from speech) describe the whole item: any hit tags it, like an image's.
 * Text evidence becomes lines: the same line (compared case-insensitively
 * with whitespace removed, since OCR drops spaces) seen in nearby frames becomes one entry
 * with a start and an end. The vlm analyzer's "description" is neither: it describes the whole
 * item and is loaded as the result's description by the catalog. Everything is deterministic:
 * outputs are sorted.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"

struct hit {
    double t, end; /* end: when the finding lasts ([t, end), speech), else 0 */
    float conf;
};

static int cmp_hit(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->conf > y->conf) ? -1 : (x->conf < y->conf);
}

static const struct aitag_sampling *sampling_for(const struct aitag_derive_input *in,
                                                 const char *analyzer)
{
    for (size_t i = 0; i < in->n_sampling; i++)
        if (in->sampling[i].analyzer && analyzer && strcmp(in->sampling[i].analyzer, analyzer) == 0)
            return &in->sampling[i];
    return NULL;
}

/* Where a hit stops counting: its own end when it lasts, else one sampling interval on. */
static double hit_end(const struct hit *h, double interval)
{
    return h->end > h->t ? h->end : h->t + interval;
}

int aitag_label_is_item_level(const char *label)
{
    return strncasecmp(label, "keyword:", 8) == 0;
}

/* Sorts hits by time and keeps the best confidence per frame time, lasting as long as the
 * longest-lasting hit at that time (a finding of one analyzer and the same concept inferred at
 * that frame by the context rules are one hit). Returns the new count. */
static size_t unique_frames(struct hit *h, size_t n)
{
    size_t k = 0;

    qsort(h, n, sizeof *h, cmp_hit);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || fabs(h[k - 1].t - h[i].t) > 1e-6)
            h[k++] = h[i];
        else if (h[i].end > h[k - 1].end)
            h[k - 1].end = h[i].end;
    return k;
}

/* The latest shot boundary in (t - interval, t], or t itself when there is none. Boundaries are
 * the starts of all shots but the first: where one shot gives way to the next. */
static double snap_to_shot(const struct aitag_derive_input *in, double t, double interval)
{
    double best = t;
    int found = 0;

    for (size_t i = 0; i < in->n_shots; i++) {
        double b = in->shots[i].start;
        if (in->shots[i].edge == AITAG_SHOT_START || b <= 0)
            continue;
        if (b > t - interval + 1e-9 && b <= t + 1e-9 && (!found || b > best))
            best = b, found = 1;
    }
    return best;
}

/* Adds a marker [start, end) whose edges have moved to a shot boundary within the sampling
 * interval before them. Both edges are brackets: the first hit at `start` followed a sample
 * without the label one interval earlier, and `end` is the first sample time after the last
 * hit, so each change happened in (edge - interval, edge]; a boundary there is where it most
 * likely happened. Edges stay put when snapping would leave the marker empty. */
static int add_snapped_marker(const struct aitag_derive_input *in, const char *label,
                              const char *name, double start, double end, double interval,
                              float conf, struct aitag_result *out)
{
    double s = snap_to_shot(in, start, interval), e = snap_to_shot(in, end, interval);

    /* Technical cues are measured on the pictures and the sound themselves: silence has
     * nothing to do with a cut, and a fade's shot boundary lies inside the fade, not at its
     * first darker frame. */
    if (strncasecmp(label, "cue:", 4) == 0)
        s = start, e = end;
    if (e - s <= 1e-9)
        s = start, e = end;
    return aitag_result_add_marker(out, name, s, e, conf);
}

/* Credits are credits at the item's ends (the first or last quarter); text on a dark ground
 * elsewhere is a title card or a caption, not a cue. */
static int segment_counts(const char *label, double start, double end, double duration)
{
    if (strcasecmp(label, "cue:credits") != 0)
        return 1;
    return start <= duration * 0.25 + 1e-9 || end >= duration * 0.75 - 1e-9;
}

/* The label's rule, with its learned threshold when it has one. */
static struct aitag_rule rule_for(const struct aitag_policy *p, const struct aitag_derive_input *in,
                                  const char *label)
{
    struct aitag_rule r = policy_rule_for(p, label);

    for (size_t i = 0; i < in->n_thresholds; i++)
        if (strcmp(in->thresholds[i].label, label) == 0)
            r.threshold = in->thresholds[i].threshold;
    return r;
}

static int derive_label(const struct aitag_policy *p, const struct aitag_derive_input *in,
                        const char *analyzer, const char *label, struct aitag_result *out)
{
    struct aitag_rule rule = rule_for(p, in, label);
    const struct aitag_sampling *s = sampling_for(in, analyzer);
    const struct tag_map *map = policy_find_map(p, label);
    const char *category =
        p->parent_fn && !(map && map->parent) ? p->parent_fn(p->parent_ctx, label) : NULL;
    char *category_tag = category ? policy_affixed(p, category) : NULL;
    const char *parent = (map && map->parent) ? map->parent
                         : category_tag       ? category_tag
                                              : p->parent;
    double interval = s ? s->interval : 0, total = 0, sum = 0;
    struct hit *h = NULL;
    size_t n = 0, k;
    char *name = policy_tag_name(p, label);
    int rc = 0;

    if (!name) {
        free(category_tag);
        return 0; /* excluded by the white/black lists */
    }
    h = malloc((in->n_evidence + 1) * sizeof *h);
    if (!h) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < in->n_evidence; i++) {
        const struct aitag_evidence *e = &in->evidence[i];
        if ((strcmp(e->analyzer, analyzer) == 0 ||
             strcmp(e->analyzer, AITAG_CONTEXT_ANALYZER) == 0) &&
            strcmp(e->label, label) == 0 && e->confidence >= rule.threshold)
            h[n++] = (struct hit){e->t, e->end > e->t ? e->end : 0, e->confidence};
    }
    k = unique_frames(h, n);
    if (k == 0)
        goto out;
    for (size_t i = 0; i < k; i++)
        sum += h[i].conf;
    if (in->is_image || in->duration <= 0 || aitag_label_is_item_level(label)) {
        float best = 0;
        for (size_t i = 0; i < k; i++)
            best = h[i].conf > best ? h[i].conf : best;
        rc = aitag_result_add_tag(out, name, parent, label, best, 1.0f);
        goto out;
    }
    if (interval <= 0)
        interval = 1;
    /* Segments of merged hits: [start, end) with per-segment mean confidence. */
    {
        double min_marker = fmin(rule.min_marker_duration, in->duration / 2);
        double required = fmin(rule.required_duration, in->duration / 2);
        double seg_start = h[0].t, seg_end = fmin(hit_end(&h[0], interval), in->duration);
        double seg_sum = h[0].conf, longest = 0;
        int seg_n = 1;

        for (size_t i = 1; i <= k; i++) {
            double t = i < k ? h[i].t : INFINITY;
            if (i < k && t - seg_end <= rule.max_gap) {
                seg_end = fmax(seg_end, fmin(hit_end(&h[i], interval), in->duration));
                seg_sum += h[i].conf, seg_n++;
                continue;
            }
            if (!segment_counts(label, seg_start, seg_end, in->duration))
                seg_end = seg_start; /* counts for nothing */
            total += seg_end - seg_start;
            longest = fmax(longest, seg_end - seg_start);
            if (rule.markers && seg_end > seg_start && seg_end - seg_start >= min_marker - 1e-9) {
                rc = add_snapped_marker(in, label, name, seg_start, seg_end, interval,
                                        (float)(seg_sum / seg_n), out);
                if (rc < 0)
                    goto out;
            }
            if (i < k) {
                seg_start = t, seg_end = fmin(hit_end(&h[i], interval), in->duration);
                seg_sum = h[i].conf, seg_n = 1;
            }
        }
        /* Present long enough in all, or in one marker-worthy stretch: a marker's tag is
         * always on the item too. */
        if (total > 1e-9 && (total + 1e-9 >= required || longest >= min_marker - 1e-9)) {
            float coverage = s && s->n_frames > 0 ? (float)k / (float)s->n_frames : 0;
            rc = aitag_result_add_tag(out, name, parent, label, (float)(sum / k),
                                      coverage > 1 ? 1 : coverage);
        }
    }
out:
    free(h);
    free(name);
    free(category_tag);
    return rc;
}

/* Whitespace-free lower-case form used to decide that two OCR reads are the same line. */
static char *text_norm(const char *s)
{
    char *n = malloc(strlen(s) + 1), *d = n;

    if (!n)
        return NULL;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            *d++ = (char)tolower((unsigned char)*s);
    *d = '\0';
    return n;
}

struct line {
    const struct aitag_evidence *best;
    size_t order; /* first appearance, so lines starting together keep reading order */
    char *norm;
    double start, end;
    float conf_sum;
    int n;
};

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

/* Time order; within a frame the analyzer's own order (reading order for OCR), which is the
 * order of the evidence array: the pointers compare like indexes. */
static int cmp_ev_time(const void *a, const void *b)
{
    const struct aitag_evidence *x = *(const struct aitag_evidence *const *)a;
    const struct aitag_evidence *y = *(const struct aitag_evidence *const *)b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x > y) - (x < y);
}

static int derive_texts(const struct aitag_policy *p, const struct aitag_derive_input *in,
                        struct aitag_result *out)
{
    const struct aitag_evidence **ev = NULL;
    struct line *lines = NULL;
    size_t n = 0, n_lines = 0;
    int rc = AITAG_ERR_NOMEM;

    ev = malloc((in->n_evidence + 1) * sizeof *ev);
    lines = calloc(in->n_evidence + 1, sizeof *lines);
    if (!ev || !lines)
        goto out;
    for (size_t i = 0; i < in->n_evidence; i++) {
        const struct aitag_evidence *e = &in->evidence[i];
        struct aitag_rule r = policy_rule_for(p, e->label);
        if (e->text && e->text[0] && e->confidence >= r.threshold &&
            !aitag_evidence_is_description(e->analyzer, e->label))
            ev[n++] = e;
    }
    qsort(ev, n, sizeof *ev, cmp_ev_time);
    for (size_t i = 0; i < n; i++) {
        const struct aitag_sampling *s = sampling_for(in, ev[i]->analyzer);
        double interval = (s && s->interval > 0) ? s->interval : 0;
        double end = in->is_image            ? 0
                     : ev[i]->end > ev[i]->t ? fmin(ev[i]->end, in->duration)
                                             : fmin(ev[i]->t + interval, in->duration);
        struct aitag_rule r = policy_rule_for(p, ev[i]->label);
        char *norm = text_norm(ev[i]->text);
        size_t j;

        if (!norm)
            goto out;
        for (j = 0; j < n_lines; j++)
            if (strcmp(lines[j].norm, norm) == 0 && ev[i]->t - lines[j].end <= r.max_gap)
                break;
        if (j == n_lines) {
            lines[n_lines] = (struct line){ev[i], n_lines, norm, ev[i]->t, end, 0, 0};
            n_lines++;
        } else {
            free(norm);
            lines[j].end = fmax(lines[j].end, end);
            if (ev[i]->confidence > lines[j].best->confidence)
                lines[j].best = ev[i];
        }
        lines[j].conf_sum += ev[i]->confidence;
        lines[j].n++;
    }
    qsort(lines, n_lines, sizeof *lines, cmp_line);
    for (size_t j = 0; j < n_lines; j++) {
        rc = aitag_result_add_text(out, lines[j].start, lines[j].end, lines[j].best->text,
                                   lines[j].conf_sum / (float)lines[j].n, lines[j].best->analyzer,
                                   lines[j].best->lang);
        if (rc < 0)
            goto out;
    }
    rc = 0;
out:
    for (size_t j = 0; j < n_lines; j++)
        free(lines[j].norm);
    free(lines);
    free(ev);
    return rc;
}

int policy_cmp_tag(const void *a, const void *b)
{
    const struct aitag_tag_result *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return (x->confidence > y->confidence) ? -1 : (x->confidence < y->confidence);
}

int policy_cmp_marker(const void *a, const void *b)
{
    const struct aitag_marker_result *x = a, *y = b;
    int c;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if ((c = strcmp(x->tag, y->tag)) != 0)
        return c;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return (x->confidence > y->confidence) ? -1 : (x->confidence < y->confidence);
}

void policy_sort_result(struct aitag_result *r)
{
    if (r->n_tags)
        qsort(r->tags, r->n_tags, sizeof *r->tags, policy_cmp_tag);
    for (size_t k = 1; k < r->n_tags;)
        if (strcmp(r->tags[k - 1].name, r->tags[k].name) == 0)
            policy_drop_tag(r, k);
        else
            k++;
    if (r->n_markers)
        qsort(r->markers, r->n_markers, sizeof *r->markers, policy_cmp_marker);
    for (size_t k = 1; k < r->n_markers;) {
        const struct aitag_marker_result *a = &r->markers[k - 1], *b = &r->markers[k];
        if (a->start == b->start && a->end == b->end && strcmp(a->tag, b->tag) == 0)
            policy_drop_marker(r, k);
        else
            k++;
    }
}

/* The earliest description evidence with text, if any. */
static int derive_description(const struct aitag_derive_input *in, struct aitag_result *out)
{
    const struct aitag_evidence *best = NULL;

    for (size_t i = 0; i < in->n_evidence; i++) {
        const struct aitag_evidence *e = &in->evidence[i];
        if (aitag_evidence_is_description(e->analyzer, e->label) && e->text && e->text[0] &&
            (!best || e->t < best->t))
            best = e;
    }
    return best ? aitag_result_set_description(out, best->text) : 0;
}

static int derive_plain(const struct aitag_policy *p, const struct aitag_derive_input *in,
                        struct aitag_result *out)
{
    const struct aitag_evidence **heads = NULL;
    size_t n_heads = 0;
    int rc = 0;

    /* the (analyzer, label) groups, in order of first appearance; concepts named like another
     * analyzer's label belong to that analyzer's group (derive_label takes them in) */
    if (in->n_evidence && !(heads = malloc(in->n_evidence * sizeof *heads)))
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < in->n_evidence; i++) {
        const struct aitag_evidence *e = &in->evidence[i];
        size_t k = 0;
        while (k < n_heads && (strcmp(heads[k]->label, e->label) != 0 ||
                               strcmp(heads[k]->analyzer, e->analyzer) != 0))
            k++;
        if (k == n_heads)
            heads[n_heads++] = e;
    }
    for (size_t k = 0; k < n_heads && rc == 0; k++) {
        const struct aitag_evidence *e = heads[k];
        int joined = 0;
        if (strcmp(e->analyzer, AITAG_CONTEXT_ANALYZER) == 0)
            for (size_t j = 0; j < n_heads && !joined; j++)
                joined = strcmp(heads[j]->label, e->label) == 0 &&
                         strcmp(heads[j]->analyzer, AITAG_CONTEXT_ANALYZER) != 0;
        if (!joined && !aitag_evidence_is_description(e->analyzer, e->label))
            rc = derive_label(p, in, e->analyzer, e->label, out);
    }
    free(heads);
    if (rc == 0)
        rc = derive_texts(p, in, out);
    if (rc == 0)
        rc = derive_description(in, out);
    if (rc == 0 && in->n_shots) {
        out->shots = malloc(in->n_shots * sizeof *out->shots);
        if (out->shots) {
            memcpy(out->shots, in->shots, in->n_shots * sizeof *out->shots);
            out->n_shots = in->n_shots;
        } else {
            rc = AITAG_ERR_NOMEM;
        }
    }
    if (rc < 0) {
        aitag_result_clear(out);
        return rc;
    }
    policy_sort_result(out);
    return 0;
}

int aitag_policy_derive(const struct aitag_policy *p, const struct aitag_derive_input *in,
                        struct aitag_result *out)
{
    struct aitag_derive_input cin = *in;
    struct aitag_context_out cx;
    struct aitag_sampling *samp = NULL;
    double interval = 0;
    int frames = 0, rc;

    if (!p->context || aitag_context_size(p->context) == 0)
        return derive_plain(p, in, out);
    rc = aitag_context_apply(p->context, in->evidence, in->n_evidence, in->shots, in->n_shots, &cx);
    if (rc < 0)
        return rc;
    /* concepts are sampled as finely as the finest analyzer they may come from */
    samp = malloc((in->n_sampling + 1) * sizeof *samp);
    if (!samp) {
        aitag_context_out_clear(&cx);
        return AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; i < in->n_sampling; i++) {
        samp[i] = in->sampling[i];
        if (samp[i].interval > 0 && (interval == 0 || samp[i].interval < interval))
            interval = samp[i].interval;
        frames = samp[i].n_frames > frames ? samp[i].n_frames : frames;
    }
    samp[in->n_sampling] = (struct aitag_sampling){AITAG_CONTEXT_ANALYZER, interval, frames};
    cin.evidence = cx.evidence, cin.n_evidence = cx.n;
    cin.sampling = samp, cin.n_sampling = in->n_sampling + 1;
    rc = derive_plain(p, &cin, out);
    free(samp);
    aitag_context_out_clear(&cx);
    return rc;
}
