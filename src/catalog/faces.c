/*
 * faces.c - the faces table: one row per embedded face, written with the item's evidence.
 *
 * catalog_faces_replace runs inside commit_item's transaction, so faces and the evidence they
 * come from are committed together or not at all: a kill during `aitag tag` leaves either the
 * old item with its old faces or the new one with its new faces, never a mix and never twice.
 * A re-stored item's new faces are matched to its old rows (same sample time, box IoU >= 0.5):
 * a matched row is updated in place and keeps its id, and with it its person, how that person
 * was set and the user's rejects (face_rejects references the id). A row no new face matches
 * is deleted. Tracks of the item are cleared: the people engine links them again.
 *
 * The model column is the embedding model's identity, the faceres part of the face_attrs key
 * ("face_attrs/v2 <faceres key> <emotion key> ..."): faces embedded by different models are
 * never compared, and a changed emotion model or threshold does not split the library. A face
 * that gets a new model loses an automatic person (its old distance meant nothing); a person
 * the user gave it stays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

#define FACE_MATCH_IOU 0.5f

struct old_face {
    int64_t id;
    double t;
    struct aitag_box box;
    int used;
};

void aitag_catalog_face_model_of_key(const char *key, char *out, size_t len)
{
    const char *sp = key ? strchr(key, ' ') : NULL;
    size_t n;

    if (!key)
        key = "";
    if (strncmp(key, "face_attrs/", 11) == 0 && sp) {
        n = strcspn(sp + 1, " ");
        aitag_fmt(out, len, "%.*s", (int)n, sp + 1);
    } else {
        aitag_fmt(out, len, "%s", key);
    }
}

int catalog_face_embedded(const struct aitag_evidence *e)
{
    return e->analyzer && strcmp(e->analyzer, "face_attrs") == 0 && e->label &&
           strcmp(e->label, "face") == 0 && e->has_box && e->embedding && e->n_embedding > 0;
}

int catalog_faces_clear(struct aitag_catalog *c, int64_t media_id)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "DELETE FROM faces WHERE media_id = ?", &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    rc = catalog_sql_check(c, catalog_step(st), "clear faces");
    catalog_finalize(st);
    return rc;
}

static int load_old(struct aitag_catalog *c, int64_t media_id, struct old_face **out, size_t *n)
{
    struct catalog_stmt *st = NULL;
    struct old_face *v = NULL;
    size_t k = 0;
    int rc;

    *out = NULL, *n = 0;
    rc = catalog_sql_prepare(
        c, "SELECT id, t, x, y, w, h FROM faces WHERE media_id = ? ORDER BY id", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct old_face *g = realloc(v, (k + 1) * sizeof *v);
        if (!g) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        v = g;
        v[k++] = (struct old_face){
            catalog_column_int64(st, 0),
            catalog_column_double(st, 1),
            {(float)catalog_column_double(st, 2), (float)catalog_column_double(st, 3),
             (float)catalog_column_double(st, 4), (float)catalog_column_double(st, 5)},
            0};
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load faces");
    catalog_finalize(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v, *n = k;
    return 0;
}

/* The unused old face at e's time whose box overlaps e's most (IoU >= FACE_MATCH_IOU). */
static struct old_face *match_old(struct old_face *old, size_t n, const struct aitag_evidence *e)
{
    struct old_face *best = NULL;
    float best_iou = FACE_MATCH_IOU;

    for (size_t i = 0; i < n; i++) {
        float iou;
        if (old[i].used || fabs(old[i].t - e->t) > 1e-4)
            continue;
        iou = aitag_box_iou(&old[i].box, &e->box);
        if (iou >= best_iou)
            best = &old[i], best_iou = iou;
    }
    return best;
}

