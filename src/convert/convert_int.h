/*
 * convert_int.h - internals of src/convert, the TensorFlow.js -> ONNX converter.
 *
 * Files: convert.c (driver: walk, dispatch, graph inputs/outputs), tfjs_model.c (model.json
 * and weight shards), onnx_emit.c (building and writing the protobuf-c ModelProto), ops_nn.c
 * (convolutions, pooling, resizing, matmul, activations), ops_tensor.c (element-wise, shape),
 * ops_select.c (slicing, gathering, TopK, reductions), fold.c (evaluating constant subgraphs on the
 * host), util.c (arena, failure, name table, base64, fp16).
 *
 * Memory: everything a conversion allocates comes from one arena that is freed at the end, so
 * op handlers never free anything. Errors: handlers call conv_fail(), which records the message
 * and longjmps back to aitag_convert_tfjs(); nothing is left to unwind but the arena.
 */
#ifndef AITAG_CONVERT_INT_H
#define AITAG_CONVERT_INT_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aitag/convert.h"
#include "onnx.pb-c.h"

#define CONV_MAX_DIMS 8

/* ONNX element types (TensorProto.DataType) the converter handles. */
enum {
    DT_UNDEF = 0,
    DT_FLOAT = 1,
    DT_UINT8 = 2,
    DT_INT32 = 6,
    DT_INT64 = 7,
    DT_BOOL = 9,
};

/* A tensor held on the host: a constant from the weights or a folded result. Data is
 * little-endian, packed, in the element type's natural C type (float, uint8_t, int32_t,
 * int64_t, uint8_t for bool). */
struct ctensor {
    int dtype;
    int ndim;
    int64_t dims[CONV_MAX_DIMS];
    size_t count;
    void *data;
};

/* One TensorFlow tensor (a node's output). A constant has `k` set and no ONNX value until a
 * node reads it (then an initialiser is written, once). dims use -1 for unknown; ndim -1 when
 * even the rank is unknown. */
struct value {
    const char *tf_name; /* "node" or "node:1" */
    const char *onnx;    /* ONNX value name, NULL while not materialised */
    int dtype;
    int ndim;
    int64_t dims[CONV_MAX_DIMS];
    struct ctensor *k;
};

struct tfnode {
    const char *name;
    const char *op;
    json_t *attr;        /* borrowed from the parsed model.json; may be NULL */
    const char **inputs; /* data inputs only (control inputs "^x" dropped) */
    int n_in;
    int state;          /* walk: 0 new, 1 on the stack, 2 done */
    int n_out;          /* outputs this node has produced */
    struct value **out; /* up to CONV_MAX_OUTS */
};

#define CONV_MAX_OUTS 64

struct arena_chunk;

struct conv {
    jmp_buf jmp;
    int rc;
    char err[512];
    struct arena_chunk *arena;
    const struct aitag_convert_params *p;
    /* the TensorFlow.js graph */
    json_t *root;
    struct tfnode *nodes;
    size_t n_nodes;
    struct tfnode **node_index; /* open-addressed hash table on name */
    size_t index_cap;
    /* named weights from the manifest, as host tensors */
    struct wentry *weights;
    size_t n_weights;
    /* the ONNX graph being built */
    Onnx__NodeProto **onodes;
    size_t n_onodes, cap_onodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    Onnx__ValueInfoProto **ginputs, **goutputs;
    size_t n_ginputs, n_goutputs;
    const char **used_names; /* every ONNX value name handed out, hashed */
    size_t n_used, cap_used;
    size_t folded;
    const char *clip_lo, *clip_hi; /* Relu6's bounds, shared by every Clip */
    struct tfnode *cur;            /* node being converted, for messages */
};

struct wentry {
    const char *name;
    struct ctensor *t;
};

