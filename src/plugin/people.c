/*
 * people.c - the catalog's named people become Stash performers, put on the scenes and images
 * they appear in.
 *
 * For each named, non-ignored person: the performer linked earlier (stash_performers in the
 * catalog); else a performer Stash already has under that name or alias, which is linked and
 * left exactly as it is; else, only when creating is allowed (the "Sync people to performers"
 * task, or the createPerformers setting), a new performer with the person's name and best face
 * crop as its image. The performer is then added (performer_ids ADD, never SET) to the Stash
 * item of every file the person's faces are in, found by its path as Stash sees it (the
 * plugin's pathMappings read backwards).
 *
 * The catalog remembers each item aitag added the performer to. An item recorded 'added' that
 * no longer carries the performer was changed by the user: it becomes 'removed' and is never
 * added back. Nothing on a performer is ever updated: name, image, details and the rest stay
 * the user's.
 *
 * Kill safety and idempotence: every step is recorded only after Stash has it, and every
 * step first looks at what Stash has. A kill between performerCreate and recording the link
 * is completed by the next run, which finds the performer by name (no second one); a kill
 * between adding to an item and recording it is completed by reading the item's performers
 * (already there: recorded, not sent again). A performer linked earlier and since deleted in
 * Stash is forgotten (link and item records) and the person handled as never synced.
 */
#include <stdlib.h>
#include <string.h>

#include "aitag/catalog.h"
#include "plugin_int.h"

#define MAX_FAILURES_IN_ROW 3

struct people_sync {
    struct aitag_stash *stash;
    struct aitag_catalog *cat;
    char *unmap; /* pathMappings reversed: local prefix => Stash prefix */
    int allow_create;
    struct plugin_people_counts *n;
};

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* The person's best face as a JPEG; NULL (with a warning) when it cannot be cut. */
static unsigned char *face_jpeg(struct people_sync *ps, const struct aitag_named_person *person,
                                size_t *len)
{
    struct aitag_person_face f;
    unsigned char *jpeg = NULL;
    char err[512];
    int rc;

    *len = 0;
    rc = aitag_catalog_person_best_face(ps->cat, person->id, &f);
    if (rc < 0) {
        aitag_log(AITAG_LOG_WARN, "plugin", "person %lld (%s): no face to use as the image%s%s",
                  (long long)person->id, person->name, rc == AITAG_ERR_NOTFOUND ? "" : ": ",
                  rc == AITAG_ERR_NOTFOUND ? "" : aitag_catalog_errmsg(ps->cat));
        return NULL;
    }
    {
        /* The face with room around it, a little taller than wide, as portraits are framed. */
        double x0 = clamp01(f.x - f.w * 0.4), x1 = clamp01(f.x + f.w * 1.4);
        double y0 = clamp01(f.y - f.h * 0.45), y1 = clamp01(f.y + f.h * 1.55);
        rc = aitag_media_crop_jpeg(f.path, f.is_image ? 0 : f.t, (float)x0, (float)y0,
                                   (float)(x1 - x0), (float)(y1 - y0), &jpeg, len, err, sizeof err);
    }
    if (rc < 0)
        aitag_log(AITAG_LOG_WARN, "plugin", "person %lld (%s): performer image left empty: %s",
                  (long long)person->id, person->name, err);
    aitag_catalog_person_face_clear(&f);
    return rc < 0 ? NULL : jpeg;
}

/* Fills *performer_id for the person: linked, found by name, or created. 0 with NULL when
 * creating is not allowed; < 0 on a Stash or catalog error. */
static int performer_for(struct people_sync *ps, const struct aitag_named_person *person,
                         char **performer_id)
{
    struct aitag_stash_performer p;
    unsigned char *jpeg = NULL;
    size_t len = 0;
    int rc, created = 0;

    *performer_id = NULL;
    rc = aitag_catalog_stash_performer(ps->cat, person->id, performer_id, NULL);
    if (rc == 0) {
        rc = aitag_stash_get_performer(ps->stash, *performer_id, &p);
        aitag_stash_performer_clear(&p);
        if (rc == 0) {
            ps->n->linked++;
            return 0;
        }
        if (rc != AITAG_ERR_NOTFOUND)
            return rc;
        aitag_log(AITAG_LOG_INFO, "plugin", "performer %s of person %lld (%s) is gone from Stash",
                  *performer_id, (long long)person->id, person->name);
        free(*performer_id);
        *performer_id = NULL;
        if (aitag_catalog_stash_unlink(ps->cat, person->id) < 0)
            return AITAG_ERR_DB;
    } else if (rc != AITAG_ERR_NOTFOUND) {
        return rc;
    }
    rc = aitag_stash_find_performer(ps->stash, person->name, &p);
    if (rc == 0) {
        *performer_id = p.id;
        p.id = NULL;
        aitag_stash_performer_clear(&p);
        ps->n->found++;
        aitag_log(AITAG_LOG_INFO, "plugin", "person %lld (%s): using Stash performer %s",
                  (long long)person->id, person->name, *performer_id);
    } else if (rc != AITAG_ERR_NOTFOUND) {
        return rc;
    } else if (!ps->allow_create) {
        ps->n->not_created++;
        return 0;
    } else {
        jpeg = face_jpeg(ps, person, &len);
        rc = aitag_stash_create_performer(ps->stash, person->name, jpeg, len, performer_id);
        free(jpeg);
        if (rc < 0)
            return rc;
        created = 1;
        ps->n->created++;
        if (len == 0)
            ps->n->created_without_image++;
        aitag_log(AITAG_LOG_INFO, "plugin", "person %lld (%s): created Stash performer %s%s",
                  (long long)person->id, person->name, *performer_id, len ? "" : " (no image)");
    }
    if (aitag_catalog_stash_link(ps->cat, person->id, *performer_id, created) < 0)
        return AITAG_ERR_DB;
    return 0;
}

