/*
 * face_attrs.c - the "face_attrs" analyzer: for every face BlazeFace finds, an aligned crop
 * goes through two converted TensorFlow.js models: faceres (gender, age, a 1024-d descriptor)
 * and emotion (7 expressions).
 *
 * It consumes the "faces" analyzer's evidence (analyzer.h's graph runs faces first, once per
 * frame, and hands its boxes and keypoints over as typed values), so its faces are exactly the
 * ones "faces" reports and BlazeFace never runs twice. Crops are cut from
 * a second, larger view (the frame scaled to at most CROP_VIEW px on its long side, unpadded)
 * because the 256x256 detector view leaves a small face only a few dozen pixels wide. Each crop
 * is rotated so that the eyes are level (BlazeFace keypoints 0 and 1), centred on the face box
 * and params.crop_scale times its larger side, then resampled bilinearly to each model's input
 * (224 RGB, 64 grey); pixels outside the frame are black.
 *
 * Evidence per face, all with the face box: "face" (confidence = detector score, with the
 * keypoints, the age estimate, the raw gender output and the L2-normalised 1024-d faceres
 * descriptor for the People work), "age:<bucket>" (confidence = the probability mass of the
 * bucket), "gender:female"/"gender:male" only when 2 |p - 0.5| >= params.gender_confidence
 * (0.8), and "emotion:<class>" for the top expression when its probability reaches the emotion
 * manifest's min_confidence (0.5). The age estimate follows the model's authors' reading of its
 * 100 one-year bins (argmax refined by the larger neighbour); ages from one photo are rough.
 *
 * The descriptor comes from faceres by default. The option embedder=mobilefacenet
 * (face_attrs.embedder, `aitag tag --face-embedder`) puts MobileFaceNet's 192-d embedding there
 * instead, from the crop that model was trained on: 112 px, aligned by the similarity transform
 * (least squares) that takes BlazeFace's eyes, nose and mouth to the ArcFace template points.
 * faceres still runs for age and gender. Which one identifies people better per unit of CPU is
 * measured on the identity fixtures in docs/face-embeddings.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"

#define CROP_VIEW 1024
#define MAX_CROP 224
#define DESC_DIM 1024
#define N_EMOTIONS 7

enum embedder { EMB_FACERES, EMB_MOBILEFACENET };

struct net {
    struct aitag_model *m;
    int size; /* square input side */
    int channels;
};

struct face_attrs {
    struct aitag_view_spec crop_spec;
    struct net faceres, emotion, mfn; /* mfn: opened only for embedder=mobilefacenet */
    struct aitag_infer *inf;
    enum embedder embedder;
    float gender_conf, emotion_min, crop_scale;
    const char *const *emotions;
    char key[512];
    float *input;  /* MAX_CROP * MAX_CROP * 3 floats */
    uint8_t *crop; /* MAX_CROP * MAX_CROP * 3 bytes */
};

static const char *const fa_models[] = {"faceres", "emotion", NULL};
static const char *const fa_inputs[] = {"faces", NULL};

static void fa_destroy(void *state)
{
    struct face_attrs *a = state;

    if (!a)
        return;
    free(a->input);
    free(a->crop);
    free(a);
}

static int open_net(struct aitag_infer *inf, const char *name, int channels, struct net *n,
                    char *err, size_t errlen)
{
    const int64_t *shape;
    int ndim;

    if (aitag_model_open(inf, name, &n->m) < 0) {
        snprintf(err, errlen, "face_attrs: %s", aitag_infer_errmsg(inf));
        return AITAG_ERR_NOTFOUND;
    }
    shape = aitag_model_input_shape(n->m, &ndim);
    if (ndim != 4 || shape[1] != shape[2] || shape[1] < 8 || shape[1] > MAX_CROP ||
        shape[3] != channels || strcmp(aitag_model_input_layout(n->m), "NHWC") != 0) {
        snprintf(err, errlen, "face_attrs: model %s needs an NHWC input [N,S,S,%d], S <= %d", name,
                 channels, MAX_CROP);
        return AITAG_ERR_INVALID;
    }
    n->size = (int)shape[1];
    n->channels = channels;
    return 0;
}

/* The graph appends the faces analyzer's key. Its first word after the version is the model of
 * the embeddings (the catalog's faces table reads it there: faces of two models are never
 * compared), so with embedder=mobilefacenet that model comes first and faceres, still run for
 * age and gender, next; the faceres key is the one of every catalog written before the option. */
