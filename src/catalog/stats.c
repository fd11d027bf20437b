/*
 * stats.c - the library in numbers, for the review app's plots: per tag, the confidences of
 * the items carrying it (a histogram to draw the threshold on) and the decisions made on it;
 * tags per item; the tagger's runs over time.
 *
 * Each is one grouped query; binning happens in SQL (min(bin, last) keeps a confidence of
 * exactly 1 in the last bin), so a 10,000-item library costs one pass over its tags.
 */
#include <string.h>

#include "catalog_int.h"

int aitag_catalog_tag_stats(struct aitag_catalog *c, int64_t limit, aitag_tag_stats_fn fn,
                            void *ctx)
{
    sqlite3_stmt *st = NULL, *bins = NULL;
    struct aitag_tag_stats s;
    int rc = catalog_sql_prepare(
        c,
        "WITH present AS (SELECT t.* FROM tags t JOIN media m ON m.id = t.media_id"
        "  AND m.missing_at IS NULL),"
        " verdicts AS (SELECT d.media_id, d.tag, d.verdict FROM decisions d WHERE d.kind = 'tag'"
        "  AND d.verdict IN ('accept', 'reject') AND d.id = (SELECT max(d2.id) FROM decisions d2"
        "   WHERE d2.media_id = d.media_id AND d2.kind = 'tag' AND d2.tag = d.tag"
        "   AND d2.verdict IN ('accept', 'reject')))"
        " SELECT g.name, g.label, g.n,"
        "  (SELECT count(*) FROM verdicts v WHERE v.tag = g.name AND v.verdict = 'accept'),"
        "  (SELECT count(*) FROM verdicts v WHERE v.tag = g.name AND v.verdict = 'reject'),"
        "  coalesce((SELECT l.threshold FROM learned_thresholds l WHERE l.label = g.label), -1)"
        " FROM (SELECT name, max(label) AS label, count(*) AS n FROM present GROUP BY name) g"
        " ORDER BY g.n DESC, g.name LIMIT ?",
        &st);

    if (rc == 0)
        rc = catalog_sql_prepare(
            c,
            "SELECT min(CAST(t.confidence * ?2 AS INTEGER), ?2 - 1), count(*) FROM tags t"
            " JOIN media m ON m.id = t.media_id AND m.missing_at IS NULL WHERE t.name = ?1"
            " GROUP BY 1",
            &bins);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&s, 0, sizeof s);
        s.name = (const char *)sqlite3_column_text(st, 0);
        s.label = (const char *)sqlite3_column_text(st, 1);
        s.items = sqlite3_column_int64(st, 2);
        s.accepted = sqlite3_column_int64(st, 3);
        s.rejected = sqlite3_column_int64(st, 4);
        s.learned = (float)sqlite3_column_double(st, 5);
        sqlite3_reset(bins);
        sqlite3_bind_text(bins, 1, s.name, -1, SQLITE_STATIC);
        sqlite3_bind_int(bins, 2, AITAG_CONF_BINS);
        while ((rc = sqlite3_step(bins)) == SQLITE_ROW) {
            int k = sqlite3_column_int(bins, 0);
            if (k >= 0 && k < AITAG_CONF_BINS)
                s.bins[k] = sqlite3_column_int64(bins, 1);
        }
        if ((rc = catalog_sql_check(c, rc, "tag histogram")) < 0 || fn(ctx, &s))
            break;
        rc = SQLITE_ROW;
    }
    rc = rc == SQLITE_ROW || rc == 0 ? 0 : catalog_sql_check(c, rc, "tag stats");
out:
    sqlite3_finalize(bins);
    sqlite3_finalize(st);
    return rc;
}

int aitag_catalog_tags_per_item(struct aitag_catalog *c, int64_t *counts, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT min((SELECT count(*) FROM tags t WHERE t.media_id = m.id),"
                                 " ?1), count(*) FROM media m WHERE m.missing_at IS NULL"
                                 " AND m.status != 'error' GROUP BY 1",
                                 &st);

    memset(counts, 0, n * sizeof *counts);
    if (rc < 0 || n == 0)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)n - 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t k = sqlite3_column_int64(st, 0);
        if (k >= 0 && (size_t)k < n)
            counts[k] = sqlite3_column_int64(st, 1);
    }
    rc = catalog_sql_check(c, rc, "tags per item");
out:
    sqlite3_finalize(st);
    return rc;
}

int aitag_catalog_each_run(struct aitag_catalog *c, int64_t limit, aitag_run_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    struct aitag_run_row r;
    int rc = catalog_sql_prepare(c,
                                 "SELECT * FROM (SELECT id, coalesce(started_at, 0),"
                                 " coalesce(finished_at, 0), coalesce(tagged, 0),"
                                 " coalesce(skipped, 0), coalesce(failed, 0),"
                                 " coalesce(seconds, 0), coalesce(media_seconds, 0) FROM runs"
                                 " ORDER BY id DESC LIMIT ?) ORDER BY 1",
                                 &st);

    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r = (struct aitag_run_row){sqlite3_column_int64(st, 0),  sqlite3_column_int64(st, 1),
                                   sqlite3_column_int64(st, 2),  sqlite3_column_int(st, 3),
                                   sqlite3_column_int(st, 4),    sqlite3_column_int(st, 5),
                                   sqlite3_column_double(st, 6), sqlite3_column_double(st, 7)};
        if (fn(ctx, &r))
            break;
    }
    rc = rc == SQLITE_ROW ? 0 : catalog_sql_check(c, rc, "runs");
    sqlite3_finalize(st);
    return rc;
}
