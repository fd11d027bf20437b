/*
 * adaptive.c - the coarse-to-fine planner of adaptive sampling.
 *
 * Decoding cost, not inference, decides what a frame costs on long-GOP video: a keyframe is
 * one intra decode, a frame d seconds after the keyframe before it costs every reference frame
 * in those d seconds. So the first round asks for keyframes (thinned where they are dense),
 * the frame at each cut known from the packets (x264 puts a keyframe there: one per shot at
 * least, cheaply) and fillers where keyframes are too far apart. After each round, every pair
 * of neighbouring samples is looked at:
 * "Differ" counts only findings that appear or disappear for longer than the policy merges
 * over: one seen on both sides of a gap within same_gap is merged into one marker anyway, so
 * its flicker between two samples is not worth a frame. Then:
 *   - findings differ, a cut between them: the cut locates the change, no bisection. When a
 *     finding ends there, one sample at most cut_lead before the cut makes its marker reach it
 *     (a hit stands for one interval in the policy).
 *   - findings differ, no cut: split the gap (in as many parts as bracket the change to
 *     resolution at once, up to `splits`, or at a keyframe in its middle half, which is
 *     cheaper) until the pair is within resolution.
 *   - the same findings: nothing between. Each finding of the earlier sample lasts to the
 *     later one (persist.c gives it that end when the item is stored), so the policy makes
 *     one marker over both however far apart they are; dense sampling inside a shot would see
 *     the same where nothing changed.
 *   - any pair further apart than any_gap: one sample between (a short appearance in a long
 *     stretch is looked for at least that often).
 * A time asked once is never asked again, so a frame that comes back at an old time (no frame
 * between) ends that pair's refinement; rounds are bounded too.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adaptive.h"
#include "aitag/common.h"

struct sample {
    double t;
    uint64_t *sig; /* sorted, unique */
    size_t n;
    int blank; /* the picture shows next to nothing */
};

struct finding_rule { /* the policy's bounds for one finding (pipeline_adaptive_rule) */
    uint64_t h;
    double min_marker, required;
};

struct adaptive_plan {
    struct adaptive_params p;
    struct finding_rule *rules;
    size_t n_rules, cap_rules;
    double *keys, *cuts, *tried;
    size_t n_keys, n_cuts, n_tried, cap_tried;
    struct sample *s;
    size_t n_s, cap_s;
    int rounds;
};

/* min_marker and required as the policy clips them (derive.c): at most half the media */
static double clip_half(const struct adaptive_params *p, double v)
{
    return p->duration > 0 ? fmin(v, p->duration / 2) : v;
}

struct adaptive_params pipeline_adaptive_params(double interval, double max_gap, double min_marker,
                                                double required, double duration, double fps)
{
    struct adaptive_params p;

    memset(&p, 0, sizeof p);
    p.duration = duration;
    p.frame_dur = fps > 0 && fps < 1000 ? 1.0 / fps : 0.04;
    p.resolution = fmin(interval / 2, 1.0);
    p.same_gap = interval + max_gap - 0.1;
    if (p.same_gap < interval)
        p.same_gap = interval;
    p.any_gap = 2 * p.same_gap;
    p.cut_lead = interval;
    p.fade_lead = 2.0;
    p.splits = 16;
    p.max_rounds = 10;
    p.max_samples = duration > 0 && interval > 0 ? (size_t)ceil(2 * duration / interval) : 0;
    p.interval = interval;
    p.min_marker = clip_half(&p, min_marker);
    p.required = clip_half(&p, required);
    return p;
}

static double *copy_times(const double *v, size_t n)
{
    double *c = malloc((n + 1) * sizeof *c);

    if (c && n)
        memcpy(c, v, n * sizeof *c);
    return c;
}

int pipeline_adaptive_new(const struct adaptive_params *p, const double *keys, size_t n_keys,
                          const double *cuts, size_t n_cuts, struct adaptive_plan **out)
{
    struct adaptive_plan *pl = calloc(1, sizeof *pl);

    *out = NULL;
    if (!pl)
        return AITAG_ERR_NOMEM;
    pl->p = *p;
    pl->keys = copy_times(keys, n_keys);
    pl->cuts = copy_times(cuts, n_cuts);
    if (!pl->keys || !pl->cuts) {
        pipeline_adaptive_free(pl);
        return AITAG_ERR_NOMEM;
    }
    pl->n_keys = n_keys;
    pl->n_cuts = n_cuts;
    *out = pl;
    return 0;
}

