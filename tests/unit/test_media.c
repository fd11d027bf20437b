/*
 * test_media.c - probing and sampling on clips generated at test time with the ffmpeg CLI.
 *
 * Fixtures are made in a mkdtemp folder: testsrc2 clips (H.264 with GOP 30 and 250 plus an AAC
 * track, VP9, HEVC, MJPEG), a clip whose top-left quarter is red (rotation is checked against
 * ffmpeg's own autorotation), the darknet dog photo in six image formats, and damaged files.
 * Sample times and pixels must agree between the two strategies and between thread counts.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/media.h"
#include "check.h"
#include "media/media_int.h"

#define DOG "/usr/share/darknet/data/dog.jpg"

static char dir[] = "/tmp/aitag_test_media_XXXXXX";

#include "media_fixtures.h"

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

#define X264 "-c:v libx264 -preset superfast -pix_fmt yuv420p "

static int read_file(const char *path, uint8_t **data, size_t *n)
{
    FILE *f = fopen(path, "rb");
    long len;

    *data = NULL;
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(len > 0 ? (size_t)len : 1);
    *n = *data ? fread(*data, 1, (size_t)len, f) : 0;
    fclose(f);
    return *data && *n == (size_t)len ? 0 : -1;
}

static int write_file(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, n, f) == n;

    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static int make_fixtures(void)
{
    static const char *const image_formats[] = {"png", "webp", "bmp", "tiff", "gif"};
    uint8_t *d = NULL;
    size_t n = 0;
    int rc = 0;

    rc |= sh(FF "-f lavfi -i testsrc2=s=1280x720:r=25:d=10 -f lavfi -i sine=f=440:d=10 " X264
                "-g 30 -c:a aac -shortest %s",
             fx("g30.mp4"));
    rc |= sh(FF "-f lavfi -i testsrc2=s=1280x720:r=25:d=10 " X264 "-g 250 %s", fx("g250.mp4"));
    rc |= sh(FF "-i %s -c copy %s", fx("g30.mp4"), fx("g30.mkv"));
    rc |= sh(FF "-i %s -c copy -movflags +faststart %s", fx("g250.mp4"), fx("fast.mp4"));
    rc |= sh(FF "-f lavfi -i testsrc2=s=320x240:r=25:d=4 -c:v libvpx-vp9 -deadline realtime "
                "-cpu-used 8 -g 30 %s",
             fx("vp9.webm"));
    rc |= sh(FF "-f lavfi -i testsrc2=s=320x240:r=25:d=4 -c:v libx265 -preset ultrafast "
                "-x265-params log-level=error -g 30 %s",
             fx("hevc.mkv"));
    rc |= sh(FF "-f lavfi -i testsrc2=s=320x240:r=25:d=4 -c:v mjpeg -q:v 5 %s", fx("mjpeg.avi"));
    /* MPEG-TS (no keyframe index) whose keyframes thin out after the first 10 s. */
    rc |= sh(FF "-f lavfi -i testsrc2=s=320x240:r=25:d=25 " X264 "-g 1000 -sc_threshold 0 "
                "-force_key_frames 0,1.2,2.4,3.6,4.8,6,7.2,8.4,9.6,15,20 %s",
             fx("vgop.ts"));
    rc |= sh(FF "-f lavfi -i \"color=c=black:s=320x240:r=25:d=4,drawbox=x=0:y=0:w=160:h=120:"
                "color=red:t=fill\" " X264 "%s",
             fx("quad.mp4"));
    rc |= sh(FF "-i %s -c copy -metadata:s:v:0 rotate=90 %s", fx("quad.mp4"), fx("rot90.mp4"));
    rc |= sh(FF "-i %s -c copy -metadata:s:v:0 rotate=270 %s", fx("quad.mp4"), fx("rot270.mp4"));
    rc |= sh(FF "-f lavfi -i sine=f=440:d=3 -c:a aac %s", fx("audio.m4a"));
    rc |= sh(FF "-f lavfi -i testsrc2=s=160x120:r=10:d=2 %s", fx("anim.gif"));
    rc |= sh("cp %s %s", DOG, fx("dog.jpg"));
    for (size_t i = 0; i < sizeof image_formats / sizeof image_formats[0]; i++)
        rc |= sh(FF "-i %s %s/dog.%s", DOG, dir, image_formats[i]);
    rc |= write_file(fx("empty.mp4"), (const uint8_t *)"", 0);
    rc |= write_file(fx("x.mp4"), (const uint8_t *)"hello, not a video\n", 19);
    /* The first 60% of a normal mp4 (index at the end: unreadable) and of a faststart one. */
    rc |= read_file(fx("g250.mp4"), &d, &n) || write_file(fx("cut.mp4"), d, n * 6 / 10);
    free(d);
    rc |= read_file(fx("fast.mp4"), &d, &n) || write_file(fx("cut_fast.mp4"), d, n * 6 / 10);
    /* Same header, every payload byte scrambled: nothing decodable. Then a few bytes only. */
    if (d) {
        uint8_t *mdat = memmem(d, n, "mdat", 4);
        uint8_t *copy = malloc(n);
        uint32_t x = 12345;

        if (mdat && copy) {
            memcpy(copy, d, n);
            for (size_t i = (size_t)(mdat - d) + 4; i < n; i++) {
                x = x * 1103515245u + 12345u;
                d[i] = (uint8_t)(x >> 16);
            }
            rc |= write_file(fx("garbage.mp4"), d, n);
            for (size_t i = (size_t)(mdat - d) + 20000; i < n; i += 40000)
                memset(copy + i, 0x5a, 64);
            rc |= write_file(fx("damaged.mp4"), copy, n);
        } else {
            rc |= 1;
        }
        free(copy);
    }
    free(d);
    /* A PNG claiming 100000 x 100000, with its IHDR checksum fixed. */
    if (read_file(fx("dog.png"), &d, &n) == 0 && n > 33) {
        uint32_t crc;

        d[16] = 0, d[17] = 0x01, d[18] = 0x86, d[19] = 0xa0;
        d[20] = 0, d[21] = 0x01, d[22] = 0x86, d[23] = 0xa0;
        crc = crc32_png(d + 12, 17);
        d[29] = crc >> 24, d[30] = crc >> 16, d[31] = crc >> 8, d[32] = crc;
        rc |= write_file(fx("huge.png"), d, n);
    } else {
        rc |= 1;
    }
    free(d);
    return rc;
}

