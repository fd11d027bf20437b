/* sql.h - the catalog's SQL statements over either backend (SQLite or PostgreSQL).
 *
 * The catalog's files speak one SQL text through one statement interface modelled on
 * SQLite's: prepare, bind (1-based), step to CATALOG_ROW until CATALOG_DONE, read columns
 * (0-based), reset, finalize. A backend is a table of functions (struct catalog_ops); a
 * statement starts with the base struct catalog_stmt. The SQL is SQLite's where both agree
 * (placeholders ?, ?N; ON CONFLICT; RETURNING); the PostgreSQL backend rewrites placeholders
 * to $N and LIKE to ILIKE (SQLite's LIKE ignores ASCII case), and the few statements with no
 * common form choose their text with catalog_sql_is_pg. The common form, for whoever writes
 * a statement: quote "end"; upsert with ON CONFLICT(columns) (no INSERT OR ...); a new id by
 * RETURNING id; IS [NOT] DISTINCT FROM, not IS ?; a parameter that may be NULL with nothing
 * else to type it as CAST(? AS TEXT); truth values as integers compared (?1 <> 0, CASE WHEN
 * ... THEN 1 ELSE 0 END), never summed or ORed; every column of a grouped SELECT grouped or
 * aggregated; a subquery in FROM named; no scalar min()/max() of two values (CASE); a LIMIT
 * through catalog_bind_limit. tests/integration/catalog_backends.sh runs both. */
#ifndef AITAG_CATALOG_SQL_H
#define AITAG_CATALOG_SQL_H

#include <stddef.h>
#include <stdint.h>

struct aitag_catalog;

/* Result codes: the numbers are SQLite's own, so its codes pass through unchanged. */
enum { CATALOG_OK = 0, CATALOG_ERROR = 1, CATALOG_ROW = 100, CATALOG_DONE = 101 };
/* Column types (catalog_column_type): only NULL or not is portable. */
enum { CATALOG_VALUE = 1, CATALOG_NULL = 5 };

struct catalog_stmt {
    const struct catalog_ops *ops;
    struct aitag_catalog *c;
};

struct catalog_ops {
    const char *name; /* "sqlite" or "postgresql" */
    int (*exec)(struct aitag_catalog *c, const char *sql);
    int (*prepare)(struct aitag_catalog *c, const char *sql, struct catalog_stmt **st);
    void (*finalize)(struct catalog_stmt *st);
    void (*reset)(struct catalog_stmt *st);
    void (*clear_bindings)(struct catalog_stmt *st);
    int (*param_count)(struct catalog_stmt *st);
    void (*bind_int64)(struct catalog_stmt *st, int i, int64_t v);
    void (*bind_double)(struct catalog_stmt *st, int i, double v);
    void (*bind_text)(struct catalog_stmt *st, int i, const char *s, int len);
    void (*bind_blob)(struct catalog_stmt *st, int i, const void *p, int n);
    void (*bind_null)(struct catalog_stmt *st, int i);
    int (*step)(struct catalog_stmt *st);
    int (*column_type)(struct catalog_stmt *st, int i);
    int64_t (*column_int64)(struct catalog_stmt *st, int i);
    double (*column_double)(struct catalog_stmt *st, int i);
    const char *(*column_text)(struct catalog_stmt *st, int i);
    const void *(*column_blob)(struct catalog_stmt *st, int i);
    int (*column_bytes)(struct catalog_stmt *st, int i);
    /* The backend's words for a failing result code of the last call. */
    const char *(*errmsg)(struct aitag_catalog *c, int rc);
    /* Starts a write transaction (SQLite: BEGIN IMMEDIATE). */
    int (*begin)(struct aitag_catalog *c);
    int (*in_transaction)(struct aitag_catalog *c);
    /* Waits up to timeout_ms for a notification on channel (PostgreSQL LISTEN/NOTIFY; SQLite,
     * which has none: sleeps, at most a quarter second). 1 notified, 0 timed out, < 0 error. */
    int (*wait_notify)(struct aitag_catalog *c, const char *channel, int timeout_ms);
    void (*close)(struct aitag_catalog *c);
};

