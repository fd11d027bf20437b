/* test_catalog.c - the SQLite catalog on a real file: migrations (from a catalog aitag 0.1.0
 * wrote), atomic items, identity, re-derivation, error records that keep results, search,
 * missing items, moves and deletion, open errors that name their reason once, and a
 * newer-schema refusal. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "aitag/catalog.h"
#include "catalog_test.h"
#include "check.h"

static char dir[64];

static struct aitag_evidence ev(const char *an, const char *label, float conf, double t,
                                const char *text)
{
    struct aitag_evidence e = {0};
    e.analyzer = (char *)an;
    e.label = (char *)label;
    e.confidence = conf;
    e.t = t;
    e.text = (char *)text;
    e.has_box = 1;
    e.box = (struct aitag_box){0.1f, 0.2f, 0.3f, 0.4f};
    return e;
}

static void commit_video_shots(struct aitag_catalog *c, struct aitag_policy *p, const char *path,
                               int64_t size, const char *fp, int n_faces, const char *key,
                               const struct aitag_shot *shots, size_t n_shots)
{
    struct aitag_probe probe = {0};
    struct aitag_evidence e[64];
    struct aitag_sampling ran = {"faces", 2.0, 30};
    const char *keys[] = {key};
    size_t n = 0;

    probe.kind = AITAG_MEDIA_VIDEO;
    probe.duration = 60;
    probe.width = 1280;
    probe.height = 720;
    for (int i = 0; i < n_faces; i++)
        e[n++] = ev("faces", "face", 0.9f, 2.0 * i, NULL);
    for (int i = 0; i < 15; i++) /* on-screen text in the first 30 s */
        e[n++] = ev("faces", "text", 0.99f, 2.0 * i, "HELLO");
    struct aitag_item it = {path,         size, 1000, fp,   &probe, &ran, keys,  1,
                            "sequential", e,    n,    "ok", NULL,   0,    shots, n_shots};
    CHECK(aitag_catalog_commit_item(c, &it, p) == 0);
}

static void commit_video(struct aitag_catalog *c, struct aitag_policy *p, const char *path,
                         int64_t size, const char *fp, int n_faces, const char *key)
{
    commit_video_shots(c, p, path, size, fp, n_faces, key, NULL, 0);
}

static int64_t count(struct aitag_catalog *c, const char *table)
{
    int64_t n = -1;
    CHECK(aitag_catalog_count(c, table, &n) == 0);
    return n;
}

static int on_match(void *ctx, const char *path, int64_t id)
{
    (void)path, (void)id;
    (*(int *)ctx)++;
    return 0;
}

