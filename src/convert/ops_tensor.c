/*
 * ops_tensor.c - element-wise arithmetic and comparisons, casts and shape ops (Reshape,
 * Squeeze, ExpandDims, Concat, Pack, Unpack, Split, Transpose). Slicing, gathering, TopK,
 * ArgMax and reductions are in ops_select.c.
 *
 * TensorFlow.js graphs use int32 for indices and shapes; ONNX wants int64 for shapes, axes,
 * pads and TopK's k, and returns int64 indices. Constant shape operands are written as int64
 * initialisers directly; computed ones get a Cast. TopK's int64 indices are cast back to int32
 * so the arithmetic that follows (FloorDiv, FloorMod, Mul on int32 constants) keeps TensorFlow's
 * types. FloorDiv and FloorMod on integers follow TensorFlow's floor semantics for negative
 * operands too: FloorMod is ONNX Mod with fmod=0 (sign of the divisor), FloorDiv is
 * (a - FloorMod(a, b)) / b, an exact division.
 */
#include <stdint.h>
#include <string.h>

#include "convert_int.h"

void conv_bcast_shape(const struct value *a, const struct value *b, int *ndim, int64_t *dims)
{
    int r;

    if (a->ndim < 0 || b->ndim < 0) {
        *ndim = -1;
        return;
    }
    r = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da == 1)
            dims[i] = db;
        else if (db == 1)
            dims[i] = da;
        else
            dims[i] = da >= 0 ? da : db;
    }
    *ndim = r;
}

static const char *binary(struct conv *c, const char *op, const char *a, const char *b,
                          const char *y)
{
    const char *in[2] = {a, b};

    conv_onode(c, op, y, 2, in, 1, &y);
    return y;
}

static const char *unary(struct conv *c, const char *op, const char *x, const char *y)
{
    conv_onode(c, op, y, 1, &x, 1, &y);
    return y;
}

static void op_binary(struct conv *c, struct tfnode *n)
{
    static const struct {
        const char *tf, *onnx;
        int cmp;
    } map[] = {
        {"Add", "Add", 0},
        {"AddV2", "Add", 0},
        {"Sub", "Sub", 0},
        {"Mul", "Mul", 0},
        {"RealDiv", "Div", 0},
        {"Div", "Div", 0},
        {"Maximum", "Max", 0},
        {"Minimum", "Min", 0},
        {"Pow", "Pow", 0},
        {"Equal", "Equal", 1},
        {"Greater", "Greater", 1},
        {"Less", "Less", 1},
        {"GreaterEqual", "GreaterOrEqual", 1},
        {"LessEqual", "LessOrEqual", 1},
        {"LogicalAnd", "And", 1},
        {"LogicalOr", "Or", 1},
    };
    struct value *a = conv_in_val(c, n, 0), *b = conv_in_val(c, n, 1);
    const char *an = conv_val_name(c, a), *bn = conv_val_name(c, b), *y = conv_out_name(c, n, 0);
    int64_t dims[CONV_MAX_DIMS];
    int ndim, dtype = a->dtype, is_int = a->dtype == DT_INT32 || a->dtype == DT_INT64;

    if (a->dtype != b->dtype)
        conv_fail_node(c, "operands differ in type (%s, %s)", conv_dtype_name(a->dtype),
                       conv_dtype_name(b->dtype));
    conv_bcast_shape(a, b, &ndim, dims);
    if (strcmp(n->op, "NotEqual") == 0) {
        unary(c, "Not", binary(c, "Equal", an, bn, conv_oname(c, n->name, "/eq")), y);
        dtype = DT_BOOL;
    } else if (strcmp(n->op, "SquaredDifference") == 0) {
        const char *d = binary(c, "Sub", an, bn, conv_oname(c, n->name, "/diff"));
        binary(c, "Mul", d, d, y);
    } else if (strcmp(n->op, "FloorMod") == 0 && is_int) {
        Onnx__NodeProto *o;
        const char *in[2] = {an, bn};
        o = conv_onode(c, "Mod", y, 2, in, 1, &y);
        conv_oattr_int(c, o, "fmod", 0);
    } else if (strcmp(n->op, "FloorDiv") == 0 && is_int) {
        const char *in[2] = {an, bn}, *m = conv_oname(c, n->name, "/mod");
        Onnx__NodeProto *o = conv_onode(c, "Mod", m, 2, in, 1, &m);
        conv_oattr_int(c, o, "fmod", 0);
        binary(c, "Div", binary(c, "Sub", an, m, conv_oname(c, n->name, "/sub")), bn, y);
    } else if (strcmp(n->op, "FloorDiv") == 0) {
        unary(c, "Floor", binary(c, "Div", an, bn, conv_oname(c, n->name, "/div")), y);
    } else if (strcmp(n->op, "FloorMod") == 0) { /* a - b * floor(a / b) */
        const char *q = unary(c, "Floor", binary(c, "Div", an, bn, conv_oname(c, n->name, "/div")),
                              conv_oname(c, n->name, "/floor"));
        binary(c, "Sub", an, binary(c, "Mul", bn, q, conv_oname(c, n->name, "/mul")), y);
    } else {
        size_t i;
        for (i = 0; i < sizeof map / sizeof map[0]; i++) {
            if (strcmp(map[i].tf, n->op) == 0)
                break;
        }
        if (i == sizeof map / sizeof map[0])
            conv_fail_node(c, "no binary mapping");
        if (strcmp(n->op, "Div") == 0 && is_int)
            conv_fail_node(c, "integer Div is not supported");
        binary(c, map[i].onnx, an, bn, y);
        if (map[i].cmp)
            dtype = DT_BOOL;
    }
    conv_set_out(c, n, 0, y, dtype, ndim, dims);
}