/* Puts the performer on the Stash item of one catalog path. */
static int sync_path(struct people_sync *ps, const struct aitag_named_person *person,
                     const char *performer_id, const char *local, int is_image)
{
    enum aitag_stash_kind kind = is_image ? AITAG_STASH_IMAGE : AITAG_STASH_SCENE;
    char path[4096], state[16];
    char *item = NULL;
    const char *kname;
    int rc, has;

    if (aitag_map_path(ps->unmap, local, path, sizeof path) < 0)
        return 0;
    rc = aitag_stash_find_item_by_path(ps->stash, kind, path, &item);
    if (rc == AITAG_ERR_NOTFOUND) { /* a video Stash keeps as an image clip, or the reverse */
        kind = is_image ? AITAG_STASH_SCENE : AITAG_STASH_IMAGE;
        rc = aitag_stash_find_item_by_path(ps->stash, kind, path, &item);
    }
    if (rc == AITAG_ERR_NOTFOUND) {
        ps->n->not_in_stash++;
        aitag_log(AITAG_LOG_DEBUG, "plugin", "%s: not in Stash%s", path,
                  *ps->unmap ? "" : " (Stash in Docker? see pathMappings)");
        return 0;
    }
    if (rc < 0)
        return rc;
    kname = kind == AITAG_STASH_SCENE ? "scene" : "image";
    rc = aitag_catalog_stash_item_state(ps->cat, person->id, kname, item, state);
    if (rc < 0 && rc != AITAG_ERR_NOTFOUND) {
        rc = AITAG_ERR_DB;
        goto out;
    }
    if (rc == 0 && strcmp(state, "removed") == 0) {
        ps->n->kept_off++;
        goto out;
    }
    has = aitag_stash_item_has_performer(ps->stash, kind, item, performer_id);
    if (has < 0) {
        rc = has == AITAG_ERR_NOTFOUND ? 0 : has;
        goto out;
    }
    if (rc == 0) { /* 'added' earlier */
        if (!has) {
            aitag_log(AITAG_LOG_INFO, "plugin",
                      "%s %s: performer %s was taken off by the user: not added again", kname, item,
                      performer_id);
            ps->n->taken_off++;
            rc = aitag_catalog_stash_set_item_state(ps->cat, person->id, kname, item, "removed");
        }
        goto out;
    }
    if (!has) {
        rc = aitag_stash_add_performer(ps->stash, kind, item, performer_id);
        if (rc < 0)
            goto out;
        ps->n->added++;
    }
    rc = aitag_catalog_stash_set_item_state(ps->cat, person->id, kname, item, "added");
out:
    free(item);
    return rc;
}

int plugin_people_sync(struct aitag_stash *s, const char *catalog_path, const char *path_mappings,
                       int allow_create, atomic_int *cancel, struct plugin_people_counts *counts,
                       char *err, size_t errlen)
{
    struct people_sync ps = {s, NULL, NULL, allow_create, counts};
    struct aitag_named_person *people = NULL;
    size_t n = 0;
    int rc;

    memset(counts, 0, sizeof *counts);
    rc = aitag_catalog_open(catalog_path, 0, &ps.cat, err, errlen);
    if (rc < 0)
        return rc;
    ps.unmap = aitag_map_reverse(path_mappings ? path_mappings : "");
    rc = ps.unmap ? aitag_catalog_named_people(ps.cat, &people, &n) : AITAG_ERR_NOMEM;
    if (rc < 0) {
        aitag_fmt(err, errlen, "%s: %s", catalog_path,
                  ps.unmap ? aitag_catalog_errmsg(ps.cat) : "out of memory");
        goto out;
    }
    counts->named = (int)n;
    /* One person's failure (a name Stash refuses) does not stop the others; the catalog
     * failing, or Stash failing for several people in a row, does. */
    for (size_t i = 0, in_row = 0; i < n; i++) {
        char *performer = NULL;
        if (cancel && atomic_load(cancel)) {
            rc = AITAG_ERR_CANCELED;
            aitag_fmt(err, errlen, "stopped on request");
            break;
        }
        rc = performer_for(&ps, &people[i], &performer);
        for (size_t k = 0; rc == 0 && performer && k < people[i].n_paths; k++)
            rc = sync_path(&ps, &people[i], performer, people[i].paths[k], people[i].is_image[k]);
        free(performer);
        if (rc == 0) {
            in_row = 0;
            continue;
        }
        if (rc == AITAG_ERR_DB || rc == AITAG_ERR_NOMEM) {
            aitag_fmt(err, errlen, "%s: %s", catalog_path,
                      rc == AITAG_ERR_DB ? aitag_catalog_errmsg(ps.cat) : "out of memory");
            break;
        }
        aitag_fmt(err, errlen, "person %lld (%s): Stash: %s", (long long)people[i].id,
                  people[i].name, aitag_stash_errmsg(s));
        aitag_log(AITAG_LOG_ERROR, "plugin", "%s", err);
        counts->failed++;
        if (++in_row >= MAX_FAILURES_IN_ROW)
            break;
        rc = 0;
    }
out:
    aitag_catalog_named_people_free(people, n);
    free(ps.unmap);
    aitag_catalog_close(ps.cat);
    return rc;
}