static void build_key(struct face_attrs *a)
{
    char emb[160] = "";

    if (a->embedder == EMB_MOBILEFACENET)
        snprintf(emb, sizeof emb, "%s ", aitag_model_key(a->mfn.m));
    snprintf(a->key, sizeof a->key, "face_attrs/v2 %s%s %s gender=%.2f emotion=%.2f crop=%.2f", emb,
             aitag_model_key(a->faceres.m), aitag_model_key(a->emotion.m), a->gender_conf,
             a->emotion_min, a->crop_scale);
}

static int fa_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf, void **state,
                     char *err, size_t errlen)
{
    struct face_attrs *a;
    size_t n_emo = 0;
    int rc;

    (void)self;
    *state = NULL;
    a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "face_attrs: out of memory");
        return AITAG_ERR_NOMEM;
    }
    if ((rc = open_net(inf, "faceres", 3, &a->faceres, err, errlen)) < 0 ||
        (rc = open_net(inf, "emotion", 1, &a->emotion, err, errlen)) < 0)
        goto out;
    a->emotions = aitag_model_labels(a->emotion.m, &n_emo);
    if (n_emo != N_EMOTIONS) {
        snprintf(err, errlen, "face_attrs: model emotion needs %d labels", N_EMOTIONS);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    a->crop_spec.width = a->crop_spec.height = CROP_VIEW;
    a->crop_spec.fit = AITAG_FIT_MAX_SIDE;
    a->gender_conf = (float)aitag_model_param(a->faceres.m, "gender_confidence", 0.8);
    a->crop_scale = (float)aitag_model_param(a->faceres.m, "crop_scale", 1.3);
    a->emotion_min = (float)aitag_model_param(a->emotion.m, "min_confidence", 0.5);
    a->inf = inf;
    build_key(a);
    *state = a;
    a = NULL;
    rc = 0;
out:
    fa_destroy(a);
    return rc;
}

/* face_attrs.embedder=faceres|mobilefacenet: which model's embedding the "face" items carry. */
static int fa_configure(void *state, const char *key, const char *value, char *err, size_t errlen)
{
    struct face_attrs *a = state;
    int rc;

    if (strcmp(key, "embedder") != 0) {
        snprintf(err, errlen, "unknown option '%s' (embedder)", key);
        return AITAG_ERR_INVALID;
    }
    if (strcmp(value, "faceres") == 0) {
        a->embedder = EMB_FACERES;
    } else if (strcmp(value, "mobilefacenet") == 0) {
        if (!a->mfn.m && (rc = open_net(a->inf, "mobilefacenet", 3, &a->mfn, err, errlen)) < 0)
            return rc;
        a->embedder = EMB_MOBILEFACENET;
    } else {
        snprintf(err, errlen, "option embedder: bad value '%.200s' (faceres or mobilefacenet)",
                 value);
        return AITAG_ERR_INVALID;
    }
    build_key(a);
    return 0;
}

static size_t fa_views(void *state, struct aitag_view_spec *out, size_t max)
{
    struct face_attrs *a = state;

    if (max < 1)
        return 0;
    out[0] = a->crop_spec;
    return 1;
}

static const char *fa_key(void *state)
{
    return ((struct face_attrs *)state)->key;
}

static const char *const *fa_consumes(void *state)
{
    (void)state;
    return fa_inputs;
}

/* ArcFace's 112 px template: the eye on the picture's left, the other eye, the nose tip and the
 * middle of the mouth (the mean of its two corners; BlazeFace gives the middle). */
static const float template_112[4][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f}, {56.1396f, 92.2848f}};

/* The similarity transform (least squares, Umeyama without reflection) from the template,
 * scaled to `size`, to the four view points p; as an_crop_affine's matrix. 0, or -1 when the
 * points coincide. */
static int template_map(const float p[4][2], int size, float m[6])
{
    float mp[2] = {0, 0}, mq[2] = {0, 0}, k = (float)size / 112.0f, sxx = 0, sxy = 0, n2 = 0;

    for (int i = 0; i < 4; i++) {
        mq[0] += template_112[i][0] * k / 4, mq[1] += template_112[i][1] * k / 4;
        mp[0] += p[i][0] / 4, mp[1] += p[i][1] / 4;
    }
    /* q (template) -> p (view): p = [a -b; b a] (q - mq) + mp */
    for (int i = 0; i < 4; i++) {
        float qx = template_112[i][0] * k - mq[0], qy = template_112[i][1] * k - mq[1];
        float px = p[i][0] - mp[0], py = p[i][1] - mp[1];
        sxx += qx * px + qy * py;
        sxy += qx * py - qy * px;
        n2 += qx * qx + qy * qy;
    }
    if (n2 <= 0.0f || sxx * sxx + sxy * sxy <= 0.0f)
        return -1;
    m[0] = sxx / n2, m[1] = -sxy / n2, m[3] = sxy / n2, m[4] = sxx / n2;
    m[2] = mp[0] - m[0] * mq[0] - m[1] * mq[1];
    m[5] = mp[1] - m[3] * mq[0] - m[4] * mq[1];
    return 0;
}

