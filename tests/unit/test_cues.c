/* test_cues.c - the cues analyzer through its ops table on pictures made by construction (one
 * test per cue, and pictures that must give none), and aitag_audio_silences on files FFmpeg
 * makes with a tone, a gap and no audio at all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/analyzer.h"
#include "check.h"

#define W 160
#define H 90

static const struct aitag_view_spec spec = {320, 320, AITAG_FIT_MAX_SIDE, 0};

/* A frame of one W x H view, filled by fill(x, y, rgb, arg). */
static struct aitag_frame *frame(double t, size_t index,
                                 void (*fill)(int x, int y, uint8_t *p, int arg), int arg)
{
    /* one block, as the sampler makes them: aitag_frame_free frees the pixels with it */
    struct aitag_frame *f = calloc(1, sizeof *f + (size_t)W * H * 3);
    struct aitag_view *v = &f->views[0];

    f->t = t, f->index = index, f->src_w = W, f->src_h = H, f->n_views = 1;
    v->spec = spec;
    v->width = v->content_w = W, v->height = v->content_h = H;
    v->scale_x = v->scale_y = 1;
    v->stride = W * 3;
    v->rgb = (uint8_t *)(f + 1);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            fill(x, y, v->rgb + (size_t)y * v->stride + x * 3, arg);
    return f;
}

static void grey(int x, int y, uint8_t *p, int level)
{
    (void)x, (void)y;
    p[0] = p[1] = p[2] = (uint8_t)level;
}

/* Detail that differs with arg: a picture that changes between samples. */
static void texture(int x, int y, uint8_t *p, int arg)
{
    uint32_t h =
        (uint32_t)(x * 73856093u) ^ (uint32_t)(y * 19349663u) ^ (uint32_t)(arg * 83492791u);
    h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
    p[0] = (uint8_t)(60 + h % 140), p[1] = (uint8_t)(60 + (h >> 8) % 140);
    p[2] = (uint8_t)(60 + (h >> 16) % 140);
}

/* SMPTE-like bars over the upper two thirds, a dark strip below. */
static void bars(int x, int y, uint8_t *p, int arg)
{
    static const uint8_t c[7][3] = {{192, 192, 192}, {192, 192, 0}, {0, 192, 192}, {0, 192, 0},
                                    {192, 0, 192},   {192, 0, 0},   {0, 0, 192}};
    (void)arg;
    if (y < H * 2 / 3)
        memcpy(p, c[x * 7 / W], 3);
    else
        p[0] = p[1] = p[2] = 20;
}

/* arg lines of "text" (rows of short bright strokes) of 4 px (arg > 0) or two 16 px lines
 * (arg < 0, a title card), on a dark ground. */
static void lines(int x, int y, uint8_t *p, int arg)
{
    int n = arg > 0 ? arg : 2, tall = arg > 0 ? 4 : 16, pitch = arg > 0 ? 9 : 24;
    int band = y / pitch, in_band = y % pitch < tall && band >= 1 && band <= n;
    int lit = in_band && x > 20 && x < W - 20 && (x % 7) < 3;

    p[0] = p[1] = p[2] = (uint8_t)(lit ? 230 : 12);
}

struct run {
    const struct aitag_analyzer_ops *ops;
    void *st;
    struct aitag_evidence_list ev;
};

static void feed(struct run *r, struct aitag_frame *f)
{
    char err[256] = "";
    struct aitag_frame *fs[] = {f};

    CHECK(r->ops->run(r->st, fs, 1, NULL, &r->ev, err, sizeof err) == 0);
    aitag_frame_free(f);
}

/* Times of the evidence with label, ascending as written; returns how many. */
static size_t times(const struct run *r, const char *label, double *t, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < r->ev.n; i++)
        if (strcmp(r->ev.items[i].label, label) == 0 && n < max)
            t[n++] = r->ev.items[i].t;
    return n;
}

static void start(struct run *r)
{
    char err[256];

    r->ops = aitag_analyzer_find("cues");
    CHECK(r->ops != NULL);
    CHECK(r->ops->create(r->ops, NULL, &r->st, err, sizeof err) == 0);
    memset(&r->ev, 0, sizeof r->ev);
}

static void stop(struct run *r)
{
    aitag_evidence_list_clear(&r->ev);
    r->ops->destroy(r->st);
}

