/* gateway_int.h - internals shared by the gateway's files (server, proxy, keys, tag, metrics). */
#ifndef AITAG_GATEWAY_INT_H
#define AITAG_GATEWAY_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>

#include "aitag/gateway.h"

struct MHD_Connection;
struct MHD_Daemon;
struct MHD_PostProcessor;

/* Circuit breaker of one backend: closed -> open after N consecutive failures -> half-open
 * (one probe) after the cool-down -> closed on success, open again on failure. */
enum { BREAKER_CLOSED = 0, BREAKER_OPEN = 1, BREAKER_HALF_OPEN = 2 };

struct gw_breaker {
    int state, failures, probing;
    double opened_at; /* seconds (aitag_now) */
};

/* Decision helpers, pure so the unit test can drive them with a fake clock. */
int gw_breaker_allow(struct gw_breaker *b, double now, double cooldown);
void gw_breaker_result(struct gw_breaker *b, int ok, int threshold, double now);

struct gw_backend {
    const struct aitag_gateway_backend *cfg;
    struct gw_breaker br;        /* guarded by gw->mu */
    int inflight;                /* guarded by gw->mu */
    struct aitag_tagger *tagger; /* local: created on first use, guarded by tag_mu */
    pthread_mutex_t tag_mu;
    /* the tagger's on_item context: the answer of the run in flight, guarded by tag_mu */
    aitag_item_json_fn tag_fn;
    json_t *tag_obj;
    int tag_failed;
};

/* Token bucket: capacity rpm, refilled at rpm/60 per second. Returns 0 when a token was
 * taken, or the seconds to wait (>= 1) before one is there. */
struct gw_bucket {
    long long key_id;
    double tokens, last;
};
int gw_bucket_take(struct gw_bucket *b, int rpm, double now);

/* Tokens per minute: tokens are known only after the answer, so a request is admitted while
 * the bucket is above 0 and the answer's tokens are charged afterwards (it may go negative).
 * Capacity tpm, refilled at tpm/60 per second. admit returns 0, or the seconds (>= 1) until
 * the bucket is positive again. */
struct gw_tpm_bucket {
    double tokens, last;
};
int gw_tpm_admit(struct gw_tpm_bucket *b, int tpm, double now);
void gw_tpm_charge(struct gw_tpm_bucket *b, int tpm, long tokens, double now);

/* Budget periods ("day", "month"; UTC calendar): writes the first day of the period holding
 * now as "YYYY-MM-DD" into start and returns the seconds left until the period ends. */
long gw_budget_period(const char *period, long long now, char start[16]);

/* One key's in-memory limit state, found by key id (guarded by gw->mu). */
struct gw_key_state {
    long long key_id;
    struct gw_bucket rpm;
    struct gw_tpm_bucket tpm;
    int tpm_limit; /* as last read from the key store */
};

struct gw_metrics;
struct gw_metrics *gw_metrics_new(void);
void gw_metrics_free(struct gw_metrics *m);
void gw_metrics_request(struct gw_metrics *m, const char *route, int status, double seconds);
void gw_metrics_upstream_error(struct gw_metrics *m, const char *backend, const char *reason);
/* Prometheus text; caller frees. */
char *gw_metrics_render(struct gw_metrics *m);
enum { GW_METRIC_CACHE_HIT = 0, GW_METRIC_CACHE_MISS, GW_METRIC_CACHE_EVICTION };
void gw_metrics_cache(struct gw_metrics *m, int what, unsigned long long n);

/* cache.c: an in-memory, exact-match answer cache; LRU by bytes, entries expire after ttl
 * seconds. Thread-safe. The clocked calls are the pure core (the unit test's fake clock). */
struct gw_cache;
struct gw_cache *gw_cache_new(size_t max_bytes, size_t max_entry, double ttl);
void gw_cache_free(struct gw_cache *c);
/* Copies a fresh entry's answer out (*body malloc'd, caller frees); 1 on a hit, 0 on a miss. */
int gw_cache_lookup(struct gw_cache *c, const char *key, double now, int *status, char **body,
                    size_t *len);
