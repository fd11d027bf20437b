/*
 * decisions.c - the user's corrections of derived tags and markers, stored and applied.
 *
 * A decision is recorded against what the user saw: the stored tag row (its confidence, raw
 * label and parent are copied into the decision, so an accepted tag can be put back exactly
 * when a later derivation drops it) or the stored marker matching the bounds given (its
 * stored bounds are recorded, not the caller's rounding of them). Recording and re-deriving
 * the item happen in one transaction, so the stored tags never disagree with the decisions.
 * Derivation (items.c) loads the item's decisions in id order and hands them to
 * aitag_result_apply_decisions: the policy library owns what a decision means, the catalog
 * only keeps them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

#define DECISION_COLUMNS                                                                           \
    "d.id, d.media_id, m.path, d.kind, d.tag, d.start, d.\"end\", d.verdict, d.new_tag,"           \
    " d.new_start, d.new_end, d.confidence, d.label, d.parent, d.who, d.source, d.at,"             \
    " d.evidence"

static const char *col_text(struct catalog_stmt *st, int i)
{
    return (const char *)catalog_column_text(st, i);
}

static void read_row(struct catalog_stmt *st, struct aitag_decision_row *r)
{
    int verdict = aitag_verdict_parse(col_text(st, 7));

    *r = (struct aitag_decision_row){0};
    r->id = catalog_column_int64(st, 0);
    r->media_id = catalog_column_int64(st, 1);
    r->path = col_text(st, 2);
    r->d.marker = col_text(st, 3) && strcmp(col_text(st, 3), "marker") == 0;
    r->d.tag = col_text(st, 4);
    r->d.start = catalog_column_double(st, 5);
    r->d.end = catalog_column_double(st, 6);
    r->d.verdict = verdict < 0 ? AITAG_VERDICT_ACCEPT : (enum aitag_verdict)verdict;
    r->d.new_tag = col_text(st, 8);
    r->d.new_start = catalog_column_double(st, 9);
    r->d.new_end = catalog_column_double(st, 10);
    r->d.confidence = (float)catalog_column_double(st, 11);
    r->d.label = col_text(st, 12);
    r->d.parent = col_text(st, 13);
    r->who = col_text(st, 14);
    r->source = col_text(st, 15);
    r->at = catalog_column_int64(st, 16);
    r->evidence = col_text(st, 17);
}

int aitag_catalog_each_decision(struct aitag_catalog *c, int64_t media_id, aitag_decision_fn fn,
                                void *ctx)
{
    struct catalog_stmt *st = NULL;
    struct aitag_decision_row r;
    int rc = catalog_sql_prepare(c,
                                 "SELECT " DECISION_COLUMNS " FROM decisions d"
                                 " JOIN media m ON m.id = d.media_id"
                                 " WHERE ?1 = 0 OR d.media_id = ?1 ORDER BY d.id",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        read_row(st, &r);
        if (fn(ctx, &r))
            break;
    }
    rc = rc == CATALOG_ROW ? 0 : catalog_sql_check(c, rc, "list decisions");
    catalog_finalize(st);
    return rc;
}

/* The decisions of one item, copied out of SQLite's rows. */
struct decision_list {
    struct aitag_decision *v;
    size_t n;
    int nomem;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_decision(struct aitag_decision *d)
{
    free((char *)d->tag), free((char *)d->new_tag);
    free((char *)d->label), free((char *)d->parent);
}

static int collect(void *ctx, const struct aitag_decision_row *r)
{
    struct decision_list *l = ctx;
    struct aitag_decision d = r->d;
    void *grown;

    d.tag = dup_or_null(r->d.tag);
    d.new_tag = dup_or_null(r->d.new_tag);
    d.label = dup_or_null(r->d.label);
    d.parent = dup_or_null(r->d.parent);
    grown = realloc(l->v, (l->n + 1) * sizeof *l->v);
    if (!grown || !d.tag || (r->d.new_tag && !d.new_tag) || (r->d.label && !d.label) ||
        (r->d.parent && !d.parent)) {
        if (grown)
            l->v = grown;
        free_decision(&d);
        l->nomem = 1;
        return 1;
    }
    l->v = grown;
    l->v[l->n++] = d;
    return 0;
}

int catalog_apply_decisions(struct aitag_catalog *c, int64_t media_id, struct aitag_result *r)
{
    struct decision_list l = {0};
    int rc = aitag_catalog_each_decision(c, media_id, collect, &l);

    if (rc == 0 && l.nomem)
        rc = AITAG_ERR_NOMEM;
    if (rc == 0 && l.n)
        rc = aitag_result_apply_decisions(r, l.v, l.n);
    for (size_t i = 0; i < l.n; i++)
        free_decision(&l.v[i]);
    free(l.v);
    return rc;
}

static int invalid(struct aitag_catalog *c, int rc, const char *msg)
{
    c->sql_rc = 0;
    aitag_fmt(c->errmsg, sizeof c->errmsg, "%s", msg);
    return rc;
}

/* Why a new tag name cannot be used, or NULL. */
static const char *new_name_problem(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0)
        return "NEW_TAG: is empty";
    if (n > 200)
        return "NEW_TAG: longer than 200 bytes";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "NEW_TAG: has a control character";
    return NULL;
}

