/*
 * vlm.c - the plugin's side of the vlm analyzer (docs/vlm.md): its settings, the analyzer
 * options made from them, and writing an item's description into Stash's Details field.
 *
 * Details belong to the user. A description is written only when the setting asks for it and
 * the field is empty when read just before the write; any text there, whoever wrote it, is
 * never replaced. (Stash has no compare-and-set, so a user typing into the field in the
 * moment between the read and the write could lose that edit; the window is one round trip.)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_int.h"

void plugin_vlm_clear(struct plugin_vlm *v)
{
    free(v->url);
    free(v->route);
    free(v->vocabulary);
    for (size_t i = 0; i < PLUGIN_VLM_MAX_OPTS; i++)
        free(v->bufs[i]);
    memset(v, 0, sizeof *v);
}

/* A copy of a non-empty text setting, or NULL. */
static int text_setting(json_t *o, const char *key, char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
        return 0;
    if (!json_is_string(v)) {
        aitag_fmt(err, errlen, "setting %s must be text", key);
        return AITAG_ERR_INVALID;
    }
    *out = strdup(json_string_value(v));
    return *out ? 0 : AITAG_ERR_NOMEM;
}

int plugin_vlm_parse(const char *settings, const char *gateway_url, int local_only,
                     struct plugin_vlm *v, char *err, size_t errlen)
{
    json_t *o = json_loads(settings ? settings : "{}", 0, NULL), *x;
    int rc;

    memset(v, 0, sizeof *v);
    v->local_only = local_only;
    rc = text_setting(o, "vlmUrl", &v->url, err, errlen);
    if (rc == 0)
        rc = text_setting(o, "vlmRoute", &v->route, err, errlen);
    if (rc == 0)
        rc = text_setting(o, "vlmVocabulary", &v->vocabulary, err, errlen);
    x = json_object_get(o, "vlmEvery");
    if (rc == 0 && x && !json_is_null(x)) {
        char *end = NULL;
        double d = json_is_number(x)   ? json_number_value(x)
                   : json_is_string(x) ? strtod(json_string_value(x), &end)
                                       : -1;
        if (end && (end == json_string_value(x) || *end))
            d = -1;
        if (json_is_string(x) && !*json_string_value(x))
            d = 0;
        if (!(d >= 0 && d <= 86400)) {
            aitag_fmt(err, errlen, "setting vlmEvery must be a number of seconds (0 = 30)");
            rc = AITAG_ERR_INVALID;
        }
        v->every = d;
    }
    x = json_object_get(o, "vlmDescribe");
    if (rc == 0 && x && !json_is_null(x))
        v->describe = json_is_true(x) ||
                      (json_is_string(x) && (!strcmp(json_string_value(x), "true") ||
                                             !strcmp(json_string_value(x), "1")));
    /* No URL of its own: the gateway's OpenAI-compatible API, when a gateway is set. */
    if (rc == 0 && !v->url && gateway_url && *gateway_url) {
        size_t n = strlen(gateway_url);
        while (n && gateway_url[n - 1] == '/')
            n--;
        v->url = malloc(n + 4);
        if (v->url)
            snprintf(v->url, n + 4, "%.*s/v1", (int)n, gateway_url);
        else
            rc = AITAG_ERR_NOMEM;
    }
    if (rc == AITAG_ERR_NOMEM)
        aitag_fmt(err, errlen, "out of memory");
    json_decref(o);
    if (rc < 0)
        plugin_vlm_clear(v);
    return rc;
}

static int add_opt(struct plugin_vlm *v, const char *key, const char *value)
{
    size_t n = strlen(key) + strlen(value) + 6;

    if (v->n_opts == PLUGIN_VLM_MAX_OPTS || !(v->bufs[v->n_opts] = malloc(n)))
        return AITAG_ERR_NOMEM;
    snprintf(v->bufs[v->n_opts], n, "vlm.%s=%s", key, value);
    v->opts[v->n_opts] = v->bufs[v->n_opts];
    v->n_opts++;
    return 0;
}

int plugin_vlm_options(struct plugin_vlm *v, const char *const *names, size_t n_names,
                       const char *plugin_dir)
{
    char num[32], path[4096];
    size_t i;
    int rc = 0;

    for (i = 0; i < n_names && strcmp(names[i], "vlm") != 0; i++)
        ;
    if (i == n_names)
        return 0;
    if (v->url)
        rc = add_opt(v, "url", v->url);
    if (rc == 0 && v->route)
        rc = add_opt(v, "route", v->route);
    if (rc == 0 && v->vocabulary) {
        /* A relative path is relative to the plugin folder (where Stash keeps aitag). */
        if (v->vocabulary[0] != '/' && plugin_dir)
            aitag_fmt(path, sizeof path, "%s/%s", plugin_dir, v->vocabulary);
        else
            aitag_fmt(path, sizeof path, "%s", v->vocabulary);
        rc = add_opt(v, "vocabulary", path);
    }
    if (rc == 0 && v->every > 0)
        rc = add_opt(v, "every", aitag_fmt(num, sizeof num, "%g", v->every));
    if (rc == 0 && v->describe)
        rc = add_opt(v, "describe", "1");
    if (rc == 0 && v->local_only)
        rc = add_opt(v, "local_only", "1");
    return rc;
}

/* True when a Details value holds nothing but blanks. */
static int blank(const char *s)
{
    while (s && isspace((unsigned char)*s))
        s++;
    return !s || !*s;
}

int plugin_vlm_write_description(struct aitag_stash *s, enum aitag_stash_kind kind,
                                 const char *id, const char *text, int *written)
{
    static const char *const find[] = {"query($id: ID!) { findScene(id: $id) { details } }",
                                       "query($id: ID!) { findImage(id: $id) { details } }"};
    static const char *const update[] = {
        "mutation($input: SceneUpdateInput!) { sceneUpdate(input: $input) { id } }",
        "mutation($input: ImageUpdateInput!) { imageUpdate(input: $input) { id } }"};
    json_t *vars = NULL, *got = NULL, *item;
    char *vtext = NULL, *data = NULL;
    int k = kind == AITAG_STASH_IMAGE, rc = AITAG_ERR_NOMEM;

    *written = 0;
    if (blank(text))
        return 0;
    vars = json_pack("{s:s}", "id", id);
    if (!vars || !(vtext = json_dumps(vars, JSON_COMPACT)))
        goto out;
    rc = aitag_stash_query(s, find[k], vtext, &data);
    if (rc < 0)
        goto out;
    got = json_loads(data, 0, NULL);
    item = json_object_get(got, k ? "findImage" : "findScene");
    if (!json_is_object(item)) {
        rc = AITAG_ERR_NOTFOUND;
        goto out;
    }
    rc = 0;
    if (!blank(json_string_value(json_object_get(item, "details"))))
        goto out; /* the user's text (or an earlier description) stays */
    json_decref(vars);
    free(vtext);
    free(data);
    vtext = data = NULL;
    rc = AITAG_ERR_NOMEM;
    vars = json_pack("{s:{s:s, s:s}}", "input", "id", id, "details", text);
    if (!vars || !(vtext = json_dumps(vars, JSON_COMPACT)))
        goto out;
    rc = aitag_stash_query(s, update[k], vtext, &data);
    *written = rc == 0;
out:
    json_decref(got);
    json_decref(vars);
    free(vtext);
    free(data);
    return rc;
}
