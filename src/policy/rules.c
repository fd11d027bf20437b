/*
 * rules.c - the policy's settings: defaults, the JSON rules file, and the policy key.
 *
 * The rules file is user-edited, so every field is type-checked and errors name the file and
 * the JSON path. The key is a sha256 over a canonical text of every setting plus a derivation
 * version; the catalog stores it beside derived results, so a change of rules (or of this code's
 * derivation) is noticed and results are re-derived from stored evidence without any model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "policy_int.h"

struct aitag_rule aitag_rule_default(void)
{
    struct aitag_rule r = {0.5f, 12.0, 6.0, 20.0, 1};
    return r;
}

int aitag_policy_new(struct aitag_policy **out)
{
    struct aitag_policy *p = calloc(1, sizeof *p);

    *out = NULL;
    if (!p)
        return AITAG_ERR_NOMEM;
    p->defaults = aitag_rule_default();
    policy_update_key(p);
    *out = p;
    return 0;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

void aitag_policy_free(struct aitag_policy *p)
{
    if (!p)
        return;
    free(p->prefix);
    free(p->suffix);
    free(p->parent);
    free(p->parent_key);
    aitag_context_free(p->context);
    free_list(p->whitelist, p->n_whitelist);
    free_list(p->blacklist, p->n_blacklist);
    for (size_t i = 0; i < p->n_maps; i++) {
        free(p->maps[i].label);
        free(p->maps[i].name);
        free(p->maps[i].parent);
    }
    free(p->maps);
    free(p);
}

void aitag_policy_set_threshold(struct aitag_policy *p, float threshold)
{
    p->defaults.threshold = threshold;
    policy_update_key(p);
}

void aitag_policy_set_markers(struct aitag_policy *p, int on)
{
    p->defaults.markers = on;
    policy_update_key(p);
}

int aitag_policy_set_parent_fn(struct aitag_policy *p, aitag_parent_fn fn, void *ctx,
                               const char *key)
{
    char *k = key ? strdup(key) : NULL;

    if (key && !k)
        return AITAG_ERR_NOMEM;
    free(p->parent_key);
    p->parent_fn = fn;
    p->parent_ctx = ctx;
    p->parent_key = k;
    policy_update_key(p);
    return 0;
}

int aitag_policy_set_affixes(struct aitag_policy *p, const char *prefix, const char *suffix)
{
    char *pre = prefix ? strdup(prefix) : NULL, *suf = suffix ? strdup(suffix) : NULL;

    if ((prefix && !pre) || (suffix && !suf)) {
        free(pre);
        free(suf);
        return AITAG_ERR_NOMEM;
    }
    if (prefix) {
        free(p->prefix);
        p->prefix = pre;
    }
    if (suffix) {
        free(p->suffix);
        p->suffix = suf;
    }
    policy_update_key(p);
    return 0;
}

const char *aitag_policy_key(const struct aitag_policy *p)
{
    return p->key;
}

/* Reads an optional number field; 1 if present, 0 if absent, -1 on a wrong type. */
static int get_num(json_t *obj, const char *field, double lo, double hi, double *out)
{
    json_t *v = json_object_get(obj, field);

    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return (*out >= lo && *out <= hi) ? 1 : -1;
}

static int get_str(json_t *obj, const char *field, char **out)
{
    json_t *v = json_object_get(obj, field);

    if (!v)
        return 0;
    if (!json_is_string(v))
        return -1;
    free(*out);
    *out = strdup(json_string_value(v));
    return *out ? 1 : -1;
}

static const char *const rule_fields[] = {
    "threshold", "min_marker_duration", "max_gap", "required_duration", "markers", "name",
    "parent"};
static const char *const top_fields[] = {"defaults",  "prefix",    "suffix", "parent",
                                         "whitelist", "blacklist", "tags"};

/* A misspelt field would silently do nothing, so every field must be known: 0, or -1 with
 * "PATH: unknown field WHERE.KEY (did you mean ...?)" in err. n_known counts the fields valid
 * in obj (a prefix of the arrays above). */
