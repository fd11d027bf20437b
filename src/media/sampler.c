/*
 * sampler.c - frames at fixed times out of a video (or the one frame of an image).
 *
 * The frame for sample time T is the first decoded frame whose timestamp is >= T; both
 * strategies find exactly that frame, they differ only in how much they decode on the way:
 *   sequential  demux and decode everything, in order. Packets whose timestamp precedes the next
 *               sample time are decoded with skip_frame = NONREF on H.264/HEVC: a frame nothing
 *               refers to and that is not wanted need not be decoded at all. Exact, because a
 *               packet before the next sample time is before every later one too.
 *   seek        when the next sample lies more than one keyframe spacing beyond what has been
 *               read, seek to the keyframe before it and decode forward (with the same skipping);
 *               otherwise keep decoding forward, so a dense interval never seeks itself slower
 *               than sequential decoding (FFmpeg seeking every 1 s on a 10 s GOP is 3x slower).
 * Seeks aim a little before T (the codec's reorder delay plus two frames): demuxers index by
 * decode time, and a keyframe decoded just before T may be displayed after it. Demuxers without
 * a keyframe index (MPEG-TS) land anywhere and the decoder then waits for the next keyframe, so
 * they aim one keyframe spacing earlier. Every seek is verified: when the first frame out of it
 * lies more than half a frame past T, frames were skipped, and the seek is redone from twice as
 * far back (up to a bound), so seeking yields the same frames as decoding everything.
 * Auto picks seek when the interval is at least one keyframe spacing (three without an index,
 * where each seek decodes more); see choose_strategy().
 *
 * Approximate sampling (AITAG_SAMPLING_KEYFRAMES, opt-in) lets the keyframe nearest a sample
 * time stand for it when one lies within the keyframe window (default half the interval) and
 * after the frame yielded before: packets up to that keyframe are skipped whole (skip_frame =
 * NONKEY; with seek, a seek lands just before it), so the frame costs one intra decode instead
 * of decoding up to T from the keyframe before. Keyframe times come from the demuxer's index
 * (decode times, a frame or two early with B-frames, which only shifts which keyframe is
 * nearest); without an index the sampling is exact. Samples with no keyframe near are exact.
 * skip_deblock turns the deblocking loop filter off for packets more than DEBLOCK_GUARD_S
 * before the sample time: they are only references, and the few frames before the sample and
 * the sample itself are filtered, which keeps the sampled picture close (BENCHMARKS.md).
 *
 * Adaptive sampling (AITAG_SAMPLING_ADAPTIVE) leaves the times to the caller (a planner in the
 * pipeline): the packets are read once at open for the keyframe times (presentation times,
 * which the planner prefers as cheap frames) and the shot detector, and aitag_sampler_next_at()
 * reaches each time asked by decoding on, or by seeking when it lies behind or more than a
 * keyframe spacing ahead; a keyframe asked as such is reached like a KEYFRAMES pick (its packet
 * alone), and the packets after it are not decoded either unless the next time asked needs
 * them. With params.shots every packet read and every frame decoded feeds the shot detector
 * (shots.c), which costs a 32x18 thumbnail per frame.
 *
 * Limits (limits.c) stop a file that would never end: the time and CPU budget between packets
 * and in every read, the frames decoded, and frame or packet times past the duration limit (a
 * file still being written, timestamps jumping years ahead). Sample times are computed from the
 * frame yielded, never stepped, so a timestamp far ahead or going backwards cannot make the
 * sampler loop over sample times.
 *
 * Only the chosen frames are converted (frame_convert.c). Damaged packets are counted and
 * skipped; the end of the data ends sampling, and when it comes well before the duration the
 * container announced, the file is reported truncated.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

/* Auto: seek when interval >= this many keyframe spacings (with / without a keyframe index). */
#define SEEK_MIN_GOPS_INDEXED 1.0
#define SEEK_MIN_GOPS_UNINDEXED 3.0
#define MAX_READ_ERRORS 16
#define DEBLOCK_GUARD_S 0.2 /* skip_deblock: frames this close before a sample are filtered */

