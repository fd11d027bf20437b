/*
 * people_edit.c - the user's changes to people: name, merge, split, ignore, forget.
 *
 * Each change is one IMMEDIATE transaction that also re-derives every media item whose faces
 * it touched, so `aitag show` and the Stash sync see a named person's tag at once and a
 * forgotten one's never again. Every face a command moves is assigned "user": the clustering
 * may add faces to a person but never takes these away again, and face_rejects keeps a face
 * split off a person out of it for good.
 *
 * Forget is about privacy, not bookkeeping: the face rows (with their float32 embeddings) go,
 * and so do the copies of the embeddings in the evidence they came from (face_attrs' "face"
 * items hold the descriptor in evidence.extra as text), found by time and embedding within
 * the same media. secure_delete makes SQLite zero what it deletes; VACUUM then rewrites the
 * file without free pages and a TRUNCATE checkpoint empties the WAL, which still holds the
 * pages as they were before.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

#define NAME_MAX_BYTES 200

struct id_set {
    int64_t *v;
    size_t n, cap;
};

static int set_add(struct id_set *s, int64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == id)
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        int64_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return AITAG_ERR_NOMEM;
        s->v = v, s->cap = cap;
    }
    s->v[s->n++] = id;
    return 0;
}

static int invalid(struct aitag_catalog *c, int rc, const char *msg, const char *what)
{
    c->sql_rc = 0;
    aitag_fmt(c->errmsg, sizeof c->errmsg, "%s%s", msg, what);
    return rc;
}

/* Runs sql with ?1 = a and ?2 = b (ids; b unused when the statement has one parameter). */
static int exec_ids(struct aitag_catalog *c, const char *sql, int64_t a, int64_t b,
                    const char *what)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, sql, &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, a);
    if (catalog_param_count(st) >= 2)
        catalog_bind_int64(st, 2, b);
    rc = catalog_sql_check(c, catalog_step(st), what);
    catalog_finalize(st);
    return rc;
}

/* Adds the media where person id has faces to s. */
static int media_of(struct aitag_catalog *c, int64_t id, struct id_set *s)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "SELECT DISTINCT media_id FROM faces WHERE person_id = ?", &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, id);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (set_add(s, catalog_column_int64(st, 0)) < 0) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "person media");
    catalog_finalize(st);
    return rc;
}

static int rederive_locked(struct aitag_catalog *c, const int64_t *ids, size_t n,
                           const struct aitag_policy *p)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = p ? catalog_derive_locked(c, ids[i], p)
               : exec_ids(c, "UPDATE media SET derive_key = NULL WHERE id = ?", ids[i], 0,
                          "clear derive key");
    return rc;
}

/* Re-derives s, commits, and frees s; on any failure rolls back. */
static int finish(struct aitag_catalog *c, int rc, struct id_set *s, const struct aitag_policy *p)
{
    if (rc == 0)
        rc = rederive_locked(c, s->v, s->n, p);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    free(s->v);
    *s = (struct id_set){0};
    return rc;
}

