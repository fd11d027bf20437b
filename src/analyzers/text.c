/*
 * text.c - the on-screen text analyzer ("text"): PaddleOCR v4 detection + recognition.
 *
 * One view per frame, the largest the sampler makes ({960, 960, MAX_SIDE, 32}: PaddleOCR's
 * det_limit_side_len with sides a multiple of 32, as DBNet needs). The detector runs on it, and
 * the recogniser reads its lines cropped from the same view, so each frame is scaled once and
 * nothing is decoded twice; text of about 16 source pixels or more stays readable at 960. Lines
 * are emitted in reading order, one evidence item per line whose recognition confidence reaches
 * min_conf (junk reads of textures stay under 0.5, real text is above 0.9), with the box in
 * normalised upright-source coordinates.
 *
 * Models open at create() (manifests only, so key() can name their exact weights) and their
 * sessions load on the first run(). The angle classifier PaddleOCR offers for upside-down lines
 * is not used: upside-down captions are rare in video and it would add a model run per line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "analyzers_int.h"
#include "text_int.h"

#define DET_MODEL "ppocr-det"
#define REC_MODEL "ppocr-rec"

struct text_state {
    struct aitag_infer *inf;
    struct aitag_model *det, *rec;
    struct aitag_view_spec spec;
    struct ppocr_db_params db;
    struct ppocr_rec_params rp;
    float min_conf;
    int loaded;
    struct ppocr_scratch scratch;
    struct text_stats stats;
    char key[384];
};

static const char *const text_models[] = {DET_MODEL, REC_MODEL, NULL};

static int open_model(struct aitag_infer *inf, const char *name, const char *layout_want,
                      struct aitag_model **m, char *err, size_t errlen)
{
    int rc = aitag_model_open(inf, name, m);
    const char *layout;

    if (rc < 0) {
        aitag_fmt(err, errlen, "text: %s", aitag_infer_errmsg(inf));
        return rc;
    }
    layout = aitag_model_input_layout(*m);
    if (!layout || strcmp(layout, layout_want) != 0) {
        aitag_fmt(err, errlen, "text: model %s: input layout must be %s", name, layout_want);
        return AITAG_ERR_INVALID;
    }
    return 0;
}

static int text_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf, void **state,
                       char *err, size_t errlen)
{
    struct text_state *st;
    int rc, side;
    (void)self;

    *state = NULL;
    st = calloc(1, sizeof *st);
    if (!st) {
        aitag_fmt(err, errlen, "text: out of memory");
        return AITAG_ERR_NOMEM;
    }
    st->inf = inf;
    rc = open_model(inf, DET_MODEL, "NCHW", &st->det, err, errlen);
    if (rc < 0)
        goto out;
    rc = open_model(inf, REC_MODEL, "NCHW", &st->rec, err, errlen);
    if (rc < 0)
        goto out;

    st->db = ppocr_db_default_params();
    st->db.thresh = (float)aitag_model_param(st->det, "thresh", st->db.thresh);
    st->db.box_thresh = (float)aitag_model_param(st->det, "box_thresh", st->db.box_thresh);
    st->db.unclip_ratio = (float)aitag_model_param(st->det, "unclip_ratio", st->db.unclip_ratio);
    st->db.min_size = (int)aitag_model_param(st->det, "min_size", st->db.min_size);
    st->db.max_candidates =
        (int)aitag_model_param(st->det, "max_candidates", st->db.max_candidates);
    side = (int)aitag_model_param(st->det, "max_side", 960);
    if (side < 32 || side > 4096 || st->db.max_candidates < 1) {
        aitag_fmt(err, errlen, "text: model %s: max_side or max_candidates out of range",
                  DET_MODEL);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    st->spec = (struct aitag_view_spec){side, side, AITAG_FIT_MAX_SIDE, 32};

    st->rp = ppocr_rec_default_params();
    st->rp.height = (int)aitag_model_param(st->rec, "height", st->rp.height);
    st->rp.min_width = (int)aitag_model_param(st->rec, "min_width", st->rp.min_width);
    st->rp.max_width = (int)aitag_model_param(st->rec, "max_width", st->rp.max_width);
    st->rp.max_batch = (int)aitag_model_param(st->rec, "max_batch", st->rp.max_batch);
    st->rp.max_ratio = (float)aitag_model_param(st->rec, "max_ratio", st->rp.max_ratio);
    st->min_conf = (float)aitag_model_param(st->rec, "min_conf", 0.8);
    if (st->rp.height < 8 || st->rp.height > 256 || st->rp.max_width < st->rp.height ||
        st->rp.max_width > 16384 || st->rp.max_batch < 1 || st->rp.max_ratio < 1) {
        aitag_fmt(err, errlen,
                  "text: model %s: height, max_width, max_batch or max_ratio out "
                  "of range",
                  REC_MODEL);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    aitag_fmt(st->key, sizeof st->key,
              "text/v2 %s %s side=%d thresh=%.2f box=%.2f unclip=%.2f conf=%.2f h=%d",
              aitag_model_key(st->det), aitag_model_key(st->rec), side, st->db.thresh,
              st->db.box_thresh, st->db.unclip_ratio, st->min_conf, st->rp.height);
    *state = st;
    st = NULL;
out:
    free(st);
    return rc;
}

static void text_destroy(void *state)
{
    struct text_state *st = state;

    if (!st)
        return;
    ppocr_scratch_free(&st->scratch);
    free(st); /* the models belong to the infer handle */
}

