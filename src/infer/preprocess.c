/*
 * preprocess.c - turning packed RGB24 pixels into one batch item of a model's float input.
 *
 * The manifest says how the model wants its pixels: layout (NHWC or NCHW), channel order (RGB
 * or BGR) and per-channel normalisation x = (p - mean[c]) / std[c], with mean and std given in
 * the model's channel order. Scaling and letterboxing already happened in the sampler (once per
 * frame and view), so this is a single pass with a precomputed multiply per channel.
 */
#include "infer_int.h"

void aitag_model_fill_input_rgb(const struct aitag_model *m, const uint8_t *rgb, int w, int h,
                                int stride, float *dst)
{
    /* src[k] feeds model channel map[k]. */
    int map[3] = {0, 1, 2};
    float mean[3], scale[3];
    size_t plane = (size_t)w * (size_t)h;
    int x, y, k;

    if (m->bgr) {
        map[0] = 2;
        map[2] = 0;
    }
    for (k = 0; k < 3; k++) {
        mean[k] = m->mean[map[k]];
        scale[k] = m->inv_std[map[k]];
    }
    for (y = 0; y < h; y++) {
        const uint8_t *row = rgb + (size_t)y * (size_t)stride;
        if (m->nchw) {
            float *d0 = dst + (size_t)map[0] * plane + (size_t)y * (size_t)w;
            float *d1 = dst + (size_t)map[1] * plane + (size_t)y * (size_t)w;
            float *d2 = dst + (size_t)map[2] * plane + (size_t)y * (size_t)w;
            for (x = 0; x < w; x++) {
                d0[x] = ((float)row[3 * x] - mean[0]) * scale[0];
                d1[x] = ((float)row[3 * x + 1] - mean[1]) * scale[1];
                d2[x] = ((float)row[3 * x + 2] - mean[2]) * scale[2];
            }
        } else {
            float *d = dst + (size_t)y * (size_t)w * 3;
            for (x = 0; x < w; x++) {
                for (k = 0; k < 3; k++)
                    d[3 * x + map[k]] = ((float)row[3 * x + k] - mean[k]) * scale[k];
            }
        }
    }
}

void aitag_model_fill_input(const struct aitag_model *m, const struct aitag_view *view, float *dst)
{
    aitag_model_fill_input_rgb(m, view->rgb, view->width, view->height, view->stride, dst);
}

void aitag_tensor_mirror_nhwc(float *x, int w, int h, int c)
{
    for (int y = 0; y < h; y++) {
        float *row = x + (size_t)y * (size_t)w * (size_t)c;
        for (int a = 0, b = w - 1; a < b; a++, b--)
            for (int k = 0; k < c; k++) {
                float t = row[(size_t)a * c + k];
                row[(size_t)a * c + k] = row[(size_t)b * c + k];
                row[(size_t)b * c + k] = t;
            }
    }
}