static void op_unary(struct conv *c, struct tfnode *n)
{
    static const struct {
        const char *tf, *onnx;
    } map[] = {
        {"Abs", "Abs"},        {"Neg", "Neg"},
        {"Exp", "Exp"},        {"Log", "Log"},
        {"Sqrt", "Sqrt"},      {"Floor", "Floor"},
        {"Ceil", "Ceil"},      {"Round", "Round"},
        {"Sign", "Sign"},      {"Reciprocal", "Reciprocal"},
        {"Inv", "Reciprocal"}, {"Sin", "Sin"},
        {"Cos", "Cos"},        {"Erf", "Erf"},
        {"LogicalNot", "Not"},
    };
    struct value *x = conv_in_val(c, n, 0);
    const char *xn = conv_val_name(c, x), *y = conv_out_name(c, n, 0);

    if (strcmp(n->op, "Rsqrt") == 0) {
        unary(c, "Reciprocal", unary(c, "Sqrt", xn, conv_oname(c, n->name, "/sqrt")), y);
    } else if (strcmp(n->op, "Square") == 0) {
        binary(c, "Mul", xn, xn, y);
    } else {
        size_t i;
        for (i = 0; i < sizeof map / sizeof map[0]; i++) {
            if (strcmp(map[i].tf, n->op) == 0)
                break;
        }
        if (i == sizeof map / sizeof map[0])
            conv_fail_node(c, "no unary mapping");
        unary(c, map[i].onnx, xn, y);
    }
    conv_set_out(c, n, 0, y, x->dtype, x->ndim, x->dims);
}

static void op_cast(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int to = conv_attr_dtype(c, n, "DstT", DT_FLOAT);
    const char *xn = conv_val_name(c, x), *y = conv_out_name(c, n, 0);
    Onnx__NodeProto *o;

    o = conv_onode(c, "Cast", y, 1, &xn, 1, &y);
    conv_oattr_int(c, o, "to", to);
    conv_set_out(c, n, 0, y, to, x->ndim, x->dims);
}

/* An int64 tensor name for a shape-like input: an initialiser when constant, else a Cast. */
const char *conv_i64_input(struct conv *c, struct tfnode *n, int i)
{
    struct value *v = conv_in_val(c, n, i);

    if (v->k) {
        struct ctensor *t = conv_ctensor_new(c, DT_INT64, v->k->ndim, v->k->dims);
        for (size_t k = 0; k < t->count; k++)
            ((int64_t *)t->data)[k] = conv_ctensor_geti(v->k, k);
        return conv_oinit(c, conv_printf(c, "%s/i64", v->tf_name), t);
    }
    if (v->dtype == DT_INT64)
        return conv_val_name(c, v);
    return conv_emit_cast(c, conv_val_name(c, v), DT_INT64, n->name);
}

int64_t conv_known_count(const struct value *v)
{
    int64_t n = 1;

    if (v->ndim < 0)
        return -1;
    for (int i = 0; i < v->ndim; i++) {
        if (v->dims[i] < 0)
            return -1;
        n *= v->dims[i];
    }
    return n;
}

