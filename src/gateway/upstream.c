/*
 * upstream.c - the event loops: libcurl multi handles driven by socket events, so no thread
 * waits on a socket and nothing is polled that is not ready.
 *
 * Each loop owns an epoll set and a CURLM. libcurl names the sockets it wants watched
 * (CURLMOPT_SOCKETFUNCTION) and the time it next needs to run (CURLMOPT_TIMERFUNCTION); the
 * loop waits in one epoll_wait on those, an eventfd that other threads write to wake it and,
 * for an HTTP loop, its libmicrohttpd daemon's own epoll descriptor, then hands each ready
 * socket to curl_multi_socket_action. Driving curl with curl_multi_perform instead made libcurl
 * poll() every running transfer's socket at every turn (about four poll calls per request at
 * 64 connections), and curl_multi_poll rebuilt the poll set at each wait.
 *
 * Sockets stay in the epoll set between requests: when libcurl stops watching a keep-alive
 * connection (CURL_POLL_REMOVE) the registration is kept, and the next request on the same
 * connection asks for what is already registered, so a request costs no epoll_ctl. That is
 * only safe for sockets whose close the loop sees: the upstream connections, which the loop
 * opens and closes itself (CURLOPT_OPENSOCKETFUNCTION / CLOSESOCKETFUNCTION; a close removes
 * the registration first, so a reused descriptor number never inherits it). Other sockets
 * libcurl may name (a resolver's) are removed at once. A kept registration that reports
 * readiness while libcurl does not watch it (the upstream closed an idle connection) is
 * removed then.
 *
 * A loop serves queued requests (keys, JSON, the cache: short work) and the upstream calls
 * they start run on its multi handle. Three things wake a sleeping loop through its eventfd:
 * a request queued for the workers (one idle loop is picked under the queue's lock), a stream
 * reader that drained a paused stream, and a client that went away. Everything else on a
 * multi handle and its easy handles happens on the loop's own thread.
 *
 * Easy handles are kept per loop and reset for reuse; the multi handle keeps the connection
 * cache, so keep-alive connections to an upstream are shared by every call of that loop.
 */
#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

/* epoll data of the two descriptors that are not curl sockets (those carry their number) */
#define TAG_WAKE (UINT64_C(1) << 32)
#define TAG_MHD ((UINT64_C(1) << 32) + 1)

/* Room in the per-descriptor tables for fd. 0 or -1 (out of memory). */
static int fd_room(struct gw_loop *l, int fd)
{
    int cap = l->fd_cap ? l->fd_cap : 64;
    unsigned char *v;

    if (fd < l->fd_cap)
        return 0;
    while (cap <= fd)
        cap *= 2;
    if (!(v = realloc(l->fd_state, (size_t)cap)))
        return -1;
    memset(v + l->fd_cap, 0, (size_t)(cap - l->fd_cap));
    l->fd_state = v;
    l->fd_cap = cap;
    return 0;
}

/* fd_state bits: what is registered in the epoll set, what libcurl watches, who opened it */
#define FD_REG_IN 1
#define FD_REG_OUT 2
#define FD_WANT_IN 4
#define FD_WANT_OUT 8
#define FD_OURS 16

