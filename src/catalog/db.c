/*
 * db.c - opening the catalog on its backend, and its schema migrations (the SQL layer and its
 * error boundary: sql.c).
 *
 * The catalog is a SQLite file (a path: the embedded default) or a PostgreSQL database (a
 * postgresql:// or postgres:// URL, shared by many machines: docs/scale.md). Both hold the
 * same tables; each backend has its migration scripts, one per schema version (schema_*.c).
 * SQLite records how many ran in PRAGMA user_version, PostgreSQL in the table aitag_schema;
 * they run in one write transaction (PostgreSQL: under an advisory lock) so two processes
 * opening a fresh catalog at once cannot both migrate.
 *
 * A writable open of a file creates the folders above it first; a read-only open of an older
 * schema upgrades it once through a short read-write connection, so `show` after an upgrade
 * of aitag needs no `tag` run first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_int.h"

/* The lock key migrations take on PostgreSQL (pg_advisory_xact_lock): "aitag" in ASCII,
 * 0x616974616700. */
#define PG_MIGRATE_LOCK "107105552000768"

static void newer_schema(struct aitag_catalog *c, int version)
{
    c->sql_rc = 0; /* not the backend's error: the message below is the reason */
    aitag_fmt(c->errmsg, sizeof c->errmsg,
              "catalog schema version %d is newer than this aitag knows (%d)", version,
              AITAG_CATALOG_SCHEMA_VERSION);
}

/* The schema version the catalog is at (0: new). */
static int schema_version(struct aitag_catalog *c, int *version)
{
    struct catalog_stmt *st = NULL;
    int rc, step;

    *version = 0;
    if (catalog_sql_is_pg(c))
        rc = catalog_sql_prepare(c,
                                 "SELECT coalesce((SELECT max(version) FROM aitag_schema), 0)"
                                 " WHERE to_regclass('aitag_schema') IS NOT NULL",
                                 &st);
    else
        rc = catalog_sql_prepare(c, "PRAGMA user_version", &st);
    if (rc == 0) {
        step = catalog_step(st);
        if (step == CATALOG_ROW)
            *version = catalog_column_int(st, 0);
        else
            rc = catalog_sql_check(c, step, "schema version");
    }
    catalog_finalize(st);
    return rc;
}

static int migrate(struct aitag_catalog *c)
{
    int pg = catalog_sql_is_pg(c), version = 0, rc, n = AITAG_CATALOG_SCHEMA_VERSION;
    const char *const *scripts = pg ? catalog_pg_migrations : catalog_sqlite_migrations;
    char sql[96];

    rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    if (pg)
        rc = catalog_sql_exec(c,
                              "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ");"
                              "CREATE TABLE IF NOT EXISTS aitag_schema(version INTEGER NOT NULL)");
    if (rc == 0)
        rc = schema_version(c, &version);
    if (rc < 0)
        goto out;
    if (version > n) {
        newer_schema(c, version);
        rc = AITAG_ERR_DB;
        goto out;
    }
    for (int v = version; v < n; v++) {
        rc = catalog_sql_exec(c, scripts[v]);
        if (rc < 0)
            goto out;
    }
    if (version != n) {
        rc = catalog_sql_exec(c, pg ? aitag_fmt(sql, sizeof sql,
                                                "DELETE FROM aitag_schema;"
                                                "INSERT INTO aitag_schema VALUES(%d)",
                                                n)
                                    : aitag_fmt(sql, sizeof sql, "PRAGMA user_version = %d", n));
        if (rc < 0)
            goto out;
    }
    rc = catalog_sql_commit(c);
out:
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

/* Creates the folders above path, like mkdir -p of its dirname. */
static int make_parents(const char *path, char *errbuf, size_t errlen)
{
    char dir[4096];

    if (strlen(path) >= sizeof dir) {
        aitag_fmt(errbuf, errlen, "%s: path too long", path);
        return AITAG_ERR_INVALID;
    }
    aitag_fmt(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            aitag_fmt(errbuf, errlen, "%s: cannot create folder %s: %s", path, dir,
                      catalog_errno_reason(errno));
            return AITAG_ERR_IO;
        }
        *p = '/';
    }
    return 0;
}

static int is_pg_url(const char *target)
{
    return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
}

/* Opens the PostgreSQL catalog at url: connects and migrates (readonly or not: a shared
 * catalog is always at the schema its workers know). */
static int open_pg(struct aitag_catalog *c, const char *url)
{
    int rc = catalog_pg_connect(c, url);

    return rc < 0 ? rc : migrate(c);
}

/* After an unclean end (open_state.c): PRAGMA quick_check before anything reads or writes
 * more. 0 when sound; AITAG_ERR_DB with the first problem on the handle. */
