/*
 * ops_nn.c - the neural-network ops: convolutions (plain, depthwise, fused with BiasAdd and an
 * activation), pooling, resizing, matrix products, batch normalisation, padding and
 * activations.
 *
 * Tensors stay NHWC as in TensorFlow. ONNX's Conv, pools and Resize are NCHW, so each one is
 * wrapped: Transpose(0,3,1,2) -> op [-> activation] -> Transpose(0,2,3,1). ONNX Runtime's
 * transpose optimiser cancels the back-to-back pairs this creates between consecutive layers
 * (FACTS.md: 144 -> 1 for BlazeFace). Filters are rewritten on the host: HWIO -> OIHW, and a
 * depthwise [H,W,C,M] filter -> [C*M,1,H,W] with group = C (TensorFlow's output channel c*M+m
 * is ONNX's output channel c*M+m). SAME padding becomes explicit pads when the spatial size is
 * known (TensorFlow puts the odd pixel at the end, like SAME_UPPER), else auto_pad SAME_UPPER.
 */
#include <math.h>
#include <string.h>

#include "convert_int.h"

static const int64_t TO_NCHW[4] = {0, 3, 1, 2};
static const int64_t TO_NHWC[4] = {0, 2, 3, 1};

static const char *transpose(struct conv *c, const char *x, const int64_t *perm, int rank,
                             const char *y)
{
    Onnx__NodeProto *o = conv_onode(c, "Transpose", y, 1, &x, 1, &y);

    conv_oattr_ints(c, o, "perm", perm, (size_t)rank);
    return y;
}

static int is_nchw(struct conv *c, struct tfnode *n)
{
    const char *f = conv_attr_str(c, n, "data_format", "NHWC");

    if (strcmp(f, "NHWC") == 0)
        return 0;
    if (strcmp(f, "NCHW") == 0)
        return 1;
    conv_fail_node(c, "data_format %s is not supported", f);
}

/* Spatial (H, W) pair of a 4-entry attribute list in the node's layout. */
static void spatial_attr(struct conv *c, struct tfnode *n, const char *key, int nchw,
                         int64_t out[2])
{
    int64_t v[8];
    int k = conv_attr_ints(c, n, key, v, 8);

    out[0] = out[1] = 1;
    if (k == 4) {
        out[0] = v[nchw ? 2 : 1];
        out[1] = v[nchw ? 3 : 2];
    } else if (k > 0) {
        conv_fail_node(c, "attribute %s has %d entries, expected 4", key, k);
    }
}

#define WINDOW_MAX 65536           /* largest kernel, stride or dilation accepted */
#define DIM_MAX ((int64_t)1 << 32) /* largest known spatial input size accepted */

struct window {
    int64_t k[2], s[2], d[2], pads[4]; /* pads: top, left, bottom, right (ONNX order) */
    int same_upper;                    /* pads unknown: auto_pad SAME_UPPER */
    int64_t out_hw[2];                 /* -1 when unknown */
};

/* Resolves TensorFlow padding for input spatial dims hw (-1 unknown). */
static void plan_window(struct conv *c, struct tfnode *n, int nchw, const int64_t hw[2],
                        struct window *w)
{
    const char *pad = conv_attr_str(c, n, "padding", "VALID");

