/*
 * input.c - what Stash hands the plugin: the raw-interface stdin JSON, the plugin settings
 * and the path mappings.
 *
 * All of it is untrusted text, so every field is type-checked and anything unexpected is an
 * error that names the field, never an assert. Stash's own encodings are accepted as they come:
 * Port is a number; task arguments from defaultArgs are strings while the UI sends arrays and
 * numbers; settings saved through the UI are JSON numbers and booleans, settings set through
 * configurePlugin by hand may be strings. Unset settings keep their defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/options.h"
#include "plugin_int.h"

static const char *const modes[] = {"hook",      "queue", "untagged_scenes", "untagged_images",
                                    "retag_all", "scene", "image",           "people",
                                    "enqueue",   NULL};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void aitag_plugin_input_clear(struct aitag_plugin_input *in)
{
    free(in->url);
    free(in->session_cookie);
    free(in->stash_dir);
    free(in->plugin_dir);
    free(in->mode);
    for (size_t i = 0; i < in->n_ids; i++)
        free(in->ids[i]);
    free(in->ids);
    free(in->hook_type);
    free(in->hook_id);
    memset(in, 0, sizeof *in);
}

static int add_id(struct aitag_plugin_input *in, const char *id)
{
    char **g;

    while (*id == ' ')
        id++;
    if (!*id)
        return 0;
    g = realloc(in->ids, (in->n_ids + 1) * sizeof *g);
    if (!g)
        return AITAG_ERR_NOMEM;
    in->ids = g;
    if (!(in->ids[in->n_ids] = strdup(id)))
        return AITAG_ERR_NOMEM;
    /* Trailing blanks of a "1, 2" list. */
    for (char *e = in->ids[in->n_ids] + strlen(in->ids[in->n_ids]);
         e > in->ids[in->n_ids] && e[-1] == ' ';)
        *--e = '\0';
    in->n_ids++;
    return 0;
}

/* One id: a string or a whole number. */
static int add_id_value(struct aitag_plugin_input *in, json_t *v)
{
    char buf[32];

    if (json_is_string(v))
        return add_id(in, json_string_value(v));
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return add_id(in, buf);
    }
    return AITAG_ERR_INVALID;
}

static int parse_ids(struct aitag_plugin_input *in, json_t *args)
{
    json_t *ids = json_object_get(args, "ids"), *one = json_object_get(args, "id"), *v;
    size_t i;
    int rc = 0;

    if (json_is_array(ids)) {
        json_array_foreach(ids, i, v) if ((rc = add_id_value(in, v)) < 0) return rc;
    } else if (json_is_string(ids)) {
        /* "1,2,3": what a defaultArgs string or a hand-made call carries. */
        char *copy = strdup(json_string_value(ids)), *p = copy;
        if (!copy)
            return AITAG_ERR_NOMEM;
        while (p && rc == 0) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            rc = add_id(in, p);
            p = comma ? comma + 1 : NULL;
        }
        free(copy);
    } else if (ids && !json_is_null(ids)) {
        rc = add_id_value(in, ids);
    }
    if (rc == 0 && one && !json_is_null(one))
        rc = add_id_value(in, one);
    return rc;
}

static int fail(struct aitag_plugin_input *in, char *err, size_t errlen, int rc, const char *what)
{
    aitag_fmt(err, errlen, "plugin input: %s", what);
    aitag_plugin_input_clear(in);
    return rc;
}

