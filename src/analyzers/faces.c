/*
 * faces.c - the "faces" analyzer: BlazeFace (MediaPipe's back-camera 256x256 model) on a
 * letterboxed view of each frame, one evidence item per face with its box and six keypoints.
 *
 * The letterboxed view keeps faces undistorted (stretching a wide frame into a square squashes
 * faces beyond what the model was trained on) at the price of some resolution; the 256 model
 * still finds faces down to roughly 20 px in a 1920-wide frame. Detections are decoded in the
 * model's input space (blazeface_decode.c), merged by weighted NMS, and only then mapped
 * through the view's pad and scale to the upright source frame, so the padding never shows in
 * the results. With params.flip the model also sees the mirrored view and a face must be found
 * consistently both ways (mean score of the pair >= threshold): on the sample photos this
 * removed a dog's face scored 0.64 while every real face kept >= 0.68 (docs/models.md).
 * Each face that passes then goes through the verification stage (face_verify.c): with
 * params.verify_threshold > 0, BlazeFace's front 128 model looks again at an aligned crop of it
 * (verify_crop times its side) cut from a second view (verify_view px on its long side, the one
 * face_attrs uses too), and the face stays only when that model finds it with a score >=
 * verify_threshold; with params.layout_check, a face whose keypoints cannot be a face's layout
 * goes too. On people-free photos and videos this took false faces per 1,000 frames from 187
 * to 0 (tune set, recall kept at 0.989) and from 130 to 16 (check set, recall 0.971 -> 0.959;
 * BENCHMARKS.md "Face verification"). All four params can also be set per tagger as options
 * (faces.verify_threshold=0.7, ...).
 * State is created without loading anything: the manifest supplies the identity for key() and
 * the thresholds, the ONNX session comes with the first run(). The view and its mirror are
 * "items"; items are batched into one Run when the model's batch dimension is free; the shipped
 * BlazeFace files fix it to 1, so they run item by item (~4 ms each on 2 cores, small next to
 * decoding a frame).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"
#include "blazeface.h"

#define FACES_MODEL "blazeface-back"
#define VERIFY_MODEL "blazeface-front"
#define FACES_MAX_BATCH 16

struct faces {
    struct aitag_infer *inf;
    struct aitag_model *model;
    struct aitag_view_spec spec;
    struct blazeface_params bp;
    const char *label;
    char key[256];
    int max_batch;      /* items per Run: the model's fixed batch, or FACES_MAX_BATCH */
    int fixed_batch;    /* 1 when the model needs exactly max_batch items per Run */
    size_t item_floats; /* floats per batch item */
    float *input;       /* max_batch * item_floats */
    float anchors[2 * BLAZEFACE_ANCHORS];
    float scores[BLAZEFACE_ANCHORS];
    float regs[BLAZEFACE_ANCHORS * BLAZEFACE_REG_DIM];
    int passes;  /* 1, or 2 with the mirrored view (params.flip) */
    float floor; /* per-pass decoding threshold */
    size_t n_pass[2];
    struct blazeface_det pass[2][BLAZEFACE_ANCHORS]; /* the current frame's passes */
    struct blazeface_det dets[2 * BLAZEFACE_ANCHORS];
    struct blazeface_verifier *verifier; /* NULL when verify_threshold is 0 */
    struct aitag_view_spec verify_spec;  /* the view verification crops are cut from */
    float verify_thr, verify_crop;
    int layout; /* 1: drop candidates whose keypoints cannot be a face's */
};

static const char *const faces_models[] = {FACES_MODEL, VERIFY_MODEL, NULL};

static void faces_destroy(void *state)
{
    struct faces *f = state;

    if (!f)
        return;
    free(f->input);
    blazeface_verifier_free(f->verifier);
    free(f);
}

/* Checks the verification settings, opens (or drops) the verification model to match them,
 * and writes the key. */