    /* Bounds keep every product below in int64 range for any model file. */
    for (int i = 0; i < 2; i++) {
        if (w->k[i] < 1 || w->k[i] > WINDOW_MAX || w->s[i] < 1 || w->s[i] > WINDOW_MAX ||
            w->d[i] < 1 || w->d[i] > WINDOW_MAX)
            conv_fail_node(c, "window size, stride and dilation must be 1 to %d", WINDOW_MAX);
        if (hw[i] > DIM_MAX)
            conv_fail_node(c, "input size %lld is over %lld", (long long)hw[i], (long long)DIM_MAX);
    }
    memset(w->pads, 0, sizeof w->pads);
    w->same_upper = 0;
    if (strcmp(pad, "EXPLICIT") == 0) {
        int64_t e[8];
        if (conv_attr_ints(c, n, "explicit_paddings", e, 8) != 8)
            conv_fail_node(c, "EXPLICIT padding needs 8 explicit_paddings");
        int b = nchw ? 4 : 2;
        w->pads[0] = e[b];
        w->pads[2] = e[b + 1];
        w->pads[1] = e[b + 2];
        w->pads[3] = e[b + 3];
        for (int i = 0; i < 4; i++)
            if (w->pads[i] < 0 || w->pads[i] > WINDOW_MAX)
                conv_fail_node(c, "explicit padding must be 0 to %d", WINDOW_MAX);
    } else if (strcmp(pad, "SAME") == 0) {
        for (int i = 0; i < 2; i++) {
            int64_t eff = (w->k[i] - 1) * w->d[i] + 1, total;
            if (hw[i] < 0) {
                w->same_upper = 1;
                continue;
            }
            total = ((hw[i] + w->s[i] - 1) / w->s[i] - 1) * w->s[i] + eff - hw[i];
            if (total < 0)
                total = 0;
            w->pads[i] = total / 2;
            w->pads[i + 2] = total - total / 2;
        }
        if (w->same_upper)
            memset(w->pads, 0, sizeof w->pads);
    } else if (strcmp(pad, "VALID") != 0) {
        conv_fail_node(c, "padding %s is not supported", pad);
    }
    for (int i = 0; i < 2; i++) {
        int64_t eff = (w->k[i] - 1) * w->d[i] + 1;
        if (hw[i] < 0)
            w->out_hw[i] = -1;
        else if (strcmp(pad, "SAME") == 0)
            w->out_hw[i] = (hw[i] + w->s[i] - 1) / w->s[i];
        else
            w->out_hw[i] = (hw[i] + w->pads[i] + w->pads[i + 2] - eff) / w->s[i] + 1;
        if (hw[i] >= 0 && w->out_hw[i] < 1)
            conv_fail_node(c, "window is larger than its padded input");
    }
}

static void window_attrs(struct conv *c, Onnx__NodeProto *o, const struct window *w, int dil)
{
    conv_oattr_ints(c, o, "kernel_shape", w->k, 2);
    conv_oattr_ints(c, o, "strides", w->s, 2);
    if (dil)
        conv_oattr_ints(c, o, "dilations", w->d, 2);
    if (w->same_upper)
        conv_oattr_str(c, o, "auto_pad", "SAME_UPPER");
    else
        conv_oattr_ints(c, o, "pads", w->pads, 4);
}

/* Emits an activation `act` (TensorFlow name) on x; returns the result's name. */
static const char *activation(struct conv *c, struct tfnode *n, const char *act, const char *x,
                              const char *y, int nchw_alpha_input)
{
    Onnx__NodeProto *o;

    if (strcmp(act, "Relu") == 0) {
        conv_onode(c, "Relu", y, 1, &x, 1, &y);
    } else if (strcmp(act, "Relu6") == 0) {
        const char *in[3];
        if (!c->clip_lo) {
            c->clip_lo = conv_oinit_f32(c, "relu6/min", 0.0f);
            c->clip_hi = conv_oinit_f32(c, "relu6/max", 6.0f);
        }
        in[0] = x;
        in[1] = c->clip_lo;
        in[2] = c->clip_hi;
        conv_onode(c, "Clip", y, 3, in, 1, &y);
    } else if (strcmp(act, "Elu") == 0 || strcmp(act, "Sigmoid") == 0 || strcmp(act, "Tanh") == 0) {
        conv_onode(c, act, y, 1, &x, 1, &y);
    } else if (strcmp(act, "LeakyRelu") == 0) {
        o = conv_onode(c, "LeakyRelu", y, 1, &x, 1, &y);
        conv_oattr_float(c, o, "alpha", (float)conv_attr_float(c, n, "leakyrelu_alpha", 0.2));
    } else if (strcmp(act, "Prelu") == 0 && nchw_alpha_input >= 0) {
        const char *in[2] = {x, conv_in_name(c, n, nchw_alpha_input)};
        conv_onode(c, "PRelu", y, 2, in, 1, &y);
    } else {
        conv_fail_node(c, "fused activation %s is not supported", act);
    }
    return y;
}

