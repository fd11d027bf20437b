/*
 * custom.c - analyzers made from data: a user's ONNX file plus a manifest whose task is
 * "classifier", "detector" or "embedder" becomes an analyzer with no code change.
 *
 * The analyzer ops interface has no per-instance context (create() receives only the infer
 * handle), so each custom analyzer gets a slot of a fixed table whose create trampoline knows
 * its slot number; slots are filled by aitag_analyzer_registry_load (registry.c, under its
 * lock) and never freed, so the ops pointers handed out stay valid for the process. A custom
 * model lives in its own folder (the user models dir, manifests and weights side by side), not
 * in the pipeline's manifest dir, so each state opens its own aitag_infer on that folder; the
 * session is still created lazily, on the first run. Frames go through one at a time.
 * Decoders, exactly as docs/models.md ("Custom models") states them:
 *   classifier: first output [1,C] (or [C]); "softmax" (default) applies a softmax unless the
 *     row already is a distribution, "sigmoid" applies a sigmoid per class, "probs" reads it
 *     as is. Evidence per label with p >= params.threshold (0.5), and the top class always
 *     when params.top1 is 1 (default 0).
 *   detector "centernet": output [1,N,6] rows x1,y1,x2,y2 (input pixels), score, class.
 *   detector "boxes_scores": outputs boxes [1,N,4] x1,y1,x2,y2 (input fraction 0..1, or input
 *     pixels when params.pixels is 1) and scores [1,N,C]; the best class per row, greedy
 *     same-class NMS at params.nms_iou (0.45). Both keep rows with score >=
 *     params.score_threshold (0.5) and map boxes through the letterbox to the source frame.
 *   embedder: first output flattened after the batch dim, L2-normalised unless
 *     params.normalize is 0; one evidence "embedding" per frame, extra
 *     {"dim":N,"embedding":[...]}.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aitag/models.h"
#include "analyzers_int.h"

enum kind { K_CLASSIFIER, K_CENTERNET, K_BOXES, K_EMBEDDER };

struct slot {
    struct aitag_analyzer_ops ops;
    char name[128], model[128], desc[320];
    char outputs[2][128]; /* the manifest's "outputs" the decoder reads, "" = session order */
    char *manifest_dir, *weights_dir;
    const char *models[2];
};

static struct slot slots[AITAG_MAX_CUSTOM_ANALYZERS];
static size_t n_slots;

struct custom {
    const struct slot *slot;
    struct aitag_infer *inf;
    struct aitag_model *model;
    struct aitag_view_spec spec;
    enum kind kind;
    int sigmoid, probs, top1, pixels, normalize;
    float threshold, nms_iou;
    const char *const *labels;
    size_t n_labels;
    float *input;
    char key[320];
};

static int classify(const char *task, const char *decoder, enum kind *k)
{
    if (strcmp(task, "classifier") == 0 &&
        (!*decoder || !strcmp(decoder, "softmax") || !strcmp(decoder, "sigmoid") ||
         !strcmp(decoder, "probs")))
        *k = K_CLASSIFIER;
    else if (strcmp(task, "detector") == 0 && strcmp(decoder, "centernet") == 0)
        *k = K_CENTERNET;
    else if (strcmp(task, "detector") == 0 && strcmp(decoder, "boxes_scores") == 0)
        *k = K_BOXES;
    else if (strcmp(task, "embedder") == 0)
        *k = K_EMBEDDER;
    else
        return -1;
    return 0;
}

static void custom_destroy(void *state)
{
    struct custom *s = state;

    if (!s)
        return;
    aitag_infer_free(s->inf);
    free(s->input);
    free(s);
}

