/*
 * items.c - reading scenes and images: one by id, or a whole selection page by page.
 *
 * A selection ("scenes tagged AI_TagMe") shrinks while it is processed, because processing
 * removes the tag. Page numbers would then skip items: page 2 after page 1 lost its 100 items
 * is what used to be page 3. So pages are keyed by id instead: always page 1, sorted by id
 * ascending, with id GREATER_THAN the last id seen. Items leaving or joining the selection
 * behind the cursor change nothing ahead of it, and each item is visited at most once.
 *
 * Tag criteria are HierarchicalMultiCriterionInput with INCLUDES / EXCLUDES (depth left out:
 * the tag itself, not its children). Both at once need two "tags" criteria, so the exclusion
 * goes in a nested AND filter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stash_int.h"

#define ITEMS_PER_PAGE 100

void aitag_stash_item_clear(struct aitag_stash_item *it)
{
    size_t i;

    if (!it)
        return;
    free(it->id);
    free(it->path);
    for (i = 0; i < it->n_tags; i++) {
        free(it->tag_ids[i]);
        free(it->tag_names[i]);
    }
    free(it->tag_ids);
    free(it->tag_names);
    for (i = 0; i < it->n_markers; i++) {
        free(it->markers[i].id);
        free(it->markers[i].title);
        free(it->markers[i].primary_tag_id);
        free(it->markers[i].primary_tag_name);
    }
    free(it->markers);
    memset(it, 0, sizeof *it);
}

/* strdup of a string member; "" stays "", absent stays NULL. *bad set on allocation failure. */
static char *dup_member(json_t *obj, const char *key, int *bad)
{
    const char *v = stash_json_str(obj, key);
    char *d;

    if (!v)
        return NULL;
    d = stash_strdup(v);
    if (!d)
        *bad = 1;
    return d;
}

static int markers_from_json(json_t *arr, struct aitag_stash_item *it, int *bad)
{
    struct aitag_stash_marker *m;
    json_t *o, *end;
    size_t i, n = json_array_size(arr);

    if (n == 0)
        return 0;
    it->markers = calloc(n, sizeof *it->markers);
    if (!it->markers)
        return AITAG_ERR_NOMEM;
    json_array_foreach(arr, i, o)
    {
        m = &it->markers[it->n_markers++];
        m->id = dup_member(o, "id", bad);
        m->title = dup_member(o, "title", bad);
        m->seconds = json_number_value(json_object_get(o, "seconds"));
        end = json_object_get(o, "end_seconds");
        m->end_seconds = json_is_number(end) ? json_number_value(end) : -1.0;
        m->primary_tag_id = dup_member(json_object_get(o, "primary_tag"), "id", bad);
        m->primary_tag_name = dup_member(json_object_get(o, "primary_tag"), "name", bad);
    }
    return 0;
}

int stash_item_from_json(enum aitag_stash_kind kind, json_t *obj, struct aitag_stash_item *it)
{
    json_t *files, *tags, *t;
    size_t i, n;
    int bad = 0, rc = 0;

    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->id = dup_member(obj, "id", &bad);
    if (!it->id && !bad)
        return AITAG_ERR_INVALID;
    files = json_object_get(obj, kind == AITAG_STASH_SCENE ? "files" : "visual_files");
    it->path = dup_member(json_array_get(files, 0), "path", &bad);
    tags = json_object_get(obj, "tags");
    n = json_array_size(tags);
    if (n) {
        it->tag_ids = calloc(n, sizeof *it->tag_ids);
        it->tag_names = calloc(n, sizeof *it->tag_names);
        if (!it->tag_ids || !it->tag_names) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        json_array_foreach(tags, i, t)
        {
            it->tag_ids[it->n_tags] = dup_member(t, "id", &bad);
            it->tag_names[it->n_tags] = dup_member(t, "name", &bad);
            it->n_tags++;
        }
    }
    if (kind == AITAG_STASH_SCENE)
        rc = markers_from_json(json_object_get(obj, "scene_markers"), it, &bad);
out:
    if (rc == 0 && bad)
        rc = AITAG_ERR_NOMEM;
    if (rc < 0)
        aitag_stash_item_clear(it);
    return rc;
}

int aitag_stash_get_item(struct aitag_stash *s, enum aitag_stash_kind kind, const char *id,
                         struct aitag_stash_item *out)
{
    const char *doc, *field = kind == AITAG_STASH_SCENE ? "findScene" : "findImage";
    json_t *vars = NULL, *data = NULL, *obj;
    int rc;

