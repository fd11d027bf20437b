/*
 * input.c - opening a media file safely and describing it (struct aitag_probe).
 *
 * Files come from users' folders, so nothing about them is trusted: the path is stat()ed first
 * to give plain reasons (no such file, is a directory, empty file) before FFmpeg sees it; FFmpeg
 * is then given "file:<path>" with the file protocol as the only one allowed (no playlists or
 * references reaching other files or the network) and image2 patterns off (a '%' in a name is
 * a name). The video stream is the default (else largest) one that is not an attached cover.
 *
 * Pictures over the pixel limit are refused from their header: avformat_find_stream_info
 * decodes a frame of a PNG to learn its pixel format, so the decoders it opens get the limit
 * as "max_pixels" (FFmpeg then refuses the buffer before allocating it; with room for its row
 * alignment, so a picture just over the limit may be decoded once there), and the size the
 * demuxer or the header gave is checked exactly before any decoder of ours is opened.
 *
 * Images are recognised by demuxer (image2 and the *_pipe image demuxers); a GIF or APNG with
 * one frame is an image, with more it is a video. A JPEG's EXIF orientation counts as its
 * rotation, like a video's display matrix. For videos the keyframe spacing is estimated
 * by reading the packets (not decoding them) of the first ~10 s: that is cheap, and the sampler
 * needs it to pick between sequential decoding and seeking. The packets read are given back by
 * seeking to the start when the demuxer has a keyframe index (mp4, mkv, avi: such seeks are
 * exact), or else by reopening the file: a timestamp search in MPEG-TS landed on the second
 * keyframe instead of the first.
 *
 * The other limits of limits.c are applied here too: FFmpeg is told the stream limit (its
 * demuxers refuse to create more), a declared duration over the limit is refused, and the
 * file's time and CPU budget starts at the open, polled by the format context's interrupt
 * callback, so probing a file that reads forever stops with a message naming the limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/display.h>

#include "media_int.h"

#define GOP_SCAN_SECONDS 10.0
#define GOP_SCAN_VIDEO_PACKETS 600
#define GOP_SCAN_PACKETS 4000
#define GOP_SCAN_BYTES (64 << 20)

static int fail(struct aitag_probe *p, int rc, const char *msg)
{
    aitag_fmt(p->error, sizeof p->error, "%s", msg);
    return rc;
}

__attribute__((format(printf, 3, 4))) static int failf(struct aitag_probe *p, int rc,
                                                       const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    return rc;
}

static int check_path(const char *path, struct aitag_probe *p)
{
    struct stat sb;
    char ebuf[128];
    int fd;

    if (stat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return fail(p, AITAG_ERR_IO, "no such file");
        if (errno == EACCES)
            return fail(p, AITAG_ERR_IO, "permission denied");
        return failf(p, AITAG_ERR_IO, "cannot stat file (%s)",
                     strerror_r(errno, ebuf, sizeof ebuf));
    }
    if (S_ISDIR(sb.st_mode))
        return fail(p, AITAG_ERR_IO, "is a directory");
    if (!S_ISREG(sb.st_mode))
        return fail(p, AITAG_ERR_IO, "not a regular file");
    if (sb.st_size == 0)
        return fail(p, AITAG_ERR_MEDIA, "empty file");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EACCES || errno == EPERM)
            return fail(p, AITAG_ERR_IO, "permission denied");
        return failf(p, AITAG_ERR_IO, "cannot open file (%s)",
                     strerror_r(errno, ebuf, sizeof ebuf));
    }
    close(fd);
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_image_demuxer(const char *name)
{
    return strcmp(name, "image2") == 0 || ends_with(name, "_pipe");
}

static int is_animation_demuxer(const char *name)
{
    return strcmp(name, "gif") == 0 || strcmp(name, "apng") == 0;
}

/* Text art "video" (the tty demuxer and friends) is not media anyone wants tagged. */
static int is_text_codec(enum AVCodecID id)
{
    return id == AV_CODEC_ID_ANSI || id == AV_CODEC_ID_BINTEXT || id == AV_CODEC_ID_XBIN ||
           id == AV_CODEC_ID_IDF;
}

