/*
 * cluster.c - the vector kernel and the clustering of embeddings, with no catalog.
 *
 * Search is a brute-force scan: every query is compared with every centroid by a dot product
 * over contiguous floats. A single query against a matrix is memory-bound (each centroid
 * float is used once), so BLAS's sgemv gains nothing over a loop the compiler vectorises; the
 * scan of 100,000 1024-d vectors is measured in docs/people.md. The dot product keeps 16
 * partial sums so that -O2 (no -ffast-math, which would allow reassociation) still fills
 * vector registers.
 *
 * Clustering is leader clustering against running centroids, which costs O(n x clusters x dim)
 * rather than the O(n^2 x dim) of agglomerative methods: each vector joins the nearest
 * centroid within max_distance or starts a cluster. Leader clustering depends on order (a poor
 * first face can start a cluster of its own), so callers give the best faces first, and two
 * passes repair what order broke: clusters whose centroids lie within max_distance of each
 * other are merged (union-find over centroid pairs), and each vector then moves to its nearest
 * final centroid when that is within max_distance.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "people_int.h"

float aitag_people_dot(const float *a, const float *b, size_t dim)
{
    float s[16] = {0};
    size_t i = 0;
    float r = 0.0f;

    for (; i + 16 <= dim; i += 16)
        for (int k = 0; k < 16; k++)
            s[k] += a[i + k] * b[i + k];
    for (; i < dim; i++)
        s[0] += a[i] * b[i];
    for (int k = 0; k < 16; k++)
        r += s[k];
    return r;
}

void people_centroids_clear(struct people_centroids *cs)
{
    free(cs->sums);
    free(cs->norms);
    memset(cs, 0, sizeof *cs);
}

int people_centroids_add(struct people_centroids *cs, size_t dim)
{
    if (cs->n == cs->cap) {
        size_t nc = cs->cap ? cs->cap * 2 : 64;
        float *s = realloc(cs->sums, nc * dim * sizeof *s);
        float *nr = s ? realloc(cs->norms, nc * sizeof *nr) : NULL;
        if (s)
            cs->sums = s;
        if (nr)
            cs->norms = nr;
        if (!s || !nr)
            return AITAG_ERR_NOMEM;
        cs->cap = nc;
    }
    cs->dim = dim;
    memset(cs->sums + cs->n * dim, 0, dim * sizeof(float));
    cs->norms[cs->n] = 0.0f;
    return (int)cs->n++;
}

void people_centroids_accumulate(struct people_centroids *cs, size_t k, const float *v, float w)
{
    float *s = cs->sums + k * cs->dim;

    for (size_t i = 0; i < cs->dim; i++)
        s[i] += w * v[i];
    cs->norms[k] = sqrtf(aitag_people_dot(s, s, cs->dim));
}

int people_centroids_nearest(const struct people_centroids *cs, const float *v,
                             const unsigned char *skip, float *dist)
{
    int best = -1;
    float best_cos = -2.0f;

    for (size_t k = 0; k < cs->n; k++) {
        float c;
        if ((skip && skip[k]) || cs->norms[k] <= 0.0f)
            continue;
        c = aitag_people_dot(v, cs->sums + k * cs->dim, cs->dim) / cs->norms[k];
        if (c > best_cos)
            best_cos = c, best = (int)k;
    }
    *dist = 1.0f - best_cos;
    return best;
}

static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* Merges clusters whose centroids are within max_distance: labels are rewritten to the merged
 * cluster's index and cs to the merged sums. */
static int merge_close(struct people_centroids *cs, int *labels, size_t n, float max_distance)
{
    size_t k = cs->n, *parent = malloc(k * sizeof *parent);
    float min_cos = 1.0f - max_distance;

    if (!parent)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < k; i++)
        parent[i] = i;
    for (size_t i = 0; i < k; i++) {
        const float *a = cs->sums + i * cs->dim;
        for (size_t j = i + 1; j < k; j++) {
            float nn = cs->norms[i] * cs->norms[j], c;
            if (nn <= 0.0f)
                continue;
            c = aitag_people_dot(a, cs->sums + j * cs->dim, cs->dim) / nn;
            if (c >= min_cos) {
                size_t ri = uf_find(parent, i), rj = uf_find(parent, j);
                if (ri != rj)
                    parent[rj > ri ? rj : ri] = rj > ri ? ri : rj;
            }
        }
    }
    for (size_t i = 0; i < k; i++) {
        size_t r = uf_find(parent, i);
        if (r == i)
            continue;
        people_centroids_accumulate(cs, r, cs->sums + i * cs->dim, 1.0f);
        memset(cs->sums + i * cs->dim, 0, cs->dim * sizeof(float));
        cs->norms[i] = 0.0f;
    }
    for (size_t i = 0; i < n; i++)
        labels[i] = (int)uf_find(parent, (size_t)labels[i]);
    free(parent);
    return 0;
}

int aitag_people_cluster(const float *vecs, size_t n, size_t dim, const float *weights,
                         float max_distance, int *labels, size_t *n_clusters)
{
    struct people_centroids cs = {0};
    int *renum = NULL, rc = 0;
    size_t k = 0;

    *n_clusters = 0;
    if (n == 0)
        return 0;
    if (!vecs || !labels || dim == 0 || !(max_distance >= 0.0f && max_distance <= 2.0f))
        return AITAG_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        const float *v = vecs + i * dim;
        float d, w = weights ? weights[i] : 1.0f;
        int best = people_centroids_nearest(&cs, v, NULL, &d);
        if (best < 0 || d > max_distance) {
            best = people_centroids_add(&cs, dim);
            if (best < 0) {
                rc = best;
                goto out;
            }
        }
        people_centroids_accumulate(&cs, (size_t)best, v, w > 0.0f ? w : 1e-3f);
        labels[i] = best;
    }
    rc = merge_close(&cs, labels, n, max_distance);
    if (rc < 0)
        goto out;
    /* Every vector to its nearest final centroid (the centroids stay as they are: one pass). */
    for (size_t i = 0; i < n; i++) {
        float d;
        int best = people_centroids_nearest(&cs, vecs + i * dim, NULL, &d);
        if (best >= 0 && d <= max_distance)
            labels[i] = best;
    }
    renum = malloc(cs.n * sizeof *renum);
    if (!renum) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t j = 0; j < cs.n; j++)
        renum[j] = -1;
    for (size_t i = 0; i < n; i++) {
        if (renum[labels[i]] < 0)
            renum[labels[i]] = (int)k++;
        labels[i] = renum[labels[i]];
    }
    *n_clusters = k;
out:
    free(renum);
    people_centroids_clear(&cs);
    return rc;
}
