/*
 * face_verify.c - the faces analyzer's verification stage: a second, cheap look at each face
 * BlazeFace-back found, so that a cat, a cup or a pattern is not reported as a face.
 *
 * Two checks, each measured on people-free photos and videos against real faces
 * (bench/faces_verify.sh, BENCHMARKS.md "Face verification"):
 * - a second model: the candidate is cut out of a view the caller picks (the analyzer: the
 *   frame at 1024 px, which keeps small faces sharp where the detector's 256 view has a few
 *   pixels of them), rotated so that its eyes are level and crop_scale times its larger side
 *   (MediaPipe's front-camera model was trained on close-up faces that fill about half its
 *   128x128 input), and the front model runs on it. Its best detection that overlaps the
 *   candidate's place in the crop is the verification score. The two models were trained
 *   apart and fail on different things: most textures that fool the back model at 256 do not
 *   fool the front model on a sharp close-up.
 *   One Run of a 128x128 model per candidate (4.7-5.2 ms with the crop, measured on the
 *   2-core machine at load average 10-12), so a frame without candidates costs nothing more.
 * - the keypoint layout: BlazeFace regresses six keypoints for every anchor, face or not. On
 *   a face they sit where eyes, nose and mouth sit; on some false faces they do not (eyes
 *   almost on top of each other, a mouth above the eyes). blazeface_layout_measure reads them along
 *   the eye line in units of the box width, blazeface_layout_plausible keeps wide ranges around
 *   frontal faces. Measured, it removes few false faces (most get a face-like layout too) and
 *   loses tilted and turned real ones, so the analyzer leaves it off by default.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"
#include "blazeface.h"

#define VERIFY_MIN_SCORE 0.05f /* decoding floor inside the crop */
#define VERIFY_IOU 0.3f        /* a crop detection must overlap the candidate this much */

struct blazeface_verifier {
    struct aitag_model *model;
    char name[64];
    int size;
    float crop_scale;
    struct blazeface_params bp;
    float *input;  /* size * size * 3 */
    uint8_t *crop; /* size * size * 3 */
    float anchors[2 * BLAZEFACE_ANCHORS];
    float scores[BLAZEFACE_ANCHORS];
    float regs[BLAZEFACE_ANCHORS * BLAZEFACE_REG_DIM];
    struct blazeface_det dets[BLAZEFACE_ANCHORS];
};

void blazeface_verifier_free(struct blazeface_verifier *fv)
{
    if (!fv)
        return;
    free(fv->input);
    free(fv->crop);
    free(fv);
}

int blazeface_verifier_new(struct aitag_infer *inf, const char *name, float crop_scale,
                           struct blazeface_verifier **out, char *err, size_t errlen)
{
    struct blazeface_verifier *fv;
    struct aitag_view_spec spec;
    int rc = AITAG_ERR_INVALID;

