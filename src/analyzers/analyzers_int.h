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

#endif
