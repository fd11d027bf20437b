/*
 * usage.c - usage accounting: per-request sums in memory, written to gateway_usage in batches.
 *
 * Writing each answered request in its own SQLite transaction cost a write lock, a WAL append
 * and (with synchronous=FULL) an fdatasync per request, and workers queued for the lock. Here
 * a worker only adds its request (tokens and cost; for /v1/tag media seconds and frames) to
 * an in-memory row per (day, key, route, model) under a
 * mutex; one flush thread writes all pending rows in one transaction, as soon as there are
 * any but at most once per GW_USAGE_FLUSH_MS, and once more when the gateway stops. Its
 * connection runs with synchronous=NORMAL (WAL stays consistent; a power cut may lose the
 * last commits) and checkpoints the WAL itself, outside the lock. A crash or kill -9 loses at
 * most the counts of the last flush interval (docs/gateway.md).
 *
 * Budgets stay exact within one gateway process: gw_usage_spent adds the rows not yet
 * committed (pending, and those being written) to what the database holds, and the flush
 * commits and forgets its rows under the same mutex, so a check never counts a row twice or
 * misses it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aitag/common.h"
#include "gateway_int.h"

/* Minimum gap between two flushes: bounds them to 40 transactions a second under load, while
 * a lone request is in the table a few milliseconds after it is answered. */
#define GW_USAGE_FLUSH_MS 25

struct usage_row {
    char day[11];
    long long key_id;
    char route[128], model[128];
    long long requests, prompt_tokens, completion_tokens, frames;
    double cost, media_seconds;
};

struct usage_rows {
    struct usage_row *v;
    size_t n, cap;
};

struct gw_usage {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct usage_rows pending;  /* recorded, not yet taken by a flush; guarded by mu */
    struct usage_rows flushing; /* taken by the flush in progress; guarded by mu */
    int stopping, started;
    pthread_t thread;
    pthread_mutex_t flush_mu; /* one flush at a time (the thread, or the final one) */
    sqlite3 *db;              /* the flush's connection, used under flush_mu */
    sqlite3_stmt *upsert;
    unsigned flushes;
};

static struct usage_row *row_find(struct usage_rows *rs, const char *day, long long key_id,
                                  const char *route, const char *model)
{
    for (size_t i = 0; i < rs->n; i++) {
        struct usage_row *u = &rs->v[i];
        if (u->key_id == key_id && strcmp(u->day, day) == 0 && strcmp(u->route, route) == 0 &&
            strcmp(u->model, model) == 0)
            return u;
    }
    return NULL;
}

/* Adds the sums of src into rs (a row per key); -1 when out of memory. */
static int row_add(struct usage_rows *rs, const struct usage_row *src)
{
    struct usage_row *u = row_find(rs, src->day, src->key_id, src->route, src->model);

    if (!u) {
        if (rs->n == rs->cap) {
            size_t cap = rs->cap ? rs->cap * 2 : 8;
            struct usage_row *v = realloc(rs->v, cap * sizeof *v);
            if (!v)
                return -1;
            rs->v = v;
            rs->cap = cap;
        }
        u = &rs->v[rs->n++];
        *u = *src;
        return 0;
    }
    u->requests += src->requests;
    u->prompt_tokens += src->prompt_tokens;
    u->completion_tokens += src->completion_tokens;
    u->cost += src->cost;
    u->media_seconds += src->media_seconds;
    u->frames += src->frames;
    return 0;
}

