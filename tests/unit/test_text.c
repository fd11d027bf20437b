/*
 * test_text.c - the on-screen text analyzer: CTC decoding and DB box extraction on synthetic
 * data, line cropping and reading order, then the real PaddleOCR models on text rendered with
 * ImageMagick (plain, two lines, rotated, over a photo) and on photos without text.
 *
 * Frames are decoded with the ffmpeg CLI into the same geometry the sampler produces for the
 * analyzer's view ({960, 960, MAX_SIDE, 32}), so this test depends on the models and the
 * analyzer only.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "analyzers/analyzers_int.h"
#include "analyzers/text_int.h"
#include "check.h"
#include "ocr_metrics.h"

/* ---- pure parts ---------------------------------------------------------------------- */

static void set_step(float *p, int classes, int best, float pmax)
{
    for (int c = 0; c < classes; c++)
        p[c] = (1 - pmax) / (classes - 1);
    p[best] = pmax;
}

static void test_ctc(void)
{
    const char *labels[] = {"a", "b", "\xEF\xBC\x8C" /* fullwidth comma */, "\xE4\xB8\xAD"};
    enum { CLASSES = 6, STEPS = 11 };
    /* argmax per step: a a _ a b b space , _ 中 _ (6 = blank 0, labels 1..4, space 5) */
    int seq[STEPS] = {1, 1, 0, 1, 2, 2, 5, 3, 0, 4, 0};
    float pmax[STEPS] = {0.9f, 0.8f, 0.99f, 0.7f, 0.95f, 0.6f, 0.85f, 0.9f, 0.99f, 0.75f, 0.99f};
    float probs[STEPS * CLASSES], conf;
    char *text;

    for (int t = 0; t < STEPS; t++)
        set_step(probs + t * CLASSES, CLASSES, seq[t], pmax[t]);
    CHECK_EQ_INT(ppocr_ctc_decode(probs, STEPS, CLASSES, labels, 4, &text, &conf), 0);
    CHECK_STR(text, "aab ,\xE4\xB8\xAD");
    /* kept steps 0, 3, 4, 6, 7, 9: repeats and blanks do not count */
    CHECK_NEAR(conf, (0.9 + 0.7 + 0.95 + 0.85 + 0.9 + 0.75) / 6, 1e-5);
    free(text);

    for (int t = 0; t < STEPS; t++)
        set_step(probs + t * CLASSES, CLASSES, 0, 0.9f);
    CHECK_EQ_INT(ppocr_ctc_decode(probs, STEPS, CLASSES, labels, 4, &text, &conf), 0);
    CHECK_STR(text, "");
    CHECK_NEAR(conf, 0, 0);
    free(text);

    /* A repeat separated by a blank is two characters; without the blank it is one. */
    int seq2[4] = {2, 0, 2, 2};
    for (int t = 0; t < 4; t++)
        set_step(probs + t * CLASSES, CLASSES, seq2[t], 0.9f);
    CHECK_EQ_INT(ppocr_ctc_decode(probs, 4, CLASSES, labels, 4, &text, &conf), 0);
    CHECK_STR(text, "bb");
    free(text);

    CHECK_EQ_INT(ppocr_ctc_decode(probs, 4, 4, labels, 4, &text, &conf), AITAG_ERR_INVALID);
    CHECK(text == NULL);
}

static void fill_rect(float *map, int w, int x0, int y0, int x1, int y1, float v)
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            map[y * w + x] = v;
}

static float quad_min(const float *v)
{
    return fminf(fminf(v[0], v[1]), fminf(v[2], v[3]));
}

