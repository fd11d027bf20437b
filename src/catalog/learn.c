/*
 * learn.c - thresholds learned from the user's decisions.
 *
 * A fit (aitag_catalog_fit_threshold) re-derives every item whose evidence carries the label,
 * once per candidate threshold (0.05 to 0.75 by 0.05, 0.80 to 0.99 by 0.01, and the one in
 * force), with the
 * decisions left out: what the models and rules alone would give at that threshold. The
 * items the user judged (the latest tag decision per item: accept or reject) are the truth;
 * aitag_threshold_fit (policy) does the counting. Nothing is stored by a fit.
 *
 * A threshold the user accepts (aitag_catalog_learn_threshold) is a row of learned_thresholds
 * and every derivation from then on uses it for that label (catalog_thresholds_load feeds
 * the derive input), whatever process derives: `aitag tag`, the plugin, the app. It is part of
 * the item's derive key, so items not re-derived at once follow at their next run; the items
 * with the label are re-derived in the same transaction as the row.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

/* candidates: 0.05 .. 0.75 by 0.05, then 0.80 .. 0.99 by 0.01 (detectors' confidences crowd
 * near the top, where a coarse grid would step over the best threshold) */
#define N_COARSE 15
#define N_FINE 20
#define N_GRID (N_COARSE + N_FINE)

void catalog_thresholds_free(struct aitag_label_threshold *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)t[i].label);
    free(t);
}

int catalog_thresholds_load(struct aitag_catalog *c, int64_t media_id,
                            struct aitag_label_threshold **out, size_t *n)
{
    struct catalog_stmt *st = NULL;
    struct aitag_label_threshold *v = NULL;
    size_t k = 0;
    int rc = catalog_sql_prepare(c,
                                 "SELECT l.label, l.threshold FROM learned_thresholds l"
                                 " WHERE ?1 = 0 OR EXISTS(SELECT 1 FROM evidence e"
                                 "  WHERE e.media_id = ?1 AND e.label = l.label)"
                                 " ORDER BY l.label",
                                 &st);

    *out = NULL, *n = 0;
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_label_threshold *g = realloc(v, (k + 1) * sizeof *g);
        char *label = strdup((const char *)catalog_column_text(st, 0));
        if (!g || !label) {
            free(label);
            if (g)
                v = g;
            rc = AITAG_ERR_NOMEM;
            break;
        }
        v = g;
        v[k].label = label;
        v[k++].threshold = (float)catalog_column_double(st, 1);
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "learned thresholds");
    catalog_finalize(st);
    if (rc < 0) {
        catalog_thresholds_free(v, k);
        return rc;
    }
    *out = v, *n = k;
    return 0;
}

/* The latest tag-level accept or reject of each item on label, by the raw label judged. */
#define LATEST_VERDICTS                                                                            \
    "SELECT d.media_id, d.verdict FROM decisions d WHERE d.kind = 'tag' AND d.label = ?1"          \
    " AND d.verdict IN ('accept', 'reject') AND d.id = (SELECT max(d2.id) FROM decisions d2"       \
    "  WHERE d2.media_id = d.media_id AND d2.kind = 'tag' AND d2.label = ?1"                       \
    "  AND d2.verdict IN ('accept', 'reject'))"

int aitag_catalog_each_fit_label(struct aitag_catalog *c, int min_decisions, aitag_fit_label_fn fn,
                                 void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(
        c,
        "WITH latest AS (SELECT d.media_id, d.label, d.verdict FROM decisions d"
        "  WHERE d.kind = 'tag' AND d.label IS NOT NULL AND d.verdict IN ('accept', 'reject')"
        "  AND d.id = (SELECT max(d2.id) FROM decisions d2 WHERE d2.media_id = d.media_id"
        "   AND d2.kind = 'tag' AND d2.label = d.label AND d2.verdict IN ('accept', 'reject')))"
        " SELECT label, sum(CASE WHEN verdict = 'accept' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN verdict = 'reject' THEN 1 ELSE 0 END) FROM latest"
        " GROUP BY label HAVING count(*) >= ? ORDER BY count(*) DESC, label",
        &st);

    if (rc < 0)
        return rc;
    catalog_bind_int(st, 1, min_decisions);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int(st, 1),
               catalog_column_int(st, 2)))
            break;
    rc = rc == CATALOG_ROW ? 0 : catalog_sql_check(c, rc, "labels to fit");
    catalog_finalize(st);
    return rc;
}