int aitag_catalog_people_rederive(struct aitag_catalog *c, const int64_t *media_ids, size_t n,
                                  const struct aitag_policy *p)
{
    int rc = catalog_sql_begin(c);

    if (rc < 0)
        return rc;
    rc = rederive_locked(c, media_ids, n, p);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

static int touch(struct aitag_catalog *c, int64_t id)
{
    return exec_ids(c, "UPDATE people SET updated_at = ?2 WHERE id = ?1", id, (int64_t)time(NULL),
                    "update person");
}

/* Why name is not a usable name, or NULL. */
const char *catalog_person_name_problem(const char *name)
{
    size_t len = strlen(name);

    if (len == 0)
        return "is empty";
    if (len > NAME_MAX_BYTES)
        return "is longer than 200 bytes";
    if (isspace((unsigned char)name[0]) || isspace((unsigned char)name[len - 1]))
        return "starts or ends with a space";
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            return "holds a control character";
    return NULL;
}

int aitag_catalog_name_person(struct aitag_catalog *c, int64_t id, const char *name,
                              const struct aitag_policy *p)
{
    struct id_set media = {0};
    struct catalog_stmt *st = NULL;
    const char *why = catalog_person_name_problem(name);
    int rc;

    if (why) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "NAME '%.200s': %s", name, why);
        return AITAG_ERR_INVALID;
    }
    rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    rc = catalog_person_check(c, id);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c, "SELECT id FROM people WHERE name = ?1 COLLATE NOCASE AND id != ?2", &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, name, -1);
        catalog_bind_int64(st, 2, id);
        if ((rc = catalog_step(st)) == CATALOG_ROW) {
            c->sql_rc = 0;
            aitag_fmt(c->errmsg, sizeof c->errmsg, "NAME '%s': already the name of person %lld",
                      name, (long long)catalog_column_int64(st, 0));
            rc = AITAG_ERR_INVALID;
        } else {
            rc = catalog_sql_check(c, rc, "find name");
        }
        catalog_finalize(st);
        st = NULL;
    }
    if (rc == 0 &&
        (rc = catalog_sql_prepare(c, "UPDATE people SET name = ?1, updated_at = ?3 WHERE id = ?2",
                                  &st)) == 0) {
        catalog_bind_text(st, 1, name, -1);
        catalog_bind_int64(st, 2, id);
        catalog_bind_int64(st, 3, (int64_t)time(NULL));
        rc = catalog_sql_check(c, catalog_step(st), "name person");
        catalog_finalize(st);
    }
    if (rc == 0)
        rc = media_of(c, id, &media);
    return finish(c, rc, &media, p);
}

/* The name of person id into buf ("" when unnamed). */
static int person_name(struct aitag_catalog *c, int64_t id, char *buf, size_t len)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "SELECT name FROM people WHERE id = ?", &st);

    buf[0] = '\0';
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, id);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW && catalog_column_text(st, 0))
        aitag_fmt(buf, len, "%s", (const char *)catalog_column_text(st, 0));
    rc = rc == CATALOG_ROW    ? 0
         : rc == CATALOG_DONE ? catalog_person_missing(c, id)
                              : catalog_sql_check(c, rc, "person");
    catalog_finalize(st);
    return rc;
}

/* Moves person from's faces and rejects into person to, then deletes from. */
static int merge_one(struct aitag_catalog *c, int64_t to, int64_t from)
{
    int rc = exec_ids(c,
                      "INSERT INTO face_rejects(face_id, person_id)"
                      " SELECT face_id, ?1 FROM face_rejects WHERE person_id = ?2"
                      " ON CONFLICT DO NOTHING",
                      to, from, "move rejects");
    if (rc == 0)
        rc = exec_ids(c, "UPDATE faces SET person_id = ?1 WHERE person_id = ?2", to, from,
                      "move faces");
    if (rc == 0)
        rc = exec_ids(c, "UPDATE person_refs SET person_id = ?1 WHERE person_id = ?2", to, from,
                      "move reference faces");
    if (rc == 0)
        rc = exec_ids(c, "DELETE FROM people WHERE id = ?", from, 0, "delete merged person");
    return rc;
}

