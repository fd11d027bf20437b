/*
 * tag_queue.c - local tagging off the HTTP workers: one bounded queue per local backend, served
 * by its own threads.
 *
 * Tagging a video takes seconds to minutes; a worker that waited for it would hold back chat
 * and every other request behind it. So a worker only checks the request (tag.c), opens the
 * file or writes the upload, and submits a job here; it returns to the pool at once without
 * resuming the connection (state REQ_TAG). A tagging thread runs the job, answers, records
 * the key's usage and resumes the connection, as a worker would have. Each thread owns one
 * tagger (one catalog connection, models loaded on first use), so a backend with tag_threads
 * threads tags that many items at once. A full queue (tag_queue jobs waiting) is answered
 * 503 with Retry-After at submission. At stop, every job still queued is answered 503, the
 * item in flight is cancelled and answered 503, and the stop waits (2 s at most) until the
 * daemon has sent those answers: it closes its connections when it stops.
 *
 * The tagger reads the job's descriptor, never the path (aitag_tagger_run_fd): the file that
 * tag.c checked against the roots is the file analysed. The catalog keys the item by the
 * job's path. For uploads the answer's status is "tagged" whether or not the catalog already
 * held the bytes: "skipped" would tell a key that someone sent the same file before.
 *
 * "evidence": true adds the item's raw evidence and analyses, read back from the gateway's
 * catalog after the tagger committed (or skipped) the item, so a remote client commits exactly
 * what an in-process run would have. Numbers there are printed with full precision (the
 * `aitag tag --json` part keeps its own format).
 */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/remote.h"
#include "gateway_int.h"

struct gw_tag_lane {
    struct aitag_gateway *gw;
    struct gw_backend *be;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct gw_tag_job *head, *tail; /* guarded by mu */
    size_t n;                       /* queued, not started; guarded by mu */
    int stopping;                   /* guarded by mu */
    atomic_int cancel;              /* stops the item in flight at stop */
    struct gw_req **sent;           /* answered at stop, not yet sent; guarded by mu */
    size_t n_sent, cap_sent;
    struct tag_thread *threads;
    int n_threads;
};

/* One tagging thread: its tagger and the on_item answer of the run in flight. */
struct tag_thread {
    struct gw_tag_lane *lane;
    pthread_t tid;
    struct aitag_tagger *tagger;
    json_t *obj;
    int failed, upload;
};

static void on_item(void *ctx, const struct aitag_item_report *rep)
{
    struct tag_thread *th = ctx;
    enum aitag_item_status st = rep->status;

    if (th->upload && st == AITAG_ITEM_SKIPPED)
        st = AITAG_ITEM_TAGGED; /* see the top of the file */
    json_decref(th->obj);
    th->obj = th->lane->gw->p.item_json(rep->path, aitag_item_status_name(st), rep->probe,
                                        rep->result, rep->error);
    th->failed = rep->status == AITAG_ITEM_FAILED;
}

static int in_route(const struct aitag_gateway_backend *b, const char *analyzer)
{
    for (size_t i = 0; i < b->n_analyzers; i++)
        if (strcmp(b->analyzers[i], analyzer) == 0)
            return 1;
    return 0;
}

/* The stored analyses and evidence of path in the gateway's catalog, as the "evidence" object,
 * limited to the backend's analyzers (the catalog is shared by every route, and a route shows
 * only what it runs). NULL with err set when they cannot be read. */