/* The label's threshold in force: learned, else the policy's. */
static int threshold_now(struct aitag_catalog *c, const struct aitag_policy *p, const char *label,
                         float *t)
{
    struct catalog_stmt *st = NULL;
    int rc =
        catalog_sql_prepare(c, "SELECT threshold FROM learned_thresholds WHERE label = ?", &st);

    *t = aitag_policy_threshold(p, label);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, label, -1);
    if ((rc = catalog_step(st)) == CATALOG_ROW)
        *t = (float)catalog_column_double(st, 0);
    rc = catalog_sql_check(c, rc, "learned threshold");
    catalog_finalize(st);
    return rc;
}

/* The ids of the items whose evidence carries label, with their latest verdict on it
 * (-1 none). */
struct fit_items {
    int64_t *ids;
    int *truth;
    size_t n;
};

static int load_items(struct aitag_catalog *c, const char *label, struct fit_items *f)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "SELECT e.media_id, v.verdict FROM (SELECT DISTINCT media_id"
                                 " FROM evidence WHERE label = ?1) e"
                                 " LEFT JOIN (" LATEST_VERDICTS ") v ON v.media_id = e.media_id"
                                 " ORDER BY e.media_id",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, label, -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        int64_t *g = realloc(f->ids, (f->n + 1) * sizeof *g);
        int *h = g ? realloc(f->truth, (f->n + 1) * sizeof *h) : NULL;
        const char *v = (const char *)catalog_column_text(st, 1);
        if (g)
            f->ids = g;
        if (!g || !h) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        f->truth = h;
        f->ids[f->n] = catalog_column_int64(st, 0);
        f->truth[f->n++] = !v ? -1 : strcmp(v, "accept") == 0;
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "items to fit");
    catalog_finalize(st);
    return rc;
}

/* Whether deriving b with label at threshold t gives a tag of that label. */
static int present_at(const struct aitag_policy *p, struct catalog_derive_buf *b, const char *label,
                      float t, int *present)
{
    struct aitag_label_threshold *th = malloc((b->n_thresholds + 1) * sizeof *th);
    struct aitag_derive_input in = b->in;
    struct aitag_result r = {0};
    size_t n = 0;
    int rc;

    if (!th)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < b->n_thresholds; i++)
        if (strcmp(b->thresholds[i].label, label) != 0)
            th[n++] = b->thresholds[i];
    th[n++] = (struct aitag_label_threshold){label, t};
    in.thresholds = th, in.n_thresholds = n;
    rc = aitag_policy_derive(p, &in, &r);
    *present = 0;
    for (size_t i = 0; rc == 0 && i < r.n_tags; i++)
        *present |= r.tags[i].label && strcmp(r.tags[i].label, label) == 0;
    aitag_result_clear(&r);
    free(th);
    return rc;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int aitag_catalog_fit_threshold(struct aitag_catalog *c, const struct aitag_policy *p,
                                const char *label, struct aitag_threshold_fit *out)
{
    float cand[N_GRID + 1], now;
    size_t n_cand = 0, current = 0, n_decided = 0;
    struct fit_items f = {0};
    struct aitag_fit_item *items = NULL;
    unsigned char *present = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    rc = threshold_now(c, p, label, &now);
    if (rc == 0)
        rc = load_items(c, label, &f);
    if (rc < 0)
        goto out;
    for (int k = 0; k < N_GRID; k++) {
        float t = k < N_COARSE ? (k + 1) * 0.05f : 0.80f + (k - N_COARSE) * 0.01f;
        if (fabsf(t - now) > 1e-4f)
            cand[n_cand++] = t;
    }
    cand[n_cand++] = now;
    qsort(cand, n_cand, sizeof *cand, cmp_float);
    while (cand[current] != now)
        current++;
    items = calloc(f.n ? f.n : 1, sizeof *items);
    present = calloc((f.n ? f.n : 1) * n_cand, 1);
    if (!items || !present) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < f.n && rc == 0; i++) {
        struct catalog_derive_buf b;
        items[i].truth = f.truth[i];
        items[i].fold = f.truth[i] >= 0 ? (int)(n_decided++ % 2) : 0;
        items[i].present = present + i * n_cand;
        if ((rc = catalog_derive_load(c, f.ids[i], &b)) < 0)
            break;
        for (size_t k = 0; k < n_cand && rc == 0; k++) {
            int on = 0;
            rc = present_at(p, &b, label, cand[k], &on);
            present[i * n_cand + k] = (unsigned char)on;
        }
        catalog_derive_buf_clear(&b);
    }
    if (rc == 0 && n_decided == 0) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "LABEL '%.200s': no decisions to fit", label);
        rc = AITAG_ERR_NOTFOUND;
    }
    if (rc == 0)
        rc = aitag_threshold_fit(cand, n_cand, current, items, f.n, out);
