/*
 * server.c - the review app's lifecycle and its one request handler.
 *
 * libmicrohttpd runs a thread per connection (a job's event stream waits for the job on its
 * connection's thread); a request is answered once its whole body (at most 64 KiB) is in.
 * Every request passes the gate first (security.c: Host, session, CSRF), then goes to the API
 * (api.c) or to the front end's files (files.c). Each request borrows a catalog connection from
 * a pool opened at start (`threads` of them), so a catalog that cannot be opened fails the
 * start, not the first page. Stopping ends the jobs first (jobs.c), so no event stream keeps
 * the daemon waiting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aitag/common.h"
#include "web_int.h"

struct aitag_web_params aitag_web_default_params(void)
{
    return (struct aitag_web_params){.bind = "127.0.0.1", .who = "user", .threads = 4};
}

int aitag_web_port(const struct aitag_web *w)
{
    return w->port;
}

struct aitag_catalog *web_catalog_get(struct aitag_web *w)
{
    struct aitag_catalog *c;

    pthread_mutex_lock(&w->lock);
    while (w->n_free == 0)
        pthread_cond_wait(&w->freed, &w->lock);
    c = w->pool[--w->n_free];
    pthread_mutex_unlock(&w->lock);
    return c;
}

void web_catalog_put(struct aitag_web *w, struct aitag_catalog *c)
{
    pthread_mutex_lock(&w->lock);
    w->pool[w->n_free++] = c;
    pthread_cond_signal(&w->freed);
    pthread_mutex_unlock(&w->lock);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct aitag_web *w = cls;
    struct web_req *r = *con_cls;
    const char *why = NULL;
    unsigned status;

    (void)version;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->len + *upload_size > WEB_MAX_BODY) {
            r->too_big = 1;
        } else if (!r->too_big) {
            char *g = realloc(r->body, r->len + *upload_size + 1);
            if (!g)
                return MHD_NO;
            r->body = g;
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big)
        return web_send_error(conn, 413, "the body is larger than %d bytes", WEB_MAX_BODY);
    status = web_gate(w, conn, method, url, &why);
    if (status)
        return web_send_error(conn, status, "%s", why);
    if (strcmp(url, "/api/login") == 0)
        return strcmp(method, "POST") == 0 ? web_login(w, conn, r->body, r->len)
                                           : web_send_error(conn, 405, "/api/login: only POST");
    if (strncmp(url, "/api/", 5) == 0)
        return web_api(w, conn, method, url, r);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return web_send_error(conn, 405, "%s: only GET", url);
    return web_static(w, conn, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct web_req *r = *con_cls;

    (void)cls, (void)conn, (void)toe;
    if (r) {
        free(r->body);
        free(r);
        *con_cls = NULL;
    }
}

static int is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static int real_dir(const char *path, char *out, const char *what, char *err, size_t errlen)
{
    struct stat st;

    if (!path || !realpath(path, out) || stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        aitag_fmt(err, errlen, "%s %s: not a folder", what, path ? path : "(none)");
        return AITAG_ERR_INVALID;
    }
    return 0;
}

static int listen_on(struct aitag_web *w, const char *bind, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    const union MHD_DaemonInfo *info;

    if (inet_pton(AF_INET, bind, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, bind, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        aitag_fmt(err, errlen, "bind %s: not an IP address", bind);
        return AITAG_ERR_INVALID;
    }
    w->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, &ss,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)128, MHD_OPTION_END);
    if (!w->mhd) {
        aitag_fmt(err, errlen, "cannot listen on %s:%d: %s", bind, port, strerror(errno));
        return AITAG_ERR_NET;
    }
    info = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_BIND_PORT);
    w->port = info ? info->port : port;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int aitag_web_start(const struct aitag_web_params *p, struct aitag_web **out, char *err,
                    size_t errlen)
{
    const char *bind = p->bind && *p->bind ? p->bind : "127.0.0.1";
    int threads = p->threads > 0 ? p->threads : 4, rc;
    struct aitag_web *w;
    char real[PATH_MAX];

    *out = NULL;
    if (!p->catalog_path || !p->policy) {
        aitag_fmt(err, errlen, "the catalog and the policy are required");
        return AITAG_ERR_INVALID;
    }
    if (!(w = calloc(1, sizeof *w)))
        return AITAG_ERR_NOMEM;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->freed, NULL);
    pthread_cond_init(&w->job_changed, NULL);
    pthread_mutex_init(&w->search_lock, NULL);
    w->search = p->search;
    w->search_ctx = p->search_ctx;
    w->policy = p->policy;
    w->loopback = is_loopback(bind);
    rc = AITAG_ERR_INVALID;
    if (!w->loopback && !(p->password_hash && *p->password_hash)) {
        aitag_fmt(err, errlen,
                  "bind %s: not a loopback address, and no password is set (serve asks for one "
                  "when bound elsewhere)",
                  bind);
        goto fail;
    }
    if (real_dir(p->static_dir, w->static_dir, "static_dir", err, errlen) < 0)
        goto fail;
    if (p->cache_dir && (aitag_mkdir_parents(p->cache_dir) < 0 ||
                         (mkdir(p->cache_dir, 0700) != 0 && errno != EEXIST))) {
        aitag_fmt(err, errlen, "cache_dir %s: %s", p->cache_dir, strerror(errno));
        goto fail;
    }
    if (real_dir(p->cache_dir, w->cache_dir, "cache_dir", err, errlen) < 0)
        goto fail;
    rc = AITAG_ERR_NOMEM;
    w->catalog_path = strdup(p->catalog_path);
    w->who = strdup(p->who && *p->who ? p->who : "user");
    w->password_hash = dup_or_null(p->password_hash && *p->password_hash ? p->password_hash : NULL);
    w->pool = calloc((size_t)threads, sizeof *w->pool);
    w->roots = p->n_roots ? calloc(p->n_roots, sizeof *w->roots) : NULL;
    if (!w->catalog_path || !w->who || !w->pool || (p->n_roots && !w->roots) ||
        (p->password_hash && *p->password_hash && !w->password_hash))
        goto fail;
    if (p->tag_argv) {
        size_t n = 0;
        while (n < WEB_MAX_TAG_ARGS && p->tag_argv[n])
            n++;
        if (!(w->tag_argv = calloc(n + 1, sizeof *w->tag_argv)))
            goto fail;
        for (size_t i = 0; i < n; i++)
            if (!(w->tag_argv[i] = strdup(p->tag_argv[i])))
                goto fail;
    }
    for (size_t i = 0; i < p->n_roots; i++) {
        rc = real_dir(p->roots[i], real, "root", err, errlen);
        if (rc == 0 && !(w->roots[w->n_roots++] = strdup(real)))
            rc = AITAG_ERR_NOMEM;
        if (rc < 0)
            goto fail;
    }
    if ((rc = web_random_hex(w->csrf, 32)) < 0) {
        aitag_fmt(err, errlen, "no random bytes for the CSRF token");
        goto fail;
    }
    for (int i = 0; i < threads; i++) {
        rc = aitag_catalog_open(w->catalog_path, 0, &w->pool[i], err, errlen);
        if (rc < 0)
            goto fail;
        w->n_pool = w->n_free = (size_t)i + 1;
    }
    rc = listen_on(w, bind, p->port, err, errlen);
    if (rc < 0)
        goto fail;
    *out = w;
    return 0;
fail:
    aitag_web_stop(w);
    return rc;
}

void aitag_web_stop(struct aitag_web *w)
{
    if (!w)
        return;
    web_jobs_stop_all(w); /* first: ends the event streams the daemon waits for */
    if (w->mhd)
        MHD_stop_daemon(w->mhd);
    for (size_t i = 0; w->tag_argv && w->tag_argv[i]; i++)
        free(w->tag_argv[i]);
    free(w->tag_argv);
    for (size_t i = 0; i < w->n_pool; i++)
        aitag_catalog_close(w->pool[i]);
    for (size_t i = 0; i < w->n_roots; i++)
        free(w->roots[i]);
    free(w->roots);
    free(w->pool);
    free(w->catalog_path);
    free(w->who);
    free(w->password_hash);
    pthread_cond_destroy(&w->freed);
    pthread_cond_destroy(&w->job_changed);
    pthread_mutex_destroy(&w->search_lock);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