/* Registers fd for events (FD_REG_* bits; 0 removes it). 0 or -1. */
static int fd_register(struct gw_loop *l, int fd, unsigned reg)
{
    unsigned char *st = &l->fd_state[fd];
    struct epoll_event ev = {0};
    int op;

    if ((*st & (FD_REG_IN | FD_REG_OUT)) == reg)
        return 0;
    ev.events = ((reg & FD_REG_IN) ? EPOLLIN : 0) | ((reg & FD_REG_OUT) ? EPOLLOUT : 0);
    ev.data.u64 = (uint64_t)fd;
    op = !reg ? EPOLL_CTL_DEL : (*st & (FD_REG_IN | FD_REG_OUT)) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, fd, &ev) < 0) {
        /* the kernel's view differs from ours (a descriptor closed behind our back) */
        if (op == EPOLL_CTL_MOD && errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else if (op == EPOLL_CTL_ADD && errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else if (op == EPOLL_CTL_DEL)
            op = -1;
        else
            return -1;
        if (op >= 0 && epoll_ctl(l->epfd, op, fd, &ev) < 0)
            return -1;
    }
    *st = (unsigned char)((*st & ~(FD_REG_IN | FD_REG_OUT)) | reg);
    return 0;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct gw_loop *l = userp;
    unsigned want = what == CURL_POLL_IN      ? FD_REG_IN
                    : what == CURL_POLL_OUT   ? FD_REG_OUT
                    : what == CURL_POLL_INOUT ? FD_REG_IN | FD_REG_OUT
                                              : 0;

    (void)e;
    (void)socketp;
    if (fd < 0 || fd_room(l, fd) < 0)
        return -1;
    l->fd_state[fd] =
        (unsigned char)((l->fd_state[fd] & ~(FD_WANT_IN | FD_WANT_OUT)) | (want << 2));
    if (!want) /* kept registered when the loop sees its close (see above) */
        return (l->fd_state[fd] & FD_OURS) ? 0 : fd_register(l, fd, 0);
    return fd_register(l, fd, want); /* no system call when it is registered so already */
}

static int on_timer(CURLM *m, long ms, void *userp)
{
    struct gw_loop *l = userp;

    (void)m;
    l->curl_due = ms < 0 ? -1 : aitag_now() + (double)ms / 1000.0;
    return 0;
}

static curl_socket_t on_open(void *userp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct gw_loop *l = userp;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);

    (void)purpose;
    if (fd < 0)
        return CURL_SOCKET_BAD;
    if (fd_room(l, fd) < 0) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    l->fd_state[fd] = FD_OURS;
    return fd;
}

static int on_close(void *userp, curl_socket_t fd)
{
    struct gw_loop *l = userp;

    if (fd >= 0 && fd < l->fd_cap) {
        fd_register(l, fd, 0);
        l->fd_state[fd] = 0;
    }
    /* cppcheck-suppress invalidFunctionArg ; curl closes only sockets it opened (fd >= 0) */
    return close(fd);
}

/* Sets up loop l's multi handle, epoll set and eventfd. 0, or < 0 with err set. */
static int open_loop(struct aitag_gateway *gw, struct gw_loop *l, char *err, size_t errlen)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_WAKE};

    l->gw = gw;
    l->epfd = l->wakefd = -1;
    l->curl_due = -1;
    if (aitag_curl_global_init() < 0) {
        snprintf(err, errlen, "gateway: libcurl could not be set up");
        return AITAG_ERR_NET;
    }
    if (!(l->multi = curl_multi_init())) {
        snprintf(err, errlen, "gateway: cannot create a libcurl multi handle");
        return AITAG_ERR_NOMEM;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->epfd < 0 || l->wakefd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0) {
        snprintf(err, errlen, "gateway: cannot create an event loop: %s", strerror(errno));
        return AITAG_ERR_IO;
    }
    /* Idle keep-alive connections kept per loop: enough for a burst of parallel calls. */
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 256L);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
    return 0;
}