static void test_extensions(void)
{
    CHECK(aitag_media_has_known_extension("/a/b/clip.MP4"));
    CHECK(aitag_media_has_known_extension("x.jpeg"));
    CHECK(aitag_media_has_known_extension("dir.v1/photo.WebP"));
    CHECK(aitag_media_has_known_extension("a.ts"));
    CHECK(!aitag_media_has_known_extension("notes.txt"));
    CHECK(!aitag_media_has_known_extension("dir.mp4/README"));
    CHECK(!aitag_media_has_known_extension(".mp4"));
    CHECK(!aitag_media_has_known_extension("noext"));
    CHECK(!aitag_media_has_known_extension(NULL));
}

static void test_probe_videos(void)
{
    struct aitag_probe p;

    CHECK_EQ_INT(aitag_media_probe(fx("g30.mp4"), &p), 0);
    CHECK_EQ_INT(p.kind, AITAG_MEDIA_VIDEO);
    CHECK(strstr(p.container, "mp4") != NULL);
    CHECK_STR(p.video_codec, "h264");
    CHECK_STR(p.audio_codec, "aac");
    CHECK_NEAR(p.duration, 10.0, 0.1);
    CHECK_EQ_INT(p.width, 1280);
    CHECK_EQ_INT(p.height, 720);
    CHECK_EQ_INT(p.rotation, 0);
    CHECK_NEAR(p.fps, 25.0, 0.01);
    CHECK(p.bit_rate > 0);
    CHECK_EQ_INT(p.n_streams, 2);
    CHECK_NEAR(p.gop_seconds, 1.2, 0.05);
    CHECK_STR(p.error, "");

    CHECK_EQ_INT(aitag_media_probe(fx("g250.mp4"), &p), 0);
    CHECK(p.gop_seconds >= 9.5);
    CHECK_STR(p.audio_codec, "");

    CHECK_EQ_INT(aitag_media_probe(fx("g30.mkv"), &p), 0);
    CHECK_STR(p.container, "matroska,webm");
    CHECK_NEAR(p.duration, 10.0, 0.1);
    CHECK_NEAR(p.gop_seconds, 1.2, 0.05);

    CHECK_EQ_INT(aitag_media_probe(fx("vp9.webm"), &p), 0);
    CHECK_STR(p.video_codec, "vp9");
    CHECK_NEAR(p.duration, 4.0, 0.1);
    CHECK_EQ_INT(p.width, 320);

    CHECK_EQ_INT(aitag_media_probe(fx("hevc.mkv"), &p), 0);
    CHECK_STR(p.video_codec, "hevc");
    CHECK_EQ_INT(p.height, 240);

    CHECK_EQ_INT(aitag_media_probe(fx("mjpeg.avi"), &p), 0);
    CHECK_STR(p.container, "avi");
    CHECK_STR(p.video_codec, "mjpeg");
    CHECK_NEAR(p.gop_seconds, 0.04, 0.001);

    CHECK_EQ_INT(aitag_media_probe(fx("anim.gif"), &p), 0);
    CHECK_EQ_INT(p.kind, AITAG_MEDIA_VIDEO);
    CHECK_NEAR(p.duration, 2.0, 0.15);
}

