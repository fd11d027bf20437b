/*
 * keys.c - API keys, per-key rate limits and usage accounting, in one SQLite file.
 *
 * A key is shown once at creation; only its sha256 is stored, so a leaked database does not
 * leak keys. Each worker thread has its own connection (WAL mode, busy timeout), and the CLI
 * (`aitag gateway keys`) writes the same file while the server runs, so a revoked key stops
 * working at its next request. Rate limits are in-memory token buckets (requests per minute),
 * per key and per gateway process.
 */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS gateway_keys (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    " prefix TEXT NOT NULL, name TEXT, routes TEXT, rpm INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL, revoked INTEGER);"
    "CREATE TABLE IF NOT EXISTS gateway_usage (day TEXT NOT NULL, key_id INTEGER NOT NULL,"
    " route TEXT NOT NULL, model TEXT NOT NULL, requests INTEGER NOT NULL DEFAULT 0,"
    " prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,"
    " cost REAL NOT NULL DEFAULT 0, PRIMARY KEY (day, key_id, route, model));";

int gw_keys_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;

    *out = NULL;
    /* The busy timeout comes first: workers open the file at the same moment, and switching
     * to WAL or creating the tables must wait for the others rather than fail. */
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "gateway keys db %s: %s", path,
                 db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return AITAG_ERR_DB;
    }
    *out = db;
    return 0;
}

int gw_bucket_take(struct gw_bucket *b, int rpm, double now)
{
    double rate = rpm / 60.0;

    if (rpm <= 0)
        return 0;
    if (b->last == 0) {
        b->tokens = rpm;
        b->last = now;
    }
    b->tokens = fmin((double)rpm, b->tokens + (now - b->last) * rate);
    b->last = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    return (int)ceil((1.0 - b->tokens) / rate);
}

