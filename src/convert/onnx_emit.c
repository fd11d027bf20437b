/*
 * onnx_emit.c - building the ONNX ModelProto with the protobuf-c code generated at build time
 * from Debian's onnx.proto, and writing it.
 *
 * Every message lives in the conversion's arena, so the tree is never freed piece by piece.
 * Value names are kept unique with a hash set: TensorFlow names are reused where free ("node",
 * "node:1"), helper values get a suffix ("node/nchw"), and clashes get "_2", "_3"... Graph input
 * and output names are reserved before any node is converted, so they keep their exact
 * signature names. Output is deterministic: nodes in conversion order, initialisers in first-use
 * order, no timestamps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert_int.h"

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int name_used(struct conv *c, const char *s)
{
    size_t mask = c->cap_used - 1;

    if (!c->cap_used)
        return 0;
    for (size_t i = (size_t)hash_name(s) & mask; c->used_names[i]; i = (i + 1) & mask) {
        if (strcmp(c->used_names[i], s) == 0)
            return 1;
    }
    return 0;
}

static void name_add(struct conv *c, const char *s)
{
    size_t mask;

    if (c->n_used * 2 >= c->cap_used) {
        size_t cap = c->cap_used ? c->cap_used * 2 : 1024;
        const char **old = c->used_names;
        size_t old_cap = c->cap_used;
        c->used_names = conv_alloc(c, cap * sizeof *c->used_names);
        c->cap_used = cap;
        c->n_used = 0;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i])
                name_add(c, old[i]);
        }
    }
    mask = c->cap_used - 1;
    size_t i = (size_t)hash_name(s) & mask;
    while (c->used_names[i])
        i = (i + 1) & mask;
    c->used_names[i] = s;
    c->n_used++;
}

const char *conv_oname(struct conv *c, const char *base, const char *suffix)
{
    char *s = conv_printf(c, "%s%s", base, suffix ? suffix : "");

    for (int k = 2; name_used(c, s); k++)
        s = conv_printf(c, "%s%s_%d", base, suffix ? suffix : "", k);
    name_add(c, s);
    return s;
}

Onnx__NodeProto *conv_onode(struct conv *c, const char *op, const char *name, int n_in,
                            const char *const *in, int n_out, const char *const *out)
{
    Onnx__NodeProto *n = conv_alloc(c, sizeof *n);

    onnx__node_proto__init(n);
    n->op_type = conv_strdup(c, op);
    n->name = (char *)name;
    n->n_input = (size_t)n_in;
    n->input = conv_alloc(c, (size_t)(n_in + 1) * sizeof *n->input);
    for (int i = 0; i < n_in; i++)
        n->input[i] = conv_strdup(c, in[i] ? in[i] : "");
    n->n_output = (size_t)n_out;
    n->output = conv_alloc(c, (size_t)(n_out + 1) * sizeof *n->output);
    for (int i = 0; i < n_out; i++)
        n->output[i] = conv_strdup(c, out[i]);
    if (c->n_onodes == c->cap_onodes) {
        size_t cap = c->cap_onodes ? c->cap_onodes * 2 : 256;
        Onnx__NodeProto **a = conv_alloc(c, cap * sizeof *a);
        if (c->n_onodes)
            memcpy(a, c->onodes, c->n_onodes * sizeof *a);
        c->onodes = a;
        c->cap_onodes = cap;
    }
    c->onodes[c->n_onodes++] = n;
    return n;
}

static Onnx__AttributeProto *add_attr(struct conv *c, Onnx__NodeProto *n, const char *key,
                                      Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = conv_alloc(c, sizeof *a);
    Onnx__AttributeProto **arr = conv_alloc(c, (n->n_attribute + 1) * sizeof *arr);

    onnx__attribute_proto__init(a);
    a->name = conv_strdup(c, key);
    a->has_type = 1;
    a->type = type;
    if (n->n_attribute)
        memcpy(arr, n->attribute, n->n_attribute * sizeof *arr);
    arr[n->n_attribute++] = a;
    n->attribute = arr;
    return a;
}

void conv_oattr_int(struct conv *c, Onnx__NodeProto *n, const char *key, int64_t v)
{
    Onnx__AttributeProto *a = add_attr(c, n, key, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

    a->has_i = 1;
    a->i = v;
}

void conv_oattr_float(struct conv *c, Onnx__NodeProto *n, const char *key, float v)
{
    Onnx__AttributeProto *a = add_attr(c, n, key, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

    a->has_f = 1;
    a->f = v;
}

void conv_oattr_str(struct conv *c, Onnx__NodeProto *n, const char *key, const char *v)
{
    Onnx__AttributeProto *a = add_attr(c, n, key, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);

    a->has_s = 1;
    a->s.data = (uint8_t *)conv_strdup(c, v);
    a->s.len = strlen(v);
}

void conv_oattr_ints(struct conv *c, Onnx__NodeProto *n, const char *key, const int64_t *v,
                     size_t count)
{
    Onnx__AttributeProto *a = add_attr(c, n, key, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

    a->n_ints = count;
    a->ints = conv_alloc(c, (count + 1) * sizeof *a->ints);
    if (count)
        memcpy(a->ints, v, count * sizeof *v);
}

const char *conv_oinit(struct conv *c, const char *base, const struct ctensor *t)
{
    Onnx__TensorProto *tp = conv_alloc(c, sizeof *tp);
    size_t bytes = t->count * conv_dtype_size(t->dtype);

    onnx__tensor_proto__init(tp);
    tp->name = (char *)conv_oname(c, base, NULL);
    tp->n_dims = (size_t)t->ndim;
    tp->dims = conv_alloc(c, (size_t)(t->ndim + 1) * sizeof *tp->dims);
    memcpy(tp->dims, t->dims, (size_t)t->ndim * sizeof *tp->dims);
    tp->has_data_type = 1;
    tp->data_type = t->dtype;
    tp->has_raw_data = 1;
    tp->raw_data.len = bytes;
    tp->raw_data.data = t->data; /* host order is little-endian, as ONNX wants */
    if (c->n_inits == c->cap_inits) {
        size_t cap = c->cap_inits ? c->cap_inits * 2 : 256;
        Onnx__TensorProto **a = conv_alloc(c, cap * sizeof *a);
        if (c->n_inits)
            memcpy(a, c->inits, c->n_inits * sizeof *a);
        c->inits = a;
        c->cap_inits = cap;
    }
    c->inits[c->n_inits++] = tp;
    return tp->name;
}

