/* fuzz_gw_redact.c - libFuzzer target for the access log's payload redaction (request and
 * response bodies are network bytes). Any bytes must come back as one JSON string, never crash;
 * a body that is not JSON is only summarised; and no value under a credential key survives.
 *
 * The check is independent of redact.c's rule: the input is parsed here, every value under a
 * key from the fixed list below (in any case, with or without '-' and '_') is replaced by a
 * unique marker, the marker character is removed everywhere else, and the rewritten body is
 * redacted: no marker may appear in the result, at any depth. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway_int.h"

#define MARK '\x7f'

static const char *const credential_keys[] = {
    "xapikey",       "apikey",      "apikeys",      "auth",        "authorization",
    "cookie",        "cookies",     "credential",   "credentials", "privatekey",
    "privatekeys",   "passwd",      "password",     "passwords",   "bearer",
    "secret",        "secrets",     "clientsecret", "token",       "refreshtoken",
    "refreshtokens", "accesstoken", "accesstokens", "idtoken",     "authtoken",
    "setcookie",     NULL};

static int listed(const char *k)
{
    char n[64];
    size_t j = 0;

    for (; *k; k++) {
        if (*k == '-' || *k == '_')
            continue;
        if (j + 1 >= sizeof n)
            return 0;
        n[j++] = (char)tolower((unsigned char)*k);
    }
    n[j] = '\0';
    for (size_t i = 0; credential_keys[i]; i++)
        if (strcmp(n, credential_keys[i]) == 0)
            return 1;
    return 0;
}

/* s without the marker character (malloc'd). */
static char *unmarked(const char *s, size_t len, size_t *out_len)
{
    char *o = malloc(len + 1);
    size_t j = 0;

    if (!o)
        abort();
    for (size_t i = 0; i < len; i++)
        if (s[i] != MARK)
            o[j++] = s[i];
    o[j] = '\0';
    *out_len = j;
    return o;
}

/* A copy of v where every string and number under a listed key is a marker "\x7f<n>\x7f". */
static json_t *plant(json_t *v, int under, unsigned *n)
{
    const char *k;
    json_t *x, *o;
    size_t i, len;
    char *s, mark[32];

    if (json_is_object(v)) {
        o = json_object();
        json_object_foreach(v, k, x)
        {
            s = unmarked(k, strlen(k), &len);
            json_object_set_new(o, s, plant(x, under || listed(k), n));
            free(s);
        }
        return o;
    }
    if (json_is_array(v)) {
        o = json_array();
        json_array_foreach(v, i, x) json_array_append_new(o, plant(x, under, n));
        return o;
    }
    if (under && (json_is_string(v) || json_is_number(v))) {
        snprintf(mark, sizeof mark, "%c%u%c", MARK, (*n)++, MARK);
        return json_string(mark);
    }
    if (json_is_string(v)) {
        s = unmarked(json_string_value(v), json_string_length(v), &len);
        o = json_stringn(s, len);
        free(s);
        return o;
    }
    return json_incref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    json_t *out = gw_redact_payload((const char *)data, size, 4096), *planted;
    unsigned n = 0;
    char *text, want[64];

    if (!json_is_string(out))
        abort(); /* always one JSON string for the log line */
    if (!in) {
        snprintf(want, sizeof want, "[binary %zu bytes]", size);
        if (strcmp(json_string_value(out), want) != 0)
            abort(); /* not JSON: only its size is logged */
        json_decref(out);
        return 0;
    }
    json_decref(out);
    planted = plant(in, 0, &n);
    text = json_dumps(planted, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text && n > 0) {
        out = gw_redact_payload(text, strlen(text), (size_t)1 << 30);
        if (!out || memchr(json_string_value(out), MARK, json_string_length(out))) {
            fprintf(stderr, "a credential value survived redaction:\n%s\n",
                    out ? json_string_value(out) : "(null)");
            abort();
        }
        json_decref(out);
    }
    free(text);
    json_decref(planted);
    json_decref(in);
    return 0;
}
