/*
 * cluster.c - the vector kernel and the clustering of embeddings, with no catalog.
 *
 * Search is a brute-force scan: every query is compared with every centroid by a dot product
 * over contiguous floats. A single query against a matrix is memory-bound (each centroid
 * float is used once), so BLAS's sgemv gains nothing over a loop the compiler vectorises; the
 * scan of 100,000 1024-d vectors is measured in docs/people.md. The dot product keeps 16
 * partial sums so that -O2 (no -ffast-math, which would allow reassociation) still fills
 * vector registers; on x86-64 an AVX2 + FMA copy is picked at load time where the CPU has them.
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

#define BLOCK 64 /* vectors compared with the centroids together */

/* On x86-64 a second copy for AVX2 + FMA CPUs (x86-64-v3: 8 floats a step, fused), chosen at
 * load time; the baseline is SSE2. Not under ThreadSanitizer: the copy is picked by an ifunc
 * resolver that runs before the sanitizer's runtime is up, and crashes there. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AITAG_NO_CLONES 1
#endif
#endif
#if defined(__x86_64__) && defined(__has_attribute) && !defined(__SANITIZE_THREAD__) && \
    !defined(AITAG_NO_CLONES)
#if __has_attribute(target_clones)
#define DOT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef DOT_CLONES
#define DOT_CLONES
#endif

DOT_CLONES float aitag_people_dot(const float *a, const float *b, size_t dim)
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

/* Cosines of nb vectors (rows of v) with every centroid of cs into (*sims)[b * cs->n + c]
 * (0 for an empty centroid), grown as needed. Centroid c is read once for the whole block (it
 * stays in L1 while the block's vectors, BLOCK x dim floats, stay in L2): a vector-at-a-time
 * scan would stream all centroids from memory for every vector. */
static int block_cosines(const struct people_centroids *cs, const float *v, size_t nb, float **sims,
                         size_t *cap)
{
    size_t need = nb * cs->n;

    if (need > *cap) {
        float *g = realloc(*sims, need * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        *sims = g, *cap = need;
    }
    for (size_t c = 0; c < cs->n; c++) {
        const float *s = cs->sums + c * cs->dim;
        float inv = cs->norms[c] > 0.0f ? 1.0f / cs->norms[c] : 0.0f;
        for (size_t b = 0; b < nb; b++)
            (*sims)[b * cs->n + c] = inv * aitag_people_dot(v + b * cs->dim, s, cs->dim);
    }
    return 0;
}

int aitag_people_cluster(const float *vecs, size_t n, size_t dim, const float *weights,
                         float max_distance, int *labels, size_t *n_clusters)
{
    struct people_centroids cs = {0};
    int *renum = NULL, rc = 0;
    float *sims = NULL;
    size_t k = 0, sims_cap = BLOCK;

    *n_clusters = 0;
    if (n == 0)
        return 0;
    if (!vecs || !labels || dim == 0 || !(max_distance >= 0.0f && max_distance <= 2.0f))
        return AITAG_ERR_INVALID;
    sims = malloc(BLOCK * sizeof *sims);
    if (!sims) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
        size_t nb = n - b0 < BLOCK ? n - b0 : BLOCK, k0 = cs.n;
        /* the block against the centroids as they stood at its start, in one cache-friendly
         * pass; centroids made inside the block are compared one by one */
        if (block_cosines(&cs, vecs + b0 * dim, nb, &sims, &sims_cap) < 0) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        for (size_t b = 0; b < nb; b++) {
            const float *v = vecs + (b0 + b) * dim;
            float w = weights ? weights[b0 + b] : 1.0f, best_cos = -2.0f;
            int best = -1;
            for (size_t c = 0; c < cs.n; c++) {
                float cc = c < k0 ? sims[b * k0 + c]
                                  : aitag_people_dot(v, cs.sums + c * dim, dim) / cs.norms[c];
                if (cc > best_cos)
                    best_cos = cc, best = (int)c;
            }
            if (best < 0 || 1.0f - best_cos > max_distance) {
                best = people_centroids_add(&cs, dim);
                if (best < 0) {
                    rc = best;
                    goto out;
                }
            }
            people_centroids_accumulate(&cs, (size_t)best, v, w > 0.0f ? w : 1e-3f);
            labels[b0 + b] = best;
        }
    }
    rc = merge_close(&cs, labels, n, max_distance);
    if (rc < 0)
        goto out;
    /* Every vector to its nearest final centroid (the centroids stay as they are: one pass). */
    for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
        size_t nb = n - b0 < BLOCK ? n - b0 : BLOCK;
        if (block_cosines(&cs, vecs + b0 * dim, nb, &sims, &sims_cap) < 0) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        for (size_t b = 0; b < nb; b++) {
            float best_cos = -2.0f;
            int best = -1;
            for (size_t c = 0; c < cs.n; c++)
                if (cs.norms[c] > 0.0f && sims[b * cs.n + c] > best_cos)
                    best_cos = sims[b * cs.n + c], best = (int)c;
            if (best >= 0 && 1.0f - best_cos <= max_distance)
                labels[b0 + b] = best;
        }
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
    free(sims);
    free(renum);
    people_centroids_clear(&cs);
    return rc;
}
