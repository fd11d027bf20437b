/*
 * nsfw.c - the "nsfw" analyzer: nsfwjs's MobileNetV2 (mid) classifier (a TensorFlow.js model
 * converted to ONNX at setup) on a letterboxed 224x224 view of each frame.
 *
 * The model outputs probabilities for five classes: Drawing, Hentai, Neutral, Porn, Sexy.
 * Evidence labels are "nsfw:" + the class in lower case ("nsfw:neutral", "nsfw:porn", ...), so
 * they cannot be mistaken for object or face labels in rules and tag names. Per frame the top
 * class is always reported, and every other class whose probability reaches
 * params.min_confidence (0.2). Two summaries follow, each when it reaches min_confidence:
 * "nsfw:unsafe" = P(porn) + P(hentai) + P(sexy) and "nsfw:safe" = P(neutral) + P(drawing).
 * "Drawing" is a style, not a safety class, and it is high (0.7-0.9) on many ordinary photos
 * (Debian's giraffe photo: drawing 0.72, neutral 0.28), so the safe/unsafe pair is the one to
 * moderate with; do not read nsfw:drawing as a cartoon detector (docs/models.md). Whether a
 * frame counts is the policy's business (its default threshold 0.5 is where unsafe thresholds
 * belong: harmless fruit reached 0.37 unsafe in FACTS.md's measurements).
 * The model's batch is free, so up to NSFW_MAX_BATCH frames go through one Run.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"

#define NSFW_MODEL "nsfw-mobilenet-v2-mid"
#define NSFW_CLASSES 5
#define NSFW_MAX_BATCH 8

struct nsfw {
    struct aitag_model *model;
    struct aitag_view_spec spec;
    char labels[NSFW_CLASSES][32];
    int unsafe[NSFW_CLASSES]; /* 1: summed into nsfw:unsafe, 0: into nsfw:safe */
    float min_conf;
    char key[256];
    float *input;
    size_t item_floats;
};

static const char *const nsfw_models[] = {NSFW_MODEL, NULL};

static void nsfw_destroy(void *state)
{
    struct nsfw *s = state;

    if (!s)
        return;
    free(s->input);
    free(s);
}

