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
 * The analyzers are one graph (aitag/analyzer.h): frames of an item wait in a small batch (as
 * many as the graph's largest `batch`, 1 unless e.g. nsfw runs) and the graph runs each
 * analyzer once over it; a dependency of an asked analyzer runs but only asked analyzers are
 * planned, recorded and stored (plan.c skips dependencies; a consumer's key holds theirs).
 *
 * Runs over overlapping folders share the catalog: the decoder thread claims each item before
 * sampling it (decode.c), this thread renews the run's claims as it goes and releases each
 * once the item is committed, and an item another run stored meanwhile arrives as an END
 * marked elsewhere and is reported like an item with nothing to analyse.
 *
 * Progress is counted in seconds of media rather than in items, so one long video does not
 * hold the bar still: each analysed frame moves it to that frame's timestamp within its item,
 * and the ETA divides the media still to analyse by the media analysed per second so far.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aitag/concepts.h"
#include "persist.h"
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

/* With a remote executor, an analyzer that runs here cannot consume one that runs there. */
static int check_remote_deps(const struct aitag_tagger *t, char *errbuf, size_t errlen)
{
    for (size_t i = 0; t->p.remote && i < t->n_ops; i++) {
        int want[MAX_ANALYZERS] = {0}, run[MAX_ANALYZERS];
        if (tagger_runs_remote(t, i))
            continue;
        want[i] = 1;
        aitag_graph_closure(t->graph, want, run);
        for (size_t k = 0; k < t->n_ops; k++) {
            if (run[k] && tagger_runs_remote(t, k)) {
                aitag_fmt(errbuf, errlen,
                          "analyzer %s runs here but consumes %s, which runs remotely",
                          aitag_graph_ops(t->graph, i)->name, aitag_graph_ops(t->graph, k)->name);
                return AITAG_ERR_INVALID;
            }
        }
    }
    return 0;
}

int aitag_tagger_new(const struct aitag_tagger_params *p, struct aitag_tagger **out, char *errbuf,
                     size_t errlen)
{
    struct aitag_tagger *t = calloc(1, sizeof *t);
    struct aitag_infer_params ip = aitag_infer_default_params();
    int rc;

    *out = NULL;
    if (!t)
        return AITAG_ERR_NOMEM;
    t->p = *p;
    if (!(p->interval > 0 && p->interval <= 3600)) {
        aitag_fmt(errbuf, errlen, "interval must be more than 0 and at most 3600 seconds");
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    if (p->sampling < AITAG_SAMPLING_EXACT || p->sampling > AITAG_SAMPLING_ADAPTIVE) {
        aitag_fmt(errbuf, errlen, "sampling must be exact, keyframes or adaptive");
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
    for (size_t i = 0; rc == 0 && i < p->n_context_paths; i++)
        rc = aitag_policy_load_context(t->policy, p->context_paths[i], errbuf, errlen);
    if (rc == 0)
        rc = aitag_policy_use_categories(t->policy, p->manifest_dir, &t->concepts, errbuf, errlen);
    if (rc < 0) {
        rc = rc == AITAG_ERR_NOMEM ? rc : AITAG_ERR_INVALID; /* the user's file is wrong */
        goto out;
    }
    if ((p->tag_prefix || p->tag_suffix) &&
        (rc = aitag_policy_set_affixes(t->policy, p->tag_prefix, p->tag_suffix)) < 0)
        goto out;
    if (p->threshold >= 0)
        aitag_policy_set_threshold(t->policy, p->threshold);
    if (!p->markers)
        aitag_policy_set_markers(t->policy, 0);
    rc = aitag_graph_new(t->infer, p->analyzers, p->n_analyzers, p->analyzer_opts,
                         p->n_analyzer_opts, &t->graph, errbuf, errlen);
    if (rc < 0)
        goto out;
    t->n_ops = aitag_graph_size(t->graph);
    for (size_t i = 0; i < t->n_ops; i++) {
        const char *key = aitag_graph_key(t->graph, i);
        size_t len = strlen(key) + 64;
        t->keys[i] = malloc(len);
        if (!t->keys[i]) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        aitag_fmt(t->keys[i], len, "%s interval=%.3f%s", key, p->interval,
                  p->sampling == AITAG_SAMPLING_KEYFRAMES  ? " sampling=keyframes"
                  : p->sampling == AITAG_SAMPLING_ADAPTIVE ? " sampling=adaptive"
                                                           : "");
    }
    rc = check_remote_deps(t, errbuf, errlen);
    if (rc < 0)
        goto out;
    rc = aitag_catalog_open(p->catalog_path, p->dry_run, &t->catalog, errbuf, errlen);
    if (rc == AITAG_ERR_NOTFOUND && p->dry_run)
        rc = 0; /* a dry run against a catalog that doesn't exist yet: everything is new */
    if (rc == 0 && !p->dry_run) {
        rc = aitag_catalog_open(p->catalog_path, 0, &t->claims, errbuf, errlen);
        aitag_claim_owner_self(&t->owner);
    }
    if (rc < 0)
        goto out;
    *out = t;
    t = NULL;
out:
    aitag_tagger_free(t);
    return rc;
}

int aitag_tagger_write_blocked(const struct aitag_tagger *t)
{
    return t->catalog && aitag_catalog_write_blocked(t->catalog);
}

const struct aitag_policy *aitag_tagger_policy(const struct aitag_tagger *t)
{
    return t->policy;
}

void aitag_tagger_free(struct aitag_tagger *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_ops; i++)
        free(t->keys[i]);
    aitag_graph_free(t->graph);
    aitag_catalog_close(t->claims);
    aitag_catalog_close(t->catalog);
    aitag_policy_free(t->policy);
    aitag_concepts_close(t->concepts);
    aitag_infer_free(t->infer);
    free(t);
}

const char *aitag_tagger_errmsg(const struct aitag_tagger *t)
{
    return t->errmsg;
}

int aitag_tagger_model_counts(const struct aitag_tagger *t, const char *model,
                              unsigned long long *runs, unsigned long long *items)
{
    return aitag_infer_model_counts(t->infer, model, runs, items);
}

struct run_state {
    struct aitag_summary *sum;
    size_t done;
    double media_total, media_done; /* seconds of media: to analyse, of finished items */
    double item_done, item_total;   /* the item in flight: seconds analysed, its length */
    double analysis_started;        /* when the first item began; 0 before */
    int64_t run_id;
    int blocked; /* the catalog can take no more writes (disk full, damaged): stop */
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
    pr.media_done = rs->media_done + rs->item_done;
    pr.media_total = rs->media_total;
    pr.current_done = current ? rs->item_done : 0;
    pr.current_total = current ? rs->item_total : 0;
    pr.elapsed = aitag_now() - t->started;
    /* The rate since analysis began: walking and fingerprinting are not analysis. */
    pr.eta = pr.media_done > 0 && rs->analysis_started > 0
                 ? (aitag_now() - rs->analysis_started) * (pr.media_total - pr.media_done) /
                       pr.media_done
                 : -1;
    pr.current = current;
    t->p.on_progress(t->p.ctx, &pr);
}

static void report(struct aitag_tagger *t, struct run_state *rs, size_t idx,
                   enum aitag_item_status st, const char *error, const struct aitag_probe *probe,
                   const struct aitag_result *res, double secs, const char *const *ran,
                   size_t n_ran)
{
    struct aitag_item_report r = {
        t->works[idx].path, st, error, probe, res, secs, ran, n_ran, idx + 1, t->n_works};

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
        report(t, rs, idx, AITAG_ITEM_FAILED, aitag_catalog_errmsg(t->catalog), NULL, NULL, 0, NULL,
               0);
    else
        report(t, rs, idx,
               strcmp(row.status, "partial") == 0 ? AITAG_ITEM_PARTIAL : AITAG_ITEM_SKIPPED,
               row.error[0] ? row.error : NULL, &probe, &res, 0, NULL, 0);
    aitag_result_clear(&res);
}

struct item_acc {
    size_t idx;
    struct aitag_evidence_list ev;
    struct aitag_frame *batch[MAX_BATCH]; /* frames waiting for the graph */
    size_t n_batch;
    int n_frames;
    char error[512];
    double t0, cpu0; /* when the item began: aitag_now(), and aitag_cpu_now() with item_cpu */
    /* adaptive sampling: the item's planner and the times of the frames analysed, of which
     * the first n_planned are in the planner */
    struct adaptive_plan *plan;
    double *times;
    unsigned char *blank; /* per time: the frame is blank (frame_is_blank) */
    size_t n_times, cap_times, n_planned;
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
    rs->item_done = rs->item_total = 0;
    /* adaptive samples that agree: what they saw lasts between them (persist.c) */
    if (end->rc == 0 && !acc->error[0] && t->p.sampling == AITAG_SAMPLING_ADAPTIVE &&
        end->probe.kind == AITAG_MEDIA_VIDEO &&
        pipeline_persist(&acc->ev, acc->times, acc->n_times, t->p.interval, t->policy) < 0)
        aitag_fmt(acc->error, sizeof acc->error, "out of memory");
    if (end->rc < 0 || acc->error[0] || acc->n_frames == 0) {
        const char *why = acc->error[0] ? acc->error
                          : end->rc < 0 ? end->error
                                        : "no decodable frames";
        if (!t->p.dry_run && t->catalog)
            aitag_catalog_record_error(t->catalog, w->path, w->size, w->mtime_ns, why);
        report(t, rs, acc->idx, AITAG_ITEM_FAILED, why, end->rc < 0 ? NULL : &end->probe, NULL,
               secs, NULL, 0);
        return;
    }
    if (end->truncated)
        aitag_fmt(partial, sizeof partial,
                  "truncated or corrupt: frames decoded up to %.1f s of %.1f s",
                  acc->ev.n ? acc->ev.items[acc->ev.n - 1].t : 0.0, end->probe.duration);
    for (size_t i = 0; i < t->n_ops; i++) {
        if (!w->need[i])
            continue;
        ran[n_ran] = (struct aitag_sampling){
            aitag_graph_ops(t->graph, i)->name,
            end->probe.kind == AITAG_MEDIA_IMAGE ? 0 : t->p.interval, acc->n_frames};
        keys[n_ran] = t->keys[i];
        names[n_ran] = aitag_graph_ops(t->graph, i)->name;
        n_ran++;
    }
    if (rs->run_id == 0) {
        char params[256];
        aitag_fmt(params, sizeof params, "{\"interval\":%.3f,\"threads\":%d,\"force\":%d}",
                  t->p.interval, t->p.threads, t->p.force);
        aitag_catalog_begin_run(t->catalog, params, &rs->run_id);
    }
    item = (struct aitag_item){w->path,
                               w->size,
                               w->mtime_ns,
                               w->fingerprint,
                               &end->probe,
                               ran,
                               keys,
                               n_ran,
                               end->strategy,
                               acc->ev.items,
                               acc->ev.n,
                               partial[0] ? "partial" : "ok",
                               partial[0] ? partial : NULL,
                               rs->run_id,
                               end->shots,
                               end->n_shots};
    rc = aitag_catalog_commit_item(t->catalog, &item, t->policy);
    if (rc == 0) {
        struct aitag_media_row row;
        rc = aitag_catalog_find_media(t->catalog, w->path, &row);
        if (rc == 0)
            rc = aitag_catalog_load_result(t->catalog, row.id, &res);
    }
    if (rc == 0 && end->probe.kind == AITAG_MEDIA_VIDEO)
        rs->sum->media_seconds += end->probe.duration;
    if (rc < 0 && aitag_catalog_write_blocked(t->catalog)) {
        rs->blocked = 1; /* every later item would fail the same way: the run stops */
        aitag_fmt(t->errmsg, sizeof t->errmsg, "%s", aitag_catalog_errmsg(t->catalog));
    }
    if (rc < 0)
        report(t, rs, acc->idx, AITAG_ITEM_FAILED, aitag_catalog_errmsg(t->catalog), &end->probe,
               NULL, secs, names, n_ran);
    else
        report(t, rs, acc->idx, partial[0] ? AITAG_ITEM_PARTIAL : AITAG_ITEM_TAGGED,
               partial[0] ? partial : NULL, &end->probe, &res, secs, names, n_ran);
    aitag_result_clear(&res);
}

/* Frees the frames waiting in acc without analysing them. */
static void drop_batch(struct item_acc *acc)
{
    for (size_t i = 0; i < acc->n_batch; i++)
        aitag_frame_free(acc->batch[i]);
    acc->n_batch = 0;
}

/* Runs the graph on the frames waiting in acc (each analyzer once over them) and frees them. */
static void flush_batch(struct aitag_tagger *t, struct run_state *rs, struct item_acc *acc)
{
    int want[MAX_ANALYZERS], run[MAX_ANALYZERS];

    /* The batch's slice of the item counts as analysed once the analyzers are through it. */
    for (size_t i = 0; i < acc->n_batch; i++)
        if (t->works[acc->idx].probe.kind == AITAG_MEDIA_VIDEO && acc->batch[i]->t > rs->item_done)
            rs->item_done = acc->batch[i]->t < rs->item_total ? acc->batch[i]->t : rs->item_total;
    if (acc->n_batch && !acc->error[0]) {
        tagger_local_want(t, &t->works[acc->idx], want);
        if (aitag_graph_run(t->graph, acc->batch, acc->n_batch, want, &acc->ev, acc->error,
                            sizeof acc->error) == 0) {
            aitag_graph_closure(t->graph, want, run);
            for (size_t i = 0; i < t->n_ops; i++)
                rs->sum->models_run += run[i] * (int)acc->n_batch;
        }
    }
    if (acc->n_batch) {
        drop_batch(acc);
        progress(t, rs, t->works[acc->idx].path);
    }
}

/* After an item's last frame: the item() hooks of the analyzers that ran on its frames here
 * (cues reads the audio track), on the file itself. */
static void item_hooks(struct aitag_tagger *t, struct item_acc *acc, const struct msg *end)
{
    struct work *w = &t->works[acc->idx];
    int want[MAX_ANALYZERS];
    struct aitag_audio_limits lim;

    if (end->rc < 0 || acc->error[0] || acc->n_frames == 0)
        return;
    /* the item's limits, with what its frames spent of its time and CPU budget */
    lim = (struct aitag_audio_limits){
        .max_duration = t->p.max_duration,
        .max_streams = t->p.max_streams,
        .time_limit = t->p.item_timeout > 0 ? t->p.item_timeout : AITAG_ITEM_TIMEOUT_DEFAULT,
        .cpu_limit = t->p.item_cpu > 0 ? t->p.item_cpu : 0,
        .time_spent = aitag_now() - acc->t0,
        .cpu_spent = t->p.item_cpu > 0 ? aitag_cpu_now() - acc->cpu0 : 0,
    };
    tagger_local_want(t, w, want);
    aitag_graph_run_item(t->graph, want, w->src, &end->probe,
                         end->probe.kind == AITAG_MEDIA_IMAGE ? 0 : t->p.interval, &lim, &acc->ev,
                         acc->error, sizeof acc->error);
}

/* Whether f shows next to nothing: every point of a 16 x 9 grid over its picture dark, or all
 * of them alike (the black of a fade, a flat card). */
static int frame_is_blank(const struct aitag_frame *f)
{
    const struct aitag_view *v = f->n_views ? &f->views[0] : NULL;
    int lo = 255, hi = 0, max_luma = 0;

    if (!v || !v->rgb || v->content_w < 16 || v->content_h < 9)
        return 0;
    for (int gy = 0; gy < 9; gy++)
        for (int gx = 0; gx < 16; gx++) {
            const uint8_t *px =
                v->rgb + (size_t)(v->pad_y + (2 * gy + 1) * v->content_h / 18) * (size_t)v->stride +
                (size_t)(v->pad_x + (2 * gx + 1) * v->content_w / 32) * 3;
            int luma = (77 * px[0] + 150 * px[1] + 29 * px[2]) >> 8;
            lo = luma < lo ? luma : lo;
            hi = luma > hi ? luma : hi;
            max_luma = luma > max_luma ? luma : max_luma;
        }
    return max_luma <= 40 || hi - lo <= 12;
}

/* Queues frame f (owned) for the graph; full batches run at once. */
static void analyse_frame(struct aitag_tagger *t, struct run_state *rs, struct item_acc *acc,
                          struct aitag_frame *f)
{
    size_t max = aitag_graph_batch(t->graph);

    acc->n_frames++;
    if (t->p.sampling == AITAG_SAMPLING_ADAPTIVE) {
        if (acc->n_times == acc->cap_times) {
            size_t c = acc->cap_times ? 2 * acc->cap_times : 64;
            double *v = realloc(acc->times, c * sizeof *v);
            unsigned char *b = v ? realloc(acc->blank, c) : NULL;
            if (v)
                acc->times = v;
            if (b)
                acc->blank = b, acc->cap_times = c;
        }
        if (acc->n_times < acc->cap_times) {
            acc->blank[acc->n_times] = (unsigned char)frame_is_blank(f);
            acc->times[acc->n_times++] = f->t;
        } else
            aitag_fmt(acc->error, sizeof acc->error, "out of memory");
    }
    if (max > MAX_BATCH)
        max = MAX_BATCH;
    for (size_t i = 0; i < acc->n_batch; i++)
        if (acc->batch[i]->t == f->t) { /* evidence is told apart by time: keep times distinct */
            flush_batch(t, rs, acc);
            break;
        }
    acc->batch[acc->n_batch++] = f;
    if (acc->n_batch >= max || acc->error[0])
        flush_batch(t, rs, acc);
}

/* What was found at time ft at or above its label's threshold, as planner hashes (at most max):
 * the frame's findings after the context rules (suppressions applied, the concepts they make
 * from this frame added, so that a change of "group photo" counts where the face count
 * changes); each finding's marker and tag bounds go to the planner. 0 or AITAG_ERR_NOMEM. */
static int signature(const struct aitag_tagger *t, struct item_acc *acc, double ft, uint64_t *sig,
                     size_t max, size_t *n)
{
    const struct aitag_context *cx = aitag_policy_context(t->policy);
    struct aitag_context_out out = {0};
    struct aitag_evidence *frame = malloc((acc->ev.n ? acc->ev.n : 1) * sizeof *frame);
    const struct aitag_evidence *use;
    size_t n_frame = 0, n_use;
    int rc = 0;

    *n = 0;
    if (!frame)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < acc->ev.n; i++)
        if (acc->ev.items[i].t == ft)
            frame[n_frame++] = acc->ev.items[i]; /* shallow: read only */
    use = frame, n_use = n_frame;
    if (cx && n_frame) {
        if ((rc = aitag_context_apply(cx, frame, n_frame, NULL, 0, &out)) < 0)
            goto out;
        use = out.evidence, n_use = out.n;
    }
    for (size_t i = 0; i < n_use && *n < max && rc == 0; i++) {
        const struct aitag_evidence *e = &use[i];
        struct aitag_rule r = aitag_policy_rule(t->policy, e->label);
        if (e->confidence < r.threshold)
            continue;
        sig[(*n)++] = pipeline_adaptive_hash(e->analyzer, e->label);
        rc = pipeline_adaptive_rule(acc->plan, sig[*n - 1],
                                    r.markers ? r.min_marker_duration : INFINITY,
                                    r.required_duration);
    }
out:
    aitag_context_out_clear(&out);
    free(frame);
    return rc < 0 ? AITAG_ERR_NOMEM : 0;
}

/* Answers a MSG_ROUND: the frames analysed since the last round go into the planner, whose
 * next round goes to the decoder (none when the item is done or failed). */
static void answer_round(struct aitag_tagger *t, struct item_acc *acc)
{
    struct adaptive_req *req = NULL;
    uint64_t sig[256];
    size_t n = 0, n_sig = 0;
    int rc = 0;

    if (!acc->plan || acc->error[0]) {
        tagger_box_put(&t->box, NULL, 0);
        return;
    }
    for (; acc->n_planned < acc->n_times && rc == 0; acc->n_planned++) {
        double ft = acc->times[acc->n_planned];
        rc = signature(t, acc, ft, sig, 256, &n_sig);
        if (rc == 0)
            rc = pipeline_adaptive_add(acc->plan, ft, sig, n_sig, acc->blank[acc->n_planned]);
    }
    if (rc == 0)
        rc = pipeline_adaptive_refine(acc->plan, &req, &n);
    if (rc < 0) {
        aitag_fmt(acc->error, sizeof acc->error, "out of memory");
        free(req);
        req = NULL;
        n = 0;
    }
    tagger_box_put(&t->box, req, n);
}

static void reset_adaptive(struct item_acc *acc)
{
    pipeline_adaptive_free(acc->plan);
    acc->plan = NULL;
    acc->n_times = acc->n_planned = 0;
}

/* Walks paths, or takes the one item of aitag_tagger_run_fd (t->src set, paths[0] its
 * identity, not looked at on disk). */
static int walk_items(struct aitag_tagger *t, const char *const *paths, size_t n)
{
    int rc = 0;

    if (t->src[0]) {
        struct stat st;
        char msg[160];
        if (stat(t->src, &st) != 0) /* /proc not mounted? */
            return pipeline_walk_add(&t->walk, paths[0],
                                     aitag_fmt(msg, sizeof msg, "cannot read it through %s (%s)",
                                               t->src, strerror(errno)));
        return pipeline_walk_add(&t->walk, paths[0],
                                 S_ISREG(st.st_mode) ? NULL : "not a regular file");
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = pipeline_walk_path(&t->walk, paths[i]);
    return rc == 0 ? pipeline_walk_dedupe(&t->walk) : rc;
}

int aitag_tagger_run_fd(struct aitag_tagger *t, const char *path, int fd, struct aitag_summary *sum)
{
    int rc;

    aitag_fmt(t->src, sizeof t->src, "/proc/self/fd/%d", fd);
    rc = aitag_tagger_run(t, &path, 1, sum);
    t->src[0] = '\0';
    return rc;
}

int aitag_tagger_run(struct aitag_tagger *t, const char *const *paths, size_t n,
                     struct aitag_summary *sum)
{
    struct run_state rs = {.sum = sum};
    struct item_acc acc = {0};
    pthread_t decoder;
    double renewed = aitag_now();
    int rc, started = 0;
    struct msg *m;

    memset(sum, 0, sizeof *sum);
    t->started = aitag_now();
    t->n_moved = t->n_missing = 0;
    rc = walk_items(t, paths, n);
    if (rc == 0)
        rc = tagger_plan(t);
    if (rc == 0 && !t->src[0]) /* the item of a descriptor run is open: not gone */
        rc = tagger_mark_missing(t, paths, n);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < t->n_works; i++)
        if (!t->works[i].error[0] && t->works[i].n_need > 0 && !t->p.dry_run)
            rs.media_total += work_units(&t->works[i]);
    /* Items with nothing to analyse, and planning failures, are reported up front. */
    for (size_t i = 0; i < t->n_works; i++) {
        struct work *w = &t->works[i];
        if (w->error[0]) {
            /* A path that names no file gets no row; a stored one was just marked missing. */
            if (!t->p.dry_run && t->catalog && !tagger_gone(w->src))
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
    if (pipeline_queue_init(&t->q, (size_t)(t->p.queue_frames > 0 ? t->p.queue_frames : 8)) < 0) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    if (tagger_box_init(&t->box) < 0) {
        pipeline_queue_destroy(&t->q);
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    if (pthread_create(&decoder, NULL, tagger_decode_main, t) != 0) {
        pipeline_queue_destroy(&t->q);
        tagger_box_destroy(&t->box);
        aitag_fmt(t->errmsg, sizeof t->errmsg, "cannot start the decoder thread");
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    started = 1;
    acc.idx = (size_t)-1;
    while ((m = pipeline_queue_pop(&t->q))) {
        if ((t->p.cancel && atomic_load(t->p.cancel)) || rs.blocked) {
            /* Stop now: drain without analysing; the item in flight is simply not stored. */
            pipeline_queue_close(&t->q);
            tagger_box_close(&t->box);
            tagger_msg_free(m);
            continue;
        }
        if (m->item != acc.idx) {
            drop_batch(&acc); /* frames of an item that never got its END */
            aitag_evidence_list_clear(&acc.ev);
            reset_adaptive(&acc);
            acc.idx = m->item;
            acc.n_frames = 0;
            acc.error[0] = '\0';
            acc.t0 = aitag_now();
            acc.cpu0 = t->p.item_cpu > 0 ? aitag_cpu_now() : 0;
            if (rs.analysis_started == 0)
                rs.analysis_started = acc.t0;
            rs.item_done = 0;
            rs.item_total = work_units(&t->works[m->item]);
            progress(t, &rs, t->works[m->item].path);
        }
        if (m->kind == MSG_FRAME) {
            analyse_frame(t, &rs, &acc, m->frame);
            m->frame = NULL;
        } else if (m->kind == MSG_ROUND) {
            flush_batch(t, &rs, &acc);
            if (m->plan) {
                pipeline_adaptive_free(acc.plan);
                acc.plan = m->plan;
                m->plan = NULL;
            }
            answer_round(t, &acc);
        } else if (m->elsewhere) { /* stored by another run meanwhile: as a stored item */
            drop_batch(&acc);
            rs.media_done += work_units(&t->works[m->item]);
            rs.item_done = rs.item_total = 0;
            report_done_item(t, &rs, m->item);
            acc.idx = (size_t)-1;
            progress(t, &rs, NULL);
        } else {
            flush_batch(t, &rs, &acc);
            item_hooks(t, &acc, m);
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
            sum->frames += acc.n_frames;
            sum->frames_decoded += m->frames_decoded;
            finish_item(t, &rs, &acc, m);
            if (t->claims) /* stored (or failed): another run may have it now */
                aitag_catalog_release_claim(t->catalog, t->works[m->item].path, &t->owner);
            aitag_evidence_list_clear(&acc.ev);
            reset_adaptive(&acc);
            acc.idx = (size_t)-1;
            progress(t, &rs, NULL);
        }
        tagger_msg_free(m);
        if (t->claims && aitag_now() - renewed > CLAIM_RENEW_S) {
            aitag_catalog_renew_claims(t->catalog, &t->owner, CLAIM_LEASE_MS);
            renewed = aitag_now();
        }
    }
    rc = rs.blocked ? AITAG_ERR_DB : 0;
out:
    if (started) {
        tagger_box_close(&t->box);   /* a decoder waiting for a round's answer gives up */
        pthread_join(decoder, NULL); /* after it, the decoder's `dropped` marks are visible */
        pipeline_queue_destroy(&t->q);
        tagger_box_destroy(&t->box);
        for (size_t i = 0; i < t->n_works; i++)
            if (t->works[i].dropped)
                report(t, &rs, i, AITAG_ITEM_FAILED, "out of memory", NULL, NULL, 0, NULL, 0);
    }
    if (started && t->claims) /* an interrupted run's items: free for the next */
        aitag_catalog_release_claim(t->catalog, NULL, &t->owner);
    drop_batch(&acc);
    aitag_evidence_list_clear(&acc.ev);
    reset_adaptive(&acc);
    free(acc.times);
    free(acc.blank);
    sum->not_reached = (int)(t->n_works - rs.done);
    sum->seconds = aitag_now() - t->started;
    if (rs.run_id)
        aitag_catalog_end_run(t->catalog, rs.run_id, sum->tagged, sum->skipped, sum->failed,
                              sum->seconds, sum->media_seconds);
    sum->moved = t->n_moved;
    sum->missing = t->n_missing;
    free(t->works);
    t->works = NULL;
    t->n_works = 0;
    pipeline_walk_list_free(&t->walk);
    return rc;
}