static void test_db_boxes(void)
{
    enum { W = 200, H = 120 };
    float *map = calloc(W * H, sizeof *map);
    struct ppocr_db_params p = ppocr_db_default_params();
    struct ppocr_det_box *boxes;
    size_t n;

    CHECK(map != NULL);
    if (!map)
        return;
    fill_rect(map, W, 20, 30, 80, 50, 0.9f);    /* a text kernel: 60 x 20 pixels */
    fill_rect(map, W, 120, 30, 180, 50, 0.35f); /* above thresh, below box_thresh */
    fill_rect(map, W, 100, 90, 102, 92, 0.95f); /* too small */
    CHECK_EQ_INT(ppocr_db_boxes(map, W, H, &p, &boxes, &n), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        /* offset d = 60 * 20 * 1.5 / (2 * 80) = 11.25 on every side */
        CHECK_NEAR(boxes[0].score, 0.9, 1e-5);
        CHECK_NEAR(boxes[0].q.x[0], 8.75, 1e-3);
        CHECK_NEAR(boxes[0].q.y[0], 18.75, 1e-3);
        CHECK_NEAR(boxes[0].q.x[2], 91.25, 1e-3);
        CHECK_NEAR(boxes[0].q.y[2], 61.25, 1e-3);
        CHECK_NEAR(boxes[0].q.x[1], 91.25, 1e-3); /* p1 is top-right */
        CHECK_NEAR(boxes[0].q.y[3], 61.25, 1e-3); /* p3 is bottom-left */
    }
    free(boxes);

    /* Touching the border: the grown box is clipped to the map. */
    memset(map, 0, W * H * sizeof *map);
    fill_rect(map, W, 0, 0, 40, 12, 0.8f);
    CHECK_EQ_INT(ppocr_db_boxes(map, W, H, &p, &boxes, &n), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_NEAR(quad_min(boxes[0].q.x), 0, 1e-6);
        CHECK_NEAR(quad_min(boxes[0].q.y), 0, 1e-6);
    }
    free(boxes);

    /* A rectangle rotated by 20 degrees: the fitted box follows it. */
    memset(map, 0, W * H * sizeof *map);
    const double a = 20 * M_PI / 180, cx = 100, cy = 60;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            double u = dx * cos(a) + dy * sin(a), v = -dx * sin(a) + dy * cos(a);
            if (fabs(u) <= 50 && fabs(v) <= 8)
                map[y * W + x] = 0.9f;
        }
    }
    CHECK_EQ_INT(ppocr_db_boxes(map, W, H, &p, &boxes, &n), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        const struct ppocr_quad *q = &boxes[0].q;
        float w, h;
        double angle = atan2(q->y[1] - q->y[0], q->x[1] - q->x[0]) * 180 / M_PI;
        ppocr_quad_size(q, &w, &h);
        CHECK_NEAR(angle, 20, 2.0);
        /* 100 x 16 grown by d = 100 * 16 * 1.5 / 232 = 10.3 per side */
        CHECK_NEAR(w, 120.7, 3.0);
        CHECK_NEAR(h, 36.7, 3.0);
        CHECK_NEAR((q->x[0] + q->x[2]) / 2, cx, 1.0);
        CHECK_NEAR((q->y[0] + q->y[2]) / 2, cy, 1.0);
        CHECK(boxes[0].score > 0.8f);
    }
    free(boxes);

    /* Many components: max_candidates keeps the largest. */
    memset(map, 0, W * H * sizeof *map);
    for (int i = 0; i < 8; i++)
        fill_rect(map, W, 5 + 24 * i, 10, 5 + 24 * i + 12 + i, 30, 0.9f);
    p.max_candidates = 3;
    CHECK_EQ_INT(ppocr_db_boxes(map, W, H, &p, &boxes, &n), 0);
    CHECK_EQ_INT(n, 3);
    for (size_t i = 0; i < n; i++)
        CHECK(quad_min(boxes[i].q.x) > 5 + 24 * 5 - 12);
    free(boxes);

    /* Noise: any number of boxes, all inside the map and scored above box_thresh. */
    srand(7);
    for (int i = 0; i < W * H; i++)
        map[i] = (float)rand() / RAND_MAX;
    p.max_candidates = 1000;
    CHECK_EQ_INT(ppocr_db_boxes(map, W, H, &p, &boxes, &n), 0);
    int inside = 1;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            inside &= boxes[i].q.x[k] >= 0 && boxes[i].q.x[k] <= W && boxes[i].q.y[k] >= 0 &&
                      boxes[i].q.y[k] <= H && boxes[i].score >= p.box_thresh;
    CHECK(inside);
    free(boxes);

    memset(map, 0, W * H * sizeof *map);
    CHECK_EQ_INT(ppocr_db_boxes(map, W, H, &p, &boxes, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK(boxes == NULL);
    CHECK_EQ_INT(ppocr_db_boxes(map, 0, H, &p, &boxes, &n), AITAG_ERR_INVALID);
    free(map);
}

static struct ppocr_quad axis_quad(float x0, float y0, float x1, float y1)
{
    struct ppocr_quad q = {{x0, x1, x1, x0}, {y0, y0, y1, y1}};
    return q;
}

static void test_reading_order(void)
{
    struct ppocr_line lines[4] = {0};

    lines[0].q = axis_quad(400, 104, 600, 136); /* row 1, right, slightly lower */
    lines[1].q = axis_quad(50, 300, 300, 340);  /* row 2 */
    lines[2].q = axis_quad(100, 100, 350, 140); /* row 1, left */
    lines[3].q = axis_quad(60, 150, 200, 180);  /* between: a separate row */
    lines[0].det_score = 0, lines[1].det_score = 1, lines[2].det_score = 2;
    lines[3].det_score = 3;
    ppocr_reading_order(lines, 4);
    CHECK_NEAR(lines[0].det_score, 2, 0);
    CHECK_NEAR(lines[1].det_score, 0, 0);
    CHECK_NEAR(lines[2].det_score, 3, 0);
    CHECK_NEAR(lines[3].det_score, 1, 0);
}

static void test_crop(void)
{
    enum { W = 64, H = 32 };
    uint8_t img[W * H * 3], out[40 * 10 * 3];
    struct ppocr_quad q = axis_quad(10, 5, 50, 15);

    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                img[(y * W + x) * 3 + c] = (uint8_t)(x * 3 + y * 5 + c);
    /* Same size: the crop is the pixels themselves. */
    ppocr_crop_line(img, W, H, W * 3, &q, 40, 10, out);
    int same = 1;
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 40; x++)
            for (int c = 0; c < 3; c++)
                same &= out[(y * 40 + x) * 3 + c] == img[((y + 5) * W + x + 10) * 3 + c];
    CHECK(same);
    CHECK_EQ_INT(ppocr_line_width(&q, 48, 3200), 192);
    CHECK_EQ_INT(ppocr_line_width(&q, 48, 100), 100);
    /* A tall quad is read rotated: its width is taken along p0 -> p3. */
    struct ppocr_quad tall = axis_quad(10, 0, 20, 40);
    CHECK_EQ_INT(ppocr_line_width(&tall, 48, 3200), 192);
    /* Rotated crop: output row 0 runs down the quad's right column. */
    uint8_t col[4 * 1 * 3];
    struct ppocr_quad t2 = axis_quad(10, 0, 11, 4);
    ppocr_crop_line(img, W, H, W * 3, &t2, 4, 1, col);
    CHECK_EQ_INT(col[0], img[(0 * W + 10) * 3]);
    CHECK_EQ_INT(col[9], img[(3 * W + 10) * 3]);
}

