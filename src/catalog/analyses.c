/*
 * analyses.c - reading back which analyses are stored for an item (analyzer, key, interval,
 * frame count, strategy).
 *
 * The gateway answers remote tagging from these rows plus the stored evidence, so what a
 * client commits is what this catalog committed, whether the item was analysed now or skipped
 * as unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

int aitag_catalog_load_analyses(struct aitag_catalog *c, int64_t media_id,
                                struct aitag_analysis_row **out, size_t *n)
{
    struct aitag_analysis_row *rows = NULL;
    struct catalog_stmt *st = NULL;
    size_t count = 0;
    int rc;

    *out = NULL;
    *n = 0;
    rc = catalog_sql_prepare(c,
                             "SELECT analyzer, key, interval, n_frames, strategy FROM analyses"
                             " WHERE media_id = ? ORDER BY analyzer",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_analysis_row *g = realloc(rows, (count + 1) * sizeof *rows);
        const char *strategy = (const char *)catalog_column_text(st, 4);
        if (!g) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        rows = g;
        memset(&rows[count], 0, sizeof rows[count]);
        aitag_fmt(rows[count].analyzer, sizeof rows[count].analyzer, "%s",
                  (const char *)catalog_column_text(st, 0));
        aitag_fmt(rows[count].key, sizeof rows[count].key, "%s",
                  (const char *)catalog_column_text(st, 1));
        rows[count].interval = catalog_column_double(st, 2);
        rows[count].n_frames = catalog_column_int(st, 3);
        aitag_fmt(rows[count].strategy, sizeof rows[count].strategy, "%s",
                  strategy ? strategy : "");
        count++;
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load analyses");
    catalog_finalize(st);
    if (rc < 0) {
        free(rows);
        return rc;
    }
    *out = rows;
    *n = count;
    return 0;
}