/* Samples path; fills times and a pixel hash per frame; returns the count or < 0. */
static int sample(const char *path, struct aitag_sampler_params sp, double *times, uint64_t *hashes,
                  int max, char *strategy, int *truncated)
{
    struct aitag_view_spec lb = {256, 256, AITAG_FIT_LETTERBOX, 0};
    struct aitag_sampler *s;
    struct aitag_frame *f;
    char err[256] = "";
    int n = 0, rc;

    if (!sp.n_views) {
        sp.views = &lb;
        sp.n_views = 1;
    }
    rc = aitag_sampler_open(path, &sp, &s, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "open %s: %s\n", path, err);
        return rc;
    }
    while ((rc = aitag_sampler_next(s, &f)) > 0) {
        if (n < max) {
            times[n] = f->t;
            hashes[n] = fnv(f->views[0].rgb, (size_t)f->views[0].stride * f->views[0].height);
        }
        n++;
        aitag_frame_free(f);
    }
    if (strategy)
        snprintf(strategy, 16, "%s", aitag_sampler_strategy(s));
    if (truncated)
        *truncated = aitag_sampler_truncated(s);
    if (rc < 0)
        CHECK(aitag_sampler_errmsg(s)[0] != '\0');
    aitag_sampler_close(s);
    return rc < 0 ? rc : n;
}

