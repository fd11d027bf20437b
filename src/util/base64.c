/*
 * base64.c - base64 (RFC 4648) for every library: decoding the gateway's "image_base64" field
 * and the string attributes of TensorFlow.js graphs; encoding images sent as data URLs (Stash
 * performer images).
 *
 * Both alphabets are accepted (standard "+/" and URL-safe "-_"), since callers cannot know
 * which one a client used. White space (line breaks of MIME-style input included) is skipped
 * and "=" padding is optional, but padding may only end the input: a character after it, a
 * character outside the alphabets, or a lone final character (6 bits, never a whole byte) is
 * malformed. The decoder writes into the caller's buffer so that callers with an arena or a
 * malloc'd buffer share it.
 */
#include "aitag/common.h"

static int value_of(int c)
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

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int aitag_base64_decode(const char *s, unsigned char *out, size_t *out_len)
{
    size_t o = 0, chars = 0;
    unsigned acc = 0;
    int bits = 0, padded = 0;

    for (; *s; s++) {
        int c = (unsigned char)*s, v;
        if (is_space(c))
            continue;
        if (c == '=') {
            padded = 1;
            continue;
        }
        v = value_of(c);
        if (v < 0 || padded)
            return AITAG_ERR_INVALID;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        chars++;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (chars % 4 == 1)
        return AITAG_ERR_INVALID;
    *out_len = o;
    return 0;
}

size_t aitag_base64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4 + 1;
}

void aitag_base64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}
