/* gateway_int.h - internals shared by the gateway's files (server, proxy, keys, tag, metrics). */
#ifndef AITAG_GATEWAY_INT_H
#define AITAG_GATEWAY_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/epoll.h>

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

struct gw_tag_lane;

struct gw_backend {
    const struct aitag_gateway_backend *cfg;
    struct gw_breaker br;     /* guarded by gw->mu */
    int inflight;             /* guarded by gw->mu */
    struct gw_tag_lane *lane; /* local: its tag queue and tagging threads (tag_queue.c) */
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

/* One key's in-memory limit state, found by key id (guarded by gw->key_mu). */
struct gw_key_state {
    long long key_id;
    struct gw_bucket rpm;
    struct gw_tpm_bucket tpm;
    int tpm_limit;        /* as last read from the key store */
    int active;           /* requests holding a concurrency slot */
    double reserved_cost; /* budget reserved by requests not yet settled (USD) */
};

/* A key as read from the key store at header time (admit.c); routes is malloc'd. */
struct gw_key_row {
    long long id;
    char *routes; /* comma list; NULL = all */
    int rpm, tpm, concurrency;
    double budget; /* 0 = none */
    char period[8];
};

struct gw_metrics;
struct gw_metrics *gw_metrics_new(void);
void gw_metrics_free(struct gw_metrics *m);
void gw_metrics_request(struct gw_metrics *m, const char *route, int status, double seconds);
void gw_metrics_upstream_error(struct gw_metrics *m, const char *backend, const char *reason);
/* Length of the valid UTF-8 sequence at s (1-4; no overlongs or surrogates), or 0 when it is
 * not one. s is NUL-terminated; reads stop at the first byte that does not fit. */
size_t gw_utf8_len(const unsigned char *s);
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
    /* admission at header time (admit.c) and settlement (settle.c) */
    const struct gw_endpoint *ep; /* the endpoint of url (whatever the method); NULL: none */
    struct gw_key_row key;        /* the key found at header time; key.id < 0: none */
    int slot;                     /* holds one of the key's concurrency slots */
    size_t held;                  /* body bytes counted in gw->held_bytes */
    long est_completion;          /* completion tokens to reserve at admission (0: none) */
    double res_cost;              /* budget reserved at admission (USD) */
    long res_tokens;              /* tokens reserved in the key's tpm bucket */
    /* the upstream call (proxy.c, upstream.c) */
    struct gw_loop *loop; /* the event loop running r's upstream call; set before streaming */
    struct gw_loop *home; /* the HTTP loop whose daemon holds the connection (set when queued) */
    int async;            /* an upstream call owns the worker's reference and answers r */
    int spaused;          /* stream: the writer waits for room (guarded by mu) */
    char cache_key[65];   /* the response cache key of a miss, stored when the call ends */
};

/* REQ_TAG: a worker handed the request to a tag queue; the tagging thread answers it and
 * resumes the connection (tag_queue.c) */
enum { REQ_RECEIVING = 0, REQ_QUEUED, REQ_DONE, REQ_STREAM, REQ_TAG };
enum { GW_CACHE_NONE = 0, GW_CACHE_MISS = 1, GW_CACHE_HIT = 2 };

/* The busy timeout of the connections the HTTP loops read keys with (admit.c, upstream.c). */
#define GW_LOOP_BUSY_MS 100
/* key_cache.c: the key rows an HTTP loop read, by the key's sha256 (hex), each with the
 * key store's generation it was read under and when. */
#define GW_KEY_CACHE_SIZE 64
struct gw_key_cache_entry {
    char hex[64];
    struct gw_key_row row; /* row.routes owned */
    unsigned long gen;
    double read_at;
};
struct gw_key_cache {
    struct gw_key_cache_entry e[GW_KEY_CACHE_SIZE];
    int n;
};