static void test_black_and_fade(void)
{
    struct run r;
    double t[16];

    start(&r);
    feed(&r, frame(0, 0, texture, 1));
    feed(&r, frame(1, 1, grey, 150));
    feed(&r, frame(2, 2, grey, 100)); /* getting darker: the fade */
    feed(&r, frame(3, 3, grey, 50));
    feed(&r, frame(4, 4, grey, 0)); /* black */
    feed(&r, frame(5, 5, grey, 8)); /* still black (a limited-range black after conversion) */
    feed(&r, frame(6, 6, texture, 2));
    CHECK_EQ_INT(times(&r, "cue:black", t, 16), 2);
    CHECK_NEAR(t[0], 4, 1e-9);
    CHECK_NEAR(t[1], 5, 1e-9);
    CHECK_EQ_INT(times(&r, "cue:fade_to_black", t, 16), 2);
    CHECK_NEAR(t[0], 2, 1e-9); /* the first sample darker than the one before */
    CHECK_NEAR(t[1], 3, 1e-9);
    CHECK_EQ_INT(times(&r, "cue:static", t, 16), 0); /* black is black, not a still picture */
    stop(&r);

    /* A cut to black (no darkening before it) is black without a fade; a dim picture (mean
     * luma 25) is not black. */
    start(&r);
    feed(&r, frame(0, 0, texture, 1));
    feed(&r, frame(2, 1, texture, 2));
    feed(&r, frame(4, 2, grey, 0));
    feed(&r, frame(6, 3, grey, 25));
    CHECK_EQ_INT(times(&r, "cue:black", t, 16), 1);
    CHECK_EQ_INT(times(&r, "cue:fade_to_black", t, 16), 0);
    stop(&r);
}

static void test_bars(void)
{
    struct run r;
    double t[16];

    start(&r);
    feed(&r, frame(0, 0, bars, 0));
    feed(&r, frame(2, 1, bars, 0));
    feed(&r, frame(4, 2, texture, 1));
    CHECK_EQ_INT(times(&r, "cue:color_bars", t, 16), 2);
    CHECK_NEAR(t[1], 2, 1e-9);
    CHECK(r.ev.n > 0 && r.ev.items[0].confidence >= 0.9f);
    CHECK_EQ_INT(times(&r, "cue:static", t, 16), 0); /* unchanged bars are bars only */
    stop(&r);
}

static void test_static(void)
{
    struct run r;
    double t[16];

    start(&r);
    feed(&r, frame(0, 0, texture, 1));
    feed(&r, frame(2, 1, texture, 2));
    feed(&r, frame(4, 2, texture, 2)); /* unchanged since 2 s */
    feed(&r, frame(6, 3, texture, 2));
    feed(&r, frame(8, 4, texture, 3));
    CHECK_EQ_INT(times(&r, "cue:static", t, 16), 3);
    CHECK_NEAR(t[0], 2, 1e-9); /* the sample that began it */
    CHECK_NEAR(t[1], 4, 1e-9);
    CHECK_NEAR(t[2], 6, 1e-9);
    /* A new item starts over: its first frame is never compared with the last item's. */
    feed(&r, frame(0, 0, texture, 3));
    CHECK_EQ_INT(times(&r, "cue:static", t, 16), 3);
    stop(&r);
}

static void test_credits(void)
{
    struct run r;
    double t[16];

    start(&r);
    feed(&r, frame(0, 0, lines, 6)); /* six lines of small text on black: credits */
    feed(&r, frame(2, 1, lines, 5));
    feed(&r, frame(4, 2, lines, -1)); /* a title card of two big lines: not credits */
    feed(&r, frame(6, 3, lines, 2));  /* two small lines: not enough */
    CHECK_EQ_INT(times(&r, "cue:credits", t, 16), 2);
    CHECK_NEAR(t[1], 2, 1e-9);
    CHECK_EQ_INT(times(&r, "cue:black", t, 16), 0);
    stop(&r);
}

static void test_none(void)
{
    struct run r;

    start(&r);
    for (int i = 0; i < 8; i++)
        feed(&r, frame(2.0 * i, (size_t)i, texture, i + 10));
    CHECK_EQ_INT(r.ev.n, 0);
    stop(&r);
}

static void test_options(void)
{
    struct run r;
    char err[256] = "", key[256];

    start(&r);
    snprintf(key, sizeof key, "%s", r.ops->key(r.st));
    CHECK(r.ops->configure(r.st, "silence_db", "-40", err, sizeof err) == 0);
    CHECK(strcmp(key, r.ops->key(r.st)) != 0); /* a setting that changes results is in the key */
    CHECK(r.ops->configure(r.st, "silence_min", "0", err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "cues.silence_min") != NULL);
    CHECK(r.ops->configure(r.st, "loud", "1", err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "loud") != NULL);
    stop(&r);
}

/* A 10 s video whose tone stops from 2 to 5 s and from 7 to 8 s. */
static int make_clip(const char *path, int with_audio)
{
    char cmd[1024];

    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -loglevel error -y -f lavfi -i color=c=gray:s=64x36:r=10:d=10 %s"
             " -c:v mpeg4 %s -shortest %s",
             with_audio ? "-f lavfi -i 'aevalsrc=if(between(t\\,2\\,5)+between(t\\,7\\,8)\\,0\\,"
                          "0.2*sin(2*PI*300*t)):s=16000:d=10'"
                        : "",
             with_audio ? "-c:a pcm_s16le" : "", path);
    return system(cmd);
}