static int check_fields(json_t *obj, const char *const *known, size_t n_known, const char *where,
                        const char *path, char *err, size_t errlen)
{
    const char *key, *near;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (i < n_known && strcmp(known[i], key) != 0)
            i++;
        if (i < n_known)
            continue;
        near = aitag_nearest(key, known, n_known);
        aitag_fmt(err, errlen, "%s: unknown field %s%s%s%s%s", path, where, key,
                  near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
        return -1;
    }
    return 0;
}

/* Parses rule fields of obj into r; has[] records which were present. */
static int parse_rule(json_t *obj, struct aitag_rule *r, int has[5], const char **bad)
{
    double v;
    int rc;
    json_t *m;

    if ((rc = get_num(obj, "threshold", 0, 1, &v)) < 0)
        return *bad = "threshold (a number 0..1)", -1;
    if (rc)
        r->threshold = (float)v, has[0] = 1;
    if ((rc = get_num(obj, "min_marker_duration", 0, 1e6, &v)) < 0)
        return *bad = "min_marker_duration (seconds >= 0)", -1;
    if (rc)
        r->min_marker_duration = v, has[1] = 1;
    if ((rc = get_num(obj, "max_gap", 0, 1e6, &v)) < 0)
        return *bad = "max_gap (seconds >= 0)", -1;
    if (rc)
        r->max_gap = v, has[2] = 1;
    if ((rc = get_num(obj, "required_duration", 0, 1e6, &v)) < 0)
        return *bad = "required_duration (seconds >= 0)", -1;
    if (rc)
        r->required_duration = v, has[3] = 1;
    m = json_object_get(obj, "markers");
    if (m) {
        if (!json_is_boolean(m))
            return *bad = "markers (true or false)", -1;
        r->markers = json_is_true(m);
        has[4] = 1;
    }
    return 0;
}

static int parse_list(json_t *arr, char ***out, size_t *n)
{
    size_t i;
    json_t *v;

    if (!json_is_array(arr))
        return -1;
    free_list(*out, *n);
    *out = calloc(json_array_size(arr) + 1, sizeof **out);
    *n = 0;
    if (!*out)
        return -1;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return -1;
        (*out)[(*n)++] = strdup(json_string_value(v));
    }
    return 0;
}

