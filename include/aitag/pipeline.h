/*
 * aitag/pipeline.h - the tagger: paths in, catalog results out, with decode and inference
 * overlapped.
 *
 * Usage:
 *     struct aitag_tagger_params tp = aitag_tagger_default_params();
 *     tp.catalog_path = "aitag.db"; tp.analyzers = names; tp.n_analyzers = 2;
 *     tp.on_item = print_item; tp.ctx = &state;
 *     struct aitag_tagger *t;
 *     if (aitag_tagger_new(&tp, &t, err, sizeof err) < 0) die(err);
 *     struct aitag_summary sum;
 *     aitag_tagger_run(t, paths, n_paths, &sum);
 *     aitag_tagger_free(t);
 *
 * Flow: paths are expanded (folders recursively, symlink loops detected, a file reached twice
 * taken once) and planned: each
 * file is fingerprinted and looked up in the catalog to find which analyzers still need to run
 * (none for an unchanged file analysed with the same models and parameters, unless force).
 * A decoder thread samples the files that need work into a bounded frame queue; the calling
 * thread runs the analyzers on those frames and commits each finished item to the catalog in
 * one transaction. Models load on first use, so a run with nothing to do loads none.
 * Housekeeping on the way: a known file found under a new path (same size and fingerprint,
 * old path gone) moves its item instead of being analysed again, and items stored at or below
 * the paths given whose files are gone are marked missing (see aitag/catalog.h).
 * Thread budget: `threads` CPU threads are split between FFmpeg decoding and ONNX Runtime.
 */
#ifndef AITAG_PIPELINE_H
#define AITAG_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>

#include "aitag/catalog.h"
#include "aitag/media.h"
#include "aitag/policy.h"

enum aitag_item_status {
    AITAG_ITEM_TAGGED = 0,  /* analysed now and stored */
    AITAG_ITEM_SKIPPED = 1, /* unchanged and already analysed: nothing ran */
    AITAG_ITEM_FAILED = 2,  /* could not be analysed; see error */
    AITAG_ITEM_PARTIAL = 3, /* stored, but the file was truncated or partly undecodable */
    AITAG_ITEM_PLANNED = 4, /* dry run: would be analysed */
};

const char *aitag_item_status_name(enum aitag_item_status s);

struct aitag_item_report {
    const char *path;
    enum aitag_item_status status;
    const char *error;                 /* NULL unless FAILED or PARTIAL */
    const struct aitag_probe *probe;   /* NULL when the file could not be probed */
    const struct aitag_result *result; /* NULL for FAILED/PLANNED */
    double seconds;                    /* wall time spent on this item */
    const char *const *ran;            /* analyzers that ran now */
    size_t n_ran;
    size_t index, total; /* progress: item index (1-based) of total */
};

/* Progress of a run, reported through on_progress when an item starts, after each frame
 * analysed and when an item ends (so several times a second on a busy run: throttle drawing).
 * Work is measured in seconds of media to analyse: a video counts its duration, a photo one
 * second; items with nothing to analyse (unchanged, failed while planning) count nothing. */
struct aitag_progress {
    size_t done, total;   /* items reported (skipped ones included) of all items */
    double media_done;    /* seconds of media analysed, the item in flight up to the
                             timestamp of its last analysed frame included */
    double media_total;   /* seconds of media to analyse in this run */
    double current_done;  /* of those, seconds of the item in flight analysed */
    double current_total; /* its length in seconds (0 when none is in flight) */
    double elapsed;       /* seconds since the run started */
    double eta;           /* seconds left, from the media seconds analysed per second of
                             analysis so far (< 0: not known yet) */
    const char *current;  /* path being analysed, may be NULL */
};

/* What a remote executor (e.g. an aitag gateway, see aitag/gateway.h) hands back for one item:
 * the evidence of the analyzers asked, exactly as local analysis would have produced it. */
struct aitag_remote_result {
    struct aitag_evidence_list evidence; /* owned by the tagger once returned */
    int n_frames;                        /* frames sampled */
    int truncated;                       /* the file decoded only in part */
    char strategy[16];                   /* the sampler strategy used */
};

/* Runs the analyzers named (with their local analysis keys, parallel) on path somewhere else.
 * Called from the tagger's decoder thread, one item at a time. Returns 0 with out filled, or
 * < 0 with a message in err (the item fails; the run goes on). */
typedef int (*aitag_remote_fn)(void *remote_ctx, const char *path, const char *const *analyzers,
                               const char *const *keys, size_t n, double interval,
                               struct aitag_remote_result *out, char *err, size_t errlen);

/* The vlm analyzer's settings as a sink gives them (the CLI's --vlm-* options, the plugin's
 * vlm* settings). NULL or "" keeps the analyzer's default; so do 0 flags. */
