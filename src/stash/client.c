/*
 * client.c - the Stash client handle: parameters, the server address, and small helpers.
 *
 * The address comes from Stash's plugin input, where Host is the address Stash listens on,
 * often 0.0.0.0 or "::" (all interfaces), which is not an address to connect to: those (and an
 * empty host) are rewritten to 127.0.0.1, the plugin runs on Stash's machine. The handle makes
 * no request when created; the first call connects, and auth.c takes it from there.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stash_int.h"

struct aitag_stash_params aitag_stash_default_params(void)
{
    struct aitag_stash_params p = {0};
    p.timeout_ms = 30000;
    p.retries = 4;
    p.backoff_ms = 250;
    p.tls_verify = 1;
    return p;
}

char *stash_strdup(const char *s)
{
    size_t n;
    char *d;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

const char *stash_json_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int stash_fail(struct aitag_stash *s, int rc, const char *label, const char *fmt, ...)
{
    char msg[sizeof s->errmsg];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (label)
        aitag_fmt(s->errmsg, sizeof s->errmsg, "%s: %s", label, msg);
    else
        aitag_fmt(s->errmsg, sizeof s->errmsg, "%s", msg);
    return rc;
}

/* Splits url into scheme, host and the rest (":port/prefix"), rewrites a listen-anywhere host
 * to 127.0.0.1, and drops trailing slashes. */
static int normalize_url(const char *url, char **out)
{
    const char *scheme = "http", *p = url, *host, *host_end, *rest;
    size_t scheme_len = 4, host_len, rest_len, n;
    char *res;

    *out = NULL;
    if (!url)
        return AITAG_ERR_INVALID;
    while (*p == ' ')
        p++;
    if (strstr(p, "://")) {
        scheme = p;
        scheme_len = (size_t)(strstr(p, "://") - p);
        p += scheme_len + 3;
    }
    host = p;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end)
            return AITAG_ERR_INVALID;
        host_end++;
    } else {
        host_end = p + strcspn(p, ":/");
    }
    host_len = (size_t)(host_end - host);
    rest = host_end;
    rest_len = strlen(rest);
    while (rest_len > 0 && (rest[rest_len - 1] == '/' || rest[rest_len - 1] == ' '))
        rest_len--;
    if (host_len == 0 || (host_len == 7 && memcmp(host, "0.0.0.0", 7) == 0) ||
        (host_len == 4 && memcmp(host, "[::]", 4) == 0) ||
        (host_len == 2 && memcmp(host, "::", 2) == 0)) {
        host = "127.0.0.1";
        host_len = 9;
    }
    if (scheme_len == 0)
        return AITAG_ERR_INVALID;
    n = scheme_len + 3 + host_len + rest_len + 1;
    res = malloc(n);
    if (!res)
        return AITAG_ERR_NOMEM;
    snprintf(res, n, "%.*s://%.*s%.*s", (int)scheme_len, scheme, (int)host_len, host, (int)rest_len,
             rest);
    *out = res;
    return 0;
}

int aitag_stash_new(const struct aitag_stash_params *p, struct aitag_stash **out)
{
    struct aitag_stash *s = NULL;
    size_t n;
    int rc;

    *out = NULL;
    if (!p || !p->url || !*p->url)
        return AITAG_ERR_INVALID;
    s = calloc(1, sizeof *s);
    if (!s)
        return AITAG_ERR_NOMEM;
    s->p = *p;
    s->p.url = NULL;
    s->p.session_cookie = NULL;
    s->p.api_key = NULL;
    if (s->p.timeout_ms <= 0)
        s->p.timeout_ms = 30000;
    if (s->p.retries < 0)
        s->p.retries = 0;
    if (s->p.backoff_ms < 0)
        s->p.backoff_ms = 0;
    s->retry_after_ms = -1;
    s->rng = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)s << 16) ^ 0x9e3779b97f4a7c15ULL;

    rc = normalize_url(p->url, &s->base_url);
    if (rc < 0)
        goto out;
    n = strlen(s->base_url) + sizeof "/graphql";
    s->endpoint = malloc(n);
    if (!s->endpoint) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    snprintf(s->endpoint, n, "%s/graphql", s->base_url);
    if (p->session_cookie && *p->session_cookie) {
        s->cookie = stash_strdup(p->session_cookie);
        if (!s->cookie) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        s->auth = STASH_AUTH_COOKIE;
    }
    if (p->api_key && *p->api_key) {
        s->api_key = stash_strdup(p->api_key);
        if (!s->api_key) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        s->auth = STASH_AUTH_APIKEY;
    }
    /* Only a cookie run needs the key looked up; with a key or no credential it is moot. */
    s->key_checked = s->auth != STASH_AUTH_COOKIE;
    rc = stash_http_init(s);
    if (rc < 0)
        goto out;
    *out = s;
    s = NULL;
out:
    aitag_stash_free(s);
    return rc;
}

void aitag_stash_free(struct aitag_stash *s)
{
    if (!s)
        return;
    stash_http_cleanup(s);
    free(s->base_url);
    free(s->endpoint);
    if (s->cookie)
        memset(s->cookie, 0, strlen(s->cookie));
    free(s->cookie);
    if (s->api_key)
        memset(s->api_key, 0, strlen(s->api_key));
    free(s->api_key);
    free(s);
}

const char *aitag_stash_errmsg(const struct aitag_stash *s)
{
    return s ? s->errmsg : "no Stash client";
}

const char *aitag_stash_url(const struct aitag_stash *s)
{
    return s ? s->base_url : NULL;
}