static int custom_create(size_t idx, void **state, char *err, size_t errlen)
{
    const struct slot *sl = &slots[idx];
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct custom *s = calloc(1, sizeof *s);
    int rc = AITAG_ERR_NOMEM;

    *state = NULL;
    if (!s)
        goto fail;
    s->slot = sl;
    ip.manifest_dir = sl->manifest_dir;
    ip.weights_dir = sl->weights_dir;
    if ((rc = aitag_infer_new(&ip, &s->inf)) < 0)
        goto fail;
    if ((rc = aitag_model_open(s->inf, sl->model, &s->model)) < 0) {
        snprintf(err, errlen, "%s: %s", sl->name, aitag_infer_errmsg(s->inf));
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    if (classify(aitag_model_task(s->model), aitag_model_decoder(s->model), &s->kind) < 0 ||
        aitag_model_input_view(s->model, &s->spec) < 0 || s->spec.fit != AITAG_FIT_LETTERBOX ||
        aitag_model_input_size(s->model) != (size_t)s->spec.width * (size_t)s->spec.height * 3) {
        snprintf(err, errlen,
                 "%s: model %s needs a supported task/decoder and a fixed "
                 "3-channel letterbox input (docs/models.md)",
                 sl->name, sl->model);
        goto out;
    }
    s->labels = aitag_model_labels(s->model, &s->n_labels);
    if (s->kind != K_EMBEDDER && s->n_labels == 0) {
        snprintf(err, errlen, "%s: model %s has no labels", sl->name, sl->model);
        goto out;
    }
    s->sigmoid = strcmp(aitag_model_decoder(s->model), "sigmoid") == 0;
    s->probs = strcmp(aitag_model_decoder(s->model), "probs") == 0;
    s->top1 = aitag_model_param(s->model, "top1", 0) != 0;
    s->pixels = aitag_model_param(s->model, "pixels", 0) != 0;
    s->normalize = aitag_model_param(s->model, "normalize", 1) != 0;
    s->threshold = (float)aitag_model_param(
        s->model, s->kind == K_CLASSIFIER ? "threshold" : "score_threshold", 0.5);
    s->nms_iou = (float)aitag_model_param(s->model, "nms_iou", 0.45);
    snprintf(s->key, sizeof s->key, "custom/v1 %s %s thr=%.3f top1=%d nms=%.2f norm=%d", sl->name,
             aitag_model_key(s->model), s->threshold, s->top1, s->nms_iou, s->normalize);
    *state = s;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", sl->name, aitag_strerror(rc));
out:
    custom_destroy(s);
    return rc;
}

static size_t custom_views(void *state, struct aitag_view_spec *out, size_t max)
{
    if (max < 1)
        return 0;
    out[0] = ((struct custom *)state)->spec;
    return 1;
}

static const char *custom_key(void *state)
{
    return ((struct custom *)state)->key;
}

static int push(const struct custom *s, struct aitag_evidence_list *out, const char *label,
                float conf, double t, const struct aitag_box *box, char *extra)
{
    struct aitag_evidence e = {0};

    e.analyzer = (char *)s->slot->name;
    e.label = (char *)label;
    e.confidence = conf < 0 ? 0 : conf > 1 ? 1 : conf;
    e.t = t;
    if (box) {
        e.has_box = 1;
        e.box = *box;
    }
    e.extra = extra;
    return aitag_evidence_push(out, &e);
}

static int emit_classes(const struct custom *s, const float *row, size_t c, double t,
                        struct aitag_evidence_list *out)
{
    float p[1024], sum = 0, mx = row[0];
    size_t top = 0;
    int dist = 1, rc = 0;

    if (c > 1024 || c != s->n_labels)
        return AITAG_ERR_MODEL;
    for (size_t i = 0; i < c; i++) {
        dist &= row[i] >= 0 && row[i] <= 1;
        sum += row[i];
        mx = row[i] > mx ? row[i] : mx;
    }
    dist &= fabsf(sum - 1) < 1e-3f;
    for (size_t i = 0; i < c; i++)
        p[i] = s->sigmoid ? 1 / (1 + expf(-row[i])) : row[i];
    if (!s->sigmoid && !s->probs && !dist) {
        sum = 0;
        for (size_t i = 0; i < c; i++)
            sum += p[i] = expf(row[i] - mx);
        for (size_t i = 0; i < c; i++)
            p[i] /= sum;
    }
    for (size_t i = 1; i < c; i++)
        top = p[i] > p[top] ? i : top;
    for (size_t i = 0; i < c && rc == 0; i++)
        if (p[i] >= s->threshold || (s->top1 && i == top))
            rc = push(s, out, s->labels[i], p[i], t, NULL, NULL);
    return rc;
}

static float iou(const float *a, const float *b)
{
    float x0 = fmaxf(a[0], b[0]), y0 = fmaxf(a[1], b[1]);
    float x1 = fminf(a[2], b[2]), y1 = fminf(a[3], b[3]);
    float in = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0);
    float un = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - in;
    return un > 0 ? in / un : 0;
}

