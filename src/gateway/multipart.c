/*
 * multipart.c - multipart/form-data: parsed while the body arrives, rebuilt for upstreams, and
 * POST /v1/audio/transcriptions, the endpoint that needs both.
 *
 * Parsing runs on the HTTP thread with libmicrohttpd's post processor, fed the same pieces that
 * are appended to the raw body, so a part never outgrows max_body and nothing waits for the
 * whole upload to start parsing. The processor hands a value over in pieces (off counts the
 * bytes already given for that value); a piece at offset 0 opens a new part. A body is
 * malformed when the processor refuses it, stops short of the closing boundary, or holds no
 * part at all (it skips leading garbage silently, so an empty result is the only sign of a body
 * that was garbage throughout).
 *
 * Upstream, the parts are sent again as a fresh multipart body built with curl_mime (new
 * boundary, the "model" part replaced by the backend's model), so what a backend receives
 * does not depend on how the client framed its upload.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aitag/common.h"
#include "gateway_int.h"

int gw_is_multipart(const struct gw_req *r)
{
    return r->ctype && strncasecmp(r->ctype, "multipart/form-data", 19) == 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    struct gw_req *r = cls;
    struct gw_part *p = r->n_parts ? &r->parts[r->n_parts - 1] : NULL;
    char *grown;

    (void)kind;
    (void)transfer_encoding;
    if (!key)
        return MHD_NO;
    /* A new part starts at offset 0, unless the previous piece of this same part was empty. */
    if (!p || strcmp(p->name, key) != 0 || (off == 0 && p->len > 0) || (off > 0 && off != p->len)) {
        struct gw_part *parts;
        if (off != 0)
            return MHD_NO; /* a continuation of a part we never saw */
        parts = realloc(r->parts, (r->n_parts + 1) * sizeof *parts);
        if (!parts)
            return MHD_NO;
        r->parts = parts;
        p = &parts[r->n_parts++];
        memset(p, 0, sizeof *p);
        p->name = strdup(key);
        p->filename = dup_or_null(filename);
        p->ctype = dup_or_null(content_type);
        p->data = calloc(1, 1);
        if (!p->name || !p->data || (filename && !p->filename) || (content_type && !p->ctype))
            return MHD_NO;
    }
    if (size == 0)
        return MHD_YES;
    grown = realloc(p->data, p->len + size + 1);
    if (!grown)
        return MHD_NO;
    p->data = grown;
    memcpy(p->data + p->len, data, size);
    p->len += size;
    p->data[p->len] = '\0';
    return MHD_YES;
}

void gw_multipart_begin(struct gw_req *r)
{
    r->pp = MHD_create_post_processor(r->conn, 16384, on_part, r);
    if (!r->pp)
        r->mp_bad = 1; /* no boundary in the Content-Type, or out of memory */
}

void gw_multipart_feed(struct gw_req *r, const char *data, size_t len)
{
    if (r->pp && !r->mp_bad && MHD_post_process(r->pp, data, len) != MHD_YES)
        r->mp_bad = 1;
}

int gw_multipart_end(struct gw_req *r)
{
    if (r->pp && MHD_destroy_post_processor(r->pp) != MHD_YES)
        r->mp_bad = 1; /* stopped short of the closing boundary */
    r->pp = NULL;
    return r->mp_bad || r->n_parts == 0 ? -1 : 0;
}

void gw_multipart_free(struct gw_req *r)
{
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    r->pp = NULL;
}

curl_mime *gw_multipart_mime(CURL *h, const struct gw_req *r, const char *model)
{
    curl_mime *mime = curl_mime_init(h);

    for (size_t i = 0; mime && i < r->n_parts; i++) {
        const struct gw_part *p = &r->parts[i];
        int is_model = strcmp(p->name, "model") == 0 && model;
        curl_mimepart *mp = curl_mime_addpart(mime);

        if (!mp || curl_mime_name(mp, p->name) != CURLE_OK ||
            curl_mime_data(mp, is_model ? model : p->data,
                           is_model ? CURL_ZERO_TERMINATED : p->len) != CURLE_OK ||
            (p->filename && curl_mime_filename(mp, p->filename) != CURLE_OK) ||
            (p->ctype && curl_mime_type(mp, p->ctype) != CURLE_OK)) {
            curl_mime_free(mime);
            return NULL;
        }
    }
    return mime;
}

void gw_handle_transcriptions(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    const struct gw_part *file = gw_req_part(r, "file"), *model = gw_req_part(r, "model");
    const struct aitag_gateway_route *route;

    if (!gw_is_multipart(r)) {
        gw_error(r, 400, "invalid_request_error", "invalid_multipart",
                 "the body must be multipart/form-data");
        return;
    }
    if (!model || model->len == 0) {
        gw_error(r, 400, "invalid_request_error", "missing_model",
                 "the \"model\" part is required");
        return;
    }
    if (!file || file->len == 0) {
        gw_error(r, 400, "invalid_request_error", "missing_file",
                 "the \"file\" part is required (the audio, as a file upload)");
        return;
    }
    route = aitag_gateway_route_find(gw->cfg, model->data);
    if (!route) {
        gw_error(r, 404, "invalid_request_error", "model_not_found",
                 "the model '%s' does not exist", model->data);
        return;
    }
    if (gw_auth(gw, r, w, route->name) < 0)
        return;
    gw_proxy(gw, r, (size_t)(route - gw->cfg->routes), "/audio/transcriptions", NULL, 0, w);
}
