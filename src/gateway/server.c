/*
 * server.c - the gateway's HTTP side: libmicrohttpd with one internal epoll thread, and a
 * fixed pool of workers that do everything slow.
 *
 * The HTTP thread only reads headers and bodies, answers /healthz and /metrics from memory, and
 * writes responses. What the headers alone decide is answered before any body byte is held
 * (admit.c: unknown endpoint, method, framing, size, the key by one indexed read, the key's
 * concurrency, the bytes in flight). The HTTP side is event_loops threads, each running its
 * own libmicrohttpd daemon on the shared port and a libcurl multi handle (upstream.c): a
 * request is served on the loop that read it, and its upstream call runs on that loop's multi
 * handle while the loop serves other connections; only /v1/tag goes to the workers. Streams:
 * the loop appends upstream chunks to the request's buffer, and the response's content reader
 * drains it, suspending the connection while the buffer is empty, so a slow upstream never
 * spins or blocks the loop. The buffer is bounded (stream_buffer_bytes): when it is full the
 * upstream transfer pauses, and the reader wakes the loop once half of it has been sent. Each
 * request is logged once, when libmicrohttpd reports it complete (status, latency including the
 * stream).
 */
#include <math.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

struct aitag_gateway_params aitag_gateway_default_params(void)
{
    struct aitag_gateway_params p = {0};
    return p;
}

void gw_reply(struct gw_req *r, int status, const char *ctype, const char *body, size_t len)
{
    char *copy = malloc(len + 1);

    free(r->resp);
    free(r->resp_ctype);
    r->resp = copy;
    r->resp_len = copy ? len : 0;
    if (copy) {
        memcpy(copy, body, len);
        copy[len] = '\0';
    }
    r->resp_ctype = strdup(ctype);
    r->status = copy ? status : 500;
}

void gw_reply_json(struct gw_req *r, int status, json_t *obj)
{
    /* The flags of `aitag tag --json` (src/cli/output.c), so /v1/tag answers byte for byte. */
    char *s =
        obj ? json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6)) : NULL;

    if (s)
        gw_reply(r, status, "application/json", s, strlen(s));
    else
        gw_reply(r, 500, "application/json", "{}", 2);
    free(s);
    json_decref(obj);
}

void gw_error(struct gw_req *r, int status, const char *type, const char *code, const char *fmt,
              ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gw_utf8_scrub(msg); /* it may quote the client's bytes */
    gw_reply_json(r, status,
                  json_pack("{s:{s:s, s:s, s:o}}", "error", "message", msg, "type", type, "code",
                            code ? json_string(code) : json_null()));
}

const struct gw_part *gw_req_part(const struct gw_req *r, const char *name)
{
    for (size_t i = 0; i < r->n_parts; i++)
        if (r->parts[i].name && strcmp(r->parts[i].name, name) == 0)
            return &r->parts[i];
    return NULL;
}

static void req_unref(struct gw_req *r)
{
    int left;

    pthread_mutex_lock(&r->mu);
    left = --r->refs;
    pthread_mutex_unlock(&r->mu);
    if (left > 0)
        return;
    gw_settle(r->gw, r); /* once: the last holder (usually gw_on_completed) settles */
    pthread_mutex_destroy(&r->mu);
    gw_multipart_free(r);
    free(r->auth);
    free(r->ctype);
    free(r->body);
    free(r->resp);
    free(r->resp_ctype);
    free(r->sbuf);
    for (size_t i = 0; i < r->n_parts; i++) {
        free(r->parts[i].name);
        free(r->parts[i].filename);
        free(r->parts[i].ctype);
        free(r->parts[i].data);
    }
    free(r->parts);
    free(r);
}

void gw_req_release(struct gw_req *r)
{
    req_unref(r);
}

void gw_req_resume(struct gw_req *r)
{
    struct gw_loop *home = r->home;

    MHD_resume_connection(r->conn);
    if (home && home == gw_loop_current())
        home->kick = 1; /* its daemon runs again before the loop waits */
    else
        gw_loop_wake(home);
}

