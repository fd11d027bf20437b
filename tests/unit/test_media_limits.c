/*
 * test_media_limits.c - the limits against hostile files (media/limits.c): frames decoded,
 * duration, streams, wall-clock and CPU budgets. Each is refused or stopped with a message
 * naming the limit and the option that raises it, a stopped sampler stays stopped, and the
 * defaults let ordinary files through. The hostile fixtures themselves (PNG bomb, FIFO, a file
 * still being written) are tests/integration/hostile_media.sh's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aitag/media.h"
#include "check.h"

static char dir[] = "/tmp/aitag_test_limits_XXXXXX";

#include "media_fixtures.h"

/* Samples path to the end: the last return of aitag_sampler_next (0 or < 0), frames in *n. */
static int sample_all(struct aitag_sampler *s, int *n)
{
    struct aitag_frame *f = NULL;
    int rc;

    *n = 0;
    while ((rc = aitag_sampler_next(s, &f)) > 0) {
        aitag_frame_free(f);
        ++*n;
    }
    return rc;
}

static void test_defaults(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_probe p;
    char err[256] = "";
    int n = 0;

    CHECK_EQ_INT(aitag_media_probe_params(fx("frames.mkv"), NULL, &p), 0);
    CHECK_EQ_INT(aitag_media_probe_params(fx("av.mkv"), &sp, &p), 0);
    sp.strategy = AITAG_SAMPLER_SEQUENTIAL;
    sp.interval = 1.0;
    CHECK_EQ_INT(aitag_sampler_open(fx("frames.mkv"), &sp, &s, err, sizeof err), 0);
    if (s) {
        CHECK_EQ_INT(sample_all(s, &n), 0);
        CHECK_EQ_INT(n, 2);
        CHECK(aitag_sampler_frames_decoded(s) >= 250);
        aitag_sampler_close(s);
    }
}

static void test_frames(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    char err[256] = "";
    int n = 0;

    sp.strategy = AITAG_SAMPLER_SEQUENTIAL;
    sp.interval = 1.0;
    sp.max_frames = 150; /* the second sample lies at frame 250 */
    CHECK_EQ_INT(aitag_sampler_open(fx("frames.mkv"), &sp, &s, err, sizeof err), 0);
    if (!s)
        return;
    CHECK_EQ_INT(sample_all(s, &n), AITAG_ERR_MEDIA);
    CHECK_EQ_INT(n, 1);
    CHECK(strstr(aitag_sampler_errmsg(s), "150 frames") != NULL);
    CHECK(strstr(aitag_sampler_errmsg(s), "--max-frames") != NULL);
    CHECK(aitag_sampler_frames_decoded(s) <= 151);
    CHECK_EQ_INT(aitag_sampler_next(s, &f), AITAG_ERR_MEDIA); /* stays stopped */
    CHECK(f == NULL);
    aitag_sampler_close(s);
}

static void test_duration(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_probe p;
    char err[256] = "";

    /* timestamps jumping 31 years ahead: the declared duration is refused by default */
    CHECK_EQ_INT(aitag_media_probe_params(fx("jump.mkv"), NULL, &p), AITAG_ERR_MEDIA);
    CHECK(strstr(p.error, "duration limit of 86400 s (--max-duration)") != NULL);
    sp.max_duration = 1.5;
    CHECK_EQ_INT(aitag_media_probe_params(fx("frames.mkv"), &sp, &p), AITAG_ERR_MEDIA);
    CHECK(strstr(p.error, "video of 2 s") != NULL);
    CHECK(aitag_sampler_open(fx("frames.mkv"), &sp, &s, err, sizeof err) < 0);
    CHECK(s == NULL);
    CHECK(strstr(err, "--max-duration") != NULL);
    sp.max_duration = 2.5;
    CHECK_EQ_INT(aitag_media_probe_params(fx("frames.mkv"), &sp, &p), 0);
}

static void test_streams(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_probe p;
    char err[256] = "";

    sp.max_streams = 1;
    CHECK_EQ_INT(aitag_media_probe_params(fx("av.mkv"), &sp, &p), AITAG_ERR_MEDIA);
    CHECK(strstr(p.error, "more than 1 streams, the limit (--max-streams)") != NULL);
    CHECK(aitag_sampler_open(fx("av.mkv"), &sp, &s, err, sizeof err) < 0);
    CHECK(strstr(err, "--max-streams") != NULL);
    sp.max_streams = 2;
    CHECK_EQ_INT(aitag_media_probe_params(fx("av.mkv"), &sp, &p), 0);
    CHECK_EQ_INT(p.n_streams, 2);
}

static void test_budgets(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_probe p;
    char err[256] = "";

    sp.time_limit = 1e-9; /* spent before the first read */
    CHECK_EQ_INT(aitag_media_probe_params(fx("frames.mkv"), &sp, &p), AITAG_ERR_MEDIA);
    CHECK(strstr(p.error, "time limit per item (--item-timeout)") != NULL);
    CHECK(aitag_sampler_open(fx("frames.mkv"), &sp, &s, err, sizeof err) < 0);
    CHECK(strstr(err, "--item-timeout") != NULL);
    sp.time_limit = 0;
    sp.cpu_limit = 1e-9;
    CHECK(aitag_sampler_open(fx("frames.mkv"), &sp, &s, err, sizeof err) < 0);
    CHECK(strstr(err, "CPU limit per item (--item-cpu)") != NULL);
    /* a budget that runs out while sampling stops the sampler at its next read */
    sp.cpu_limit = 0;
    sp.time_limit = 2.0;
    sp.strategy = AITAG_SAMPLER_SEQUENTIAL;
    sp.interval = 1.0;
    CHECK_EQ_INT(aitag_sampler_open(fx("frames.mkv"), &sp, &s, err, sizeof err), 0);
    if (s) {
        struct aitag_frame *f = NULL;
        struct timespec ts = {2, 100000000L};
        int n = 0;
        CHECK_EQ_INT(aitag_sampler_next(s, &f), 1);
        aitag_frame_free(f);
        nanosleep(&ts, NULL);
        CHECK_EQ_INT(sample_all(s, &n), AITAG_ERR_MEDIA);
        CHECK_EQ_INT(n, 0);
        CHECK(strstr(aitag_sampler_errmsg(s), "stopped after 2 s") != NULL);
        aitag_sampler_close(s);
    }
}

int main(void)
{
    char cmd[600];

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    /* 500 frames of 16x16 at 250 fps with one keyframe: sequential decoding of every one */
    CHECK_EQ_INT(
        ffmpeg_make("-f lavfi -i color=gray:s=16x16:r=250:d=2 -c:v libx264 -preset ultrafast "
                    "-pix_fmt yuv420p -g 100000",
                    "frames.mkv"),
        0);
    CHECK_EQ_INT(
        ffmpeg_make(
            "-f lavfi -i testsrc=s=32x32:r=10:d=3 -c:v libx264 -preset ultrafast "
            "-pix_fmt yuv420p -g 10 -bsf:v \"setts=ts='if(gte(N,15),TS+1000000000000,TS)'\"",
            "jump.mkv"),
        0);
    CHECK_EQ_INT(
        ffmpeg_make("-f lavfi -i testsrc=s=32x32:r=10:d=1 -f lavfi -i sine=d=1 -c:v libx264 "
                    "-preset ultrafast -pix_fmt yuv420p -c:a pcm_s16le",
                    "av.mkv"),
        0);
    test_defaults();
    test_frames();
    test_duration();
    test_streams();
    test_budgets();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return check_done();
}
