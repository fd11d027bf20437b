/*
 * convert.c - the converter's driver: which tensors are the graph's inputs and outputs, a
 * depth-first walk from the outputs (so nodes nothing reads are never converted, and every
 * node is converted after its inputs), constant folding before conversion, and the dispatch to
 * the op handlers of ops_nn.c and ops_tensor.c.
 *
 * A TensorFlow tensor becomes a `struct value`. Constants stay on the host until a node that
 * cannot be folded reads one; only then is an initialiser written, in the form that node wants
 * (a Conv's filter is written transposed, never as the HWIO original). That is also how unused
 * initialisers are pruned: they are never written. Identity-like ops alias their input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_int.h"

struct aitag_convert_params aitag_convert_default_params(void)
{
    struct aitag_convert_params p = {0};

    p.producer = "aitag-convert";
    return p;
}

/* Splits "node:3" into the node and 3; "node" is output 0. */
static struct tfnode *parse_ref(struct conv *c, const char *ref, int *idx)
{
    const char *colon = strrchr(ref, ':');
    struct tfnode *n;

    *idx = 0;
    if (colon && colon[1]) {
        char *end;
        long k = strtol(colon + 1, &end, 10);
        if (*end == '\0' && k >= 0 && k < CONV_MAX_OUTS) {
            char *name = conv_printf(c, "%.*s", (int)(colon - ref), ref);
            n = conv_tfjs_find(c, name);
            if (n) {
                *idx = (int)k;
                return n;
            }
        }
    }
    return conv_tfjs_find(c, ref);
}

struct value *conv_in_val(struct conv *c, struct tfnode *n, int i)
{
    struct tfnode *src;
    int idx;

    if (i < 0 || i >= n->n_in)
        conv_fail_node(c, "needs input %d but has %d inputs", i, n->n_in);
    src = parse_ref(c, n->inputs[i], &idx);
    if (!src || !src->out[idx])
        conv_fail_node(c, "input \"%s\" is not produced by any node", n->inputs[i]);
    return src->out[idx];
}

const char *conv_val_name(struct conv *c, struct value *v)
{
    if (!v->onnx)
        v->onnx = conv_oinit(c, v->tf_name, v->k);
    return v->onnx;
}

const char *conv_in_name(struct conv *c, struct tfnode *n, int i)
{
    return conv_val_name(c, conv_in_val(c, n, i));
}

struct ctensor *conv_in_const(struct conv *c, struct tfnode *n, int i)
{
    struct value *v = conv_in_val(c, n, i);

    if (!v->k)
        conv_fail_node(c,
                       "input %d (\"%s\") must be a constant (computed from constants) for "
                       "this converter",
                       i, n->inputs[i]);
    return v->k;
}

int conv_in_ints(struct conv *c, struct tfnode *n, int i, int64_t *out, int max)
{
    struct ctensor *t = conv_in_const(c, n, i);

    if (t->dtype == DT_FLOAT || t->dtype == DT_BOOL)
        conv_fail_node(c, "input %d must be an integer constant", i);
    if (t->count > (size_t)max)
        conv_fail_node(c, "input %d has %zu values, more than %d", i, t->count, max);
    for (size_t k = 0; k < t->count; k++)
        out[k] = conv_ctensor_geti(t, k);
    return (int)t->count;
}

const char *conv_out_name(struct conv *c, struct tfnode *n, int idx)
{
    return idx ? conv_oname(c, conv_printf(c, "%s:%d", n->name, idx), NULL)
               : conv_oname(c, n->name, NULL);
}

static struct value *new_value(struct conv *c, struct tfnode *n, int idx)
{
    struct value *v = conv_alloc(c, sizeof *v);

    if (idx < 0 || idx >= CONV_MAX_OUTS)
        conv_fail_node(c, "output index %d out of range", idx);
    v->tf_name = idx ? conv_printf(c, "%s:%d", n->name, idx) : n->name;
    n->out[idx] = v;
    if (idx + 1 > n->n_out)
        n->n_out = idx + 1;
    return v;
}

