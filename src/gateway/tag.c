/*
 * tag.c - POST /v1/tag: one image or video through the same tagger as `aitag tag`, answered
 * with the same JSON object as `aitag tag --json` (docs/json.md).
 *
 * Input: {"path": "..."} naming a file that must resolve (realpath, so symlinks and ".." are
 * followed first) under a configured library root, {"image_base64": "..."}, the raw bytes as
 * the body, or multipart/form-data with a "file" part (and "model", "evidence" fields).
 * The route is the body's "model", else the first route with a local backend. A local backend
 * owns one tagger (one catalog connection, models loaded once) used by one worker at a time;
 * a route whose backends are other gateways forwards the request unchanged.
 *
 * Uploads are written, under the backend's lock, to tmp_dir as aitag-upload-<sha256>-<route>
 * with a fixed mtime, and removed after tagging. The same bytes on the same route are thus the
 * same unchanged file to the gateway's catalog, so a repeated upload is answered from it
 * without running a model, and the catalog keeps one row per distinct upload and route rather
 * than one per request.
 *
 * "evidence": true (remote tagging, `aitag tag --gateway`) adds the item's raw evidence and
 * analyses, read back from the gateway's catalog after the tagger committed (or skipped) the
 * item, so a client commits exactly what an in-process run would have. Numbers there are
 * printed with full precision (the `aitag tag --json` part keeps its own format).
 *
 * A keyed request answered 200 is counted in the key's usage (keys.c, usage.c) under its
 * route: one request, the media's duration ("duration" of the answer, 0 for an image) and the
 * frames the models ran on here (0 when the catalog already held the item, or when another
 * gateway tagged it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/remote.h"
#include "gateway_int.h"

int gw_resolve_under_roots(const char *path, char *const *roots, size_t n_roots, char *real,
                           size_t len)
{
    char rp[PATH_MAX], rr[PATH_MAX];

    if (!path || !*path || !realpath(path, rp))
        return AITAG_ERR_NOTFOUND;
    for (size_t i = 0; i < n_roots; i++) {
        size_t n;
        if (!realpath(roots[i], rr))
            continue;
        n = strlen(rr);
        if (strcmp(rr, "/") == 0 || (strncmp(rp, rr, n) == 0 && (rp[n] == '/' || rp[n] == '\0'))) {
            snprintf(real, len, "%s", rp);
            return 0;
        }
    }
    return AITAG_ERR_INVALID;
}

static void on_item(void *ctx, const struct aitag_item_report *rep)
{
    struct gw_backend *be = ctx;

    json_decref(be->tag_obj);
    be->tag_obj = be->tag_fn(rep->path, aitag_item_status_name(rep->status), rep->probe,
                             rep->result, rep->error);
    be->tag_failed = rep->status == AITAG_ITEM_FAILED;
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

/* Writes an upload to path with a fixed mtime (see the top of the file). */
static int write_upload(const char *path, const void *data, size_t len)
{
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -1;
    ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    ok = ok && utimensat(AT_FDCWD, path, ts, 0) == 0;
    if (!ok)
        unlink(path);
    return ok ? 0 : -1;
}

struct tag_input {
    const char *path;  /* the file to tag */
    const char *shown; /* "path" in the answer instead of path; NULL keeps it */
    const void *data;  /* upload: bytes written to path first, removed afterwards */
    size_t len;
    int evidence; /* add the "evidence" object */
};

static void tag_local(struct aitag_gateway *gw, struct gw_req *r, struct gw_backend *be,
                      const struct tag_input *in)
{
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_summary sum;
    json_t *obj, *ev = NULL;
    int failed;
    char err[512] = "";
    int rc = 0;

    pthread_mutex_lock(&be->tag_mu);
    if (!be->tagger) {
        char rules[4096];
        tp.catalog_path = gw->cfg->catalog;
        tp.rules_path =
            gw->cfg->rules ? gw->cfg->rules : aitag_default_rules_path(rules, sizeof rules);
        aitag_mkdir_parents(gw->cfg->catalog); /* the default's folder may be new */
        tp.analyzers = (const char *const *)be->cfg->analyzers;
        tp.n_analyzers = be->cfg->n_analyzers;
        tp.manifest_dir = gw->p.manifest_dir;
        tp.weights_dir = gw->p.weights_dir;
        tp.on_item = on_item;
        tp.ctx = be; /* stable: the backends array lives as long as the gateway */
        be->tag_fn = gw->p.item_json;
        rc = aitag_tagger_new(&tp, &be->tagger, err, sizeof err);
    }
    if (rc == 0 && in->data && write_upload(in->path, in->data, in->len) < 0) {
        snprintf(err, sizeof err, "cannot store the upload: %s", strerror(errno));
        rc = AITAG_ERR_IO;
    }
    if (rc == 0) {
        be->tag_obj = NULL;
        be->tag_failed = 0;
        rc = aitag_tagger_run(be->tagger, &in->path, 1, &sum);
        if (rc < 0)
            snprintf(err, sizeof err, "%s", aitag_tagger_errmsg(be->tagger));
    }
    if (rc == 0 && in->evidence && be->tag_obj && !be->tag_failed) {
        ev = stored_evidence(gw, be->cfg, in->path, tp.interval, err, sizeof err);
        if (!ev)
            rc = AITAG_ERR_DB;
    }
    if (in->data)
        unlink(in->path);
    obj = be->tag_obj;
    failed = be->tag_failed;
    be->tag_obj = NULL;
    pthread_mutex_unlock(&be->tag_mu);
    snprintf(r->backend, sizeof r->backend, "%s", be->cfg->name);
    if (rc < 0 || !obj) {
        json_decref(obj);
        json_decref(ev);
        gw_error(r, 500, "server_error", "tagger_failed", "tagger: %s", err[0] ? err : "no result");
        return;
    }
    if (in->shown)
        json_object_set_new(obj, "path", json_string(in->shown));
    r->frames = sum.frames;
    if (ev)
        reply_with_evidence(r, 200, obj, ev);
    else
        gw_reply_json(r, failed ? 422 : 200, obj);
}