static int check_args(struct aitag_catalog *c, const struct aitag_decision *d, const char *who,
                      const char *source, const char *evidence)
{
    const char *why;

    if (!d->tag || !*d->tag)
        return invalid(c, AITAG_ERR_INVALID, "TAG: is empty");
    if (!who || !*who || !source || !*source)
        return invalid(c, AITAG_ERR_INVALID, "who and source are required");
    if ((unsigned)d->verdict > AITAG_VERDICT_BOUNDS)
        return invalid(c, AITAG_ERR_INVALID, "VERDICT: not accept, reject, rename or bounds");
    if (d->verdict == AITAG_VERDICT_RENAME && (why = new_name_problem(d->new_tag)))
        return invalid(c, AITAG_ERR_INVALID, why);
    if (d->verdict == AITAG_VERDICT_BOUNDS && !d->marker)
        return invalid(c, AITAG_ERR_INVALID, "bounds: only a marker has bounds");
    if (d->verdict == AITAG_VERDICT_BOUNDS && !(d->new_start >= 0 && d->new_end > d->new_start))
        return invalid(c, AITAG_ERR_INVALID, "NEW_START, NEW_END: need 0 <= start < end");
    if (evidence && *evidence != '{')
        return invalid(c, AITAG_ERR_INVALID, "evidence: not a JSON object");
    return 0;
}

/* What is judged, as stored: the tag row, and for a marker the stored marker matching d's
 * bounds best (most overlap). */
struct judged {
    int has_tag, has_marker;
    double start, end;
    float confidence;
    char *label, *parent;
};

static int find_judged(struct aitag_catalog *c, int64_t media_id, const struct aitag_decision *d,
                       struct judged *j)
{
    struct catalog_stmt *st = NULL;
    double best = -1;
    int rc = catalog_sql_prepare(c,
                                 "SELECT confidence, label, parent FROM tags"
                                 " WHERE media_id = ? AND name = ?",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    catalog_bind_text(st, 2, d->tag, -1);
    if ((rc = catalog_step(st)) == CATALOG_ROW) {
        j->has_tag = 1;
        j->confidence = (float)catalog_column_double(st, 0);
        j->label = dup_or_null(col_text(st, 1));
        j->parent = dup_or_null(col_text(st, 2));
        if ((col_text(st, 1) && !j->label) || (col_text(st, 2) && !j->parent))
            rc = AITAG_ERR_NOMEM;
    }
    rc = rc < 0 ? rc : catalog_sql_check(c, rc, "find tag");
    catalog_finalize(st);
    st = NULL;
    if (rc < 0 || !d->marker)
        return rc;
    rc = catalog_sql_prepare(c,
                             "SELECT start, \"end\", confidence FROM markers"
                             " WHERE media_id = ? AND tag = ? ORDER BY start",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    catalog_bind_text(st, 2, d->tag, -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        double s = catalog_column_double(st, 0), e = catalog_column_double(st, 1);
        double lo = s > d->start ? s : d->start, hi = e < d->end ? e : d->end;
        if (!aitag_marker_matches(s, e, d->start, d->end) || hi - lo <= best)
            continue;
        best = hi - lo;
        j->has_marker = 1;
        j->start = s, j->end = e;
        j->confidence = (float)catalog_column_double(st, 2);
    }
    rc = catalog_sql_check(c, rc, "find marker");
    catalog_finalize(st);
    return rc;
}

static int media_exists(struct aitag_catalog *c, int64_t media_id)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "SELECT 1 FROM media WHERE id = ?", &st), found = 0;

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    found = catalog_step(st) == CATALOG_ROW;
    catalog_finalize(st);
    if (!found) {
        char msg[64];
        aitag_fmt(msg, sizeof msg, "ITEM %lld: no such item", (long long)media_id);
        return invalid(c, AITAG_ERR_NOTFOUND, msg);
    }
    return 0;
}

