/*
 * cues.c - the "cues" analyzer: technical cues like the cloud video APIs report, from pixel
 * statistics of one small view per frame and from the audio track. No model runs.
 *
 * Per frame (a view of at most 320 pixels a side, no padding so black bars are the picture's):
 *   cue:black          nearly every pixel dark
 *   cue:fade_to_black  the samples before a black one that got darker one after the other
 *   cue:color_bars     colour bars: the upper half made of >= 6 vertical bands of uniform,
 *                      mostly saturated colour (SMPTE/EBU bars, many test-card slates)
 *   cue:static         the picture did not change since the previous sample (mean absolute
 *                      grey difference under a fraction of a level; black and bars excluded:
 *                      they are their own cues)
 *   cue:credits        a dark picture crossed by rows of bright strokes: lines of text on a
 *                      dark ground; the policy keeps it only at the item's ends (docs/policy.md)
 * Per item, from the file (the item() hook, after the frames):
 *   cue:silence        the audio stays under silence_db for >= silence_min seconds
 *                      (aitag_audio_silences); a file without audio has no silence
 *
 * Cues about a stretch (static, fade) name the earlier sample that began it too, so the state
 * keeps the previous frame's grey picture and a short history of frame brightness; it starts
 * over at each item's first frame (frame->index == 0). Silence is written as evidence one
 * sampling interval apart over each span, the last one interval before its end, so the policy
 * turns a span [a, b) into a marker [a, b) like any other label.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"

#define CUES_SIDE 320
#define CUES_HISTORY 32 /* samples remembered for a fade */

struct sample {
    double t;
    double mean;
    int black, is_static, plain; /* plain: neither black nor bars (may start a static run) */
};

struct cues {
    struct aitag_view_spec spec;
    int audio;
    struct aitag_silence_params silence;
    char key[160];
    /* per item */
    uint8_t *grey; /* the previous frame's grey picture */
    int grey_w, grey_h;
    struct sample hist[CUES_HISTORY];
    size_t n_hist;
};

static int cues_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf, void **state,
                       char *err, size_t errlen)
{
    struct cues *s = calloc(1, sizeof *s);

    (void)self, (void)inf;
    *state = NULL;
    if (!s) {
        snprintf(err, errlen, "cues: out of memory");
        return AITAG_ERR_NOMEM;
    }
    s->spec = (struct aitag_view_spec){CUES_SIDE, CUES_SIDE, AITAG_FIT_MAX_SIDE, 0};
    s->audio = 1;
    s->silence = aitag_silence_default_params();
    *state = s;
    return 0;
}

static void cues_destroy(void *state)
{
    struct cues *s = state;

    if (s)
        free(s->grey);
    free(s);
}

static size_t cues_views(void *state, struct aitag_view_spec *out, size_t max)
{
    if (max < 1)
        return 0;
    out[0] = ((struct cues *)state)->spec;
    return 1;
}

static const char *cues_key(void *state)
{
    struct cues *s = state;

    snprintf(s->key, sizeof s->key, "cues-1 view=%d audio=%d silence_db=%.1f silence_min=%.2f",
             CUES_SIDE, s->audio, s->silence.threshold_db, s->silence.min_seconds);
    return s->key;
}

static int cues_configure(void *state, const char *key, const char *value, char *err, size_t errlen)
{
    struct cues *s = state;
    char *end = NULL;
    double v = strtod(value, &end);
    int number = end != value && *end == '\0' && isfinite(v);

    if (strcmp(key, "audio") == 0 && (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)) {
        s->audio = value[0] == '1';
        return 0;
    }
    if (strcmp(key, "silence_db") == 0 && number && v < 0 && v >= -120) {
        s->silence.threshold_db = v;
        return 0;
    }
    if (strcmp(key, "silence_min") == 0 && number && v > 0 && v <= 3600) {
        s->silence.min_seconds = v;
        return 0;
    }
    if (strcmp(key, "audio") == 0 || strcmp(key, "silence_db") == 0 ||
        strcmp(key, "silence_min") == 0)
        snprintf(err, errlen,
                 "cues.%s: bad value \"%s\" (audio: 0 or 1; silence_db: -120..0; "
                 "silence_min: seconds > 0)",
                 key, value);
    else
        snprintf(err, errlen, "cues: unknown option \"%s\" (audio, silence_db, silence_min)", key);
    return AITAG_ERR_INVALID;
}

static int push(struct aitag_evidence_list *out, const char *label, float conf, double t)
{
    struct aitag_evidence e = {0};

    e.analyzer = (char *)"cues";
    e.label = (char *)label;
    e.confidence = conf < 0 ? 0 : conf > 1 ? 1 : conf;
    e.t = t;
    return aitag_evidence_push(out, &e);
}

static uint8_t luma(const uint8_t *p)
{
    return (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);
}

