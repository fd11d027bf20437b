/*
 * tagger.c - the run: plan, start the decoder thread, analyse frames as they arrive, commit
 * each finished item, report.
 *
 * The calling thread is the only one that touches the catalog and the analyzers; the decoder
 * thread only samples. Items reach the consumer in plan order, so each item's evidence is
 * complete when its END message arrives and is committed in one transaction: a kill loses at
 * most the item in flight, and the next run redoes exactly that item. An item analysed through
 * a remote executor arrives as one END message carrying its evidence and is committed by the
 * same code, with the same keys and policy, as one analysed here.
 */
#include <stdlib.h>
#include <string.h>

#include "tagger_int.h"

const char *aitag_item_status_name(enum aitag_item_status s)
{
    static const char *const names[] = {"tagged", "skipped", "error", "partial", "planned"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

struct aitag_tagger_params aitag_tagger_default_params(void)
{
    struct aitag_tagger_params p;

    memset(&p, 0, sizeof p);
    p.threshold = -1;
    p.markers = 1;
    p.interval = 2.0;
    p.threads = 2;
    p.queue_frames = 8;
    return p;
}

void aitag_tagger_thread_split(int threads, int *decode, int *infer)
{
    if (threads < 1)
        threads = 1;
    *decode = threads < 4 ? threads : 4; /* FFmpeg frame threads gain little beyond 4 */
    *infer = threads > 1 ? threads - 1 : 1;
}

/* Applies the "NAME.key=value" options meant for this analyzer, then lets it check them. */
static int configure_analyzer(const struct aitag_tagger_params *p,
                              const struct aitag_analyzer_ops *ops, void *state, char *err,
                              size_t errlen)
{
    size_t len = strlen(ops->name);
    int rc;

    for (size_t i = 0; i < p->n_analyzer_opts; i++) {
        const char *o = p->analyzer_opts[i], *eq;
        char key[128];
        if (strncmp(o, ops->name, len) != 0 || o[len] != '.')
            continue;
        eq = strchr(o + len + 1, '=');
        if (!eq || eq == o + len + 1 || (size_t)(eq - (o + len + 1)) >= sizeof key) {
            aitag_fmt(err, errlen, "option '%s' is not key=value", o);
            return AITAG_ERR_INVALID;
        }
        aitag_fmt(key, sizeof key, "%.*s", (int)(eq - (o + len + 1)), o + len + 1);
        if (!ops->configure) {
            aitag_fmt(err, errlen, "takes no options (got '%s')", key);
            return AITAG_ERR_INVALID;
        }
        rc = ops->configure(state, key, eq + 1, err, errlen);
        if (rc < 0)
            return rc;
    }
    return ops->ready ? ops->ready(state, err, errlen) : 0;
}

/* Every analyzer option must name an analyzer of this run. */
static int check_analyzer_opts(const struct aitag_tagger *t, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < t->p.n_analyzer_opts; i++) {
        const char *o = t->p.analyzer_opts[i], *dot = strchr(o, '.');
        size_t k;
        for (k = 0; dot && k < t->n_ops; k++)
            if (strlen(t->ops[k]->name) == (size_t)(dot - o) &&
                strncmp(t->ops[k]->name, o, (size_t)(dot - o)) == 0)
                break;
        if (!dot || k == t->n_ops) {
            aitag_fmt(errbuf, errlen, "analyzer option '%s' names no analyzer of this run", o);
            return AITAG_ERR_INVALID;
        }
    }
    return 0;
}

int aitag_tagger_new(const struct aitag_tagger_params *p, struct aitag_tagger **out,
                     char *errbuf, size_t errlen)
{
    struct aitag_tagger *t = calloc(1, sizeof *t);
    struct aitag_infer_params ip = aitag_infer_default_params();
    int rc;

    *out = NULL;
    if (!t)
        return AITAG_ERR_NOMEM;
    t->p = *p;
    if (!(p->interval > 0 && p->interval <= 3600)) {
        aitag_fmt(errbuf, errlen, "interval must be between 0 and 3600 seconds");
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    if (p->sampling != AITAG_SAMPLING_EXACT && p->sampling != AITAG_SAMPLING_KEYFRAMES) {
        aitag_fmt(errbuf, errlen, "sampling must be exact or keyframes");
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    if (p->n_analyzers == 0 || p->n_analyzers > MAX_ANALYZERS) {
        aitag_fmt(errbuf, errlen, "give between 1 and %d analyzers", MAX_ANALYZERS);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    aitag_tagger_thread_split(p->threads, &t->decode_threads, &t->infer_threads);
    ip.manifest_dir = p->manifest_dir;
    ip.weights_dir = p->weights_dir;
    ip.intra_threads = t->infer_threads;
    rc = aitag_infer_new(&ip, &t->infer);
    if (rc < 0) {
        aitag_fmt(errbuf, errlen, "cannot create the inference context");
        goto out;
    }
    rc = aitag_policy_new(&t->policy);
    if (rc == 0 && p->rules_path)
        rc = aitag_policy_load(t->policy, p->rules_path, errbuf, errlen);
    if (rc < 0) {
        rc = rc == AITAG_ERR_NOMEM ? rc : AITAG_ERR_INVALID; /* the user's file is wrong */
        goto out;
    }
    if (p->threshold >= 0)
        aitag_policy_set_threshold(t->policy, p->threshold);
    if (!p->markers)
        aitag_policy_set_markers(t->policy, 0);
    for (size_t i = 0; i < p->n_analyzers; i++) {
        const struct aitag_analyzer_ops *ops = aitag_analyzer_find(p->analyzers[i]);
        char err[512] = "";
        if (!ops) {
            aitag_fmt(errbuf, errlen, "unknown analyzer '%s' (see `aitag models list`)",
                      p->analyzers[i]);
            rc = AITAG_ERR_INVALID;
            goto out;
        }
        for (size_t k = 0; k < t->n_ops; k++)
            if (t->ops[k] == ops)
                ops = NULL;
        if (!ops)
            continue; /* named twice */
        rc = ops->create(t->infer, &t->state[t->n_ops], err, sizeof err);
        if (rc == 0) {
            t->ops[t->n_ops] = ops; /* from here on freed with the tagger */
            rc = configure_analyzer(p, ops, t->state[t->n_ops], err, sizeof err);
        }
        if (rc < 0) {
            aitag_fmt(errbuf, errlen, "analyzer %s: %s", ops->name, err);
            if (t->ops[t->n_ops])
                t->n_ops++;
            goto out;
        }
        t->keys[t->n_ops] =
            aitag_fmt(malloc(512), 512, "%s interval=%.3f%s", ops->key(t->state[t->n_ops]),
                      p->interval, p->sampling ? " sampling=keyframes" : "");
        t->n_ops++;
    }
    rc = check_analyzer_opts(t, errbuf, errlen);
    if (rc < 0)
        goto out;
    rc = aitag_catalog_open(p->catalog_path, p->dry_run, &t->catalog, errbuf, errlen);
    if (rc == AITAG_ERR_NOTFOUND && p->dry_run)
        rc = 0; /* a dry run against a catalog that doesn't exist yet: everything is new */
    if (rc < 0)
        goto out;
    *out = t;
    t = NULL;
out:
    aitag_tagger_free(t);
    return rc;
}

void aitag_tagger_free(struct aitag_tagger *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_ops; i++) {
        t->ops[i]->destroy(t->state[i]);
        free(t->keys[i]);
    }
    aitag_catalog_close(t->catalog);
    aitag_policy_free(t->policy);
    aitag_infer_free(t->infer);
    free(t);
}

const char *aitag_tagger_errmsg(const struct aitag_tagger *t)
{
    return t->errmsg;
}

struct run_state {
    struct aitag_summary *sum;
    size_t done;
    double media_total, media_done;
    int64_t run_id;
};

static double work_units(const struct work *w)
{
    /* Images count as one second of media so a folder of photos still shows progress. */
    if (!w->probed)
        return 0;
    return w->probe.kind == AITAG_MEDIA_IMAGE ? 1.0 : w->probe.duration;
}

static void progress(struct aitag_tagger *t, struct run_state *rs, const char *current)
{
    struct aitag_progress pr;

    if (!t->p.on_progress)
        return;
    pr.done = rs->done;
    pr.total = t->n_works;
    pr.media_done = rs->media_done;
    pr.media_total = rs->media_total;
    pr.elapsed = aitag_now() - t->started;
    pr.eta = rs->media_done > 0 ? pr.elapsed * (rs->media_total - rs->media_done) / rs->media_done
                                : -1;
    pr.current = current;
    t->p.on_progress(t->p.ctx, &pr);
}

static void report(struct aitag_tagger *t, struct run_state *rs, size_t idx,
                   enum aitag_item_status st, const char *error, const struct aitag_probe *probe,
                   const struct aitag_result *res, double secs, const char *const *ran,
                   size_t n_ran)
{
    struct aitag_item_report r = {t->works[idx].path, st, error, probe, res, secs, ran, n_ran,
                                  idx + 1, t->n_works};

    switch (st) {
    case AITAG_ITEM_TAGGED:
        rs->sum->tagged++;
        break;
    case AITAG_ITEM_SKIPPED:
        rs->sum->skipped++;
        break;
    case AITAG_ITEM_FAILED:
        rs->sum->failed++;
        break;
    case AITAG_ITEM_PARTIAL:
        rs->sum->partial++;
        break;
    case AITAG_ITEM_PLANNED:
        rs->sum->planned++;
        break;
    }
    rs->done++;
    if (st == AITAG_ITEM_FAILED)
        aitag_log(AITAG_LOG_INFO, "tagger", "event=failed path=\"%s\" reason=\"%s\"", r.path,
                  error ? error : "");
    if (t->p.on_item)
        t->p.on_item(t->p.ctx, &r);
}

/* Reports an item that needs no analysis, re-deriving it if the rules changed. */
static void report_done_item(struct aitag_tagger *t, struct run_state *rs, size_t idx)
{
    struct work *w = &t->works[idx];
    struct aitag_result res = {0};
    struct aitag_probe probe;
    struct aitag_media_row row;
    int rc = 0;

    if (!t->p.dry_run)
        rc = aitag_catalog_rederive(t->catalog, w->media_id, t->policy);
    if (rc == 0)
        rc = aitag_catalog_load_result(t->catalog, w->media_id, &res);
    if (rc == 0)
        rc = aitag_catalog_load_probe(t->catalog, w->media_id, &probe);
    if (rc == 0) /* by id: in a dry run a moved item is still stored under its old path */
        rc = aitag_catalog_get_media(t->catalog, w->media_id, &row);
    if (rc < 0)
        report(t, rs, idx, AITAG_ITEM_FAILED, aitag_catalog_errmsg(t->catalog), NULL, NULL, 0,
               NULL, 0);
    else
        report(t, rs, idx,
               strcmp(row.status, "partial") == 0 ? AITAG_ITEM_PARTIAL : AITAG_ITEM_SKIPPED,
               row.error[0] ? row.error : NULL, &probe, &res, 0, NULL, 0);
    aitag_result_clear(&res);
}

struct item_acc {
    size_t idx;
    struct aitag_evidence_list ev;
    int n_frames;
    char error[512];
    double t0;
};

static void finish_item(struct aitag_tagger *t, struct run_state *rs, struct item_acc *acc,
                        struct msg *end)
{
    struct work *w = &t->works[acc->idx];
    struct aitag_sampling ran[MAX_ANALYZERS];
    const char *keys[MAX_ANALYZERS], *names[MAX_ANALYZERS];
    struct aitag_result res = {0};
    struct aitag_item item;
    char partial[512] = "";
    size_t n_ran = 0;
    int rc;
    double secs = aitag_now() - acc->t0;

    rs->media_done += work_units(w);
    if (end->rc < 0 || acc->error[0] || acc->n_frames == 0) {
        const char *why = acc->error[0]  ? acc->error
                          : end->rc < 0  ? end->error
                                         : "no decodable frames";
        if (!t->p.dry_run && t->catalog)
            aitag_catalog_record_error(t->catalog, w->path, w->size, w->mtime_ns, why);
        report(t, rs, acc->idx, AITAG_ITEM_FAILED, why, end->rc < 0 ? NULL : &end->probe, NULL,
               secs, NULL, 0);
        return;
    }
    if (end->truncated)
        aitag_fmt(partial, sizeof partial, "truncated or corrupt: frames decoded up to %.1f s of %.1f s",
                  acc->ev.n ? acc->ev.items[acc->ev.n - 1].t : 0.0, end->probe.duration);
    for (size_t i = 0; i < t->n_ops; i++) {
        if (!w->need[i])
            continue;
        ran[n_ran] = (struct aitag_sampling){t->ops[i]->name,
                                             end->probe.kind == AITAG_MEDIA_IMAGE ? 0
                                                                                  : t->p.interval,
                                             acc->n_frames};
        keys[n_ran] = t->keys[i];
        names[n_ran] = t->ops[i]->name;
        n_ran++;
    }
    if (rs->run_id == 0) {
        char params[256];
        aitag_fmt(params, sizeof params, "{\"interval\":%.3f,\"threads\":%d,\"force\":%d}",
                  t->p.interval, t->p.threads, t->p.force);
        aitag_catalog_begin_run(t->catalog, params, &rs->run_id);
    }
    item = (struct aitag_item){w->path,     w->size,  w->mtime_ns, w->fingerprint,
                               &end->probe, ran,      keys,        n_ran,
                               end->strategy, acc->ev.items, acc->ev.n,
                               partial[0] ? "partial" : "ok", partial[0] ? partial : NULL,
                               rs->run_id};
    rc = aitag_catalog_commit_item(t->catalog, &item, t->policy);
    if (rc == 0) {
        struct aitag_media_row row;
        rc = aitag_catalog_find_media(t->catalog, w->path, &row);
        if (rc == 0)
            rc = aitag_catalog_load_result(t->catalog, row.id, &res);
    }
    if (rc < 0)
        report(t, rs, acc->idx, AITAG_ITEM_FAILED, aitag_catalog_errmsg(t->catalog),
               &end->probe, NULL, secs, names, n_ran);
    else
        report(t, rs, acc->idx, partial[0] ? AITAG_ITEM_PARTIAL : AITAG_ITEM_TAGGED,
               partial[0] ? partial : NULL, &end->probe, &res, secs, names, n_ran);
    aitag_result_clear(&res);
}

static void analyse_frame(struct aitag_tagger *t, struct run_state *rs, struct item_acc *acc,
                          struct aitag_frame *f)
{
    struct work *w = &t->works[acc->idx];

    acc->n_frames++;
    if (acc->error[0])
        return; /* the item already failed; drain its frames */
    for (size_t i = 0; i < t->n_ops; i++) {
        char err[400] = "";
        if (!w->need[i] || tagger_runs_remote(t, i))
            continue;
        if (t->ops[i]->run(t->state[i], &f, 1, &acc->ev, err, sizeof err) < 0) {
            aitag_fmt(acc->error, sizeof acc->error, "analyzer %s: %s", t->ops[i]->name, err);
            return;
        }
        rs->sum->models_run++;
    }
}

int aitag_tagger_run(struct aitag_tagger *t, const char *const *paths, size_t n,
                     struct aitag_summary *sum)
{
    struct run_state rs = {sum, 0, 0, 0, 0};
    struct item_acc acc = {0};
    pthread_t decoder;
    int rc, started = 0;
    struct msg *m;

    memset(sum, 0, sizeof *sum);
    t->started = aitag_now();
    t->n_moved = t->n_missing = 0;
    for (size_t i = 0; i < n; i++)
        if ((rc = walk_path(&t->walk, paths[i])) < 0)
            goto out;
    rc = walk_dedupe(&t->walk);
    if (rc == 0)
        rc = tagger_plan(t);
    if (rc == 0)
        rc = tagger_mark_missing(t, paths, n);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < t->n_works; i++)
        rs.media_total += work_units(&t->works[i]);
    /* Items with nothing to analyse, and planning failures, are reported up front. */
    for (size_t i = 0; i < t->n_works; i++) {
        struct work *w = &t->works[i];
        if (w->error[0]) {
            /* A path that names no file gets no row; a stored one was just marked missing. */
            if (!t->p.dry_run && t->catalog && !tagger_gone(w->path))
                aitag_catalog_record_error(t->catalog, w->path, w->size, w->mtime_ns, w->error);
            report(t, &rs, i, AITAG_ITEM_FAILED, w->error, NULL, NULL, 0, NULL, 0);
        } else if (w->n_need == 0) {
            report_done_item(t, &rs, i);
        } else if (t->p.dry_run) {
            report(t, &rs, i, AITAG_ITEM_PLANNED, NULL, &w->probe, NULL, 0, NULL, 0);
        }
    }
    progress(t, &rs, NULL);
    if (t->p.dry_run)
        goto out;
    if (queue_init(&t->q, (size_t)(t->p.queue_frames > 0 ? t->p.queue_frames : 8)) < 0) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    if (pthread_create(&decoder, NULL, tagger_decode_main, t) != 0) {
        queue_destroy(&t->q);
        aitag_fmt(t->errmsg, sizeof t->errmsg, "cannot start the decoder thread");
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    started = 1;
    acc.idx = (size_t)-1;
    while ((m = queue_pop(&t->q))) {
        if (t->p.cancel && *t->p.cancel) {
            /* Stop now: drain without analysing; the item in flight is simply not stored. */
            queue_close(&t->q);
            if (m->kind == MSG_FRAME)
                aitag_frame_free(m->frame);
            aitag_evidence_list_clear(&m->evidence);
            free(m);
            continue;
        }
        if (m->item != acc.idx) {
            aitag_evidence_list_clear(&acc.ev);
            acc.idx = m->item;
            acc.n_frames = 0;
            acc.error[0] = '\0';
            acc.t0 = aitag_now();
            progress(t, &rs, t->works[m->item].path);
        }
        if (m->kind == MSG_FRAME) {
            analyse_frame(t, &rs, &acc, m->frame);
            aitag_frame_free(m->frame);
        } else {
            if (m->remote) { /* analysed elsewhere, maybe next to analyzers run here */
                size_t n_remote = 0;
                for (size_t i = 0; i < t->n_ops; i++)
                    n_remote += t->works[m->item].need[i] && tagger_runs_remote(t, i);
                for (size_t i = 0; i < m->evidence.n && m->rc == 0; i++)
                    if (aitag_evidence_push(&acc.ev, &m->evidence.items[i]) < 0)
                        aitag_fmt(acc.error, sizeof acc.error, "out of memory");
                aitag_evidence_list_clear(&m->evidence);
                if (m->n_frames > acc.n_frames)
                    acc.n_frames = m->n_frames;
                if (m->rc == 0) /* counted as if run here, for the same summary */
                    sum->models_run += m->n_frames * (int)n_remote;
            }
            finish_item(t, &rs, &acc, m);
            aitag_evidence_list_clear(&acc.ev);
            acc.idx = (size_t)-1;
            progress(t, &rs, NULL);
        }
        free(m);
    }
    rc = 0;
out:
    if (started) {
        pthread_join(decoder, NULL);
        queue_destroy(&t->q);
    }
    aitag_evidence_list_clear(&acc.ev);
    if (rs.run_id)
        aitag_catalog_end_run(t->catalog, rs.run_id, sum->tagged, sum->skipped, sum->failed);
    for (size_t i = 0; i < t->n_works; i++)
        sum->media_seconds += t->works[i].probed && t->works[i].probe.kind == AITAG_MEDIA_VIDEO
                                  ? t->works[i].probe.duration
                                  : 0;
    sum->seconds = aitag_now() - t->started;
    sum->moved = t->n_moved;
    sum->missing = t->n_missing;
    free(t->works);
    t->works = NULL;
    t->n_works = 0;
    walk_list_free(&t->walk);
    return rc;
}
