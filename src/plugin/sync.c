/*
 * sync.c - one item's differences, written to Stash.
 *
 * The item is read fresh just before writing, so the differences are against what Stash holds
 * now (the user may have edited it while the models ran). Desired state = the catalog's result;
 * the plugin's current state = the item's tags that are children of the parent tag and the
 * markers whose primary tag is one of those. Writes are differences matched by content, which
 * makes them idempotent: a marker is created only when no marker on the scene (the user's
 * included) has the same primary tag, start and end within 0.01 s, so a run killed between
 * creating a marker and anything else never duplicates it on the next run.
 *
 * Technical cues (cue:* tags and their markers) are written only with the writeCues setting:
 * run.c hands over a view of the result without them otherwise (plugin_result_view),
 * so cues written before the setting was turned off are removed like any stale tag.
 *
 * Order: content first (add tags, create markers, destroy stale markers, remove stale tags),
 * control tags last (add AI_Tagged, then remove AI_TagMe and AI_Errored). An item whose sync
 * was cut short keeps its AI_TagMe / lacks AI_Tagged, so the next queue or untagged run picks
 * it up again and completes it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_int.h"

#define MARKER_EPS 0.01

struct id_list {
    const char **v;
    size_t n;
};

static int list_push(struct id_list *l, const char *id)
{
    const char **g;

    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], id) == 0)
            return 0;
    g = realloc(l->v, (l->n + 1) * sizeof *g);
    if (!g)
        return AITAG_ERR_NOMEM;
    l->v = g;
    l->v[l->n++] = id;
    return 0;
}

static int has_tag(const struct aitag_stash_item *it, const char *id)
{
    for (size_t i = 0; id && i < it->n_tags; i++)
        if (strcmp(it->tag_ids[i], id) == 0)
            return 1;
    return 0;
}

static int update(struct plugin_tags *t, enum aitag_stash_kind kind, const char *id,
                  const struct id_list *l, const char *mode)
{
    if (l->n == 0)
        return 0;
    return aitag_stash_update_tags(t->stash, kind, &id, 1, l->v, l->n, mode);
}

static int marker_matches(const struct aitag_stash_marker *m, const char *tag_id, double start,
                          double end, int has_end, const char *title)
{
    if (!m->primary_tag_id || strcmp(m->primary_tag_id, tag_id) != 0)
        return 0;
    if (title && (!m->title || strcmp(m->title, title) != 0))
        return 0; /* a transcript line: what was said is part of it */
    if (fabs(m->seconds - start) > MARKER_EPS)
        return 0;
    if (!has_end)
        return 1;
    return m->end_seconds >= 0 && fabs(m->end_seconds - end) <= MARKER_EPS;
}

/* Whether the result has the i-th marker already, earlier (a catalog derived before results
 * kept one copy of each marker holds two when two analyzers gave the same finding): one
 * marker in Stash stands for both. */
static int repeated_marker(const struct aitag_result *res, size_t i)
{
    const struct aitag_marker_result *m = &res->markers[i];

    for (size_t j = 0; j < i; j++) {
        const struct aitag_marker_result *o = &res->markers[j];
        if (strcmp(o->tag, m->tag) == 0 && fabs(o->start - m->start) <= MARKER_EPS &&
            fabs(o->end - m->end) <= MARKER_EPS &&
            (o->title && m->title ? strcmp(o->title, m->title) == 0 : o->title == m->title))
            return 1;
    }
    return 0;
}

