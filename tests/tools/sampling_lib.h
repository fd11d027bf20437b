/*
 * sampling_lib.h - the comparisons behind tests/tools/sampling_accuracy.c: how far one
 * `aitag tag --json` item (a cheaper sampling) is from another of the same file (the reference,
 * dense exact sampling), and how well its shots find the true shot boundaries.
 *
 *     json_t *ref = ..., *got = ...;                  // one item each, docs/json.md
 *     struct sa_tag_diff d;
 *     sa_tag_diff(ref, got, &d);                      // d.missing / d.extra, borrowed names
 *     struct sa_iou iou;
 *     sa_marker_iou(ref, got, &iou);                  // iou.min, iou.mean over marked tags
 *     struct sa_boundary *truth, *det; size_t nt, nd;
 *     sa_truth_boundaries(truth_json, &truth, &nt);   // {"boundaries":[{"time","kind"}...]}
 *     sa_shot_boundaries(got, &det, &nd);             // from "shots"; -1 when absent
 *     struct sa_pr pr[SA_KINDS + 1];
 *     sa_match(truth, nt, det, nd, 0.5, pr);          // pr[SA_CUT].. and pr[SA_ALL]
 *
 * Tags: a tag (by "name") in the reference and not in the other item is missing, the reverse
 * is extra. Markers: for each tag that has a marker in either item, the temporal IoU of the
 * union of its marker ranges in one item against the other (score_lib.h; a tag marked in only
 * one item scores 0); min and mean over those tags, 1 when neither item has markers.
 *
 * Shot boundaries: a detected boundary is the start of every shot whose "edge" is not "start"
 * (docs/json.md). A truth boundary has a "time" (for a gradual transition its middle, where the
 * next shot starts) and may have "start"/"end" (the transition's span). A detected boundary
 * can match a truth boundary when its time lies within tol of the truth's time or of its span;
 * pairs are matched one to one, closest first. Matching ignores kinds, so a fade reported as a
 * dissolve still counts as found (and is counted as mislabelled): recall per kind is over the
 * truth boundaries of that kind, precision per kind over the detected boundaries of that kind.
 * A rate with nothing to count is NaN (sa_rate).
 *
 * Pure apart from Jansson: no I/O, no globals. Names returned are borrowed from the JSON.
 */
#ifndef AITAG_TESTS_SAMPLING_LIB_H
#define AITAG_TESTS_SAMPLING_LIB_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "score_lib.h"

#define SA_MAX_NAMES 64 /* tags listed per direction; counts go on beyond it */

enum sa_kind { SA_CUT = 0, SA_FADE = 1, SA_DISSOLVE = 2, SA_KINDS = 3, SA_ALL = 3 };

static const char *const sa_kind_names[SA_KINDS + 1] = {"cut", "fade", "dissolve", "all"};

struct sa_tag_diff {
    size_t n_missing, n_extra; /* may exceed SA_MAX_NAMES */
    const char *missing[SA_MAX_NAMES], *extra[SA_MAX_NAMES];
};

struct sa_iou {
    double min, mean;  /* 1 when no tag has markers */
    size_t n_tags;     /* tags marked in either item */
    const char *worst; /* the tag with the minimum, NULL when none */
};

struct sa_boundary {
    double t, lo, hi; /* time; span [lo, hi] (lo == hi == t for a cut) */
    int kind;         /* enum sa_kind, -1 for a kind this tool does not know */
};

struct sa_pr {
    size_t n_truth, n_det;     /* boundaries of this kind in the truth, in the detection */
    size_t hit_truth, hit_det; /* of those, matched */
    size_t mislabelled;        /* truth of this kind matched by a detection of another kind */
};

/* "cut", "fade", "dissolve" -> enum sa_kind; anything else -> -1. */
static inline int sa_kind_from_name(const char *s)
{
    for (int k = 0; s && k < SA_KINDS; k++)
        if (strcmp(s, sa_kind_names[k]) == 0)
            return k;
    return -1;
}

/* hits / n, or NaN when n is 0. */
static inline double sa_rate(size_t hits, size_t n)
{
    return n ? (double)hits / (double)n : NAN;
}

static inline double sa_num(json_t *obj, const char *key, double fallback)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

/* Is `name` the "name" (key) of some element of arr? */
static inline int sa_has_name(json_t *arr, const char *key, const char *name)
{
    size_t i;
    json_t *it;

    json_array_foreach(arr, i, it)
    {
        const char *s = json_string_value(json_object_get(it, key));
        if (s && strcmp(s, name) == 0)
            return 1;
    }
    return 0;
}