void gw_stream_begin(struct gw_req *r, int status, const char *ctype)
{
    pthread_mutex_lock(&r->mu);
    r->status = status;
    free(r->resp_ctype);
    r->resp_ctype = strdup(ctype);
    r->state = REQ_STREAM;
    gw_req_resume(r); /* suspended since it was queued */
    pthread_mutex_unlock(&r->mu);
}

int gw_stream_room(struct gw_req *r)
{
    int rc = 1;

    pthread_mutex_lock(&r->mu);
    if (r->client_gone) {
        rc = -1;
    } else if (r->slen - r->spos >= r->gw->cfg->stream_buffer) {
        r->spaused = 1; /* the reader wakes r->loop when it has drained half */
        rc = 0;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int gw_stream_write(struct gw_req *r, const char *data, size_t len)
{
    int rc = 0;

    pthread_mutex_lock(&r->mu);
    if (r->client_gone) {
        rc = -1;
    } else {
        if (r->slen + len > r->scap && r->spos > 0) { /* move the unread part to the front */
            memmove(r->sbuf, r->sbuf + r->spos, r->slen - r->spos);
            r->slen -= r->spos;
            r->spos = 0;
        }
        if (r->slen + len > r->scap) {
            size_t cap = r->slen + len;
            char *p;
            if (cap < r->gw->cfg->stream_buffer + 16384)
                cap = r->gw->cfg->stream_buffer + 16384;
            if (!(p = realloc(r->sbuf, cap))) {
                rc = -1;
                goto out;
            }
            r->sbuf = p;
            r->scap = cap;
        }
        memcpy(r->sbuf + r->slen, data, len);
        r->slen += len;
        if (r->suspended) {
            r->suspended = 0;
            gw_req_resume(r);
        }
    }
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void gw_stream_end(struct gw_req *r)
{
    pthread_mutex_lock(&r->mu);
    r->sdone = 1;
    if (r->suspended && !r->client_gone) {
        r->suspended = 0;
        gw_req_resume(r);
    }
    pthread_mutex_unlock(&r->mu);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct gw_req *r = cls;
    struct gw_loop *wake = NULL;
    ssize_t n;

    (void)pos;
    pthread_mutex_lock(&r->mu);
    if (r->spos < r->slen) {
        size_t avail = r->slen - r->spos;
        n = (ssize_t)(avail < max ? avail : max);
        memcpy(buf, r->sbuf + r->spos, (size_t)n);
        r->spos += (size_t)n;
        if (r->spos == r->slen)
            r->spos = r->slen = 0;
        if (r->spaused && r->slen - r->spos <= r->gw->cfg->stream_buffer / 2) {
            r->spaused = 0; /* the upstream transfer may go on */
            wake = r->loop;
        }
    } else if (r->sdone) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        r->suspended = 1; /* the worker resumes on the next chunk or the end */
        MHD_suspend_connection(r->conn);
        n = 0;
    }
    pthread_mutex_unlock(&r->mu);
    gw_loop_wake(wake);
    return n;
}

static enum MHD_Result send_answer(struct gw_req *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ok;
    char ra[32];

    if (r->state == REQ_STREAM)
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, r, NULL);
    else
        resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            r->resp_ctype ? r->resp_ctype : "application/json");
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    if (r->retry_after > 0) {
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (r->state == REQ_STREAM)
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
    if (r->cache)
        MHD_add_response_header(resp, "X-Cache", r->cache == GW_CACHE_HIT ? "HIT" : "MISS");
    ok = MHD_queue_response(r->conn, (unsigned)(r->status ? r->status : 500), resp);
    MHD_destroy_response(resp);
    return ok;
}

/* Queues r: on this thread's event loop (upstream.c) when it runs one, without a hand-off to
 * another thread; /v1/tag (inference, which blocks) for a worker. Returns -1 when the workers'
 * queue is full (the caller answers 503). */
static int enqueue(struct aitag_gateway *gw, struct gw_req *r)
{
    struct gw_loop *l = gw_loop_current();

    r->home = l;
    if (l && l->mhd && r->ep->on_worker == GW_RUN_LOOP) {
        pthread_mutex_lock(&r->mu);
        r->refs++;
        r->state = REQ_QUEUED;
        pthread_mutex_unlock(&r->mu);
        MHD_suspend_connection(r->conn);
        if (l->local_tail)
            l->local_tail->next = r;
        else
            l->local_head = r;
        l->local_tail = r;
        return 0;
    }
    pthread_mutex_lock(&gw->qmu);
    if (gw->qlen >= (size_t)gw->cfg->workers * 64) {
        pthread_mutex_unlock(&gw->qmu);
        return -1;
    }
    gw->qlen++;
    pthread_mutex_unlock(&gw->qmu);
    pthread_mutex_lock(&r->mu);
    r->refs++;
    r->state = REQ_QUEUED;
    pthread_mutex_unlock(&r->mu);
    MHD_suspend_connection(r->conn);
    pthread_mutex_lock(&gw->qmu);
    if (gw->qtail)
        gw->qtail->next = r;
    else
        gw->qhead = r;
    gw->qtail = r;
    gw_loops_wake_one(gw);
    pthread_mutex_unlock(&gw->qmu);
    return 0;
}

/* The body is in: answers on this thread (health, metrics) or queues r for a worker. The
 * endpoint and its method were checked at header time (gw_on_request). */
static enum MHD_Result dispatch(struct aitag_gateway *gw, struct gw_req *r)
{
    if (!r->ep->on_worker) {
        r->ep->handler(gw, r, NULL);
    } else {
        if (enqueue(gw, r) == 0)
            return MHD_YES;
        gw_error(r, 503, "server_error", "overloaded", "too many requests in flight");
        r->retry_after = 1;
    }
    r->state = REQ_DONE;
    return send_answer(r);
}

static struct gw_req *req_new(struct aitag_gateway *gw, struct MHD_Connection *conn,
                              const char *url, const char *method)
{
    struct gw_req *r = calloc(1, sizeof *r);
    const char *v;
    unsigned long long id;

    if (!r)
        return NULL;
    pthread_mutex_init(&r->mu, NULL);
    r->refs = 1;
    r->gw = gw;
    r->conn = conn;
    r->start = aitag_now();
    r->key_id = -1;
    r->key.id = -1;
    r->ep = gw_endpoint_find(url);
    snprintf(r->url, sizeof r->url, "%s", url);
    snprintf(r->method, sizeof r->method, "%s", method);
    /* Atomic: the event loop never waits on gw->mu, which workers take several times a call. */
    id = __atomic_add_fetch(&gw->next_id, 1, __ATOMIC_RELAXED);
    snprintf(r->id, sizeof r->id, "req-%x-%llu", gw->pid, id);
    if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization")))
        r->auth = strdup(v);
    if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type")))
        r->ctype = strdup(v);
    return r;
}

enum MHD_Result gw_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct aitag_gateway *gw = cls;
    struct gw_req *r = *con_cls;
    const char *cl;

    (void)version;
    if (!r) {
        r = req_new(gw, conn, url, method);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        /* Everything decided from the headers is answered now, before any body byte is
         * held: the client may stop sending. */
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (!r->ep)
            gw_error(r, 404, "invalid_request_error", "not_found", "no such endpoint");
        else if (strcmp(r->ep->method, method) != 0)
            gw_error(r, 405, "invalid_request_error", "method_not_allowed", "method %s not allowed",
                     r->method);
        else if (cl && strtoull(cl, NULL, 10) > gw->cfg->max_body)
            gw_error(r, 413, "invalid_request_error", "body_too_large",
                     "request body over %zu bytes", gw->cfg->max_body);
        if (r->status || gw_admit_headers(gw, r) < 0) {
            r->state = REQ_DONE;
            return send_answer(r);
        }
        if (gw_is_multipart(r))
            gw_multipart_begin(r);
        return MHD_YES;
    }
    if (r->state == REQ_RECEIVING) {
        if (*upload_size) {
            size_t n = *upload_size;
            *upload_size = 0;
            if (!r->too_large && r->body_len + n > gw->cfg->max_body)
                r->too_large = 1;
            else if (!r->too_large && gw_admit_body(gw, r, n) < 0)
                r->too_large = 2; /* over max_inflight_bytes: 503 at the end */
            if (r->too_large)
                return MHD_YES;
            if (r->body_len + n + 1 > r->body_cap) {
                size_t cap = (r->body_len + n + 1) * 2;
                char *p = realloc(r->body, cap);
                if (!p)
                    return MHD_NO;
                r->body = p;
                r->body_cap = cap;
            }
            memcpy(r->body + r->body_len, upload, n);
            r->body_len += n;
            r->body[r->body_len] = '\0';
            gw_multipart_feed(r, upload, n);
            return MHD_YES;
        }
        if (r->too_large == 2) {
            gw_error(r, 503, "server_error", "overloaded",
                     "request bodies in flight over max_inflight_bytes (%zu bytes)",
                     gw->cfg->max_inflight_bytes);
            r->retry_after = 1;
            r->state = REQ_DONE;
            return send_answer(r);
        }
        if (r->too_large) {
            gw_error(r, 413, "invalid_request_error", "body_too_large",
                     "request body over %zu bytes", gw->cfg->max_body);
            r->state = REQ_DONE;
            return send_answer(r);
        }
        if (gw_is_multipart(r) && gw_multipart_end(r) < 0) {
            gw_error(r, 400, "invalid_request_error", "invalid_multipart",
                     "malformed multipart/form-data body (boundary missing or wrong, or the "
                     "body ends early)");
            r->state = REQ_DONE;
            return send_answer(r);
        }
        return dispatch(gw, r);
    }
    if (r->state == REQ_DONE || r->state == REQ_STREAM)
        return send_answer(r);
    return MHD_YES; /* still queued */
}