struct aitag_sampler {
    struct media_input in;
    struct aitag_probe probe;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    struct frame_converter conv;
    double interval, start;
    int seek_mode;
    int skip_nonref;       /* the codec drops non-reference frames safely */
    double seek_threshold; /* seconds ahead of the read position that justify a seek */
    double seek_lead;      /* seek this much before the sample time */
    double seek_lead_max;  /* how far back a verified seek may retry */
    double lead_used;      /* lead of the last seek */
    int check_seek;        /* the next decoded frame verifies the last seek */
    double frame_dur;      /* nominal frame duration */
    double eps;            /* timestamp rounding tolerance */
    int64_t k;             /* index of the next sample time */
    int64_t decoded, emitted;
    double last_t; /* time of the last decoded frame, < 0 before the first */
    double read_t; /* time of the last video packet read */
    int demux_eof, flush_sent, done, truncated, read_errors;
    int end_rc; /* what next() keeps returning once done */
    int64_t decode_errors;
    int sampling;      /* enum aitag_sample_pick */
    double key_window; /* KEYFRAMES: how far from a sample time its keyframe may lie */
    double *keys;      /* KEYFRAMES: keyframe times from the index, ascending */
    size_t n_keys;
    int key_wait;        /* skipping non-key packets until the chosen keyframe's packet */
    int key_lost;        /* that packet never came: redo the sample exactly */
    double exact_target; /* the sample time itself */
    double key_t;        /* the chosen keyframe's index time */
    double cur_target;   /* the time the next emitted frame must reach */
    double last_emit_t;  /* time of the last frame yielded, -INFINITY before the first */
    int skip_deblock;
    struct aitag_shot_detector *shots; /* params.shots: fed every packet read, every frame */
    int scanned;                       /* ADAPTIVE: the packets were scanned at open */
    int key_only;                      /* ADAPTIVE: nothing after the asked keyframe is needed */
    char last_error[160];
    char err[256];
};

struct aitag_sampler_params aitag_sampler_default_params(void)
{
    struct aitag_sampler_params p;

    memset(&p, 0, sizeof p);
    p.interval = 2.0;
    p.start = 0.0;
    p.threads = 1;
    p.max_side = MEDIA_MAX_DIM;
    p.max_pixels = AITAG_MEDIA_MAX_PIXELS_DEFAULT;
    p.strategy = AITAG_SAMPLER_AUTO;
    p.sampling = AITAG_SAMPLING_EXACT;
    return p;
}

static int choose_strategy(const struct media_input *in, const struct aitag_probe *pr,
                           const struct aitag_sampler_params *p)
{
    double gops = in->indexed ? SEEK_MIN_GOPS_INDEXED : SEEK_MIN_GOPS_UNINDEXED;

    if (p->strategy == AITAG_SAMPLER_SEEK)
        return 1;
    if (p->strategy == AITAG_SAMPLER_SEQUENTIAL || pr->kind != AITAG_MEDIA_VIDEO)
        return 0;
    return pr->gop_seconds > 0 && p->interval >= gops * pr->gop_seconds;
}

static int check_params(const struct aitag_sampler_params *p, char *err, size_t errlen)
{
    if (!(p->interval > 0) || !isfinite(p->interval)) {
        aitag_fmt(err, errlen, "interval must be > 0 (got %g)", p->interval);
        return AITAG_ERR_INVALID;
    }
    if (!(p->start >= 0) || !isfinite(p->start)) {
        aitag_fmt(err, errlen, "start must be >= 0 (got %g)", p->start);
        return AITAG_ERR_INVALID;
    }
    if (p->threads < 0 || p->threads > 64 || p->max_side <= 0 || p->strategy < 0 ||
        p->strategy > AITAG_SAMPLER_SEEK) {
        aitag_fmt(err, errlen, "threads, max_side or strategy out of range");
        return AITAG_ERR_INVALID;
    }
    if (p->sampling < AITAG_SAMPLING_EXACT || p->sampling > AITAG_SAMPLING_ADAPTIVE) {
        aitag_fmt(err, errlen, "sampling must be exact, keyframes or adaptive (got %d)",
                  p->sampling);
        return AITAG_ERR_INVALID;
    }
    if (!(p->keyframe_window >= 0) || !isfinite(p->keyframe_window)) {
        aitag_fmt(err, errlen, "keyframe_window must be >= 0 (got %g)", p->keyframe_window);
        return AITAG_ERR_INVALID;
    }
    return 0;
}

static int cmp_time(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* KEYFRAMES: the keyframe times of the demuxer's index (none without one: sampling is then
 * exact). Only memory can fail. */