/* Stores a copy; returns how many entries were evicted to make room (-1: not stored). */
int gw_cache_store(struct gw_cache *c, const char *key, int status, const char *body, size_t len,
                   double now);
size_t gw_cache_bytes(struct gw_cache *c);

/* One part of a multipart/form-data body (filled by the HTTP thread while the body arrives). */
struct gw_part {
    char *name, *filename, *ctype; /* filename/ctype may be NULL */
    char *data;                    /* NUL-terminated for convenience; len bytes */
    size_t len;
};

/* One request, from the first header to the last byte sent. Shared by the HTTP thread and one
 * worker; refs counts them and the last one frees it. */
struct gw_req {
    struct aitag_gateway *gw;
    struct MHD_Connection *conn;
    char method[16], url[256], id[40];
    char *auth, *ctype;
    char *body;
    size_t body_len, body_cap;
    int too_large;
    struct gw_part *parts; /* multipart/form-data fields, in body order; NULL otherwise */
    size_t n_parts;
    struct MHD_PostProcessor *pp; /* multipart parser while the body arrives (HTTP thread) */
    int mp_bad;                   /* the multipart body is malformed */
    double start;
    int state; /* REQ_* */
    int refs;  /* guarded by mu */
    /* answer (written by the worker before it resumes the connection) */
    int status, retry_after;
    char *resp, *resp_ctype;
    size_t resp_len;
    /* stream: the worker appends, the HTTP thread's reader drains; guarded by mu */
    pthread_mutex_t mu;
    char *sbuf;
    size_t slen, scap, spos;
    int sdone, suspended, client_gone;
    /* access log fields */
    long long key_id;
    char route[128], backend[128], model[128];
    long prompt_tokens, completion_tokens;
    double cost;
    double media_seconds; /* /v1/tag: duration of the media tagged (0 for an image) */
    long frames;          /* /v1/tag: frames the models ran on here (0: the catalog had it) */
    int cache;            /* GW_CACHE_*: whether the answer came from the response cache */
    struct gw_req *next;  /* job queue link */
    /* Part PIPE: the upstream call (proxy.c, upstream.c) */
    struct gw_loop *loop; /* the event loop running r's upstream call; set before streaming */
    struct gw_loop *home; /* the HTTP loop whose daemon holds the connection (set when queued) */
    int async;            /* an upstream call owns the worker's reference and answers r */
    int spaused;          /* stream: the writer waits for room (guarded by mu) */
    char cache_key[65];   /* the response cache key of a miss, stored when the call ends */
};

enum { REQ_RECEIVING = 0, REQ_QUEUED, REQ_DONE, REQ_STREAM };
enum { GW_CACHE_NONE = 0, GW_CACHE_MISS = 1, GW_CACHE_HIT = 2 };

struct gw_worker_ctx {
    sqlite3 *db;          /* this worker's keys connection (reads only), NULL without keys_db */
    struct gw_loop *loop; /* this worker's upstream event loop (upstream.c) */
    /* keys.c: statements on db, prepared on first use and kept (gw_keys_worker_release) */
    sqlite3_stmt *key_st, *spent_st;
};

/* usage.c: usage sums in memory, flushed to gateway_usage by one thread in batches (at most
 * every 25 ms, and at close). Thread-safe. open: thread 0 starts no flush thread (tests then
 * call gw_usage_flush). close flushes what is pending and frees; NULL is a no-op. */
struct gw_usage;
int gw_usage_open(const char *path, int thread, struct gw_usage **out, char *err, size_t errlen);
void gw_usage_close(struct gw_usage *u);
/* Adds one answered request (r's key, route, model, tokens, cost) to today's row. */
void gw_usage_add(struct gw_usage *u, const struct gw_req *r);
/* Writes every pending row in one transaction now; 0, or -1 (the rows stay pending). */
int gw_usage_flush(struct gw_usage *u);
/* The key's cost since day start: sum (a prepared "SELECT SUM(cost) ... key_id = ?1 AND
 * day >= ?2" on the caller's connection, reset afterwards) plus the rows not yet committed.
 * -1 on a database error. */
double gw_usage_spent(struct gw_usage *u, sqlite3_stmt *sum, long long key_id, const char *start);

