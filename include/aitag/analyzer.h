/*
 * aitag/analyzer.h - the analyzer interface: the one shape every frame analyzer has, and the
 * graph that runs a set of them.
 *
 * An analyzer declares the frame views it needs (sizes and fit), runs on a batch of frames
 * and appends evidence (aitag/evidence.h). It may consume the evidence of other analyzers:
 * face_attrs reads the faces analyzer's boxes and keypoints, pose the objects analyzer's
 * persons. The pipeline knows nothing else about it: built-ins plug in by adding an entry to
 * the registry (src/analyzers/registry.c), custom models by a manifest (docs/models.md).
 *
 * The graph (aitag_graph_*) is how analyzers are run: it creates the asked analyzers, adds
 * the ones they consume that were not asked for, applies options, orders them so that every
 * producer runs before its consumers (the asked order otherwise), and runs each once per
 * frame, handing each consumer its producers' evidence for the same frames as typed values.
 * So a model that two analyzers need runs once: tagging with faces,face_attrs runs BlazeFace
 * once per frame (per pass: faces' mirrored view is a second pass by design), and
 * objects,pose runs CenterNet once per frame per pass.
 *
 * Analyzers that were only added as dependencies are "not asked": they run, their evidence
 * reaches their consumers, but aitag_graph_run() does not hand it out, so asking for
 * face_attrs alone stores and tags exactly what it stored before. Their results are not
 * recorded as analyses either (see the pipeline), so a later run that asks for them runs
 * them. The identity of a consumer's results includes its producers': aitag_graph_key() of
 * pose is pose's own key() followed by "[<objects' key>]", so changing an objects option
 * redoes pose too.
 *
 * Usage, one analyzer alone:
 *     const struct aitag_analyzer_ops *ops = aitag_analyzer_find("faces");
 *     void *st;
 *     ops->create(ops, inf, &st, err, sizeof err);  // parses manifests; loads no model
 *     if (ops->configure) ops->configure(st, "flip", "0", err, sizeof err);
 *     if (ops->ready) ops->ready(st, err, sizeof err);
 *     n = ops->views(st, specs, AITAG_MAX_VIEWS);   // hand these to the sampler
 *     ops->run(st, frames, n_frames, NULL, &evidence, err, sizeof err);  // loads lazily
 *     ops->destroy(st);
 * Usage, a graph (analyzers that consume others must run this way):
 *     const char *names[] = {"face_attrs"}, *opts[] = {"faces.flip=0"};
 *     struct aitag_graph *g;
 *     aitag_graph_new(inf, names, 1, opts, 1, &g, err, sizeof err);  // adds "faces"
 *     n = aitag_graph_views(g, NULL, specs, AITAG_MAX_VIEWS);
 *     aitag_graph_run(g, frames, n_frames, NULL, &evidence, err, sizeof err);
 *     aitag_graph_free(g);
 *
 * Thread-safety: run() may be called from one thread at a time per state; a graph belongs to
 * one thread at a time.
 */
#ifndef AITAG_ANALYZER_H
#define AITAG_ANALYZER_H

#include <stddef.h>

#include "aitag/common.h"
#include "aitag/evidence.h"

#include "aitag/infer.h"
#include "aitag/media.h"

struct aitag_analyzer_ops {
    const char *name;        /* "faces", "text" */
    const char *description; /* one line for --help and `aitag models list` */
    /* Parses manifests and prepares state; must not create ONNX sessions. self is this very
     * ops table, so an analyzer made from data (a custom model) finds its descriptor in the
     * structure that embeds it. */
    int (*create)(const struct aitag_analyzer_ops *self, struct aitag_infer *inf, void **state,
                  char *err, size_t errlen);
    void (*destroy)(void *state);
    /* Writes up to max view specs the analyzer needs; returns how many. */
    size_t (*views)(void *state, struct aitag_view_spec *out, size_t max);
    /* Identity of the models and parameters in use (no model loading): equal keys mean equal
     * evidence for equal frames and equal consumed evidence. Borrowed, valid while state
     * lives. */
    const char *(*key)(void *state);
    /* Analyses n frames and appends evidence to out. in holds the evidence of the analyzers
     * consumes() names, for exactly these frames (an item belongs to the frame whose t it
     * has), NULL when it consumes nothing. Returns 0 or < 0 with err set. */
    int (*run)(void *state, struct aitag_frame *const *frames, size_t n,
               const struct aitag_evidence_list *in, struct aitag_evidence_list *out, char *err,
               size_t errlen);
    /* Names of the models this analyzer uses, NULL-terminated (static). */
    const char *const *models;
    /* Optional (NULL for analyzers without settings): applies one option "key" = "value"
     * after create() and before views()/key()/run(). Returns 0, or AITAG_ERR_INVALID with err
     * naming the key (unknown key, bad value). Options that change results must show in key(). */
    int (*configure)(void *state, const char *key, const char *value, char *err, size_t errlen);
    /* Optional: called once after the last configure(), before views()/key()/run(), to check
     * that required options are there and to prepare. Returns 0 or < 0 with err set. */
    int (*ready)(void *state, char *err, size_t errlen);
    /* Optional: the analyzers whose evidence run() needs, NULL-terminated, or NULL for none.
     * Asked after ready(), so it may depend on options and manifests (pose consumes objects
     * only in its person-box mode). Borrowed, valid while state lives. */
    const char *const *(*consumes)(void *state);
    /* Frames per run() that pay off (a model with a free batch dimension): the graph hands
     * up to this many frames of one media file at once. 0 or 1: one frame at a time. */
    int batch;
    /* 1 for an analyzer that calls a service itself (vlm): when the tagger analyses through a
     * remote executor (`aitag tag --gateway`), it still runs here, on frames decoded here. */
    int runs_here;
    /* Optional (NULL for frame-only analyzers): called once per media item after its last
     * frame, with the file itself, for what frames do not show (cues reads the audio track).
     * path is where the item's bytes are read, probe what sampling found, interval the
     * seconds between its sampled frames (0 for images), lim what is left of the item's
     * limits for reading its sound (aitag/media.h; NULL: the defaults). Appends evidence of
     * any time to out. Returns 0 or < 0 with err set (the item then fails like a failing
     * run()). */
    int (*item)(void *state, const char *path, const struct aitag_probe *probe, double interval,
                const struct aitag_audio_limits *lim, struct aitag_evidence_list *out, char *err,
                size_t errlen);
};