    *out = NULL;
    fv = calloc(1, sizeof *fv);
    if (!fv) {
        snprintf(err, errlen, "faces: out of memory");
        return AITAG_ERR_NOMEM;
    }
    snprintf(fv->name, sizeof fv->name, "%s", name);
    if (aitag_model_open(inf, name, &fv->model) < 0) {
        snprintf(err, errlen, "faces: %s", aitag_infer_errmsg(inf));
        rc = AITAG_ERR_NOTFOUND;
        goto out;
    }
    if (strcmp(aitag_model_decoder(fv->model), "blazeface") != 0 ||
        aitag_model_input_view(fv->model, &spec) < 0 || spec.width != spec.height ||
        spec.width < 16 || spec.width > 512 ||
        strcmp(aitag_model_input_layout(fv->model), "NHWC") != 0 ||
        aitag_model_input_size(fv->model) != (size_t)spec.width * (size_t)spec.width * 3) {
        snprintf(err, errlen,
                 "faces: verification model %s needs the blazeface decoder and a square NHWC "
                 "RGB input of 16-512 px",
                 name);
        goto out;
    }
    if (!(crop_scale >= 1.0f && crop_scale <= 8.0f)) {
        snprintf(err, errlen, "faces: verify_crop %.2f is outside 1..8", crop_scale);
        goto out;
    }
    fv->size = spec.width;
    fv->crop_scale = crop_scale;
    fv->bp.input_size = (float)spec.width;
    fv->bp.score_threshold = VERIFY_MIN_SCORE;
    fv->bp.score_clip = (float)aitag_model_param(fv->model, "score_clip", 100.0);
    fv->bp.nms_iou = (float)aitag_model_param(fv->model, "nms_iou", 0.3);
    fv->input = malloc((size_t)fv->size * (size_t)fv->size * 3 * sizeof(float));
    fv->crop = malloc((size_t)fv->size * (size_t)fv->size * 3);
    if (!fv->input || !fv->crop) {
        snprintf(err, errlen, "faces: out of memory");
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    blazeface_anchors(fv->anchors);
    *out = fv;
    fv = NULL;
    rc = 0;
out:
    blazeface_verifier_free(fv);
    return rc;
}

struct aitag_model *blazeface_verifier_model(const struct blazeface_verifier *fv)
{
    return fv->model;
}

/* Eyes (keypoints 0 and 1) ordered left to right in the picture. */
static void eyes_lr(const float *kp, float e[4])
{
    int swap = kp[2] < kp[0];

    e[0] = kp[swap ? 2 : 0];
    e[1] = kp[swap ? 3 : 1];
    e[2] = kp[swap ? 0 : 2];
    e[3] = kp[swap ? 1 : 3];
}

int blazeface_verifier_score(struct blazeface_verifier *fv, const struct aitag_view *v,
                             const float box[4], const float *kp, float *score, char *err,
                             size_t errlen)
{
    struct aitag_tensor in = {0}, outs[8];
    size_t n_out = 0, n;
    float e[4], w = box[2] - box[0], h = box[3] - box[1], side, angle;
    struct blazeface_det want;
    int seg[2][BLAZEFACE_LAYERS], rc;

    *score = 0.0f;
    side = fv->crop_scale * fmaxf(w, h);
    if (!(side >= 2.0f))
        return 0; /* a pixel or two: nothing to look at */
    eyes_lr(kp, e);
    angle = atan2f(e[3] - e[1], e[2] - e[0]);
    an_crop_aligned(v, (box[0] + box[2]) * 0.5f, (box[1] + box[3]) * 0.5f, side, angle, fv->size,
                    fv->crop);
    aitag_model_fill_input_rgb(fv->model, fv->crop, fv->size, fv->size, fv->size * 3, fv->input);
    in.data = fv->input;
    in.ndim = 4;
    in.shape[0] = 1;
    in.shape[1] = fv->size;
    in.shape[2] = fv->size;
    in.shape[3] = 3;
    in.count = (size_t)fv->size * (size_t)fv->size * 3;
    rc = aitag_model_run(fv->model, &in, outs, 8, &n_out, err, errlen);
    if (rc < 0)
        return rc;
    rc = blazeface_map_outputs(outs, n_out, 1, fv->name, seg, err, errlen);
    if (rc == 0) {
        /* the candidate's place in the crop: centred, its size over the crop's side */
        memset(&want, 0, sizeof want);
        want.xmin = 0.5f - 0.5f * w / side;
        want.xmax = 0.5f + 0.5f * w / side;
        want.ymin = 0.5f - 0.5f * h / side;
        want.ymax = 0.5f + 0.5f * h / side;
        blazeface_gather(outs, seg, 0, fv->scores, fv->regs);
        n = blazeface_decode(fv->scores, fv->regs, fv->anchors, &fv->bp, fv->dets);
        n = blazeface_weighted_nms(fv->dets, n, fv->bp.nms_iou);
        for (size_t i = 0; i < n; i++) {
            if (fv->dets[i].score > *score && blazeface_iou(&fv->dets[i], &want) > VERIFY_IOU)
                *score = fv->dets[i].score;
        }
    }
    aitag_tensors_release(outs, n_out);
    return rc;
}

void blazeface_layout_measure(const float box[4], const float *kp, struct blazeface_layout *out)
{
    float e[4], ux, uy, d, mx, my, w = box[2] - box[0];

    memset(out, 0, sizeof *out);
    if (!(w > 0.0f))
        return;
    eyes_lr(kp, e);
    ux = e[2] - e[0];
    uy = e[3] - e[1];
    d = sqrtf(ux * ux + uy * uy);
    if (d > 0.0f) {
        ux /= d;
        uy /= d;
    } else {
        ux = 1.0f;
        uy = 0.0f;
    }
    mx = 0.5f * (e[0] + e[2]);
    my = 0.5f * (e[1] + e[3]);
    /* (ux, uy) along the eyes, (-uy, ux) down the face when the eyes are level */
    out->eyes = d / w;
    out->nose_side = ((kp[4] - mx) * ux + (kp[5] - my) * uy) / w;
    out->nose_drop = ((kp[4] - mx) * -uy + (kp[5] - my) * ux) / w;
    out->mouth_drop = ((kp[6] - mx) * -uy + (kp[7] - my) * ux) / w;
}

int blazeface_layout_plausible(const struct blazeface_layout *l)
{
    return l->eyes >= 0.2f && l->eyes <= 0.7f && l->mouth_drop >= 0.15f && l->mouth_drop <= 0.7f &&
           l->nose_drop > 0.0f && l->nose_drop < l->mouth_drop && fabsf(l->nose_side) <= 0.35f;
}
