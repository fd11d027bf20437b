/*
 * vlm.c - the plugin's side of the vlm analyzer (docs/vlm.md): its settings, the analyzer
 * options made from them, and writing an item's description into Stash's Details field.
 *
 * Details belong to the user. A description is written only when the setting asks for it and
 * the field is empty when read just before the write; any text there, whoever wrote it, is
 * never replaced. (Stash has no compare-and-set, so a user typing into the field in the
 * moment between the read and the write could lose that edit; the window is one round trip.)
 *
 * The vocabulary can also live in Stash: "stash:PARENT" takes the child tags of PARENT. Stash
 * tag names are unique, so a tag the user curates elsewhere and aitag's tag of the same name
 * under the AI parent cannot both exist: with another PARENT the user sets tagPrefix (or
 * tagSuffix) so aitag's tags get their own names. PARENT may also be the AI parent itself; its
 * control tags are left out and aitag's prefix/suffix stripped, but that vocabulary grows with
 * every tag any analyzer creates (face, text, ...), and each change re-runs the VLM.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin_int.h"

void plugin_vlm_clear(struct plugin_vlm *v)
{
    free(v->url);
    free(v->route);
    free(v->vocabulary);
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
        v->describe =
            json_is_true(x) || (json_is_string(x) && (!strcmp(json_string_value(x), "true") ||
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* vlmVocabulary "stash:PARENT": the names of PARENT's child tags, sorted (so the analysis key
 * moves only when the set does), written to data/vlm-vocabulary.txt, which becomes the file. */
static int stash_vocabulary(struct plugin_vlm *v, struct aitag_stash *s, const char *plugin_dir,
                            const char *prefix, const char *suffix, char *err, size_t errlen)
{
    const char *parent = v->vocabulary + strlen(PLUGIN_VLM_STASH);
    struct aitag_stash_tag *tags = NULL;
    const char **names = NULL;
    char *id = NULL, **stripped = NULL, path[4096];
    size_t n = 0, k = 0, k_stripped = 0;
    FILE *f = NULL;
    int rc;

    rc = aitag_stash_find_tag(s, parent, &id);
    if (rc == 0)
        rc = aitag_stash_tag_children(s, id, &tags, &n);
    if (rc == AITAG_ERR_NOTFOUND || (rc == 0 && n == 0)) {
        aitag_fmt(err, errlen, "vlmVocabulary: Stash has no tag '%s' with child tags", parent);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    if (rc < 0) {
        aitag_fmt(err, errlen, "vlmVocabulary: Stash: %s", aitag_stash_errmsg(s));
        goto out;
    }
    rc = AITAG_ERR_NOMEM;
    if (!(names = malloc(n * sizeof *names)) || !(stripped = calloc(n, sizeof *stripped)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const char *name = tags[i].name;
        size_t len = strlen(name), lp = strlen(prefix), ls = strlen(suffix);
        if (!strcmp(name, PLUGIN_TAG_TAGME) || !strcmp(name, PLUGIN_TAG_TAGGED) ||
            !strcmp(name, PLUGIN_TAG_ERRORED))
            continue; /* the AI parent's control tags */
        if (len > lp + ls && !strncmp(name, prefix, lp) && !strcmp(name + len - ls, suffix)) {
            /* aitag's own tag (the AI parent as source): the label without prefix/suffix */
            if (!(stripped[k_stripped] = malloc(len - lp - ls + 1)))
                goto out;
            memcpy(stripped[k_stripped], name + lp, len - lp - ls);
            stripped[k_stripped][len - lp - ls] = '\0';
            name = stripped[k_stripped++];
        }
        names[k++] = name;
    }
    qsort(names, k, sizeof *names, cmp_str);
    aitag_fmt(path, sizeof path, "%s/data", plugin_dir);
    mkdir(path, 0755);
    aitag_fmt(path, sizeof path, "%s/data/vlm-vocabulary.txt", plugin_dir);
    f = fopen(path, "w");
    if (!f) {
        aitag_fmt(err, errlen, "vlmVocabulary: cannot write %s", path);
        rc = AITAG_ERR_IO;
        goto out;
    }
    fprintf(f, "# the child tags of the Stash tag '%s' (vlmVocabulary), rewritten on each run\n",
            parent);
    for (size_t i = 0; i < k; i++)
        fprintf(f, "%s\n", names[i]);
    if (fclose(f) != 0) {
        f = NULL;
        aitag_fmt(err, errlen, "vlmVocabulary: cannot write %s", path);
        rc = AITAG_ERR_IO;
        goto out;
    }
    f = NULL;
    free(v->vocabulary);
    rc = (v->vocabulary = strdup(path)) ? 0 : AITAG_ERR_NOMEM;
out:
    if (f)
        fclose(f);
    if (rc == AITAG_ERR_NOMEM)
        aitag_fmt(err, errlen, "out of memory");
    free(names);
    for (size_t i = 0; i < k_stripped; i++)
        free(stripped[i]);
    free(stripped);
    aitag_stash_tags_free(tags, n);
    free(id);
    return rc;
}

int plugin_vlm_options(struct plugin_vlm *v, struct aitag_stash *s, const char *const *names,
                       size_t n_names, const char *plugin_dir, const char *prefix,
                       const char *suffix, char *err, size_t errlen)
{
    char path[4096];
    size_t i;
    int rc = 0;

    for (i = 0; i < n_names && strcmp(names[i], "vlm") != 0; i++)
        ;
    if (i == n_names)
        return 0;
    if (v->vocabulary && strncmp(v->vocabulary, PLUGIN_VLM_STASH, strlen(PLUGIN_VLM_STASH)) == 0)
        rc = stash_vocabulary(v, s, plugin_dir, prefix, suffix, err, errlen);
    if (rc < 0)
        return rc;
    {
        struct aitag_vlm_settings vs = {.url = v->url,
                                        .route = v->route,
                                        .every = v->every > 0 ? v->every : -1, /* 0: default */
                                        .describe = v->describe,
                                        .local_only = v->local_only};
        /* A relative path is relative to the plugin folder (where Stash keeps aitag). */
        if (v->vocabulary && v->vocabulary[0] != '/' && plugin_dir)
            vs.vocabulary = aitag_fmt(path, sizeof path, "%s/%s", plugin_dir, v->vocabulary);
        else
            vs.vocabulary = v->vocabulary;
        v->n_opts = aitag_vlm_options(&vs, v->bufs, v->opts); /* the CLI's too */
    }
    return 0;
}

/* True when a Details value holds nothing but blanks. */
static int blank(const char *s)
{
    while (s && isspace((unsigned char)*s))
        s++;
    return !s || !*s;
}

int plugin_vlm_write_description(struct aitag_stash *s, enum aitag_stash_kind kind, const char *id,
                                 const char *text, int *written)
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
