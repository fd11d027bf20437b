/*
 * tfjs_model.c - reading a TensorFlow.js graph model: model.json (modelTopology.node, the
 * weightsManifest, the signature) and its binary shards.
 *
 * Weights are decoded the way tfjs-core's io.decodeWeights does it, so converted outputs can
 * match TensorFlow.js bit for bit where the arithmetic allows: the shards of one manifest group
 * are one byte stream; each weight takes count * sizeof(stored type) bytes in manifest order;
 * uint8/uint16 quantised values become q * scale + min computed in double precision and rounded
 * to float32 (JavaScript numbers are doubles, the result is stored in a Float32Array); float16
 * quantised values are widened exactly. Everything ends up float32, int32 or bool on the host,
 * and the ONNX file stores float32 (see docs/models.md: "Converted models").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_int.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct tfnode *conv_tfjs_find(struct conv *c, const char *name)
{
    size_t mask = c->index_cap - 1, i = (size_t)hash_str(name) & mask;

    for (; c->node_index[i]; i = (i + 1) & mask) {
        if (strcmp(c->node_index[i]->name, name) == 0)
            return c->node_index[i];
    }
    return NULL;
}

struct ctensor *conv_tfjs_weight(struct conv *c, const char *name)
{
    /* weights are few (hundreds) and looked up once per Const node */
    for (size_t i = 0; i < c->n_weights; i++) {
        if (strcmp(c->weights[i].name, name) == 0)
            return c->weights[i].t;
    }
    return NULL;
}

int conv_tf_dtype(const char *s)
{
    static const struct {
        const char *name;
        int dt;
    } map[] = {
        {"DT_FLOAT", DT_FLOAT}, {"float32", DT_FLOAT}, {"DT_INT32", DT_INT32}, {"int32", DT_INT32},
        {"DT_INT64", DT_INT64}, {"int64", DT_INT64},   {"DT_BOOL", DT_BOOL},   {"bool", DT_BOOL},
        {"DT_UINT8", DT_UINT8}, {"uint8", DT_UINT8},
    };

    for (size_t i = 0; s && i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i].name, s) == 0)
            return map[i].dt;
    }
    return DT_UNDEF;
}

static json_t *attr_get(const struct tfnode *n, const char *key)
{
    return n->attr ? json_object_get(n->attr, key) : NULL;
}

static int64_t json_int_or_str(struct conv *c, const struct tfnode *n, json_t *v, const char *key)
{
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v)) {
        char *end;
        long long x = strtoll(json_string_value(v), &end, 10);
        if (*end == '\0' && end != json_string_value(v))
            return x;
    }
    conv_fail(c, AITAG_ERR_INVALID, "node \"%s\": attribute %s is not an integer", n->name, key);
}

int64_t conv_attr_int(struct conv *c, const struct tfnode *n, const char *key, int64_t def)
{
    json_t *a = attr_get(n, key), *v;

    if (!a || !(v = json_object_get(a, "i")))
        return def;
    return json_int_or_str(c, n, v, key);
}

int conv_attr_bool(struct conv *c, const struct tfnode *n, const char *key, int def)
{
    json_t *a = attr_get(n, key), *v;

    (void)c;
    if (!a || !(v = json_object_get(a, "b")))
        return def;
    return json_is_true(v);
}

double conv_attr_float(struct conv *c, const struct tfnode *n, const char *key, double def)
{
    json_t *a = attr_get(n, key), *v;

    if (!a || !(v = json_object_get(a, "f")))
        return def;
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) /* "NaN", "Infinity" or a decimal string */
        return strtod(json_string_value(v), NULL);
    conv_fail(c, AITAG_ERR_INVALID, "node \"%s\": attribute %s is not a number", n->name, key);
}

const char *conv_attr_str(struct conv *c, const struct tfnode *n, const char *key, const char *def)
{
    json_t *a = attr_get(n, key), *v;
    uint8_t *d;
    size_t len;

    if (!a || !(v = json_object_get(a, "s")) || !json_is_string(v))
        return def;
    d = conv_base64(c, json_string_value(v), &len);
    if (!d)
        conv_fail(c, AITAG_ERR_INVALID, "node \"%s\": attribute %s is not base64", n->name, key);
    d[len] = '\0';
    return (const char *)d;
}

int conv_attr_ints(struct conv *c, const struct tfnode *n, const char *key, int64_t *out, int max)
{
    json_t *a = attr_get(n, key), *l, *arr;
    size_t i;
    int k = 0;

    if (!a || !(l = json_object_get(a, "list")))
        return -1;
    arr = json_object_get(l, "i");
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        conv_fail(c, AITAG_ERR_INVALID, "node \"%s\": attribute %s: bad list", n->name, key);
    if (json_array_size(arr) > (size_t)max)
        conv_fail(c, AITAG_ERR_MODEL, "node \"%s\": attribute %s has more than %d entries", n->name,
                  key, max);
    for (i = 0; i < json_array_size(arr); i++)
        out[k++] = json_int_or_str(c, n, json_array_get(arr, i), key);
    return k;
}

