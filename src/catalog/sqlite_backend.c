/*
 * sqlite_backend.c - the catalog on SQLite, the embedded default: one file, one connection per
 * handle.
 *
 * The statement interface (sql.h) is SQLite's own, so every call passes straight through.
 * WAL + synchronous=NORMAL keeps a commit per media item cheap while a crash still loses at
 * most the last transaction; a write transaction is BEGIN IMMEDIATE, so two writers queue at
 * its start instead of one failing at its first write. Several processes share a catalog (two
 * `aitag tag` runs, a worker, the web UI), so a writer waits for the write lock as long as
 * CATALOG_BUSY_MS (busy timeout) before failing, and the few calls SQLite answers "busy"
 * without waiting (switching to WAL while another connection opens the new file, a lock
 * needed during WAL recovery) are retried here for as long; a catalog still locked then fails
 * with words that say so, not SQLite's bare "database is locked".
 *
 * An open that fails states its reason once, in the words a user can act on: the system error
 * SQLite saw (permission denied, read-only file system, no space left) when there is one,
 * else SQLite's own verdict (not a database).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog_int.h"

_Static_assert(CATALOG_ROW == SQLITE_ROW && CATALOG_DONE == SQLITE_DONE &&
                   CATALOG_OK == SQLITE_OK && CATALOG_ERROR == SQLITE_ERROR &&
                   CATALOG_NULL == SQLITE_NULL,
               "the catalog's result codes are SQLite's");

struct lite_stmt {
    struct catalog_stmt base;
    sqlite3_stmt *st;
};

#define LITE(s) (((struct lite_stmt *)(s))->st)
#define DB(c) ((sqlite3 *)(c)->conn)

/* How long a writer waits for another process's write lock before failing. */
#define CATALOG_BUSY_S 300
#define CATALOG_BUSY_MS (CATALOG_BUSY_S * 1000)
#define STR_(x) #x
#define STR(x) STR_(x)

static int busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY;
}

/* Runs sql, retrying for up to CATALOG_BUSY_MS while SQLite answers busy without having
 * waited itself (see the design note); within a transaction the caller's own rollback and
 * retry would be needed, so only a statement outside one is retried. */
