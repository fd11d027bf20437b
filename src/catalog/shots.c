/*
 * shots.c - an item's shots: stored with the item, loaded for the policy and for display.
 *
 * Shots come from sampling, not from an analyzer, so they live in their own table rather than
 * as evidence: they are replaced only when a sampling found some (a run of analyzers that
 * sampled nothing new keeps them), dropped with everything else when the file changes, and
 * deleted with the item (ON DELETE CASCADE). The edge is stored by name (aitag_shot_edge_name)
 * so the table reads on its own; a name this version does not know loads as a cut.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

static int edge_from_name(const char *name)
{
    for (int e = AITAG_SHOT_START; e <= AITAG_SHOT_DISSOLVE; e++)
        if (name && strcmp(aitag_shot_edge_name(e), name) == 0)
            return e;
    return AITAG_SHOT_CUT;
}

int catalog_shots_store(struct aitag_catalog *c, int64_t media_id, const struct aitag_shot *shots,
                        size_t n)
{
    struct catalog_stmt *st = NULL;
    int rc;

    rc = catalog_sql_prepare(c, "DELETE FROM shots WHERE media_id = ?", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    rc = catalog_sql_check(c, catalog_step(st), "clear shots");
    catalog_finalize(st);
    st = NULL;
    if (rc < 0 || n == 0)
        return rc;
    /* two shots given the same start (a sampler's rounding) keep the later one */
    rc = catalog_sql_prepare(c,
                             "INSERT INTO shots(media_id, start, \"end\", edge, confidence)"
                             " VALUES(?,?,?,?,?) ON CONFLICT(media_id, start) DO UPDATE SET"
                             " \"end\" = excluded.\"end\", edge = excluded.edge,"
                             " confidence = excluded.confidence",
                             &st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        catalog_reset(st);
        catalog_bind_int64(st, 1, media_id);
        catalog_bind_double(st, 2, shots[i].start);
        catalog_bind_double(st, 3, shots[i].end);
        catalog_bind_text(st, 4, aitag_shot_edge_name(shots[i].edge), -1);
        catalog_bind_double(st, 5, shots[i].confidence);
        rc = catalog_sql_check(c, catalog_step(st), "insert shot");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_load_shots(struct aitag_catalog *c, int64_t media_id, struct aitag_shot **out,
                             size_t *n)
{
    struct catalog_stmt *st = NULL;
    struct aitag_shot *v = NULL;
    size_t k = 0;
    int rc;

    *out = NULL, *n = 0;
    rc = catalog_sql_prepare(c,
                             "SELECT start, \"end\", edge, confidence FROM shots WHERE media_id = ?"
                             " ORDER BY start",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_shot *g = realloc(v, (k + 1) * sizeof *v);
        if (!g) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        v = g;
        v[k++] = (struct aitag_shot){catalog_column_double(st, 0), catalog_column_double(st, 1),
                                     edge_from_name((const char *)catalog_column_text(st, 2)),
                                     (float)catalog_column_double(st, 3)};
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load shots");
    catalog_finalize(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}