int gw_route_allowed(const char *key_routes, const char *route)
{
    size_t n;

    if (!key_routes || !*key_routes || !route)
        return 1;
    n = strlen(route);
    for (const char *p = key_routes; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, route, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

static int take_token(struct aitag_gateway *gw, long long key_id, int rpm)
{
    struct gw_bucket *b = NULL;
    int wait;

    if (rpm <= 0)
        return 0;
    pthread_mutex_lock(&gw->mu);
    for (size_t i = 0; i < gw->n_buckets; i++)
        if (gw->buckets[i].key_id == key_id)
            b = &gw->buckets[i];
    if (!b) {
        struct gw_bucket *nb = realloc(gw->buckets, (gw->n_buckets + 1) * sizeof *nb);
        if (nb) {
            gw->buckets = nb;
            b = &nb[gw->n_buckets++];
            memset(b, 0, sizeof *b);
            b->key_id = key_id;
        }
    }
    wait = b ? gw_bucket_take(b, rpm, aitag_now()) : 0;
    pthread_mutex_unlock(&gw->mu);
    return wait;
}

int gw_auth(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w, const char *route)
{
    sqlite3_stmt *st = NULL;
    char hex[65];
    const char *key;
    int rc = -1, wait;

    if (!gw->cfg->keys_db)
        return 0; /* no keys configured: an open gateway (docs/gateway.md warns) */
    if (!r->auth || strncmp(r->auth, "Bearer ", 7) != 0 || !*(key = r->auth + 7)) {
        gw_error(r, 401, "invalid_request_error", "missing_api_key",
                 "an API key is required (Authorization: Bearer KEY)");
        return -1;
    }
    if (!w->db) {
        gw_error(r, 500, "server_error", NULL, "key store unavailable");
        return -1;
    }
    aitag_sha256_buf(key, strlen(key), hex);
    if (sqlite3_prepare_v2(
            w->db, "SELECT id, routes, rpm FROM gateway_keys WHERE hash = ? AND revoked IS NULL",
            -1, &st, NULL) != SQLITE_OK) {
        gw_error(r, 500, "server_error", NULL, "key store: %s", sqlite3_errmsg(w->db));
        return -1;
    }
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        gw_error(r, 401, "invalid_request_error", "invalid_api_key", "unknown or revoked API key");
        goto out;
    }
    r->key_id = sqlite3_column_int64(st, 0);
    if (!gw_route_allowed((const char *)sqlite3_column_text(st, 1), route)) {
        gw_error(r, 403, "permission_error", "route_not_allowed",
                 "this key may not use the model '%s'", route);
        goto out;
    }
    if ((wait = take_token(gw, r->key_id, sqlite3_column_int(st, 2))) > 0) {
        gw_error(r, 429, "rate_limit_error", "rate_limit_exceeded",
                 "rate limit of %d requests per minute reached", sqlite3_column_int(st, 2));
        r->retry_after = wait;
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

void gw_usage_record(struct gw_worker_ctx *w, struct gw_req *r)
{
    sqlite3_stmt *st = NULL;
    char day[16];
    time_t now = time(NULL);
    struct tm tm;

    if (!w->db)
        return;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO gateway_usage VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
                           " ON CONFLICT (day, key_id, route, model) DO UPDATE SET"
                           " requests = requests + 1,"
                           " prompt_tokens = prompt_tokens + excluded.prompt_tokens,"
                           " completion_tokens = completion_tokens + excluded.completion_tokens,"
                           " cost = cost + excluded.cost",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, r->key_id);
        sqlite3_bind_text(st, 3, r->route, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->model[0] ? r->model : r->route, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, r->prompt_tokens);
        sqlite3_bind_int64(st, 6, r->completion_tokens);
        sqlite3_bind_double(st, 7, r->cost);
        if (sqlite3_step(st) != SQLITE_DONE)
            aitag_log(AITAG_LOG_WARN, "gateway", "event=usage_write_failed err=\"%s\"",
                      sqlite3_errmsg(w->db));
    }
    sqlite3_finalize(st);
}

int aitag_gateway_key_create(const char *dbpath, const char *name, const char *routes, int rpm,
                             char key_out[64], long long *id_out, char *err, size_t errlen)
{
    unsigned char rnd[20];
    char hex[65];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int fd, rc;

    key_out[0] = '\0';
    *id_out = -1;
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "cannot read /dev/urandom");
        return AITAG_ERR_IO;
    }
    close(fd);
    memcpy(key_out, "agk_", 4);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(key_out + 4 + 2 * i, 3, "%02x", rnd[i]);
    aitag_sha256_buf(key_out, strlen(key_out), hex);
    if ((rc = gw_keys_open(dbpath, &db, err, errlen)) < 0) {
        key_out[0] = '\0';
        return rc;
    }
    rc = AITAG_ERR_DB;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO gateway_keys (hash, prefix, name, routes, rpm, created)"
                           " VALUES (?, ?, ?, ?, ?, strftime('%s','now'))",
                           -1, &st, NULL) == SQLITE_OK) {
        char prefix[13];
        snprintf(prefix, sizeof prefix, "%.12s", key_out);
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, prefix, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, routes && *routes ? routes : NULL, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, rpm);
        if (sqlite3_step(st) == SQLITE_DONE) {
            *id_out = sqlite3_last_insert_rowid(db);
            rc = 0;
        }
    }
    if (rc < 0) {
        snprintf(err, errlen, "gateway keys db: %s", sqlite3_errmsg(db));
        key_out[0] = '\0';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

int aitag_gateway_key_revoke(const char *dbpath, long long id, char *err, size_t errlen)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = gw_keys_open(dbpath, &db, err, errlen)) < 0)
        return rc;
    rc = AITAG_ERR_DB;
    if (sqlite3_prepare_v2(db,
                           "UPDATE gateway_keys SET revoked = strftime('%s','now')"
                           " WHERE id = ? AND revoked IS NULL",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = sqlite3_changes(db) == 1 ? 0 : AITAG_ERR_NOTFOUND;
    }
    if (rc == AITAG_ERR_NOTFOUND)
        snprintf(err, errlen, "no active key with id %lld", id);
    else if (rc < 0)
        snprintf(err, errlen, "gateway keys db: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* Runs sql and returns its rows as an array of objects (columns by name). */
static int query_json(const char *dbpath, const char *sql, json_t **out, char *err, size_t errlen)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    int rc, s;

    *out = NULL;
    if ((rc = gw_keys_open(dbpath, &db, err, errlen)) < 0) {
        json_decref(arr);
        return rc;
    }
    rc = AITAG_ERR_DB;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *o = json_object();
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                json_t *v;
                switch (sqlite3_column_type(st, i)) {
                case SQLITE_INTEGER:
                    v = json_integer(sqlite3_column_int64(st, i));
                    break;
                case SQLITE_FLOAT:
                    v = json_real(sqlite3_column_double(st, i));
                    break;
                case SQLITE_NULL:
                    v = json_null();
                    break;
                default:
                    v = json_string((const char *)sqlite3_column_text(st, i));
                    break;
                }
                json_object_set_new(o, sqlite3_column_name(st, i), v);
            }
            json_array_append_new(arr, o);
        }
        if (s == SQLITE_DONE)
            rc = 0;
    }
    if (rc < 0)
        snprintf(err, errlen, "gateway keys db: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (rc == 0)
        *out = arr;
    else
        json_decref(arr);
    return rc;
}

int aitag_gateway_keys_list(const char *db, json_t **out, char *err, size_t errlen)
{
    return query_json(db,
                      "SELECT id, prefix, name, routes, rpm, created, revoked FROM gateway_keys"
                      " ORDER BY id",
                      out, err, errlen);
}

int aitag_gateway_usage_list(const char *db, json_t **out, char *err, size_t errlen)
{
    return query_json(db,
                      "SELECT day, key_id, route, model, requests, prompt_tokens,"
                      " completion_tokens, cost FROM gateway_usage ORDER BY day, key_id, route,"
                      " model",
                      out, err, errlen);
}
