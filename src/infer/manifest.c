/*
 * manifest.c - parsing model manifests (<manifest_dir>/<name>.json) with jansson.
 *
 * A manifest is data written by people, so every mistake must point at its place: errors name
 * the manifest file and the dotted key ("models/x.json: key \"input.shape\" ..."). Unknown keys
 * are ignored so that newer manifests still open with older binaries; the required keys are
 * name, file, sha256, input.name and input.shape. Parsing touches only the manifest itself (and
 * a labels_file when one is named): the weights are looked at when a session is created, so
 * listing models or computing their keys never costs a model load. A labels_file that cannot
 * be read is remembered and reported by aitag_model_load, next to a missing weights file.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_int.h"

struct ctx {
    const char *path;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, int rc, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s", c->path, what);
    return rc;
}

/* Reads an optional string member into *out (a copy of def when absent). */
static int get_string(struct ctx *c, json_t *obj, const char *key, const char *dotted, int required,
                      const char *def, char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v) {
        if (required)
            return fail(c, AITAG_ERR_INVALID, "missing required key \"%s\"", dotted);
        if (!def)
            return 0;
        *out = strdup(def);
        return *out ? 0 : AITAG_ERR_NOMEM;
    }
    if (!json_is_string(v))
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be a string", dotted);
    if (required && json_string_length(v) == 0)
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must not be empty", dotted);
    *out = strdup(json_string_value(v));
    return *out ? 0 : AITAG_ERR_NOMEM;
}

/* Reads an optional array of strings. */
static int get_string_array(struct ctx *c, json_t *obj, const char *key, char ***out, size_t *n)
{
    json_t *v = json_object_get(obj, key), *item;
    size_t i;
    char **arr;

    *out = NULL;
    *n = 0;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an array of strings", key);
    arr = calloc(json_array_size(v) + 1, sizeof *arr);
    if (!arr)
        return AITAG_ERR_NOMEM;
    *out = arr;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item))
            return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an array of strings", key);
        arr[i] = strdup(json_string_value(item));
        if (!arr[i])
            return AITAG_ERR_NOMEM;
        *n = i + 1;
    }
    return 0;
}

/* Reads an optional array of 1 or 3 numbers into v[3] (one number applies to all channels). */
static int get_triple(struct ctx *c, json_t *obj, const char *key, const char *dotted, float def,
                      float v[3])
{
    json_t *a = json_object_get(obj, key);
    size_t n, i;

    v[0] = v[1] = v[2] = def;
    if (!a)
        return 0;
    n = json_is_array(a) ? json_array_size(a) : 0;
    if (n != 1 && n != 3)
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an array of 1 or 3 numbers", dotted);
    for (i = 0; i < 3; i++) {
        json_t *x = json_array_get(a, n == 1 ? 0 : i);
        if (!json_is_number(x))
            return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an array of 1 or 3 numbers",
                        dotted);
        v[i] = (float)json_number_value(x);
    }
    return 0;
}

static char *join_path(const char *dir, const char *file)
{
    size_t n;
    char *p;

    if (file[0] == '/' || !dir || !dir[0])
        return strdup(file);
    n = strlen(dir) + strlen(file) + 2;
    p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
    return p;
}

/* One label per line; a final newline does not make an empty label. Returns 0, AITAG_ERR_IO
 * when the file cannot be read, AITAG_ERR_NOMEM. */
