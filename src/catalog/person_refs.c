/*
 * person_refs.c - reference faces (schema 6): faces known to be someone's before any
 * clustering, and the few people lookups that placing them needs.
 *
 * A reference is keyed by where its image came from (source, ref: "stash" and a performer id)
 * and remembers which version of the image it was made from (image_key), so an unchanged image
 * is never fetched or embedded twice. Each write is one autocommit statement: a caller that is
 * killed between creating a person and storing the reference finds the person by name on the
 * next run and stores it then, so nothing is made twice. Embeddings are float32 BLOBs like the
 * faces', of one named model; the people engine loads those of the current model only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

int aitag_catalog_person_ref(struct aitag_catalog *c, const char *source, const char *ref,
                             char *key, size_t len, int64_t *person_id)
{
    struct catalog_stmt *st = NULL;
    int rc;

    if (len)
        key[0] = '\0';
    *person_id = 0;
    rc = catalog_sql_prepare(
        c, "SELECT image_key, person_id FROM person_refs WHERE source = ?1 AND ref = ?2", &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, source, -1);
    catalog_bind_text(st, 2, ref, -1);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW) {
        aitag_fmt(key, len, "%s", (const char *)catalog_column_text(st, 0));
        *person_id = catalog_column_int64(st, 1);
        rc = 0;
    } else {
        rc = rc == CATALOG_DONE ? AITAG_ERR_NOTFOUND : catalog_sql_check(c, rc, "reference face");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_put_person_ref(struct aitag_catalog *c, const struct aitag_person_ref *r)
{
    struct catalog_stmt *st = NULL;
    int rc;

    if (!r->source || !*r->source || !r->ref || !*r->ref || !r->image_key ||
        (r->embedding && (!r->model || r->dim == 0)))
        return AITAG_ERR_INVALID;
    rc = catalog_sql_prepare(c,
                             "INSERT INTO person_refs(source, ref, image_key, person_id, model,"
                             " embedding, quality) VALUES(?1,?2,?3,?4,?5,?6,?7)"
                             " ON CONFLICT(source, ref) DO UPDATE SET image_key = ?3,"
                             " person_id = ?4, model = ?5, embedding = ?6, quality = ?7",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, r->source, -1);
    catalog_bind_text(st, 2, r->ref, -1);
    catalog_bind_text(st, 3, r->image_key, -1);
    if (r->person_id > 0)
        catalog_bind_int64(st, 4, r->person_id);
    if (r->embedding) {
        catalog_bind_text(st, 5, r->model, -1);
        catalog_bind_blob(st, 6, r->embedding, (int)(r->dim * sizeof(float)));
        catalog_bind_double(st, 7, r->quality);
    }
    rc = catalog_sql_check(c, catalog_step(st), "store reference face");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_drop_person_refs(struct aitag_catalog *c, const char *source,
                                   const char *const *keep, size_t n, int *dropped)
{
    struct catalog_stmt *st = NULL, *del = NULL;
    int rc, count = 0;

    if (dropped)
        *dropped = 0;
    rc = catalog_sql_prepare(c, "SELECT id, ref FROM person_refs WHERE source = ?1", &st);
    if (rc == 0)
        rc = catalog_sql_prepare(c, "DELETE FROM person_refs WHERE id = ?1", &del);
    if (rc < 0)
        goto out;
    catalog_bind_text(st, 1, source, -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        const char *ref = (const char *)catalog_column_text(st, 1);
        size_t i = 0;
        while (i < n && strcmp(keep[i], ref) != 0)
            i++;
        if (i < n)
            continue;
        catalog_bind_int64(del, 1, catalog_column_int64(st, 0));
        rc = catalog_sql_check(c, catalog_step(del), "drop reference face");
        catalog_reset(del);
        if (rc < 0)
            goto out;
        count++;
    }
    rc = catalog_sql_check(c, rc, "reference faces");
    if (rc == 0 && dropped)
        *dropped = count;
out:
    catalog_finalize(st);
    catalog_finalize(del);
    return rc;
}

void aitag_ref_set_free(struct aitag_ref_set *s)
{
    if (!s)
        return;
    free(s->person_ids);
    free(s->qualities);
    free(s->vecs);
    memset(s, 0, sizeof *s);
}

int aitag_catalog_load_person_refs(struct aitag_catalog *c, const char *model,
                                   struct aitag_ref_set *out)
{
    struct catalog_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    memset(out, 0, sizeof *out);
    rc = catalog_sql_prepare(c,
                             "SELECT person_id, quality, embedding FROM person_refs"
                             " WHERE person_id IS NOT NULL AND embedding IS NOT NULL"
                             " AND model = ?1 ORDER BY person_id, id",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, model ? model : "", -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        size_t bytes = (size_t)catalog_column_bytes(st, 2), dim = bytes / sizeof(float);
        if (dim == 0 || (out->dim && dim != out->dim))
            continue; /* another length than the first: not comparable */
        out->dim = dim;
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            int64_t *ids = realloc(out->person_ids, nc * sizeof *ids);
            float *q = ids ? realloc(out->qualities, nc * sizeof *q) : NULL;
            float *v = q ? realloc(out->vecs, nc * dim * sizeof *v) : NULL;
            if (ids)
                out->person_ids = ids;
            if (q)
                out->qualities = q;
            if (v)
                out->vecs = v;
            if (!v) {
                rc = AITAG_ERR_NOMEM;
                break;
            }
            cap = nc;
        }
        out->person_ids[out->n] = catalog_column_int64(st, 0);
        out->qualities[out->n] = (float)catalog_column_double(st, 1);
        memcpy(out->vecs + out->n * dim, catalog_column_blob(st, 2), dim * sizeof(float));
        out->n++;
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "reference faces");
    catalog_finalize(st);
    if (rc < 0)
        aitag_ref_set_free(out);
    return rc;
}