struct aitag_gateway {
    struct aitag_gateway_params p;
    const struct aitag_gateway_config *cfg;
    struct MHD_Daemon *mhd;
    int port;
    /* worker pool and its queue */
    pthread_t *threads;
    int n_threads;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct gw_req *qhead, *qtail;
    size_t qlen; /* bounded: workers * 64, then 503 */
    int stopping;
    /* backends per route, parallel to cfg->routes */
    struct gw_backend **backends;
    pthread_mutex_t mu; /* breakers, in-flight counts, key states, rng */
    struct gw_key_state *keys;
    size_t n_keys;
    struct gw_cache *cache; /* NULL when the config has none */
    unsigned rng;
    struct gw_metrics *metrics;
    FILE *access_log;
    pthread_mutex_t log_mu;
    unsigned long long next_id; /* atomic (request ids) */
    unsigned pid;               /* getpid() at start, for request ids */
    struct gw_usage *usage;     /* NULL without keys_db */
    /* Part PIPE: one upstream event loop per worker (upstream.c) */
    struct gw_loop *loops;
    int n_loops, loops_taken, wake_next; /* loops_taken atomic; wake_next guarded by qmu */
    struct gw_loop *http;                /* the HTTP loops (event_loops), each with its daemon */
    int n_http;
    int workers_done; /* atomic: the workers have ended (the HTTP loops may stop) */
};

/* gateway.c: response cache for the handlers. gw_cache_key writes the key of (route,
 * endpoint, canonical body) into hex and returns 0, or -1 when the gateway has no cache.
 * gw_cache_get answers r from the cache and returns 1, or marks r a miss and returns 0;
 * gw_cache_put stores r's answer when it was a 2xx miss (never streams). */
int gw_cache_key(struct aitag_gateway *gw, const char *route, const char *endpoint, json_t *body,
                 char hex[65]);
int gw_cache_get(struct aitag_gateway *gw, const char *hex, struct gw_req *r);
void gw_cache_put(struct aitag_gateway *gw, const char *hex, struct gw_req *r);
/* True for a chat completion whose answer is reproducible: not streamed, temperature 0. */
int gw_chat_deterministic(json_t *body);
/* gateway.c: true when the request carries "X-Aitag-Local-Only: 1" (or the config is
 * local_only): only loopback backends may answer it. */
int gw_req_local_only(struct aitag_gateway *gw, struct gw_req *r);

/* redact.c: the access log's copy of a payload: JSON with secrets, image_base64 and data:
 * URLs replaced by "[redacted N bytes]", cut to max bytes; "[binary N bytes]" otherwise.
 * Returns a new JSON string (the caller owns the reference; NULL when out of memory). */
json_t *gw_redact_payload(const char *body, size_t len, size_t max);

/* server.c: the multipart field called name, or NULL. Borrowed from r. */
const struct gw_part *gw_req_part(const struct gw_req *r, const char *name);

/* server.c: answers. */
void gw_reply(struct gw_req *r, int status, const char *ctype, const char *body, size_t len);
void gw_reply_json(struct gw_req *r, int status, json_t *obj); /* steals obj */
void gw_error(struct gw_req *r, int status, const char *type, const char *code, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));
/* server.c: stream plumbing for the proxy. gw_stream_begin commits the status and resumes the
 * connection. gw_stream_room: 1 when the buffer is below its cap (stream_buffer_bytes), 0 when
 * it is full (then the writer pauses: the reader wakes r->loop once it drained half of it), -1
 * when the client has gone. gw_stream_write appends (a writer checks room first, so the buffer
 * never holds more than the cap plus one write); -1 when the client has gone. */
void gw_stream_begin(struct gw_req *r, int status, const char *ctype);
int gw_stream_room(struct gw_req *r);
int gw_stream_write(struct gw_req *r, const char *data, size_t len);
void gw_stream_end(struct gw_req *r);

/* proxy.c: sends body (a JSON object, modified per backend) to the route's backends with
 * failover; answers r. path is below the OpenAI base, e.g. "/chat/completions". The call runs
 * on w's event loop: when it started, r->async is set and the call owns the worker's reference
 * to r (it answers, resumes and releases r when it ends, stores a 2xx in the cache under
 * r->cache_key and records usage); otherwise r holds its error answer when this returns. */
