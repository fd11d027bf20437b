/*
 * pose.c - the "pose" analyzer: MoveNet SinglePose Lightning (a TensorFlow.js model converted
 * to ONNX at setup) reads 17 COCO keypoints per person, and posture tags follow from their
 * geometry (docs/pose.md holds the rules and the measurements behind them).
 *
 * MoveNet reads one person per run and finds "people" in animals, so by default
 * (params.person_boxes > 0) it consumes the "objects" analyzer's evidence (the graph in
 * analyzer.h runs CenterNet once per frame and hands its boxes over) for person boxes: MoveNet runs
 * on a square window around each of the largest, cut from an unpadded 1024 px view, and each box is
 * one "pose:person" (the person count). CenterNet misses many seated people, so MoveNet also reads
 * the whole frame's 192 letterbox view, and that skeleton counts only when a posture rule holds and
 * it lies outside the boxes read. With person_boxes = 0 only the whole frame is read (~8 ms instead
 * of ~90 ms per frame). Keypoints are mapped to the upright source frame and the rules work in
 * source pixels (angles need square pixels); an_pose_rules() is pure arithmetic so
 * tests/unit/test_pose.c checks it on hand-made skeletons. Labels: "pose:person" (box, 17 keypoints
 * with their scores), and "pose:standing", "pose:sitting", "pose:lying", "pose:arms_raised" when a
 * rule holds. The model's batch is fixed to 1, so windows run one by one.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"

#define POSE_MODEL "movenet"
#define POSE_KP 17
#define POSE_CROP_VIEW 1024
#define DEG (180.0 / 3.14159265358979323846) /* degrees per radian */

enum {
    NOSE = 0,
    L_SHO = 5,
    R_SHO = 6,
    L_ELB = 7,
    R_ELB = 8,
    L_WRI = 9,
    R_WRI = 10,
    L_HIP = 11,
    R_HIP = 12,
    L_KNEE = 13,
    R_KNEE = 14,
    L_ANK = 15,
    R_ANK = 16
};

/* Bits returned by an_pose_rules(). */
enum {
    POSE_PERSON = 1,
    POSE_STANDING = 2,
    POSE_SITTING = 4,
    POSE_LYING = 8,
    POSE_ARMS_RAISED = 16
};

static const char *const pose_names[] = {"pose:person", "pose:standing", "pose:sitting",
                                         "pose:lying", "pose:arms_raised"};

struct pose {
    struct aitag_model *model;
    struct aitag_view_spec spec;      /* MoveNet's letterbox view (whole-frame mode) */
    struct aitag_view_spec crop_spec; /* the view person crops are cut from */
    int boxes;                        /* person-box mode: consumes the objects analyzer */
    float kp_thr, person_thr, crop_scale;
    int max_persons;
    char key[512];
    float *input;
    uint8_t *crop;
    size_t item_floats;
};

/* A square window of a view that is resampled to MoveNet's input: view pixels. */
struct window {
    float ox, oy, side;
};

static const char *const pose_models[] = {POSE_MODEL, NULL};
static const char *const pose_inputs[] = {"objects", NULL};

/* Mean of the visible points among a and b (x, y in xy[2 * k]); 0 when neither is. */
static int mid(const float *xy, const float *s, float thr, int a, int b, float *x, float *y)
{
    int n = 0;

    *x = *y = 0.0f;
    if (s[a] >= thr) {
        *x += xy[2 * a], *y += xy[2 * a + 1], n++;
    }
    if (s[b] >= thr) {
        *x += xy[2 * b], *y += xy[2 * b + 1], n++;
    }
    if (n) {
        *x /= (float)n, *y /= (float)n;
    }
    return n > 0;
}

/* Angle of the segment (x0,y0)->(x1,y1) from the vertical, 0..90 degrees. */
static float from_vertical(float x0, float y0, float x1, float y1)
{
    return (float)(atan2((double)fabsf(x1 - x0), (double)fabsf(y1 - y0)) * DEG);
}

/* Interior angle at b of a-b-c in degrees (180 = straight). */
static float joint_angle(const float *xy, int a, int b, int c)
{
    double ux = xy[2 * a] - xy[2 * b], uy = xy[2 * a + 1] - xy[2 * b + 1];
    double vx = xy[2 * c] - xy[2 * b], vy = xy[2 * c + 1] - xy[2 * b + 1];
    double nu = sqrt(ux * ux + uy * uy), nv = sqrt(vx * vx + vy * vy);

    if (nu <= 0 || nv <= 0)
        return 180.0f;
    return (float)(acos(fmax(-1.0, fmin(1.0, (ux * vx + uy * vy) / (nu * nv)))) * DEG);
}

