/*
 * score_lib.h - the pure metrics behind tests/tools/score_fixtures.c.
 *
 * Header-only so that the scorer and its unit test (tests/unit/test_score.c) share one copy
 * without a library of their own. Everything here is pure: no I/O, no globals.
 *
 *     struct score_interval truth[] = {{0, 15.5}, {45, 60}}, got[] = {{0, 16}, {44, 60}};
 *     size_t nt = score_union(truth, 2), ng = score_union(got, 2);   // sorts and merges
 *     double iou = score_iou(truth, nt, got, ng);                     // 0.946...
 *     double cer = score_cer("WELCOME TO THE PARTY", "WELCOMETOTHEPARTY");   // 0.0
 *
 * Intervals are closed [start, end] in seconds; a zero-length interval has length 0 and counts
 * for nothing in the lengths below. CER compares texts case-insensitively (ASCII) with all
 * whitespace removed, because PaddleOCR drops spaces between words; it counts Unicode code
 * points, not bytes, so a misread CJK character costs one edit like a Latin one.
 */
#ifndef AITAG_TESTS_SCORE_LIB_H
#define AITAG_TESTS_SCORE_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct score_interval {
    double start, end;
};

static inline int score_interval_cmp(const void *a, const void *b)
{
    const struct score_interval *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/*
 * Sort iv[0..n) and merge overlapping or touching intervals in place; intervals with end <
 * start are dropped. Returns the number of disjoint intervals left at the front of iv.
 */
static inline size_t score_union(struct score_interval *iv, size_t n)
{
    size_t i, m = 0;

    qsort(iv, n, sizeof(*iv), score_interval_cmp);
    for (i = 0; i < n; i++) {
        if (iv[i].end < iv[i].start)
            continue;
        if (m > 0 && iv[i].start <= iv[m - 1].end) {
            if (iv[i].end > iv[m - 1].end)
                iv[m - 1].end = iv[i].end;
        } else {
            iv[m++] = iv[i];
        }
    }
    return m;
}

/* Total length of disjoint intervals (as left by score_union). */
static inline double score_length(const struct score_interval *iv, size_t n)
{
    double total = 0;
    size_t i;

    for (i = 0; i < n; i++)
        total += iv[i].end - iv[i].start;
    return total;
}

/* Length of the intersection of two sets of disjoint, sorted intervals. */
static inline double score_intersection(const struct score_interval *a, size_t na,
                                        const struct score_interval *b, size_t nb)
{
    double total = 0;
    size_t i = 0, j = 0;

    while (i < na && j < nb) {
        double lo = a[i].start > b[j].start ? a[i].start : b[j].start;
        double hi = a[i].end < b[j].end ? a[i].end : b[j].end;
        if (hi > lo)
            total += hi - lo;
        if (a[i].end < b[j].end)
            i++;
        else
            j++;
    }
    return total;
}

/*
 * Temporal intersection over union of two sets of disjoint, sorted intervals. Two empty sets
 * agree perfectly (1.0); one empty set against a non-empty one scores 0.
 */
static inline double score_iou(const struct score_interval *a, size_t na,
                               const struct score_interval *b, size_t nb)
{
    double inter = score_intersection(a, na, b, nb);
    double uni = score_length(a, na) + score_length(b, nb) - inter;

    if (uni <= 0)
        return (score_length(a, na) <= 0 && score_length(b, nb) <= 0) ? 1.0 : 0.0;
    return inter / uni;
}

/*
 * The parts of [0, duration] outside the truth intervals `t` (disjoint, sorted), each shrunk by
 * `slack` seconds on every side that touches a truth interval (not at 0 or at duration), where a
 * sampler's rounding legitimately lets a marker spill over. Writes at most cap intervals to
 * out (cap >= nt + 1 suffices) and returns how many; cores that shrink to nothing are skipped.
 */
static inline size_t score_gap_cores(const struct score_interval *t, size_t nt, double duration,
                                     double slack, struct score_interval *out, size_t cap)
{
    size_t i, m = 0;
    double from = 0;
    int from_truth = 0;

    for (i = 0; i <= nt; i++) {
        double to = i < nt ? t[i].start : duration;
        double lo = from + (from_truth ? slack : 0);
        double hi = to - (i < nt ? slack : 0);
        if (hi > lo && m < cap) {
            out[m].start = lo;
            out[m].end = hi;
            m++;
        }
        if (i < nt) {
            from = t[i].end;
            from_truth = 1;
        }
    }
    return m;
}

/*
 * Decode UTF-8 `s` into code points, upper-casing ASCII letters and dropping whitespace
 * (ASCII, U+00A0, U+3000). Invalid bytes decode as U+FFFD, one per byte. Returns the number
 * of code points; writes at most cap of them to out (pass out = NULL, cap = 0 to count).
 */
static inline size_t score_normalize(const char *s, uint32_t *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    while (*p) {
        uint32_t c = *p;
        int len = 1, k;
        if (c >= 0xF8) {
            c = 0xFFFD;
        } else if (c >= 0xF0) {
            c &= 0x07, len = 4;
        } else if (c >= 0xE0) {
            c &= 0x0F, len = 3;
        } else if (c >= 0xC0) {
            c &= 0x1F, len = 2;
        } else if (c >= 0x80) {
            c = 0xFFFD;
        }
        for (k = 1; k < len; k++) {
            if ((p[k] & 0xC0) != 0x80)
                break;
            c = (c << 6) | (p[k] & 0x3F);
        }
        if (k < len) { /* truncated sequence: one replacement for the lead byte */
            c = 0xFFFD;
            len = 1;
        }
        p += len;
        if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x3000)
            continue;
        if (c >= 'a' && c <= 'z')
            c -= 'a' - 'A';
        if (n < cap)
            out[n] = c;
        n++;
    }
    return n;
}