static void test_strategies(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    double ta[16], tb[16];
    uint64_t ha[16], hb[16];
    char st[16];
    const char *clips[] = {"g30.mp4", "g250.mp4", "g30.mkv"};

    for (size_t c = 0; c < 3; c++) {
        sp.strategy = AITAG_SAMPLER_SEQUENTIAL;
        CHECK_EQ_INT(sample(fx(clips[c]), sp, ta, ha, 16, st, NULL), 5);
        CHECK_STR(st, "sequential");
        sp.strategy = AITAG_SAMPLER_SEEK;
        CHECK_EQ_INT(sample(fx(clips[c]), sp, tb, hb, 16, st, NULL), 5);
        CHECK_STR(st, "seek");
        for (int i = 0; i < 5; i++) {
            CHECK_NEAR(ta[i], 2.0 * i, 0.04);
            CHECK_NEAR(tb[i], ta[i], 1e-9);
            CHECK(ha[i] == hb[i]);
        }
        /* Two decoding threads: same frames. */
        sp.strategy = AITAG_SAMPLER_AUTO;
        sp.threads = 2;
        CHECK_EQ_INT(sample(fx(clips[c]), sp, tb, hb, 16, st, NULL), 5);
        CHECK_STR(st, c == 1 ? "sequential" : "seek"); /* GOP 10 s vs 1.2 s at interval 2 */
        for (int i = 0; i < 5; i++)
            CHECK(ha[i] == hb[i] && ta[i] == tb[i]);
        sp.threads = 1;
    }
    /* Seeking without an index, where keyframes are sparser than the probe saw: seeks that
     * skip wanted frames are redone, so both strategies still agree. */
    sp.interval = 3.0;
    sp.strategy = AITAG_SAMPLER_SEQUENTIAL;
    CHECK_EQ_INT(sample(fx("vgop.ts"), sp, ta, ha, 16, NULL, NULL), 9);
    sp.strategy = AITAG_SAMPLER_SEEK;
    CHECK_EQ_INT(sample(fx("vgop.ts"), sp, tb, hb, 16, NULL, NULL), 9);
    for (int i = 0; i < 9; i++)
        CHECK(ta[i] == tb[i] && ha[i] == hb[i] && fabs(ta[i] - 3.0 * i) < 0.04);
    sp.strategy = AITAG_SAMPLER_AUTO;
    sp.interval = 2.0;
    /* A late start and a short interval; an interval shorter than a frame yields each once. */
    sp.start = 3.0;
    CHECK_EQ_INT(sample(fx("g30.mp4"), sp, ta, ha, 16, NULL, NULL), 4);
    CHECK_NEAR(ta[0], 3.0, 0.04);
    CHECK_NEAR(ta[3], 9.0, 0.04);
    sp.start = 0;
    sp.interval = 0.7;
    CHECK_EQ_INT(sample(fx("vp9.webm"), sp, ta, ha, 16, NULL, NULL), 6);
    CHECK_NEAR(ta[5], 3.5, 0.04);
    CHECK_EQ_INT(sample(fx("hevc.mkv"), sp, ta, ha, 16, NULL, NULL), 6);
    CHECK_EQ_INT(sample(fx("mjpeg.avi"), sp, ta, ha, 16, NULL, NULL), 6);
    CHECK_EQ_INT(sample(fx("anim.gif"), sp, ta, ha, 16, NULL, NULL), 3);
    sp.interval = 0.01;
    CHECK_EQ_INT(sample(fx("vp9.webm"), sp, ta, ha, 16, NULL, NULL), 100);
}

static int all_black(const struct aitag_view *v, int x0, int y0, int w, int h)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0 * 3; x < (x0 + w) * 3; x++)
            if (v->rgb[(size_t)y * v->stride + x] != 0)
                return 0;
    return 1;
}