static void test_cer(void)
{
    CHECK_NEAR(ocr_cer("WELCOME TO THE PARTY", "welcome to the party"), 0, 0);
    CHECK_NEAR(ocr_cer("WELCOMETOTHEPARTY", "Welcome to  the party"), 0, 0);
    CHECK_NEAR(ocr_cer("WELC0ME", "welcome"), 1.0 / 7, 1e-9);
    CHECK_NEAR(ocr_cer("", "abcd"), 1, 0);
    CHECK_NEAR(ocr_cer("\xE4\xB8\xAD\xE6\x96\x87", "\xE4\xB8\xAD"), 1, 1e-9);
    CHECK_NEAR(ocr_cer_spaced("a bc", "ab c"), 2.0 / 4, 1e-9);
}

/* ---- the analyzer on real models ---------------------------------------------------- */

static const struct aitag_view_spec text_view = {960, 960, AITAG_FIT_MAX_SIDE, 32};

struct test_frame {
    struct aitag_frame f;
    uint8_t *rgb;
};

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static int round_side(double scaled, int m, int limit)
{
    int r = (int)lround(scaled / m) * m;
    if (r > limit)
        r -= m;
    return r < m ? m : r;
}

/* Decodes an image into the view the sampler would make for text_view. */
static int load_frame(const char *path, struct test_frame *tf)
{
    char cmd[1024];
    FILE *p;
    int sw = 0, sh_ = 0;

    memset(tf, 0, sizeof *tf);
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams v:0 -show_entries stream=width,height "
             "-of csv=p=0 '%s'",
             path);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    int got = fscanf(p, "%d,%d", &sw, &sh_);
    pclose(p);
    if (got != 2 || sw < 1 || sh_ < 1)
        return -1;
    /* The sampler's MAX_SIDE rule: shrink only, round to 32, never past the limit. */
    double s = fmin(1.0, 960.0 / (sw > sh_ ? sw : sh_));
    int vw = round_side(sw * s, 32, sw < 960 ? sw : 960);
    int vh = round_side(sh_ * s, 32, sh_ < 960 ? sh_ : 960);
    tf->rgb = malloc((size_t)vw * vh * 3);
    if (!tf->rgb)
        return -1;
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -i '%s' -vf scale=%d:%d:flags=area -frames:v 1 -f rawvideo "
             "-pix_fmt rgb24 -",
             path, vw, vh);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(tf->rgb, 1, (size_t)vw * vh * 3, p);
    pclose(p);
    if (n != (size_t)vw * vh * 3)
        return -1;
    tf->f.t = 2.0;
    tf->f.src_w = sw;
    tf->f.src_h = sh_;
    tf->f.n_views = 1;
    struct aitag_view *v = &tf->f.views[0];
    v->spec = text_view;
    v->width = v->content_w = vw;
    v->height = v->content_h = vh;
    v->scale_x = (float)vw / sw;
    v->scale_y = (float)vh / sh_;
    v->stride = vw * 3;
    v->rgb = tf->rgb;
    return 0;
}

