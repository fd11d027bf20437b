/*
 * bench_faceid.c - the People work's two costs, each next to a floor measured in the same run.
 *
 *     bench_faceid --models faceres,mobilefacenet,emotion [--threads 1] [--runs 30]
 *                  [--models-dir DIR]
 *     bench_faceid --cluster 100000 [--dim 1024] [--people 1000] [--repeat 3] [--seed 1]
 *
 * --models: each model per run (one face crop) at the given ONNX Runtime thread count, median
 * of --runs runs after a warm-up: what one face costs each embedder (docs/face-embeddings.md).
 * The input is a smooth colour gradient at the model's input size: these networks do the same
 * arithmetic whatever the pixels, so a real crop would time the same.
 *
 * --cluster: aitag_people_cluster (aitag/people.h) on N synthetic L2-normalised embeddings:
 * --people random centres on the unit sphere, each face its centre plus Gaussian noise of the
 * size that puts two faces of one person at cosine ~0.75 and two people at ~0 (what faceres
 * gives on the identity fixtures, docs/face-embeddings.md), shuffled. Median of --repeat runs.
 * Floor: one pass of N x clusters dot products with aitag_people_dot, the least any assignment
 * of N faces to that many clusters must compute (timed on a tenth of the faces, scaled); the
 * ratio says how many such passes the clustering costs. Also reports how many clusters came out
 * against the true people.
 *
 * Output: one JSON object per line on stdout, a human line per result on stderr.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/people.h"

#define MAX_RUNS 200
#define MAX_REPEAT 9

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench_models(const char *list, const char *dir, int threads, int runs)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    char names[512], *name, *next;
    double ms[MAX_RUNS];
    int rc;

    p.manifest_dir = dir ? dir : AITAG_SOURCE_DIR "/models";
    p.weights_dir = AITAG_SOURCE_DIR "/deps/models";
    p.intra_threads = threads;
    if ((rc = aitag_infer_new(&p, &inf)) < 0) {
        fprintf(stderr, "bench_faceid: cannot set up inference\n");
        return rc;
    }
    snprintf(names, sizeof names, "%s", list);
    for (name = names; rc == 0 && name; name = next) {
        struct aitag_model *m;
        struct aitag_tensor in = {0}, out[8];
        const int64_t *shape;
        int ndim, s, ch;
        uint8_t *rgb = NULL;
        float *x = NULL;
        char err[256] = "";
        size_t n_out = 0;

        next = strchr(name, ',');
        if (next)
            *next++ = '\0';

        if (aitag_model_open(inf, name, &m) < 0 || aitag_model_load(m) < 0) {
            fprintf(stderr, "bench_faceid: %s: %s\n", name, aitag_infer_errmsg(inf));
            rc = AITAG_ERR_MODEL;
            break;
        }
        shape = aitag_model_input_shape(m, &ndim);
        s = ndim == 4 ? (int)shape[1] : 0;
        ch = ndim == 4 ? (int)shape[3] : 0;
        if (s <= 0 || s > 1024 || (ch != 1 && ch != 3)) {
            fprintf(stderr, "bench_faceid: %s: needs an NHWC [N,S,S,C] input\n", name);
            rc = AITAG_ERR_INVALID;
            break;
        }
        rgb = malloc((size_t)s * (size_t)s * 3);
        x = malloc((size_t)s * (size_t)s * 3 * sizeof *x);
        if (!rgb || !x) {
            free(rgb);
            free(x);
            rc = AITAG_ERR_NOMEM;
            break;
        }
        for (int j = 0; j < s; j++)
            for (int i = 0; i < s; i++) {
                uint8_t *px = rgb + ((size_t)j * (size_t)s + (size_t)i) * 3;
                px[0] = (uint8_t)(255 * i / s), px[1] = (uint8_t)(255 * j / s);
                px[2] = (uint8_t)(128 + 127 * (i - j) / s);
            }
        aitag_model_fill_input_rgb(m, rgb, s, s, s * 3, x);
        if (ch == 1) /* grey models read the first plane's worth of values */
            for (size_t k = 0; k < (size_t)s * (size_t)s; k++)
                x[k] = x[3 * k];
        in = (struct aitag_tensor){x, {1, s, s, ch}, 4, (size_t)s * (size_t)s * (size_t)ch};
        for (int r = 0; rc == 0 && r <= runs; r++) {
            double t0 = aitag_now();
            if (aitag_model_run(m, &in, out, 8, &n_out, err, sizeof err) < 0) {
                fprintf(stderr, "bench_faceid: %s: %s\n", name, err);
                rc = AITAG_ERR_MODEL;
                break;
            }
            if (r > 0)
                ms[r - 1] = (aitag_now() - t0) * 1e3;
            aitag_tensors_release(out, n_out);
        }
        if (rc == 0) {
            double med = median(ms, (size_t)runs);
            printf("{\"bench\":\"model\",\"name\":\"%s\",\"threads\":%d,\"input\":\"%dx%d\","
                   "\"runs\":%d,\"ms_median\":%.3f,\"ms_min\":%.3f,\"faces_per_s\":%.1f}\n",
                   name, threads, s, s, runs, med, ms[0], 1e3 / med);
            fprintf(stderr,
                    "bench_faceid: %-14s threads=%d %7.2f ms/face (min %.2f) = %6.1f faces/s\n",
                    name, threads, med, ms[0], 1e3 / med);
        }
        free(rgb);
        free(x);
    }
    aitag_infer_free(inf);
    return rc;
}

