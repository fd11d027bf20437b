/*
 * aitag/convert.h - TensorFlow.js graph models (model.json + weight shards) to ONNX.
 *
 * Usage:
 *     struct aitag_convert_params p = aitag_convert_default_params();
 *     p.model_json = "deps/cache/centernet/model.json";   // shards are found beside it
 *     p.output = "deps/models/centernet/centernet.onnx";
 *     struct aitag_convert_stats st;
 *     char err[512];
 *     if (aitag_convert_tfjs(&p, &st, err, sizeof err) < 0) fprintf(stderr, "%s\n", err);
 *
 * The converter reads the graph (format "graph-model"), decodes the weights (float32, int32,
 * bool; float16 and uint8/uint16 min/scale quantisation are dequantised to float32 exactly as
 * TensorFlow.js does when it loads them) and writes an ONNX model at opset 13. Tensors stay in
 * TensorFlow's NHWC layout; each Conv, Pool and Resize is wrapped in a Transpose pair that ONNX
 * Runtime's optimiser removes again. Graph inputs and outputs are named after the model's
 * signature keys (for example "input:0", "Identity:0", "tower_0/detections"), or after the
 * Placeholder and output node names when the model has no signature. A free batch dimension
 * (-1) becomes the symbolic dim "batch".
 *
 * The output is a pure function of the input files: the same model gives the same bytes, so
 * its sha256 can be pinned. Constant subgraphs are folded on the host, nodes that no output
 * depends on are dropped, and only initialisers some node reads are written. An op the
 * converter does not know fails the conversion with a message naming the op and the node.
 *
 * Thread-safety: aitag_convert_tfjs keeps all its state on the stack and in its own arena;
 * concurrent calls are safe.
 */
#ifndef AITAG_CONVERT_H
#define AITAG_CONVERT_H

#include <stddef.h>

#include "aitag/common.h"

struct aitag_convert_params {
    const char *model_json;  /* path of model.json (borrowed) */
    const char *weights_dir; /* folder of the shards; NULL: model.json's folder */
    const char *output;      /* path of the .onnx file to write (borrowed); written atomically
                                (a temporary file renamed into place) */
    const char *producer;    /* ModelProto.producer_name; default "aitag-convert" */
    int verbose;             /* log each converted node at debug level */
};

struct aitag_convert_params aitag_convert_default_params(void);

struct aitag_convert_stats {
    size_t tf_nodes;     /* nodes in model.json */
    size_t onnx_nodes;   /* nodes written */
    size_t initializers; /* initialisers written */
    size_t folded;       /* TF nodes evaluated at conversion time */
    size_t bytes;        /* size of the written file */
};

/* Converts p->model_json into p->output. stats may be NULL. Returns 0, or AITAG_ERR_IO
 * (unreadable model or shard, unwritable output), AITAG_ERR_INVALID (malformed model.json or
 * shards that do not match the manifest), AITAG_ERR_MODEL (an op or attribute the converter
 * does not support), AITAG_ERR_NOMEM; err (when not NULL) receives a message naming the file,
 * node and op. */
int aitag_convert_tfjs(const struct aitag_convert_params *p, struct aitag_convert_stats *stats,
                       char *err, size_t errlen);

#endif
