/*
 * db.c - opening the catalog, its schema migrations, and the SQLite error boundary.
 *
 * Migrations are an ordered list of SQL scripts; PRAGMA user_version records how many ran.
 * They run in one IMMEDIATE transaction so two processes opening a fresh catalog at once
 * cannot both migrate. WAL + synchronous=NORMAL keeps a commit per media item cheap while a
 * crash still loses at most the last transaction; busy_timeout lets a second process wait
 * instead of failing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_int.h"

static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE media("
    " id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER, mtime_ns INTEGER,"
    " fingerprint TEXT, kind TEXT, duration REAL, width INTEGER, height INTEGER,"
    " container TEXT, video_codec TEXT, audio_codec TEXT, fps REAL, rotation INTEGER,"
    " bit_rate INTEGER, derive_key TEXT, status TEXT NOT NULL DEFAULT 'ok', error TEXT,"
    " updated_at INTEGER);"
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY, started_at INTEGER, finished_at INTEGER, version TEXT,"
    " params TEXT, tagged INTEGER, skipped INTEGER, failed INTEGER);"
    "CREATE TABLE analyses("
    " media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, analyzer TEXT NOT NULL,"
    " key TEXT NOT NULL, interval REAL, n_frames INTEGER, strategy TEXT, run_id INTEGER,"
    " created_at INTEGER, PRIMARY KEY(media_id, analyzer));"
    "CREATE TABLE evidence("
    " id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,"
    " analyzer TEXT NOT NULL, label TEXT NOT NULL, confidence REAL NOT NULL, t REAL NOT NULL,"
    " x REAL, y REAL, w REAL, h REAL, text TEXT, extra TEXT);"
    "CREATE INDEX evidence_media ON evidence(media_id, analyzer);"
    "CREATE TABLE tags("
    " media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, name TEXT NOT NULL,"
    " parent TEXT, label TEXT, confidence REAL, coverage REAL, PRIMARY KEY(media_id, name));"
    "CREATE INDEX tags_name ON tags(name COLLATE NOCASE);"
    "CREATE TABLE markers("
    " id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,"
    " tag TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL, confidence REAL);"
    "CREATE INDEX markers_media ON markers(media_id);"
    "CREATE TABLE texts("
    " id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,"
    " start REAL NOT NULL, end REAL NOT NULL, text TEXT NOT NULL, confidence REAL);"
    "CREATE INDEX texts_media ON texts(media_id);",
};

int catalog_sql_check(struct aitag_catalog *c, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    aitag_fmt(c->errmsg, sizeof c->errmsg, "%s: %s", what,
              c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    return AITAG_ERR_DB;
}

int catalog_sql_exec(struct aitag_catalog *c, const char *sql)
{
    return catalog_sql_check(c, sqlite3_exec(c->db, sql, NULL, NULL, NULL), "exec");
}

int catalog_sql_prepare(struct aitag_catalog *c, const char *sql, sqlite3_stmt **st)
{
    return catalog_sql_check(c, sqlite3_prepare_v2(c->db, sql, -1, st, NULL), "prepare");
}

int catalog_sql_begin(struct aitag_catalog *c)
{
    return catalog_sql_exec(c, "BEGIN IMMEDIATE");
}

int catalog_sql_commit(struct aitag_catalog *c)
{
    return catalog_sql_exec(c, "COMMIT");
}

void catalog_sql_rollback(struct aitag_catalog *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int migrate(struct aitag_catalog *c)
{
    sqlite3_stmt *st = NULL;
    int version = 0, rc, n = (int)(sizeof migrations / sizeof *migrations);
    char sql[64];

    rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    rc = catalog_sql_prepare(c, "PRAGMA user_version", &st);
    if (rc < 0)
        goto out;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    if (version > n) {
        aitag_fmt(c->errmsg, sizeof c->errmsg,
                  "catalog schema version %d is newer than this aitag knows (%d)", version, n);
        rc = AITAG_ERR_DB;
        goto out;
    }
    for (int v = version; v < n; v++) {
        rc = catalog_sql_exec(c, migrations[v]);
        if (rc < 0)
            goto out;
    }
    if (version != n) {
        rc = catalog_sql_exec(c, aitag_fmt(sql, sizeof sql, "PRAGMA user_version = %d", n));
        if (rc < 0)
            goto out;
    }
    rc = catalog_sql_commit(c);
out:
    sqlite3_finalize(st);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_open(const char *path, int readonly, struct aitag_catalog **out, char *errbuf,
                       size_t errlen)
{
    struct aitag_catalog *c = calloc(1, sizeof *c);
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc;

    *out = NULL;
    if (!c) {
        aitag_fmt(errbuf, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    if (readonly && access(path, F_OK) != 0) {
        aitag_fmt(errbuf, errlen, "%s: no catalog here yet", path);
        rc = AITAG_ERR_NOTFOUND;
        goto out;
    }
    rc = catalog_sql_check(c, sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL),
                           path);
    if (rc < 0)
        goto out;
    sqlite3_busy_timeout(c->db, 10000);
    if (!readonly) {
        rc = catalog_sql_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        if (rc < 0)
            goto out;
    }
    rc = catalog_sql_exec(c, "PRAGMA foreign_keys=ON");
    if (rc == 0 && !readonly)
        rc = migrate(c);
out:
    if (rc < 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", path, c->errmsg[0] ? c->errmsg : "cannot open");
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
    sqlite3_close_v2(c->db);
    free(c);
}

const char *aitag_catalog_errmsg(const struct aitag_catalog *c)
{
    return c->errmsg;
}

int aitag_catalog_count(struct aitag_catalog *c, const char *table, int64_t *n)
{
    static const char *const known[] = {"media", "runs", "analyses", "evidence",
                                        "tags",  "markers", "texts"};
    sqlite3_stmt *st = NULL;
    char sql[64];
    int rc = AITAG_ERR_INVALID;

    *n = 0;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(known[i], table) == 0)
            rc = 0;
    if (rc < 0)
        return rc;
    rc = catalog_sql_prepare(c, aitag_fmt(sql, sizeof sql, "SELECT count(*) FROM %s", table), &st);
    if (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}
