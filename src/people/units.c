/*
 * units.c - what clustering places: a track (all its faces) or a single face of a photo, and
 * the centroids of the people as they stand.
 *
 * A unit's embedding is the mean of its faces' embeddings weighted by quality (plus a floor,
 * so a track of only poor faces still has a direction), normalised: the good frames of a
 * track decide where it goes, and every face of a track goes with it. Units are built from a
 * chosen subset of faces; a track some of whose faces are fixed (the user's) contributes
 * only its other faces.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "people_int.h"

#define UNIT_WEIGHT_FLOOR 0.05f

struct sort_ctx {
    const struct aitag_face_set *s;
    const int64_t *track;
};

static int64_t unit_key(const struct sort_ctx *c, size_t i)
{
    return c->track[i] ? c->track[i] : c->s->rows[i].id;
}

static int by_unit(const void *a, const void *b, void *ctx)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int64_t kx = unit_key(ctx, x), ky = unit_key(ctx, y);

    if (kx != ky)
        return kx < ky ? -1 : 1;
    return x < y ? -1 : x > y;
}

void people_units_free(struct people_units *u)
{
    free(u->units);
    free(u->faces);
    free(u->vecs);
    free(u->weights);
    memset(u, 0, sizeof *u);
}

static int by_quality(const void *a, const void *b)
{
    const struct people_unit *x = a, *y = b;

    if (x->quality != y->quality)
        return x->quality > y->quality ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

int people_units_build(const struct aitag_face_set *s, const int64_t *track,
                       const unsigned char *pick, float min_quality, struct people_units *out)
{
    struct sort_ctx ctx = {s, track};
    size_t n = 0, dim = s->dim;

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->n; i++)
        n += pick[i] != 0;
    if (n == 0)
        return 0;
    out->faces = malloc(n * sizeof *out->faces);
    out->units = malloc(n * sizeof *out->units);
    if (!out->faces || !out->units)
        goto nomem;
    for (size_t i = 0, k = 0; i < s->n; i++)
        if (pick[i])
            out->faces[k++] = i;
    if (n > 1) /* glibc's qsort_r: ctx last */
        qsort_r(out->faces, n, sizeof *out->faces, by_unit, &ctx);
    for (size_t k = 0; k < n; k++) {
        size_t i = out->faces[k];
        struct people_unit *u;
        if (k == 0 || unit_key(&ctx, i) != unit_key(&ctx, out->faces[k - 1])) {
            u = &out->units[out->n++];
            memset(u, 0, sizeof *u);
            u->first = k;
        }
        u = &out->units[out->n - 1];
        u->n++;
        u->good += s->rows[i].quality >= min_quality;
        if (s->rows[i].quality > u->quality)
            u->quality = s->rows[i].quality;
    }
    /* the best units first: leader clustering seeds from them */
    if (out->n > 1)
        qsort(out->units, out->n, sizeof *out->units, by_quality);
    out->dim = dim;
    out->vecs = calloc(out->n * dim, sizeof *out->vecs);
    out->weights = malloc(out->n * sizeof *out->weights);
    if (!out->vecs || !out->weights)
        goto nomem;
    for (size_t j = 0; j < out->n; j++) {
        struct people_unit *u = &out->units[j];
        float *v = out->vecs + j * dim, norm;
        for (size_t k = u->first; k < u->first + u->n; k++) {
            size_t i = out->faces[k];
            float w = s->rows[i].quality + UNIT_WEIGHT_FLOOR;
            const float *f = s->vecs + i * dim;
            for (size_t d = 0; d < dim; d++)
                v[d] += w * f[d];
        }
        norm = sqrtf(aitag_people_dot(v, v, dim));
        for (size_t d = 0; norm > 0.0f && d < dim; d++)
            v[d] /= norm;
        out->weights[j] = (float)u->n;
    }
    return 0;
nomem:
    people_units_free(out);
    return AITAG_ERR_NOMEM;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

int people_key_index(const int64_t *keys, size_t n, int64_t key)
{
    const int64_t *k = n ? bsearch(&key, keys, n, sizeof *keys, cmp_i64) : NULL;

    return k ? (int)(k - keys) : -1;
}

int people_centroids_of(const struct aitag_face_set *s, const int64_t *person,
                        const struct aitag_ref_set *refs, struct people_centroids *cs,
                        int64_t **keys, size_t *n_keys)
{
    size_t n_faces = person ? s->n : 0;
    size_t n_refs = refs && refs->dim == s->dim ? refs->n : 0;
    int64_t *k = NULL;
    size_t n = 0;
    int rc = 0;

    memset(cs, 0, sizeof *cs);
    *keys = NULL, *n_keys = 0;
    if (n_faces + n_refs == 0)
        return 0;
    k = malloc((n_faces + n_refs) * sizeof *k);
    if (!k)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < n_faces; i++)
        if (person[i])
            k[n++] = person[i];
    for (size_t i = 0; i < n_refs; i++)
        k[n++] = refs->person_ids[i];
    if (n > 1)
        qsort(k, n, sizeof *k, cmp_i64);
    {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (i == 0 || k[i] != k[m - 1])
                k[m++] = k[i];
        n = m;
    }
    for (size_t j = 0; j < n && rc >= 0; j++)
        rc = people_centroids_add(cs, s->dim);
    for (size_t i = 0; rc >= 0 && i < n_faces; i++)
        if (person[i])
            people_centroids_accumulate(cs, (size_t)people_key_index(k, n, person[i]),
                                        s->vecs + i * s->dim,
                                        s->rows[i].quality + UNIT_WEIGHT_FLOOR);
    for (size_t i = 0; rc >= 0 && i < n_refs; i++)
        people_centroids_accumulate(cs, (size_t)people_key_index(k, n, refs->person_ids[i]),
                                    refs->vecs + i * refs->dim,
                                    refs->qualities[i] + UNIT_WEIGHT_FLOOR);
    if (rc < 0) {
        free(k);
        people_centroids_clear(cs);
        return rc;
    }
    *keys = k, *n_keys = n;
    return 0;
}
