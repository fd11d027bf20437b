/*
 * infer_int.h - internals shared by the files of src/infer: the context and model structs,
 * manifest parsing (manifest.c), ONNX Runtime sessions (session.c), running (run.c) and input
 * preprocessing (preprocess.c).
 */
#ifndef AITAG_INFER_INT_H
#define AITAG_INFER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <onnxruntime_c_api.h>

#include "aitag/common.h"
#include "aitag/infer.h"

#define INFER_MAX_DIMS 8

struct aitag_infer {
    struct aitag_infer_params params; /* the string members point at the copies below */
    char *manifest_dir;
    char *weights_dir;
    const OrtApi *api;
    pthread_mutex_t env_lock; /* guards the lazy creation of env and mem */
    OrtEnv *env;
    OrtMemoryInfo *mem;
    struct aitag_model **models;
    size_t n_models, cap_models;
    char errmsg[512];
};

/* Everything from the manifest is immutable after aitag_model_open; the session fields are
 * written once under load_lock and read without it after `loaded` is seen set. */
struct aitag_model {
    struct aitag_infer *inf;
    char *manifest_path;
    char *name, *version, *file, *sha256, *package, *license, *task, *decoder;
    char *analyzer; /* custom models: the analyzer name the manifest gives, "" for none */
    char *path;     /* weights path resolved against weights_dir */
    char *key;      /* name@version#sha8 */
    json_t *params;
    char **labels;
    size_t n_labels;
    char *labels_file;  /* resolved path, NULL when labels are inline or absent */
    int labels_missing; /* labels_file named but unreadable at open: load fails */
    char **outputs;     /* names the manifest promises; checked at load */
    size_t n_outputs;
    /* input */
    char *input_name;
    int64_t input_shape[INFER_MAX_DIMS];
    int input_ndim;
    int nchw; /* layout: 0 NHWC, 1 NCHW */
    int bgr;  /* colour order of the model's channels */
    float mean[3], inv_std[3];
    enum aitag_fit fit;
    int multiple;
    /* session */
    pthread_mutex_t load_lock;
    int loaded;   /* set last, under load_lock */
    int verified; /* sha256 already checked */
    OrtSession *session;
    char **sess_outputs; /* output names in session order */
    size_t n_sess_outputs;
    /* successful Run calls and the batch items they carried (aitag_model_counts) */
    _Atomic unsigned long long runs, items;
};

/* manifest.c: parses <manifest_dir>/<name>.json into a new model (not added to inf). On
 * failure returns < 0 with the message (naming the file and field) in err. */
int infer_manifest_parse(struct aitag_infer *inf, const char *name, struct aitag_model **out,
                         char *err, size_t errlen);
/* Frees a model's manifest data and session. NULL is a no-op. */
void infer_model_free(struct aitag_model *m);

/* session.c: converts an OrtStatus into AITAG_ERR_MODEL, writing "what: message" into err,
 * and releases the status. A NULL status means success and returns 0. */
int infer_ort_check(const OrtApi *api, OrtStatus *st, const char *what, char *err, size_t errlen);
/* Creates the session if needed (thread-safe); messages go to err. */
int infer_model_ensure_loaded(struct aitag_model *m, char *err, size_t errlen);
/* Verifies the weights' sha256 into err. */
int infer_model_verify(struct aitag_model *m, char *err, size_t errlen);

/* Writes a message into the context's errmsg. */
void infer_set_error(struct aitag_infer *inf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