/*
 * The posture rules (docs/pose.md). xy: 17 (x, y) in source pixels, y down; s: 17 scores.
 * Returns a mask of POSE_* bits. Non-static for tests/unit/test_pose.c.
 */
unsigned an_pose_rules(const float *xy, const float *s, float kp_thr, float person_thr);
unsigned an_pose_rules(const float *xy, const float *s, float kp_thr, float person_thr)
{
    float sx, sy, hx, hy, torso, tilt, sum = 0.0f;
    int visible = 0, legs = 0, straight = 0, bent = 0;
    unsigned m = 0;

    for (int k = 0; k < POSE_KP; k++) {
        sum += s[k];
        visible += s[k] >= kp_thr;
    }
    if (visible < 5 || sum / POSE_KP < person_thr)
        return 0;
    m |= POSE_PERSON;
    if (!mid(xy, s, kp_thr, L_SHO, R_SHO, &sx, &sy) || !mid(xy, s, kp_thr, L_HIP, R_HIP, &hx, &hy))
        return m; /* no torso: no posture */
    torso = hypotf(hx - sx, hy - sy);
    if (torso <= 0.0f)
        return m;
    tilt = from_vertical(sx, sy, hx, hy);
    /* arms raised: a wrist above the shoulders by a third of the torso, on an upright body */
    for (int w = L_WRI; w <= R_WRI; w++) {
        if (s[w] >= kp_thr && tilt < 45.0f && sy - xy[2 * w + 1] > torso / 3.0f)
            m |= POSE_ARMS_RAISED;
    }
    if (tilt > 60.0f)
        return m | POSE_LYING;
    if (tilt > 30.0f || hy < sy)
        return m; /* leaning or upside down: no call */
    for (int side = 0; side < 2; side++) {
        int hip = L_HIP + side, knee = L_KNEE + side, ank = L_ANK + side;
        float thigh, thigh_tilt;
        if (s[hip] < kp_thr || s[knee] < kp_thr)
            continue;
        legs++;
        thigh = hypotf(xy[2 * knee] - xy[2 * hip], xy[2 * knee + 1] - xy[2 * hip + 1]);
        thigh_tilt = from_vertical(xy[2 * hip], xy[2 * hip + 1], xy[2 * knee], xy[2 * knee + 1]);
        if (thigh_tilt > 50.0f || thigh < 0.45f * torso || xy[2 * knee + 1] < xy[2 * hip + 1]) {
            bent++; /* thigh across the picture, or foreshortened towards the camera */
        } else if (thigh_tilt < 30.0f && s[ank] >= kp_thr && xy[2 * ank + 1] > xy[2 * knee + 1] &&
                   joint_angle(xy, hip, knee, ank) > 150.0f) {
            straight++;
        }
    }
    if (legs && straight == legs)
        m |= POSE_STANDING;
    else if (bent)
        m |= POSE_SITTING;
    return m;
}

static void pose_destroy(void *state)
{
    struct pose *p = state;

    if (!p)
        return;
    free(p->input);
    free(p->crop);
    free(p);
}

static int pose_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf, void **state,
                       char *err, size_t errlen)
{
    struct pose *p;
    int rc;

    (void)self;
    *state = NULL;
    p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "pose: out of memory");
        return AITAG_ERR_NOMEM;
    }
    rc = aitag_model_open(inf, POSE_MODEL, &p->model);
    if (rc < 0) {
        snprintf(err, errlen, "pose: %s", aitag_infer_errmsg(inf));
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    if (aitag_model_input_view(p->model, &p->spec) < 0 || p->spec.fit != AITAG_FIT_LETTERBOX ||
        strcmp(aitag_model_input_layout(p->model), "NHWC") != 0 ||
        aitag_model_input_size(p->model) != (size_t)p->spec.width * (size_t)p->spec.height * 3) {
        snprintf(err, errlen, "pose: model %s needs a fixed NHWC RGB letterbox input", POSE_MODEL);
        goto out;
    }
    p->item_floats = aitag_model_input_size(p->model);
    p->kp_thr = (float)aitag_model_param(p->model, "keypoint_threshold", 0.3);
    p->person_thr = (float)aitag_model_param(p->model, "person_threshold", 0.25);
    p->max_persons = (int)aitag_model_param(p->model, "person_boxes", 4);
    p->crop_scale = (float)aitag_model_param(p->model, "crop_scale", 1.25);
    if (p->max_persons > 0) {
        /* person-box mode: CenterNet's persons, each cropped from a large unpadded view */
        p->boxes = 1;
        p->crop_spec.width = p->crop_spec.height = POSE_CROP_VIEW;
        p->crop_spec.fit = AITAG_FIT_MAX_SIDE;
    }
    /* in person-box mode the graph appends the objects analyzer's key */
    snprintf(p->key, sizeof p->key, "pose/v3 %s kp=%.2f person=%.2f boxes=%d crop=%.2f%s",
             aitag_model_key(p->model), p->kp_thr, p->person_thr, p->max_persons, p->crop_scale,
             p->boxes ? "" : " [whole frame]");
    *state = p;
    p = NULL;
    rc = 0;
out:
    pose_destroy(p);
    return rc;
}

