/*
 * db.c - opening the catalog, its schema migrations, and the SQLite error boundary.
 *
 * Migrations are an ordered list of SQL scripts; PRAGMA user_version records how many ran.
 * They run in one IMMEDIATE transaction so two processes opening a fresh catalog at once
 * cannot both migrate. WAL + synchronous=NORMAL keeps a commit per media item cheap while a
 * crash still loses at most the last transaction; busy_timeout lets a second process wait
 * instead of failing.
 *
 * An open that fails states its reason once, in the words a user can act on: the system error
 * SQLite saw (permission denied, read-only file system, no space left) when there is one,
 * else SQLite's own verdict (not a database). A writable open creates the folders above the
 * catalog first; a read-only open of an older schema upgrades it once through a short
 * read-write connection, so `show` after an upgrade of aitag needs no `tag` run first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    /* 2: items whose file is gone (kept until `aitag prune`), and finding a moved file by its
     * size and fingerprint */
    "ALTER TABLE media ADD COLUMN missing_at INTEGER;"
    "CREATE INDEX media_fingerprint ON media(fingerprint, size);",
    /* 3: the shots found while sampling (edge: aitag_shot_edge_name of how the shot begins) */
    "CREATE TABLE shots("
    " media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, start REAL NOT NULL,"
    " end REAL NOT NULL, edge TEXT NOT NULL, confidence REAL, PRIMARY KEY(media_id, start));",
    /* 4: people. faces: one row per embedded face (box in 0..1 of the frame, embedding a
     * float32 BLOB, L2-normalised, of `model`); track: faces of one person linked over
     * consecutive samples of one video; assigned: how person_id was set (none, auto = by
     * clustering, user = by a person command: never changed by a re-cluster). people: origin
     * cluster, user or stash; ignored people are kept (so their faces stay out) but not shown.
     * face_rejects: a face the user took out of a person never goes back to that person.
     * AUTOINCREMENT: the id of a merged or forgotten person is never given to another. */
    "CREATE TABLE people("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, ignored INTEGER NOT NULL DEFAULT 0,"
    " cover_face INTEGER, origin TEXT NOT NULL DEFAULT 'cluster', created_at INTEGER,"
    " updated_at INTEGER);"
    "CREATE UNIQUE INDEX people_name ON people(name COLLATE NOCASE) WHERE name IS NOT NULL;"
    "CREATE TABLE faces("
    " id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,"
    " t REAL NOT NULL, x REAL, y REAL, w REAL, h REAL, score REAL, quality REAL, track INTEGER,"
    " model TEXT NOT NULL, embedding BLOB NOT NULL,"
    " person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,"
    " assigned TEXT NOT NULL DEFAULT 'none');"
    "CREATE INDEX faces_media ON faces(media_id);"
    "CREATE INDEX faces_person ON faces(person_id);"
    "CREATE TABLE face_rejects("
    " face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,"
    " person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    " PRIMARY KEY(face_id, person_id));",
    /* 5: people synced to Stash performers. stash_performers: the performer a person is
     * linked to (created = 1 when aitag created it, 0 when an existing one was found by name).
     * stash_person_items: every Stash scene or image aitag added the performer to ('added'),
     * and those the user took the performer off again ('removed': never added back). */
    "CREATE TABLE stash_performers("
    " person_id INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,"
    " performer_id TEXT NOT NULL, created INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE stash_person_items("
    " person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK(kind IN ('scene', 'image')), item_id TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK(state IN ('added', 'removed')),"
    " PRIMARY KEY(person_id, kind, item_id));",
    /* 6: reference faces: a face known to be someone's before any clustering (a Stash
     * performer's image, a photo the user names), embedded once per image. source + ref name
     * where it came from (e.g. 'stash' and the performer id); image_key tells whether the
     * image changed since. A row without an embedding records an image seen without a usable
     * face, or a reference forgotten by the user (so it is not fetched again). */
    "CREATE TABLE person_refs("
    " id INTEGER PRIMARY KEY, source TEXT NOT NULL, ref TEXT NOT NULL, image_key TEXT NOT NULL,"
    " person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,"
    " model TEXT, embedding BLOB, quality REAL, UNIQUE(source, ref));"
    "CREATE INDEX person_refs_person ON person_refs(person_id);",
    /* 7: what read a text line (source: "text" for OCR, "speech" for a transcript segment) and
     * its language; texts_fts indexes every line for full-text search (FTS5, kept in step by
     * triggers, cascaded deletes included), filled from the lines already there */
    "ALTER TABLE texts ADD COLUMN source TEXT NOT NULL DEFAULT 'text';"
    "ALTER TABLE texts ADD COLUMN lang TEXT;"
    "CREATE VIRTUAL TABLE texts_fts USING fts5(text, content='texts', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER texts_fts_insert AFTER INSERT ON texts BEGIN"
    " INSERT INTO texts_fts(rowid, text) VALUES (new.id, new.text); END;"
    "CREATE TRIGGER texts_fts_delete AFTER DELETE ON texts BEGIN"
    " INSERT INTO texts_fts(texts_fts, rowid, text) VALUES ('delete', old.id, old.text); END;"
    "CREATE TRIGGER texts_fts_update AFTER UPDATE ON texts BEGIN"
    " INSERT INTO texts_fts(texts_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO texts_fts(rowid, text) VALUES (new.id, new.text); END;"
    "INSERT INTO texts_fts(texts_fts) VALUES ('rebuild');",
    /* 8: the user's decisions on derived tags and markers (aitag/policy.h "Corrections"), in
     * the order made: who (a user name, "stash" for a removal read back from Stash), source
     * (cli, web, stash), when (unix seconds) and what was judged (tag, marker bounds,
     * confidence, raw label, parent; evidence: a JSON object of the rest, e.g. the policy key
     * and the threshold it ran under). Every derivation applies them after deriving. */
    "CREATE TABLE decisions("
    " id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK(kind IN ('tag', 'marker')), tag TEXT NOT NULL, start REAL,"
    " end REAL, verdict TEXT NOT NULL CHECK(verdict IN ('accept', 'reject', 'rename', 'bounds')),"
    " new_tag TEXT, new_start REAL, new_end REAL, confidence REAL, label TEXT, parent TEXT,"
    " who TEXT NOT NULL, source TEXT NOT NULL, at INTEGER NOT NULL, evidence TEXT);"
    "CREATE INDEX decisions_media ON decisions(media_id, id);"
    "CREATE INDEX decisions_tag ON decisions(tag, verdict);"
    /* what the Stash plugin last wrote of ours on a Stash item (kind 'scene' or 'image', its
     * id): a tag (start -1) or a marker of a tag; what is gone from Stash since, the user took
     * off (src/plugin/readback.c) */
    "CREATE TABLE stash_synced("
    " kind TEXT NOT NULL, item_id TEXT NOT NULL,"
    " media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, tag TEXT NOT NULL,"
    " start REAL NOT NULL, end REAL NOT NULL, PRIMARY KEY(kind, item_id, tag, start, end));"
    /* thresholds the user accepted from a fit to their decisions (src/catalog/learn.c), per
     * raw label; every derivation uses them over the rules' threshold */
    "CREATE TABLE learned_thresholds("
    " label TEXT PRIMARY KEY, threshold REAL NOT NULL, previous REAL, who TEXT NOT NULL,"
    " at INTEGER NOT NULL, fit TEXT);"
    /* how long a run took and how much media it analysed (seconds): its throughput */
    "ALTER TABLE runs ADD COLUMN seconds REAL;"
    "ALTER TABLE runs ADD COLUMN media_seconds REAL;",
};
_Static_assert(sizeof migrations / sizeof *migrations == AITAG_CATALOG_SCHEMA_VERSION,
               "a migration per schema version");