void pipeline_adaptive_free(struct adaptive_plan *pl)
{
    if (!pl)
        return;
    for (size_t i = 0; i < pl->n_s; i++)
        free(pl->s[i].sig);
    free(pl->s);
    free(pl->keys);
    free(pl->cuts);
    free(pl->tried);
    free(pl->rules);
    free(pl);
}

int pipeline_adaptive_rule(struct adaptive_plan *pl, uint64_t h, double min_marker, double required)
{
    for (size_t i = 0; i < pl->n_rules; i++)
        if (pl->rules[i].h == h)
            return 0;
    if (pl->n_rules == pl->cap_rules) {
        size_t c = pl->cap_rules ? 2 * pl->cap_rules : 16;
        struct finding_rule *r = realloc(pl->rules, c * sizeof *r);
        if (!r)
            return AITAG_ERR_NOMEM;
        pl->rules = r;
        pl->cap_rules = c;
    }
    pl->rules[pl->n_rules++] =
        (struct finding_rule){h, clip_half(&pl->p, min_marker), clip_half(&pl->p, required)};
    return 0;
}

size_t pipeline_adaptive_samples(const struct adaptive_plan *pl)
{
    return pl ? pl->n_s : 0;
}

uint64_t pipeline_adaptive_hash(const char *analyzer, const char *label)
{
    uint64_t h = 1469598103934665603ULL;

    for (const char *c = analyzer; c && *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
    for (const char *c = label; c && *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return h;
}

size_t pipeline_lower_bound(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int is_key(const struct adaptive_plan *pl, double t)
{
    size_t i = pipeline_lower_bound(pl->keys, pl->n_keys, t - 1e-6);
    return i < pl->n_keys && fabs(pl->keys[i] - t) <= 1e-6;
}

/* A keyframe in [lo, hi], the one nearest mid; < 0 when none. */
static double key_in(const struct adaptive_plan *pl, double lo, double hi, double mid)
{
    double best = -1;

    for (size_t i = pipeline_lower_bound(pl->keys, pl->n_keys, lo);
         i < pl->n_keys && pl->keys[i] <= hi; i++)
        if (best < 0 || fabs(pl->keys[i] - mid) < fabs(best - mid))
            best = pl->keys[i];
    return best;
}

struct reqs {
    struct adaptive_req *r;
    size_t n, cap;
};

static int push_req(struct reqs *q, double t, int key)
{
    if (q->n == q->cap) {
        size_t c = q->cap ? 2 * q->cap : 32;
        struct adaptive_req *r = realloc(q->r, c * sizeof *r);
        if (!r)
            return AITAG_ERR_NOMEM;
        q->r = r;
        q->cap = c;
    }
    q->r[q->n++] = (struct adaptive_req){t, key};
    return 0;
}

static int cmp_req(const void *a, const void *b)
{
    const struct adaptive_req *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int pipeline_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts q and drops times within half a frame of the one before (a key request wins). */
static void settle(const struct adaptive_plan *pl, struct reqs *q)
{
    size_t k = 0;

    if (q->n > 1)
        qsort(q->r, q->n, sizeof *q->r, cmp_req);
    for (size_t i = 0; i < q->n; i++) {
        if (k && q->r[i].t - q->r[k - 1].t < 0.5 * pl->p.frame_dur) {
            q->r[k - 1].key |= q->r[i].key;
            continue;
        }
        q->r[k++] = q->r[i];
    }
    q->n = k;
}

/* Remembers the times of q as tried. */
static int remember(struct adaptive_plan *pl, const struct reqs *q)
{
    if (pl->n_tried + q->n > pl->cap_tried) {
        size_t c = (pl->n_tried + q->n) * 2;
        double *t = realloc(pl->tried, c * sizeof *t);
        if (!t)
            return AITAG_ERR_NOMEM;
        pl->tried = t;
        pl->cap_tried = c;
    }
    for (size_t i = 0; i < q->n; i++)
        pl->tried[pl->n_tried++] = q->r[i].t;
    if (pl->n_tried > 1)
        qsort(pl->tried, pl->n_tried, sizeof *pl->tried, pipeline_cmp_double);
    return 0;
}

static int was_tried(const struct adaptive_plan *pl, double t)
{
    size_t i = pipeline_lower_bound(pl->tried, pl->n_tried, t - 0.5 * pl->p.frame_dur);
    return i < pl->n_tried && pl->tried[i] <= t + 0.5 * pl->p.frame_dur;
}

/* Hands a round's requests out (sorted, deduplicated, remembered as tried), or frees them
 * when rc < 0 or there are none. */
static int deliver(struct adaptive_plan *pl, struct reqs *q, int rc, struct adaptive_req **out,
                   size_t *n)
{
    if (rc == 0) {
        settle(pl, q);
        /* refinement never takes more than twice the frames exact sampling would: the
         * earliest times go first (a later round cannot ask more); the first round is never
         * cut short */
        if (pl->rounds > 0 && pl->p.max_samples && pl->n_s + q->n > pl->p.max_samples)
            q->n = pl->n_s < pl->p.max_samples ? pl->p.max_samples - pl->n_s : 0;
        rc = remember(pl, q);
    }
    if (rc < 0 || q->n == 0) {
        free(q->r);
        return rc;
    }
    *out = q->r;
    *n = q->n;
    return 0;
}

/* Filler times between a and b so that no gap exceeds any_gap. */
static int fill(const struct adaptive_plan *pl, struct reqs *q, double a, double b)
{
    int n = (int)ceil((b - a) / pl->p.any_gap) - 1;

    for (int j = 1; j <= n; j++)
        if (push_req(q, a + (b - a) * j / (n + 1), 0) < 0)
            return AITAG_ERR_NOMEM;
    return 0;
}

int pipeline_adaptive_coarse(struct adaptive_plan *pl, struct adaptive_req **out, size_t *n)
{
    const struct adaptive_params *p = &pl->p;
    struct reqs q = {0};
    double last = 0, first = 0;
    size_t ci = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (pl->n_keys && pl->keys[0] < 2 * p->frame_dur)
        first = pl->keys[0];
    rc = push_req(&q, first, pl->n_keys && first == pl->keys[0]);
    last = first;
    for (size_t i = 0; i < pl->n_keys && rc == 0; i++) {
        double k = pl->keys[i], next = i + 1 < pl->n_keys ? pl->keys[i + 1] : p->duration;
        if (k <= first || k >= p->duration)
            continue;
        while (ci < pl->n_cuts && pl->cuts[ci] <= k + 1e-6) { /* cuts up to this keyframe */
            double c = pl->cuts[ci++];
            if (c > last && c < p->duration && (rc = fill(pl, &q, last, c)) == 0)
                rc = push_req(&q, c, is_key(pl, c)), last = c;
        }
        if (ci < pl->n_cuts && pl->cuts[ci] < next)
            next = pl->cuts[ci]; /* a cut comes first: the gap ends there */
        if (rc == 0 && k > last + 1e-6 && next - last > p->same_gap) {
            if ((rc = fill(pl, &q, last, k)) == 0)
                rc = push_req(&q, k, 1);
            last = k;
        }
    }
    for (; ci < pl->n_cuts && rc == 0; ci++) {
        double c = pl->cuts[ci];
        if (c > last && c < p->duration && (rc = fill(pl, &q, last, c)) == 0)
            rc = push_req(&q, c, is_key(pl, c)), last = c;
    }
    if (rc == 0 && p->duration - last > p->any_gap)
        rc = fill(pl, &q, last, p->duration);
    return deliver(pl, &q, rc, out, n);
}

int pipeline_adaptive_add(struct adaptive_plan *pl, double t, const uint64_t *sig, size_t n,
                          int blank)
{
    struct sample s = {t, NULL, 0, blank};
    size_t i;

    if (n) {
        s.sig = malloc(n * sizeof *s.sig);
        if (!s.sig)
            return AITAG_ERR_NOMEM;
        memcpy(s.sig, sig, n * sizeof *s.sig);
        qsort(s.sig, n, sizeof *s.sig, cmp_u64);
        for (size_t j = 0; j < n; j++)
            if (s.n == 0 || s.sig[s.n - 1] != s.sig[j])
                s.sig[s.n++] = s.sig[j];
    }
    for (i = 0; i < pl->n_s && pl->s[i].t < t - 1e-6; i++)
        ;
    if (i < pl->n_s && fabs(pl->s[i].t - t) <= 1e-6) {
        free(pl->s[i].sig);
        pl->s[i] = s;
        return 0;
    }
    if (pl->n_s == pl->cap_s) {
        size_t c = pl->cap_s ? 2 * pl->cap_s : 64;
        struct sample *v = realloc(pl->s, c * sizeof *v);
        if (!v) {
            free(s.sig);
            return AITAG_ERR_NOMEM;
        }
        pl->s = v;
        pl->cap_s = c;
    }
    memmove(&pl->s[i + 1], &pl->s[i], (pl->n_s - i) * sizeof *pl->s);
    pl->s[i] = s;
    pl->n_s++;
    return 0;
}

static int has(const struct sample *s, uint64_t h)
{
    return s->n && bsearch(&h, s->sig, s->n, sizeof *s->sig, cmp_u64) != NULL;
}

/* Whether finding h, seen at sample `from` and not at its neighbour on side dir (+1 later,
 * -1 earlier), is seen again on that side within same_gap of `from`: the policy merges the two
 * hits across the gap, so where exactly h went away does not matter. */
static int bridged(const struct adaptive_plan *pl, size_t from, int dir, uint64_t h)
{
    double t0 = pl->s[from].t;

    if (dir > 0) {
        for (size_t j = from + 2; j < pl->n_s && pl->s[j].t - t0 <= pl->p.same_gap; j++)
            if (has(&pl->s[j], h))
                return 1;
        return 0;
    }
    for (size_t j = from - 1; j-- > 0 && t0 - pl->s[j].t <= pl->p.same_gap;)
        if (has(&pl->s[j], h))
            return 1;
    return 0;
}

/* Whether where the run of finding h through sample `at` starts or ends can change what the
 * policy makes of h. The samples that have h form runs (neighbouring samples that both have
 * it, persist.c, and hits within same_gap of each other merge into one segment); a run spans at
 * least from its first hit to one interval after its last, and at most from the sample before it to
 * the sample after it (or the media's ends). A run that cannot reach min_marker even at its longest
 * is no marker wherever its edges lie; when moreover the runs' shortest total already reaches
 * `required` (the tag is certain) or their longest cannot (it is impossible), its edges do not
 * matter: a finding seen at one frame, a class that flickers. */
static int matters(const struct adaptive_plan *pl, uint64_t h, size_t at)
{
    const struct adaptive_params *p = &pl->p;
    double lo_sum = 0, hi_sum = 0, min_marker = p->min_marker, required = p->required;
    size_t i = 0;

    for (size_t r = 0; r < pl->n_rules; r++)
        if (pl->rules[r].h == h)
            min_marker = pl->rules[r].min_marker, required = pl->rules[r].required;
    if (min_marker <= 0 && required <= 0)
        return 1;
    while (i < pl->n_s) {
        size_t first, last;
        double lo, hi;
        while (i < pl->n_s && !has(&pl->s[i], h))
            i++;
        if (i == pl->n_s)
            break;
        first = last = i;
        for (i++; i < pl->n_s && (i == last + 1 || pl->s[i].t - pl->s[last].t <= p->same_gap);
             i++) /* the next sample (persist.c), or any within same_gap */
            if (has(&pl->s[i], h))
                last = i;
            else if (i == last + 1 && pl->s[i].t - pl->s[last].t > p->same_gap)
                break;
        i = last + 1;
        lo = fmin(pl->s[last].t + p->interval, p->duration) - pl->s[first].t;
        hi = (last + 1 < pl->n_s ? pl->s[last + 1].t : p->duration) -
             (first > 0 ? pl->s[first - 1].t : 0);
        if (first <= at && at <= last && hi >= min_marker - 1e-9)
            return 1;
        lo_sum += lo > 0 ? lo : 0;
        hi_sum += hi;
    }
    return lo_sum < required - 1e-9 && hi_sum >= required - 1e-9;
}

/* What changes between samples i and i + 1 that matters to the policy: *changed when a finding
 * appears or disappears there for longer than a merged gap and its edges matter, *ends when
 * one of those was seen at i. */
static void compare(const struct adaptive_plan *pl, size_t i, int *changed, int *ends)
{
    const struct sample *a = &pl->s[i], *b = &pl->s[i + 1];

    *changed = *ends = 0;
    for (size_t k = 0; k < a->n; k++)
        if (!has(b, a->sig[k]) && !bridged(pl, i, 1, a->sig[k]) && matters(pl, a->sig[k], i))
            *changed = *ends = 1;
    for (size_t k = 0; k < b->n && !*changed; k++)
        if (!has(a, b->sig[k]) && !bridged(pl, i + 1, -1, b->sig[k]) &&
            matters(pl, b->sig[k], i + 1))
            *changed = 1;
}

/* Asks for t unless tried before; key when t is a keyframe time. */
static int ask(const struct adaptive_plan *pl, struct reqs *q, double t)
{
    if (was_tried(pl, t))
        return 0;
    return push_req(q, t, is_key(pl, t));
}

/* Asks for the times that split (a, b): a keyframe in the middle half when there is one (it
 * costs one intra decode), else splits - 1 evenly spaced times, or fewer when that already
 * brackets to resolution (the default, 16 parts at most, brackets any gap inside one GOP at
 * once). The times of one gap share a keyframe before them, so one forward pass decodes them
 * all: splitting in more parts than two spends analyses (a tenth of a second each, on the other
 * thread) to save the rounds that would each seek back and decode that stretch again (a
 * quarter of a second per second of 1080p, on the decoding thread). */
static int split(const struct adaptive_plan *pl, struct reqs *q, double a, double b)
{
    double k = key_in(pl, a + (b - a) / 4, b - (b - a) / 4, (a + b) / 2);
    int parts = pl->p.splits > 2 ? pl->p.splits : 2, rc = 0;

    if (k >= 0)
        return ask(pl, q, k);
    while (parts > 2 && (b - a) / (parts - 1) <= pl->p.resolution)
        parts--;
    for (int j = 1; j < parts && rc == 0; j++)
        rc = ask(pl, q, a + (b - a) * j / parts);
    return rc;
}

/* What the pair of neighbouring samples i, i + 1 needs. */
static int refine_pair(const struct adaptive_plan *pl, struct reqs *q, size_t i)
{
    const struct adaptive_params *p = &pl->p;
    const struct sample *a = &pl->s[i], *b = &pl->s[i + 1];
    double gap = b->t - a->t, tol = 1.5 * p->frame_dur;
    int changed, ends;

    if (gap <= tol)
        return 0;
    compare(pl, i, &changed, &ends);
    if (changed) {
        size_t ci = pipeline_lower_bound(pl->cuts, pl->n_cuts, a->t + tol);
        if (ci < pl->n_cuts && pl->cuts[ci] <= b->t + tol) {
            double c = pl->cuts[ci];
            if (fabs(b->t - c) > tol) /* the cut's own frame first */
                return ask(pl, q, c);
            if (p->cut_lead > 0 && ends && c - a->t > p->cut_lead + tol)
                return ask(pl, q, c - p->cut_lead);
            return 0;
        }
        if (gap > p->resolution)
            return split(pl, q, a->t, b->t);
        return 0;
    }
    if (gap > p->any_gap)
        return split(pl, q, a->t, b->t);
    return 0;
}

/* A blank sample may be the black of a fade in (encoders put a keyframe where the picture
 * changes, which for a fade through black is black, and the first round asks keyframes); what
 * a classifier finds there (an NSFW class is always found) says nothing of the shot: one more
 * sample fade_lead after it, unless the next sample is that close. */
static int look_past_fade(const struct adaptive_plan *pl, struct reqs *q, size_t i)
{
    const struct sample *a = &pl->s[i];
    double next = i + 1 < pl->n_s ? pl->s[i + 1].t : pl->p.duration;

    if (!a->blank || pl->p.fade_lead <= 0 || next - a->t <= pl->p.fade_lead + 1.5 * pl->p.frame_dur)
        return 0;
    return ask(pl, q, a->t + pl->p.fade_lead);
}

int pipeline_adaptive_refine(struct adaptive_plan *pl, struct adaptive_req **out, size_t *n)
{
    struct reqs q = {0};
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (pl->rounds >= pl->p.max_rounds)
        return 0;
    pl->rounds++;
    for (size_t i = 0; i + 1 < pl->n_s && rc == 0; i++)
        rc = refine_pair(pl, &q, i);
    for (size_t i = 0; i < pl->n_s && rc == 0; i++)
        rc = look_past_fade(pl, &q, i);
    if (rc == 0 && pl->n_s) { /* the tail: as between two samples, the end like a cut */
        const struct sample *l = &pl->s[pl->n_s - 1];
        double left = pl->p.duration - l->t;
        if (l->n && pl->p.cut_lead > 0 && left > pl->p.cut_lead + 1.5 * pl->p.frame_dur)
            rc = ask(pl, &q, pl->p.duration - pl->p.cut_lead);
        else if (left > pl->p.any_gap)
            rc = split(pl, &q, l->t, pl->p.duration);
    }
    return deliver(pl, &q, rc, out, n);
}
