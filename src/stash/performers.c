/*
 * performers.c - Stash performers: finding one by name, creating one, listing those with an
 * image, downloading an image, and putting a performer on scenes and images.
 *
 * Names are matched as Stash itself matches them when it refuses a duplicate: EQUALS, which is
 * SQL LIKE, so case-insensitive for ASCII letters with '_' and '%' as wildcards. LIKE narrows
 * the candidates; the client then compares trimmed names and aliases ignoring ASCII case, so a
 * wildcard in a name never matches another performer. Names are searched first, then aliases.
 *
 * performerCreate is not idempotent. When its answer is lost (timeout after connecting,
 * dropped connection) or Stash refuses the name as taken, the name is looked up again: a
 * performer found then is the one our attempt (or a concurrent one) made, so the caller never
 * creates a second. The image goes in as a base64 data URL (Stash decodes it itself).
 *
 * Performers go onto items through bulkSceneUpdate / bulkImageUpdate with performer_ids
 * {mode: ADD}, never SET: the performers a user put on an item are out of reach. Image
 * downloads are sent to this client's own Stash address with its credentials, whatever host
 * the image_path names (Stash builds it from the Host header it was reached by), so the
 * credentials never go anywhere else.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stash_int.h"

#define PERFORMERS_PER_PAGE 100
#define PATHS_PER_PAGE 100
#define IMAGE_MAX (32u << 20) /* a performer image larger than this is refused */

void aitag_stash_performer_clear(struct aitag_stash_performer *p)
{
    if (!p)
        return;
    free(p->id);
    free(p->name);
    free(p->disambiguation);
    free(p->image_path);
    for (size_t i = 0; i < p->n_aliases; i++)
        free(p->aliases[i]);
    free(p->aliases);
    memset(p, 0, sizeof *p);
}

/* Compares a and b ignoring surrounding white space and ASCII case (Stash's LIKE folds only
 * ASCII letters). */
static int same_name(const char *a, const char *b)
{
    size_t la, lb;

    if (!a || !b)
        return 0;
    while (isspace((unsigned char)*a))
        a++;
    while (isspace((unsigned char)*b))
        b++;
    la = strlen(a);
    lb = strlen(b);
    while (la > 0 && isspace((unsigned char)a[la - 1]))
        la--;
    while (lb > 0 && isspace((unsigned char)b[lb - 1]))
        lb--;
    if (la != lb)
        return 0;
    for (size_t i = 0; i < la; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x < 0x80 && y < 0x80 ? tolower(x) != tolower(y) : x != y)
            return 0;
    }
    return 1;
}

static int from_json(struct aitag_stash *s, json_t *o, struct aitag_stash_performer *p)
{
    const char *id = stash_json_str(o, "id"), *name = stash_json_str(o, "name");
    const char *dis = stash_json_str(o, "disambiguation"), *img = stash_json_str(o, "image_path");
    json_t *aliases = json_object_get(o, "alias_list"), *a;
    size_t i;

    memset(p, 0, sizeof *p);
    if (!id || !name)
        return stash_fail(s, AITAG_ERR_NET, "findPerformers", "a performer without id or name");
    p->id = stash_strdup(id);
    p->name = stash_strdup(name);
    p->disambiguation = dis && *dis ? stash_strdup(dis) : NULL;
    p->image_path = img ? stash_strdup(img) : NULL;
    p->has_image = img && !strstr(img, "default=true");
    if (json_array_size(aliases))
        p->aliases = calloc(json_array_size(aliases), sizeof *p->aliases);
    if (!p->id || !p->name || (dis && *dis && !p->disambiguation) || (img && !p->image_path) ||
        (json_array_size(aliases) && !p->aliases))
        goto nomem;
    json_array_foreach(aliases, i, a)
    {
        if (!json_is_string(a))
            continue;
        p->aliases[p->n_aliases] = stash_strdup(json_string_value(a));
        if (!p->aliases[p->n_aliases++])
            goto nomem;
    }
    return 0;
nomem:
    aitag_stash_performer_clear(p);
    return stash_fail(s, AITAG_ERR_NOMEM, "findPerformers", "out of memory");
}

/* One page of findPerformers with filter (borrowed; stolen on return) into *data. */
static int performers_page(struct aitag_stash *s, json_t *filter, int page, json_t **list)
{
    json_t *vars, *data = NULL;
    int rc;

    *list = NULL;
    vars = json_pack("{s:o, s:{s:i, s:i, s:s, s:s}}", "performer_filter", filter, "filter", "page",
                     page, "per_page", PERFORMERS_PER_PAGE, "sort", "id", "direction", "ASC");
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "findPerformers", "out of memory");
    rc = stash_gql(s, stash_doc_find_performers, vars, 0, &data);
    json_decref(vars);
    if (rc < 0)
        return rc;
    *list = json_incref(json_object_get(json_object_get(data, "findPerformers"), "performers"));
    json_decref(data);
    if (!json_is_array(*list)) {
        json_decref(*list);
        *list = NULL;
        return stash_fail(s, AITAG_ERR_NET, "findPerformers", "no performers in the answer");
    }
    return 0;
}

