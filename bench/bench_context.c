/*
 * bench_context.c - what the shipped context rules add to deriving one item's tags: an hour
 * of video sampled every 2 s (1,800 frames) with objects, faces and text evidence on every
 * frame, derived with and without models/context/defaults.json, median of several runs.
 * The ratio to compare is the context's added time over the time tagging that hour takes
 * (at the 30x realtime target, 120 s): printed as added_share.
 *
 *     bench_context [RUNS]      (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aitag/policy.h"

#define FRAMES 1800
#define PER_FRAME 8

static const char *const labels[] = {"person", "chair", "cup", "dining table", "tv", "car",
                                     "dog", "bottle"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_derive(const struct aitag_policy *p, const struct aitag_derive_input *in,
                            int runs)
{
    double *t = malloc((size_t)runs * sizeof *t), m;

    for (int r = 0; r < runs; r++) {
        struct aitag_result res = {0};
        double t0 = now();
        if (aitag_policy_derive(p, in, &res) < 0)
            exit(1);
        t[r] = now() - t0;
        aitag_result_clear(&res);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    m = t[runs / 2];
    free(t);
    return m;
}

int main(int argc, char **argv)
{
    static struct aitag_evidence ev[FRAMES * PER_FRAME];
    struct aitag_sampling s[3] = {{"objects", 2.0, FRAMES}, {"faces", 2.0, FRAMES},
                                  {"text", 2.0, FRAMES}};
    struct aitag_derive_input in = {0};
    struct aitag_policy *plain = NULL, *ctx = NULL;
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    size_t n = 0;
    unsigned rng = 1;
    char err[512];
    double a, b;

    for (int f = 0; f < FRAMES; f++)
        for (int k = 0; k < PER_FRAME; k++) {
            struct aitag_evidence *e = &ev[n++];
            rng = rng * 1103515245u + 12345u;
            e->analyzer = (char *)(k < 5 ? "objects" : k < 7 ? "faces" : "text");
            e->label = (char *)(k < 5 ? labels[(rng >> 16) % 8] : k < 7 ? "face" : "text");
            e->confidence = 0.3f + (float)((rng >> 8) % 70) / 100.0f;
            e->t = f * 2.0;
            e->has_box = 1;
            e->box = (struct aitag_box){0.1f * (float)(k % 5), 0.2f, 0.15f, 0.3f};
        }
    in.duration = FRAMES * 2.0;
    in.evidence = ev, in.n_evidence = n;
    in.sampling = s, in.n_sampling = 3;
    if (aitag_policy_new(&plain) < 0 || aitag_policy_new(&ctx) < 0 ||
        aitag_policy_load_context(ctx, AITAG_SOURCE_DIR "/models/context/defaults.json", err,
                                  sizeof err) < 0) {
        fprintf(stderr, "bench_context: %s\n", err);
        return 1;
    }
    a = median_derive(plain, &in, runs);
    b = median_derive(ctx, &in, runs);
    printf("evidence=%zu frames=%d derive_plain_ms=%.2f derive_context_ms=%.2f "
           "context_added_ms=%.2f added_share=%.5f (of 120 s: an hour tagged at 30x)\n",
           n, FRAMES, a * 1e3, b * 1e3, (b - a) * 1e3, (b - a) / 120.0);
    aitag_policy_free(plain);
    aitag_policy_free(ctx);
    return 0;
}