struct value *conv_set_out(struct conv *c, struct tfnode *n, int idx, const char *onnx, int dtype,
                           int ndim, const int64_t *dims)
{
    struct value *v = new_value(c, n, idx);

    v->onnx = onnx;
    v->dtype = dtype;
    v->ndim = ndim > CONV_MAX_DIMS ? -1 : ndim;
    for (int i = 0; i < v->ndim; i++)
        v->dims[i] = dims ? dims[i] : -1;
    return v;
}

struct value *conv_set_const(struct conv *c, struct tfnode *n, int idx, struct ctensor *t)
{
    struct value *v = new_value(c, n, idx);

    v->k = t;
    v->dtype = t->dtype;
    v->ndim = t->ndim;
    memcpy(v->dims, t->dims, sizeof v->dims);
    return v;
}

const char *conv_emit_cast(struct conv *c, const char *x, int to, const char *hint)
{
    const char *y = conv_oname(c, hint, "/cast");
    Onnx__NodeProto *o = conv_onode(c, "Cast", y, 1, &x, 1, &y);

    conv_oattr_int(c, o, "to", to);
    return y;
}

/* Names of the graph inputs and outputs, from the signature when the model has one. */
struct io {
    const char **in_names; /* per Placeholder node name */
    const char **in_nodes;
    size_t n_in;
    const char **out_names;
    const char **out_refs;
    size_t n_out;
};

static void find_io(struct conv *c, struct io *io)
{
    json_t *sig = json_object_get(c->root, "signature"), *ins, *outs, *v;
    const char *key;
    size_t cap = c->n_nodes + 1;

    if (!sig)
        sig = json_object_get(json_object_get(c->root, "userDefinedMetadata"), "signature");
    ins = json_object_get(sig, "inputs");
    outs = json_object_get(sig, "outputs");
    io->in_names = conv_alloc(c, cap * sizeof *io->in_names);
    io->in_nodes = conv_alloc(c, cap * sizeof *io->in_nodes);
    io->out_names = conv_alloc(c, cap * sizeof *io->out_names);
    io->out_refs = conv_alloc(c, cap * sizeof *io->out_refs);
    json_object_foreach(ins, key, v)
    {
        const char *ref = json_string_value(json_object_get(v, "name"));
        int idx;
        struct tfnode *n = parse_ref(c, ref ? ref : key, &idx);
        if (n && io->n_in < cap) {
            io->in_nodes[io->n_in] = n->name;
            io->in_names[io->n_in++] = key;
        }
    }
    json_object_foreach(outs, key, v)
    {
        const char *ref = json_string_value(json_object_get(v, "name"));
        if (io->n_out < cap) {
            io->out_refs[io->n_out] = ref ? ref : key;
            io->out_names[io->n_out++] = key;
        }
    }
    if (io->n_out == 0) { /* no signature: every node no other node reads */
        char *read = conv_alloc(c, c->n_nodes);
        for (size_t k = 0; k < c->n_nodes; k++) {
            for (int i = 0; i < c->nodes[k].n_in; i++) {
                int idx;
                struct tfnode *src = parse_ref(c, c->nodes[k].inputs[i], &idx);
                if (src)
                    read[src - c->nodes] = 1;
            }
        }
        for (size_t k = 0; k < c->n_nodes; k++) {
            const char *op = c->nodes[k].op;
            if (!read[k] && strcmp(op, "Const") != 0 && strcmp(op, "Placeholder") != 0 &&
                strcmp(op, "NoOp") != 0) {
                io->out_refs[io->n_out] = c->nodes[k].name;
                io->out_names[io->n_out++] = c->nodes[k].name;
            }
        }
    }
    if (io->n_out == 0)
        conv_fail(c, AITAG_ERR_INVALID, "the graph has no outputs");
    for (size_t i = 0; i < io->n_in; i++)
        conv_oname(c, io->in_names[i], NULL); /* reserve */
    for (size_t i = 0; i < io->n_out; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(io->out_names[i], io->out_names[j]) == 0)
                conv_fail(c, AITAG_ERR_INVALID, "output %s listed twice", io->out_names[i]);
        }
        conv_oname(c, io->out_names[i], NULL);
    }
}

