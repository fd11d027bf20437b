/*
 * concept_rows.c - what concept search reads from the catalog: the distinct tags of the
 * library, the items carrying one tag (with its confidence), and the items whose recognised
 * text contains a word, and the stored embeddings of an analyzer. Items marked missing are
 * left out. The relating of words to tags is
 * the concepts library's (aitag/concepts.h); ranking is the caller's.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

int aitag_catalog_each_tag_name(struct aitag_catalog *c,
                                int (*fn)(void *ctx, const char *name, const char *label,
                                          int64_t n_items),
                                void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT t.name, min(t.label), count(*) FROM tags t"
                                 " JOIN media m ON m.id = t.media_id WHERE m.missing_at IS NULL"
                                 " GROUP BY t.name ORDER BY t.name",
                                 &st);

    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        const char *label = (const char *)catalog_column_text(st, 1);
        if (fn(ctx, (const char *)catalog_column_text(st, 0), label ? label : "",
               catalog_column_int64(st, 2)) != 0) {
            rc = CATALOG_DONE;
            break;
        }
    }
    rc = catalog_sql_check(c, rc, "tag names");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_each_tagged(struct aitag_catalog *c, const char *name,
                              int (*fn)(void *ctx, const char *path, int64_t media_id,
                                        float confidence),
                              void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT m.path, m.id, t.confidence FROM tags t"
                                 " JOIN media m ON m.id = t.media_id"
                                 " WHERE t.name = ?1 AND m.missing_at IS NULL ORDER BY m.path",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, name, -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int64(st, 1),
               (float)catalog_column_double(st, 2)) != 0) {
            rc = CATALOG_DONE;
            break;
        }
    rc = catalog_sql_check(c, rc, "tagged items");
    catalog_finalize(st);
    return rc;
}

/* Items whose text has a word: a line read in the picture (not speech) containing it, or a
 * line whose words (full-text index: FTS) have it. */
#define TEXT_MATCH(FTS)                                                                            \
    "SELECT path, id, text, source, confidence FROM (SELECT m.path, m.id, x.text, x.source,"       \
    " x.confidence, row_number() OVER (PARTITION BY m.id ORDER BY x.confidence DESC, x.id) AS r"   \
    " FROM texts x JOIN media m ON m.id = x.media_id"                                              \
    " WHERE ((x.source <> 'speech' AND x.text LIKE ?1 ESCAPE '\\') OR " FTS ")"                    \
    " AND m.missing_at IS NULL) best WHERE r = 1 ORDER BY path"

int aitag_catalog_each_text_match(struct aitag_catalog *c, const char *word,
                                  int (*fn)(void *ctx, const char *path, int64_t media_id,
                                            const char *text, const char *source, float confidence),
                                  void *ctx)
{
    struct catalog_stmt *st = NULL;
    size_t n = strlen(word);
    char *pattern = malloc(2 * n + 3), *p = pattern, *phrase = malloc(2 * n + 3), *q = phrase;
    int rc;

    if (!pattern || !phrase) {
        free(pattern);
        free(phrase);
        return AITAG_ERR_NOMEM;
    }
    *q++ = '"'; /* an FTS5 string: the words as a phrase, double quotes doubled */
    for (size_t i = 0; i < n; i++) {
        if (word[i] == '"')
            *q++ = '"';
        *q++ = word[i];
    }
    *q++ = '"';
    *q = '\0';
    *p++ = '%';
    for (size_t i = 0; i < n; i++) { /* the word literally: LIKE's wildcards escaped */
        if (word[i] == '%' || word[i] == '_' || word[i] == '\\')
            *p++ = '\\';
        *p++ = word[i];
    }
    *p++ = '%';
    *p = '\0';
    /* per item, its most confident matching line */
    rc = catalog_sql_prepare(
        c,
        catalog_sql_is_pg(c)
            ? TEXT_MATCH("x.words @@ phraseto_tsquery('simple', ?2)")
            : TEXT_MATCH("x.id IN (SELECT rowid FROM texts_fts WHERE texts_fts MATCH ?2)"),
        &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, pattern, -1);
        catalog_bind_text(st, 2, catalog_sql_is_pg(c) ? word : phrase, -1);
        while ((rc = catalog_step(st)) == CATALOG_ROW)
            if (fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int64(st, 1),
                   (const char *)catalog_column_text(st, 2),
                   (const char *)catalog_column_text(st, 3),
                   (float)catalog_column_double(st, 4)) != 0) {
                rc = CATALOG_DONE;
                break;
            }
        rc = catalog_sql_check(c, rc, "text search");
    }
    catalog_finalize(st);
    free(pattern);
    free(phrase);
    return rc;
}

int aitag_catalog_each_embedding(struct aitag_catalog *c, const char *analyzer,
                                 int (*fn)(void *ctx, const char *path, int64_t media_id,
                                           const double *v, int n),
                                 void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT m.path, m.id, e.extra FROM evidence e"
                                 " JOIN media m ON m.id = e.media_id"
                                 " WHERE e.analyzer = ?1 AND e.extra IS NOT NULL"
                                 " AND m.missing_at IS NULL ORDER BY m.id, e.id",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, analyzer, -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_evidence e = {0};
        int stop = 0;
        if (aitag_evidence_parse_details(&e, (const char *)catalog_column_text(st, 2)) ==
            AITAG_ERR_NOMEM) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        if (e.embedding && e.n_embedding > 0)
            stop = fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int64(st, 1),
                      e.embedding, e.n_embedding);
        aitag_evidence_clear_details(&e);
        if (stop) {
            rc = CATALOG_DONE;
            break;
        }
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "embeddings");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_each_text_word(struct aitag_catalog *c,
                                 int (*fn)(void *ctx, const char *word, int64_t n_lines), void *ctx)
{
    struct catalog_stmt *st = NULL;
    /* fts5vocab reads the index's own term list; a TEMP table, so a read-only catalog works;
     * PostgreSQL's ts_stat counts the words of every line's tsvector */
    int rc = catalog_sql_is_pg(c)
                 ? 0
                 : catalog_sql_exec(c, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.texts_words"
                                       " USING fts5vocab(main, 'texts_fts', 'row')");

    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 catalog_sql_is_pg(c)
                                     ? "SELECT word, ndoc FROM ts_stat('SELECT words FROM texts')"
                                       " ORDER BY word"
                                     : "SELECT term, doc FROM temp.texts_words ORDER BY term",
                                 &st);
    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int64(st, 1)) != 0) {
            rc = CATALOG_DONE;
            break;
        }
    rc = catalog_sql_check(c, rc, "text words");
    catalog_finalize(st);
    return rc;
}