static int matches(json_t *o, const char *field, const char *name)
{
    json_t *a;
    size_t i;

    if (strcmp(field, "name") == 0)
        return same_name(stash_json_str(o, "name"), name);
    json_array_foreach(json_object_get(o, "alias_list"), i, a)
    {
        if (same_name(json_string_value(a), name))
            return 1;
    }
    return 0;
}

/* Pages through the LIKE candidates of field and fills out with the first match. */
static int find_in(struct aitag_stash *s, const char *field, const char *name,
                   struct aitag_stash_performer *out)
{
    json_t *list = NULL, *o;
    size_t i;
    int rc, page;

    for (page = 1;; page++) {
        json_t *filter = json_pack("{s:{s:s, s:s}}", field, "value", name, "modifier", "EQUALS");
        if (!filter)
            return stash_fail(s, AITAG_ERR_NOMEM, "findPerformers", "out of memory");
        rc = performers_page(s, filter, page, &list);
        if (rc < 0)
            return rc;
        json_array_foreach(list, i, o)
        {
            if (matches(o, field, name)) {
                rc = from_json(s, o, out);
                json_decref(list);
                return rc;
            }
        }
        i = json_array_size(list);
        json_decref(list);
        if (i < PERFORMERS_PER_PAGE)
            return AITAG_ERR_NOTFOUND;
    }
}

/* A name as Stash stores it: trimmed. Writes into buf. */
static const char *trimmed(const char *name, char *buf, size_t len)
{
    size_t n;

    while (isspace((unsigned char)*name))
        name++;
    n = strlen(name);
    while (n > 0 && isspace((unsigned char)name[n - 1]))
        n--;
    if (n >= len)
        return NULL;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return buf;
}

int aitag_stash_find_performer(struct aitag_stash *s, const char *name,
                               struct aitag_stash_performer *out)
{
    char buf[1024];
    const char *n = name ? trimmed(name, buf, sizeof buf) : NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (!n || !*n)
        return stash_fail(s, AITAG_ERR_INVALID, "findPerformers", "empty or too long name");
    rc = find_in(s, "name", n, out);
    if (rc == AITAG_ERR_NOTFOUND)
        rc = find_in(s, "aliases", n, out);
    if (rc == AITAG_ERR_NOTFOUND)
        stash_fail(s, rc, "findPerformers", "no performer named '%s'", n);
    return rc;
}

int aitag_stash_get_performer(struct aitag_stash *s, const char *id,
                              struct aitag_stash_performer *out)
{
    json_t *vars, *data = NULL, *o;
    int rc;

    memset(out, 0, sizeof *out);
    if (!id || !*id)
        return stash_fail(s, AITAG_ERR_INVALID, "findPerformer", "no performer id");
    vars = json_pack("{s:s}", "id", id);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "findPerformer", "out of memory");
    rc = stash_gql(s, stash_doc_find_performer, vars, 0, &data);
    json_decref(vars);
    if (rc < 0)
        return rc;
    o = json_object_get(data, "findPerformer");
    if (json_is_object(o))
        rc = from_json(s, o, out);
    else
        rc = stash_fail(s, AITAG_ERR_NOTFOUND, "findPerformer", "no performer with id %s", id);
    json_decref(data);
    return rc;
}

/* "data:image/jpeg;base64,...", malloc'd. */
static char *data_url(const unsigned char *jpeg, size_t len)
{
    static const char prefix[] = "data:image/jpeg;base64,";
    char *url;

    if (len > IMAGE_MAX)
        return NULL;
    url = malloc(sizeof prefix - 1 + aitag_base64_encoded_size(len));
    if (!url)
        return NULL;
    memcpy(url, prefix, sizeof prefix - 1);
    aitag_base64_encode(jpeg, len, url + sizeof prefix - 1);
    return url;
}

