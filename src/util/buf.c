/*
 * buf.c - small text helpers shared by the libraries: a growable NUL-terminated byte buffer
 * (HTTP answer bodies collected by libcurl write callbacks, stream lines) and in-place
 * trimming of blanks (config lines, vocabulary entries) and comma-separated lists ("faces,
 * text"), trimmed by the same rule. Growth doubles from 16 KiB, so a body
 * of n bytes costs O(log n) reallocations.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"

int aitag_buf_append(char **data, size_t *len, size_t *cap, const void *p, size_t n, size_t max)
{
    size_t need = *len + n + 1;
    char *d;

    if (need < n || (max && *len + n > max))
        return AITAG_ERR_INVALID;
    if (need > *cap) {
        size_t c = *cap ? *cap : 16384;
        while (c < need)
            c *= 2;
        if (!(d = realloc(*data, c)))
            return AITAG_ERR_NOMEM;
        *data = d;
        *cap = c;
    }
    if (n)
        memcpy(*data + *len, p, n);
    *len += n;
    (*data)[*len] = '\0';
    return 0;
}

char *aitag_trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

size_t aitag_split_csv(char *s, const char **out, size_t max)
{
    size_t n = 0;

    for (char *tok = s; tok && n < max;) {
        char *comma = strchr(tok, ','), *t;
        if (comma)
            *comma = '\0';
        t = aitag_trim(tok);
        if (*t)
            out[n++] = t;
        tok = comma ? comma + 1 : NULL;
    }
    return n;
}

size_t aitag_http_body_write(char *p, size_t size, size_t nmemb, void *body)
{
    struct aitag_http_body *b = body;
    size_t n = size * nmemb;

    return aitag_buf_append(&b->data, &b->len, &b->cap, p, n, b->max) < 0 ? 0 : n;
}