static size_t pose_views(void *state, struct aitag_view_spec *out, size_t max)
{
    struct pose *p = state;

    if (max < 1 || (p->boxes && max < 2))
        return 0;
    out[0] = p->spec;
    if (!p->boxes)
        return 1;
    out[1] = p->crop_spec;
    return 2;
}

static const char *pose_key(void *state)
{
    return ((struct pose *)state)->key;
}

static const char *const *pose_consumes(void *state)
{
    return ((struct pose *)state)->boxes ? pose_inputs : NULL;
}

/* Bilinear resample of the window w of view v into MoveNet's input (black outside). */
static void fill_window(struct pose *p, const struct aitag_view *v, const struct window *w)
{
    int size = p->spec.width;
    float step = w->side / (float)size;

    for (int j = 0; j < size; j++) {
        for (int i = 0; i < size; i++) {
            float x = w->ox + ((float)i + 0.5f) * step - 0.5f;
            float y = w->oy + ((float)j + 0.5f) * step - 0.5f;
            int x0 = (int)floorf(x), y0 = (int)floorf(y);
            float fx = x - (float)x0, fy = y - (float)y0;
            for (int c = 0; c < 3; c++) {
                float r = 0.0f;
                for (int t = 0; t < 4; t++) {
                    int xx = x0 + (t & 1), yy = y0 + (t >> 1);
                    float wt = ((t & 1) ? fx : 1.0f - fx) * ((t >> 1) ? fy : 1.0f - fy);
                    if (xx >= 0 && yy >= 0 && xx < v->width && yy < v->height && wt > 0.0f)
                        r += wt *
                             v->rgb[(size_t)yy * (size_t)v->stride + 3 * (size_t)xx + (size_t)c];
                }
                p->crop[((size_t)j * (size_t)size + (size_t)i) * 3 + (size_t)c] =
                    (uint8_t)(r + 0.5f > 255.0f ? 255.0f : r + 0.5f);
            }
        }
    }
    aitag_model_fill_input_rgb(p->model, p->crop, size, size, size * 3, p->input);
}

/* Turns one window's [1,1,17,3] output into evidence. person: the objects analyzer's person
 * (its box and confidence make the "pose:person" item), or NULL in whole-frame mode. */
static int emit(struct pose *p, const struct aitag_frame *fr, const struct aitag_view *v,
                const struct window *w, const float *yxs, const struct aitag_evidence *person,
                struct aitag_evidence_list *out)
{
    float xy[2 * POSE_KP], s[POSE_KP], x0 = 1, y0 = 1, x1 = 0, y1 = 0, conf = 0;
    float kp[3 * POSE_KP];
    unsigned m;
    int n = 0, rc = 0;