static void test_silence(void)
{
    char dir[] = "/tmp/aitag-cues-XXXXXX", path[128], err[256] = "";
    struct aitag_silence_params p = aitag_silence_default_params();
    struct aitag_audio_span *s = NULL;
    size_t n = 0;
    int has_audio = -1;

    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    snprintf(path, sizeof path, "%s/gap.mkv", dir);
    CHECK(make_clip(path, 1) == 0);
    CHECK(aitag_audio_silences(path, &p, &s, &n, &has_audio, err, sizeof err) == 0);
    CHECK_EQ_INT(has_audio, 1);
    CHECK_EQ_INT(n, 1); /* the 1 s gap is under the 2 s minimum */
    if (n == 1) {
        CHECK_NEAR(s[0].start, 2, 0.06);
        CHECK_NEAR(s[0].end, 5, 0.06);
        CHECK(s[0].level_db < -90);
    }
    free(s);
    p.min_seconds = 0.5;
    CHECK(aitag_audio_silences(path, &p, &s, &n, &has_audio, err, sizeof err) == 0);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_NEAR(s[1].start, 7, 0.06);
        CHECK_NEAR(s[1].end, 8, 0.06);
    }
    free(s);

    /* Through the analyzer: evidence one interval apart over [2, 5), the last at 5 - 2. */
    {
        struct run r;
        struct aitag_probe probe = {0};
        double t[16];
        CHECK(aitag_media_probe(path, &probe) == 0);
        CHECK_STR(probe.audio_codec, "pcm_s16le");
        start(&r);
        CHECK(r.ops->item(r.st, path, &probe, 2.0, NULL, &r.ev, err, sizeof err) == 0);
        CHECK_EQ_INT(times(&r, "cue:silence", t, 16), 2);
        CHECK_NEAR(t[0], 2, 0.06);
        CHECK_NEAR(t[1], 3, 0.06);
        CHECK(r.ev.n > 0 && r.ev.items[0].confidence == 1.0f);
        /* audio off: no pass at all */
        aitag_evidence_list_clear(&r.ev);
        CHECK(r.ops->configure(r.st, "audio", "0", err, sizeof err) == 0);
        CHECK(r.ops->item(r.st, path, &probe, 2.0, NULL, &r.ev, err, sizeof err) == 0);
        CHECK_EQ_INT(r.ev.n, 0);
        stop(&r);
    }
    /* The item's limits hold for its sound: a budget its frames spent fails the read, naming
     * the option that raises it; so does a track longer than the duration limit. */
    {
        struct run r;
        struct aitag_probe probe = {0};
        struct aitag_audio_limits spent = {.time_limit = 10, .time_spent = 10.5};
        struct aitag_audio_limits cpu = {.cpu_limit = 5, .cpu_spent = 6};
        struct aitag_audio_limits room = {.time_limit = 10, .time_spent = 1, .cpu_limit = 60};
        struct aitag_audio_limits shorter = {.max_duration = 2};
        double t0s[16];
        CHECK(aitag_media_probe(path, &probe) == 0);
        start(&r);
        CHECK(r.ops->item(r.st, path, &probe, 2.0, &spent, &r.ev, err, sizeof err) ==
              AITAG_ERR_MEDIA);
        CHECK(strstr(err, path) && strstr(err, "stopped after 10 s") &&
              strstr(err, "--item-timeout"));
        CHECK_EQ_INT(r.ev.n, 0);
        CHECK(r.ops->item(r.st, path, &probe, 2.0, &cpu, &r.ev, err, sizeof err) ==
              AITAG_ERR_MEDIA);
        CHECK(strstr(err, "--item-cpu") != NULL);
        CHECK(r.ops->item(r.st, path, &probe, 2.0, &shorter, &r.ev, err, sizeof err) ==
              AITAG_ERR_MEDIA);
        CHECK(strstr(err, "--max-duration") != NULL);
        CHECK(r.ops->item(r.st, path, &probe, 2.0, &room, &r.ev, err, sizeof err) == 0);
        CHECK_EQ_INT(times(&r, "cue:silence", t0s, 16), 2); /* within its limits: as before */
        stop(&r);
    }

    /* No audio stream: no silence, and no error. */
    snprintf(path, sizeof path, "%s/mute.mkv", dir);
    CHECK(make_clip(path, 0) == 0);
    CHECK(aitag_audio_silences(path, &p, &s, &n, &has_audio, err, sizeof err) == 0);
    CHECK_EQ_INT(has_audio, 0);
    CHECK_EQ_INT(n, 0);
    /* A file that is not there: an error naming it. */
    snprintf(path, sizeof path, "%s/none.mkv", dir);
    CHECK(aitag_audio_silences(path, &p, &s, &n, &has_audio, err, sizeof err) < 0);
    CHECK(strstr(err, "none.mkv") != NULL);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    CHECK(system(path) == 0);
}

int main(void)
{
    test_black_and_fade();
    test_bars();
    test_static();
    test_credits();
    test_none();
    test_options();
    test_silence();
    return check_done();
}