static void op_reshape(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0), *s = conv_in_val(c, n, 1);
    const char *in[2] = {conv_val_name(c, x), conv_i64_input(c, n, 1)}, *y = conv_out_name(c, n, 0);
    int64_t dims[CONV_MAX_DIMS];
    int ndim = -1;

    conv_onode(c, "Reshape", y, 2, in, 1, &y);
    if (s->k && s->k->count <= CONV_MAX_DIMS) {
        int64_t total = conv_known_count(x), prod = 1;
        int free_dim = -1;
        ndim = (int)s->k->count;
        for (int i = 0; i < ndim; i++) {
            dims[i] = conv_ctensor_geti(s->k, (size_t)i);
            if (dims[i] < 0)
                free_dim = i;
            else
                prod *= dims[i];
        }
        if (free_dim >= 0)
            dims[free_dim] = total >= 0 && prod > 0 ? total / prod : -1;
    }
    conv_set_out(c, n, 0, y, x->dtype, ndim, dims);
}

static void op_squeeze(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t axes[CONV_MAX_DIMS], dims[CONV_MAX_DIMS];
    int k = conv_attr_ints(c, n, "squeeze_dims", axes, CONV_MAX_DIMS), ndim = 0;
    const char *in[2] = {conv_val_name(c, x), NULL}, *y = conv_out_name(c, n, 0);

    if (k < 0)
        k = conv_attr_ints(c, n, "axis", axes, CONV_MAX_DIMS);
    if (k > 0) {
        in[1] = conv_oinit_i64(c, conv_printf(c, "%s/axes", n->name), axes, (size_t)k);
        conv_onode(c, "Squeeze", y, 2, in, 1, &y);
    } else {
        conv_onode(c, "Squeeze", y, 1, in, 1, &y);
    }
    if (x->ndim < 0) {
        ndim = -1;
    } else {
        for (int i = 0; i < x->ndim; i++) {
            int drop = 0;
            for (int j = 0; j < k; j++)
                drop |= axes[j] == i || axes[j] + x->ndim == i;
            if (k <= 0)
                drop = x->dims[i] == 1;
            if (!drop)
                dims[ndim++] = x->dims[i];
        }
    }
    conv_set_out(c, n, 0, y, x->dtype, ndim, dims);
}

static const char *unsqueeze(struct conv *c, const char *x, int64_t axis, const char *hint,
                             const char *y)
{
    const char *in[2] = {x, conv_oinit_i64(c, conv_printf(c, "%s/axis", hint), &axis, 1)};

    conv_onode(c, "Unsqueeze", y, 2, in, 1, &y);
    return y;
}

static void insert_dim(const struct value *x, int64_t axis, int *ndim, int64_t *dims)
{
    if (x->ndim < 0 || x->ndim >= CONV_MAX_DIMS) {
        *ndim = -1;
        return;
    }
    if (axis < 0)
        axis += x->ndim + 1;
    *ndim = x->ndim + 1;
    for (int i = 0, j = 0; i < *ndim; i++)
        dims[i] = i == axis ? 1 : x->dims[j++];
}

static void op_expand_dims(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t axis, dims[CONV_MAX_DIMS];
    int ndim;

    if (conv_in_ints(c, n, 1, &axis, 1) != 1)
        conv_fail_node(c, "dim must be one value");
    const char *y = unsqueeze(c, conv_val_name(c, x), axis, n->name, conv_out_name(c, n, 0));
    insert_dim(x, axis, &ndim, dims);
    conv_set_out(c, n, 0, y, x->dtype, ndim, dims);
}

static void op_concat(struct conv *c, struct tfnode *n)
{
    int k = n->n_in - 1, ndim;
    int64_t axis, dims[CONV_MAX_DIMS];
    const char **in = conv_alloc(c, (size_t)(k + 1) * sizeof *in), *y = conv_out_name(c, n, 0);
    struct value *first;
    Onnx__NodeProto *o;

    if (k < 1 || conv_in_ints(c, n, k, &axis, 1) != 1)
        conv_fail_node(c, "needs inputs and a scalar axis");
    first = conv_in_val(c, n, 0);
    ndim = first->ndim;
    if (ndim >= 0)
        memcpy(dims, first->dims, sizeof dims);
    if (axis < 0 && ndim >= 0)
        axis += ndim;
    for (int i = 0; i < k; i++) {
        struct value *v = conv_in_val(c, n, i);
        in[i] = conv_val_name(c, v);
        if (i && ndim >= 0 && v->ndim == ndim && axis >= 0 && axis < ndim)
            dims[axis] = dims[axis] >= 0 && v->dims[axis] >= 0 ? dims[axis] + v->dims[axis] : -1;
    }
    o = conv_onode(c, "Concat", y, k, in, 1, &y);
    conv_oattr_int(c, o, "axis", axis);
    conv_set_out(c, n, 0, y, first->dtype, ndim, dims);
}

