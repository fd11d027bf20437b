/* fuzz_stash_answer.c - libFuzzer target for what Stash answers the client (src/stash): every
 * operation the plugin uses runs against a loopback HTTP server that answers with the input.
 * The input is one answer per request, separated by NUL bytes (the last one answers every
 * request after it); an answer may start with a status line "NNN\n" and Set-Cookie: or
 * Retry-After: header lines. Any answer is read or refused with a message; none crashes,
 * leaks, or keeps the client asking forever (a Stash that repeats its pages is not paged
 * through without end). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/stash.h"

#define MAX_REQUESTS 200 /* per call: far more than any needs with a sane Stash */

static struct {
    pthread_mutex_t lock;
    const uint8_t *data;
    size_t size;
    int requests, call_start; /* requests so far, and when the current call began */
} answers = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0};

static int has_prefix(const uint8_t *p, size_t n, const char *s)
{
    size_t l = strlen(s);
    return n >= l && memcmp(p, s, l) == 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    static int started;
    const uint8_t *p, *end, *nl;
    struct MHD_Response *r;
    unsigned status = 200;
    enum MHD_Result ret;
    int k;

    (void)cls, (void)url, (void)method, (void)version, (void)upload;
    if (!*req) {
        *req = &started;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&answers.lock);
    k = answers.requests++;
    if (answers.requests - answers.call_start > MAX_REQUESTS)
        abort(); /* one call kept asking: a loop a repeating Stash never ends */
    p = answers.data;
    end = p + answers.size;
    /* The k-th NUL-separated answer, or the last one. */
    for (; k > 0; k--) {
        const uint8_t *z = memchr(p, '\0', (size_t)(end - p));
        if (!z)
            break;
        p = z + 1;
    }
    {
        const uint8_t *z = memchr(p, '\0', (size_t)(end - p));
        if (z)
            end = z;
    }
    pthread_mutex_unlock(&answers.lock);
    if (end - p >= 4 && p[3] == '\n' && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
        p[2] >= '0' && p[2] <= '9') {
        status = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
        p += 4;
    }
    r = NULL;
    {
        const uint8_t *body = p;
        /* Header lines first, then the body. */
        while ((has_prefix(body, (size_t)(end - body), "Set-Cookie: ") ||
                has_prefix(body, (size_t)(end - body), "Retry-After: ")) &&
               (nl = memchr(body, '\n', (size_t)(end - body))))
            body = nl + 1;
        r = MHD_create_response_from_buffer((size_t)(end - body), (void *)body,
                                            MHD_RESPMEM_MUST_COPY);
        if (!r)
            return MHD_NO;
        while (p < body) {
            char line[1024], *colon;
            size_t n;
            nl = memchr(p, '\n', (size_t)(body - p));
            n = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p) : sizeof line - 1;
            memcpy(line, p, n);
            line[n] = '\0';
            colon = strchr(line, ':');
            if (colon && !memchr(line, '\0', n)) {
                *colon = '\0';
                MHD_add_response_header(r, line, colon + 2 <= line + n ? colon + 2 : "");
            }
            p = nl + 1;
        }
    }
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int port(void)
{
    static struct MHD_Daemon *d;
    struct sockaddr_in sa = {0};
    const union MHD_DaemonInfo *info;

    if (!d) {
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
        if (!d)
            abort();
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

static int on_item(void *ctx, const struct aitag_stash_item *it)
{
    (void)ctx;
    if (!it->id || (it->n_tags && (!it->tag_ids || !it->tag_names)))
        abort();
    return 0;
}

static int on_performer(void *ctx, const struct aitag_stash_performer *p)
{
    (void)ctx;
    if (!p->id || !p->name || !p->has_image)
        abort();
    return 0;
}

/* Every call fails with a message (not found aside) or succeeds; the next one starts. */
static void check(struct aitag_stash *s, int rc)
{
    if (rc < 0 && rc != AITAG_ERR_NOTFOUND && !aitag_stash_errmsg(s)[0])
        abort();
    pthread_mutex_lock(&answers.lock);
    answers.call_start = answers.requests;
    pthread_mutex_unlock(&answers.lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_stash_params p = aitag_stash_default_params();
    const char *item_ids[] = {"1"}, *tag_ids[] = {"2"};
    struct aitag_stash_performer perf;
    struct aitag_stash_item it;
    struct aitag_stash_tag *tags = NULL;
    struct aitag_stash *s = NULL;
    char url[64], version[64], *text = NULL, *id = NULL;
    unsigned char *bytes = NULL;
    size_t n = 0;

    snprintf(url, sizeof url, "http://127.0.0.1:%d", port());
    pthread_mutex_lock(&answers.lock);
    answers.data = data;
    answers.size = size;
    answers.requests = answers.call_start = 0;
    pthread_mutex_unlock(&answers.lock);
    p.url = url;
    p.session_cookie = "cookie";
    p.retries = 0; /* no backoff: an answer's Retry-After could make one input take minutes */
    p.timeout_ms = 5000;
    if (aitag_stash_new(&p, &s) < 0)
        abort();
    check(s, aitag_stash_version(s, version, sizeof version));
    check(s, aitag_stash_has_marker_end(s));
    check(s, aitag_stash_plugin_settings(s, "aitag", &text));
    free(text);
    check(s, aitag_stash_find_tag(s, "AI", &id));
    free(id);
    id = NULL;
    check(s, aitag_stash_ensure_tag(s, "dog", "1", &id));
    free(id);
    id = NULL;
    check(s, aitag_stash_tag_add_parent(s, "2", "1"));
    if (aitag_stash_tag_children(s, "1", &tags, &n) == 0)
        aitag_stash_tags_free(tags, n);
    check(s, 0);
    if (aitag_stash_get_item(s, AITAG_STASH_SCENE, "1", &it) == 0)
        aitag_stash_item_clear(&it);
    check(s, 0);
    if (aitag_stash_get_item(s, AITAG_STASH_IMAGE, "1", &it) == 0)
        aitag_stash_item_clear(&it);
    check(s, 0);
    check(s, aitag_stash_each_item(s, AITAG_STASH_SCENE, "3", "4", on_item, NULL));
    check(s, aitag_stash_each_item(s, AITAG_STASH_IMAGE, NULL, NULL, on_item, NULL));
    check(s, aitag_stash_update_tags(s, AITAG_STASH_SCENE, item_ids, 1, tag_ids, 1, "ADD"));
    check(s, aitag_stash_create_marker(s, "1", "dog", 1.5, 3.0, "2", &id));
    free(id);
    id = NULL;
    check(s, aitag_stash_destroy_marker(s, "5"));
    if (aitag_stash_find_performer(s, "Ann Example", &perf) == 0)
        aitag_stash_performer_clear(&perf);
    check(s, 0);
    if (aitag_stash_get_performer(s, "1", &perf) == 0)
        aitag_stash_performer_clear(&perf);
    check(s, 0);
    check(s, aitag_stash_create_performer(s, "Ann Example", (const unsigned char *)"\xff\xd8", 2,
                                          &id));
    free(id);
    id = NULL;
    check(s, aitag_stash_each_performer_with_image(s, on_performer, NULL));
    if (aitag_stash_download(s, "http://elsewhere/performer/1/image?t=1", &bytes, &n) == 0)
        free(bytes);
    check(s, 0);
    check(s, aitag_stash_find_item_by_path(s, AITAG_STASH_SCENE, "/media/a.mp4", &id));
    free(id);
    id = NULL;
    check(s, aitag_stash_item_has_performer(s, AITAG_STASH_IMAGE, "1", "1"));
    check(s, aitag_stash_add_performer(s, AITAG_STASH_SCENE, "1", "1"));
    check(s, aitag_stash_query(s, "query { version { version } }", "{}", &text));
    free(text);
    aitag_stash_free(s);
    return 0;
}