void gw_proxy(struct aitag_gateway *gw, struct gw_req *r, size_t route_idx, const char *path,
              json_t *body, int stream, struct gw_worker_ctx *w);
/* proxy.c: the order in which to try backends: by priority, weighted random within one.
 * Writes indexes into order (room for AITAG_GATEWAY_MAX_BACKENDS); returns how many may be
 * tried now (breaker closed, or open past its cool-down). */
size_t gw_pick_order(struct aitag_gateway *gw, size_t route_idx, size_t *order, double now);

/* proxy.c: body (len bytes of one valid JSON object, as jansson accepted it) with its
 * top-level "model" string value replaced by model, JSON-escaped, so that a rewrite costs no
 * parse-and-serialise of the whole body; *out_len is the result's length. NULL when the bytes
 * do not allow it safely (no "model", several, a non-string one, an escaped key name): the
 * caller then serialises the parsed object. Pure; the caller frees. */
char *gw_splice_model(const char *body, size_t len, const char *model, size_t *out_len);
/* proxy.c: POST /v1/embeddings (JSON body, route = "model"), proxied like chat. */
void gw_handle_embeddings(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w);
/* ---- Part PIPE: upstream event loops (upstream.c), calls (proxy.c), charging (charge.c) ----
 * One loop per worker: the worker serves queued requests, and the upstream calls they start
 * run on its libcurl multi handle; it sleeps in curl_multi_poll, woken (curl_multi_wakeup) by
 * new work, a stream reader that drained a paused stream, or a client that left. */
/* server.c: drops a reference to r (the last one frees it). */
void gw_req_release(struct gw_req *r);
/* server.c: resumes r's connection (call with r->mu held) and makes its HTTP loop run it. */
void gw_req_resume(struct gw_req *r);
struct gw_xfer;
struct gw_loop {
    CURLM *multi;
    struct gw_xfer *xfers; /* calls in flight or waiting to retry (the loop's thread only) */
    CURL *spare[32];       /* easy handles kept for reuse (the loop's thread only) */
    int n_spare;
    int idle; /* asleep in curl_multi_poll; guarded by gw->qmu */
    /* an HTTP loop: its own libmicrohttpd daemon (SO_REUSEPORT on the one port), run here */
    struct aitag_gateway *gw;
    struct MHD_Daemon *mhd;
    pthread_t thread;
    int started;
    struct gw_req *local_head, *local_tail; /* requests to serve on this loop (its thread) */
    int kick; /* a connection was resumed from this thread: run the daemon before waiting */
};
int gw_loops_open(struct aitag_gateway *gw, char *err, size_t errlen);
/* The HTTP loops' thread: runs l->mhd, serves its requests, drives its upstream calls. */
void *gw_http_main(void *arg);
/* The loop the calling thread runs (NULL on other threads). */
struct gw_loop *gw_loop_current(void);
/* server.c: serves one queued request on a loop thread (handle, then answer unless async). */
void gw_serve(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w);
void gw_loops_close(struct aitag_gateway *gw);
/* Wakes one idle loop for new queued work (call with gw->qmu held), or every loop. */
void gw_loops_wake_one(struct aitag_gateway *gw);
void gw_loops_wake_all(struct aitag_gateway *gw);
void gw_loop_wake(struct gw_loop *l);
CURL *gw_loop_easy(struct gw_loop *l);
void gw_loop_easy_put(struct gw_loop *l, CURL *h);
/* One turn: drives the transfers, ends finished calls, unpauses drained streams, starts due
 * retries. Then gw_loop_sleep waits (idle) until there is something to do. */
void gw_loop_turn(struct aitag_gateway *gw, struct gw_loop *l);
void gw_loop_sleep(struct aitag_gateway *gw, struct gw_loop *l);
/* proxy.c, for the loop: the transfer of x ended with cc; x is paused and may go on (or its
 * client left); the time x waits for (0: none), and starting x's due retry. */
