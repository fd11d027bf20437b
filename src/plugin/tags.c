/*
 * tags.c - which Stash tags are the plugin's, and the ids of the tags it writes.
 *
 * Ownership is derived from Stash itself, not remembered: a tag is the plugin's when its
 * parent is the parent tag ("AI" by default). The children are read once per run (one query)
 * and every tag the plugin creates later in the run is created under the parent and added to
 * the set. A generated name that already belongs to a tag outside the parent (the user's own
 * "face", say) is never used: adding it would touch a tag the plugin does not own, and it could
 * never be removed again. Such names are logged once; a tagPrefix setting avoids them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_int.h"

int plugin_tag_set_add(struct tag_set *s, const char *id, const char *name)
{
    if (plugin_tag_set_has(s, id))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **ids = realloc(s->ids, cap * sizeof *ids), **names;
        if (!ids)
            return AITAG_ERR_NOMEM;
        s->ids = ids;
        names = realloc(s->names, cap * sizeof *names);
        if (!names)
            return AITAG_ERR_NOMEM;
        s->names = names;
        s->cap = cap;
    }
    s->ids[s->n] = strdup(id);
    s->names[s->n] = strdup(name ? name : "");
    if (!s->ids[s->n] || !s->names[s->n]) {
        free(s->ids[s->n]);
        free(s->names[s->n]);
        return AITAG_ERR_NOMEM;
    }
    s->n++;
    return 0;
}

int plugin_tag_set_has(const struct tag_set *s, const char *id)
{
    for (size_t i = 0; id && i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return 1;
    return 0;
}

const char *plugin_tag_set_find_name(const struct tag_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return s->ids[i];
    return NULL;
}

void plugin_tag_set_clear(struct tag_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->ids[i]);
        free(s->names[i]);
    }
    free(s->ids);
    free(s->names);
    memset(s, 0, sizeof *s);
}

void plugin_tags_clear(struct plugin_tags *t)
{
    free(t->parent_id);
    free(t->tagme_id);
    free(t->tagged_id);
    free(t->errored_id);
    plugin_tag_set_clear(&t->ours);
    plugin_tag_set_clear(&t->foreign);
    plugin_tag_set_clear(&t->parented);
    memset(t, 0, sizeof *t);
}

static int load_children(struct plugin_tags *t)
{
    struct aitag_stash_tag *children = NULL;
    size_t n = 0;
    int rc = aitag_stash_tag_children(t->stash, t->parent_id, &children, &n);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = plugin_tag_set_add(&t->ours, children[i].id, children[i].name);
    aitag_stash_tags_free(children, n);
    return rc;
}

int plugin_tags_init_hook(struct plugin_tags *t, struct aitag_stash *s, const char *parent)
{
    int rc;

    memset(t, 0, sizeof *t);
    t->stash = s;
    rc = aitag_stash_ensure_tag(s, parent, NULL, &t->parent_id);
    if (rc == 0)
        rc = aitag_stash_ensure_tag(s, PLUGIN_TAG_TAGME, t->parent_id, &t->tagme_id);
    return rc;
}

int plugin_tags_init(struct plugin_tags *t, struct aitag_stash *s, const char *parent)
{
    int rc = plugin_tags_init_hook(t, s, parent);

    if (rc == 0)
        rc = aitag_stash_ensure_tag(s, PLUGIN_TAG_TAGGED, t->parent_id, &t->tagged_id);
    if (rc == 0)
        rc = aitag_stash_ensure_tag(s, PLUGIN_TAG_ERRORED, t->parent_id, &t->errored_id);
    if (rc == 0)
        rc = load_children(t);
    return rc;
}

int plugin_tags_set_category(struct plugin_tags *t, const char *tag_id, const char *name,
                             const char *category)
{
    const char *cat_id, *cat_name;
    int rc;

    if (plugin_tag_set_has(&t->parented, tag_id))
        return 0;
    rc = plugin_tags_resolve(t, category, &cat_id, &cat_name);
    if (rc == 0 && cat_id && strcmp(cat_id, tag_id) != 0)
        rc = aitag_stash_tag_add_parent(t->stash, tag_id, cat_id);
    if (rc == 0)
        rc = plugin_tag_set_add(&t->parented, tag_id, name);
    return rc;
}

int plugin_tags_is_generated(const struct plugin_tags *t, const char *id)
{
    return plugin_tag_set_has(&t->ours, id) && strcmp(id, t->tagme_id) != 0 &&
           strcmp(id, t->tagged_id) != 0 && strcmp(id, t->errored_id) != 0 &&
           strcmp(id, t->parent_id) != 0;
}

/* The index of id in set, or -1. */
static long set_index(const struct tag_set *s, const char *id, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if ((id && strcmp(s->ids[i], id) == 0) || (name && strcmp(s->names[i], name) == 0))
            return (long)i;
    return -1;
}

int plugin_tags_resolve(struct plugin_tags *t, const char *name, const char **id,
                        const char **stash_name)
{
    const char *full = name; /* the policy already put tagPrefix/tagSuffix on it */
    char *found = NULL;
    long i;
    int rc;

    *id = NULL;
    *stash_name = NULL;
    if ((i = set_index(&t->ours, NULL, full)) < 0 && set_index(&t->foreign, NULL, full) >= 0)
        return 0;
    if (i < 0) {
        /* Not a child of the parent: absent from Stash (create it), or someone else's. */
        rc = aitag_stash_find_tag(t->stash, full, &found);
        if (rc == AITAG_ERR_NOTFOUND) {
            rc = aitag_stash_ensure_tag(t->stash, full, t->parent_id, &found);
            if (rc == 0)
                rc = plugin_tag_set_add(&t->ours, found, full);
            if (rc == 0)
                i = set_index(&t->ours, found, NULL);
        } else if (rc == 0 && (i = set_index(&t->ours, found, NULL)) < 0) {
            aitag_log(AITAG_LOG_WARN, "plugin",
                      "tag \"%s\" exists outside the parent tag: not used (set tagPrefix)", full);
            rc = plugin_tag_set_add(&t->foreign, found, full);
            free(found);
            return rc;
        }
        free(found);
        if (rc < 0)
            return rc;
    }
    *id = t->ours.ids[i];
    *stash_name = t->ours.names[i];
    return 0;
}