struct aitag_vlm_settings {
    const char *url, *route, *key_env, *vocabulary;
    double every; /* seconds between calls; 0 every sampled frame; < 0 the analyzer's default */
    int describe, local_only;
};
#define AITAG_VLM_MAX_OPTS 7   /* options aitag_vlm_options writes at most */
#define AITAG_VLM_OPT_LEN 4200 /* bytes per option, "vlm.vocabulary=" and a path */
/* The "vlm.key=value" analyzer options (aitag_tagger_params.analyzer_opts) for s, written into
 * buf[i] and pointed to by out[i] (AITAG_VLM_MAX_OPTS each): every sink builds them here.
 * Returns how many. */
size_t aitag_vlm_options(const struct aitag_vlm_settings *s, char (*buf)[AITAG_VLM_OPT_LEN],
                         const char **out);

struct aitag_tagger_params {
    const char *catalog_path;
    const char *const *analyzers; /* names from the registry */
    size_t n_analyzers;
    /* Analyzer options "NAME.key=value" (e.g. "vlm.url=http://127.0.0.1:8089/v1"), applied to
     * analyzer NAME after it is created; an option for an analyzer not in `analyzers` or a key
     * it does not know is an error naming it. Borrowed. */
    const char *const *analyzer_opts;
    size_t n_analyzer_opts;
    const char *manifest_dir;
    const char *weights_dir;
    const char *rules_path; /* optional policy rules file */
    /* context rules files (aitag/context.h), loaded in order: a rule of a later file replaces
     * the one of the same name (the shipped defaults first, the user's file last) */
    const char *const *context_paths;
    size_t n_context_paths;
    const char *tag_prefix; /* NULL: the rules file's; else replaces it (policy applies it) */
    const char *tag_suffix; /* NULL: the rules file's; else replaces it */
    float threshold;        /* < 0: keep the policy's */
    int markers;            /* 1 markers on (default), 0 off */
    double interval;        /* seconds between sampled frames; default 2 */
    int threads;            /* CPU budget; default 2 */
    int force;              /* re-analyse even when unchanged */
    int dry_run;            /* plan and report only; write nothing, run nothing */
    int queue_frames;       /* bounded queue depth in frames; default 8 */
    int sampler_strategy;   /* 0 auto, 1 sequential, 2 seek (see media.h) */
    int sampling;           /* 0 exact, 1 keyframes: approximate, faster, 2 adaptive:
                               coarse to fine, more frames only where findings change (enum
                               aitag_sample_pick; keyframes and adaptive also skip deblocking
                               frames decoded only as references); part of the analysis key */
    void (*on_item)(void *ctx, const struct aitag_item_report *r);
    void (*on_progress)(void *ctx, const struct aitag_progress *p);
    void *ctx;
    atomic_int *cancel; /* optional: set non-zero to stop after the item in flight; read from
                         * the decoder thread too, hence atomic (a handler may store to it) */
    /* optional: analyse items through remote() instead of decoding and running models here.
     * Planning (fingerprints, the catalog, analysis keys from the local manifests) and the
     * commit stay local, so the catalog is the same either way; no model is loaded here. */
    aitag_remote_fn remote;
    void *remote_ctx;
    int64_t max_pixels; /* pictures over this many pixels fail from their header, before any
                           decoding (aitag/media.h); <= 0 = AITAG_MEDIA_MAX_PIXELS_DEFAULT */
    /* Limits per item against hostile files (aitag/media.h, docs/limits.md): an item over one
     * fails with an error naming it and the run goes on. <= 0: the media defaults, and
     * AITAG_ITEM_TIMEOUT_DEFAULT for the time. */
    double max_duration; /* seconds of video */
    int64_t max_frames;  /* frames decoded */
    int max_streams;     /* streams in the container */
    double item_timeout; /* wall-clock seconds from opening an item to its last frame */
    double item_cpu;     /* CPU seconds of the whole process over the same span; <= 0: none
                            (a process tagging several items at once, like the gateway, would
                            count the others' work) */
};

/* The wall-clock budget per item, generous enough for hours of 4K video decoded frame by frame
 * on two cores: six hours. */
#define AITAG_ITEM_TIMEOUT_DEFAULT 21600.0

struct aitag_tagger_params aitag_tagger_default_params(void);

/* How a CPU budget of `threads` is split: FFmpeg decoding threads and ONNX Runtime intra-op
 * threads. Both sides may use most of the budget at once: a decoder blocked on the full queue
 * and an idle (non-spinning) ONNX Runtime thread cost nothing, so whichever stage is the
 * bottleneck gets the cores (BENCHMARKS.md: decoding 1080p H.264 with 2 threads is 1.4x faster
 * than with 1). */
void aitag_tagger_thread_split(int threads, int *decode, int *infer);

