/*
 * persist.c - findings that last from one adaptive sample to the next.
 *
 * Exact sampling analyses a frame every interval, and the policy lets each hit stand for one
 * interval, so a finding seen in every frame makes one marker. Adaptive sampling analyses
 * frames where they are cheap (keyframes, often seconds apart) and bisects only where the
 * findings change (adaptive.c); where two neighbouring samples agree, nothing changed between
 * them as far as the samples can tell, which is what dense sampling would have found too inside
 * one shot. So the earlier sample's finding gets an end at the later sample's time (the field
 * a spoken segment uses, aitag/evidence.h), and the policy counts it over the whole stretch
 * instead of splitting a marker at every gap longer than its max_gap. Without this, the planner
 * had to put a frame between every such pair, which on long-GOP video cost most of the decoding.
 * Across shot boundaries too: a finding on both sides of a cut or a fade is what dense sampling
 * sees as one marker as well (a fade through black lasts less than the policy's max_gap), and
 * the planner counts it as one run (adaptive.c). Not for text readings (a line of OCR text is
 * its own reading: text lines are merged by the policy from what was read).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adaptive.h"
#include "persist.h"

#define SAME_TIME 1e-6 /* evidence and frame times are the same doubles */

struct seen {
    double t;
    uint64_t h;
};

static int cmp_seen(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->h < y->h ? -1 : x->h > y->h;
}

static int has_seen(const struct seen *s, size_t n, double t, uint64_t h)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].t < t - SAME_TIME || (fabs(s[mid].t - t) <= SAME_TIME && s[mid].h < h))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && fabs(s[lo].t - t) <= SAME_TIME && s[lo].h == h;
}

int pipeline_persist(struct aitag_evidence_list *ev, const double *times, size_t n_times,
                     double interval, const struct aitag_policy *policy)
{
    double *ts = NULL;
    struct seen *seen = NULL;
    unsigned char *over = NULL; /* at or above its label's threshold */
    size_t n_ts = 0, n_seen = 0;
    int rc = 0;

    if (!ev->n || n_times < 2)
        return 0;
    ts = malloc(n_times * sizeof *ts);
    seen = malloc(ev->n * sizeof *seen);
    over = malloc(ev->n);
    if (!ts || !seen || !over) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    memcpy(ts, times, n_times * sizeof *ts);
    qsort(ts, n_times, sizeof *ts, pipeline_cmp_double);
    for (size_t i = 0; i < n_times; i++)
        if (n_ts == 0 || ts[i] - ts[n_ts - 1] > SAME_TIME)
            ts[n_ts++] = ts[i];
    for (size_t i = 0; i < ev->n; i++) {
        const struct aitag_evidence *e = &ev->items[i];
        over[i] = e->confidence >= aitag_policy_threshold(policy, e->label);
        if (over[i])
            seen[n_seen++] = (struct seen){e->t, pipeline_adaptive_hash(e->analyzer, e->label)};
    }
    qsort(seen, n_seen, sizeof *seen, cmp_seen);
    for (size_t i = 0; i < ev->n; i++) {
        struct aitag_evidence *e = &ev->items[i];
        size_t k;
        double next;

        if (e->end > 0 || e->text || !over[i])
            continue;
        k = pipeline_lower_bound(ts, n_ts, e->t - SAME_TIME);
        if (k >= n_ts || fabs(ts[k] - e->t) > SAME_TIME || k + 1 >= n_ts)
            continue; /* not at an analysed frame's time, or the last one */
        next = ts[k + 1];
        if (next - e->t <= interval)
            continue;
        if (has_seen(seen, n_seen, next, pipeline_adaptive_hash(e->analyzer, e->label)))
            e->end = next;
    }
out:
    free(ts);
    free(seen);
    free(over);
    return rc;
}
