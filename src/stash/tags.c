/*
 * tags.c - finding a tag by its exact name, and creating it when absent.
 *
 * Stash's only name filter, modifier EQUALS, is SQL LIKE: case-insensitive, with '_' and '%'
 * as wildcards, so "a_c" also finds "abc" and "Face" finds "face". It cannot be escaped from
 * the outside, so it is used only to narrow the candidates: every page of them is read and the
 * name compared here, byte for byte. Names are searched first, then aliases (a tag the user
 * renamed keeps answering to its old name through an alias).
 *
 * tagCreate refuses a name that equals (again as LIKE) any tag's name or alias, and another
 * process may create the same tag between our look-up and our create. On a refusal the
 * look-up runs again; if Stash still holds no exact match, a match that differs only in letter
 * case is accepted, since Stash treats the two as one name and would refuse forever. Anything
 * else (a wildcard-only clash such as "a_c" against "abc") is reported with Stash's message.
 * Created tags get ignore_auto_tag, so Stash's auto-tagger never applies AI labels by file
 * name, and the parent (the "AI" tag) when given.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stash_int.h"

#define TAGS_PER_PAGE 100

static int same_name(const char *a, const char *b, int nocase)
{
    if (!a || !b)
        return 0;
    return nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* Whether tag t matches name in field ("name" or "aliases"). */
static int tag_matches(json_t *t, const char *field, const char *name, int nocase)
{
    json_t *aliases, *a;
    size_t i;

    if (strcmp(field, "name") == 0)
        return same_name(stash_json_str(t, "name"), name, nocase);
    aliases = json_object_get(t, "aliases");
    json_array_foreach(aliases, i, a)
    {
        if (same_name(json_string_value(a), name, nocase))
            return 1;
    }
    return 0;
}

/* Pages through the LIKE candidates of field and returns the first exact match. */
static int find_in(struct aitag_stash *s, const char *field, const char *name, int nocase,
                   char **id)
{
    json_t *vars = NULL, *data = NULL, *tags, *t;
    const char *tid;
    size_t i, n;
    int rc = 0, page;

    *id = NULL;
    for (page = 1;; page++) {
        vars = json_pack("{s:{s:{s:s, s:s}}, s:{s:i, s:i, s:s, s:s}}", "tag_filter", field, "value",
                         name, "modifier", "EQUALS", "filter", "page", page, "per_page",
                         TAGS_PER_PAGE, "sort", "id", "direction", "ASC");
        if (!vars)
            return stash_fail(s, AITAG_ERR_NOMEM, "findTags", "out of memory");
        rc = stash_gql(s, stash_doc_find_tags, vars, 0, &data);
        json_decref(vars);
        vars = NULL;
        if (rc < 0)
            return rc;
        tags = json_object_get(json_object_get(data, "findTags"), "tags");
        n = json_array_size(tags);
        json_array_foreach(tags, i, t)
        {
            if (!tag_matches(t, field, name, nocase))
                continue;
            tid = stash_json_str(t, "id");
            if (!tid) {
                rc = stash_fail(s, AITAG_ERR_NET, "findTags", "a tag without an id");
                goto out;
            }
            *id = stash_strdup(tid);
            rc = *id ? 0 : stash_fail(s, AITAG_ERR_NOMEM, "findTags", "out of memory");
            goto out;
        }
        json_decref(data);
        data = NULL;
        if (n < TAGS_PER_PAGE)
            break;
    }
    rc = AITAG_ERR_NOTFOUND;
out:
    json_decref(data);
    return rc;
}

static int find_exact(struct aitag_stash *s, const char *name, int nocase, char **id)
{
    int rc = find_in(s, "name", name, nocase, id);

    if (rc == AITAG_ERR_NOTFOUND)
        rc = find_in(s, "aliases", name, nocase, id);
    return rc;
}

int aitag_stash_find_tag(struct aitag_stash *s, const char *name, char **id)
{
    int rc;

    *id = NULL;
    if (!name || !*name)
        return stash_fail(s, AITAG_ERR_INVALID, "findTags", "empty tag name");
    rc = find_exact(s, name, 0, id);
    if (rc == AITAG_ERR_NOTFOUND)
        stash_fail(s, rc, "findTags", "no tag named '%s'", name);
    return rc;
}

