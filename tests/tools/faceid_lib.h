/*
 * faceid_lib.h - the pure metrics behind tests/tools/faceid_score.c: face verification (ROC
 * AUC, true accept rate at a fixed false accept rate), box overlap, and cluster purity.
 *
 * Header-only so that the scorer and its unit test (tests/unit/test_faceid.c) share one copy.
 * No I/O, no globals.
 *
 *     double gen[] = {0.9, 0.8, 0.4}, imp[] = {0.1, 0.5, 0.2, 0.3};
 *     double auc = faceid_auc(gen, 3, imp, 4);            // 11/12: one impostor beats 0.4
 *     double thr, tar = faceid_tar_at_far(gen, 3, imp, 4, 0.25, &thr);   // thr 0.3, tar 1.0
 *
 * Scores are similarities: larger means "same person". A pair is accepted when its score is
 * strictly above the threshold.
 */
#ifndef AITAG_TESTS_FACEID_LIB_H
#define AITAG_TESTS_FACEID_LIB_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct faceid_box {
    double x, y, w, h; /* left, top, width, height, any unit */
};

/* Intersection over union of two boxes; 0 when either is empty. */
static inline double faceid_iou(struct faceid_box a, struct faceid_box b)
{
    double ix = fmin(a.x + a.w, b.x + b.w) - fmax(a.x, b.x);
    double iy = fmin(a.y + a.h, b.y + b.h) - fmax(a.y, b.y);
    double inter, uni;

    if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0 || ix <= 0 || iy <= 0)
        return 0.0;
    inter = ix * iy;
    uni = a.w * a.h + b.w * b.h - inter;
    return uni > 0 ? inter / uni : 0.0;
}

/* a + (b - a) * f, per coordinate (a box moving linearly). */
static inline struct faceid_box faceid_lerp(struct faceid_box a, struct faceid_box b, double f)
{
    struct faceid_box r = {a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f, a.w + (b.w - a.w) * f,
                           a.h + (b.h - a.h) * f};
    return r;
}

static inline int faceid_cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * ROC AUC: the probability that a random genuine score beats a random impostor score, ties
 * counting one half (the Mann-Whitney U over n_gen * n_imp). Sorts copies; -1 when either set
 * is empty or memory runs out.
 */
static inline double faceid_auc(const double *gen, size_t n_gen, const double *imp, size_t n_imp)
{
    double *g, *m, wins = 0.0;
    size_t j = 0;

    if (!n_gen || !n_imp)
        return -1.0;
    g = malloc(n_gen * sizeof *g);
    m = malloc(n_imp * sizeof *m);
    if (!g || !m) {
        free(g);
        free(m);
        return -1.0;
    }
    memcpy(g, gen, n_gen * sizeof *g);
    memcpy(m, imp, n_imp * sizeof *m);
    qsort(g, n_gen, sizeof *g, faceid_cmp_desc);
    qsort(m, n_imp, sizeof *m, faceid_cmp_desc);
    /* walk genuine scores from the lowest up; j = impostors strictly below g[i] */
    for (size_t i = n_gen; i-- > 0;) {
        size_t ties = 0;
        while (j < n_imp && m[n_imp - 1 - j] < g[i])
            j++;
        while (j + ties < n_imp && m[n_imp - 1 - j - ties] == g[i])
            ties++;
        wins += (double)j + 0.5 * (double)ties;
    }
    free(g);
    free(m);
    return wins / ((double)n_gen * (double)n_imp);
}

/*
 * The true accept rate at false accept rate `far`: the threshold is the lowest impostor score
 * that keeps the share of impostors strictly above it at or under `far` (the (k+1)-th highest
 * impostor score, k = floor(far * n_imp)); TAR = share of genuine scores strictly above it.
 * *thr receives the threshold. -1 when either set is empty or memory runs out.
 */
static inline double faceid_tar_at_far(const double *gen, size_t n_gen, const double *imp,
                                       size_t n_imp, double far, double *thr)
{
    double *m, t;
    size_t k, acc = 0;

    *thr = 0.0;
    if (!n_gen || !n_imp)
        return -1.0;
    m = malloc(n_imp * sizeof *m);
    if (!m)
        return -1.0;
    memcpy(m, imp, n_imp * sizeof *m);
    qsort(m, n_imp, sizeof *m, faceid_cmp_desc);
    k = (size_t)floor(far * (double)n_imp + 1e-9);
    if (k >= n_imp)
        k = n_imp - 1;
    t = m[k];
    free(m);
    for (size_t i = 0; i < n_gen; i++)
        acc += gen[i] > t;
    *thr = t;
    return (double)acc / (double)n_gen;
}

/* The share of genuine (or impostor) scores strictly above thr. */
static inline double faceid_above(const double *s, size_t n, double thr)
{
    size_t a = 0;

    for (size_t i = 0; i < n; i++)
        a += s[i] > thr;
    return n ? (double)a / (double)n : 0.0;
}

struct faceid_purity {
    double purity;     /* sum over clusters of their largest identity / faces in clusters */
    size_t clustered;  /* faces with a cluster */
    size_t clusters;   /* distinct clusters */
    size_t split;      /* identities whose faces lie in two or more clusters */
    size_t unassigned; /* faces without a cluster (cluster < 0) */
};

/*
 * Purity of a clustering of n faces: identity[i] is face i's true identity (0 .. n_ids - 1;
 * other values: unknown, the face is left out), cluster[i] its cluster (any non-negative id;
 * < 0: none). 0, or -1 when memory runs out.
 * Quadratic in the number of clusters times identities; fine for test sets.
 */
static inline int faceid_purity(const int *identity, const long long *cluster, size_t n,
                                size_t n_ids, struct faceid_purity *out)
{
    long long *ids = malloc((n ? n : 1) * sizeof *ids);
    size_t n_cl = 0, *count = NULL, sum_max = 0;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (!ids)
        return -1;
    for (size_t i = 0; i < n; i++) { /* distinct clusters */
        size_t c = 0;
        if (identity[i] < 0 || (size_t)identity[i] >= n_ids)
            continue; /* a face of no known identity is not scored */
        if (cluster[i] < 0) {
            out->unassigned++;
            continue;
        }
        out->clustered++;
        while (c < n_cl && ids[c] != cluster[i])
            c++;
        if (c == n_cl)
            ids[n_cl++] = cluster[i];
    }
    count = calloc((n_cl ? n_cl : 1) * (n_ids ? n_ids : 1), sizeof *count);
    if (!count)
        goto out;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        if (cluster[i] < 0 || identity[i] < 0 || (size_t)identity[i] >= n_ids)
            continue;
        while (ids[c] != cluster[i])
            c++;
        count[c * n_ids + (size_t)identity[i]]++;
    }
    for (size_t c = 0; c < n_cl; c++) {
        size_t best = 0;
        for (size_t k = 0; k < n_ids; k++)
            if (count[c * n_ids + k] > best)
                best = count[c * n_ids + k];
        sum_max += best;
    }
    for (size_t k = 0; k < n_ids; k++) {
        size_t in = 0;
        for (size_t c = 0; c < n_cl; c++)
            in += count[c * n_ids + k] > 0;
        out->split += in >= 2;
    }
    out->clusters = n_cl;
    out->purity = out->clustered ? (double)sum_max / (double)out->clustered : 1.0;
    rc = 0;
out:
    free(count);
    free(ids);
    return rc;
}

#endif