/* Creates missing markers and destroys the plugin's stale ones. */
static int sync_markers(struct plugin_tags *t, const struct aitag_stash_item *it,
                        const struct aitag_result *res, struct sync_counts *c)
{
    int has_end = aitag_stash_has_marker_end(t->stash) > 0, rc = 0;
    char *keep = calloc(it->n_markers ? it->n_markers : 1, 1);

    if (!keep)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; res && i < res->n_markers && rc == 0; i++) {
        const struct aitag_marker_result *mr = &res->markers[i];
        const char *tag_id, *name;
        size_t k;
        if (repeated_marker(res, i))
            continue;
        if ((rc = plugin_tags_resolve(t, mr->tag, &tag_id, &name)) < 0 || !tag_id)
            continue;
        /* The first unclaimed match counts; a second copy of ours is stale. */
        for (k = 0; k < it->n_markers; k++)
            if (!keep[k] &&
                marker_matches(&it->markers[k], tag_id, mr->start, mr->end, has_end, mr->title))
                break;
        if (k < it->n_markers) {
            keep[k] = 1;
            continue;
        }
        rc = aitag_stash_create_marker(t->stash, it->id, mr->title ? mr->title : name, mr->start,
                                       has_end ? mr->end : -1, tag_id, NULL);
        if (rc == 0)
            c->markers_created++;
    }
    for (size_t k = 0; k < it->n_markers && rc == 0; k++) {
        if (keep[k] || !plugin_tags_is_generated(t, it->markers[k].primary_tag_id))
            continue;
        rc = aitag_stash_destroy_marker(t->stash, it->markers[k].id);
        if (rc == 0)
            c->markers_destroyed++;
    }
    free(keep);
    return rc;
}

/* A create whose answer was lost (a proxy's 502, a dropped connection) may have been
 * resent by the client and landed twice, or not at all: read the scene again and settle it
 * before the item is marked done, so a finished item never keeps a duplicate. */
static int verify_markers(struct plugin_tags *t, enum aitag_stash_kind kind, const char *id,
                          const struct aitag_result *res, struct sync_counts *out)
{
    struct aitag_stash_item again;
    struct sync_counts fix = {0};
    int rc;

    memset(&again, 0, sizeof again);
    rc = aitag_stash_get_item(t->stash, kind, id, &again);
    if (rc == 0)
        rc = sync_markers(t, &again, res, &fix);
    if (rc == 0 && (fix.markers_created || fix.markers_destroyed))
        aitag_log(AITAG_LOG_WARN, "plugin",
                  "scene %s: markers settled after lost answers (+%d -%d)", id, fix.markers_created,
                  fix.markers_destroyed);
    out->markers_created += fix.markers_created - fix.markers_destroyed;
    aitag_stash_item_clear(&again);
    return rc;
}

int plugin_result_view(const struct aitag_result *res, int cues, int transcript_markers,
                       struct aitag_result *out)
{
    const char *speech = NULL; /* the speech tag's name, when transcript lines become markers */

    memset(out, 0, sizeof *out);
    out->tags = malloc((res->n_tags + 1) * sizeof *out->tags);
    out->markers = malloc((res->n_markers + res->n_texts + 1) * sizeof *out->markers);
    if (!out->tags || !out->markers) {
        plugin_result_view_free(out);
        return AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; i < res->n_tags; i++)
        if (cues || !res->tags[i].label || strncmp(res->tags[i].label, "cue:", 4) != 0) {
            out->tags[out->n_tags++] = res->tags[i];
            if (transcript_markers && res->tags[i].label &&
                strcmp(res->tags[i].label, "speech") == 0)
                speech = res->tags[i].name;
        }
    /* a marker's tag is always on the item: markers of a kept tag are kept */
    for (size_t i = 0; i < res->n_markers; i++)
        for (size_t k = 0; k < out->n_tags; k++)
            if (strcmp(out->tags[k].name, res->markers[i].tag) == 0) {
                if (!speech || strcmp(speech, res->markers[i].tag) != 0)
                    out->markers[out->n_markers++] = res->markers[i];
                break;
            }
    for (size_t i = 0; speech && i < res->n_texts; i++)
        if (strcmp(res->texts[i].source, "speech") == 0 && res->texts[i].text[0])
            out->markers[out->n_markers++] =
                (struct aitag_marker_result){(char *)speech, res->texts[i].start, res->texts[i].end,
                                             res->texts[i].confidence, res->texts[i].text};
    out->texts = res->texts, out->n_texts = res->n_texts;
    out->description = res->description;
    out->shots = res->shots, out->n_shots = res->n_shots;
    return 0;
}

