/*
 * blazeface_decode.c - turning BlazeFace's raw outputs into face boxes, the MediaPipe way.
 *
 * The network predicts, for each of 896 fixed anchors, a logit and 16 regressors: the box
 * centre offset and size, then six keypoints (eyes, nose, mouth, ears), all in input pixels
 * relative to the anchor centre (MediaPipe's TensorsToDetections with x/y/w/h scale equal to
 * the input size and fixed-size anchors). Anchors come from SSD-style layers; for both shipped
 * models that is a 16x16 grid with 2 anchors per cell, then 8x8 with 6. Overlapping hits of one
 * face are merged by weighted NMS, which averages them instead of keeping only the best: it
 * steadies boxes and keypoints from frame to frame, which matters when faces are tracked over a
 * video. Everything here is plain arithmetic on floats (the outputs are found by their shapes),
 * free of ORT sessions, and testable alone.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"
#include "blazeface.h"

const struct blazeface_layer blazeface_layers[BLAZEFACE_LAYERS] = {{16, 2}, {8, 6}};

size_t blazeface_layer_count(int i)
{
    const struct blazeface_layer *l = &blazeface_layers[i];

    return (size_t)l->grid * (size_t)l->grid * (size_t)l->per_cell;
}

void blazeface_anchors(float *xy)
{
    size_t k = 0;

    for (int i = 0; i < BLAZEFACE_LAYERS; i++) {
        const struct blazeface_layer *l = &blazeface_layers[i];
        for (int y = 0; y < l->grid; y++) {
            for (int x = 0; x < l->grid; x++) {
                for (int a = 0; a < l->per_cell; a++) {
                    xy[2 * k] = ((float)x + 0.5f) / (float)l->grid;
                    xy[2 * k + 1] = ((float)y + 0.5f) / (float)l->grid;
                    k++;
                }
            }
        }
    }
}

static int finite_regs(const float *r)
{
    for (int k = 0; k < BLAZEFACE_REG_DIM; k++) {
        if (!isfinite(r[k]))
            return 0;
    }
    return 1;
}

size_t blazeface_decode(const float *scores, const float *regs, const float *anchors_xy,
                        const struct blazeface_params *p, struct blazeface_det *out)
{
    float s = p->input_size;
    size_t n = 0;

    for (size_t i = 0; i < BLAZEFACE_ANCHORS; i++) {
        const float *r = regs + i * BLAZEFACE_REG_DIM;
        float ax = anchors_xy[2 * i], ay = anchors_xy[2 * i + 1];
        float logit = scores[i], score, cx, cy, w, h;
        struct blazeface_det *d;

        if (isnan(logit))
            continue;
        if (logit > p->score_clip)
            logit = p->score_clip;
        if (logit < -p->score_clip)
            logit = -p->score_clip;
        score = 1.0f / (1.0f + expf(-logit));
        if (score < p->score_threshold)
            continue;
        cx = r[0] / s + ax;
        cy = r[1] / s + ay;
        w = r[2] / s;
        h = r[3] / s;
        if (!(w > 0.0f && h > 0.0f) || !finite_regs(r))
            continue; /* degenerate or broken output: no detection, and no NaN in JSON */
        d = &out[n++];
        d->score = score;
        d->xmin = cx - w * 0.5f;
        d->ymin = cy - h * 0.5f;
        d->xmax = cx + w * 0.5f;
        d->ymax = cy + h * 0.5f;
        for (int k = 0; k < BLAZEFACE_KEYPOINTS; k++) {
            d->kp[2 * k] = r[4 + 2 * k] / s + ax;
            d->kp[2 * k + 1] = r[5 + 2 * k] / s + ay;
        }
    }
    return n;
}

float blazeface_iou(const struct blazeface_det *a, const struct blazeface_det *b)
{
    return an_iou((const float[4]){a->xmin, a->ymin, a->xmax, a->ymax},
                  (const float[4]){b->xmin, b->ymin, b->xmax, b->ymax});
}

static int by_score_desc(const void *pa, const void *pb)
{
    const struct blazeface_det *a = pa, *b = pb;

    return (a->score < b->score) - (a->score > b->score);
}

size_t blazeface_weighted_nms(struct blazeface_det *d, size_t n, float iou)
{
    size_t kept = 0, rest = n;

    qsort(d, n, sizeof *d, by_score_desc);
    /* d[0..kept) are results; d[kept..rest) still compete, best first (order is preserved by
     * compacting the losers of each round towards the front). */
    while (kept < rest) {
        struct blazeface_det top = d[kept], acc;
        float wsum = 0.0f;
        size_t w = kept + 1;

        memset(&acc, 0, sizeof acc);
        for (size_t i = kept; i < rest; i++) {
            struct blazeface_det *c = &d[i];
            if (i == kept || blazeface_iou(&top, c) > iou) {
                acc.xmin += c->score * c->xmin;
                acc.ymin += c->score * c->ymin;
                acc.xmax += c->score * c->xmax;
                acc.ymax += c->score * c->ymax;
                for (int k = 0; k < 2 * BLAZEFACE_KEYPOINTS; k++)
                    acc.kp[k] += c->score * c->kp[k];
                wsum += c->score;
            } else {
                d[w++] = *c;
            }
        }
        if (wsum > 0.0f) {
            top.xmin = acc.xmin / wsum;
            top.ymin = acc.ymin / wsum;
            top.xmax = acc.xmax / wsum;
            top.ymax = acc.ymax / wsum;
            for (int k = 0; k < 2 * BLAZEFACE_KEYPOINTS; k++)
                top.kp[k] = acc.kp[k] / wsum;
        }
        d[kept++] = top;
        rest = w;
    }
    return kept;
}

