/*
 * people_user.c - people as the user sees them: listing, one person's faces and media, and
 * named people as evidence for the policy.
 *
 * A person's cover is the face the user or the clustering chose (people.cover_face) while it
 * is still theirs, else their best face: highest quality, then detector score, then the
 * oldest, so the cover only changes when a better face arrives. Named people who are not
 * ignored enter derivation as evidence of a pseudo-analyzer "people" (label "person:NAME",
 * one item per face, confidence the detector's score), sampled like the faces they came from,
 * so the policy turns them into tags and markers with the same rules, renames and lists as
 * any label: a person is never a special case downstream (Stash sync, search by tag).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

/* Columns 0..10 of a person with their cover face (see person_row). */
#define PERSON_SELECT                                                                              \
    "SELECT p.id, p.name, p.ignored, (SELECT count(*) FROM faces WHERE person_id = p.id),"         \
    " f.id, m.path, f.t, f.x, f.y, f.w, f.h FROM people p"                                         \
    " LEFT JOIN faces f ON f.id = coalesce("                                                       \
    "  (SELECT id FROM faces WHERE id = p.cover_face AND person_id = p.id),"                       \
    "  (SELECT id FROM faces WHERE person_id = p.id"                                               \
    "   ORDER BY coalesce(quality, -1) DESC, coalesce(score, -1) DESC, id LIMIT 1))"               \
    " LEFT JOIN media m ON m.id = f.media_id"

static struct aitag_box box_at(struct catalog_stmt *st, int col)
{
    return (struct aitag_box){
        (float)catalog_column_double(st, col), (float)catalog_column_double(st, col + 1),
        (float)catalog_column_double(st, col + 2), (float)catalog_column_double(st, col + 3)};
}

static struct aitag_person person_row(struct catalog_stmt *st)
{
    struct aitag_person p = {0};

    p.id = catalog_column_int64(st, 0);
    p.name = (const char *)catalog_column_text(st, 1);
    p.ignored = catalog_column_int(st, 2);
    p.n_faces = catalog_column_int64(st, 3);
    p.has_cover = catalog_column_type(st, 4) != CATALOG_NULL;
    if (p.has_cover) {
        p.cover_face = catalog_column_int64(st, 4);
        p.cover_path = (const char *)catalog_column_text(st, 5);
        p.cover_t = catalog_column_double(st, 6);
        p.cover_box = box_at(st, 7);
    }
    return p;
}

int catalog_person_missing(struct aitag_catalog *c, int64_t id)
{
    c->sql_rc = 0;
    aitag_fmt(c->errmsg, sizeof c->errmsg, "ID %lld: no such person", (long long)id);
    return AITAG_ERR_NOTFOUND;
}

int aitag_catalog_each_person(struct aitag_catalog *c, int with_ignored, aitag_person_fn fn,
                              void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc =
        catalog_sql_prepare(c, PERSON_SELECT " WHERE ?1 <> 0 OR p.ignored = 0 ORDER BY p.id", &st);

    if (rc < 0)
        return rc;
    catalog_bind_int(st, 1, with_ignored != 0);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_person p = person_row(st);
        if (fn(ctx, &p))
            break;
    }
    rc = catalog_sql_check(c, rc, "list people");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_get_person(struct aitag_catalog *c, int64_t id, aitag_person_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, PERSON_SELECT " WHERE p.id = ?1", &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, id);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW) {
        struct aitag_person p = person_row(st);
        fn(ctx, &p);
        rc = 0;
    } else {
        rc =
            rc == CATALOG_DONE ? catalog_person_missing(c, id) : catalog_sql_check(c, rc, "person");
    }
    catalog_finalize(st);
    return rc;
}

int catalog_person_check(struct aitag_catalog *c, int64_t id)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "SELECT 1 FROM people WHERE id = ?", &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, id);
    rc = catalog_step(st);
    rc = rc == CATALOG_ROW    ? 0
         : rc == CATALOG_DONE ? catalog_person_missing(c, id)
                              : catalog_sql_check(c, rc, "person");
    catalog_finalize(st);
    return rc;
}

/* The faces of person id, or (face_id > 0) that one face, to fn. */
static int each_face(struct aitag_catalog *c, int64_t id, int64_t face_id, aitag_face_fn fn,
                     void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT f.id, f.media_id, m.path, f.t, f.x, f.y, f.w, f.h,"
                                 " coalesce(f.score, -1), coalesce(f.quality, -1), f.assigned"
                                 " FROM faces f JOIN media m ON m.id = f.media_id"
                                 " WHERE (?1 > 0 AND f.id = ?1) OR (?1 <= 0 AND f.person_id = ?2)"
                                 " ORDER BY m.path, f.t, f.id",
                                 &st);
    int found = 0;

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, face_id);
    catalog_bind_int64(st, 2, id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_face f = {catalog_column_int64(st, 0),
                               catalog_column_int64(st, 1),
                               (const char *)catalog_column_text(st, 2),
                               catalog_column_double(st, 3),
                               box_at(st, 4),
                               (float)catalog_column_double(st, 8),
                               (float)catalog_column_double(st, 9),
                               (const char *)catalog_column_text(st, 10)};
        found = 1;
        if (fn(ctx, &f))
            break;
    }
    rc = catalog_sql_check(c, rc, "person faces");
    catalog_finalize(st);
    if (rc == 0 && face_id > 0 && !found) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "FACE_ID %lld: no such face", (long long)face_id);
        rc = AITAG_ERR_NOTFOUND;
    }
    return rc;
}