    for (int k = 0; k < POSE_KP; k++) {
        float nx = an_source_x(fr, v, w->ox + yxs[3 * k + 1] * w->side);
        float ny = an_source_y(fr, v, w->oy + yxs[3 * k] * w->side);
        s[k] = yxs[3 * k + 2];
        xy[2 * k] = nx * (float)fr->src_w;
        xy[2 * k + 1] = ny * (float)fr->src_h;
        kp[3 * k] = nx;
        kp[3 * k + 1] = ny;
        kp[3 * k + 2] = s[k];
        if (s[k] >= p->kp_thr) {
            x0 = fminf(x0, nx), y0 = fminf(y0, ny), x1 = fmaxf(x1, nx), y1 = fmaxf(y1, ny);
            conf += s[k], n++;
        }
    }
    m = an_pose_rules(xy, s, p->kp_thr, p->person_thr);
    if (person)
        m |= POSE_PERSON; /* the person detector has spoken; postures still need keypoints */
    if (!(m & POSE_PERSON))
        return 0;
    /* MoveNet's keypoint scores for a clear person are 0.4-0.7: map the mean visible score
     * from [kp_thr, 1] onto [0.5, 1] so that a person the rules accept counts at the policy's
     * default threshold (docs/pose.md) */
    conf = n ? an_clamp01(0.5f + 0.5f * (conf / (float)n - p->kp_thr) / (1.0f - p->kp_thr)) : 0.0f;
    for (int b = 0; b < 5 && rc == 0; b++) {
        struct aitag_evidence e = {0};
        if (!(m & (1u << b)))
            continue;
        e.analyzer = (char *)"pose";
        e.label = (char *)pose_names[b];
        e.confidence = conf;
        e.t = fr->t;
        e.has_box = 1;
        e.box.x = x0;
        e.box.y = y0;
        e.box.w = x1 - x0;
        e.box.h = y1 - y0;
        if (person) {
            e.box = person->box;
            if (b == 0)
                e.confidence = person->confidence;
        }
        if (b == 0) {
            e.keypoints = kp;
            e.n_keypoints = POSE_KP;
            e.kp_dims = 3;
        }
        rc = aitag_evidence_push(out, &e);
    }
    return rc;
}

/* One MoveNet run on window w of view v. */
static int run_window(struct pose *p, const struct aitag_frame *fr, const struct aitag_view *v,
                      const struct window *w, const struct aitag_evidence *person,
                      struct aitag_evidence_list *out, char *err, size_t errlen)
{
    struct aitag_tensor in = {0}, outs[4];
    size_t n_out = 0;
    int rc;

    fill_window(p, v, w);
    in.data = p->input;
    in.ndim = 4;
    in.shape[0] = 1;
    in.shape[1] = p->spec.height;
    in.shape[2] = p->spec.width;
    in.shape[3] = 3;
    in.count = p->item_floats;
    rc = aitag_model_run(p->model, &in, outs, 4, &n_out, err, errlen);
    if (rc < 0)
        return rc;
    if (n_out < 1 || outs[0].count != 3 * POSE_KP) {
        snprintf(err, errlen, "pose: model %s must output [1,1,%d,3]", POSE_MODEL, POSE_KP);
        rc = AITAG_ERR_MODEL;
    } else if ((rc = emit(p, fr, v, w, outs[0].data, person, out)) < 0) {
        snprintf(err, errlen, "pose: out of memory");
    }
    aitag_tensors_release(outs, n_out);
    return rc;
}

/* CenterNet misses people that MoveNet sees (seated, close up: docs/pose.md), and MoveNet
 * alone sees people in animals. So in person-box mode the whole frame is read too, and its
 * skeleton is kept only when a posture rule holds (none held on animals in the test photos)
 * and it lies outside every person box already read. */
static int whole_frame_fallback(struct pose *p, struct aitag_frame *fr, const struct aitag_view *v,
                                const struct aitag_evidence *const *persons, int n,
                                struct aitag_evidence_list *out, char *err, size_t errlen)
{
    struct aitag_evidence_list tmp = {0};
    struct window w = {0.0f, 0.0f, (float)p->spec.width};
    int rc, keep = 0;

    /* the sampler's own letterbox (area-filtered) reads better than a bilinear shrink */
    v = aitag_frame_view(fr, &p->spec);
    if (!v || v->width != p->spec.width || v->height != p->spec.height || v->scale_x <= 0.0f ||
        v->scale_y <= 0.0f) {
        snprintf(err, errlen, "pose: frame at t=%.3f lacks a valid %dx%d letterbox view", fr->t,
                 p->spec.width, p->spec.height);
        return AITAG_ERR_INVALID;
    }
    rc = run_window(p, fr, v, &w, NULL, &tmp, err, errlen);
    for (size_t i = 0; rc == 0 && i < tmp.n; i++) {
        const struct aitag_box *b = &tmp.items[i].box;
        float cx = b->x + b->w / 2, cy = b->y + b->h / 2;
        if (strcmp(tmp.items[i].label, "pose:person") == 0) {
            keep = 1;
            for (int k = 0; k < n; k++) {
                const struct aitag_box *q = &persons[k]->box;
                if (cx >= q->x && cx <= q->x + q->w && cy >= q->y && cy <= q->y + q->h)
                    keep = 0;
            }
        } else if (strcmp(tmp.items[i].label, "pose:arms_raised") != 0) {
            keep = keep ? 2 : 0; /* a posture */
        }
    }
    for (size_t i = 0; rc == 0 && keep == 2 && i < tmp.n; i++)
        rc = aitag_evidence_push(out, &tmp.items[i]);
    aitag_evidence_list_clear(&tmp);
    return rc;
}

