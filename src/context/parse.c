/*
 * parse.c - context rules files (docs/context.md) into rules, with errors that name the file
 * and the field, and the key that says which rules are in effect.
 *
 * A file is {"concepts": [...], "suppress": [...], "senses": [...]}; every rule is checked whole
 * before any is added, so a file with one bad rule changes nothing. A rule named like one loaded
 * before replaces it in place (a user's file overrides a shipped default and keeps its order). The
 * key is a sha256 over each rule's JSON with sorted keys, in order: the same rules give the
 * same key whatever the file's layout.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context_int.h"

#define DEFAULT_MIN_CONF 0.3f /* a label counts from this confidence unless said otherwise */
#define MAX_DEPTH 16

void context_cond_free(struct cond *c)
{
    for (size_t i = 0; i < c->n_labels; i++)
        free(c->labels[i]);
    free(c->inside);
    for (size_t i = 0; i < c->n_kids; i++)
        context_cond_free(&c->kids[i]);
    free(c->kids);
    memset(c, 0, sizeof *c);
}

void context_rule_free(struct rule *r)
{
    free(r->name);
    free(r->as);
    free(r->canon);
    context_cond_free(&r->target);
    context_cond_free(&r->when);
    context_cond_free(&r->unless);
    memset(r, 0, sizeof *r);
}

struct parser {
    const char *file;
    char *err;
    size_t errlen;
};

static int bad(struct parser *ps, const char *where, const char *what)
{
    snprintf(ps->err, ps->errlen, "%s: %s: %s", ps->file, where, what);
    return AITAG_ERR_INVALID;
}

/* "a|b|c" into c->labels. */
static int parse_labels(struct parser *ps, const char *where, const char *s, struct cond *c)
{
    const char *p = s;

    if (!*s)
        return bad(ps, where, "an empty label");
    while (*p) {
        size_t len = strcspn(p, "|");
        if (len == 0 || c->n_labels == MAX_ALTS)
            return bad(ps, where, len ? "more than 16 alternatives" : "an empty alternative");
        if (!(c->labels[c->n_labels] = strndup(p, len)))
            return AITAG_ERR_NOMEM;
        c->n_labels++;
        p += len;
        if (*p == '|' && !*++p)
            return bad(ps, where, "an empty alternative");
    }
    return 0;
}

static int number(struct parser *ps, const char *where, json_t *v, double lo, double hi,
                  double *out)
{
    char msg[128];

    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
        snprintf(msg, sizeof msg, "must be a number in %g..%g", lo, hi);
        return bad(ps, where, msg);
    }
    *out = json_number_value(v);
    return 0;
}

static int parse_cond(struct parser *ps, const char *where, json_t *j, int depth, struct cond *c);

