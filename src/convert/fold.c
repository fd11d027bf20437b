/*
 * fold.c - evaluating nodes whose inputs are all constants, on the host, at conversion time.
 *
 * Graphs exported by TensorFlow.js often compute shapes from constants (Pack of scalars,
 * StridedSlice of a constant shape, Mul of two int32 scalars, a Cast) to feed a Reshape or a
 * Resize. ONNX wants those operands as int64 initialisers and some converters' handlers need
 * them as numbers, so such subgraphs are computed here and vanish from the output. Float
 * arithmetic is done in double and rounded to float32 once, which for +, -, *, / of two float32
 * values gives the float32-rounded result TensorFlow computes. Ops without an evaluator here
 * are converted normally, reading their constants as initialisers.
 */
#include <math.h>
#include <string.h>

#include "convert_int.h"

static int same(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Offset into a tensor of shape (nd, dims) broadcast to an output of rank r at index idx. */
static size_t bcast_off(const struct ctensor *t, int r, const int64_t *idx)
{
    size_t off = 0;

    for (int i = 0; i < t->ndim; i++) {
        int64_t d = t->dims[i], k = idx[i + r - t->ndim];
        off = off * (size_t)d + (size_t)(d == 1 ? 0 : k);
    }
    return off;
}

static double apply(const char *op, double a, double b, int is_int)
{
    if (same(op, "Add") || same(op, "AddV2"))
        return a + b;
    if (same(op, "Sub"))
        return a - b;
    if (same(op, "Mul"))
        return a * b;
    if (same(op, "RealDiv") || (same(op, "Div") && !is_int))
        return a / b;
    if (same(op, "Maximum"))
        return a > b ? a : b;
    if (same(op, "Minimum"))
        return a < b ? a : b;
    if (same(op, "FloorDiv"))
        return floor(a / b);
    if (same(op, "FloorMod"))
        return a - b * floor(a / b);
    return NAN;
}

static int fold_binary(struct conv *c, struct tfnode *n)
{
    struct ctensor *a = conv_in_const(c, n, 0), *b = conv_in_const(c, n, 1), *y;
    int64_t dims[CONV_MAX_DIMS], idx[CONV_MAX_DIMS] = {0};
    int r = a->ndim > b->ndim ? a->ndim : b->ndim;
    int is_int = a->dtype != DT_FLOAT;

    if (a->dtype != b->dtype || a->dtype == DT_BOOL || a->count > 65536 || b->count > 65536)
        return 0;
    if (isnan(apply(n->op, 1, 1, is_int)))
        return 0;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            conv_fail_node(c, "shapes do not broadcast");
        dims[i] = da == 1 ? db : da;
    }
    y = conv_ctensor_new(c, a->dtype, r, dims);
    for (size_t k = 0; k < y->count; k++) {
        double av = conv_ctensor_get(a, bcast_off(a, r, idx)),
               bv = conv_ctensor_get(b, bcast_off(b, r, idx));
        double v;
        if (is_int && bv == 0 && (same(n->op, "FloorDiv") || same(n->op, "FloorMod")))
            conv_fail_node(c, "integer division by zero");
        v = apply(n->op, av, bv, is_int);
        if (is_int && (v > 2147483647.0 || v < -2147483648.0))
            return 0; /* leave overflow semantics to the runtime */
        conv_ctensor_set(y, k, v);
        for (int i = r - 1; i >= 0; i--) {
            if (++idx[i] < dims[i])
                break;
            idx[i] = 0;
        }
    }
    conv_set_const(c, n, 0, y);
    return 1;
}

static int fold_unary(struct conv *c, struct tfnode *n)
{
    struct ctensor *x = conv_in_const(c, n, 0), *y;
    int to = x->dtype;

    if (same(n->op, "Cast"))
        to = conv_attr_dtype(c, n, "DstT", DT_FLOAT);
    else if (x->dtype != DT_FLOAT && !same(n->op, "Neg") && !same(n->op, "Abs") &&
             !same(n->op, "Square"))
        return 0;
    y = conv_ctensor_new(c, to, x->ndim, x->dims);
    for (size_t k = 0; k < x->count; k++) {
        double v = conv_ctensor_get(x, k);
        if (same(n->op, "Neg"))
            v = -v;
        else if (same(n->op, "Abs"))
            v = fabs(v);
        else if (same(n->op, "Square"))
            v = (double)(float)v * (double)(float)v;
        else if (same(n->op, "Sqrt"))
            v = sqrt(v);
        else if (same(n->op, "Rsqrt"))
            v = 1.0 / (double)(float)sqrt(v);
        else if (same(n->op, "Floor"))
            v = floor(v);
        else if (same(n->op, "Cast") && to != DT_FLOAT && to != DT_BOOL)
            v = trunc(v);
        if (to == DT_INT32 && (v > 2147483647.0 || v < -2147483648.0))
            return 0;
        conv_ctensor_set(y, k, v);
    }
    conv_set_const(c, n, 0, y);
    return 1;
}