/*
 * Levenshtein distance (insertions, deletions, substitutions all cost 1) between code point
 * strings. Returns (size_t)-1 if memory runs out.
 */
static inline size_t score_levenshtein(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t *prev, *cur, i, j, d;

    prev = malloc((nb + 1) * sizeof(*prev));
    cur = malloc((nb + 1) * sizeof(*cur));
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return (size_t)-1;
    }
    for (j = 0; j <= nb; j++)
        prev[j] = j;
    for (i = 1; i <= na; i++) {
        size_t *tmp;
        cur[0] = i;
        for (j = 1; j <= nb; j++) {
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t best = del < ins ? del : ins;
            cur[j] = sub < best ? sub : best;
        }
        tmp = prev;
        prev = cur;
        cur = tmp;
    }
    d = prev[nb];
    free(prev);
    free(cur);
    return d;
}

/*
 * Character error rate of `hyp` against `truth`: edit distance over the truth's length, after
 * score_normalize on both. An empty truth scores 0 against an empty hyp and 1 otherwise; the
 * result is not capped (a long wrong hyp can exceed 1). Returns a negative value if memory
 * runs out.
 */
static inline double score_cer(const char *truth, const char *hyp)
{
    size_t nt = score_normalize(truth, NULL, 0), nh = score_normalize(hyp, NULL, 0), d;
    uint32_t *t, *h;

    if (nt == 0)
        return nh == 0 ? 0.0 : 1.0;
    t = malloc(nt * sizeof(*t));
    h = malloc((nh ? nh : 1) * sizeof(*h));
    if (!t || !h) {
        free(t);
        free(h);
        return -1.0;
    }
    score_normalize(truth, t, nt);
    score_normalize(hyp, h, nh);
    d = score_levenshtein(t, nt, h, nh);
    free(t);
    free(h);
    if (d == (size_t)-1)
        return -1.0;
    return (double)d / (double)nt;
}

#endif