    memset(out, 0, sizeof *out);
    if (!id || !*id)
        return stash_fail(s, AITAG_ERR_INVALID, field, "no id");
    if (kind == AITAG_STASH_SCENE) {
        rc = stash_version_load(s);
        if (rc < 0)
            return rc;
        doc = s->has_end ? stash_doc_find_scene : stash_doc_find_scene_no_end;
    } else {
        doc = stash_doc_find_image;
    }
    vars = json_pack("{s:s}", "id", id);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, field, "out of memory");
    rc = stash_gql(s, doc, vars, 0, &data);
    if (rc < 0)
        goto out;
    obj = json_object_get(data, field);
    if (!json_is_object(obj)) {
        rc = stash_fail(s, AITAG_ERR_NOTFOUND, field, "no %s with id %s",
                        kind == AITAG_STASH_SCENE ? "scene" : "image", id);
        goto out;
    }
    rc = stash_item_from_json(kind, obj, out);
    if (rc < 0)
        stash_fail(s, rc, field, "unreadable answer");
out:
    json_decref(data);
    json_decref(vars);
    return rc;
}

static json_t *tag_criterion(const char *tag_id, const char *modifier)
{
    return json_pack("{s:[s], s:s}", "value", tag_id, "modifier", modifier);
}

/* The item filter for one page: id > last, plus the tag criteria. */
static json_t *page_filter(long long last, const char *with_tag_id, const char *without_tag_id)
{
    json_t *f =
        json_pack("{s:{s:I, s:s}}", "id", "value", (json_int_t)last, "modifier", "GREATER_THAN");
    json_t *excl;

    if (!f)
        return NULL;
    if (with_tag_id && json_object_set_new(f, "tags", tag_criterion(with_tag_id, "INCLUDES")))
        goto fail;
    if (without_tag_id) {
        excl = tag_criterion(without_tag_id, "EXCLUDES");
        if (with_tag_id)
            excl = excl ? json_pack("{s:o}", "tags", excl) : NULL;
        if (json_object_set_new(f, with_tag_id ? "AND" : "tags", excl))
            goto fail;
    }
    return f;
fail:
    json_decref(f);
    return NULL;
}

int aitag_stash_each_item(struct aitag_stash *s, enum aitag_stash_kind kind,
                          const char *with_tag_id, const char *without_tag_id,
                          int (*fn)(void *ctx, const struct aitag_stash_item *it), void *ctx)
{
    const int scene = kind == AITAG_STASH_SCENE;
    const char *field = scene ? "findScenes" : "findImages";
    json_t *vars = NULL, *data = NULL, *filter, *arr, *obj;
    struct aitag_stash_item it;
    long long last = 0, id;
    const char *doc;
    char *end;
    size_t i, n;
    int rc;

    if (!fn)
        return stash_fail(s, AITAG_ERR_INVALID, field, "no callback");
    if (scene) {
        rc = stash_version_load(s);
        if (rc < 0)
            return rc;
    }
    doc = !scene       ? stash_doc_find_images
          : s->has_end ? stash_doc_find_scenes
                       : stash_doc_find_scenes_no_end;
    for (;;) {
        filter = page_filter(last, with_tag_id, without_tag_id);
        vars = filter ? json_pack("{s:o, s:{s:i, s:i, s:s, s:s}}",
                                  scene ? "scene_filter" : "image_filter", filter, "filter", "page",
                                  1, "per_page", ITEMS_PER_PAGE, "sort", "id", "direction", "ASC")
                      : NULL;
        if (!vars) {
            rc = stash_fail(s, AITAG_ERR_NOMEM, field, "out of memory");
            goto out;
        }
        rc = stash_gql(s, doc, vars, 0, &data);
        json_decref(vars);
        vars = NULL;
        if (rc < 0)
            goto out;
        arr = json_object_get(json_object_get(data, field), scene ? "scenes" : "images");
        n = json_array_size(arr);
        json_array_foreach(arr, i, obj)
        {
            rc = stash_item_from_json(kind, obj, &it);
            if (rc < 0) {
                stash_fail(s, rc, field, "unreadable item in the answer");
                goto out;
            }
            errno = 0;
            id = strtoll(it.id, &end, 10);
            if (errno || *end || id <= last) {
                /* Not ascending numeric ids: paging by id would loop or skip. */
                rc = stash_fail(s, AITAG_ERR_NET, field, "item id %s out of order after %lld",
                                it.id, last);
                aitag_stash_item_clear(&it);
                goto out;
            }
            last = id;
            rc = fn(ctx, &it);
            aitag_stash_item_clear(&it);
            if (rc != 0) {
                rc = rc < 0 ? rc : 0;
                goto out;
            }
        }
        json_decref(data);
        data = NULL;
        if (n < ITEMS_PER_PAGE)
            break;
    }
    rc = 0;
out:
    json_decref(data);
    json_decref(vars);
    return rc;
}
