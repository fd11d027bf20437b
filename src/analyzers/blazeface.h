/*
 * blazeface.h - MediaPipe BlazeFace post-processing (internal to src/analyzers): anchors,
 * box decoding and weighted non-maximum suppression. Pure arithmetic, no ONNX Runtime, so the
 * unit tests can drive it with hand-made tensors.
 */
#ifndef AITAG_BLAZEFACE_H
#define AITAG_BLAZEFACE_H

#include <stddef.h>

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

#endif