/* Bounded appender for the access log line. */
struct line {
    char *p;
    size_t len, cap;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->len + n < l->cap) {
        memcpy(l->p + l->len, s, n);
        l->len += n;
    } else {
        l->len = l->cap; /* marks it cut: not written */
    }
}

/* "key":"value" with value JSON-escaped (invalid UTF-8 bytes become U+FFFD). */
static void put_str(struct line *l, const char *key, const char *v)
{
    char esc[8];

    put(l, ",\"", 2);
    put(l, key, strlen(key));
    put(l, "\":\"", 3);
    for (const unsigned char *s = (const unsigned char *)v; *s;) {
        size_t n = gw_utf8_len(s);
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*s;
            put(l, esc, 2);
        } else if (*s < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *s);
            put(l, esc, 6);
        } else if (n == 0) {
            put(l, "\\ufffd", 6);
            n = 1;
        } else {
            put(l, (const char *)s, n);
        }
        s += n ? n : 1;
    }
    put(l, "\"", 1);
}

static void put_num(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_num(struct line *l, const char *fmt, ...)
{
    char buf[96];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(l, buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0);
}

/* The access log line with payloads (redact.c builds them as JSON values). */
static char *access_json(struct gw_req *r, double latency)
{
    json_t *o = json_pack("{s:f, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:i, s:f, s:I, s:I, s:f}", "ts",
                          (double)time(NULL), "request_id", r->id, "method", r->method, "path",
                          r->url, "key_id", (json_int_t)r->key_id, "route", r->route, "backend",
                          r->backend, "model", r->model, "status", r->status, "latency_ms",
                          latency * 1000.0, "prompt_tokens", (json_int_t)r->prompt_tokens,
                          "completion_tokens", (json_int_t)r->completion_tokens, "cost", r->cost);
    char *line;

    if (o && r->key_id < 0)
        json_object_set_new(o, "key_id", json_null());
    if (o && r->cache)
        json_object_set_new(o, "cache", json_string(r->cache == GW_CACHE_HIT ? "hit" : "miss"));
    /* Redacted and cut (redact.c); never a header, so never the Authorization key. */
    if (o && r->body_len)
        json_object_set_new(o, "request_body", gw_redact_payload(r->body, r->body_len, 4096));
    if (o && r->state != REQ_STREAM && r->resp_len)
        json_object_set_new(o, "response_body", gw_redact_payload(r->resp, r->resp_len, 4096));
    line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return line;
}

/* Writes the pending lines (log_mu held): one write(2), whole lines, so a reader of the file
 * never sees half a line. */
static void log_write(struct aitag_gateway *gw)
{
    if (gw->log_len)
        fwrite(gw->log_buf, 1, gw->log_len, gw->access_log);
    gw->log_len = 0;
    __atomic_store_n(&gw->log_due_ms, 0, __ATOMIC_RELEASE);
}

/* One JSON object per line, kept in memory for at most GW_LOG_FLUSH_MS and written in one
 * system call with the others of that time (a crash loses at most those). Without payloads it is
 * formatted directly (the same fields and escaping as the json_t version, a fraction of the
 * allocations): most requests take this. */
static void access_log(struct aitag_gateway *gw, struct gw_req *r, double latency)
{
    char buf[8192], *dyn = NULL;
    struct line l = {buf, 0, sizeof buf};

    if (!gw->access_log)
        return;
    if (gw->cfg->log_payloads) {
        if (!(dyn = access_json(r, latency)))
            return;
        l.p = dyn;
        l.len = strlen(dyn);
        l.cap = l.len + 1;
    } else {
        put_num(&l, "{\"ts\":%lld.0", (long long)time(NULL));
        put_str(&l, "request_id", r->id);
        put_str(&l, "method", r->method);
        put_str(&l, "path", r->url);
        if (r->key_id < 0)
            put_num(&l, ",\"key_id\":null");
        else
            put_num(&l, ",\"key_id\":%lld", r->key_id);
        put_str(&l, "route", r->route);
        put_str(&l, "backend", r->backend);
        put_str(&l, "model", r->model);
        put_num(&l, ",\"status\":%d,\"latency_ms\":%.3f,\"prompt_tokens\":%ld", r->status,
                latency * 1000.0, r->prompt_tokens);
        put_num(&l, ",\"completion_tokens\":%ld,\"cost\":%.17g", r->completion_tokens,
                isfinite(r->cost) ? r->cost : 0.0);
        if (r->cache)
            put_str(&l, "cache", r->cache == GW_CACHE_HIT ? "hit" : "miss");
        put(&l, "}", 1);
    }
    if (l.len < l.cap) {
        l.p[l.len++] = '\n'; /* l.len < l.cap: room for it (the NUL's place) */
        pthread_mutex_lock(&gw->log_mu);
        if (gw->log_len + l.len > GW_LOG_BUF_BYTES)
            log_write(gw);
        if (l.len > GW_LOG_BUF_BYTES) {
            fwrite(l.p, 1, l.len, gw->access_log);
        } else {
            memcpy(gw->log_buf + gw->log_len, l.p, l.len);
            gw->log_len += l.len;
            if (!__atomic_load_n(&gw->log_due_ms, __ATOMIC_RELAXED)) {
                /* this loop wakes to write them (upstream.c's http_wait) */
                __atomic_store_n(&gw->log_owner, gw_loop_current(), __ATOMIC_RELEASE);
                __atomic_store_n(&gw->log_due_ms,
                                 (long long)(aitag_now() * 1000.0) + GW_LOG_FLUSH_MS,
                                 __ATOMIC_RELEASE);
            }
        }
        pthread_mutex_unlock(&gw->log_mu);
    }
    free(dyn);
}

void gw_access_log_flush(struct aitag_gateway *gw, int force)
{
    long long due = __atomic_load_n(&gw->log_due_ms, __ATOMIC_ACQUIRE);

    if (!due || (!force && (long long)(aitag_now() * 1000.0) < due))
        return;
    pthread_mutex_lock(&gw->log_mu);
    log_write(gw);
    pthread_mutex_unlock(&gw->log_mu);
}

void gw_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                     enum MHD_RequestTerminationCode toe)
{
    struct aitag_gateway *gw = cls;
    struct gw_req *r = *con_cls;
    struct gw_loop *loop;
    double latency;

    (void)conn;
    (void)toe;
    if (!r)
        return;
    latency = aitag_now() - r->start;
    gw_metrics_request(gw->metrics, gw_endpoint_label(r), r->status, latency);
    access_log(gw, r, latency);
    pthread_mutex_lock(&r->mu);
    r->client_gone = 1;
    loop = r->spaused ? r->loop : NULL; /* a paused stream's call ends now, not at its timeout */
    pthread_mutex_unlock(&r->mu);
    gw_loop_wake(loop);
    *con_cls = NULL;
    req_unref(r);
}