static int pick_video_stream(const AVFormatContext *fmt)
{
    int best = -1;
    int64_t best_area = -1;

    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        int64_t area = (int64_t)st->codecpar->width * st->codecpar->height;

        if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
            (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        if (st->disposition & AV_DISPOSITION_DEFAULT)
            area = INT64_MAX;
        if (area > best_area) {
            best = (int)i;
            best_area = area;
        }
    }
    return best;
}

static int stream_rotation(const AVStream *st)
{
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    double deg;
    long r;

    if (!m || size < 9 * sizeof(int32_t))
        return 0;
    deg = -av_display_rotation_get((const int32_t *)m); /* counter-clockwise -> clockwise */
    if (deg != deg)                                     /* NaN: a degenerate matrix */
        return 0;
    r = lround(deg / 90.0) * 90 % 360;
    return (int)(r < 0 ? r + 360 : r);
}

double media_pts_to_seconds(const struct media_input *in, int64_t pts)
{
    return (double)(pts - in->start_pts) * av_q2d(in->st->time_base);
}

int64_t media_seconds_to_pts(const struct media_input *in, double t)
{
    return in->start_pts + llrint(t / av_q2d(in->st->time_base));
}

int64_t media_max_pixels(int64_t max_pixels)
{
    return max_pixels > 0 ? max_pixels : AITAG_MEDIA_MAX_PIXELS_DEFAULT;
}

int64_t media_decoder_max_pixels(int64_t max_pixels)
{
    /* FFmpeg checks its buffer, rows aligned up to 64 pixels, against the limit: a picture of
     * exactly max_pixels would fail there. Ours is the exact check, from the header. */
    return max_pixels + max_pixels / 8 + 64 * MEDIA_MAX_DIM;
}

/* avformat_find_stream_info with every stream's decoder limited to in->max_pixels. */
static int find_stream_info(struct media_input *in)
{
    unsigned n = in->fmt->nb_streams;
    AVDictionary **opts = n ? av_calloc(n, sizeof *opts) : NULL;
    int rc;

    if (n && !opts)
        return AVERROR(ENOMEM);
    for (unsigned i = 0; i < n; i++)
        av_dict_set_int(&opts[i], "max_pixels", media_decoder_max_pixels(in->max_pixels), 0);
    rc = avformat_find_stream_info(in->fmt, opts);
    for (unsigned i = 0; i < n; i++)
        av_dict_free(&opts[i]);
    av_free(opts);
    return rc;
}

/* The message for a failed open or read when a limit, not the file, stopped it; else NULL. */
static const char *limit_failure(struct media_input *in, const struct media_errcap *cap, char *buf,
                                 size_t size)
{
    int hit = media_budget_check(&in->budget);

    if (hit == MEDIA_LIMIT_NONE && strstr(cap->msg, "exceeds max_streams"))
        hit = MEDIA_LIMIT_STREAMS;
    if (hit == MEDIA_LIMIT_NONE)
        return NULL;
    return media_limit_message(&in->lim, &in->budget, hit, buf, size);
}

