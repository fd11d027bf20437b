/*
 * media_int.h - internals shared by the files of the media library (probe, sampler, views).
 *
 * Layering, bottom up: ffmpeg_log.c routes FFmpeg's log into aitag_log and converts FFmpeg
 * errors; input.c opens a file safely (exif_orientation.c reads photos' orientation) and fills a
 * struct aitag_probe; view_geometry.c computes where a picture lands in a view buffer;
 * frame_convert.c scales and rotates decoded frames into those buffers; sampler.c drives demuxing
 * and decoding.
 */
#ifndef AITAG_MEDIA_INT_H
#define AITAG_MEDIA_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "aitag/common.h"
#include "aitag/media.h"

#define MEDIA_MAX_DIM 16384 /* sources and views beyond this many pixels a side are refused */

/* ---- ffmpeg_log.c ---- */

/* Routes av_log into aitag_log (subsystem "ffmpeg"), once per process. Every public entry point
 * of the library calls it; cheap after the first call. */
void media_log_init(void);

/* While a capture is active on this thread, the first FFmpeg error-level message logged on
 * this thread is kept in cap->msg (the decoder's own threads are not captured). Captures nest: end
 * restores the previous one. */
struct media_errcap {
    char msg[192];
    struct media_errcap *prev;
};
void media_errcap_begin(struct media_errcap *cap);
void media_errcap_end(struct media_errcap *cap);

/* Describes an AVERROR code into buf, preferring a captured FFmpeg message when there is one:
 * "moov atom not found" says more than "Invalid data found when processing input". */
const char *media_averr(int averr, const struct media_errcap *cap, char *buf, size_t size);

/* ---- limits.c ---- */

/* What one opened file may cost (see limits.c); media_limits_resolve() puts the defaults in
 * place of values <= 0 (time and CPU: none). */
struct media_limits {
    int64_t max_pixels;
    double max_duration; /* seconds of media */
    int64_t max_frames;  /* frames decoded */
    int max_streams;
    double time_limit, cpu_limit; /* seconds from the open; 0 = none */
};

enum media_limit_kind {
    MEDIA_LIMIT_NONE = 0,
    MEDIA_LIMIT_TIME,
    MEDIA_LIMIT_CPU,
    MEDIA_LIMIT_FRAMES,
    MEDIA_LIMIT_DURATION,
    MEDIA_LIMIT_STREAMS,
};

/* The running budget of an open file: started at the open, polled by FFmpeg's interrupt
 * callback (media_budget_interrupt, opaque = the budget) and by the sampler. */
struct media_budget {
    double time_limit, cpu_limit;
    double t0, cpu0; /* monotonic and process CPU clocks at the start */
    int hit;         /* enum media_limit_kind: the first limit met, sticky */
};

void media_limits_resolve(struct media_limits *lim);
void media_budget_start(struct media_budget *b, const struct media_limits *lim);
/* The budget exhausted (MEDIA_LIMIT_TIME or MEDIA_LIMIT_CPU; sticky), or MEDIA_LIMIT_NONE. */
int media_budget_check(struct media_budget *b);
int media_budget_interrupt(void *opaque);
/* The message for limit `which`: its value and the option that raises it. Returns buf. */
const char *media_limit_message(const struct media_limits *lim, const struct media_budget *b,
                                int which, char *buf, size_t size);

/* ---- input.c ---- */

/* An opened file with its chosen video stream. */
struct media_input {
    AVFormatContext *fmt;
    AVStream *st; /* the video stream, borrowed from fmt */
    int vidx;
    int64_t start_pts;  /* stream start time in st->time_base; 0 when unknown */
    int indexed;        /* the demuxer had a keyframe index at open: seeks land exactly */
    char note[192];     /* first FFmpeg error while reading stream info, "" if none */
    int64_t max_pixels; /* pictures over this are refused (media_max_pixels applied) */
    struct media_limits lim;    /* resolved */
    struct media_budget budget; /* the file's, from the open; fmt's interrupt callback */
};

/* Checks the path, opens it (file protocol only), finds the video stream and fills the probe,
 * GOP estimate included. That reads packets: with rewind set the input is then rewound to the
 * start (or reopened) so decoding can begin. A picture over max_pixels (<= 0: the default) is
 * refused before any decoder allocates it. Returns 0, or < 0 with p->error set and *in
 * closed. */
int media_input_open(const char *path, int64_t max_pixels, struct media_input *in,
                     struct aitag_probe *p, int rewind);
/* The same with every limit of lim (NULL: the defaults; the budget starts now). A file over
 * the duration or stream limit, or whose reading runs out of budget, is refused naming the
 * limit. */
int media_input_open_limited(const char *path, const struct media_limits *lim,
                             struct media_input *in, struct aitag_probe *p, int rewind);
/* max_pixels with the default applied. */
int64_t media_max_pixels(int64_t max_pixels);
/* The limit given to FFmpeg's decoders for a limit of max_pixels (room for row alignment). */
int64_t media_decoder_max_pixels(int64_t max_pixels);
void media_input_close(struct media_input *in);

/* Stream ticks <-> seconds relative to the stream start. */
double media_pts_to_seconds(const struct media_input *in, int64_t pts);
int64_t media_seconds_to_pts(const struct media_input *in, double t);