int catalog_sql_is_pg(const struct aitag_catalog *c);

/* Statements (see the design note). The binders never fail: a failure to keep a value (out of
 * memory) surfaces at catalog_step as an error. Text and blobs are copied or must stay alive
 * until the statement is reset or finalized (SQLite keeps the pointer). */
static inline void catalog_finalize(struct catalog_stmt *st)
{
    if (st)
        st->ops->finalize(st);
}
static inline void catalog_reset(struct catalog_stmt *st)
{
    st->ops->reset(st);
}
static inline void catalog_clear_bindings(struct catalog_stmt *st)
{
    st->ops->clear_bindings(st);
}
static inline int catalog_param_count(struct catalog_stmt *st)
{
    return st->ops->param_count(st);
}
static inline void catalog_bind_int64(struct catalog_stmt *st, int i, int64_t v)
{
    st->ops->bind_int64(st, i, v);
}
static inline void catalog_bind_int(struct catalog_stmt *st, int i, int v)
{
    st->ops->bind_int64(st, i, v);
}
static inline void catalog_bind_double(struct catalog_stmt *st, int i, double v)
{
    st->ops->bind_double(st, i, v);
}
static inline void catalog_bind_text(struct catalog_stmt *st, int i, const char *s, int len)
{
    st->ops->bind_text(st, i, s, len);
}
static inline void catalog_bind_blob(struct catalog_stmt *st, int i, const void *p, int n)
{
    st->ops->bind_blob(st, i, p, n);
}
static inline void catalog_bind_null(struct catalog_stmt *st, int i)
{
    st->ops->bind_null(st, i);
}
/* A LIMIT's value: limit, or no limit when limit <= 0 (SQLite: -1, PostgreSQL: NULL). */
static inline void catalog_bind_limit(struct catalog_stmt *st, int i, int64_t limit)
{
    if (limit > 0)
        st->ops->bind_int64(st, i, limit);
    else if (catalog_sql_is_pg(st->c))
        st->ops->bind_null(st, i);
    else
        st->ops->bind_int64(st, i, -1);
}
static inline int catalog_step(struct catalog_stmt *st)
{
    return st->ops->step(st);
}
static inline int catalog_column_type(struct catalog_stmt *st, int i)
{
    return st->ops->column_type(st, i);
}
static inline int64_t catalog_column_int64(struct catalog_stmt *st, int i)
{
    return st->ops->column_int64(st, i);
}
static inline int catalog_column_int(struct catalog_stmt *st, int i)
{
    return (int)st->ops->column_int64(st, i);
}
static inline double catalog_column_double(struct catalog_stmt *st, int i)
{
    return st->ops->column_double(st, i);
}
static inline const char *catalog_column_text(struct catalog_stmt *st, int i)
{
    return st->ops->column_text(st, i);
}
static inline const void *catalog_column_blob(struct catalog_stmt *st, int i)
{
    return st->ops->column_blob(st, i);
}
static inline int catalog_column_bytes(struct catalog_stmt *st, int i)
{
    return st->ops->column_bytes(st, i);
}

/* Backends (sqlite_backend.c, pg_backend.c): connect c to target, setting c->ops and
 * c->conn; on failure c->errmsg (and for SQLite c->sql_rc) say why. */
int catalog_sqlite_connect(struct aitag_catalog *c, const char *path, int readonly, int create);
/* Why a SQLite open of path failed, in a user's words (after catalog_sqlite_connect). */
void catalog_sqlite_open_reason(const struct aitag_catalog *c, const char *path, char *buf,
                                size_t len);
int catalog_pg_connect(struct aitag_catalog *c, const char *url);

/* The schema: each backend's migrations, one per schema version (schema_sqlite.c,
 * schema_pg.c). */
extern const char *const catalog_sqlite_migrations[];
extern const char *const catalog_pg_migrations[];

#endif