static struct ctensor *conv_filter(struct conv *c, struct tfnode *n, int depthwise, int64_t *cin,
                                   int64_t *cout, int64_t *group)
{
    struct ctensor *f = conv_in_const(c, n, 1), *t;
    int64_t H, W, I, O, dims[4];
    const float *s;
    float *d;

    if (f->ndim != 4 || f->dtype != DT_FLOAT)
        conv_fail_node(c, "filter must be a 4-D float32 constant");
    H = f->dims[0];
    W = f->dims[1];
    I = f->dims[2];
    O = f->dims[3];
    s = f->data;
    if (depthwise) { /* [H,W,C,M] -> [C*M,1,H,W] */
        dims[0] = I * O;
        dims[1] = 1;
        dims[2] = H;
        dims[3] = W;
        t = conv_ctensor_new(c, DT_FLOAT, 4, dims);
        d = t->data;
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++)
                for (int64_t i = 0; i < I; i++)
                    for (int64_t o = 0; o < O; o++)
                        d[((i * O + o) * H + h) * W + w] = s[((h * W + w) * I + i) * O + o];
        *cin = I;
        *cout = I * O;
        *group = I;
    } else { /* [H,W,I,O] -> [O,I,H,W] */
        dims[0] = O;
        dims[1] = I;
        dims[2] = H;
        dims[3] = W;
        t = conv_ctensor_new(c, DT_FLOAT, 4, dims);
        d = t->data;
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++)
                for (int64_t i = 0; i < I; i++)
                    for (int64_t o = 0; o < O; o++)
                        d[((o * I + i) * H + h) * W + w] = s[((h * W + w) * I + i) * O + o];
        *cin = I;
        *cout = O;
        *group = 1;
    }
    return t;
}

static void op_conv(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int depthwise = strstr(n->op, "Depthwise") != NULL;
    int fused = strncmp(n->op, "Fused", 5) == 0 || strncmp(n->op, "_Fused", 6) == 0;
    int nchw = is_nchw(c, n), n_ops = 0, alpha_in = -1;
    const char *ops[4], *xin, *y, *act = NULL, *in[3];
    int64_t cin, cout, group, hw[2] = {-1, -1}, dims[4];
    struct ctensor *filt = conv_filter(c, n, depthwise, &cin, &cout, &group);
    struct window w;
    Onnx__NodeProto *o;
    int n_conv_in = 2;

    if (x->ndim != 4 && x->ndim != -1)
        conv_fail_node(c, "input must be 4-D, not %d-D", x->ndim);
    if (x->ndim == 4) {
        hw[0] = x->dims[nchw ? 2 : 1];
        hw[1] = x->dims[nchw ? 3 : 2];
    }
    w.k[0] = filt->dims[2];
    w.k[1] = filt->dims[3];
    spatial_attr(c, n, "strides", nchw, w.s);
    spatial_attr(c, n, "dilations", nchw, w.d);
    plan_window(c, n, nchw, hw, &w);
    if (fused) {
        n_ops = conv_attr_strs(c, n, "fused_ops", ops, 4);
        if (n_ops < 1 || strcmp(ops[0], "BiasAdd") != 0)
            conv_fail_node(c, "fused ops must start with BiasAdd (got %s)",
                           n_ops > 0 ? ops[0] : "none");
        if (n_ops > 2)
            conv_fail_node(c, "more than one fused activation");
        if (n_ops == 2) {
            act = ops[1];
            alpha_in = 3;
        }
    }
    xin = nchw ? conv_val_name(c, x)
               : transpose(c, conv_val_name(c, x), TO_NCHW, 4, conv_oname(c, n->name, "/nchw"));
    in[0] = xin;
    in[1] = conv_oinit(c, conv_printf(c, "%s/filter", n->name), filt);
    if (fused) {
        struct value *b = conv_in_val(c, n, 2);
        if (b->k && (b->k->count != (size_t)cout || b->k->dtype != DT_FLOAT))
            conv_fail_node(c, "bias has %zu values for %lld channels", b->k->count,
                           (long long)cout);
        in[2] = conv_val_name(c, b);
        n_conv_in = 3;
    }
    y = !act && nchw ? conv_out_name(c, n, 0) : conv_oname(c, n->name, "/conv");
    o = conv_onode(c, "Conv", y, n_conv_in, in, 1, &y);
    window_attrs(c, o, &w, 1);
    if (group != 1)
        conv_oattr_int(c, o, "group", group);
    if (act && strcmp(act, "Prelu") != 0)
        y = activation(c, n, act, y, nchw ? conv_out_name(c, n, 0) : conv_oname(c, n->name, "/act"),
                       -1);
    if (!nchw)
        y = transpose(c, y, TO_NHWC, 4,
                      act && !strcmp(act, "Prelu") ? conv_oname(c, n->name, "/nhwc")
                                                   : conv_out_name(c, n, 0));
    if (act && strcmp(act, "Prelu") == 0) /* alpha is per channel, NHWC: apply after */
        y = activation(c, n, act, y, conv_out_name(c, n, 0), alpha_in);
    dims[0] = x->ndim == 4 ? x->dims[0] : -1;
    dims[nchw ? 2 : 1] = w.out_hw[0];
    dims[nchw ? 3 : 2] = w.out_hw[1];
    dims[nchw ? 1 : 3] = cout;
    conv_set_out(c, n, 0, y, DT_FLOAT, 4, dims);
}