static int load_keys(struct aitag_sampler *s)
{
    int n = avformat_index_get_entries_count(s->in.st);

    if (n <= 0)
        return 0;
    s->keys = malloc((size_t)n * sizeof *s->keys);
    if (!s->keys)
        return AITAG_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        const AVIndexEntry *e = avformat_index_get_entry(s->in.st, i);
        if (e && (e->flags & AVINDEX_KEYFRAME) && e->timestamp != AV_NOPTS_VALUE)
            s->keys[s->n_keys++] = media_pts_to_seconds(&s->in, e->timestamp);
    }
    qsort(s->keys, s->n_keys, sizeof *s->keys, cmp_time);
    return 0;
}

static int open_decoder(struct aitag_sampler *s, int threads)
{
    const AVCodecParameters *par = s->in.st->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    struct media_errcap cap;
    char why[160];
    int rc;

    s->dec = avcodec_alloc_context3(codec);
    if (!s->dec)
        return AITAG_ERR_NOMEM;
    if (avcodec_parameters_to_context(s->dec, par) < 0)
        return AITAG_ERR_NOMEM;
    s->dec->pkt_timebase = s->in.st->time_base;
    s->dec->thread_count = threads;
    s->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    /* a stream that grows mid-way is refused too */
    s->dec->max_pixels = media_decoder_max_pixels(s->in.max_pixels);
    media_errcap_begin(&cap);
    rc = avcodec_open2(s->dec, codec, NULL);
    media_errcap_end(&cap);
    if (rc < 0) {
        aitag_fmt(s->err, sizeof s->err, "cannot open %s decoder (%s)", codec->name,
                  media_averr(rc, &cap, why, sizeof why));
        return AITAG_ERR_MEDIA;
    }
    s->skip_nonref = par->codec_id == AV_CODEC_ID_H264 || par->codec_id == AV_CODEC_ID_HEVC;
    return 0;
}

/* ADAPTIVE: reads every packet once (no decoding) for the keyframe times (presentation
 * times, ascending) and the shot detector, then seeks back to the start. Demuxing costs little
 * next to decoding, and it tells the planner where the cheap frames and the cuts are. */
/* Ends sampling over limit `which` (enum media_limit_kind): every later call returns the
 * error, whose message names the limit. */
static int over_limit(struct aitag_sampler *s, int which)
{
    media_limit_message(&s->in.lim, &s->in.budget, which, s->err, sizeof s->err);
    s->done = 1;
    s->end_rc = AITAG_ERR_MEDIA;
    return s->end_rc;
}

/* The limit a video time t of the file breaks, or MEDIA_LIMIT_NONE. */
static int time_over(const struct aitag_sampler *s, double t)
{
    return s->probe.kind == AITAG_MEDIA_VIDEO && t > s->in.lim.max_duration ? MEDIA_LIMIT_DURATION
                                                                            : MEDIA_LIMIT_NONE;
}

static int scan_packets(struct aitag_sampler *s)
{
    size_t cap = 0;
    double last = 0;
    int rc;

    for (;;) {
        int hit;

        rc = av_read_frame(s->in.fmt, s->pkt);
        if ((hit = media_budget_check(&s->in.budget)) != MEDIA_LIMIT_NONE) {
            av_packet_unref(s->pkt);
            return over_limit(s, hit);
        }
        if (rc < 0) {
            if (rc != AVERROR_EOF && s->in.fmt->pb && !avio_feof(s->in.fmt->pb) &&
                ++s->read_errors < MAX_READ_ERRORS)
                continue;
            break;
        }
        s->read_errors = 0;
        if (s->pkt->stream_index == s->in.vidx &&
            (s->pkt->pts != AV_NOPTS_VALUE || s->pkt->dts != AV_NOPTS_VALUE)) {
            double t = media_pts_to_seconds(&s->in, s->pkt->pts != AV_NOPTS_VALUE ? s->pkt->pts
                                                                                  : s->pkt->dts);
            int key = (s->pkt->flags & AV_PKT_FLAG_KEY) != 0;
            if ((hit = time_over(s, t)) != MEDIA_LIMIT_NONE) {
                av_packet_unref(s->pkt);
                return over_limit(s, hit);
            }
            last = fmax(last, t);
            if (s->shots && aitag_shot_detector_packet(s->shots, t, s->pkt->size, key) < 0)
                rc = AITAG_ERR_NOMEM;
            if (key && t >= 0) {
                if (s->n_keys == cap) {
                    size_t c = cap ? 2 * cap : 256;
                    double *k = realloc(s->keys, c * sizeof *k);
                    if (!k)
                        rc = AITAG_ERR_NOMEM;
                    else
                        s->keys = k, cap = c;
                }
                if (s->n_keys < cap)
                    s->keys[s->n_keys++] = t;
            }
        }
        av_packet_unref(s->pkt);
        if (rc == AITAG_ERR_NOMEM)
            return rc;
    }
    s->read_errors = 0;
    qsort(s->keys, s->n_keys, sizeof *s->keys, cmp_time);
    if (s->probe.duration > 0 && last < s->probe.duration - fmax(2.0 * s->interval, 1.0))
        s->truncated = 1;
    s->scanned = 1;
    if (av_seek_frame(s->in.fmt, s->in.vidx, s->in.start_pts, AVSEEK_FLAG_BACKWARD) < 0) {
        aitag_fmt(s->err, sizeof s->err, "cannot seek back to the start after scanning");
        return AITAG_ERR_MEDIA;
    }
    return 0;
}

