/*
 * learn_rules.c - context rules proposed from repeated rejections.
 *
 * When the user keeps rejecting a label, the question is whether the rejections share a
 * context the accepted items lack, or the other way round: every rejected "sports ball" comes
 * from a file without a person, every accepted one from a file with one. For each label with
 * enough rejected items (the latest tag decision per item), every other label present in a
 * judged item's evidence is tried as that context, in both directions:
 *   unless: "no X without Y" - suppress X in an item unless Y is there;
 *   when:   "no X with Y"    - suppress X in an item where Y is there.
 * A proposal must explain at least min_rejections rejected items and remove no accepted one;
 * better proposals explain more rejections and touch fewer items in the whole library (a rule
 * is a statement about every file, not just the judged ones). Presence is a piece of evidence
 * at 0.3 or more anywhere in the item: the default of a context rule's condition
 * (docs/context.md), so what is counted here is what the rule would do. Nothing is written: a
 * proposal is shown with its rule as the context file's JSON, for the user to add.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

#define PRESENT_AT 0.3
#define MAX_PROPOSALS 50

struct judged_item {
    int64_t media_id;
    int accepted;
    char **labels; /* present in its evidence */
    size_t n_labels;
};

static void judged_free(struct judged_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < v[i].n_labels; k++)
            free(v[i].labels[k]);
        free(v[i].labels);
    }
    free(v);
}

static int has_label(const struct judged_item *it, const char *label)
{
    for (size_t k = 0; k < it->n_labels; k++)
        if (strcmp(it->labels[k], label) == 0)
            return 1;
    return 0;
}

static int push_label(char ***v, size_t *n, const char *label)
{
    char **g = realloc(*v, (*n + 1) * sizeof *g);

    if (!g)
        return AITAG_ERR_NOMEM;
    *v = g;
    if (!(g[*n] = strdup(label)))
        return AITAG_ERR_NOMEM;
    (*n)++;
    return 0;
}

/* The judged items of label, each with the labels present in its evidence. */
static int load_judged(struct aitag_catalog *c, const char *label, struct judged_item **out,
                       size_t *n)
{
    struct catalog_stmt *st = NULL, *ev = NULL;
    struct judged_item *v = NULL;
    size_t k = 0;
    int rc = catalog_sql_prepare(
        c,
        "SELECT d.media_id, d.verdict = 'accept' FROM decisions d WHERE d.kind = 'tag'"
        " AND d.label = ?1 AND d.verdict IN ('accept', 'reject') AND d.id = (SELECT max(d2.id)"
        "  FROM decisions d2 WHERE d2.media_id = d.media_id AND d2.kind = 'tag'"
        "  AND d2.label = ?1 AND d2.verdict IN ('accept', 'reject')) ORDER BY d.media_id",
        &st);

    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "SELECT DISTINCT label FROM evidence WHERE media_id = ?"
                                 " AND confidence >= ? ORDER BY label",
                                 &ev);
    if (rc < 0)
        goto out;
    catalog_bind_text(st, 1, label, -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct judged_item *g = realloc(v, (k + 1) * sizeof *g);
        if (!g) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        v = g;
        v[k] =
            (struct judged_item){catalog_column_int64(st, 0), catalog_column_int(st, 1), NULL, 0};
        catalog_reset(ev);
        catalog_bind_int64(ev, 1, v[k].media_id);
        catalog_bind_double(ev, 2, PRESENT_AT);
        k++;
        while ((rc = catalog_step(ev)) == CATALOG_ROW)
            if (push_label(&v[k - 1].labels, &v[k - 1].n_labels,
                           (const char *)catalog_column_text(ev, 0)) < 0) {
                rc = AITAG_ERR_NOMEM;
                break;
            }
        if (rc == AITAG_ERR_NOMEM || (rc = catalog_sql_check(c, rc, "judged evidence")) < 0)
            break;
        rc = CATALOG_ROW;
    }
    rc = rc < 0 ? rc : catalog_sql_check(c, rc, "judged items");
out:
    catalog_finalize(st);
    catalog_finalize(ev);
    if (rc < 0) {
        judged_free(v, k);
        return rc;
    }
    *out = v, *n = k;
    return 0;
}

/* Items of the library whose evidence has label at a tag's default threshold (0.5; decisions
 * left out) that the rule would touch: those lacking context (unless) or having it (when). */
static int library_hits(struct aitag_catalog *c, const char *label, const char *context, int unless,
                        int64_t *n)
{
    struct catalog_stmt *st = NULL;
    int rc =
        catalog_sql_prepare(c,
                            "SELECT count(DISTINCT x.media_id) FROM evidence x"
                            " WHERE x.label = ?1 AND x.confidence >= 0.5"
                            " AND EXISTS(SELECT 1 FROM evidence e WHERE e.media_id = x.media_id"
                            "  AND e.label = ?2 AND e.confidence >= ?3) = (?4 <> 0)",
                            &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, label, -1);
    catalog_bind_text(st, 2, context, -1);
    catalog_bind_double(st, 3, PRESENT_AT);
    catalog_bind_int(st, 4, !unless);
    rc = catalog_step(st);
    *n = rc == CATALOG_ROW ? catalog_column_int64(st, 0) : 0;
    rc = catalog_sql_check(c, rc, "rule hits");
    catalog_finalize(st);
    return rc;
}