int aitag_stash_create_performer(struct aitag_stash *s, const char *name, const unsigned char *jpeg,
                                 size_t len, char **id)
{
    struct aitag_stash_performer found;
    json_t *vars = NULL, *data = NULL;
    char saved[sizeof s->errmsg], buf[1024], *image = NULL;
    const char *n = name ? trimmed(name, buf, sizeof buf) : NULL, *got;
    int rc;

    *id = NULL;
    if (!n || !*n)
        return stash_fail(s, AITAG_ERR_INVALID, "performerCreate", "empty or too long name");
    if (jpeg && len > 0 && !(image = data_url(jpeg, len)))
        return stash_fail(s, AITAG_ERR_NOMEM, "performerCreate", "image too large to send");
    vars = image ? json_pack("{s:{s:s, s:s}}", "input", "name", n, "image", image)
                 : json_pack("{s:{s:s}}", "input", "name", n);
    free(image);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "performerCreate", "out of memory");
    rc = stash_gql(s, stash_doc_performer_create, vars, STASH_NOT_IDEMPOTENT, &data);
    json_decref(vars);
    if (rc == 0) {
        got = stash_json_str(json_object_get(data, "performerCreate"), "id");
        *id = got ? stash_strdup(got) : NULL;
        json_decref(data);
        if (!*id)
            return stash_fail(s, got ? AITAG_ERR_NOMEM : AITAG_ERR_NET, "performerCreate",
                              got ? "out of memory" : "no performer id in the answer");
        aitag_log(AITAG_LOG_DEBUG, "stash", "event=performer_created id=%s", *id);
        return 0;
    }
    if (rc != AITAG_ERR_NET)
        return rc;
    /* Lost answer, or the name is taken (by our lost attempt or by someone else): look. */
    memcpy(saved, s->errmsg, sizeof saved);
    if (aitag_stash_find_performer(s, n, &found) == 0) {
        *id = found.id;
        found.id = NULL;
        aitag_stash_performer_clear(&found);
        s->errmsg[0] = '\0';
        return 0;
    }
    memcpy(s->errmsg, saved, sizeof saved);
    return rc;
}

int aitag_stash_each_performer_with_image(
    struct aitag_stash *s, int (*fn)(void *ctx, const struct aitag_stash_performer *p), void *ctx)
{
    json_t *list = NULL, *o;
    struct aitag_stash_performer p;
    long long last = 0, id;
    size_t i, n;
    char *end;
    int rc = 0, page;

    for (page = 1;; page++) {
        json_t *filter = json_pack("{s:{s:s}}", "NOT", "is_missing", "image");
        if (!filter)
            return stash_fail(s, AITAG_ERR_NOMEM, "findPerformers", "out of memory");
        rc = performers_page(s, filter, page, &list);
        if (rc < 0)
            return rc;
        json_array_foreach(list, i, o)
        {
            rc = from_json(s, o, &p);
            if (rc == 0) {
                /* Pages are sorted by id: a Stash that ignores the page number would otherwise
                 * be paged through forever. */
                errno = 0;
                id = strtoll(p.id, &end, 10);
                if (errno || *end || id <= last)
                    rc = stash_fail(s, AITAG_ERR_NET, "findPerformers",
                                    "performer id %.40s out of order after %lld", p.id, last);
                last = id;
            }
            if (rc == 0 && p.has_image)
                rc = fn(ctx, &p);
            aitag_stash_performer_clear(&p);
            if (rc != 0) {
                json_decref(list);
                return rc > 0 ? 0 : rc;
            }
        }
        n = json_array_size(list);
        json_decref(list);
        if (n < PERFORMERS_PER_PAGE)
            return 0;
    }
}

int aitag_stash_download(struct aitag_stash *s, const char *url, unsigned char **data, size_t *len)
{
    const char *path;
    char *full = NULL;
    long status = 0;
    int rc;

    *data = NULL;
    *len = 0;
    if (!url || !*url)
        return stash_fail(s, AITAG_ERR_INVALID, "download", "no URL");
    /* Only the path and query are taken from url: the request goes to this client's Stash. */
    path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : url;
    if (!path || *path != '/')
        return stash_fail(s, AITAG_ERR_INVALID, "download", "not a URL of Stash: %.200s", url);
    full = malloc(strlen(s->base_url) + strlen(path) + 1);
    if (!full)
        return stash_fail(s, AITAG_ERR_NOMEM, "download", "out of memory");
    memcpy(full, s->base_url, strlen(s->base_url));
    memcpy(full + strlen(s->base_url), path, strlen(path) + 1);
    rc = stash_auth_send(s, "download", full, NULL, 0, &status);
    if (rc < 0)
        goto out;
    if (status != 200) {
        rc = stash_fail(s, status == 404 ? AITAG_ERR_NOTFOUND : AITAG_ERR_NET, "download",
                        "HTTP %ld from %s", status, full);
        goto out;
    }
    if (s->body.len > IMAGE_MAX) {
        rc = stash_fail(s, AITAG_ERR_INVALID, "download", "%s is too large", full);
        goto out;
    }
    *data = malloc(s->body.len ? s->body.len : 1);
    if (!*data) {
        rc = stash_fail(s, AITAG_ERR_NOMEM, "download", "out of memory");
        goto out;
    }
    if (s->body.len) /* an empty answer has no buffer at all */
        memcpy(*data, s->body.data, s->body.len);
    *len = s->body.len;
    rc = 0;
out:
    free(full);
    return rc;
}