static void test_items(void)
{
    struct aitag_catalog *c;
    struct aitag_policy *p;
    struct aitag_media_row row;
    struct aitag_result r = {0};
    char err[512], path[512], key[256];

    test_catalog_target(path, sizeof path, dir, "cat");
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&p) == 0);
    commit_video(c, p, "/v/a.mp4", 100, "00000000000000aa", 15, "k1");
    CHECK(aitag_catalog_find_media(c, "/v/a.mp4", &row) == 0);
    CHECK_EQ_INT(row.size, 100);
    CHECK_STR(row.fingerprint, "00000000000000aa");
    CHECK_STR(row.derive_key, aitag_policy_key(p));
    CHECK(aitag_catalog_analysis_key(c, row.id, "faces", key, sizeof key) == 0);
    CHECK_STR(key, "k1");
    CHECK(aitag_catalog_analysis_key(c, row.id, "text", key, sizeof key) == 0);
    CHECK_STR(key, "");
    CHECK(aitag_catalog_load_result(c, row.id, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 2);
    CHECK_EQ_INT(r.n_markers, 2);
    CHECK_EQ_INT(r.n_texts, 1);
    aitag_result_clear(&r);
    CHECK_EQ_INT(count(c, "evidence"), 30);

    /* Committing the same analyzer again replaces, never duplicates. */
    commit_video(c, p, "/v/a.mp4", 100, "00000000000000aa", 15, "k1");
    CHECK_EQ_INT(count(c, "evidence"), 30);
    CHECK_EQ_INT(count(c, "markers"), 2);
    CHECK_EQ_INT(count(c, "media"), 1);

    /* A failure on a known item keeps its results; on a new path it adds an error row. */
    CHECK(aitag_catalog_record_error(c, "/v/a.mp4", 100, 1000, "read error") == 0);
    CHECK(aitag_catalog_find_media(c, "/v/a.mp4", &row) == 0);
    CHECK_STR(row.status, "ok");
    CHECK_STR(row.error, "read error");
    CHECK_EQ_INT(count(c, "markers"), 2);
    CHECK(aitag_catalog_record_error(c, "/v/bad.mp4", 0, 0, "empty file") == 0);
    CHECK(aitag_catalog_find_media(c, "/v/bad.mp4", &row) == 0);
    CHECK_STR(row.status, "error");
    CHECK(aitag_catalog_find_media(c, "/v/none.mp4", &row) == AITAG_ERR_NOTFOUND);

    /* A changed file (new fingerprint) drops old evidence: 3 faces now, no marker. */
    commit_video(c, p, "/v/a.mp4", 100, "00000000000000bb", 3, "k1");
    CHECK_EQ_INT(count(c, "evidence"), 18);
    CHECK_EQ_INT(count(c, "markers"), 1); /* the text marker only */

    /* Re-derivation under new rules needs no evidence from models. */
    commit_video(c, p, "/v/b.mp4", 200, "00000000000000cc", 15, "k1");
    aitag_policy_set_markers(p, 0);
    CHECK(aitag_catalog_find_media(c, "/v/b.mp4", &row) == 0);
    CHECK(aitag_catalog_rederive(c, row.id, p) == 0);
    CHECK(aitag_catalog_load_result(c, row.id, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 0);
    CHECK_EQ_INT(r.n_tags, 2);
    aitag_result_clear(&r);

    /* Search: AND and OR, case-insensitive exact names. */
    int hits = 0;
    const char *both[] = {"FACE", "text"}, *one[] = {"face"}, *none[] = {"fac%"};
    CHECK(aitag_catalog_search(c, one, 1, 0, on_match, &hits) == 0);
    CHECK_EQ_INT(hits, 1); /* only b.mp4 keeps a face tag (a.mp4 has 3 faces now) */
    hits = 0;
    CHECK(aitag_catalog_search(c, both, 2, 0, on_match, &hits) == 0);
    CHECK_EQ_INT(hits, 1);
    hits = 0;
    CHECK(aitag_catalog_search(c, both, 2, 1, on_match, &hits) == 0);
    CHECK_EQ_INT(hits, 2);
    hits = 0;
    CHECK(aitag_catalog_search(c, none, 1, 1, on_match, &hits) == 0);
    CHECK_EQ_INT(hits, 0);

    /* Runs are recorded. */
    int64_t run;
    CHECK(aitag_catalog_begin_run(c, "{}", &run) == 0);
    CHECK(run > 0);
    CHECK(aitag_catalog_end_run(c, run, 1, 2, 3, 4.5, 60) == 0);
    aitag_policy_free(p);
    aitag_catalog_close(c);

    /* Reopening keeps everything; read-only opens work; a missing read-only catalog is an error. */
    CHECK(aitag_catalog_open(path, 1, &c, err, sizeof err) == 0);
    CHECK_EQ_INT(count(c, "media"), 3);
    aitag_catalog_close(c);
    if (test_pg_server())
        return; /* a database is there or not: the server's business */
    snprintf(path, sizeof path, "%s/missing.db", dir);
    CHECK(aitag_catalog_open(path, 1, &c, err, sizeof err) == AITAG_ERR_NOTFOUND);
    CHECK(strstr(err, "missing.db") != NULL);
}

/* The face marker of commit_video with 15 faces is [0, 30) unsnapped (hits at 0..28 s every
 * 2 s), the text one too; a cut at 29.2 s lies in the bracket of their ends, (28, 30]. */
static void test_shots(void)
{
    struct aitag_catalog *c;
    struct aitag_policy *p;
    struct aitag_media_row row;
    struct aitag_result r = {0};
    struct aitag_shot shots[] = {{0, 1.5, AITAG_SHOT_START, 1},
                                 {1.5, 29.2, AITAG_SHOT_CUT, 0.9f},
                                 {29.2, 60, AITAG_SHOT_FADE, 0.7f}};
    char err[512], path[512];

    test_catalog_target(path, sizeof path, dir, "shots");
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&p) == 0);
    commit_video_shots(c, p, "/v/s.mp4", 100, "00000000000000aa", 15, "k1", shots, 3);
    CHECK(aitag_catalog_find_media(c, "/v/s.mp4", &row) == 0);
    CHECK_EQ_INT(count(c, "shots"), 3);
    CHECK(aitag_catalog_load_result(c, row.id, &r) == 0);
    CHECK_EQ_INT(r.n_shots, 3);
    if (r.n_shots == 3) {
        CHECK_NEAR(r.shots[1].start, 1.5, 1e-9);
        CHECK_NEAR(r.shots[1].end, 29.2, 1e-9);
        CHECK_EQ_INT(r.shots[1].edge, AITAG_SHOT_CUT);
        CHECK_EQ_INT(r.shots[2].edge, AITAG_SHOT_FADE);
        CHECK_NEAR(r.shots[2].confidence, 0.7, 1e-6);
        CHECK_EQ_INT(r.shots[0].edge, AITAG_SHOT_START);
    }
    /* the commit derived with the shots: both markers end on the fade at 29.2 s; their
     * start (a hit at 0 s) has no bracket before it and stays */
    CHECK_EQ_INT(r.n_markers, 2);
    for (size_t i = 0; i < r.n_markers; i++) {
        CHECK_NEAR(r.markers[i].start, 0, 1e-9);
        CHECK_NEAR(r.markers[i].end, 29.2, 1e-9);
    }
    aitag_result_clear(&r);

    /* A commit without shots (an analyzer added later) keeps them; one with shots replaces. */
    commit_video_shots(c, p, "/v/s.mp4", 100, "00000000000000aa", 15, "k1", NULL, 0);
    CHECK_EQ_INT(count(c, "shots"), 3);
    CHECK(aitag_catalog_load_result(c, row.id, &r) == 0);
    CHECK(r.n_markers > 0 && fabs(r.markers[0].end - 29.2) < 1e-9);
    aitag_result_clear(&r);
    commit_video_shots(c, p, "/v/s.mp4", 100, "00000000000000aa", 15, "k1", shots + 1, 2);
    CHECK_EQ_INT(count(c, "shots"), 2);

    /* Re-deriving under other rules still snaps (the shots reach the policy there too). */
    aitag_policy_set_threshold(p, 0.6f);
    CHECK(aitag_catalog_rederive(c, row.id, p) == 0);
    CHECK(aitag_catalog_load_result(c, row.id, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 2);
    CHECK(r.n_markers > 0 && fabs(r.markers[0].end - 29.2) < 1e-9);
    CHECK_EQ_INT(r.n_shots, 2);
    aitag_result_clear(&r);

    /* A changed file drops them with its other analyses; deleting the item deletes them. */
    commit_video(c, p, "/v/s.mp4", 100, "00000000000000bb", 15, "k1");
    CHECK_EQ_INT(count(c, "shots"), 0);
    CHECK(aitag_catalog_load_result(c, row.id, &r) == 0);
    CHECK_EQ_INT(r.n_shots, 0);
    CHECK(r.n_markers > 0 && fabs(r.markers[0].end - 30) < 1e-9);
    aitag_result_clear(&r);
    commit_video_shots(c, p, "/v/s.mp4", 100, "00000000000000bb", 15, "k1", shots, 3);
    CHECK_EQ_INT(count(c, "shots"), 3);
    CHECK(aitag_catalog_delete_media(c, row.id) == 0);
    CHECK_EQ_INT(count(c, "shots"), 0);
    aitag_policy_free(p);
    aitag_catalog_close(c);
}