int aitag_sampler_open(const char *path, const struct aitag_sampler_params *p,
                       struct aitag_sampler **out, char *errbuf, size_t errlen)
{
    struct aitag_sampler *s = NULL;
    double fps;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    s->in.vidx = -1;
    if (!p) {
        rc = AITAG_ERR_INVALID;
        aitag_fmt(s->err, sizeof s->err, "no parameters");
        goto out;
    }
    rc = check_params(p, s->err, sizeof s->err);
    if (rc < 0)
        goto out;
    rc = media_frame_converter_init(&s->conv, p->views, p->n_views, s->err, sizeof s->err);
    if (rc < 0)
        goto out;
    {
        struct media_limits lim = {p->max_pixels,  p->max_duration, p->max_frames,
                                   p->max_streams, p->time_limit,   p->cpu_limit};
        rc = media_input_open_limited(path, &lim, &s->in, &s->probe, 1);
    }
    if (rc < 0) {
        aitag_fmt(s->err, sizeof s->err, "%s", s->probe.error);
        goto out;
    }
    if (s->probe.width > p->max_side || s->probe.height > p->max_side) {
        rc = AITAG_ERR_MEDIA;
        aitag_fmt(s->err, sizeof s->err, "picture %dx%d is larger than the limit of %d a side",
                  s->probe.width, s->probe.height, p->max_side);
        goto out;
    }
    rc = open_decoder(s, s->probe.kind == AITAG_MEDIA_IMAGE ? 1 : p->threads);
    if (rc < 0)
        goto out;
    s->pkt = av_packet_alloc();
    s->frame = av_frame_alloc();
    if (!s->pkt || !s->frame) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    s->interval = p->interval;
    s->start = p->start;
    s->seek_mode = choose_strategy(&s->in, &s->probe, p);
    fps = s->probe.fps > 0 && s->probe.fps < 1000 ? s->probe.fps : 25.0;
    s->seek_threshold = s->probe.gop_seconds > 0 ? s->probe.gop_seconds : 1.0;
    s->seek_lead = (s->in.st->codecpar->video_delay + 2) / fps;
    if (!s->in.indexed)
        s->seek_lead += s->seek_threshold;
    s->seek_lead_max = fmin(4.0 * s->seek_threshold + 2.0, 60.0);
    s->frame_dur = 1.0 / fps;
    s->eps = fmin(1e-3, 0.25 / fps);
    s->last_t = -1.0;
    s->read_t = 0.0;
    s->last_emit_t = -INFINITY;
    s->skip_deblock = p->skip_deblock != 0;
    s->sampling = s->probe.kind == AITAG_MEDIA_VIDEO ? p->sampling : AITAG_SAMPLING_EXACT;
    s->key_window = p->keyframe_window > 0 ? p->keyframe_window : p->interval / 2.0;
    if (s->sampling == AITAG_SAMPLING_KEYFRAMES) {
        rc = load_keys(s);
        if (rc < 0)
            goto out;
    }
    if (p->shots && s->probe.kind == AITAG_MEDIA_VIDEO &&
        (rc = aitag_shot_detector_new(s->probe.fps, &s->shots)) < 0)
        goto out;
    if (s->sampling == AITAG_SAMPLING_ADAPTIVE) {
        rc = scan_packets(s);
        if (rc < 0)
            goto out;
    }
    *out = s;
    s = NULL;
    rc = 0;
out:
    if (rc < 0 && errbuf && errlen) {
        if (s && s->err[0])
            aitag_fmt(errbuf, errlen, "%s", s->err);
        else
            aitag_fmt(errbuf, errlen, "%s", aitag_strerror(rc));
    }
    aitag_sampler_close(s);
    return rc;
}