static void op_pool(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int nchw = is_nchw(c, n);
    int64_t hw[2] = {-1, -1}, dims[4];
    struct window w;
    const char *y, *xin;
    Onnx__NodeProto *o;

    if (x->ndim != 4 && x->ndim != -1)
        conv_fail_node(c, "input must be 4-D");
    if (x->ndim == 4) {
        hw[0] = x->dims[nchw ? 2 : 1];
        hw[1] = x->dims[nchw ? 3 : 2];
    }
    spatial_attr(c, n, "ksize", nchw, w.k);
    spatial_attr(c, n, "strides", nchw, w.s);
    w.d[0] = w.d[1] = 1;
    plan_window(c, n, nchw, hw, &w);
    xin = nchw ? conv_val_name(c, x)
               : transpose(c, conv_val_name(c, x), TO_NCHW, 4, conv_oname(c, n->name, "/nchw"));
    y = nchw ? conv_out_name(c, n, 0) : conv_oname(c, n->name, "/pool");
    o = conv_onode(c, strcmp(n->op, "MaxPool") == 0 ? "MaxPool" : "AveragePool", y, 1, &xin, 1, &y);
    window_attrs(c, o, &w, 0); /* AveragePool: count_include_pad = 0, like TensorFlow */
    if (!nchw)
        y = transpose(c, y, TO_NHWC, 4, conv_out_name(c, n, 0));
    memcpy(dims, x->ndim == 4 ? x->dims : (int64_t[4]){-1, -1, -1, -1}, sizeof dims);
    dims[nchw ? 2 : 1] = w.out_hw[0];
    dims[nchw ? 3 : 2] = w.out_hw[1];
    conv_set_out(c, n, 0, y, DT_FLOAT, 4, dims);
}