int conv_attr_strs(struct conv *c, const struct tfnode *n, const char *key, const char **out,
                   int max)
{
    json_t *a = attr_get(n, key), *l, *arr;
    int k = 0;

    if (!a || !(l = json_object_get(a, "list")))
        return -1;
    arr = json_object_get(l, "s");
    if (!arr)
        return 0;
    for (size_t i = 0; i < json_array_size(arr) && k < max; i++) {
        json_t *v = json_array_get(arr, i);
        size_t len;
        uint8_t *d = json_is_string(v) ? conv_base64(c, json_string_value(v), &len) : NULL;
        if (!d)
            conv_fail(c, AITAG_ERR_INVALID, "node \"%s\": attribute %s: bad string", n->name, key);
        d[len] = '\0';
        out[k++] = (const char *)d;
    }
    return k;
}

int conv_attr_dtype(struct conv *c, const struct tfnode *n, const char *key, int def)
{
    json_t *a = attr_get(n, key), *v;
    int dt;

    if (!a || !(v = json_object_get(a, "type")))
        return def;
    dt = conv_tf_dtype(json_string_value(v));
    if (dt == DT_UNDEF)
        conv_fail(c, AITAG_ERR_MODEL, "node \"%s\" (op %s): unsupported type %s for %s", n->name,
                  n->op, json_is_string(v) ? json_string_value(v) : "?", key);
    return dt;
}

static void index_nodes(struct conv *c)
{
    size_t cap = 16;

    while (cap < c->n_nodes * 2)
        cap *= 2;
    c->index_cap = cap;
    c->node_index = conv_alloc(c, cap * sizeof *c->node_index);
    for (size_t k = 0; k < c->n_nodes; k++) {
        struct tfnode *n = &c->nodes[k];
        size_t i = (size_t)hash_str(n->name) & (cap - 1);
        for (; c->node_index[i]; i = (i + 1) & (cap - 1)) {
            if (strcmp(c->node_index[i]->name, n->name) == 0)
                conv_fail(c, AITAG_ERR_INVALID, "node \"%s\" defined twice", n->name);
        }
        c->node_index[i] = n;
    }
}

static void parse_nodes(struct conv *c, json_t *arr)
{
    c->n_nodes = json_array_size(arr);
    c->nodes = conv_alloc(c, (c->n_nodes ? c->n_nodes : 1) * sizeof *c->nodes);
    for (size_t k = 0; k < c->n_nodes; k++) {
        json_t *j = json_array_get(arr, k), *ins = json_object_get(j, "input");
        struct tfnode *n = &c->nodes[k];
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *op = json_string_value(json_object_get(j, "op"));

        if (!name || !op)
            conv_fail(c, AITAG_ERR_INVALID, "node %zu lacks a name or an op", k);
        n->name = name;
        n->op = op;
        n->attr = json_object_get(j, "attr");
        n->inputs = conv_alloc(c, (json_array_size(ins) + 1) * sizeof *n->inputs);
        for (size_t i = 0; i < json_array_size(ins); i++) {
            const char *s = json_string_value(json_array_get(ins, i));
            if (!s)
                conv_fail(c, AITAG_ERR_INVALID, "node \"%s\": bad input %zu", name, i);
            if (s[0] != '^')
                n->inputs[n->n_in++] = s;
        }
        n->out = conv_alloc(c, CONV_MAX_OUTS * sizeof *n->out);
    }
    index_nodes(c);
}

/* Reads every shard of a group into one buffer. */
static uint8_t *read_group(struct conv *c, const char *dir, json_t *paths, size_t *len)
{
    size_t total = 0, off = 0;
    uint8_t *buf;
    char **full = conv_alloc(c, (json_array_size(paths) + 1) * sizeof *full);

    for (size_t i = 0; i < json_array_size(paths); i++) {
        const char *p = json_string_value(json_array_get(paths, i));
        FILE *f;
        long sz;
        if (!p || p[0] == '/' || strstr(p, ".."))
            conv_fail(c, AITAG_ERR_INVALID, "bad shard path");
        full[i] = conv_printf(c, "%s/%s", dir, p);
        f = fopen(full[i], "rb");
        if (!f)
            conv_fail(c, AITAG_ERR_IO, "cannot open shard %s", full[i]);
        if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0) {
            fclose(f);
            conv_fail(c, AITAG_ERR_IO, "cannot read shard %s", full[i]);
        }
        fclose(f);
        total += (size_t)sz;
    }
    buf = conv_alloc(c, total ? total : 1);
    for (size_t i = 0; i < json_array_size(paths); i++) {
        FILE *f = fopen(full[i], "rb");
        size_t got;
        if (!f)
            conv_fail(c, AITAG_ERR_IO, "cannot open shard %s", full[i]);
        got = fread(buf + off, 1, total - off, f);
        fclose(f);
        off += got;
    }
    if (off != total)
        conv_fail(c, AITAG_ERR_IO, "short read on the shards of %s", c->p->model_json);
    *len = total;
    return buf;
}

