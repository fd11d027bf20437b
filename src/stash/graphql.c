/*
 * graphql.c - one GraphQL operation: request body in, "data" or one error message out.
 *
 * The body is {"query": document, "variables": {...}} built by jansson, so no value ever
 * becomes GraphQL syntax. Stash (gqlgen) answers 200 with "errors" for resolver failures and
 * 422 with "errors" for documents that fail validation; either way the messages are what a
 * person needs, so "errors" is read whatever the status. Errors are prefixed with the root
 * field of the document ("tagCreate: tag with name 'x' already exists"): that is the name a
 * reader finds in Stash's schema and logs.
 *
 * A 401 on the cookie with an API key known resends once with the key (auth.c). After any
 * success, auth.c may look the API key up (once per handle).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "stash_int.h"

/* The root field the document asks for: "tagCreate" in "mutation X($i: T!) { tagCreate(...". */
static void root_field(const char *doc, char *buf, size_t len)
{
    const char *p = doc ? strchr(doc, '{') : NULL;
    size_t n = 0;

    if (p) {
        p++;
        while (*p && isspace((unsigned char)*p))
            p++;
        while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_'))
            n++;
        /* an alias "x: field" names the alias; good enough for a message */
    }
    if (n == 0 || n >= len)
        aitag_fmt(buf, len, "graphql");
    else
        aitag_fmt(buf, len, "%.*s", (int)n, p);
}

/* Joins the messages of a GraphQL "errors" array. Returns 1 when there were any. */
static int graphql_errors(json_t *root, char *buf, size_t len)
{
    json_t *errs = json_object_get(root, "errors"), *e;
    size_t i, used = 0;
    const char *msg;

    if (!json_is_array(errs) || json_array_size(errs) == 0)
        return 0;
    buf[0] = '\0';
    json_array_foreach(errs, i, e)
    {
        msg = stash_json_str(e, "message");
        if (!msg)
            msg = "(no message)";
        if (used + 3 >= len)
            break;
        aitag_fmt(buf + used, len - used, "%s%s", i ? "; " : "", msg);
        used += strlen(buf + used);
    }
    return 1;
}

/* A printable snippet of a non-JSON answer, for messages. */
static void body_snippet(const struct stash_buf *b, char *buf, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < b->len && n + 1 < len && n < 160; i++) {
        unsigned char c = (unsigned char)b->data[i];
        buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
}

static int status_error(struct aitag_stash *s, const char *label, long status)
{
    char snip[192];

    if (status == 401) {
        if (s->auth == STASH_AUTH_APIKEY)
            return stash_fail(s, AITAG_ERR_NET, label,
                              "HTTP 401 Unauthorized from %s: Stash refused the API key",
                              s->endpoint);
        if (s->auth == STASH_AUTH_COOKIE)
            return stash_fail(s, AITAG_ERR_NET, label,
                              "HTTP 401 Unauthorized from %s: Stash refused the session cookie "
                              "(expired?) and no API key is known; set an API key in Stash "
                              "(Settings > Security) for runs longer than the session",
                              s->endpoint);
        return stash_fail(s, AITAG_ERR_NET, label,
                          "HTTP 401 Unauthorized from %s: Stash requires a login (give the "
                          "session cookie or an API key)",
                          s->endpoint);
    }
    body_snippet(&s->body, snip, sizeof snip);
    return stash_fail(s, AITAG_ERR_NET, label, "HTTP %ld from %s%s%s%s", status, s->endpoint,
                      s->attempts > 1 ? " after retries" : "", snip[0] ? ": " : "", snip);
}

int stash_gql(struct aitag_stash *s, const char *document, json_t *variables, int flags,
              json_t **data)
{
    char label[64], msg[sizeof s->errmsg];
    json_t *req = NULL, *root = NULL, *d;
    char *body = NULL;
    long status = 0;
    int rc;

    *data = NULL;
    root_field(document, label, sizeof label);
    if (variables)
        req = json_pack("{s:s, s:O}", "query", document, "variables", variables);
    else
        req = json_pack("{s:s}", "query", document);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (!body) {
        rc = stash_fail(s, AITAG_ERR_NOMEM, label, "cannot build the request");
        goto out;
    }
    rc = stash_auth_send(s, label, NULL, body, flags, &status);
    if (rc < 0)
        goto out;
    if (status == 401) {
        rc = status_error(s, label, status);
        goto out;
    }
    root = s->body.len ? json_loadb(s->body.data, s->body.len, 0, NULL) : NULL;
    if (root && graphql_errors(root, msg, sizeof msg)) {
        rc = stash_fail(s, AITAG_ERR_NET, label, "%s", msg);
        goto out;
    }
    if (status != 200) {
        rc = status_error(s, label, status);
        goto out;
    }
    d = json_object_get(root, "data");
    if (!json_is_object(d)) {
        rc = stash_fail(s, AITAG_ERR_NET, label, "answer from %s is not a GraphQL result",
                        s->endpoint);
        goto out;
    }
    *data = json_incref(d);
    rc = 0;
    s->errmsg[0] = '\0';
    stash_auth_after_success(s);
out:
    json_decref(root);
    json_decref(req);
    free(body);
    return rc;
}

int aitag_stash_query(struct aitag_stash *s, const char *document, const char *variables,
                      char **data)
{
    json_t *vars = NULL, *d = NULL;
    json_error_t jerr;
    int rc;

    *data = NULL;
    if (!document)
        return stash_fail(s, AITAG_ERR_INVALID, "query", "no document");
    if (variables && *variables) {
        vars = json_loads(variables, 0, &jerr);
        if (!json_is_object(vars)) {
            rc = stash_fail(s, AITAG_ERR_INVALID, "query", "variables are not a JSON object: %s",
                            vars ? "not an object" : jerr.text);
            goto out;
        }
    }
    rc = stash_gql(s, document, vars, 0, &d);
    if (rc < 0)
        goto out;
    *data = json_dumps(d, JSON_COMPACT);
    if (!*data)
        rc = stash_fail(s, AITAG_ERR_NOMEM, "query", "out of memory");
out:
    json_decref(d);
    json_decref(vars);
    return rc;
}
