/*
 * gateway.c - start and stop: backends' runtime state, the worker pool, the HTTP daemon.
 *
 * Stop order matters with suspended connections: workers finish (and resume) every queued
 * request first, then the daemon stops, so libmicrohttpd never holds a suspended connection
 * at shutdown.
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int aitag_gateway_port(const struct aitag_gateway *gw)
{
    return gw->port;
}

static void free_backends(struct aitag_gateway *gw)
{
    for (size_t i = 0; gw->backends && i < gw->cfg->n_routes; i++) {
        for (size_t j = 0; gw->backends[i] && j < gw->cfg->routes[i].n_backends; j++) {
            aitag_tagger_free(gw->backends[i][j].tagger);
            pthread_mutex_destroy(&gw->backends[i][j].tag_mu);
        }
        free(gw->backends[i]);
    }
    free(gw->backends);
}

void aitag_gateway_stop(struct aitag_gateway *gw)
{
    if (!gw)
        return;
    if (gw->mhd)
        MHD_quiesce_daemon(gw->mhd);
    pthread_mutex_lock(&gw->qmu);
    gw->stopping = 1;
    pthread_cond_broadcast(&gw->qcv);
    pthread_mutex_unlock(&gw->qmu);
    for (int i = 0; i < gw->n_threads; i++)
        pthread_join(gw->threads[i], NULL);
    if (gw->mhd)
        MHD_stop_daemon(gw->mhd);
    free(gw->threads);
    free_backends(gw);
    free(gw->buckets);
    gw_metrics_free(gw->metrics);
    if (gw->access_log)
        fclose(gw->access_log);
    pthread_mutex_destroy(&gw->qmu);
    pthread_cond_destroy(&gw->qcv);
    pthread_mutex_destroy(&gw->mu);
    pthread_mutex_destroy(&gw->log_mu);
    free(gw);
}

int aitag_gateway_start(const struct aitag_gateway_params *p, struct aitag_gateway **out, char *err,
                        size_t errlen)
{
    const struct aitag_gateway_config *cfg = p->cfg;
    struct aitag_gateway *gw = calloc(1, sizeof *gw);
    struct sockaddr_in addr = {0};
    const union MHD_DaemonInfo *info;
    int rc = AITAG_ERR_NOMEM;

    *out = NULL;
    if (!gw)
        return AITAG_ERR_NOMEM;
    pthread_once(&curl_once, curl_init_once);
    gw->p = *p;
    gw->cfg = cfg;
    gw->rng = (unsigned)getpid() ^ (unsigned)(aitag_now() * 1000.0);
    pthread_mutex_init(&gw->qmu, NULL);
    pthread_cond_init(&gw->qcv, NULL);
    pthread_mutex_init(&gw->mu, NULL);
    pthread_mutex_init(&gw->log_mu, NULL);
    gw->metrics = gw_metrics_new();
    gw->backends = calloc(cfg->n_routes, sizeof *gw->backends);
    if (!gw->metrics || !gw->backends)
        goto fail;
    for (size_t i = 0; i < cfg->n_routes; i++) {
        gw->backends[i] = calloc(cfg->routes[i].n_backends, sizeof **gw->backends);
        if (!gw->backends[i])
            goto fail;
        for (size_t j = 0; j < cfg->routes[i].n_backends; j++) {
            gw->backends[i][j].cfg = &cfg->routes[i].backends[j];
            pthread_mutex_init(&gw->backends[i][j].tag_mu, NULL);
        }
    }
    if (cfg->access_log && !(gw->access_log = fopen(cfg->access_log, "a"))) {
        snprintf(err, errlen, "gateway: cannot open access log %s", cfg->access_log);
        rc = AITAG_ERR_IO;
        goto fail;
    }
    if (cfg->keys_db) {
        sqlite3 *db;
        if ((rc = gw_keys_open(cfg->keys_db, &db, err, errlen)) < 0)
            goto fail;
        sqlite3_close(db);
    }
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
    if (inet_pton(AF_INET, cfg->listen, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "gateway: bad listen address '%s' (IPv4 expected)", cfg->listen);
        rc = AITAG_ERR_INVALID;
        goto fail;
    }
    gw->mhd =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                             MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                         0, NULL, NULL, gw_on_request, gw, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_NOTIFY_COMPLETED, gw_on_completed, gw,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)4096, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!gw->mhd) {
        snprintf(err, errlen, "gateway: cannot listen on %s:%d", cfg->listen, cfg->port);
        rc = AITAG_ERR_NET;
        goto fail;
    }
    info = MHD_get_daemon_info(gw->mhd, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = info ? info->port : cfg->port;
    aitag_log(AITAG_LOG_INFO, "gateway", "event=listen addr=%s port=%d workers=%d", cfg->listen,
              gw->port, cfg->workers);
    *out = gw;
    return 0;
fail:
    if (rc == AITAG_ERR_NOMEM && err[0] == '\0')
        snprintf(err, errlen, "gateway: out of memory");
    aitag_gateway_stop(gw);
    return rc;
}
