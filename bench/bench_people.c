/*
 * bench_people.c - the people engine's vector search and clustering on synthetic embeddings
 * (docs/people.md): the time of one nearest-vector scan over N x DIM floats (the kernel of
 * every assignment), and of aitag_people_cluster on N vectors of K identities.
 *
 *     bench_people [N] [DIM] [K]      (defaults 100000 1024 1000)
 *
 * Vectors of one identity are its random centre plus Gaussian noise of norm 0.35 (cosine
 * distance about 0.06 to the centre), renormalised; centres are random unit vectors (distance
 * about 1 between identities). Prints one key=value line per measurement.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aitag/people.h"

static unsigned long long rng = 88172645463325252ull;

static float gauss(void)
{
    double u1, u2;
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    u1 = ((rng >> 11) + 1.0) / 9007199254740993.0;
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    u2 = (rng >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static void normalise(float *v, size_t dim)
{
    float n = sqrtf(aitag_people_dot(v, v, dim));
    for (size_t k = 0; k < dim; k++)
        v[k] /= n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    size_t dim = argc > 2 ? strtoul(argv[2], NULL, 10) : 1024;
    size_t k = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000, n_clusters = 0, pure = 0;
    float *centres = malloc(k * dim * sizeof *centres), *v = malloc(n * dim * sizeof *v);
    int *labels = malloc(n * sizeof *labels), *major = calloc(k * 2 + n, sizeof *major);
    double t0, scan = 1e9, best = -2;
    volatile float sink = 0;

    if (!centres || !v || !labels || !major || k == 0 || n < k)
        return 1;
    for (size_t c = 0; c < k; c++) {
        for (size_t d = 0; d < dim; d++)
            centres[c * dim + d] = gauss();
        normalise(centres + c * dim, dim);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < dim; d++)
            v[i * dim + d] = centres[(i % k) * dim + d] + 0.35f * gauss() / sqrtf((float)dim);
        normalise(v + i * dim, dim);
    }
    for (int rep = 0; rep < 5; rep++) { /* best of 5: a shared machine */
        t0 = now();
        for (size_t i = 0; i < n; i++) {
            float c = aitag_people_dot(centres, v + i * dim, dim);
            if (c > best)
                best = c;
        }
        t0 = now() - t0;
        if (t0 < scan)
            scan = t0;
    }
    sink = (float)best;
    printf("scan n=%zu dim=%zu ms=%.2f GB_per_s=%.2f\n", n, dim, scan * 1e3,
           (double)n * dim * sizeof(float) / scan / 1e9);
    t0 = now();
    if (aitag_people_cluster(v, n, dim, NULL, 0.31f, labels, &n_clusters) < 0)
        return 1;
    t0 = now() - t0;
    /* purity: each cluster's most frequent identity (labels are dense; identities i % k) */
    {
        int *count = calloc(n_clusters * k, sizeof *count);
        if (!count)
            return 1;
        for (size_t i = 0; i < n; i++)
            count[(size_t)labels[i] * k + i % k]++;
        for (size_t c = 0; c < n_clusters; c++) {
            int m = 0;
            for (size_t j = 0; j < k; j++)
                m = count[c * k + j] > m ? count[c * k + j] : m;
            pure += (size_t)m;
        }
        free(count);
    }
    printf("cluster n=%zu dim=%zu identities=%zu clusters=%zu purity=%.4f s=%.2f\n", n, dim, k,
           n_clusters, (double)pure / (double)n, t0);
    (void)sink;
    free(centres);
    free(v);
    free(labels);
    free(major);
    return 0;
}
