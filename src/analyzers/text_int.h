/*
 * text_int.h - internals of the on-screen text analyzer ("text"), shared by text.c,
 * ppocr_det.c, ppocr_rec.c and the unit tests.
 *
 * The analyzer is PaddleOCR v4 in two stages: a DB detector turns a frame into a text
 * probability map, ppocr_db_boxes() turns the map into rotated line boxes, and a CTC recogniser
 * reads each line cropped from the same view. Everything here is pure C on plain buffers except
 * ppocr_det_run() and ppocr_rec_run(), which call the models.
 */
#ifndef AITAG_ANALYZERS_TEXT_INT_H
#define AITAG_ANALYZERS_TEXT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/analyzer.h"
#include "aitag/infer.h"
#include "aitag/media.h"

/* A quadrilateral in view pixels (continuous coordinates, pixel centres at +0.5): p[0] top-left,
 * p[1] top-right, p[2] bottom-right, p[3] bottom-left, as the text reads. */
struct ppocr_quad {
    float x[4], y[4];
};

/* DB post-processing parameters (PaddleOCR's DBPostProcess names). */
struct ppocr_db_params {
    float thresh;       /* binarisation threshold on the probability map; 0.3 */
    float box_thresh;   /* minimum mean probability inside a box; 0.6 */
    float unclip_ratio; /* box growth: offset = area * ratio / perimeter; 1.5 */
    int min_size;       /* minimum short side in map pixels before growth; 3 */
    int max_candidates; /* components considered, largest first; 1000 */
};

struct ppocr_db_params ppocr_db_default_params(void);

struct ppocr_det_box {
    struct ppocr_quad q; /* grown box in map pixels */
    float score;         /* mean probability inside the box before growth */
};

/* Extracts text boxes from a w x h probability map (row-major, values 0..1): threshold,
 * 8-connected components, minimum-area rotated rectangle of each component, box score, unclip.
 * Boxes are clipped to the map. *boxes is malloc'd (caller frees; NULL when *n == 0).
 * Returns 0, AITAG_ERR_NOMEM or AITAG_ERR_INVALID. */
int ppocr_db_boxes(const float *prob, int w, int h, const struct ppocr_db_params *p,
                   struct ppocr_det_box **boxes, size_t *n);

/* One text line travelling through the analyzer. */
struct ppocr_line {
    struct ppocr_quad q; /* in view pixels */
    float det_score;
    float conf; /* recognition confidence, 0 until recognised */
    char *text; /* malloc'd UTF-8, NULL until recognised */
};

void ppocr_lines_free(struct ppocr_line *lines, size_t n);

/* Sorts lines into reading order: top to bottom, and left to right among lines whose vertical
 * centres lie within half a line height of each other. */
void ppocr_reading_order(struct ppocr_line *lines, size_t n);

/* Reading direction of a quad: its width (along p0->p1) and height (p0->p3) in pixels. */
void ppocr_quad_size(const struct ppocr_quad *q, float *w, float *h);

/* Width of the recognizer input for quad q scaled to out_h rows, keeping the aspect ratio,
 * at least 1 and at most max_w. Quads taller than 1.5x their width are read rotated (as
 * PaddleOCR does), so the width is then taken along p0->p3. */
int ppocr_line_width(const struct ppocr_quad *q, int out_h, int max_w);

/* Samples quad q of an RGB24 image (w x h, stride bytes per row) into dst, out_w x out_h
 * packed RGB24, bilinear with supersampling when shrinking more than 2x. Tall quads are
 * rotated 90 degrees counter-clockwise, as ppocr_line_width() assumes. */
void ppocr_crop_line(const uint8_t *rgb, int w, int h, int stride, const struct ppocr_quad *q,
                     int out_w, int out_h, uint8_t *dst);

