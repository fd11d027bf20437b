/*
 * writes.c - the only calls that change Stash: item tags and scene markers.
 *
 * Tags go through bulkSceneUpdate / bulkImageUpdate with tag_ids {ids, mode: ADD|REMOVE}, never
 * SET and never sceneUpdate (whose tag_ids replaces the whole set): tags the user put on an item
 * are out of reach by construction. ADD and REMOVE are idempotent, so they are retried freely.
 *
 * Creating a marker is not idempotent. When a create may have reached Stash but its answer was
 * lost (a timeout after connecting, a dropped connection), the scene's markers are read back
 * and a marker with the same title, start, end and primary tag counts as the one we sent;
 * only when none is there is the create sent again. Destroying is resent after such a loss,
 * and a "not found" answer to the resend means the lost attempt did it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stash_int.h"

#define IDS_PER_UPDATE 500

int aitag_stash_update_tags(struct aitag_stash *s, enum aitag_stash_kind kind,
                            const char *const *item_ids, size_t n_items, const char *const *tag_ids,
                            size_t n_tags, const char *mode)
{
    const char *field = kind == AITAG_STASH_SCENE ? "bulkSceneUpdate" : "bulkImageUpdate";
    const char *doc =
        kind == AITAG_STASH_SCENE ? stash_doc_bulk_scene_update : stash_doc_bulk_image_update;
    json_t *vars = NULL, *data = NULL, *items = NULL, *tags = NULL;
    size_t i, start;
    int rc = 0;

    if (!mode || (strcmp(mode, "ADD") != 0 && strcmp(mode, "REMOVE") != 0))
        return stash_fail(s, AITAG_ERR_INVALID, field, "mode must be ADD or REMOVE, not %s",
                          mode ? mode : "(null)");
    if (n_items == 0 || n_tags == 0)
        return 0;
    tags = json_array();
    if (!tags)
        goto nomem;
    for (i = 0; i < n_tags; i++) {
        if (!tag_ids[i] || json_array_append_new(tags, json_string(tag_ids[i])) < 0)
            goto bad;
    }
    for (start = 0; start < n_items; start += IDS_PER_UPDATE) {
        items = json_array();
        if (!items)
            goto nomem;
        for (i = start; i < n_items && i < start + IDS_PER_UPDATE; i++) {
            if (!item_ids[i] || json_array_append_new(items, json_string(item_ids[i])) < 0)
                goto bad;
        }
        vars = json_pack("{s:{s:o, s:{s:O, s:s}}}", "input", "ids", items, "tag_ids", "ids", tags,
                         "mode", mode);
        items = NULL; /* stolen by json_pack, even on failure */
        if (!vars)
            goto nomem;
        rc = stash_gql(s, doc, vars, 0, &data);
        json_decref(vars);
        vars = NULL;
        json_decref(data);
        data = NULL;
        if (rc < 0)
            goto out;
    }
    goto out;
bad:
    rc = stash_fail(s, AITAG_ERR_INVALID, field, "a NULL or unencodable id");
    goto out;
nomem:
    rc = stash_fail(s, AITAG_ERR_NOMEM, field, "out of memory");
out:
    json_decref(items);
    json_decref(tags);
    return rc;
}

/* After an ambiguous failure: is the marker we sent already on the scene? */
static int find_landed_marker(struct aitag_stash *s, const char *scene_id, const char *title,
                              double seconds, double end_seconds, const char *primary_tag_id,
                              char **id)
{
    struct aitag_stash_item it;
    const struct aitag_stash_marker *m;
    size_t i;
    int rc;

    *id = NULL;
    rc = aitag_stash_get_item(s, AITAG_STASH_SCENE, scene_id, &it);
    if (rc < 0)
        return rc;
    rc = AITAG_ERR_NOTFOUND;
    for (i = 0; i < it.n_markers; i++) {
        m = &it.markers[i];
        if (!m->id || !m->title || strcmp(m->title, title) != 0 || !m->primary_tag_id ||
            strcmp(m->primary_tag_id, primary_tag_id) != 0 || fabs(m->seconds - seconds) > 5e-4)
            continue;
        if (end_seconds >= 0 && (m->end_seconds < 0 || fabs(m->end_seconds - end_seconds) > 5e-4))
            continue;
        *id = stash_strdup(m->id);
        rc = *id ? 0 : AITAG_ERR_NOMEM;
        break;
    }
    aitag_stash_item_clear(&it);
    return rc;
}

