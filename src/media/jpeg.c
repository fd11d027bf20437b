/*
 * jpeg.c - pictures out as JPEG: a whole view (the vlm analyzer sends frames to a model this
 * way), and a box cut from a file at a given time (a person's face becomes a Stash performer
 * image).
 *
 * libavcodec's mjpeg encoder does the work, fed full-range YUV 4:2:0 by swscale (BT.601
 * coefficients, as JFIF expects), which also scales when the output is smaller than the
 * input. A crop decodes exactly one frame: the sampler opened at the asked time with an
 * interval longer than any file, and a MAX_SIDE view large enough to keep the face's detail
 * but bounded so a 8K frame does not cost 8K pixels of conversion.
 */
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

#define JPEG_QSCALE 3         /* mjpeg quantiser: 2 best .. 31 worst */
#define CROP_SOURCE_SIDE 1920 /* the frame is looked at no larger than this */

/* Encodes the w x h RGB24 pixels at rgb (stride bytes a row) as an out_w x out_h JPEG. */
static int encode(const uint8_t *rgb, int w, int h, int stride, int out_w, int out_h,
                  unsigned char **jpeg, size_t *len, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *cc = NULL;
    AVFrame *fr = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    const uint8_t *src[4] = {rgb};
    int src_stride[4] = {stride};
    int rc = AITAG_ERR_MEDIA;

    *jpeg = NULL;
    *len = 0;
    if (!codec) {
        aitag_fmt(err, errlen, "this FFmpeg has no mjpeg encoder");
        return rc;
    }
    cc = avcodec_alloc_context3(codec);
    fr = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!cc || !fr || !pkt) {
        rc = AITAG_ERR_NOMEM;
        aitag_fmt(err, errlen, "out of memory");
        goto out;
    }
    cc->width = out_w;
    cc->height = out_h;
    /* Full-range 4:2:0 as plain YUV420P (YUVJ420P is deprecated and makes swscale warn). */
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    cc->color_range = AVCOL_RANGE_JPEG;
    cc->time_base = (AVRational){1, 25};
    cc->flags |= AV_CODEC_FLAG_QSCALE;
    cc->global_quality = FF_QP2LAMBDA * JPEG_QSCALE;
    fr->format = cc->pix_fmt;
    fr->width = out_w;
    fr->height = out_h;
    fr->color_range = AVCOL_RANGE_JPEG;
    fr->quality = cc->global_quality;
    sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, out_w, out_h, AV_PIX_FMT_YUV420P, SWS_BICUBIC,
                         NULL, NULL, NULL);
    if (sws) {
        const int *coefs = sws_getCoefficients(SWS_CS_ITU601);
        sws_setColorspaceDetails(sws, coefs, 1, coefs, 1, 0, 1 << 16, 1 << 16);
    }
    if (!sws || avcodec_open2(cc, codec, NULL) < 0 || av_frame_get_buffer(fr, 0) < 0) {
        aitag_fmt(err, errlen, "cannot set up the JPEG encoder for %dx%d", out_w, out_h);
        goto out;
    }
    sws_scale(sws, src, src_stride, 0, h, fr->data, fr->linesize);
    if (avcodec_send_frame(cc, fr) < 0 || avcodec_send_frame(cc, NULL) < 0 ||
        avcodec_receive_packet(cc, pkt) < 0) {
        aitag_fmt(err, errlen, "JPEG encoding of a %dx%d picture failed", out_w, out_h);
        goto out;
    }
    *jpeg = malloc((size_t)pkt->size);
    if (!*jpeg) {
        rc = AITAG_ERR_NOMEM;
        aitag_fmt(err, errlen, "out of memory");
        goto out;
    }
    memcpy(*jpeg, pkt->data, (size_t)pkt->size);
    *len = (size_t)pkt->size;
    rc = 0;
out:
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&fr);
    avcodec_free_context(&cc);
    return rc;
}

int aitag_media_encode_jpeg(const struct aitag_view *view, unsigned char **jpeg, size_t *len,
                            char *err, size_t errlen)
{
    return encode(view->rgb, view->width, view->height, view->stride, view->width, view->height,
                  jpeg, len, err, errlen);
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int aitag_media_crop_jpeg(const char *path, double t, const double box[4], int max_side,
                          unsigned char **jpeg, size_t *len, char *err, size_t errlen)
{
    struct aitag_view_spec spec = {CROP_SOURCE_SIDE, 0, AITAG_FIT_MAX_SIDE, 1};
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    const struct aitag_view *v;
    double cx, cy, side;
    int x0, y0, x1, y1, cw, ch, ow, oh, rc;

    *jpeg = NULL;
    *len = 0;
    if (!(box[2] > 0 && box[3] > 0 && box[2] <= 1.5 && box[3] <= 1.5) || !(t >= 0) ||
        max_side < 16) {
        aitag_fmt(err, errlen, "%s: bad crop (t %g, box %g %g %g %g)", path, t, box[0], box[1],
                  box[2], box[3]);
        return AITAG_ERR_INVALID;
    }
    sp.start = t;
    sp.interval = 1e9; /* one sample: the frame at t */
    sp.views = &spec;
    sp.n_views = 1;
    rc = aitag_sampler_open(path, &sp, &s, err, errlen);
    if (rc < 0)
        return rc;
    rc = aitag_sampler_next(s, &f);
    if (rc <= 0) {
        aitag_fmt(err, errlen, "%s: no frame at %.3f s%s%s", path, t, rc < 0 ? ": " : "",
                  rc < 0 ? aitag_sampler_errmsg(s) : "");
        rc = rc < 0 ? rc : AITAG_ERR_MEDIA;
        goto out;
    }
    v = aitag_frame_view(f, &spec);
    if (!v) {
        aitag_fmt(err, errlen, "%s: the frame has no view", path);
        rc = AITAG_ERR_MEDIA;
        goto out;
    }
    /* The face with room around it, a little taller than wide, as portraits are framed. */
    cx = (box[0] + box[2] / 2) * v->content_w;
    cy = (box[1] + box[3] / 2) * v->content_h;
    side = 1.8 * (box[2] * v->content_w > box[3] * v->content_h ? box[2] * v->content_w
                                                                : box[3] * v->content_h);
    x0 = clampi((int)(cx - side / 2), 0, v->content_w - 1);
    x1 = clampi((int)(cx + side / 2), x0 + 1, v->content_w);
    y0 = clampi((int)(cy - side * 0.6), 0, v->content_h - 1);
    y1 = clampi((int)(cy + side * 0.6), y0 + 1, v->content_h);
    cw = x1 - x0;
    ch = y1 - y0;
    if (cw < 8 || ch < 8) {
        aitag_fmt(err, errlen, "%s: the face at %.3f s is too small to crop (%dx%d)", path, t, cw,
                  ch);
        rc = AITAG_ERR_MEDIA;
        goto out;
    }
    ow = cw, oh = ch;
    if (ow > max_side || oh > max_side) { /* shrink, never grow */
        double k = (double)max_side / (ow > oh ? ow : oh);
        ow = clampi((int)(ow * k + 0.5), 8, max_side);
        oh = clampi((int)(oh * k + 0.5), 8, max_side);
    }
    ow &= ~1, oh &= ~1; /* 4:2:0 */
    rc = encode(v->rgb + (size_t)(v->pad_y + y0) * (size_t)v->stride + (size_t)(v->pad_x + x0) * 3,
                cw, ch, v->stride, ow, oh, jpeg, len, err, errlen);
out:
    aitag_frame_free(f);
    aitag_sampler_close(s);
    return rc;
}
