/*
 * ops_select.c - ops that pick parts of tensors: StridedSlice (with begin/end/ellipsis/new-axis/
 * shrink masks), Slice, GatherV2, GatherNd, TopKV2, ArgMax/ArgMin and the reductions, plus
 * Shape, Tile, Select and AddN.
 *
 * StridedSlice becomes ONNX Slice on the axes that are really cut, then Squeeze for the shrunk
 * axes and Unsqueeze for the new ones (in output numbering); it needs the input's rank, which
 * shape tracking provides. Masked bounds use INT64_MAX / INT64_MIN, which ONNX clamps like
 * TensorFlow does. TopK returns int64 indices; they are cast back to int32, TensorFlow's type.
 * A reduction over an empty axis list is the identity in TensorFlow (ONNX would reduce all).
 */
#include <stdint.h>
#include <string.h>

#include "convert_int.h"

static int64_t slice_len(int64_t d, int64_t b, int64_t e, int64_t s, int bm, int em)
{
    if (d < 0)
        return -1;
    if (s > 0) {
        b = bm ? 0 : b < 0 ? b + d : b;
        e = em ? d : e < 0 ? e + d : e;
        b = b < 0 ? 0 : b > d ? d : b;
        e = e < 0 ? 0 : e > d ? d : e;
        return e > b ? (e - b + s - 1) / s : 0;
    }
    b = bm ? d - 1 : b < 0 ? b + d : b;
    e = em ? -1 : e < 0 ? e + d : e;
    b = b < -1 ? -1 : b > d - 1 ? d - 1 : b;
    e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
    return b > e ? (b - e + (-s) - 1) / (-s) : 0;
}

static void op_strided_slice(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t b[CONV_MAX_DIMS], e[CONV_MAX_DIMS], s[CONV_MAX_DIMS];
    int64_t starts[CONV_MAX_DIMS], ends[CONV_MAX_DIMS], axes[CONV_MAX_DIMS], steps[CONV_MAX_DIMS];
    int64_t shrink[CONV_MAX_DIMS], newax[CONV_MAX_DIMS], dims[CONV_MAX_DIMS];
    int64_t bm = conv_attr_int(c, n, "begin_mask", 0), em = conv_attr_int(c, n, "end_mask", 0);
    int64_t elm = conv_attr_int(c, n, "ellipsis_mask", 0),
            nam = conv_attr_int(c, n, "new_axis_mask", 0);
    int64_t sam = conv_attr_int(c, n, "shrink_axis_mask", 0);
    int m = conv_in_ints(c, n, 1, b, CONV_MAX_DIMS), r = x->ndim, ax = 0, op = 0;
    int n_sl = 0, n_sh = 0, n_new = 0, ndim = 0;
    const char *y = conv_val_name(c, x);

    if (conv_in_ints(c, n, 2, e, CONV_MAX_DIMS) != m ||
        conv_in_ints(c, n, 3, s, CONV_MAX_DIMS) != m)
        conv_fail_node(c, "begin, end and strides differ in length");
    if (r < 0)
        conv_fail_node(c, "input rank is unknown");
    for (int i = 0; i < m; i++) {
        if (elm >> i & 1) {
            int rest = 0;
            for (int j = i + 1; j < m; j++)
                rest += !(nam >> j & 1);
            for (int k = ax; k < r - rest; k++)
                dims[ndim++] = x->dims[k];
            op += r - rest - ax;
            ax = r - rest;
            continue;
        }
        if (nam >> i & 1) {
            newax[n_new++] = op++;
            dims[ndim++] = 1;
            continue;
        }
        if (ax >= r)
            conv_fail_node(c, "slice spec longer than the input's rank %d", r);
        if (s[i] == 0)
            conv_fail_node(c, "stride 0");
        if (sam >> i & 1) {
            starts[n_sl] = b[i];
            ends[n_sl] = b[i] == -1 ? INT64_MAX : b[i] + 1;
            steps[n_sl] = 1;
            axes[n_sl++] = ax;
            shrink[n_sh++] = ax++;
            continue;
        }
        dims[ndim++] =
            slice_len(x->dims[ax], b[i], e[i], s[i], (int)(bm >> i & 1), (int)(em >> i & 1));
        op++;
        if (!(bm >> i & 1) || !(em >> i & 1) || s[i] != 1) {
            starts[n_sl] = bm >> i & 1 ? (s[i] > 0 ? 0 : INT64_MAX) : b[i];
            ends[n_sl] = em >> i & 1 ? (s[i] > 0 ? INT64_MAX : INT64_MIN) : e[i];
            steps[n_sl] = s[i];
            axes[n_sl++] = ax;
        }
        ax++;
    }
    for (; ax < r; ax++)
        dims[ndim++] = x->dims[ax];
    if (n_sl) {
        const char *in[5] = {
            y, conv_oinit_i64(c, conv_printf(c, "%s/starts", n->name), starts, (size_t)n_sl),
            conv_oinit_i64(c, conv_printf(c, "%s/ends", n->name), ends, (size_t)n_sl),
            conv_oinit_i64(c, conv_printf(c, "%s/axes", n->name), axes, (size_t)n_sl),
            conv_oinit_i64(c, conv_printf(c, "%s/steps", n->name), steps, (size_t)n_sl)};
        y = n_sh || n_new ? conv_oname(c, n->name, "/slice") : conv_out_name(c, n, 0);
        conv_onode(c, "Slice", y, 5, in, 1, &y);
    }
    if (n_sh) {
        const char *in[2] = {
            y, conv_oinit_i64(c, conv_printf(c, "%s/shrink", n->name), shrink, (size_t)n_sh)};
        y = n_new ? conv_oname(c, n->name, "/shrink") : conv_out_name(c, n, 0);
        conv_onode(c, "Squeeze", y, 2, in, 1, &y);
    }
    if (n_new) {
        const char *in[2] = {
            y, conv_oinit_i64(c, conv_printf(c, "%s/newaxes", n->name), newax, (size_t)n_new)};
        y = conv_out_name(c, n, 0);
        conv_onode(c, "Unsqueeze", y, 2, in, 1, &y);
    }
    if (!n_sl && !n_sh && !n_new) {
        n->out[0] = x; /* a no-op slice */
        n->n_out = 1;
        return;
    }
    conv_set_out(c, n, 0, y, x->dtype, ndim, dims);
}