static void op_resize(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    int64_t size[2], dims[4], sizes[4];
    int align = conv_attr_bool(c, n, "align_corners", 0),
        half = conv_attr_bool(c, n, "half_pixel_centers", 0);
    int nearest = strcmp(n->op, "ResizeNearestNeighbor") == 0;
    const char *xin, *y, *in[4], *sz;
    Onnx__NodeProto *o;

    if (conv_in_ints(c, n, 1, size, 2) != 2)
        conv_fail_node(c, "size must have 2 values");
    if (x->ndim != 4)
        conv_fail_node(c, "input must be 4-D with a known rank");
    xin = transpose(c, conv_val_name(c, x), TO_NCHW, 4, conv_oname(c, n->name, "/nchw"));
    if (x->dims[0] >= 0 && x->dims[3] >= 0) {
        sizes[0] = x->dims[0];
        sizes[1] = x->dims[3];
        sizes[2] = size[0];
        sizes[3] = size[1];
        sz = conv_oinit_i64(c, conv_printf(c, "%s/sizes", n->name), sizes, 4);
    } else { /* N or C free: Concat(Shape(x)[0:2], size) */
        const char *shp = conv_oname(c, n->name, "/shape"), *nc = conv_oname(c, n->name, "/nc");
        const char *sl[4] = {shp, conv_oinit_i64(c, "zero", (int64_t[]){0}, 1),
                             conv_oinit_i64(c, "two", (int64_t[]){2}, 1), NULL};
        const char *cat[2] = {nc, conv_oinit_i64(c, conv_printf(c, "%s/hw", n->name), size, 2)};
        conv_onode(c, "Shape", shp, 1, &xin, 1, &shp);
        conv_onode(c, "Slice", nc, 3, sl, 1, &nc);
        sz = conv_oname(c, n->name, "/sizes");
        o = conv_onode(c, "Concat", sz, 2, cat, 1, &sz);
        conv_oattr_int(c, o, "axis", 0);
    }
    in[0] = xin;
    in[1] = "";
    in[2] = "";
    in[3] = sz;
    y = conv_oname(c, n->name, "/resize");
    o = conv_onode(c, "Resize", y, 4, in, 1, &y);
    conv_oattr_str(c, o, "mode", nearest ? "nearest" : "linear");
    if (align) {
        conv_oattr_str(c, o, "coordinate_transformation_mode", "align_corners");
        if (nearest)
            conv_oattr_str(c, o, "nearest_mode", "round_prefer_ceil");
    } else if (half) {
        conv_oattr_str(c, o, "coordinate_transformation_mode",
                       nearest ? "tf_half_pixel_for_nn" : "half_pixel");
        if (nearest)
            conv_oattr_str(c, o, "nearest_mode", "floor");
    } else {
        conv_oattr_str(c, o, "coordinate_transformation_mode", "asymmetric");
        if (nearest)
            conv_oattr_str(c, o, "nearest_mode", "floor");
    }
    y = transpose(c, y, TO_NHWC, 4, conv_out_name(c, n, 0));
    dims[0] = x->dims[0];
    dims[1] = size[0];
    dims[2] = size[1];
    dims[3] = x->dims[3];
    conv_set_out(c, n, 0, y, x->dtype, 4, dims);
}

static void op_matmul(struct conv *c, struct tfnode *n)
{
    struct value *a = conv_in_val(c, n, 0), *b = conv_in_val(c, n, 1);
    int ta = conv_attr_bool(c, n, "transpose_a", 0) || conv_attr_bool(c, n, "adj_x", 0);
    int tb = conv_attr_bool(c, n, "transpose_b", 0) || conv_attr_bool(c, n, "adj_y", 0);
    int fused = strcmp(n->op, "_FusedMatMul") == 0, n_ops = 0;
    const char *ops[4], *in[3], *y;
    int64_t dims[2];
    Onnx__NodeProto *o;

    if (fused) {
        n_ops = conv_attr_strs(c, n, "fused_ops", ops, 4);
        if (n_ops < 1 || strcmp(ops[0], "BiasAdd") != 0 || n_ops > 2)
            conv_fail_node(c, "fused ops must be BiasAdd [+ one activation]");
    }
    if (a->ndim == 2 && b->ndim == 2) {
        in[0] = conv_val_name(c, a);
        in[1] = conv_val_name(c, b);
        if (fused)
            in[2] = conv_in_name(c, n, 2);
        y = n_ops == 2 ? conv_oname(c, n->name, "/gemm") : conv_out_name(c, n, 0);
        o = conv_onode(c, "Gemm", y, fused ? 3 : 2, in, 1, &y);
        if (ta)
            conv_oattr_int(c, o, "transA", 1);
        if (tb)
            conv_oattr_int(c, o, "transB", 1);
        if (n_ops == 2)
            y = activation(c, n, ops[1], y, conv_out_name(c, n, 0), 3);
        dims[0] = a->dims[ta ? 1 : 0];
        dims[1] = b->dims[tb ? 0 : 1];
        conv_set_out(c, n, 0, y, DT_FLOAT, 2, dims);
        return;
    }
    if (a->ndim < 2 || b->ndim < 2)
        conv_fail_node(c, "operands need a known rank >= 2");
    in[0] = conv_val_name(c, a);
    in[1] = conv_val_name(c, b);
    for (int k = 0; k < 2; k++) {
        struct value *v = k ? b : a;
        int64_t perm[CONV_MAX_DIMS];
        if (!(k ? tb : ta))
            continue;
        for (int i = 0; i < v->ndim; i++)
            perm[i] = i;
        perm[v->ndim - 2] = v->ndim - 1;
        perm[v->ndim - 1] = v->ndim - 2;
        in[k] = transpose(c, in[k], perm, v->ndim, conv_oname(c, n->name, k ? "/bT" : "/aT"));
    }
    y = fused ? conv_oname(c, n->name, "/matmul") : conv_out_name(c, n, 0);
    conv_onode(c, "MatMul", y, 2, in, 1, &y);
    if (fused) {
        const char *add[2] = {y, conv_in_name(c, n, 2)};
        y = n_ops == 2 ? conv_oname(c, n->name, "/bias") : conv_out_name(c, n, 0);
        conv_onode(c, "Add", y, 2, add, 1, &y);
        if (n_ops == 2)
            y = activation(c, n, ops[1], y, conv_out_name(c, n, 0), 3);
    }
    conv_set_out(c, n, 0, y, DT_FLOAT, -1, NULL);
}

