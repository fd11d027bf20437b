/*
 * stash_links.c - what the catalog remembers of people synced to Stash performers (schema 5),
 * and the two people queries the sync needs.
 *
 * The sync (src/plugin/people.c) must be idempotent and survive a kill at any point, so
 * every fact it relies on across runs lives here, written one row at a time in autocommit:
 * the performer a person is linked to, and per Stash item whether aitag added the performer
 * ('added') or the user took it off again ('removed'). Nothing here talks to Stash; ids are
 * Stash's own strings. The same holds for the record of what the plugin last wrote of its
 * own tags and markers on each Stash item (stash_synced, schema 8), from which corrections made
 * in Stash are read back. The people queries read the engine's tables (people, faces) without
 * changing them: named, non-ignored people with the media their faces are in, and the one
 * face that stands for a person (its cover, else the best by quality, score and size).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

static char *dup_text(struct catalog_stmt *st, int col)
{
    const char *t = catalog_column_text(st, col);

    return t ? strdup((const char *)t) : NULL;
}

void aitag_catalog_named_people_free(struct aitag_named_person *people, size_t n)
{
    if (!people)
        return;
    for (size_t i = 0; i < n; i++) {
        free(people[i].name);
        for (size_t k = 0; k < people[i].n_paths; k++)
            free(people[i].paths[k]);
        free(people[i].paths);
        free(people[i].is_image);
    }
    free(people);
}

/* Appends a path to a person. */
static int person_add_path(struct aitag_named_person *p, const char *path, int is_image)
{
    char **paths = realloc(p->paths, (p->n_paths + 1) * sizeof *paths);
    int *kinds;

    if (!paths)
        return AITAG_ERR_NOMEM;
    p->paths = paths;
    kinds = realloc(p->is_image, (p->n_paths + 1) * sizeof *kinds);
    if (!kinds)
        return AITAG_ERR_NOMEM;
    p->is_image = kinds;
    p->paths[p->n_paths] = strdup(path);
    if (!p->paths[p->n_paths])
        return AITAG_ERR_NOMEM;
    p->is_image[p->n_paths++] = is_image;
    return 0;
}

int aitag_catalog_named_people(struct aitag_catalog *c, struct aitag_named_person **out, size_t *n)
{
    static const char sql[] =
        "SELECT p.id, p.name, m.path, m.kind FROM people p"
        " LEFT JOIN (SELECT DISTINCT person_id, media_id FROM faces) f ON f.person_id = p.id"
        " LEFT JOIN media m ON m.id = f.media_id AND m.missing_at IS NULL"
        " WHERE p.name IS NOT NULL AND trim(p.name) != '' AND p.ignored = 0"
        " ORDER BY p.id, m.path";
    struct aitag_named_person *res = NULL, *cur = NULL;
    struct catalog_stmt *st = NULL;
    size_t count = 0;
    int rc, step;

    *out = NULL;
    *n = 0;
    rc = catalog_sql_prepare(c, sql, &st);
    if (rc < 0)
        return rc;
    while ((step = catalog_step(st)) == CATALOG_ROW) {
        int64_t id = catalog_column_int64(st, 0);
        const char *path = catalog_column_text(st, 2);
        const char *kind = catalog_column_text(st, 3);
        if (!cur || cur->id != id) {
            struct aitag_named_person *g = realloc(res, (count + 1) * sizeof *g);
            if (!g)
                goto nomem;
            res = g;
            cur = &res[count++];
            memset(cur, 0, sizeof *cur);
            cur->id = id;
            cur->name = dup_text(st, 1);
            if (!cur->name)
                goto nomem;
        }
        if (path && person_add_path(cur, (const char *)path,
                                    kind && strcmp((const char *)kind, "image") == 0) < 0)
            goto nomem;
    }
    rc = catalog_sql_check(c, step, "named people");
    if (rc < 0)
        goto out;
    *out = res;
    *n = count;
    res = NULL;
    count = 0;
    goto out;
nomem:
    rc = AITAG_ERR_NOMEM;
    aitag_fmt(c->errmsg, sizeof c->errmsg, "named people: out of memory");
out:
    catalog_finalize(st);
    aitag_catalog_named_people_free(res, count);
    return rc;
}