struct gw_worker_ctx {
    sqlite3 *db;          /* this worker's keys connection (reads only), NULL without keys_db */
    struct gw_loop *loop; /* this worker's upstream event loop (upstream.c) */
    /* keys.c: statements on db, prepared on first use and kept (gw_keys_worker_release) */
    sqlite3_stmt *key_st, *spent_st;
    struct gw_key_cache kc; /* the keys this loop read (admit.c), freed by the release */
};
/* keys.c: the key lookup by hash on w->db (admit.c), prepared on first use; NULL on error. */
sqlite3_stmt *gw_keys_lookup_st(struct gw_worker_ctx *w);

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
    FILE *access_log; /* unbuffered: whole lines go out from log_buf (server.c) */
    pthread_mutex_t log_mu;
    char *log_buf;              /* access-log lines not yet written, whole lines only (log_mu) */
    size_t log_len;             /* bytes in log_buf (log_mu) */
    long long log_due_ms;       /* atomic: when log_buf must be written (aitag_now ms), 0: empty */
    struct gw_loop *log_owner;  /* atomic: the loop that wakes to write them (NULL: every loop) */
    unsigned long long next_id; /* atomic (request ids) */
    unsigned pid;               /* getpid() at start, for request ids */
    struct gw_usage *usage;     /* NULL without keys_db */
    /* admission (admit.c) and key limit state */
    sqlite3 *http_db;          /* the HTTP loops' keys connection (admit.c) */
    sqlite3_stmt *http_key_st; /* its key lookup, prepared once */
    pthread_mutex_t admit_mu;  /* the HTTP loops take turns on http_db (admit.c) */
    int admit_mu_ready;
    pthread_mutex_t key_mu; /* keys[]: limit state, slots, reservations */
    /* the key store's watch (key_cache.c) */
    int keys_watch_fd, keys_stop[2];
    char keys_base[256];    /* the store's file name, without its folder */
    unsigned long keys_gen; /* atomic: bumped at each write of the keys */
    int keys_watching;      /* atomic: keys_gen follows the store (else nothing is kept) */
    pthread_t keys_watch_thread;
    int keys_watch_started;
    size_t held_bytes; /* atomic: request body bytes held (max_inflight_bytes) */
    /* the private upload folder (tag_fs.c), NULL without local routes */
    char *tag_tmp;
    int tag_tmp_fd;
    unsigned long long tag_tmp_seq; /* atomic: upload file names */
    /* event loops: one per worker, and the HTTP loops (upstream.c) */
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
/* ---- upstream event loops (upstream.c), calls (proxy.c), charging (charge.c) ----
 * One loop per worker: the worker serves queued requests, and the upstream calls they start
 * run on its libcurl multi handle; it sleeps in curl_multi_poll, woken (curl_multi_wakeup) by
 * new work, a stream reader that drained a paused stream, or a client that left. */
/* server.c: drops a reference to r (the last one frees it). */
void gw_req_release(struct gw_req *r);
/* server.c: resumes r's connection (call with r->mu held) and makes its HTTP loop run it. */
void gw_req_resume(struct gw_req *r);
struct gw_xfer;
/* server.c: the access log's lines wait in memory at most GW_LOG_FLUSH_MS (or until
 * GW_LOG_BUF_BYTES are pending); the loops write them out at their turn (force: now). */