static void test_newer_schema(void)
{
    struct aitag_catalog *c;
    sqlite3 *db;
    char path[512], err[512];

    if (test_pg_server()) { /* the version a PostgreSQL catalog is at is in aitag_schema */
        test_catalog_target(path, sizeof path, dir, "future");
        CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == 0);
        aitag_catalog_close(c);
        CHECK(sql_scalar(path, "UPDATE aitag_schema SET version = 99") == 0);
        CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == AITAG_ERR_DB);
        CHECK(strstr(err, "newer") != NULL);
        CHECK(strstr(err, "99") != NULL);
        return;
    }

    snprintf(path, sizeof path, "%s/future.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == AITAG_ERR_DB);
    CHECK(strstr(err, "newer") != NULL);
    snprintf(path, sizeof path, "%s/notadb.db", dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a database, just text that is long enough to fail the header", f);
    fclose(f);
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) < 0);
    CHECK(strstr(err, "notadb.db") != NULL);
    /* The reason once, after the path once: no doubled path, no "exec:" prefix. */
    char want[600];
    snprintf(want, sizeof want, "%s: not a database", path);
    CHECK_STR(err, want);
    CHECK(aitag_catalog_open(path, 1, &c, err, sizeof err) < 0);
    CHECK_STR(err, want);
}

