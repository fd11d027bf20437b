/* test_catalog.c - the SQLite catalog on a real file: migrations, atomic items, identity,
 * re-derivation, error records that keep results, search, and a newer-schema refusal. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "aitag/catalog.h"
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

static void commit_video(struct aitag_catalog *c, struct aitag_policy *p, const char *path,
                         int64_t size, const char *fp, int n_faces, const char *key)
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
    struct aitag_item it = {path, size, 1000, fp, &probe, &ran, keys, 1, "sequential",
                            e, n, "ok", NULL, 0};
    CHECK(aitag_catalog_commit_item(c, &it, p) == 0);
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
    char err[512], path[128], key[256];

    snprintf(path, sizeof path, "%s/cat.db", dir);
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
    CHECK(aitag_catalog_end_run(c, run, 1, 2, 3) == 0);
    aitag_policy_free(p);
    aitag_catalog_close(c);

    /* Reopening keeps everything; read-only opens work; a missing read-only catalog is an error. */
    CHECK(aitag_catalog_open(path, 1, &c, err, sizeof err) == 0);
    CHECK_EQ_INT(count(c, "media"), 3);
    aitag_catalog_close(c);
    snprintf(path, sizeof path, "%s/missing.db", dir);
    CHECK(aitag_catalog_open(path, 1, &c, err, sizeof err) == AITAG_ERR_NOTFOUND);
    CHECK(strstr(err, "missing.db") != NULL);
}

static void test_newer_schema(void)
{
    struct aitag_catalog *c;
    sqlite3 *db;
    char path[128], err[512];

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

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/aitag-cat-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_items();
    test_newer_schema();
    test_fingerprint();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
