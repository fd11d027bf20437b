/*
 * test_gw_utf8.c - error answers that quote a client's bytes (src/gateway/utf8.c, gw_error):
 * a multipart "model" field with invalid UTF-8, or a long name cut inside a character, must
 * still get its 4xx answer with a JSON body, not an empty 500.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gateway/gateway_int.h"

static void scrubbed(const char *in, const char *want)
{
    char buf[64];

    snprintf(buf, sizeof buf, "%s", in);
    gw_utf8_scrub(buf);
    CHECK_STR(buf, want);
}

static void test_scrub(void)
{
    scrubbed("plain ascii", "plain ascii");
    scrubbed("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    scrubbed("nope\x91\x01", "nope?\x01");              /* a stray continuation byte */
    scrubbed("\xc0\x80|\xe0\x80\x80", "??|???");        /* overlong forms */
    scrubbed("\xed\xa0\x80", "???");                    /* a surrogate */
    scrubbed("\xf4\x90\x80\x80", "????");               /* past U+10FFFF */
    scrubbed("\xf5\xff", "??");                         /* never in UTF-8 */
    scrubbed("end\xe2\x82", "end??");                   /* cut short */
    scrubbed("\xe2\x82\xe2\x82\xac", "??\xe2\x82\xac"); /* cut short, then whole */
}

/* gw_error's answer: status and whether the body is a JSON error object. */
static void check_error(const char *quoted)
{
    struct gw_req r;
    json_t *o;

    memset(&r, 0, sizeof r);
    gw_error(&r, 404, "invalid_request_error", "model_not_found", "the model '%s' does not exist",
             quoted);
    CHECK_EQ_INT(r.status, 404);
    o = r.resp ? json_loadb(r.resp, r.resp_len, 0, NULL) : NULL;
    CHECK(json_is_string(json_object_get(json_object_get(o, "error"), "message")));
    json_decref(o);
    free(r.resp);
    free(r.resp_ctype);
}

static void test_error_answers(void)
{
    char long_name[700];

    check_error("whisper");
    check_error("nope\x91\x01"); /* the bytes of a multipart field, unchecked */
    /* valid UTF-8, but longer than the message buffer: cut inside a 3-byte character */
    for (size_t i = 0; i + 3 < sizeof long_name; i += 3)
        memcpy(long_name + i, "\xe2\x82\xac", 3);
    long_name[sizeof long_name - 1 - (sizeof long_name - 1) % 3] = '\0';
    check_error(long_name);
    memmove(long_name, long_name + 1, strlen(long_name)); /* and at every other offset */
    check_error(long_name);
}

int main(void)
{
    test_scrub();
    test_error_answers();
    return check_done();
}
