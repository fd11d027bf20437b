/*
 * keys.c - API keys, per-key rate limits and usage accounting, in one SQLite file.
 *
 * A key is shown once at creation; only its sha256 is stored, so a leaked database does not
 * leak keys. The key itself is looked up at header time by admit.c (one read per request, so a
 * revoked key stops working at its next request); gw_auth here checks the route and the
 * limits with that row. Each worker thread has its own connection (WAL mode, busy timeout) for
 * the budget sums, and the CLI (`aitag gateway keys`) writes the same file while the server
 * runs. Rate limits are in-memory token buckets (requests and tokens per minute), per key and
 * per gateway process. Tokens are only known once the answer is in, so the token bucket admits
 * while it is positive, takes an estimate at admission and is settled with the real count
 * afterwards (settle.c; it may go negative and then refuses until refilled). Budgets: the
 * key's cost in the usage table over the current UTC day or month (an indexed range of at
 * most 31 days x routes x models rows), plus the usage not yet written (usage.c), plus the
 * estimates reserved by its requests in flight, must be under the budget to admit.
 */
#include <fcntl.h>
#include <limits.h>
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
    " cost REAL NOT NULL DEFAULT 0, media_seconds REAL NOT NULL DEFAULT 0,"
    " frames INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, key_id, route, model));"
    "CREATE INDEX IF NOT EXISTS gateway_usage_key ON gateway_usage (key_id, day);";

/* Columns added after the first release (table, column, type): a key file from then gains
 * them on open. */
static const char *const added_columns[][3] = {
    {"gateway_keys", "tpm", "INTEGER NOT NULL DEFAULT 0"},
    {"gateway_keys", "budget", "REAL"},
    {"gateway_keys", "budget_period", "TEXT NOT NULL DEFAULT 'month'"},
    {"gateway_usage", "media_seconds", "REAL NOT NULL DEFAULT 0"},
    {"gateway_usage", "frames", "INTEGER NOT NULL DEFAULT 0"},
    {"gateway_keys", "concurrency", "INTEGER NOT NULL DEFAULT 0"},
};

static int has_column(sqlite3 *db, const char *table, const char *col)
{
    sqlite3_stmt *st = NULL;
    int found = 0;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/* ALTER TABLE for each missing column. Several connections may race here (workers open the
 * file at once): a failed ALTER is fine when the column is there afterwards. */
static int migrate(sqlite3 *db)
{
    char sql[256];

    for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++) {
        const char *const *c = added_columns[i];
        if (has_column(db, c[0], c[1]))
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", c[0], c[1], c[2]);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK && !has_column(db, c[0], c[1]))
            return -1;
    }
    return 0;
}

int gw_keys_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;

    *out = NULL;
    /* The busy timeout comes first: workers open the file at the same moment, and switching
     * to WAL or creating the tables must wait for the others rather than fail. */
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK || migrate(db) < 0) {
        snprintf(err, errlen, "gateway keys db %s: %s", path,
                 db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return AITAG_ERR_DB;
    }
    *out = db;
    return 0;
}

void gw_keys_touch(const char *dbpath)
{
    char path[PATH_MAX];
    int fd;

    if (snprintf(path, sizeof path, "%s%s", dbpath, GW_KEYS_CHANGED_SUFFIX) >= (int)sizeof path)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd); /* the close after writing is the event a running gateway waits for */
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

int gw_tpm_admit(struct gw_tpm_bucket *b, int tpm, double now)
{
    double rate = tpm / 60.0;

    if (tpm <= 0)
        return 0;
    if (b->last == 0) {
        b->tokens = tpm;
        b->last = now;
    }
    b->tokens = fmin((double)tpm, b->tokens + (now - b->last) * rate);
    b->last = now;
    if (b->tokens > 0)
        return 0;
    return (int)floor(-b->tokens / rate) + 1;
}

void gw_tpm_charge(struct gw_tpm_bucket *b, int tpm, long tokens, double now)
{
    if (tpm <= 0 || tokens <= 0)
        return;
    gw_tpm_admit(b, tpm, now); /* refill up to now first */
    b->tokens -= (double)tokens;
}