static json_t *stored_evidence(struct aitag_gateway *gw, const struct aitag_gateway_backend *b,
                               const char *path, double interval, char *err, size_t errlen)
{
    size_t kept = 0;

    struct aitag_catalog *c = NULL;
    struct aitag_analysis_row *an = NULL;
    struct aitag_evidence_list ev = {0};
    struct aitag_media_row row;
    json_t *o = NULL;
    size_t n_an = 0;
    int rc;

    rc = aitag_catalog_open(gw->cfg->catalog, 1, &c, err, errlen);
    if (rc < 0)
        goto out;
    rc = aitag_catalog_find_media(c, path, &row);
    if (rc == 0)
        rc = aitag_catalog_load_analyses(c, row.id, &an, &n_an);
    if (rc == 0)
        rc = aitag_catalog_load_evidence(c, row.id, &ev);
    if (rc < 0) {
        snprintf(err, errlen, "catalog: %s", aitag_catalog_errmsg(c));
        goto out;
    }
    for (size_t i = 0; i < n_an; i++)
        if (in_route(b, an[i].analyzer))
            an[kept++] = an[i];
    n_an = kept;
    kept = 0;
    for (size_t i = 0; i < ev.n; i++) {
        if (in_route(b, ev.items[i].analyzer)) {
            struct aitag_evidence keep = ev.items[i];
            ev.items[i] = ev.items[kept];
            ev.items[kept++] = keep;
        }
    }
    {
        /* the kept items, in order, at the front; the list still owns (and frees) them all */
        struct aitag_evidence_list view = {ev.items, kept, kept};
        o = aitag_remote_evidence_json(an, n_an, &view, interval,
                                       strcmp(row.status, "partial") == 0);
    }
    if (!o)
        snprintf(err, errlen, "out of memory");
out:
    aitag_evidence_list_clear(&ev);
    free(an);
    aitag_catalog_close(c);
    return o;
}

/* Answers obj, with the evidence object appended at full precision: the tag object keeps the
 * exact bytes of `aitag tag --json`, and the evidence round-trips without rounding. Steals. */
static void reply_with_evidence(struct gw_req *r, int status, json_t *obj, json_t *ev)
{
    char *head = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    char *tail = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII);
    size_t hl = head ? strlen(head) : 0, tl = tail ? strlen(tail) : 0;
    char *body = head && tail && hl >= 2 ? malloc(hl + tl + 16) : NULL;

    if (body) {
        memcpy(body, head, hl - 1); /* drop the closing brace */
        memcpy(body + hl - 1, ",\"evidence\":", 12);
        memcpy(body + hl + 11, tail, tl);
        memcpy(body + hl + 11 + tl, "}", 2);
        gw_reply(r, status, "application/json", body, hl + tl + 12);
    } else {
        gw_error(r, 500, "server_error", NULL, "out of memory");
    }
    free(body);
    free(head);
    free(tail);
    json_decref(obj);
    json_decref(ev);
}

static int make_tagger(struct tag_thread *th, char *err, size_t errlen)
{
    struct aitag_gateway *gw = th->lane->gw;
    const struct aitag_gateway_backend *b = th->lane->be->cfg;
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    char rules[4096], ctx[2][4096];
    const char *ctx_paths[2];

    tp.catalog_path = gw->cfg->catalog;
    tp.rules_path = gw->cfg->rules ? gw->cfg->rules : aitag_default_rules_path(rules, sizeof rules);
    /* the context rules `aitag tag` applies: the shipped ones, then the user's */
    if (gw->p.manifest_dir) {
        snprintf(ctx[0], sizeof ctx[0], "%.4000s/context/defaults.json", gw->p.manifest_dir);
        if (access(ctx[0], R_OK) == 0)
            ctx_paths[tp.n_context_paths++] = ctx[0];
    }
    if (gw->cfg->context || aitag_default_context_path(ctx[1], sizeof ctx[1]))
        ctx_paths[tp.n_context_paths++] = gw->cfg->context ? gw->cfg->context : ctx[1];
    tp.context_paths = ctx_paths;
    aitag_mkdir_parents(gw->cfg->catalog); /* the default's folder may be new */
    tp.analyzers = (const char *const *)b->analyzers;
    tp.n_analyzers = b->n_analyzers;
    tp.manifest_dir = gw->p.manifest_dir;
    tp.weights_dir = gw->p.weights_dir;
    tp.on_item = on_item;
    tp.ctx = th;
    tp.cancel = &th->lane->cancel;
    tp.max_pixels = (int64_t)(gw->cfg->max_megapixels * 1e6);
    return aitag_tagger_new(&tp, &th->tagger, err, errlen);
}