static double frame_time(struct aitag_sampler *s, const AVFrame *f)
{
    int64_t pts = f->best_effort_timestamp;

    if (pts == AV_NOPTS_VALUE)
        pts = f->pts;
    if (pts != AV_NOPTS_VALUE)
        return media_pts_to_seconds(&s->in, pts);
    if (s->last_t < 0)
        return 0.0;
    return s->last_t + (s->probe.fps > 0 ? 1.0 / s->probe.fps : 0.04);
}

static double target_time(const struct aitag_sampler *s)
{
    return s->start + (double)s->k * s->interval;
}

/* Seeks to the keyframe before target - lead. A failed seek just means decoding forward. */
static void seek_to(struct aitag_sampler *s, double target, double lead)
{
    int64_t ts = media_seconds_to_pts(&s->in, fmax(0.0, target - lead));

    if (av_seek_frame(s->in.fmt, s->in.vidx, ts, AVSEEK_FLAG_BACKWARD) < 0) {
        aitag_log(AITAG_LOG_DEBUG, "media", "event=seek_failed t=%.3f", target);
        s->seek_mode = 0;
        return;
    }
    avcodec_flush_buffers(s->dec);
    s->demux_eof = 0;
    s->flush_sent = 0;
    s->read_errors = 0;
    s->read_t = target;
    s->lead_used = lead;
    s->check_seek = target - lead > 0; /* from the very start nothing can be skipped */
}

/* Seeks when the next sample is far beyond what has been read (or, when sequential, only to
 * reach a late start). */
static void maybe_seek(struct aitag_sampler *s, double target)
{
    if (!s->seek_mode && s->k > 0)
        return;
    if (target - s->read_t > s->seek_threshold)
        seek_to(s, target, s->seek_lead);
}

/* True when the first frame after a seek (t; INFINITY when the data ended before any frame)
 * shows that the seek skipped wanted frames; the seek is then redone from further back. */
static int seek_overshot(struct aitag_sampler *s, double t, double target)
{
    if (!s->check_seek)
        return 0;
    s->check_seek = 0;
    if (t <= target + 0.5 * s->frame_dur || s->lead_used >= s->seek_lead_max)
        return 0;
    aitag_log(AITAG_LOG_DEBUG, "media", "event=seek_overshot t=%.3f got=%.3f lead=%.3f", target, t,
              s->lead_used);
    seek_to(s, target, fmin(2.0 * s->lead_used + s->seek_threshold, s->seek_lead_max));
    return 1;
}

static void note_error(struct aitag_sampler *s, int averr)
{
    s->decode_errors++;
    media_averr(averr, NULL, s->last_error, sizeof s->last_error);
}

/* Feeds the decoder one video packet (or the end-of-stream flush). Damaged input is counted
 * and skipped; returns AVERROR_EOF only when the flush was sent already and the decoder still
 * asks for more (it should not), AITAG_ERR_MEDIA over a limit (over_limit). */