int aitag_policy_load(struct aitag_policy *p, const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr), *tags, *v;
    const char *bad = NULL, *label;
    int has[5] = {0};
    int rc = AITAG_ERR_INVALID;

    if (!root) {
        aitag_fmt(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        return jerr.line <= 0 ? AITAG_ERR_IO : AITAG_ERR_INVALID;
    }
    if (!json_is_object(root)) {
        aitag_fmt(err, errlen, "%s: the top level must be an object", path);
        goto out;
    }
    if (check_fields(root, top_fields, 7, "", path, err, errlen) < 0)
        goto out;
    if ((v = json_object_get(root, "defaults")) && json_is_object(v) &&
        check_fields(v, rule_fields, 5, "defaults.", path, err, errlen) < 0)
        goto out;
    if ((v = json_object_get(root, "defaults")) &&
        (!json_is_object(v) || parse_rule(v, &p->defaults, has, &bad) < 0)) {
        aitag_fmt(err, errlen, "%s: defaults.%s", path, bad ? bad : "must be an object");
        goto out;
    }
    if (get_str(root, "prefix", &p->prefix) < 0 || get_str(root, "suffix", &p->suffix) < 0 ||
        get_str(root, "parent", &p->parent) < 0) {
        aitag_fmt(err, errlen, "%s: prefix, suffix and parent must be strings", path);
        goto out;
    }
    if ((v = json_object_get(root, "whitelist")) &&
        parse_list(v, &p->whitelist, &p->n_whitelist) < 0) {
        aitag_fmt(err, errlen, "%s: whitelist must be an array of strings", path);
        goto out;
    }
    if ((v = json_object_get(root, "blacklist")) &&
        parse_list(v, &p->blacklist, &p->n_blacklist) < 0) {
        aitag_fmt(err, errlen, "%s: blacklist must be an array of strings", path);
        goto out;
    }
    tags = json_object_get(root, "tags");
    if (tags && !json_is_object(tags)) {
        aitag_fmt(err, errlen, "%s: tags must be an object of label -> settings", path);
        goto out;
    }
    json_object_foreach(tags, label, v)
    {
        struct tag_map m = {0}, *grown;
        int mh[5] = {0};
        char where[300];

        if (!json_is_object(v)) {
            aitag_fmt(err, errlen, "%s: tags.%s must be an object", path, label);
            goto out;
        }
        aitag_fmt(where, sizeof where, "tags.%s.", label);
        if (check_fields(v, rule_fields, 7, where, path, err, errlen) < 0)
            goto out;
        m.rule = p->defaults;
        if (parse_rule(v, &m.rule, mh, &bad) < 0 || get_str(v, "name", &m.name) < 0 ||
            get_str(v, "parent", &m.parent) < 0) {
            aitag_fmt(err, errlen, "%s: tags.%s.%s", path, label, bad ? bad : "name/parent");
            free(m.name);
            free(m.parent);
            goto out;
        }
        m.has_threshold = mh[0], m.has_min_marker = mh[1], m.has_max_gap = mh[2];
        m.has_required = mh[3], m.has_markers = mh[4];
        m.label = strdup(label);
        grown = realloc(p->maps, (p->n_maps + 1) * sizeof *grown);
        if (!m.label || !grown) {
            free(m.label), free(m.name), free(m.parent);
            if (grown)
                p->maps = grown;
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        p->maps = grown;
        p->maps[p->n_maps++] = m;
    }
    rc = 0;
out:
    json_decref(root);
    policy_update_key(p);
    return rc;
}

const struct tag_map *policy_find_map(const struct aitag_policy *p, const char *label)
{
    for (size_t i = 0; i < p->n_maps; i++)
        if (strcasecmp(p->maps[i].label, label) == 0)
            return &p->maps[i];
    return NULL;
}

/* Labels that describe the whole item rather than a moment in it: a marker for "safe" or for
 * "a person is in the picture" is noise in Stash's marker list, so these are tags only unless
 * the rules file asks for markers (tags.<label>.markers). Part of the derivation version. */
static const char *const no_marker_labels[] = {"nsfw:safe", "nsfw:neutral", "nsfw:drawing",
                                               "pose:person"};

struct aitag_rule policy_rule_for(const struct aitag_policy *p, const char *label)
{
    const struct tag_map *m = policy_find_map(p, label);
    struct aitag_rule r = p->defaults;

    for (size_t i = 0; i < sizeof no_marker_labels / sizeof *no_marker_labels; i++)
        if (strcasecmp(label, no_marker_labels[i]) == 0)
            r.markers = 0;
    /* Technical cues (the cues analyzer's "cue:" labels) mark moments, often short ones: every
     * stretch is a marker and tags the item, and stretches apart stay apart. */
    if (strncasecmp(label, "cue:", 4) == 0)
        r.min_marker_duration = 0, r.max_gap = 0, r.required_duration = 0;
    if (!m)
        return r;
    if (m->has_threshold)
        r.threshold = m->rule.threshold;
    if (m->has_min_marker)
        r.min_marker_duration = m->rule.min_marker_duration;
    if (m->has_max_gap)
        r.max_gap = m->rule.max_gap;
    if (m->has_required)
        r.required_duration = m->rule.required_duration;
    if (m->has_markers)
        r.markers = m->rule.markers;
    return r;
}

static int in_list(char **l, size_t n, const char *a, const char *b)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(l[i], a) == 0 || (b && strcasecmp(l[i], b) == 0))
            return 1;
    return 0;
}

char *policy_affixed(const struct aitag_policy *p, const char *word)
{
    const char *pre = p->prefix ? p->prefix : "", *suf = p->suffix ? p->suffix : "";
    size_t len = strlen(pre) + strlen(word) + strlen(suf) + 1;
    char *name = malloc(len);

    if (name)
        aitag_fmt(name, len, "%s%s%s", pre, word, suf);
    return name;
}

