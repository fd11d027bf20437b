/*
 * pg_backend.c - the catalog on PostgreSQL (libpq): one database shared by many machines.
 *
 * A statement is its SQL rewritten once at prepare (SQLite's ? and ?N placeholders become $N;
 * LIKE becomes ILIKE, as SQLite's LIKE ignores ASCII case; quoted text is left alone) and its
 * bound values, sent with PQexecParams at the first step: numbers as text with their type
 * (int8, float8) so a parameter compared with NULL still has one, text as text, blobs in
 * binary as bytea. Results come back as text and are read on demand: integers, floats,
 * booleans ('t'/'f' as 1/0, for SQLite's "x IS NOT NULL" columns), bytea decoded once per
 * row and column.
 *
 * A connection lost (the server restarted) is re-established at the next statement outside a
 * transaction; the one in flight fails with the server's words and its transaction is rolled
 * back by the caller, so a re-run completes it. Server notices (CREATE ... IF NOT EXISTS) are
 * not printed.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

/* PostgreSQL's type OIDs (pg_type.h, fixed since forever). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

struct pg_stmt {
    struct catalog_stmt base;
    char *sql; /* with $N placeholders */
    int n;     /* parameters */
    char **vals;
    int *lens, *fmts;
    Oid *types;
    int nomem; /* a bind could not keep its value */
    PGresult *res;
    int row, nrows, ncols;
    unsigned char **blobs; /* decoded bytea of the current row, per column */
    size_t *blob_lens;
};

#define PG(s) ((struct pg_stmt *)(s))
#define CONN(c) ((PGconn *)(c)->conn)

static const struct catalog_ops pg_ops;

static void set_err(struct aitag_catalog *c, const char *msg)
{
    size_t n;

    c->pg_state[0] = '\0'; /* a result's SQLSTATE is set after, by result_rc */
    free(c->backend_err);
    c->backend_err = strdup(msg && *msg ? msg : "PostgreSQL error");
    if (!c->backend_err)
        return;
    n = strlen(c->backend_err);
    while (n && (c->backend_err[n - 1] == '\n' || c->backend_err[n - 1] == ' '))
        c->backend_err[--n] = '\0';
    if (strncmp(c->backend_err, "ERROR:  ", 8) == 0)
        memmove(c->backend_err, c->backend_err + 8, n - 8 + 1);
}

/* Reconnects a connection the server dropped, between transactions only. */
static void revive(struct aitag_catalog *c)
{
    if (PQstatus(CONN(c)) == CONNECTION_BAD) {
        PQreset(CONN(c));
        c->pg_listening = NULL; /* a new session listens to nothing */
    }
}

static int result_rc(struct aitag_catalog *c, PGresult *res)
{
    ExecStatusType s = PQresultStatus(res);
    const char *state;

    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return CATALOG_OK;
    set_err(c, res ? PQresultErrorMessage(res) : PQerrorMessage(CONN(c)));
    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    aitag_fmt(c->pg_state, sizeof c->pg_state, "%s", state ? state : "");
    return CATALOG_ERROR;
}

int catalog_pg_trouble(const struct aitag_catalog *c)
{
    if (strcmp(c->pg_state, "53100") == 0) /* disk_full */
        return CATALOG_FULL;
    if (strcmp(c->pg_state, "XX001") == 0 || strcmp(c->pg_state, "XX002") == 0)
        return CATALOG_DAMAGED; /* data_corrupted, index_corrupted */
    return 0;
}

static int pg_exec(struct aitag_catalog *c, const char *sql)
{
    PGresult *res;
    int rc;

    if (PQtransactionStatus(CONN(c)) != PQTRANS_INTRANS)
        revive(c);
    res = PQexec(CONN(c), sql);
    rc = result_rc(c, res);
    PQclear(res);
    return rc;
}

