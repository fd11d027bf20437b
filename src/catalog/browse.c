/*
 * browse.c - the catalog as the review app's library grid shows it: a page of items with
 * what a tile needs (kind, size, duration, tag count, its most confident tags), filtered by a
 * tag or by words, and the count of all matches for the pager.
 *
 * One statement serves both the page and the count (the filter is the same WHERE), so the
 * total never disagrees with the pages. Words match the path and tag names as substrings and
 * the recognised text through FTS5, quoted as one phrase so a user's quote or operator is
 * never FTS syntax. On 10,000 items a page costs one index walk by path plus a few lookups
 * per row shown (bench/review_app.sh).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

#define BROWSE_WHERE                                                                               \
    " WHERE (?1 <= 0 OR m.id = ?1)"                                                                \
    " AND (?2 IS NULL OR EXISTS(SELECT 1 FROM tags t WHERE t.media_id = m.id"                      \
    "  AND t.name = ?2 COLLATE NOCASE))"                                                           \
    " AND (?3 IS NULL OR instr(lower(m.path), lower(?3)) > 0"                                      \
    "  OR EXISTS(SELECT 1 FROM tags t WHERE t.media_id = m.id"                                     \
    "   AND instr(lower(t.name), lower(?3)) > 0)"                                                  \
    "  OR EXISTS(SELECT 1 FROM texts x JOIN texts_fts f ON f.rowid = x.id"                         \
    "   WHERE x.media_id = m.id AND texts_fts MATCH ?4))"

static void bind_query(sqlite3_stmt *st, const struct aitag_browse_query *q, const char *phrase)
{
    sqlite3_bind_int64(st, 1, q->id);
    if (q->tag)
        sqlite3_bind_text(st, 2, q->tag, -1, SQLITE_STATIC);
    if (q->words) {
        sqlite3_bind_text(st, 3, q->words, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, phrase, -1, SQLITE_STATIC);
    }
}

/* words as one FTS5 phrase: "..." with inner quotes doubled. Caller frees. */
static char *fts_phrase(const char *words)
{
    size_t n = strlen(words), k = 0;
    char *out = malloc(2 * n + 3);

    if (!out)
        return NULL;
    out[k++] = '"';
    for (const char *p = words; *p; p++) {
        if (*p == '"')
            out[k++] = '"';
        out[k++] = *p;
    }
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

static int count(struct aitag_catalog *c, const struct aitag_browse_query *q, const char *phrase,
                 int64_t *total)
{
    sqlite3_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "SELECT count(*) FROM media m" BROWSE_WHERE, &st);

    if (rc < 0)
        return rc;
    bind_query(st, q, phrase);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    rc = catalog_sql_check(c, rc, "count items");
    sqlite3_finalize(st);
    return rc;
}

int aitag_catalog_browse(struct aitag_catalog *c, const struct aitag_browse_query *q,
                         aitag_browse_fn fn, void *ctx, int64_t *total)
{
    sqlite3_stmt *st = NULL;
    struct aitag_browse_row r;
    char *phrase = NULL;
    int rc = 0;

    if (q->words && !(phrase = fts_phrase(q->words)))
        return AITAG_ERR_NOMEM;
    if (total)
        rc = count(c, q, phrase, total);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c,
            "SELECT m.id, m.path, m.kind, m.status, m.fingerprint, m.duration, m.width,"
            " m.height, m.missing_at IS NOT NULL,"
            " (SELECT count(*) FROM tags t WHERE t.media_id = m.id),"
            " (SELECT group_concat(name, char(31)) FROM (SELECT name FROM tags t"
            "  WHERE t.media_id = m.id ORDER BY confidence DESC, name LIMIT 4))"
            " FROM media m" BROWSE_WHERE " ORDER BY m.path LIMIT ?5 OFFSET ?6",
            &st);
    if (rc < 0)
        goto out;
    bind_query(st, q, phrase);
    sqlite3_bind_int64(st, 5, q->limit > 0 ? q->limit : -1);
    sqlite3_bind_int64(st, 6, q->offset > 0 ? q->offset : 0);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r.id = sqlite3_column_int64(st, 0);
        r.path = (const char *)sqlite3_column_text(st, 1);
        r.kind = (const char *)sqlite3_column_text(st, 2);
        r.status = (const char *)sqlite3_column_text(st, 3);
        r.fingerprint = (const char *)sqlite3_column_text(st, 4);
        r.duration = sqlite3_column_double(st, 5);
        r.width = sqlite3_column_int(st, 6);
        r.height = sqlite3_column_int(st, 7);
        r.missing = sqlite3_column_int(st, 8);
        r.n_tags = sqlite3_column_int64(st, 9);
        r.top_tags = (const char *)sqlite3_column_text(st, 10);
        if (fn(ctx, &r))
            break;
    }
    rc = rc == SQLITE_ROW ? 0 : catalog_sql_check(c, rc, "browse items");
out:
    sqlite3_finalize(st);
    free(phrase);
    return rc;
}
