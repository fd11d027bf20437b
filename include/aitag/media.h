/*
 * aitag/media.h - probing and frame sampling on the FFmpeg libraries.
 *
 * Usage:
 *     struct aitag_probe p;
 *     if (aitag_media_probe(path, &p) < 0) fprintf(stderr, "%s: %s\n", path, p.error);
 *
 *     struct aitag_view_spec views[] = {{256, 256, AITAG_FIT_LETTERBOX, 0},
 *                                       {960, 960, AITAG_FIT_MAX_SIDE, 32}};
 *     struct aitag_sampler_params sp = aitag_sampler_default_params();
 *     sp.views = views; sp.n_views = 2;
 *     struct aitag_sampler *s;
 *     char err[256];
 *     if (aitag_sampler_open(path, &sp, &s, err, sizeof err) == 0) {
 *         struct aitag_frame *f;
 *         while (aitag_sampler_next(s, &f) > 0) { ...; aitag_frame_free(f); }
 *         aitag_sampler_close(s);
 *     }
 *
 * A sampler yields frames at a fixed interval (images yield one frame at t = 0). Each frame is
 * decoded once, rotated upright per the stream's display matrix (a JPEG's EXIF orientation),
 * stretched to its display aspect when pixels are not square, and scaled once per distinct
 * view spec into packed RGB24. Sampling picks its strategy from the file's GOP length and the
 * interval: seek-to-keyframe-then-decode when keyframes are dense relative to the interval (at
 * least one per interval; three for containers without a keyframe index), sequential decode
 * (skipping non-reference frames that precede the next sample, and converting only sampled frames)
 * when they are sparse. Both give the same frames: the first frame whose timestamp is >= each
 * sample time (exact sampling, the default; AITAG_SAMPLING_KEYFRAMES trades that for speed, see
 * enum aitag_sample_pick).
 *
 * The audio track is read for its silences (aitag_audio_silences) and, as mono samples at a
 * chosen rate, for speech (aitag_audio_pcm), both near the end.
 *
 * Thread-safety: a sampler belongs to one thread at a time; frames are independent objects that
 * may be handed to another thread.
 */
#ifndef AITAG_MEDIA_H
#define AITAG_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/common.h"

#define AITAG_MAX_VIEWS 8

enum aitag_media_kind { AITAG_MEDIA_UNKNOWN = 0, AITAG_MEDIA_IMAGE = 1, AITAG_MEDIA_VIDEO = 2 };

struct aitag_probe {
    enum aitag_media_kind kind;
    char container[32];   /* FFmpeg demuxer short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" cut */
    char video_codec[32]; /* e.g. "h264"; "" when absent */
    char audio_codec[32]; /* "" when there is no audio stream */
    double duration;      /* seconds; 0 for images */
    int width, height;    /* displayed size: after sample aspect ratio and rotation */
    int rotation;         /* degrees clockwise applied for display: 0, 90, 180, 270 (display
                             matrix; EXIF orientation for JPEG photos) */
    double fps;           /* average frame rate; 0 if unknown or an image */
    int64_t bit_rate;
    int n_streams;
    double gop_seconds;   /* estimated keyframe spacing in seconds; 0 if unknown */
    char error[256];      /* set when the probe fails: names the reason */
};

/* The default limit on a picture's decoded size, in pixels (width x height): a larger picture
 * is refused from its header, before any decoder allocates it (a 16000x16000 PNG of 730 KB
 * decodes to 768 MB). 64 megapixels take 8K video and photos of cameras up to 61 megapixels. */
#define AITAG_MEDIA_MAX_PIXELS_DEFAULT 64000000LL

/* Further defaults against hostile files (docs/limits.md), generous enough for real media:
 * a video declaring more than a day, or whose frames run past a day (timestamps jumping ahead,
 * a file still being written), is refused; decoding stops after ten million frames (46 hours
 * at 60 fps); a container with more than 256 streams is refused from its header. Messages
 * over a limit name the aitag option that raises it. */
