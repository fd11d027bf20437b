/*
 * custom.c - analyzers made from data: a user's ONNX file plus a manifest whose task is
 * "classifier", "detector" or "embedder" becomes an analyzer with no code change.
 *
 * Each custom analyzer is a descriptor (struct custom_desc) that embeds its ops table first,
 * so create() finds the descriptor in the self pointer it receives. Descriptors are made by
 * aitag_analyzer_registry_load (registry.c, under its lock) and never freed, so the ops
 * pointers handed out stay valid for the process. A custom model lives in its own folder (the
 * user models dir, manifests and weights side by side), not in the pipeline's manifest dir, so
 * the scan opens one aitag_infer on that folder, keeps it, and each descriptor holds its model
 * as infer/manifest.c parsed it (the "analyzer" name and "outputs" included): states share the
 * model and its one ONNX session, still created lazily, on the first run. Frames go through
 * one at a time.
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

struct custom_desc {
    struct aitag_analyzer_ops ops; /* first: self in create() points here */
    struct aitag_model *model;     /* parsed at scan time; its infer lives for the process */
    char name[128], desc[320];
    const char *models[2];
};

struct custom {
    const struct custom_desc *d;
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
    free(s->input);
    free(s);
}

static int custom_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf,
                         void **state, char *err, size_t errlen)
{
    const struct custom_desc *d = (const struct custom_desc *)self;
    struct custom *s = calloc(1, sizeof *s);
    int rc = AITAG_ERR_NOMEM;

    (void)inf; /* the model was opened on the user models dir when the registry loaded it */
    *state = NULL;
    if (!s)
        goto fail;
    s->d = d;
    s->model = d->model;
    rc = AITAG_ERR_INVALID;
    if (classify(aitag_model_task(s->model), aitag_model_decoder(s->model), &s->kind) < 0 ||
        aitag_model_input_view(s->model, &s->spec) < 0 || s->spec.fit != AITAG_FIT_LETTERBOX ||
        aitag_model_input_size(s->model) != (size_t)s->spec.width * (size_t)s->spec.height * 3) {
        snprintf(err, errlen,
                 "%s: model %s needs a supported task/decoder and a fixed "
                 "3-channel letterbox input (docs/models.md)",
                 d->name, aitag_model_name(d->model));
        goto out;
    }
    s->labels = aitag_model_labels(s->model, &s->n_labels);
    if (s->kind != K_EMBEDDER && s->n_labels == 0) {
        snprintf(err, errlen, "%s: model %s has no labels", d->name, aitag_model_name(d->model));
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
    snprintf(s->key, sizeof s->key, "custom/v1 %s %s thr=%.3f top1=%d nms=%.2f norm=%d", d->name,
             aitag_model_key(s->model), s->threshold, s->top1, s->nms_iou, s->normalize);
    *state = s;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", d->name, aitag_strerror(rc));
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
                float conf, double t, const struct aitag_box *box)
{
    struct aitag_evidence e = {0};

    e.analyzer = (char *)s->d->name;
    e.label = (char *)label;
    e.confidence = conf < 0 ? 0 : conf > 1 ? 1 : conf;
    e.t = t;
    if (box) {
        e.has_box = 1;
        e.box = *box;
    }
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
            rc = push(s, out, s->labels[i], p[i], t, NULL);
    return rc;
}

/* rows: n x 6 (x1,y1,x2,y2 in input pixels, score, class), sorted or not. */
static int emit_boxes(const struct custom *s, float *rows, size_t n, int nms,
                      const struct aitag_frame *fr, const struct aitag_view *v,
                      struct aitag_evidence_list *out)
{
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        float *r = rows + i * 6;
        size_t cls = (size_t)r[5];
        int dropped = 0;
        struct aitag_box b;

        if (!(r[4] >= s->threshold) || r[5] < 0 || cls >= s->n_labels)
            continue;
        for (size_t j = 0; nms && j < n && !dropped; j++) {
            float *q = rows + j * 6;
            dropped = j != i && q[5] == r[5] && q[4] >= s->threshold &&
                      (q[4] > r[4] || (q[4] == r[4] && j < i)) && an_iou(q, r) > s->nms_iou;
        }
        if (!an_source_box(fr, v, r, &b) || dropped)
            continue;
        rc = push(s, out, s->labels[cls], r[4], fr->t, &b);
    }
    return rc;
}

