/*
 * vlm_request.c - one frame to one chat completion: the view as a JPEG (the media library's
 * aitag_media_encode_jpeg), the OpenAI-compatible request body with the JPEG as a data: URL, and
 * the POST (libcurl, one easy handle per analyzer so calls share a keep-alive connection).
 *
 * The request always asks for temperature 0 and a JSON object, so equal frames make equal
 * requests and a caching gateway can answer repeats without the model. Every failure here
 * (transport, timeout, non-2xx, an answer without a message) is reported with the url and
 * the HTTP status, and nothing is retried: failing over is the gateway's job, and the
 * tagger fails just this item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libavutil/base64.h>

#include "vlm_int.h"

#define ANSWER_MAX (8u << 20) /* larger answers are refused */
struct vlm_http {
    CURL *h;
    char *body;
    size_t len, cap;
};

struct vlm_http *vlm_http_new(void)
{
    struct vlm_http *h;

    if (aitag_curl_global_init() < 0)
        return NULL;
    h = calloc(1, sizeof *h);
    if (h && !(h->h = curl_easy_init())) {
        free(h);
        h = NULL;
    }
    return h;
}

void vlm_http_free(struct vlm_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->h);
    free(h->body);
    free(h);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    struct vlm_http *h = ctx;
    size_t n = size * nmemb;

    /* Refused past ANSWER_MAX or without memory: curl then reports a write error. */
    return aitag_buf_append(&h->body, &h->len, &h->cap, ptr, n, ANSWER_MAX - 1) < 0 ? 0 : n;
}

/* The request body; caller frees. NULL when out of memory. */
static char *request_body(const struct vlm_call *c)
{
    size_t b64_size = AV_BASE64_SIZE(c->jpeg_len), prefix = strlen("data:image/jpeg;base64,");
    char *url = malloc(prefix + b64_size), *out = NULL;
    json_t *req = NULL;

    if (!url || c->jpeg_len > (size_t)(1 << 30))
        goto out;
    memcpy(url, "data:image/jpeg;base64,", prefix);
    if (!av_base64_encode(url + prefix, (int)b64_size, c->jpeg, (int)c->jpeg_len))
        goto out;
    req = json_pack("{s:s, s:i, s:{s:s}, s:[{s:s, s:s}, {s:s, s:[{s:s, s:s}, {s:s, s:{s:s}}]}]}",
                    "model", c->route, "temperature", 0, "response_format", "type", "json_object",
                    "messages", "role", "system", "content", c->system, "role", "user", "content",
                    "type", "text", "text", c->user, "type", "image_url", "image_url", "url", url);
    if (req)
        out = json_dumps(req, JSON_COMPACT);
out:
    json_decref(req);
    free(url);
    return out;
}

int vlm_http_chat(struct vlm_http *h, const struct vlm_call *c, char **content, char *err,
                  size_t errlen)
{
    char endpoint[512], auth[600], why[128];
    struct curl_slist *hdr = NULL;
    char *body = request_body(c);
    long status = 0;
    CURLcode cc;
    int ok, rc = AITAG_ERR_NOMEM;

    *content = NULL;
    snprintf(endpoint, sizeof endpoint, "%s/chat/completions", c->url);
    if (!body)
        goto out;
    ok = (hdr = curl_slist_append(NULL, "Content-Type: application/json")) != NULL;
    if (ok && c->bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->bearer);
        ok = curl_slist_append(hdr, auth) != NULL;
    }
    if (ok && c->local_only)
        ok = curl_slist_append(hdr, "X-Aitag-Local-Only: 1") != NULL;
    if (!ok)
        goto out;
    h->len = 0;
    curl_easy_reset(h->h);
    curl_easy_setopt(h->h, CURLOPT_URL, endpoint);
    curl_easy_setopt(h->h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h->h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->h, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->h, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = curl_easy_perform(h->h);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "POST %s: %s", endpoint, curl_easy_strerror(cc));
        rc = AITAG_ERR_NET;
        goto out;
    }
    curl_easy_getinfo(h->h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "POST %s: HTTP %ld: %.200s", endpoint, status,
                 h->body && h->len ? h->body : "(empty body)");
        rc = AITAG_ERR_NET;
        goto out;
    }
    rc = vlm_chat_content(h->body, h->len, content, why, sizeof why);
    if (rc == AITAG_ERR_INVALID)
        snprintf(err, errlen, "POST %s: HTTP %ld but %s", endpoint, status, why);
out:
    if (rc == AITAG_ERR_NOMEM)
        snprintf(err, errlen, "out of memory");
    curl_slist_free_all(hdr);
    free(body);
    return rc;
}