static void test_views(void)
{
    struct aitag_view_spec specs[] = {{256, 256, AITAG_FIT_LETTERBOX, 0},
                                      {960, 960, AITAG_FIT_MAX_SIDE, 32},
                                      {256, 256, AITAG_FIT_LETTERBOX, 7},
                                      {4000, 0, AITAG_FIT_MAX_SIDE, 1}};
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    const struct aitag_view *lb, *ms, *full;
    char err[256];

    sp.views = specs;
    sp.n_views = 4;
    sp.interval = 5.0;
    CHECK_EQ_INT(aitag_sampler_open(fx("g30.mp4"), &sp, &s, err, sizeof err), 0);
    CHECK_EQ_INT(aitag_sampler_next(s, &f), 1);
    if (!f)
        goto out;
    CHECK_EQ_INT(f->n_views, 3); /* the letterbox duplicate is dropped */
    CHECK_EQ_INT(f->src_w, 1280);
    CHECK_EQ_INT(f->src_h, 720);
    lb = aitag_frame_view(f, &specs[0]);
    ms = aitag_frame_view(f, &specs[1]);
    full = aitag_frame_view(f, &specs[3]);
    CHECK(lb && ms && full && aitag_frame_view(f, &specs[2]) == lb);
    if (!lb || !ms || !full)
        goto out;
    CHECK_EQ_INT(lb->width, 256);
    CHECK_EQ_INT(lb->height, 256);
    CHECK_EQ_INT(lb->content_w, 256);
    CHECK_EQ_INT(lb->content_h, 144);
    CHECK_EQ_INT(lb->pad_x, 0);
    CHECK_EQ_INT(lb->pad_y, 56);
    CHECK_EQ_INT(lb->stride, 256 * 3);
    CHECK_NEAR(lb->scale_x, 0.2, 1e-6);
    CHECK_NEAR(lb->scale_y, 0.2, 1e-6);
    CHECK(all_black(lb, 0, 0, 256, 56));
    CHECK(all_black(lb, 0, 200, 256, 56));
    CHECK(!all_black(lb, 0, 56, 256, 144));
    /* MAX_SIDE 960, multiple 32: 1280x720 -> 960x540 -> 960x544. */
    CHECK_EQ_INT(ms->width, 960);
    CHECK_EQ_INT(ms->height, 544);
    CHECK_EQ_INT(ms->content_w, 960);
    CHECK_EQ_INT(ms->pad_x + ms->pad_y, 0);
    CHECK_NEAR(ms->scale_x, 0.75, 1e-6);
    CHECK_NEAR(ms->scale_y, 544.0 / 720.0, 1e-6);
    /* Never upscaled. */
    CHECK_EQ_INT(full->width, 1280);
    CHECK_EQ_INT(full->height, 720);
    CHECK_NEAR(full->scale_x, 1.0, 1e-6);
    /* testsrc2 is colourful: some pixel is far from grey. */
    {
        int colourful = 0;

        for (int i = 0; i < full->stride * full->height; i += 3) {
            const uint8_t *p = full->rgb + i;

            colourful |= abs(p[0] - p[1]) > 100 || abs(p[1] - p[2]) > 100;
        }
        CHECK(colourful);
    }
out:
    aitag_frame_free(f);
    aitag_sampler_close(s);
}

/* Our upright frame must match what ffmpeg's autorotation shows. */
static void test_rotation(void)
{
    const char *clips[] = {"rot90.mp4", "rot270.mp4"};
    int seen[2] = {0, 0};

    for (int c = 0; c < 2; c++) {
        struct aitag_view_spec full = {1000, 0, AITAG_FIT_MAX_SIDE, 0};
        struct aitag_sampler_params sp = aitag_sampler_default_params();
        struct aitag_sampler *s = NULL;
        struct aitag_frame *f = NULL;
        struct aitag_probe p;
        uint8_t *ref = NULL;
        size_t n = 0;
        char err[256];
        long diff = 0;

        CHECK_EQ_INT(aitag_media_probe(fx(clips[c]), &p), 0);
        CHECK(p.rotation == 90 || p.rotation == 270);
        seen[c] = p.rotation;
        CHECK_EQ_INT(p.width, 240);
        CHECK_EQ_INT(p.height, 320);
        sp.views = &full;
        sp.n_views = 1;
        CHECK_EQ_INT(aitag_sampler_open(fx(clips[c]), &sp, &s, err, sizeof err), 0);
        CHECK_EQ_INT(aitag_sampler_next(s, &f), 1);
        CHECK_EQ_INT(
            sh(FF "-i %s -frames:v 1 -f rawvideo -pix_fmt rgb24 %s", fx(clips[c]), fx("ref.rgb")),
            0);
        CHECK_EQ_INT(read_file(fx("ref.rgb"), &ref, &n), 0);
        if (f && ref && n == 240 * 320 * 3 && f->views[0].width == 240 &&
            f->views[0].height == 320) {
            for (size_t i = 0; i < n; i++)
                diff += abs((int)ref[i] - (int)f->views[0].rgb[i]);
            CHECK(diff / (long)n < 3);
            CHECK(f->src_w == 240 && f->src_h == 320);
        } else {
            CHECK(!"rotated frame has the wrong size");
        }
        free(ref);
        aitag_frame_free(f);
        aitag_sampler_close(s);
    }
    CHECK(seen[0] != seen[1]);
}

