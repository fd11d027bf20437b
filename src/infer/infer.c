/*
 * infer.c - the inference context: parameters, the set of opened models, manifest listing and
 * the read-only accessors of a model's manifest.
 *
 * The context owns its models (a small array searched by name: a process uses a handful), so
 * opening a model twice hands back the same handle and its one shared session. Nothing here
 * touches ONNX Runtime except asking for the API table, which is a pure lookup; the OrtEnv is
 * created with the first session (session.c).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "infer_int.h"

struct aitag_infer_params aitag_infer_default_params(void)
{
    struct aitag_infer_params p = {
        .manifest_dir = "models",
        .weights_dir = "deps/models",
        .intra_threads = 1,
        .inter_threads = 1,
        .verify_sha256 = 1,
        .allow_spinning = 0,
    };
    return p;
}

int aitag_infer_new(const struct aitag_infer_params *p, struct aitag_infer **out)
{
    struct aitag_infer *inf;
    const OrtApiBase *base;

    *out = NULL;
    inf = calloc(1, sizeof *inf);
    if (!inf)
        return AITAG_ERR_NOMEM;
    inf->params = p ? *p : aitag_infer_default_params();
    if (inf->params.intra_threads < 1)
        inf->params.intra_threads = 1;
    if (inf->params.inter_threads < 1)
        inf->params.inter_threads = 1;
    inf->manifest_dir = strdup(inf->params.manifest_dir ? inf->params.manifest_dir : "models");
    inf->weights_dir = strdup(inf->params.weights_dir ? inf->params.weights_dir : ".");
    if (!inf->manifest_dir || !inf->weights_dir) {
        free(inf->manifest_dir);
        free(inf->weights_dir);
        free(inf);
        return AITAG_ERR_NOMEM;
    }
    inf->params.manifest_dir = inf->manifest_dir;
    inf->params.weights_dir = inf->weights_dir;
    pthread_mutex_init(&inf->env_lock, NULL);
    base = OrtGetApiBase();
    inf->api = base ? base->GetApi(ORT_API_VERSION) : NULL;
    if (!inf->api)
        infer_set_error(inf, "ONNX Runtime %s does not offer C API version %d",
                        base ? base->GetVersionString() : "?", ORT_API_VERSION);
    *out = inf;
    return 0;
}

void aitag_infer_free(struct aitag_infer *inf)
{
    size_t i;

    if (!inf)
        return;
    for (i = 0; i < inf->n_models; i++)
        infer_model_free(inf->models[i]);
    free(inf->models);
    if (inf->mem)
        inf->api->ReleaseMemoryInfo(inf->mem);
    if (inf->env)
        inf->api->ReleaseEnv(inf->env);
    pthread_mutex_destroy(&inf->env_lock);
    free(inf->manifest_dir);
    free(inf->weights_dir);
    free(inf);
}

const char *aitag_infer_errmsg(const struct aitag_infer *inf)
{
    return inf ? inf->errmsg : "";
}

/* Names become file names: keep them to one plain path component. */
static int valid_name(const char *name)
{
    return name && name[0] && name[0] != '.' && !strchr(name, '/') && strlen(name) < 128;
}

int aitag_model_open(struct aitag_infer *inf, const char *name, struct aitag_model **out)
{
    struct aitag_model *m = NULL, **grown;
    size_t i;
    int rc;

    *out = NULL;
    inf->errmsg[0] = '\0';
    if (!valid_name(name)) {
        infer_set_error(inf, "invalid model name \"%s\"", name ? name : "(null)");
        return AITAG_ERR_INVALID;
    }
    if (!inf->api)
        return AITAG_ERR_MODEL;
    for (i = 0; i < inf->n_models; i++) {
        if (strcmp(inf->models[i]->name, name) == 0) {
            *out = inf->models[i];
            return 0;
        }
    }
    rc = infer_manifest_parse(inf, name, &m, inf->errmsg, sizeof inf->errmsg);
    if (rc < 0)
        return rc;
    if (inf->n_models == inf->cap_models) {
        size_t cap = inf->cap_models ? inf->cap_models * 2 : 8;
        grown = realloc(inf->models, cap * sizeof *grown);
        if (!grown) {
            infer_model_free(m);
            return AITAG_ERR_NOMEM;
        }
        inf->models = grown;
        inf->cap_models = cap;
    }
    inf->models[inf->n_models++] = m;
    *out = m;
    return 0;
}