#define GW_LOG_FLUSH_MS 10
#define GW_LOG_BUF_BYTES (64 * 1024)
void gw_access_log_flush(struct aitag_gateway *gw, int force);
struct gw_loop {
    CURLM *multi;
    int epfd, wakefd;        /* the loop's epoll set, and the eventfd that wakes it */
    double curl_due;         /* when libcurl next needs to run (aitag_now), < 0: never */
    unsigned char *fd_state; /* per descriptor: registered, watched, opened here (upstream.c) */
    int fd_cap;
    struct epoll_event ev[64]; /* the last wait's events, handled at the next turn */
    int n_ev;
    struct gw_xfer *xfers;       /* calls in flight or waiting to retry (the loop's thread only) */
    CURL *spare[32];             /* easy handles kept for reuse (the loop's thread only) */
    unsigned char spare_set[32]; /* spare[i] still has the loop's own options set */
    int n_spare;
    int idle; /* asleep in its wait; guarded by gw->qmu */
    /* an HTTP loop: its own libmicrohttpd daemon (SO_REUSEPORT on the one port), run here */
    struct aitag_gateway *gw;
    struct MHD_Daemon *mhd;
    pthread_t thread;
    int started;
    struct gw_req *local_head, *local_tail; /* requests to serve on this loop (its thread) */
    int kick; /* a connection was resumed from this thread: run the daemon before waiting */
    struct gw_worker_ctx *ctx; /* the loop thread's keys connection and statements, or NULL */
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
/* Gives h back for reuse; plain: it carried URL, headers and POST fields only (every one of
 * which the next call sets again), so it is kept as it is; else it is reset. */
void gw_loop_easy_put(struct gw_loop *l, CURL *h, int plain);
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
/* ---- end of upstream event loops ---- */

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
/* The file next to the key store that a write of the keys touches (not the usage flush): a
 * running gateway's key cache (key_cache.c) forgets its rows when it is written. */
#define GW_KEYS_CHANGED_SUFFIX "-changed"
void gw_keys_touch(const char *dbpath);
/* Checks the key admit.c found at header time against route (NULL: any route), then its
 * budget and token/request limits, reserving the estimate (settled by gw_settle). On
 * failure answers r (401/403/429) and returns -1. */
int gw_auth(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w, const char *route);
/* Finalizes the statements keys.c keeps on w->db (before w->db is closed). */
void gw_keys_worker_release(struct gw_worker_ctx *w);
/* True when key_routes (comma list, NULL/"" = all) allows route. */
int gw_route_allowed(const char *key_routes, const char *route);

/* key_cache.c: start/stop the key store's watch (a failure to watch only turns the cache
 * off, with a warning; returns 0). find: 1 with *out filled (out->routes: the caller's copy)
 * when c holds hex's row read under the current generation less than key_cache_ms ago, else
 * 0. gen: what to put a row read now under (read it before the store; 0: keep nothing).
 * put/drop: remember or forget hex's row (put copies row). clear: frees every entry. */
int gw_key_cache_start(struct aitag_gateway *gw);
void gw_key_cache_stop(struct aitag_gateway *gw);
unsigned long gw_key_cache_gen(struct aitag_gateway *gw);
int gw_key_cache_find(struct aitag_gateway *gw, struct gw_key_cache *c, const char *hex,
                      struct gw_key_row *out);
void gw_key_cache_put(struct aitag_gateway *gw, struct gw_key_cache *c, const char *hex,
                      const struct gw_key_row *row, unsigned long gen);
void gw_key_cache_drop(struct gw_key_cache *c, const char *hex);
void gw_key_cache_clear(struct gw_key_cache *c);

/* Admission, endpoints, settlement ---------------------------------------------------------
 * endpoints.c: the one table of endpoints. Each row: method, path, whether a key is needed
 * (when keys are configured), where the handler runs, and the metrics label. GW_RUN_HTTP
 * answers from memory as soon as the body is in (w is then NULL); GW_RUN_LOOP runs on the
 * event loop that read the request (its upstream calls go on that loop's multi handle);
 * GW_RUN_WORKER is blocking work (inference), queued to the workers. */
enum { GW_RUN_HTTP = 0, GW_RUN_LOOP = 1, GW_RUN_WORKER = 2 };
typedef void (*gw_handler_fn)(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w);
struct gw_endpoint {
    const char *method, *path;
    int auth, on_worker; /* on_worker: GW_RUN_* */
    int metered;         /* charged by tokens: the JSON body is the prompt (admission estimate) */
    gw_handler_fn handler;
    const char *label;
};
/* The row of url (one method per path: another method is a 405); NULL when none (404). */
const struct gw_endpoint *gw_endpoint_find(const char *url);
/* The metrics label of a finished request: its route when one was chosen, else its endpoint's
 * label, else "not_found". Never the raw URL. */
const char *gw_endpoint_label(const struct gw_req *r);

/* admit.c: header-time admission on the HTTP thread. open/close: the HTTP thread's key store
 * connection (no-op without keys_db). gw_admit_headers runs on the first gw_on_request call,
 * before any body byte: framing (duplicate or conflicting Content-Length, Content-Length with
 * Transfer-Encoding), the key (401 without a valid one), the key's concurrency slot (429),
 * and the in-flight body cap for a declared Content-Length (503). It answers r (status set)
 * and returns -1 on refusal. gw_admit_body counts n more body bytes: -1 when over the cap
 * (the caller stops buffering and answers 503 at the end). */
int gw_admit_open(struct aitag_gateway *gw, char *err, size_t errlen);
void gw_admit_close(struct aitag_gateway *gw);
int gw_admit_headers(struct aitag_gateway *gw, struct gw_req *r);
/* The key part of gw_admit_headers (no connection needed): r->auth looked up into r->key, and
 * one of its concurrency slots taken; 0, or -1 with r answered (401/429/500/503). */
int gw_admit_key(struct aitag_gateway *gw, struct gw_req *r);
int gw_admit_body(struct aitag_gateway *gw, struct gw_req *r, size_t n);

/* settle.c: called once per request when its last holder lets go (gw_on_completed, or the
 * worker when the client left first): validates the usage fields (negative, non-finite or
 * over the config caps: refused, logged, not stored), records them for a 2xx answer, charges
 * the tokens, and releases the budget and token reservations, the concurrency slot and the
 * held body bytes, whatever the outcome. Thread-safe. */
void gw_settle(struct aitag_gateway *gw, struct gw_req *r);
/* settle.c: the highest (input, output) price per million tokens among route's backends. */
void gw_route_price(const struct aitag_gateway_config *cfg, const char *route, double *in,
                    double *out);
/* settle.c: the usage of r is storable (pure; the unit test drives it). */
int gw_usage_valid(const struct aitag_gateway_config *cfg, const struct gw_req *r);
/* keys.c: the key state of key_id, created on first use; gw->key_mu must be held. */
struct gw_key_state *gw_key_state(struct aitag_gateway *gw, long long key_id);

/* tag.c: POST /v1/tag: checks the request and its key, opens the file (or writes the
 * upload) and hands it to the backend's tag queue. */
void gw_handle_tag(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w);

/* ---- local tagging: tag_fs.c, tag_queue.c ---- */

/* tag_fs.c: opens path for reading when it lies under one of roots, following no symbolic
 * link below the root (docs/gateway.md). Writes the file's name (the real root, then the
 * path below it) into real and its descriptor into *fd (the caller closes it). Returns 0,
 * AITAG_ERR_INVALID (outside every root: nothing below the roots was looked at),
 * AITAG_ERR_NOTFOUND (under a root, no such file) or AITAG_ERR_IO (a symbolic link on the
 * way). The descriptor may name something other than a regular file: the caller checks. */
int gw_open_under_roots(const char *path, char *const *roots, size_t n_roots, char *real,
                        size_t len, int *fd);
/* tag_fs.c: the private upload folder: created (mkdtemp, 0700) under tmp_dir at start,
 * emptied and removed at stop. open: 0 or < 0 with err set. close: a no-op when not open. */
int gw_tag_tmp_open(struct aitag_gateway *gw, char *err, size_t errlen);
void gw_tag_tmp_close(struct aitag_gateway *gw);
/* tag_fs.c: writes an upload to a new file of the private folder (mode 0600, mtime fixed)
 * and returns its descriptor, or -1 with errno; name gets its name there. remove: unlinks
 * it. Thread-safe. */
int gw_tag_upload_write(struct aitag_gateway *gw, const void *data, size_t len, char *name,
                        size_t namelen);
void gw_tag_upload_remove(struct aitag_gateway *gw, const char *name);

/* tag_queue.c: one bounded queue per local backend (tag_queue entries), served by that
 * backend's tag_threads threads, each with its own tagger (models loaded once per thread).
 * A worker submits a job and returns at once; the tagging thread answers the request and
 * resumes its connection. */
struct gw_tag_job {
    struct gw_req *r;
    int fd;          /* the file to tag, read through this descriptor; closed by the queue */
    char path[4352]; /* its catalog identity: the real path, or the upload's name */
    char shown[80];  /* "path" in the answer instead of path; "" keeps it */
    char upload[64]; /* the upload's file in the private folder (removed after); "" none */
    int evidence;    /* add the "evidence" object */
    struct gw_tag_job *next;
};
/* Starts every local backend's threads; 0 or < 0 with err set. */
int gw_tag_queue_start(struct aitag_gateway *gw, char *err, size_t errlen);
/* After the workers stopped: finishes the jobs in flight, answers the queued ones 503, joins
 * the threads. A no-op for a gateway that never started them. */
void gw_tag_queue_stop(struct aitag_gateway *gw);
/* Hands job (malloc'd; the queue owns it from now on, and r gets a reference) to be's queue.
 * Returns 0, or -1 when the queue is full (job untouched, still the caller's; answer 503). */
int gw_tag_submit(struct aitag_gateway *gw, struct gw_backend *be, struct gw_tag_job *job);

/* tag_request.c: what a POST /v1/tag request asks for (see the top of tag_request.c). */
struct gw_tag_request {
    json_t *body;               /* the parsed JSON body (owned), NULL for other bodies */
    int is_json, is_form;       /* the body's media type: JSON, multipart, else raw bytes */
    const char *model;          /* the route asked for, NULL: the default tagging route */
    const char *path;           /* "path": a file to tag where it lies, NULL otherwise */
    const char *b64;            /* "image_base64", NULL otherwise */
    const struct gw_part *file; /* the multipart "file" part, NULL otherwise */
    int evidence;               /* "evidence": true (a multipart field: true, 1 or yes) */
};
/* Fills q from r's body or parts (borrowed from r and q->body). 0, or -1 with the 400 answer's
 * code and message (static strings) for a body that is not a JSON object or an "evidence"
 * that is not a boolean. Either way q is released with gw_tag_request_free. */
int gw_tag_request_parse(const struct gw_req *r, struct gw_tag_request *q, const char **code,
                         const char **msg);
/* The bytes to tag for a request without "path": the "file" part, the decoded image_base64
 * (then also *owned, malloc'd: the caller frees it) or the raw body; *len > 0. -1 with the 400
 * answer's code and message (missing_input, bad_base64, empty_body), nothing owned. */
int gw_tag_request_upload(const struct gw_req *r, const struct gw_tag_request *q, const void **data,
                          size_t *len, unsigned char **owned, const char **code, const char **msg);
void gw_tag_request_free(struct gw_tag_request *q);

/* utf8.c: replaces, in place, every byte of s that is not part of well-formed UTF-8 by '?'
 * (client text quoted in an answer must be valid UTF-8 for Jansson). */
void gw_utf8_scrub(char *s);

#endif
