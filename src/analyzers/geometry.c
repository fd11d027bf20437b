/*
 * geometry.c - the box arithmetic every detector shares: mapping view pixels back through the
 * letterbox (or max-side scaling) to the normalised upright source, clamping to [0, 1], and the
 * intersection-over-union that NMS and pass merging use, and the rotated bilinear crop that
 * face_attrs and the faces verification stage cut from a view.
 *
 * A view pixel vx maps to source pixel (vx - pad_x) / scale_x (see struct aitag_view), and to
 * the normalised source by a further division by src_w; the two are folded into one divisor,
 * scale_x * src_w, so every analyzer gets the same float result for the same pixel. Points in
 * the padding clamp to the nearest edge, so a box wholly in the padding comes out empty.
 */
#include <math.h>
#include <stdint.h>

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

/* Bilinear sample of channel c at view pixel (x, y); black outside. */
static float sample(const struct aitag_view *v, float x, float y, int c)
{
    int x0 = (int)floorf(x - 0.5f), y0 = (int)floorf(y - 0.5f);
    float fx = x - 0.5f - (float)x0, fy = y - 0.5f - (float)y0, r = 0.0f;

    for (int j = 0; j < 2; j++) {
        for (int i = 0; i < 2; i++) {
            int xx = x0 + i, yy = y0 + j;
            float w = (i ? fx : 1.0f - fx) * (j ? fy : 1.0f - fy);
            if (xx < 0 || yy < 0 || xx >= v->width || yy >= v->height || w == 0.0f)
                continue;
            r += w * v->rgb[(size_t)yy * (size_t)v->stride + 3 * (size_t)xx + (size_t)c];
        }
    }
    return r;
}

/* Cuts a size x size RGB crop into dst (packed RGB24): crop pixel centre (i, j) samples view
 * point (m[0] u + m[1] v + m[2], m[3] u + m[4] v + m[5]) with u = i + 0.5, v = j + 0.5. */
void an_crop_affine(const struct aitag_view *v, const float m[6], int size, uint8_t *dst)
{
    for (int j = 0; j < size; j++) {
        for (int i = 0; i < size; i++) {
            float u = (float)i + 0.5f, w = (float)j + 0.5f;
            float x = m[0] * u + m[1] * w + m[2], y = m[3] * u + m[4] * w + m[5];
            for (int c = 0; c < 3; c++) {
                float p = sample(v, x, y, c) + 0.5f;
                dst[((size_t)j * (size_t)size + (size_t)i) * 3 + (size_t)c] =
                    (uint8_t)(p > 255.0f ? 255.0f : p);
            }
        }
    }
}

/* Cuts a size x size RGB crop centred on (cx, cy) (view pixels), `side` pixels wide, its x
 * axis along `angle` (radians, y down), into dst (packed RGB24). */
void an_crop_aligned(const struct aitag_view *v, float cx, float cy, float side, float angle,
                     int size, uint8_t *dst)
{
    float ca = cosf(angle), sa = sinf(angle), step = side / (float)size;
    float m[6] = {step * ca, -step * sa, 0, step * sa, step * ca, 0};

    m[2] = cx - side / 2 * (ca - sa);
    m[5] = cy - side / 2 * (sa + ca);
    an_crop_affine(v, m, size, dst);
}