static int set_verify(struct faces *f, char *err, size_t errlen)
{
    char vkey[160] = "";
    int rc;

    if (!(f->verify_thr >= 0.0f && f->verify_thr <= 1.0f) || f->verify_spec.width < 64 ||
        f->verify_spec.width > 4096) {
        snprintf(err, errlen,
                 "faces: verify_threshold %.2f or verify_view %d is outside 0..1 or 64..4096",
                 f->verify_thr, f->verify_spec.width);
        return AITAG_ERR_INVALID;
    }
    blazeface_verifier_free(f->verifier);
    f->verifier = NULL;
    f->verify_spec.height = f->verify_spec.width;
    if (f->verify_thr > 0.0f) {
        rc =
            blazeface_verifier_new(f->inf, VERIFY_MODEL, f->verify_crop, &f->verifier, err, errlen);
        if (rc < 0)
            return rc;
        snprintf(vkey, sizeof vkey, " verify=%s>=%.2f crop=%.2f view=%d",
                 aitag_model_key(blazeface_verifier_model(f->verifier)), f->verify_thr,
                 f->verify_crop, f->verify_spec.width);
    }
    snprintf(f->key, sizeof f->key, "faces/v2 %s thr=%.2f nms=%.2f flip=%d layout=%d%s",
             aitag_model_key(f->model), f->bp.score_threshold, f->bp.nms_iou, f->passes - 1,
             f->layout, vkey);
    return 0;
}

static int faces_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf,
                        void **state, char *err, size_t errlen)
{
    struct faces *f = NULL;
    size_t n_labels = 0;
    const char *const *labels;
    int rc;
    (void)self;

    *state = NULL;
    f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "faces: out of memory");
        return AITAG_ERR_NOMEM;
    }
    f->inf = inf;
    rc = aitag_model_open(inf, FACES_MODEL, &f->model);
    if (rc < 0) {
        snprintf(err, errlen, "faces: %s", aitag_infer_errmsg(inf));
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    if (strcmp(aitag_model_decoder(f->model), "blazeface") != 0) {
        snprintf(err, errlen, "faces: model %s has decoder \"%s\", expected \"blazeface\"",
                 FACES_MODEL, aitag_model_decoder(f->model));
        goto out;
    }
    if (aitag_model_input_view(f->model, &f->spec) < 0 || f->spec.fit != AITAG_FIT_LETTERBOX ||
        f->spec.width != f->spec.height ||
        aitag_model_input_size(f->model) != (size_t)f->spec.width * (size_t)f->spec.height * 3) {
        snprintf(err, errlen, "faces: model %s needs a fixed square RGB letterbox input",
                 FACES_MODEL);
        goto out;
    }
    f->bp.input_size = (float)f->spec.width;
    f->bp.score_threshold = (float)aitag_model_param(f->model, "score_threshold", 0.5);
    f->bp.nms_iou = (float)aitag_model_param(f->model, "nms_iou", 0.3);
    f->bp.score_clip = (float)aitag_model_param(f->model, "score_clip", 100.0);
    f->passes = aitag_model_param(f->model, "flip", 0) != 0 ? 2 : 1;
    /* With two passes, a pass score under 2 * thr - 1 can never lift a pair to thr. */
    f->floor = f->passes == 2 ? 2.0f * f->bp.score_threshold - 1.0f : f->bp.score_threshold;
    if (f->floor < 0.05f)
        f->floor = 0.05f;
    if (strcmp(aitag_model_input_layout(f->model), "NHWC") != 0) {
        snprintf(err, errlen, "faces: model %s must take NHWC input", FACES_MODEL);
        goto out;
    }
    labels = aitag_model_labels(f->model, &n_labels);
    f->label = n_labels ? labels[0] : "face";
    f->max_batch = aitag_model_max_batch(f->model);
    f->fixed_batch = f->max_batch > 0;
    if (f->max_batch > FACES_MAX_BATCH) {
        snprintf(err, errlen, "faces: model %s fixes its batch to %d, more than %d", FACES_MODEL,
                 f->max_batch, FACES_MAX_BATCH);
        goto out;
    }
    if (f->max_batch <= 0)
        f->max_batch = FACES_MAX_BATCH;
    f->item_floats = aitag_model_input_size(f->model);
    blazeface_anchors(f->anchors);
    f->verify_thr = (float)aitag_model_param(f->model, "verify_threshold", 0.0);
    f->verify_crop = (float)aitag_model_param(f->model, "verify_crop", 2.0);
    f->verify_spec.width = f->verify_spec.height =
        (int)aitag_model_param(f->model, "verify_view", 1024);
    f->verify_spec.fit = AITAG_FIT_MAX_SIDE;
    f->layout = aitag_model_param(f->model, "layout_check", 0) != 0;
    rc = set_verify(f, err, errlen);
    if (rc < 0)
        goto out;
    *state = f;
    f = NULL;
    rc = 0;
out:
    faces_destroy(f);
    return rc;
}

