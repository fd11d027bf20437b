/*
 * client.c - the tagger's remote executor (`aitag tag --gateway`, the plugin's gatewayUrl),
 * asking an aitag gateway's POST /v1/tag for an item's evidence.
 *
 * The local catalog stays the single source of truth: planning and the commit happen here,
 * and the gateway only hands back raw evidence (with "evidence": true) read from its own
 * catalog, with the analysis key of every analyzer. A key or interval that differs from the
 * local one means the gateway's models are not this install's, so its evidence would not be
 * what a local run stores: that is an item error, never a silent mix. The path is sent first
 * (a gateway on the same machine or mount reads the file itself); when the gateway cannot see
 * it (403 path_not_allowed, 404 file_not_found) the file is uploaded as multipart/form-data,
 * streamed from disk, and later items go straight to uploading. One curl handle is reused so
 * the connection stays open across items; it is used by one thread at a time (the tagger's
 * decoder thread).
 */
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aitag/common.h"
#include "aitag/remote.h"
#include "remote_int.h"

struct aitag_remote_client {
    CURL *curl;
    char *url;      /* root, no trailing slash (for messages) */
    char *endpoint; /* url + "/v1/tag" */
    char *route;    /* NULL: the gateway's default tagging route */
    struct curl_slist *headers;
    atomic_int *cancel;
    int upload; /* the gateway cannot read our paths: upload every item */
    char *buf;
    size_t len, cap;
};

struct aitag_remote_client_params aitag_remote_client_default_params(void)
{
    struct aitag_remote_client_params p;

    memset(&p, 0, sizeof p);
    p.connect_timeout_ms = 10000;
    return p;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct aitag_remote_client *c = ctx;
    size_t len = size * n;

    /* Without memory curl reports a write error. */
    return aitag_buf_append(&c->buf, &c->len, &c->cap, data, len, 0) < 0 ? 0 : len;
}

static int on_xfer(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct aitag_remote_client *c = ctx;

    (void)dt, (void)dn, (void)ut, (void)un;
    return c->cancel && atomic_load(c->cancel); /* non-zero aborts the transfer */
}

void aitag_remote_client_free(struct aitag_remote_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c->endpoint);
    free(c->route);
    free(c->buf);
    free(c);
}

int aitag_remote_client_new(const struct aitag_remote_client_params *p,
                            struct aitag_remote_client **out, char *err, size_t errlen)
{
    struct aitag_remote_client *c = calloc(1, sizeof *c);
    char auth[600];
    size_t n;
    int rc = AITAG_ERR_NOMEM;

