/*
 * decode.c - the decoder thread: samples every planned file into the frame queue.
 *
 * It asks the sampler for the union of the views that the file's pending analyzers need, so
 * each frame is decoded once and scaled once per distinct input size. It ends every item with
 * an END message carrying how sampling went, and closes the queue when all items are done or
 * the run is cancelled; inference never waits on a thread that has quit. With a remote
 * executor it asks the executor for each item's evidence first and ends the item with it, so
 * the consumer commits remote and local evidence the same way; it samples frames only for
 * analyzers that run here even then (those that call a service themselves, like vlm).
 */
#include <stdlib.h>
#include <string.h>

#include "tagger_int.h"

/* Samples item idx for the analyzers that run on frames here and pushes its frames, then its
 * END message: remote_end when the remote executor analysed the rest (it is completed with how
 * sampling went), a new one otherwise. */
static void sample_item(struct aitag_tagger *t, size_t idx, struct msg *remote_end)
{
    struct work *w = &t->works[idx];
    struct aitag_view_spec views[AITAG_MAX_VIEWS];
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct msg *end = remote_end ? remote_end : calloc(1, sizeof *end);
    size_t nv = 0;
    double t0 = aitag_now();
    int rc;

    if (!end) {
        w->dropped = 1; /* out of memory: reported failed after the decoder is joined */
        return;
    }
    end->kind = MSG_END;
    end->item = idx;
    {
        int want[MAX_ANALYZERS];
        tagger_local_want(t, w, want);
        nv = aitag_graph_views(t->graph, want, views, AITAG_MAX_VIEWS);
    }
    sp.interval = t->p.interval;
    sp.threads = t->decode_threads;
    sp.views = views;
    sp.n_views = nv;
    sp.strategy = t->p.sampler_strategy;
    sp.sampling = t->p.sampling;
    sp.skip_deblock = t->p.sampling == AITAG_SAMPLING_KEYFRAMES;
    sp.max_pixels = t->p.max_pixels;
    rc = aitag_sampler_open(w->src, &sp, &s, end->error, sizeof end->error);
    if (rc < 0)
        goto done;
    end->probe = *aitag_sampler_probe(s);
    aitag_fmt(end->strategy, sizeof end->strategy, "%s", aitag_sampler_strategy(s));
    for (;;) {
        struct aitag_frame *f = NULL;
        struct msg *m;

        if (t->p.cancel && atomic_load(t->p.cancel)) {
            rc = AITAG_ERR_CANCELED;
            aitag_fmt(end->error, sizeof end->error, "canceled");
            break;
        }
        rc = aitag_sampler_next(s, &f);
        if (rc <= 0) {
            if (rc < 0)
                aitag_fmt(end->error, sizeof end->error, "%s", aitag_sampler_errmsg(s));
            break;
        }
        m = calloc(1, sizeof *m);
        if (!m) {
            aitag_frame_free(f);
            rc = AITAG_ERR_NOMEM;
            aitag_fmt(end->error, sizeof end->error, "out of memory");
            break;
        }
        m->kind = MSG_FRAME;
        m->item = idx;
        m->frame = f;
        if (pipeline_queue_push(&t->q, m) < 0) {
            aitag_frame_free(f);
            free(m);
            rc = AITAG_ERR_CANCELED;
            break;
        }
    }
    end->truncated = rc == 0 && aitag_sampler_truncated(s);
done:
    end->rc = rc;
    end->decode_seconds += aitag_now() - t0;
    aitag_sampler_close(s);
    if (pipeline_queue_push(&t->q, end) < 0) {
        aitag_evidence_list_clear(&end->evidence);
        free(end);
    }
}

/* An item analysed elsewhere: the END message with the remote executor's evidence, not yet
 * pushed. The local probe (taken while planning, from the same file) stands for the sampler's. */
static struct msg *remote_item(struct aitag_tagger *t, size_t idx)
{
    struct work *w = &t->works[idx];
    const char *names[MAX_ANALYZERS], *keys[MAX_ANALYZERS];
    struct aitag_remote_result res;
    struct msg *end = calloc(1, sizeof *end);
    size_t n = 0;
    double t0 = aitag_now();

    if (!end)
        return NULL;
    memset(&res, 0, sizeof res);
    end->kind = MSG_END;
    end->item = idx;
    end->remote = 1;
    for (size_t i = 0; i < t->n_ops; i++) {
        if (!w->need[i] || !tagger_runs_remote(t, i))
            continue;
        names[n] = aitag_graph_ops(t->graph, i)->name;
        keys[n] = t->keys[i];
        n++;
    }
    end->rc = t->p.remote(t->p.remote_ctx, w->path, names, keys, n, t->p.interval, &res,
                          end->error, sizeof end->error);
    if (end->rc < 0) {
        if (!end->error[0])
            aitag_fmt(end->error, sizeof end->error, "remote analysis failed");
        aitag_evidence_list_clear(&res.evidence);
    } else {
        end->evidence = res.evidence;
        end->n_frames = res.n_frames;
        end->truncated = res.truncated;
        aitag_fmt(end->strategy, sizeof end->strategy, "%s", res.strategy);
    }
    end->probe = w->probe;
    end->decode_seconds = aitag_now() - t0;
    return end;
}

static void push_end(struct aitag_tagger *t, struct msg *end)
{
    if (pipeline_queue_push(&t->q, end) < 0) {
        aitag_evidence_list_clear(&end->evidence);
        free(end);
    }
}

void *tagger_decode_main(void *arg)
{
    struct aitag_tagger *t = arg;

    for (size_t i = 0; i < t->n_works; i++) {
        if (t->p.cancel && atomic_load(t->p.cancel))
            break;
        if (t->works[i].error[0] || t->works[i].n_need == 0)
            continue;
        struct work *w = &t->works[i];
        struct msg *end = NULL;
        int remote = 0, here = 0;

        for (size_t k = 0; k < t->n_ops; k++) {
            remote += w->need[k] && tagger_runs_remote(t, k);
            here += w->need[k] && !tagger_runs_remote(t, k);
        }
        if (remote && !(end = remote_item(t, i))) {
            w->dropped = 1; /* out of memory: reported failed after the decoder is joined */
            continue;
        }
        if (here && (!end || end->rc == 0))
            sample_item(t, i, end);
        else
            push_end(t, end);
    }
    pipeline_queue_close(&t->q);
    return NULL;
}