static int cmp_proposal(const void *a, const void *b)
{
    const struct aitag_rule_proposal *x = a, *y = b;
    if (x->rejected_explained != y->rejected_explained)
        return y->rejected_explained - x->rejected_explained;
    if (x->library_items != y->library_items)
        return x->library_items < y->library_items ? -1 : 1;
    return strcmp(x->context, y->context);
}

/* The proposals for one label, best first, to fn. */
static int propose_for(struct aitag_catalog *c, const char *label, int min_rejections,
                       aitag_rule_proposal_fn fn, void *ctx, int *stop)
{
    struct judged_item *items = NULL;
    struct aitag_rule_proposal props[MAX_PROPOSALS];
    char **seen = NULL;
    size_t n = 0, n_seen = 0, n_props = 0;
    int rc = load_judged(c, label, &items, &n);

    /* every label present in a judged item is a candidate context, once */
    for (size_t i = 0; rc == 0 && i < n; i++)
        for (size_t k = 0; rc == 0 && k < items[i].n_labels; k++) {
            const char *y = items[i].labels[k];
            size_t s = 0;
            while (s < n_seen && strcmp(seen[s], y) != 0)
                s++;
            if (s == n_seen && strcmp(y, label) != 0)
                rc = push_label(&seen, &n_seen, y);
        }
    for (size_t s = 0; rc == 0 && s < n_seen; s++)
        for (int unless = 1; rc == 0 && unless >= 0; unless--) {
            int rejected = 0, accepted = 0;
            for (size_t i = 0; i < n; i++) {
                int hit = has_label(&items[i], seen[s]) != unless; /* the rule removes it */
                if (hit && items[i].accepted)
                    accepted++;
                else if (hit)
                    rejected++;
            }
            if (rejected < min_rejections || accepted > 0 || n_props == MAX_PROPOSALS)
                continue;
            props[n_props] = (struct aitag_rule_proposal){label, seen[s], unless, rejected, 0, 0};
            rc = library_hits(c, label, seen[s], unless, &props[n_props].library_items);
            n_props++;
        }
    if (rc == 0 && n_props)
        qsort(props, n_props, sizeof *props, cmp_proposal);
    for (size_t i = 0; rc == 0 && i < n_props && !*stop; i++)
        *stop = fn(ctx, &props[i]);
    for (size_t s = 0; s < n_seen; s++)
        free(seen[s]);
    free(seen);
    judged_free(items, n);
    return rc;
}

int aitag_catalog_rule_proposals(struct aitag_catalog *c, int min_rejections,
                                 aitag_rule_proposal_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    char **labels = NULL;
    size_t n = 0;
    int rc, stop = 0;

    if (min_rejections < 1)
        min_rejections = 1;
    rc = catalog_sql_prepare(
        c,
        "SELECT d.label FROM decisions d WHERE d.kind = 'tag' AND d.label IS NOT NULL"
        " AND d.verdict = 'reject' AND d.id = (SELECT max(d2.id) FROM decisions d2"
        "  WHERE d2.media_id = d.media_id AND d2.kind = 'tag' AND d2.label = d.label"
        "  AND d2.verdict IN ('accept', 'reject'))"
        " GROUP BY d.label HAVING count(*) >= ? ORDER BY count(*) DESC, d.label",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_int(st, 1, min_rejections);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (push_label(&labels, &n, (const char *)catalog_column_text(st, 0)) < 0) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "rejected labels");
    catalog_finalize(st);
    for (size_t i = 0; rc == 0 && i < n && !stop; i++)
        rc = propose_for(c, labels[i], min_rejections, fn, ctx, &stop);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    return rc;
}

char *aitag_rule_proposal_json(const struct aitag_rule_proposal *p)
{
    char name[600];
    json_t *rule, *o;
    char *text;

    snprintf(name, sizeof name, "no %.250s %s %.250s (learned)", p->label,
             p->unless ? "without" : "with", p->context);
    rule = p->unless ? json_pack("{s:s, s:s, s:s, s:{s:s}, s:s}", "name", name, "label", p->label,
                                 "scope", "item", "when", "label", p->label, "unless", p->context)
                     : json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", name, "label", p->label,
                                 "scope", "item", "when", "label", p->context);
    o = json_pack("{s:s, s:s, s:b, s:i, s:i, s:I, s:o}", "label", p->label, "context", p->context,
                  "unless", p->unless, "rejected_explained", p->rejected_explained,
                  "accepted_removed", p->accepted_removed, "library_items",
                  (json_int_t)p->library_items, "rule", rule);
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}