static int is_ident(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* SQLite's SQL to PostgreSQL's (see the design note); n: the number of parameters. NULL when
 * out of memory. */
static char *translate(const char *sql, int *n)
{
    size_t len = strlen(sql);
    char *out = malloc(len * 6 + 16), *o = out;
    int last = 0;
    char quote = 0;

    *n = 0;
    if (!out)
        return NULL;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            *o++ = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            *o++ = *p;
        } else if (*p == '?') {
            int idx;
            if (p[1] >= '0' && p[1] <= '9') {
                idx = (int)strtol(p + 1, (char **)&p, 10);
                p--;
            } else {
                idx = last + 1;
            }
            if (idx > last)
                last = idx;
            o += sprintf(o, "$%d", idx);
        } else if ((p == sql || !is_ident(p[-1])) && strncasecmp(p, "LIKE", 4) == 0 &&
                   !is_ident(p[4])) {
            memcpy(o, "ILIKE", 5);
            o += 5;
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *n = last;
    return out;
}

static void clear_blobs(struct pg_stmt *s)
{
    for (int i = 0; s->blobs && i < s->ncols; i++) {
        PQfreemem(s->blobs[i]);
        s->blobs[i] = NULL;
    }
}

static void pg_reset(struct catalog_stmt *st)
{
    struct pg_stmt *s = PG(st);

    clear_blobs(s);
    free(s->blobs);
    free(s->blob_lens);
    s->blobs = NULL;
    s->blob_lens = NULL;
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = s->ncols = 0;
}

static void pg_clear_bindings(struct catalog_stmt *st)
{
    struct pg_stmt *s = PG(st);

    for (int i = 0; i < s->n; i++) {
        free(s->vals[i]);
        s->vals[i] = NULL;
        s->lens[i] = s->fmts[i] = 0;
        s->types[i] = 0;
    }
    s->nomem = 0;
}

static void pg_finalize(struct catalog_stmt *st)
{
    struct pg_stmt *s = PG(st);

    pg_reset(st);
    if (s->vals)
        pg_clear_bindings(st);
    free(s->vals);
    free(s->lens);
    free(s->fmts);
    free(s->types);
    free(s->sql);
    free(s);
}

static int pg_prepare(struct aitag_catalog *c, const char *sql, struct catalog_stmt **out)
{
    struct pg_stmt *s = calloc(1, sizeof *s);

    *out = NULL;
    if (!s || !(s->sql = translate(sql, &s->n)))
        goto nomem;
    s->base.ops = &pg_ops;
    s->base.c = c;
    if (s->n) {
        s->vals = calloc((size_t)s->n, sizeof *s->vals);
        s->lens = calloc((size_t)s->n, sizeof *s->lens);
        s->fmts = calloc((size_t)s->n, sizeof *s->fmts);
        s->types = calloc((size_t)s->n, sizeof *s->types);
        if (!s->vals || !s->lens || !s->fmts || !s->types)
            goto nomem;
    }
    *out = &s->base;
    return CATALOG_OK;
nomem:
    if (s && s->base.ops)
        pg_finalize(&s->base);
    else if (s)
        free(s);
    set_err(c, "out of memory");
    return CATALOG_ERROR;
}

static int pg_param_count(struct catalog_stmt *st)
{
    return PG(st)->n;
}

/* Keeps a copy of n bytes as parameter i (1-based) of type oid, format fmt. */
static void bind(struct catalog_stmt *st, int i, const void *p, size_t n, Oid oid, int fmt)
{
    struct pg_stmt *s = PG(st);
    char *v = NULL;

    if (i < 1 || i > s->n)
        return;
    if (p) {
        v = malloc(n + 1);
        if (!v) {
            s->nomem = 1;
            return;
        }
        memcpy(v, p, n);
        v[n] = '\0';
    }
    free(s->vals[i - 1]);
    s->vals[i - 1] = v;
    s->lens[i - 1] = (int)n;
    s->fmts[i - 1] = fmt;
    s->types[i - 1] = oid;
}

static void pg_bind_int64(struct catalog_stmt *st, int i, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);

    bind(st, i, buf, (size_t)n, OID_INT8, 0);
}

static void pg_bind_double(struct catalog_stmt *st, int i, double v)
{
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.17g", v);

    bind(st, i, buf, (size_t)n, OID_FLOAT8, 0);
}

static void pg_bind_text(struct catalog_stmt *st, int i, const char *s, int len)
{
    if (!s) /* a NULL text: still text, so "?5 IS NULL" has a type */
        bind(st, i, NULL, 0, OID_TEXT, 0);
    else
        bind(st, i, s, len < 0 ? strlen(s) : (size_t)len, OID_TEXT, 0);
}

static void pg_bind_blob(struct catalog_stmt *st, int i, const void *p, int n)
{
    bind(st, i, p ? p : "", (size_t)n, OID_BYTEA, 1);
}

static void pg_bind_null(struct catalog_stmt *st, int i)
{
    bind(st, i, NULL, 0, 0, 0);
}

static int pg_step(struct catalog_stmt *st)
{
    struct pg_stmt *s = PG(st);
    struct aitag_catalog *c = st->c;

    if (!s->res) {
        if (s->nomem) {
            set_err(c, "out of memory");
            return CATALOG_ERROR;
        }
        if (PQtransactionStatus(CONN(c)) != PQTRANS_INTRANS)
            revive(c);
        s->res = PQexecParams(CONN(c), s->sql, s->n, s->types, (const char *const *)s->vals,
                              s->lens, s->fmts, 0);
        if (result_rc(c, s->res) != CATALOG_OK) {
            PQclear(s->res);
            s->res = NULL;
            return CATALOG_ERROR;
        }
        s->nrows = PQntuples(s->res);
        s->ncols = PQnfields(s->res);
        s->row = -1;
        if (s->ncols) {
            s->blobs = calloc((size_t)s->ncols, sizeof *s->blobs);
            s->blob_lens = calloc((size_t)s->ncols, sizeof *s->blob_lens);
            if (!s->blobs || !s->blob_lens) {
                pg_reset(st);
                set_err(c, "out of memory");
                return CATALOG_ERROR;
            }
        }
    }
    clear_blobs(s);
    if (s->row < s->nrows)
        s->row++;
    return s->row < s->nrows ? CATALOG_ROW : CATALOG_DONE;
}