/* Writes rows in one transaction; 0 or -1 (rolled back). */
static int write_rows(struct gw_usage *u, const struct usage_rows *rs)
{
    if (sqlite3_exec(u->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    for (size_t i = 0; i < rs->n; i++) {
        const struct usage_row *r = &rs->v[i];
        sqlite3_bind_text(u->upsert, 1, r->day, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u->upsert, 2, r->key_id);
        sqlite3_bind_text(u->upsert, 3, r->route, -1, SQLITE_STATIC);
        sqlite3_bind_text(u->upsert, 4, r->model, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u->upsert, 5, r->requests);
        sqlite3_bind_int64(u->upsert, 6, r->prompt_tokens);
        sqlite3_bind_int64(u->upsert, 7, r->completion_tokens);
        sqlite3_bind_double(u->upsert, 8, r->cost);
        sqlite3_bind_double(u->upsert, 9, r->media_seconds);
        sqlite3_bind_int64(u->upsert, 10, r->frames);
        int s = sqlite3_step(u->upsert);
        sqlite3_reset(u->upsert);
        if (s != SQLITE_DONE) {
            sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

int gw_usage_flush(struct gw_usage *u)
{
    int rc = 0;

    if (!u)
        return 0;
    pthread_mutex_lock(&u->flush_mu);
    pthread_mutex_lock(&u->mu);
    {
        struct usage_rows t = u->flushing; /* empty: the last flush left it so */
        u->flushing = u->pending;
        u->pending = t;
        u->pending.n = 0;
    }
    pthread_mutex_unlock(&u->mu);
    if (u->flushing.n == 0)
        goto out;
    rc = write_rows(u, &u->flushing);
    pthread_mutex_lock(&u->mu);
    /* Commit under mu: a budget check sees the rows either here or in the table, never both. */
    if (rc == 0 && sqlite3_exec(u->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
        rc = -1;
    }
    if (rc < 0) { /* keep the counts for the next try */
        aitag_log(AITAG_LOG_WARN, "gateway", "event=usage_write_failed rows=%zu err=\"%s\"",
                  u->flushing.n, sqlite3_errmsg(u->db));
        for (size_t i = 0; i < u->flushing.n; i++)
            if (row_add(&u->pending, &u->flushing.v[i]) < 0)
                aitag_log(AITAG_LOG_ERROR, "gateway", "event=usage_lost reason=no_memory");
    }
    u->flushing.n = 0;
    pthread_mutex_unlock(&u->mu);
    /* The WAL is checkpointed here, outside mu (its fsync must not hold up budget checks). */
    if (rc == 0 && ++u->flushes % 64 == 0)
        sqlite3_wal_checkpoint_v2(u->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
out:
    pthread_mutex_unlock(&u->flush_mu);
    return rc;
}

static void add_ms(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_nsec += ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

static void *flush_main(void *arg)
{
    struct gw_usage *u = arg;

    for (;;) {
        struct timespec ts;
        pthread_mutex_lock(&u->mu);
        while (u->pending.n == 0 && !u->stopping)
            pthread_cond_wait(&u->cv, &u->mu);
        if (u->stopping) {
            pthread_mutex_unlock(&u->mu);
            break; /* gw_usage_close flushes what is left */
        }
        pthread_mutex_unlock(&u->mu);
        gw_usage_flush(u);
        add_ms(&ts, GW_USAGE_FLUSH_MS);
        pthread_mutex_lock(&u->mu);
        while (!u->stopping && pthread_cond_timedwait(&u->cv, &u->mu, &ts) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&u->mu);
    }
    return NULL;
}

int gw_usage_open(const char *path, int thread, struct gw_usage **out, char *err, size_t errlen)
{
    struct gw_usage *u = calloc(1, sizeof *u);
    int rc;

    *out = NULL;
    if (!u)
        return AITAG_ERR_NOMEM;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    pthread_mutex_init(&u->flush_mu, NULL);
    if ((rc = gw_keys_open(path, &u->db, err, errlen)) < 0)
        goto fail;
    rc = AITAG_ERR_DB;
    if (sqlite3_exec(u->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(u->db,
                           "INSERT INTO gateway_usage (day, key_id, route, model, requests,"
                           " prompt_tokens, completion_tokens, cost, media_seconds, frames)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                           " ON CONFLICT (day, key_id, route, model) DO UPDATE SET"
                           " requests = requests + excluded.requests,"
                           " prompt_tokens = prompt_tokens + excluded.prompt_tokens,"
                           " completion_tokens = completion_tokens + excluded.completion_tokens,"
                           " cost = cost + excluded.cost,"
                           " media_seconds = media_seconds + excluded.media_seconds,"
                           " frames = frames + excluded.frames",
                           -1, SQLITE_PREPARE_PERSISTENT, &u->upsert, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "gateway keys db %s: %s", path, sqlite3_errmsg(u->db));
        goto fail;
    }
    if (thread) {
        if (pthread_create(&u->thread, NULL, flush_main, u) != 0) {
            snprintf(err, errlen, "gateway: cannot start the usage thread");
            rc = AITAG_ERR_NOMEM;
            goto fail;
        }
        u->started = 1;
    }
    *out = u;
    return 0;
fail:
    gw_usage_close(u);
    return rc;
}

void gw_usage_close(struct gw_usage *u)
{
    if (!u)
        return;
    if (u->started) {
        pthread_mutex_lock(&u->mu);
        u->stopping = 1;
        pthread_cond_broadcast(&u->cv);
        pthread_mutex_unlock(&u->mu);
        pthread_join(u->thread, NULL);
    }
    if (u->db && gw_usage_flush(u) < 0)
        aitag_log(AITAG_LOG_ERROR, "gateway", "event=usage_lost rows=%zu", u->pending.n);
    sqlite3_finalize(u->upsert);
    sqlite3_close(u->db);
    free(u->pending.v);
    free(u->flushing.v);
    pthread_mutex_destroy(&u->flush_mu);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

void gw_usage_add(struct gw_usage *u, const struct gw_req *r)
{
    struct usage_row row = {0};
    time_t now = time(NULL);
    struct tm tm;
    int was_empty;

    gmtime_r(&now, &tm);
    strftime(row.day, sizeof row.day, "%Y-%m-%d", &tm);
    row.key_id = r->key_id;
    snprintf(row.route, sizeof row.route, "%s", r->route);
    snprintf(row.model, sizeof row.model, "%s", r->model[0] ? r->model : r->route);
    row.requests = 1;
    row.prompt_tokens = r->prompt_tokens;
    row.completion_tokens = r->completion_tokens;
    row.cost = r->cost;
    row.media_seconds = r->media_seconds;
    row.frames = r->frames;
    pthread_mutex_lock(&u->mu);
    was_empty = u->pending.n == 0;
    if (row_add(&u->pending, &row) < 0)
        aitag_log(AITAG_LOG_ERROR, "gateway", "event=usage_lost reason=no_memory request=%s",
                  r->id);
    else if (was_empty) /* the flush thread waits for the first row only */
        pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

double gw_usage_spent(struct gw_usage *u, sqlite3_stmt *sum, long long key_id, const char *start)
{
    double total = -1;

    pthread_mutex_lock(&u->mu);
    sqlite3_bind_int64(sum, 1, key_id);
    sqlite3_bind_text(sum, 2, start, -1, SQLITE_STATIC);
    if (sqlite3_step(sum) == SQLITE_ROW) {
        total = sqlite3_column_double(sum, 0);
        for (int k = 0; k < 2; k++) {
            const struct usage_rows *rs = k ? &u->flushing : &u->pending;
            for (size_t i = 0; i < rs->n; i++)
                if (rs->v[i].key_id == key_id && strcmp(rs->v[i].day, start) >= 0)
                    total += rs->v[i].cost;
        }
        /* Spend is never negative (settle.c refuses negative costs; older files may hold
         * some): -1 means a database error only. */
        if (!(total >= 0))
            total = 0;
    }
    sqlite3_reset(sum); /* ends the read: the next check sees later commits */
    pthread_mutex_unlock(&u->mu);
    return total;
}
