/* test_faces_catalog.c - the faces table on a real catalog: each embedded face_attrs face
 * becomes one row with its float32 embedding and quality, in the item's transaction; a
 * re-tag replaces faces without duplicates and keeps the id, person and rejects of a face
 * found again; a changed file drops its faces; an older catalog's evidence is backfilled;
 * the people write creates people, assigns faces, never overrides a user assignment and
 * drops emptied automatic people. Also the quality formula's terms. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "aitag/catalog.h"
#include "catalog_test.h"
#include "check.h"

#define DIM 8

static char dir[64], db[512];
static double emb[4][DIM];
static struct aitag_evidence face(double t, float x, int who)
{
    return test_face_evidence(t, x, emb[who], DIM);
}

/* Commits path (size identifies the file) with the faces of e plus an age item. */
static int commit(struct aitag_catalog *c, struct aitag_policy *p, const char *path, int64_t size,
                  struct aitag_evidence *e, size_t n, const char *analyzer)
{
    struct aitag_probe probe = {0};
    struct aitag_sampling ran = {analyzer, 1.0, 3};
    const char *keys[] = {"face_attrs/v2 faceres@abc emotion@def gender=0.80"};
    struct aitag_evidence all[16];

    probe.kind = AITAG_MEDIA_VIDEO;
    probe.duration = 10;
    probe.width = 640;
    probe.height = 480;
    for (size_t i = 0; i < n; i++)
        all[i] = e[i];
    all[n] = e[0];
    all[n].label = (char *)"age:20-29"; /* not a face row */
    all[n].embedding = NULL, all[n].n_embedding = 0;
    struct aitag_item it = {path,         size, 1000,  "0123456789abcdef",
                            &probe,       &ran, keys,  1,
                            "sequential", all,  n + 1, "ok",
                            NULL,         0,    NULL,  0};
    return aitag_catalog_commit_item(c, &it, p);
}

static int64_t count(struct aitag_catalog *c, const char *table)
{
    int64_t n = -1;
    CHECK(aitag_catalog_count(c, table, &n) == 0);
    return n;
}

static int64_t scalar(const char *sql)
{
    return sql_scalar(db, sql);
}

static void test_ingest(void)
{
    struct aitag_catalog *c = NULL;
    struct aitag_policy *p = NULL;
    struct aitag_face_set s = {0};
    struct aitag_evidence e[3];
    char err[256], model[256];
    int64_t first_id;

    CHECK(aitag_catalog_open(db, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&p) == 0);
    e[0] = face(0.0, 0.1f, 0), e[1] = face(1.0, 0.12f, 0), e[2] = face(1.0, 0.6f, 1);
    CHECK(commit(c, p, "/v/a.mp4", 100, e, 3, "face_attrs") == 0);
    CHECK_EQ_INT(count(c, "faces"), 3);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM evidence WHERE label = 'face'"), 3);
    CHECK_EQ_INT(scalar("SELECT length(embedding) FROM faces LIMIT 1"), DIM * 4);
    CHECK(aitag_catalog_faces_model(c, model, sizeof model) == 0);
    CHECK_STR(model, "faceres@abc");
    CHECK(aitag_catalog_load_faces(c, NULL, &s) == 0);
    CHECK_EQ_INT(s.n, 3);
    CHECK_EQ_INT(s.dim, DIM);
    if (s.n != 3 || s.dim != DIM) /* the commit failed: nothing below can hold */
        goto out;
    CHECK_NEAR(s.vecs[2 * DIM + 1], emb[1][1], 1e-6);
    CHECK(s.rows[0].is_video);
    /* 128 x 144 px, frontal, score 0.9: every term but the detector's is 1 */
    CHECK_NEAR(s.rows[0].quality, 0.9, 1e-4);
    first_id = s.rows[0].id;

    /* the user puts face 1 in a person and rejects face 2 from it */
    CHECK(scalar("INSERT INTO people(name, origin) VALUES('Ann', 'user') RETURNING id") == 1);
    CHECK(scalar("UPDATE faces SET person_id = 1, assigned = 'user' WHERE id = 1"
                 " RETURNING id") == 1);
    CHECK(scalar("INSERT INTO face_rejects VALUES(2, 1) RETURNING face_id") == 2);

    /* re-tag: face at t=0 found again (moved slightly), t=1 x=0.12 gone, one new face */
    e[0] = face(0.0, 0.11f, 0), e[1] = face(1.0, 0.6f, 1), e[2] = face(2.0, 0.3f, 2);
    CHECK(commit(c, p, "/v/a.mp4", 100, e, 3, "face_attrs") == 0);
    CHECK_EQ_INT(count(c, "faces"), 3);
    CHECK_EQ_INT(scalar("SELECT person_id FROM faces WHERE id = 1"), 1);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE id = 1 AND abs(x - 0.11) < 1e-6"), 1);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE id = 2"), 0);
    CHECK_EQ_INT(count(c, "face_rejects"), 0); /* its face is gone */
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE id = 3 AND t = 1.0"), 1);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE track IS NOT NULL"), 0);
    (void)first_id;

    /* a run without face_attrs leaves faces alone; a changed file drops them */
    CHECK(commit(c, p, "/v/a.mp4", 100, e, 1, "faces") == 0);
    CHECK_EQ_INT(count(c, "faces"), 3);
    CHECK(commit(c, p, "/v/a.mp4", 101, e, 1, "faces") == 0);
    CHECK_EQ_INT(count(c, "faces"), 0);

    /* an older catalog: evidence without faces rows is backfilled once */
    e[0] = face(0.0, 0.1f, 3);
    CHECK(commit(c, p, "/v/b.mp4", 200, e, 1, "face_attrs") == 0);
    CHECK(scalar("DELETE FROM faces RETURNING 1") == 1);
    {
        int64_t *ids = NULL;
        size_t n = 0;
        int added = -1;
        CHECK(aitag_catalog_items_without_faces(c, &ids, &n) == 0);
        CHECK_EQ_INT(n, 1);
        CHECK(n == 1 && aitag_catalog_backfill_faces(c, ids[0], &added) == 0);
        CHECK_EQ_INT(added, 1);
        CHECK(n == 1 && aitag_catalog_backfill_faces(c, ids[0], &added) == 0);
        CHECK_EQ_INT(added, 0);
        free(ids);
    }
    CHECK_EQ_INT(count(c, "faces"), 1);
