/*
 * people.c - the people table and the face assignments clustering writes.
 *
 * The people engine (src/people/) reads faces, people and rejects, decides in memory, and
 * hands back one write: new people, face changes, people to drop. It is applied in one
 * transaction so that a kill mid-way leaves the previous assignment whole. Face changes never
 * touch a face whose assigned is 'user' (a person command may have run between the read and
 * the write: the user wins), and a dropped person is deleted only while it has no face and no
 * name, for the same reason.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

int aitag_catalog_load_people(struct aitag_catalog *c, struct aitag_person_row **out, size_t *n)
{
    struct catalog_stmt *st = NULL;
    struct aitag_person_row *v = NULL;
    size_t k = 0;
    int rc;

    *out = NULL, *n = 0;
    rc = catalog_sql_prepare(
        c, "SELECT id, name, ignored, cover_face, origin FROM people ORDER BY id", &st);
    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_person_row *g = realloc(v, (k + 1) * sizeof *v), *p;
        if (!g) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        v = g, p = &v[k++];
        memset(p, 0, sizeof *p);
        p->id = catalog_column_int64(st, 0);
        if (catalog_column_text(st, 1))
            aitag_fmt(p->name, sizeof p->name, "%s", (const char *)catalog_column_text(st, 1));
        p->ignored = catalog_column_int(st, 2);
        p->cover_face = catalog_column_int64(st, 3);
        aitag_fmt(p->origin, sizeof p->origin, "%s",
                  catalog_column_text(st, 4) ? (const char *)catalog_column_text(st, 4) : "");
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load people");
    catalog_finalize(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v, *n = k;
    return 0;
}

int aitag_catalog_load_face_rejects(struct aitag_catalog *c, struct aitag_face_reject **out,
                                    size_t *n)
{
    struct catalog_stmt *st = NULL;
    struct aitag_face_reject *v = NULL;
    size_t k = 0;
    int rc;

    *out = NULL, *n = 0;
    rc =
        catalog_sql_prepare(c, "SELECT face_id, person_id FROM face_rejects ORDER BY face_id", &st);
    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_face_reject *g = realloc(v, (k + 1) * sizeof *v);
        if (!g) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        v = g;
        v[k++] =
            (struct aitag_face_reject){catalog_column_int64(st, 0), catalog_column_int64(st, 1)};
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load face rejects");
    catalog_finalize(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v, *n = k;
    return 0;
}

static const char *assigned_name(enum aitag_face_assigned a)
{
    return a == AITAG_FACE_USER ? "user" : a == AITAG_FACE_AUTO ? "auto" : "none";
}

static int create_people(struct aitag_catalog *c, const struct aitag_people_write *w, int64_t *ids)
{
    struct catalog_stmt *st = NULL;
    int64_t now = (int64_t)time(NULL);
    int rc = 0, step;

    if (w->n_new == 0)
        return 0;
    rc = catalog_sql_prepare(c,
                             "INSERT INTO people(cover_face, origin, created_at, updated_at)"
                             " VALUES(?, 'cluster', ?, ?) RETURNING id",
                             &st);
    for (size_t k = 0; rc == 0 && k < w->n_new; k++) {
        catalog_reset(st);
        if (w->new_covers && w->new_covers[k] > 0)
            catalog_bind_int64(st, 1, w->new_covers[k]);
        else
            catalog_bind_null(st, 1);
        catalog_bind_int64(st, 2, now);
        catalog_bind_int64(st, 3, now);
        step = catalog_step(st);
        rc = catalog_sql_check(c, step, "create person");
        ids[k] = step == CATALOG_ROW ? catalog_column_int64(st, 0) : 0;
    }
    catalog_finalize(st);
    return rc;
}

static int change_faces(struct aitag_catalog *c, const struct aitag_people_write *w,
                        const int64_t *ids)
{
    struct catalog_stmt *st = NULL;
    int rc;

    rc = catalog_sql_prepare(c,
                             "UPDATE faces SET track = ?2, person_id = ?3, assigned = ?4"
                             " WHERE id = ?1 AND assigned != 'user'",
                             &st);
    for (size_t i = 0; rc == 0 && i < w->n_changes; i++) {
        const struct aitag_face_change *f = &w->changes[i];
        int64_t pid = f->person_id;
        if (pid < 0) {
            size_t k = (size_t)(-pid - 1);
            if (k >= w->n_new) {
                aitag_fmt(c->errmsg, sizeof c->errmsg, "face %lld: new person %zu of %zu",
                          (long long)f->face_id, k, w->n_new);
                rc = AITAG_ERR_INVALID;
                break;
            }
            pid = ids[k];
        }
        catalog_reset(st);
        catalog_bind_int64(st, 1, f->face_id);
        if (f->track > 0)
            catalog_bind_int64(st, 2, f->track);
        else
            catalog_bind_null(st, 2);
        if (pid > 0)
            catalog_bind_int64(st, 3, pid);
        else
            catalog_bind_null(st, 3);
        catalog_bind_text(st, 4, pid > 0 ? assigned_name(f->assigned) : "none", -1);
        rc = catalog_sql_check(c, catalog_step(st), "assign face");
    }
    catalog_finalize(st);
    return rc;
}

static int drop_people(struct aitag_catalog *c, const struct aitag_people_write *w)
{
    struct catalog_stmt *st = NULL;
    int rc;

    if (w->n_drop == 0)
        return 0;
    rc = catalog_sql_prepare(c,
                             "DELETE FROM people WHERE id = ?1 AND name IS NULL AND"
                             " origin = 'cluster' AND ignored = 0 AND NOT EXISTS"
                             " (SELECT 1 FROM faces WHERE person_id = ?1)",
                             &st);
    for (size_t i = 0; rc == 0 && i < w->n_drop; i++) {
        catalog_reset(st);
        catalog_bind_int64(st, 1, w->drop[i]);
        rc = catalog_sql_check(c, catalog_step(st), "drop person");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_write_people(struct aitag_catalog *c, const struct aitag_people_write *w,
                               int64_t *new_ids)
{
    int64_t *ids = NULL;
    int rc;

    if (w->n_new) {
        ids = calloc(w->n_new, sizeof *ids);
        if (!ids)
            return AITAG_ERR_NOMEM;
    }
    rc = catalog_sql_begin(c);
    if (rc == 0)
        rc = create_people(c, w, ids);
    if (rc == 0)
        rc = change_faces(c, w, ids);
    if (rc == 0)
        rc = drop_people(c, w);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    if (rc == 0 && new_ids && w->n_new)
        memcpy(new_ids, ids, w->n_new * sizeof *ids);
    free(ids);
    return rc;
}