/* Person-box mode for one frame: the objects analyzer's persons, the largest first, each in a
 * square window crop_scale times its larger side. */
static int run_persons(struct pose *p, struct aitag_frame *fr, const struct aitag_evidence_list *in,
                       struct aitag_evidence_list *out, char *err, size_t errlen)
{
    const struct aitag_view *v = aitag_frame_view(fr, &p->crop_spec);
    const struct aitag_evidence *persons[16];
    float sx, sy;
    int n = 0, rc = 0;

    if (!v || v->scale_x <= 0.0f || v->scale_y <= 0.0f) {
        snprintf(err, errlen, "pose: frame at t=%.3f lacks its %d px crop view", fr->t,
                 POSE_CROP_VIEW);
        return AITAG_ERR_INVALID;
    }
    sx = v->scale_x * (float)fr->src_w, sy = v->scale_y * (float)fr->src_h;
    for (size_t i = 0; in && i < in->n; i++) {
        const struct aitag_evidence *e = &in->items[i];
        int at = n;
        /* the objects analyzer scales confidence so that its person threshold maps to 0.5 */
        if (e->t != fr->t || strcmp(e->analyzer, "objects") != 0 ||
            strcmp(e->label, "person") != 0 || e->confidence < 0.5f || !e->has_box || n == 16)
            continue;
        while (at > 0 && persons[at - 1]->box.w * persons[at - 1]->box.h < e->box.w * e->box.h) {
            persons[at] = persons[at - 1];
            at--;
        }
        persons[at] = e;
        n++;
    }
    for (int i = 0; rc == 0 && i < n && i < p->max_persons; i++) {
        const struct aitag_box *b = &persons[i]->box;
        struct window w;
        w.side = p->crop_scale * fmaxf(b->w * sx, b->h * sy);
        w.ox = (b->x + b->w / 2) * sx + (float)v->pad_x - w.side / 2;
        w.oy = (b->y + b->h / 2) * sy + (float)v->pad_y - w.side / 2;
        if (w.side >= 8.0f)
            rc = run_window(p, fr, v, &w, persons[i], out, err, errlen);
    }
    if (rc == 0)
        rc = whole_frame_fallback(p, fr, v, persons, n, out, err, errlen);
    return rc;
}

static int pose_run(void *state, struct aitag_frame *const *frames, size_t n,
                    const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                    char *err, size_t errlen)
{
    struct pose *p = state;
    int rc = 0;

    if (n && !p->input) {
        p->input = malloc(p->item_floats * sizeof(float));
        p->crop = malloc(p->item_floats);
        if (!p->input || !p->crop) {
            snprintf(err, errlen, "pose: out of memory");
            return AITAG_ERR_NOMEM;
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct aitag_frame *fr = frames[i];
        const struct aitag_view *v;
        struct window whole = {0.0f, 0.0f, (float)p->spec.width};

        if (fr->src_w <= 0 || fr->src_h <= 0) {
            snprintf(err, errlen, "pose: frame at t=%.3f has no size", fr->t);
            return AITAG_ERR_INVALID;
        }
        if (p->boxes) {
            rc = run_persons(p, fr, in, out, err, errlen);
            continue;
        }
        v = aitag_frame_view(fr, &p->spec);
        if (!v || v->width != p->spec.width || v->height != p->spec.height || v->scale_x <= 0.0f ||
            v->scale_y <= 0.0f) {
            snprintf(err, errlen, "pose: frame at t=%.3f lacks a valid %dx%d letterbox view", fr->t,
                     p->spec.width, p->spec.height);
            return AITAG_ERR_INVALID;
        }
        rc = run_window(p, fr, v, &whole, NULL, out, err, errlen);
    }
    return rc;
}

const struct aitag_analyzer_ops aitag_analyzer_pose = {
    .name = "pose",
    .description = "body posture (standing, sitting, lying, arms raised; MoveNet Lightning)",
    .create = pose_create,
    .destroy = pose_destroy,
    .views = pose_views,
    .key = pose_key,
    .run = pose_run,
    .models = pose_models,
    .consumes = pose_consumes,
};