static size_t text_views(void *state, struct aitag_view_spec *out, size_t max)
{
    struct text_state *st = state;

    if (max < 1)
        return 0;
    out[0] = st->spec;
    return 1;
}

static const char *text_key(void *state)
{
    return ((struct text_state *)state)->key;
}

const struct text_stats *an_text_stats(void *state)
{
    return &((struct text_state *)state)->stats;
}

static int load_models(struct text_state *st, char *err, size_t errlen)
{
    int rc;

    if (st->loaded)
        return 0;
    rc = aitag_model_load(st->det);
    if (rc == 0)
        rc = aitag_model_load(st->rec);
    if (rc < 0) {
        aitag_fmt(err, errlen, "text: %s", aitag_infer_errmsg(st->inf));
        return rc;
    }
    st->loaded = 1;
    return 0;
}

/* Drops leading and trailing spaces and collapses runs of spaces, in place. */
static void tidy_text(char *s)
{
    char *w = s;

    for (const char *r = s; *r; r++) {
        if (*r == ' ' && (w == s || w[-1] == ' '))
            continue;
        *w++ = *r;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

/* The quad's axis-aligned bounds, mapped from view pixels to the normalised upright source. */
static struct aitag_box source_box(const struct aitag_frame *f, const struct aitag_view *v,
                                   const struct ppocr_quad *q)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    struct aitag_box b;

    for (int i = 0; i < 4; i++) {
        x0 = fminf(x0, q->x[i]), x1 = fmaxf(x1, q->x[i]);
        y0 = fminf(y0, q->y[i]), y1 = fmaxf(y1, q->y[i]);
    }
    an_source_box(f, v, (const float[4]){x0, y0, x1, y1}, &b);
    return b;
}

/* Words of one row: the detector splits a line where the gap between words is wide
 * ("HAPPY" | "BIRTHDAY"); boxes in reading order that share a row and sit closer than about
 * one line height apart are one line of text. Box units are source pixels here. */
static int same_row(const struct aitag_box *a, const struct aitag_box *b, int src_w, int src_h)
{
    float ay0 = a->y * src_h, ay1 = (a->y + a->h) * src_h, by0 = b->y * src_h,
          by1 = (b->y + b->h) * src_h;
    float overlap = fminf(ay1, by1) - fmaxf(ay0, by0), hmin = fminf(ay1 - ay0, by1 - by0);
    float gap = (b->x - (a->x + a->w)) * src_w, hmax = fmaxf(ay1 - ay0, by1 - by0);

    return hmin > 0 && overlap >= 0.6f * hmin && hmin >= 0.6f * hmax && gap > -0.3f * hmin &&
           gap < 1.2f * hmax;
}

static int emit_lines(struct text_state *st, const struct aitag_frame *f,
                      const struct aitag_view *v, struct ppocr_line *lines, size_t n,
                      struct aitag_evidence_list *out)
{
    for (size_t i = 0; i < n; i++) {
        struct ppocr_line *l = &lines[i];
        struct aitag_box box;
        char *text;
        float conf;
        int rc;

        if (!l->text)
            continue;
        tidy_text(l->text);
        if (!l->text[0] || l->conf < st->min_conf)
            continue;
        box = source_box(f, v, &l->q);
        text = strdup(l->text);
        conf = l->conf;
        while (text && i + 1 < n && lines[i + 1].text) {
            struct ppocr_line *m = &lines[i + 1];
            struct aitag_box mb = source_box(f, v, &m->q);
            size_t len;
            char *joined;
            tidy_text(m->text);
            if (!m->text[0] || m->conf < st->min_conf || !same_row(&box, &mb, f->src_w, f->src_h))
                break;
            len = strlen(text) + strlen(m->text) + 2;
            joined = malloc(len);
            if (joined)
                aitag_fmt(joined, len, "%s %s", text, m->text);
            free(text);
            text = joined;
            float x1 = fmaxf(box.x + box.w, mb.x + mb.w), y1 = fmaxf(box.y + box.h, mb.y + mb.h);
            box.x = fminf(box.x, mb.x), box.y = fminf(box.y, mb.y);
            box.w = x1 - box.x, box.h = y1 - box.y;
            conf = fminf(conf, m->conf);
            i++;
        }
        if (!text)
            return AITAG_ERR_NOMEM;
        struct aitag_evidence e = {.analyzer = "text",
                                   .label = "text",
                                   .confidence = conf,
                                   .t = f->t,
                                   .has_box = 1,
                                   .box = box,
                                   .text = text};
        rc = aitag_evidence_push(out, &e);
        free(text);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int run_frame(struct text_state *st, const struct aitag_frame *f,
                     struct aitag_evidence_list *out, char *err, size_t errlen)
{
    const struct aitag_view *v = aitag_frame_view(f, &st->spec);
    struct ppocr_det_box *boxes = NULL;
    struct ppocr_line *lines = NULL;
    size_t n_boxes = 0, n_lines = 0;
    double t0, t1, t2;
    int rc;

    if (!v || !v->rgb || v->width < 1 || v->height < 1 || f->src_w < 1 || f->src_h < 1) {
        aitag_fmt(err, errlen, "text: frame at %.3f s lacks the %dx%d max-side view", f->t,
                  st->spec.width, st->spec.height);
        return AITAG_ERR_INVALID;
    }
    t0 = aitag_now();
    rc = ppocr_det_run(st->det, v, &st->db, &st->scratch, &boxes, &n_boxes, err, errlen);
    if (rc < 0)
        goto out;
    t1 = aitag_now();
    st->stats.det_s += t1 - t0;
    st->stats.frames++;
    if (n_boxes) {
        lines = calloc(n_boxes, sizeof *lines);
        if (!lines) {
            aitag_fmt(err, errlen, "text: out of memory");
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < n_boxes; i++) {
        float w, h;
        ppocr_quad_size(&boxes[i].q, &w, &h);
        if (w <= 3 || h <= 3) /* PaddleOCR's filter_tag_det_res */
            continue;
        lines[n_lines].q = boxes[i].q;
        lines[n_lines].det_score = boxes[i].score;
        n_lines++;
    }
    rc = ppocr_rec_run(st->rec, v, lines, n_lines, &st->rp, &st->scratch, err, errlen);
    if (rc < 0)
        goto out;
    t2 = aitag_now();
    st->stats.rec_s += t2 - t1;
    st->stats.lines += n_lines;
    ppocr_reading_order(lines, n_lines);
    rc = emit_lines(st, f, v, lines, n_lines, out);
    if (rc < 0) {
        aitag_fmt(err, errlen, "text: out of memory");
        goto out;
    }
    aitag_log(AITAG_LOG_DEBUG, "text",
              "event=frame t=%.3f view=%dx%d boxes=%zu lines=%zu "
              "det_ms=%.1f rec_ms=%.1f",
              f->t, v->width, v->height, n_boxes, n_lines, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
out:
    ppocr_lines_free(lines, n_lines);
    free(boxes);
    return rc;
}

static int text_run(void *state, struct aitag_frame *const *frames, size_t n,
                    const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                    char *err, size_t errlen)
{
    struct text_state *st = state;
    int rc = n ? load_models(st, err, errlen) : 0;
    (void)in;

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = run_frame(st, frames[i], out, err, errlen);
    return rc;
}

const struct aitag_analyzer_ops aitag_analyzer_text = {
    .name = "text",
    .description = "on-screen text (PaddleOCR v4 detection + recognition)",
    .create = text_create,
    .destroy = text_destroy,
    .views = text_views,
    .key = text_key,
    .run = text_run,
    .models = text_models,
};
