/*
 * test_gw_tag_request.c - reading a POST /v1/tag request (src/gateway/tag_request.c): JSON,
 * multipart and raw bodies into the route, path, evidence flag and upload bytes, with the 400
 * answers for what is malformed, in the handler's order.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gateway/gateway_int.h"

static struct gw_req req(const char *ctype, const char *body)
{
    struct gw_req r;

    memset(&r, 0, sizeof r);
    r.ctype = (char *)ctype;
    r.body = (char *)body;
    r.body_len = body ? strlen(body) : 0;
    return r;
}

/* Parses r; returns the error code, or "" when it parsed. */
static const char *parse(const struct gw_req *r, struct gw_tag_request *q)
{
    const char *code = NULL, *msg = NULL;

    if (gw_tag_request_parse(r, q, &code, &msg) == 0)
        return "";
    CHECK(code && msg && *msg);
    return code ? code : "?";
}

/* The upload's bytes as a string (malloc'd), or the error code prefixed with '!'. */
static char *upload(const struct gw_req *r, const struct gw_tag_request *q)
{
    const void *data = (const void *)1;
    size_t len = 7;
    unsigned char *owned = (unsigned char *)1;
    const char *code = NULL, *msg = NULL;
    char *s;

    if (gw_tag_request_upload(r, q, &data, &len, &owned, &code, &msg) < 0) {
        CHECK(!data && len == 0 && !owned && msg && *msg);
        s = malloc(strlen(code) + 2);
        if (s)
            snprintf(s, strlen(code) + 2, "!%s", code);
        return s;
    }
    CHECK(data && len > 0);
    CHECK(!owned || data == owned);
    s = strndup(data, len);
    free(owned);
    return s;
}

static void test_json(void)
{
    struct gw_tag_request q;
    struct gw_req r;
    char *s;

    r = req("application/json",
            "{\"path\": \"/media/a.jpg\", \"model\": \"tag\", \"evidence\": true}");
    CHECK_STR(parse(&r, &q), "");
    CHECK_STR(q.path, "/media/a.jpg");
    CHECK_STR(q.model, "tag");
    CHECK(q.evidence && q.is_json && !q.is_form && !q.file);
    gw_tag_request_free(&q);

    r = req("application/json; charset=utf-8", "{\"image_base64\": \"aGVs bG8=\"}");
    CHECK_STR(parse(&r, &q), "");
    CHECK(!q.model && !q.path && !q.evidence);
    s = upload(&r, &q);
    CHECK_STR(s, "hello");
    free(s);
    gw_tag_request_free(&q);

    r = req("Application/JSON", "{\"image_base64\": \"aGk=\"}"); /* media types ignore case */
    CHECK_STR(parse(&r, &q), "");
    s = upload(&r, &q);
    CHECK_STR(s, "hi");
    free(s);
    gw_tag_request_free(&q);

    r = req("application/json", "[1]");
    CHECK_STR(parse(&r, &q), "invalid_json");
    gw_tag_request_free(&q);
    r = req("application/json", "{\"path\": \"/a\",");
    CHECK_STR(parse(&r, &q), "invalid_json");
    gw_tag_request_free(&q);
    r = req("application/json", NULL);
    CHECK_STR(parse(&r, &q), "invalid_json");
    gw_tag_request_free(&q);
    r = req("application/json", "{\"path\": \"/a\", \"evidence\": \"yes\"}");
    CHECK_STR(parse(&r, &q), "invalid_evidence");
    gw_tag_request_free(&q);

    r = req("application/json", "{\"model\": \"tag\"}");
    CHECK_STR(parse(&r, &q), "");
    s = upload(&r, &q);
    CHECK_STR(s, "!missing_input");
    free(s);
    gw_tag_request_free(&q);
    r = req("application/json", "{\"image_base64\": \"not base64!\"}");
    CHECK_STR(parse(&r, &q), "");
    s = upload(&r, &q);
    CHECK_STR(s, "!bad_base64");
    free(s);
    gw_tag_request_free(&q);
    r = req("application/json", "{\"image_base64\": \"==\"}");
    CHECK_STR(parse(&r, &q), "");
    s = upload(&r, &q);
    CHECK_STR(s, "!empty_body"); /* decodes to nothing: nothing kept */
    free(s);
    gw_tag_request_free(&q);
}

static void test_multipart_and_raw(void)
{
    struct gw_part parts[3] = {
        {"model", NULL, NULL, "tag", 3},
        {"evidence", NULL, NULL, "1", 1},
        {"file", "a.jpg", "image/jpeg", "\xff\xd8\xff\xe0", 4},
    };
    struct gw_tag_request q;
    struct gw_req r;
    char *s;

    r = req("multipart/form-data; boundary=x", "(raw multipart)");
    r.parts = parts;
    r.n_parts = 3;
    CHECK_STR(parse(&r, &q), "");
    CHECK(q.is_form && q.file == &parts[2] && q.evidence && !q.path && !q.body);
    CHECK_STR(q.model, "tag");
    s = upload(&r, &q);
    CHECK_STR(s, "\xff\xd8\xff\xe0");
    free(s);
    gw_tag_request_free(&q);

    /* the parts the server parsed for a differently cased type are the ones read */
    r.ctype = "Multipart/Form-Data; boundary=x";
    CHECK_STR(parse(&r, &q), "");
    s = upload(&r, &q);
    CHECK_STR(s, "\xff\xd8\xff\xe0");
    free(s);
    gw_tag_request_free(&q);

    r.n_parts = 2; /* no file part */
    parts[1].data = "no";
    CHECK_STR(parse(&r, &q), "");
    CHECK(!q.evidence);
    s = upload(&r, &q);
    CHECK_STR(s, "!missing_input");
    free(s);
    gw_tag_request_free(&q);

    r = req("image/jpeg", "\xff\xd8 raw bytes");
    CHECK_STR(parse(&r, &q), "");
    CHECK(!q.is_json && !q.is_form && !q.model);
    s = upload(&r, &q);
    CHECK_STR(s, "\xff\xd8 raw bytes");
    free(s);
    gw_tag_request_free(&q);
    r = req(NULL, NULL);
    CHECK_STR(parse(&r, &q), "");
    s = upload(&r, &q);
    CHECK_STR(s, "!empty_body");
    free(s);
    gw_tag_request_free(&q);
}

int main(void)
{
    test_json();
    test_multipart_and_raw();
    return check_done();
}