int aitag_catalog_person_faces(struct aitag_catalog *c, int64_t id, aitag_face_fn fn, void *ctx)
{
    int rc = catalog_person_check(c, id);

    return rc < 0 ? rc : each_face(c, id, 0, fn, ctx);
}

int aitag_catalog_get_face(struct aitag_catalog *c, int64_t face_id, aitag_face_fn fn, void *ctx)
{
    return each_face(c, 0, face_id, fn, ctx);
}

int aitag_catalog_person_media(struct aitag_catalog *c, int64_t id, aitag_catalog_item_fn fn,
                               void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_person_check(c, id);

    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "SELECT m.path, m.id, m.missing_at IS NOT NULL FROM media m"
                                 " WHERE m.id IN (SELECT media_id FROM faces WHERE person_id = ?)"
                                 " ORDER BY m.path",
                                 &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, id);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int64(st, 1),
               catalog_column_int(st, 2)))
            break;
    rc = catalog_sql_check(c, rc, "person media");
    catalog_finalize(st);
    return rc;
}

int catalog_derive_key(struct aitag_catalog *c, int64_t media_id, const struct aitag_policy *p,
                       char key[65])
{
    struct catalog_stmt *st = NULL;
    char *text = NULL, line[512];
    size_t len = 0, cap = 0;
    int rc = catalog_sql_prepare(c,
                                 "SELECT p.id, p.name, f.id, f.t FROM faces f"
                                 " JOIN people p ON p.id = f.person_id"
                                 " WHERE f.media_id = ? AND p.name IS NOT NULL AND p.ignored = 0"
                                 " ORDER BY f.id",
                                 &st);

    aitag_fmt(key, 65, "%s", aitag_policy_key(p));
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    rc = aitag_buf_append(&text, &len, &cap, key, strlen(key), 0);
    while (rc == 0 && (rc = catalog_step(st)) == CATALOG_ROW) {
        aitag_fmt(line, sizeof line, "\n%lld\x1f%s\x1f%lld\x1f%.6f",
                  (long long)catalog_column_int64(st, 0), (const char *)catalog_column_text(st, 1),
                  (long long)catalog_column_int64(st, 2), catalog_column_double(st, 3));
        rc = aitag_buf_append(&text, &len, &cap, line, strlen(line), 0);
    }
    rc = rc < 0 ? rc : catalog_sql_check(c, rc, "people key");
    /* thresholds learned for the labels of its evidence (learn.c) */
    if (rc == 0) {
        struct aitag_label_threshold *th = NULL;
        size_t n_th = 0;
        rc = catalog_thresholds_load(c, media_id, &th, &n_th);
        for (size_t i = 0; rc == 0 && i < n_th; i++) {
            aitag_fmt(line, sizeof line, "\nT\x1f%.400s\x1f%.6f", th[i].label,
                      (double)th[i].threshold);
            rc = aitag_buf_append(&text, &len, &cap, line, strlen(line), 0);
        }
        catalog_thresholds_free(th, n_th);
    }
    if (rc == 0 && len > strlen(key))
        aitag_sha256_buf(text, len, key);
    free(text);
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_rederive_people(struct aitag_catalog *c, const struct aitag_policy *p, int *n)
{
    struct catalog_stmt *st = NULL;
    int64_t *ids = NULL;
    size_t k = 0, cap = 0;
    char key[65];
    int rc = catalog_sql_prepare(c,
                                 "SELECT m.id, m.derive_key FROM media m WHERE EXISTS(SELECT 1"
                                 " FROM faces f JOIN people p ON p.id = f.person_id"
                                 " WHERE f.media_id = m.id AND p.name IS NOT NULL"
                                 " AND p.ignored = 0) ORDER BY m.id",
                                 &st);

    if (n)
        *n = 0;
    if (rc < 0)
        return rc;
    /* the stale ones first, then re-derive them: no writes while the query reads */
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        int64_t id = catalog_column_int64(st, 0);
        const char *stored = (const char *)catalog_column_text(st, 1);
        if ((rc = catalog_derive_key(c, id, p, key)) < 0)
            break;
        if (stored && strcmp(stored, key) == 0)
            continue;
        if (k == cap) {
            int64_t *g = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
            if (!g) {
                rc = AITAG_ERR_NOMEM;
                break;
            }
            ids = g;
        }
        ids[k++] = id;
    }
    rc = rc < 0 ? rc : catalog_sql_check(c, rc, "people media");
    catalog_finalize(st);
    if (rc == 0 && k)
        rc = aitag_catalog_people_rederive(c, ids, k, p);
    if (rc == 0 && n)
        *n = (int)k;
    free(ids);
    return rc;
}

int catalog_people_evidence(struct aitag_catalog *c, int64_t media_id,
                            struct aitag_evidence_list *ev)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT 'person:' || p.name, f.t, f.x, f.y, f.w, f.h,"
                                 " coalesce(f.score, 1) FROM faces f"
                                 " JOIN people p ON p.id = f.person_id"
                                 " WHERE f.media_id = ? AND p.name IS NOT NULL AND p.ignored = 0"
                                 " ORDER BY f.t, f.id",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_evidence e = {0};
        e.analyzer = (char *)"people";
        e.label = (char *)catalog_column_text(st, 0);
        e.t = catalog_column_double(st, 1);
        e.has_box = catalog_column_type(st, 2) != CATALOG_NULL;
        e.box = box_at(st, 2);
        e.confidence = (float)catalog_column_double(st, 6);
        if (aitag_evidence_push(ev, &e) < 0) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "people evidence");
    catalog_finalize(st);
    return rc;
}
