/*
 * analyzers_int.h - internals of src/analyzers: the analyzers the registry lists. Each
 * analyzer lives in its own file and exports only its ops table.
 */
#ifndef AITAG_ANALYZERS_INT_H
#define AITAG_ANALYZERS_INT_H

#include "aitag/analyzer.h"

extern const struct aitag_analyzer_ops aitag_analyzer_faces;
extern const struct aitag_analyzer_ops aitag_analyzer_text;
extern const struct aitag_analyzer_ops aitag_analyzer_objects;
extern const struct aitag_analyzer_ops aitag_analyzer_nsfw;
extern const struct aitag_analyzer_ops aitag_analyzer_pose;
extern const struct aitag_analyzer_ops aitag_analyzer_face_attrs;
extern const struct aitag_analyzer_ops aitag_analyzer_vlm;
extern const struct aitag_analyzer_ops aitag_analyzer_cues;
extern const struct aitag_analyzer_ops aitag_analyzer_speech;

/* custom.c: makes an analyzer of each custom manifest in manifest_dir and offers it to add(),
 * which returns 1 when it took it and 0 when the name is taken. Called by the registry with
 * its lock held. Returns the number added, or < 0 with err set. */
int aitag_custom_scan(const char *manifest_dir, const char *weights_dir,
                      int (*add)(const struct aitag_analyzer_ops *ops), char *err, size_t errlen);

/* geometry.c: box arithmetic shared by the detectors. */
float an_clamp01(float v);
/* A view pixel's x (y) as a normalised upright-source coordinate, clamped to [0, 1]. */
float an_source_x(const struct aitag_frame *fr, const struct aitag_view *v, float vx);
float an_source_y(const struct aitag_frame *fr, const struct aitag_view *v, float vy);
/* The view-pixel box vb (x0, y0, x1, y1) as a normalised source box in out; returns 0 when
 * nothing of it is left after clamping (a box wholly in the padding), else 1. */
int an_source_box(const struct aitag_frame *fr, const struct aitag_view *v, const float vb[4],
                  struct aitag_box *out);
/* Intersection over union of two boxes (x0, y0, x1, y1); 0 when disjoint or degenerate. */
float an_iou(const float a[4], const float b[4]);
/* Cuts a size x size RGB crop into dst (packed RGB24) through the affine map m from crop to
 * view pixels (see geometry.c). */
void an_crop_affine(const struct aitag_view *v, const float m[6], int size, uint8_t *dst);
/* Cuts a size x size RGB crop centred on (cx, cy) (view pixels), `side` pixels wide, its x
 * axis along `angle` (radians, y down), into dst (packed RGB24); bilinear, black outside. */
void an_crop_aligned(const struct aitag_view *v, float cx, float cy, float side, float angle,
                     int size, uint8_t *dst);

#endif