static struct ctensor *decode_weight(struct conv *c, json_t *w, const uint8_t *buf, size_t len,
                                     size_t *off)
{
    const char *name = json_string_value(json_object_get(w, "name"));
    json_t *shape = json_object_get(w, "shape"), *q = json_object_get(w, "quantization");
    int dtype = conv_tf_dtype(json_string_value(json_object_get(w, "dtype")));
    const char *qtype = q ? json_string_value(json_object_get(q, "dtype")) : NULL;
    int64_t dims[CONV_MAX_DIMS];
    int ndim = (int)json_array_size(shape);
    size_t stored, bytes;
    struct ctensor *t;
    const uint8_t *src;

    if (!name || dtype == DT_UNDEF || dtype == DT_UINT8 || dtype == DT_INT64 ||
        ndim > CONV_MAX_DIMS)
        conv_fail(c, AITAG_ERR_MODEL, "weight \"%s\": unsupported dtype or rank",
                  name ? name : "?");
    for (int i = 0; i < ndim; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            conv_fail(c, AITAG_ERR_INVALID, "weight \"%s\": bad shape", name);
        dims[i] = json_integer_value(d);
    }
    t = conv_ctensor_new(c, dtype, ndim, dims);
    if (!qtype)
        stored = conv_dtype_size(dtype);
    else if (strcmp(qtype, "uint8") == 0)
        stored = 1;
    else if (strcmp(qtype, "uint16") == 0 || strcmp(qtype, "float16") == 0)
        stored = 2;
    else
        conv_fail(c, AITAG_ERR_MODEL, "weight \"%s\": unsupported quantisation %s", name, qtype);
    if (qtype && dtype != DT_FLOAT && strcmp(qtype, "float16") == 0)
        conv_fail(c, AITAG_ERR_MODEL, "weight \"%s\": float16 storage of a non-float", name);
    bytes = t->count * stored;
    if (bytes > len - *off)
        conv_fail(c, AITAG_ERR_INVALID,
                  "the shards end inside weight \"%s\" (need %zu bytes at %zu of %zu)", name, bytes,
                  *off, len);
    src = buf + *off;
    *off += bytes;
    if (!qtype) {
        memcpy(t->data, src, bytes); /* little-endian on disk and here */
    } else if (strcmp(qtype, "float16") == 0) {
        for (size_t i = 0; i < t->count; i++) {
            uint16_t h = (uint16_t)(src[2 * i] | (src[2 * i + 1] << 8));
            ((float *)t->data)[i] = conv_half_to_float(h);
        }
    } else {
        double scale = json_number_value(json_object_get(q, "scale"));
        double min = json_number_value(json_object_get(q, "min"));
        for (size_t i = 0; i < t->count; i++) {
            double v = stored == 1 ? src[i] : (double)(src[2 * i] | (src[2 * i + 1] << 8));
            conv_ctensor_set(
                t, i, dtype == DT_FLOAT ? (double)(float)(v * scale + min) : v * scale + min);
        }
    }
    return t;
}

void conv_tfjs_load(struct conv *c)
{
    json_error_t je;
    json_t *topo, *nodes, *manifest;
    const char *fmt, *slash;
    const char *dir = c->p->weights_dir;

    c->root = json_load_file(c->p->model_json, 0, &je);
    if (!c->root && je.line < 1)
        conv_fail(c, AITAG_ERR_IO, "%s", je.text);
    if (!c->root)
        conv_fail(c, AITAG_ERR_INVALID, "line %d column %d: %s", je.line, je.column, je.text);
    fmt = json_string_value(json_object_get(c->root, "format"));
    topo = json_object_get(c->root, "modelTopology");
    if (fmt && strcmp(fmt, "graph-model") != 0)
        conv_fail(c, AITAG_ERR_MODEL,
                  "format \"%s\" is not a graph model (layers models "
                  "are not supported)",
                  fmt);
    nodes = json_object_get(topo, "node");
    if (!json_is_array(nodes))
        conv_fail(c, AITAG_ERR_INVALID, "no modelTopology.node array");
    parse_nodes(c, nodes);
    if (!dir) {
        slash = strrchr(c->p->model_json, '/');
        dir =
            slash ? conv_printf(c, "%.*s", (int)(slash - c->p->model_json), c->p->model_json) : ".";
    }
    manifest = json_object_get(c->root, "weightsManifest");
    for (size_t g = 0; g < json_array_size(manifest); g++)
        c->n_weights += json_array_size(json_object_get(json_array_get(manifest, g), "weights"));
    c->weights = conv_alloc(c, (c->n_weights + 1) * sizeof *c->weights);
    c->n_weights = 0;
    for (size_t g = 0; g < json_array_size(manifest); g++) {
        json_t *grp = json_array_get(manifest, g), *ws = json_object_get(grp, "weights");
        size_t len, off = 0;
        uint8_t *buf = read_group(c, dir, json_object_get(grp, "paths"), &len);
        for (size_t i = 0; i < json_array_size(ws); i++) {
            json_t *w = json_array_get(ws, i);
            struct ctensor *t = decode_weight(c, w, buf, len, &off);
            c->weights[c->n_weights].name = json_string_value(json_object_get(w, "name"));
            c->weights[c->n_weights++].t = t;
        }
    }
}