static int exec_waiting(sqlite3 *db, const char *sql)
{
    double until = aitag_now() + CATALOG_BUSY_MS / 1000.0;
    int rc;

    while (busy(rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) && sqlite3_get_autocommit(db) &&
           aitag_now() < until) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static int lite_exec(struct aitag_catalog *c, const char *sql)
{
    return sqlite3_exec(DB(c), sql, NULL, NULL, NULL);
}

static const struct catalog_ops lite_ops;

static int lite_prepare(struct aitag_catalog *c, const char *sql, struct catalog_stmt **out)
{
    struct lite_stmt *s = calloc(1, sizeof *s);
    int rc;

    *out = NULL;
    if (!s)
        return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(DB(c), sql, -1, &s->st, NULL);
    if (rc != SQLITE_OK) {
        free(s);
        return rc;
    }
    s->base.ops = &lite_ops;
    s->base.c = c;
    *out = &s->base;
    return SQLITE_OK;
}

static void lite_finalize(struct catalog_stmt *st)
{
    sqlite3_finalize(LITE(st));
    free(st);
}

static void lite_reset(struct catalog_stmt *st)
{
    sqlite3_reset(LITE(st));
}

static void lite_clear_bindings(struct catalog_stmt *st)
{
    sqlite3_clear_bindings(LITE(st));
}

static int lite_param_count(struct catalog_stmt *st)
{
    return sqlite3_bind_parameter_count(LITE(st));
}

static void lite_bind_int64(struct catalog_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(LITE(st), i, v);
}

static void lite_bind_double(struct catalog_stmt *st, int i, double v)
{
    sqlite3_bind_double(LITE(st), i, v);
}

static void lite_bind_text(struct catalog_stmt *st, int i, const char *s, int len)
{
    sqlite3_bind_text(LITE(st), i, s, len, SQLITE_TRANSIENT);
}

static void lite_bind_blob(struct catalog_stmt *st, int i, const void *p, int n)
{
    sqlite3_bind_blob(LITE(st), i, p, n, SQLITE_TRANSIENT);
}

static void lite_bind_null(struct catalog_stmt *st, int i)
{
    sqlite3_bind_null(LITE(st), i);
}

static int lite_step(struct catalog_stmt *st)
{
    return sqlite3_step(LITE(st));
}

static int lite_column_type(struct catalog_stmt *st, int i)
{
    return sqlite3_column_type(LITE(st), i) == SQLITE_NULL ? CATALOG_NULL : CATALOG_VALUE;
}

static int64_t lite_column_int64(struct catalog_stmt *st, int i)
{
    return sqlite3_column_int64(LITE(st), i);
}

static double lite_column_double(struct catalog_stmt *st, int i)
{
    return sqlite3_column_double(LITE(st), i);
}

static const char *lite_column_text(struct catalog_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(LITE(st), i);
}

static const void *lite_column_blob(struct catalog_stmt *st, int i)
{
    return sqlite3_column_blob(LITE(st), i);
}

static int lite_column_bytes(struct catalog_stmt *st, int i)
{
    return sqlite3_column_bytes(LITE(st), i);
}

static const char *lite_errmsg(struct aitag_catalog *c, int rc)
{
    if (busy(rc))
        return "the catalog is in use: another process held its write lock for more than " STR(
            CATALOG_BUSY_S) " s (database is locked)";
    return c->conn ? sqlite3_errmsg(DB(c)) : sqlite3_errstr(rc);
}

static int lite_begin(struct aitag_catalog *c)
{
    return exec_waiting(DB(c), "BEGIN IMMEDIATE");
}

static int lite_in_transaction(struct aitag_catalog *c)
{
    return !sqlite3_get_autocommit(DB(c));
}

static int lite_wait_notify(struct aitag_catalog *c, const char *channel, int timeout_ms)
{
    struct timespec ts;

    (void)c, (void)channel;
    if (timeout_ms > 250)
        timeout_ms = 250;
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
    return 0;
}

static void lite_close(struct aitag_catalog *c)
{
    sqlite3_close_v2(DB(c));
    c->conn = NULL;
}

static const struct catalog_ops lite_ops = {
    .name = "sqlite",
    .exec = lite_exec,
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .reset = lite_reset,
    .clear_bindings = lite_clear_bindings,
    .param_count = lite_param_count,
    .bind_int64 = lite_bind_int64,
    .bind_double = lite_bind_double,
    .bind_text = lite_bind_text,
    .bind_blob = lite_bind_blob,
    .bind_null = lite_bind_null,
    .step = lite_step,
    .column_type = lite_column_type,
    .column_int64 = lite_column_int64,
    .column_double = lite_column_double,
    .column_text = lite_column_text,
    .column_blob = lite_column_blob,
    .column_bytes = lite_column_bytes,
    .errmsg = lite_errmsg,
    .begin = lite_begin,
    .in_transaction = lite_in_transaction,
    .wait_notify = lite_wait_notify,
    .close = lite_close,
};

const char *catalog_errno_reason(int e)
{
    return e == EACCES || e == EPERM ? "permission denied"
           : e == EROFS              ? "read-only file system"
                                     : strerror(e);
}

/* The errno of opening path for reading and writing (or creating it in its folder); SQLite's
 * own system errno may belong to a side file it probed last. */
static int probe_errno(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');

    if (access(path, F_OK) == 0)
        return access(path, R_OK | W_OK) == 0 ? 0 : errno;
    if (errno != ENOENT) /* e.g. a file where a folder should be */
        return errno;
    if (!slash)
        aitag_fmt(dir, sizeof dir, ".");
    else
        aitag_fmt(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

/* Why opening path failed, once and in a user's words (see the design note). */
void catalog_sqlite_open_reason(const struct aitag_catalog *c, const char *path, char *buf,
                                size_t len)
{
    int primary = c->sql_rc & 0xff, sys = c->conn ? sqlite3_system_errno(DB(c)) : 0;

    if (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_PERM) {
        int probed = probe_errno(path);
        if (probed)
            sys = probed;
    }
    if (primary == SQLITE_NOTADB)
        aitag_fmt(buf, len, "not a database");
    else if (primary == SQLITE_CORRUPT)
        aitag_fmt(buf, len,
                  "damaged (%s); `aitag catalog check` lists the damage, `aitag catalog restore "
                  "BACKUP` puts a backup back",
                  sqlite3_errstr(SQLITE_CORRUPT));
    else if (primary == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT)
        aitag_fmt(buf, len, "disk full (no space left on device)");
    else if (sys == EROFS)
        aitag_fmt(buf, len, "read-only file system");
    else if (primary == SQLITE_READONLY)
        aitag_fmt(buf, len, "read-only (%s)",
                  sys ? catalog_errno_reason(sys) : "no write permission");
    else if (sys)
        aitag_fmt(buf, len, "%s", catalog_errno_reason(sys));
    else
        aitag_fmt(buf, len, "%s", c->conn ? sqlite3_errmsg(DB(c)) : sqlite3_errstr(c->sql_rc));
}

int catalog_sqlite_trouble(struct aitag_catalog *c, int rc)
{
    int e;

    switch (rc & 0xff) {
    case SQLITE_FULL:
        return CATALOG_FULL;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return CATALOG_DAMAGED;
    case SQLITE_IOERR: /* a write or an allocation of the file refused for want of space */
        e = c->conn ? sqlite3_system_errno(DB(c)) : 0;
        return e == ENOSPC || e == EDQUOT ? CATALOG_FULL : 0;
    default:
        return 0;
    }
}

/* (Re)connects c to path, in WAL mode when writable. */
int catalog_sqlite_connect(struct aitag_catalog *c, const char *path, int readonly, int create)
{
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, rc;
    sqlite3 *db = NULL;

    if (c->ops)
        c->ops->close(c);
    c->ops = &lite_ops;
    if (create && !readonly)
        flags |= SQLITE_OPEN_CREATE;
    rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    c->conn = db; /* on failure too: it holds the error */
    rc = catalog_sql_check(c, rc, "open");
    if (rc < 0)
        return rc;
    sqlite3_busy_timeout(db, CATALOG_BUSY_MS);
    /* SQLite quietly opens a file it may not write read-only; writing would fail later. */
    if (!readonly && sqlite3_db_readonly(db, "main") == 1)
        return catalog_sql_check(c, SQLITE_READONLY, "open");
    if (!readonly)
        rc = catalog_sql_check(
            c, exec_waiting(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"), "open");
    if (rc == 0)
        rc = catalog_sql_exec(c, "PRAGMA foreign_keys=ON");
    return rc;
}