static float clamp01(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* rows: n x 6 (x1,y1,x2,y2 in input pixels, score, class), sorted or not. */
static int emit_boxes(const struct custom *s, float *rows, size_t n, int nms,
                      const struct aitag_frame *fr, const struct aitag_view *v,
                      struct aitag_evidence_list *out)
{
    float sx = v->scale_x * (float)fr->src_w, sy = v->scale_y * (float)fr->src_h;
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        float *r = rows + i * 6, x0, y0, x1, y1;
        size_t cls = (size_t)r[5];
        int dropped = 0;
        struct aitag_box b;

        if (!(r[4] >= s->threshold) || r[5] < 0 || cls >= s->n_labels)
            continue;
        for (size_t j = 0; nms && j < n && !dropped; j++) {
            float *q = rows + j * 6;
            dropped = j != i && q[5] == r[5] && q[4] >= s->threshold &&
                      (q[4] > r[4] || (q[4] == r[4] && j < i)) && iou(q, r) > s->nms_iou;
        }
        x0 = clamp01((r[0] - (float)v->pad_x) / sx);
        y0 = clamp01((r[1] - (float)v->pad_y) / sy);
        x1 = clamp01((r[2] - (float)v->pad_x) / sx);
        y1 = clamp01((r[3] - (float)v->pad_y) / sy);
        if (dropped || x1 <= x0 || y1 <= y0)
            continue;
        b = (struct aitag_box){x0, y0, x1 - x0, y1 - y0};
        rc = push(s, out, s->labels[cls], r[4], fr->t, &b, NULL);
    }
    return rc;
}

static int emit_embedding(const struct custom *s, const float *x, size_t n, double t,
                          struct aitag_evidence_list *out)
{
    double norm = 0;
    json_t *o = json_object(), *a = json_array();
    char *extra = NULL;
    int rc = AITAG_ERR_NOMEM;

    for (size_t i = 0; i < n; i++)
        norm += (double)x[i] * x[i];
    norm = s->normalize && norm > 0 ? sqrt(norm) : 1;
    if (!o || !a)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(a, json_real((double)(float)(x[i] / norm))) < 0)
            goto out;
    if (json_object_set_new(o, "dim", json_integer((json_int_t)n)) < 0 ||
        json_object_set(o, "embedding", a) < 0)
        goto out;
    extra = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7));
    if (extra)
        rc = push(s, out, "embedding", 1, t, NULL, extra);
out:
    free(extra);
    json_decref(a);
    json_decref(o);
    return rc;
}