/* Opening for writing creates the folders above the catalog. */
static void test_parent_folders(void)
{
    struct aitag_catalog *c = NULL;
    char path[160], err[512] = "";

    snprintf(path, sizeof path, "%s/new/deeper/cat.db", dir);
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == 0);
    CHECK(access(path, F_OK) == 0);
    aitag_catalog_close(c);
    /* A read-only open creates nothing. */
    snprintf(path, sizeof path, "%s/other/cat.db", dir);
    CHECK(aitag_catalog_open(path, 1, &c, err, sizeof err) == AITAG_ERR_NOTFOUND);
    snprintf(path, sizeof path, "%s/other", dir);
    CHECK(access(path, F_OK) != 0);
    /* A file where a folder should be: the reason, once. */
    snprintf(path, sizeof path, "%s/fp.bin/cat.db", dir);
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) < 0);
    CHECK(strncmp(err, path, strlen(path)) == 0 && strstr(err + 1, path) == NULL);
    CHECK(strstr(err, "Not a directory") != NULL);
}

static int collect_paths(void *ctx, const char *path, int64_t id, int missing)
{
    char *buf = ctx;
    size_t len = strlen(buf);

    (void)id;
    snprintf(buf + len, 512 - len, "%s%s%s", len ? " " : "", path, missing ? "(m)" : "");
    return 0;
}

static int64_t id_of(struct aitag_catalog *c, const char *path)
{
    struct aitag_media_row row;
    return aitag_catalog_find_media(c, path, &row) == 0 ? row.id : -1;
}

