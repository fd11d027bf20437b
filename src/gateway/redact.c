/*
 * redact.c - payloads for the access log ("log_payloads"), with secrets and images taken out.
 *
 * A log file is read by more people and kept longer than the requests it records, so what may
 * authenticate someone (a value under a key named like api_key, authorization, password,
 * secret or token) and what is bulky and personal (image_base64, data: URLs such as a chat
 * message's image_url) are replaced by "[redacted N bytes]" before the body is cut to its
 * size limit. "tokens" (plural) is a count, as in max_tokens or usage.prompt_tokens, and stays.
 * Only JSON is walked; any other body is summarised as "[binary N bytes]".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_int.h"

static int secret_key(const char *k)
{
    static const char *const words[] = {"api_key",  "apikey", "authorization",
                                        "password", "secret", NULL};
    char low[128];
    size_t n = 0;
    const char *t;

    for (; k[n] && n + 1 < sizeof low; n++)
        low[n] = (char)tolower((unsigned char)k[n]);
    low[n] = '\0';
    if (strcmp(low, "image_base64") == 0)
        return 1;
    for (size_t i = 0; words[i]; i++)
        if (strstr(low, words[i]))
            return 1;
    for (t = low; (t = strstr(t, "token")); t += 5)
        if (t[5] != 's')
            return 1;
    return 0;
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

/* Rewrites v in place. */
static void walk(json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    if (depth > 64)
        return;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            if (secret_key(k))
                json_object_set_new(v, k, redacted(x));
            else if (json_is_string(x) && strncmp(json_string_value(x), "data:", 5) == 0)
                json_object_set_new(v, k, redacted(x));
            else
                walk(x, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (json_is_string(x) && strncmp(json_string_value(x), "data:", 5) == 0)
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