static int run_one(struct custom *s, const struct aitag_frame *fr, struct aitag_evidence_list *out,
                   char *err, size_t errlen)
{
    const struct aitag_view *v = aitag_frame_view(fr, &s->spec);
    const int64_t *shape;
    struct aitag_tensor in = {0}, outs[8], *o[2] = {NULL, NULL};
    size_t n_out = 0, w = (size_t)s->spec.width, h = (size_t)s->spec.height;
    int ndim, rc, nchw = strcmp(aitag_model_input_layout(s->model), "NCHW") == 0;

    if (!v || v->width != s->spec.width || v->height != s->spec.height) {
        snprintf(err, errlen, "%s: frame at t=%.3f lacks a %dx%d letterbox view", s->slot->name,
                 fr->t, s->spec.width, s->spec.height);
        return AITAG_ERR_INVALID;
    }
    if (!s->input && !(s->input = malloc(w * h * 3 * sizeof *s->input)))
        return AITAG_ERR_NOMEM;
    aitag_model_fill_input(s->model, v, s->input);
    shape = aitag_model_input_shape(s->model, &ndim);
    in.data = s->input;
    in.ndim = 4;
    in.shape[0] = 1;
    in.shape[1] = nchw ? 3 : (int64_t)h;
    in.shape[2] = nchw ? (int64_t)h : (int64_t)w;
    in.shape[3] = nchw ? (int64_t)w : 3;
    in.count = w * h * 3;
    (void)shape;
    rc = aitag_model_run(s->model, &in, outs, 8, &n_out, err, errlen);
    if (rc < 0)
        return rc;
    rc = AITAG_ERR_MODEL;
    for (int k = 0; k < 2; k++) {
        int idx =
            s->slot->outputs[k][0] ? aitag_model_output_index(s->model, s->slot->outputs[k]) : k;
        if (idx < 0 || (size_t)idx >= n_out)
            goto bad;
        o[k] = &outs[idx];
        if (s->kind != K_BOXES)
            break;
    }
    if (s->kind == K_CLASSIFIER) {
        size_t c = o[0]->ndim ? (size_t)o[0]->shape[o[0]->ndim - 1] : 0;
        if (o[0]->count != c ||
            (rc = emit_classes(s, o[0]->data, c, fr->t, out)) == AITAG_ERR_MODEL)
            goto bad;
    } else if (s->kind == K_EMBEDDER) {
        rc = emit_embedding(s, o[0]->data, o[0]->count, fr->t, out);
    } else if (s->kind == K_CENTERNET) {
        if (o[0]->ndim != 3 || o[0]->shape[2] != 6)
            goto bad;
        rc = emit_boxes(s, o[0]->data, (size_t)o[0]->shape[1], 0, fr, v, out);
    } else {
        size_t rows, c;
        float *r;
        if (o[0]->ndim != 3 || o[0]->shape[2] != 4 || o[1]->ndim != 3 ||
            o[1]->shape[1] != o[0]->shape[1])
            goto bad;
        rows = (size_t)o[0]->shape[1];
        c = (size_t)o[1]->shape[2];
        r = malloc((rows ? rows : 1) * 6 * sizeof *r);
        if (!r) {
            rc = AITAG_ERR_NOMEM;
            goto done;
        }
        for (size_t i = 0; i < rows; i++) {
            const float *b = o[0]->data + i * 4, *sc = o[1]->data + i * c;
            size_t best = 0;
            for (size_t k = 1; k < c; k++)
                best = sc[k] > sc[best] ? k : best;
            for (int k = 0; k < 4; k++)
                r[i * 6 + k] = s->pixels ? b[k] : b[k] * (float)(k % 2 ? h : w);
            r[i * 6 + 4] = c ? sc[best] : 0;
            r[i * 6 + 5] = (float)best;
        }
        rc = emit_boxes(s, r, rows, 1, fr, v, out);
        free(r);
    }
    goto done;
bad:
    snprintf(err, errlen, "%s: outputs of model %s do not fit its task/decoder (docs/models.md)",
             s->slot->name, s->slot->model);
    rc = AITAG_ERR_MODEL;
done:
    aitag_tensors_release(outs, n_out);
    return rc;
}

static int custom_run(void *state, struct aitag_frame *const *frames, size_t n,
                      struct aitag_evidence_list *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int rc = run_one(state, frames[i], out, err, errlen);
        if (rc == AITAG_ERR_NOMEM)
            snprintf(err, errlen, "%s: out of memory", ((struct custom *)state)->slot->name);
        if (rc < 0)
            return rc;
    }
    return 0;
}

#define TRAMP(id, idx)                                                                             \
    static int create_##id(struct aitag_infer *inf, void **st, char *err, size_t errlen)           \
    {                                                                                              \
        (void)inf;                                                                                 \
        return custom_create(idx, st, err, errlen);                                                \
    }