/* util.c */
void *conv_alloc(struct conv *c, size_t n); /* zeroed; never NULL (fails the conversion) */
char *conv_strdup(struct conv *c, const char *s);
char *conv_printf(struct conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conv_arena_free(struct conv *c);
_Noreturn void conv_fail(struct conv *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails naming the current node and op. */
_Noreturn void conv_fail_node(struct conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Decodes standard base64 into a new arena buffer; *len gets the size. NULL if malformed. */
uint8_t *conv_base64(struct conv *c, const char *s, size_t *len);
float conv_half_to_float(uint16_t h);
size_t conv_dtype_size(int dtype);
const char *conv_dtype_name(int dtype);
struct ctensor *conv_ctensor_new(struct conv *c, int dtype, int ndim, const int64_t *dims);
/* Element i of a numeric constant as double / int64. */
double conv_ctensor_get(const struct ctensor *t, size_t i);
int64_t conv_ctensor_geti(const struct ctensor *t, size_t i);
void conv_ctensor_set(struct ctensor *t, size_t i, double v);

/* tfjs_model.c: parses model.json, indexes the nodes and decodes every weight. */
void conv_tfjs_load(struct conv *c);
struct tfnode *conv_tfjs_find(struct conv *c, const char *name);
struct ctensor *conv_tfjs_weight(struct conv *c, const char *name);
/* Attribute readers; `def` when absent. Type mismatches fail the conversion. */
int64_t conv_attr_int(struct conv *c, const struct tfnode *n, const char *key, int64_t def);
int conv_attr_bool(struct conv *c, const struct tfnode *n, const char *key, int def);
double conv_attr_float(struct conv *c, const struct tfnode *n, const char *key, double def);
/* "s" attributes are base64 in model.json; returns the decoded string or def. */
const char *conv_attr_str(struct conv *c, const struct tfnode *n, const char *key, const char *def);
/* list.i; returns the count (at most max), -1 when absent. */
int conv_attr_ints(struct conv *c, const struct tfnode *n, const char *key, int64_t *out, int max);
/* list.s, decoded; returns the count, -1 when absent. */
int conv_attr_strs(struct conv *c, const struct tfnode *n, const char *key, const char **out,
                   int max);
/* "type" attribute (DT_FLOAT ...) as an ONNX element type; def when absent. */
int conv_attr_dtype(struct conv *c, const struct tfnode *n, const char *key, int def);
/* TensorFlow dtype name ("DT_FLOAT", "float32") to an ONNX element type, DT_UNDEF if unknown. */
int conv_tf_dtype(const char *s);

/* onnx_emit.c */
/* A fresh ONNX value name derived from base (unique in the model). */
const char *conv_oname(struct conv *c, const char *base, const char *suffix);
/* Appends a node; in/out are copied. Returns it for attributes. */
Onnx__NodeProto *conv_onode(struct conv *c, const char *op, const char *name, int n_in,
                            const char *const *in, int n_out, const char *const *out);
void conv_oattr_int(struct conv *c, Onnx__NodeProto *n, const char *key, int64_t v);
void conv_oattr_float(struct conv *c, Onnx__NodeProto *n, const char *key, float v);
void conv_oattr_str(struct conv *c, Onnx__NodeProto *n, const char *key, const char *v);
void conv_oattr_ints(struct conv *c, Onnx__NodeProto *n, const char *key, const int64_t *v,
                     size_t count);
/* Adds an initialiser holding t under a fresh name derived from base; returns the name. */
const char *conv_oinit(struct conv *c, const char *base, const struct ctensor *t);
/* Shorthands: a 1-D int64 / a scalar float initialiser. */
const char *conv_oinit_i64(struct conv *c, const char *base, const int64_t *v, size_t count);
const char *conv_oinit_f32(struct conv *c, const char *base, float v);
void conv_ograph_input(struct conv *c, const char *name, int dtype, int ndim, const int64_t *dims);
void conv_ograph_output(struct conv *c, const char *name, int dtype);
/* Packs the model and writes it atomically; returns its size. */
size_t conv_onnx_write(struct conv *c, const char *path, size_t *n_nodes, size_t *n_inits);

/* convert.c: what op handlers use. */
struct value *conv_in_val(struct conv *c, struct tfnode *n, int i);
/* The ONNX name of input i, writing its initialiser if it is a constant. */
const char *conv_in_name(struct conv *c, struct tfnode *n, int i);
const char *conv_val_name(struct conv *c, struct value *v);
/* Input i must be a constant (after folding); returns it. */
struct ctensor *conv_in_const(struct conv *c, struct tfnode *n, int i);
/* Input i as int64 values (a constant of any integer type); returns the count. */
int conv_in_ints(struct conv *c, struct tfnode *n, int i, int64_t *out, int max);
/* Declares output idx of n as the ONNX value `onnx` with the given type and shape (dims may be
 * NULL when ndim is -1). */
struct value *conv_set_out(struct conv *c, struct tfnode *n, int idx, const char *onnx, int dtype,
                           int ndim, const int64_t *dims);
/* Declares output idx as a host constant. */
struct value *conv_set_const(struct conv *c, struct tfnode *n, int idx, struct ctensor *t);
/* Output idx's ONNX name: "node" or "node:idx", made unique. */
const char *conv_out_name(struct conv *c, struct tfnode *n, int idx);
/* Emits Cast(x) -> to; returns the new value name. */
const char *conv_emit_cast(struct conv *c, const char *x, int to, const char *hint);

typedef void (*op_fn)(struct conv *c, struct tfnode *n);
struct op_entry {
    const char *op;
    op_fn fn;
};

/* ops_nn.c / ops_tensor.c / ops_select.c: tables ending with {NULL, NULL}. */
extern const struct op_entry conv_ops_nn[];
extern const struct op_entry conv_ops_tensor[];
extern const struct op_entry conv_ops_select[];
/* ops_tensor.c: an int64 tensor name for a shape-like input i (an initialiser when constant,
 * else a Cast); the element count of v when its shape is fully known, else -1. */
const char *conv_i64_input(struct conv *c, struct tfnode *n, int i);
int64_t conv_known_count(const struct value *v);
/* fold.c: evaluates n on constant inputs into conv_set_const outputs; returns 1 when done, 0 when
 * the op has no host evaluator (the node is then converted normally). */
int conv_fold_node(struct conv *c, struct tfnode *n);
/* Broadcast shape of two values; ndim -1 when unknown. */
void conv_bcast_shape(const struct value *a, const struct value *b, int *ndim, int64_t *dims);

#endif