/* Tags of ref missing from got and tags of got not in ref. */
static inline void sa_tag_diff(json_t *ref, json_t *got, struct sa_tag_diff *d)
{
    json_t *rt = json_object_get(ref, "tags"), *gt = json_object_get(got, "tags"), *it;
    size_t i;

    memset(d, 0, sizeof *d);
    json_array_foreach(rt, i, it)
    {
        const char *name = json_string_value(json_object_get(it, "name"));
        if (name && !sa_has_name(gt, "name", name)) {
            if (d->n_missing < SA_MAX_NAMES)
                d->missing[d->n_missing] = name;
            d->n_missing++;
        }
    }
    json_array_foreach(gt, i, it)
    {
        const char *name = json_string_value(json_object_get(it, "name"));
        if (name && !sa_has_name(rt, "name", name)) {
            if (d->n_extra < SA_MAX_NAMES)
                d->extra[d->n_extra] = name;
            d->n_extra++;
        }
    }
}

/* The merged ranges of tag's markers in `markers` into iv (capacity >= the array's size). */
static inline size_t sa_tag_ranges(json_t *markers, const char *tag, struct score_interval *iv)
{
    size_t i, n = 0;
    json_t *m;

    json_array_foreach(markers, i, m)
    {
        const char *s = json_string_value(json_object_get(m, "tag"));
        if (!s || strcmp(s, tag) != 0)
            continue;
        iv[n].start = sa_num(m, "start", 0);
        iv[n].end = sa_num(m, "end", iv[n].start);
        n++;
    }
    return score_union(iv, n);
}

/* Appends the marker tags of `markers` not yet in names[0..*n) (capacity cap). */
static inline void sa_collect_tags(json_t *markers, const char **names, size_t *n, size_t cap)
{
    size_t i, j;
    json_t *m;

    json_array_foreach(markers, i, m)
    {
        const char *tag = json_string_value(json_object_get(m, "tag"));
        for (j = 0; tag && j < *n && strcmp(names[j], tag) != 0; j++)
            ;
        if (tag && j == *n && *n < cap)
            names[(*n)++] = tag;
    }
}

/* Per-tag marker IoU of got against ref. Returns 0, or -1 when memory runs out. */
static inline int sa_marker_iou(json_t *ref, json_t *got, struct sa_iou *out)
{
    json_t *rm = json_object_get(ref, "markers"), *gm = json_object_get(got, "markers");
    size_t nr = json_array_size(rm), ng = json_array_size(gm), n_names = 0;
    struct score_interval *a = calloc(nr + 1, sizeof *a), *b = calloc(ng + 1, sizeof *b);
    const char **names = calloc(nr + ng + 1, sizeof *names);
    double sum = 0;
    int rc = -1;

    out->min = 1;
    out->mean = 1;
    out->n_tags = 0;
    out->worst = NULL;
    if (!a || !b || !names)
        goto out;
    sa_collect_tags(rm, names, &n_names, nr + ng);
    sa_collect_tags(gm, names, &n_names, nr + ng);
    for (size_t t = 0; t < n_names; t++) {
        size_t na = sa_tag_ranges(rm, names[t], a), nb = sa_tag_ranges(gm, names[t], b);
        double v = score_iou(a, na, b, nb);
        if (t == 0 || v < out->min) {
            out->min = v;
            out->worst = names[t];
        }
        sum += v;
    }
    out->n_tags = n_names;
    if (n_names)
        out->mean = sum / (double)n_names;
    rc = 0;
out:
    free(a);
    free(b);
    free(names);
    return rc;
}

static inline int sa_boundary_cmp(const void *x, const void *y)
{
    const struct sa_boundary *a = x, *b = y;
    return a->t < b->t ? -1 : a->t > b->t;
}

/*
 * Truth boundaries from {"boundaries": [{"time": T, "kind": K, "start": S, "end": E}, ...]}
 * ("start"/"end" optional). *out is malloc'd (free it), sorted by time. Returns 0, or -1 when
 * the JSON has no "boundaries" array, an element lacks a numeric "time", or memory runs out.
 */