char *policy_tag_name(const struct aitag_policy *p, const char *label)
{
    const struct tag_map *m = policy_find_map(p, label);
    const char *base = (m && m->name) ? m->name : label;
    const char *pre = p->prefix ? p->prefix : "", *suf = p->suffix ? p->suffix : "";
    size_t len;
    char *name;

    if (in_list(p->blacklist, p->n_blacklist, label, base))
        return NULL;
    if (p->n_whitelist && !in_list(p->whitelist, p->n_whitelist, label, base))
        return NULL;
    len = strlen(pre) + strlen(base) + strlen(suf) + 1;
    name = malloc(len);
    if (name)
        aitag_fmt(name, len, "%s%s%s", pre, base, suf);
    return name;
}

void policy_update_key(struct aitag_policy *p)
{
    /* Canonical text of every setting; a fixed order makes equal settings hash equally. */
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);

#define PUT(...)                                                                                   \
    do {                                                                                           \
        int n_ = snprintf(s + len, cap - len, __VA_ARGS__);                                        \
        if (n_ < 0)                                                                                \
            break;                                                                                 \
        if ((size_t)n_ >= cap - len) {                                                             \
            char *g_ = realloc(s, cap * 2 + (size_t)n_);                                           \
            if (!g_)                                                                               \
                goto fail;                                                                         \
            s = g_, cap = cap * 2 + (size_t)n_;                                                    \
            n_ = snprintf(s + len, cap - len, __VA_ARGS__);                                        \
        }                                                                                          \
        len += (size_t)n_;                                                                         \
    } while (0)
#define RULE(r)                                                                                    \
    PUT("%.4f/%.3f/%.3f/%.3f/%d;", (r).threshold, (r).min_marker_duration, (r).max_gap,            \
        (r).required_duration, (r).markers)

    if (!s)
        goto fail;
    PUT("v%d;", POLICY_DERIVE_VERSION);
    RULE(p->defaults);
    PUT("pre=%s;suf=%s;par=%s;", p->prefix ? p->prefix : "", p->suffix ? p->suffix : "",
        p->parent ? p->parent : "");
    for (size_t i = 0; i < p->n_whitelist; i++)
        PUT("w=%s;", p->whitelist[i]);
    for (size_t i = 0; i < p->n_blacklist; i++)
        PUT("b=%s;", p->blacklist[i]);
    for (size_t i = 0; i < p->n_maps; i++) {
        struct aitag_rule r = policy_rule_for(p, p->maps[i].label);
        PUT("m=%s>%s^%s:", p->maps[i].label, p->maps[i].name ? p->maps[i].name : "",
            p->maps[i].parent ? p->maps[i].parent : "");
        RULE(r);
    }
    if (p->context && aitag_context_size(p->context))
        PUT("ctx=%s;", aitag_context_key(p->context));
    if (p->parent_fn)
        PUT("cat=%s;", p->parent_key ? p->parent_key : "");
    aitag_sha256_buf(s, len, p->key);
    free(s);
    return;
fail:
    free(s);
    memset(p->key, 0, sizeof p->key); /* an empty key never matches: results re-derive */
#undef PUT
#undef RULE
}

int aitag_policy_load_context(struct aitag_policy *p, const char *path, char *err, size_t errlen)
{
    int rc = p->context ? 0 : aitag_context_new(&p->context);

    if (rc == 0)
        rc = aitag_context_load(p->context, path, err, errlen);
    policy_update_key(p);
    return rc;
}

const struct aitag_context *aitag_policy_context(const struct aitag_policy *p)
{
    return p->context;
}

float aitag_policy_threshold(const struct aitag_policy *p, const char *label)
{
    return policy_rule_for(p, label).threshold;
}

struct aitag_rule aitag_policy_rule(const struct aitag_policy *p, const char *label)
{
    return policy_rule_for(p, label);
}
