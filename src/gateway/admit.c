/*
 * admit.c - what the gateway decides from a request's headers alone, on the HTTP thread,
 * before it holds a single body byte.
 *
 * A body costs memory as it arrives and a JSON parse once it is in, so a request that will be
 * refused anyway is refused here: ambiguous framing (two different Content-Length headers, or
 * Content-Length with Transfer-Encoding) with 400, a missing, unknown or revoked key with 401,
 * a key over its concurrency limit with 429, and a body that would take the bytes held for all
 * requests over max_inflight_bytes with 503. The key lookup is one indexed read on the HTTP
 * loop's own SQLite connection, opened on the loop's thread with its statement kept, so the
 * loops share no lock (a connection shared under a mutex serves callers off the loops). WAL:
 * the CLI's writes never block it for long; a short busy timeout answers 503 rather than
 * stalling the event loop. A loop keeps the rows it read while the key store is unchanged
 * (key_cache.c), so a revocation still takes effect for the next request. Route permission, budgets and token limits need the
 * body's model and stay with the worker (gw_auth), which uses the row read here.
 *
 * Bytes held: each request counts its buffered body in gw->held_bytes (twice for multipart,
 * which keeps the raw body and its parts); a declared Content-Length is counted up front, so
 * the cap refuses at header time what it can. gw_settle gives the bytes back.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aitag/common.h"
#include "gateway_int.h"

int gw_admit_open(struct aitag_gateway *gw, char *err, size_t errlen)
{
    int rc;

    if (!gw->cfg->keys_db)
        return 0;
    pthread_mutex_init(&gw->admit_mu, NULL);
    gw->admit_mu_ready = 1;
    if ((rc = gw_keys_open(gw->cfg->keys_db, &gw->http_db, err, errlen)) < 0)
        return rc;
    sqlite3_busy_timeout(gw->http_db, GW_LOOP_BUSY_MS);
    if (sqlite3_prepare_v3(gw->http_db,
                           "SELECT id, routes, rpm, tpm, budget, budget_period, concurrency"
                           " FROM gateway_keys WHERE hash = ? AND revoked IS NULL",
                           -1, SQLITE_PREPARE_PERSISTENT, &gw->http_key_st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "gateway keys db %s: %s", gw->cfg->keys_db,
                 sqlite3_errmsg(gw->http_db));
        return AITAG_ERR_DB;
    }
    return 0;
}

void gw_admit_close(struct aitag_gateway *gw)
{
    sqlite3_finalize(gw->http_key_st);
    sqlite3_close(gw->http_db);
    gw->http_key_st = NULL;
    gw->http_db = NULL;
    if (gw->admit_mu_ready)
        pthread_mutex_destroy(&gw->admit_mu);
    gw->admit_mu_ready = 0;
}

struct framing {
    const char *cl; /* the first Content-Length */
    int bad;
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct framing *f = cls;

    (void)kind;
    if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->bad |= 2;
    } else if (strcasecmp(key, "Content-Length") == 0) {
        if (!value || !*value || strspn(value, "0123456789") != strlen(value) ||
            (f->cl && strcmp(f->cl, value) != 0))
            f->bad |= 1;
        if (!f->cl)
            f->cl = value ? value : "";
    }
    return MHD_YES;
}

/* 0 when the body's length is unambiguous; -1 (answered 400) otherwise. */
static int check_framing(struct gw_req *r)
{
    struct framing f = {NULL, 0};

    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, framing_header, &f);
    if ((f.bad & 1) || (f.cl && (f.bad & 2))) {
        gw_error(r, 400, "invalid_request_error", "invalid_framing", "%s",
                 (f.bad & 1) ? "conflicting or malformed Content-Length headers"
                             : "Content-Length together with Transfer-Encoding");
        return -1;
    }
    return 0;
}