static int parse_kids(struct parser *ps, const char *where, json_t *arr, int depth, struct cond *c)
{
    char at[512];
    size_t i;
    json_t *v;
    int rc;

    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad(ps, where, "must be a non-empty array of conditions");
    c->kids = calloc(json_array_size(arr), sizeof *c->kids);
    if (!c->kids)
        return AITAG_ERR_NOMEM;
    json_array_foreach(arr, i, v)
    {
        snprintf(at, sizeof at, "%.400s[%zu]", where, i);
        rc = parse_cond(ps, at, v, depth + 1, &c->kids[i]);
        c->n_kids = i + 1;
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int parse_label_cond(struct parser *ps, const char *where, json_t *j, struct cond *c)
{
    static const char *const known[] = {"label", "min_confidence", "count",  "max_count",
                                        "area",  "max_area",       "inside", "for"};
    char at[512];
    const char *key;
    json_t *v;
    double d = 0;
    int rc;

    json_object_foreach(j, key, v)
    {
        size_t k = 0;
        while (k < sizeof known / sizeof *known && strcmp(known[k], key) != 0)
            k++;
        snprintf(at, sizeof at, "%.400s.%s", where, key);
        if (k == sizeof known / sizeof *known)
            return bad(ps, at,
                       "unknown field (label, min_confidence, count, max_count, area, "
                       "max_area, inside, for)");
    }
    c->kind = COND_LABEL;
    c->min_conf = DEFAULT_MIN_CONF;
    c->count = 1;
    c->area_max = 1.0f;
    snprintf(at, sizeof at, "%.400s.label", where);
    if (!json_is_string(json_object_get(j, "label")))
        return bad(ps, at, "must be a string");
    rc = parse_labels(ps, at, json_string_value(json_object_get(j, "label")), c);
    if (rc == 0 && (v = json_object_get(j, "min_confidence"))) {
        snprintf(at, sizeof at, "%.400s.min_confidence", where);
        rc = number(ps, at, v, 0, 1, &d);
        c->min_conf = (float)d;
    }
    if (rc == 0 && (v = json_object_get(j, "count"))) {
        snprintf(at, sizeof at, "%.400s.count", where);
        rc = number(ps, at, v, 0, 10000, &d);
        c->count = (int)d;
    }
    if (rc == 0 && (v = json_object_get(j, "max_count"))) {
        snprintf(at, sizeof at, "%.400s.max_count", where);
        rc = number(ps, at, v, 1, 10000, &d);
        c->max_count = (int)d;
    }
    if (rc == 0 && (v = json_object_get(j, "area"))) {
        snprintf(at, sizeof at, "%.400s.area", where);
        rc = number(ps, at, v, 0, 1, &d);
        c->area_min = (float)d;
    }
    if (rc == 0 && (v = json_object_get(j, "max_area"))) {
        snprintf(at, sizeof at, "%.400s.max_area", where);
        rc = number(ps, at, v, 0, 1, &d);
        c->area_max = (float)d;
    }
    if (rc == 0 && (v = json_object_get(j, "for"))) {
        snprintf(at, sizeof at, "%.400s.for", where);
        rc = number(ps, at, v, 0, 86400, &c->for_s);
    }
    if (rc == 0 && (v = json_object_get(j, "inside"))) {
        snprintf(at, sizeof at, "%.400s.inside", where);
        if (!json_is_string(v) || !*json_string_value(v))
            return bad(ps, at, "must be a label");
        if (!(c->inside = strdup(json_string_value(v))))
            return AITAG_ERR_NOMEM;
    }
    if (rc == 0 && c->max_count && c->max_count < c->count)
        return bad(ps, where, "max_count is under count");
    if (rc == 0 && c->area_max < c->area_min)
        return bad(ps, where, "max_area is under area");
    return rc;
}

/* A condition: "label", {"label": ...}, {"all"|"any"|"none"|"sequence": [...]}. */
static int parse_cond(struct parser *ps, const char *where, json_t *j, int depth, struct cond *c)
{
    static const char *const groups[] = {"all", "any", "none", "sequence"};
    char at[512];
    json_t *v;
    int rc;

    memset(c, 0, sizeof *c);
    if (depth > MAX_DEPTH)
        return bad(ps, where, "conditions nested more than 16 deep");
    if (json_is_string(j)) {
        c->kind = COND_LABEL;
        c->min_conf = DEFAULT_MIN_CONF;
        c->count = 1;
        c->area_max = 1.0f;
        return parse_labels(ps, where, json_string_value(j), c);
    }
    if (!json_is_object(j))
        return bad(ps, where, "a condition is a label or an object");
    if (json_object_get(j, "label"))
        return parse_label_cond(ps, where, j, c);
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        const char *key;
        if (!(v = json_object_get(j, groups[g])))
            continue;
        json_object_foreach(j, key, v)
        {
            int ok = strcmp(key, groups[g]) == 0 || (g == 1 && strcmp(key, "at_least") == 0) ||
                     (g == 3 && strcmp(key, "within") == 0);
            snprintf(at, sizeof at, "%.400s.%s", where, key);
            if (!ok)
                return bad(ps, at,
                           g == 1   ? "unknown field (any, at_least)"
                           : g == 3 ? "unknown field (sequence, within)"
                                    : "unknown field beside all/none");
        }
        c->kind = g == 0 ? COND_ALL : g == 1 ? COND_ANY : g == 2 ? COND_NONE : COND_SEQUENCE;
        snprintf(at, sizeof at, "%.400s.%s", where, groups[g]);
        rc = parse_kids(ps, at, json_object_get(j, groups[g]), depth, c);
        if (rc < 0)
            return rc;
        c->at_least = 1;
        if (c->kind == COND_ANY && (v = json_object_get(j, "at_least"))) {
            double d = 0;
            snprintf(at, sizeof at, "%.400s.at_least", where);
            rc = number(ps, at, v, 1, (double)c->n_kids, &d);
            c->at_least = (int)d;
        }
        if (c->kind == COND_SEQUENCE) {
            snprintf(at, sizeof at, "%.400s.within", where);
            if (!(v = json_object_get(j, "within")))
                return bad(ps, at, "a sequence needs within (seconds)");
            rc = number(ps, at, v, 0, 86400, &c->within);
        }
        return rc;
    }
    return bad(ps, where, "an object needs label, all, any, none or sequence");
}

/* The fields each kind of rule takes, for unknown-field errors. */
static const char *const fields_of[] = {
    [RULE_CONCEPT] = "name, scope, when, unless, weight",
    [RULE_SUPPRESS] = "name, label, scope, when, unless",
    [RULE_SENSE] = "name, label, as, scope, when, unless",
};

static int field_allowed(enum rule_kind kind, const char *key)
{
    size_t len = strlen(key);

    for (const char *p = fields_of[kind]; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, key, len) == 0)
            return 1;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

/* A string field of at most 200 bytes, copied into *out. */
static int short_string(struct parser *ps, const char *where, json_t *v, const char *what,
                        char **out)
{
    if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 200)
        return bad(ps, where, what);
    return (*out = strdup(json_string_value(v))) ? 0 : AITAG_ERR_NOMEM;
}