static int open_format(const char *path, struct media_input *in, struct aitag_probe *p)
{
    AVDictionary *opts = NULL;
    struct media_errcap cap;
    char why[160];
    char *url = NULL;
    size_t n = strlen(path) + 6;
    int rc;

    in->fmt = avformat_alloc_context();
    url = malloc(n);
    if (!in->fmt || !url) {
        rc = fail(p, AITAG_ERR_NOMEM, "out of memory");
        goto out;
    }
    aitag_fmt(url, n, "file:%s", path);
    in->fmt->interrupt_callback.callback = media_budget_interrupt;
    in->fmt->interrupt_callback.opaque = &in->budget;
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    av_dict_set(&opts, "pattern_type", "none", 0);
    av_dict_set_int(&opts, "max_streams", in->lim.max_streams, 0);
    media_errcap_begin(&cap);
    rc = avformat_open_input(&in->fmt, url, NULL, &opts);
    media_errcap_end(&cap);
    if (rc < 0) {
        media_averr(rc, &cap, why, sizeof why);
        if (limit_failure(in, &cap, why, sizeof why))
            rc = failf(p, AITAG_ERR_MEDIA, "%s", why);
        else if (rc == AVERROR(EACCES))
            rc = fail(p, AITAG_ERR_IO, "permission denied");
        else if (rc == AVERROR(ENOENT))
            rc = fail(p, AITAG_ERR_IO, "no such file");
        else
            rc = failf(p, AITAG_ERR_MEDIA, "not a media file (%s)", why);
        goto out; /* avformat_open_input freed the context */
    }
    media_errcap_begin(&cap);
    rc = find_stream_info(in);
    media_errcap_end(&cap);
    aitag_fmt(in->note, sizeof in->note, "%s", cap.msg);
    if (rc < 0) {
        if (limit_failure(in, &cap, why, sizeof why))
            rc = failf(p, AITAG_ERR_MEDIA, "%s", why);
        else
            rc = failf(p, AITAG_ERR_MEDIA, "unreadable streams (%s)",
                       media_averr(rc, &cap, why, sizeof why));
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        avformat_close_input(&in->fmt);
    av_dict_free(&opts);
    free(url);
    return rc;
}

static int check_duration(struct media_input *in, struct aitag_probe *p)
{
    if (p->duration > in->lim.max_duration)
        return failf(p, AITAG_ERR_MEDIA,
                     "video of %.0f s is over the duration limit of %g s (--max-duration)",
                     p->duration, in->lim.max_duration);
    return 0;
}

static int describe(struct media_input *in, struct aitag_probe *p)
{
    AVFormatContext *fmt = in->fmt;
    const AVCodecParameters *par;
    AVRational fr;
    int w, h;

    aitag_fmt(p->container, sizeof p->container, "%s", fmt->iformat->name);
    p->n_streams = (int)fmt->nb_streams;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        par = fmt->streams[i]->codecpar;
        if (par->codec_type == AVMEDIA_TYPE_AUDIO && !p->audio_codec[0])
            aitag_fmt(p->audio_codec, sizeof p->audio_codec, "%s", avcodec_get_name(par->codec_id));
    }
    in->vidx = pick_video_stream(fmt);
    if (in->vidx < 0) {
        if (p->audio_codec[0])
            return fail(p, AITAG_ERR_MEDIA, "no video stream (audio only)");
        return failf(p, AITAG_ERR_MEDIA, "not a media file (no audio or video stream in %s)",
                     fmt->iformat->name);
    }
    in->st = fmt->streams[in->vidx];
    par = in->st->codecpar;
    if (strcmp(fmt->iformat->name, "tty") == 0 || is_text_codec(par->codec_id))
        return fail(p, AITAG_ERR_MEDIA, "not a media file (text)");
    aitag_fmt(p->video_codec, sizeof p->video_codec, "%s", avcodec_get_name(par->codec_id));
    if (!avcodec_find_decoder(par->codec_id))
        return failf(p, AITAG_ERR_MEDIA, "unsupported video codec (%s)", p->video_codec);
    w = par->width;
    h = par->height;
    if (w <= 0 || h <= 0) { /* the decoder refused the buffer ("exceeds max pixel count", or
                               "is invalid" past FFmpeg's own bound): over the limit? */
        unsigned nw = 0, nh = 0;
        const char *at = strstr(in->note, "Picture size ");
        if (at && /* NOLINTNEXTLINE(cert-err34-c): FFmpeg's own message, read for its numbers */
            sscanf(at, "Picture size %ux%u", &nw, &nh) == 2 &&
            (uint64_t)nw * nh > (uint64_t)in->max_pixels)
            w = (int)(nw <= INT32_MAX ? nw : INT32_MAX),
            h = (int)(nh <= INT32_MAX ? nh : INT32_MAX);
    }
    if (w > 0 && h > 0 && (int64_t)w * h > in->max_pixels)
        return failf(p, AITAG_ERR_MEDIA,
                     "picture %dx%d (%.1f megapixels) is over the limit of %.1f megapixels", w, h,
                     (double)w * h / 1e6, (double)in->max_pixels / 1e6);
    if ((w <= 0 || h <= 0) && in->note[0])
        return failf(p, AITAG_ERR_MEDIA, "invalid picture size (%s)", in->note);
    if (w <= 0 || h <= 0 || w > MEDIA_MAX_DIM || h > MEDIA_MAX_DIM) {
        return failf(p, AITAG_ERR_MEDIA, "invalid picture size %dx%d (at most %d a side)", w, h,
                     MEDIA_MAX_DIM);
    }
    in->start_pts = in->st->start_time != AV_NOPTS_VALUE ? in->st->start_time : 0;
    /* Matroska reads its cues (keyframe index) on the first seek rather than at open. */
    in->indexed = avformat_index_get_entries_count(in->st) > 0 ||
                  strcmp(fmt->iformat->name, "matroska,webm") == 0;
    p->rotation = stream_rotation(in->st);
    media_display_size(w, h, av_guess_sample_aspect_ratio(fmt, in->st, NULL), p->rotation,
                       &p->width, &p->height);
    p->bit_rate = fmt->bit_rate > 0 ? fmt->bit_rate : par->bit_rate;
    if (is_image_demuxer(fmt->iformat->name) || is_animation_demuxer(fmt->iformat->name)) {
        p->kind = AITAG_MEDIA_IMAGE; /* an animation turns into a video in scan_packets() */
        return 0;
    }
    p->kind = AITAG_MEDIA_VIDEO;
    if (in->st->duration != AV_NOPTS_VALUE && in->st->duration > 0)
        p->duration = (double)in->st->duration * av_q2d(in->st->time_base);
    else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
        p->duration = (double)fmt->duration / AV_TIME_BASE;
    fr = in->st->avg_frame_rate.num > 0 && in->st->avg_frame_rate.den > 0 ? in->st->avg_frame_rate
                                                                          : in->st->r_frame_rate;
    if (fr.num > 0 && fr.den > 0)
        p->fps = av_q2d(fr);
    return check_duration(in, p);
}

