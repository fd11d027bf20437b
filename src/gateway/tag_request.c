/*
 * tag_request.c - what a POST /v1/tag request asks for, read from its body before anything is
 * done with it: the route ("model"), a "path" to tag where it lies, whether the evidence is
 * wanted, and otherwise the bytes to tag.
 *
 * The body is one of: JSON ({"path": ...} or {"image_base64": ...}, with "model" and
 * "evidence"), multipart/form-data (a "file" part, "model" and "evidence" fields; parsed into
 * r->parts as it arrived), or the raw bytes of the media. Media types are compared without
 * regard to case (RFC 9110), so the parts libmicrohttpd parsed for "Multipart/Form-Data" are
 * the ones read here. Reading is split in two because the handler answers in this order:
 * a malformed body at once, then the route and the key, and only then the upload, which is
 * decoded (image_base64) only for a request that got that far. Pure: the unit tests and the
 * fuzz target drive it with requests built in memory.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aitag/common.h"
#include "gateway_int.h"

static int truthy(const char *s)
{
    return s && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0);
}

static int fail(const char **code, const char **msg, const char *c, const char *m)
{
    *code = c;
    *msg = m;
    return -1;
}

int gw_tag_request_parse(const struct gw_req *r, struct gw_tag_request *q, const char **code,
                         const char **msg)
{
    const struct gw_part *model_part, *ev_part;
    json_t *jev;

    memset(q, 0, sizeof *q);
    q->is_json = r->ctype && strncasecmp(r->ctype, "application/json", 16) == 0;
    q->is_form = gw_is_multipart(r);
    if (q->is_json) {
        q->body = json_loadb(r->body ? r->body : "", r->body ? r->body_len : 0, 0, NULL);
        if (!json_is_object(q->body))
            return fail(code, msg, "invalid_json", "body is not a JSON object");
        jev = json_object_get(q->body, "evidence");
        if (jev && !json_is_boolean(jev))
            return fail(code, msg, "invalid_evidence", "\"evidence\" must be true or false");
        q->model = json_string_value(json_object_get(q->body, "model"));
        q->path = json_string_value(json_object_get(q->body, "path"));
        q->b64 = json_string_value(json_object_get(q->body, "image_base64"));
        q->evidence = json_is_true(jev);
    } else if (q->is_form) {
        q->file = gw_req_part(r, "file");
        model_part = gw_req_part(r, "model");
        ev_part = gw_req_part(r, "evidence");
        q->model = model_part ? model_part->data : NULL;
        q->evidence = ev_part && truthy(ev_part->data);
    }
    return 0;
}

int gw_tag_request_upload(const struct gw_req *r, const struct gw_tag_request *q, const void **data,
                          size_t *len, unsigned char **owned, const char **code, const char **msg)
{
    *data = NULL;
    *len = 0;
    *owned = NULL;
    if (q->is_form && !q->file)
        return fail(code, msg, "missing_input", "multipart body without a \"file\" part");
    if (q->is_json && !q->b64)
        return fail(code, msg, "missing_input",
                    "give \"path\" or \"image_base64\", or send the bytes as the body");
    if (q->b64) {
        *owned = malloc(AITAG_BASE64_DECODED_MAX(strlen(q->b64)));
        if (!*owned || aitag_base64_decode(q->b64, *owned, len) < 0) {
            free(*owned);
            *owned = NULL;
            *len = 0;
            return fail(code, msg, "bad_base64", "image_base64 is not base64");
        }
        *data = *owned;
    } else if (q->file) {
        *data = q->file->data;
        *len = q->file->len;
    } else {
        *data = r->body;
        *len = r->body_len;
    }
    if (*len == 0 || !*data) {
        free(*owned);
        *owned = NULL;
        *data = NULL;
        *len = 0;
        return fail(code, msg, "empty_body", "empty upload");
    }
    return 0;
}

void gw_tag_request_free(struct gw_tag_request *q)
{
    json_decref(q->body);
    memset(q, 0, sizeof *q);
}