/* faces.verify_threshold=X (0 turns verification off), faces.verify_crop=X,
 * faces.verify_view=N, faces.layout_check=0|1: the manifest's params for one tagger. */
static int faces_configure(void *state, const char *key, const char *value, char *err,
                           size_t errlen)
{
    static const char *const keys[] = {"verify_threshold", "verify_crop", "verify_view",
                                       "layout_check"};
    struct faces *f = state;
    char *end = NULL;
    double v = strtod(value, &end);
    int k = 0;

    while (k < 4 && strcmp(key, keys[k]) != 0)
        k++;
    if (k == 4) {
        snprintf(err, errlen,
                 "unknown option '%.100s' (verify_threshold, verify_crop, verify_view, "
                 "layout_check)",
                 key);
        return AITAG_ERR_INVALID;
    }
    if (end == value || *end != '\0' || !isfinite(v) || (k == 3 && v != 0 && v != 1)) {
        snprintf(err, errlen, "option %s: bad value '%.100s'", key, value);
        return AITAG_ERR_INVALID;
    }
    if (k == 0)
        f->verify_thr = (float)v;
    else if (k == 1)
        f->verify_crop = (float)v;
    else if (k == 2)
        f->verify_spec.width = (int)fmin(fmax(v, 0.0), 1e5);
    else
        f->layout = v != 0;
    return set_verify(f, err, errlen);
}

static size_t faces_views(void *state, struct aitag_view_spec *out, size_t max)
{
    struct faces *f = state;

    if (max < 1)
        return 0;
    out[0] = f->spec;
    if (!f->verifier || max < 2)
        return 1;
    out[1] = f->verify_spec; /* face_attrs asks for the same one: then it costs nothing more */
    return 2;
}

static const char *faces_key(void *state)
{
    return ((struct faces *)state)->key;
}

static const struct aitag_view *find_view(const struct aitag_frame *fr,
                                          const struct aitag_view_spec *s)
{
    for (size_t i = 0; i < fr->n_views && i < AITAG_MAX_VIEWS; i++) {
        const struct aitag_view_spec *v = &fr->views[i].spec;
        if (v->width == s->width && v->height == s->height && v->fit == s->fit &&
            (v->multiple <= 1 ? 0 : v->multiple) == (s->multiple <= 1 ? 0 : s->multiple))
            return &fr->views[i];
    }
    return NULL;
}

/* Maps detections from model-input space through the letterbox view to the source frame and
 * appends them. */