out:
    free(items);
    free(present);
    free(f.ids);
    free(f.truth);
    return rc;
}

/* Re-derives every item whose evidence carries label (inside the open transaction). */
static int rederive_label(struct aitag_catalog *c, const struct aitag_policy *p, const char *label,
                          int *n)
{
    struct fit_items f = {0};
    int rc = load_items(c, label, &f);

    for (size_t i = 0; rc == 0 && i < f.n; i++)
        rc = catalog_derive_locked(c, f.ids[i], p);
    if (n)
        *n = rc == 0 ? (int)f.n : 0;
    free(f.ids);
    free(f.truth);
    return rc;
}

int aitag_catalog_learn_threshold(struct aitag_catalog *c, const struct aitag_policy *p,
                                  const char *label, float threshold, const char *who,
                                  const char *fit_json, int *n_rederived)
{
    struct catalog_stmt *st = NULL;
    float before;
    int rc;

    if (!label || !*label || !(threshold > 0 && threshold <= 1) || !who || !*who) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "%s",
                  !label || !*label ? "LABEL: is empty"
                  : !who || !*who   ? "who is required"
                                    : "THRESHOLD: not in (0, 1]");
        return AITAG_ERR_INVALID;
    }
    if ((rc = catalog_sql_begin(c)) < 0)
        return rc;
    rc = threshold_now(c, p, label, &before);
    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "INSERT INTO learned_thresholds(label, threshold, previous, who,"
                                 " at, fit) VALUES(?,?,?,?,?,?) ON CONFLICT(label) DO UPDATE SET"
                                 " threshold = excluded.threshold, previous = excluded.previous,"
                                 " who = excluded.who, at = excluded.at, fit = excluded.fit",
                                 &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, label, -1);
        catalog_bind_double(st, 2, threshold);
        catalog_bind_double(st, 3, before);
        catalog_bind_text(st, 4, who, -1);
        catalog_bind_int64(st, 5, (int64_t)time(NULL));
        if (fit_json)
            catalog_bind_text(st, 6, fit_json, -1);
        rc = catalog_sql_check(c, catalog_step(st), "learn threshold");
    }
    catalog_finalize(st);
    if (rc == 0)
        rc = rederive_label(c, p, label, n_rederived);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_forget_threshold(struct aitag_catalog *c, const struct aitag_policy *p,
                                   const char *label, int *n_rederived)
{
    struct catalog_stmt *st = NULL;
    int step = CATALOG_DONE, rc = catalog_sql_begin(c);

    if (rc < 0)
        return rc;
    rc = catalog_sql_prepare(c, "DELETE FROM learned_thresholds WHERE label = ? RETURNING 1", &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, label, -1);
        step = catalog_step(st);
        rc = catalog_sql_check(c, step, "forget threshold");
    }
    catalog_finalize(st);
    if (rc == 0 && step != CATALOG_ROW) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "LABEL '%.200s': no learned threshold", label);
        rc = AITAG_ERR_NOTFOUND;
    }
    if (rc == 0)
        rc = rederive_label(c, p, label, n_rederived);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_each_learned(struct aitag_catalog *c, aitag_learned_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    struct aitag_learned l;
    int rc = catalog_sql_prepare(c,
                                 "SELECT label, threshold, previous, who, at, fit"
                                 " FROM learned_thresholds ORDER BY label",
                                 &st);

    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        l.label = (const char *)catalog_column_text(st, 0);
        l.threshold = (float)catalog_column_double(st, 1);
        l.previous = (float)catalog_column_double(st, 2);
        l.who = (const char *)catalog_column_text(st, 3);
        l.at = catalog_column_int64(st, 4);
        l.fit = (const char *)catalog_column_text(st, 5);
        if (fn(ctx, &l))
            break;
    }
    rc = rc == CATALOG_ROW ? 0 : catalog_sql_check(c, rc, "learned thresholds");
    catalog_finalize(st);
    return rc;
}
