/*
 * crop.c - one rectangle of one frame as a JPEG: a face crop from the media it was seen in.
 *
 * The frame is found like the sampler found it when the media was analysed: the first frame
 * at or after t (a sampler started a hair before t, so the stored time of that frame finds
 * it again despite rounding), seeking to the keyframe before it rather than decoding from the
 * start (media_frame_at, which thumb.c uses too). The view is the upright picture at full size, so
 * the box, normalised to the upright frame like all boxes, maps to pixels directly; the rectangle
 * is encoded in place.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "media_int.h"

static int clamp_px(double v, int hi)
{
    long p = lround(v);
    return p < 0 ? 0 : p > hi ? hi : (int)p;
}

int media_frame_at(const char *path, double start, const struct aitag_view_spec *spec,
                   const char *what, struct aitag_sampler **s, struct aitag_frame **f,
                   const struct aitag_view **v, char *err, size_t errlen)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    char why[512] = "";
    int rc;

    *s = NULL, *f = NULL, *v = NULL;
    sp.views = spec;
    sp.n_views = 1;
    sp.start = start > 0 ? start : 0;
    sp.interval = 1e9; /* one sample */
    sp.strategy = AITAG_SAMPLER_SEEK;
    rc = aitag_sampler_open(path, &sp, s, why, sizeof why);
    if (rc < 0) {
        aitag_fmt(err, errlen, "%s: %s", path, why);
        return rc;
    }
    rc = aitag_sampler_next(*s, f);
    if (rc <= 0) {
        aitag_fmt(err, errlen, "%s: %s", path,
                  rc < 0 ? aitag_sampler_errmsg(*s)
                         : aitag_fmt(why, sizeof why, "no frame at the %s's time", what));
        return rc < 0 ? rc : AITAG_ERR_MEDIA;
    }
    *v = aitag_frame_view(*f, spec);
    if (!*v) {
        aitag_fmt(err, errlen, "%s: the frame has no %s view", path, what);
        return AITAG_ERR_MEDIA;
    }
    return 0;
}

int aitag_media_crop_jpeg(const char *path, double t, float x, float y, float w, float h,
                          unsigned char **jpeg, size_t *len, char *err, size_t errlen)
{
    struct aitag_view_spec full = {MEDIA_MAX_DIM, 0, AITAG_FIT_MAX_SIDE, 0};
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    const struct aitag_view *v;
    int rc, x0, y0, x1, y1;

    *jpeg = NULL;
    *len = 0;
    if (!(t >= 0) || !(w > 0) || !(h > 0)) {
        aitag_fmt(err, errlen, "%s: no face box at t=%.3f", path, t);
        return AITAG_ERR_INVALID;
    }
    rc = media_frame_at(path, t > 1e-4 ? t - 1e-4 : 0, &full, "face", &s, &f, &v, err, errlen);
    if (rc < 0)
        goto out;
    x0 = clamp_px((double)x * v->content_w, v->content_w - 1);
    y0 = clamp_px((double)y * v->content_h, v->content_h - 1);
    x1 = clamp_px((double)(x + w) * v->content_w, v->content_w);
    y1 = clamp_px((double)(y + h) * v->content_h, v->content_h);
    if (x1 <= x0 || y1 <= y0) {
        aitag_fmt(err, errlen, "%s: the face box lies outside the %dx%d frame", path, v->content_w,
                  v->content_h);
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    rc = aitag_media_encode_jpeg(v->rgb + (size_t)(v->pad_y + y0) * (size_t)v->stride +
                                     (size_t)(v->pad_x + x0) * 3,
                                 x1 - x0, y1 - y0, v->stride, jpeg, len, err, errlen);
out:
    aitag_frame_free(f);
    aitag_sampler_close(s);
    return rc;
}