void blazeface_mirror(struct blazeface_det *d, size_t n)
{
    /* MediaPipe order: right eye, left eye, nose, mouth, right ear, left ear. */
    static const int swap[BLAZEFACE_KEYPOINTS] = {1, 0, 2, 3, 5, 4};

    for (size_t i = 0; i < n; i++) {
        float kp[2 * BLAZEFACE_KEYPOINTS], x0 = d[i].xmin;
        d[i].xmin = 1.0f - d[i].xmax;
        d[i].xmax = 1.0f - x0;
        for (int k = 0; k < BLAZEFACE_KEYPOINTS; k++) {
            kp[2 * swap[k]] = 1.0f - d[i].kp[2 * k];
            kp[2 * swap[k] + 1] = d[i].kp[2 * k + 1];
        }
        memcpy(d[i].kp, kp, sizeof kp);
    }
}

static struct blazeface_det average2(const struct blazeface_det *a, const struct blazeface_det *b)
{
    struct blazeface_det r;
    float wa = a->score / (a->score + b->score), wb = 1.0f - wa;

    r.score = (a->score + b->score) * 0.5f;
    r.xmin = wa * a->xmin + wb * b->xmin;
    r.ymin = wa * a->ymin + wb * b->ymin;
    r.xmax = wa * a->xmax + wb * b->xmax;
    r.ymax = wa * a->ymax + wb * b->ymax;
    for (int k = 0; k < 2 * BLAZEFACE_KEYPOINTS; k++)
        r.kp[k] = wa * a->kp[k] + wb * b->kp[k];
    return r;
}

size_t blazeface_fuse_flip(const struct blazeface_det *a, size_t na, const struct blazeface_det *b,
                           size_t nb, float iou, float threshold, struct blazeface_det *out)
{
    unsigned char used[BLAZEFACE_ANCHORS] = {0};
    size_t n = 0, i, j;

    if (nb > BLAZEFACE_ANCHORS)
        nb = BLAZEFACE_ANCHORS; /* decode never yields more */
    /* a and b come out of NMS best first, so greedy pairing takes strong pairs first. */
    for (i = 0; i < na; i++) {
        size_t best = nb;
        float best_iou = iou;
        for (j = 0; j < nb; j++) {
            float o = used[j] ? 0.0f : blazeface_iou(&a[i], &b[j]);
            if (o > best_iou) {
                best_iou = o;
                best = j;
            }
        }
        if (best < nb) {
            used[best] = 1;
            out[n] = average2(&a[i], &b[best]);
        } else {
            out[n] = a[i];
            out[n].score *= 0.5f;
        }
        if (out[n].score >= threshold)
            n++;
    }
    for (j = 0; j < nb; j++) {
        if (used[j])
            continue;
        out[n] = b[j];
        out[n].score *= 0.5f;
        if (out[n].score >= threshold)
            n++;
    }
    return blazeface_weighted_nms(out, n, iou);
}

int blazeface_map_outputs(const struct aitag_tensor *outs, size_t n, long long batch,
                          const char *model, int seg[2][BLAZEFACE_LAYERS], char *err, size_t errlen)
{
    memset(seg, -1, sizeof(int) * 2 * BLAZEFACE_LAYERS);
    for (size_t i = 0; i < n; i++) {
        const struct aitag_tensor *t = &outs[i];
        int kind = -1, layer = -1;
        if (t->ndim != 3 || t->shape[0] != batch)
            continue;
        if (t->shape[2] == 1)
            kind = 0;
        else if (t->shape[2] == BLAZEFACE_REG_DIM)
            kind = 1;
        for (int l = 0; l < BLAZEFACE_LAYERS; l++) {
            if ((size_t)t->shape[1] == blazeface_layer_count(l))
                layer = l;
        }
        if (kind >= 0 && layer >= 0)
            seg[kind][layer] = (int)i;
    }
    for (int k = 0; k < 2; k++) {
        for (int l = 0; l < BLAZEFACE_LAYERS; l++) {
            if (seg[k][l] < 0) {
                snprintf(err, errlen,
                         "faces: model %s lacks the %s output for %zu anchors "
                         "(expected [%lld,%zu,%d])",
                         model, k ? "regressor" : "score", blazeface_layer_count(l), batch,
                         blazeface_layer_count(l), k ? BLAZEFACE_REG_DIM : 1);
                return AITAG_ERR_MODEL;
            }
        }
    }
    return 0;
}

void blazeface_gather(const struct aitag_tensor *outs, int seg[2][BLAZEFACE_LAYERS], size_t b,
                      float *scores, float *regs)
{
    size_t base = 0;

    for (int l = 0; l < BLAZEFACE_LAYERS; l++) {
        size_t cnt = blazeface_layer_count(l);
        memcpy(scores + base, outs[seg[0][l]].data + b * cnt, cnt * sizeof(float));
        memcpy(regs + base * BLAZEFACE_REG_DIM, outs[seg[1][l]].data + b * cnt * BLAZEFACE_REG_DIM,
               cnt * BLAZEFACE_REG_DIM * sizeof(float));
        base += cnt;
    }
}
