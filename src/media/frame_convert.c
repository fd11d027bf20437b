/*
 * frame_convert.c - decoded frames (usually YUV) into upright RGB24 views.
 *
 * Each view gets one sws_scale straight from the decoded picture to its content size: no
 * full-size RGB intermediate, which at 1080p would cost more than the scaling itself. Upright
 * views without rotation are scaled directly into the frame's buffer at the letterbox offset;
 * for a quarter or half turn the picture is scaled (at the pre-rotation size) into a reusable
 * scratch buffer and rotated while being copied into place, which touches only view-sized data.
 *
 * One SwsContext per view, rebuilt only when the decoded size or pixel format changes. The
 * deprecated full-range "yuvj" formats are mapped to their plain twins with the range set
 * explicitly, and YUV sources get the matrix they were tagged with (BT.709 assumed for
 * untagged HD, BT.601 below): swscale would otherwise apply BT.601 everywhere.
 */
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>

#include "media_int.h"

int media_frame_converter_init(struct frame_converter *c, const struct aitag_view_spec *specs,
                               size_t n, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (n > 0 && !specs) {
        aitag_fmt(err, errlen, "views missing");
        return AITAG_ERR_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j;
        int rc = media_view_spec_check(&specs[i], err, errlen);

        if (rc < 0)
            return rc;
        for (j = 0; j < c->n; j++)
            if (media_view_spec_equal(&c->specs[j], &specs[i]))
                break;
        if (j < c->n)
            continue;
        if (c->n == AITAG_MAX_VIEWS) {
            aitag_fmt(err, errlen, "more than %d distinct views", AITAG_MAX_VIEWS);
            return AITAG_ERR_INVALID;
        }
        c->specs[c->n++] = specs[i];
    }
    return 0;
}

static enum AVPixelFormat plain_format(enum AVPixelFormat f, int *full_range)
{
    switch (f) {
    case AV_PIX_FMT_YUVJ420P:
        *full_range = 1;
        return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
        *full_range = 1;
        return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
        *full_range = 1;
        return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P:
        *full_range = 1;
        return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P:
        *full_range = 1;
        return AV_PIX_FMT_YUV411P;
    default:
        return f;
    }
}

static int is_yuv(enum AVPixelFormat f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f);

    return d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && !(d->flags & AV_PIX_FMT_FLAG_PAL) &&
           d->nb_components >= 3;
}

