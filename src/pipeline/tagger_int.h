/* tagger_int.h - the tagger's state, shared by plan.c, decode.c and tagger.c. */
#ifndef AITAG_TAGGER_INT_H
#define AITAG_TAGGER_INT_H

#include <pthread.h>

#include "adaptive.h"
#include "aitag/analyzer.h"
#include "aitag/catalog.h"
#include "aitag/infer.h"
#include "aitag/pipeline.h"
#include "queue.h"
#include "walk.h"

#define MAX_ANALYZERS AITAG_GRAPH_MAX
#define MAX_BATCH 16 /* frames handed to the graph at once, at most */
/* Claims (aitag/catalog.h "Claims"): an item's claim lasts this long unless renewed, and is
 * renewed this often while the run holds it. */
#define CLAIM_LEASE_MS 120000
#define CLAIM_RENEW_S 20.0

struct work {
    const char *path; /* borrowed from the walk list: the item's identity */
    const char *src;  /* where its bytes are read: path, or the run's descriptor */
    char error[512];  /* planning failure; "" if none */
    int64_t size, mtime_ns;
    char fingerprint[17];
    int64_t media_id;        /* 0 when new */
    int need[MAX_ANALYZERS]; /* 1: asked analyzer i must run and be stored (graph index) */
    int n_need;
    struct aitag_probe probe;
    int probed;
    int dropped; /* the decoder could not allocate its END (out of memory): reported failed
                  * once the decoder thread is joined */
};

/* MSG_ROUND (adaptive sampling): the frames of one round are all queued; the decoder waits
 * for the next round's times in the tagger's plan box. */
enum msg_kind { MSG_FRAME, MSG_END, MSG_ROUND };

struct msg {
    enum msg_kind kind;
    size_t item;
    struct aitag_frame *frame; /* MSG_FRAME: owned by the message */
    /* MSG_END: how sampling went */
    int rc;
    char error[512];
    struct aitag_probe probe;
    int truncated;
    char strategy[16];
    double decode_seconds;
    /* MSG_END of an item analysed (in part) through params.remote: that evidence and its frame
     * count; frames of analyzers that run here (runs_here) may have come before it */
    int remote;
    struct aitag_evidence_list evidence;
    int n_frames;
    long frames_decoded;      /* MSG_END: frames the decoder decoded for the item */
    struct aitag_shot *shots; /* MSG_END: owned, the shots found while sampling */
    size_t n_shots;
    struct adaptive_plan *plan; /* MSG_ROUND of the first round: owned, the item's planner */
    int elsewhere; /* MSG_END: another run stored the item meanwhile; reported as stored */
};

/* The analysis thread's answer to a MSG_ROUND: the next times (none: the item is done). */
struct plan_box {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct adaptive_req *req; /* owned by the box until taken */
    size_t n;
    int ready, closed;
};

struct aitag_tagger {
    struct aitag_tagger_params p;
    struct aitag_infer *infer;
    struct aitag_policy *policy;
    struct aitag_concepts *concepts; /* the policy's parent categories, or NULL */
    struct aitag_catalog *catalog;   /* NULL in a dry run without a catalog file */
    /* the decoder thread's own connection, for claims (NULL in a dry run), and the run's
     * name as a claim holder */
    struct aitag_catalog *claims;
    struct aitag_claim_owner owner;
    struct aitag_graph *graph; /* the analyzers, dependencies included, in run order */
    char *keys[MAX_ANALYZERS]; /* graph key + sampling: what the catalog records */
    size_t n_ops;              /* aitag_graph_size(graph) */
    int decode_threads, infer_threads;
    char errmsg[512];
    /* per run */
    struct walk_list walk;
    struct work *works;
    size_t n_works;
    struct queue q;
    struct plan_box box;
    double started;
    int n_moved;   /* items found at a new path (plan.c) */
    int n_missing; /* items marked missing (or, in a dry run, that would be) */
    char src[32];  /* aitag_tagger_run_fd: "/proc/self/fd/N", read for its one item; else "" */
};

/* True when analyzer i of t runs through the remote executor rather than on frames decoded
 * here (every analyzer but those that call a service themselves, when params.remote is set). */
static inline int tagger_runs_remote(const struct aitag_tagger *t, size_t i)
{
    return t->p.remote && !aitag_graph_ops(t->graph, i)->runs_here;
}

/* The analyzers of w that run on frames decoded here (graph indexes), for aitag_graph_run. */
static inline void tagger_local_want(const struct aitag_tagger *t, const struct work *w, int *want)
{
    for (size_t i = 0; i < t->n_ops; i++)
        want[i] = w->need[i] && !tagger_runs_remote(t, i);
}

/* plan.c: the run's limits per item (the tagger's params, defaults applied) into sp. */
void tagger_sampler_limits(const struct aitag_tagger *t, struct aitag_sampler_params *sp);
/* plan.c: fills works[] from the walk list and the catalog. */
int tagger_plan(struct aitag_tagger *t);
/* plan.c: plans w again against what c stores now (another run may have stored it since):
 * drops from w->need the analyzers stored with the current keys (none with --force). 1 nothing
 * left to do, 0 some, < 0 a catalog error (its message on c). */
int tagger_recheck(struct aitag_tagger *t, struct aitag_catalog *c, struct work *w);
/* plan.c: true when path no longer names a file (its folder may be gone too). Other errors,
 * like permission denied, don't prove anything is gone. */
int tagger_gone(const char *path);
/* plan.c: marks the items stored at or below paths (as given to the run) whose files are gone
 * as missing (counted only in a dry run). 0 or < 0 with t->errmsg set. */
int tagger_mark_missing(struct aitag_tagger *t, const char *const *paths, size_t n);
/* decode.c: the decoder thread's body (arg = the tagger). */
void *tagger_decode_main(void *arg);
/* decode.c: frees a message and what it owns (frame, evidence, shots, plan). NULL: no-op. */
void tagger_msg_free(struct msg *m);
/* decode.c: the plan box. put hands req (owned) to the decoder; close wakes it for good (its
 * take then fails); take waits for an answer, the box closing or the run's cancel flag: 0 with
 * *req, *n (caller frees), or -1. */
int tagger_box_init(struct plan_box *b);
void tagger_box_destroy(struct plan_box *b);
void tagger_box_put(struct plan_box *b, struct adaptive_req *req, size_t n);
void tagger_box_close(struct plan_box *b);
int tagger_box_take(struct plan_box *b, atomic_int *cancel, struct adaptive_req **req, size_t *n);

#endif
