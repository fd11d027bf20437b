/*
 * jpeg.c - packed RGB24 pixels as a JPEG: libavcodec's mjpeg encoder, full-range 4:2:0 with
 * BT.601 coefficients (what JPEG decoders assume), one quantiser for the whole picture.
 *
 * The pixels are read through their stride, so a caller can encode a rectangle of a larger
 * picture (a face crop) by pointing at its top-left pixel. They are copied first, row by row,
 * into a buffer with padding after the last row: swscale's SIMD input code reads up to 16 bytes
 * past a row's end, which for the last row of a caller's exact-size buffer is past its end
 * (valgrind: make test-valgrind, test_vlm). The copy costs a fraction of the encoding. The
 * result is copied into a malloc'd buffer so callers need no FFmpeg header to free it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

#include "media_int.h"

#define JPEG_QSCALE 3  /* mjpeg quantiser: 2 best .. 31 worst */
#define JPEG_IN_PAD 64 /* bytes after the copied pixels that swscale may read */

int aitag_media_encode_jpeg(const uint8_t *rgb, int width, int height, int stride,
                            unsigned char **jpeg, size_t *len, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *cc = NULL;
    AVFrame *fr = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    uint8_t *copy = NULL;
    const uint8_t *src[4] = {NULL};
    int src_stride[4] = {width * 3};
    int rc = AITAG_ERR_MEDIA;

    *jpeg = NULL;
    *len = 0;
    if (!rgb || width <= 0 || height <= 0 || stride < width * 3) {
        snprintf(err, errlen, "no pixels to encode (%dx%d)", width, height);
        return AITAG_ERR_INVALID;
    }
    if (!codec) {
        snprintf(err, errlen, "this FFmpeg has no mjpeg encoder");
        return rc;
    }
    cc = avcodec_alloc_context3(codec);
    fr = av_frame_alloc();
    pkt = av_packet_alloc();
    copy = malloc((size_t)width * 3 * (size_t)height + JPEG_IN_PAD);
    if (!cc || !fr || !pkt || !copy) {
        rc = AITAG_ERR_NOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    cc->width = width;
    cc->height = height;
    /* Full-range 4:2:0 as plain YUV420P (YUVJ420P is deprecated and makes swscale warn). */
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    cc->color_range = AVCOL_RANGE_JPEG;
    cc->time_base = (AVRational){1, 25};
    cc->flags |= AV_CODEC_FLAG_QSCALE;
    cc->global_quality = FF_QP2LAMBDA * JPEG_QSCALE;
    fr->format = cc->pix_fmt;
    fr->width = width;
    fr->height = height;
    fr->color_range = AVCOL_RANGE_JPEG;
    fr->quality = cc->global_quality;
    sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                         SWS_BICUBIC, NULL, NULL, NULL);
    if (sws) {
        const int *coefs = sws_getCoefficients(SWS_CS_ITU601);
        sws_setColorspaceDetails(sws, coefs, 1, coefs, 1, 0, 1 << 16, 1 << 16);
    }
    if (!sws || avcodec_open2(cc, codec, NULL) < 0 || av_frame_get_buffer(fr, 0) < 0) {
        snprintf(err, errlen, "cannot set up the JPEG encoder for %dx%d", width, height);
        goto out;
    }
    for (int y = 0; y < height; y++)
        memcpy(copy + (size_t)y * (size_t)width * 3, rgb + (size_t)y * (size_t)stride,
               (size_t)width * 3);
    memset(copy + (size_t)width * 3 * (size_t)height, 0, JPEG_IN_PAD);
    src[0] = copy;
    sws_scale(sws, src, src_stride, 0, height, fr->data, fr->linesize);
    if (avcodec_send_frame(cc, fr) < 0 || avcodec_send_frame(cc, NULL) < 0 ||
        avcodec_receive_packet(cc, pkt) < 0) {
        snprintf(err, errlen, "JPEG encoding of a %dx%d picture failed", width, height);
        goto out;
    }
    *jpeg = malloc((size_t)pkt->size);
    if (!*jpeg) {
        rc = AITAG_ERR_NOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(*jpeg, pkt->data, (size_t)pkt->size);
    *len = (size_t)pkt->size;
    rc = 0;
out:
    free(copy);
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&fr);
    avcodec_free_context(&cc);
    return rc;
}