static int feed(struct aitag_sampler *s)
{
    double target = s->cur_target;
    int rc;

    if (s->demux_eof) {
        if (s->flush_sent)
            return AVERROR_EOF;
        avcodec_send_packet(s->dec, NULL);
        s->flush_sent = 1;
        return 0;
    }
    for (;;) {
        int hit;

        rc = av_read_frame(s->in.fmt, s->pkt);
        if ((hit = media_budget_check(&s->in.budget)) != MEDIA_LIMIT_NONE) {
            av_packet_unref(s->pkt);
            return over_limit(s, hit);
        }
        if (rc < 0) {
            if (rc != AVERROR_EOF && s->in.fmt->pb && !avio_feof(s->in.fmt->pb) &&
                ++s->read_errors < MAX_READ_ERRORS) {
                note_error(s, rc);
                continue;
            }
            if (rc != AVERROR_EOF)
                note_error(s, rc);
            s->demux_eof = 1;
            avcodec_send_packet(s->dec, NULL);
            s->flush_sent = 1;
            return 0;
        }
        s->read_errors = 0;
        if (s->pkt->stream_index == s->in.vidx)
            break;
        av_packet_unref(s->pkt);
    }
    if (s->pkt->pts != AV_NOPTS_VALUE || s->pkt->dts != AV_NOPTS_VALUE) {
        double t =
            media_pts_to_seconds(&s->in, s->pkt->pts != AV_NOPTS_VALUE ? s->pkt->pts : s->pkt->dts);
        int before = s->pkt->pts != AV_NOPTS_VALUE && t + s->eps < target;
        if (time_over(s, t) != MEDIA_LIMIT_NONE) {
            av_packet_unref(s->pkt);
            return over_limit(s, MEDIA_LIMIT_DURATION);
        }
        s->read_t = fmax(s->read_t, t);
        if (s->shots && !s->scanned)
            aitag_shot_detector_packet(s->shots, t, s->pkt->size,
                                       (s->pkt->flags & AV_PKT_FLAG_KEY) != 0);
        if (s->key_wait && (s->pkt->flags & AV_PKT_FLAG_KEY) && t + s->seek_lead >= s->key_t) {
            s->key_wait = 0; /* the chosen keyframe: its frame is the one to yield */
            s->cur_target = target = t;
            before = 0;
        } else if (s->key_wait && t > s->key_t + s->key_window + s->seek_threshold) {
            /* the index promised a keyframe the packets do not flag: sample exactly from here
             * on, going back for this sample (next() seeks) */
            aitag_log(AITAG_LOG_DEBUG, "media", "event=keyframe_missing t=%.3f", s->key_t);
            s->key_wait = 0;
            s->key_lost = 1;
            if (s->sampling == AITAG_SAMPLING_KEYFRAMES)
                s->sampling = AITAG_SAMPLING_EXACT;
        }
        if (s->key_wait || (s->key_only && t > s->key_t + s->eps))
            s->dec->skip_frame = AVDISCARD_NONKEY;
        else if (s->skip_nonref)
            s->dec->skip_frame = before ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
        if (s->skip_deblock)
            s->dec->skip_loop_filter =
                before && t + DEBLOCK_GUARD_S < target ? AVDISCARD_ALL : AVDISCARD_DEFAULT;
    }
    rc = avcodec_send_packet(s->dec, s->pkt);
    if (rc < 0 && rc != AVERROR(EAGAIN))
        note_error(s, rc);
    av_packet_unref(s->pkt);
    return 0;
}

/* The data ended: decide between a clean end, a truncated file and an undecodable one. */
static int finish(struct aitag_sampler *s)
{
    double tail = fmax(2.0 * s->interval, 1.0);

    s->done = 1;
    if (s->decoded == 0) {
        aitag_fmt(s->err, sizeof s->err, "no decodable %s (%s)",
                  s->probe.kind == AITAG_MEDIA_IMAGE ? "picture" : "video frames",
                  s->last_error[0] ? s->last_error : "no packets");
        s->end_rc = AITAG_ERR_MEDIA;
        return s->end_rc;
    }
    if (s->probe.kind == AITAG_MEDIA_VIDEO && s->probe.duration > 0 && !s->scanned &&
        target_time(s) < s->probe.duration && s->last_t < s->probe.duration - tail)
        s->truncated = 1;
    if (s->decode_errors)
        aitag_log(AITAG_LOG_DEBUG, "media", "event=decode_errors n=%lld last=\"%s\"",
                  (long long)s->decode_errors, s->last_error);
    return 0;
}

static int emit(struct aitag_sampler *s, double t, struct aitag_frame **out)
{
    double next_k;
    int rc;
    AVRational sar = av_guess_sample_aspect_ratio(s->in.fmt, s->in.st, s->frame);

    rc = media_frame_converter_run(&s->conv, s->frame, sar, s->probe.rotation, t, out, s->err,
                                   sizeof s->err);
    av_frame_unref(s->frame);
    if (rc < 0)
        return rc;
    (*out)->index = (size_t)s->emitted;
    s->emitted++;
    s->last_emit_t = t;
    if (s->probe.kind == AITAG_MEDIA_IMAGE)
        s->done = 1;
    /* The next sample time after this frame, computed rather than stepped: a damaged
     * timestamp far in the future must not spin here. */
    next_k = floor((t + s->eps - s->start) / s->interval) + 1.0;
    if (next_k > (double)s->k)
        s->k = next_k < 1e15 ? (int64_t)next_k : (int64_t)1e15;
    else if (s->k < (int64_t)1e15)
        s->k++; /* a keyframe before its sample time stood for it */
    return 1;
}