const char *conv_oinit_i64(struct conv *c, const char *base, const int64_t *v, size_t count)
{
    int64_t d = (int64_t)count;
    struct ctensor *t = conv_ctensor_new(c, DT_INT64, 1, &d);

    if (count)
        memcpy(t->data, v, count * sizeof *v);
    return conv_oinit(c, base, t);
}

const char *conv_oinit_f32(struct conv *c, const char *base, float v)
{
    struct ctensor *t = conv_ctensor_new(c, DT_FLOAT, 0, NULL);

    *(float *)t->data = v;
    return conv_oinit(c, base, t);
}

static Onnx__ValueInfoProto *value_info(struct conv *c, const char *name, int dtype, int ndim,
                                        const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = conv_alloc(c, sizeof *vi);
    Onnx__TypeProto *tp = conv_alloc(c, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = conv_alloc(c, sizeof *tt);

    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    vi->name = (char *)name;
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = dtype;
    if (ndim >= 0) {
        Onnx__TensorShapeProto *sp = conv_alloc(c, sizeof *sp);
        onnx__tensor_shape_proto__init(sp);
        sp->n_dim = (size_t)ndim;
        sp->dim = conv_alloc(c, (size_t)(ndim + 1) * sizeof *sp->dim);
        for (int i = 0; i < ndim; i++) {
            Onnx__TensorShapeProto__Dimension *d = conv_alloc(c, sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = i == 0 ? "batch" : conv_printf(c, "d%d", i);
            }
            sp->dim[i] = d;
        }
        tt->shape = sp;
    }
    return vi;
}

void conv_ograph_input(struct conv *c, const char *name, int dtype, int ndim, const int64_t *dims)
{
    Onnx__ValueInfoProto **a = conv_alloc(c, (c->n_ginputs + 1) * sizeof *a);

    if (c->n_ginputs)
        memcpy(a, c->ginputs, c->n_ginputs * sizeof *a);
    a[c->n_ginputs++] = value_info(c, name, dtype, ndim, dims);
    c->ginputs = a;
}

void conv_ograph_output(struct conv *c, const char *name, int dtype)
{
    Onnx__ValueInfoProto **a = conv_alloc(c, (c->n_goutputs + 1) * sizeof *a);

    if (c->n_goutputs)
        memcpy(a, c->goutputs, c->n_goutputs * sizeof *a);
    a[c->n_goutputs++] = value_info(c, name, dtype, -1, NULL);
    c->goutputs = a;
}

size_t conv_onnx_write(struct conv *c, const char *path, size_t *n_nodes, size_t *n_inits)
{
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset, *opsets[1] = {&opset};
    size_t size, wrote;
    uint8_t *buf;
    char *tmp;
    FILE *f;

    onnx__model_proto__init(&model);
    onnx__graph_proto__init(&graph);
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1;
    opset.version = 13;
    model.has_ir_version = 1;
    model.ir_version = 7; /* the IR that goes with opset 13 */
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.producer_name = (char *)(c->p->producer ? c->p->producer : "aitag-convert");
    model.producer_version = AITAG_VERSION;
    model.graph = &graph;
    graph.name = "tfjs";
    graph.n_node = c->n_onodes;
    graph.node = c->onodes;
    graph.n_initializer = c->n_inits;
    graph.initializer = c->inits;
    graph.n_input = c->n_ginputs;
    graph.input = c->ginputs;
    graph.n_output = c->n_goutputs;
    graph.output = c->goutputs;
    size = protobuf_c_message_get_packed_size(&model.base);
    buf = conv_alloc(c, size ? size : 1);
    if (protobuf_c_message_pack(&model.base, buf) != size)
        conv_fail(c, AITAG_ERR_MODEL, "protobuf packing gave an unexpected size");
    tmp = conv_printf(c, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f)
        conv_fail(c, AITAG_ERR_IO, "cannot create %s", tmp);
    wrote = fwrite(buf, 1, size, f);
    if (fclose(f) != 0 || wrote != size) {
        unlink(tmp);
        conv_fail(c, AITAG_ERR_IO, "cannot write %s", tmp);
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        conv_fail(c, AITAG_ERR_IO, "cannot rename %s to %s", tmp, path);
    }
    *n_nodes = c->n_onodes;
    *n_inits = c->n_inits;
    return size;
}