/* Fills net n's input from the crop in a->crop and runs it; outputs in outs (caller
 * releases). */
static int run_crop(struct face_attrs *a, struct net *n, struct aitag_tensor *outs, size_t *n_out,
                    char *err, size_t errlen)
{
    struct aitag_tensor in = {0};
    size_t px = (size_t)n->size * (size_t)n->size;

    if (n->channels == 1) {
        /* grey = 0.2989 R + 0.587 G + 0.114 B (the model's authors' weights), then the
         * manifest's affine normalisation, read off by filling a black and a white pixel */
        uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
        float f0[3], f1[3];
        aitag_model_fill_input_rgb(n->m, black, 1, 1, 3, f0);
        aitag_model_fill_input_rgb(n->m, white, 1, 1, 3, f1);
        for (size_t k = 0; k < px; k++) {
            const uint8_t *p = a->crop + 3 * k;
            float grey = 0.2989f * p[0] + 0.587f * p[1] + 0.114f * p[2];
            a->input[k] = f0[0] + (f1[0] - f0[0]) * grey / 255.0f;
        }
    } else {
        aitag_model_fill_input_rgb(n->m, a->crop, n->size, n->size, n->size * 3, a->input);
    }
    in.data = a->input;
    in.ndim = 4;
    in.shape[0] = 1;
    in.shape[1] = n->size;
    in.shape[2] = n->size;
    in.shape[3] = n->channels;
    in.count = px * (size_t)n->channels;
    return aitag_model_run(n->m, &in, outs, 4, n_out, err, errlen);
}

/* MobileFaceNet's embedding of the face with keypoints kp (0..1 of the source frame) into
 * vec[0..dim), from the template-aligned crop. 0, 1 when the keypoints are degenerate (no
 * embedding), < 0 on error. */
static int mfn_embed(struct face_attrs *a, const struct aitag_view *v, const float *kp, float sx,
                     float sy, double *vec, int *dim, char *err, size_t errlen)
{
    struct aitag_tensor o[4];
    size_t n = 0;
    float p[4][2], m[6];
    int rc;

    for (int i = 0; i < 4; i++) {
        p[i][0] = kp[2 * i] * sx + (float)v->pad_x;
        p[i][1] = kp[2 * i + 1] * sy + (float)v->pad_y;
    }
    if (p[1][0] < p[0][0]) { /* the picture's left eye first, as in the template */
        float t[2] = {p[0][0], p[0][1]};
        p[0][0] = p[1][0], p[0][1] = p[1][1], p[1][0] = t[0], p[1][1] = t[1];
    }
    if (template_map(p, a->mfn.size, m) < 0)
        return 1;
    an_crop_affine(v, m, a->mfn.size, a->crop);
    rc = run_crop(a, &a->mfn, o, &n, err, errlen);
    if (rc < 0)
        return rc;
    if (n < 1 || o[0].count < 8 || o[0].count > DESC_DIM) {
        snprintf(err, errlen, "face_attrs: unexpected mobilefacenet output shape");
        rc = AITAG_ERR_MODEL;
    } else {
        double norm = 0.0;
        *dim = (int)o[0].count;
        for (int k = 0; k < *dim; k++)
            norm += (double)o[0].data[k] * o[0].data[k];
        norm = norm > 0.0 ? 1.0 / sqrt(norm) : 0.0;
        for (int k = 0; k < *dim; k++)
            vec[k] = o[0].data[k] * norm;
    }
    aitag_tensors_release(o, n);
    return rc;
}

/* Runs one crop through net n; outputs in outs (caller releases). */
static int run_net(struct face_attrs *a, struct net *n, const struct aitag_view *v,
                   const float *geo, struct aitag_tensor *outs, size_t *n_out, char *err,
                   size_t errlen)
{
    an_crop_aligned(v, geo[0], geo[1], geo[2], geo[3], n->size, a->crop);
    return run_crop(a, n, outs, n_out, err, errlen);
}

/* The output of `outs` with `count` values, or NULL. */
static const float *find_out(const struct aitag_tensor *outs, size_t n, size_t count)
{
    for (size_t i = 0; i < n; i++) {
        if (outs[i].count == count)
            return outs[i].data;
    }
    return NULL;
}