#define AITAG_MEDIA_MAX_DURATION_DEFAULT 86400.0
#define AITAG_MEDIA_MAX_FRAMES_DEFAULT 10000000LL
#define AITAG_MEDIA_MAX_STREAMS_DEFAULT 256

/* Probes a file. Returns 0, or < 0 with out->error set (AITAG_ERR_IO for missing/unreadable
 * files, AITAG_ERR_MEDIA for non-media, corrupt, audio-only or absurdly sized files, pictures
 * over AITAG_MEDIA_MAX_PIXELS_DEFAULT included). */
int aitag_media_probe(const char *path, struct aitag_probe *out);
/* The same with another pixel limit (<= 0: the default). No decoder ever holds a picture over
 * max_pixels: the probe reads it from the header and refuses it, naming its size. */
int aitag_media_probe_max(const char *path, int64_t max_pixels, struct aitag_probe *out);

struct aitag_sampler_params;
/* The same with the limits of a sampler's parameters (max_pixels, max_duration, max_streams,
 * time_limit, cpu_limit): what aitag_sampler_open() would refuse from the headers, the probe
 * refuses. p NULL: the defaults. */
int aitag_media_probe_params(const char *path, const struct aitag_sampler_params *p,
                             struct aitag_probe *out);

/* True when the path's extension is one aitag scans in folders (jpg, png, mp4, ...). */
int aitag_media_has_known_extension(const char *path);

enum aitag_fit {
    AITAG_FIT_LETTERBOX = 0, /* scale to fit width x height, pad the rest with black, centred */
    AITAG_FIT_MAX_SIDE = 1,  /* scale so the long side is <= width (never up), then round each
                                side to a multiple of `multiple`; no padding */
};

struct aitag_view_spec {
    int width, height; /* LETTERBOX: output size; MAX_SIDE: width = max long side */
    enum aitag_fit fit;
    int multiple; /* MAX_SIDE only: round sizes to this (e.g. 32); 0 or 1 = no rounding */
};

/* One scaled picture of a frame. Map a view pixel (vx, vy) back to source pixels:
 * sx = (vx - pad_x) / scale_x, sy = (vy - pad_y) / scale_y. */
struct aitag_view {
    struct aitag_view_spec spec;
    int width, height;          /* buffer size in pixels */
    int content_w, content_h;   /* the scaled picture inside the buffer */
    int pad_x, pad_y;           /* top-left of the picture inside the buffer */
    float scale_x, scale_y;     /* content / source */
    int stride;                 /* bytes per row */
    uint8_t *rgb;               /* packed RGB24, owned by the frame */
};

struct aitag_frame {
    double t;          /* presentation time in seconds from the start */
    size_t index;      /* 0 for the first frame a sampler yields, then 1, 2, ...: tells an
                          analyzer that keeps per-item state where a new item starts */
    int src_w, src_h;  /* upright source size */
    size_t n_views;
    struct aitag_view views[AITAG_MAX_VIEWS];
};

/* Finds the view matching spec, or NULL (LETTERBOX ignores multiple; multiple 0 and 1 are the
 * same). Borrowed from f. */
const struct aitag_view *aitag_frame_view(const struct aitag_frame *f,
                                          const struct aitag_view_spec *spec);
/* Frees a frame and its buffers. NULL is a no-op. */
void aitag_frame_free(struct aitag_frame *f);

/* Encodes width x height pixels of packed RGB24, rows stride bytes apart (a rectangle of a
 * larger picture: point rgb at its top-left pixel), as a JPEG (mjpeg, full-range 4:2:0).
 * Returns 0 with *jpeg (caller frees with free()) and *len, or AITAG_ERR_INVALID (no pixels),
 * AITAG_ERR_MEDIA or AITAG_ERR_NOMEM with err set. Thread-safe. */
int aitag_media_encode_jpeg(const uint8_t *rgb, int width, int height, int stride,
                            unsigned char **jpeg, size_t *len, char *err, size_t errlen);
