/*
 * presence.c - items whose files went away or moved: listing by folder, missing marks, moves
 * and deletion.
 *
 * The catalog never looks at the file system; the tagger decides what is gone or moved and
 * these functions record it. A missing item is only marked (missing_at), never deleted here
 * but by an explicit delete (`aitag prune`), so an unmounted disk costs nothing: its items come
 * back when their files do. Folder listings use a range on the path index ("/a/" <= path <
 * "/a0", '0' being the byte after '/') rather than LIKE, which would need escaping and could
 * not use the index.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

static int each_row(struct aitag_catalog *c, struct catalog_stmt *st, aitag_catalog_item_fn fn,
                    void *ctx)
{
    int rc;

    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int64(st, 1),
               catalog_column_type(st, 2) != CATALOG_NULL)) {
            rc = CATALOG_DONE;
            break;
        }
    rc = catalog_sql_check(c, rc, "list items");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_each_item(struct aitag_catalog *c, const char *under, int only_missing,
                            aitag_catalog_item_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    char *lo = NULL, *hi = NULL;
    size_t len = under ? strlen(under) : 0;
    int rc;

    rc = catalog_sql_prepare(
        c,
        "SELECT path, id, missing_at FROM media"
        " WHERE (CAST(?1 AS TEXT) IS NULL OR path = ?1 OR (path >= ?2 AND path < ?3))"
        " AND (?4 = 0 OR missing_at IS NOT NULL) ORDER BY path",
        &st);
    if (rc < 0)
        return rc;
    if (under) {
        /* lo = the folder with one trailing slash; hi = lo with that slash as '0' */
        int slash = len > 0 && under[len - 1] == '/';
        lo = malloc(len + 2);
        hi = malloc(len + 2);
        if (!lo || !hi) {
            catalog_finalize(st);
            free(lo), free(hi);
            return AITAG_ERR_NOMEM;
        }
        aitag_fmt(lo, len + 2, "%s%s", under, slash ? "" : "/");
        aitag_fmt(hi, len + 2, "%s", lo);
        hi[strlen(hi) - 1] = '0';
        catalog_bind_text(st, 1, under, -1);
        catalog_bind_text(st, 2, lo, -1);
        catalog_bind_text(st, 3, hi, -1);
    }
    catalog_bind_int(st, 4, only_missing);
    rc = each_row(c, st, fn, ctx);
    free(lo);
    free(hi);
    return rc;
}

int aitag_catalog_each_match(struct aitag_catalog *c, int64_t size, const char *fingerprint,
                             aitag_catalog_item_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc;

    rc = catalog_sql_prepare(
        c,
        "SELECT path, id, missing_at FROM media WHERE fingerprint = ? AND size = ?"
        " ORDER BY id",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, fingerprint, -1);
    catalog_bind_int64(st, 2, size);
    return each_row(c, st, fn, ctx);
}

int aitag_catalog_set_missing(struct aitag_catalog *c, const int64_t *media_ids, size_t n,
                              int missing)
{
    struct catalog_stmt *st = NULL;
    int rc;

    if (n == 0)
        return 0;
    rc = catalog_sql_begin(c);
    if (rc < 0)
        return rc;
    rc = catalog_sql_prepare(c, "UPDATE media SET missing_at = ? WHERE id = ?", &st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        catalog_reset(st);
        if (missing)
            catalog_bind_int64(st, 1, (int64_t)time(NULL));
        else
            catalog_bind_null(st, 1);
        catalog_bind_int64(st, 2, media_ids[i]);
        rc = catalog_sql_check(c, catalog_step(st), "mark missing");
    }
    catalog_finalize(st);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_move_media(struct aitag_catalog *c, int64_t media_id, const char *new_path,
                             int64_t mtime_ns)
{
    struct catalog_stmt *st = NULL;
    int rc;

    rc = catalog_sql_prepare(
        c,
        "UPDATE media SET path = ?, mtime_ns = ?, missing_at = NULL, updated_at = ?"
        " WHERE id = ?",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, new_path, -1);
    catalog_bind_int64(st, 2, mtime_ns);
    catalog_bind_int64(st, 3, (int64_t)time(NULL));
    catalog_bind_int64(st, 4, media_id);
    rc = catalog_sql_check(c, catalog_step(st), "move item");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_delete_media(struct aitag_catalog *c, int64_t media_id)
{
    struct catalog_stmt *st = NULL;
    int rc;

    /* Analyses, evidence, shots, tags, markers and text go with it: ON DELETE CASCADE. */
    rc = catalog_sql_prepare(c, "DELETE FROM media WHERE id = ?", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    rc = catalog_sql_check(c, catalog_step(st), "delete item");
    catalog_finalize(st);
    return rc;
}