static int insert(struct aitag_catalog *c, int64_t media_id, const struct aitag_decision *d,
                  const struct judged *j, const char *who, const char *source, const char *evidence,
                  int64_t *id)
{
    struct catalog_stmt *st = NULL;
    int step, rc = catalog_sql_prepare(
                  c,
                  "INSERT INTO decisions(media_id, kind, tag, start, \"end\", verdict,"
                  " new_tag, new_start, new_end, confidence, label, parent, who,"
                  " source, at, evidence)"
                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                  &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    catalog_bind_text(st, 2, d->marker ? "marker" : "tag", -1);
    catalog_bind_text(st, 3, d->tag, -1);
    if (d->marker) {
        catalog_bind_double(st, 4, j->start);
        catalog_bind_double(st, 5, j->end);
    }
    catalog_bind_text(st, 6, aitag_verdict_name(d->verdict), -1);
    if (d->verdict == AITAG_VERDICT_RENAME)
        catalog_bind_text(st, 7, d->new_tag, -1);
    if (d->verdict == AITAG_VERDICT_BOUNDS) {
        catalog_bind_double(st, 8, d->new_start);
        catalog_bind_double(st, 9, d->new_end);
    }
    catalog_bind_double(st, 10, j->confidence);
    catalog_bind_text(st, 11, j->label, -1);
    catalog_bind_text(st, 12, j->parent, -1);
    catalog_bind_text(st, 13, who, -1);
    catalog_bind_text(st, 14, source, -1);
    catalog_bind_int64(st, 15, (int64_t)time(NULL));
    if (evidence)
        catalog_bind_text(st, 16, evidence, -1);
    step = catalog_step(st);
    rc = catalog_sql_check(c, step, "insert decision");
    if (rc == 0 && id)
        *id = step == CATALOG_ROW ? catalog_column_int64(st, 0) : 0;
    catalog_finalize(st);
    return rc;
}

static int rederive_or_clear(struct aitag_catalog *c, int64_t media_id,
                             const struct aitag_policy *p)
{
    struct catalog_stmt *st = NULL;
    int rc;

    if (p)
        return catalog_derive_locked(c, media_id, p);
    rc = catalog_sql_prepare(c, "UPDATE media SET derive_key = NULL WHERE id = ?", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    rc = catalog_sql_check(c, catalog_step(st), "clear derive key");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_decide(struct aitag_catalog *c, int64_t media_id, const struct aitag_decision *d,
                         const char *who, const char *source, const char *evidence,
                         const struct aitag_policy *p, int64_t *id)
{
    struct judged j = {0};
    char msg[320];
    int rc = check_args(c, d, who, source, evidence);

    if (id)
        *id = 0;
    if (rc < 0)
        return rc;
    if ((rc = catalog_sql_begin(c)) < 0)
        return rc;
    rc = media_exists(c, media_id);
    if (rc == 0)
        rc = find_judged(c, media_id, d, &j);
    if (rc == 0 && !d->marker && !j.has_tag)
        rc = invalid(c, AITAG_ERR_NOTFOUND,
                     aitag_fmt(msg, sizeof msg, "TAG '%.200s': not a tag of this item", d->tag));
    if (rc == 0 && d->marker && !j.has_marker)
        rc = invalid(c, AITAG_ERR_NOTFOUND,
                     aitag_fmt(msg, sizeof msg, "MARKER '%.200s' at %.1f-%.1f: no such marker",
                               d->tag, d->start, d->end));
    if (rc == 0)
        rc = insert(c, media_id, d, &j, who, source, evidence, id);
    if (rc == 0)
        rc = rederive_or_clear(c, media_id, p);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    free(j.label), free(j.parent);
    return rc;
}

int aitag_catalog_review_queue(struct aitag_catalog *c, const char *tag, int64_t limit,
                               aitag_review_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    struct aitag_review_entry e;
    int rc = catalog_sql_prepare(
        c,
        "WITH freq AS (SELECT t.name, count(*) AS n FROM tags t JOIN media m"
        "  ON m.id = t.media_id AND m.missing_at IS NULL GROUP BY t.name)"
        " SELECT t.media_id, m.path, t.name, t.confidence, f.n,"
        "  (1.0 - coalesce(t.confidence, 0)) * f.n / (f.n + 5.0) AS priority"
        " FROM tags t JOIN media m ON m.id = t.media_id AND m.missing_at IS NULL"
        " JOIN freq f ON f.name = t.name"
        " WHERE (CAST(?1 AS TEXT) IS NULL OR t.name = ?1) AND NOT EXISTS(SELECT 1 FROM decisions d"
        "  WHERE d.media_id = t.media_id AND d.kind = 'tag'"
        "  AND (d.tag = t.name OR d.new_tag = t.name))"
        " ORDER BY priority DESC, t.name, m.path LIMIT ?2",
        &st);

    if (rc < 0)
        return rc;
    if (tag)
        catalog_bind_text(st, 1, tag, -1);
    catalog_bind_limit(st, 2, limit);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        e.media_id = catalog_column_int64(st, 0);
        e.path = col_text(st, 1);
        e.tag = col_text(st, 2);
        e.confidence = (float)catalog_column_double(st, 3);
        e.tag_items = catalog_column_int64(st, 4);
        e.priority = catalog_column_double(st, 5);
        if (fn(ctx, &e))
            break;
    }
    rc = rc == CATALOG_ROW ? 0 : catalog_sql_check(c, rc, "review queue");
    catalog_finalize(st);
    return rc;
}
