/*
 * test_gw_charge.c - what an upstream answer costs (src/gateway/charge.c): usage values are
 * believed only when every count is an integer in [0, GW_MAX_TOKENS]; estimates from bytes;
 * the Server-Sent Events reader that keeps the last usage, counts the text and, when told to,
 * leaves the usage-only event out of what the client sees, whatever the chunking.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gateway/gateway_int.h"

static int tokens(const char *usage, long *in, long *out)
{
    json_t *u = json_loads(usage, JSON_DECODE_ANY, NULL);
    int rc = gw_usage_tokens(u, in, out);
    json_decref(u);
    return rc;
}

static void test_usage_values(void)
{
    long in = -1, out = -1;

    CHECK(tokens("{\"prompt_tokens\": 10, \"completion_tokens\": 5}", &in, &out) == 0);
    CHECK_EQ_INT(in, 10);
    CHECK_EQ_INT(out, 5);
    CHECK(tokens("{\"prompt_tokens\": 7}", &in, &out) == 0 && in == 7 && out == 0);
    CHECK(tokens("{\"prompt_tokens\": 3.0, \"completion_tokens\": 0}", &in, &out) == 0 && in == 3);
    CHECK(tokens("{\"prompt_tokens\": -100000000, \"completion_tokens\": 5}", &in, &out) < 0);
    CHECK(in == 0 && out == 0); /* nothing of a refused object is kept */
    CHECK(tokens("{\"prompt_tokens\": 1, \"completion_tokens\": -1}", &in, &out) < 0);
    CHECK(tokens("{\"prompt_tokens\": 2.5}", &in, &out) < 0);
    CHECK(tokens("{\"prompt_tokens\": 1e300}", &in, &out) < 0);
    CHECK(tokens("{\"prompt_tokens\": 100000001}", &in, &out) < 0);
    CHECK(tokens("{\"prompt_tokens\": 100000000}", &in, &out) == 0);
    CHECK(tokens("{\"prompt_tokens\": \"10\"}", &in, &out) < 0);
    CHECK(tokens("{\"completion_tokens\": null}", &in, &out) < 0);
    CHECK(tokens("[1, 2]", &in, &out) < 0);
    CHECK(gw_usage_tokens(NULL, &in, &out) < 0);
    CHECK_EQ_INT(gw_tokens_of_bytes(0), 0);
    CHECK_EQ_INT(gw_tokens_of_bytes(1), 1);
    CHECK_EQ_INT(gw_tokens_of_bytes(8), 2);
    CHECK_EQ_INT(gw_tokens_of_bytes((size_t)1 << 40), GW_MAX_TOKENS);
}

static const char stream[] =
    "data: {\"choices\":[{\"delta\":{\"content\":\"abcd\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"efgh\"}}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}}\n\n"
    "data: [DONE]\n\n";
static const char stripped[] = "data: {\"choices\":[{\"delta\":{\"content\":\"abcd\"}}]}\n\n"
                               "data: {\"choices\":[{\"delta\":{\"content\":\"efgh\"}}]}\n\n"
                               "data: [DONE]\n\n";

/* Feeds the stream in pieces of step bytes; returns what the client would get. */
static char *feed(int strip, size_t step, struct gw_sse *s)
{
    char *out = NULL;
    size_t len = 0, cap = 0, n = strlen(stream);

    memset(s, 0, sizeof *s);
    s->strip = strip;
    for (size_t i = 0; i < n; i += step)
        CHECK(gw_sse_feed(s, stream + i, i + step < n ? step : n - i, strip ? &out : NULL,
                          strip ? &len : NULL, strip ? &cap : NULL) == 0);
    if (strip)
        CHECK(gw_sse_flush(s, &out, &len, &cap) == 0);
    return out;
}

static void test_sse(void)
{
    size_t steps[] = {1, 3, 7, 64, 4096};
    struct gw_sse s;
    long in, out;

    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        char *o = feed(1, steps[k], &s);
        CHECK(o && strcmp(o, stripped) == 0);
        CHECK(gw_usage_tokens(s.usage, &in, &out) == 0 && in == 10 && out == 5);
        CHECK_EQ_INT(s.text_bytes, 8);
        free(o);
        gw_sse_free(&s);
        CHECK(feed(0, steps[k], &s) == NULL); /* only read: the caller sends the bytes */
        CHECK(s.usage != NULL);
        CHECK_EQ_INT(s.text_bytes, 8);
        gw_sse_free(&s);
    }
}

static void test_sse_long_line(void)
{
    size_t n = 100000;
    char *big = malloc(n + 16), *out = NULL;
    size_t len = 0, cap = 0;
    struct gw_sse s = {.strip = 1};

    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', n - 6);
    memcpy(big + n, "\n\ndata: x\n", 10);
    CHECK(gw_sse_feed(&s, big, n + 10, &out, &len, &cap) == 0);
    CHECK_EQ_INT(len, n + 10); /* a line over 64 KiB goes out as it came */
    CHECK(out && memcmp(out, big, n + 10) == 0);
    free(out);
    free(big);
    gw_sse_free(&s);
}

int main(void)
{
    test_usage_values();
    test_sse();
    test_sse_long_line();
    return check_done();
}
