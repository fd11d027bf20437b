/*
 * browse.c - the catalog as the review app's library grid shows it: a page of items with
 * what a tile needs (kind, size, duration, tag count, its most confident tags), filtered by a
 * tag or by words, and the count of all matches for the pager.
 *
 * One statement serves both the page and the count (the filter is the same WHERE), so the
 * total never disagrees with the pages. Words match the path and tag names as substrings and
 * the recognised text through its full-text index (FTS5; PostgreSQL: a tsvector), as one
 * phrase so a user's quote or operator is never FTS syntax. On 10,000 items a page costs one index
 * walk by path plus a few lookups per row shown (bench/review_app.sh).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

#define BROWSE_WHERE(FTS)                                                                          \
    " WHERE (?1 <= 0 OR m.id = ?1)"                                                                \
    " AND (CAST(?2 AS TEXT) IS NULL OR EXISTS(SELECT 1 FROM tags t WHERE t.media_id = m.id"        \
    "  AND t.name = ?2 COLLATE NOCASE))"                                                           \
    " AND (CAST(?3 AS TEXT) IS NULL OR instr(lower(m.path), lower(?3)) > 0"                        \
    "  OR EXISTS(SELECT 1 FROM tags t WHERE t.media_id = m.id"                                     \
    "   AND instr(lower(t.name), lower(?3)) > 0)"                                                  \
    "  OR EXISTS(SELECT 1 FROM texts x " FTS "))"
/* the text clause: FTS5 on SQLite, the tsvector column on PostgreSQL (schema_pg.c) */
#define LITE_FTS "JOIN texts_fts f ON f.rowid = x.id WHERE x.media_id = m.id AND texts_fts MATCH ?4"
#define PG_FTS "WHERE x.media_id = m.id AND x.words @@ phraseto_tsquery('simple', ?4)"

static void bind_query(struct catalog_stmt *st, const struct aitag_browse_query *q,
                       const char *phrase)
{
    catalog_bind_int64(st, 1, q->id);
    if (q->tag)
        catalog_bind_text(st, 2, q->tag, -1);
    if (q->words) {
        catalog_bind_text(st, 3, q->words, -1);
        catalog_bind_text(st, 4, catalog_sql_is_pg(st->c) ? q->words : phrase, -1);
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
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 catalog_sql_is_pg(c)
                                     ? "SELECT count(*) FROM media m" BROWSE_WHERE(PG_FTS)
                                     : "SELECT count(*) FROM media m" BROWSE_WHERE(LITE_FTS),
                                 &st);

    if (rc < 0)
        return rc;
    bind_query(st, q, phrase);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW)
        *total = catalog_column_int64(st, 0);
    rc = catalog_sql_check(c, rc, "count items");
    catalog_finalize(st);
    return rc;
}

/* A page of items; JOIN: the aggregate joining text with a separator (unit separator, 0x1f). */
#define PAGE(JOIN, FTS)                                                                            \
    "SELECT m.id, m.path, m.kind, m.status, m.fingerprint, m.duration, m.width,"                   \
    " m.height, m.missing_at IS NOT NULL,"                                                         \
    " (SELECT count(*) FROM tags t WHERE t.media_id = m.id),"                                      \
    " (SELECT " JOIN "(name, '\x1f') FROM (SELECT name FROM tags t"                                \
    "  WHERE t.media_id = m.id ORDER BY confidence DESC, name LIMIT 4) top)"                       \
    " FROM media m" BROWSE_WHERE(FTS) " ORDER BY m.path LIMIT ?5 OFFSET ?6"

int aitag_catalog_browse(struct aitag_catalog *c, const struct aitag_browse_query *q,
                         aitag_browse_fn fn, void *ctx, int64_t *total)
{
    struct catalog_stmt *st = NULL;
    struct aitag_browse_row r;
    char *phrase = NULL;
    int rc = 0;

    if (q->words && !(phrase = fts_phrase(q->words)))
        return AITAG_ERR_NOMEM;
    if (total)
        rc = count(c, q, phrase, total);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c, catalog_sql_is_pg(c) ? PAGE("string_agg", PG_FTS) : PAGE("group_concat", LITE_FTS),
            &st);
    if (rc < 0)
        goto out;
    bind_query(st, q, phrase);
    if (q->limit > 0)
        catalog_bind_int64(st, 5, q->limit);
    else if (!catalog_sql_is_pg(c)) /* PostgreSQL: NULL, no limit */
        catalog_bind_int64(st, 5, -1);
    catalog_bind_int64(st, 6, q->offset > 0 ? q->offset : 0);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        r.id = catalog_column_int64(st, 0);
        r.path = (const char *)catalog_column_text(st, 1);
        r.kind = (const char *)catalog_column_text(st, 2);
        r.status = (const char *)catalog_column_text(st, 3);
        r.fingerprint = (const char *)catalog_column_text(st, 4);
        r.duration = catalog_column_double(st, 5);
        r.width = catalog_column_int(st, 6);
        r.height = catalog_column_int(st, 7);
        r.missing = catalog_column_int(st, 8);
        r.n_tags = catalog_column_int64(st, 9);
        r.top_tags = (const char *)catalog_column_text(st, 10);
        if (fn(ctx, &r))
            break;
    }
    rc = rc == CATALOG_ROW ? 0 : catalog_sql_check(c, rc, "browse items");
out:
    catalog_finalize(st);
    free(phrase);
    return rc;
}