/* Whether an item object (scene: files, image: visual_files) has a file at path. */
static int item_has_path(json_t *o, const char *path)
{
    json_t *files = json_object_get(o, "files"), *f;
    size_t i;

    if (!files)
        files = json_object_get(o, "visual_files");
    json_array_foreach(files, i, f)
    {
        const char *p = stash_json_str(f, "path");
        if (p && strcmp(p, path) == 0)
            return 1;
    }
    return 0;
}

int aitag_stash_find_item_by_path(struct aitag_stash *s, enum aitag_stash_kind kind,
                                  const char *path, char **id)
{
    const int scene = kind == AITAG_STASH_SCENE;
    const char *op = scene ? "findScenes" : "findImages";
    json_t *vars = NULL, *data = NULL, *list, *o;
    size_t i, n;
    int rc, page;

    *id = NULL;
    if (!path || !*path)
        return stash_fail(s, AITAG_ERR_INVALID, op, "no path");
    for (page = 1;; page++) {
        vars = json_pack("{s:{s:{s:s, s:s}}, s:{s:i, s:i, s:s, s:s}}",
                         scene ? "scene_filter" : "image_filter", "path", "value", path, "modifier",
                         "EQUALS", "filter", "page", page, "per_page", PATHS_PER_PAGE, "sort", "id",
                         "direction", "ASC");
        if (!vars)
            return stash_fail(s, AITAG_ERR_NOMEM, op, "out of memory");
        rc = stash_gql(s, scene ? stash_doc_find_scenes_by_path : stash_doc_find_images_by_path,
                       vars, 0, &data);
        json_decref(vars);
        if (rc < 0)
            return rc;
        list = json_object_get(json_object_get(data, op), scene ? "scenes" : "images");
        n = json_array_size(list);
        json_array_foreach(list, i, o)
        {
            const char *got = stash_json_str(o, "id");
            if (got && item_has_path(o, path)) {
                *id = stash_strdup(got);
                json_decref(data);
                return *id ? 0 : stash_fail(s, AITAG_ERR_NOMEM, op, "out of memory");
            }
        }
        json_decref(data);
        data = NULL;
        if (n < PATHS_PER_PAGE)
            return AITAG_ERR_NOTFOUND;
    }
}

int aitag_stash_item_has_performer(struct aitag_stash *s, enum aitag_stash_kind kind,
                                   const char *item_id, const char *performer_id)
{
    const int scene = kind == AITAG_STASH_SCENE;
    const char *op = scene ? "findScene" : "findImage";
    json_t *vars, *data = NULL, *item, *p;
    size_t i;
    int rc;

    if (!item_id || !performer_id)
        return stash_fail(s, AITAG_ERR_INVALID, op, "no item or performer id");
    vars = json_pack("{s:s}", "id", item_id);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, op, "out of memory");
    rc = stash_gql(s, scene ? stash_doc_scene_performers : stash_doc_image_performers, vars, 0,
                   &data);
    json_decref(vars);
    if (rc < 0)
        return rc;
    item = json_object_get(data, op);
    if (!json_is_object(item)) {
        json_decref(data);
        return stash_fail(s, AITAG_ERR_NOTFOUND, op, "no %s with id %s", scene ? "scene" : "image",
                          item_id);
    }
    rc = 0;
    json_array_foreach(json_object_get(item, "performers"), i, p)
    {
        const char *pid = stash_json_str(p, "id");
        if (pid && strcmp(pid, performer_id) == 0)
            rc = 1;
    }
    json_decref(data);
    return rc;
}

int aitag_stash_add_performer(struct aitag_stash *s, enum aitag_stash_kind kind,
                              const char *item_id, const char *performer_id)
{
    const int scene = kind == AITAG_STASH_SCENE;
    json_t *vars, *data = NULL;
    int rc;

    if (!item_id || !performer_id)
        return stash_fail(s, AITAG_ERR_INVALID, scene ? "bulkSceneUpdate" : "bulkImageUpdate",
                          "no item or performer id");
    vars = json_pack("{s:{s:[s], s:{s:[s], s:s}}}", "input", "ids", item_id, "performer_ids", "ids",
                     performer_id, "mode", "ADD");
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, scene ? "bulkSceneUpdate" : "bulkImageUpdate",
                          "out of memory");
    /* ADD is idempotent: resending after a lost answer is harmless. */
    rc = stash_gql(s, scene ? stash_doc_bulk_scene_update : stash_doc_bulk_image_update, vars, 0,
                   &data);
    json_decref(vars);
    json_decref(data);
    return rc;
}