static void op_pack(struct conv *c, struct tfnode *n)
{
    int64_t axis = conv_attr_int(c, n, "axis", 0), dims[CONV_MAX_DIMS];
    const char **in = conv_alloc(c, (size_t)(n->n_in + 1) * sizeof *in),
               *y = conv_out_name(c, n, 0);
    struct value *first = conv_in_val(c, n, 0);
    Onnx__NodeProto *o;
    int ndim;

    for (int i = 0; i < n->n_in; i++)
        in[i] = unsqueeze(c, conv_in_name(c, n, i), axis, n->name, conv_oname(c, n->name, "/unsq"));
    o = conv_onode(c, "Concat", y, n->n_in, in, 1, &y);
    conv_oattr_int(c, o, "axis", axis);
    insert_dim(first, axis, &ndim, dims);
    if (ndim > 0)
        dims[axis < 0 ? axis + ndim : axis] = n->n_in;
    conv_set_out(c, n, 0, y, first->dtype, ndim, dims);
}

/* Split x (input xi) along axis into pieces of the given sizes; outputs are squeezed on
 * `axis` when squeeze is set (Unpack). */
static void split(struct conv *c, struct tfnode *n, int xi, int64_t axis, const int64_t *sizes,
                  int k, int squeeze)
{
    struct value *x = conv_in_val(c, n, xi);
    const char **outs = conv_alloc(c, (size_t)(k + 1) * sizeof *outs);
    const char *in[2] = {conv_val_name(c, x),
                         conv_oinit_i64(c, conv_printf(c, "%s/split", n->name), sizes, (size_t)k)};
    Onnx__NodeProto *o;

    if (k < 1 || k > CONV_MAX_OUTS)
        conv_fail_node(c, "cannot split into %d pieces", k);
    for (int i = 0; i < k; i++)
        outs[i] = squeeze ? conv_oname(c, n->name, "/piece") : conv_out_name(c, n, i);
    o = conv_onode(c, "Split", n->name, 2, in, k, outs);
    conv_oattr_int(c, o, "axis", axis);
    for (int i = 0; i < k; i++) {
        int64_t dims[CONV_MAX_DIMS];
        int ndim = x->ndim;
        const char *y = outs[i];
        int64_t ax = axis < 0 && ndim >= 0 ? axis + ndim : axis;
        if (ndim >= 0)
            memcpy(dims, x->dims, sizeof dims);
        if (ndim > 0 && ax >= 0 && ax < ndim)
            dims[ax] = sizes[i];
        if (squeeze) {
            const char *sq[2] = {outs[i],
                                 conv_oinit_i64(c, conv_printf(c, "%s/axes", n->name), &axis, 1)};
            y = conv_out_name(c, n, i);
            /* the node needs its own name: piece 0's value is named like the Split node */
            conv_onode(c, "Squeeze", conv_printf(c, "%s/squeeze_%d", n->name, i), 2, sq, 1, &y);
            if (ndim > 0) {
                memmove(dims + ax, dims + ax + 1, (size_t)(ndim - ax - 1) * sizeof *dims);
                ndim--;
            }
        }
        conv_set_out(c, n, i, y, x->dtype, ndim, dims);
    }
}