long gw_budget_period(const char *period, long long now, char start[16])
{
    time_t t = (time_t)now;
    struct tm tm;

    gmtime_r(&t, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    if (!period || strcmp(period, "day") != 0)
        tm.tm_mday = 1;
    strftime(start, 16, "%Y-%m-%d", &tm);
    if (period && strcmp(period, "day") == 0)
        tm.tm_mday++;
    else
        tm.tm_mon++; /* timegm normalizes the 32nd day and the 13th month */
    return (long)(timegm(&tm) - t);
}

/* NULL when out of memory (the request is then not limited rather than refused). */
struct gw_key_state *gw_key_state(struct aitag_gateway *gw, long long key_id)
{
    struct gw_key_state *nk;

    for (size_t i = 0; i < gw->n_keys; i++)
        if (gw->keys[i].key_id == key_id)
            return &gw->keys[i];
    nk = realloc(gw->keys, (gw->n_keys + 1) * sizeof *nk);
    if (!nk)
        return NULL;
    gw->keys = nk;
    nk = &nk[gw->n_keys++];
    memset(nk, 0, sizeof *nk);
    nk->key_id = key_id;
    return nk;
}

/* The statement *st on db, prepared on first use and kept for the worker's next requests. */
static sqlite3_stmt *kept(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    if (!*st && sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        *st = NULL;
    return *st;
}

sqlite3_stmt *gw_keys_lookup_st(struct gw_worker_ctx *w)
{
    return w->db ? kept(w->db, &w->key_st,
                        "SELECT id, routes, rpm, tpm, budget, budget_period, concurrency"
                        " FROM gateway_keys WHERE hash = ? AND revoked IS NULL")
                 : NULL;
}

void gw_keys_worker_release(struct gw_worker_ctx *w)
{
    gw_key_cache_clear(&w->kc);
    sqlite3_finalize(w->key_st);
    sqlite3_finalize(w->spent_st);
    w->key_st = w->spent_st = NULL;
}

/* What admitting r may cost: its prompt (the JSON body, about 4 bytes a token, for the
 * endpoints charged by tokens) and completion estimates, and their price on route. */
static void estimate(struct aitag_gateway *gw, struct gw_req *r, const char *route, long *tokens,
                     double *cost)
{
    long prompt = r->ep && r->ep->metered ? (long)(r->body_len / 4) : 0;
    double in, out;

    gw_route_price(gw->cfg, route, &in, &out);
    *tokens = prompt + r->est_completion;
    *cost = (double)prompt * in / 1e6 + (double)r->est_completion * out / 1e6;
}

/* Budget, then tokens, then requests per minute (so a refused request takes no request
 * token); when all admit, the estimate is reserved against the budget and the token bucket
 * (gw_settle gives it back). Answers r and returns -1 when one of them refuses. */
static int check_limits(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w,
                        const char *route)
{
    const struct gw_key_row *k = &r->key;
    const char *period = strcmp(k->period, "day") == 0 ? "day" : "month";
    struct gw_key_state *ks;
    double now = aitag_now(), sum = 0, est_cost;
    long est_tokens, left = 0;
    int wait = 0, what = 0;

    if (k->budget <= 0 && k->rpm <= 0 && k->tpm <= 0)
        return 0;
    estimate(gw, r, route, &est_tokens, &est_cost);
    if (k->budget > 0) {
        char start[16];
        sqlite3_stmt *st = kept(w->db, &w->spent_st,
                                "SELECT COALESCE(SUM(cost), 0) FROM gateway_usage"
                                " WHERE key_id = ? AND day >= ?");
        left = gw_budget_period(period, (long long)time(NULL), start);
        sum = st && gw->usage ? gw_usage_spent(gw->usage, st, k->id, start) : -1;
        if (sum < 0) {
            gw_error(r, 500, "server_error", NULL, "key store: %s", sqlite3_errmsg(w->db));
            return -1;
        }
    }
    pthread_mutex_lock(&gw->key_mu);
    if ((ks = gw_key_state(gw, k->id))) {
        ks->tpm_limit = k->tpm;
        if (k->budget > 0 && (sum += ks->reserved_cost) >= k->budget)
            what = 'b';
        else if ((wait = gw_tpm_admit(&ks->tpm, k->tpm, now)) > 0)
            what = 't';
        else if ((wait = gw_bucket_take(&ks->rpm, k->rpm, now)) > 0)
            what = 'r';
        if (!what && k->budget > 0) {
            ks->reserved_cost += est_cost;
            r->res_cost = est_cost;
        }
        if (!what && k->tpm > 0) {
            ks->tpm.tokens -= (double)est_tokens;
            r->res_tokens = est_tokens;
        }
    }
    pthread_mutex_unlock(&gw->key_mu);
    if (!what)
        return 0;
    if (what == 'b') {
        gw_error(r, 429, "insufficient_quota", "budget_exceeded",
                 "budget of %.2f USD per %s spent (%.2f USD, with the requests in flight)",
                 k->budget, period, sum);
        r->retry_after = left > 0 ? (int)left : 1;
    } else if (what == 't') {
        gw_error(r, 429, "rate_limit_error", "rate_limit_exceeded",
                 "rate limit of %d tokens per minute reached", k->tpm);
        r->retry_after = wait;
    } else {
        gw_error(r, 429, "rate_limit_error", "rate_limit_exceeded",
                 "rate limit of %d requests per minute reached", k->rpm);
        r->retry_after = wait;
    }
    return -1;
}

int gw_auth(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w, const char *route)
{
    if (!gw->cfg->keys_db)
        return 0;        /* no keys configured: an open gateway (docs/gateway.md warns) */
    if (r->key.id < 0) { /* admit.c refuses these at header time; never reached */
        gw_error(r, 401, "invalid_request_error", "missing_api_key",
                 "an API key is required (Authorization: Bearer KEY)");
        return -1;
    }
    r->key_id = r->key.id;
    if (!gw_route_allowed(r->key.routes, route)) {
        gw_error(r, 403, "permission_error", "route_not_allowed",
                 "this key may not use the model '%s'", route);
        return -1;
    }
    if (!w->db) {
        gw_error(r, 500, "server_error", NULL, "key store unavailable");
        return -1;
    }
    return check_limits(gw, r, w, route);
}

int aitag_gateway_key_create(const char *dbpath, const struct aitag_gateway_key_params *kp,
                             char key_out[64], long long *id_out, char *err, size_t errlen)
{
    unsigned char rnd[20];
    char hex[65];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int fd, rc;

    key_out[0] = '\0';
    *id_out = -1;
    if (kp->rpm < 0 || kp->tpm < 0 || kp->concurrency < 0 || !(kp->budget >= 0) ||
        (kp->budget_period && strcmp(kp->budget_period, "day") != 0 &&
         strcmp(kp->budget_period, "month") != 0)) {
        snprintf(err, errlen,
                 "gateway key: rpm, tpm, concurrency and budget must be >= 0 and the budget"
                 " period \"day\" or \"month\"");
        return AITAG_ERR_INVALID;
    }
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
                           "INSERT INTO gateway_keys (hash, prefix, name, routes, rpm, tpm,"
                           " budget, budget_period, concurrency, created)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%s','now'))",
                           -1, &st, NULL) == SQLITE_OK) {
        char prefix[13];
        snprintf(prefix, sizeof prefix, "%.12s", key_out);
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, prefix, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, kp->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, kp->routes && *kp->routes ? kp->routes : NULL, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, kp->rpm);
        sqlite3_bind_int(st, 6, kp->tpm);
        if (kp->budget > 0)
            sqlite3_bind_double(st, 7, kp->budget);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_text(st, 8, kp->budget_period ? kp->budget_period : "month", -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 9, kp->concurrency);
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
    if (rc == 0)
        gw_keys_touch(dbpath);
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
    if (rc == 0)
        gw_keys_touch(dbpath);
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
    return query_json(
        db,
        "SELECT id, prefix, name, routes, rpm, tpm, concurrency, budget, budget_period,"
        " (SELECT COALESCE(SUM(u.cost), 0) FROM gateway_usage u"
        "  WHERE u.key_id = k.id AND u.day >= CASE k.budget_period"
        "  WHEN 'day' THEN date('now') ELSE strftime('%Y-%m-01', 'now') END)"
        " AS spent, created, revoked FROM gateway_keys k ORDER BY id",
        out, err, errlen);
}

int aitag_gateway_usage_list(const char *db, json_t **out, char *err, size_t errlen)
{
    return query_json(db,
                      "SELECT day, key_id, route, model, requests, prompt_tokens,"
                      " completion_tokens, cost, media_seconds, frames FROM gateway_usage"
                      " ORDER BY day, key_id, route, model",
                      out, err, errlen);
}