/* xorshift64* and Box-Muller: reproducible synthetic data without a global state. */
static double uniform(unsigned long long *s)
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double gauss(unsigned long long *s)
{
    double u = uniform(s), v = uniform(s);
    return sqrt(-2.0 * log(u > 1e-300 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

static void normalise(float *v, size_t dim)
{
    double n = 0;
    for (size_t d = 0; d < dim; d++)
        n += (double)v[d] * v[d];
    n = n > 0 ? 1.0 / sqrt(n) : 0;
    for (size_t d = 0; d < dim; d++)
        v[d] = (float)(v[d] * n);
}

static int bench_cluster(size_t n, size_t dim, size_t people, int repeat, unsigned long long seed)
{
    float *vecs = malloc(n * dim * sizeof *vecs), *centres = malloc(people * dim * sizeof *centres);
    int *labels = malloc(n * sizeof *labels);
    size_t *truth = malloc(n * sizeof *truth), n_clusters = 0;
    double ms[MAX_REPEAT], floor_ms[MAX_REPEAT], sink = 0;
    /* noise per dimension so that |noise| = sigma_total with cos(face, centre) ~ 0.87 and two
     * faces of one person at ~0.75: sigma_total = tan(acos(0.87)) ~ 0.57 */
    double sigma = 0.57 / sqrt((double)dim);
    unsigned long long s = seed ? seed : 1;
    size_t sub = n / 10 < 1000 ? (n < 1000 ? n : 1000) : n / 10;
    int rc = 0;

    if (!vecs || !centres || !labels || !truth) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t k = 0; k < people * dim; k++)
        centres[k] = (float)gauss(&s);
    for (size_t k = 0; k < people; k++)
        normalise(centres + k * dim, dim);
    for (size_t i = 0; i < n; i++) {
        truth[i] = i % people;
        for (size_t d = 0; d < dim; d++)
            vecs[i * dim + d] = centres[truth[i] * dim + d] + (float)(sigma * gauss(&s));
        normalise(vecs + i * dim, dim);
    }
    for (size_t i = n; i > 1; i--) { /* shuffle: faces arrive in no particular order */
        size_t j = (size_t)(uniform(&s) * (double)i), t = truth[i - 1];
        float tmp;
        if (j >= i)
            j = i - 1;
        truth[i - 1] = truth[j], truth[j] = t;
        for (size_t d = 0; d < dim; d++)
            tmp = vecs[(i - 1) * dim + d], vecs[(i - 1) * dim + d] = vecs[j * dim + d],
            vecs[j * dim + d] = tmp;
    }
    for (int r = 0; r < repeat; r++) {
        double t0 = aitag_now();
        rc = aitag_people_cluster(vecs, n, dim, NULL, 0.35f, labels, &n_clusters);
        ms[r] = (aitag_now() - t0) * 1e3;
        if (rc < 0) {
            fprintf(stderr, "bench_faceid: aitag_people_cluster failed (%d)\n", rc);
            goto out;
        }
        /* floor: one pass of n x n_clusters dots against any unit vectors (the cost is the
         * same), timed on a tenth of the faces (at least 1000) and scaled: it is linear in n */
        t0 = aitag_now();
        for (size_t i = 0; i < sub; i++)
            for (size_t c = 0; c < n_clusters; c++)
                sink += aitag_people_dot(vecs + i * dim, centres + (c % people) * dim, dim);
        floor_ms[r] = (aitag_now() - t0) * 1e3 * (double)n / (double)sub;
    }
    {
        double med = median(ms, (size_t)repeat), fl = median(floor_ms, (size_t)repeat);
        /* how well the clusters follow the people: clusters whose members all share one
         * person, and people whose faces all fall in one cluster */
        size_t pure = 0, whole = 0, *first = malloc(people * sizeof *first),
               *owner = malloc((n_clusters + 1) * sizeof *owner);
        if (!first || !owner) {
            free(first);
            free(owner);
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        for (size_t k = 0; k < people; k++)
            first[k] = (size_t)-1;
        for (size_t c = 0; c <= n_clusters; c++)
            owner[c] = (size_t)-1;
        for (size_t i = 0; i < n; i++) {
            size_t c = (size_t)labels[i];
            if (owner[c] == (size_t)-1)
                owner[c] = truth[i];
            else if (owner[c] != truth[i])
                owner[c] = (size_t)-2;
            if (first[truth[i]] == (size_t)-1)
                first[truth[i]] = c;
            else if (first[truth[i]] != c)
                first[truth[i]] = (size_t)-2;
        }
        for (size_t c = 0; c < n_clusters; c++)
            pure += owner[c] < (size_t)-2;
        for (size_t k = 0; k < people; k++)
            whole += first[k] < (size_t)-2;
        printf("{\"bench\":\"cluster\",\"faces\":%zu,\"dim\":%zu,\"people\":%zu,\"repeat\":%d,"
               "\"ms_median\":%.1f,\"floor_ms_median\":%.1f,\"ratio\":%.2f,\"clusters\":%zu,"
               "\"pure_clusters\":%zu,\"whole_people\":%zu,\"sink\":%.3g}\n",
               n, dim, people, repeat, med, fl, med / fl, n_clusters, pure, whole, sink);
        fprintf(stderr,
                "bench_faceid: cluster %zu x %zu-d (%zu people): %.0f ms (median of %d); floor "
                "(one pass of %zu x %zu dots) %.0f ms; ratio %.2f; clusters %zu, pure %zu, "
                "people in one cluster %zu\n",
                n, dim, people, med, repeat, n, n_clusters, fl, med / fl, n_clusters, pure, whole);
        free(first);
        free(owner);
    }
out:
    free(vecs);
    free(centres);
    free(labels);
    free(truth);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_faceid --models NAME[,NAME...] [--threads N] [--runs N] "
                    "[--models-dir DIR]\n"
                    "       bench_faceid --cluster N [--dim D] [--people K] [--repeat R] "
                    "[--seed S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *models = NULL, *dir = NULL;
    long cluster = 0, dim = 1024, people = 1000, threads = 1, runs = 30, repeat = 3, seed = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end = NULL;
        long v;
        if (i + 1 >= argc)
            return usage();
        if (strcmp(a, "--models") == 0 || strcmp(a, "--models-dir") == 0) {
            *(a[8] ? &dir : &models) = argv[++i];
            continue;
        }
        v = strtol(argv[++i], &end, 10);
        if (!end || *end || v <= 0)
            return usage();
        if (strcmp(a, "--cluster") == 0 && v <= 10000000)
            cluster = v;
        else if (strcmp(a, "--dim") == 0 && v <= 4096)
            dim = v;
        else if (strcmp(a, "--people") == 0 && v <= 1000000)
            people = v;
        else if (strcmp(a, "--threads") == 0 && v <= 64)
            threads = v;
        else if (strcmp(a, "--runs") == 0 && v <= MAX_RUNS)
            runs = v;
        else if (strcmp(a, "--repeat") == 0 && v <= MAX_REPEAT)
            repeat = v;
        else if (strcmp(a, "--seed") == 0)
            seed = v;
        else
            return usage();
    }
    if (models)
        return bench_models(models, dir, (int)threads, (int)runs) < 0;
    if (cluster)
        return bench_cluster((size_t)cluster, (size_t)dim, (size_t)people, (int)repeat,
                             (unsigned long long)seed) < 0;
    return usage();
}