int aitag_stash_ensure_tag(struct aitag_stash *s, const char *name, const char *parent_id,
                           char **id)
{
    json_t *vars = NULL, *data = NULL;
    char saved[sizeof s->errmsg];
    const char *tid;
    int rc, rc2;

    *id = NULL;
    if (!name || !*name)
        return stash_fail(s, AITAG_ERR_INVALID, "tagCreate", "empty tag name");
    rc = find_exact(s, name, 0, id);
    if (rc != AITAG_ERR_NOTFOUND)
        return rc;

    if (parent_id && *parent_id)
        vars = json_pack("{s:{s:s, s:b, s:[s]}}", "input", "name", name, "ignore_auto_tag", 1,
                         "parent_ids", parent_id);
    else
        vars = json_pack("{s:{s:s, s:b}}", "input", "name", name, "ignore_auto_tag", 1);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "tagCreate", "out of memory");
    rc = stash_gql(s, stash_doc_tag_create, vars, 0, &data);
    if (rc == 0) {
        tid = stash_json_str(json_object_get(data, "tagCreate"), "id");
        if (!tid) {
            rc = stash_fail(s, AITAG_ERR_NET, "tagCreate", "no tag id in the answer");
            goto out;
        }
        *id = stash_strdup(tid);
        if (!*id)
            rc = stash_fail(s, AITAG_ERR_NOMEM, "tagCreate", "out of memory");
        aitag_log(AITAG_LOG_DEBUG, "stash", "event=tag_created id=%s", tid);
        goto out;
    }
    if (rc != AITAG_ERR_NET)
        goto out;
    /* Refused: someone created it meanwhile, it is an alias, or Stash's LIKE sees a clash. */
    memcpy(saved, s->errmsg, sizeof saved);
    rc2 = find_exact(s, name, 0, id);
    if (rc2 == AITAG_ERR_NOTFOUND)
        rc2 = find_exact(s, name, 1, id);
    if (rc2 == 0) {
        rc = 0;
        goto out;
    }
    memcpy(s->errmsg, saved, sizeof saved);
out:
    json_decref(data);
    json_decref(vars);
    return rc;
}

int aitag_stash_tag_add_parent(struct aitag_stash *s, const char *tag_id, const char *parent_id)
{
    json_t *vars = json_pack("{s:s}", "id", tag_id), *data = NULL, *tag, *parents, *p, *ids;
    size_t i;
    int rc;

    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "findTag", "out of memory");
    rc = stash_gql(s, stash_doc_tag_parents, vars, 0, &data);
    json_decref(vars);
    vars = NULL;
    if (rc < 0)
        goto out;
    tag = json_object_get(data, "findTag");
    parents = json_object_get(tag, "parents");
    if (!json_is_object(tag)) {
        rc = stash_fail(s, AITAG_ERR_NOTFOUND, "findTag", "no tag %s", tag_id);
        goto out;
    }
    ids = json_array();
    rc = ids ? 0 : stash_fail(s, AITAG_ERR_NOMEM, "tagUpdate", "out of memory");
    json_array_foreach(parents, i, p)
    {
        const char *id = stash_json_str(p, "id");
        if (rc == 0 && id && strcmp(id, parent_id) == 0) {
            json_decref(ids);
            goto out; /* already there */
        }
        if (rc == 0 && id && json_array_append_new(ids, json_string(id)) < 0)
            rc = stash_fail(s, AITAG_ERR_NOMEM, "tagUpdate", "out of memory");
    }
    if (rc == 0 && json_array_append_new(ids, json_string(parent_id)) < 0)
        rc = stash_fail(s, AITAG_ERR_NOMEM, "tagUpdate", "out of memory");
    if (rc == 0 && !(vars = json_pack("{s:{s:s, s:o}}", "input", "id", tag_id, "parent_ids", ids)))
        rc = stash_fail(s, AITAG_ERR_NOMEM, "tagUpdate", "out of memory");
    else if (rc < 0)
        json_decref(ids);
    if (rc == 0) {
        json_decref(data);
        data = NULL;
        rc = stash_gql(s, stash_doc_tag_set_parents, vars, 0, &data);
    }
out:
    json_decref(vars);
    json_decref(data);
    return rc;
}

void aitag_stash_tags_free(struct aitag_stash_tag *tags, size_t n)
{
    size_t i;

    if (!tags)
        return;
    for (i = 0; i < n; i++) {
        free(tags[i].id);
        free(tags[i].name);
    }
    free(tags);
}

int aitag_stash_tag_children(struct aitag_stash *s, const char *tag_id,
                             struct aitag_stash_tag **tags, size_t *n)
{
    json_t *vars = NULL, *data = NULL, *tag, *children, *c;
    struct aitag_stash_tag *res = NULL;
    size_t i, count = 0;
    int rc;

    *tags = NULL;
    *n = 0;
    if (!tag_id || !*tag_id)
        return stash_fail(s, AITAG_ERR_INVALID, "findTag", "no tag id");
    vars = json_pack("{s:s}", "id", tag_id);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "findTag", "out of memory");
    rc = stash_gql(s, stash_doc_tag_children, vars, 0, &data);
    if (rc < 0)
        goto out;
    tag = json_object_get(data, "findTag");
    if (!json_is_object(tag)) {
        rc = stash_fail(s, AITAG_ERR_NOTFOUND, "findTag", "no tag with id %s", tag_id);
        goto out;
    }
    children = json_object_get(tag, "children");
    if (json_array_size(children) > 0) {
        res = calloc(json_array_size(children), sizeof *res);
        if (!res)
            goto nomem;
    }
    json_array_foreach(children, i, c)
    {
        const char *id = stash_json_str(c, "id"), *name = stash_json_str(c, "name");
        if (!id || !name)
            continue;
        res[count].id = stash_strdup(id);
        res[count].name = stash_strdup(name);
        count++;
        if (!res[count - 1].id || !res[count - 1].name)
            goto nomem;
    }
    *tags = res;
    *n = count;
    res = NULL;
    goto out;
nomem:
    rc = stash_fail(s, AITAG_ERR_NOMEM, "findTag", "out of memory");
out:
    aitag_stash_tags_free(res, count);
    json_decref(data);
    json_decref(vars);
    return rc;
}
