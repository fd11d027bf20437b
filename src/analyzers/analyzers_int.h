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

/* custom.c: makes an analyzer of each custom manifest in manifest_dir and offers it to add(),
 * which returns 1 when it took it and 0 when the name is taken. Called by the registry with
 * its lock held. Returns the number added, or < 0 with err set. */
int aitag_custom_scan(const char *manifest_dir, const char *weights_dir,
                      int (*add)(const struct aitag_analyzer_ops *ops), char *err, size_t errlen);

#endif
