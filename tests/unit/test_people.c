/* test_people.c - the people engine on a real catalog with synthetic embeddings: the pure
 * clustering function (purity, no split, weights, bad input), tracks within a video (overlap
 * and likeness, a cut to another person in the same place), the incremental update (new
 * people at min_faces, new faces joining the nearest person, the quality gate), and the full
 * re-cluster: ids stay, named people and the user's assignments stay, rejects are honoured,
 * emptied automatic people go. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "aitag/people.h"
#include "catalog_test.h"
#include "check.h"

#define DIM 64
#define N_ID 6

static char dir[64], db[512];
static float centers[N_ID][DIM];
static unsigned rng = 12345;

static float gauss(void)
{
    float u1, u2;
    rng = rng * 1103515245u + 12345u;
    u1 = ((rng >> 8) + 1.0f) / 16777217.0f;
    rng = rng * 1103515245u + 12345u;
    u2 = (rng >> 8) / 16777216.0f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static void normalise(float *v, int dim)
{
    float n = 0;
    for (int k = 0; k < dim; k++)
        n += v[k] * v[k];
    n = sqrtf(n);
    for (int k = 0; k < dim; k++)
        v[k] /= n;
}

/* A face of identity who: its centre plus noise of norm about sigma. */
static void sample(int who, float sigma, float *out)
{
    for (int k = 0; k < DIM; k++)
        out[k] = centers[who][k] + sigma * gauss() / sqrtf((float)DIM);
    normalise(out, DIM);
}

static void test_cluster(void)
{
    enum { PER = 40, N = N_ID * PER };
    static float v[N * DIM];
    int labels[N], first[N_ID];
    size_t k = 99;
    int pure = 1;

    for (int i = 0; i < N; i++)
        sample(i % N_ID, 0.35f, v + i * DIM);
    CHECK(aitag_people_cluster(v, N, DIM, NULL, 0.35f, labels, &k) == 0);
    CHECK_EQ_INT(k, N_ID);
    for (int w = 0; w < N_ID; w++)
        first[w] = labels[w];
    for (int i = 0; i < N; i++)
        pure &= labels[i] == first[i % N_ID];
    CHECK(pure); /* every identity whole, and alone (k == N_ID) */
    /* labels numbered by first member */
    CHECK_EQ_INT(labels[0], 0);
    CHECK_EQ_INT(labels[1], 1);
    /* a threshold under the spread splits; a huge one joins everything */
    CHECK(aitag_people_cluster(v, N, DIM, NULL, 0.01f, labels, &k) == 0);
    CHECK(k > N_ID);
    CHECK(aitag_people_cluster(v, N, DIM, NULL, 1.9f, labels, &k) == 0);
    CHECK_EQ_INT(k, 1);
    CHECK(aitag_people_cluster(v, N, DIM, NULL, -1.0f, labels, &k) == AITAG_ERR_INVALID);
    CHECK(aitag_people_cluster(v, 0, DIM, NULL, 0.3f, labels, &k) == 0 && k == 0);
    CHECK_NEAR(aitag_people_dot(v, v, DIM), 1.0, 1e-5);
    CHECK_NEAR(aitag_people_dot(v, v, 17), 0.0, 1.0); /* a tail shorter than 16 works */
}

/* ---- catalog helpers ---- */

static double embs[64][DIM];
static float kp[12] = {0.40f, 0.40f, 0.60f, 0.40f, 0.50f, 0.50f,
                       0.50f, 0.60f, 0.35f, 0.45f, 0.65f, 0.45f};

struct face_spec {
    double t;
    float x, size; /* box left and side (fractions of the frame) */
    int who;
};

