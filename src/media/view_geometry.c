/*
 * view_geometry.c - where a frame's picture lands inside each view, and the frame allocation.
 *
 * Analyzers map boxes back to the source with scale and pad, so this file is the one place that
 * decides them. LETTERBOX fits the upright source into width x height keeping its aspect (up or
 * down), centred on black. MAX_SIDE shrinks (never grows) so the long side fits width, then
 * rounds each side to the nearest multiple, stepping down a multiple when rounding went past
 * the limit or the source, and never below one multiple; its scale per axis is then slightly
 * different, which is why scale_x and scale_y are separate.
 *
 * A frame is one malloc: the struct, then each view's pixels. One allocation per sampled frame,
 * one free, and a frame can cross threads as a single object.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

int media_view_spec_check(const struct aitag_view_spec *spec, char *err, size_t errlen)
{
    if (spec->fit != AITAG_FIT_LETTERBOX && spec->fit != AITAG_FIT_MAX_SIDE) {
        aitag_fmt(err, errlen, "view fit %d is unknown", (int)spec->fit);
        return AITAG_ERR_INVALID;
    }
    if (spec->width <= 0 || spec->width > MEDIA_MAX_DIM ||
        (spec->fit == AITAG_FIT_LETTERBOX && (spec->height <= 0 || spec->height > MEDIA_MAX_DIM))) {
        aitag_fmt(err, errlen, "view size %dx%d is out of range (1..%d)", spec->width, spec->height,
                  MEDIA_MAX_DIM);
        return AITAG_ERR_INVALID;
    }
    if (spec->fit == AITAG_FIT_MAX_SIDE && (spec->multiple < 0 || spec->multiple > spec->width)) {
        aitag_fmt(err, errlen, "view multiple %d is out of range (0..%d)", spec->multiple,
                  spec->width);
        return AITAG_ERR_INVALID;
    }
    return 0;
}

static int norm_multiple(const struct aitag_view_spec *s)
{
    return s->fit == AITAG_FIT_MAX_SIDE && s->multiple > 1 ? s->multiple : 1;
}

int media_view_spec_equal(const struct aitag_view_spec *a, const struct aitag_view_spec *b)
{
    if (a->fit != b->fit || a->width != b->width)
        return 0;
    if (a->fit == AITAG_FIT_LETTERBOX)
        return a->height == b->height;
    return norm_multiple(a) == norm_multiple(b);
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Rounds a scaled side to a multiple of m, not past limit (the view's limit or the source). */
static int round_side(double scaled, int m, int limit)
{
    int r = (int)lround(scaled / m) * m;

    if (r > limit)
        r -= m;
    return r < m ? m : r;
}

void media_view_plan_compute(struct view_plan *v, const struct aitag_view_spec *spec, int src_w,
                             int src_h)
{
    double s;

    memset(v, 0, sizeof *v);
    v->spec = *spec;
    if (spec->fit == AITAG_FIT_LETTERBOX) {
        s = fmin((double)spec->width / src_w, (double)spec->height / src_h);
        v->width = spec->width;
        v->height = spec->height;
        v->content_w = clamp_int((int)lround(src_w * s), 1, spec->width);
        v->content_h = clamp_int((int)lround(src_h * s), 1, spec->height);
        v->pad_x = (spec->width - v->content_w) / 2;
        v->pad_y = (spec->height - v->content_h) / 2;
    } else {
        int m = norm_multiple(spec);
        int long_side = src_w > src_h ? src_w : src_h;

        s = long_side > spec->width ? (double)spec->width / long_side : 1.0;
        if (m > 1) {
            v->content_w = round_side(src_w * s, m, src_w < spec->width ? src_w : spec->width);
            v->content_h = round_side(src_h * s, m, src_h < spec->width ? src_h : spec->width);
        } else {
            v->content_w = clamp_int((int)lround(src_w * s), 1, spec->width);
            v->content_h = clamp_int((int)lround(src_h * s), 1, spec->width);
        }
        v->width = v->content_w;
        v->height = v->content_h;
    }
    v->scale_x = (float)v->content_w / (float)src_w;
    v->scale_y = (float)v->content_h / (float)src_h;
}

void media_display_size(int w, int h, AVRational sar, int rotation, int *out_w, int *out_h)
{
    double r = sar.num > 0 && sar.den > 0 ? av_q2d(sar) : 1.0;

    if (r > 0.1 && r < 10.0 && fabs(r - 1.0) > 1e-3) {
        if (r > 1.0)
            w = clamp_int((int)lround(w * r), 1, MEDIA_MAX_DIM);
        else
            h = clamp_int((int)lround(h / r), 1, MEDIA_MAX_DIM);
    }
    *out_w = rotation % 180 ? h : w;
    *out_h = rotation % 180 ? w : h;
}

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* Blackens the letterbox bars; the picture area is overwritten by the scaler. */
static void clear_padding(struct aitag_view *v)
{
    size_t row = (size_t)v->content_w * 3;

    memset(v->rgb, 0, (size_t)v->pad_y * v->stride);
    for (int y = v->pad_y; y < v->pad_y + v->content_h; y++) {
        uint8_t *line = v->rgb + (size_t)y * v->stride;

        memset(line, 0, (size_t)v->pad_x * 3);
        memset(line + (size_t)v->pad_x * 3 + row, 0,
               (size_t)v->stride - (size_t)v->pad_x * 3 - row);
    }
    memset(v->rgb + (size_t)(v->pad_y + v->content_h) * v->stride, 0,
           (size_t)(v->height - v->pad_y - v->content_h) * v->stride);
}

struct aitag_frame *media_frame_alloc(const struct view_plan *plans, size_t n, int src_w, int src_h,
                                      double t)
{
    size_t total = align64(sizeof(struct aitag_frame));
    struct aitag_frame *f;
    uint8_t *p;

    for (size_t i = 0; i < n; i++)
        total += align64((size_t)plans[i].width * 3 * (size_t)plans[i].height);
    f = malloc(total);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    f->t = t;
    f->src_w = src_w;
    f->src_h = src_h;
    f->n_views = n;
    p = (uint8_t *)f + align64(sizeof(struct aitag_frame));
    for (size_t i = 0; i < n; i++) {
        struct aitag_view *v = &f->views[i];

        v->spec = plans[i].spec;
        v->width = plans[i].width;
        v->height = plans[i].height;
        v->content_w = plans[i].content_w;
        v->content_h = plans[i].content_h;
        v->pad_x = plans[i].pad_x;
        v->pad_y = plans[i].pad_y;
        v->scale_x = plans[i].scale_x;
        v->scale_y = plans[i].scale_y;
        v->stride = v->width * 3;
        v->rgb = p;
        p += align64((size_t)v->stride * (size_t)v->height);
        if (v->content_w != v->width || v->content_h != v->height)
            clear_padding(v);
    }
    return f;
}

const struct aitag_view *aitag_frame_view(const struct aitag_frame *f,
                                          const struct aitag_view_spec *spec)
{
    if (!f || !spec)
        return NULL;
    for (size_t i = 0; i < f->n_views && i < AITAG_MAX_VIEWS; i++)
        if (media_view_spec_equal(&f->views[i].spec, spec))
            return &f->views[i];
    return NULL;
}

void aitag_frame_free(struct aitag_frame *f)
{
    free(f);
}
