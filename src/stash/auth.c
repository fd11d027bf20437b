/*
 * auth.c - which credential each request carries, and the switch from cookie to API key.
 *
 * Stash hands a plugin its session cookie. Stash checks an ApiKey header first and ignores the
 * cookie when one is present; the cookie stops working after maxSessionAge (an hour by
 * default), which used to kill long tagging runs with 401s. So: start with the cookie; after
 * the first successful answer read configuration{general{apiKey}} once and, when Stash has a
 * key, switch to the ApiKey header for the rest of the run. A 401 while still on the cookie
 * with a key already known switches and resends once (stash_auth_send). Without a key, a
 * 401 is a clear error. Stash refreshes the session cookie on every answer (Set-Cookie), so that is
 * followed too, as a browser would.
 *
 * Neither the cookie nor the key is ever logged or put in an error message; copies in temporary
 * buffers are wiped after use.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stash_int.h"

int stash_auth_headers(struct aitag_stash *s, struct curl_slist **out)
{
    struct curl_slist *l = NULL, *t;
    char line[4096];

    *out = NULL;
    t = curl_slist_append(l, "Content-Type: application/json");
    if (!t)
        goto nomem;
    l = t;
    t = curl_slist_append(l, "Accept: application/json");
    if (!t)
        goto nomem;
    l = t;
    if (s->auth == STASH_AUTH_APIKEY && s->api_key) {
        aitag_fmt(line, sizeof line, "ApiKey: %s", s->api_key);
        t = curl_slist_append(l, line);
        memset(line, 0, sizeof line);
        if (!t)
            goto nomem;
        l = t;
    }
    *out = l;
    return 0;
nomem:
    curl_slist_free_all(l);
    return stash_fail(s, AITAG_ERR_NOMEM, "stash", "out of memory");
}

int stash_auth_send(struct aitag_stash *s, const char *label, const char *url, const char *body,
                    int flags, long *status)
{
    struct curl_slist *headers = NULL;
    int rc, resent = 0;

    for (;;) {
        rc = stash_auth_headers(s, &headers);
        if (rc < 0)
            return rc;
        rc = url ? stash_http_get(s, label, url, headers, status)
                 : stash_http_post(s, label, body, headers, flags, status);
        curl_slist_free_all(headers);
        headers = NULL;
        if (rc < 0 || *status != 401 || resent || !stash_auth_on_401(s))
            return rc;
        resent = 1; /* refused with the cookie, a key is known: once more with the key */
    }
}

int stash_auth_on_401(struct aitag_stash *s)
{
    if (s->auth == STASH_AUTH_COOKIE && s->api_key) {
        s->auth = STASH_AUTH_APIKEY;
        aitag_log(AITAG_LOG_INFO, "stash", "event=auth_switch to=api_key reason=cookie_refused");
        return 1;
    }
    return 0;
}

void stash_auth_after_success(struct aitag_stash *s)
{
    json_t *data = NULL;
    const char *key;
    char saved[sizeof s->errmsg];

    if (s->key_checked || s->in_key_lookup)
        return;
    s->key_checked = 1;
    s->in_key_lookup = 1;
    memcpy(saved, s->errmsg, sizeof saved);
    if (stash_gql(s, stash_doc_api_key, NULL, 0, &data) < 0) {
        /* Not fatal: the cookie still works for now. */
        aitag_log(AITAG_LOG_WARN, "stash", "event=api_key_unreadable error=\"%s\"", s->errmsg);
        goto out;
    }
    key = stash_json_str(json_object_get(json_object_get(data, "configuration"), "general"),
                         "apiKey");
    if (key && *key) {
        char *k = stash_strdup(key);
        if (!k)
            goto out;
        if (s->api_key) {
            memset(s->api_key, 0, strlen(s->api_key));
            free(s->api_key);
        }
        s->api_key = k;
        s->auth = STASH_AUTH_APIKEY;
        aitag_log(AITAG_LOG_INFO, "stash", "event=auth_switch to=api_key reason=key_found");
    } else {
        aitag_log(AITAG_LOG_INFO, "stash",
                  "event=no_api_key note=\"the session cookie expires; set an API key in "
                  "Stash's security settings for long runs\"");
    }
out:
    memcpy(s->errmsg, saved, sizeof saved);
    json_decref(data);
    s->in_key_lookup = 0;
}

void stash_auth_set_cookie_header(struct aitag_stash *s, const char *line, size_t len)
{
    const char *p = line, *end = line + len, *v, *ve, *attr;
    char *c;

    if (s->auth != STASH_AUTH_COOKIE)
        return;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < 8 || strncmp(p, "session=", 8) != 0)
        return;
    v = p + 8;
    ve = v;
    while (ve < end && *ve != ';' && *ve != '\r' && *ve != '\n')
        ve++;
    if (ve == v)
        return; /* cleared: keep what we have, a 401 will say the rest */
    for (attr = ve; attr + 9 <= end; attr++) {
        if (strncasecmp(attr, "max-age=0", 9) == 0 || strncasecmp(attr, "max-age=-", 9) == 0)
            return; /* a deletion, not a refresh */
    }
    c = malloc((size_t)(ve - v) + 1);
    if (!c)
        return;
    memcpy(c, v, (size_t)(ve - v));
    c[ve - v] = '\0';
    if (s->cookie) {
        memset(s->cookie, 0, strlen(s->cookie));
        free(s->cookie);
    }
    s->cookie = c;
}
