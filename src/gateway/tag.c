/*
 * tag.c - POST /v1/tag: one image or video through the same tagger as `aitag tag`, answered
 * with the same JSON object as `aitag tag --json` (docs/json.md).
 *
 * Input: {"path": "..."} naming a file under a configured library root (opened here, once,
 * without following links: tag_fs.c), {"image_base64": "..."}, the raw bytes as the body, or
 * multipart/form-data with a "file" part (and "model", "evidence" fields). The route is the
 * body's "model", else the first route with a local backend. A local route's request is
 * handed to its backend's tag queue (tag_queue.c), which answers it; a route whose backends
 * are all other gateways forwards the request unchanged; any other route (chat, embeddings)
 * is refused, so a tagging body never reaches an OpenAI-compatible service.
 *
 * Uploads are written to the gateway's private folder (tag_fs.c) and tagged under the catalog
 * key tmp_dir/aitag-upload-<sha256>-<route> (a name only, never opened) with a fixed mtime.
 * The same bytes on the same route are thus the same unchanged item to the gateway's catalog,
 * so a repeated upload is answered from it without running a model, and the catalog keeps one
 * row per distinct upload and route rather than one per request.
 *
 * A keyed request answered 200 is counted in the key's usage (keys.c, usage.c) under its
 * route: one request, the media's duration ("duration" of the answer, 0 for an image) and the
 * frames the models ran on here (0 when the catalog already held the item, or when another
 * gateway tagged it).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

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

/* The route named model (NULL: the first route whose first backend is local), or n_routes. */
static size_t find_route(const struct aitag_gateway_config *cfg, const char *model)
{
    for (size_t i = 0; i < cfg->n_routes; i++)
        if (model ? strcmp(cfg->routes[i].name, model) == 0
                  : cfg->routes[i].backends[0].kind == AITAG_BACKEND_LOCAL)
            return i;
    return cfg->n_routes;
}

/* True when every backend of the route is another aitag gateway: /v1/tag may go there, and
 * never to an OpenAI-compatible service (it would get the body, and the upstream key). */
static int only_gateways(const struct aitag_gateway_route *rt)
{
    for (size_t j = 0; j < rt->n_backends; j++)
        if (rt->backends[j].kind != AITAG_BACKEND_GATEWAY)
            return 0;
    return 1;
}

/* Opens a "path" request's file into job (fd, path); answers r and returns -1 when it cannot
 * be tagged. Outside every root is 403 whether or not the file exists. */
static int open_path(struct aitag_gateway *gw, struct gw_req *r, const char *path,
                     struct gw_tag_job *job)
{
    const struct aitag_gateway_config *cfg = gw->cfg;
    int rc =
        gw_open_under_roots(path, cfg->roots, cfg->n_roots, job->path, sizeof job->path, &job->fd);
    struct stat sb;