    *out = NULL;
    if (!c)
        goto fail;
    if (!p->url ||
        (strncasecmp(p->url, "http://", 7) != 0 && strncasecmp(p->url, "https://", 8) != 0) ||
        !p->url[strcspn(p->url, ":") + 3]) {
        aitag_fmt(err, errlen, "gateway URL '%s' is not an http:// or https:// URL",
                  p->url ? p->url : "");
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    if (p->local_only && !aitag_url_is_loopback(p->url)) {
        aitag_fmt(err, errlen,
                  "local-only: the host of gateway URL '%s' is not loopback (127.0.0.0/8, ::1, "
                  "localhost); media must not leave this machine",
                  p->url);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    n = strlen(p->url);
    while (n > 0 && p->url[n - 1] == '/')
        n--;
    c->url = strndup(p->url, n);
    c->endpoint = c->url ? malloc(n + 8) : NULL;
    c->route = p->route && *p->route ? strdup(p->route) : NULL;
    c->cancel = p->cancel;
    c->curl = aitag_curl_global_init() == 0 ? curl_easy_init() : NULL;
    if (!c->url || !c->endpoint || (p->route && *p->route && !c->route) || !c->curl)
        goto fail;
    memcpy(c->endpoint, c->url, n);
    memcpy(c->endpoint + n, "/v1/tag", 8);
    if (p->key && *p->key) {
        aitag_fmt(auth, sizeof auth, "Authorization: Bearer %s", p->key);
        c->headers = curl_slist_append(c->headers, auth);
        explicit_bzero(auth, sizeof auth);
    }
    if (p->local_only)
        c->headers = curl_slist_append(c->headers, "X-Aitag-Local-Only: 1");
    c->headers = curl_slist_append(c->headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c->curl, CURLOPT_URL, c->endpoint);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)p->connect_timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    *out = c;
    return 0;
fail:
    aitag_fmt(err, errlen, "out of memory");
out:
    aitag_remote_client_free(c);
    return rc;
}

/* Sends the prepared request; *status gets the HTTP status. < 0 with err on a transport error. */
static int perform(struct aitag_remote_client *c, long *status, char *err, size_t errlen)
{
    CURLcode cc;

    c->len = 0;
    if (c->buf)
        c->buf[0] = '\0';
    cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) {
        if (cc == CURLE_ABORTED_BY_CALLBACK) {
            aitag_fmt(err, errlen, "canceled");
            return AITAG_ERR_CANCELED;
        }
        aitag_fmt(err, errlen, "gateway %s: %s", c->url, curl_easy_strerror(cc));
        return AITAG_ERR_IO;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

static int post_path(struct aitag_remote_client *c, const char *path, long *status, char *err,
                     size_t errlen)
{
    json_t *o = json_pack("{s:s, s:b}", "path", path, "evidence", 1);
    char *body = NULL;
    struct curl_slist *h = NULL;
    int rc;

    if (o && c->route)
        json_object_set_new(o, "model", json_string(c->route));
    body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (const struct curl_slist *s = c->headers; s; s = s->next)
        h = curl_slist_append(h, s->data);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    rc = perform(c, status, err, errlen);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL); /* body is freed below */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_slist_free_all(h);
    free(body);
    return rc;
}

static int post_upload(struct aitag_remote_client *c, const char *path, long *status, char *err,
                       size_t errlen)
{
    curl_mime *mime = curl_mime_init(c->curl);
    curl_mimepart *part;
    const char *slash = strrchr(path, '/');
    struct curl_slist *h = NULL;
    int rc;

    if (!mime) {
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    part = curl_mime_addpart(mime);
    curl_mime_name(part, "file");
    if (curl_mime_filedata(part, path) != CURLE_OK) { /* streamed from disk when sent */
        curl_mime_free(mime);
        aitag_fmt(err, errlen, "cannot read file for upload");
        return AITAG_ERR_IO;
    }
    curl_mime_filename(part, slash ? slash + 1 : path);
    part = curl_mime_addpart(mime);
    curl_mime_name(part, "evidence");
    curl_mime_data(part, "true", CURL_ZERO_TERMINATED);
    if (c->route) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, "model");
        curl_mime_data(part, c->route, CURL_ZERO_TERMINATED);
    }
    /* A large upload asks first (Expect: 100-continue, libcurl's choice for bodies over 1 MiB):
     * a gateway that refuses it from the headers (413, 401) answers before any body byte, so
     * the answer is never lost to a reset while the body is still being sent. */
    for (const struct curl_slist *s = c->headers; s; s = s->next)
        if (strcmp(s->data, "Expect:") != 0)
            h = curl_slist_append(h, s->data);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, mime);
    rc = perform(c, status, err, errlen);
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_slist_free_all(h);
    curl_mime_free(mime);
    return rc;
}

int aitag_remote_client_tag(void *ctx, const char *path, const char *const *analyzers,
                            const char *const *keys, size_t n, double interval,
                            struct aitag_remote_result *out, char *err, size_t errlen)
{
    struct aitag_remote_client *c = ctx;
    long status = 0;
    int rc;

    memset(out, 0, sizeof *out);
    rc = c->upload ? post_upload(c, path, &status, err, errlen)
                   : post_path(c, path, &status, err, errlen);
    if (rc == 0 && !c->upload && c->len) {
        json_t *answer = json_loadb(c->buf, c->len, 0, NULL);
        if ((status == 403 && strcmp(remote_error_code(answer), "path_not_allowed") == 0) ||
            (status == 404 && strcmp(remote_error_code(answer), "file_not_found") == 0)) {
            /* the gateway runs elsewhere and cannot see our files: send the bytes */
            aitag_log(AITAG_LOG_INFO, "gateway", "event=upload url=\"%s\" reason=%s", c->url,
                      remote_error_code(answer));
            c->upload = 1;
            rc = post_upload(c, path, &status, err, errlen);
        }
        json_decref(answer);
    }
    if (rc < 0)
        return rc;
    return remote_answer_parse(status, c->buf, c->len, c->url, analyzers, keys, n, interval, out,
                               err, errlen);
}