static void op_slice(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t b[CONV_MAX_DIMS], sz[CONV_MAX_DIMS], e[CONV_MAX_DIMS], axes[CONV_MAX_DIMS];
    int64_t dims[CONV_MAX_DIMS];
    int k = conv_in_ints(c, n, 1, b, CONV_MAX_DIMS);
    const char *in[4], *y = conv_out_name(c, n, 0);

    if (conv_in_ints(c, n, 2, sz, CONV_MAX_DIMS) != k)
        conv_fail_node(c, "begin and size differ in length");
    for (int i = 0; i < k; i++) {
        e[i] = sz[i] < 0 ? INT64_MAX : b[i] + sz[i];
        axes[i] = i;
        dims[i] = sz[i] >= 0 ? sz[i] : x->ndim == k && x->dims[i] >= 0 ? x->dims[i] - b[i] : -1;
    }
    in[0] = conv_val_name(c, x);
    in[1] = conv_oinit_i64(c, conv_printf(c, "%s/starts", n->name), b, (size_t)k);
    in[2] = conv_oinit_i64(c, conv_printf(c, "%s/ends", n->name), e, (size_t)k);
    in[3] = conv_oinit_i64(c, conv_printf(c, "%s/axes", n->name), axes, (size_t)k);
    conv_onode(c, "Slice", y, 4, in, 1, &y);
    conv_set_out(c, n, 0, y, x->dtype, k, dims);
}

static void op_gather(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0), *idx = conv_in_val(c, n, 1);
    int64_t axis = 0, dims[CONV_MAX_DIMS];
    const char *in[2] = {conv_val_name(c, x), conv_val_name(c, idx)}, *y = conv_out_name(c, n, 0);
    Onnx__NodeProto *o;
    int ndim = -1;

    if (strcmp(n->op, "GatherNd") == 0) {
        if (idx->dtype != DT_INT64)
            in[1] = conv_emit_cast(c, in[1], DT_INT64, n->name);
        conv_onode(c, "GatherND", y, 2, in, 1, &y);
        conv_set_out(c, n, 0, y, x->dtype, -1, NULL);
        return;
    }
    if (n->n_in > 2 && conv_in_ints(c, n, 2, &axis, 1) != 1)
        conv_fail_node(c, "axis must be a scalar");
    if (conv_attr_int(c, n, "batch_dims", 0) != 0)
        conv_fail_node(c, "batch_dims != 0 is not supported");
    o = conv_onode(c, "Gather", y, 2, in, 1, &y);
    conv_oattr_int(c, o, "axis", axis);
    if (x->ndim >= 0 && idx->ndim >= 0 && x->ndim - 1 + idx->ndim <= CONV_MAX_DIMS) {
        int64_t ax = axis < 0 ? axis + x->ndim : axis;
        ndim = 0;
        for (int i = 0; i < ax; i++)
            dims[ndim++] = x->dims[i];
        for (int i = 0; i < idx->ndim; i++)
            dims[ndim++] = idx->dims[i];
        for (int i = (int)ax + 1; i < x->ndim; i++)
            dims[ndim++] = x->dims[i];
    }
    conv_set_out(c, n, 0, y, x->dtype, ndim, dims);
}