int catalog_faces_replace(struct aitag_catalog *c, int64_t media_id,
                          const struct aitag_evidence *ev, size_t n, const char *key, int frame_w,
                          int frame_h)
{
    struct catalog_stmt *ins = NULL, *upd = NULL, *del = NULL;
    struct old_face *old = NULL;
    size_t n_old = 0;
    float *blob = NULL;
    int blob_len = 0, rc;
    char model[256];

    aitag_catalog_face_model_of_key(key, model, sizeof model);
    rc = load_old(c, media_id, &old, &n_old);
    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "INSERT INTO faces(media_id, t, x, y, w, h, score, quality,"
                                 " model, embedding) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                                 &ins);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c,
            "UPDATE faces SET t=?2, x=?3, y=?4, w=?5, h=?6, score=?7, quality=?8, track=NULL,"
            " person_id = CASE WHEN model = ?9 OR assigned = 'user' THEN person_id END,"
            " assigned = CASE WHEN model = ?9 OR assigned = 'user' THEN assigned ELSE 'none' END,"
            " model=?9, embedding=?10 WHERE id = ?1",
            &upd);
    if (rc == 0)
        rc = catalog_sql_prepare(c, "DELETE FROM faces WHERE id = ?", &del);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct aitag_evidence *e = &ev[i];
        struct old_face *o;
        struct catalog_stmt *st;
        if (!catalog_face_embedded(e))
            continue;
        if (e->n_embedding > blob_len) {
            float *g = realloc(blob, (size_t)e->n_embedding * sizeof *blob);
            if (!g) {
                rc = AITAG_ERR_NOMEM;
                break;
            }
            blob = g, blob_len = e->n_embedding;
        }
        for (int k = 0; k < e->n_embedding; k++)
            blob[k] = (float)e->embedding[k];
        o = match_old(old, n_old, e);
        st = o ? upd : ins;
        catalog_reset(st);
        if (o) {
            o->used = 1;
            catalog_bind_int64(st, 1, o->id);
        } else {
            catalog_bind_int64(st, 1, media_id);
        }
        catalog_bind_double(st, 2, e->t);
        catalog_bind_double(st, 3, e->box.x);
        catalog_bind_double(st, 4, e->box.y);
        catalog_bind_double(st, 5, e->box.w);
        catalog_bind_double(st, 6, e->box.h);
        catalog_bind_double(st, 7, e->confidence);
        catalog_bind_double(st, 8, aitag_face_quality(e, frame_w, frame_h));
        catalog_bind_text(st, 9, model, -1);
        catalog_bind_blob(st, 10, blob, e->n_embedding * (int)sizeof *blob);
        rc = catalog_sql_check(c, catalog_step(st), o ? "update face" : "insert face");
    }
    for (size_t i = 0; rc == 0 && i < n_old; i++) {
        if (old[i].used)
            continue;
        catalog_reset(del);
        catalog_bind_int64(del, 1, old[i].id);
        rc = catalog_sql_check(c, catalog_step(del), "delete face");
    }
    catalog_finalize(ins);
    catalog_finalize(upd);
    catalog_finalize(del);
    free(old);
    free(blob);
    return rc;
}

int catalog_faces_store(struct aitag_catalog *c, int64_t media_id, const struct aitag_item *it)
{
    for (size_t i = 0; i < it->n_ran; i++)
        if (strcmp(it->ran[i].analyzer, "face_attrs") == 0)
            return catalog_faces_replace(c, media_id, it->evidence, it->n_evidence, it->ran_keys[i],
                                         it->probe->width, it->probe->height);
    return 0;
}

int aitag_catalog_items_without_faces(struct aitag_catalog *c, int64_t **out, size_t *n)
{
    struct catalog_stmt *st = NULL;
    int64_t *v = NULL;
    size_t k = 0;
    int rc;

    *out = NULL, *n = 0;
    rc = catalog_sql_prepare(c,
                             "SELECT a.media_id FROM analyses a WHERE a.analyzer = 'face_attrs'"
                             " AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.media_id = a.media_id)"
                             " AND EXISTS (SELECT 1 FROM evidence e WHERE e.media_id = a.media_id"
                             " AND e.analyzer = 'face_attrs' AND e.label = 'face')"
                             " ORDER BY a.media_id",
                             &st);
    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        int64_t *g = realloc(v, (k + 1) * sizeof *v);
        if (!g) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        v = g;
        v[k++] = catalog_column_int64(st, 0);
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "items without faces");
    catalog_finalize(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v, *n = k;
    return 0;
}

int aitag_catalog_backfill_faces(struct aitag_catalog *c, int64_t media_id, int *added)
{
    struct aitag_evidence_list ev = {0};
    struct catalog_stmt *st = NULL;
    char key[512] = "";
    int w = 0, h = 0, rc, has_faces = 1;

    if (added)
        *added = 0;
    rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    rc = catalog_sql_prepare(c,
                             "SELECT a.key, m.width, m.height,"
                             " EXISTS (SELECT 1 FROM faces f WHERE f.media_id = m.id)"
                             " FROM analyses a JOIN media m ON m.id = a.media_id"
                             " WHERE a.media_id = ? AND a.analyzer = 'face_attrs'",
                             &st);
    if (rc < 0)
        goto out;
    catalog_bind_int64(st, 1, media_id);
    if ((rc = catalog_step(st)) == CATALOG_ROW) {
        aitag_fmt(key, sizeof key, "%s", (const char *)catalog_column_text(st, 0));
        w = catalog_column_int(st, 1), h = catalog_column_int(st, 2);
        has_faces = catalog_column_int(st, 3);
        rc = CATALOG_DONE;
    }
    rc = catalog_sql_check(c, rc, "face_attrs analysis");
    if (rc < 0 || has_faces)
        goto out;
    rc = aitag_catalog_load_evidence(c, media_id, &ev);
    if (rc == 0)
        rc = catalog_faces_replace(c, media_id, ev.items, ev.n, key, w, h);
    if (rc == 0 && added)
        for (size_t i = 0; i < ev.n; i++)
            *added += catalog_face_embedded(&ev.items[i]);
out:
    catalog_finalize(st);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    aitag_evidence_list_clear(&ev);
    return rc;
}