/* Greedy CTC decoding of one line: probs is steps x classes (row-major softmax output), class
 * 0 is the CTC blank, class i (1..n_labels) is labels[i - 1] and class n_labels + 1, if the
 * model has it, is a space. Takes the argmax per step, collapses repeats, drops blanks;
 * *conf is the mean of the kept steps' maximum probabilities (0 for an empty line). Fullwidth
 * ASCII forms and U+3000 are folded to ASCII. *text is malloc'd UTF-8 (caller frees).
 * Returns 0, AITAG_ERR_NOMEM or AITAG_ERR_INVALID (classes too small for the labels). */
int ppocr_ctc_decode(const float *probs, int steps, int classes, const char *const *labels,
                     size_t n_labels, char **text, float *conf);

/* Word gaps: PaddleOCR's recogniser often drops the space between words. ppocr_ink_columns
 * marks which columns of a cropped line (RGB24, w x h) hold ink, judged against the line's
 * background (taken from its top and bottom rows); it returns 1 when the background is even
 * enough for that to mean anything, else 0 (text over a busy photo). */
int ppocr_ink_columns(const uint8_t *rgb, int w, int h, uint8_t *ink);

/* Greedy CTC decoding as ppocr_ctc_decode, which also puts a space between two ASCII
 * characters when the columns between their steps hold an empty run of at least min_gap
 * pixels. ink (ink_w columns, step_px columns per step) may be NULL: then no space is added. */
int ppocr_ctc_decode_spaced(const float *probs, int steps, int classes, const char *const *labels,
                            size_t n_labels, const uint8_t *ink, int ink_w, int step_px,
                            float min_gap, char **text, float *conf);

/* Reusable buffers for the model stages, owned by the analyzer state. */
struct ppocr_scratch {
    float *f;      /* model input */
    size_t f_cap;  /* floats */
    uint8_t *u8;   /* cropped line pixels */
    size_t u8_cap; /* bytes */
    float *g;      /* one normalised line before it is copied into the batch */
    size_t g_cap;  /* floats */
};

/* Grows the buffers to at least floats (f), bytes (u8) and g_floats (g). 0 or NOMEM. */
int ppocr_scratch_reserve(struct ppocr_scratch *s, size_t floats, size_t bytes, size_t g_floats);
void ppocr_scratch_free(struct ppocr_scratch *s);

/* Runs the detector on view v (the whole buffer is the picture; MAX_SIDE views are not
 * padded) and returns boxes in view pixels, in no particular order. */
int ppocr_det_run(struct aitag_model *det, const struct aitag_view *v,
                  const struct ppocr_db_params *p, struct ppocr_scratch *s,
                  struct ppocr_det_box **boxes, size_t *n, char *err, size_t errlen);

struct ppocr_rec_params {
    int height;      /* input rows; 48 */
    int min_width;   /* narrowest batch width (PaddleOCR pads to 320); 0 = no minimum */
    int max_width;   /* widest line, longer lines are squeezed; 1280 */
    int max_batch;   /* lines per batch; 8 */
    float max_ratio; /* widest / narrowest line in one batch before a new batch starts; 1.5 */
};

struct ppocr_rec_params ppocr_rec_default_params(void);

/* Recognises lines (quads in view pixels) cropped from view v, batching lines of similar width:
 * sets lines[i].text and lines[i].conf. Returns 0 or < 0 with err set. */
int ppocr_rec_run(struct aitag_model *rec, const struct aitag_view *v, struct ppocr_line *lines,
                  size_t n, const struct ppocr_rec_params *p, struct ppocr_scratch *s, char *err,
                  size_t errlen);

/* Timings the analyzer accumulates (for benchmarks and tests). */
struct text_stats {
    size_t frames, lines;
    double det_s; /* detector: input fill, model run and box extraction */
    double rec_s; /* recogniser: cropping, model runs and decoding */
};

/* The stats of a state created by aitag_analyzer_text.create (borrowed). */
const struct text_stats *an_text_stats(void *state);

#endif
