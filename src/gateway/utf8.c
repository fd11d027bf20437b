/*
 * utf8.c - client text made fit for a JSON answer.
 *
 * Error messages quote what the client sent (an unknown model name, say), and a multipart
 * field is raw bytes that nobody has checked, while Jansson refuses to build a string from
 * anything but valid UTF-8: one stray byte used to turn a 404 into an empty 500. A message
 * cut to its buffer may also end inside a character. Scrubbing replaces every byte that does
 * not belong to a well-formed sequence (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF, nothing cut short) by '?', in place, so the length never grows.
 */
#include "gateway_int.h"

/* Length (1-4) of the well-formed UTF-8 sequence at s, or 0. s is NUL-terminated. */
static int seq_len(const unsigned char *s)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    int n;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    /* the second byte's range excludes overlong forms, surrogates and > U+10FFFF */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) /* also stops at the NUL */
            return 0;
    return n;
}

void gw_utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;

    while (*p) {
        int n = seq_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
}