static int emit(struct faces *f, const struct aitag_frame *fr, const struct aitag_view *v,
                const struct blazeface_det *d, size_t n, struct aitag_evidence_list *out)
{
    float vw = (float)v->width, vh = (float)v->height;

    for (size_t i = 0; i < n; i++) {
        struct aitag_evidence e = {0};
        float kp[2 * BLAZEFACE_KEYPOINTS];
        float vb[4] = {d[i].xmin * vw, d[i].ymin * vh, d[i].xmax * vw, d[i].ymax * vh};
        int rc;

        if (!an_source_box(fr, v, vb, &e.box))
            continue; /* entirely in the padding */
        /* rounded as stored: face_attrs reads the same points live or from a catalog */
        for (int k = 0; k < BLAZEFACE_KEYPOINTS; k++) {
            kp[2 * k] = aitag_evidence_round(an_source_x(fr, v, d[i].kp[2 * k] * vw), 4);
            kp[2 * k + 1] = aitag_evidence_round(an_source_y(fr, v, d[i].kp[2 * k + 1] * vh), 4);
        }
        e.analyzer = (char *)"faces";
        e.label = (char *)f->label;
        e.confidence = d[i].score;
        e.t = fr->t;
        e.has_box = 1;
        e.keypoints = kp;
        e.n_keypoints = BLAZEFACE_KEYPOINTS;
        e.kp_dims = 2;
        rc = aitag_evidence_push(out, &e);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* View pixel (x, y) of the detector's view v as a pixel of view c (through the source). */
static void to_view(const struct aitag_view *v, const struct aitag_view *c, float x, float y,
                    float *out)
{
    out[0] = (x - (float)v->pad_x) / v->scale_x * c->scale_x + (float)c->pad_x;
    out[1] = (y - (float)v->pad_y) / v->scale_y * c->scale_y + (float)c->pad_y;
}

/* The verification stage (face_verify.c): keeps the detections d[0..*n) whose keypoint layout
 * can be a face's (with params.layout_check) and that the verification model confirms, on a
 * crop of the verification view, with a score >= params.verify_threshold; in order.
 * Detections are in model-input space, the detector view's pixels over its side. */
static int verify(struct faces *f, const struct aitag_frame *fr, const struct aitag_view *v,
                  struct blazeface_det *d, size_t *n, char *err, size_t errlen)
{
    const struct aitag_view *c = f->verifier ? aitag_frame_view(fr, &f->verify_spec) : NULL;
    size_t kept = 0;
    float s = (float)v->width;

    if (f->verifier && (!c || c->scale_x <= 0.0f || c->scale_y <= 0.0f)) {
        snprintf(err, errlen, "faces: frame at t=%.3f lacks its %d px verification view", fr->t,
                 f->verify_spec.width);
        return AITAG_ERR_INVALID;
    }
    for (size_t i = 0; i < *n; i++) {
        float box[4], kp[2 * BLAZEFACE_KEYPOINTS], score = 1.0f;
        struct blazeface_layout l;
        if (f->layout) {
            float vb[4] = {d[i].xmin * s, d[i].ymin * s, d[i].xmax * s, d[i].ymax * s};
            for (int k = 0; k < 2 * BLAZEFACE_KEYPOINTS; k++)
                kp[k] = d[i].kp[k] * s;
            blazeface_layout_measure(vb, kp, &l);
            if (!blazeface_layout_plausible(&l))
                continue;
        }
        if (f->verifier) {
            int rc;
            to_view(v, c, d[i].xmin * s, d[i].ymin * s, box);
            to_view(v, c, d[i].xmax * s, d[i].ymax * s, box + 2);
            for (int k = 0; k < BLAZEFACE_KEYPOINTS; k++)
                to_view(v, c, d[i].kp[2 * k] * s, d[i].kp[2 * k + 1] * s, kp + 2 * k);
            rc = blazeface_verifier_score(f->verifier, c, box, kp, &score, err, errlen);
            if (rc < 0)
                return rc;
            if (score < f->verify_thr)
                continue;
        }
        d[kept++] = d[i];
    }
    *n = kept;
    return 0;
}

/* Decodes item b of a run's outputs into the pass slot, and once a frame's last pass is in,
 * fuses the passes and emits the frame's faces. */
static int take_item(struct faces *f, const struct aitag_tensor *outs, int seg[2][BLAZEFACE_LAYERS],
                     size_t b, int pass, const struct aitag_frame *fr, const struct aitag_view *v,
                     struct aitag_evidence_list *out, char *err, size_t errlen)
{
    struct blazeface_params bp = f->bp;
    size_t n;
    int rc;

    blazeface_gather(outs, seg, b, f->scores, f->regs);
    bp.score_threshold = f->floor;
    n = blazeface_decode(f->scores, f->regs, f->anchors, &bp, f->pass[pass]);
    f->n_pass[pass] = blazeface_weighted_nms(f->pass[pass], n, bp.nms_iou);
    if (pass == 1)
        blazeface_mirror(f->pass[1], f->n_pass[1]);
    if (pass < f->passes - 1)
        return 0;
    if (f->passes == 2) {
        n = blazeface_fuse_flip(f->pass[0], f->n_pass[0], f->pass[1], f->n_pass[1], bp.nms_iou,
                                f->bp.score_threshold, f->dets);
    } else {
        n = f->n_pass[0];
        memcpy(f->dets, f->pass[0], n * sizeof *f->dets);
    }
    rc = verify(f, fr, v, f->dets, &n, err, errlen);
    if (rc == 0 && (rc = emit(f, fr, v, f->dets, n, out)) < 0)
        snprintf(err, errlen, "faces: out of memory");
    return rc;
}

/* Runs items [first, first + k) of the frames' item sequence (item i = frame i / passes, pass
 * i % passes) in one Run, padding a fixed batch with zeros. */
static int run_items(struct faces *f, struct aitag_frame *const *frames,
                     const struct aitag_view *const *views, size_t first, size_t k,
                     struct aitag_evidence_list *out, char *err, size_t errlen)
{
    struct aitag_tensor in = {0}, outs[8];
    size_t n_out = 0, j, batch = f->fixed_batch ? (size_t)f->max_batch : k;
    size_t passes = (size_t)f->passes;
    int seg[2][BLAZEFACE_LAYERS], rc;

    for (j = 0; j < k; j++) {
        size_t item = first + j;
        float *x = f->input + j * f->item_floats;
        aitag_model_fill_input(f->model, views[item / passes], x);
        if (item % passes)
            aitag_tensor_mirror_nhwc(x, f->spec.width, f->spec.height, 3);
    }
    if (batch > k)
        memset(f->input + k * f->item_floats, 0, (batch - k) * f->item_floats * sizeof(float));
    in.data = f->input;
    in.ndim = 4;
    in.shape[0] = (int64_t)batch;
    in.shape[1] = f->spec.height;
    in.shape[2] = f->spec.width;
    in.shape[3] = 3;
    in.count = batch * f->item_floats;
    rc = aitag_model_run(f->model, &in, outs, 8, &n_out, err, errlen);
    if (rc < 0)
        return rc;
    rc = blazeface_map_outputs(outs, n_out, (long long)batch, FACES_MODEL, seg, err, errlen);
    for (j = 0; j < k && rc == 0; j++) {
        size_t item = first + j;
        rc = take_item(f, outs, seg, j, (int)(item % passes), frames[item / passes],
                       views[item / passes], out, err, errlen);
    }
    aitag_tensors_release(outs, n_out);
    return rc;
}

static int faces_run(void *state, struct aitag_frame *const *frames, size_t n,
                     const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                     char *err, size_t errlen)
{
    struct faces *f = state;
    const struct aitag_view **views = NULL;
    size_t i, items = n * (size_t)f->passes, start;
    int rc = 0;
    (void)in;

    if (n == 0)
        return 0;
    if (!f->input) {
        f->input = malloc((size_t)f->max_batch * f->item_floats * sizeof(float));
        if (!f->input) {
            snprintf(err, errlen, "faces: out of memory");
            return AITAG_ERR_NOMEM;
        }
    }
    views = malloc(n * sizeof *views);
    if (!views) {
        snprintf(err, errlen, "faces: out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        const struct aitag_frame *fr = frames[i];
        views[i] = find_view(fr, &f->spec);
        if (!views[i] || views[i]->width != f->spec.width || views[i]->height != f->spec.height ||
            views[i]->scale_x <= 0.0f || views[i]->scale_y <= 0.0f || fr->src_w <= 0 ||
            fr->src_h <= 0) {
            snprintf(err, errlen, "faces: frame at t=%.3f lacks a valid %dx%d letterbox view",
                     fr->t, f->spec.width, f->spec.height);
            rc = AITAG_ERR_INVALID;
            goto out;
        }
    }
    for (start = 0; start < items && rc == 0; start += (size_t)f->max_batch) {
        size_t k = items - start < (size_t)f->max_batch ? items - start : (size_t)f->max_batch;
        rc = run_items(f, frames, views, start, k, out, err, errlen);
    }
out:
    free(views);
    return rc;
}

const struct aitag_analyzer_ops aitag_analyzer_faces = {
    .name = "faces",
    .description = "faces with boxes and keypoints (BlazeFace 256, verified by BlazeFace 128)",
    .create = faces_create,
    .destroy = faces_destroy,
    .views = faces_views,
    .key = faces_key,
    .configure = faces_configure,
    .run = faces_run,
    .models = faces_models,
};
