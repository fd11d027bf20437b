/*
 * schema_sqlite.c - the catalog's schema on SQLite: one migration script per schema version.
 *
 * Migrations are appended, never edited: a catalog at version v runs scripts v+1.. at open
 * (db.c). schema_pg.c holds the same tables for PostgreSQL, version for version.
 */
#include "catalog_int.h"

const char *const catalog_sqlite_migrations[] = {
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
    /* 9: the job queue of several workers (aitag/catalog.h "The job queue", docs/scale.md):
     * one live (queued or running) job per path; workers, by name. Times in unix ms. */
    "CREATE TABLE jobs("
    " id INTEGER PRIMARY KEY, path TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'queued'"
    "  CHECK(state IN ('queued', 'running', 'done', 'dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0, not_before_ms INTEGER NOT NULL DEFAULT 0,"
    " worker TEXT, lease_ms INTEGER, source TEXT NOT NULL DEFAULT 'cli',"
    " enqueued_ms INTEGER NOT NULL, started_ms INTEGER, finished_ms INTEGER, error TEXT,"
    " seconds REAL);"
    "CREATE UNIQUE INDEX jobs_live ON jobs(path) WHERE state IN ('queued', 'running');"
    "CREATE INDEX jobs_next ON jobs(state, priority, id);"
    "CREATE TABLE workers("
    " name TEXT PRIMARY KEY, host TEXT, pid INTEGER, threads INTEGER,"
    " started_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'running', done INTEGER NOT NULL DEFAULT 0,"
    " failed INTEGER NOT NULL DEFAULT 0, current TEXT);",
    /* 10: items being analysed now (aitag/catalog.h "Claims"): one row per path, held by one
     * run (holder: unique per run; host, pid and the process's start time tell a dead
     * holder's claim apart) until a lease it renews runs out. Times in unix ms. */
    "CREATE TABLE claims("
    " path TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,"
    " proc_start INTEGER NOT NULL, lease_ms INTEGER NOT NULL, claimed_ms INTEGER NOT NULL);"
    "CREATE INDEX claims_holder ON claims(holder);",
};
_Static_assert(sizeof catalog_sqlite_migrations / sizeof *catalog_sqlite_migrations ==
                   AITAG_CATALOG_SCHEMA_VERSION,
               "a migration per schema version");