int aitag_catalog_merge_people(struct aitag_catalog *c, const int64_t *ids, size_t n,
                               const struct aitag_policy *p)
{
    struct id_set media = {0};
    char name[1024], other[1024]; /* names from Stash may be longer than ours */
    int rc;

    if (n < 2)
        return invalid(c, AITAG_ERR_INVALID, "ID: give two people or more", "");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (ids[i] == ids[j]) {
                c->sql_rc = 0;
                aitag_fmt(c->errmsg, sizeof c->errmsg, "ID %lld: given twice", (long long)ids[i]);
                return AITAG_ERR_INVALID;
            }
    rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    rc = person_name(c, ids[0], name, sizeof name);
    for (size_t i = 1; rc == 0 && i < n; i++) {
        rc = person_name(c, ids[i], other, sizeof other);
        if (rc == 0 && !name[0] && other[0])
            memcpy(name, other, sizeof name);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = media_of(c, ids[i], &media);
    for (size_t i = 1; rc == 0 && i < n; i++)
        rc = merge_one(c, ids[0], ids[i]);
    /* the user put every face of the result together: rejects from it no longer stand */
    if (rc == 0)
        rc = exec_ids(c,
                      "DELETE FROM face_rejects WHERE person_id = ?1"
                      " AND face_id IN (SELECT id FROM faces WHERE person_id = ?1)",
                      ids[0], 0, "clear rejects");
    if (rc == 0)
        rc = exec_ids(c, "UPDATE faces SET assigned = 'user' WHERE person_id = ?", ids[0], 0,
                      "assign faces");
    if (rc == 0 && name[0]) {
        struct catalog_stmt *st = NULL;
        rc = catalog_sql_prepare(c, "UPDATE people SET name = ?1 WHERE id = ?2", &st);
        if (rc == 0) {
            catalog_bind_text(st, 1, name, -1);
            catalog_bind_int64(st, 2, ids[0]);
            rc = catalog_sql_check(c, catalog_step(st), "name merged person");
            catalog_finalize(st);
        }
    }
    if (rc == 0)
        rc = touch(c, ids[0]);
    return finish(c, rc, &media, p);
}

/* 0 when face fid belongs to person id; else AITAG_ERR_INVALID naming the face. */
static int face_of(struct aitag_catalog *c, int64_t id, int64_t fid)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "SELECT person_id FROM faces WHERE id = ?", &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, fid);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW && catalog_column_type(st, 0) != CATALOG_NULL &&
        catalog_column_int64(st, 0) == id) {
        rc = 0;
    } else if (rc == CATALOG_ROW || rc == CATALOG_DONE) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "FACE_ID %lld: %s person %lld", (long long)fid,
                  rc == CATALOG_ROW ? "not a face of" : "no such face, so not a face of",
                  (long long)id);
        rc = AITAG_ERR_INVALID;
    } else {
        rc = catalog_sql_check(c, rc, "face");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_split_person(struct aitag_catalog *c, int64_t id, const int64_t *face_ids,
                               size_t n, const struct aitag_policy *p, int64_t *new_id)
{
    struct id_set media = {0};
    struct catalog_stmt *st = NULL;
    int64_t now = (int64_t)time(NULL);
    int rc;

    *new_id = 0;
    if (n == 0)
        return invalid(c, AITAG_ERR_INVALID, "FACE_ID: give the faces to split off", "");
    rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    rc = catalog_person_check(c, id);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = face_of(c, id, face_ids[i]);
    if (rc == 0)
        rc = media_of(c, id, &media);
    if (rc == 0 && (rc = catalog_sql_prepare(c,
                                             "INSERT INTO people(origin, created_at, updated_at)"
                                             " VALUES('user', ?1, ?1) RETURNING id",
                                             &st)) == 0) {
        catalog_bind_int64(st, 1, now);
        if ((rc = catalog_step(st)) == CATALOG_ROW)
            *new_id = catalog_column_int64(st, 0);
        rc = catalog_sql_check(c, rc, "new person");
        catalog_finalize(st);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = exec_ids(c, "UPDATE faces SET person_id = ?2, assigned = 'user' WHERE id = ?1",
                      face_ids[i], *new_id, "move face");
        if (rc == 0)
            rc = exec_ids(c,
                          "INSERT INTO face_rejects(face_id, person_id) VALUES(?,?)"
                          " ON CONFLICT DO NOTHING",
                          face_ids[i], id, "reject face");
    }
    if (rc == 0) /* a cover that left the person is no cover of it */
        rc = exec_ids(c,
                      "UPDATE people SET cover_face = NULL WHERE id = ?1 AND cover_face IN"
                      " (SELECT id FROM faces WHERE person_id = ?2)",
                      id, *new_id, "cover");
    if (rc == 0)
        rc = touch(c, id);
    rc = finish(c, rc, &media, p);
    if (rc < 0)
        *new_id = 0;
    return rc;
}

/* Hides (on) or shows again person id. Hiding also makes its faces the user's, so they never
 * form a new person; showing again leaves them so (they are still this person's). */
static int set_ignored(struct aitag_catalog *c, int64_t id, int on, const struct aitag_policy *p)
{
    struct id_set media = {0};
    int rc = catalog_sql_begin(c);

    if (rc < 0)
        return rc;
    rc = catalog_person_check(c, id);
    if (rc == 0)
        rc = exec_ids(c, "UPDATE people SET ignored = ?2 WHERE id = ?1", id, on, "ignore person");
    if (rc == 0 && on)
        rc = exec_ids(c, "UPDATE faces SET assigned = 'user' WHERE person_id = ?", id, 0,
                      "assign faces");
    if (rc == 0)
        rc = touch(c, id);
    if (rc == 0)
        rc = media_of(c, id, &media);
    return finish(c, rc, &media, p);
}

int aitag_catalog_ignore_person(struct aitag_catalog *c, int64_t id, const struct aitag_policy *p)
{
    return set_ignored(c, id, 1, p);
}

int aitag_catalog_unignore_person(struct aitag_catalog *c, int64_t id, const struct aitag_policy *p)
{
    return set_ignored(c, id, 0, p);
}

/* --- forget ------------------------------------------------------------------------------ */

/* True when evidence e (parsed) is the one face f (time, box or embedding) came from. */
static int same_face(const struct aitag_evidence *e, struct catalog_stmt *f)
{
    const float *emb = catalog_column_blob(f, 6);
    int dim = catalog_column_bytes(f, 6) / (int)sizeof(float);
    double box_d = 0, emb_d = 0;

    if (e->has_box)
        box_d = fmax(fmax(fabs(e->box.x - catalog_column_double(f, 2)),
                          fabs(e->box.y - catalog_column_double(f, 3))),
                     fmax(fabs(e->box.w - catalog_column_double(f, 4)),
                          fabs(e->box.h - catalog_column_double(f, 5))));
    if (e->has_box && box_d < 1e-4)
        return 1;
    if (!emb || dim != e->n_embedding)
        return 0;
    for (int i = 0; i < dim; i++) {
        float v;
        memcpy(&v, (const char *)emb + (size_t)i * sizeof v, sizeof v); /* blob: unaligned */
        emb_d = fmax(emb_d, fabs(e->embedding[i] - v));
    }
    return emb_d < 2e-3; /* the evidence prints 4 decimals */
}

/* Takes the embedding out of the evidence of face row f (media, t, box, embedding). */
static int strip_face_evidence(struct aitag_catalog *c, struct catalog_stmt *f, int *n_stripped)
{
    struct catalog_stmt *st = NULL, *up = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT id, extra, x, y, w, h FROM evidence WHERE media_id = ?1"
                                 " AND abs(t - ?2) < 1e-3 AND (extra LIKE '%\"descriptor\"%'"
                                 " OR extra LIKE '%\"embedding\"%')",
                                 &st);

    if (rc == 0)
        rc = catalog_sql_prepare(c, "UPDATE evidence SET extra = ?1 WHERE id = ?2", &up);
    if (rc < 0)
        goto out;
    catalog_bind_int64(st, 1, catalog_column_int64(f, 0));
    catalog_bind_double(st, 2, catalog_column_double(f, 1));
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_evidence e = {0};
        char *details = NULL;
        e.has_box = catalog_column_type(st, 2) != CATALOG_NULL;
        e.box = (struct aitag_box){
            (float)catalog_column_double(st, 2), (float)catalog_column_double(st, 3),
            (float)catalog_column_double(st, 4), (float)catalog_column_double(st, 5)};
        if (aitag_evidence_parse_details(&e, (const char *)catalog_column_text(st, 1)) < 0 ||
            !same_face(&e, f)) {
            aitag_evidence_clear(&e);
            continue;
        }
        free(e.embedding);
        e.embedding = NULL, e.n_embedding = 0, e.embedding_form = AITAG_EMBEDDING_NONE;
        rc = aitag_evidence_details_json(&e, &details);
        aitag_evidence_clear(&e);
        if (rc < 0)
            break;
        catalog_reset(up);
        if (details)
            catalog_bind_text(up, 1, details, -1);
        else
            catalog_bind_null(up, 1);
        catalog_bind_int64(up, 2, catalog_column_int64(st, 0));
        free(details);
        rc = catalog_sql_check(c, catalog_step(up), "strip embedding");
        if (rc < 0)
            break;
        (*n_stripped)++;
    }
    rc = rc < 0 ? rc : catalog_sql_check(c, rc, "face evidence");