int catalog_sql_check(struct aitag_catalog *c, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    c->sqlite_rc = rc;
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

static void newer_schema(struct aitag_catalog *c, int version)
{
    c->sqlite_rc = 0; /* not SQLite's error: the message below is the reason */
    aitag_fmt(c->errmsg, sizeof c->errmsg,
              "catalog schema version %d is newer than this aitag knows (%d)", version,
              AITAG_CATALOG_SCHEMA_VERSION);
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
        newer_schema(c, version);
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

/* A system error in the words of the rest of the message. */
static const char *errno_reason(int e)
{
    return e == EACCES || e == EPERM ? "permission denied"
           : e == EROFS              ? "read-only file system"
                                     : strerror(e);
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
                      errno_reason(errno));
            return AITAG_ERR_IO;
        }
        *p = '/';
    }
    return 0;
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
static void open_reason(const struct aitag_catalog *c, const char *path, char *buf, size_t len)
{
    int primary = c->sqlite_rc & 0xff, sys = c->db ? sqlite3_system_errno(c->db) : 0;

    if (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_PERM) {
        int probed = probe_errno(path);
        if (probed)
            sys = probed;
    }
    if (primary == SQLITE_NOTADB)
        aitag_fmt(buf, len, "not a database");
    else if (sys == EROFS)
        aitag_fmt(buf, len, "read-only file system");
    else if (primary == SQLITE_READONLY)
        aitag_fmt(buf, len, "read-only (%s)", sys ? errno_reason(sys) : "no write permission");
    else if (sys)
        aitag_fmt(buf, len, "%s", errno_reason(sys));
    else
        aitag_fmt(buf, len, "%s", c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(c->sqlite_rc));
}

