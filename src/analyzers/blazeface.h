/*
 * blazeface.h - MediaPipe BlazeFace post-processing (internal to src/analyzers): anchors,
 * box decoding and weighted non-maximum suppression. Pure arithmetic, no ONNX Runtime, so the
 * unit tests can drive it with hand-made tensors.
 */
#ifndef AITAG_BLAZEFACE_H
#define AITAG_BLAZEFACE_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/infer.h"
#include "aitag/media.h"

#define BLAZEFACE_KEYPOINTS 6
#define BLAZEFACE_REG_DIM (4 + 2 * BLAZEFACE_KEYPOINTS) /* dx, dy, w, h, then 6 (x, y) */
#define BLAZEFACE_LAYERS 2
#define BLAZEFACE_ANCHORS 896 /* 16 x 16 x 2 + 8 x 8 x 6 */

/* Anchor layers in output order: a grid of cells, each with `per_cell` anchors sharing its
 * centre. The 128 (front) and 256 (back) models have the same normalised layout. */
struct blazeface_layer {
    int grid;
    int per_cell;
};
extern const struct blazeface_layer blazeface_layers[BLAZEFACE_LAYERS];

/* Number of anchors in layer i (grid * grid * per_cell). */
size_t blazeface_layer_count(int i);

/* Writes the anchor centres, normalised to the model input, into xy[2 * BLAZEFACE_ANCHORS]. */
void blazeface_anchors(float *xy);

struct blazeface_det {
    float score;
    float xmin, ymin, xmax, ymax;      /* normalised to the model input, 0..1 */
    float kp[2 * BLAZEFACE_KEYPOINTS]; /* x0, y0, ... x5, y5, same space */
};

struct blazeface_params {
    float input_size;      /* pixels of the square model input: offsets are divided by it */
    float score_threshold; /* after the sigmoid */
    float score_clip;      /* raw logits are clipped to +-this first (MediaPipe: 100) */
    float nms_iou;         /* weighted NMS merges boxes overlapping more than this */
};

/* Decodes BLAZEFACE_ANCHORS raw scores and regressors (BLAZEFACE_REG_DIM floats each) into
 * detections scoring at least the threshold. out must hold BLAZEFACE_ANCHORS items; returns
 * how many were written. */
size_t blazeface_decode(const float *scores, const float *regs, const float *anchors_xy,
                        const struct blazeface_params *p, struct blazeface_det *out);

/* MediaPipe's weighted NMS: repeatedly takes the best remaining detection, averages it with
 * every remaining one overlapping it by more than iou (weights = scores; the score stays the
 * best one's), and drops them. Works in place on d[0..n); returns the count kept, best first. */
size_t blazeface_weighted_nms(struct blazeface_det *d, size_t n, float iou);

/* Mirrors detections left-right in place (x -> 1 - x), swapping the left and right eye and
 * ear keypoints so that they keep their meaning. */
void blazeface_mirror(struct blazeface_det *d, size_t n);

/* Fuses the detections of an image (a) with those of its mirror image (b, already mirrored
 * back) into out (room for na + nb): pairs overlapping by more than iou are averaged (weights =
 * scores) with score (sa + sb) / 2; a detection without a partner scores half its own. Keeps
 * those scoring at least threshold, merged by weighted NMS; returns their count, best first.
 * Decoding both passes at a floor of 2 * threshold - 1 loses nothing: a detection whose partner
 * fell below that floor cannot reach the threshold even with a perfect score of its own. */
size_t blazeface_fuse_flip(const struct blazeface_det *a, size_t na, const struct blazeface_det *b,
                           size_t nb, float iou, float threshold, struct blazeface_det *out);

/* Intersection over union of two detections' boxes. */
float blazeface_iou(const struct blazeface_det *a, const struct blazeface_det *b);

/* Finds a run's outputs by shape: seg[0][layer] the scores ([batch, anchors of layer, 1]),
 * seg[1][layer] the regressors ([batch, anchors, 16]). Returns 0, or AITAG_ERR_MODEL with err
 * naming `model` and the missing output. */
int blazeface_map_outputs(const struct aitag_tensor *outs, size_t n, long long batch,
                          const char *model, int seg[2][BLAZEFACE_LAYERS], char *err,
                          size_t errlen);
/* Copies batch item b's scores (BLAZEFACE_ANCHORS) and regressors (BLAZEFACE_ANCHORS *
 * BLAZEFACE_REG_DIM) out of the outputs mapped by blazeface_map_outputs, in anchor order. */
void blazeface_gather(const struct aitag_tensor *outs, int seg[2][BLAZEFACE_LAYERS], size_t b,
                      float *scores, float *regs);

/* face_verify.c: the second look at a candidate face (see there). */
struct blazeface_verifier;
/* Opens model `name` (a blazeface-decoded square NHWC model, the front 128 one) for
 * verification crops `crop_scale` times the candidate's larger side. Loads nothing yet.
 * Returns 0, or < 0 with err set. */
int blazeface_verifier_new(struct aitag_infer *inf, const char *name, float crop_scale,
                           struct blazeface_verifier **out, char *err, size_t errlen);
void blazeface_verifier_free(struct blazeface_verifier *fv);
/* The verification model (for keys). */
struct aitag_model *blazeface_verifier_model(const struct blazeface_verifier *fv);
/* The verification model's score (0..1) for a face in view v whose box is (x0, y0, x1, y1)
 * and keypoints kp (BLAZEFACE_KEYPOINTS points), all in view pixels: the best detection of
 * the aligned crop that overlaps the candidate's place in it (IoU > 0.3), or 0 when none.
 * Returns 0, or < 0 with err set. */
int blazeface_verifier_score(struct blazeface_verifier *fv, const struct aitag_view *v,
                             const float box[4], const float *kp, float *score, char *err,
                             size_t errlen);
/* Keypoint layout of a candidate, measured along its eye line (all in units of the box
 * width; box and kp in any one pixel space): eye distance, nose and mouth drop below the eye
 * midpoint, and the nose's sideways offset from it. */
struct blazeface_layout {
    float eyes, nose_drop, mouth_drop, nose_side;
};
void blazeface_layout_measure(const float box[4], const float *kp, struct blazeface_layout *out);
/* 1 when the layout is one a face can have (the ranges in face_verify.c), else 0. */
int blazeface_layout_plausible(const struct blazeface_layout *l);

#endif