static int check_on_open(struct aitag_catalog *c, const char *path)
{
    struct catalog_stmt *st = NULL;
    const char *first;
    double t0 = aitag_now();
    int rc, step;

    rc = catalog_sql_prepare(c, "PRAGMA quick_check(1)", &st);
    if (rc < 0)
        return rc;
    step = catalog_step(st);
    if (step != CATALOG_ROW) {
        rc = catalog_sql_check(c, step, "quick_check");
        goto out;
    }
    first = catalog_column_text(st, 0);
    if (first && strcmp(first, "ok") != 0) {
        char problem[256];
        c->sql_rc = 0;
        c->trouble = CATALOG_DAMAGED;
        aitag_fmt(c->errmsg, sizeof c->errmsg,
                  "damaged: %s (found on opening it after a session that did not close "
                  "cleanly); `aitag catalog check` lists the damage, `aitag catalog restore "
                  "BACKUP` puts a backup back",
                  catalog_problem_text(first, problem, sizeof problem));
        rc = AITAG_ERR_DB;
    }
    aitag_log(AITAG_LOG_INFO, "catalog", "event=check_on_open path=%s ok=%d seconds=%.3f", path,
              rc == 0, aitag_now() - t0);
out:
    catalog_finalize(st);
    return rc;
}

/* Opens the SQLite catalog file at path (see the design note on read-only opens). */
static int open_sqlite(struct aitag_catalog *c, const char *path, int readonly, char *errbuf,
                       size_t errlen)
{
    int rc, version = 0, suspect = 0, sound = 0;

    if (readonly && access(path, F_OK) != 0) {
        aitag_fmt(errbuf, errlen, "%s: no catalog here yet", path);
        return AITAG_ERR_NOTFOUND;
    }
    if (!readonly && (rc = make_parents(path, errbuf, errlen)) < 0)
        return rc;
    if (!(c->path = strdup(path))) {
        aitag_fmt(errbuf, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    catalog_state_open(&c->state, path, readonly, &suspect);
    rc = catalog_sqlite_connect(c, path, readonly, 1);
    if (rc == 0 && suspect)
        sound = (rc = check_on_open(c, path)) == 0;
    if (rc == 0 && !readonly)
        rc = migrate(c);
    if (rc == 0 && readonly)
        rc = schema_version(c, &version); /* also reads the header: "not a database" here */
    if (rc == 0 && readonly && version < AITAG_CATALOG_SCHEMA_VERSION) {
        rc = catalog_sqlite_connect(c, path, 0, 0);
        if (rc == 0)
            rc = migrate(c);
        if (rc == 0)
            rc = catalog_sqlite_connect(c, path, 1, 0);
    }
    if (rc == 0 && readonly && version > AITAG_CATALOG_SCHEMA_VERSION) {
        newer_schema(c, version);
        rc = AITAG_ERR_DB;
    }
    catalog_state_settle(&c->state, sound);
    if (rc < 0) {
        char reason[256];
        if (c->sql_rc)
            catalog_sqlite_open_reason(c, path, reason, sizeof reason);
        aitag_fmt(errbuf, errlen, "%s: %s", path, c->sql_rc ? reason : c->errmsg);
    }
    return rc;
}

int aitag_catalog_open(const char *path, int readonly, struct aitag_catalog **out, char *errbuf,
                       size_t errlen)
{
    struct aitag_catalog *c = calloc(1, sizeof *c);
    int rc;

    *out = NULL;
    if (!c) {
        aitag_fmt(errbuf, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    if (is_pg_url(path)) {
        rc = open_pg(c, path);
        char name[512];
        if (rc < 0)
            aitag_fmt(errbuf, errlen, "%s: %s", aitag_catalog_target_name(path, name, sizeof name),
                      c->errmsg);
    } else {
        rc = open_sqlite(c, path, readonly, errbuf, errlen);
    }
    if (rc < 0) {
        aitag_catalog_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void aitag_catalog_close(struct aitag_catalog *c)
{
    if (!c)
        return;
    if (c->ops)
        c->ops->close(c);
    if (c->path)
        catalog_state_close(&c->state); /* after SQLite let go of the file */
    free(c->path);
    free(c->backend_err);
    free(c);
}

int aitag_catalog_is_url(const char *target)
{
    return is_pg_url(target);
}

const char *aitag_catalog_target_name(const char *target, char *buf, size_t len)
{
    const char *scheme = strstr(target, "://"), *at, *colon;

    if (!is_pg_url(target) || !scheme)
        return aitag_fmt(buf, len, "%s", target);
    scheme += 3;
    at = strchr(scheme, '@');
    colon = at ? memchr(scheme, ':', (size_t)(at - scheme)) : NULL;
    if (!colon)
        return aitag_fmt(buf, len, "%s", target);
    return aitag_fmt(buf, len, "%.*s:***%s", (int)(colon - target), target, at);
}

const char *aitag_catalog_errmsg(const struct aitag_catalog *c)
{
    return c->errmsg;
}

int aitag_catalog_count(struct aitag_catalog *c, const char *table, int64_t *n)
{
    static const char *const known[] = {"media",  "runs",    "analyses",    "evidence",
                                        "tags",   "markers", "texts",       "shots",
                                        "people", "faces",   "face_rejects"};
    struct catalog_stmt *st = NULL;
    char sql[64];
    int rc = AITAG_ERR_INVALID;

    *n = 0;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(known[i], table) == 0)
            rc = 0;
    if (rc < 0)
        return rc;
    rc = catalog_sql_prepare(c, aitag_fmt(sql, sizeof sql, "SELECT count(*) FROM %s", table), &st);
    if (rc == 0) {
        int step = catalog_step(st);
        if (step == CATALOG_ROW)
            *n = catalog_column_int64(st, 0);
        else
            rc = catalog_sql_check(c, step, "count");
    }
    catalog_finalize(st);
    return rc;
}