/* KEYFRAMES: picks the keyframe nearest target within the window and after the last frame
 * yielded. Returns 0 when there is none (sample exactly); else sets what to wait for: the
 * keyframe's packet when it is still ahead (seeking first when that is far and seeking is on),
 * or, when it was read already, the first frame from its time on. */
static int plan_keyframe(struct aitag_sampler *s, double target)
{
    size_t lo = 0, hi = s->n_keys;
    double best = -1.0, best_d = INFINITY;

    while (lo < hi) { /* first key >= target - window */
        size_t mid = lo + (hi - lo) / 2;
        if (s->keys[mid] < target - s->key_window)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->n_keys && s->keys[i] <= target + s->key_window; i++) {
        double d = fabs(s->keys[i] - target);
        if (s->keys[i] > s->last_emit_t + s->eps && d < best_d) {
            best = s->keys[i];
            best_d = d;
        }
    }
    if (best < 0)
        return 0;
    s->key_t = best;
    if (best <= s->read_t + s->eps && s->k > 0) {
        s->cur_target = best; /* already fed to the decoder */
        return 1;
    }
    s->key_wait = 1;
    if ((s->seek_mode || s->k == 0) && best - s->read_t > s->seek_threshold) {
        seek_to(s, best, s->seek_lead);
        s->check_seek = 0; /* waiting for the key packet stands in for the check */
    }
    return 1;
}

static int decode_to(struct aitag_sampler *s, double target, struct aitag_frame **out);

int aitag_sampler_next(struct aitag_sampler *s, struct aitag_frame **out)
{
    double target;

    *out = NULL;
    if (!s)
        return AITAG_ERR_INVALID;
    if (s->done)
        return s->end_rc;
    target = s->probe.kind == AITAG_MEDIA_IMAGE ? 0.0 : target_time(s);
    if (s->probe.kind == AITAG_MEDIA_VIDEO && s->probe.duration > 0 &&
        target >= s->probe.duration) {
        s->done = 1;
        return 0;
    }
    s->cur_target = s->exact_target = target;
    s->key_wait = 0;
    if (s->sampling == AITAG_SAMPLING_KEYFRAMES && plan_keyframe(s, target))
        target = s->cur_target;
    else
        maybe_seek(s, target);
    return decode_to(s, target, out);
}

/* Decodes until the frame for target (or the chosen keyframe) comes out, and yields it. */
static int decode_to(struct aitag_sampler *s, double target, struct aitag_frame **out)
{
    int rc;

    for (;;) {
        int hit = media_budget_check(&s->in.budget);

        if (hit != MEDIA_LIMIT_NONE)
            return over_limit(s, hit);
        rc = avcodec_receive_frame(s->dec, s->frame);
        if (rc == 0) {
            double t = s->probe.kind == AITAG_MEDIA_IMAGE ? 0.0 : frame_time(s, s->frame);

            s->decoded++;
            s->last_t = t;
            if ((hit = time_over(s, t)) != MEDIA_LIMIT_NONE ||
                (s->decoded > s->in.lim.max_frames && (hit = MEDIA_LIMIT_FRAMES))) {
                av_frame_unref(s->frame);
                return over_limit(s, hit);
            }
            if (s->shots && media_shot_detector_avframe(s->shots, t, s->frame) < 0) {
                av_frame_unref(s->frame);
                aitag_fmt(s->err, sizeof s->err, "out of memory");
                return AITAG_ERR_NOMEM;
            }
            if (seek_overshot(s, t, target)) {
                av_frame_unref(s->frame);
                continue;
            }
            target = s->cur_target; /* feed() may have moved it to the chosen keyframe */
            if (!s->key_wait && t + s->eps >= target)
                return emit(s, t, out);
            av_frame_unref(s->frame);
        } else if (rc == AVERROR(EAGAIN)) {
            if (feed(s) < 0)
                return s->end_rc < 0 ? s->end_rc : finish(s);
            if (s->key_lost) {
                s->key_lost = 0;
                s->cur_target = target = s->exact_target;
                seek_to(s, target, s->seek_lead);
            }
        } else if (rc == AVERROR_EOF) {
            if (!seek_overshot(s, INFINITY, target))
                return finish(s);
        } else {
            note_error(s, rc);
            if (s->decode_errors > 100000) /* a decoder stuck on errors: give up */
                return finish(s);
        }
    }
}