static int emit_embedding(const struct custom *s, const float *x, size_t n, double t,
                          struct aitag_evidence_list *out)
{
    struct aitag_evidence e = {0};
    double norm = 0, *v = malloc((n ? n : 1) * sizeof *v);
    int rc;

    if (!v)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        norm += (double)x[i] * x[i];
    norm = s->normalize && norm > 0 ? sqrt(norm) : 1;
    for (size_t i = 0; i < n; i++)
        v[i] = (double)(float)(x[i] / norm);
    e.analyzer = (char *)s->d->name;
    e.label = (char *)"embedding";
    e.confidence = 1;
    e.t = t;
    e.embedding = v;
    e.n_embedding = (int)n;
    e.embedding_form = AITAG_EMBEDDING_VECTOR;
    rc = aitag_evidence_push(out, &e);
    free(v);
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
        snprintf(err, errlen, "%s: frame at t=%.3f lacks a %dx%d letterbox view", s->d->name, fr->t,
                 s->spec.width, s->spec.height);
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
        const char *want = aitag_model_output_name(s->model, (size_t)k);
        int idx = want ? aitag_model_output_index(s->model, want) : k;
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
             s->d->name, aitag_model_name(s->model));
    rc = AITAG_ERR_MODEL;
done:
    aitag_tensors_release(outs, n_out);
    return rc;
}

static int custom_run(void *state, struct aitag_frame *const *frames, size_t n,
                      const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                      char *err, size_t errlen)
{
    (void)in;
    for (size_t i = 0; i < n; i++) {
        int rc = run_one(state, frames[i], out, err, errlen);
        if (rc == AITAG_ERR_NOMEM)
            snprintf(err, errlen, "%s: out of memory", ((struct custom *)state)->d->name);
        if (rc < 0)
            return rc;
    }
    return 0;
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
        struct custom_desc *d;
        const char *name;
        enum kind k;

        if (aitag_model_open(inf, names[i], &m) < 0) {
            aitag_log(AITAG_LOG_WARN, "analyzers", "event=custom_skip reason=\"%s\"",
                      aitag_infer_errmsg(inf));
            continue;
        }
        if (classify(aitag_model_task(m), aitag_model_decoder(m), &k) < 0)
            continue;
        name = aitag_model_analyzer(m)[0] ? aitag_model_analyzer(m) : names[i];
        if (strlen(name) >= sizeof d->name || !(d = calloc(1, sizeof *d))) {
            aitag_log(AITAG_LOG_WARN, "analyzers", "event=custom_skip model=%s reason=%s", names[i],
                      "name too long or out of memory");
            continue;
        }
        d->model = m;
        snprintf(d->name, sizeof d->name, "%s", name);
        snprintf(d->desc, sizeof d->desc, "custom %s %s (%s)", aitag_model_task(m),
                 aitag_model_decoder(m), aitag_model_path(m));
        d->models[0] = aitag_model_name(m);
        d->ops = (struct aitag_analyzer_ops){.name = d->name,
                                             .description = d->desc,
                                             .create = custom_create,
                                             .destroy = custom_destroy,
                                             .views = custom_views,
                                             .key = custom_key,
                                             .run = custom_run,
                                             .models = d->models};
        if (!add(&d->ops)) {
            aitag_log(AITAG_LOG_WARN, "analyzers",
                      "event=custom_skip analyzer=%s reason=\"name taken or too many\"", d->name);
            free(d);
            continue;
        }
        added++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (added == 0)
        aitag_infer_free(inf); /* else its models back the descriptors, for the process */
    return added;
}