/* The model authors' age reading: the argmax bin, moved towards its larger neighbour. */
static float age_years(const float *p)
{
    int best = 0;

    for (int i = 1; i < 100; i++) {
        if (p[i] > p[best])
            best = i;
    }
    if (best == 0 || best == 99)
        return (float)best;
    return p[best - 1] > p[best + 1] ? (float)best - 10.0f * p[best - 1]
                                     : (float)best + 10.0f * p[best + 1];
}

static const struct {
    int lo, hi; /* years, inclusive */
    const char *label;
} age_buckets[] = {
    {0, 12, "age:0-12"},   {13, 19, "age:13-19"}, {20, 29, "age:20-29"}, {30, 39, "age:30-39"},
    {40, 49, "age:40-49"}, {50, 59, "age:50-59"}, {60, 99, "age:60+"},
};

/* Appends one item of face's box and time; details (NULL: none) supplies keypoints,
 * attributes and the descriptor. */
static int push(struct aitag_evidence_list *out, const struct aitag_evidence *face,
                const char *label, float conf, const struct aitag_evidence *details)
{
    struct aitag_evidence e = {0};

    e.analyzer = (char *)"face_attrs";
    e.label = (char *)label;
    e.confidence = conf < 0.0f ? 0.0f : conf > 1.0f ? 1.0f : conf;
    e.t = face->t;
    e.has_box = face->has_box;
    e.box = face->box;
    if (details) {
        e.keypoints = details->keypoints;
        e.n_keypoints = details->n_keypoints;
        e.kp_dims = details->kp_dims;
        e.attrs = details->attrs;
        e.age = details->age;
        e.gender = details->gender;
        e.embedding = details->embedding;
        e.n_embedding = details->n_embedding;
        e.embedding_form = details->embedding_form;
    }
    return aitag_evidence_push(out, &e);
}

/* All attributes of one face found in frame fr. */
static int one_face(struct face_attrs *a, const struct aitag_frame *fr, const struct aitag_view *v,
                    const struct aitag_evidence *face, struct aitag_evidence_list *out, char *err,
                    size_t errlen)
{
    struct aitag_tensor o1[4], o2[4];
    size_t n1 = 0, n2 = 0;
    const float *kp = face->keypoints;
    float geo[4], sx = v->scale_x * (float)fr->src_w, sy = v->scale_y * (float)fr->src_h;
    float ex0, ey0, ex1, ey1, age = 0, g = 0.5f, gconf, best = 0;
    const float *gender, *ages, *emo, *desc;
    double norm = 0.0, *vec = NULL;
    struct aitag_evidence details = {0};
    int rc, top = 0, dim = DESC_DIM;

    if (!kp || face->kp_dims != 2 || face->n_keypoints < (a->embedder == EMB_FACERES ? 2 : 4)) {
        snprintf(err, errlen, "face_attrs: the faces analyzer gave no keypoints");
        return AITAG_ERR_INVALID;
    }
    /* to crop-view pixels; eyes ordered left to right in the picture */
    ex0 = kp[0] * sx + (float)v->pad_x, ey0 = kp[1] * sy + (float)v->pad_y;
    ex1 = kp[2] * sx + (float)v->pad_x, ey1 = kp[3] * sy + (float)v->pad_y;
    if (ex1 < ex0) {
        float t = ex0;
        ex0 = ex1, ex1 = t, t = ey0, ey0 = ey1, ey1 = t;
    }
    geo[0] = (face->box.x + face->box.w / 2) * sx + (float)v->pad_x;
    geo[1] = (face->box.y + face->box.h / 2) * sy + (float)v->pad_y;
    geo[2] = a->crop_scale * fmaxf(face->box.w * sx, face->box.h * sy);
    geo[3] = atan2f(ey1 - ey0, ex1 - ex0);
    if (geo[2] < 2.0f)
        return 0; /* a face of a pixel or two: nothing to read */
    rc = run_net(a, &a->faceres, v, geo, o1, &n1, err, errlen);
    if (rc == 0)
        rc = run_net(a, &a->emotion, v, geo, o2, &n2, err, errlen);
    if (rc < 0)
        goto out;
    gender = find_out(o1, n1, 1);
    ages = find_out(o1, n1, 100);
    emo = find_out(o2, n2, N_EMOTIONS);
    desc = find_out(o1, n1, DESC_DIM);
    if (!gender || !ages || !emo || !desc) {
        snprintf(err, errlen,
                 "face_attrs: unexpected output shapes (faceres [1,1], [1,%d] and "
                 "[1,100], emotion [1,%d])",
                 DESC_DIM, N_EMOTIONS);
        rc = AITAG_ERR_MODEL;
        goto out;
    }
    age = age_years(ages);
    g = gender[0];
    for (int k = 0; k < DESC_DIM; k++)
        norm += (double)desc[k] * desc[k];
    norm = norm > 0.0 ? 1.0 / sqrt(norm) : 0.0;
    vec = malloc(DESC_DIM * sizeof *vec);
    rc = AITAG_ERR_NOMEM;
    if (!vec)
        goto out;
    for (int k = 0; k < DESC_DIM; k++)
        vec[k] = desc[k] * norm;
    if (a->embedder == EMB_MOBILEFACENET &&
        (rc = mfn_embed(a, v, kp, sx, sy, vec, &dim, err, errlen)) != 0) {
        if (rc < 0)
            goto out;
        dim = 0; /* keypoints on one spot: no embedding rather than a wrong one */
    }
    details.keypoints = face->keypoints;
    details.n_keypoints = face->n_keypoints;
    details.kp_dims = face->kp_dims;
    details.attrs = AITAG_ATTR_AGE | AITAG_ATTR_GENDER;
    details.age = age;
    details.gender = g;
    details.embedding = dim ? vec : NULL;
    details.n_embedding = dim;
    details.embedding_form = AITAG_EMBEDDING_DESCRIPTOR;
    rc = push(out, face, "face", face->confidence, &details);
    for (size_t b = 0; rc == 0 && b < sizeof age_buckets / sizeof age_buckets[0]; b++) {
        float mass = 0.0f;
        if ((int)(age + 0.5f) < age_buckets[b].lo || (int)(age + 0.5f) > age_buckets[b].hi)
            continue;
        for (int y = age_buckets[b].lo; y <= age_buckets[b].hi; y++)
            mass += ages[y];
        rc = push(out, face, age_buckets[b].label, mass, NULL);
    }
    gconf = 2.0f * fabsf(g - 0.5f);
    if (rc == 0 && gconf >= a->gender_conf)
        rc = push(out, face, g <= 0.5f ? "gender:female" : "gender:male", gconf, NULL);
    for (int k = 0; k < N_EMOTIONS; k++) {
        if (emo[k] > best)
            best = emo[k], top = k;
    }
    if (rc == 0 && best >= a->emotion_min) {
        char label[64];
        snprintf(label, sizeof label, "emotion:%s", a->emotions[top]);
        rc = push(out, face, label, best, NULL);
    }
    if (rc < 0)
        snprintf(err, errlen, "face_attrs: out of memory");
out:
    free(vec);
    aitag_tensors_release(o1, n1);
    aitag_tensors_release(o2, n2);
    return rc;
}

