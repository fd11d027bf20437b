/*
 * redact.c - payloads for the access log ("log_payloads"), with secrets and images taken out.
 *
 * A log file is read by more people and kept longer than the requests it records, so what may
 * authenticate someone and what is bulky and personal (image_base64, data: URLs such as a chat
 * message's image_url) are replaced by "[redacted N bytes]" before the body is cut to its
 * size limit. Only JSON is walked; any other body is summarised as "[binary N bytes]".
 *
 * Which keys hold secrets: a key's name is normalised first (lower case; '-', '_', '.' and
 * spaces dropped, so X-Api-Key, api_key, apiKey and API-KEY are all "apikey"), then it is a
 * secret when it contains one of the words below, which covers plurals and prefixes too
 * ("cookies", "client_secret", "x-auth-token"). "auth" does not count inside "author" (a
 * name, not a credential), though "authorization" does. "token" is ambiguous: max_tokens and
 * usage.prompt_tokens are counts, refresh_tokens and access_token are secrets; a value under
 * a token name is kept when it holds no string at all (numbers, or objects and arrays of
 * them, as usage.prompt_tokens_details) and redacted otherwise. A secret key's whole value
 * goes, whatever its type.
 *
 * Anything nested deeper than MAX_DEPTH is not walked: the whole too-deep value is redacted,
 * since what it hides cannot be told without walking it (the walk is recursive, and a body
 * may nest as deep as the JSON parser allows).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_int.h"

#define MAX_DEPTH 64

/* Normalised (see the top of the file) into a malloc'd string; NULL when out of memory. */
static char *normalised(const char *k)
{
    char *n = malloc(strlen(k) + 1), *q = n;

    if (!n)
        return NULL;
    for (; *k; k++)
        if (*k != '-' && *k != '_' && *k != '.' && *k != ' ')
            *q++ = (char)tolower((unsigned char)*k);
    *q = '\0';
    return n;
}

/* "auth" anywhere but as the start of "author..." (authorization, authorise excepted). */
static int has_auth(const char *n)
{
    for (const char *t = n; (t = strstr(t, "auth")); t += 4)
        if (strncmp(t + 4, "or", 2) != 0 || strncmp(t + 6, "iz", 2) == 0 ||
            strncmp(t + 6, "is", 2) == 0)
            return 1;
    return 0;
}

/* True when v, at depth, holds a string anywhere inside, or nests past MAX_DEPTH. */
static int has_string(json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_string(v) || ((json_is_object(v) || json_is_array(v)) && depth >= MAX_DEPTH))
        return 1;
    json_object_foreach(v, k, x)
    {
        if (has_string(x, depth + 1))
            return 1;
    }
    json_array_foreach(v, i, x)
    {
        if (has_string(x, depth + 1))
            return 1;
    }
    return 0;
}

/* True when the value v (at depth) under key k must not reach the log. */
static int secret(const char *k, json_t *v, int depth)
{
    static const char *const words[] = {"apikey",     "password",   "passwd", "secret", "cookie",
                                        "credential", "privatekey", "bearer", NULL};
    char *n;
    int hit = 0;

    if (strcmp(k, "image_base64") == 0)
        return 1;
    if (!(n = normalised(k)))
        return 1; /* out of memory: losing a value beats leaking one */
    for (size_t i = 0; words[i] && !hit; i++)
        hit = strstr(n, words[i]) != NULL;
    hit = hit || has_auth(n);
    if (!hit && strstr(n, "token"))
        hit = has_string(v, depth);
    free(n);
    return hit;
}

static json_t *redacted(json_t *v)
{
    char msg[64];
    size_t n;

    if (json_is_string(v)) {
        n = json_string_length(v);
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        n = s ? strlen(s) : 0;
        free(s);
    }
    snprintf(msg, sizeof msg, "[redacted %zu bytes]", n);
    return json_string(msg);
}

static int data_url(json_t *v)
{
    return json_is_string(v) && strncmp(json_string_value(v), "data:", 5) == 0;
}

/* A container at depth MAX_DEPTH or deeper: redacted whole, never walked. */
static int too_deep(json_t *v, int depth)
{
    return depth >= MAX_DEPTH && (json_is_object(v) || json_is_array(v));
}

/* Rewrites v (at depth) in place. */
static void walk(json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            if (secret(k, x, depth + 1) || data_url(x) || too_deep(x, depth + 1))
                json_object_set_new(v, k, redacted(x));
            else
                walk(x, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (data_url(x) || too_deep(x, depth + 1))
                json_array_set_new(v, i, redacted(x));
            else
                walk(x, depth + 1);
        }
    }
}

/* The redacted text, cut to max bytes; a malloc'd string or NULL. */
static char *redact_text(const char *body, size_t len, size_t max)
{
    json_t *o = len ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
    char *s, *out, msg[64];
    size_t n, cut;

    if (!o) {
        snprintf(msg, sizeof msg, "[binary %zu bytes]", len);
        return strdup(msg);
    }
    if (data_url(o)) { /* a bare string body */
        json_t *r = redacted(o);
        json_decref(o);
        o = r;
    }
    walk(o, 0);
    s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(o);
    if (!s || (n = strlen(s)) <= max)
        return s;
    /* Cut on a UTF-8 character boundary so the log line stays valid JSON text. */
    cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    if ((out = malloc(cut + 48)))
        snprintf(out, cut + 48, "%.*s...[%zu more bytes]", (int)cut, s, n - cut);
    free(s);
    return out;
}

json_t *gw_redact_payload(const char *body, size_t len, size_t max)
{
    char *s = redact_text(body, len, max);
    json_t *v = s ? json_string(s) : NULL;

    free(s);
    return v;
}
