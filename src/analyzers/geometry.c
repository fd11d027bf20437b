/*
 * geometry.c - the box arithmetic every detector shares: mapping view pixels back through the
 * letterbox (or max-side scaling) to the normalised upright source, clamping to [0, 1], and the
 * intersection-over-union that NMS and pass merging use.
 *
 * A view pixel vx maps to source pixel (vx - pad_x) / scale_x (see struct aitag_view), and to
 * the normalised source by a further division by src_w; the two are folded into one divisor,
 * scale_x * src_w, so every analyzer gets the same float result for the same pixel. Points in
 * the padding clamp to the nearest edge, so a box wholly in the padding comes out empty.
 */
#include <math.h>

#include "analyzers_int.h"

float an_clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

float an_source_x(const struct aitag_frame *fr, const struct aitag_view *v, float vx)
{
    return an_clamp01((vx - (float)v->pad_x) / (v->scale_x * (float)fr->src_w));
}

float an_source_y(const struct aitag_frame *fr, const struct aitag_view *v, float vy)
{
    return an_clamp01((vy - (float)v->pad_y) / (v->scale_y * (float)fr->src_h));
}

int an_source_box(const struct aitag_frame *fr, const struct aitag_view *v, const float vb[4],
                  struct aitag_box *out)
{
    float x0 = an_source_x(fr, v, vb[0]), y0 = an_source_y(fr, v, vb[1]);
    float x1 = an_source_x(fr, v, vb[2]), y1 = an_source_y(fr, v, vb[3]);

    *out = (struct aitag_box){x0, y0, x1 - x0, y1 - y0};
    return x1 > x0 && y1 > y0;
}

float an_iou(const float a[4], const float b[4])
{
    float ix = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    float inter, uni;

    if (ix <= 0.0f || iy <= 0.0f)
        return 0.0f;
    inter = ix * iy;
    uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}