/* The rectangle (x, y, w, h), normalised 0..1 to the upright frame like every box, of the
 * frame that stands for time t in path (the first frame at or after t; images: the picture),
 * as a JPEG at full resolution. Returns 0 with *jpeg (free()) and *len, or < 0 with err
 * naming the file: what the sampler says, AITAG_ERR_MEDIA when no frame lies at t,
 * AITAG_ERR_INVALID for an empty box or one outside the frame. Thread-safe. */
int aitag_media_crop_jpeg(const char *path, double t, float x, float y, float w, float h,
                          unsigned char **jpeg, size_t *len, char *err, size_t errlen);

/* A still of path for a thumbnail: the frame at t (the first at or after it; past the end,
 * the first frame; images: the picture), upright, scaled so its long side is max_side pixels
 * (never enlarged), as a JPEG. 0 with *jpeg (free()) and *len, or < 0 with err naming the
 * file. Thread-safe. */
int aitag_media_thumbnail_jpeg(const char *path, double t, int max_side, unsigned char **jpeg,
                               size_t *len, char *err, size_t errlen);

enum aitag_sampler_mode {
    AITAG_SAMPLER_AUTO = 0,       /* pick from the keyframe spacing and the interval */
    AITAG_SAMPLER_SEQUENTIAL = 1, /* decode everything from the start */
    AITAG_SAMPLER_SEEK = 2,       /* seek to the keyframe before a sample when it is far ahead */
};

/* Which frame stands for a sample time T. */
enum aitag_sample_pick {
    AITAG_SAMPLING_EXACT = 0,     /* the first frame at or after T */
    AITAG_SAMPLING_KEYFRAMES = 1, /* the keyframe nearest T when one lies within the keyframe
                                     window (and after the frame yielded before), decoded
                                     alone; else exact. Needs a keyframe index (mp4, mov):
                                     without one it is exact */
    AITAG_SAMPLING_ADAPTIVE = 2,  /* the caller picks the times: aitag_sampler_next_at() (a
                                     coarse-to-fine planner, see aitag/pipeline.h); the
                                     packets are scanned once at open for keyframes and shot
                                     cues. aitag_sampler_next() then samples exactly */
};

struct aitag_sampler_params {
    double interval;     /* seconds between samples, > 0; default 2.0 */
    double start;        /* first sample time, >= 0; default 0 */
    int threads;         /* FFmpeg decoding threads (0 = FFmpeg's choice); default 1 */
    int max_side;        /* refuse sources whose width or height exceed this; default 16384 */
    const struct aitag_view_spec *views; /* borrowed; deduplicated by the sampler */
    size_t n_views;      /* at most AITAG_MAX_VIEWS distinct specs; 0 = frames without views */
    int strategy;        /* enum aitag_sampler_mode; default AITAG_SAMPLER_AUTO */
    int sampling;        /* enum aitag_sample_pick; default AITAG_SAMPLING_EXACT */
    double keyframe_window; /* KEYFRAMES: a keyframe within this many seconds of a sample time
                               stands for it; 0 = interval / 2 */
    int skip_deblock;       /* frames decoded only as references skip the deblocking filter
                               (faster, slightly different pixels); default 0 */
    int64_t max_pixels;     /* refuse pictures of more pixels (width x height), from the header
                               before decoding; <= 0 = AITAG_MEDIA_MAX_PIXELS_DEFAULT */
    int shots;              /* find shot boundaries from the packets read and the frames
                               decoded (aitag_sampler_shots); default 0 */
    /* Limits against hostile files (<= 0: the defaults above; time and CPU: none). Over one,
     * open or next fails with AITAG_ERR_MEDIA and a message naming it. */
    double max_duration;    /* seconds: a longer video, or a frame later than this, fails */
    int64_t max_frames;     /* frames decoded, sampled or not */
    int max_streams;        /* streams in the container */
    double time_limit;      /* wall-clock seconds from the open to the last frame */
    double cpu_limit;       /* the process's CPU seconds over the same span */
};

struct aitag_sampler_params aitag_sampler_default_params(void);