/* One int64 from a query with one text parameter: 0, AITAG_ERR_NOTFOUND or AITAG_ERR_DB. */
static int id_of(struct aitag_catalog *c, const char *sql, const char *param, int64_t *id,
                 const char *what)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, sql, &st);

    *id = 0;
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, param, -1);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW) {
        *id = catalog_column_int64(st, 0);
        rc = 0;
    } else {
        rc = rc == CATALOG_DONE ? AITAG_ERR_NOTFOUND : catalog_sql_check(c, rc, what);
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_stash_person_of(struct aitag_catalog *c, const char *performer_id,
                                  int64_t *person_id)
{
    return id_of(c, "SELECT person_id FROM stash_performers WHERE performer_id = ?1", performer_id,
                 person_id, "performer link");
}

int aitag_catalog_person_by_name(struct aitag_catalog *c, const char *name, int64_t *id)
{
    return id_of(c, "SELECT id FROM people WHERE name = ?1 COLLATE NOCASE", name, id,
                 "person by name");
}

int aitag_catalog_add_person(struct aitag_catalog *c, const char *name, const char *origin,
                             int64_t *id)
{
    struct catalog_stmt *st = NULL;
    const char *why = name ? catalog_person_name_problem(name) : NULL;
    int64_t other;
    int rc;

    *id = 0;
    if (why) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "NAME '%.200s': %s", name, why);
        return AITAG_ERR_INVALID;
    }
    if (name && (rc = aitag_catalog_person_by_name(c, name, &other)) != AITAG_ERR_NOTFOUND) {
        if (rc == 0) {
            c->sql_rc = 0;
            aitag_fmt(c->errmsg, sizeof c->errmsg, "NAME '%.200s': already the name of person %lld",
                      name, (long long)other);
            rc = AITAG_ERR_INVALID;
        }
        return rc;
    }
    rc = catalog_sql_prepare(c,
                             "INSERT INTO people(name, origin, created_at, updated_at)"
                             " VALUES(?1, ?2, ?3, ?3) RETURNING id",
                             &st);
    if (rc < 0)
        return rc;
    if (name)
        catalog_bind_text(st, 1, name, -1);
    catalog_bind_text(st, 2, origin, -1);
    catalog_bind_int64(st, 3, (int64_t)time(NULL));
    rc = catalog_step(st);
    if (rc == CATALOG_ROW)
        *id = catalog_column_int64(st, 0);
    rc = catalog_sql_check(c, rc, "new person");
    catalog_finalize(st);
    return rc;
}