struct ocr_case {
    const char *name;
    const char *make; /* `convert` arguments, the output path appended; NULL: use src */
    const char *src;
    const char *truth[3]; /* lines in reading order; NULL-terminated */
    int exact;            /* 1: exactly these lines; 0: these first, others may follow */
    float box[4];         /* expected normalised box of the first line (x0 y0 x1 y1), or 0s */
};

static const struct ocr_case cases[] = {
    {"plain",
     "-size 1280x720 xc:white -font DejaVu-Sans -pointsize 64 -fill black "
     "-annotate +100+300 'WELCOME TO THE PARTY'",
     NULL,
     {"WELCOME TO THE PARTY"},
     1,
     {100 / 1280.f, 250 / 720.f, 880 / 1280.f, 305 / 720.f}},
    {"two-lines",
     "-size 1280x720 xc:'#f4f0e0' -font DejaVu-Sans-Bold -pointsize 52 -fill "
     "'#202020' -annotate +140+260 'Breaking news tonight' -font DejaVu-Serif "
     "-pointsize 44 -annotate +140+360 'Live from City Hall at 9 pm'",
     NULL,
     {"Breaking news tonight", "Live from City Hall at 9 pm"},
     1,
     {0}},
    {"rotated",
     "-size 1280x720 xc:'#203040' -font DejaVu-Serif -pointsize 48 -fill yellow "
     "-annotate 352x352+200+300 'Rotated caption reads fine'",
     NULL,
     {"Rotated caption reads fine"},
     1,
     {0}},
    {"photo-caption",
     "/usr/share/darknet/data/dog.jpg -font DejaVu-Sans-Bold -pointsize 44 "
     "-fill white -stroke black -strokewidth 2 -annotate +30+70 "
     "'SUMMER HOLIDAY 2019'",
     NULL,
     {"SUMMER HOLIDAY 2019"},
     0,
     {30 / 768.f, 35 / 576.f, 620 / 768.f, 75 / 576.f}},
    {"horses", NULL, "/usr/share/darknet/data/horses.jpg", {NULL}, 1, {0}},
    {"giraffe", NULL, "/usr/share/darknet/data/giraffe.jpg", {NULL}, 1, {0}},
};