/* ---- audio_decode.c ---- */

/* The best audio stream of a file, opened for decoding; the other streams are discarded so
 * their packets are skipped unparsed. */
struct media_audio {
    struct media_input in;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *fr;
    int aidx, eof;
};

/* Opens path's best audio stream within lim (NULL: the defaults; the budget starts now).
 * Returns 1 when there is one (a->dec ready), 0 when the file has none we decode (a must still
 * be closed), < 0 with err naming the file: what the probe says (AITAG_ERR_IO,
 * AITAG_ERR_MEDIA), AITAG_ERR_MEDIA for a codec that does not open, AITAG_ERR_NOMEM. */
int media_audio_open(const char *path, const struct aitag_audio_limits *lim, struct media_audio *a,
                     char *err, size_t errlen);
/* The next decoded frame in a->fr (unref'd by the next call): 1, or 0 at the end, at a read
 * error (what was decoded stands) or when the time or CPU budget ran out (media_audio_end
 * says which); damaged packets are skipped. */
int media_audio_next(struct media_audio *a);
/* After the last media_audio_next: AITAG_ERR_MEDIA with err naming path and the limit when the
 * budget ran out, else 0. */
int media_audio_end(struct media_audio *a, const char *path, char *err, size_t errlen);
void media_audio_close(struct media_audio *a);

/* ---- exif_orientation.c ---- */

/* Clockwise rotation (0/90/180/270) asked for by the EXIF Orientation of a JPEG held in
 * b[0..n), or 0 when there is none or the bytes are not understood. Pure: safe on any input. */
int media_jpeg_rotation(const uint8_t *b, size_t n);
/* The same for the start of a file. */
int media_jpeg_file_rotation(const char *path);

/* ---- view_geometry.c ---- */

/* Where one view's picture lands, for an upright source of src_w x src_h. */
struct view_plan {
    struct aitag_view_spec spec;
    int width, height;
    int content_w, content_h;
    int pad_x, pad_y;
    float scale_x, scale_y;
};

/* The upright display size of a w x h picture: stretched by its sample aspect ratio (so
 * anamorphic video is not squeezed; a SAR that is unknown or absurd is ignored), then swapped
 * for a quarter turn. */
void media_display_size(int w, int h, AVRational sar, int rotation, int *out_w, int *out_h);

/* Returns 0 when spec can be served, else AITAG_ERR_INVALID with a reason in err. */
int media_view_spec_check(const struct aitag_view_spec *spec, char *err, size_t errlen);
/* True when a and b ask for the same pixels (LETTERBOX ignores multiple; 0 and 1 are equal). */
int media_view_spec_equal(const struct aitag_view_spec *a, const struct aitag_view_spec *b);
void media_view_plan_compute(struct view_plan *v, const struct aitag_view_spec *spec, int src_w,
                             int src_h);

/* Allocates a frame and all its view buffers as one block (aitag_frame_free releases it) with
 * geometry filled from plans and letterbox padding already black. NULL when out of memory. */
struct aitag_frame *media_frame_alloc(const struct view_plan *plans, size_t n, int src_w, int src_h,
                                      double t);

/* ---- frame_convert.c ---- */

/* One cached scaler per view; reused while the decoded frame's size and format stay put. */
struct view_scaler {
    struct SwsContext *sws;
    int in_w, in_h, in_fmt, in_cs, in_range; /* what sws was made for */
    int out_w, out_h;
    uint8_t *scratch; /* rotated views are scaled here first (av_malloc'd) */
    size_t scratch_size;
};

struct frame_converter {
    size_t n;
    struct aitag_view_spec specs[AITAG_MAX_VIEWS]; /* deduplicated */
    struct view_scaler sc[AITAG_MAX_VIEWS];
};

/* Copies specs, dropping duplicates. Returns 0 or AITAG_ERR_INVALID (message in err). */
int media_frame_converter_init(struct frame_converter *c, const struct aitag_view_spec *specs,
                               size_t n, char *err, size_t errlen);
/* Scales src into every view at its display size (see media_display_size; sar is the sample
 * aspect ratio to honour), rotated clockwise by rotation degrees (0/90/180/270). Returns 0 with
 * *out set (caller frees), or < 0 with a message in err. */
int media_frame_converter_run(struct frame_converter *c, const AVFrame *src, AVRational sar,
                              int rotation, double t, struct aitag_frame **out, char *err,
                              size_t errlen);
void media_frame_converter_free(struct frame_converter *c);

/* ---- shots.c ---- */

/* Feeds a decoded frame's luma plane to d (8-bit planar YUV or grey; other formats are
 * ignored). 0 or AITAG_ERR_NOMEM. */
int media_shot_detector_avframe(struct aitag_shot_detector *d, double t, const AVFrame *f);

/* crop.c: the first frame at or after start of path (seeking to the keyframe before it),
 * scaled to spec: *s and *f (closed and freed by the caller, also on failure) and the view
 * *v in *f. what names the frame in errors ("no frame at the face's time"). 0 or < 0 with err
 * naming the file. */
int media_frame_at(const char *path, double start, const struct aitag_view_spec *spec,
                   const char *what, struct aitag_sampler **s, struct aitag_frame **f,
                   const struct aitag_view **v, char *err, size_t errlen);

#endif