/* (Re)connects c->db to path with flags, in WAL mode when writable. */
static int db_connect(struct aitag_catalog *c, const char *path, int flags)
{
    int rc;

    sqlite3_close_v2(c->db);
    c->db = NULL;
    rc = catalog_sql_check(c, sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL), "open");
    if (rc < 0)
        return rc;
    sqlite3_busy_timeout(c->db, 10000);
    /* SQLite quietly opens a file it may not write read-only; writing would fail later. */
    if ((flags & SQLITE_OPEN_READWRITE) && sqlite3_db_readonly(c->db, "main") == 1)
        return catalog_sql_check(c, SQLITE_READONLY, "open");
    if (flags & SQLITE_OPEN_READWRITE)
        rc = catalog_sql_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    if (rc == 0)
        rc = catalog_sql_exec(c, "PRAGMA foreign_keys=ON");
    return rc;
}

static int schema_version(struct aitag_catalog *c, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "PRAGMA user_version", &st);

    *version = 0;
    if (rc == 0) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *version = sqlite3_column_int(st, 0);
        else
            rc = catalog_sql_check(c, step, "schema version");
    }
    sqlite3_finalize(st);
    return rc;
}

int aitag_catalog_open(const char *path, int readonly, struct aitag_catalog **out, char *errbuf,
                       size_t errlen)
{
    struct aitag_catalog *c = calloc(1, sizeof *c);
    int rc, version = 0;

    *out = NULL;
    if (!c) {
        aitag_fmt(errbuf, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    if (readonly && access(path, F_OK) != 0) {
        aitag_fmt(errbuf, errlen, "%s: no catalog here yet", path);
        rc = AITAG_ERR_NOTFOUND;
        goto fail;
    }
    if (!readonly && (rc = make_parents(path, errbuf, errlen)) < 0)
        goto fail;
    rc = db_connect(c, path,
                    readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    if (rc == 0 && !readonly)
        rc = migrate(c);
    if (rc == 0 && readonly)
        rc = schema_version(c, &version); /* also reads the header: "not a database" here */
    if (rc == 0 && readonly && version < AITAG_CATALOG_SCHEMA_VERSION) {
        rc = db_connect(c, path, SQLITE_OPEN_READWRITE);
        if (rc == 0)
            rc = migrate(c);
        if (rc == 0)
            rc = db_connect(c, path, SQLITE_OPEN_READONLY);
    }
    if (rc == 0 && readonly && version > AITAG_CATALOG_SCHEMA_VERSION) {
        newer_schema(c, version);
        rc = AITAG_ERR_DB;
    }
    if (rc < 0) {
        char reason[256];
        if (c->sqlite_rc)
            open_reason(c, path, reason, sizeof reason);
        aitag_fmt(errbuf, errlen, "%s: %s", path, c->sqlite_rc ? reason : c->errmsg);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    aitag_catalog_close(c);
    return rc;
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
                                        "tags",  "markers", "texts", "shots",
                                        "people", "faces", "face_rejects"};
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
