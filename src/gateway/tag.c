/*
 * tag.c - POST /v1/tag: one image or video through the same tagger as `aitag tag`, answered
 * with the same JSON object as `aitag tag --json` (docs/json.md).
 *
 * Input: {"path": "..."} naming a file that must resolve (realpath, so symlinks and ".." are
 * followed first) under a configured library root, {"image_base64": "..."}, or the raw bytes
 * as the body. Uploads are written to tmp_dir under their sha256 and removed afterwards.
 * The route is the body's "model", else the first route with a local backend. A local backend
 * owns one tagger (one catalog connection, models loaded once) used by one worker at a time;
 * a route whose backends are other gateways forwards the request unchanged.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
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

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 (standard or URL alphabet, padding and whitespace ignored). Caller frees. */
static unsigned char *b64_decode(const char *s, size_t *out_len)
{
    size_t n = strlen(s), o = 0;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    unsigned acc = 0;
    int bits = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (s[i] == '=' || s[i] == '\n' || s[i] == '\r' || s[i] == ' ')
            continue;
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

static void on_item(void *ctx, const struct aitag_item_report *rep)
{
    struct gw_backend *be = ctx;

    json_decref(be->tag_obj);
    be->tag_obj = be->tag_fn(rep->path, aitag_item_status_name(rep->status), rep->probe,
                             rep->result, rep->error);
    be->tag_failed = rep->status == AITAG_ITEM_FAILED;
}

static void tag_local(struct aitag_gateway *gw, struct gw_req *r, struct gw_backend *be,
                      const char *path, const char *shown)
{
    struct aitag_summary sum;
    json_t *obj;
    int failed;
    char err[512] = "";
    int rc = 0;

    pthread_mutex_lock(&be->tag_mu);
    if (!be->tagger) {
        struct aitag_tagger_params tp = aitag_tagger_default_params();
        tp.catalog_path = gw->cfg->catalog;
        tp.analyzers = (const char *const *)be->cfg->analyzers;
        tp.n_analyzers = be->cfg->n_analyzers;
        tp.manifest_dir = gw->p.manifest_dir;
        tp.weights_dir = gw->p.weights_dir;
        tp.on_item = on_item;
        tp.ctx = be; /* stable: the backends array lives as long as the gateway */
        be->tag_fn = gw->p.item_json;
        rc = aitag_tagger_new(&tp, &be->tagger, err, sizeof err);
    }
    if (rc == 0) {
        be->tag_obj = NULL;
        be->tag_failed = 0;
        rc = aitag_tagger_run(be->tagger, &path, 1, &sum);
        if (rc < 0)
            snprintf(err, sizeof err, "%s", aitag_tagger_errmsg(be->tagger));
    }
    obj = be->tag_obj;
    failed = be->tag_failed;
    be->tag_obj = NULL;
    pthread_mutex_unlock(&be->tag_mu);
    snprintf(r->backend, sizeof r->backend, "%s", be->cfg->name);
    if (rc < 0 || !obj) {
        json_decref(obj);
        gw_error(r, 500, "server_error", "tagger_failed", "tagger: %s", err[0] ? err : "no result");
        return;
    }
    if (shown)
        json_object_set_new(obj, "path", json_string(shown));
    gw_reply_json(r, failed ? 422 : 200, obj);
}

void gw_handle_tag(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    const struct aitag_gateway_config *cfg = gw->cfg;
    int is_json = r->ctype && strncmp(r->ctype, "application/json", 16) == 0;
    json_t *body = is_json ? json_loadb(r->body ? r->body : "", r->body_len, 0, NULL) : NULL;
    const char *model = json_string_value(json_object_get(body, "model"));
    const char *path = json_string_value(json_object_get(body, "path"));
    const char *b64 = json_string_value(json_object_get(body, "image_base64"));
    struct gw_backend *local = NULL;
    size_t ri = cfg->n_routes;
    char real[PATH_MAX], up[PATH_MAX] = "", shown[80], hex[65];
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;

    if (is_json && !json_is_object(body)) {
        gw_error(r, 400, "invalid_request_error", "invalid_json", "body is not a JSON object");
        goto out;
    }
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
    if (!local) { /* other gateways: forward as is */
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
        else
            tag_local(gw, r, local, real, NULL);
        goto out;
    }
    if (is_json && !b64) {
        gw_error(r, 400, "invalid_request_error", "missing_input",
                 "give \"path\" or \"image_base64\", or send the bytes as the body");
        goto out;
    }
    if (b64 && !(bytes = b64_decode(b64, &n_bytes))) {
        gw_error(r, 400, "invalid_request_error", "bad_base64", "image_base64 is not base64");
        goto out;
    }
    if (!b64 && r->body_len == 0) {
        gw_error(r, 400, "invalid_request_error", "empty_body", "empty body");
        goto out;
    }
    {
        const void *data = bytes ? (const void *)bytes : (const void *)r->body;
        size_t len = bytes ? n_bytes : r->body_len;
        FILE *f;
        aitag_sha256_buf(data, len, hex);
        snprintf(up, sizeof up, "%s/aitag-upload-%s-%s", cfg->tmp_dir, r->id, hex);
        snprintf(shown, sizeof shown, "sha256:%s", hex);
        f = fopen(up, "wb");
        if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
            if (f)
                fclose(f);
            gw_error(r, 500, "server_error", NULL, "cannot store the upload: %s", strerror(errno));
            goto out;
        }
        tag_local(gw, r, local, up, shown);
    }
out:
    if (up[0])
        unlink(up);
    free(bytes);
    json_decref(body);
}