/* y = x * (scale / sqrt(var + eps)) + (offset - mean * scale / sqrt(var + eps)) */
static void op_batchnorm(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    struct ctensor *sc = conv_in_const(c, n, 1), *of = conv_in_const(c, n, 2),
                   *mu = conv_in_const(c, n, 3), *va = conv_in_const(c, n, 4), *a, *b;
    double eps = conv_attr_float(c, n, "epsilon", 1e-3);
    int64_t ch = (int64_t)sc->count, dims[3] = {ch, 1, 1};
    int nchw = is_nchw(c, n);
    const char *in[2], *m;

    if (of->count != sc->count || mu->count != sc->count || va->count != sc->count)
        conv_fail_node(c, "scale, offset, mean and variance differ in size");
    a = conv_ctensor_new(c, DT_FLOAT, nchw ? 3 : 1, nchw ? dims : &ch);
    b = conv_ctensor_new(c, DT_FLOAT, nchw ? 3 : 1, nchw ? dims : &ch);
    for (int64_t i = 0; i < ch; i++) {
        double k = conv_ctensor_get(sc, (size_t)i) / sqrt(conv_ctensor_get(va, (size_t)i) + eps);
        conv_ctensor_set(a, (size_t)i, k);
        conv_ctensor_set(b, (size_t)i,
                         conv_ctensor_get(of, (size_t)i) - conv_ctensor_get(mu, (size_t)i) * k);
    }
    in[0] = conv_val_name(c, x);
    in[1] = conv_oinit(c, conv_printf(c, "%s/scale", n->name), a);
    m = conv_oname(c, n->name, "/mul");
    conv_onode(c, "Mul", m, 2, in, 1, &m);
    in[0] = m;
    in[1] = conv_oinit(c, conv_printf(c, "%s/shift", n->name), b);
    m = conv_out_name(c, n, 0);
    conv_onode(c, "Add", m, 2, in, 1, &m);
    conv_set_out(c, n, 0, m, DT_FLOAT, x->ndim, x->dims);
}

static void op_bias_add(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    const char *in[2] = {conv_val_name(c, x), NULL}, *y = conv_out_name(c, n, 0);

    if (is_nchw(c, n)) {
        struct ctensor *b = conv_in_const(c, n, 1), *r;
        int64_t dims[3] = {(int64_t)b->count, 1, 1};
        r = conv_ctensor_new(c, b->dtype, 3, dims);
        memcpy(r->data, b->data, b->count * conv_dtype_size(b->dtype));
        in[1] = conv_oinit(c, conv_printf(c, "%s/bias", n->name), r);
    } else {
        in[1] = conv_in_name(c, n, 1);
    }
    conv_onode(c, "Add", y, 2, in, 1, &y);
    conv_set_out(c, n, 0, y, x->dtype, x->ndim, x->dims);
}