static void test_images(void)
{
    const char *names[] = {"dog.jpg", "dog.png", "dog.webp", "dog.bmp", "dog.tiff", "dog.gif"};
    struct aitag_view_spec v = {128, 128, AITAG_FIT_LETTERBOX, 0};
    uint8_t first[128 * 128 * 3];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct aitag_sampler_params sp = aitag_sampler_default_params();
        struct aitag_sampler *s = NULL;
        struct aitag_frame *f = NULL;
        struct aitag_probe p;
        char err[256];

        CHECK_EQ_INT(aitag_media_probe(fx(names[i]), &p), 0);
        CHECK_EQ_INT(p.kind, AITAG_MEDIA_IMAGE);
        CHECK_EQ_INT(p.width, 768);
        CHECK_EQ_INT(p.height, 576);
        CHECK(p.duration == 0 && p.fps == 0);
        sp.views = &v;
        sp.n_views = 1;
        CHECK_EQ_INT(aitag_sampler_open(fx(names[i]), &sp, &s, err, sizeof err), 0);
        CHECK_EQ_INT(aitag_sampler_next(s, &f), 1);
        if (f) {
            long diff = 0;

            CHECK(f->t == 0);
            CHECK_EQ_INT(f->views[0].content_h, 96);
            CHECK(!all_black(&f->views[0], 0, 16, 128, 96));
            if (i == 0)
                memcpy(first, f->views[0].rgb, sizeof first);
            for (size_t k = 0; k < sizeof first; k++)
                diff += abs((int)first[k] - (int)f->views[0].rgb[k]);
            CHECK(diff / (long)sizeof first < (i == 5 ? 12 : 4)); /* GIF: 256 colours */
        }
        aitag_frame_free(f);
        f = NULL;
        CHECK_EQ_INT(aitag_sampler_next(s, &f), 0);
        CHECK(f == NULL);
        aitag_sampler_close(s);
    }
}

/* Writes dog.jpg with its EXIF Orientation (1 in the original) set to o. */
static int write_oriented_dog(int o, const char *name)
{
    static const uint8_t entry[] = {0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
    uint8_t *d = NULL, *e;
    size_t n = 0;
    int rc = -1;

    if (read_file(fx("dog.jpg"), &d, &n) == 0 && (e = memmem(d, n, entry, sizeof entry))) {
        e[9] = (uint8_t)o;
        rc = write_file(fx(name), d, n);
    }
    free(d);
    return rc;
}

static struct aitag_frame *first_frame(const char *path, const struct aitag_view_spec *v)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    char err[256];

    sp.views = v;
    sp.n_views = 1;
    if (aitag_sampler_open(path, &sp, &s, err, sizeof err) == 0)
        aitag_sampler_next(s, &f);
    aitag_sampler_close(s);
    return f;
}

/* Upright pixel (x, y) of a W x H picture turned clockwise by rot, in picture coordinates. */
static const uint8_t *turned(const struct aitag_view *p, int rot, int x, int y)
{
    int px = rot == 90 ? y : rot == 270 ? p->width - 1 - y : p->width - 1 - x;
    int py = rot == 90 ? p->height - 1 - x : rot == 270 ? x : p->height - 1 - y;

    return p->rgb + (size_t)py * p->stride + (size_t)px * 3;
}