/* The text of column i of the current row, NULL for SQL NULL or no such column. */
static const char *value(struct catalog_stmt *st, int i)
{
    struct pg_stmt *s = PG(st);

    if (!s->res || i < 0 || i >= s->ncols || s->row < 0 || s->row >= s->nrows ||
        PQgetisnull(s->res, s->row, i))
        return NULL;
    return PQgetvalue(s->res, s->row, i);
}

static int pg_column_type(struct catalog_stmt *st, int i)
{
    return value(st, i) ? CATALOG_VALUE : CATALOG_NULL;
}

static double pg_column_double(struct catalog_stmt *st, int i)
{
    const char *v = value(st, i);

    if (!v)
        return 0;
    if (v[0] == 't' && !v[1])
        return 1;
    if (v[0] == 'f' && !v[1])
        return 0;
    return strtod(v, NULL);
}

static int64_t pg_column_int64(struct catalog_stmt *st, int i)
{
    const char *v = value(st, i);

    if (!v)
        return 0;
    if (strpbrk(v, ".eEnNIt"))
        return (int64_t)pg_column_double(st, i);
    return strtoll(v, NULL, 10);
}

static const char *pg_column_text(struct catalog_stmt *st, int i)
{
    return value(st, i);
}

/* Decodes bytea column i of the current row once. */
static const unsigned char *blob(struct catalog_stmt *st, int i, size_t *len)
{
    struct pg_stmt *s = PG(st);
    const char *v = value(st, i);

    *len = 0;
    if (!v)
        return NULL;
    if (PQftype(s->res, i) != OID_BYTEA) {
        *len = strlen(v);
        return (const unsigned char *)v;
    }
    if (!s->blobs[i])
        s->blobs[i] = PQunescapeBytea((const unsigned char *)v, &s->blob_lens[i]);
    *len = s->blob_lens[i];
    return s->blobs[i];
}

static const void *pg_column_blob(struct catalog_stmt *st, int i)
{
    size_t n;

    return blob(st, i, &n);
}

static int pg_column_bytes(struct catalog_stmt *st, int i)
{
    size_t n;

    blob(st, i, &n);
    return (int)n;
}

static const char *pg_errmsg(struct aitag_catalog *c, int rc)
{
    (void)rc;
    return c->backend_err ? c->backend_err : "PostgreSQL error";
}

static int pg_begin(struct aitag_catalog *c)
{
    return pg_exec(c, "BEGIN");
}

static int pg_in_transaction(struct aitag_catalog *c)
{
    PGTransactionStatusType t = PQtransactionStatus(CONN(c));

    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* LISTEN once per connection (again after a reconnect), then wait on its socket. */
static int pg_wait_notify(struct aitag_catalog *c, const char *channel, int timeout_ms)
{
    PGconn *conn = CONN(c);
    PGnotify *n;
    char sql[128];
    struct pollfd pfd;
    int got = 0;

    if (PQstatus(conn) == CONNECTION_BAD)
        revive(c);
    if (c->pg_listening != conn) {
        aitag_fmt(sql, sizeof sql, "LISTEN %s", channel);
        if (pg_exec(c, sql) != CATALOG_OK)
            return -1;
        c->pg_listening = conn;
    }
    pfd.fd = PQsocket(conn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (pfd.fd >= 0 && poll(&pfd, 1, timeout_ms) > 0 && !PQconsumeInput(conn)) {
        set_err(c, PQerrorMessage(conn));
        c->pg_listening = NULL;
        return -1;
    }
    while ((n = PQnotifies(conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

static void pg_close(struct aitag_catalog *c)
{
    PQfinish(CONN(c));
    c->conn = NULL;
}

static const struct catalog_ops pg_ops = {
    .name = "postgresql",
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .clear_bindings = pg_clear_bindings,
    .param_count = pg_param_count,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_type = pg_column_type,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .column_bytes = pg_column_bytes,
    .errmsg = pg_errmsg,
    .begin = pg_begin,
    .in_transaction = pg_in_transaction,
    .wait_notify = pg_wait_notify,
    .close = pg_close,
};

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int catalog_pg_connect(struct aitag_catalog *c, const char *url)
{
    PGconn *conn;

    if (c->ops)
        c->ops->close(c);
    c->ops = &pg_ops;
    conn = PQconnectdb(url);
    c->conn = conn;
    if (!conn) {
        aitag_fmt(c->errmsg, sizeof c->errmsg, "cannot connect: out of memory");
        return AITAG_ERR_NOMEM;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        set_err(c, PQerrorMessage(conn));
        aitag_fmt(c->errmsg, sizeof c->errmsg, "cannot connect: %s", pg_errmsg(c, 0));
        return AITAG_ERR_DB;
    }
    PQsetNoticeProcessor(conn, quiet, NULL);
    return catalog_sql_check(c, pg_exec(c, "SET client_min_messages = warning"), "connect");
}