/* Reads packets (no decoding) to estimate keyframe spacing; for GIF/APNG, counts frames. */
static void scan_packets(struct media_input *in, struct aitag_probe *p)
{
    AVPacket *pkt = av_packet_alloc();
    double first_t = 0, last_t = 0, first_key = 0, last_key = 0;
    int n_video = 0, n_keys = 0, n_total = 0, eof = 0, have_t = 0;
    int64_t bytes = 0;

    if (!pkt)
        return;
    for (;;) {
        int64_t ts;
        double t;

        if (av_read_frame(in->fmt, pkt) < 0) {
            eof = 1;
            break;
        }
        n_total++;
        bytes += pkt->size;
        if (pkt->stream_index == in->vidx) {
            n_video++;
            ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
            if (ts != AV_NOPTS_VALUE) {
                t = media_pts_to_seconds(in, ts);
                if (!have_t)
                    first_t = t;
                have_t = 1;
                last_t = t > last_t ? t : last_t;
                if (pkt->flags & AV_PKT_FLAG_KEY) {
                    if (n_keys++ == 0)
                        first_key = t;
                    last_key = t;
                }
            }
        }
        av_packet_unref(pkt);
        if (p->kind == AITAG_MEDIA_IMAGE && n_video > 1)
            break;
        if (last_t - first_t > GOP_SCAN_SECONDS || n_video >= GOP_SCAN_VIDEO_PACKETS ||
            n_total >= GOP_SCAN_PACKETS || bytes >= GOP_SCAN_BYTES)
            break;
    }
    av_packet_free(&pkt);
    if (p->kind == AITAG_MEDIA_IMAGE) {
        if (n_video > 1) { /* an animation: sample it like a video */
            AVRational fr = in->st->avg_frame_rate;

            p->kind = AITAG_MEDIA_VIDEO;
            if (in->fmt->duration != AV_NOPTS_VALUE && in->fmt->duration > 0)
                p->duration = (double)in->fmt->duration / AV_TIME_BASE;
            if (fr.num > 0 && fr.den > 0)
                p->fps = av_q2d(fr);
        }
        return;
    }
    if (n_keys >= 2)
        p->gop_seconds = (last_key - first_key) / (n_keys - 1);
    else if (n_keys == 1) /* one keyframe seen: the spacing is at least what was scanned */
        p->gop_seconds = eof && p->duration > last_t - first_key ? p->duration : last_t - first_key;
}

