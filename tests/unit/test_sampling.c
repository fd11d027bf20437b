/*
 * test_sampling.c - approximate sampling (AITAG_SAMPLING_KEYFRAMES) and the deblocking skip,
 * on clips made at test time with the ffmpeg CLI: testsrc2 at 25 fps with a keyframe exactly
 * every 2.4 s (60 frames, scene cuts off) and B-frames, as MP4 (keyframe index) and MPEG-TS
 * (none). With a 2 s interval and the default window (1 s) the keyframe nearest each sample
 * time stands for it when it lies within the window and after the frame yielded before; the
 * expected times follow from that rule by hand. A keyframe's pixels are those exact sampling
 * yields for the same frame, the other samples stay close despite the deblocking skip, both
 * strategies agree, and without an index the sampling is exact.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/media.h"
#include "check.h"

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y "
#define MAX_FRAMES 64

static char dir[] = "/tmp/aitag_test_sampling_XXXXXX";
static const struct aitag_view_spec view = {160, 120, AITAG_FIT_LETTERBOX, 0};

struct run {
    size_t n;
    double t[MAX_FRAMES];
    uint8_t *rgb[MAX_FRAMES]; /* the 160x120 view, packed */
};

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->rgb[i]);
    r->n = 0;
}

/* Samples path; returns the sampler's open/next result (0 when all went well). */
static int sample(const char *path, int sampling, int strategy, int skip_deblock, double start,
                  struct run *r)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f;
    char err[256];
    int rc;

    memset(r, 0, sizeof *r);
    sp.views = &view;
    sp.n_views = 1;
    sp.threads = 2;
    sp.start = start;
    sp.sampling = sampling;
    sp.strategy = strategy;
    sp.skip_deblock = skip_deblock;
    rc = aitag_sampler_open(path, &sp, &s, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        return rc;
    }
    while ((rc = aitag_sampler_next(s, &f)) > 0) {
        const struct aitag_view *v = &f->views[0];
        if (r->n < MAX_FRAMES) {
            r->t[r->n] = f->t;
            r->rgb[r->n] = malloc((size_t)v->width * 3 * (size_t)v->height);
            for (int y = 0; r->rgb[r->n] && y < v->height; y++)
                memcpy(r->rgb[r->n] + (size_t)y * v->width * 3, v->rgb + (size_t)y * v->stride,
                       (size_t)v->width * 3);
            r->n++;
        }
        aitag_frame_free(f);
    }
    CHECK(!aitag_sampler_truncated(s));
    aitag_sampler_close(s);
    return rc;
}

static double mean_abs_diff(const uint8_t *a, const uint8_t *b)
{
    size_t n = (size_t)view.width * view.height * 3;
    double sum = 0;

    if (!a || !b)
        return 255;
    for (size_t i = 0; i < n; i++)
        sum += abs((int)a[i] - (int)b[i]);
    return sum / (double)n;
}

static int same_times(const struct run *a, const struct run *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (fabs(a->t[i] - b->t[i]) > 1e-3)
            return 0;
    return 1;
}

/* Same times and close pixels (mean absolute difference < 2 of 255); *differ counts frames whose
 * pixels are not identical. */
static int close_runs(const struct run *a, const struct run *b, size_t *differ)
{
    int ok = same_times(a, b);

    *differ = 0;
    for (size_t i = 0; ok && i < a->n; i++) {
        double d = mean_abs_diff(a->rgb[i], b->rgb[i]);
        ok = d < 2.0;
        *differ += d > 0;
    }
    return ok;
}