static int prepare_scaler(struct view_scaler *s, const AVFrame *src, int out_w, int out_h,
                          char *err, size_t errlen)
{
    int full = src->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat fmt = plain_format((enum AVPixelFormat)src->format, &full);
    int cs = src->colorspace;
    int flags;

    if (cs == AVCOL_SPC_UNSPECIFIED || cs == AVCOL_SPC_RGB || cs > AVCOL_SPC_BT2020_CL)
        cs = src->height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_BT470BG;
    if (s->sws && s->in_w == src->width && s->in_h == src->height && s->in_fmt == (int)fmt &&
        s->in_cs == cs && s->in_range == full && s->out_w == out_w && s->out_h == out_h)
        return 0;
    sws_freeContext(s->sws);
    /* AREA averages every source pixel when shrinking (no aliasing on the big 1080p -> 256
     * reductions models use); BICUBIC for the rare enlargement of small sources. */
    flags = out_w < src->width || out_h < src->height ? SWS_AREA : SWS_BICUBIC;
    s->sws = sws_getContext(src->width, src->height, fmt, out_w, out_h, AV_PIX_FMT_RGB24, flags,
                            NULL, NULL, NULL);
    if (!s->sws) {
        aitag_fmt(err, errlen, "cannot convert %s %dx%d to RGB", av_get_pix_fmt_name(fmt),
                  src->width, src->height);
        return AITAG_ERR_MEDIA;
    }
    if (is_yuv(fmt))
        sws_setColorspaceDetails(s->sws, sws_getCoefficients(cs), full,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    s->in_w = src->width;
    s->in_h = src->height;
    s->in_fmt = fmt;
    s->in_cs = cs;
    s->in_range = full;
    s->out_w = out_w;
    s->out_h = out_h;
    return 0;
}

/* Copies a pw x ph RGB24 picture into dst (upright), turned clockwise by rot degrees. */
static void rotate_into(const uint8_t *p, int pstride, int pw, int ph, int rot, uint8_t *dst,
                        int dstride)
{
    int uw = rot == 180 ? pw : ph, uh = rot == 180 ? ph : pw;

    for (int uy = 0; uy < uh; uy++) {
        uint8_t *d = dst + (size_t)uy * dstride;

        for (int ux = 0; ux < uw; ux++, d += 3) {
            int px, py;

            if (rot == 90) {
                px = uy;
                py = ph - 1 - ux;
            } else if (rot == 270) {
                px = pw - 1 - uy;
                py = ux;
            } else {
                px = pw - 1 - ux;
                py = ph - 1 - uy;
            }
            memcpy(d, p + (size_t)py * pstride + (size_t)px * 3, 3);
        }
    }
}

static int scale_view(struct view_scaler *s, const AVFrame *src, int rot, struct aitag_view *v,
                      char *err, size_t errlen)
{
    int pw = rot % 180 ? v->content_h : v->content_w;
    int ph = rot % 180 ? v->content_w : v->content_h;
    uint8_t *dst = v->rgb + (size_t)v->pad_y * v->stride + (size_t)v->pad_x * 3;
    const uint8_t *const *in = (const uint8_t *const *)src->data;
    int rc, stride;

    rc = prepare_scaler(s, src, pw, ph, err, errlen);
    if (rc < 0)
        return rc;
    if (rot == 0) {
        stride = v->stride;
        rc = sws_scale(s->sws, in, src->linesize, 0, src->height, &dst, &stride);
    } else {
        size_t need;

        stride = (pw * 3 + 31) & ~31;
        need = (size_t)stride * ph;
        if (need > s->scratch_size) {
            av_freep(&s->scratch);
            s->scratch_size = 0;
            s->scratch = av_malloc(need);
            if (!s->scratch) {
                aitag_fmt(err, errlen, "out of memory");
                return AITAG_ERR_NOMEM;
            }
            s->scratch_size = need;
        }
        rc = sws_scale(s->sws, in, src->linesize, 0, src->height, &s->scratch, &stride);
        if (rc > 0)
            rotate_into(s->scratch, stride, pw, ph, rot, dst, v->stride);
    }
    if (rc <= 0) {
        aitag_fmt(err, errlen, "scaling to %dx%d failed", pw, ph);
        return AITAG_ERR_MEDIA;
    }
    return 0;
}

int media_frame_converter_run(struct frame_converter *c, const AVFrame *src, AVRational sar,
                              int rotation, double t, struct aitag_frame **out, char *err,
                              size_t errlen)
{
    struct view_plan plans[AITAG_MAX_VIEWS];
    struct aitag_frame *f = NULL;
    int rc = 0, w, h;

    *out = NULL;
    if (src->width <= 0 || src->height <= 0 || src->width > MEDIA_MAX_DIM ||
        src->height > MEDIA_MAX_DIM) {
        aitag_fmt(err, errlen, "decoded picture size %dx%d is invalid", src->width, src->height);
        return AITAG_ERR_MEDIA;
    }
    media_display_size(src->width, src->height, sar, rotation, &w, &h);
    for (size_t i = 0; i < c->n; i++)
        media_view_plan_compute(&plans[i], &c->specs[i], w, h);
    f = media_frame_alloc(plans, c->n, w, h, t);
    if (!f) {
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->n; i++) {
        rc = scale_view(&c->sc[i], src, rotation, &f->views[i], err, errlen);
        if (rc < 0)
            goto out;
    }
    *out = f;
    f = NULL;
out:
    aitag_frame_free(f);
    return rc;
}

void media_frame_converter_free(struct frame_converter *c)
{
    for (size_t i = 0; i < AITAG_MAX_VIEWS; i++) {
        sws_freeContext(c->sc[i].sws);
        c->sc[i].sws = NULL;
        av_freep(&c->sc[i].scratch);
        c->sc[i].scratch_size = 0;
    }
    c->n = 0;
}