int aitag_catalog_faces_model(struct aitag_catalog *c, char *model, size_t len)
{
    struct catalog_stmt *st = NULL;
    int rc;

    model[0] = '\0';
    rc = catalog_sql_prepare(c, "SELECT model FROM faces ORDER BY id DESC LIMIT 1", &st);
    if (rc < 0)
        return rc;
    rc = catalog_step(st);
    if (rc == CATALOG_ROW) {
        aitag_fmt(model, len, "%s", (const char *)catalog_column_text(st, 0));
        rc = CATALOG_DONE;
    }
    rc = catalog_sql_check(c, rc, "faces model");
    catalog_finalize(st);
    return rc;
}

static enum aitag_face_assigned assigned_from_name(const char *s)
{
    if (s && strcmp(s, "user") == 0)
        return AITAG_FACE_USER;
    if (s && strcmp(s, "auto") == 0)
        return AITAG_FACE_AUTO;
    return AITAG_FACE_NONE;
}

/* Appends row and its embedding to s (dim fixed by the first row). 1 when skipped. */
static int push_face(struct aitag_face_set *s, size_t *cap, const struct aitag_face_row *row,
                     const void *blob, int bytes)
{
    size_t dim = (size_t)bytes / sizeof(float);

    if (bytes <= 0 || (size_t)bytes % sizeof(float) != 0 || (s->n && dim != s->dim))
        return 1;
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct aitag_face_row *r = realloc(s->rows, nc * sizeof *r);
        float *v = r ? realloc(s->vecs, nc * dim * sizeof *v) : NULL;
        if (r)
            s->rows = r;
        if (v)
            s->vecs = v;
        if (!r || !v)
            return AITAG_ERR_NOMEM;
        *cap = nc;
    }
    s->dim = dim;
    s->rows[s->n] = *row;
    memcpy(s->vecs + s->n * dim, blob, dim * sizeof(float));
    s->n++;
    return 0;
}

int aitag_catalog_load_faces(struct aitag_catalog *c, const char *model, struct aitag_face_set *out)
{
    struct catalog_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    aitag_face_set_free(out);
    if (!model) {
        rc = aitag_catalog_faces_model(c, out->model, sizeof out->model);
        if (rc < 0 || !out->model[0])
            return rc;
    } else {
        aitag_fmt(out->model, sizeof out->model, "%s", model);
    }
    rc = catalog_sql_prepare(
        c,
        "SELECT f.id, f.media_id, f.t, f.x, f.y, f.w, f.h, f.score, f.quality, f.track,"
        " f.person_id, f.assigned, m.kind = 'video', f.embedding"
        " FROM faces f JOIN media m ON m.id = f.media_id WHERE f.model = ?"
        " ORDER BY f.media_id, f.t, f.id",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, out->model, -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_face_row r = {
            catalog_column_int64(st, 0),
            catalog_column_int64(st, 1),
            catalog_column_double(st, 2),
            {(float)catalog_column_double(st, 3), (float)catalog_column_double(st, 4),
             (float)catalog_column_double(st, 5), (float)catalog_column_double(st, 6)},
            (float)catalog_column_double(st, 7),
            (float)catalog_column_double(st, 8),
            catalog_column_int64(st, 9),
            catalog_column_int64(st, 10),
            assigned_from_name((const char *)catalog_column_text(st, 11)),
            catalog_column_int(st, 12),
        };
        const void *blob = catalog_column_blob(st, 13);
        if (push_face(out, &cap, &r, blob, catalog_column_bytes(st, 13)) < 0) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load faces");
    catalog_finalize(st);
    if (rc < 0)
        aitag_face_set_free(out);
    return rc;
}

void aitag_face_set_free(struct aitag_face_set *s)
{
    if (!s)
        return;
    free(s->rows);
    free(s->vecs);
    memset(s, 0, sizeof *s);
}
