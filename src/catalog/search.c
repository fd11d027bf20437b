/*
 * search.c - finding media by derived tags: all of a set (AND) or any of it (OR).
 * Tag names compare case-insensitively and exactly (no wildcards: names are data). Items
 * marked missing are left out: their files are gone.
 */
#include <stdio.h>
#include <stdlib.h>

#include "catalog_int.h"

int aitag_catalog_search(struct aitag_catalog *c, const char *const *names, size_t n, int any,
                         int (*fn)(void *ctx, const char *path, int64_t media_id), void *ctx)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 256 + n * 4;
    char *sql = malloc(cap), *p;
    int rc;

    if (!sql)
        return AITAG_ERR_NOMEM;
    /* SELECT ... WHERE t.name IN (?,?,...) GROUP BY m.id HAVING count(DISTINCT lower(name)) >= k */
    p = sql + snprintf(sql, cap,
                       "SELECT m.path, m.id FROM media m JOIN tags t ON t.media_id = m.id"
                       " WHERE m.missing_at IS NULL AND lower(t.name) IN (");
    for (size_t i = 0; i < n; i++)
        p += snprintf(p, cap - (size_t)(p - sql), i ? ",lower(?)" : "lower(?)");
    snprintf(p, cap - (size_t)(p - sql),
             ") GROUP BY m.id HAVING count(DISTINCT lower(t.name)) >= ? ORDER BY m.path");
    rc = catalog_sql_prepare(c, sql, &st);
    free(sql);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        sqlite3_bind_text(st, (int)i + 1, names[i], -1, SQLITE_STATIC);
    sqlite3_bind_int(st, (int)n + 1, any ? 1 : (int)n);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1)))
            break;
    rc = catalog_sql_check(c, rc, "search");
    sqlite3_finalize(st);
    return rc;
}