static int parse_rule(struct parser *ps, const char *where, json_t *j, enum rule_kind kind,
                      struct rule *r)
{
    char at[512], msg[80];
    const char *key, *scope;
    json_t *v;
    int rc = 0;

    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->weight = 1.0f;
    if (!json_is_object(j))
        return bad(ps, where, "a rule is an object");
    json_object_foreach(j, key, v)
    {
        snprintf(at, sizeof at, "%.400s.%s", where, key);
        snprintf(msg, sizeof msg, "unknown field (%s)", fields_of[kind]);
        if (!field_allowed(kind, key))
            return bad(ps, at, msg);
    }
    snprintf(at, sizeof at, "%.400s.name", where);
    rc = short_string(ps, at, json_object_get(j, "name"),
                      "must be a non-empty string of at most 200 bytes", &r->name);
    if (rc < 0)
        return rc;
    if (kind != RULE_CONCEPT) {
        snprintf(at, sizeof at, "%.400s.label", where);
        v = json_object_get(j, "label");
        if (!json_is_string(v))
            return bad(ps, at,
                       kind == RULE_SUPPRESS ? "must name the label to suppress"
                                             : "must name the label to read");
        r->target.kind = COND_LABEL;
        r->target.count = 1;
        rc = parse_labels(ps, at, json_string_value(v), &r->target);
        if (rc < 0)
            return rc;
    }
    if (kind == RULE_SENSE) {
        snprintf(at, sizeof at, "%.400s.as", where);
        rc = short_string(ps, at, json_object_get(j, "as"),
                          "must be the label to read it as (at most 200 bytes)", &r->as);
        if (rc < 0)
            return rc;
        if (strchr(r->as, '|'))
            return bad(ps, at, "one label, not alternatives");
    }
    snprintf(at, sizeof at, "%.400s.scope", where);
    v = json_object_get(j, "scope");
    scope = v ? json_string_value(v) : "frame";
    if (!scope ||
        (strcmp(scope, "frame") != 0 && strcmp(scope, "shot") != 0 && strcmp(scope, "item") != 0))
        return bad(ps, at, "must be frame, shot or item");
    r->scope = scope[0] == 'f' ? SCOPE_FRAME : scope[0] == 's' ? SCOPE_SHOT : SCOPE_ITEM;
    snprintf(at, sizeof at, "%.400s.when", where);
    if (!(v = json_object_get(j, "when")))
        return bad(ps, at, "missing");
    rc = parse_cond(ps, at, v, 0, &r->when);
    if (rc == 0 && (v = json_object_get(j, "unless"))) {
        snprintf(at, sizeof at, "%.400s.unless", where);
        r->has_unless = 1;
        rc = parse_cond(ps, at, v, 0, &r->unless);
    }
    if (rc == 0 && (v = json_object_get(j, "weight"))) {
        double d = 0;
        snprintf(at, sizeof at, "%.400s.weight", where);
        rc = number(ps, at, v, 0, 10, &d);
        r->weight = (float)d;
    }
    if (rc == 0 && !(r->canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)))
        rc = AITAG_ERR_NOMEM;
    return rc;
}

static void make_key(struct aitag_context *c)
{
    size_t len = 0;
    char *all, *p;

    c->key[0] = '\0';
    if (c->n == 0)
        return;
    for (size_t i = 0; i < c->n; i++)
        len += strlen(c->rules[i].canon) + 2;
    all = malloc(len + 1);
    if (!all) { /* no key: never equal to a stored one, so results re-derive */
        snprintf(c->key, sizeof c->key, "unkeyed");
        return;
    }
    p = all;
    for (size_t i = 0; i < c->n; i++)
        p += sprintf(p, "%c%s\n", "csn"[c->rules[i].kind], c -> rules[i].canon);
    aitag_sha256_buf(all, (size_t)(p - all), c->key);
    free(all);
}

