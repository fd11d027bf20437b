/*
 * corrections.c - a user's decisions applied to a derived result.
 *
 * Decisions are applied one after another, in the order they were made, each to the result as
 * the ones before left it: a later decision on the same tag or marker wins (reject, then
 * accept: kept), and a decision on a renamed tag names it by its new name, as the user saw it.
 * A tag decision covers the tag's markers (a rejected tag takes its markers along; a renamed
 * one renames them), a marker decision only the markers it matches. Matching a marker allows
 * for the drift of a re-run: a derived marker of the same tag overlapping the judged bounds by
 * at least half of the shorter of the two is the judged one. An accepted tag or marker that a
 * derivation no longer gives is put back from the decision (its confidence, label and parent
 * as judged). Nothing here reads a clock or a file: the same decisions on the same result give
 * the same output.
 */
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

static const char *const verdict_names[] = {"accept", "reject", "rename", "bounds"};

int aitag_verdict_parse(const char *word)
{
    for (int i = 0; i < (int)(sizeof verdict_names / sizeof *verdict_names); i++)
        if (word && strcmp(word, verdict_names[i]) == 0)
            return i;
    return -1;
}

const char *aitag_verdict_name(enum aitag_verdict v)
{
    return (unsigned)v < sizeof verdict_names / sizeof *verdict_names ? verdict_names[v] : "?";
}

int aitag_marker_matches(double s1, double e1, double s2, double e2)
{
    double lo = s1 > s2 ? s1 : s2, hi = e1 < e2 ? e1 : e2;
    double shorter = (e1 - s1) < (e2 - s2) ? (e1 - s1) : (e2 - s2);

    if (shorter <= 0) /* a point: inside the other */
        return (e1 - s1 <= 0 ? s1 >= s2 && s1 <= e2 : s2 >= s1 && s2 <= e1);
    return hi - lo >= 0.5 * shorter;
}

void policy_drop_tag(struct aitag_result *r, size_t i)
{
    free(r->tags[i].name), free(r->tags[i].parent), free(r->tags[i].label);
    memmove(&r->tags[i], &r->tags[i + 1], (r->n_tags - i - 1) * sizeof *r->tags);
    r->n_tags--;
}

void policy_drop_marker(struct aitag_result *r, size_t i)
{
    free(r->markers[i].tag);
    memmove(&r->markers[i], &r->markers[i + 1], (r->n_markers - i - 1) * sizeof *r->markers);
    r->n_markers--;
}

static long find_tag(const struct aitag_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_tags; i++)
        if (strcmp(r->tags[i].name, name) == 0)
            return (long)i;
    return -1;
}

static int is_judged(const struct aitag_marker_result *m, const struct aitag_decision *d)
{
    return strcmp(m->tag, d->tag) == 0 && aitag_marker_matches(m->start, m->end, d->start, d->end);
}

/* Renames tag i to name, merging into a tag of that name when there is one. */
static int rename_tag(struct aitag_result *r, size_t i, const char *name)
{
    long j = find_tag(r, name);
    char *copy;

    if (j >= 0) {
        if (r->tags[i].confidence > r->tags[j].confidence)
            r->tags[j].confidence = r->tags[i].confidence;
        if (r->tags[i].coverage > r->tags[j].coverage)
            r->tags[j].coverage = r->tags[i].coverage;
        policy_drop_tag(r, i);
        return 0;
    }
    if (!(copy = strdup(name)))
        return AITAG_ERR_NOMEM;
    free(r->tags[i].name);
    r->tags[i].name = copy;
    return 0;
}

static int rename_marker(struct aitag_marker_result *m, const char *name)
{
    char *copy = strdup(name);

    if (!copy)
        return AITAG_ERR_NOMEM;
    free(m->tag);
    m->tag = copy;
    return 0;
}

static int apply_tag(struct aitag_result *r, const struct aitag_decision *d)
{
    long i = find_tag(r, d->tag);
    int rc = 0;

    switch (d->verdict) {
    case AITAG_VERDICT_ACCEPT:
        if (i < 0)
            rc = aitag_result_add_tag(r, d->tag, d->parent, d->label ? d->label : d->tag,
                                      d->confidence, 0);
        break;
    case AITAG_VERDICT_REJECT: /* every tag of the name: two analyzers may each give one */
        for (; i >= 0; i = find_tag(r, d->tag))
            policy_drop_tag(r, (size_t)i);
        for (size_t k = r->n_markers; k-- > 0;)
            if (strcmp(r->markers[k].tag, d->tag) == 0)
                policy_drop_marker(r, k);
        break;
    case AITAG_VERDICT_RENAME:
        if (!d->new_tag || !*d->new_tag)
            break;
        for (; rc == 0 && i >= 0 && strcmp(d->tag, d->new_tag) != 0; i = find_tag(r, d->tag))
            rc = rename_tag(r, (size_t)i, d->new_tag);
        for (size_t k = 0; rc == 0 && k < r->n_markers; k++)
            if (strcmp(r->markers[k].tag, d->tag) == 0)
                rc = rename_marker(&r->markers[k], d->new_tag);
        break;
    case AITAG_VERDICT_BOUNDS: /* not a tag's: nothing to do */
        break;
    }
    return rc;
}

static int apply_marker(struct aitag_result *r, const struct aitag_decision *d)
{
    int found = 0, rc = 0;

    for (size_t k = r->n_markers; rc == 0 && k-- > 0;) {
        struct aitag_marker_result *m = &r->markers[k];
        if (!is_judged(m, d))
            continue;
        found = 1;
        switch (d->verdict) {
        case AITAG_VERDICT_ACCEPT:
            break;
        case AITAG_VERDICT_REJECT:
            policy_drop_marker(r, k);
            break;
        case AITAG_VERDICT_RENAME:
            if (d->new_tag && *d->new_tag)
                rc = rename_marker(m, d->new_tag);
            break;
        case AITAG_VERDICT_BOUNDS:
            if (d->new_end > d->new_start)
                m->start = d->new_start, m->end = d->new_end;
            break;
        }
    }
    if (rc == 0 && !found && d->verdict == AITAG_VERDICT_ACCEPT)
        rc = aitag_result_add_marker(r, d->tag, d->start, d->end, d->confidence);
    if (rc == 0 && !found && d->verdict == AITAG_VERDICT_BOUNDS && d->new_end > d->new_start)
        /* the user drew it: kept like an accepted one */
        rc = aitag_result_add_marker(r, d->tag, d->new_start, d->new_end, d->confidence);
    return rc;
}

int aitag_result_apply_decisions(struct aitag_result *r, const struct aitag_decision *d, size_t n)
{
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!d[i].tag)
            continue;
        rc = d[i].marker ? apply_marker(r, &d[i]) : apply_tag(r, &d[i]);
    }
    policy_sort_result(r); /* two markers made equal by bounds decisions are one */
    return rc;
}