/* Finds the Authorization key in the key store: 0 with r->key filled, or -1 (answered). */
static int find_key(struct aitag_gateway *gw, struct gw_req *r)
{
    struct gw_loop *l = gw_loop_current();
    struct gw_worker_ctx *w = l ? l->ctx : NULL;
    sqlite3_stmt *st = w ? gw_keys_lookup_st(w) : gw->http_key_st;
    sqlite3 *db = w ? w->db : gw->http_db;
    const char *key;
    char hex[65];
    unsigned long gen;
    int s, rc = -1;

    if (!r->auth || strncmp(r->auth, "Bearer ", 7) != 0 || !*(key = r->auth + 7)) {
        gw_error(r, 401, "invalid_request_error", "missing_api_key",
                 "an API key is required (Authorization: Bearer KEY)");
        return -1;
    }
    if (!st) {
        gw_error(r, 500, "server_error", NULL, "key store unavailable");
        return -1;
    }
    aitag_sha256_buf(key, strlen(key), hex);
    if (w && gw_key_cache_find(gw, &w->kc, hex, &r->key))
        return 0;
    gen = w ? gw_key_cache_gen(gw) : 0; /* before the read: a write meanwhile makes it stale */
    if (!w)
        pthread_mutex_lock(&gw->admit_mu);
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *routes = (const char *)sqlite3_column_text(st, 1);
        const char *period = (const char *)sqlite3_column_text(st, 5);
        r->key.id = sqlite3_column_int64(st, 0);
        r->key.routes = routes && *routes ? strdup(routes) : NULL;
        r->key.rpm = sqlite3_column_int(st, 2);
        r->key.tpm = sqlite3_column_int(st, 3);
        r->key.budget = sqlite3_column_double(st, 4);
        snprintf(r->key.period, sizeof r->key.period, "%s", period ? period : "month");
        r->key.concurrency = sqlite3_column_int(st, 6);
        if (routes && *routes && !r->key.routes) {
            r->key.id = -1;
            gw_error(r, 500, "server_error", NULL, "out of memory");
        } else {
            rc = 0;
            if (w)
                gw_key_cache_put(gw, &w->kc, hex, &r->key, gen);
        }
    } else if (s == SQLITE_DONE) {
        if (w)
            gw_key_cache_drop(&w->kc, hex);
        gw_error(r, 401, "invalid_request_error", "invalid_api_key", "unknown or revoked API key");
    } else {
        gw_error(r, 503, "server_error", "key_store_busy", "key store: %s", sqlite3_errmsg(db));
        r->retry_after = 1;
    }
    sqlite3_reset(st); /* ends the read: the next request sees a revocation */
    sqlite3_clear_bindings(st);
    if (!w)
        pthread_mutex_unlock(&gw->admit_mu);
    return rc;
}

/* Takes one of the key's concurrency slots: 0, or -1 (answered 429). */
static int take_slot(struct aitag_gateway *gw, struct gw_req *r)
{
    int limit = r->key.concurrency > 0 ? r->key.concurrency : gw->cfg->key_concurrency;
    struct gw_key_state *ks;
    int busy = 0;

    pthread_mutex_lock(&gw->key_mu);
    if ((ks = gw_key_state(gw, r->key.id))) {
        if (limit > 0 && ks->active >= limit) {
            busy = 1;
        } else {
            ks->active++;
            r->slot = 1;
        }
    }
    pthread_mutex_unlock(&gw->key_mu);
    if (!busy)
        return 0;
    gw_error(r, 429, "rate_limit_error", "concurrency_limit_exceeded",
             "%d requests of this key are in flight (its concurrency limit)", limit);
    r->retry_after = 1;
    return -1;
}

/* Counts the held bytes of r up to want (body bytes x 2 for multipart): 0, or -1 when that
 * would take the gateway over max_inflight_bytes (nothing counted). */
static int hold(struct aitag_gateway *gw, struct gw_req *r, size_t want)
{
    size_t cur, add;

    if (want <= r->held)
        return 0;
    add = want - r->held;
    cur = __atomic_load_n(&gw->held_bytes, __ATOMIC_RELAXED);
    do {
        if (cur + add > gw->cfg->max_inflight_bytes || cur + add < cur)
            return -1;
    } while (!__atomic_compare_exchange_n(&gw->held_bytes, &cur, cur + add, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    r->held = want;
    return 0;
}

static size_t body_weight(const struct gw_req *r, size_t n)
{
    return gw_is_multipart(r) ? 2 * n : n;
}

int gw_admit_key(struct aitag_gateway *gw, struct gw_req *r)
{
    return find_key(gw, r) < 0 || take_slot(gw, r) < 0 ? -1 : 0;
}

int gw_admit_headers(struct aitag_gateway *gw, struct gw_req *r)
{
    const char *cl;

    if (check_framing(r) < 0)
        return -1;
    if (r->ep->auth && gw->cfg->keys_db && gw_admit_key(gw, r) < 0)
        return -1;
    cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && hold(gw, r, body_weight(r, (size_t)strtoull(cl, NULL, 10))) < 0) {
        gw_error(r, 503, "server_error", "overloaded",
                 "request bodies in flight over max_inflight_bytes (%zu bytes)",
                 gw->cfg->max_inflight_bytes);
        r->retry_after = 1;
        return -1;
    }
    return 0;
}

int gw_admit_body(struct aitag_gateway *gw, struct gw_req *r, size_t n)
{
    return hold(gw, r, body_weight(r, r->body_len + n));
}
