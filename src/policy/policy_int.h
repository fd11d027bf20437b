/* policy_int.h - the policy's internals, shared by rules.c (loading) and derive.c. */
#ifndef AITAG_POLICY_INT_H
#define AITAG_POLICY_INT_H

#include "aitag/context.h"
#include "aitag/policy.h"

#define POLICY_DERIVE_VERSION 5

struct tag_map {
    char *label;  /* raw label this entry is for */
    char *name;   /* NULL: keep the label */
    char *parent; /* NULL: the policy's parent */
    int has_threshold, has_min_marker, has_max_gap, has_required, has_markers;
    struct aitag_rule rule;
};

struct aitag_policy {
    struct aitag_rule defaults;
    char *prefix, *suffix, *parent;
    char **whitelist;
    size_t n_whitelist;
    char **blacklist;
    size_t n_blacklist;
    struct tag_map *maps;
    size_t n_maps;
    struct aitag_context *context; /* owned; NULL: no context rules */
    aitag_parent_fn parent_fn;     /* the category of a label (aitag_policy_set_parent_fn) */
    void *parent_ctx;
    char *parent_key; /* owned: what parent_fn makes of labels */
    char key[65];
};

/* The rule and names for one label, resolving per-tag overrides. */
const struct tag_map *policy_find_map(const struct aitag_policy *p, const char *label);
struct aitag_rule policy_rule_for(const struct aitag_policy *p, const char *label);
/* The final tag name for a label (caller frees), or NULL when lists exclude it. */
char *policy_tag_name(const struct aitag_policy *p, const char *label);
/* word with the tag prefix and suffix (caller frees; NULL when out of memory). */
char *policy_affixed(const struct aitag_policy *p, const char *word);
void policy_update_key(struct aitag_policy *p);
/* The orders of a derived result: tags by name, markers by start, tag and end; the most
 * confident first among equals (qsort). */
int policy_cmp_tag(const void *a, const void *b);
int policy_cmp_marker(const void *a, const void *b);
/* Sorts a result's tags and markers and keeps one of each (the most confident): a tag named
 * twice, or a marker of one tag with the same bounds twice (two analyzers with the same label,
 * faces and face_attrs, give the same findings), is one. */
void policy_sort_result(struct aitag_result *r);
/* Removes the i-th tag or marker of r. */
void policy_drop_tag(struct aitag_result *r, size_t i);
void policy_drop_marker(struct aitag_result *r, size_t i);

#endif
