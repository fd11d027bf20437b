/*
 * vlm_request.c - one frame to one chat completion: the view as a JPEG (libavcodec's mjpeg
 * encoder), the OpenAI-compatible request body with the JPEG as a data: URL, and the POST
 * (libcurl, one easy handle per analyzer so calls share a keep-alive connection).
 *
 * The request always asks for temperature 0 and a JSON object, so equal frames make equal
 * requests and a caching gateway can answer repeats without the model. Every failure here
 * (transport, timeout, non-2xx, an answer without a message) is reported with the url and
 * the HTTP status, and nothing is retried: failing over is the gateway's job, and the
 * tagger fails just this item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <libavutil/base64.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "vlm_int.h"

#define ANSWER_MAX (8u << 20) /* larger answers are refused */
#define JPEG_QSCALE 3         /* mjpeg quantiser: 2 best .. 31 worst */

int vlm_encode_jpeg(const struct aitag_view *view, unsigned char **jpeg, size_t *len, char *err,
                    size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *cc = NULL;
    AVFrame *fr = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    const uint8_t *src[4] = {view->rgb};
    int src_stride[4] = {view->stride};
    int rc = AITAG_ERR_MEDIA;

    *jpeg = NULL;
    *len = 0;
    if (!codec) {
        snprintf(err, errlen, "this FFmpeg has no mjpeg encoder");
        return rc;
    }
    cc = avcodec_alloc_context3(codec);
    fr = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!cc || !fr || !pkt) {
        rc = AITAG_ERR_NOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    cc->width = view->width;
    cc->height = view->height;
    /* Full-range 4:2:0 as plain YUV420P (YUVJ420P is deprecated and makes swscale warn). */
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    cc->color_range = AVCOL_RANGE_JPEG;
    cc->time_base = (AVRational){1, 25};
    cc->flags |= AV_CODEC_FLAG_QSCALE;
    cc->global_quality = FF_QP2LAMBDA * JPEG_QSCALE;
    fr->format = cc->pix_fmt;
    fr->width = view->width;
    fr->height = view->height;
    fr->color_range = AVCOL_RANGE_JPEG;
    fr->quality = cc->global_quality;
    sws = sws_getContext(view->width, view->height, AV_PIX_FMT_RGB24, view->width, view->height,
                         AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
    if (sws) {
        const int *coefs = sws_getCoefficients(SWS_CS_ITU601);
        sws_setColorspaceDetails(sws, coefs, 1, coefs, 1, 0, 1 << 16, 1 << 16);
    }
    if (!sws || avcodec_open2(cc, codec, NULL) < 0 || av_frame_get_buffer(fr, 0) < 0) {
        snprintf(err, errlen, "cannot set up the JPEG encoder for %dx%d", view->width,
                 view->height);
        goto out;
    }
    sws_scale(sws, src, src_stride, 0, view->height, fr->data, fr->linesize);
    if (avcodec_send_frame(cc, fr) < 0 || avcodec_send_frame(cc, NULL) < 0 ||
        avcodec_receive_packet(cc, pkt) < 0) {
        snprintf(err, errlen, "JPEG encoding of a %dx%d view failed", view->width, view->height);
        goto out;
    }
    *jpeg = av_malloc((size_t)pkt->size);
    if (!*jpeg) {
        rc = AITAG_ERR_NOMEM;
        snprintf(err, errlen, "out of memory");
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

struct vlm_http {
    CURL *h;
    char *body;
    size_t len, cap;
};

struct vlm_http *vlm_http_new(void)
{
    struct vlm_http *h;

    if (aitag_curl_global_init() < 0)
        return NULL;
    h = calloc(1, sizeof *h);
    if (h && !(h->h = curl_easy_init())) {
        free(h);
        h = NULL;
    }
    return h;
}

void vlm_http_free(struct vlm_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->h);
    free(h->body);
    free(h);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    struct vlm_http *h = ctx;
    size_t n = size * nmemb;

    /* Refused past ANSWER_MAX or without memory: curl then reports a write error. */
    return aitag_buf_append(&h->body, &h->len, &h->cap, ptr, n, ANSWER_MAX - 1) < 0 ? 0 : n;
}

/* The request body; caller frees. NULL when out of memory. */
static char *request_body(const struct vlm_call *c)
{
    size_t b64_size = AV_BASE64_SIZE(c->jpeg_len), prefix = strlen("data:image/jpeg;base64,");
    char *url = malloc(prefix + b64_size), *out = NULL;
    json_t *req = NULL;

    if (!url || c->jpeg_len > (size_t)(1 << 30))
        goto out;
    memcpy(url, "data:image/jpeg;base64,", prefix);
    if (!av_base64_encode(url + prefix, (int)b64_size, c->jpeg, (int)c->jpeg_len))
        goto out;
    req = json_pack("{s:s, s:i, s:{s:s}, s:[{s:s, s:s}, {s:s, s:[{s:s, s:s}, {s:s, s:{s:s}}]}]}",
                    "model", c->route, "temperature", 0, "response_format", "type", "json_object",
                    "messages", "role", "system", "content", c->system, "role", "user", "content",
                    "type", "text", "text", c->user, "type", "image_url", "image_url", "url", url);
    if (req)
        out = json_dumps(req, JSON_COMPACT);
out:
    json_decref(req);
    free(url);
    return out;
}

int vlm_http_chat(struct vlm_http *h, const struct vlm_call *c, char **content, char *err,
                  size_t errlen)
{
    char endpoint[512], auth[600];
    struct curl_slist *hdr = NULL;
    char *body = request_body(c);
    json_t *root = NULL, *msg;
    json_error_t jerr;
    long status = 0;
    CURLcode cc;
    int ok, rc = AITAG_ERR_NOMEM;

    *content = NULL;
    snprintf(endpoint, sizeof endpoint, "%s/chat/completions", c->url);
    if (!body)
        goto out;
    ok = (hdr = curl_slist_append(NULL, "Content-Type: application/json")) != NULL;
    if (ok && c->bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->bearer);
        ok = curl_slist_append(hdr, auth) != NULL;
    }
    if (ok && c->local_only)
        ok = curl_slist_append(hdr, "X-Aitag-Local-Only: 1") != NULL;
    if (!ok)
        goto out;
    h->len = 0;
    curl_easy_reset(h->h);
    curl_easy_setopt(h->h, CURLOPT_URL, endpoint);
    curl_easy_setopt(h->h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h->h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->h, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->h, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = curl_easy_perform(h->h);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "POST %s: %s", endpoint, curl_easy_strerror(cc));
        rc = AITAG_ERR_NET;
        goto out;
    }
    curl_easy_getinfo(h->h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "POST %s: HTTP %ld: %.200s", endpoint, status,
                 h->body && h->len ? h->body : "(empty body)");
        rc = AITAG_ERR_NET;
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    root = h->len ? json_loadb(h->body, h->len, 0, &jerr) : NULL;
    msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    if (!json_is_string(json_object_get(msg, "content"))) {
        snprintf(err, errlen, "POST %s: HTTP %ld but no choices[0].message.content in the answer",
                 endpoint, status);
        goto out;
    }
    *content = strdup(json_string_value(json_object_get(msg, "content")));
    rc = *content ? 0 : AITAG_ERR_NOMEM;
out:
    if (rc == AITAG_ERR_NOMEM)
        snprintf(err, errlen, "out of memory");
    json_decref(root);
    curl_slist_free_all(hdr);
    free(body);
    return rc;
}
