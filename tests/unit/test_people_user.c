/* test_people_user.c - the user's people commands on a real catalog, with people made by the
 * real engine (aitag_people_update) from committed face_attrs evidence: listing and covers,
 * naming (unique ignoring case, bad names refused), people as tags, search by person, merge
 * (names, user assignment, rejects), split (rejects keep faces out through a re-cluster),
 * ignore, and forget (no embedding byte left in the file or its WAL, the evidence's descriptor
 * gone, and no update brings the faces back). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/people.h"
#include "catalog_test.h"
#include "check.h"

#define DIM 8

static char dir[64], db[512];
static double emb[2][DIM]; /* two identities */

static struct aitag_evidence face(float x, int who)
{
    return test_face_evidence(0, x, emb[who], DIM);
}

/* Commits photo path with faces of the given identities (-1 ends the list). */
static int photo(struct aitag_catalog *c, const struct aitag_policy *p, const char *path,
                 int64_t size, int who0, int who1)
{
    struct aitag_probe probe = {0};
    struct aitag_sampling ran = {"face_attrs", 0, 1};
    const char *keys[] = {"face_attrs/v2 faceres@abc emotion@def gender=0.80"};
    struct aitag_evidence e[2];
    size_t n = 0;

    probe.kind = AITAG_MEDIA_IMAGE;
    probe.width = 640;
    probe.height = 480;
    if (who0 >= 0)
        e[n++] = face(0.1f, who0);
    if (who1 >= 0)
        e[n++] = face(0.6f, who1);
    struct aitag_item it = {
        path, size, 1000, "0123456789abcdef", &probe, &ran, keys, 1, "sequential", e, n, "ok", NULL,
        0,    NULL, 0};
    return aitag_catalog_commit_item(c, &it, p);
}

static int64_t scalar(const char *sql)
{
    return sql_scalar(db, sql);
}

struct people {
    int64_t id[8];
    char name[8][64];
    int64_t faces[8];
    int cover[8];
    size_t n;
};

static int on_person(void *ctx, const struct aitag_person *p)
{
    struct people *l = ctx;
    if (l->n < 8) {
        l->id[l->n] = p->id;
        snprintf(l->name[l->n], sizeof l->name[l->n], "%s", p->name ? p->name : "");
        l->faces[l->n] = p->n_faces;
        l->cover[l->n] = p->has_cover && p->cover_path && strncmp(p->cover_path, "/p/", 3) == 0;
        l->n++;
    }
    return 0;
}

static struct people list(struct aitag_catalog *c, int with_ignored)
{
    struct people l = {0};
    CHECK(aitag_catalog_each_person(c, with_ignored, on_person, &l) == 0);
    return l;
}

/* The person whose faces have identity who's embedding (by the face in /p/a1.jpg or b1.jpg). */
static int64_t person_of(const char *path)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT f.person_id FROM faces f JOIN media m ON m.id = f.media_id"
             " WHERE m.path = '%s'",
             path);
    return scalar(sql);
}

/* 1 when the item at path has tag name. */
static int has_tag(struct aitag_catalog *c, const char *path, const char *name)
{
    struct aitag_media_row row;
    struct aitag_result r = {0};
    int found = 0;

    if (aitag_catalog_find_media(c, path, &row) != 0 || aitag_catalog_load_result(c, row.id, &r))
        return -1;
    for (size_t i = 0; i < r.n_tags; i++)
        found |= strcmp(r.tags[i].name, name) == 0;
    aitag_result_clear(&r);
    return found;
}

static int on_match(void *ctx, const char *path, int64_t id)
{
    (void)id;
    strncat(ctx, path, 255 - strlen(ctx));
    strncat(ctx, " ", 255 - strlen(ctx));
    return 0;
}

static const char *search(struct aitag_catalog *c, const char *person, const char *tag, int any)
{
    static char out[256];
    struct aitag_search_query q = {&tag, tag ? 1 : 0, &person, person ? 1 : 0, any};

    out[0] = '\0';
    if (aitag_catalog_search_query(c, &q, on_match, out) < 0)
        return "error";
    return out;
}

