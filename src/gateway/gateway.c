/*
 * gateway.c - start and stop: backends' runtime state, the worker pool, the HTTP daemon.
 *
 * Stop order matters with suspended connections: workers finish (and resume) every queued
 * request first, then the daemon stops, so libmicrohttpd never holds a suspended connection
 * at shutdown. The response cache's glue (keys from canonical JSON, answers in and out of a
 * request, its metrics) lives here too, so that handlers only ask "cached?" and "keep this".
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

/* server.c */
void *gw_worker_main(void *arg);
enum MHD_Result gw_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls);
void gw_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                     enum MHD_RequestTerminationCode toe);

/* libmicrohttpd's messages (a client gone mid-stream, a malformed request) into our log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    aitag_log(AITAG_LOG_INFO, "gateway", "event=http msg=\"%s\"", msg);
}

int gw_chat_deterministic(json_t *body)
{
    json_t *t = json_object_get(body, "temperature");

    return !json_is_true(json_object_get(body, "stream")) && json_is_number(t) &&
           json_number_value(t) == 0;
}

int gw_cache_key(struct aitag_gateway *gw, const char *route, const char *endpoint, json_t *body,
                 char hex[65])
{
    char *canon;
    size_t lr = strlen(route), le = strlen(endpoint), lb;
    char *buf;

    hex[0] = '\0';
    if (!gw->cache || !(canon = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT)))
        return -1;
    lb = strlen(canon);
    buf = malloc(lr + le + lb + 2);
    if (!buf) {
        free(canon);
        return -1;
    }
    /* route NUL endpoint NUL body: no two different triples give the same bytes. */
    memcpy(buf, route, lr + 1);
    memcpy(buf + lr + 1, endpoint, le + 1);
    memcpy(buf + lr + le + 2, canon, lb);
    aitag_sha256_buf(buf, lr + le + 2 + lb, hex);
    free(buf);
    free(canon);
    return 0;
}

int gw_cache_get(struct aitag_gateway *gw, const char *hex, struct gw_req *r)
{
    char *body;
    size_t len;
    int status;

    if (!gw->cache || !hex[0])
        return 0;
    if (!gw_cache_lookup(gw->cache, hex, aitag_now(), &status, &body, &len)) {
        r->cache = GW_CACHE_MISS;
        snprintf(r->cache_key, sizeof r->cache_key, "%s", hex); /* stored when the call ends */
        gw_metrics_cache(gw->metrics, GW_METRIC_CACHE_MISS, 1);
        return 0;
    }
    gw_reply(r, status, "application/json", body, len);
    free(body);
    r->cache = GW_CACHE_HIT;
    r->prompt_tokens = r->completion_tokens = 0; /* no upstream was asked */
    r->cost = 0;
    gw_metrics_cache(gw->metrics, GW_METRIC_CACHE_HIT, 1);
    return 1;
}

void gw_cache_put(struct aitag_gateway *gw, const char *hex, struct gw_req *r)
{
    int evicted;

    if (!gw->cache || !hex[0] || r->cache != GW_CACHE_MISS || r->state == REQ_STREAM ||
        r->status < 200 || r->status > 299 || !r->resp)
        return;
    evicted = gw_cache_store(gw->cache, hex, r->status, r->resp, r->resp_len, aitag_now());
    if (evicted > 0)
        gw_metrics_cache(gw->metrics, GW_METRIC_CACHE_EVICTION, (unsigned long long)evicted);
}

int gw_req_local_only(struct aitag_gateway *gw, struct gw_req *r)
{
    /* The connection is suspended while a worker holds r: its headers are not changing. */
    const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Aitag-Local-Only");

    return gw->cfg->local_only || (v && strcmp(v, "1") == 0);
}

int aitag_gateway_port(const struct aitag_gateway *gw)
{
    return gw->port;
}

static void free_backends(struct aitag_gateway *gw)
{
    for (size_t i = 0; gw->backends && i < gw->cfg->n_routes; i++)
        free(gw->backends[i]);
    free(gw->backends);
}

/* True when a route has a local backend (the gateway then tags: tag queue, upload folder). */
static int tags_locally(const struct aitag_gateway_config *cfg)
{
    for (size_t i = 0; i < cfg->n_routes; i++)
        for (size_t j = 0; j < cfg->routes[i].n_backends; j++)
            if (cfg->routes[i].backends[j].kind == AITAG_BACKEND_LOCAL)
                return 1;
    return 0;
}