static void test_exif_orientation(void)
{
    static const int orientation[] = {6, 8, 3}, rotation[] = {90, 270, 180};
    struct aitag_view_spec full = {1000, 0, AITAG_FIT_MAX_SIDE, 0};
    struct aitag_frame *plain = first_frame(fx("dog.jpg"), &full);
    /* Little-endian EXIF, orientation 8, then every truncation of it. */
    static const uint8_t ii[] = {0xff, 0xd8, 0xff, 0xe1, 0x00, 0x22, 'E',  'x',  'i',  'f',
                                 0,    0,    'I',  'I',  0x2a, 0x00, 0x08, 0x00, 0x00, 0x00,
                                 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
                                 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xd9};
    uint8_t *d = NULL;
    size_t n = 0;
    int bad = 0;

    CHECK_EQ_INT(media_jpeg_rotation(ii, sizeof ii), 270);
    for (size_t k = 0; k < sizeof ii; k++) /* the APP1 segment ends at byte 38 */
        bad += media_jpeg_rotation(ii, k) != (k < 38 ? 0 : 270);
    CHECK_EQ_INT(bad, 0);
    CHECK(plain && plain->views[0].width == 768);
    for (int i = 0; i < 3 && plain; i++) {
        char name[32];
        struct aitag_probe p;
        struct aitag_frame *f;
        long wrong = 0;

        snprintf(name, sizeof name, "dog_o%d.jpg", orientation[i]);
        CHECK_EQ_INT(write_oriented_dog(orientation[i], name), 0);
        CHECK_EQ_INT(aitag_media_probe(fx(name), &p), 0);
        CHECK_EQ_INT(p.rotation, rotation[i]);
        CHECK_EQ_INT(p.width, rotation[i] == 180 ? 768 : 576);
        f = first_frame(fx(name), &full);
        CHECK(f && f->src_w == p.width && f->src_h == p.height);
        if (!f || f->views[0].width != p.width || f->views[0].height != p.height) {
            aitag_frame_free(f);
            continue;
        }
        for (int y = 0; y < p.height; y++)
            for (int x = 0; x < p.width; x++)
                wrong += memcmp(f->views[0].rgb + (size_t)y * f->views[0].stride + x * 3,
                                turned(&plain->views[0], rotation[i], x, y), 3) != 0;
        CHECK_EQ_INT(wrong, 0);
        aitag_frame_free(f);
    }
    /* Every truncation of a real photo's header: no crash, no false reading. */
    bad = 0;
    if (read_file(fx("dog_o6.jpg"), &d, &n) == 0) {
        for (size_t k = 0; k < 4096 && k < n; k++) {
            int r = media_jpeg_rotation(d, k);

            bad += r != 0 && r != 90;
        }
        CHECK_EQ_INT(media_jpeg_rotation(d, n), 90);
    }
    CHECK_EQ_INT(bad, 0);
    free(d);
    aitag_frame_free(plain);
}

static void expect_error(const char *path, int code, const char *words)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = (struct aitag_sampler *)&sp;
    struct aitag_probe p;
    char err[256] = "";

    CHECK_EQ_INT(aitag_media_probe(path, &p), code);
    if (!strstr(p.error, words))
        fprintf(stderr, "%s: expected \"%s\" in \"%s\"\n", path, words, p.error);
    CHECK(strstr(p.error, words) != NULL);
    CHECK_EQ_INT(p.kind, AITAG_MEDIA_UNKNOWN);
    CHECK_EQ_INT(aitag_sampler_open(path, &sp, &s, err, sizeof err), code);
    CHECK(s == NULL);
    CHECK(strstr(err, words) != NULL);
}