void gw_xfer_done(struct gw_xfer *x, CURLcode cc);
void gw_xfer_check_paused(struct gw_xfer *x);
double gw_xfer_due(const struct gw_xfer *x);
void gw_xfer_retry(struct gw_xfer *x);
struct gw_xfer *gw_xfer_next(const struct gw_xfer *x);

/* charge.c: token counts from upstream answers, validated, or estimated from bytes.
 * gw_usage_tokens reads a "usage" object: 0 with *in and *out set when every count present is an
 * integer in [0, GW_MAX_TOKENS] (missing ones are 0), -1 when one is negative, fractional,
 * non-finite or above (the caller logs it and estimates instead). */
#define GW_MAX_TOKENS 100000000L
int gw_usage_tokens(json_t *usage, long *in, long *out);
/* The estimate: one token per 4 bytes, rounded up. */
long gw_tokens_of_bytes(size_t bytes);
/* Text bytes a chat answer carries: choices[].message.content or .delta.content or .text. */
size_t gw_chat_text_bytes(json_t *answer);
/* A Server-Sent Events stream read line by line: remembers the last "usage" object and counts
 * the text bytes of its data events; with strip set, a data event that carries only usage
 * (empty "choices") is left out of out (the client did not ask for it). Lines longer than
 * 64 KiB go out as they came and are not read. */
struct gw_sse {
    int strip;
    char *line;
    size_t line_len, line_cap;
    int line_long, drop_blank;
    json_t *usage;
    size_t text_bytes;
};
/* Feeds n bytes; appends what the client gets to *out (out_len, out_cap; aitag_buf_append),
 * or only reads them when out is NULL (the caller sends the bytes as they came). -1 when out
 * of memory. */
int gw_sse_feed(struct gw_sse *s, const char *p, size_t n, char **out, size_t *out_len,
                size_t *out_cap);
/* Whatever is still held (a last line without its newline) goes out. */
int gw_sse_flush(struct gw_sse *s, char **out, size_t *out_len, size_t *out_cap);
void gw_sse_free(struct gw_sse *s);
/* ---- end of Part PIPE ---- */

/* multipart.c: parsing multipart/form-data into r->parts as the body arrives (HTTP thread).
 * begin: when r->ctype is multipart/form-data; feed: each piece of the raw body; end: 0 when the
 * body was a well-formed multipart body with at least one part, -1 otherwise. free: releases a
 * parser left over by a request that ended early; a no-op otherwise. */
void gw_multipart_begin(struct gw_req *r);
void gw_multipart_feed(struct gw_req *r, const char *data, size_t len);
int gw_multipart_end(struct gw_req *r);
void gw_multipart_free(struct gw_req *r);
/* multipart.c: true when the request's Content-Type is multipart/form-data. */
int gw_is_multipart(const struct gw_req *r);
/* multipart.c: r->parts rebuilt for the easy handle h, the "model" part replaced by model when
 * not NULL. The caller frees the result with curl_mime_free; NULL when out of memory. */
curl_mime *gw_multipart_mime(CURL *h, const struct gw_req *r, const char *model);
/* multipart.c: POST /v1/audio/transcriptions (multipart; route = the "model" part). */
void gw_handle_transcriptions(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w);

/* keys.c */
int gw_keys_open(const char *path, sqlite3 **out, char *err, size_t errlen);
/* Checks the Authorization header for route (NULL: any route). On failure answers r
 * (401/403/429) and returns -1. */
int gw_auth(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w, const char *route);
void gw_usage_record(struct gw_worker_ctx *w, struct gw_req *r);
/* Finalizes the statements keys.c keeps on w->db (before w->db is closed). */
void gw_keys_worker_release(struct gw_worker_ctx *w);
/* True when key_routes (comma list, NULL/"" = all) allows route. */
int gw_route_allowed(const char *key_routes, const char *route);

/* tag.c: POST /v1/tag. Path containment is a pure helper for the unit test: resolves path
 * and writes the real path into real when it lies under one of roots; returns 0, or
 * AITAG_ERR_NOTFOUND (missing) / AITAG_ERR_INVALID (outside every root). */
void gw_handle_tag(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w);
int gw_resolve_under_roots(const char *path, char *const *roots, size_t n_roots, char *real,
                           size_t len);

#endif
