/*
 * charge.c - what an upstream answer costs: its token counts, validated, or estimated.
 *
 * An upstream's "usage" is believed only when every count is an integer between 0 and
 * GW_MAX_TOKENS; anything else (negative, fractional, non-finite, absurdly large, not a number)
 * is refused as a whole, so that a broken or hostile upstream can neither refund a key nor
 * poison its sums. Without believable usage the gateway counts: one token per 4 bytes of the
 * request body (prompt) and of the answer's text (completion), a rough figure that is never 0
 * for a non-empty exchange.
 *
 * Streams are read line by line as Server-Sent Events (gw_sse): the last "usage" object seen
 * is kept and the text of every data event counted. When the gateway itself asked the upstream
 * for usage (stream_options.include_usage), the extra event that carries only usage is left out
 * of what the client sees, so a client that did not ask gets the stream it expects.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "gateway_int.h"

#define SSE_LINE_MAX 65536

/* A count: an integer (or a real with an integral value) in [0, GW_MAX_TOKENS]; -1 otherwise. */
static long token_count(json_t *v)
{
    double d;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        return i >= 0 && i <= GW_MAX_TOKENS ? (long)i : -1;
    }
    if (!json_is_real(v))
        return -1;
    d = json_real_value(v);
    return isfinite(d) && d >= 0 && d <= (double)GW_MAX_TOKENS && d == floor(d) ? (long)d : -1;
}

int gw_usage_tokens(json_t *usage, long *in, long *out)
{
    json_t *p = json_object_get(usage, "prompt_tokens");
    json_t *c = json_object_get(usage, "completion_tokens");
    long pi = p ? token_count(p) : 0, co = c ? token_count(c) : 0;

    *in = *out = 0;
    if (!json_is_object(usage) || pi < 0 || co < 0)
        return -1;
    *in = pi;
    *out = co;
    return 0;
}

long gw_tokens_of_bytes(size_t bytes)
{
    return (long)((bytes + 3) / 4 > (size_t)GW_MAX_TOKENS ? (size_t)GW_MAX_TOKENS
                                                          : (bytes + 3) / 4);
}

size_t gw_chat_text_bytes(json_t *answer)
{
    json_t *choices = json_object_get(answer, "choices"), *ch;
    size_t i, n = 0;

    json_array_foreach(choices, i, ch)
    {
        json_t *m = json_object_get(ch, "message");
        if (!m)
            m = json_object_get(ch, "delta");
        n += json_string_length(json_object_get(m, "content"));
        n += json_string_length(json_object_get(ch, "text"));
    }
    return n;
}

/* One whole line (without its newline); keep says whether the client gets it. */
static int sse_line(struct gw_sse *s, const char *l, size_t n)
{
    json_t *o, *u;
    int keep = 1;

    if (n == 0 || (n == 1 && l[0] == '\r')) { /* the blank line that ends an event */
        keep = !s->drop_blank;
        s->drop_blank = 0;
        return keep;
    }
    if (n < 6 || memcmp(l, "data:", 5) != 0)
        return 1;
    l += 5;
    n -= 5;
    while (n > 0 && *l == ' ') {
        l++;
        n--;
    }
    if (n == 0 || *l != '{' || !(o = json_loadb(l, n, 0, NULL)))
        return 1;
    s->text_bytes += gw_chat_text_bytes(o);
    u = json_object_get(o, "usage");
    if (json_is_object(u)) {
        json_decref(s->usage);
        s->usage = json_incref(u);
        if (s->strip && json_array_size(json_object_get(o, "choices")) == 0) {
            keep = 0;
            s->drop_blank = 1;
        }
    }
    json_decref(o);
    return keep;
}

static int emit(char **out, size_t *len, size_t *cap, const char *p, size_t n)
{
    return !out || n == 0 || aitag_buf_append(out, len, cap, p, n, 0) == 0 ? 0 : -1;
}

int gw_sse_feed(struct gw_sse *s, const char *p, size_t n, char **out, size_t *out_len,
                size_t *out_cap)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;

        if (s->line_long) { /* the rest of an overlong line: out as it comes */
            if (emit(out, out_len, out_cap, p, nl ? k + 1 : k) < 0)
                return -1;
            s->line_long = !nl;
        } else if (s->line_len + k > SSE_LINE_MAX) {
            if (emit(out, out_len, out_cap, s->line, s->line_len) < 0 ||
                emit(out, out_len, out_cap, p, nl ? k + 1 : k) < 0)
                return -1;
            s->line_len = 0;
            s->line_long = !nl;
        } else {
            if (k && aitag_buf_append(&s->line, &s->line_len, &s->line_cap, p, k, 0) < 0)
                return -1;
            if (nl) {
                if (sse_line(s, s->line ? s->line : "", s->line_len) &&
                    (emit(out, out_len, out_cap, s->line, s->line_len) < 0 ||
                     emit(out, out_len, out_cap, "\n", 1) < 0))
                    return -1;
                s->line_len = 0;
            }
        }
        if (!nl)
            return 0;
        p += k + 1;
        n -= k + 1;
    }
    return 0;
}

int gw_sse_flush(struct gw_sse *s, char **out, size_t *out_len, size_t *out_cap)
{
    int rc = emit(out, out_len, out_cap, s->line, s->line_len);

    s->line_len = 0;
    return rc;
}

void gw_sse_free(struct gw_sse *s)
{
    free(s->line);
    json_decref(s->usage);
    memset(s, 0, sizeof *s);
}