static int rewind_or_reopen(const char *path, struct media_input *in, struct aitag_probe *p)
{
    struct aitag_probe again;

    if (in->indexed && av_seek_frame(in->fmt, in->vidx, in->start_pts, AVSEEK_FLAG_BACKWARD) >= 0)
        return 0;
    avformat_close_input(&in->fmt);
    memset(&again, 0, sizeof again);
    if (open_format(path, in, &again) < 0 || describe(in, &again) < 0) {
        aitag_fmt(p->error, sizeof p->error, "cannot reopen after probing (%s)", again.error);
        return AITAG_ERR_MEDIA;
    }
    return 0;
}

int media_input_open(const char *path, int64_t max_pixels, struct media_input *in,
                     struct aitag_probe *p, int rewind)
{
    struct media_limits lim = {.max_pixels = max_pixels};

    return media_input_open_limited(path, &lim, in, p, rewind);
}

int media_input_open_limited(const char *path, const struct media_limits *lim,
                             struct media_input *in, struct aitag_probe *p, int rewind)
{
    char why[192];
    int rc;

    media_log_init();
    memset(in, 0, sizeof *in);
    memset(p, 0, sizeof *p);
    in->vidx = -1;
    if (lim)
        in->lim = *lim;
    media_limits_resolve(&in->lim);
    media_budget_start(&in->budget, &in->lim);
    in->max_pixels = in->lim.max_pixels;
    if (!path || !path[0])
        return fail(p, AITAG_ERR_INVALID, "empty path");
    rc = check_path(path, p);
    if (rc < 0)
        return rc;
    rc = open_format(path, in, p);
    if (rc < 0)
        return rc;
    rc = describe(in, p);
    if (rc < 0)
        goto out;
    if (p->kind == AITAG_MEDIA_IMAGE && p->rotation == 0 &&
        in->st->codecpar->codec_id == AV_CODEC_ID_MJPEG) {
        p->rotation = media_jpeg_file_rotation(path);
        media_display_size(in->st->codecpar->width, in->st->codecpar->height,
                           av_guess_sample_aspect_ratio(in->fmt, in->st, NULL), p->rotation,
                           &p->width, &p->height);
    }
    if (p->kind == AITAG_MEDIA_VIDEO || is_animation_demuxer(in->fmt->iformat->name)) {
        scan_packets(in, p);
        if (media_budget_check(&in->budget) != MEDIA_LIMIT_NONE) {
            rc = failf(p, AITAG_ERR_MEDIA, "%s",
                       media_limit_message(&in->lim, &in->budget, in->budget.hit, why, sizeof why));
            goto out;
        }
        if ((rc = check_duration(in, p)) < 0) /* an animation's, known now */
            goto out;
        if (rewind)
            rc = rewind_or_reopen(path, in, p);
    }
out:
    if (rc < 0) {
        media_input_close(in);
        p->kind = AITAG_MEDIA_UNKNOWN;
    }
    return rc;
}

void media_input_close(struct media_input *in)
{
    if (in->fmt)
        avformat_close_input(&in->fmt);
    in->st = NULL;
    in->vidx = -1;
}