/* Same data, new shape. */
static int fold_reshape(struct conv *c, struct tfnode *n)
{
    struct ctensor *x = conv_in_const(c, n, 0), *y = conv_alloc(c, sizeof *y);
    int64_t d[CONV_MAX_DIMS], prod = 1;
    int ndim, free_dim = -1;

    *y = *x;
    if (same(n->op, "Reshape")) {
        ndim = conv_in_ints(c, n, 1, d, CONV_MAX_DIMS);
        for (int i = 0; i < ndim; i++) {
            if (d[i] < 0)
                free_dim = i;
            else
                prod *= d[i];
        }
        if (free_dim >= 0)
            d[free_dim] = prod ? (int64_t)x->count / prod : 0;
    } else if (same(n->op, "ExpandDims")) {
        int64_t axis;
        if (conv_in_ints(c, n, 1, &axis, 1) != 1 || x->ndim >= CONV_MAX_DIMS)
            return 0;
        if (axis < 0)
            axis += x->ndim + 1;
        ndim = x->ndim + 1;
        for (int i = 0, j = 0; i < ndim; i++)
            d[i] = i == axis ? 1 : x->dims[j++];
    } else { /* Squeeze */
        int64_t axes[CONV_MAX_DIMS];
        int k = conv_attr_ints(c, n, "squeeze_dims", axes, CONV_MAX_DIMS);
        ndim = 0;
        for (int i = 0; i < x->ndim; i++) {
            int drop = k <= 0 && x->dims[i] == 1;
            for (int j = 0; j < k; j++)
                drop |= axes[j] == i || axes[j] + x->ndim == i;
            if (!drop)
                d[ndim++] = x->dims[i];
        }
    }
    prod = 1;
    for (int i = 0; i < ndim; i++)
        prod *= d[i];
    if (prod != (int64_t)x->count)
        conv_fail_node(c, "cannot reshape %zu values", x->count);
    y->ndim = ndim;
    memcpy(y->dims, d, sizeof d);
    conv_set_const(c, n, 0, y);
    return 1;
}

/* ConcatV2 (axis = last input) and Pack (axis attribute, inputs gain a dim). */
static int fold_concat(struct conv *c, struct tfnode *n)
{
    int pack = same(n->op, "Pack"), k = pack ? n->n_in : n->n_in - 1;
    struct ctensor *first = conv_in_const(c, n, 0), *y;
    int64_t axis, dims[CONV_MAX_DIMS], outer = 1, inner;
    int r = first->ndim + pack;
    size_t es = conv_dtype_size(first->dtype), off = 0;

    if (pack)
        axis = conv_attr_int(c, n, "axis", 0);
    else if (conv_in_ints(c, n, k, &axis, 1) != 1)
        return 0;
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r || r > CONV_MAX_DIMS)
        conv_fail_node(c, "axis out of range");
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = pack && i == axis ? 1 : first->dims[j++];
    for (int i = 0; i < axis; i++)
        outer *= dims[i];
    dims[axis] = 0;
    for (int i = 0; i < k; i++) {
        struct ctensor *t = conv_in_const(c, n, i);
        if (t->dtype != first->dtype || t->ndim != first->ndim)
            conv_fail_node(c, "inputs differ in type or rank");
        dims[axis] += pack ? 1 : t->dims[axis];
    }
    y = conv_ctensor_new(c, first->dtype, r, dims);
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < k; i++) {
            struct ctensor *t = conv_in_const(c, n, i);
            inner = outer ? (int64_t)t->count / outer : 0;
            memcpy((char *)y->data + off, (char *)t->data + (size_t)(o * inner) * es,
                   (size_t)inner * es);
            off += (size_t)inner * es;
        }
    }
    conv_set_const(c, n, 0, y);
    return 1;
}