/* How many times the float32 bytes of emb[who] occur in the catalog file and its WAL. */
static int embedding_copies(int who)
{
    float v[DIM];
    char path[600];
    int n = 0;

    for (int k = 0; k < DIM; k++)
        v[k] = (float)emb[who][k];
    for (int f = 0; f < 2; f++) {
        FILE *in;
        char *buf;
        long len;
        snprintf(path, sizeof path, "%s%s", db, f ? "-wal" : "");
        if (!(in = fopen(path, "rb")))
            continue;
        fseek(in, 0, SEEK_END);
        len = ftell(in);
        fseek(in, 0, SEEK_SET);
        buf = malloc(len > 0 ? (size_t)len : 1);
        if (buf && fread(buf, 1, (size_t)len, in) == (size_t)len)
            for (long i = 0; i + (long)sizeof v <= len; i++)
                n += memcmp(buf + i, v, sizeof v) == 0;
        free(buf);
        fclose(in);
    }
    return n;
}

static void test_people(void)
{
    struct aitag_catalog *c = NULL;
    struct aitag_policy *p = NULL;
    struct aitag_people_params pp;
    struct aitag_people_stats st;
    struct people l;
    char err[256], long_name[260];
    int64_t ann, bo, split_id = 0, b_faces[2], n_faces = 0;

    CHECK(aitag_catalog_open(db, 0, &c, err, sizeof err) == 0);
    CHECK(aitag_policy_new(&p) == 0);
    CHECK(photo(c, p, "/p/a1.jpg", 1, 0, -1) == 0);
    CHECK(photo(c, p, "/p/a2.jpg", 2, 0, -1) == 0);
    CHECK(photo(c, p, "/p/b1.jpg", 3, 1, -1) == 0);
    CHECK(photo(c, p, "/p/b2.jpg", 4, 1, -1) == 0);
    CHECK(photo(c, p, "/p/ab.jpg", 5, 0, 1) == 0);
    aitag_people_default_params(&pp);
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    l = list(c, 0);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(l.faces[0], 3);
    CHECK_EQ_INT(l.faces[1], 3);
    CHECK(l.cover[0] && l.cover[1]);
    ann = person_of("/p/a1.jpg");
    bo = person_of("/p/b1.jpg");
    CHECK(ann > 0 && bo > 0 && ann != bo);

    /* naming: a tag at once, unique ignoring case, bad names refused */
    CHECK_EQ_INT(has_tag(c, "/p/a1.jpg", "person:Ann"), 0);
    CHECK(aitag_catalog_name_person(c, ann, "Ann", p) == 0);
    CHECK_EQ_INT(has_tag(c, "/p/a1.jpg", "person:Ann"), 1);
    CHECK_EQ_INT(has_tag(c, "/p/ab.jpg", "person:Ann"), 1);
    CHECK_EQ_INT(has_tag(c, "/p/b1.jpg", "person:Ann"), 0);
    CHECK_EQ_INT(aitag_catalog_name_person(c, bo, "ANN", p), AITAG_ERR_INVALID);
    snprintf(err, sizeof err, "NAME 'ANN': already the name of person %lld", (long long)ann);
    CHECK_STR(aitag_catalog_errmsg(c), err);
    CHECK_EQ_INT(aitag_catalog_name_person(c, bo, "", p), AITAG_ERR_INVALID);
    CHECK_EQ_INT(aitag_catalog_name_person(c, bo, "Bo ", p), AITAG_ERR_INVALID);
    CHECK_EQ_INT(aitag_catalog_name_person(c, bo, "B\to", p), AITAG_ERR_INVALID);
    memset(long_name, 'x', 201);
    long_name[201] = '\0';
    CHECK_EQ_INT(aitag_catalog_name_person(c, bo, long_name, p), AITAG_ERR_INVALID);
    CHECK_EQ_INT(aitag_catalog_name_person(c, 999, "Cy", p), AITAG_ERR_NOTFOUND);
    CHECK_STR(aitag_catalog_errmsg(c), "ID 999: no such person");
    CHECK(aitag_catalog_name_person(c, bo, "Bo", p) == 0);

    /* search by person, alone and with tags */
    CHECK_STR(search(c, "ann", NULL, 0), "/p/a1.jpg /p/a2.jpg /p/ab.jpg ");
    CHECK_STR(search(c, "Ann", "person:Bo", 0), "/p/ab.jpg ");
    CHECK_STR(search(c, "Bo", "person:Ann", 1),
              "/p/a1.jpg /p/a2.jpg /p/ab.jpg /p/b1.jpg /p/b2.jpg ");
    CHECK_STR(search(c, "Nobody", NULL, 0), "error");
    CHECK_STR(aitag_catalog_errmsg(c),
              "--person 'Nobody': no person has this name (see aitag people list)");

    /* split Bo's faces of b1 and b2 off: rejected for good, even through a re-cluster */
    b_faces[0] = scalar("SELECT f.id FROM faces f JOIN media m ON m.id = f.media_id"
                        " WHERE m.path = '/p/b1.jpg'");
    b_faces[1] = scalar("SELECT f.id FROM faces f JOIN media m ON m.id = f.media_id"
                        " WHERE m.path = '/p/b2.jpg'");
    CHECK_EQ_INT(aitag_catalog_split_person(c, ann, b_faces, 2, p, &split_id), AITAG_ERR_INVALID);
    CHECK(aitag_catalog_split_person(c, bo, b_faces, 2, p, &split_id) == 0);
    CHECK(split_id > 0 && split_id != bo && split_id != ann);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM face_rejects"), 2);
    CHECK_EQ_INT(has_tag(c, "/p/b1.jpg", "person:Bo"), 0);
    CHECK_EQ_INT(has_tag(c, "/p/ab.jpg", "person:Bo"), 1);
    CHECK(aitag_people_recluster(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(person_of("/p/b1.jpg"), split_id);
    CHECK_EQ_INT(person_of("/p/b2.jpg"), split_id);

    /* merge: an unnamed first person takes the name; every face is the user's; the split's
     * rejects no longer hold against the result (the user put them together) */
    CHECK(aitag_catalog_merge_people(c, (int64_t[]){split_id, bo}, 2, p) == 0);
    l = list(c, 0);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people WHERE name = 'Bo'"), 1);
    CHECK_EQ_INT(person_of("/p/b1.jpg"), split_id);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces WHERE person_id IN (SELECT id FROM people"
                        " WHERE name = 'Bo') AND assigned = 'user'"),
                 3);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM face_rejects"), 0);
    CHECK_EQ_INT(has_tag(c, "/p/b1.jpg", "person:Bo"), 1);
    CHECK_EQ_INT(aitag_catalog_merge_people(c, (int64_t[]){ann, ann}, 2, p), AITAG_ERR_INVALID);
    CHECK_EQ_INT(aitag_catalog_merge_people(c, (int64_t[]){ann, 999}, 2, p), AITAG_ERR_NOTFOUND);
    bo = split_id;

    /* ignore: hidden, untagged, unsearchable, faces kept */
    CHECK(aitag_catalog_ignore_person(c, bo, p) == 0);
    CHECK_EQ_INT(list(c, 0).n, 1);
    CHECK_EQ_INT(list(c, 1).n, 2);
    CHECK_EQ_INT(has_tag(c, "/p/b1.jpg", "person:Bo"), 0);
    CHECK_STR(search(c, "Bo", NULL, 0), "error");
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM people"), 2);

    /* forget: nothing of Ann's embeddings left, and no update brings her faces back (the
     * bytes of the file: SQLite's; a PostgreSQL server's files are its own) */
    int file = !test_pg_server();
    CHECK(!file || embedding_copies(0) > 0);
    CHECK(aitag_catalog_forget_person(c, ann, p, &n_faces) == 0);
    CHECK_EQ_INT(n_faces, 3);
    CHECK_EQ_INT(file ? embedding_copies(0) : 0, 0);
    CHECK(!file || embedding_copies(1) > 0); /* Bo's are kept */
    CHECK_EQ_INT(scalar("SELECT count(*) FROM evidence WHERE extra LIKE '%descriptor%'"), 3);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM evidence WHERE label = 'face'"), 6);
    CHECK_EQ_INT(file ? scalar("PRAGMA freelist_count") : 0, 0);
    CHECK_EQ_INT(has_tag(c, "/p/a1.jpg", "person:Ann"), 0);
    CHECK(aitag_people_update(c, &pp, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(scalar("SELECT count(*) FROM faces"), 3);
    CHECK_EQ_INT(file ? embedding_copies(0) : 0, 0);
    CHECK_EQ_INT(aitag_catalog_forget_person(c, ann, p, &n_faces), AITAG_ERR_NOTFOUND);
    aitag_policy_free(p);
    aitag_catalog_close(c);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/aitag-people-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_catalog_target(db, sizeof db, dir, "c");
    /* two unit vectors far apart, with values no other bytes of the file share */
    for (int k = 0; k < DIM; k++) {
        emb[0][k] = k < 4 ? 0.5 : 0;
        emb[1][k] = k < 4 ? 0 : 0.5;
    }
    emb[0][0] = 0.4987, emb[0][1] = 0.5013; /* still about unit length */
    test_people();
    remove_catalog(db);
    rmdir(dir);
    return check_done();
}