static int is_keyframe_time(const struct aitag_sampler *s, double t)
{
    size_t lo = 0, hi = s->n_keys;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->keys[mid] < t - s->eps)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_keys && fabs(s->keys[lo] - t) <= s->eps;
}

/* The last keyframe time at or before t, or -1. */
static double last_key_before(const struct aitag_sampler *s, double t)
{
    size_t lo = 0, hi = s->n_keys;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->keys[mid] <= t + s->eps)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? s->keys[lo - 1] : -1.0;
}

int aitag_sampler_next_at(struct aitag_sampler *s, double t, int key, double then,
                          struct aitag_frame **out)
{
    double kb;
    int seek;

    *out = NULL;
    if (!s || s->sampling != AITAG_SAMPLING_ADAPTIVE || !(t >= 0) || !isfinite(t))
        return AITAG_ERR_INVALID;
    if (s->end_rc < 0)
        return s->end_rc;
    if (s->probe.duration > 0 && t >= s->probe.duration)
        return 0;
    s->done = 0; /* the end of one pass: a later time may lie behind */
    s->cur_target = s->exact_target = t;
    s->key_wait = 0;
    s->key_only = 0;
    /* seek when t lies behind, or when a keyframe lies between what was read and t: decoding
     * from that keyframe is cheaper than decoding on (with no keyframe list, when t is more
     * than a keyframe spacing ahead) */
    kb = last_key_before(s, t);
    seek = t <= s->last_t + s->eps || (kb >= 0 && kb > s->read_t + s->eps) ||
           (s->n_keys == 0 && t - s->read_t > s->seek_threshold);
    if (key && is_keyframe_time(s, t) && (seek || t > s->read_t + s->eps)) {
        /* its packet alone: seek onto it when it lies behind or far ahead, else skip to it
         * (a packet read already is in the decoder: decoding on reaches it) */
        s->key_t = t;
        s->key_window = 0.5 * s->frame_dur;
        if (seek) {
            seek_to(s, t, s->in.indexed ? 0.0 : s->seek_lead);
            s->check_seek = 0; /* waiting for the key packet stands in for the check */
        }
        s->key_wait = 1;
        /* the packets after it (already read while its frame comes out of the decoder's
         * threads) are needed only when the next time lies ahead in reach, and not at a
         * keyframe of its own */
        s->key_only = !(then > t && last_key_before(s, then) <= t + s->eps);
    } else if (seek) {
        seek_to(s, t, s->seek_lead);
    }
    return decode_to(s, t, out);
}

const double *aitag_sampler_keyframes(const struct aitag_sampler *s, size_t *n)
{
    *n = s && s->sampling == AITAG_SAMPLING_ADAPTIVE ? s->n_keys : 0;
    return *n ? s->keys : NULL;
}

long aitag_sampler_frames_decoded(const struct aitag_sampler *s)
{
    return s ? (long)s->decoded : 0;
}

int aitag_sampler_shots(struct aitag_sampler *s, struct aitag_shot **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s || !s->shots)
        return 0;
    return aitag_shot_detector_finish(s->shots, s->probe.duration, out, n);
}

const struct aitag_probe *aitag_sampler_probe(const struct aitag_sampler *s)
{
    return s ? &s->probe : NULL;
}

const char *aitag_sampler_strategy(const struct aitag_sampler *s)
{
    return s && s->seek_mode ? "seek" : "sequential";
}

int aitag_sampler_truncated(const struct aitag_sampler *s)
{
    return s ? s->truncated : 0;
}

const char *aitag_sampler_errmsg(const struct aitag_sampler *s)
{
    return s && s->err[0] ? s->err : "";
}

void aitag_sampler_close(struct aitag_sampler *s)
{
    if (!s)
        return;
    media_frame_converter_free(&s->conv);
    av_frame_free(&s->frame);
    av_packet_free(&s->pkt);
    avcodec_free_context(&s->dec);
    media_input_close(&s->in);
    aitag_shot_detector_free(s->shots);
    free(s->keys);
    free(s);
}