static void op_topk(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t k, dims[CONV_MAX_DIMS];
    const char *in[2], *outs[2];
    Onnx__NodeProto *o;

    if (conv_in_ints(c, n, 1, &k, 1) != 1)
        conv_fail_node(c, "k must be a scalar");
    in[0] = conv_val_name(c, x);
    in[1] = conv_oinit_i64(c, conv_printf(c, "%s/k", n->name), &k, 1);
    outs[0] = conv_out_name(c, n, 0);
    outs[1] = conv_oname(c, n->name, "/indices64");
    o = conv_onode(c, "TopK", n->name, 2, in, 2, outs);
    conv_oattr_int(c, o, "axis", -1);
    conv_oattr_int(c, o, "largest", 1);
    conv_oattr_int(c, o, "sorted", 1);
    if (x->ndim > 0) {
        memcpy(dims, x->dims, sizeof dims);
        dims[x->ndim - 1] = k;
    }
    conv_set_out(c, n, 0, outs[0], x->dtype, x->ndim, dims);
    o = conv_onode(c, "Cast", conv_oname(c, n->name, "/cast"), 1, &outs[1], 1,
                   (const char *[]){conv_out_name(c, n, 1)});
    conv_oattr_int(c, o, "to", DT_INT32);
    conv_set_out(c, n, 1, o->output[0], DT_INT32, x->ndim, dims);
}

static void op_argmax(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t axis, dims[CONV_MAX_DIMS];
    int to = conv_attr_dtype(c, n, "output_type", DT_INT64), ndim = -1;
    const char *xn = conv_val_name(c, x), *y;
    Onnx__NodeProto *o;

    if (conv_in_ints(c, n, 1, &axis, 1) != 1)
        conv_fail_node(c, "axis must be a scalar");
    y = to == DT_INT64 ? conv_out_name(c, n, 0) : conv_oname(c, n->name, "/i64");
    o = conv_onode(c, strcmp(n->op, "ArgMin") == 0 ? "ArgMin" : "ArgMax", y, 1, &xn, 1, &y);
    conv_oattr_int(c, o, "axis", axis);
    conv_oattr_int(c, o, "keepdims", 0);
    if (to != DT_INT64) {
        const char *z = conv_out_name(c, n, 0);
        o = conv_onode(c, "Cast", z, 1, &y, 1, &z);
        conv_oattr_int(c, o, "to", to);
        y = z;
    }
    if (x->ndim > 0) {
        int64_t ax = axis < 0 ? axis + x->ndim : axis;
        ndim = 0;
        for (int i = 0; i < x->ndim; i++) {
            if (i != ax)
                dims[ndim++] = x->dims[i];
        }
    }
    conv_set_out(c, n, 0, y, to, ndim, dims);
}