int aitag_stash_create_marker(struct aitag_stash *s, const char *scene_id, const char *title,
                              double seconds, double end_seconds, const char *primary_tag_id,
                              char **id)
{
    json_t *vars = NULL, *data = NULL;
    char *mid = NULL;
    const char *got;
    char saved[sizeof s->errmsg];
    int rc, attempt;

    if (id)
        *id = NULL;
    if (!scene_id || !primary_tag_id || !isfinite(seconds) || seconds < 0 ||
        (end_seconds >= 0 && end_seconds < seconds))
        return stash_fail(s, AITAG_ERR_INVALID, "sceneMarkerCreate",
                          "bad marker (scene, primary tag, seconds %g, end %g)", seconds,
                          end_seconds);
    if (!title)
        title = "";
    rc = stash_version_load(s);
    if (rc < 0)
        return rc;
    if (!s->has_end)
        end_seconds = -1;
    vars = json_pack("{s:{s:s, s:s, s:f, s:s}}", "input", "scene_id", scene_id, "title", title,
                     "seconds", seconds, "primary_tag_id", primary_tag_id);
    if (vars && end_seconds >= 0 &&
        json_object_set_new(json_object_get(vars, "input"), "end_seconds", json_real(end_seconds)) <
            0) {
        json_decref(vars);
        vars = NULL;
    }
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "sceneMarkerCreate", "out of memory");

    for (attempt = 0;; attempt++) {
        rc = stash_gql(s, stash_doc_marker_create, vars, STASH_NOT_IDEMPOTENT, &data);
        if (rc == 0 || !s->ambiguous)
            break;
        /* The create may have landed: look before sending it again. */
        memcpy(saved, s->errmsg, sizeof saved);
        if (find_landed_marker(s, scene_id, title, seconds, end_seconds, primary_tag_id, &mid) ==
            0) {
            rc = 0;
            break;
        }
        memcpy(s->errmsg, saved, sizeof saved);
        if (attempt >= s->p.retries)
            goto out;
        aitag_log(AITAG_LOG_DEBUG, "stash", "event=retry op=sceneMarkerCreate attempt=%d",
                  attempt + 1);
        stash_backoff(s, attempt);
    }
    if (rc < 0)
        goto out;
    if (!mid) {
        got = stash_json_str(json_object_get(data, "sceneMarkerCreate"), "id");
        if (!got) {
            rc = stash_fail(s, AITAG_ERR_NET, "sceneMarkerCreate", "no marker id in the answer");
            goto out;
        }
        mid = stash_strdup(got);
        if (!mid) {
            rc = stash_fail(s, AITAG_ERR_NOMEM, "sceneMarkerCreate", "out of memory");
            goto out;
        }
    }
    if (id) {
        *id = mid;
        mid = NULL;
    }
out:
    free(mid);
    json_decref(data);
    json_decref(vars);
    return rc;
}

int aitag_stash_destroy_marker(struct aitag_stash *s, const char *marker_id)
{
    json_t *vars, *data = NULL;
    int rc, attempt, lost = 0;

    if (!marker_id || !*marker_id)
        return stash_fail(s, AITAG_ERR_INVALID, "sceneMarkerDestroy", "no marker id");
    vars = json_pack("{s:s}", "id", marker_id);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "sceneMarkerDestroy", "out of memory");
    for (attempt = 0;; attempt++) {
        rc = stash_gql(s, stash_doc_marker_destroy, vars, STASH_NOT_IDEMPOTENT, &data);
        if (rc == AITAG_ERR_NET && lost && !s->ambiguous && strstr(s->errmsg, "not found")) {
            rc = 0; /* the attempt whose answer was lost did it */
            s->errmsg[0] = '\0';
        }
        if (rc == 0 || !s->ambiguous || attempt >= s->p.retries)
            break;
        lost = 1;
        stash_backoff(s, attempt);
    }
    json_decref(data);
    json_decref(vars);
    return rc;
}
