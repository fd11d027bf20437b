/* fuzz_gw_tag_request.c - libFuzzer target for reading a POST /v1/tag request (a client's
 * bytes): the first byte picks the Content-Type, the rest is the body; for multipart, the rest
 * is the parts the server parsed, as "name=value" records separated by NUL bytes.
 *
 * Checked: a request is read or refused with a code and message, never crashes; "path",
 * "model" and "evidence" say what the body says; an upload is never empty, comes from the
 * file part, the decoded image_base64 or the raw body, and owns memory only when decoded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway_int.h"

static const char *const ctypes[] = {"application/json", "Application/JSON; charset=utf-8",
                                     "multipart/form-data; boundary=x", "image/jpeg", NULL};

/* Splits the multipart records of text (len bytes) into r->parts. */
static void split_parts(struct gw_req *r, char *text, size_t len)
{
    size_t start = 0;

    r->parts = calloc(len + 1, sizeof *r->parts);
    if (!r->parts)
        abort();
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\0')
            continue;
        text[i] = '\0'; /* text has room for one more byte */
        {
            char *rec = text + start, *eq = strchr(rec, '=');
            struct gw_part *p = &r->parts[r->n_parts++];
            p->name = rec;
            p->data = eq ? eq + 1 : rec + strlen(rec);
            if (eq)
                *eq = '\0';
            p->len = strlen(p->data);
            p->filename = strcmp(p->name, "file") == 0 ? "upload.bin" : NULL;
        }
        start = i + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_req r;
    struct gw_tag_request q;
    const char *code = NULL, *msg = NULL;
    const void *up = NULL;
    unsigned char *owned = NULL;
    size_t up_len = 0;
    char *text;
    int rc;

    if (size == 0)
        return 0;
    memset(&r, 0, sizeof r);
    r.ctype = (char *)ctypes[data[0] % (sizeof ctypes / sizeof *ctypes)];
    text = malloc(size); /* the body's size plus room for a NUL when split into parts */
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    if (data[0] % (sizeof ctypes / sizeof *ctypes) == 2) {
        split_parts(&r, text, size - 1);
        r.body = NULL;
    } else {
        r.body = size > 1 ? text : NULL; /* exact length: ASan catches a read past it */
        r.body_len = size - 1;
    }
    rc = gw_tag_request_parse(&r, &q, &code, &msg);
    if (rc < 0) {
        if (!code || !msg || !*msg || !q.is_json)
            abort(); /* only a JSON body can be malformed at this stage */
        goto out;
    }
    if (q.is_json) {
        if (q.path != json_string_value(json_object_get(q.body, "path")) ||
            q.model != json_string_value(json_object_get(q.body, "model")) ||
            q.evidence != json_is_true(json_object_get(q.body, "evidence")))
            abort();
    } else if (q.is_form) {
        const struct gw_part *m = gw_req_part(&r, "model");
        if (q.body || q.path || q.b64 || q.file != gw_req_part(&r, "file") ||
            (m ? q.model != m->data : q.model != NULL))
            abort();
    } else if (q.body || q.path || q.b64 || q.file || q.model || q.evidence) {
        abort();
    }
    if (gw_tag_request_upload(&r, &q, &up, &up_len, &owned, &code, &msg) < 0) {
        if (up || up_len || owned || !code || !msg || !*msg)
            abort();
        goto out;
    }
    if (!up || up_len == 0)
        abort();
    if (q.b64) {
        if (up != owned || up_len > AITAG_BASE64_DECODED_MAX(strlen(q.b64)))
            abort();
    } else if (owned || (q.file ? up != q.file->data || up_len != q.file->len
                                : up != r.body || up_len != r.body_len)) {
        abort();
    }
    /* the bytes are readable to their end (ASan) */
    {
        unsigned sum = 0;
        for (size_t i = 0; i < up_len; i++)
            sum += ((const unsigned char *)up)[i];
        (void)sum;
    }
out:
    free(owned);
    gw_tag_request_free(&q);
    free(r.parts);
    free(text);
    return 0;
}