static int commit_media(struct aitag_catalog *c, struct aitag_policy *p, const char *path,
                        int video, const struct face_spec *f, size_t n)
{
    static int slot;
    struct aitag_probe probe = {0};
    struct aitag_sampling ran = {"face_attrs", video ? 1.0 : 0.0, 3};
    const char *keys[] = {"face_attrs/v2 faceres@abc emotion@def"};
    struct aitag_evidence e[16] = {{0}};

    probe.kind = video ? AITAG_MEDIA_VIDEO : AITAG_MEDIA_IMAGE;
    probe.duration = video ? 10 : 0;
    probe.width = 640;
    probe.height = 480;
    for (size_t i = 0; i < n; i++) {
        float v[DIM];
        double *d = embs[slot++ % 64];
        sample(f[i].who, 0.3f, v);
        for (int k = 0; k < DIM; k++)
            d[k] = v[k];
        e[i].analyzer = (char *)"face_attrs";
        e[i].label = (char *)"face";
        e[i].confidence = 0.9f;
        e[i].t = f[i].t;
        e[i].has_box = 1;
        e[i].box = (struct aitag_box){f[i].x, 0.2f, f[i].size, f[i].size * 4 / 3};
        e[i].keypoints = kp, e[i].n_keypoints = 6, e[i].kp_dims = 2;
        e[i].embedding = d, e[i].n_embedding = DIM;
        e[i].embedding_form = AITAG_EMBEDDING_DESCRIPTOR;
    }
    struct aitag_item it = {
        path, 1000, 1, "0123456789abcdef", &probe, &ran, keys, 1, "sequential", e, n, "ok", NULL,
        0,    NULL, 0};
    return aitag_catalog_commit_item(c, &it, p);
}

static int64_t scalar(const char *sql)
{
    return sql_scalar(db, sql);
}

/* The person of the faces of path (all must share it; -1 when they differ, 0 none). */
static int64_t person_of(const char *path)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT CASE WHEN count(DISTINCT coalesce(person_id, 0)) = 1 THEN"
             " max(coalesce(person_id, 0)) ELSE -1 END FROM faces f JOIN media m ON"
             " m.id = f.media_id WHERE m.path = '%s'",
             path);
    return scalar(sql);
}

static void test_tracks_and_update(void)
{
    struct aitag_catalog *c = NULL;
    struct aitag_policy *pol = NULL;
    struct aitag_people_params pp;
    struct aitag_people_stats st;
    char err[256];
    int64_t a, b;

    aitag_people_default_params(&pp);
    CHECK(aitag_catalog_open(db, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&pol) == 0);
    /* video: identity 0 on samples 0..3 on the left (moving a little, sample 2 missed), 1 on
     * the right on 0..1, then a cut: identity 2 in the same place on sample 3 */
    struct face_spec v1[] = {{0, 0.10f, 0.2f, 0}, {0, 0.60f, 0.2f, 1}, {1, 0.12f, 0.2f, 0},
                             {1, 0.61f, 0.2f, 1}, {3, 0.14f, 0.2f, 0}, {3, 0.60f, 0.2f, 2}};
    CHECK(commit_media(c, pol, "/m/v1.mp4", 1, v1, 6) == 0);
    /* photos: identity 0 twice, identity 3 once, identity 4 once but tiny (poor quality) */
    struct face_spec p0[] = {{0, 0.3f, 0.3f, 0}}, p3[] = {{0, 0.3f, 0.3f, 3}};
    struct face_spec p4[] = {{0, 0.3f, 0.03f, 4}};
    CHECK(commit_media(c, pol, "/m/a1.jpg", 0, p0, 1) == 0);
    CHECK(commit_media(c, pol, "/m/a2.jpg", 0, p0, 1) == 0);
    CHECK(commit_media(c, pol, "/m/d1.jpg", 0, p3, 1) == 0);
    CHECK(commit_media(c, pol, "/m/e1.jpg", 0, p4, 1) == 0);
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(st.faces, 10);
    CHECK_EQ_INT(st.tracks, 2); /* identity 0 (with a skipped sample) and identity 1 */
    CHECK_EQ_INT(scalar("SELECT count(DISTINCT track) FROM faces WHERE track IS NOT NULL"), 3);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE track IS NULL"), 4);        /* photos */
    CHECK_EQ_INT(scalar("SELECT count(DISTINCT track) FROM faces WHERE x > 0.5"), 2); /* cut */
    /* identity 0: the track (3 faces) and two photos, one person; identity 1: a track of 2
     * good faces, a person; identity 2 (1 face), 3 (1 photo), 4 (tiny) wait */
    a = person_of("/m/a1.jpg");
    CHECK(a > 0);
    CHECK_EQ_INT(person_of("/m/a2.jpg"), a);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE person_id IS NOT NULL"), 7);
    CHECK_EQ_INT(st.people_created, 2);
    CHECK_EQ_INT(st.unassigned, 3);
    CHECK_EQ_INT(scalar("SELECT count(DISTINCT person_id) FROM faces WHERE x < 0.5 AND t < 9"
                        " AND media_id = (SELECT id FROM media WHERE path = '/m/v1.mp4')"),
                 1);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE assigned = 'auto'"), 7);
    /* a cover face per new person, its best */
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people WHERE cover_face IS NOT NULL"), 2);

    /* incremental: a new photo of identity 3 makes identity 3 a person; a new photo of 0
     * joins a; the tiny face of 4 and a second tiny one never seed a person */
    struct face_spec p4b[] = {{0, 0.5f, 0.03f, 4}};
    CHECK(commit_media(c, pol, "/m/d2.jpg", 0, p3, 1) == 0);
    CHECK(commit_media(c, pol, "/m/a3.jpg", 0, p0, 1) == 0);
    CHECK(commit_media(c, pol, "/m/e2.jpg", 0, p4b, 1) == 0);
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/m/a3.jpg"), a);
    b = person_of("/m/d1.jpg");
    CHECK(b > 0 && b != a);
    CHECK_EQ_INT(person_of("/m/d2.jpg"), b);
    CHECK_EQ_INT(person_of("/m/e1.jpg"), 0);
    CHECK_EQ_INT(person_of("/m/e2.jpg"), 0);
    CHECK_EQ_INT(st.people_created, 1);
    CHECK_EQ_INT(st.people, 3);
    /* nothing new: nothing changes */
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(st.assigned, 0);
    CHECK_EQ_INT(st.people_created, 0);
    pp.min_faces = 0;
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "min_faces") != NULL);
    aitag_policy_free(pol);
    aitag_catalog_close(c);
}