    if (rc == AITAG_ERR_NOTFOUND) {
        gw_error(r, 404, "invalid_request_error", "file_not_found", "no such file");
    } else if (rc == AITAG_ERR_IO) {
        gw_error(r, 403, "permission_error", "path_not_allowed",
                 "the path has a symbolic link below the library root (links are not followed)");
    } else if (rc < 0) {
        gw_error(r, 403, "permission_error", "path_not_allowed",
                 "path is outside the library roots");
    } else if (fstat(job->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        gw_error(r, 400, "invalid_request_error", "not_a_file", "path is not a regular file");
        close(job->fd);
        job->fd = -1;
        rc = -1;
    }
    return rc < 0 ? -1 : 0;
}

/* Writes an upload into job (fd, the private file, its catalog identity and shown path);
 * answers r and returns -1 when it cannot be stored. */
static int store_upload(struct aitag_gateway *gw, struct gw_req *r, const char *route,
                        const void *data, size_t len, struct gw_tag_job *job)
{
    char hex[65], slug[65], dir[PATH_MAX];

    aitag_sha256_buf(data, len, hex);
    route_slug(route, slug, sizeof slug);
    /* The catalog's key for these bytes on this route: stable across restarts, so a repeated
     * upload is answered from the catalog. Only a name: the bytes live in the private folder. */
    if (!realpath(gw->cfg->tmp_dir, dir)) {
        gw_error(r, 500, "server_error", NULL, "tmp_dir %s: %s", gw->cfg->tmp_dir, strerror(errno));
        return -1;
    }
    snprintf(job->path, sizeof job->path, "%s/aitag-upload-%s-%s", dir, hex, slug);
    snprintf(job->shown, sizeof job->shown, "sha256:%s", hex);
    job->fd = gw_tag_upload_write(gw, data, len, job->upload, sizeof job->upload);
    if (job->fd < 0) {
        gw_error(r, 500, "server_error", NULL, "cannot store the upload: %s", strerror(errno));
        job->upload[0] = '\0';
        return -1;
    }
    return 0;
}

void gw_handle_tag(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    const struct aitag_gateway_config *cfg = gw->cfg;
    struct gw_tag_request q;
    const char *code, *msg;
    int bad = gw_tag_request_parse(r, &q, &code, &msg);
    struct gw_tag_job *job = NULL;
    struct gw_backend *local = NULL;
    size_t ri;
    unsigned char *bytes = NULL;
    const void *data;
    size_t len;

    if (bad < 0) {
        gw_error(r, 400, "invalid_request_error", code, "%s", msg);
        goto out;
    }
    ri = find_route(cfg, q.model);
    if (ri == cfg->n_routes) {
        /* the key was checked from the headers: whoever has none learned nothing here */
        gw_error(r, 404, "invalid_request_error", "model_not_found", "no tagging route '%s'",
                 q.model ? q.model : "(default)");
        goto out;
    }
    snprintf(r->route, sizeof r->route, "%s", cfg->routes[ri].name);
    if (gw_auth(gw, r, w, cfg->routes[ri].name) < 0)
        goto out;
    for (size_t j = 0; j < cfg->routes[ri].n_backends && !local; j++)
        if (cfg->routes[ri].backends[j].kind == AITAG_BACKEND_LOCAL)
            local = &gw->backends[ri][j];
    if (!local && !only_gateways(&cfg->routes[ri])) {
        gw_error(r, 400, "invalid_request_error", "not_a_tagging_route",
                 "the model '%s' does not tag: /v1/tag needs a route of local analyzers or "
                 "aitag gateways",
                 cfg->routes[ri].name);
        goto out;
    }
    if (!local) { /* other gateways: forward (a multipart upload is rebuilt per backend) */
        gw_proxy(gw, r, ri, "/tag", q.body, 0, w); /* its end notes the media's duration */
        goto out;
    }
    if (!gw->p.item_json || !local->lane) {
        gw_error(r, 501, "server_error", NULL, "tagging is not available in this program");
        goto out;
    }
    if (!(job = calloc(1, sizeof *job))) {
        gw_error(r, 500, "server_error", NULL, "out of memory");
        goto out;
    }
    job->r = r;
    job->fd = -1;
    job->evidence = q.evidence;
    if (q.path) {
        if (open_path(gw, r, q.path, job) < 0)
            goto out;
        goto submit;
    }
    if (gw_tag_request_upload(r, &q, &data, &len, &bytes, &code, &msg) < 0) {
        gw_error(r, 400, "invalid_request_error", code, "%s", msg);
        goto out;
    }
    if (store_upload(gw, r, cfg->routes[ri].name, data, len, job) < 0)
        goto out;
submit:
    if (gw_tag_submit(gw, local, job) == 0) {
        job = NULL; /* the tagging thread answers r from now on: r is not touched again here */
        goto out;
    }
    gw_error(r, 503, "server_error", "overloaded", "too many tagging requests waiting");
    r->retry_after = 5;
out:
    if (job && job->fd >= 0)
        close(job->fd);
    if (job && job->upload[0])
        gw_tag_upload_remove(gw, job->upload);
    free(job);
    free(bytes);
    gw_tag_request_free(&q);
}
