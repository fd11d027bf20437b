/*
 * test_stash_answers.c - the Stash client against answers no well-behaved Stash gives: a
 * loopback HTTP server (libmicrohttpd) answers each request with the next scripted answer.
 * The Stash double (test_stash.c) validates what the client sends; this covers what the
 * client must survive receiving, one case per finding of tests/fuzz/fuzz_stash_answer.c.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/stash.h"
#include "check.h"

/* The server: answers[i] for request i, the last one for every request after it. */
static struct {
    pthread_mutex_t lock;
    const char *const *answers;
    size_t n;
    int requests;
} srv = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    static int started;
    struct MHD_Response *r;
    enum MHD_Result ret;
    const char *body;
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
    pthread_mutex_lock(&srv.lock);
    body = srv.answers[(size_t)srv.requests < srv.n ? (size_t)srv.requests : srv.n - 1];
    k = ++srv.requests;
    pthread_mutex_unlock(&srv.lock);
    r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    /* A client that keeps asking is cut off, so a test of that fails instead of hanging. */
    ret = MHD_queue_response(conn, k > 50 ? 500 : 200, r);
    MHD_destroy_response(r);
    return ret;
}

static struct aitag_stash *client(struct MHD_Daemon *d, const char *const *answers, size_t n)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    struct aitag_stash_params p = aitag_stash_default_params();
    struct aitag_stash *s = NULL;
    char url[64];

    pthread_mutex_lock(&srv.lock);
    srv.answers = answers;
    srv.n = n;
    srv.requests = 0;
    pthread_mutex_unlock(&srv.lock);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", info ? info->port : 0);
    p.url = url;
    p.api_key = "key"; /* no API key lookup: every request is the operation's own */
    p.retries = 0;
    CHECK(aitag_stash_new(&p, &s) == 0);
    return s;
}

static int requests(void)
{
    int n;

    pthread_mutex_lock(&srv.lock);
    n = srv.requests;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

/* An image answered with an empty body is an empty image (the body buffer was never made:
 * copying from it was undefined behaviour). */
static void test_empty_download(struct MHD_Daemon *d)
{
    static const char *const answers[] = {""};
    struct aitag_stash *s = client(d, answers, 1);
    unsigned char *img = NULL;
    size_t len = 99;

    if (!s)
        return;
    CHECK_EQ_INT(aitag_stash_download(s, "http://x/performer/1/image", &img, &len), 0);
    CHECK(img != NULL);
    CHECK_EQ_INT(len, 0);
    free(img);
    aitag_stash_free(s);
}

static int count(void *ctx, const struct aitag_stash_performer *p)
{
    (void)p;
    ++*(int *)ctx;
    return 0;
}

/* A Stash that ignores the page number answers the same full page forever: the client stops
 * at the first id that does not ascend instead of asking without end. */
static void test_repeated_performer_page(struct MHD_Daemon *d)
{
    static char page[16384];
    static const char *answers[] = {page};
    struct aitag_stash *s;
    size_t n = 0;
    int seen = 0;

    n += (size_t)snprintf(page + n, sizeof page - n,
                          "{\"data\":{\"findPerformers\":{\"count\":"
                          "100,\"performers\":[");
    for (int i = 1; i <= 100; i++)
        n += (size_t)snprintf(page + n, sizeof page - n,
                              "%s{\"id\":\"%d\",\"name\":\"P%d\",\"alias_list\":[],"
                              "\"image_path\":\"http://x/performer/%d/image\"}",
                              i > 1 ? "," : "", i, i, i);
    snprintf(page + n, sizeof page - n, "]}}}");
    s = client(d, answers, 1);
    if (!s)
        return;
    CHECK(aitag_stash_each_performer_with_image(s, count, &seen) < 0);
    CHECK(strstr(aitag_stash_errmsg(s), "out of order") != NULL);
    CHECK_EQ_INT(seen, 100);
    CHECK(requests() <= 2);
    aitag_stash_free(s);
}

int main(void)
{
    struct sockaddr_in sa = {0};
    struct MHD_Daemon *d;

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    CHECK(d != NULL);
    if (!d)
        return check_done();
    test_empty_download(d);
    test_repeated_performer_page(d);
    MHD_stop_daemon(d);
    return check_done();
}