static void test_recluster(void)
{
    struct aitag_catalog *c = NULL;
    struct aitag_people_params pp;
    struct aitag_people_stats st;
    char err[256], sql[256];
    int64_t a, b, v1p, rej, moved, ids_before, ann;

    aitag_people_default_params(&pp);
    CHECK(aitag_catalog_open(db, 0, &c, err, sizeof err) == 0);
    a = person_of("/m/a1.jpg");
    b = person_of("/m/d1.jpg");
    v1p = scalar("SELECT person_id FROM faces WHERE x > 0.5 AND t = 0");
    ids_before = scalar("SELECT group_concat(id) FROM (SELECT id FROM people ORDER BY id)");
    /* a plain re-cluster keeps every id */
    CHECK(aitag_people_recluster(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/m/a1.jpg"), a);
    CHECK_EQ_INT(person_of("/m/d2.jpg"), b);
    CHECK_EQ_INT(scalar("SELECT person_id FROM faces WHERE x > 0.5 AND t = 0"), v1p);
    CHECK_EQ_INT(st.people_created, 0);
    CHECK_EQ_INT(scalar("SELECT group_concat(id) FROM (SELECT id FROM people ORDER BY id)"),
                 ids_before);

    /* the user: names a "Ann"; says a3's face is not Ann (reject); moves d2's face to a
     * person of their own; then re-clusters */
    snprintf(sql, sizeof sql, "UPDATE people SET name = 'Ann' WHERE id = %lld RETURNING 1",
             (long long)a);
    CHECK(scalar(sql) == 1);
    rej = scalar("SELECT f.id FROM faces f JOIN media m ON m.id = f.media_id"
                 " WHERE m.path = '/m/a3.jpg'");
    snprintf(sql, sizeof sql, "INSERT INTO face_rejects VALUES(%lld, %lld) RETURNING 1",
             (long long)rej, (long long)a);
    CHECK(scalar(sql) == 1);
    snprintf(sql, sizeof sql,
             "UPDATE faces SET person_id = NULL, assigned = 'none' WHERE id = %lld RETURNING 1",
             (long long)rej);
    CHECK(scalar(sql) == 1);
    ann = scalar("INSERT INTO people(origin) VALUES('user') RETURNING id");
    moved = scalar("SELECT f.id FROM faces f JOIN media m ON m.id = f.media_id"
                   " WHERE m.path = '/m/d2.jpg'");
    snprintf(sql, sizeof sql,
             "UPDATE faces SET person_id = %lld, assigned = 'user' WHERE id = %lld RETURNING 1",
             (long long)ann, (long long)moved);
    CHECK(scalar(sql) == 1);
    CHECK(aitag_people_recluster(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/m/a1.jpg"), a);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people WHERE name = 'Ann'"), 1);
    CHECK_EQ_INT(person_of("/m/a3.jpg"), 0); /* rejected from Ann, nowhere else to go */
    CHECK_EQ_INT(person_of("/m/d2.jpg"), ann);
    snprintf(sql, sizeof sql, "SELECT assigned = 'user' FROM faces WHERE id = %lld",
             (long long)moved);
    CHECK_EQ_INT(scalar(sql), 1);
    /* b kept only d1 (one face): its cluster maps to its old id still */
    CHECK_EQ_INT(person_of("/m/d1.jpg"), b);
    /* an incremental update honours the reject too */
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/m/a3.jpg"), 0);
    /* a stricter min_faces in a re-cluster: automatic people stay by overlap (ids kept) */
    pp.min_faces = 50;
    CHECK(aitag_people_recluster(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/m/a1.jpg"), a);
    /* a much stricter distance splits identity 0's faces: the largest part keeps Ann's id and
     * nobody gets an id that existed before for someone else */
    pp.min_faces = 1;
    pp.max_distance = 0.02f;
    CHECK(aitag_people_recluster(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people WHERE name = 'Ann'"), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM faces WHERE person_id = %lld", (long long)a);
    CHECK(scalar(sql) >= 1);
    CHECK(st.people_created > 0);
    /* and back: the default re-cluster drops the automatic people it no longer needs */
    aitag_people_default_params(&pp);
    CHECK(aitag_people_recluster(c, &pp, &st, err, sizeof err) == 0);
    CHECK(st.people_dropped > 0);
    CHECK_EQ_INT(person_of("/m/a2.jpg"), a);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people p WHERE p.name IS NULL AND"
                        " p.origin = 'cluster' AND NOT EXISTS (SELECT 1 FROM faces f"
                        " WHERE f.person_id = p.id)"),
                 0);
    aitag_catalog_close(c);
}

/* A reference of identity who (its centre plus a little noise), or without a face. */
static int add_ref(struct aitag_catalog *c, const char *ref, const char *name, int who,
                   int64_t *pid, enum aitag_people_ref_outcome *how)
{
    struct aitag_people_params pp;
    float v[DIM];
    char err[256];
    struct aitag_people_ref r = {"stash",
                                 ref,
                                 "/performer/image?t=1",
                                 name,
                                 0,
                                 who >= 0 ? "faceres@abc" : NULL,
                                 who >= 0 ? v : NULL,
                                 DIM,
                                 0.9f};

    aitag_people_default_params(&pp);
    if (who >= 0)
        sample(who, 0.1f, v);
    return aitag_people_add_reference(c, &pp, &r, pid, how, err, sizeof err);
}

/* Reference faces: a person before any face; faces near it join that person in an update and
 * a re-cluster; a face the library grouped already is recognised (the person takes the
 * name); a face of someone named otherwise is left alone; merge moves references, forget
 * strips their embeddings but remembers the image, drop deletes gone ones. */
static void test_references(void)
{
    struct aitag_catalog *c = NULL;
    struct aitag_policy *pol = NULL;
    struct aitag_people_params pp;
    struct aitag_people_stats st;
    struct face_spec one = {0, 0.3f, 0.2f, 4};
    enum aitag_people_ref_outcome how;
    char err[256], key[64], sql[256];
    int64_t rita, quinn, pid, n;
    const char *keep[] = {"p1", "p2", "p4"};
    int dropped = -1;

    test_catalog_target(db, sizeof db, dir, "refs");
    aitag_people_default_params(&pp);
    CHECK(aitag_catalog_open(db, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&pol) == 0);
    CHECK(add_ref(c, "p1", "Rita", 4, &rita, &how) == 0);
    CHECK_EQ_INT(how, AITAG_REF_CREATED);
    CHECK(rita > 0);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people WHERE name = 'Rita' AND origin = 'stash'"), 1);
    /* two photos of identity 4, two of identity 5 */
    CHECK(commit_media(c, pol, "/r/rita1.jpg", 0, &one, 1) == 0);
    CHECK(commit_media(c, pol, "/r/rita2.jpg", 0, &one, 1) == 0);
    one.who = 5;
    CHECK(commit_media(c, pol, "/r/q1.jpg", 0, &one, 1) == 0);
    CHECK(commit_media(c, pol, "/r/q2.jpg", 0, &one, 1) == 0);
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/r/rita1.jpg"), rita);
    CHECK_EQ_INT(person_of("/r/rita2.jpg"), rita);
    quinn = person_of("/r/q1.jpg");
    CHECK(quinn > 0 && quinn != rita);
    CHECK_EQ_INT(person_of("/r/q2.jpg"), quinn);
    CHECK_EQ_INT(st.people_created, 1);
    /* identity 5's performer: the person found already takes the name */
    CHECK(add_ref(c, "p2", "Quinn", 5, &pid, &how) == 0);
    CHECK_EQ_INT(how, AITAG_REF_ADOPTED);
    CHECK_EQ_INT(pid, quinn);
    snprintf(sql, sizeof sql, "SELECT name = 'Quinn' FROM people WHERE id = %lld",
             (long long)quinn);
    CHECK_EQ_INT(scalar(sql), 1);
    /* another performer with Rita's face: Rita has her name, so nothing changes */
    CHECK(add_ref(c, "p3", "Other", 4, &pid, &how) == 0);
    CHECK_EQ_INT(how, AITAG_REF_CONFLICT);
    CHECK_EQ_INT(pid, 0);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people WHERE name = 'Other'"), 0);
    /* a second image of Rita, by name; an image without a face */
    CHECK(add_ref(c, "p4", "rita", 4, &pid, &how) == 0);
    CHECK_EQ_INT(how, AITAG_REF_LINKED);
    CHECK_EQ_INT(pid, rita);
    CHECK(add_ref(c, "p5", "Nobody", -1, &pid, &how) == 0);
    CHECK_EQ_INT(how, AITAG_REF_NO_FACE);
    CHECK(aitag_catalog_person_ref(c, "stash", "p5", key, sizeof key, &pid) == 0);
    CHECK(strcmp(key, "/performer/image?t=1") == 0 && pid == 0);
    CHECK(aitag_catalog_person_ref(c, "stash", "p9", key, sizeof key, &pid) == AITAG_ERR_NOTFOUND);
    /* a re-cluster from nothing: Rita's faces find her through her references alone */
    CHECK(scalar("UPDATE faces SET person_id = NULL, assigned = 'none' RETURNING 1") == 1);
    CHECK(aitag_people_recluster(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/r/rita1.jpg"), rita);
    CHECK_EQ_INT(person_of("/r/rita2.jpg"), rita);
    CHECK_EQ_INT(person_of("/r/q1.jpg"), quinn);
    CHECK_EQ_INT(st.people_created, 0);
    /* forget Rita: her references keep only that their images were seen */
    CHECK(aitag_catalog_forget_person(c, rita, NULL, &n) == 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM person_refs WHERE ref IN ('p1', 'p4') AND"
                        " person_id IS NULL AND embedding IS NULL AND model IS NULL"),
                 2);
    /* merge: Quinn's reference follows her into the person merged into */
    {
        int64_t other = scalar("INSERT INTO people(origin) VALUES('user') RETURNING id");
        int64_t ids[2] = {other, quinn};
        CHECK(aitag_catalog_merge_people(c, ids, 2, NULL) == 0);
        snprintf(sql, sizeof sql, "SELECT person_id FROM person_refs WHERE ref = 'p2'");
        CHECK_EQ_INT(scalar(sql), other);
    }
    /* performers p3 and p5 are gone from Stash */
    CHECK(aitag_catalog_drop_person_refs(c, "stash", keep, 3, &dropped) == 0);
    CHECK_EQ_INT(dropped, 2);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM person_refs"), 3);
    aitag_catalog_close(c);
    aitag_policy_free(pol);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/aitag-people-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_catalog_target(db, sizeof db, dir, "c");
    for (int w = 0; w < N_ID; w++) {
        for (int k = 0; k < DIM; k++)
            centers[w][k] = gauss();
        normalise(centers[w], DIM);
    }
    test_cluster();
    test_tracks_and_update();
    test_recluster();
    remove_catalog(db);
    test_references();
    remove_catalog(db);
    rmdir(dir);
    return check_done();
}