static void check_keyframes(const char *mp4)
{
    /* keyframes at 0, 2.4, 4.8, 7.2, 9.6, 12, 14.4, 16.8, 19.2; samples 0, 2, ..., 18 */
    static const double want[] = {0, 2.4, 4.8, 6, 7.2, 9.6, 12, 14.4, 16.8, 18};
    size_t n_want = sizeof want / sizeof *want;
    struct run exact, keys, seek, one;
    size_t differ = 0;

    CHECK(sample(mp4, AITAG_SAMPLING_EXACT, AITAG_SAMPLER_SEQUENTIAL, 0, 0, &exact) == 0);
    CHECK(exact.n == 10);
    CHECK(sample(mp4, AITAG_SAMPLING_KEYFRAMES, AITAG_SAMPLER_SEQUENTIAL, 1, 0, &keys) == 0);
    CHECK(keys.n == n_want);
    for (size_t i = 0; i < keys.n && i < n_want; i++) {
        CHECK(fabs(keys.t[i] - want[i]) < 1e-3);
        if (fabs(keys.t[i] - want[i]) >= 1e-3)
            fprintf(stderr, "frame %zu: t=%.3f, want %.3f\n", i, keys.t[i], want[i]);
    }
    /* a keyframe decodes the same alone; exact samples (6 and 18) stay close to the fully
     * filtered frame although the frames before them skipped the deblocking filter */
    for (size_t i = 0; i < keys.n && i < n_want; i++) {
        double d;
        CHECK(sample(mp4, AITAG_SAMPLING_EXACT, AITAG_SAMPLER_SEQUENTIAL, 0, want[i], &one) == 0);
        CHECK(one.n > 0 && fabs(one.t[0] - keys.t[i]) < 1e-3);
        d = one.n ? mean_abs_diff(one.rgb[0], keys.rgb[i]) : 255;
        if (fmod(want[i] + 1e-6, 2.4) < 1e-3)
            CHECK(d == 0);
        else
            CHECK(d < 2.0);
        run_free(&one);
    }
    /* seeking lands on the same keyframes */
    CHECK(sample(mp4, AITAG_SAMPLING_KEYFRAMES, AITAG_SAMPLER_SEEK, 1, 0, &seek) == 0);
    CHECK(close_runs(&keys, &seek, &differ));
    run_free(&seek);
    /* a late start: the first keyframe within the window of 5 s is 4.8 */
    CHECK(sample(mp4, AITAG_SAMPLING_KEYFRAMES, AITAG_SAMPLER_AUTO, 0, 5.0, &one) == 0);
    CHECK(one.n > 0 && fabs(one.t[0] - 4.8) < 1e-3);
    run_free(&one);
    /* the deblocking skip alone keeps exact times and close pixels, and does change some: the
     * samples that are not keyframes (all but 0 and 12) */
    CHECK(sample(mp4, AITAG_SAMPLING_EXACT, AITAG_SAMPLER_SEQUENTIAL, 1, 0, &one) == 0);
    CHECK(close_runs(&exact, &one, &differ));
    CHECK(differ > 0 && differ <= 8);
    printf("deblocking skip: %zu of %zu exact samples differ\n", differ, one.n);
    run_free(&one);
    run_free(&keys);
    run_free(&exact);
}

/* MPEG-TS has no keyframe index: keyframes sampling is exact there. */
static void check_unindexed(const char *ts)
{
    struct run exact, keys;

    CHECK(sample(ts, AITAG_SAMPLING_EXACT, AITAG_SAMPLER_AUTO, 0, 0, &exact) == 0);
    CHECK(sample(ts, AITAG_SAMPLING_KEYFRAMES, AITAG_SAMPLER_AUTO, 0, 0, &keys) == 0);
    CHECK(exact.n >= 9 && same_times(&exact, &keys));
    run_free(&exact);
    run_free(&keys);
}

static void check_params(const char *mp4)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    char err[256] = "";

    CHECK(sp.sampling == AITAG_SAMPLING_EXACT && sp.skip_deblock == 0);
    sp.sampling = 7;
    CHECK(aitag_sampler_open(mp4, &sp, &s, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(s == NULL && strstr(err, "sampling") != NULL);
    sp.sampling = AITAG_SAMPLING_KEYFRAMES;
    sp.keyframe_window = -1;
    CHECK(aitag_sampler_open(mp4, &sp, &s, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(s == NULL && strstr(err, "keyframe_window") != NULL);
    sp.keyframe_window = NAN;
    CHECK(aitag_sampler_open(mp4, &sp, &s, err, sizeof err) == AITAG_ERR_INVALID);
}

/* A wider window: every sample has a keyframe near, so only keyframes are yielded. */
static void check_window(const char *mp4)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f;
    char err[256];
    int n = 0, all_keys = 1;

    sp.sampling = AITAG_SAMPLING_KEYFRAMES;
    sp.interval = 4.8;
    sp.keyframe_window = 2.4;
    CHECK(aitag_sampler_open(mp4, &sp, &s, err, sizeof err) == 0);
    while (s && aitag_sampler_next(s, &f) > 0) {
        all_keys &= fmod(f->t + 1e-6, 2.4) < 1e-3;
        n++;
        aitag_frame_free(f);
    }
    CHECK(n == 5 && all_keys); /* 0, 4.8, 9.6, 14.4, 19.2 */
    aitag_sampler_close(s);
}

int main(void)
{
    char mp4[512], ts[512], cmd[2048];

    if (system("ffmpeg -version > /dev/null 2>&1") != 0) {
        fprintf(stderr, "ffmpeg CLI missing\n");
        return 1;
    }
    CHECK(mkdtemp(dir) != NULL);
    snprintf(mp4, sizeof mp4, "%s/k60.mp4", dir);
    snprintf(ts, sizeof ts, "%s/k60.ts", dir);
    snprintf(cmd, sizeof cmd,
             FF "-f lavfi -i testsrc2=s=320x240:r=25:d=20 -c:v libx264 -preset superfast "
                "-pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0 -bf 2 %s && " FF
                "-i %s -c copy %s",
             mp4, mp4, ts);
    CHECK(system(cmd) == 0);
    check_params(mp4);
    check_keyframes(mp4);
    check_window(mp4);
    check_unindexed(ts);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done();
}