/* A route name as a file name component. */
static void route_slug(const char *route, char *out, size_t len)
{
    size_t i = 0;

    for (; route[i] && i + 1 < len; i++) {
        char ch = route[i];
        out[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                         ch == '-' || ch == '_'
                     ? ch
                     : '_';
    }
    out[i] = '\0';
}

void gw_handle_tag(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    const struct aitag_gateway_config *cfg = gw->cfg;
    struct gw_tag_request q;
    const char *code, *msg;
    int bad = gw_tag_request_parse(r, &q, &code, &msg);
    json_t *body = q.body;
    const char *model = q.model, *path = q.path;
    struct tag_input in = {0};
    struct gw_backend *local = NULL;
    size_t ri = cfg->n_routes;
    char real[PATH_MAX], up[PATH_MAX + 200], dir[PATH_MAX], slug[65], shown[80], hex[65];
    unsigned char *bytes = NULL;

    if (bad < 0) {
        gw_error(r, 400, "invalid_request_error", code, "%s", msg);
        goto out;
    }
    in.evidence = q.evidence;
    for (size_t i = 0; i < cfg->n_routes && ri == cfg->n_routes; i++) {
        if (model ? strcmp(cfg->routes[i].name, model) == 0
                  : cfg->routes[i].backends[0].kind == AITAG_BACKEND_LOCAL)
            ri = i;
    }
    if (ri == cfg->n_routes) {
        gw_error(r, 404, "invalid_request_error", "model_not_found", "no tagging route '%s'",
                 model ? model : "(default)");
        goto out;
    }
    snprintf(r->route, sizeof r->route, "%s", cfg->routes[ri].name);
    if (gw_auth(gw, r, w, cfg->routes[ri].name) < 0)
        goto out;
    for (size_t j = 0; j < cfg->routes[ri].n_backends && !local; j++)
        if (cfg->routes[ri].backends[j].kind == AITAG_BACKEND_LOCAL)
            local = &gw->backends[ri][j];
    if (!local) { /* other gateways: forward (a multipart upload is rebuilt per backend) */
        gw_proxy(gw, r, ri, "/tag", body, 0, w);
        goto out;
    }
    if (!gw->p.item_json) {
        gw_error(r, 501, "server_error", NULL, "tagging is not available in this program");
        goto out;
    }
    if (path) {
        int rc = gw_resolve_under_roots(path, cfg->roots, cfg->n_roots, real, sizeof real);
        struct stat sb;
        if (rc == AITAG_ERR_NOTFOUND)
            gw_error(r, 404, "invalid_request_error", "file_not_found", "no such file");
        else if (rc < 0)
            gw_error(r, 403, "permission_error", "path_not_allowed",
                     "path is outside the library roots");
        else if (stat(real, &sb) != 0 || !S_ISREG(sb.st_mode))
            gw_error(r, 400, "invalid_request_error", "not_a_file", "path is not a regular file");
        else {
            in.path = real;
            tag_local(gw, r, local, &in);
        }
        goto out;
    }
    if (gw_tag_request_upload(r, &q, &in.data, &in.len, &bytes, &code, &msg) < 0) {
        gw_error(r, 400, "invalid_request_error", code, "%s", msg);
        goto out;
    }
    aitag_sha256_buf(in.data, in.len, hex);
    route_slug(cfg->routes[ri].name, slug, sizeof slug);
    /* absolute, so the path the tagger stores is the one looked up for the evidence */
    if (!realpath(cfg->tmp_dir, dir)) {
        gw_error(r, 500, "server_error", NULL, "tmp_dir %s: %s", cfg->tmp_dir, strerror(errno));
        goto out;
    }
    snprintf(up, sizeof up, "%s/aitag-upload-%s-%s", dir, hex, slug);
    snprintf(shown, sizeof shown, "sha256:%s", hex);
    in.path = up;
    in.shown = shown;
    tag_local(gw, r, local, &in);
out:
    if (r->key_id >= 0 && r->status == 200) {
        json_t *ans = r->resp ? json_loadb(r->resp, r->resp_len, 0, NULL) : NULL;
        r->media_seconds = json_number_value(json_object_get(ans, "duration"));
        json_decref(ans);
        gw_usage_record(w, r);
    }
    free(bytes);
    gw_tag_request_free(&q);
}