/* Runs job and answers its request. */
static void run_job(struct tag_thread *th, struct gw_tag_job *job)
{
    struct aitag_gateway *gw = th->lane->gw;
    struct gw_req *r = job->r;
    struct aitag_summary sum = {0};
    json_t *ev = NULL, *obj;
    char err[512] = "";
    int rc = 0;

    snprintf(r->backend, sizeof r->backend, "%s", th->lane->be->cfg->name);
    if (!th->tagger)
        rc = make_tagger(th, err, sizeof err);
    th->obj = NULL;
    th->failed = 0;
    th->upload = job->upload[0] != '\0';
    if (rc == 0 && (rc = aitag_tagger_run_fd(th->tagger, job->path, job->fd, &sum)) < 0)
        snprintf(err, sizeof err, "%s", aitag_tagger_errmsg(th->tagger));
    if (rc == 0 && job->evidence && th->obj && !th->failed) {
        ev = stored_evidence(gw, th->lane->be->cfg, job->path,
                             aitag_tagger_default_params().interval, err, sizeof err);
        if (!ev)
            rc = AITAG_ERR_DB;
    }
    obj = th->obj;
    th->obj = NULL;
    if (atomic_load(&th->lane->cancel) && !obj) {
        json_decref(ev);
        gw_error(r, 503, "server_error", "shutting_down", "the gateway is stopping");
        return;
    }
    if (rc < 0 || !obj) {
        json_decref(obj);
        json_decref(ev);
        gw_error(r, 500, "server_error", "tagger_failed", "tagger: %s", err[0] ? err : "no result");
        return;
    }
    if (job->shown[0])
        json_object_set_new(obj, "path", json_string(job->shown));
    r->frames = sum.frames;
    r->media_seconds = json_number_value(json_object_get(obj, "duration"));
    if (ev)
        reply_with_evidence(r, 200, obj, ev);
    else
        gw_reply_json(r, th->failed ? 422 : 200, obj);
}

/* At stop: keeps a reference to r, whose answer the daemon has yet to send, so that
 * lane_stop can wait for it before the daemon stops (and closes its connections). Returns 1
 * when kept. */
static int keep_until_sent(struct gw_tag_lane *l, struct gw_req *r)
{
    int kept = 0;

    if (!atomic_load(&l->cancel))
        return 0;
    pthread_mutex_lock(&l->mu);
    if (l->n_sent == l->cap_sent) {
        size_t cap = l->cap_sent ? l->cap_sent * 2 : 16;
        struct gw_req **p = realloc(l->sent, cap * sizeof *p);
        if (p)
            l->sent = p, l->cap_sent = cap;
    }
    if (l->n_sent < l->cap_sent) {
        l->sent[l->n_sent++] = r;
        kept = 1;
    }
    pthread_mutex_unlock(&l->mu);
    return kept;
}

/* Releases job's file, answers its request (resuming the connection) and frees it. */
static void finish_job(struct gw_tag_lane *l, struct gw_tag_job *job)
{
    struct aitag_gateway *gw = l->gw;
    struct gw_req *r = job->r;
    int kept = keep_until_sent(l, r);

    close(job->fd);
    if (job->upload[0])
        gw_tag_upload_remove(gw, job->upload);
    pthread_mutex_lock(&r->mu);
    if (!r->status)
        gw_error(r, 500, "server_error", NULL, "no answer");
    r->state = REQ_DONE;
    if (kept)
        r->refs++;                  /* lane_stop's, dropped once the answer is sent */
    gw_req_resume(r); /* suspended since a worker queued it */
    pthread_mutex_unlock(&r->mu);
    gw_req_release(r);
    free(job);
}

/* Waits (2 s at most) until the daemon has sent the answers kept at stop, then drops them. */
static void wait_sent(struct gw_tag_lane *l)
{
    for (int tries = 0; tries < 200; tries++) {
        size_t left = 0;
        for (size_t i = 0; i < l->n_sent; i++) {
            pthread_mutex_lock(&l->sent[i]->mu);
            left += !l->sent[i]->client_gone; /* set when the daemon completed it */
            pthread_mutex_unlock(&l->sent[i]->mu);
        }
        if (left == 0)
            break;
        usleep(10000);
    }
    for (size_t i = 0; i < l->n_sent; i++)
        gw_req_release(l->sent[i]);
    free(l->sent);
}