static void op_reduce(struct conv *c, struct tfnode *n)
{
    static const struct {
        const char *tf, *onnx;
    } map[] = {{"Mean", "ReduceMean"},
               {"Sum", "ReduceSum"},
               {"Max", "ReduceMax"},
               {"Min", "ReduceMin"},
               {"Prod", "ReduceProd"}};
    struct value *x = conv_in_val(c, n, 0);
    int64_t axes[CONV_MAX_DIMS], dims[CONV_MAX_DIMS];
    int k = conv_in_ints(c, n, 1, axes, CONV_MAX_DIMS), keep = conv_attr_bool(c, n, "keep_dims", 0);
    int ndim = -1;
    const char *op = NULL, *xn = conv_val_name(c, x), *y;
    Onnx__NodeProto *o;

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i].tf, n->op) == 0)
            op = map[i].onnx;
    }
    if (!op)
        conv_fail_node(c, "no reduction mapping");
    if (k == 0) { /* TensorFlow reduces nothing; ONNX would reduce everything */
        n->out[0] = x;
        n->n_out = 1;
        return;
    }
    y = conv_out_name(c, n, 0);
    if (strcmp(op, "ReduceSum") == 0) { /* opset 13: axes is an input */
        const char *in[2] = {
            xn, conv_oinit_i64(c, conv_printf(c, "%s/axes", n->name), axes, (size_t)k)};
        o = conv_onode(c, op, y, 2, in, 1, &y);
    } else {
        o = conv_onode(c, op, y, 1, &xn, 1, &y);
        conv_oattr_ints(c, o, "axes", axes, (size_t)k);
    }
    conv_oattr_int(c, o, "keepdims", keep);
    if (x->ndim >= 0) {
        ndim = 0;
        for (int i = 0; i < x->ndim; i++) {
            int red = 0;
            for (int j = 0; j < k; j++)
                red |= axes[j] == i || axes[j] + x->ndim == i;
            if (!red)
                dims[ndim++] = x->dims[i];
            else if (keep)
                dims[ndim++] = 1;
        }
    }
    conv_set_out(c, n, 0, y, x->dtype, ndim, dims);
}

static void op_shape(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int to = conv_attr_dtype(c, n, "out_type", DT_INT32);
    int64_t r = x->ndim;
    const char *xn, *s;

    if (conv_known_count(x) >= 0) { /* static: a constant, folded downstream */
        struct ctensor *t = conv_ctensor_new(c, to, 1, &r);
        for (int i = 0; i < x->ndim; i++)
            conv_ctensor_set(t, (size_t)i, (double)x->dims[i]);
        conv_set_const(c, n, 0, t);
        return;
    }
    xn = conv_val_name(c, x);
    s = conv_oname(c, n->name, "/shape");
    conv_onode(c, "Shape", s, 1, &xn, 1, &s);
    if (to != DT_INT64) {
        const char *y = conv_out_name(c, n, 0);
        Onnx__NodeProto *o = conv_onode(c, "Cast", y, 1, &s, 1, &y);
        conv_oattr_int(c, o, "to", to);
        s = y;
    }
    conv_set_out(c, n, 0, s, to, 1, &r);
}

static void op_tile(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    const char *in[2] = {conv_val_name(c, x), conv_i64_input(c, n, 1)}, *y = conv_out_name(c, n, 0);

    conv_onode(c, "Tile", y, 2, in, 1, &y);
    conv_set_out(c, n, 0, y, x->dtype, x->ndim, NULL);
}

static void op_select(struct conv *c, struct tfnode *n)
{
    struct value *a = conv_in_val(c, n, 1), *b = conv_in_val(c, n, 2);
    const char *in[3] = {conv_in_name(c, n, 0), conv_val_name(c, a), conv_val_name(c, b)},
               *y = conv_out_name(c, n, 0);
    int64_t dims[CONV_MAX_DIMS];
    int ndim;

    conv_onode(c, "Where", y, 3, in, 1, &y);
    conv_bcast_shape(a, b, &ndim, dims);
    conv_set_out(c, n, 0, y, a->dtype, ndim, dims);
}

static void op_addn(struct conv *c, struct tfnode *n)
{
    const char **in = conv_alloc(c, (size_t)(n->n_in + 1) * sizeof *in),
               *y = conv_out_name(c, n, 0);
    struct value *first = conv_in_val(c, n, 0);

    for (int i = 0; i < n->n_in; i++)
        in[i] = conv_in_name(c, n, i);
    conv_onode(c, "Sum", y, n->n_in, in, 1, &y);
    conv_set_out(c, n, 0, y, first->dtype, first->ndim, first->dims);
}

const struct op_entry conv_ops_select[] = {
    {"StridedSlice", op_strided_slice},
    {"Slice", op_slice},
    {"GatherV2", op_gather},
    {"Gather", op_gather},
    {"GatherNd", op_gather},
    {"TopKV2", op_topk},
    {"ArgMax", op_argmax},
    {"ArgMin", op_argmax},
    {"Mean", op_reduce},
    {"Sum", op_reduce},
    {"Max", op_reduce},
    {"Min", op_reduce},
    {"Prod", op_reduce},
    {"Shape", op_shape},
    {"Tile", op_tile},
    {"Select", op_select},
    {"SelectV2", op_select},
    {"AddN", op_addn},
    {NULL, NULL},
};