/* A catalog written by aitag 0.1.0 (schema 1) opens, migrates and keeps everything. */
static void test_migrate_v1(void)
{
    struct aitag_catalog *c;
    struct aitag_media_row row;
    sqlite3 *db;
    char path[128], err[512] = "", *sql = NULL, listed[512] = "";
    const char *face[] = {"face"};
    long len;
    int hits = 0, version = 0;
    FILE *f = fopen(AITAG_SOURCE_DIR "/tests/data/catalog_v1.sql", "rb");

    CHECK(f != NULL);
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    sql = calloc(1, (size_t)len + 1);
    CHECK(fread(sql, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    for (int readonly = 0; readonly <= 1; readonly++) {
        snprintf(path, sizeof path, "%s/v1-%d.db", dir, readonly);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(db);
        /* Both a writer and a reader (show, search) upgrade it. */
        CHECK(aitag_catalog_open(path, readonly, &c, err, sizeof err) == 0);
        if (!c) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        CHECK(aitag_catalog_find_media(c, "/media/photos/photo.jpg", &row) == 0);
        CHECK_EQ_INT(row.missing, 0);
        CHECK_STR(row.status, "ok");
        CHECK_STR(row.fingerprint, "f995ca0aa6e7ab11");
        CHECK_EQ_INT(count(c, "evidence"), 3);
        hits = 0;
        CHECK(aitag_catalog_search(c, face, 1, 0, on_match, &hits) == 0);
        CHECK_EQ_INT(hits, 1);
        aitag_catalog_close(c);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        sqlite3_stmt *st;
        CHECK(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK);
        CHECK(sqlite3_step(st) == SQLITE_ROW);
        version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        CHECK_EQ_INT(version, AITAG_CATALOG_SCHEMA_VERSION);
    }
    /* The migrated catalog takes the new marks: missing, then pruned with all it stored. */
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == 0);
    int64_t id = id_of(c, "/media/photos/photo.jpg");
    CHECK(aitag_catalog_set_missing(c, &id, 1, 1) == 0);
    CHECK(aitag_catalog_each_item(c, NULL, 1, collect_paths, listed) == 0);
    CHECK_STR(listed, "/media/photos/photo.jpg(m)");
    CHECK(aitag_catalog_delete_media(c, id) == 0);
    CHECK_EQ_INT(count(c, "media"), 0);
    CHECK_EQ_INT(count(c, "evidence"), 0);
    CHECK_EQ_INT(count(c, "tags"), 0);
    CHECK_EQ_INT(count(c, "analyses"), 0);
    aitag_catalog_close(c);
    free(sql);
}

/* Missing marks, folder listings, moves and what clears a mark. */
static void test_presence(void)
{
    struct aitag_catalog *c;
    struct aitag_policy *p;
    struct aitag_media_row row;
    char path[512], err[512], listed[512] = "";
    const char *face[] = {"face"};
    int hits = 0;

    test_catalog_target(path, sizeof path, dir, "presence");
    CHECK(aitag_catalog_open(path, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&p) == 0);
    commit_video(c, p, "/m/a.mp4", 100, "00000000000000aa", 20, "k");
    commit_video(c, p, "/m/sub/b.mp4", 200, "00000000000000bb", 20, "k");
    commit_video(c, p, "/mx/c.mp4", 300, "00000000000000cc", 20, "k");
    commit_video(c, p, "/m", 400, "00000000000000dd", 20, "k"); /* a file named like a folder */

    /* "/m" lists itself and what is below it, never "/mx"; a trailing slash means the same. */
    CHECK(aitag_catalog_each_item(c, "/m", 0, collect_paths, listed) == 0);
    CHECK_STR(listed, "/m /m/a.mp4 /m/sub/b.mp4");
    listed[0] = '\0';
    CHECK(aitag_catalog_each_item(c, "/m/sub/", 0, collect_paths, listed) == 0);
    CHECK_STR(listed, "/m/sub/b.mp4");
    listed[0] = '\0';
    CHECK(aitag_catalog_each_item(c, "/", 0, collect_paths, listed) == 0);
    CHECK_STR(listed, "/m /m/a.mp4 /m/sub/b.mp4 /mx/c.mp4");

    /* Missing: out of search, flagged on the row, listed as missing. */
    int64_t ids[2] = {id_of(c, "/m/a.mp4"), id_of(c, "/m/sub/b.mp4")};
    CHECK(aitag_catalog_set_missing(c, ids, 2, 1) == 0);
    CHECK(aitag_catalog_search(c, face, 1, 0, on_match, &hits) == 0);
    CHECK_EQ_INT(hits, 2);
    CHECK(aitag_catalog_find_media(c, "/m/a.mp4", &row) == 0);
    CHECK_EQ_INT(row.missing, 1);
    listed[0] = '\0';
    CHECK(aitag_catalog_each_item(c, NULL, 1, collect_paths, listed) == 0);
    CHECK_STR(listed, "/m/a.mp4(m) /m/sub/b.mp4(m)");

    /* Found by size and fingerprint, moved: the item keeps its id and results, unmarked. */
    listed[0] = '\0';
    CHECK(aitag_catalog_each_match(c, 100, "00000000000000aa", collect_paths, listed) == 0);
    CHECK_STR(listed, "/m/a.mp4(m)");
    listed[0] = '\0';
    CHECK(aitag_catalog_each_match(c, 101, "00000000000000aa", collect_paths, listed) == 0);
    CHECK_STR(listed, "");
    CHECK(aitag_catalog_move_media(c, ids[0], "/n/a2.mp4", 5000) == 0);
    CHECK(aitag_catalog_find_media(c, "/m/a.mp4", &row) == AITAG_ERR_NOTFOUND);
    CHECK(aitag_catalog_find_media(c, "/n/a2.mp4", &row) == 0);
    CHECK_EQ_INT(row.id, ids[0]);
    CHECK_EQ_INT(row.missing, 0);
    CHECK_EQ_INT(row.mtime_ns, 5000);
    CHECK_EQ_INT(row.size, 100);
    hits = 0;
    CHECK(aitag_catalog_search(c, face, 1, 0, on_match, &hits) == 0);
    CHECK_EQ_INT(hits, 3);
    /* Moving onto a path another item has fails and changes nothing. */
    CHECK(aitag_catalog_move_media(c, ids[0], "/mx/c.mp4", 1) == AITAG_ERR_DB);
    CHECK(aitag_catalog_get_media(c, ids[0], &row) == 0);
    CHECK_EQ_INT(row.mtime_ns, 5000);

    /* Storing the item again, or an error for it, means its file exists: the mark goes. */
    commit_video(c, p, "/m/sub/b.mp4", 200, "00000000000000bb", 20, "k");
    CHECK(aitag_catalog_find_media(c, "/m/sub/b.mp4", &row) == 0);
    CHECK_EQ_INT(row.missing, 0);
    CHECK(aitag_catalog_set_missing(c, &ids[1], 1, 1) == 0);
    CHECK(aitag_catalog_record_error(c, "/m/sub/b.mp4", 200, 1000, "unreadable") == 0);
    CHECK(aitag_catalog_find_media(c, "/m/sub/b.mp4", &row) == 0);
    CHECK_EQ_INT(row.missing, 0);
    CHECK(aitag_catalog_set_missing(c, &ids[1], 1, 0) == 0);
    aitag_policy_free(p);
    aitag_catalog_close(c);
}

static void test_fingerprint(void)
{
    char path[128], hex[17];
    int64_t size;
    FILE *f;

    snprintf(path, sizeof path, "%s/fp.bin", dir);
    f = fopen(path, "wb");
    for (int i = 0; i < 200000; i++)
        fputc(i & 0xff, f);
    fclose(f);
    CHECK(aitag_fingerprint_file(path, &size, hex) == 0);
    CHECK_EQ_INT(size, 200000);
    CHECK_EQ_INT(strlen(hex), 16);
    char again[17];
    CHECK(aitag_fingerprint_file(path, &size, again) == 0);
    CHECK_STR(hex, again);
    f = fopen(path, "r+b");
    fseek(f, 100, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    CHECK(aitag_fingerprint_file(path, &size, again) == 0);
    CHECK(strcmp(hex, again) != 0);
    CHECK(aitag_fingerprint_file("/nonexistent", &size, hex) == AITAG_ERR_IO);
}

/* A PostgreSQL catalog is a URL; shown, its password is not. */
static void test_urls(void)
{
    struct aitag_catalog *c;
    char buf[256], err[512];

    CHECK(aitag_catalog_is_url("postgresql://h/db") && aitag_catalog_is_url("postgres://h/db"));
    CHECK(!aitag_catalog_is_url("/tmp/postgresql://x.db") && !aitag_catalog_is_url("x.db"));
    CHECK_STR(aitag_catalog_target_name("postgresql://u:secret@h:5/db", buf, sizeof buf),
              "postgresql://u:***@h:5/db");
    CHECK_STR(aitag_catalog_target_name("postgresql://u@h/db", buf, sizeof buf),
              "postgresql://u@h/db");
    CHECK_STR(aitag_catalog_target_name("/a:b@c.db", buf, sizeof buf), "/a:b@c.db");
    /* nothing listens on port 1: the error names the catalog, never its password */
    CHECK(aitag_catalog_open("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=2", 0, &c, err,
                             sizeof err) == AITAG_ERR_DB);
    CHECK(strstr(err, "secret") == NULL);
    CHECK(strstr(err, "postgresql://u:***@127.0.0.1:1/db") == err);
    CHECK(strstr(err, "cannot connect") != NULL);
}

int main(void)
{
    test_urls();
    snprintf(dir, sizeof dir, "/tmp/aitag-cat-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_items();
    test_shots();
    test_newer_schema();
    test_fingerprint();
    if (!test_pg_server()) { /* SQLite files: folders, an old file's migration */
        test_parent_folders();
        test_migrate_v1();
    }
    test_presence();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