static inline int sa_truth_boundaries(json_t *truth, struct sa_boundary **out, size_t *n)
{
    json_t *arr = json_object_get(truth, "boundaries"), *it;
    struct sa_boundary *b;
    size_t i;

    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return -1;
    b = calloc(json_array_size(arr) + 1, sizeof *b);
    if (!b)
        return -1;
    json_array_foreach(arr, i, it)
    {
        if (!json_is_number(json_object_get(it, "time"))) {
            free(b);
            return -1;
        }
        b[i].t = sa_num(it, "time", 0);
        b[i].lo = sa_num(it, "start", b[i].t);
        b[i].hi = sa_num(it, "end", b[i].t);
        if (b[i].lo > b[i].t)
            b[i].lo = b[i].t;
        if (b[i].hi < b[i].t)
            b[i].hi = b[i].t;
        b[i].kind = sa_kind_from_name(json_string_value(json_object_get(it, "kind")));
    }
    *n = json_array_size(arr);
    qsort(b, *n, sizeof *b, sa_boundary_cmp);
    *out = b;
    return 0;
}

/*
 * Detected boundaries: the start of each element of item's "shots" whose "edge" is not
 * "start". Returns 0 (with *out malloc'd, possibly *n == 0), 1 when the item has no "shots"
 * array (nothing allocated), -1 when memory runs out.
 */
static inline int sa_shot_boundaries(json_t *item, struct sa_boundary **out, size_t *n)
{
    json_t *arr = json_object_get(item, "shots"), *it;
    struct sa_boundary *b;
    size_t i, k = 0;

    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return 1;
    b = calloc(json_array_size(arr) + 1, sizeof *b);
    if (!b)
        return -1;
    json_array_foreach(arr, i, it)
    {
        const char *edge = json_string_value(json_object_get(it, "edge"));
        if ((edge && strcmp(edge, "start") == 0) || !json_is_number(json_object_get(it, "start")))
            continue;
        b[k].t = b[k].lo = b[k].hi = sa_num(it, "start", 0);
        b[k].kind = sa_kind_from_name(edge);
        k++;
    }
    qsort(b, k, sizeof *b, sa_boundary_cmp);
    *out = b;
    *n = k;
    return 0;
}

/* How far det lies from truth boundary tr: 0 inside its span, else to the nearer end. */
static inline double sa_gap(const struct sa_boundary *tr, double det)
{
    double d = fabs(det - tr->t);
    double span = det < tr->lo ? tr->lo - det : det > tr->hi ? det - tr->hi : 0;
    return span < d ? span : d;
}

/*
 * Match detections to truth one to one, closest pair first, a pair allowed when the detection
 * lies within tol of the truth boundary (sa_gap). Fills pr[0..SA_KINDS] (SA_ALL: every kind,
 * also unknown ones). Returns 0, or -1 when memory runs out (pr then all zero).
 */
static inline int sa_match(const struct sa_boundary *truth, size_t nt,
                           const struct sa_boundary *det, size_t nd, double tol,
                           struct sa_pr pr[SA_KINDS + 1])
{
    char *used_t = calloc(nt + 1, 1), *used_d = calloc(nd + 1, 1);
    int rc = -1;

    memset(pr, 0, (SA_KINDS + 1) * sizeof *pr);
    if (!used_t || !used_d)
        goto out;
    for (size_t i = 0; i < nt; i++) {
        if (truth[i].kind >= 0)
            pr[truth[i].kind].n_truth++;
        pr[SA_ALL].n_truth++;
    }
    for (size_t j = 0; j < nd; j++) {
        if (det[j].kind >= 0)
            pr[det[j].kind].n_det++;
        pr[SA_ALL].n_det++;
    }
    for (;;) { /* greedy: the closest free pair, until none is within tol */
        size_t bi = 0, bj = 0;
        double best = INFINITY;
        for (size_t i = 0; i < nt; i++)
            for (size_t j = 0; j < nd && !used_t[i]; j++) {
                double g = used_d[j] ? INFINITY : sa_gap(&truth[i], det[j].t);
                if (g <= tol && g < best) {
                    best = g;
                    bi = i;
                    bj = j;
                }
            }
        if (best == INFINITY)
            break;
        used_t[bi] = used_d[bj] = 1;
        if (truth[bi].kind >= 0) {
            pr[truth[bi].kind].hit_truth++;
            if (det[bj].kind != truth[bi].kind)
                pr[truth[bi].kind].mislabelled++;
        }
        if (det[bj].kind >= 0)
            pr[det[bj].kind].hit_det++;
        pr[SA_ALL].hit_truth++;
        pr[SA_ALL].hit_det++;
    }
    rc = 0;
out:
    free(used_t);
    free(used_d);
    return rc;
}

#endif
