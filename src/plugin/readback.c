/*
 * readback.c - corrections made in Stash, read back as decisions before an item is synced.
 *
 * The catalog keeps what the plugin last wrote of ours on each Stash item (its tags and
 * markers, aitag_catalog_set_stash_synced, stored after every complete sync). Before the next
 * sync of that item, what Stash holds now is compared with that record:
 *   - a tag we wrote that the item no longer has, while the tag itself still exists under the
 *     parent, was taken off by the user: a "reject" of the tag;
 *   - a marker we wrote that is gone: when a marker of the same tag now overlaps it (the user
 *     dragged its edges in Stash), a "bounds" decision to the new times; otherwise a "reject"
 *     of the marker.
 * Each is recorded through aitag_catalog_decide (who and source "stash"), which re-derives
 * the item with the tagger's policy, and the item's result is read again, so the sync that
 * follows writes the corrected result and no later run adds the tag back. A tag deleted from
 * Stash altogether says nothing about one item (the parent tag may have been recreated), so
 * it is not read as a rejection. Nothing is read back before the first complete sync of an
 * item (there is no record yet).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_int.h"

#define MARKER_EPS 0.01

struct synced_list {
    struct aitag_synced *v;
    size_t n;
    int nomem;
};

static int collect(void *ctx, const struct aitag_synced *s)
{
    struct synced_list *l = ctx;
    struct aitag_synced *g = realloc(l->v, (l->n + 1) * sizeof *g);
    char *tag = strdup(s->tag);

    if (!g || !tag) {
        if (g)
            l->v = g;
        free(tag);
        l->nomem = 1;
        return 1;
    }
    l->v = g;
    l->v[l->n] = *s;
    l->v[l->n++].tag = tag;
    return 0;
}

static int item_has_tag(const struct aitag_stash_item *it, const char *id)
{
    for (size_t i = 0; i < it->n_tags; i++)
        if (strcmp(it->tag_ids[i], id) == 0)
            return 1;
    return 0;
}

/* The Stash marker of tag_id at exactly [start, end), or (exact 0) one overlapping it. */
static const struct aitag_stash_marker *find_marker(const struct aitag_stash_item *it,
                                                    const char *tag_id, double start, double end,
                                                    int has_end, int exact)
{
    for (size_t k = 0; k < it->n_markers; k++) {
        const struct aitag_stash_marker *m = &it->markers[k];
        double m_end = has_end && m->end_seconds >= 0 ? m->end_seconds : end;
        if (!m->primary_tag_id || strcmp(m->primary_tag_id, tag_id) != 0)
            continue;
        if (exact ? fabs(m->seconds - start) <= MARKER_EPS && fabs(m_end - end) <= MARKER_EPS
                  : aitag_marker_matches(m->seconds, m_end, start, end))
            return m;
    }
    return NULL;
}

static int result_has_tag(const struct aitag_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_tags; i++)
        if (strcmp(r->tags[i].name, name) == 0)
            return 1;
    return 0;
}

static int result_has_marker(const struct aitag_result *r, const struct aitag_synced *s)
{
    for (size_t i = 0; i < r->n_markers; i++)
        if (strcmp(r->markers[i].tag, s->tag) == 0 &&
            fabs(r->markers[i].start - s->start) <= MARKER_EPS &&
            fabs(r->markers[i].end - s->end) <= MARKER_EPS)
            return 1;
    return 0;
}

/* The decision a missing entry makes, if any: 1 with *d filled. */
static int read_back(struct plugin_tags *t, const struct aitag_stash_item *it,
                     const struct aitag_result *res, const struct aitag_synced *s, int has_end,
                     struct aitag_decision *d)
{
    const char *tag_id = plugin_tag_set_find_name(&t->ours, s->tag);
    const struct aitag_stash_marker *moved;

    if (!tag_id) /* the tag is gone from Stash altogether: no verdict on this item */
        return 0;
    *d = (struct aitag_decision){.verdict = AITAG_VERDICT_REJECT, .tag = s->tag};
    if (!s->marker)
        return !item_has_tag(it, tag_id) && result_has_tag(res, s->tag);
    if (find_marker(it, tag_id, s->start, s->end, has_end, 1) || !result_has_marker(res, s))
        return 0;
    d->marker = 1;
    d->start = s->start, d->end = s->end;
    moved = has_end ? find_marker(it, tag_id, s->start, s->end, has_end, 0) : NULL;
    if (moved && moved->end_seconds > moved->seconds) {
        d->verdict = AITAG_VERDICT_BOUNDS;
        d->new_start = moved->seconds, d->new_end = moved->end_seconds;
    }
    return 1;
}

int plugin_readback(struct plugin_tags *t, const struct plugin_memory *mem,
                    enum aitag_stash_kind kind, const char *id, int64_t media_id,
                    const struct aitag_result *res, struct aitag_result *fresh, int *n_read)
{
    const char *kind_name = kind == AITAG_STASH_SCENE ? "scene" : "image";
    struct synced_list l = {0};
    struct aitag_stash_item it;
    struct aitag_decision d;
    int has_end, rc;

    *n_read = 0;
    memset(&it, 0, sizeof it);
    rc = aitag_catalog_each_stash_synced(mem->catalog, kind_name, id, media_id, collect, &l);
    if (rc == 0 && l.nomem)
        rc = AITAG_ERR_NOMEM;
    if (rc < 0 || l.n == 0)
        goto out;
    rc = aitag_stash_get_item(t->stash, kind, id, &it);
    if (rc < 0)
        goto out;
    has_end = aitag_stash_has_marker_end(t->stash) > 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        if (!read_back(t, &it, res, &l.v[i], has_end, &d))
            continue;
        rc = aitag_catalog_decide(mem->catalog, media_id, &d, "stash", "stash", NULL, mem->policy,
                                  NULL);
        if (rc == AITAG_ERR_NOTFOUND) { /* already corrected away in the catalog */
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        (*n_read)++;
        aitag_log(AITAG_LOG_INFO, "plugin", "%s %s: %s %s%s read back from Stash", kind_name, id,
                  aitag_verdict_name(d.verdict), d.marker ? "marker of " : "", d.tag);
    }
    if (rc == 0 && *n_read)
        rc = aitag_catalog_load_result(mem->catalog, media_id, fresh);
out:
    for (size_t i = 0; i < l.n; i++)
        free((char *)l.v[i].tag);
    free(l.v);
    aitag_stash_item_clear(&it);
    return rc;
}
