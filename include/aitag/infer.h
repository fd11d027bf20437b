/*
 * aitag/infer.h - model manifests and inference on the ONNX Runtime C API.
 *
 * Usage:
 *     struct aitag_infer_params ip = aitag_infer_default_params();
 *     ip.manifest_dir = "models"; ip.weights_dir = "deps/models"; ip.intra_threads = 1;
 *     struct aitag_infer *inf;
 *     aitag_infer_new(&ip, &inf);
 *     struct aitag_model *m;
 *     if (aitag_model_open(inf, "blazeface-back", &m) < 0) puts(aitag_infer_errmsg(inf));
 *     float *x = malloc(aitag_model_input_size(m) * sizeof *x);  // floats per batch item
 *     aitag_model_fill_input(m, view, x);
 *     struct aitag_tensor in = {x, {1, 256, 256, 3}, 4, 256 * 256 * 3};
 *     struct aitag_tensor outs[4]; size_t n; char err[256];
 *     if (aitag_model_run(m, &in, outs, 4, &n, err, sizeof err) < 0) puts(err);
 *     ...; aitag_tensors_release(outs, n);
 *     aitag_infer_free(inf);   // frees all models opened from it
 *
 * A manifest (<manifest_dir>/<name>.json) describes one model file: where it came from
 * (package, version, sha256, licence), its input (name, shape with -1 for free dims, layout,
 * colour order, normalisation) and outputs, its decoder and labels. Adding a model is a data
 * change. See docs/models.md for the format.
 *
 * Opening a model reads and parses its manifest only; the ONNX Runtime session is created on
 * first use (aitag_model_run / aitag_model_load), so code that only needs a model's identity
 * (aitag_model_key) never pays for loading it. One session per model, shared by all threads:
 * aitag_model_run is thread-safe; everything else on a model or the infer handle belongs to one
 * thread at a time.
 */
#ifndef AITAG_INFER_H
#define AITAG_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/common.h"

#include "aitag/media.h"

struct aitag_infer_params {
    const char *manifest_dir; /* folder of <name>.json manifests (borrowed, copied) */
    const char *weights_dir;  /* manifest "file" paths are relative to this (copied) */
    int intra_threads;        /* ONNX Runtime intra-op threads; default 1 */
    int inter_threads;        /* default 1 */
    int verify_sha256;        /* check the weights' sha256 when a session is created; default 1 */
    int allow_spinning;       /* let idle intra-op threads spin-wait: a little faster on an idle
                                 machine, CPU taken from decoding on a busy one; default 0 */
};

struct aitag_infer_params aitag_infer_default_params(void);

struct aitag_infer;
struct aitag_model;

/* Creates the inference context (the OrtEnv is created lazily, on the first session).
 * Returns 0 or AITAG_ERR_NOMEM. Free with aitag_infer_free(). */
int aitag_infer_new(const struct aitag_infer_params *p, struct aitag_infer **out);
/* Frees the context and every model opened from it. NULL is a no-op. */
void aitag_infer_free(struct aitag_infer *inf);
/* Last error message on this context ("" if none). Borrowed. */
const char *aitag_infer_errmsg(const struct aitag_infer *inf);

/* Opens model `name` (manifest <manifest_dir>/<name>.json). Opening twice returns the same
 * handle. The model is owned by inf. Returns 0, AITAG_ERR_NOTFOUND, AITAG_ERR_INVALID (bad
 * manifest: the message names the file and field). */
int aitag_model_open(struct aitag_infer *inf, const char *name, struct aitag_model **out);
/* Creates the session now (verifying sha256 if asked). Idempotent. */
int aitag_model_load(struct aitag_model *m);
/* Verifies the weights file's sha256 against the manifest without loading. 0 or
 * AITAG_ERR_MODEL (message on the infer handle). */
int aitag_model_verify(struct aitag_model *m);

/* Manifest accessors (borrowed strings, valid while inf lives). */
const char *aitag_model_name(const struct aitag_model *m);
const char *aitag_model_version(const struct aitag_model *m);
const char *aitag_model_sha256(const struct aitag_model *m);
const char *aitag_model_path(const struct aitag_model *m);     /* resolved weights path */
const char *aitag_model_package(const struct aitag_model *m);
const char *aitag_model_license(const struct aitag_model *m);
const char *aitag_model_task(const struct aitag_model *m);     /* "detector", "ocr-det", ... */
const char *aitag_model_decoder(const struct aitag_model *m);
/* The manifest's "analyzer" (the analyzer name a custom model asks for), "" if absent. */
const char *aitag_model_analyzer(const struct aitag_model *m);
/* The i-th name of the manifest's "outputs", or NULL past its end. */
const char *aitag_model_output_name(const struct aitag_model *m, size_t i);
/* How often aitag_model_run succeeded on m, and the batch items (input dim 0) those runs
 * carried: tests and benchmarks check that each model runs once per frame. Thread-safe. */