/* Adds r (taken over), replacing a rule of the same kind and name. */
static int add_rule(struct aitag_context *c, struct rule *r)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->rules[i].kind == r->kind && strcmp(c->rules[i].name, r->name) == 0) {
            context_rule_free(&c->rules[i]);
            c->rules[i] = *r;
            memset(r, 0, sizeof *r);
            return 0;
        }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        struct rule *g = realloc(c->rules, nc * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        c->rules = g, c->cap = nc;
    }
    c->rules[c->n++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

/* Adds the rules of the parsed file root (taken over). */
static int load_root(struct aitag_context *c, json_t *root, const char *name, char *err,
                     size_t errlen)
{
    struct parser ps = {name, err, errlen};
    static const char *const lists[] = {
        [RULE_CONCEPT] = "concepts", [RULE_SUPPRESS] = "suppress", [RULE_SENSE] = "senses"};
    struct rule *parsed = NULL;
    size_t n = 0, total = 0;
    const char *key;
    json_t *v;
    int rc = 0;

    if (!json_is_object(root)) {
        rc = bad(&ps, "top level", "must be an object with concepts, suppress and senses");
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "concepts") != 0 && strcmp(key, "suppress") != 0 &&
            strcmp(key, "senses") != 0 && strcmp(key, "version") != 0 &&
            strcmp(key, "comment") != 0) {
            rc = bad(&ps, key, "unknown field (concepts, suppress, senses, version, comment)");
            goto out;
        }
        if (json_is_array(v))
            total += json_array_size(v);
    }
    parsed = calloc(total ? total : 1, sizeof *parsed);
    if (!parsed) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (int l = 0; l < 3 && rc == 0; l++) {
        json_t *arr = json_object_get(root, lists[l]), *r;
        size_t i;
        if (!arr)
            continue;
        if (!json_is_array(arr)) {
            rc = bad(&ps, lists[l], "must be an array");
            break;
        }
        json_array_foreach(arr, i, r)
        {
            char at[64];
            snprintf(at, sizeof at, "%s[%zu]", lists[l], i);
            rc = parse_rule(&ps, at, r, (enum rule_kind)l, &parsed[n]);
            n++;
            if (rc < 0)
                break;
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = add_rule(c, &parsed[i]);
    make_key(c);
out:
    for (size_t i = 0; parsed && i < n; i++)
        context_rule_free(&parsed[i]);
    free(parsed);
    json_decref(root);
    if (rc == AITAG_ERR_NOMEM)
        snprintf(err, errlen, "%s: out of memory", name);
    return rc;
}

int aitag_context_load_text(struct aitag_context *c, const char *text, const char *name, char *err,
                            size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);

    if (!root) {
        snprintf(err, errlen, "%s: line %d: %s", name, je.line, je.text);
        return AITAG_ERR_INVALID;
    }
    return load_root(c, root, name, err, errlen);
}

int aitag_context_load(struct aitag_context *c, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);

    if (!root) {
        int unreadable = json_error_code(&je) == json_error_cannot_open_file;
        if (unreadable)
            snprintf(err, errlen, "%s: cannot be read", path);
        else
            snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return unreadable ? AITAG_ERR_IO : AITAG_ERR_INVALID;
    }
    return load_root(c, root, path, err, errlen);
}

int aitag_context_new(struct aitag_context **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : AITAG_ERR_NOMEM;
}

void aitag_context_free(struct aitag_context *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        context_rule_free(&c->rules[i]);
    free(c->rules);
    free(c);
}

size_t aitag_context_size(const struct aitag_context *c)
{
    return c ? c->n : 0;
}

const char *aitag_context_rule_name(const struct aitag_context *c, size_t i, int *is_suppress)
{
    if (!c || i >= c->n)
        return NULL;
    if (is_suppress)
        *is_suppress = c->rules[i].kind != RULE_CONCEPT;
    return c->rules[i].name;
}

const char *aitag_context_rule_as(const struct aitag_context *c, size_t i)
{
    return c && i < c->n ? c->rules[i].as : NULL;
}

const char *aitag_context_key(const struct aitag_context *c)
{
    return c ? c->key : "";
}

static void positive_labels(const struct cond *c, const char **out, size_t max, size_t *n)
{
    if (c->kind == COND_NONE)
        return;
    for (size_t i = 0; i < c->n_labels; i++) {
        size_t k = 0;
        while (k < *n && k < max && strcmp(out[k], c->labels[i]) != 0)
            k++;
        if (k < *n && k < max)
            continue; /* listed already */
        if (*n < max)
            out[*n] = c->labels[i];
        (*n)++;
    }
    for (size_t i = 0; i < c->n_kids; i++)
        positive_labels(&c->kids[i], out, max, n);
}

size_t aitag_context_rule_labels(const struct aitag_context *c, size_t i, const char **out,
                                 size_t max)
{
    size_t n = 0;

    if (c && i < c->n)
        positive_labels(&c->rules[i].when, out, max, &n);
    return n;
}