static void run_case(const struct aitag_analyzer_ops *ops, void *st, const struct ocr_case *c)
{
    char path[512], cmd[2048], err[256] = "";
    struct aitag_evidence_list ev = {0};
    struct test_frame tf;

    if (c->make) {
        snprintf(path, sizeof path, "%s/text_%s.png", AITAG_FIXTURES_DIR, c->name);
        snprintf(cmd, sizeof cmd, "convert %s '%s'", c->make, path);
        if (sh(cmd) != 0) {
            CHECK(!"fixture rendering failed");
            return;
        }
    } else {
        snprintf(path, sizeof path, "%s", c->src);
    }
    if (load_frame(path, &tf) != 0) {
        fprintf(stderr, "cannot decode %s\n", path);
        CHECK(!"frame decoding failed");
        free(tf.rgb);
        return;
    }
    struct aitag_frame *frames[1] = {&tf.f};
    int rc = ops->run(st, frames, 1, NULL, &ev, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc < 0)
        fprintf(stderr, "run: %s\n", err);
    size_t n_truth = 0;
    while (n_truth < 3 && c->truth[n_truth])
        n_truth++;
    printf("case %s (%dx%d view of %dx%d): %zu lines\n", c->name, tf.f.views[0].width,
           tf.f.views[0].height, tf.f.src_w, tf.f.src_h, ev.n);
    for (size_t i = 0; i < ev.n; i++) {
        const struct aitag_evidence *e = &ev.items[i];
        double cer = i < n_truth ? ocr_cer(e->text, c->truth[i]) : -1;
        printf("  [%zu] conf=%.3f box=(%.3f %.3f %.3f %.3f) cer=%.3f \"%s\"\n", i, e->confidence,
               e->box.x, e->box.y, e->box.w, e->box.h, cer, e->text);
        CHECK_STR(e->analyzer, "text");
        CHECK_STR(e->label, "text");
        CHECK(e->confidence >= 0.8f && e->confidence <= 1.0f);
        CHECK_NEAR(e->t, 2.0, 0);
        CHECK(e->has_box && e->box.w > 0 && e->box.h > 0 && e->box.x + e->box.w <= 1.0001f &&
              e->box.y + e->box.h <= 1.0001f);
        if (i < n_truth)
            CHECK(cer <= 0.10);
    }
    if (c->exact)
        CHECK_EQ_INT(ev.n, n_truth);
    else
        CHECK(ev.n >= n_truth);
    if (c->box[2] > 0 && ev.n > 0) {
        const struct aitag_box *b = &ev.items[0].box;
        /* The box covers the rendered text without running far past it. */
        CHECK(b->x <= c->box[0] + 0.01f && b->y <= c->box[1] + 0.02f);
        CHECK(b->x + b->w >= c->box[2] - 0.01f && b->y + b->h >= c->box[3] - 0.01f);
        CHECK(b->x >= c->box[0] - 0.05f && b->x + b->w <= c->box[2] + 0.08f);
        CHECK(b->y >= c->box[1] - 0.08f && b->y + b->h <= c->box[3] + 0.08f);
    }
    aitag_evidence_list_clear(&ev);
    free(tf.rgb);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median detector time per frame and recogniser time per line over reps warm runs on one
 * fixture (single runs are noisy on a shared 2-core machine). */
static void bench(const struct aitag_analyzer_ops *ops, void *st, const char *name, int threads)
{
    enum { REPS = 7 };
    char path[512], err[256];
    double det[REPS], rec[REPS];
    struct test_frame tf;
    size_t lines = 0;

    snprintf(path, sizeof path, "%s/text_%s.png", AITAG_FIXTURES_DIR, name);
    if (load_frame(path, &tf) != 0) {
        CHECK(!"bench frame decoding failed");
        free(tf.rgb);
        return;
    }
    struct aitag_frame *frames[1] = {&tf.f};
    const struct text_stats *s = an_text_stats(st);
    for (int r = 0; r < REPS; r++) {
        struct aitag_evidence_list ev = {0};
        struct text_stats before = *s;
        CHECK_EQ_INT(ops->run(st, frames, 1, NULL, &ev, err, sizeof err), 0);
        lines = s->lines - before.lines;
        det[r] = (s->det_s - before.det_s) * 1e3;
        rec[r] = lines ? (s->rec_s - before.rec_s) * 1e3 / lines : 0;
        aitag_evidence_list_clear(&ev);
    }
    qsort(det, REPS, sizeof det[0], cmp_double);
    qsort(rec, REPS, sizeof rec[0], cmp_double);
    printf("bench %s threads=%d view=%dx%d lines=%zu: det %.1f ms/frame, rec %.1f ms/line "
           "(medians of %d)\n",
           name, threads, tf.f.views[0].width, tf.f.views[0].height, lines, det[REPS / 2],
           rec[REPS / 2], REPS);
    free(tf.rgb);
}

/* Through the real sampler: a 1080p H.264 clip whose caption changes at 3 s, sampled every
 * 2 s, gives frames at 0, 2 and 4 s whose view the analyzer maps back to the 1920x1080 source. */
static void test_sampler_video(const struct aitag_analyzer_ops *ops, void *st)
{
    const char *dir = AITAG_FIXTURES_DIR;
    static const char *truth[] = {"FIRST CAPTION HERE", "FIRST CAPTION HERE",
                                  "Second caption, later"};
    char cmd[2048], path[512], err[256] = "";
    struct aitag_view_spec specs[AITAG_MAX_VIEWS];
    struct aitag_sampler *smp = NULL;
    struct aitag_frame *f;
    size_t n_frames = 0;

    snprintf(path, sizeof path, "%s/text_captions_1080p.mp4", dir);
    snprintf(cmd, sizeof cmd,
             "convert -size 1920x1080 xc:'#102030' -font DejaVu-Sans-Bold -pointsize 72 -fill "
             "white -annotate +300+900 'FIRST CAPTION HERE' '%s/text_cap1.png' && "
             "convert -size 1920x1080 xc:'#302010' -font DejaVu-Sans -pointsize 60 -fill "
             "'#ffe080' -annotate +700+200 'Second caption, later' '%s/text_cap2.png' && "
             "ffmpeg -nostdin -v error -y -loop 1 -t 3 -i '%s/text_cap1.png' -loop 1 -t 3 -i "
             "'%s/text_cap2.png' -filter_complex '[0:v][1:v]concat=n=2:v=1,fps=25,"
             "format=yuv420p' -c:v libx264 -preset veryfast -crf 23 '%s'",
             dir, dir, dir, dir, path);
    if (sh(cmd) != 0) {
        CHECK(!"video fixture rendering failed");
        return;
    }
    size_t n_specs = ops->views(st, specs, AITAG_MAX_VIEWS);
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    sp.interval = 2.0;
    sp.views = specs;
    sp.n_views = n_specs;
    int rc = aitag_sampler_open(path, &sp, &smp, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "sampler: %s\n", err);
        return;
    }
    while (aitag_sampler_next(smp, &f) > 0) {
        struct aitag_evidence_list ev = {0};
        struct aitag_frame *frames[1] = {f};
        CHECK_EQ_INT(ops->run(st, frames, 1, NULL, &ev, err, sizeof err), 0);
        printf("video t=%.2f: %zu lines\n", f->t, ev.n);
        for (size_t i = 0; i < ev.n; i++)
            printf("  conf=%.3f box=(%.3f %.3f %.3f %.3f) \"%s\"\n", ev.items[i].confidence,
                   ev.items[i].box.x, ev.items[i].box.y, ev.items[i].box.w, ev.items[i].box.h,
                   ev.items[i].text);
        if (n_frames < 3) {
            CHECK_EQ_INT(ev.n, 1);
            if (ev.n == 1) {
                const struct aitag_box *b = &ev.items[0].box;
                double x0 = n_frames < 2 ? 300 / 1920.0 : 700 / 1920.0;
                double yb = n_frames < 2 ? 900 / 1080.0 : 200 / 1080.0; /* the baseline */
                CHECK(ocr_cer(ev.items[0].text, truth[n_frames]) <= 0.10);
                CHECK_NEAR(ev.items[0].t, 2.0 * n_frames, 0.05);
                CHECK(fabs(b->x - x0) < 0.02 && b->y < yb && b->y + b->h > yb - 0.01);
            }
        }
        n_frames++;
        aitag_evidence_list_clear(&ev);
        aitag_frame_free(f);
    }
    CHECK_EQ_INT(n_frames, 3);
    aitag_sampler_close(smp);
}

