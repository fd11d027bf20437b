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
    struct catalog_stmt *st = NULL, *bins = NULL;
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
            "SELECT CASE WHEN b < ?2 - 1 THEN b ELSE ?2 - 1 END, count(*) FROM"
            " (SELECT CAST(floor(t.confidence * ?2) AS INTEGER) AS b FROM tags t"
            "  JOIN media m ON m.id = t.media_id AND m.missing_at IS NULL WHERE t.name = ?1) x"
            " GROUP BY 1",
            &bins);
    if (rc < 0)
        goto out;
    catalog_bind_limit(st, 1, limit);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        memset(&s, 0, sizeof s);
        s.name = (const char *)catalog_column_text(st, 0);
        s.label = (const char *)catalog_column_text(st, 1);
        s.items = catalog_column_int64(st, 2);
        s.accepted = catalog_column_int64(st, 3);
        s.rejected = catalog_column_int64(st, 4);
        s.learned = (float)catalog_column_double(st, 5);
        catalog_reset(bins);
        catalog_bind_text(bins, 1, s.name, -1);
        catalog_bind_int(bins, 2, AITAG_CONF_BINS);
        while ((rc = catalog_step(bins)) == CATALOG_ROW) {
            int k = catalog_column_int(bins, 0);
            if (k >= 0 && k < AITAG_CONF_BINS)
                s.bins[k] = catalog_column_int64(bins, 1);
        }
        if ((rc = catalog_sql_check(c, rc, "tag histogram")) < 0 || fn(ctx, &s))
            break;
        rc = CATALOG_ROW;
    }
    rc = rc == CATALOG_ROW || rc == 0 ? 0 : catalog_sql_check(c, rc, "tag stats");
out:
    catalog_finalize(bins);
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_tags_per_item(struct aitag_catalog *c, int64_t *counts, size_t n)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT CASE WHEN n < ?1 THEN n ELSE ?1 END, count(*) FROM"
                                 " (SELECT (SELECT count(*) FROM tags t WHERE t.media_id = m.id)"
                                 " AS n FROM media m WHERE m.missing_at IS NULL"
                                 " AND m.status != 'error') x GROUP BY 1",
                                 &st);

    memset(counts, 0, n * sizeof *counts);
    if (rc < 0 || n == 0)
        goto out;
    catalog_bind_int64(st, 1, (int64_t)n - 1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        int64_t k = catalog_column_int64(st, 0);
        if (k >= 0 && (size_t)k < n)
            counts[k] = catalog_column_int64(st, 1);
    }
    rc = catalog_sql_check(c, rc, "tags per item");
out:
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_each_run(struct aitag_catalog *c, int64_t limit, aitag_run_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    struct aitag_run_row r;
    int rc = catalog_sql_prepare(c,
                                 "SELECT * FROM (SELECT id, coalesce(started_at, 0),"
                                 " coalesce(finished_at, 0), coalesce(tagged, 0),"
                                 " coalesce(skipped, 0), coalesce(failed, 0),"
                                 " coalesce(seconds, 0), coalesce(media_seconds, 0) FROM runs"
                                 " ORDER BY id DESC LIMIT ?) recent ORDER BY 1",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_limit(st, 1, limit);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        r = (struct aitag_run_row){catalog_column_int64(st, 0),  catalog_column_int64(st, 1),
                                   catalog_column_int64(st, 2),  catalog_column_int(st, 3),
                                   catalog_column_int(st, 4),    catalog_column_int(st, 5),
                                   catalog_column_double(st, 6), catalog_column_double(st, 7)};
        if (fn(ctx, &r))
            break;
    }
    rc = rc == CATALOG_ROW ? 0 : catalog_sql_check(c, rc, "runs");
    catalog_finalize(st);
    return rc;
}