static void op_act(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    const char *y = conv_out_name(c, n, 0);
    Onnx__NodeProto *o;

    if (strcmp(n->op, "LeakyRelu") == 0) {
        const char *xn = conv_val_name(c, x);
        o = conv_onode(c, "LeakyRelu", y, 1, &xn, 1, &y);
        conv_oattr_float(c, o, "alpha", (float)conv_attr_float(c, n, "alpha", 0.2));
    } else if (strcmp(n->op, "Prelu") == 0) {
        activation(c, n, "Prelu", conv_val_name(c, x), y, 1);
    } else if (strcmp(n->op, "Softmax") == 0 || strcmp(n->op, "LogSoftmax") == 0) {
        const char *xn = conv_val_name(c, x);
        o = conv_onode(c, n->op, y, 1, &xn, 1, &y);
        conv_oattr_int(c, o, "axis", -1);
    } else if (strcmp(n->op, "Selu") == 0 || strcmp(n->op, "Softplus") == 0) {
        const char *xn = conv_val_name(c, x);
        conv_onode(c, n->op, y, 1, &xn, 1, &y);
    } else {
        activation(c, n, n->op, conv_val_name(c, x), y, -1);
    }
    conv_set_out(c, n, 0, y, x->dtype, x->ndim, x->dims);
}

static void op_pad(struct conv *c, struct tfnode *n)
{
    struct value *x = conv_in_val(c, n, 0);
    struct ctensor *p = conv_in_const(c, n, 1);
    int64_t pads[2 * CONV_MAX_DIMS], dims[CONV_MAX_DIMS];
    int r = p->ndim == 2 ? (int)p->dims[0] : -1, n_in = 2;
    const char *in[3], *y = conv_out_name(c, n, 0);
    Onnx__NodeProto *o;

    if (r < 0 || r > CONV_MAX_DIMS || p->dims[1] != 2)
        conv_fail_node(c, "paddings must be a [rank, 2] constant");
    for (int i = 0; i < r; i++) {
        pads[i] = conv_ctensor_geti(p, 2 * (size_t)i);
        pads[r + i] = conv_ctensor_geti(p, 2 * (size_t)i + 1);
        dims[i] = x->ndim == r && x->dims[i] >= 0 ? x->dims[i] + pads[i] + pads[r + i] : -1;
    }
    in[0] = conv_val_name(c, x);
    in[1] = conv_oinit_i64(c, conv_printf(c, "%s/pads", n->name), pads, 2 * (size_t)r);
    if (strcmp(n->op, "PadV2") == 0) {
        in[2] = conv_in_name(c, n, 2);
        n_in = 3;
    }
    o = conv_onode(c, "Pad", y, n_in, in, 1, &y);
    if (strcmp(n->op, "MirrorPad") == 0) {
        const char *mode = conv_attr_str(c, n, "mode", "REFLECT");
        if (strcmp(mode, "REFLECT") != 0)
            conv_fail_node(c, "MirrorPad mode %s is not supported", mode);
        conv_oattr_str(c, o, "mode", "reflect");
    }
    conv_set_out(c, n, 0, y, x->dtype, r, dims);
}

const struct op_entry conv_ops_nn[] = {
    {"Conv2D", op_conv},
    {"_FusedConv2D", op_conv},
    {"DepthwiseConv2dNative", op_conv},
    {"DepthwiseConv2D", op_conv},
    {"FusedDepthwiseConv2dNative", op_conv},
    {"MaxPool", op_pool},
    {"AvgPool", op_pool},
    {"ResizeBilinear", op_resize},
    {"ResizeNearestNeighbor", op_resize},
    {"MatMul", op_matmul},
    {"_FusedMatMul", op_matmul},
    {"BatchMatMul", op_matmul},
    {"BatchMatMulV2", op_matmul},
    {"FusedBatchNorm", op_batchnorm},
    {"FusedBatchNormV2", op_batchnorm},
    {"FusedBatchNormV3", op_batchnorm},
    {"BiasAdd", op_bias_add},
    {"Relu", op_act},
    {"Relu6", op_act},
    {"Elu", op_act},
    {"Selu", op_act},
    {"Sigmoid", op_act},
    {"Tanh", op_act},
    {"Softplus", op_act},
    {"LeakyRelu", op_act},
    {"Prelu", op_act},
    {"Softmax", op_act},
    {"LogSoftmax", op_act},
    {"Pad", op_pad},
    {"PadV2", op_pad},
    {"MirrorPad", op_pad},
    {NULL, NULL},
};