static struct aitag_infer *open_infer(const char *weights_dir, int threads)
{
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;

    ip.manifest_dir = AITAG_SOURCE_DIR "/models";
    ip.weights_dir = weights_dir;
    ip.intra_threads = threads;
    CHECK_EQ_INT(aitag_infer_new(&ip, &inf), 0);
    return inf;
}

/* create() reads manifests only: it succeeds without weights, and run() reports them missing. */
static void test_lazy(void)
{
    const struct aitag_analyzer_ops *ops = &aitag_analyzer_text;
    struct aitag_infer *inf = open_infer("/nonexistent-weights", 1);
    struct aitag_view_spec specs[AITAG_MAX_VIEWS];
    char err[256] = "";
    void *st = NULL;

    if (!inf)
        return;
    CHECK_STR(ops->name, "text");
    CHECK(aitag_analyzer_find("text") == ops);
    CHECK_EQ_INT(ops->create(ops, inf, &st, err, sizeof err), 0);
    if (!st) {
        fprintf(stderr, "create: %s\n", err);
        aitag_infer_free(inf);
        return;
    }
    const char *key = ops->key(st);
    printf("key: %s\n", key);
    CHECK(strncmp(key, "text/v2 ppocr-det@1.4.2#30a86f57", 32) == 0);
    CHECK(strstr(key, " ppocr-rec@1.4.2#06b3e6af") != NULL);
    CHECK(strstr(key, " box=0.60") != NULL && strstr(key, " conf=0.80") != NULL);
    CHECK_EQ_INT(ops->views(st, specs, AITAG_MAX_VIEWS), 1);
    CHECK(memcmp(&specs[0], &text_view, sizeof text_view) == 0);
    CHECK_EQ_INT(ops->views(st, specs, 0), 0);

    struct test_frame tf = {0};
    tf.f.src_w = tf.f.src_h = 64;
    struct aitag_frame *frames[1] = {&tf.f};
    struct aitag_evidence_list ev = {0};
    CHECK(ops->run(st, frames, 1, NULL, &ev, err, sizeof err) < 0);
    CHECK(err[0] != '\0');
    CHECK_EQ_INT(ev.n, 0);
    ops->destroy(st);
    aitag_infer_free(inf);
}

