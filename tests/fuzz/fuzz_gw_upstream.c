/* fuzz_gw_upstream.c - libFuzzer target for what an upstream model server answers the gateway
 * (another machine's bytes): a Server-Sent Events stream read for its usage and text while it
 * goes through to the client, and a whole JSON answer read for the same. The first byte sets
 * the size of the pieces the stream arrives in. Without stripping the client gets exactly the
 * bytes that came; with it, never more; token counts that are accepted are in range. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway_int.h"

static void stream(const uint8_t *data, size_t size, size_t piece, int strip)
{
    struct gw_sse s = {0};
    char *out = NULL;
    size_t out_len = 0, out_cap = 0;
    long in_tok, out_tok;

    s.strip = strip;
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        if (gw_sse_feed(&s, (const char *)data + off, n, &out, &out_len, &out_cap) < 0)
            goto out;
    }
    if (gw_sse_flush(&s, &out, &out_len, &out_cap) < 0)
        goto out;
    if (!strip && (out_len != size || (size && memcmp(out, data, size) != 0)))
        abort(); /* nothing to strip: the client gets the stream as it came */
    if (out_len > size)
        abort();
    if (s.usage && gw_usage_tokens(s.usage, &in_tok, &out_tok) == 0 &&
        (in_tok < 0 || out_tok < 0 || in_tok > GW_MAX_TOKENS || out_tok > GW_MAX_TOKENS))
        abort();
out:
    free(out);
    gw_sse_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t piece;
    json_t *o;
    long in_tok, out_tok;

    if (size < 1)
        return 0;
    piece = (size_t)data[0] + 1;
    data++, size--;
    stream(data, size, piece, 0);
    stream(data, size, piece, 1);
    o = json_loadb((const char *)data, size, 0, NULL);
    if (o) {
        gw_chat_text_bytes(o);
        if (gw_usage_tokens(json_object_get(o, "usage"), &in_tok, &out_tok) == 0 &&
            (in_tok < 0 || out_tok < 0 || in_tok > GW_MAX_TOKENS || out_tok > GW_MAX_TOKENS))
            abort();
        json_decref(o);
    }
    return 0;
}