static void op_split(struct conv *c, struct tfnode *n)
{
    int64_t sizes[CONV_MAX_OUTS], axis;
    int k, xi;
    struct value *x;

    if (strcmp(n->op, "SplitV") == 0) {
        xi = 0;
        k = conv_in_ints(c, n, 1, sizes, CONV_MAX_OUTS);
        if (conv_in_ints(c, n, 2, &axis, 1) != 1)
            conv_fail_node(c, "axis must be a scalar");
    } else if (strcmp(n->op, "Split") == 0) {
        xi = 1;
        k = (int)conv_attr_int(c, n, "num_split", 1);
        if (conv_in_ints(c, n, 0, &axis, 1) != 1)
            conv_fail_node(c, "axis must be a scalar");
    } else { /* Unpack */
        xi = 0;
        k = (int)conv_attr_int(c, n, "num", 0);
        axis = conv_attr_int(c, n, "axis", 0);
    }
    x = conv_in_val(c, n, xi);
    if (k < 1 || k > CONV_MAX_OUTS)
        conv_fail_node(c, "bad number of pieces %d", k);
    if (strcmp(n->op, "SplitV") != 0) {
        int64_t ax = axis < 0 && x->ndim >= 0 ? axis + x->ndim : axis;
        int64_t d = x->ndim > ax && ax >= 0 ? x->dims[ax] : -1;
        /* Unpack's `num` is the axis size itself, so an unknown size is no obstacle. */
        if (d < 0 && strcmp(n->op, "Unpack") == 0)
            d = k;
        if (d < 0 || d % k)
            conv_fail_node(c, "the split axis needs a known size divisible by %d", k);
        for (int i = 0; i < k; i++)
            sizes[i] = d / k;
    } else {
        int64_t ax = axis < 0 && x->ndim >= 0 ? axis + x->ndim : axis, sum = 0;
        int free_i = -1;
        for (int i = 0; i < k; i++) {
            if (sizes[i] < 0)
                free_i = i;
            else
                sum += sizes[i];
        }
        if (free_i >= 0) {
            int64_t d = x->ndim > ax && ax >= 0 ? x->dims[ax] : -1;
            if (d < 0)
                conv_fail_node(c, "a -1 split size needs a known axis size");
            sizes[free_i] = d - sum;
        }
    }
    split(c, n, xi, axis, sizes, k, strcmp(n->op, "Unpack") == 0);
}

static void op_transpose(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t perm[CONV_MAX_DIMS], dims[CONV_MAX_DIMS];
    int k = conv_in_ints(c, n, 1, perm, CONV_MAX_DIMS);
    const char *xn = conv_val_name(c, x), *y = conv_out_name(c, n, 0);
    Onnx__NodeProto *o = conv_onode(c, "Transpose", y, 1, &xn, 1, &y);

    conv_oattr_ints(c, o, "perm", perm, (size_t)k);
    for (int i = 0; i < k; i++)
        dims[i] = x->ndim == k && perm[i] >= 0 && perm[i] < k ? x->dims[perm[i]] : -1;
    conv_set_out(c, n, 0, y, x->dtype, k, dims);
}

const struct op_entry conv_ops_tensor[] = {
    {"Add", op_binary},
    {"AddV2", op_binary},
    {"Sub", op_binary},
    {"Mul", op_binary},
    {"RealDiv", op_binary},
    {"Div", op_binary},
    {"Maximum", op_binary},
    {"Minimum", op_binary},
    {"Pow", op_binary},
    {"Equal", op_binary},
    {"NotEqual", op_binary},
    {"Greater", op_binary},
    {"GreaterEqual", op_binary},
    {"Less", op_binary},
    {"LessEqual", op_binary},
    {"LogicalAnd", op_binary},
    {"LogicalOr", op_binary},
    {"FloorDiv", op_binary},
    {"FloorMod", op_binary},
    {"SquaredDifference", op_binary},
    {"Abs", op_unary},
    {"Neg", op_unary},
    {"Exp", op_unary},
    {"Log", op_unary},
    {"Sqrt", op_unary},
    {"Rsqrt", op_unary},
    {"Square", op_unary},
    {"Floor", op_unary},
    {"Ceil", op_unary},
    {"Round", op_unary},
    {"Sign", op_unary},
    {"Reciprocal", op_unary},
    {"Inv", op_unary},
    {"Sin", op_unary},
    {"Cos", op_unary},
    {"Erf", op_unary},
    {"LogicalNot", op_unary},
    {"Cast", op_cast},
    {"Reshape", op_reshape},
    {"Squeeze", op_squeeze},
    {"ExpandDims", op_expand_dims},
    {"ConcatV2", op_concat},
    {"Pack", op_pack},
    {"Unpack", op_split},
    {"Split", op_split},
    {"SplitV", op_split},
    {"Transpose", op_transpose},
    {NULL, NULL},
};