int plugin_transcript_text(const struct aitag_result *res, char **out)
{
    char *t = NULL;
    size_t len = 0, cap = 0;

    *out = NULL;
    for (size_t i = 0; i < res->n_texts; i++) {
        const char *line = res->texts[i].text;
        if (strcmp(res->texts[i].source, "speech") != 0 || !line[0])
            continue;
        if ((len && aitag_buf_append(&t, &len, &cap, "\n", 1, 0) < 0) ||
            aitag_buf_append(&t, &len, &cap, line, strlen(line), 0) < 0) {
            free(t);
            return AITAG_ERR_NOMEM;
        }
    }
    *out = t;
    return 0;
}

void plugin_result_view_free(struct aitag_result *view)
{
    free(view->tags);
    free(view->markers);
    memset(view, 0, sizeof *view);
}

int plugin_sync_item(struct plugin_tags *t, enum aitag_stash_kind kind, const char *id,
                     const struct aitag_result *res, const char *error, struct sync_counts *out)
{
    struct aitag_stash_item it;
    struct id_list desired = {0}, add = {0}, remove = {0}, ctl_add = {0}, ctl_remove = {0};
    int rc;

    memset(out, 0, sizeof *out);
    memset(&it, 0, sizeof it);
    rc = aitag_stash_get_item(t->stash, kind, id, &it);
    if (rc < 0)
        return rc;
    if (!res) {
        /* Failed: say so, leave the earlier results alone, and let the queue move on. */
        if (!has_tag(&it, t->errored_id))
            rc = list_push(&ctl_add, t->errored_id);
        if (rc == 0 && has_tag(&it, t->tagme_id))
            rc = list_push(&ctl_remove, t->tagme_id);
        if (rc == 0)
            rc = update(t, kind, id, &ctl_add, "ADD");
        if (rc == 0)
            rc = update(t, kind, id, &ctl_remove, "REMOVE");
        aitag_log(AITAG_LOG_WARN, "plugin", "%s %s failed: %.300s",
                  kind == AITAG_STASH_SCENE ? "scene" : "image", id, error ? error : "error");
        goto out;
    }
    for (size_t i = 0; i < res->n_tags && rc == 0; i++) {
        const char *tag_id, *name;
        rc = plugin_tags_resolve(t, res->tags[i].name, &tag_id, &name);
        if (rc == 0 && tag_id && res->tags[i].parent)
            rc = plugin_tags_set_category(t, tag_id, name, res->tags[i].parent);
        if (rc == 0 && tag_id && !has_tag(&it, tag_id))
            rc = list_push(&add, tag_id);
        if (rc == 0 && tag_id)
            rc = list_push(&desired, tag_id);
    }
    for (size_t i = 0; i < it.n_tags && rc == 0; i++) {
        int want = 0;
        for (size_t k = 0; k < desired.n; k++)
            want |= strcmp(desired.v[k], it.tag_ids[i]) == 0;
        if (!want && plugin_tags_is_generated(t, it.tag_ids[i]))
            rc = list_push(&remove, it.tag_ids[i]);
    }
    if (rc == 0 && (rc = update(t, kind, id, &add, "ADD")) == 0)
        out->tags_added = (int)add.n;
    if (rc == 0 && kind == AITAG_STASH_SCENE)
        rc = sync_markers(t, &it, res, out);
    if (rc == 0 && out->markers_created > 0)
        rc = verify_markers(t, kind, id, res, out);
    if (rc == 0 && (rc = update(t, kind, id, &remove, "REMOVE")) == 0)
        out->tags_removed = (int)remove.n;
    if (rc == 0 && !has_tag(&it, t->tagged_id))
        rc = list_push(&ctl_add, t->tagged_id);
    if (rc == 0 && has_tag(&it, t->tagme_id))
        rc = list_push(&ctl_remove, t->tagme_id);
    if (rc == 0 && has_tag(&it, t->errored_id))
        rc = list_push(&ctl_remove, t->errored_id);
    if (rc == 0)
        rc = update(t, kind, id, &ctl_add, "ADD");
    if (rc == 0)
        rc = update(t, kind, id, &ctl_remove, "REMOVE");
out:
    free(desired.v);
    free(add.v);
    free(remove.v);
    free(ctl_add.v);
    free(ctl_remove.v);
    aitag_stash_item_clear(&it);
    return rc;
}
