/*
 * upstream.c - the workers' event loops: libcurl multi handles, so no thread waits on a socket.
 *
 * Each worker owns one loop (a CURLM and the calls running on it). A worker serves queued
 * requests (keys, JSON, the cache: short work), and the upstream calls they start are added to
 * its multi handle and driven from there; while nothing is ready it sleeps in curl_multi_poll,
 * which watches the upstream sockets and the handle's wakeup pipe at once. Three things wake a
 * sleeping loop through curl_multi_wakeup (thread-safe, unlike everything else on a multi
 * handle): a request queued for the workers (one idle loop is picked under the queue's lock),
 * a stream reader that drained a paused stream, and a client that went away. Everything else on
 * a multi handle and its easy handles happens on the loop's own thread.
 *
 * Easy handles are kept per loop and reset for reuse; the multi handle keeps the connection
 * cache, so keep-alive connections to an upstream are shared by every call of that loop.
 */
#include <curl/curl.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

/* n loops with their multi handles into *out (counted in *n as they are made). */
static int open_loops(struct aitag_gateway *gw, int want, struct gw_loop **out, int *n, char *err,
                      size_t errlen)
{
    if (aitag_curl_global_init() < 0) {
        snprintf(err, errlen, "gateway: libcurl could not be set up");
        return AITAG_ERR_NET;
    }
    if (!(*out = calloc((size_t)want, sizeof **out))) {
        snprintf(err, errlen, "gateway: out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (; *n < want; (*n)++) {
        CURLM *m = curl_multi_init();
        if (!m) {
            snprintf(err, errlen, "gateway: cannot create a libcurl multi handle");
            return AITAG_ERR_NOMEM;
        }
        /* Idle keep-alive connections kept per loop: enough for a burst of parallel calls. */
        curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 256L);
        (*out)[*n].multi = m;
        (*out)[*n].gw = gw;
    }
    return 0;
}

int gw_loops_open(struct aitag_gateway *gw, char *err, size_t errlen)
{
    int rc = open_loops(gw, gw->cfg->workers, &gw->loops, &gw->n_loops, err, errlen);

    return rc < 0 ? rc : open_loops(gw, gw->cfg->event_loops, &gw->http, &gw->n_http, err, errlen);
}

static void close_loop(struct gw_loop *l)
{
    while (l->n_spare > 0)
        curl_easy_cleanup(l->spare[--l->n_spare]);
    curl_multi_cleanup(l->multi);
    l->multi = NULL;
}

void gw_loops_close(struct aitag_gateway *gw)
{
    for (int i = 0; gw->loops && i < gw->n_loops; i++)
        close_loop(&gw->loops[i]);
    for (int i = 0; gw->http && i < gw->n_http; i++)
        close_loop(&gw->http[i]);
    free(gw->loops);
    free(gw->http);
    gw->loops = gw->http = NULL;
    gw->n_loops = gw->n_http = 0;
}

static __thread struct gw_loop *current;

struct gw_loop *gw_loop_current(void)
{
    return current;
}

void gw_loop_wake(struct gw_loop *l)
{
    if (l && l->multi && l != current) /* this thread's own loop looks again anyway */
        curl_multi_wakeup(l->multi);
}

void gw_loops_wake_one(struct aitag_gateway *gw)
{
    /* Round robin over the idle ones, so that work spreads over the loops' connections. */
    for (int k = 0; k < gw->n_loops; k++) {
        int i = (gw->wake_next + k) % gw->n_loops;
        if (gw->loops[i].idle) {
            gw->loops[i].idle = 0;
            gw->wake_next = (i + 1) % gw->n_loops;
            curl_multi_wakeup(gw->loops[i].multi);
            return;
        }
    }
}

void gw_loops_wake_all(struct aitag_gateway *gw)
{
    for (int i = 0; gw->loops && i < gw->n_loops; i++)
        curl_multi_wakeup(gw->loops[i].multi);
    for (int i = 0; gw->http && i < gw->n_http; i++)
        if (gw->http[i].multi)
            curl_multi_wakeup(gw->http[i].multi);
}

CURL *gw_loop_easy(struct gw_loop *l)
{
    return l->n_spare > 0 ? l->spare[--l->n_spare] : curl_easy_init();
}

void gw_loop_easy_put(struct gw_loop *l, CURL *h)
{
    if (!h)
        return;
    if (l->n_spare < (int)(sizeof l->spare / sizeof l->spare[0])) {
        curl_easy_reset(h);
        l->spare[l->n_spare++] = h;
    } else {
        curl_easy_cleanup(h);
    }
}