static void test_models(int threads)
{
    const struct aitag_analyzer_ops *ops = &aitag_analyzer_text;
    struct aitag_infer *inf = open_infer(AITAG_DEPS_DIR "/models", threads);
    char err[256] = "";
    void *st = NULL;

    if (!inf)
        return;
    CHECK_EQ_INT(ops->create(ops, inf, &st, err, sizeof err), 0);
    if (!st) {
        fprintf(stderr, "create: %s\n", err);
        aitag_infer_free(inf);
        return;
    }
    sh("mkdir -p '" AITAG_FIXTURES_DIR "'");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(ops, st, &cases[i]);

    /* A frame without the analyzer's view is an error, not a crash. */
    struct test_frame tf = {0};
    tf.f.src_w = tf.f.src_h = 64;
    struct aitag_frame *frames[1] = {&tf.f};
    struct aitag_evidence_list ev = {0};
    CHECK_EQ_INT(ops->run(st, frames, 1, NULL, &ev, err, sizeof err), AITAG_ERR_INVALID);

    test_sampler_video(ops, st);
    bench(ops, st, "plain", threads);
    bench(ops, st, "two-lines", threads);
    ops->destroy(st);
    aitag_infer_free(inf);
}

int main(void)
{
    test_ctc();
    test_db_boxes();
    test_reading_order();
    test_crop();
    test_cer();
    test_lazy();
    test_models(2);
    return check_done();
}