/* n loops into *out (counted in *n as they are made, so that a failure closes those). */
static int open_loops(struct aitag_gateway *gw, int want, struct gw_loop **out, int *n, char *err,
                      size_t errlen)
{
    if (!(*out = calloc((size_t)want, sizeof **out))) {
        snprintf(err, errlen, "gateway: out of memory");
        return AITAG_ERR_NOMEM;
    }
    while (*n < want) {
        int rc = open_loop(gw, &(*out)[(*n)++], err, errlen);
        if (rc < 0)
            return rc;
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
    if (l->multi)
        curl_multi_cleanup(l->multi); /* closes its connections through on_close */
    l->multi = NULL;
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->wakefd >= 0)
        close(l->wakefd);
    l->epfd = l->wakefd = -1;
    free(l->fd_state);
    l->fd_state = NULL;
    l->fd_cap = 0;
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

static void wake(struct gw_loop *l)
{
    uint64_t one = 1;
    ssize_t w = write(l->wakefd, &one, sizeof one); /* EAGAIN: it is awake already */

    (void)w;
}

void gw_loop_wake(struct gw_loop *l)
{
    if (l && l->wakefd >= 0 && l != current) /* this thread's own loop looks again anyway */
        wake(l);
}

void gw_loops_wake_one(struct aitag_gateway *gw)
{
    /* Round robin over the idle ones, so that work spreads over the loops' connections. */
    for (int k = 0; k < gw->n_loops; k++) {
        int i = (gw->wake_next + k) % gw->n_loops;
        if (gw->loops[i].idle) {
            gw->loops[i].idle = 0;
            gw->wake_next = (i + 1) % gw->n_loops;
            wake(&gw->loops[i]);
            return;
        }
    }
}

void gw_loops_wake_all(struct aitag_gateway *gw)
{
    for (int i = 0; gw->loops && i < gw->n_loops; i++)
        if (gw->loops[i].wakefd >= 0)
            wake(&gw->loops[i]);
    for (int i = 0; gw->http && i < gw->n_http; i++)
        if (gw->http[i].wakefd >= 0)
            wake(&gw->http[i]);
}

CURL *gw_loop_easy(struct gw_loop *l)
{
    CURL *h = NULL;

    if (l->n_spare > 0) {
        h = l->spare[--l->n_spare];
        if (l->spare_set[l->n_spare])
            return h; /* the options below are still set */
    } else if (!(h = curl_easy_init())) {
        return NULL;
    }
    /* the loop opens and closes the upstream sockets (see above) */
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, l);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, l);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    return h;
}

void gw_loop_easy_put(struct gw_loop *l, CURL *h, int plain)
{
    if (!h)
        return;
    if (l->n_spare < (int)(sizeof l->spare / sizeof l->spare[0])) {
        /* A plain call (URL, headers, POST fields, callbacks: all set again by the next) keeps
         * its options; resetting costs a large memset and every option set again. Anything
         * else (a MIME body) is reset. */
        if (!plain)
            curl_easy_reset(h);
        l->spare_set[l->n_spare] = (unsigned char)(plain != 0);
        l->spare[l->n_spare++] = h;
    } else {
        curl_easy_cleanup(h);
    }
}