static void convert_placeholder(struct conv *c, struct tfnode *n, const struct io *io)
{
    json_t *shape = n->attr ? json_object_get(json_object_get(n->attr, "shape"), "shape") : NULL;
    json_t *dims = json_object_get(shape, "dim");
    int64_t d[CONV_MAX_DIMS];
    int ndim = -1, dtype = conv_attr_dtype(c, n, "dtype", DT_FLOAT);
    const char *name = NULL;

    if (shape && !json_is_true(json_object_get(shape, "unknownRank"))) {
        ndim = (int)json_array_size(dims);
        if (ndim > CONV_MAX_DIMS)
            conv_fail_node(c, "input of rank %d", ndim);
        for (int i = 0; i < ndim; i++) {
            json_t *s = json_object_get(json_array_get(dims, (size_t)i), "size");
            d[i] = s ? (json_is_string(s) ? strtoll(json_string_value(s), NULL, 10)
                                          : json_integer_value(s))
                     : -1;
            if (d[i] < 0)
                d[i] = -1;
        }
    }
    for (size_t i = 0; i < io->n_in; i++) {
        if (strcmp(io->in_nodes[i], n->name) == 0)
            name = io->in_names[i];
    }
    if (!name)
        name = conv_oname(c, n->name, NULL);
    if (dtype == DT_INT32) {
        /* aitag feeds every model float32 tensors (infer.h), so an int32 input (MoveNet's
         * 0..255 pixels) becomes a float32 graph input cast back to int32 inside: integer-valued
         * floats convert exactly. */
        conv_ograph_input(c, name, DT_FLOAT, ndim, d);
        conv_set_out(c, n, 0, conv_emit_cast(c, name, DT_INT32, n->name), dtype, ndim, d);
        return;
    }
    conv_set_out(c, n, 0, name, dtype, ndim, d);
    conv_ograph_input(c, name, dtype, ndim, d);
}

static op_fn find_op(const char *op)
{
    const struct op_entry *tables[] = {conv_ops_nn, conv_ops_tensor, conv_ops_select};

    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const struct op_entry *e = tables[t]; e->op; e++) {
            if (strcmp(e->op, op) == 0)
                return e->fn;
        }
    }
    return NULL;
}

static void convert_node(struct conv *c, struct tfnode *n, const struct io *io)
{
    int all_const = 1;
    op_fn fn;

    c->cur = n;
    if (strcmp(n->op, "Placeholder") == 0) {
        convert_placeholder(c, n, io);
        return;
    }
    if (strcmp(n->op, "Const") == 0) {
        struct ctensor *t = conv_tfjs_weight(c, n->name);
        if (!t)
            conv_fail_node(c, "constant has no entry in the weights manifest");
        conv_set_const(c, n, 0, t);
        return;
    }
    if (!strcmp(n->op, "Identity") || !strcmp(n->op, "StopGradient") ||
        !strcmp(n->op, "Snapshot") || !strcmp(n->op, "IdentityN")) {
        for (int i = 0; i < n->n_in && i < CONV_MAX_OUTS; i++) {
            n->out[i] = conv_in_val(c, n, i);
            n->n_out = i + 1;
        }
        return;
    }
    for (int i = 0; i < n->n_in; i++)
        all_const &= conv_in_val(c, n, i)->k != NULL;
    if (all_const && n->n_in > 0 && conv_fold_node(c, n)) {
        c->folded++;
        return;
    }
    fn = find_op(n->op);
    if (!fn)
        conv_fail(c, AITAG_ERR_MODEL, "unsupported op %s (node \"%s\")", n->op, n->name);
    fn(c, n);
    if (c->p->verbose)
        aitag_log(AITAG_LOG_DEBUG, "convert", "event=node name=%s op=%s", n->name, n->op);
}