static int read_labels_file(const char *path, char ***out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL, **arr = NULL, **grown;
    size_t cap = 0, len_cap = 0, count = 0;
    ssize_t len;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (!f)
        return AITAG_ERR_IO;
    while ((len = getline(&line, &len_cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (count + 1 >= cap) {
            cap = cap ? cap * 2 : 64;
            grown = realloc(arr, cap * sizeof *arr);
            if (!grown) {
                rc = AITAG_ERR_NOMEM;
                goto out;
            }
            arr = grown;
        }
        arr[count] = strdup(line);
        if (!arr[count]) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        arr[++count] = NULL;
    }
    if (ferror(f))
        rc = AITAG_ERR_IO;
out:
    free(line);
    fclose(f);
    if (rc < 0) {
        for (size_t i = 0; i < count; i++)
            free(arr[i]);
        free(arr);
        return rc;
    }
    *out = arr;
    *n = count;
    return 0;
}

static int parse_input(struct ctx *c, json_t *root, struct aitag_model *m)
{
    json_t *in = json_object_get(root, "input"), *shape, *d;
    char *layout = NULL, *color = NULL, *fit = NULL;
    float std[3];
    size_t i;
    int rc;

    if (!in)
        return fail(c, AITAG_ERR_INVALID, "missing required key \"%s\"", "input");
    if (!json_is_object(in))
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an object", "input");
    rc = get_string(c, in, "name", "input.name", 1, NULL, &m->input_name);
    if (rc < 0)
        return rc;
    shape = json_object_get(in, "shape");
    if (!shape)
        return fail(c, AITAG_ERR_INVALID, "missing required key \"%s\"", "input.shape");
    if (!json_is_array(shape) || json_array_size(shape) < 1 ||
        json_array_size(shape) > INFER_MAX_DIMS)
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an array of 1 to 8 integers",
                    "input.shape");
    json_array_foreach(shape, i, d)
    {
        json_int_t x = json_is_integer(d) ? json_integer_value(d) : 0;
        if (x == 0 || x < -1)
            return fail(c, AITAG_ERR_INVALID,
                        "key \"%s\" must hold positive integers or -1 for free dims",
                        "input.shape");
        m->input_shape[i] = x;
    }
    m->input_ndim = (int)json_array_size(shape);

    rc = get_string(c, in, "layout", "input.layout", 0, "NHWC", &layout);
    if (rc < 0)
        goto out;
    if (strcmp(layout, "NHWC") != 0 && strcmp(layout, "NCHW") != 0) {
        rc = fail(c, AITAG_ERR_INVALID, "key \"%s\" must be \"NHWC\" or \"NCHW\"", "input.layout");
        goto out;
    }
    m->nchw = strcmp(layout, "NCHW") == 0;
    if (m->input_ndim != 4 && json_object_get(in, "layout")) {
        rc = fail(c, AITAG_ERR_INVALID, "key \"%s\" needs a 4-dimensional input.shape",
                  "input.layout");
        goto out;
    }
    rc = get_string(c, in, "color", "input.color", 0, "RGB", &color);
    if (rc < 0)
        goto out;
    if (strcmp(color, "RGB") != 0 && strcmp(color, "BGR") != 0) {
        rc = fail(c, AITAG_ERR_INVALID, "key \"%s\" must be \"RGB\" or \"BGR\"", "input.color");
        goto out;
    }
    m->bgr = strcmp(color, "BGR") == 0;
    rc = get_triple(c, in, "mean", "input.mean", 0.0f, m->mean);
    if (rc < 0)
        goto out;
    rc = get_triple(c, in, "std", "input.std", 1.0f, std);
    if (rc < 0)
        goto out;
    for (i = 0; i < 3; i++) {
        if (std[i] == 0.0f) {
            rc = fail(c, AITAG_ERR_INVALID, "key \"%s\" must not hold 0", "input.std");
            goto out;
        }
        m->inv_std[i] = 1.0f / std[i];
    }
    rc = get_string(c, in, "fit", "input.fit", 0, "letterbox", &fit);
    if (rc < 0)
        goto out;
    if (strcmp(fit, "letterbox") == 0) {
        m->fit = AITAG_FIT_LETTERBOX;
    } else if (strcmp(fit, "max_side") == 0) {
        m->fit = AITAG_FIT_MAX_SIDE;
    } else {
        rc = fail(c, AITAG_ERR_INVALID, "key \"%s\" must be \"letterbox\" or \"max_side\"",
                  "input.fit");
        goto out;
    }
    d = json_object_get(in, "multiple");
    if (d && (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 4096)) {
        rc = fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an integer 0..4096", "input.multiple");
        goto out;
    }
    m->multiple = d ? (int)json_integer_value(d) : 0;
out:
    free(layout);
    free(color);
    free(fit);
    return rc;
}

static int parse_root(struct ctx *c, struct aitag_infer *inf, const char *name, json_t *root,
                      struct aitag_model *m)
{
    json_t *v;
    size_t i, n;
    int rc;

    if (!json_is_object(root))
        return fail(c, AITAG_ERR_INVALID, "%s", "the manifest must be a JSON object");
    if ((rc = get_string(c, root, "name", "name", 1, NULL, &m->name)) < 0)
        return rc;
    if (strcmp(m->name, name) != 0)
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must equal the file name", "name");
    if ((rc = get_string(c, root, "version", "version", 0, "0", &m->version)) < 0 ||
        (rc = get_string(c, root, "file", "file", 1, NULL, &m->file)) < 0 ||
        (rc = get_string(c, root, "sha256", "sha256", 1, NULL, &m->sha256)) < 0 ||
        (rc = get_string(c, root, "package", "package", 0, "", &m->package)) < 0 ||
        (rc = get_string(c, root, "license", "license", 0, "", &m->license)) < 0 ||
        (rc = get_string(c, root, "task", "task", 0, "", &m->task)) < 0 ||
        (rc = get_string(c, root, "decoder", "decoder", 0, "", &m->decoder)) < 0 ||
        (rc = get_string(c, root, "analyzer", "analyzer", 0, "", &m->analyzer)) < 0)
        return rc;
    n = strlen(m->sha256);
    for (i = 0; i < n; i++)
        m->sha256[i] = (char)tolower((unsigned char)m->sha256[i]);
    if (n != 64 || strspn(m->sha256, "0123456789abcdef") != 64)
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be 64 hex digits", "sha256");
    if ((rc = parse_input(c, root, m)) < 0)
        return rc;
    if ((rc = get_string_array(c, root, "outputs", &m->outputs, &m->n_outputs)) < 0 ||
        (rc = get_string_array(c, root, "labels", &m->labels, &m->n_labels)) < 0)
        return rc;

    v = json_object_get(root, "labels_file");
    if (v) {
        char *rel = NULL;
        if (m->labels)
            return fail(c, AITAG_ERR_INVALID, "keys \"labels\" and \"%s\" exclude each other",
                        "labels_file");
        if ((rc = get_string(c, root, "labels_file", "labels_file", 1, NULL, &rel)) < 0)
            return rc;
        m->labels_file = join_path(inf->weights_dir, rel);
        free(rel);
        if (!m->labels_file)
            return AITAG_ERR_NOMEM;
        rc = read_labels_file(m->labels_file, &m->labels, &m->n_labels);
        if (rc == AITAG_ERR_NOMEM)
            return rc;
        m->labels_missing = rc < 0;
    }
    v = json_object_get(root, "params");
    if (v && !json_is_object(v))
        return fail(c, AITAG_ERR_INVALID, "key \"%s\" must be an object", "params");
    m->params = v ? json_incref(v) : NULL;

    m->path = join_path(inf->weights_dir, m->file);
    m->key = malloc(strlen(m->name) + strlen(m->version) + 12);
    if (!m->path || !m->key)
        return AITAG_ERR_NOMEM;
    snprintf(m->key, strlen(m->name) + strlen(m->version) + 12, "%s@%s#%.8s", m->name, m->version,
             m->sha256);
    return 0;
}

int infer_manifest_parse(struct aitag_infer *inf, const char *name, struct aitag_model **out,
                         char *err, size_t errlen)
{
    struct aitag_model *m = NULL;
    struct ctx c = {NULL, err, errlen};
    json_error_t jerr;
    json_t *root = NULL;
    FILE *f = NULL;
    char *path = NULL;
    size_t plen;
    int rc;

    *out = NULL;
    err[0] = '\0';
    plen = strlen(inf->manifest_dir) + strlen(name) + 8;
    path = malloc(plen);
    m = calloc(1, sizeof *m);
    if (!path || !m) {
        free(m);
        m = NULL;
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    pthread_mutex_init(&m->load_lock, NULL);
    m->inf = inf;
    snprintf(path, plen, "%s/%s.json", inf->manifest_dir, name);
    c.path = path;
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: no such model manifest", path);
        rc = AITAG_ERR_NOTFOUND;
        goto out;
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    rc = parse_root(&c, inf, name, root, m);
    if (rc == AITAG_ERR_NOMEM && !err[0])
        snprintf(err, errlen, "%s: out of memory", path);
    if (rc < 0)
        goto out;
    m->manifest_path = path;
    path = NULL;
    *out = m;
    m = NULL;
out:
    if (f)
        fclose(f);
    json_decref(root);
    infer_model_free(m);
    free(path);
    return rc;
}

static void free_strings(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void infer_model_free(struct aitag_model *m)
{
    if (!m)
        return;
    if (m->session)
        m->inf->api->ReleaseSession(m->session);
    free_strings(m->sess_outputs, m->n_sess_outputs);
    pthread_mutex_destroy(&m->load_lock);
    free(m->manifest_path);
    free(m->name);
    free(m->version);
    free(m->file);
    free(m->sha256);
    free(m->package);
    free(m->license);
    free(m->task);
    free(m->decoder);
    free(m->analyzer);
    free(m->path);
    free(m->key);
    json_decref(m->params);
    free_strings(m->labels, m->n_labels);
    free(m->labels_file);
    free_strings(m->outputs, m->n_outputs);
    free(m->input_name);
    free(m);
}