/* Hands the events of the last wait to libcurl, then runs its timer when due. */
static void dispatch(struct gw_loop *l)
{
    int running, n = l->n_ev;

    l->n_ev = 0;
    for (int i = 0; i < n; i++) {
        uint64_t tag = l->ev[i].data.u64;
        uint32_t e = l->ev[i].events;
        int fd = (int)tag, mask = 0;
        if (tag == TAG_WAKE) {
            uint64_t v;
            ssize_t r = read(l->wakefd, &v, sizeof v);
            (void)r;
            continue;
        }
        if (tag == TAG_MHD || fd >= l->fd_cap)
            continue;
        if (!(l->fd_state[fd] & (FD_WANT_IN | FD_WANT_OUT))) {
            fd_register(l, fd, 0); /* kept, unwatched, and now readable: closed upstream */
            continue;
        }
        if (e & EPOLLIN)
            mask |= CURL_CSELECT_IN;
        if (e & EPOLLOUT)
            mask |= CURL_CSELECT_OUT;
        if (e & (EPOLLERR | EPOLLHUP))
            mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(l->multi, fd, mask, &running);
    }
    if (l->curl_due >= 0 && l->curl_due <= aitag_now()) {
        l->curl_due = -1;
        curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

void gw_loop_turn(struct aitag_gateway *gw, struct gw_loop *l)
{
    struct gw_xfer *x, *next;
    CURLMsg *msg;
    int left;
    double now;

    (void)gw;
    dispatch(l);
    if (!l->xfers)
        return;
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

/* ms shortened to the first of libcurl's and the retries' deadlines (0 when one is due). */
static long first_due(struct gw_loop *l, long ms, double now)
{
    if (l->curl_due >= 0) {
        long d = l->curl_due <= now ? 0 : (long)((l->curl_due - now) * 1000.0) + 1;
        if (d < ms)
            ms = d;
    }
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

/* Waits up to ms for the loop's descriptors; the events wait for the next turn. */
static void loop_wait(struct gw_loop *l, long ms)
{
    int n = epoll_wait(l->epfd, l->ev, (int)(sizeof l->ev / sizeof l->ev[0]), (int)ms);

    l->n_ev = n > 0 ? n : 0;
}

void gw_loop_sleep(struct aitag_gateway *gw, struct gw_loop *l)
{
    long ms = first_due(l, 1000, aitag_now());

    loop_wait(l, ms);
    pthread_mutex_lock(&gw->qmu);
    l->idle = 0;
    pthread_mutex_unlock(&gw->qmu);
}

/* The loop's wait: until a socket (an upstream's, or the daemon's epoll descriptor) is ready,
 * a wakeup, or the first of the daemon's, curl's and a retry's deadlines. Returns 1 when the
 * daemon may have work: its descriptor is ready, its deadline has come, or another thread
 * woke the loop (a worker resumes a connection through MHD_resume_connection, which in this
 * external-epoll mode waits for the next MHD_run). A turn woken by an upstream socket alone
 * does not run the daemon (one epoll_wait of its own less per request). */
static int http_wait(struct gw_loop *l)
{
    MHD_UNSIGNED_LONG_LONG t = 0;
    long ms = 1000;
    double now = aitag_now(), mhd_at = -1;
    long long log_due = __atomic_load_n(&l->gw->log_due_ms, __ATOMIC_ACQUIRE);
    struct gw_loop *log_owner = __atomic_load_n(&l->gw->log_owner, __ATOMIC_ACQUIRE);

    if (MHD_get_timeout(l->mhd, &t) == MHD_YES) {
        mhd_at = now + (double)t / 1000.0;
        if (t < (MHD_UNSIGNED_LONG_LONG)ms)
            ms = (long)t;
    }
    /* Pending access-log lines: the loop that wrote the first of them wakes to write them
     * (any loop writes them when it passes by later than due). */
    if (log_due && (!log_owner || log_owner == l)) {
        long long d = log_due - (long long)(now * 1000.0);
        if (d < ms)
            ms = d > 0 ? (long)d : 0;
    }
    loop_wait(l, first_due(l, ms, now));
    for (int i = 0; i < l->n_ev; i++)
        if (l->ev[i].data.u64 == TAG_MHD || l->ev[i].data.u64 == TAG_WAKE)
            return 1;
    return mhd_at >= 0 && aitag_now() >= mhd_at;
}

void *gw_http_main(void *arg)
{
    struct gw_loop *l = arg;
    struct aitag_gateway *gw = l->gw;
    struct gw_worker_ctx w = {0};
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct epoll_event mev = {.events = EPOLLIN, .data.u64 = TAG_MHD};
    char err[256];
    int quiesced = 0;

    current = l;
    w.loop = l;
    if (!info || epoll_ctl(l->epfd, EPOLL_CTL_ADD, info->epoll_fd, &mev) < 0)
        aitag_log(AITAG_LOG_ERROR, "gateway", "event=loop_setup reason=\"daemon descriptor\"");
    if (gw->cfg->keys_db && gw_keys_open(gw->cfg->keys_db, &w.db, err, sizeof err) < 0)
        aitag_log(AITAG_LOG_ERROR, "gateway", "event=keys_db_open %s", err);
    if (w.db) {
        /* The loop never waits long on the key store: a busy database answers 503/500. */
        sqlite3_busy_timeout(w.db, GW_LOOP_BUSY_MS);
        l->ctx = &w; /* admit.c looks keys up here: no lock shared with the other loops */
    }
    for (int run = 1;;) {
        int stopping, done;
        if (run)
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
        if (l->kick) {
            l->kick = 0; /* resumed connections: the daemon sends their answers now */
            run = 1;
        } else {
            run = http_wait(l);
        }
    }
    l->ctx = NULL;
    gw_keys_worker_release(&w);
    sqlite3_close(w.db);
    current = NULL;
    return NULL;
}