static int nsfw_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf, void **state,
                       char *err, size_t errlen)
{
    struct nsfw *s;
    const char *const *labels;
    size_t n_labels = 0;
    int rc;
    (void)self;

    *state = NULL;
    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "nsfw: out of memory");
        return AITAG_ERR_NOMEM;
    }
    rc = aitag_model_open(inf, NSFW_MODEL, &s->model);
    if (rc < 0) {
        snprintf(err, errlen, "nsfw: %s", aitag_infer_errmsg(inf));
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    labels = aitag_model_labels(s->model, &n_labels);
    if (n_labels != NSFW_CLASSES || aitag_model_input_view(s->model, &s->spec) < 0 ||
        s->spec.fit != AITAG_FIT_LETTERBOX ||
        strcmp(aitag_model_input_layout(s->model), "NHWC") != 0 ||
        aitag_model_input_size(s->model) != (size_t)s->spec.width * (size_t)s->spec.height * 3) {
        snprintf(err, errlen, "nsfw: model %s needs %d labels and a fixed NHWC letterbox input",
                 NSFW_MODEL, NSFW_CLASSES);
        goto out;
    }
    for (int c = 0; c < NSFW_CLASSES; c++) {
        snprintf(s->labels[c], sizeof s->labels[c], "nsfw:%s", labels[c]);
        for (char *p = s->labels[c]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        s->unsafe[c] = !strcmp(labels[c], "Porn") || !strcmp(labels[c], "Hentai") ||
                       !strcmp(labels[c], "Sexy");
    }
    s->min_conf = (float)aitag_model_param(s->model, "min_confidence", 0.2);
    s->item_floats = aitag_model_input_size(s->model);
    snprintf(s->key, sizeof s->key, "nsfw/v1 %s min=%.2f", aitag_model_key(s->model), s->min_conf);
    *state = s;
    s = NULL;
    rc = 0;
out:
    nsfw_destroy(s);
    return rc;
}

static size_t nsfw_views(void *state, struct aitag_view_spec *out, size_t max)
{
    if (max < 1)
        return 0;
    out[0] = ((struct nsfw *)state)->spec;
    return 1;
}

static const char *nsfw_key(void *state)
{
    return ((struct nsfw *)state)->key;
}

static int push(struct aitag_evidence_list *out, const char *label, float conf, double t)
{
    struct aitag_evidence e = {0};

    e.analyzer = (char *)"nsfw";
    e.label = (char *)label;
    e.confidence = conf < 0 ? 0 : conf > 1 ? 1 : conf;
    e.t = t;
    return aitag_evidence_push(out, &e);
}

static int emit(const struct nsfw *s, const float *p, double t, struct aitag_evidence_list *out)
{
    int top = 0, rc = 0;
    float unsafe = 0, safe = 0;

    for (int c = 0; c < NSFW_CLASSES; c++) {
        if (p[c] > p[top])
            top = c;
        if (s->unsafe[c])
            unsafe += p[c];
        else
            safe += p[c];
    }
    for (int c = 0; c < NSFW_CLASSES && rc == 0; c++) {
        if (c == top || p[c] >= s->min_conf)
            rc = push(out, s->labels[c], p[c], t);
    }
    if (rc == 0 && unsafe >= s->min_conf)
        rc = push(out, "nsfw:unsafe", unsafe, t);
    if (rc == 0 && safe >= s->min_conf)
        rc = push(out, "nsfw:safe", safe, t);
    return rc;
}

static int nsfw_run(void *state, struct aitag_frame *const *frames, size_t n,
                    const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                    char *err, size_t errlen)
{
    struct nsfw *s = state;
    (void)in;

    if (n && !s->input) {
        s->input = malloc(NSFW_MAX_BATCH * s->item_floats * sizeof *s->input);
        if (!s->input) {
            snprintf(err, errlen, "nsfw: out of memory");
            return AITAG_ERR_NOMEM;
        }
    }
    for (size_t start = 0; start < n; start += NSFW_MAX_BATCH) {
        size_t k = n - start < NSFW_MAX_BATCH ? n - start : NSFW_MAX_BATCH, n_out = 0;
        struct aitag_tensor in = {0}, outs[4];
        int rc;

        for (size_t j = 0; j < k; j++) {
            const struct aitag_frame *fr = frames[start + j];
            const struct aitag_view *v = aitag_frame_view(fr, &s->spec);
            if (!v || v->width != s->spec.width || v->height != s->spec.height) {
                snprintf(err, errlen, "nsfw: frame at t=%.3f lacks a %dx%d letterbox view", fr->t,
                         s->spec.width, s->spec.height);
                return AITAG_ERR_INVALID;
            }
            aitag_model_fill_input(s->model, v, s->input + j * s->item_floats);
        }
        in.data = s->input;
        in.ndim = 4;
        in.shape[0] = (int64_t)k;
        in.shape[1] = s->spec.height;
        in.shape[2] = s->spec.width;
        in.shape[3] = 3;
        in.count = k * s->item_floats;
        rc = aitag_model_run(s->model, &in, outs, 4, &n_out, err, errlen);
        if (rc < 0)
            return rc;
        if (n_out < 1 || outs[0].ndim != 2 || outs[0].shape[0] != (int64_t)k ||
            outs[0].shape[1] != NSFW_CLASSES) {
            snprintf(err, errlen, "nsfw: model %s output is not [%zu,%d]", NSFW_MODEL, k,
                     NSFW_CLASSES);
            aitag_tensors_release(outs, n_out);
            return AITAG_ERR_MODEL;
        }
        for (size_t j = 0; j < k && rc == 0; j++)
            rc = emit(s, outs[0].data + j * NSFW_CLASSES, frames[start + j]->t, out);
        aitag_tensors_release(outs, n_out);
        if (rc < 0) {
            snprintf(err, errlen, "nsfw: out of memory");
            return rc;
        }
    }
    return 0;
}

const struct aitag_analyzer_ops aitag_analyzer_nsfw = {
    .name = "nsfw",
    .description = "nudity classes per frame: nsfw:neutral/drawing/sexy/porn/hentai, "
                   "nsfw:safe/unsafe (nsfwjs MobileNetV2, converted from TensorFlow.js)",
    .create = nsfw_create,
    .destroy = nsfw_destroy,
    .views = nsfw_views,
    .key = nsfw_key,
    .run = nsfw_run,
    .batch = NSFW_MAX_BATCH,
    .models = nsfw_models,
};