struct aitag_summary {
    int tagged, skipped, failed, partial, planned;
    int not_reached;      /* items never reached: the run was cancelled before them */
    double seconds;       /* wall time of the run */
    double media_seconds; /* seconds of video analysed and stored by this run */
    int models_run;       /* analyzer runs on frames (dependencies included); 0 when nothing needed
                             work */
    long frames;          /* frames analysed (here or on a gateway); 0 when nothing needed work */
    long frames_decoded;  /* frames the decoder decoded here, analysed or not (references,
                             frames skipped over); 0 for remote analysis */
    int moved;            /* known files found at a new path: moved there, nothing re-analysed */
    int missing; /* items at or below the paths given whose files are gone: marked missing (a dry
                    run only counts them) */
};

struct aitag_tagger;

/* The files aitag_tagger_run would consider for paths: a file as itself, a folder recursively
 * (files with a known media extension, hidden entries skipped, sorted), symlinks followed with
 * loop detection, duplicates dropped, each absolute and normalised. fn gets each file, error
 * non-NULL when it can't be used (missing, a loop: why); fn returning non-zero stops with
 * that value. 0, AITAG_ERR_NOMEM, or fn's value. */
int aitag_media_files(const char *const *paths, size_t n,
                      int (*fn)(void *ctx, const char *path, const char *error), void *ctx);

/* Validates params (unknown analyzer, bad rules file, unopenable catalog are errors with a
 * message in errbuf) and prepares analyzers without loading any model. */
int aitag_tagger_new(const struct aitag_tagger_params *p, struct aitag_tagger **out, char *errbuf,
                     size_t errlen);
/* Tags paths (files or folders). Per-item failures are reported through on_item and counted;
 * the return value is < 0 only for failures of the run itself (catalog unusable). A catalog
 * that can take no more writes (its disk full, its file damaged: aitag_catalog_write_blocked)
 * stops the run after the item it refused: AITAG_ERR_DB with the catalog's words in
 * aitag_tagger_errmsg, *sum counting what was done (not_reached: the items left for the next
 * run); every item stored before stays stored. */
int aitag_tagger_run(struct aitag_tagger *t, const char *const *paths, size_t n,
                     struct aitag_summary *sum);
/* Tags one file whose bytes are read through the open descriptor fd (a regular file; the
 * caller keeps it open for the call) and whose catalog identity, and reported path, is path:
 * the file that was checked is the file read, whatever happens to path meanwhile (FFmpeg and
 * the fingerprint read "/proc/self/fd/N", which reopens that very file). Otherwise as
 * aitag_tagger_run, without marking anything missing. */
int aitag_tagger_run_fd(struct aitag_tagger *t, const char *path, int fd,
                        struct aitag_summary *sum);
const char *aitag_tagger_errmsg(const struct aitag_tagger *t);
/* True after a run stopped because its catalog can take no more writes (disk full, damaged):
 * a caller with more to do (a worker's next job) stops too. */
int aitag_tagger_write_blocked(const struct aitag_tagger *t);

/* The best face of the picture at path (its first frame for a video), embedded as the
 * face_attrs analyzer embeds faces, stored nowhere: for reference faces (a Stash performer's
 * image, aitag/people.h). face_attrs must be one of the tagger's analyzers; it runs here or
 * through the remote executor, as for tagging. The best face is the one of highest quality
 * (aitag_face_quality), the larger one on a tie. Returns 1 with *embedding (dim floats,
 * L2-normalised, malloc'd), *quality and model (the embedding model's identity, as the
 * catalog stores it for faces) filled; 0 when the picture has no face of quality > 0; < 0
 * with a reason in err (unreadable picture, model failure, no face_attrs). */
int aitag_tagger_best_face(struct aitag_tagger *t, const char *path, float **embedding, size_t *dim,
                           float *quality, char *model, size_t model_len, char *err, size_t errlen);
/* How often model `model` ran in this tagger's runs so far (successful Run calls, and the
 * batch items they carried; 0 if the tagger never opened it). Each analyzer runs once per
 * frame and a model shared by two analyzers (BlazeFace under faces and face_attrs) runs for
 * one of them only, so tests check runs against frames. Returns 0 or AITAG_ERR_NOTFOUND. */
int aitag_tagger_model_counts(const struct aitag_tagger *t, const char *model,
                              unsigned long long *runs, unsigned long long *items);
/* The policy the tagger derives results with (its rules, context and categories): for a sink
 * that re-derives an item after a correction. Borrowed; lives as long as t. */
const struct aitag_policy *aitag_tagger_policy(const struct aitag_tagger *t);
void aitag_tagger_free(struct aitag_tagger *t);

/* Gives p the parent categories of labels (categories.c): the concepts file
 * <manifest_dir>/context/concepts.json read through WordNet ("dog" under "animal"). *out is
 * the handle p now borrows (free it with aitag_concepts_close after p), NULL when there is no
 * file or no WordNet database (a warning; no categories). 0, or < 0 with err naming the file
 * and field of a broken concepts file. */
struct aitag_concepts;
int aitag_policy_use_categories(struct aitag_policy *p, const char *manifest_dir,
                                struct aitag_concepts **out, char *err, size_t errlen);

#endif