/* The registry. find returns NULL for an unknown name. */
const struct aitag_analyzer_ops *aitag_analyzer_find(const char *name);
/* All registered analyzers; returns their count. Borrowed static array. */
size_t aitag_analyzer_all(const struct aitag_analyzer_ops *const **out);

/* The graph: a set of analyzers in run order (producers first). */
struct aitag_graph;

#define AITAG_GRAPH_MAX 16 /* analyzers in one graph, dependencies included */

/*
 * Creates the analyzers names[0..n) (duplicates ignored) and, recursively, those they consume,
 * applies the options opts[0..n_opts) ("NAME.key=value", each naming an analyzer of the graph)
 * and orders them. The analyzers share inf (borrowed; must outlive the graph).
 * Returns 0 with *out (free with aitag_graph_free), or < 0 with err naming the analyzer or
 * option at fault: AITAG_ERR_INVALID for an unknown name, a bad option, a cycle or more than
 * AITAG_GRAPH_MAX analyzers; what create() returned otherwise.
 */
int aitag_graph_new(struct aitag_infer *inf, const char *const *names, size_t n,
                    const char *const *opts, size_t n_opts, struct aitag_graph **out, char *err,
                    size_t errlen);
void aitag_graph_free(struct aitag_graph *g);

/* Number of analyzers, dependencies included; index i = 0 .. size-1 in run order. */
size_t aitag_graph_size(const struct aitag_graph *g);
const struct aitag_analyzer_ops *aitag_graph_ops(const struct aitag_graph *g, size_t i);
void *aitag_graph_state(const struct aitag_graph *g, size_t i);
/* 1 when analyzer i was asked for, 0 when it is only a dependency. */
int aitag_graph_asked(const struct aitag_graph *g, size_t i);
/* The identity of analyzer i's results: its key() followed by " [<key of each analyzer it
 * consumes>]", recursively. Borrowed, valid while g lives. */
const char *aitag_graph_key(const struct aitag_graph *g, size_t i);
/* Index of the analyzer named name, or -1. */
int aitag_graph_find(const struct aitag_graph *g, const char *name);
/* Frames per run() the graph would batch: the largest `batch` of its analyzers, at least 1. */
size_t aitag_graph_batch(const struct aitag_graph *g);

/* The analyzers that run when want[i] is set for some analyzers (NULL: all asked ones):
 * want plus everything it consumes, recursively, into run[0..size). */
void aitag_graph_closure(const struct aitag_graph *g, const int *want, int *run);

/* Writes the union of the views of the analyzers that run for want (as in closure), up to max;
 * returns how many. */
size_t aitag_graph_views(const struct aitag_graph *g, const int *want, struct aitag_view_spec *out,
                         size_t max);

/*
 * Runs the analyzers that want needs (aitag_graph_closure; want NULL: the asked ones) on n
 * frames of one media file, each analyzer once over the n frames, producers first, and appends
 * the evidence of the wanted analyzers to out, frame by frame (a frame's items in run order).
 * Evidence of dependencies that are not wanted reaches their consumers only. Frames must have
 * distinct t. Returns 0, or
 * < 0 with err "analyzer NAME: ..." (out then holds what finished frames gave: nothing of
 * these n frames).
 */
int aitag_graph_run(struct aitag_graph *g, struct aitag_frame *const *frames, size_t n,
                    const int *want, struct aitag_evidence_list *out, char *err, size_t errlen);

/*
 * Runs the item() hook of the analyzers that want asks for (want NULL: the asked ones; only
 * wanted analyzers, not their producers) once for a media item, after its frames (see
 * aitag_analyzer_ops.item), appending their evidence to out. Returns 0, or < 0 with err
 * "analyzer NAME: ..." (out then holds nothing of this call).
 */
int aitag_graph_run_item(struct aitag_graph *g, const int *want, const char *path,
                         const struct aitag_probe *probe, double interval,
                         const struct aitag_audio_limits *lim, struct aitag_evidence_list *out,
                         char *err, size_t errlen);

#endif
