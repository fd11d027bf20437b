/*
 * people_api.c - the review app's people: the persons the clustering found, their faces, and
 * the user's edits (name, merge, split, ignore), through the same catalog calls as
 * `aitag people`, each re-deriving the media it touches with the server's policy.
 *
 *     GET  /api/people[?ignored=1]      {people: [{id, name, ignored, faces, cover}]}
 *     GET  /api/people/ID               {person, faces: [{id, item, name, t, box, quality,
 *                                        assigned}]}
 *     GET  /api/faces/ID/crop           the face as a JPEG (files.c)
 *     POST /api/people/ID               {action: name (name) | merge (ids: others into ID) |
 *                                        split (faces: into a new person) | ignore | unignore}
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_int.h"

#define MAX_IDS 1024

static json_t *person_json(const struct aitag_person *p)
{
    return json_pack("{s:I, s:s?, s:b, s:I, s:o}", "id", (json_int_t)p->id, "name", p->name,
                     "ignored", p->ignored, "faces", (json_int_t)p->n_faces, "cover",
                     p->has_cover ? json_integer(p->cover_face) : json_null());
}

static int on_person(void *ctx, const struct aitag_person *p)
{
    json_t *o = person_json(p);
    return !o || json_array_append_new(ctx, o) < 0;
}

static int on_one_person(void *ctx, const struct aitag_person *p)
{
    *(json_t **)ctx = person_json(p);
    return 1;
}

static int on_face(void *ctx, const struct aitag_face *f)
{
    json_t *o =
        json_pack("{s:I, s:I, s:s, s:f, s:[f,f,f,f], s:f, s:s}", "id", (json_int_t)f->id, "item",
                  (json_int_t)f->media_id, "name", web_base_name(f->path), "t", f->t, "box",
                  (double)f->box.x, (double)f->box.y, (double)f->box.w, (double)f->box.h, "quality",
                  (double)f->quality, "assigned", f->assigned ? f->assigned : "");
    return !o || json_array_append_new(ctx, o) < 0;
}

static enum MHD_Result list_people(struct aitag_web *w, struct MHD_Connection *conn)
{
    const char *ig = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "ignored");
    struct aitag_catalog *c = web_catalog_get(w);
    json_t *list = json_array();
    int rc = list ? aitag_catalog_each_person(c, ig && strcmp(ig, "1") == 0, on_person, list)
                  : AITAG_ERR_NOMEM;

    web_catalog_put(w, c);
    if (rc < 0) {
        json_decref(list);
        return web_send_error(conn, 500, "catalog error");
    }
    return web_send_json(conn, 200, json_pack("{s:o}", "people", list));
}

static enum MHD_Result get_person(struct aitag_web *w, struct MHD_Connection *conn, int64_t id)
{
    struct aitag_catalog *c = web_catalog_get(w);
    json_t *person = NULL, *faces = json_array();
    int rc = aitag_catalog_get_person(c, id, on_one_person, &person);

    if (rc == 0 && faces)
        rc = aitag_catalog_person_faces(c, id, on_face, faces);
    web_catalog_put(w, c);
    if (rc < 0 || !person || !faces) {
        json_decref(person);
        json_decref(faces);
        return rc == AITAG_ERR_NOTFOUND
                   ? web_send_error(conn, 404, "person %" PRId64 ": no such person", id)
                   : web_send_error(conn, 500, "catalog error");
    }
    return web_send_json(conn, 200, json_pack("{s:o, s:o}", "person", person, "faces", faces));
}

/* The ids of a JSON array of positive integers (at most MAX_IDS) into ids; the count, or -1. */
static long read_ids(json_t *a, int64_t *ids)
{
    size_t i;
    json_t *v;

    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_IDS)
        return -1;
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return -1;
        ids[i] = json_integer_value(v);
    }
    return (long)json_array_size(a);
}