/* Post-order depth-first walk with an explicit stack (graphs can be thousands deep). */
static void walk(struct conv *c, struct tfnode *root, const struct io *io)
{
    struct frame {
        struct tfnode *n;
        int next;
    } * stack;
    size_t sp = 0;

    if (root->state == 2)
        return;
    stack = conv_alloc(c, (c->n_nodes + 1) * sizeof *stack);
    stack[sp++] = (struct frame){root, 0};
    root->state = 1;
    while (sp) {
        struct frame *f = &stack[sp - 1];
        if (f->next < f->n->n_in) {
            int idx;
            const char *ref = f->n->inputs[f->next++];
            struct tfnode *src = parse_ref(c, ref, &idx);
            if (!src)
                conv_fail(c, AITAG_ERR_INVALID,
                          "node \"%s\" reads \"%s\", which no node "
                          "defines",
                          f->n->name, ref);
            if (src->state == 1)
                conv_fail(c, AITAG_ERR_MODEL,
                          "node \"%s\" is part of a cycle (control flow "
                          "is not supported)",
                          src->name);
            if (src->state == 0) {
                src->state = 1;
                stack[sp++] = (struct frame){src, 0};
            }
            continue;
        }
        convert_node(c, f->n, io);
        f->n->state = 2;
        sp--;
    }
}

static void convert_graph(struct conv *c)
{
    struct io io = {0};

    conv_tfjs_load(c);
    find_io(c, &io);
    for (size_t i = 0; i < io.n_out; i++) {
        int idx;
        struct tfnode *n = parse_ref(c, io.out_refs[i], &idx);
        struct value *v;
        const char *src;
        if (!n)
            conv_fail(c, AITAG_ERR_INVALID, "output \"%s\" names no node", io.out_refs[i]);
        walk(c, n, &io);
        v = n->out[idx];
        if (!v)
            conv_fail(c, AITAG_ERR_MODEL, "output \"%s\" was not produced", io.out_refs[i]);
        c->cur = NULL;
        src = conv_val_name(c, v);
        conv_onode(c, "Identity", io.out_names[i], 1, &src, 1, &io.out_names[i]);
        conv_ograph_output(c, io.out_names[i], v->dtype);
    }
}

/* The one place that catches conv_fail(): nothing here changes after setjmp. */
static int run_conversion(struct conv *c, struct aitag_convert_stats *st)
{
    if (setjmp(c->jmp) != 0)
        return c->rc < 0 ? c->rc : AITAG_ERR_MODEL;
    convert_graph(c);
    st->tf_nodes = c->n_nodes;
    st->folded = c->folded;
    st->bytes = conv_onnx_write(c, c->p->output, &st->onnx_nodes, &st->initializers);
    return 0;
}

int aitag_convert_tfjs(const struct aitag_convert_params *p, struct aitag_convert_stats *stats,
                       char *err, size_t errlen)
{
    struct conv *c;
    struct aitag_convert_stats st = {0};
    int rc;

    if (stats)
        memset(stats, 0, sizeof *stats);
    if (err && errlen)
        err[0] = '\0';
    if (!p || !p->model_json || !p->output) {
        if (err)
            snprintf(err, errlen, "convert: model_json and output are required");
        return AITAG_ERR_INVALID;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        if (err)
            snprintf(err, errlen, "convert: out of memory");
        return AITAG_ERR_NOMEM;
    }
    c->p = p;
    rc = run_conversion(c, &st);
    if (rc < 0 && err)
        snprintf(err, errlen, "convert %s: %s", p->model_json, c->err);
    if (rc == 0 && stats)
        *stats = st;
    json_decref(c->root);
    conv_arena_free(c);
    free(c);
    return rc;
}