out:
    catalog_finalize(st);
    catalog_finalize(up);
    return rc;
}

/* Checkpoints the WAL into the file and truncates it. A reader of another process that holds
 * an older snapshot keeps the WAL from being emptied: said, since the old pages stay in it
 * until that reader is done (the next writer's checkpoint then overwrites them). */
static int empty_wal(struct aitag_catalog *c)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "PRAGMA wal_checkpoint(TRUNCATE)", &st);

    if (rc < 0)
        return rc;
    rc = catalog_step(st);
    if (rc == CATALOG_ROW && catalog_column_int(st, 0) != 0)
        aitag_log(AITAG_LOG_WARN, "catalog",
                  "event=wal_busy another process is reading the catalog: its write-ahead log"
                  " keeps the deleted pages until that process is done");
    rc = catalog_sql_check(c, rc, "checkpoint");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_forget_person(struct aitag_catalog *c, int64_t id, const struct aitag_policy *p,
                                int64_t *n_faces)
{
    struct id_set media = {0};
    struct catalog_stmt *st = NULL;
    int rc, n_stripped = 0;

    *n_faces = 0;
    rc = catalog_sql_is_pg(c) ? 0 : catalog_sql_exec(c, "PRAGMA secure_delete = ON");
    if (rc == 0)
        rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    rc = catalog_person_check(c, id);
    if (rc == 0)
        rc = media_of(c, id, &media);
    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "SELECT media_id, t, x, y, w, h, embedding FROM faces"
                                 " WHERE person_id = ?",
                                 &st);
    if (rc == 0) {
        catalog_bind_int64(st, 1, id);
        while ((rc = catalog_step(st)) == CATALOG_ROW &&
               (rc = strip_face_evidence(c, st, &n_stripped)) == 0)
            (*n_faces)++;
        rc = rc < 0 ? rc : catalog_sql_check(c, rc, "person faces");
        catalog_finalize(st);
    }
    if (rc == 0)
        rc = exec_ids(c, "DELETE FROM faces WHERE person_id = ?", id, 0, "delete faces");
    /* the reference faces lose their embedding but stay as seen: not fetched and made into
     * this person again until their image changes */
    if (rc == 0)
        rc = exec_ids(c,
                      "UPDATE person_refs SET person_id = NULL, model = NULL, embedding = NULL,"
                      " quality = NULL WHERE person_id = ?",
                      id, 0, "forget reference faces");
    if (rc == 0)
        rc = exec_ids(c, "DELETE FROM people WHERE id = ?", id, 0, "delete person");
    rc = finish(c, rc, &media, p);
    /* PostgreSQL: the tables that held the faces are rewritten, their old files dropped; its
     * write-ahead log is the server's (docs/scale.md) */
    if (rc == 0)
        rc = catalog_sql_exec(c, catalog_sql_is_pg(c)
                                     ? "VACUUM FULL faces, evidence, person_refs, people"
                                     : "VACUUM");
    if (rc == 0 && !catalog_sql_is_pg(c))
        rc = empty_wal(c);
    if (rc < 0)
        *n_faces = 0;
    aitag_log(AITAG_LOG_INFO, "catalog", "event=forget person=%lld faces=%lld evidence=%d",
              (long long)id, (long long)*n_faces, n_stripped);
    return rc;
}
