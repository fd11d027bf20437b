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
 *
 * Before an item is sampled it is claimed in the catalog (aitag/catalog.h "Claims") through
 * this thread's own connection, then planned again (another run may have stored it since the
 * plan): an item another run stored needs no analysis and ends at once with an END marked
 * elsewhere, reported from the catalog. An item another live run is analysing now is put off
 * until the rest are done, then waited for: this run's report still covers every item asked.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tagger_int.h"

void tagger_msg_free(struct msg *m)
{
    if (!m)
        return;
    if (m->kind == MSG_FRAME)
        aitag_frame_free(m->frame);
    aitag_evidence_list_clear(&m->evidence);
    free(m->shots);
    pipeline_adaptive_free(m->plan);
    free(m);
}

int tagger_box_init(struct plan_box *b)
{
    memset(b, 0, sizeof *b);
    if (pthread_mutex_init(&b->lock, NULL) != 0)
        return AITAG_ERR_NOMEM;
    if (pthread_cond_init(&b->cond, NULL) != 0) {
        pthread_mutex_destroy(&b->lock);
        return AITAG_ERR_NOMEM;
    }
    return 0;
}

void tagger_box_destroy(struct plan_box *b)
{
    free(b->req);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
}

void tagger_box_put(struct plan_box *b, struct adaptive_req *req, size_t n)
{
    pthread_mutex_lock(&b->lock);
    free(b->req); /* an answer never taken (the decoder quit): replaced */
    b->req = req;
    b->n = n;
    b->ready = 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

void tagger_box_close(struct plan_box *b)
{
    pthread_mutex_lock(&b->lock);
    b->closed = 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

int tagger_box_take(struct plan_box *b, atomic_int *cancel, struct adaptive_req **req, size_t *n)
{
    int rc = -1;

    *req = NULL;
    *n = 0;
    pthread_mutex_lock(&b->lock);
    while (!b->ready && !b->closed && !(cancel && atomic_load(cancel))) {
        /* the cancel flag is set by a signal handler that cannot signal the condition: look
         * at it ten times a second */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    if (b->ready && !b->closed) {
        *req = b->req;
        *n = b->n;
        rc = 0;
    } else {
        free(b->req);
    }
    b->req = NULL;
    b->n = 0;
    b->ready = 0;
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* Queues frame f (owned) of item idx. 0, or < 0 when the run is over (f freed). */
static int push_frame(struct aitag_tagger *t, size_t idx, struct aitag_frame *f, struct msg *end)
{
    struct msg *m = calloc(1, sizeof *m);

    if (!m) {
        aitag_frame_free(f);
        aitag_fmt(end->error, sizeof end->error, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    m->kind = MSG_FRAME;
    m->item = idx;
    m->frame = f;
    if (pipeline_queue_push(&t->q, m) < 0) {
        tagger_msg_free(m);
        return AITAG_ERR_CANCELED;
    }
    return 0;
}

static int canceled(const struct aitag_tagger *t, struct msg *end)
{
    if (!(t->p.cancel && atomic_load(t->p.cancel)))
        return 0;
    aitag_fmt(end->error, sizeof end->error, "canceled");
    return 1;
}

/* The boundaries found, at debug level ("t:edge" each, the first 64). */
static void log_shots(const char *path, const struct aitag_shot *shots, size_t n)
{
    char list[1024] = "";
    size_t len = 0;

    for (size_t i = 1; i < n && i <= 64 && len + 32 < sizeof list; i++)
        len += strlen(aitag_fmt(list + len, sizeof list - len, "%s%.3f:%s", i > 1 ? "," : "",
                                shots[i].start, aitag_shot_edge_name(shots[i].edge)));
    aitag_log(AITAG_LOG_DEBUG, "tagger", "event=shots path=\"%s\" n=%zu boundaries=\"%s\"", path, n,
              list);
}

/* Adaptive sampling of item idx: the planner's rounds of times, each decoded in one forward
 * pass (seeking where it pays) and queued, then a MSG_ROUND; the analysis thread answers with
 * the next round's times through the plan box (tagger.c). The first MSG_ROUND hands it the
 * planner. Returns 0 or < 0 with end->error set. */
static int sample_adaptive(struct aitag_tagger *t, size_t idx, struct aitag_sampler *s,
                           struct msg *end)
{
    const struct aitag_probe *pr = aitag_sampler_probe(s);
    struct aitag_rule rule = aitag_rule_default();
    struct adaptive_params ap =
        pipeline_adaptive_params(t->p.interval, rule.max_gap, rule.min_marker_duration,
                                 rule.required_duration, pr->duration, pr->fps);
    struct aitag_shot *shots = NULL;
    struct adaptive_plan *plan = NULL;
    struct adaptive_req *req = NULL;
    double *cuts = NULL;
    size_t n_keys, n_shots = 0, n_req = 0, n_cuts = 0;
    const double *keys = aitag_sampler_keyframes(s, &n_keys);
    int rc;

    rc = aitag_sampler_shots(s, &shots, &n_shots); /* the packets' cues, before decoding */
    if (rc == 0 && !(cuts = malloc((n_shots + 1) * sizeof *cuts)))
        rc = AITAG_ERR_NOMEM;
    for (size_t i = 1; rc == 0 && i < n_shots; i++)
        cuts[n_cuts++] = shots[i].start;
    if (rc == 0)
        rc = pipeline_adaptive_new(&ap, keys, n_keys, cuts, n_cuts, &plan);
    if (rc == 0)
        rc = pipeline_adaptive_coarse(plan, &req, &n_req);
    if (rc < 0)
        aitag_fmt(end->error, sizeof end->error, "out of memory");
    while (rc == 0) {
        struct msg *m;
        for (size_t i = 0; i < n_req && rc == 0; i++) {
            struct aitag_frame *f = NULL;
            if (canceled(t, end)) {
                rc = AITAG_ERR_CANCELED;
                break;
            }
            rc = aitag_sampler_next_at(s, req[i].t, req[i].key, i + 1 < n_req ? req[i + 1].t : -1.0,
                                       &f);
            if (rc < 0)
                aitag_fmt(end->error, sizeof end->error, "%s", aitag_sampler_errmsg(s));
            else if (rc > 0)
                rc = push_frame(t, idx, f, end);
        }
        {
            char list[256] = "";
            for (size_t i = 0, len = 0; i < n_req && len + 16 < sizeof list; i++)
                len += strlen(aitag_fmt(list + len, sizeof list - len, "%s%.3f%s", i ? "," : "",
                                        req[i].t, req[i].key ? "k" : ""));
            aitag_log(AITAG_LOG_DEBUG, "tagger",
                      "event=adaptive_round item=%zu n=%zu times=\"%s\" decoded=%ld", idx, n_req,
                      list, aitag_sampler_frames_decoded(s));
        }
        free(req);
        req = NULL;
        if (rc < 0)
            break;
        m = calloc(1, sizeof *m);
        if (!m) {
            aitag_fmt(end->error, sizeof end->error, "out of memory");
            rc = AITAG_ERR_NOMEM;
            break;
        }
        m->kind = MSG_ROUND;
        m->item = idx;
        m->plan = plan;
        plan = NULL; /* the analysis thread's now */
        if (pipeline_queue_push(&t->q, m) < 0) {
            tagger_msg_free(m);
            rc = AITAG_ERR_CANCELED;
            break;
        }
        if (tagger_box_take(&t->box, t->p.cancel, &req, &n_req) < 0) {
            aitag_fmt(end->error, sizeof end->error, "canceled");
            rc = AITAG_ERR_CANCELED;
        } else if (n_req == 0) {
            break;
        }
    }
    free(req);
    free(cuts);
    free(shots);
    pipeline_adaptive_free(plan);
    return rc;
}

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
    sp.skip_deblock = t->p.sampling != AITAG_SAMPLING_EXACT;
    tagger_sampler_limits(t, &sp);
    sp.shots = 1;
    rc = aitag_sampler_open(w->src, &sp, &s, end->error, sizeof end->error);
    if (rc < 0)
        goto done;
    end->probe = *aitag_sampler_probe(s);
    aitag_fmt(end->strategy, sizeof end->strategy, "%s",
              t->p.sampling == AITAG_SAMPLING_ADAPTIVE && end->probe.duration > 0
                  ? "adaptive"
                  : aitag_sampler_strategy(s));
    if (t->p.sampling == AITAG_SAMPLING_ADAPTIVE && end->probe.kind == AITAG_MEDIA_VIDEO &&
        end->probe.duration > 0) {
        rc = sample_adaptive(t, idx, s, end);
    } else {
        for (;;) { /* exact or keyframes: the sampler's own times */
            struct aitag_frame *f = NULL;

            if (canceled(t, end)) {
                rc = AITAG_ERR_CANCELED;
                break;
            }
            rc = aitag_sampler_next(s, &f);
            if (rc <= 0) {
                if (rc < 0)
                    aitag_fmt(end->error, sizeof end->error, "%s", aitag_sampler_errmsg(s));
                break;
            }
            if ((rc = push_frame(t, idx, f, end)) < 0)
                break;
        }
    }
    end->truncated = rc == 0 && aitag_sampler_truncated(s);
    end->frames_decoded = aitag_sampler_frames_decoded(s);
    if (rc == 0 && aitag_sampler_shots(s, &end->shots, &end->n_shots) < 0)
        aitag_log(AITAG_LOG_WARN, "tagger", "event=shots_failed reason=\"out of memory\"");
    log_shots(w->path, end->shots, end->n_shots);
done:
    end->rc = rc;
    end->decode_seconds += aitag_now() - t0;
    aitag_sampler_close(s);
    if (pipeline_queue_push(&t->q, end) < 0)
        tagger_msg_free(end);
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
    end->rc = t->p.remote(t->p.remote_ctx, w->path, names, keys, n, t->p.interval, &res, end->error,
                          sizeof end->error);
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
    if (pipeline_queue_push(&t->q, end) < 0)
        tagger_msg_free(end);
}

/* An END of item idx pushed now: stored elsewhere (rc 0), or a claim that failed (rc < 0, the
 * catalog's words). */
static void end_now(struct aitag_tagger *t, size_t idx, int rc)
{
    struct msg *end = calloc(1, sizeof *end);

    if (!end) {
        t->works[idx].dropped = 1;
        return;
    }
    end->kind = MSG_END;
    end->item = idx;
    end->rc = rc;
    end->elsewhere = rc == 0;
    if (rc < 0)
        aitag_fmt(end->error, sizeof end->error, "%s", aitag_catalog_errmsg(t->claims));
    push_end(t, end);
}

/* Claims item idx and plans it again: 1 to analyse here, 0 another live run is analysing it
 * (try later), 2 done (stored meanwhile by another run, or failed; its END pushed). */
static int claim_item(struct aitag_tagger *t, size_t idx)
{
    struct work *w = &t->works[idx];
    int rc;

    if (!t->claims)
        return 1;
    rc = aitag_catalog_claim(t->claims, w->path, &t->owner, CLAIM_LEASE_MS, NULL, 0);
    if (rc == 0)
        return 0;
    if (rc > 0)
        rc = tagger_recheck(t, t->claims, w);
    if (rc == 0)
        return 1;
    if (rc > 0)
        aitag_log(AITAG_LOG_INFO, "tagger", "event=stored_elsewhere path=\"%s\"", w->path);
    end_now(t, idx, rc > 0 ? 0 : rc);
    aitag_catalog_release_claim(t->claims, w->path, &t->owner);
    return 2;
}

/* Analyses item idx (claimed): remotely and/or sampled here. */
static void analyse_item(struct aitag_tagger *t, size_t i)
{
    struct work *w = &t->works[i];
    struct msg *end = NULL;
    int remote = 0, here = 0;

    for (size_t k = 0; k < t->n_ops; k++) {
        remote += w->need[k] && tagger_runs_remote(t, k);
        here += w->need[k] && !tagger_runs_remote(t, k);
    }
    if (remote && !(end = remote_item(t, i))) {
        w->dropped = 1; /* out of memory: reported failed after the decoder is joined */
        return;
    }
    if (here && (!end || end->rc == 0))
        sample_item(t, i, end);
    else
        push_end(t, end);
}

/* The items another run held when their turn came, until each is claimed or done: polled a
 * few times a second, this run's own claims renewed meanwhile. */
static void wait_put_off(struct aitag_tagger *t, size_t *idx, size_t n)
{
    double renewed = aitag_now();

    while (n > 0 && !(t->p.cancel && atomic_load(t->p.cancel))) {
        size_t kept = 0;
        for (size_t k = 0; k < n; k++) {
            int rc = t->p.cancel && atomic_load(t->p.cancel) ? 0 : claim_item(t, idx[k]);
            if (rc == 1)
                analyse_item(t, idx[k]);
            else if (rc == 0)
                idx[kept++] = idx[k];
        }
        n = kept;
        if (n > 0) {
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (aitag_now() - renewed > CLAIM_RENEW_S) {
            aitag_catalog_renew_claims(t->claims, &t->owner, CLAIM_LEASE_MS);
            renewed = aitag_now();
        }
    }
}

void *tagger_decode_main(void *arg)
{
    struct aitag_tagger *t = arg;
    size_t *put_off = calloc(t->n_works ? t->n_works : 1, sizeof *put_off), n_put_off = 0;

    for (size_t i = 0; i < t->n_works; i++) {
        int rc;

        if (t->p.cancel && atomic_load(t->p.cancel))
            break;
        if (t->works[i].error[0] || t->works[i].n_need == 0)
            continue;
        rc = claim_item(t, i);
        if (rc == 0 && put_off) {
            put_off[n_put_off++] = i;
        } else if (rc == 0) { /* no room to put it off (out of memory): waited for now */
            size_t one = i;
            wait_put_off(t, &one, 1);
        } else if (rc == 1) {
            analyse_item(t, i);
        }
    }
    wait_put_off(t, put_off, n_put_off);
    free(put_off);
    pipeline_queue_close(&t->q);
    return NULL;
}