void gw_loop_turn(struct aitag_gateway *gw, struct gw_loop *l)
{
    struct gw_xfer *x, *next;
    CURLMsg *msg;
    int running, left;
    double now;

    (void)gw;
    if (!l->xfers)
        return;
    curl_multi_perform(l->multi, &running);
    while ((msg = curl_multi_info_read(l->multi, &left))) {
        if (msg->msg == CURLMSG_DONE) {
            struct gw_xfer *done = NULL;
            CURLcode cc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&done);
            if (done)
                gw_xfer_done(done, cc); /* may free done, never another call */
        }
    }
    now = aitag_now();
    for (x = l->xfers; x; x = next) {
        double due = gw_xfer_due(x);
        next = gw_xfer_next(x);
        if (due > 0 && due <= now)
            gw_xfer_retry(x); /* may free x */
        else
            gw_xfer_check_paused(x);
    }
}

/* ms shortened to the first retry deadline of l's calls (0 when one is due). */
static long retry_wait(struct gw_loop *l, long ms, double now)
{
    for (struct gw_xfer *x = l->xfers; x; x = gw_xfer_next(x)) {
        double due = gw_xfer_due(x);
        if (due > 0) {
            long d = due <= now ? 0 : (long)((due - now) * 1000.0) + 1;
            if (d < ms)
                ms = d;
        }
    }
    return ms;
}

void gw_loop_sleep(struct aitag_gateway *gw, struct gw_loop *l)
{
    long ms = 1000;
    double now = aitag_now();

    if (l->xfers) {
        curl_multi_timeout(l->multi, &ms);
        if (ms < 0 || ms > 1000)
            ms = 1000;
        ms = retry_wait(l, ms, now);
    }
    if (ms > 0)
        curl_multi_poll(l->multi, NULL, 0, (int)ms, NULL);
    pthread_mutex_lock(&gw->qmu);
    l->idle = 0;
    pthread_mutex_unlock(&gw->qmu);
}

/* The loop's wait: until a socket (an upstream's, or the daemon's epoll descriptor) is ready,
 * a wakeup, or the first of the daemon's, curl's and a retry's deadlines. */
static void http_wait(struct gw_loop *l, struct curl_waitfd *wfd)
{
    MHD_UNSIGNED_LONG_LONG t = 0;
    long ms = 1000, cm = -1;
    double now = aitag_now();
    long long log_due = __atomic_load_n(&l->gw->log_due_ms, __ATOMIC_ACQUIRE);

    if (MHD_get_timeout(l->mhd, &t) == MHD_YES && t < (MHD_UNSIGNED_LONG_LONG)ms)
        ms = (long)t;
    if (log_due) { /* pending access-log lines: wake to write them */
        long long d = log_due - (long long)(now * 1000.0);
        if (d < ms)
            ms = d > 0 ? (long)d : 0;
    }
    if (l->xfers && curl_multi_timeout(l->multi, &cm) == CURLM_OK && cm >= 0 && cm < ms)
        ms = cm;
    ms = retry_wait(l, ms, now);
    curl_multi_poll(l->multi, wfd, 1, (int)ms, NULL);
}

void *gw_http_main(void *arg)
{
    struct gw_loop *l = arg;
    struct aitag_gateway *gw = l->gw;
    struct gw_worker_ctx w = {0};
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct curl_waitfd wfd = {info ? info->epoll_fd : -1, CURL_WAIT_POLLIN, 0};
    char err[256];
    int quiesced = 0;

    current = l;
    w.loop = l;
    if (gw->cfg->keys_db && gw_keys_open(gw->cfg->keys_db, &w.db, err, sizeof err) < 0)
        aitag_log(AITAG_LOG_ERROR, "gateway", "event=keys_db_open %s", err);
    if (w.db) {
        /* The loop never waits long on the key store: a busy database answers 503/500. */
        sqlite3_busy_timeout(w.db, GW_LOOP_BUSY_MS);
        l->ctx = &w; /* admit.c looks keys up here: no lock shared with the other loops */
    }
    for (;;) {
        int stopping, done;
        MHD_run(l->mhd);
        while (l->local_head) {
            struct gw_req *r = l->local_head;
            l->local_head = r->next;
            if (!l->local_head)
                l->local_tail = NULL;
            gw_serve(gw, r, &w);
        }
        gw_loop_turn(gw, l);
        gw_access_log_flush(gw, 0);
        stopping = __atomic_load_n(&gw->stopping, __ATOMIC_ACQUIRE); /* no lock per turn */
        done = __atomic_load_n(&gw->workers_done, __ATOMIC_ACQUIRE);
        if (stopping && !quiesced) {
            MHD_socket fd = MHD_quiesce_daemon(l->mhd); /* no new connections */
            if (fd != MHD_INVALID_SOCKET)
                close(fd);
            quiesced = 1;
        }
        if (stopping && done && !l->xfers && !l->local_head)
            break;
        if (l->kick)
            l->kick = 0; /* resumed connections: the daemon sends their answers now */
        else
            http_wait(l, &wfd);
    }
    l->ctx = NULL;
    gw_keys_worker_release(&w);
    sqlite3_close(w.db);
    current = NULL;
    return NULL;
}