/* Colour bars: in the band from 5% to 55% of the height every column is one colour from top
 * to bottom, and across the width the colour changes in >= 6 steps of >= 6% of the width each,
 * >= 4 of them strongly saturated. Returns a confidence, 0 when the picture is not bars. */
static float bars_score(const struct aitag_view *v)
{
    int w = v->content_w, h = v->content_h, y0 = h * 5 / 100, y1 = h * 55 / 100;
    int uniform = 0, runs = 0, saturated = 0, run_start = 0;
    int prev[3] = {-1000, -1000, -1000};

    if (w < 32 || y1 - y0 < 8)
        return 0;
    for (int x = 0; x <= w; x++) {
        int c[3] = {-1000, -1000, -1000};
        if (x < w) {
            long sum[3] = {0, 0, 0};
            int dev = 0;
            for (int y = y0; y < y1; y++) {
                const uint8_t *p = v->rgb + (size_t)(v->pad_y + y) * v->stride + (v->pad_x + x) * 3;
                for (int k = 0; k < 3; k++)
                    sum[k] += p[k];
            }
            for (int k = 0; k < 3; k++)
                c[k] = (int)(sum[k] / (y1 - y0));
            for (int y = y0; y < y1; y += 4) {
                const uint8_t *p = v->rgb + (size_t)(v->pad_y + y) * v->stride + (v->pad_x + x) * 3;
                for (int k = 0; k < 3; k++)
                    dev = abs(p[k] - c[k]) > dev ? abs(p[k] - c[k]) : dev;
            }
            uniform += dev < 24;
        }
        if (x == w || abs(c[0] - prev[0]) + abs(c[1] - prev[1]) + abs(c[2] - prev[2]) > 60) {
            if (x > 0 && x - run_start >= w * 6 / 100) {
                int mx = prev[0], mn = prev[0];
                for (int k = 1; k < 3; k++)
                    mx = prev[k] > mx ? prev[k] : mx, mn = prev[k] < mn ? prev[k] : mn;
                runs++;
                saturated += mx - mn > 90;
            }
            run_start = x;
        }
        memcpy(prev, c, sizeof prev);
    }
    if (runs < 6 || saturated < 4 || uniform < w * 85 / 100)
        return 0;
    return 0.6f + 0.4f * (float)uniform / (float)w;
}

/* Lines of small text on a dark ground, as credits are: the picture is mostly dark, and >= 3
 * bands of rows (each at most 7% of the height: a line of text, not a title) are crossed by
 * >= 6 bright strokes (runs of pixels well above the mean). A title card of one or two big
 * lines is not credits. Returns a confidence, 0 when the picture does not look like credits. */
static float credits_score(const uint8_t *g, int w, int h, double mean)
{
    int lines = 0, band = 0, bright = 0, level = (int)mean + 60 > 140 ? (int)mean + 60 : 140;

    if (mean > 70 || w < 64 || h < 32)
        return 0;
    for (int y = 0; y <= h; y++) {
        int strokes = 0, in = 0;
        for (int x = 0; y < h && x < w; x++) {
            int b = g[(size_t)y * w + x] >= level;
            bright += b;
            strokes += b && !in;
            in = b;
        }
        if (strokes >= 6) {
            band++;
            continue;
        }
        lines += band >= 2 && band <= h * 7 / 100;
        band = 0;
    }
    double share = (double)bright / ((double)w * h);
    if (lines < 3 || share < 0.005 || share > 0.25)
        return 0;
    return (float)fmin(1.0, 0.5 + 0.05 * lines);
}

/* The samples before the newest one that got darker each after the one before: a fade. */
static int push_fade(struct cues *s, struct aitag_evidence_list *out)
{
    size_t i = s->n_hist - 1; /* the black one */
    int rc = 0;

    while (i >= 2 && !s->hist[i - 1].black && s->hist[i - 1].mean < s->hist[i - 2].mean * 0.92)
        i--;
    for (size_t j = i; j + 1 < s->n_hist && rc == 0; j++)
        rc = push(out, "cue:fade_to_black", 0.8f, s->hist[j].t);
    return rc;
}