#define TRAMP8(a, b)                                                                               \
    TRAMP(a##0, b + 0)                                                                             \
    TRAMP(a##1, b + 1) TRAMP(a##2, b + 2) TRAMP(a##3, b + 3) TRAMP(a##4, b + 4) TRAMP(a##5, b + 5) \
        TRAMP(a##6, b + 6) TRAMP(a##7, b + 7)
TRAMP8(0, 0)
TRAMP8(1, 8)
TRAMP8(2, 16)
TRAMP8(3, 24)
#define NAME8(a)                                                                                   \
    create_##a##0, create_##a##1, create_##a##2, create_##a##3, create_##a##4, create_##a##5,      \
        create_##a##6, create_##a##7
static int (*const creates[])(struct aitag_infer *, void **, char *, size_t) = {NAME8(0), NAME8(1),
                                                                                NAME8(2), NAME8(3)};
_Static_assert(sizeof creates / sizeof *creates == AITAG_MAX_CUSTOM_ANALYZERS, "one per slot");

/* Reads what the infer manifest parser does not expose: the "analyzer" key (default: the
 * model name) and the names of the first two "outputs". */
static void read_extra(const char *dir, struct slot *sl)
{
    char path[4200];
    json_t *root, *v, *o;

    snprintf(sl->name, sizeof sl->name, "%s", sl->model);
    snprintf(path, sizeof path, "%s/%s.json", dir, sl->model);
    root = json_load_file(path, 0, NULL);
    v = json_object_get(root, "analyzer");
    if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < sizeof sl->name)
        snprintf(sl->name, sizeof sl->name, "%s", json_string_value(v));
    o = json_object_get(root, "outputs");
    for (size_t i = 0; i < 2; i++) {
        const char *nm = json_string_value(json_array_get(o, i));
        snprintf(sl->outputs[i], sizeof sl->outputs[i], "%s", nm ? nm : "");
    }
    json_decref(root);
}

int aitag_custom_scan(const char *manifest_dir, const char *weights_dir,
                      int (*add)(const struct aitag_analyzer_ops *ops), char *err, size_t errlen)
{
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    char **names = NULL;
    size_t n = 0;
    int rc, added = 0;

    ip.manifest_dir = manifest_dir;
    ip.weights_dir = weights_dir;
    if ((rc = aitag_infer_new(&ip, &inf)) < 0) {
        snprintf(err, errlen, "custom models: %s", aitag_strerror(rc));
        return rc;
    }
    if (aitag_infer_list_manifests(inf, &names, &n) < 0)
        n = 0; /* no user models dir: no custom analyzers */
    for (size_t i = 0; i < n; i++) {
        struct aitag_model *m;
        struct slot *sl;
        enum kind k;

        if (aitag_model_open(inf, names[i], &m) < 0) {
            aitag_log(AITAG_LOG_WARN, "analyzers", "event=custom_skip reason=\"%s\"",
                      aitag_infer_errmsg(inf));
            continue;
        }
        if (classify(aitag_model_task(m), aitag_model_decoder(m), &k) < 0)
            continue;
        if (n_slots == AITAG_MAX_CUSTOM_ANALYZERS || strlen(names[i]) >= sizeof sl->model) {
            aitag_log(AITAG_LOG_WARN, "analyzers", "event=custom_skip model=%s reason=%s", names[i],
                      "too many custom models or name too long");
            continue;
        }
        sl = &slots[n_slots];
        memset(sl, 0, sizeof *sl);
        snprintf(sl->model, sizeof sl->model, "%s", names[i]);
        read_extra(manifest_dir, sl);
        snprintf(sl->desc, sizeof sl->desc, "custom %s %s (%s)", aitag_model_task(m),
                 aitag_model_decoder(m), aitag_model_path(m));
        sl->manifest_dir = strdup(manifest_dir);
        sl->weights_dir = strdup(weights_dir);
        sl->models[0] = sl->model;
        sl->ops = (struct aitag_analyzer_ops){.name = sl->name,
                                              .description = sl->desc,
                                              .create = creates[n_slots],
                                              .destroy = custom_destroy,
                                              .views = custom_views,
                                              .key = custom_key,
                                              .run = custom_run,
                                              .models = sl->models};
        if (!sl->manifest_dir || !sl->weights_dir || !add(&sl->ops)) {
            if (sl->manifest_dir && sl->weights_dir)
                aitag_log(AITAG_LOG_WARN, "analyzers",
                          "event=custom_skip analyzer=%s "
                          "reason=\"name taken\"",
                          sl->name);
            free(sl->manifest_dir);
            free(sl->weights_dir);
            continue;
        }
        n_slots++;
        added++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    aitag_infer_free(inf);
    return added;
}