static enum MHD_Result change_person(struct aitag_web *w, struct MHD_Connection *conn, int64_t id,
                                     const struct web_req *r)
{
    static const char *const actions[] = {"name", "merge", "split", "ignore", "unignore"};
    json_error_t jerr;
    json_t *body = r->body ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
    const char *action = json_string_value(json_object_get(body, "action"));
    int64_t *ids = NULL, new_id = 0;
    struct aitag_catalog *c;
    enum MHD_Result ok;
    char msg[600];
    long n = 0;
    int rc, k = 0;

    while (action && k < 5 && strcmp(action, actions[k]) != 0)
        k++;
    if (!json_is_object(body) || !action || k == 5) {
        json_decref(body);
        return web_send_error(conn, 400, "action: not name, merge, split, ignore or unignore");
    }
    if (!(ids = calloc(MAX_IDS + 1, sizeof *ids))) {
        json_decref(body);
        return MHD_NO;
    }
    ids[0] = id;
    if ((k == 1 && (n = read_ids(json_object_get(body, "ids"), ids + 1)) < 0) ||
        (k == 2 && (n = read_ids(json_object_get(body, "faces"), ids)) < 0) ||
        (k == 0 && !json_is_string(json_object_get(body, "name")))) {
        ok = web_send_error(conn, 400, "%s",
                            k == 0   ? "name: missing"
                            : k == 1 ? "ids: the people to merge into this one (positive ids)"
                                     : "faces: the face ids to take out (positive ids)");
        goto out;
    }
    c = web_catalog_get(w);
    switch (k) {
    case 0:
        rc = aitag_catalog_name_person(c, id, json_string_value(json_object_get(body, "name")),
                                       w->policy);
        break;
    case 1:
        rc = aitag_catalog_merge_people(c, ids, (size_t)n + 1, w->policy);
        break;
    case 2:
        rc = aitag_catalog_split_person(c, id, ids, (size_t)n, w->policy, &new_id);
        break;
    case 3:
        rc = aitag_catalog_ignore_person(c, id, w->policy);
        break;
    default:
        rc = aitag_catalog_unignore_person(c, id, w->policy);
        break;
    }
    aitag_fmt(msg, sizeof msg, "%s", aitag_catalog_errmsg(c));
    web_catalog_put(w, c);
    if (rc == AITAG_ERR_NOTFOUND)
        ok = web_send_error(conn, 404, "%s", msg);
    else if (rc == AITAG_ERR_INVALID)
        ok = web_send_error(conn, 400, "%s", msg);
    else if (rc < 0)
        ok = web_send_error(conn, 500, "catalog: %s", msg);
    else
        ok = web_send_json(conn, 200,
                           json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id, "action", actions[k],
                                     "new_id", new_id ? json_integer(new_id) : json_null()));
out:
    free(ids);
    json_decref(body);
    return ok;
}

enum MHD_Result web_people_api(struct aitag_web *w, struct MHD_Connection *conn, const char *method,
                               const char *url, const struct web_req *r, int *handled)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int64_t id = 0;
    int used = 0;

    *handled = 1;
    if (strcmp(url, "/api/people") == 0 && get)
        return list_people(w, conn);
    /* NOLINTNEXTLINE(cert-err34-c): an id out of range (glibc clamps) is just an unknown id */
    if (sscanf(url, "/api/people/%" SCNd64 "%n", &id, &used) == 1 && id > 0 && !url[used]) {
        if (get)
            return get_person(w, conn, id);
        if (strcmp(method, "POST") == 0)
            return change_person(w, conn, id, r);
    }
    /* NOLINTNEXTLINE(cert-err34-c): an id out of range (glibc clamps) is just an unknown id */
    if (sscanf(url, "/api/faces/%" SCNd64 "%n", &id, &used) == 1 && id > 0 &&
        strcmp(url + used, "/crop") == 0 && get)
        return web_face_crop(w, conn, id);
    *handled = 0;
    return MHD_NO;
}