out:
    aitag_face_set_free(&s);
    aitag_policy_free(p);
    aitag_catalog_close(c);
}

static void test_write_people(void)
{
    struct aitag_catalog *c = NULL;
    struct aitag_policy *p = NULL;
    struct aitag_evidence e[3];
    struct aitag_person_row *people = NULL;
    size_t n_people = 0;
    int64_t ids[1] = {0}, cover, drop[2];
    char err[256];

    CHECK(aitag_catalog_open(db, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&p) == 0);
    e[0] = face(0.0, 0.1f, 0), e[1] = face(0.0, 0.5f, 1), e[2] = face(1.0, 0.1f, 0);
    CHECK(commit(c, p, "/v/c.mp4", 300, e, 3, "face_attrs") == 0);
    cover = scalar("SELECT min(id) FROM faces WHERE media_id = (SELECT id FROM media WHERE"
                   " path = '/v/c.mp4')");
    /* meanwhile the user assigned the third face: the write must leave it */
    CHECK(scalar("UPDATE faces SET assigned = 'user', person_id = 1 WHERE id = "
                 "(SELECT max(id)"
                 " FROM faces) RETURNING 1") == 1);
    struct aitag_face_change ch[3] = {
        {cover, cover, -1, AITAG_FACE_AUTO},
        {cover + 1, 0, 0, AITAG_FACE_NONE},
        {cover + 2, cover, -1, AITAG_FACE_AUTO},
    };
    struct aitag_people_write w = {1, &cover, ch, 3, NULL, 0};
    CHECK(aitag_catalog_write_people(c, &w, ids) == 0);
    CHECK(ids[0] > 1);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE person_id IS NOT NULL AND"
                        " assigned = 'auto'"),
                 1);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE assigned = 'user' AND person_id = 1"), 1);
    CHECK(aitag_catalog_load_people(c, &people, &n_people) == 0);
    CHECK_EQ_INT(n_people, 2);
    CHECK(n_people == 2 && people[1].cover_face == cover && people[1].name[0] == '\0');
    CHECK(n_people == 2 && strcmp(people[0].name, "Ann") == 0);
    free(people);
    /* dropping: the named person stays, the emptied automatic one goes */
    struct aitag_face_change un = {cover, 0, 0, AITAG_FACE_NONE};
    drop[0] = 1, drop[1] = ids[0];
    w = (struct aitag_people_write){0, NULL, &un, 1, drop, 2};
    CHECK(aitag_catalog_write_people(c, &w, NULL) == 0);
    CHECK_EQ_INT(count(c, "people"), 1);
    /* a bad new-person reference is refused and nothing is written */
    struct aitag_face_change bad = {cover, 0, -3, AITAG_FACE_AUTO};
    w = (struct aitag_people_write){0, NULL, &bad, 1, NULL, 0};
    CHECK(aitag_catalog_write_people(c, &w, NULL) < 0);
    aitag_policy_free(p);
    aitag_catalog_close(c);
}

static void test_quality(void)
{
    struct aitag_evidence e = face(0.0, 0.1f, 0);
    float turned[12];

    /* 640x480: box 128 x 144 px */
    CHECK_NEAR(aitag_face_quality(&e, 640, 480), 0.9, 1e-4);
    CHECK_NEAR(aitag_face_yaw(&e, 640, 480), 0.0, 1e-6);
    /* 40 px side: (40 - 16) / 48 of the size term */
    CHECK_NEAR(aitag_face_quality(&e, 200, 200), 0.9 * 24.0 / 48.0, 1e-4);
    /* nose over a point 0.3 eye distances from the middle: pose 1 - 0.3 / 0.6 */
    memcpy(turned, test_kp_frontal, sizeof turned);
    turned[4] = 0.56f;
    CHECK_NEAR(aitag_face_yaw(&e, 640, 480), 0.0, 1e-6);
    e.keypoints = turned;
    CHECK_NEAR(aitag_face_yaw(&e, 640, 480), 0.3, 1e-4);
    CHECK_NEAR(aitag_face_quality(&e, 640, 480), 0.9 * 0.5, 1e-3);
    e.has_box = 0;
    CHECK_NEAR(aitag_face_quality(&e, 640, 480), 0.0, 1e-9);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/aitag-faces-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_catalog_target(db, sizeof db, dir, "c");
    for (int w = 0; w < 4; w++)
        for (int k = 0; k < DIM; k++)
            emb[w][k] = (k == w) ? 1.0 : 0.0;
    test_ingest();
    test_write_people();
    test_quality();
    remove_catalog(db);
    rmdir(dir);
    return check_done();
}