void aitag_gateway_stop(struct aitag_gateway *gw)
{
    if (!gw)
        return;
    /* The HTTP loops stop taking connections; the workers finish what was queued and resume
     * it; then the loops finish their calls and end; then the daemons stop. */
    pthread_mutex_lock(&gw->qmu);
    __atomic_store_n(&gw->stopping, 1, __ATOMIC_RELEASE); /* the HTTP loops read it unlocked */
    pthread_cond_broadcast(&gw->qcv);
    gw_loops_wake_all(gw);
    pthread_mutex_unlock(&gw->qmu);
    for (int i = 0; i < gw->n_threads; i++)
        pthread_join(gw->threads[i], NULL);
    gw_tag_queue_stop(gw); /* after the workers (they submit), before the loops (they send) */
    pthread_mutex_lock(&gw->qmu);
    __atomic_store_n(&gw->workers_done, 1, __ATOMIC_RELEASE);
    gw_loops_wake_all(gw);
    pthread_mutex_unlock(&gw->qmu);
    for (int i = 0; gw->http && i < gw->n_http; i++)
        if (gw->http[i].started)
            pthread_join(gw->http[i].thread, NULL);
    for (int i = 0; gw->http && i < gw->n_http; i++)
        if (gw->http[i].mhd)
            MHD_stop_daemon(gw->http[i].mhd);
    gw_loops_close(gw); /* after the daemons: their last completions may still wake a loop */
    gw_tag_tmp_close(gw);
    gw_usage_close(gw->usage); /* after the workers: every answered request is written */
    gw_admit_close(gw);        /* after the HTTP thread, its only user */
    gw_key_cache_stop(gw);
    free(gw->threads);
    free_backends(gw);
    free(gw->keys);
    gw_cache_free(gw->cache);
    gw_metrics_free(gw->metrics);
    gw_access_log_flush(gw, 1); /* after the daemons: every completed request's line */
    if (gw->access_log)
        fclose(gw->access_log);
    free(gw->log_buf);
    pthread_mutex_destroy(&gw->qmu);
    pthread_cond_destroy(&gw->qcv);
    pthread_mutex_destroy(&gw->mu);
    pthread_mutex_destroy(&gw->log_mu);
    pthread_mutex_destroy(&gw->key_mu);
    free(gw);
}