static void test_errors(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_view_spec many[AITAG_MAX_VIEWS + 1];
    struct aitag_sampler *s = NULL;
    char err[256];

    expect_error(fx("missing.mp4"), AITAG_ERR_IO, "no such file");
    expect_error(dir, AITAG_ERR_IO, "is a directory");
    expect_error(fx("empty.mp4"), AITAG_ERR_MEDIA, "empty file");
    expect_error(fx("x.mp4"), AITAG_ERR_MEDIA, "not a media file");
    expect_error(fx("cut.mp4"), AITAG_ERR_MEDIA, "not a media file");
    expect_error(fx("audio.m4a"), AITAG_ERR_MEDIA, "no video stream (audio only)");
    expect_error(fx("huge.png"), AITAG_ERR_MEDIA, "100000x100000");
    if (geteuid() != 0) {
        CHECK_EQ_INT(chmod(fx("dog.png"), 0), 0);
        expect_error(fx("dog.png"), AITAG_ERR_IO, "permission denied");
        chmod(fx("dog.png"), 0644);
    } else {
        printf("note: running as root, permission test skipped\n");
    }
    sp.interval = 0;
    CHECK_EQ_INT(aitag_sampler_open(fx("g30.mp4"), &sp, &s, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "interval") != NULL);
    sp = aitag_sampler_default_params();
    for (int i = 0; i <= AITAG_MAX_VIEWS; i++)
        many[i] = (struct aitag_view_spec){64 + i, 64, AITAG_FIT_LETTERBOX, 0};
    sp.views = many;
    sp.n_views = AITAG_MAX_VIEWS + 1;
    CHECK_EQ_INT(aitag_sampler_open(fx("g30.mp4"), &sp, &s, err, sizeof err), AITAG_ERR_INVALID);
    many[0].width = 0;
    sp.n_views = 1;
    CHECK_EQ_INT(aitag_sampler_open(fx("g30.mp4"), &sp, &s, err, sizeof err), AITAG_ERR_INVALID);
    sp = aitag_sampler_default_params();
    sp.max_side = 1000;
    CHECK_EQ_INT(aitag_sampler_open(fx("g30.mp4"), &sp, &s, err, sizeof err), AITAG_ERR_MEDIA);
    CHECK(strstr(err, "1280x720") != NULL);
    CHECK(s == NULL);
    aitag_sampler_close(NULL);
    aitag_frame_free(NULL);
    CHECK(aitag_frame_view(NULL, &many[1]) == NULL);
}

static void test_damaged(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    double t[16];
    uint64_t h[16];
    int truncated = -1;

    /* Cut at 60%: the frames before the cut, then a clean end flagged as truncated. */
    for (int strategy = 1; strategy <= 2; strategy++) {
        sp.strategy = strategy;
        CHECK_EQ_INT(sample(fx("cut_fast.mp4"), sp, t, h, 16, NULL, &truncated), 3);
        CHECK_EQ_INT(truncated, 1);
        CHECK_NEAR(t[2], 4.0, 0.04);
    }
    sp.strategy = AITAG_SAMPLER_AUTO;
    CHECK_EQ_INT(sample(fx("fast.mp4"), sp, t, h, 16, NULL, &truncated), 5);
    CHECK_EQ_INT(truncated, 0);
    /* A few damaged spots: decoding goes on. */
    CHECK_EQ_INT(sample(fx("damaged.mp4"), sp, t, h, 16, NULL, &truncated), 5);
    CHECK_NEAR(t[4], 8.0, 0.04);
    /* Nothing decodable: an error with a message, not an empty success. */
    CHECK_EQ_INT(sample(fx("garbage.mp4"), sp, t, h, 16, NULL, NULL), AITAG_ERR_MEDIA);
}

static void time_sampling(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    double t[16];
    uint64_t h[16];

    for (int strategy = 1; strategy <= 2; strategy++) {
        double t0 = aitag_now();

        sp.strategy = strategy;
        sample(fx("g30.mp4"), sp, t, h, 16, NULL, NULL);
        printf("720p h264 gop 30, 10 s, every 2 s, %s: %.0f ms (%.0fx realtime)\n",
               strategy == 1 ? "sequential" : "seek", (aitag_now() - t0) * 1e3,
               10.0 / (aitag_now() - t0));
    }
}

int main(void)
{
    if (system("ffmpeg -version > /dev/null 2>&1") != 0 || access(DOG, R_OK) != 0) {
        fprintf(stderr, "ffmpeg CLI or %s missing\n", DOG);
        CHECK(0);
        return check_done();
    }
    if (!mkdtemp(dir)) {
        CHECK(0);
        return check_done();
    }
    CHECK_EQ_INT(make_fixtures(), 0);
    test_extensions();
    test_probe_videos();
    test_strategies();
    test_views();
    test_rotation();
    test_images();
    test_exif_orientation();
    test_errors();
    test_damaged();
    time_sampling();
    sh("rm -rf '%s'", dir);
    return check_done();
}