struct aitag_sampler;

/* Opens path for sampling. On failure returns < 0 and, if errbuf != NULL, a message naming the
 * reason. The caller closes *out with aitag_sampler_close(). */
int aitag_sampler_open(const char *path, const struct aitag_sampler_params *p,
                       struct aitag_sampler **out, char *errbuf, size_t errlen);

/* Yields the next sampled frame: returns 1 with *out set (caller frees), 0 at the end, < 0 on a
 * decoding error (message in aitag_sampler_errmsg). A truncated file ends early with 0 after
 * the frames that could be decoded, and aitag_sampler_truncated() returns 1. Damaged packets
 * are skipped; a file with no decodable frame at all returns AITAG_ERR_MEDIA. Sample times
 * are start, start + interval, ... < duration; f->t is the time of the frame actually chosen
 * (the first one at or after the sample time), so it can lie a little after the sample time.
 * A frame covering several sample times (interval shorter than the frame) is yielded once. */
int aitag_sampler_next(struct aitag_sampler *s, struct aitag_frame **out);

/* ADAPTIVE: yields the first frame at or after t (any t in [0, duration), in any order:
 * forward by decoding on, or far ahead or behind by seeking to the keyframe before it), and
 * only the keyframe's own picture when t is a keyframe time of aitag_sampler_keyframes() and
 * key is set (packets before it are skipped whole, and those after it too unless `then`, the
 * time asked next or < 0, lies a little ahead). Non-reference frames before t are not decoded
 * and reference-only frames are not deblocked (skip_deblock). Returns 1 with *out set (caller
 * frees), 0 when no frame lies at or after t, < 0 on a decoding error. */
int aitag_sampler_next_at(struct aitag_sampler *s, double t, int key, double then,
                          struct aitag_frame **out);
/* ADAPTIVE: the keyframe times found by the scan at open, ascending (borrowed, valid until
 * close; *n = 0 for other modes or images). */
const double *aitag_sampler_keyframes(const struct aitag_sampler *s, size_t *n);
/* Frames the decoder produced so far, sampled or not (references, frames skipped over). */
long aitag_sampler_frames_decoded(const struct aitag_sampler *s);
/* With params.shots: the shots found from everything read and decoded so far, tiling
 * [0, duration) (see aitag_shot_detector_finish). *out is freed by the caller; none (NULL, 0)
 * without params.shots or for images. Returns 0 or AITAG_ERR_NOMEM. */
int aitag_sampler_shots(struct aitag_sampler *s, struct aitag_shot **out, size_t *n);

const struct aitag_probe *aitag_sampler_probe(const struct aitag_sampler *s);
/* "sequential" or "seek": the strategy chosen for this file. */
const char *aitag_sampler_strategy(const struct aitag_sampler *s);
int aitag_sampler_truncated(const struct aitag_sampler *s);
const char *aitag_sampler_errmsg(const struct aitag_sampler *s);
void aitag_sampler_close(struct aitag_sampler *s);

/* What reading one audio track may cost: the item's limits that apply to its sound (<= 0: the
 * defaults of aitag_sampler_params; time and CPU: none). Time and CPU run from the open and
 * count the caller's work on the samples too (speech recognition in aitag_audio_pcm's
 * callback). Over one, the read fails with AITAG_ERR_MEDIA and a message naming the option
 * that raises it; a track running past max_duration ends there instead (a file still being
 * written). */
struct aitag_audio_limits {
    double max_duration; /* seconds */
    int max_streams;
    double time_limit;            /* wall-clock seconds */
    double cpu_limit;             /* the process's CPU seconds */
    double time_spent, cpu_spent; /* of those, spent before this read (the item's frames) */
};

/* Silence in the audio track (aitag_audio_silences). */
struct aitag_silence_params {
    double threshold_db; /* a window is quiet when its RMS level (dBFS, all channels) is below
                            this; default -50 */
    double min_seconds;  /* shortest silence reported; default 2 */
    double window;       /* seconds per RMS window; default 0.05 */
    struct aitag_audio_limits limits; /* default: all 0 */
};

