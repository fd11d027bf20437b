/*
 * aitag/analyzer.h - the analyzer interface: the one shape every frame analyzer has.
 *
 * An analyzer declares the frame views it needs (sizes and fit), runs on a batch of frames
 * and appends evidence {label, confidence, time, box, text}. The pipeline knows nothing else
 * about it: faces, on-screen text and later objects, NSFW, pose or remote models all plug in by
 * adding an entry to the registry (src/analyzers/registry.c).
 *
 * Usage:
 *     const struct aitag_analyzer_ops *ops = aitag_analyzer_find("faces");
 *     void *st;
 *     ops->create(inf, &st, err, sizeof err);     // parses manifests; loads no model
 *     if (ops->configure) ops->configure(st, "url", "http://127.0.0.1:8089/v1", err, sizeof err);
 *     if (ops->ready) ops->ready(st, err, sizeof err);
 *     n = ops->views(st, specs, AITAG_MAX_VIEWS);  // hand these to the sampler
 *     ops->run(st, frames, n_frames, &evidence, err, sizeof err);  // loads models lazily
 *     ops->destroy(st);
 *
 * Thread-safety: run() may be called from one thread at a time per state.
 */
#ifndef AITAG_ANALYZER_H
#define AITAG_ANALYZER_H

#include <stddef.h>

#include "aitag/common.h"

#include "aitag/infer.h"
#include "aitag/media.h"

struct aitag_box {
    float x, y, w, h; /* normalised to the upright source frame, 0..1 */
};

struct aitag_evidence {
    char *analyzer;   /* owned: which analyzer produced it ("faces") */
    char *label;      /* owned: raw model label ("face", "text", "dog") */
    float confidence; /* 0..1 */
    double t;         /* seconds from the start of the media */
    int has_box;
    struct aitag_box box;
    char *text;       /* owned, may be NULL: recognised text (OCR, speech) */
    char *extra;      /* owned, may be NULL: a JSON object, e.g. {"keypoints":[...]} */
};

struct aitag_evidence_list {
    struct aitag_evidence *items;
    size_t n, cap;
};

/* Appends a copy of e (strings duplicated). Returns 0 or AITAG_ERR_NOMEM. */
int aitag_evidence_push(struct aitag_evidence_list *l, const struct aitag_evidence *e);
/* Frees every item and the array; leaves l empty and reusable. */
void aitag_evidence_list_clear(struct aitag_evidence_list *l);

struct aitag_analyzer_ops {
    const char *name;        /* "faces", "text" */
    const char *description; /* one line for --help and `aitag models list` */
    /* Parses manifests and prepares state; must not create ONNX sessions. */
    int (*create)(struct aitag_infer *inf, void **state, char *err, size_t errlen);
    void (*destroy)(void *state);
    /* Writes up to max view specs the analyzer needs; returns how many. */
    size_t (*views)(void *state, struct aitag_view_spec *out, size_t max);
    /* Identity of the models and parameters in use (no model loading): equal keys mean equal
     * evidence for equal frames. Borrowed, valid while state lives. */
    const char *(*key)(void *state);
    /* Analyses n frames and appends evidence. Returns 0 or < 0 with err set. */
    int (*run)(void *state, struct aitag_frame *const *frames, size_t n,
               struct aitag_evidence_list *out, char *err, size_t errlen);
    /* Names of the models this analyzer uses, NULL-terminated (static). */
    const char *const *models;
    /* Optional (NULL for analyzers without settings): applies one option "key" = "value"
     * after create() and before views()/key()/run(). Returns 0, or AITAG_ERR_INVALID with err
     * naming the key (unknown key, bad value). Options that change results must show in key(). */
    int (*configure)(void *state, const char *key, const char *value, char *err, size_t errlen);
    /* Optional: called once after the last configure(), before views()/key()/run(), to check
     * that required options are there and to prepare. Returns 0 or < 0 with err set. */
    int (*ready)(void *state, char *err, size_t errlen);
    /* 1 for an analyzer that calls a service itself (vlm): when the tagger analyses through a
     * remote executor (`aitag tag --gateway`), it still runs here, on frames decoded here. */
    int runs_here;
};

/* The registry. find returns NULL for an unknown name. */
const struct aitag_analyzer_ops *aitag_analyzer_find(const char *name);
/* All registered analyzers; returns their count. Borrowed static array. */
size_t aitag_analyzer_all(const struct aitag_analyzer_ops *const **out);

#endif