void aitag_catalog_person_face_clear(struct aitag_person_face *f)
{
    free(f->path);
    memset(f, 0, sizeof *f);
}

int aitag_catalog_person_best_face(struct aitag_catalog *c, int64_t person_id,
                                   struct aitag_person_face *out)
{
    static const char sql[] = "SELECT m.path, m.kind, f.t, f.x, f.y, f.w, f.h FROM faces f"
                              " JOIN media m ON m.id = f.media_id AND m.missing_at IS NULL"
                              " JOIN people p ON p.id = f.person_id"
                              " WHERE f.person_id = ?1 AND f.w > 0 AND f.h > 0"
                              " ORDER BY (f.id = p.cover_face) DESC, coalesce(f.quality, 0) DESC,"
                              " coalesce(f.score, 0) DESC, f.w * f.h DESC, f.id LIMIT 1";
    struct catalog_stmt *st = NULL;
    int rc, step;

    memset(out, 0, sizeof *out);
    rc = catalog_sql_prepare(c, sql, &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, person_id);
    step = catalog_step(st);
    if (step == CATALOG_ROW) {
        const char *kind = catalog_column_text(st, 1);
        out->path = dup_text(st, 0);
        out->is_image = kind && strcmp((const char *)kind, "image") == 0;
        out->t = catalog_column_double(st, 2);
        out->x = catalog_column_double(st, 3);
        out->y = catalog_column_double(st, 4);
        out->w = catalog_column_double(st, 5);
        out->h = catalog_column_double(st, 6);
        rc = out->path ? 0 : AITAG_ERR_NOMEM;
    } else if (step == CATALOG_DONE) {
        rc = AITAG_ERR_NOTFOUND;
    } else {
        rc = catalog_sql_check(c, step, "best face");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_stash_performer(struct aitag_catalog *c, int64_t person_id, char **performer_id,
                                  int *created)
{
    struct catalog_stmt *st = NULL;
    int rc, step;

    *performer_id = NULL;
    if (created)
        *created = 0;
    rc = catalog_sql_prepare(
        c, "SELECT performer_id, created FROM stash_performers WHERE person_id = ?1", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, person_id);
    step = catalog_step(st);
    if (step == CATALOG_ROW) {
        *performer_id = dup_text(st, 0);
        if (created)
            *created = catalog_column_int(st, 1);
        rc = *performer_id ? 0 : AITAG_ERR_NOMEM;
    } else {
        rc = step == CATALOG_DONE ? AITAG_ERR_NOTFOUND : catalog_sql_check(c, step, "link");
    }
    catalog_finalize(st);
    return rc;
}

/* Runs one statement with a person id and up to three text parameters. */
static int exec_person(struct aitag_catalog *c, const char *sql, int64_t person_id, const char *a,
                       const char *b, const char *d, const char *what)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, sql, &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, person_id);
    if (a)
        catalog_bind_text(st, 2, a, -1);
    if (b)
        catalog_bind_text(st, 3, b, -1);
    if (d)
        catalog_bind_text(st, 4, d, -1);
    rc = catalog_sql_check(c, catalog_step(st), what);
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_stash_link(struct aitag_catalog *c, int64_t person_id, const char *performer_id,
                             int created)
{
    if (!performer_id || !*performer_id)
        return AITAG_ERR_INVALID;
    return exec_person(c,
                       created
                           ? "INSERT INTO stash_performers VALUES(?1, ?2, 1) ON CONFLICT(person_id)"
                             " DO UPDATE SET performer_id = ?2, created = 1"
                           : "INSERT INTO stash_performers VALUES(?1, ?2, 0) ON CONFLICT(person_id)"
                             " DO UPDATE SET performer_id = ?2, created = 0",
                       person_id, performer_id, NULL, NULL, "link");
}

int aitag_catalog_stash_unlink(struct aitag_catalog *c, int64_t person_id)
{
    int rc = catalog_sql_begin(c);

    if (rc == 0)
        rc = exec_person(c, "DELETE FROM stash_person_items WHERE person_id = ?1", person_id, NULL,
                         NULL, NULL, "unlink");
    if (rc == 0)
        rc = exec_person(c, "DELETE FROM stash_performers WHERE person_id = ?1", person_id, NULL,
                         NULL, NULL, "unlink");
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_stash_item_state(struct aitag_catalog *c, int64_t person_id, const char *kind,
                                   const char *item_id, char state[16])
{
    struct catalog_stmt *st = NULL;
    int rc, step;

    state[0] = '\0';
    rc = catalog_sql_prepare(c,
                             "SELECT state FROM stash_person_items"
                             " WHERE person_id = ?1 AND kind = ?2 AND item_id = ?3",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, person_id);
    catalog_bind_text(st, 2, kind, -1);
    catalog_bind_text(st, 3, item_id, -1);
    step = catalog_step(st);
    if (step == CATALOG_ROW) {
        const char *t = catalog_column_text(st, 0);
        aitag_fmt(state, 16, "%s", t ? (const char *)t : "");
        rc = 0;
    } else {
        rc = step == CATALOG_DONE ? AITAG_ERR_NOTFOUND : catalog_sql_check(c, step, "item state");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_stash_set_item_state(struct aitag_catalog *c, int64_t person_id, const char *kind,
                                       const char *item_id, const char *state)
{
    if (!kind || !item_id || !state)
        return AITAG_ERR_INVALID;
    return exec_person(c,
                       "INSERT INTO stash_person_items VALUES(?1, ?2, ?3, ?4)"
                       " ON CONFLICT(person_id, kind, item_id) DO UPDATE SET state = ?4",
                       person_id, kind, item_id, state, "item state");
}

int aitag_catalog_each_stash_synced(struct aitag_catalog *c, const char *kind, const char *item_id,
                                    int64_t media_id, aitag_synced_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    struct aitag_synced s;
    int rc = catalog_sql_prepare(c,
                                 "SELECT tag, start, \"end\" FROM stash_synced"
                                 " WHERE kind = ? AND item_id = ? AND media_id = ?"
                                 " ORDER BY start, tag",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, kind, -1);
    catalog_bind_text(st, 2, item_id, -1);
    catalog_bind_int64(st, 3, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        s.tag = (const char *)catalog_column_text(st, 0);
        s.start = catalog_column_double(st, 1);
        s.end = catalog_column_double(st, 2);
        s.marker = s.start >= 0;
        if (fn(ctx, &s))
            break;
    }
    rc = rc == CATALOG_ROW ? 0 : catalog_sql_check(c, rc, "stash synced");
    catalog_finalize(st);
    return rc;
}

static int synced_row(struct aitag_catalog *c, struct catalog_stmt *st, const char *tag,
                      double start, double end)
{
    catalog_reset(st);
    catalog_bind_text(st, 4, tag, -1);
    catalog_bind_double(st, 5, start);
    catalog_bind_double(st, 6, end);
    return catalog_sql_check(c, catalog_step(st), "record stash sync");
}

int aitag_catalog_set_stash_synced(struct aitag_catalog *c, const char *kind, const char *item_id,
                                   int64_t media_id, const struct aitag_result *r)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_begin(c);

    if (rc < 0)
        return rc;
    rc = catalog_sql_prepare(c, "DELETE FROM stash_synced WHERE kind = ? AND item_id = ?", &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, kind, -1);
        catalog_bind_text(st, 2, item_id, -1);
        rc = catalog_sql_check(c, catalog_step(st), "clear stash sync");
        catalog_finalize(st);
        st = NULL;
    }
    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "INSERT INTO stash_synced(kind, item_id, media_id, tag, start,"
                                 " \"end\") VALUES(?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                                 &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, kind, -1);
        catalog_bind_text(st, 2, item_id, -1);
        catalog_bind_int64(st, 3, media_id);
    }
    for (size_t i = 0; rc == 0 && i < r->n_tags; i++)
        rc = synced_row(c, st, r->tags[i].name, -1, -1);
    for (size_t i = 0; rc == 0 && i < r->n_markers; i++)
        rc = synced_row(c, st, r->markers[i].tag, r->markers[i].start, r->markers[i].end);
    catalog_finalize(st);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}