int aitag_gateway_start(const struct aitag_gateway_params *p, struct aitag_gateway **out, char *err,
                        size_t errlen)
{
    const struct aitag_gateway_config *cfg = p->cfg;
    struct aitag_gateway *gw = calloc(1, sizeof *gw);
    struct sockaddr_in addr = {0};
    struct sockaddr_in6 addr6 = {0};
    /* no internal thread: the HTTP loops (upstream.c) run the daemons with their upstream calls */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    const struct sockaddr *sa = (const struct sockaddr *)&addr;
    const union MHD_DaemonInfo *info;
    int rc = AITAG_ERR_NOMEM;

    *out = NULL;
    if (!gw)
        return AITAG_ERR_NOMEM;
    gw->keys_watch_fd = gw->keys_stop[0] = gw->keys_stop[1] = -1;
    if (aitag_curl_global_init() < 0) {
        snprintf(err, errlen, "libcurl could not be set up (curl_global_init failed)");
        free(gw);
        return AITAG_ERR_NET;
    }
    gw->p = *p;
    gw->cfg = cfg;
    gw->pid = (unsigned)getpid();
    gw->rng = gw->pid ^ (unsigned)(aitag_now() * 1000.0);
    pthread_mutex_init(&gw->qmu, NULL);
    pthread_cond_init(&gw->qcv, NULL);
    pthread_mutex_init(&gw->mu, NULL);
    pthread_mutex_init(&gw->log_mu, NULL);
    pthread_mutex_init(&gw->key_mu, NULL);
    gw->metrics = gw_metrics_new();
    gw->backends = calloc(cfg->n_routes, sizeof *gw->backends);
    if (!gw->metrics || !gw->backends)
        goto fail;
    if (cfg->cache_max_bytes > 0 &&
        !(gw->cache =
              gw_cache_new(cfg->cache_max_bytes, cfg->cache_max_entry, (double)cfg->cache_ttl_s)))
        goto fail;
    for (size_t i = 0; i < cfg->n_routes; i++) {
        gw->backends[i] = calloc(cfg->routes[i].n_backends, sizeof **gw->backends);
        if (!gw->backends[i])
            goto fail;
        for (size_t j = 0; j < cfg->routes[i].n_backends; j++)
            gw->backends[i][j].cfg = &cfg->routes[i].backends[j];
    }
    if (tags_locally(cfg) && ((rc = gw_tag_tmp_open(gw, err, errlen)) < 0 ||
                              (rc = gw_tag_queue_start(gw, err, errlen)) < 0))
        goto fail;
    rc = AITAG_ERR_NOMEM;
    if (cfg->access_log && !(gw->access_log = fopen(cfg->access_log, "a"))) {
        snprintf(err, errlen, "gateway: cannot open access log %s", cfg->access_log);
        rc = AITAG_ERR_IO;
        goto fail;
    }
    if (gw->access_log) {
        setvbuf(gw->access_log, NULL, _IONBF, 0); /* log_buf batches whole lines */
        if (!(gw->log_buf = malloc(GW_LOG_BUF_BYTES)))
            goto fail;
    }
    if (cfg->keys_db && (rc = gw_usage_open(cfg->keys_db, 1, &gw->usage, err, errlen)) < 0)
        goto fail;
    if ((rc = gw_admit_open(gw, err, errlen)) < 0 || (rc = gw_key_cache_start(gw)) < 0)
        goto fail;
    if ((rc = gw_loops_open(gw, err, errlen)) < 0)
        goto fail;
    rc = AITAG_ERR_NOMEM;
    gw->threads = calloc((size_t)cfg->workers, sizeof *gw->threads);
    if (!gw->threads)
        goto fail;
    for (; gw->n_threads < cfg->workers; gw->n_threads++)
        if (pthread_create(&gw->threads[gw->n_threads], NULL, gw_worker_main, gw) != 0) {
            snprintf(err, errlen, "gateway: cannot start worker threads");
            rc = AITAG_ERR_NOMEM;
            goto fail;
        }
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    addr6.sin6_family = AF_INET6;
    addr6.sin6_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET6, cfg->listen, &addr6.sin6_addr) == 1) {
        /* "::" takes IPv4 clients too (dual stack); any other IPv6 address only IPv6. */
        flags |= IN6_IS_ADDR_UNSPECIFIED(&addr6.sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
        sa = (const struct sockaddr *)&addr6;
    } else if (inet_pton(AF_INET, cfg->listen, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "gateway: bad listen address '%s' (IPv4 or IPv6 expected)",
                 cfg->listen);
        rc = AITAG_ERR_INVALID;
        goto fail;
    }
    /* One daemon per HTTP loop, all on the one port (SO_REUSEPORT: the kernel spreads the
     * connections); the first picks the port when the config says 0. */
    for (int i = 0; i < gw->n_http; i++) {
        struct gw_loop *l = &gw->http[i];
        l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, gw_on_request, gw, MHD_OPTION_SOCK_ADDR, sa,
                                  MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                                  MHD_OPTION_NOTIFY_COMPLETED, gw_on_completed, gw,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                                  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
        if (!l->mhd) {
            snprintf(err, errlen, "gateway: cannot listen on %s:%d", cfg->listen,
                     i ? gw->port : cfg->port);
            rc = AITAG_ERR_NET;
            goto fail;
        }
        if (i == 0) {
            info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_BIND_PORT);
            gw->port = info ? info->port : cfg->port;
            gw->mhd = l->mhd;
            addr.sin_port = htons((uint16_t)gw->port);
            addr6.sin6_port = htons((uint16_t)gw->port);
        }
    }
    for (int i = 0; i < gw->n_http; i++) {
        if (pthread_create(&gw->http[i].thread, NULL, gw_http_main, &gw->http[i]) != 0) {
            snprintf(err, errlen, "gateway: cannot start event loop threads");
            rc = AITAG_ERR_NOMEM;
            goto fail;
        }
        gw->http[i].started = 1;
    }
    aitag_log(AITAG_LOG_INFO, "gateway", "event=listen addr=%s port=%d workers=%d event_loops=%d",
              cfg->listen, gw->port, cfg->workers, gw->n_http);
    *out = gw;
    return 0;
fail:
    if (rc == AITAG_ERR_NOMEM && err[0] == '\0')
        snprintf(err, errlen, "gateway: out of memory");
    aitag_gateway_stop(gw);
    return rc;
}
