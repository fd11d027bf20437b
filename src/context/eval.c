/*
 * eval.c - whether a condition holds over a run of frames of one item, how confidently, and
 * because of which evidence.
 *
 * An item's evidence is seen as frames (its distinct sample times). A label condition is
 * checked frame by frame: the boxes of the label that pass its filters (confidence, share of
 * the frame, inside a box of another label) are counted, and it holds in a frame when the
 * count is in range; over several frames (a shot, the item) it holds when it holds in one
 * frame, or, with `for`, in frames spanning that many seconds. Its confidence is the count-th
 * best confidence in its best frame. all / any / none combine their parts over the same
 * frames; their confidence is the noisy-or of the parts that hold (1 - product of 1 - c), so
 * agreeing evidence adds up: two weak cues of a kitchen make a surer kitchen than either.
 * A sequence holds when its steps hold frame by frame in order, the last within `within`
 * seconds of the first; its confidence is its weakest step's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context_int.h"

#define INSIDE_SHARE 0.8f /* a box is inside another when this much of it lies in it */

static int cmp_time(const void *a, const void *b, void *ctx)
{
    const struct aitag_evidence *ev = ctx;
    double x = ev[*(const size_t *)a].t, y = ev[*(const size_t *)b].t;

    if (x != y)
        return x < y ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

void context_frames_free(struct frames *f)
{
    free(f->t);
    free(f->first);
    free(f->idx);
    memset(f, 0, sizeof *f);
}

int context_frames_build(struct frames *f, const struct aitag_evidence *ev, size_t n,
                         const unsigned char *gone)
{
    size_t k = 0;

    memset(f, 0, sizeof *f);
    f->ev = ev, f->n_ev = n, f->gone = gone;
    f->idx = malloc((n ? n : 1) * sizeof *f->idx);
    f->t = malloc((n ? n : 1) * sizeof *f->t);
    f->first = malloc((n + 1) * sizeof *f->first);
    if (!f->idx || !f->t || !f->first) {
        context_frames_free(f);
        return AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        f->idx[i] = i;
    if (n > 1)
        qsort_r(f->idx, n, sizeof *f->idx, cmp_time, (void *)ev);
    for (size_t i = 0; i < n; i++) {
        double t = ev[f->idx[i]].t;
        if (k == 0 || fabs(t - f->t[k - 1]) > 1e-6) {
            f->t[k] = t;
            f->first[k++] = i;
        }
    }
    f->first[k] = n;
    f->n = k;
    for (size_t j = 0; j < k; j++)
        if (f->first[j + 1] - f->first[j] > f->widest)
            f->widest = f->first[j + 1] - f->first[j];
    return 0;
}

void context_hold_clear(struct hold *h)
{
    free(h->why);
    memset(h, 0, sizeof *h);
}

static int why_add(struct hold *h, size_t i)
{
    for (size_t k = 0; k < h->n_why; k++)
        if (h->why[k] == i)
            return 0;
    if (h->n_why == h->cap_why) {
        size_t nc = h->cap_why ? h->cap_why * 2 : 8;
        size_t *g = realloc(h->why, nc * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        h->why = g, h->cap_why = nc;
    }
    h->why[h->n_why++] = i;
    return 0;
}

static int why_merge(struct hold *into, const struct hold *from)
{
    int rc = 0;

    for (size_t k = 0; rc == 0 && k < from->n_why; k++)
        rc = why_add(into, from->why[k]);
    return rc;
}

static int label_is(const struct cond *c, const char *label)
{
    for (size_t i = 0; i < c->n_labels; i++)
        if (strcmp(c->labels[i], label) == 0)
            return 1;
    return 0;
}

static int inside(const struct aitag_box *a, const struct aitag_box *b)
{
    float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
    float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
    float area = a->w * a->h;

    return area > 0 && x1 > x0 && y1 > y0 && (x1 - x0) * (y1 - y0) >= INSIDE_SHARE * area;
}

/* Whether evidence i of frame k passes c's filters. */
static int passes(const struct cond *c, const struct frames *f, size_t k, size_t i)
{
    const struct aitag_evidence *e = &f->ev[i];
    float area;

    if ((f->gone && f->gone[i]) || !e->label || !label_is(c, e->label) ||
        e->confidence < c->min_conf)
        return 0;
    if (c->area_min > 0 || c->area_max < 1) {
        if (!e->has_box)
            return 0;
        area = e->box.w * e->box.h;
        if (area < c->area_min || area > c->area_max)
            return 0;
    }
    if (c->inside) {
        if (!e->has_box)
            return 0;
        for (size_t m = f->first[k]; m < f->first[k + 1]; m++) {
            const struct aitag_evidence *o = &f->ev[f->idx[m]];
            if (f->idx[m] != i && !(f->gone && f->gone[f->idx[m]]) && o->has_box && o->label &&
                strcmp(o->label, c->inside) == 0 && o->confidence >= c->min_conf &&
                inside(&e->box, &o->box))
                return 1;
        }
        return 0;
    }
    return 1;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return x > y ? -1 : x < y;
}

/* A label condition in frame k: holds, with the count-th best confidence (into *conf). */
static int label_in_frame(const struct cond *c, const struct frames *f, size_t k, float *conf,
                          float *buf)
{
    int n = 0;

    for (size_t m = f->first[k]; m < f->first[k + 1]; m++)
        if (passes(c, f, k, f->idx[m]))
            buf[n++] = f->ev[f->idx[m]].confidence;
    if (n < c->count || (c->max_count && n > c->max_count))
        return 0;
    if (n > 1)
        qsort(buf, (size_t)n, sizeof *buf, cmp_desc);
    *conf = c->count > 0 ? buf[c->count - 1] : 1.0f;
    return 1;
}

/* Seconds frame k stands for within [lo, hi): up to the next frame, the last one as long as
 * the step before it (a lone frame: 0, so `for` needs two frames or more). */
static double frame_span(const struct frames *f, size_t k, size_t lo, size_t hi)
{
    if (k + 1 < hi)
        return f->t[k + 1] - f->t[k];
    return k > lo ? f->t[k] - f->t[k - 1] : 0.0;
}

static int eval_label(const struct cond *c, const struct frames *f, size_t lo, size_t hi,
                      struct hold *h)
{
    float *buf = malloc((f->widest ? f->widest : 1) * sizeof *buf), best = -1.0f;
    double present = 0;
    int rc = 0;

    if (!buf)
        return AITAG_ERR_NOMEM;
    for (size_t k = lo; k < hi; k++) {
        float conf;
        if (!label_in_frame(c, f, k, &conf, buf))
            continue;
        present += frame_span(f, k, lo, hi);
        best = fmaxf(best, conf);
        for (size_t m = f->first[k]; rc == 0 && m < f->first[k + 1]; m++)
            if (passes(c, f, k, f->idx[m]))
                rc = why_add(h, f->idx[m]);
    }
    free(buf);
    h->holds = best >= 0 && (c->for_s <= 0 || present >= c->for_s - 1e-9);
    h->conf = h->holds ? best : 0.0f;
    if (!h->holds)
        h->n_why = 0;
    return rc;
}

/* The frames of [lo, hi) where c holds on its own, as single frames. */
static int holds_at(const struct cond *c, const struct frames *f, size_t k, float *conf,
                    struct hold *into)
{
    struct hold h = {0};
    int rc = context_eval(c, f, k, k + 1, &h);

    *conf = h.holds ? h.conf : -1.0f;
    if (rc == 0 && h.holds && into)
        rc = why_merge(into, &h);
    context_hold_clear(&h);
    return rc < 0 ? rc : *conf >= 0;
}

/* Steps of a sequence from frame k on, each after the last, the last by t_end. */
static int chain_from(const struct cond *c, const struct frames *f, size_t k, size_t hi,
                      float *conf)
{
    double t_end = f->t[k] + c->within;
    size_t at = k;

    *conf = 1.0f;
    for (size_t s = 0; s < c->n_kids; s++) {
        float sc = -1.0f;
        size_t m = s == 0 ? at : at + 1, end = s == 0 ? at + 1 : hi; /* step 0: at k itself */
        int rc = 0;
        for (; m < end && f->t[m] <= t_end + 1e-9; m++)
            if ((rc = holds_at(&c->kids[s], f, m, &sc, NULL)) != 0)
                break;
        if (rc <= 0)
            return rc;
        *conf = fminf(*conf, sc);
        at = m;
    }
    return 1;
}

static int eval_sequence(const struct cond *c, const struct frames *f, size_t lo, size_t hi,
                         struct hold *h)
{
    int rc = 0;

    for (size_t k = lo; k < hi && rc >= 0; k++) {
        float conf;
        rc = chain_from(c, f, k, hi, &conf);
        if (rc > 0 && conf > h->conf) {
            h->holds = 1;
            h->conf = conf;
        }
        if (rc > 0) { /* the evidence of the steps along this chain */
            double t_end = f->t[k] + c->within;
            for (size_t s = 0; s < c->n_kids && rc >= 0; s++)
                for (size_t m = k; m < hi && f->t[m] <= t_end + 1e-9 && rc >= 0; m++) {
                    float sc;
                    rc = holds_at(&c->kids[s], f, m, &sc, h);
                }
        }
    }
    return rc < 0 ? rc : 0;
}

int context_eval(const struct cond *c, const struct frames *f, size_t lo, size_t hi,
                 struct hold *h)
{
    float miss = 1.0f;
    int n_held = 0, n_pos = 0, rc = 0;

    h->holds = 0, h->conf = 0.0f, h->n_why = 0;
    if (lo >= hi)
        return c->kind == COND_NONE ? (h->holds = 1, h->conf = 1.0f, 0) : 0;
    if (c->kind == COND_LABEL)
        return eval_label(c, f, lo, hi, h);
    if (c->kind == COND_SEQUENCE)
        return eval_sequence(c, f, lo, hi, h);
    for (size_t i = 0; i < c->n_kids && rc == 0; i++) {
        struct hold k = {0};
        rc = context_eval(&c->kids[i], f, lo, hi, &k);
        if (rc == 0 && k.holds) {
            n_held++;
            if (c->kids[i].kind != COND_NONE) /* a constraint, not evidence */
                miss *= 1.0f - k.conf, n_pos++;
            if (c->kind != COND_NONE && c->kids[i].kind != COND_NONE)
                rc = why_merge(h, &k);
        }
        context_hold_clear(&k);
    }
    if (rc < 0)
        return rc;
    switch (c->kind) {
    case COND_ALL: h->holds = n_held == (int)c->n_kids; break;
    case COND_ANY: h->holds = n_held >= c->at_least; break;
    default: h->holds = n_held == 0; break; /* NONE */
    }
    h->conf = !h->holds ? 0.0f : c->kind == COND_NONE || n_pos == 0 ? 1.0f : 1.0f - miss;
    if (!h->holds)
        h->n_why = 0;
    return 0;
}