int aitag_plugin_input_parse(const char *json, size_t len, struct aitag_plugin_input *in, char *err,
                             size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *sc, *args, *hook, *port, *cookie, *mode;
    const char *host, *scheme;
    char url[512], why[300];
    int rc = AITAG_ERR_INVALID;

    memset(in, 0, sizeof *in);
    if (!root)
        return fail(in, err, errlen, rc,
                    aitag_fmt(why, sizeof why, "not JSON (line %d: %s)", je.line, je.text));
    sc = json_object_get(root, "server_connection");
    args = json_object_get(root, "args");
    if (!json_is_object(sc)) {
        rc = fail(in, err, errlen, rc, "no server_connection object");
        goto out;
    }
    scheme = json_string_value(json_object_get(sc, "Scheme"));
    host = json_string_value(json_object_get(sc, "Host"));
    port = json_object_get(sc, "Port");
    if (!scheme || !*scheme)
        scheme = "http";
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = fail(in, err, errlen, rc, "server_connection.Scheme must be http or https");
        goto out;
    }
    if (!json_is_integer(port) || json_integer_value(port) <= 0 ||
        json_integer_value(port) > 65535) {
        rc = fail(in, err, errlen, rc, "server_connection.Port must be a port number");
        goto out;
    }
    /* Stash reports the address it listens on; a wildcard means "this machine". */
    if (!host || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
        strcmp(host, "[::]") == 0)
        host = "127.0.0.1";
    if (strchr(host, ':') && host[0] != '[')
        snprintf(url, sizeof url, "%s://[%s]:%lld", scheme, host,
                 (long long)json_integer_value(port));
    else
        snprintf(url, sizeof url, "%s://%s:%lld", scheme, host,
                 (long long)json_integer_value(port));
    cookie = json_object_get(json_object_get(sc, "SessionCookie"), "Value");
    in->url = strdup(url);
    in->session_cookie = json_is_string(cookie) && *json_string_value(cookie)
                             ? strdup(json_string_value(cookie))
                             : NULL;
    in->stash_dir = dup_or_null(json_string_value(json_object_get(sc, "Dir")));
    in->plugin_dir = strdup(json_string_value(json_object_get(sc, "PluginDir"))
                                ? json_string_value(json_object_get(sc, "PluginDir"))
                                : ".");
    if (!in->url || !in->plugin_dir) {
        rc = fail(in, err, errlen, AITAG_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (args && !json_is_object(args)) {
        rc = fail(in, err, errlen, rc, "args must be an object");
        goto out;
    }
    hook = json_object_get(args, "hookContext");
    if (json_is_object(hook)) {
        json_t *id = json_object_get(hook, "id");
        char buf[32];
        in->hook_type = dup_or_null(json_string_value(json_object_get(hook, "type")));
        if (json_is_integer(id))
            in->hook_id =
                strdup(aitag_fmt(buf, sizeof buf, "%lld", (long long)json_integer_value(id)));
        else
            in->hook_id = dup_or_null(json_string_value(id));
    }
    mode = json_object_get(args, "mode");
    if (json_is_string(mode) && *json_string_value(mode))
        in->mode = strdup(json_string_value(mode));
    else if (json_is_object(hook))
        in->mode = strdup("hook");
    if (!in->mode) {
        rc = fail(in, err, errlen, rc, "args.mode is missing (see docs/stash.md)");
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    for (size_t i = 0; modes[i]; i++)
        if (strcmp(in->mode, modes[i]) == 0)
            rc = 0;
    if (rc < 0) {
        rc = fail(in, err, errlen, rc,
                  aitag_fmt(why, sizeof why,
                            "unknown mode '%.60s' (hook, queue, untagged_scenes, "
                            "untagged_images, retag_all, scene, image, people, enqueue)",
                            in->mode));
        goto out;
    }
    rc = parse_ids(in, args);
    if (rc < 0) {
        rc = fail(in, err, errlen, rc, "args.ids must be ids (strings or whole numbers)");
        goto out;
    }
    if ((strcmp(in->mode, "scene") == 0 || strcmp(in->mode, "image") == 0) && in->n_ids == 0) {
        rc = fail(in, err, errlen, AITAG_ERR_INVALID, "mode scene/image needs args.ids");
        goto out;
    }
    if (strcmp(in->mode, "hook") == 0 && (!in->hook_type || !in->hook_id)) {
        rc =
            fail(in, err, errlen, AITAG_ERR_INVALID, "mode hook needs args.hookContext {id, type}");
        goto out;
    }
out:
    json_decref(root);
    return rc;
}

/* ---- settings ---- */

static int set_str(char **dst, json_t *v, const char *key, char *err, size_t errlen)
{
    char *s;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        aitag_fmt(err, errlen, "setting %s must be text", key);
        return AITAG_ERR_INVALID;
    }
    if (!(s = strdup(json_string_value(v))))
        return AITAG_ERR_NOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

/* ---- settings ---- */

/* How a Stash setting's value becomes its option's value. */
enum setting_conv {
    CONV_AS_IS,      /* the value as text */
    CONV_ZERO_UNSET, /* a number; 0 = unset (Stash shows an unset NUMBER as 0) */
    CONV_PERCENT,    /* a percentage 1..100 -> a fraction; 0 = unset; below 1 taken as a fraction */
};

/* Every Stash setting that is an `aitag tag` option: its option key and conversion. Types,
 * ranges and defaults are the option table's rows (src/options/table.c), written once there. */
static const struct {
    const char *setting, *key;
    enum setting_conv conv;
} option_settings[] = {
    {"interval", "interval", CONV_ZERO_UNSET},
    {"threshold", "threshold", CONV_PERCENT},
    {"analyzers", "analyzers", CONV_AS_IS},
    {"markers", "markers", CONV_AS_IS},
    {"localOnly", "local-only", CONV_AS_IS},
    {"catalog", "catalog", CONV_AS_IS},
    {"rules", "rules", CONV_AS_IS},
    {"speechKeywords", "keywords", CONV_AS_IS},
    {"speechUrl", "speech-url", CONV_AS_IS},
};

/* v as option text into buf; 0 (buf set), 1 (unset: null, empty, or 0 where that means
 * unset) or AITAG_ERR_INVALID. Stash saves numbers and booleans as JSON, a hand-made
 * configurePlugin may send them as strings: both are accepted. */
static int setting_text(json_t *v, const char *name, enum setting_conv conv, char *buf, size_t len,
                        char *err, size_t errlen)
{
    const char *s = json_string_value(v);
    double d = 0;
    char *end = NULL;

    if (!v || json_is_null(v) || (s && !*s))
        return 1;
    if (json_is_boolean(v))
        aitag_fmt(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        aitag_fmt(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v))
        aitag_fmt(buf, len, "%.17g", json_number_value(v));
    else if (s)
        aitag_fmt(buf, len, "%s", s);
    else {
        aitag_fmt(err, errlen, "setting %s must be text, a number or a boolean", name);
        return AITAG_ERR_INVALID;
    }
    if (conv == CONV_AS_IS)
        return 0;
    d = strtod(buf, &end); /* not a number: the option's own check says so */
    if (end == buf || *end)
        return 0;
    if (d == 0)
        return 1;
    if (conv == CONV_PERCENT && d >= 1)
        aitag_fmt(buf, len, "%.17g", d / 100.0);
    return 0;
}

/* Resolves the mapped settings through the option table into o. */
static int resolve_options(json_t *obj, struct aitag_opts *o, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof option_settings / sizeof *option_settings; i++) {
        const char *name = option_settings[i].setting;
        char text[4096], arg[4200], e[512];
        char *argv[1] = {arg};
        int rc = setting_text(json_object_get(obj, name), name, option_settings[i].conv, text,
                              sizeof text, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 1)
            continue;
        aitag_fmt(arg, sizeof arg, "--%s=%s", option_settings[i].key, text);
        if (aitag_opts_parse_argv(o, 1, argv, e, sizeof e) < 0) {
            aitag_fmt(err, errlen, "setting %s%s: %s", name,
                      option_settings[i].conv == CONV_PERCENT ? " (percent, as a fraction)" : "",
                      e);
            return AITAG_ERR_INVALID;
        }
    }
    return 0;
}

static char *dup_opt(const struct aitag_opts *o, const char *key)
{
    const char *v = aitag_opts_str(o, key);

    return strdup(v ? v : "");
}

/* A BOOLEAN setting: true, or the text "true" / "1"; anything else (unset included) is off. */
static int setting_bool(json_t *o, const char *key)
{
    json_t *x = json_object_get(o, key);
    const char *t = json_string_value(x);

    return json_is_true(x) || (t && (!strcmp(t, "true") || !strcmp(t, "1")));
}

void plugin_settings_clear(struct plugin_settings *s)
{
    free(s->analyzers);
    free(s->tag_prefix);
    free(s->tag_suffix);
    free(s->parent_tag);
    free(s->path_mappings);
    free(s->gateway_url);
    free(s->catalog);
    free(s->rules);
    free(s->speech_keywords);
    free(s->speech_url);
    memset(s, 0, sizeof *s);
}

int plugin_settings_parse(const char *json, struct plugin_settings *s, char *err, size_t errlen)
{
    json_t *o = json_loads(json ? json : "{}", 0, NULL);
    struct aitag_opts opts;
    int rc;

    memset(s, 0, sizeof *s);
    if ((rc = aitag_opts_init(&opts, "tag")) < 0)
        goto out;
    if (!json_is_object(o)) {
        aitag_fmt(err, errlen, "plugin settings are not a JSON object");
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    if ((rc = resolve_options(o, &opts, err, errlen)) < 0)
        goto out;
    s->interval = aitag_opts_num(&opts, "interval");
    s->threshold =
        aitag_opts_str(&opts, "threshold") ? (float)aitag_opts_num(&opts, "threshold") : -1.0f;
    s->markers = aitag_opts_bool(&opts, "markers");
    s->local_only = aitag_opts_bool(&opts, "local-only");
    s->analyzers = dup_opt(&opts, "analyzers");
    s->catalog = dup_opt(&opts, "catalog");
    s->rules = dup_opt(&opts, "rules");
    s->speech_keywords = dup_opt(&opts, "keywords");
    s->speech_url = dup_opt(&opts, "speech-url");
    /* The plugin's own settings (no `aitag tag` option). */
    s->tag_prefix = strdup("");
    s->tag_suffix = strdup("");
    s->parent_tag = strdup("AI");
    s->path_mappings = strdup("");
    s->gateway_url = strdup("");
    rc = s->analyzers && s->tag_prefix && s->tag_suffix && s->parent_tag && s->path_mappings &&
                 s->gateway_url && s->catalog && s->rules && s->speech_keywords && s->speech_url
             ? 0
             : AITAG_ERR_NOMEM;
    if (rc == 0)
        rc = set_str(&s->tag_prefix, json_object_get(o, "tagPrefix"), "tagPrefix", err, errlen);
    if (rc == 0)
        rc = set_str(&s->tag_suffix, json_object_get(o, "tagSuffix"), "tagSuffix", err, errlen);
    if (rc == 0)
        rc = set_str(&s->parent_tag, json_object_get(o, "parentTag"), "parentTag", err, errlen);
    if (rc == 0)
        rc = set_str(&s->path_mappings, json_object_get(o, "pathMappings"), "pathMappings", err,
                     errlen);
    if (rc == 0)
        rc = set_str(&s->gateway_url, json_object_get(o, "gatewayUrl"), "gatewayUrl", err, errlen);
    s->write_cues = setting_bool(o, "writeCues");
    s->create_performers = setting_bool(o, "createPerformers");
    s->skip_performer_images = setting_bool(o, "skipPerformerImages");
    if (rc == 0) {
        const json_t *v = json_object_get(o, "writeTranscript");
        const char *t = json_string_value(v);
        if (!v || json_is_null(v) || (t && (!*t || strcmp(t, "off") == 0)))
            s->transcript = PLUGIN_TRANSCRIPT_OFF;
        else if (t && strcmp(t, "details") == 0)
            s->transcript = PLUGIN_TRANSCRIPT_DETAILS;
        else if (t && strcmp(t, "markers") == 0)
            s->transcript = PLUGIN_TRANSCRIPT_MARKERS;
        else {
            aitag_fmt(err, errlen,
                      "setting writeTranscript: \"%s\" is none of off, details, "
                      "markers",
                      t ? t : "(not text)");
            rc = AITAG_ERR_INVALID;
        }
    }
    if (rc == 0 && !*s->parent_tag) {
        free(s->parent_tag);
        rc = (s->parent_tag = strdup("AI")) ? 0 : AITAG_ERR_NOMEM;
    }
out:
    if (rc == AITAG_ERR_NOMEM)
        aitag_fmt(err, errlen, "out of memory");
    aitag_opts_free(&opts);
    json_decref(o);
    if (rc < 0)
        plugin_settings_clear(s);
    return rc;
}