void aitag_model_counts(const struct aitag_model *m, unsigned long long *runs,
                        unsigned long long *items);
/* The same for the model called name, if open on inf; AITAG_ERR_NOTFOUND (counts 0) if not. */
int aitag_infer_model_counts(const struct aitag_infer *inf, const char *name,
                             unsigned long long *runs, unsigned long long *items);
/* "name@version#sha256-prefix": identifies the exact weights, for catalog keys. */
const char *aitag_model_key(const struct aitag_model *m);
/* A numeric decoder parameter from the manifest's "params" object, or def. */
double aitag_model_param(const struct aitag_model *m, const char *key, double def);
/* Labels from the manifest ("labels" array or "labels_file"); NULL/0 if none. Borrowed. */
const char *const *aitag_model_labels(const struct aitag_model *m, size_t *n);

/* Input description from the manifest. shape has -1 for free dims; layout "NHWC"/"NCHW". */
const int64_t *aitag_model_input_shape(const struct aitag_model *m, int *ndim);
const char *aitag_model_input_layout(const struct aitag_model *m);
/* Floats in one batch item (the product of the input dims after the first); 0 when one of
 * them is free (-1), in which case the caller derives the size from its own tensor. */
size_t aitag_model_input_size(const struct aitag_model *m);
/* The largest batch one run accepts: the manifest's first input dim, or 0 when it is free
 * (-1: any batch size). */
int aitag_model_max_batch(const struct aitag_model *m);
/* The frame view this model wants, from input.shape, input.fit and input.multiple: for
 * "letterbox" the input's W x H; for "max_side" params.max_side (else the larger fixed dim).
 * Returns 0, or AITAG_ERR_INVALID when the input is not 4-dimensional or the size is free. */
int aitag_model_input_view(const struct aitag_model *m, struct aitag_view_spec *out);

struct aitag_tensor {
    float *data;       /* owned by whoever filled it; see aitag_tensors_release */
    int64_t shape[8];
    int ndim;
    size_t count;      /* product of shape */
};

/* Converts an RGB24 view into one batch item of the model's input, honouring the manifest's
 * layout (NHWC/NCHW), colour order (RGB/BGR) and normalisation x = (p - mean[c]) / std[c].
 * dst must hold view->width * view->height * 3 floats. */
void aitag_model_fill_input(const struct aitag_model *m, const struct aitag_view *view, float *dst);
/* The same on a raw RGB24 buffer of w x h with the given stride. */
void aitag_model_fill_input_rgb(const struct aitag_model *m, const uint8_t *rgb, int w, int h,
                                int stride, float *dst);

/* Mirrors one NHWC batch item (w x h, c channels) left to right in place: the flip views some
 * analyzers run beside the original to reject detections that do not survive mirroring. */
void aitag_tensor_mirror_nhwc(float *x, int w, int h, int c);

/* Runs the model on one float input tensor (batch dimension first). Outputs arrive in the
 * session's output order; each out[i].data is malloc'd and released by
 * aitag_tensors_release(). Thread-safe. Returns 0 or AITAG_ERR_MODEL (message via errbuf when
 * not NULL, since the infer handle's message is not thread-safe). */
int aitag_model_run(struct aitag_model *m, const struct aitag_tensor *in, struct aitag_tensor *out,
                    size_t max_out, size_t *n_out, char *errbuf, size_t errlen);
/* A further named input of a model with several (a recurrent state, a sample rate): float or
 * int64 values, borrowed for the call. */
struct aitag_named_input {
    const char *name;
    const void *data; /* count floats, or count int64_t when is_int64 */
    int64_t shape[8];
    int ndim; /* 0 for a scalar */
    size_t count;
    int is_int64;
};

/* aitag_model_run with n_extra further inputs beside the manifest's input (checked as there);
 * the extra ones are passed as given (ONNX Runtime checks them). Thread-safe. */
int aitag_model_run_inputs(struct aitag_model *m, const struct aitag_tensor *in,
                           const struct aitag_named_input *extra, size_t n_extra,
                           struct aitag_tensor *out, size_t max_out, size_t *n_out, char *errbuf,
                           size_t errlen);
/* Index of the output called name, or -1. Valid after load. */
int aitag_model_output_index(struct aitag_model *m, const char *name);
void aitag_tensors_release(struct aitag_tensor *t, size_t n);

/* Lists manifest names in manifest_dir, sorted; the caller frees each string and the array. */
int aitag_infer_list_manifests(const struct aitag_infer *inf, char ***names, size_t *n);

#endif