static void handle(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    r->ep->handler(gw, r, w); /* endpoints.c; usage is settled once, by gw_settle */
}

/* The worker's part after handle(): answers r unless an upstream call took it over. */
void gw_serve(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    handle(gw, r, w);
    if (r->async)
        return; /* the call (proxy.c) answers, resumes and releases r */
    pthread_mutex_lock(&r->mu);
    /* REQ_TAG: a tagging thread answers it (tag_queue.c), maybe already has */
    if (r->state == REQ_QUEUED) {
        if (!r->status)
            gw_error(r, 500, "server_error", NULL, "no answer");
        r->state = REQ_DONE;
        gw_req_resume(r);
    }
    pthread_mutex_unlock(&r->mu);
    req_unref(r);
}

/* A worker is an event loop (upstream.c): it serves queued requests, a few at a time so that
 * running calls keep moving, drives its upstream calls, and sleeps in its epoll wait when
 * there is nothing to do. It stops once asked to and its last call has ended. */
void *gw_worker_main(void *arg)
{
    struct aitag_gateway *gw = arg;
    struct gw_worker_ctx w = {0};
    char err[256];

    w.loop = &gw->loops[__atomic_fetch_add(&gw->loops_taken, 1, __ATOMIC_RELAXED)];
    if (gw->cfg->keys_db && gw_keys_open(gw->cfg->keys_db, &w.db, err, sizeof err) < 0)
        aitag_log(AITAG_LOG_ERROR, "gateway", "event=keys_db_open %s", err);
    for (;;) {
        int served = 0, stop, sleep;
        while (served < 16) {
            struct gw_req *r;
            pthread_mutex_lock(&gw->qmu);
            r = gw->qhead;
            if (r) {
                gw->qlen--;
                gw->qhead = r->next;
                if (!gw->qhead)
                    gw->qtail = NULL;
            }
            pthread_mutex_unlock(&gw->qmu);
            if (!r)
                break;
            gw_serve(gw, r, &w);
            served++;
        }
        gw_loop_turn(gw, w.loop);
        if (served == 16)
            continue;
        pthread_mutex_lock(&gw->qmu);
        stop = gw->stopping && !w.loop->xfers && !gw->qhead;
        sleep = !stop && !gw->qhead;
        if (sleep)
            w.loop->idle = 1; /* a waker clears it (under qmu) and wakes the poll */
        pthread_mutex_unlock(&gw->qmu);
        if (stop)
            break;
        if (sleep)
            gw_loop_sleep(gw, w.loop);
    }
    gw_keys_worker_release(&w);
    sqlite3_close(w.db);
    return NULL;
}
