/* fuzz_web_api.c - libFuzzer target for requests to the review app's JSON API (src/web: the
 * request line, headers and body a browser, or anything that reaches the port, sends). The
 * input is "METHOD /path?query\n", header lines, an empty line, then the body; the target adds
 * the session's CSRF token and a JSON content type, so the bytes reach the handlers behind the
 * gate (decisions, thresholds, people, faces, jobs, items, search). A server with an empty
 * catalog and no tagger command answers every request, with a status in 200..599, and keeps
 * answering. */
#include <ctype.h>
#include <curl/curl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/policy.h"
#include "aitag/web.h"

static struct {
    struct aitag_web *w;
    char base[64];
    char csrf[128];
    CURL *curl;
} app;

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

/* The server's catalog and thumbnails go with the process (the server stops with it). */
static void cleanup(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    static char catalog[128], web[128], cache[128];
    struct aitag_web_params wp = aitag_web_default_params();
    struct aitag_policy *policy = NULL;
    struct aitag_http_body b = {0};
    char err[512], url[128];
    json_t *j;

    snprintf(dir, sizeof dir, "/tmp/aitag-fuzz-web-XXXXXX");
    if (!mkdtemp(dir) || aitag_policy_new(&policy) < 0)
        abort();
    atexit(cleanup);
    snprintf(catalog, sizeof catalog, "%s/catalog.db", dir);
    snprintf(web, sizeof web, "%s/web", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    mkdir(web, 0700);
    wp.catalog_path = catalog;
    wp.policy = policy; /* lives as long as the process */
    wp.static_dir = web;
    wp.cache_dir = cache;
    wp.threads = 2;
    if (aitag_web_start(&wp, &app.w, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_web_api: %s\n", err);
        abort();
    }
    snprintf(app.base, sizeof app.base, "http://127.0.0.1:%d", aitag_web_port(app.w));
    app.curl = curl_easy_init();
    snprintf(url, sizeof url, "%s/api/session", app.base);
    curl_easy_setopt(app.curl, CURLOPT_URL, url);
    curl_easy_setopt(app.curl, CURLOPT_WRITEFUNCTION, aitag_http_body_write);
    curl_easy_setopt(app.curl, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(app.curl) != CURLE_OK)
        abort();
    j = json_loadb(b.data, b.len, 0, NULL);
    if (!json_is_string(json_object_get(j, "csrf")))
        abort();
    snprintf(app.csrf, sizeof app.csrf, "X-CSRF-Token: %s",
             json_string_value(json_object_get(j, "csrf")));
    json_decref(j);
    free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size, *nl;
    struct curl_slist *hdr = NULL;
    struct aitag_http_body b = {0};
    char method[8] = "GET", url[4096];
    size_t m = 0, u;
    long status = 0;
    CURLcode cc;

    if (!app.w)
        setup();
    /* "METHOD /path\n": a method of capital letters, the path percent-encoded as a client
     * would send it (the server decodes it again). */
    while (p < end && m < sizeof method - 1 && isupper(*p))
        method[m++] = (char)*p++;
    if (m)
        method[m] = '\0';
    if (p < end && *p == ' ')
        p++;
    u = (size_t)snprintf(url, sizeof url, "%s", app.base);
    if (p >= end || *p != '/')
        url[u++] = '/';
    for (; p < end && *p != '\n' && u + 4 < sizeof url; p++) {
        if (*p > 0x20 && *p < 0x7f && *p != '#')
            url[u++] = (char)*p;
        else
            u += (size_t)snprintf(url + u, 4, "%%%02X", *p);
    }
    url[u] = '\0';
    if (p < end)
        p++;
    /* Header lines up to an empty line; then the body. */
    while (p < end && *p != '\n' && (nl = memchr(p, '\n', (size_t)(end - p)))) {
        char line[512];
        size_t n = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p) : sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        if (strchr(line, ':') && !memchr(p, '\0', n) && !strchr(line, '\r'))
            hdr = curl_slist_append(hdr, line);
        p = nl + 1;
    }
    if (p < end && *p == '\n')
        p++;
    hdr = curl_slist_append(hdr, app.csrf);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_reset(app.curl);
    curl_easy_setopt(app.curl, CURLOPT_URL, url);
    curl_easy_setopt(app.curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(app.curl, CURLOPT_HTTPHEADER, hdr);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        curl_easy_setopt(app.curl, CURLOPT_POSTFIELDS, (const char *)p);
        curl_easy_setopt(app.curl, CURLOPT_POSTFIELDSIZE, (long)(end - p));
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(app.curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(app.curl, CURLOPT_WRITEFUNCTION, aitag_http_body_write);
    curl_easy_setopt(app.curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(app.curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(app.curl, CURLOPT_NOSIGNAL, 1L);
    cc = curl_easy_perform(app.curl);
    curl_easy_getinfo(app.curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        abort(); /* the server stopped answering */
    if (cc == CURLE_OK && (status < 200 || status > 599))
        abort();
    curl_slist_free_all(hdr);
    free(b.data);
    return 0;
}