static int analyse(struct cues *s, const struct aitag_frame *fr, struct aitag_evidence_list *out,
                   char *err, size_t errlen)
{
    const struct aitag_view *v = aitag_frame_view(fr, &s->spec);
    struct sample cur = {fr->t, 0, 0, 0, 0};
    uint8_t *g;
    size_t n, dark = 0;
    double sum = 0, mad = -1;
    float bars, credits;
    int w, h, rc = 0;

    if (!v) {
        snprintf(err, errlen, "cues: frame at t=%.3f lacks its view", fr->t);
        return AITAG_ERR_INVALID;
    }
    w = v->content_w, h = v->content_h, n = (size_t)w * h;
    if (fr->index == 0)
        s->n_hist = 0, s->grey_w = s->grey_h = 0;
    g = malloc(n ? n : 1);
    if (!g) {
        snprintf(err, errlen, "cues: out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t l = luma(v->rgb + (size_t)(v->pad_y + y) * v->stride + (v->pad_x + x) * 3);
            g[(size_t)y * w + x] = l;
            sum += l;
            dark += l < 32;
        }
    cur.mean = n ? sum / (double)n : 0;
    cur.black = n && cur.mean < 20 && (double)dark >= 0.98 * (double)n;
    bars = cur.black ? 0 : bars_score(v);
    cur.plain = !cur.black && bars == 0;
    if (s->grey_w == w && s->grey_h == h && s->n_hist > 0) {
        double d = 0;
        for (size_t i = 0; i < n; i++)
            d += abs(g[i] - s->grey[i]);
        mad = d / (double)n;
    }
    credits = cur.black ? 0 : credits_score(g, w, h, cur.mean);
    if (cur.black)
        rc = push(out, "cue:black", (float)dark / (float)n, fr->t);
    if (rc == 0 && bars > 0)
        rc = push(out, "cue:color_bars", bars, fr->t);
    if (rc == 0 && credits > 0)
        rc = push(out, "cue:credits", credits, fr->t);
    if (rc == 0 && cur.plain && mad >= 0 && mad < 0.5) {
        struct sample *prev = &s->hist[s->n_hist - 1];
        cur.is_static = 1;
        /* the sample that began the still picture is part of it */
        if (prev->plain && !prev->is_static)
            rc = push(out, "cue:static", (float)(1 - mad), prev->t);
        if (rc == 0)
            rc = push(out, "cue:static", (float)(1 - mad), fr->t);
    }
    if (s->n_hist == CUES_HISTORY) {
        memmove(s->hist, s->hist + 1, (CUES_HISTORY - 1) * sizeof *s->hist);
        s->n_hist--;
    }
    s->hist[s->n_hist++] = cur;
    if (rc == 0 && cur.black && s->n_hist >= 2 && !s->hist[s->n_hist - 2].black)
        rc = push_fade(s, out);
    free(s->grey);
    s->grey = g, s->grey_w = w, s->grey_h = h;
    if (rc < 0)
        snprintf(err, errlen, "cues: out of memory");
    return rc;
}

static int cues_run(void *state, struct aitag_frame *const *frames, size_t n,
                    const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                    char *err, size_t errlen)
{
    int rc = 0;

    (void)in;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = analyse(state, frames[i], out, err, errlen);
    return rc;
}

/* Silence spans as evidence one interval apart, the last one interval before the span's end. */
static int cues_item(void *state, const char *path, const struct aitag_probe *probe,
                     double interval, const struct aitag_audio_limits *lim,
                     struct aitag_evidence_list *out, char *err, size_t errlen)
{
    struct cues *s = state;
    struct aitag_silence_params sp = s->silence;
    struct aitag_audio_span *spans = NULL;
    size_t n = 0;
    int has_audio = 0, rc;

    if (!s->audio || !probe || probe->kind != AITAG_MEDIA_VIDEO || interval <= 0 ||
        !probe->audio_codec[0])
        return 0; /* no audio stream: nothing to open the file again for */
    if (lim)
        sp.limits = *lim;
    rc = aitag_audio_silences(path, &sp, &spans, &n, &has_audio, err, errlen);
    for (size_t i = 0; i < n && rc == 0; i++) {
        double a = spans[i].start, b = spans[i].end;
        float conf = spans[i].level_db <= s->silence.threshold_db - 20
                         ? 1.0f
                         : (float)(0.5 + (s->silence.threshold_db - spans[i].level_db) / 40);
        /* NOLINTNEXTLINE(cert-flp30-c): sample times; the sum's drift is far below a frame */
        for (double t = a; t < b - interval - 1e-6 && rc == 0; t += interval)
            rc = push(out, "cue:silence", conf, t);
        if (rc == 0)
            rc = push(out, "cue:silence", conf, fmax(a, b - interval));
        if (rc < 0)
            snprintf(err, errlen, "cues: out of memory");
    }
    free(spans);
    return rc;
}

static const char *const cues_models[] = {NULL};

const struct aitag_analyzer_ops aitag_analyzer_cues = {
    .name = "cues",
    .description = "technical cues, no model: cue:black, cue:fade_to_black, cue:color_bars, "
                   "cue:static, cue:credits from the pictures, cue:silence from the audio",
    .create = cues_create,
    .destroy = cues_destroy,
    .views = cues_views,
    .key = cues_key,
    .run = cues_run,
    .models = cues_models,
    .configure = cues_configure,
    .item = cues_item,
    /* A default analyzer a gateway's route may not list: with --gateway it runs here (no
     * model, a small view) rather than failing every item against such a gateway. */
    .runs_here = 1,
};