const char *aitag_model_name(const struct aitag_model *m)
{
    return m->name;
}
const char *aitag_model_version(const struct aitag_model *m)
{
    return m->version;
}
const char *aitag_model_sha256(const struct aitag_model *m)
{
    return m->sha256;
}
const char *aitag_model_path(const struct aitag_model *m)
{
    return m->path;
}
const char *aitag_model_package(const struct aitag_model *m)
{
    return m->package;
}
const char *aitag_model_license(const struct aitag_model *m)
{
    return m->license;
}
const char *aitag_model_task(const struct aitag_model *m)
{
    return m->task;
}
const char *aitag_model_decoder(const struct aitag_model *m)
{
    return m->decoder;
}
const char *aitag_model_analyzer(const struct aitag_model *m)
{
    return m->analyzer;
}
const char *aitag_model_output_name(const struct aitag_model *m, size_t i)
{
    return i < m->n_outputs ? m->outputs[i] : NULL;
}
void aitag_model_counts(const struct aitag_model *m, unsigned long long *runs,
                        unsigned long long *items)
{
    *runs = m->runs;
    *items = m->items;
}
int aitag_infer_model_counts(const struct aitag_infer *inf, const char *name,
                             unsigned long long *runs, unsigned long long *items)
{
    *runs = *items = 0;
    for (size_t i = 0; i < inf->n_models; i++) {
        if (strcmp(inf->models[i]->name, name) == 0) {
            aitag_model_counts(inf->models[i], runs, items);
            return 0;
        }
    }
    return AITAG_ERR_NOTFOUND;
}
const char *aitag_model_key(const struct aitag_model *m)
{
    return m->key;
}
const char *aitag_model_input_layout(const struct aitag_model *m)
{
    return m->nchw ? "NCHW" : "NHWC";
}

double aitag_model_param(const struct aitag_model *m, const char *key, double def)
{
    json_t *v = m->params ? json_object_get(m->params, key) : NULL;

    return json_is_number(v) ? json_number_value(v) : def;
}

const char *const *aitag_model_labels(const struct aitag_model *m, size_t *n)
{
    *n = m->n_labels;
    return m->n_labels ? (const char *const *)m->labels : NULL;
}

const int64_t *aitag_model_input_shape(const struct aitag_model *m, int *ndim)
{
    *ndim = m->input_ndim;
    return m->input_shape;
}

size_t aitag_model_input_size(const struct aitag_model *m)
{
    size_t n = 1;

    for (int i = 1; i < m->input_ndim; i++) {
        if (m->input_shape[i] < 0)
            return 0;
        n *= (size_t)m->input_shape[i];
    }
    return n;
}

int aitag_model_max_batch(const struct aitag_model *m)
{
    if (m->input_ndim < 1)
        return 1;
    return m->input_shape[0] < 0 ? 0 : (int)m->input_shape[0];
}

int aitag_model_input_view(const struct aitag_model *m, struct aitag_view_spec *out)
{
    int64_t h, w;

    memset(out, 0, sizeof *out);
    if (m->input_ndim != 4)
        return AITAG_ERR_INVALID;
    h = m->nchw ? m->input_shape[2] : m->input_shape[1];
    w = m->nchw ? m->input_shape[3] : m->input_shape[2];
    out->fit = m->fit;
    out->multiple = m->multiple;
    if (m->fit == AITAG_FIT_LETTERBOX) {
        if (h < 1 || w < 1)
            return AITAG_ERR_INVALID;
        out->width = (int)w;
        out->height = (int)h;
        return 0;
    }
    /* max_side: the long side comes from params.max_side, else from a fixed dim. */
    out->width = (int)aitag_model_param(m, "max_side", (double)(w > h ? w : h));
    out->height = out->width;
    return out->width > 0 ? 0 : AITAG_ERR_INVALID;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int aitag_infer_list_manifests(const struct aitag_infer *inf, char ***names, size_t *n)
{
    DIR *d;
    struct dirent *e;
    char **arr = NULL, **grown;
    size_t count = 0, cap = 0;
    int rc = 0;

    *names = NULL;
    *n = 0;
    d = opendir(inf->manifest_dir);
    if (!d)
        return AITAG_ERR_IO;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            grown = realloc(arr, cap * sizeof *arr);
            if (!grown) {
                rc = AITAG_ERR_NOMEM;
                goto out;
            }
            arr = grown;
        }
        arr[count] = strndup(e->d_name, len - 5);
        if (!arr[count]) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        count++;
    }
    if (count)
        qsort(arr, count, sizeof *arr, cmp_str);
    *names = arr;
    *n = count;
    arr = NULL;
    count = 0;
out:
    closedir(d);
    for (size_t i = 0; i < count; i++)
        free(arr[i]);
    free(arr);
    return rc;
}