static void *tag_thread_main(void *arg)
{
    struct tag_thread *th = arg;
    struct gw_tag_lane *l = th->lane;

    for (;;) {
        struct gw_tag_job *job;
        pthread_mutex_lock(&l->mu);
        while (!l->head && !l->stopping)
            pthread_cond_wait(&l->cv, &l->mu);
        job = l->stopping ? NULL : l->head; /* at stop, gw_tag_queue_stop answers the rest */
        if (job) {
            l->head = job->next;
            if (!l->head)
                l->tail = NULL;
            l->n--;
        }
        pthread_mutex_unlock(&l->mu);
        if (!job)
            break;
        run_job(th, job);
        finish_job(l, job);
    }
    aitag_tagger_free(th->tagger);
    th->tagger = NULL;
    return NULL;
}

int gw_tag_submit(struct aitag_gateway *gw, struct gw_backend *be, struct gw_tag_job *job)
{
    struct gw_tag_lane *l = be->lane;
    struct gw_req *r = job->r;

    pthread_mutex_lock(&l->mu);
    if (l->stopping || l->n >= (size_t)gw->cfg->tag_queue) {
        pthread_mutex_unlock(&l->mu);
        return -1;
    }
    pthread_mutex_lock(&r->mu);
    r->refs++; /* the job's: dropped by finish_job */
    r->state = REQ_TAG;
    pthread_mutex_unlock(&r->mu);
    job->next = NULL;
    if (l->tail)
        l->tail->next = job;
    else
        l->head = job;
    l->tail = job;
    l->n++;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

static void lane_stop(struct gw_tag_lane *l)
{
    struct gw_tag_job *job;

    pthread_mutex_lock(&l->mu);
    l->stopping = 1;
    atomic_store(&l->cancel, 1);
    pthread_cond_broadcast(&l->cv);
    job = l->head; /* answered now: the threads take no more jobs */
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (job) {
        struct gw_tag_job *next = job->next;
        gw_error(job->r, 503, "server_error", "shutting_down", "the gateway is stopping");
        finish_job(l, job);
        job = next;
    }
    for (int i = 0; i < l->n_threads; i++)
        pthread_join(l->threads[i].tid, NULL);
    wait_sent(l);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l->threads);
    free(l);
}

int gw_tag_queue_start(struct aitag_gateway *gw, char *err, size_t errlen)
{
    const struct aitag_gateway_config *cfg = gw->cfg;

    for (size_t i = 0; i < cfg->n_routes; i++) {
        for (size_t j = 0; j < cfg->routes[i].n_backends; j++) {
            struct gw_backend *be = &gw->backends[i][j];
            struct gw_tag_lane *l;
            if (be->cfg->kind != AITAG_BACKEND_LOCAL)
                continue;
            l = calloc(1, sizeof *l);
            if (!l || !(l->threads = calloc((size_t)cfg->tag_threads, sizeof *l->threads))) {
                free(l);
                snprintf(err, errlen, "gateway: out of memory");
                return AITAG_ERR_NOMEM;
            }
            l->gw = gw;
            l->be = be;
            pthread_mutex_init(&l->mu, NULL);
            pthread_cond_init(&l->cv, NULL);
            atomic_init(&l->cancel, 0);
            be->lane = l;
            for (; l->n_threads < cfg->tag_threads; l->n_threads++) {
                l->threads[l->n_threads].lane = l;
                if (pthread_create(&l->threads[l->n_threads].tid, NULL, tag_thread_main,
                                   &l->threads[l->n_threads]) != 0) {
                    snprintf(err, errlen, "gateway: cannot start tagging threads");
                    return AITAG_ERR_NOMEM;
                }
            }
        }
    }
    return 0;
}

void gw_tag_queue_stop(struct aitag_gateway *gw)
{
    for (size_t i = 0; gw->backends && i < gw->cfg->n_routes; i++) {
        for (size_t j = 0; gw->backends[i] && j < gw->cfg->routes[i].n_backends; j++) {
            if (gw->backends[i][j].lane)
                lane_stop(gw->backends[i][j].lane);
            gw->backends[i][j].lane = NULL;
        }
    }
}