static int fa_run(void *state, struct aitag_frame *const *frames, size_t n,
                  const struct aitag_evidence_list *in, struct aitag_evidence_list *out, char *err,
                  size_t errlen)
{
    struct face_attrs *a = state;
    int rc = 0;

    if (n && !a->input) {
        a->input = malloc((size_t)MAX_CROP * MAX_CROP * 3 * sizeof(float));
        a->crop = malloc((size_t)MAX_CROP * MAX_CROP * 3);
        if (!a->input || !a->crop) {
            snprintf(err, errlen, "face_attrs: out of memory");
            return AITAG_ERR_NOMEM;
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct aitag_view *v = aitag_frame_view(frames[i], &a->crop_spec);
        if (!v || v->scale_x <= 0.0f || v->scale_y <= 0.0f || frames[i]->src_w <= 0 ||
            frames[i]->src_h <= 0) {
            snprintf(err, errlen, "face_attrs: frame at t=%.3f lacks its %d px crop view",
                     frames[i]->t, CROP_VIEW);
            rc = AITAG_ERR_INVALID;
            break;
        }
        /* this frame's faces, in the order the faces analyzer found them */
        for (size_t k = 0; in && k < in->n && rc == 0; k++) {
            const struct aitag_evidence *f = &in->items[k];
            if (f->t == frames[i]->t && f->has_box && strcmp(f->analyzer, "faces") == 0)
                rc = one_face(a, frames[i], v, f, out, err, errlen);
        }
    }
    return rc;
}

const struct aitag_analyzer_ops aitag_analyzer_face_attrs = {
    .name = "face_attrs",
    .description = "age bucket, gender, emotion and a face descriptor per face "
                   "(faceres, emotion; runs faces)",
    .create = fa_create,
    .destroy = fa_destroy,
    .views = fa_views,
    .key = fa_key,
    .configure = fa_configure,
    .run = fa_run,
    .models = fa_models,
    .consumes = fa_consumes,
};