/* StridedSlice and Slice on a 1-D constant (the shape arithmetic case). */
static int fold_slice1d(struct conv *c, struct tfnode *n)
{
    struct ctensor *x = conv_in_const(c, n, 0), *y;
    int64_t b, e, s = 1, d, len, shrink = 0;
    int64_t out[1];

    if (x->ndim != 1)
        return 0;
    d = x->dims[0];
    if (conv_in_ints(c, n, 1, &b, 1) != 1)
        return 0;
    if (same(n->op, "Slice")) {
        int64_t sz;
        if (conv_in_ints(c, n, 2, &sz, 1) != 1)
            return 0;
        if (b < 0 || b > d)
            conv_fail_node(c, "slice begin out of range");
        e = sz < 0 ? d : b + sz;
    } else {
        int64_t bm = conv_attr_int(c, n, "begin_mask", 0), em = conv_attr_int(c, n, "end_mask", 0);
        if (conv_attr_int(c, n, "ellipsis_mask", 0) || conv_attr_int(c, n, "new_axis_mask", 0))
            return 0;
        if (conv_in_ints(c, n, 2, &e, 1) != 1 || conv_in_ints(c, n, 3, &s, 1) != 1 || s <= 0)
            return 0;
        shrink = conv_attr_int(c, n, "shrink_axis_mask", 0) & 1;
        if (bm & 1)
            b = 0;
        if (em & 1)
            e = d;
        if (b < 0)
            b += d;
        if (e < 0)
            e += d;
        if (shrink)
            e = b + 1;
        b = b < 0 ? 0 : b > d ? d : b;
        e = e < 0 ? 0 : e > d ? d : e;
    }
    if (e > d)
        e = d;
    len = e > b ? (e - b + s - 1) / s : 0;
    if (shrink && len != 1)
        conv_fail_node(c, "shrink index out of range");
    out[0] = len;
    y = conv_ctensor_new(c, x->dtype, shrink ? 0 : 1, out);
    for (int64_t i = 0; i < len; i++)
        conv_ctensor_set(y, (size_t)i, conv_ctensor_get(x, (size_t)(b + i * s)));
    conv_set_const(c, n, 0, y);
    return 1;
}

static int fold_gather1d(struct conv *c, struct tfnode *n)
{
    struct ctensor *x = conv_in_const(c, n, 0), *idx = conv_in_const(c, n, 1), *y;
    int64_t axis = 0;

    if (n->n_in > 2 && conv_in_ints(c, n, 2, &axis, 1) != 1)
        return 0;
    if (x->ndim != 1 || axis != 0 || idx->dtype == DT_FLOAT)
        return 0;
    y = conv_ctensor_new(c, x->dtype, idx->ndim, idx->dims);
    for (size_t k = 0; k < idx->count; k++) {
        int64_t i = conv_ctensor_geti(idx, k);
        if (i < 0 || i >= x->dims[0])
            conv_fail_node(c, "gather index %lld out of range", (long long)i);
        conv_ctensor_set(y, k, conv_ctensor_get(x, (size_t)i));
    }
    conv_set_const(c, n, 0, y);
    return 1;
}

static int fold_fill(struct conv *c, struct tfnode *n)
{
    int64_t dims[CONV_MAX_DIMS];
    int nd = conv_in_ints(c, n, 0, dims, CONV_MAX_DIMS);
    struct ctensor *v = conv_in_const(c, n, 1), *y;
    size_t count = 1;

    for (int i = 0; i < nd; i++)
        count *= dims[i] > 0 ? (size_t)dims[i] : 0;
    if (count > (1u << 20))
        return 0;
    y = conv_ctensor_new(c, v->dtype, nd, dims);
    for (size_t k = 0; k < y->count; k++)
        conv_ctensor_set(y, k, conv_ctensor_get(v, 0));
    conv_set_const(c, n, 0, y);
    return 1;
}

static int fold_range(struct conv *c, struct tfnode *n)
{
    struct ctensor *s = conv_in_const(c, n, 0), *l = conv_in_const(c, n, 1),
                   *d = conv_in_const(c, n, 2), *y;
    double start = conv_ctensor_get(s, 0), limit = conv_ctensor_get(l, 0),
           delta = conv_ctensor_get(d, 0);
    int64_t len;

    if (delta == 0)
        conv_fail_node(c, "Range with delta 0");
    len = (int64_t)ceil((limit - start) / delta);
    if (len < 0)
        len = 0;
    if (len > (1 << 20))
        return 0;
    y = conv_ctensor_new(c, s->dtype, 1, &len);
    for (int64_t i = 0; i < len; i++)
        conv_ctensor_set(y, (size_t)i, start + (double)i * delta);
    conv_set_const(c, n, 0, y);
    return 1;
}

int conv_fold_node(struct conv *c, struct tfnode *n)
{
    const char *op = n->op;

    if (same(op, "Add") || same(op, "AddV2") || same(op, "Sub") || same(op, "Mul") ||
        same(op, "RealDiv") || same(op, "Div") || same(op, "Maximum") || same(op, "Minimum") ||
        same(op, "FloorDiv") || same(op, "FloorMod"))
        return fold_binary(c, n);
    if (same(op, "Cast") || same(op, "Neg") || same(op, "Abs") || same(op, "Square") ||
        same(op, "Sqrt") || same(op, "Rsqrt") || same(op, "Floor"))
        return fold_unary(c, n);
    if (same(op, "Reshape") || same(op, "ExpandDims") || same(op, "Squeeze"))
        return fold_reshape(c, n);
    if (same(op, "ConcatV2") || same(op, "Pack"))
        return fold_concat(c, n);
    if (same(op, "StridedSlice") || same(op, "Slice"))
        return fold_slice1d(c, n);
    if (same(op, "GatherV2"))
        return fold_gather1d(c, n);
    if (same(op, "Fill"))
        return fold_fill(c, n);
    if (same(op, "Range"))
        return fold_range(c, n);
    return 0;
}