struct aitag_silence_params aitag_silence_default_params(void);

/* A stretch of the audio track that stays under the threshold. */
struct aitag_audio_span {
    double start, end; /* seconds from the first audio sample */
    float level_db;    /* RMS level over the span, dBFS (-INFINITY for digital silence) */
};

/* Decodes path's audio track (the best audio stream; the other streams are skipped unparsed)
 * and finds its silences: runs of quiet windows lasting >= p->min_seconds, in time order.
 * Returns 0 with *out (free() it; NULL when none) and *n; a file without an audio stream gives
 * 0 with *has_audio = 0 and no spans. < 0 with err naming the file: what the probe says for a
 * file that does not open (AITAG_ERR_IO, AITAG_ERR_MEDIA), AITAG_ERR_MEDIA for an audio codec
 * that cannot be opened or a limit of p->limits met, AITAG_ERR_INVALID for bad parameters.
 * Thread-safe (no shared state). */
int aitag_audio_silences(const char *path, const struct aitag_silence_params *p,
                         struct aitag_audio_span **out, size_t *n, int *has_audio, char *err,
                         size_t errlen);

/* Receives n mono samples of the audio track (aitag_audio_pcm); returns 0 to go on, < 0 to
 * stop the read with that code (the callback sets its own message). */
typedef int (*aitag_pcm_fn)(const int16_t *samples, size_t n, void *ctx);

/* Decodes path's audio track (the best audio stream) as mono 16-bit samples at `rate` Hz and
 * hands them to fn in chunks, in order, from the first audio sample, within lim (NULL: the
 * defaults). Returns 0 (with *has_audio = 0 and no call for a file without an audio stream),
 * what fn returned when it stopped the read, or < 0 with err naming the file: as
 * aitag_audio_silences (a limit met included), and AITAG_ERR_INVALID for a rate outside
 * 1000..192000. Thread-safe (no shared state). */
int aitag_audio_pcm(const char *path, int rate, const struct aitag_audio_limits *lim,
                    aitag_pcm_fn fn, void *ctx, int *has_audio, char *err, size_t errlen);

/*
 * Shot boundaries (shots.c): fed every video packet demuxed and small grey views of the frames
 * decoded, in any order; cuts come from keyframes off the encoder's periodic spacing and from
 * frame differences far above their neighbours', fades from runs of black or white frames,
 * dissolves from windows that change linearly. Frame cues need frames a few frame durations
 * apart at most (a stretch decoded whole); elsewhere only keyframe cues exist. A detector
 * belongs to one thread at a time.
 */
struct aitag_shot_detector;

/* fps: the nominal frame rate (<= 0: 25). Returns 0 or AITAG_ERR_NOMEM; free with
 * aitag_shot_detector_free (NULL is a no-op). */
int aitag_shot_detector_new(double fps, struct aitag_shot_detector **out);
void aitag_shot_detector_free(struct aitag_shot_detector *d);
/* One video packet: its presentation time in seconds, size in bytes, keyframe flag. Packets
 * without a time are ignored. 0 or AITAG_ERR_NOMEM. */
int aitag_shot_detector_packet(struct aitag_shot_detector *d, double t, int size, int key);
/* One decoded frame's luma (8-bit, w x h >= 32 x 18, rows stride bytes apart), read now and
 * not kept. 0 or AITAG_ERR_NOMEM. */
int aitag_shot_detector_frame(struct aitag_shot_detector *d, double t, const uint8_t *luma, int w,
                              int h, ptrdiff_t stride);
/* The shots of [0, duration) (duration <= 0: up to the last frame or packet seen) in *out
 * (caller frees; may be called again after more input). Boundaries closer than 0.4 s merge.
 * Returns 0, AITAG_ERR_NOMEM (also when an earlier call ran out of memory). */
int aitag_shot_detector_finish(struct aitag_shot_detector *d, double duration,
                               struct aitag_shot **out, size_t *n);

#endif
