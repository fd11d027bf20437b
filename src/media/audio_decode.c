/*
 * audio_decode.c - the audio track of a file, frame by frame: what the silence scan
 * (audio.c) and the speech samples (audio_pcm.c) both read.
 *
 * The file is opened like every other input (input.c: the file protocol only, the same limits
 * and error wording), then only the best audio stream is demuxed (every other stream is
 * discarded, so the video's packets are skipped unparsed) and decoded. A damaged packet is
 * skipped, and a read error ends the track with what was decoded: a half-broken file still
 * gives its good part. The track ends at the duration limit (limits.c) too, so audio that
 * never ends (a file still being written) cannot keep a reader going. The item's time and CPU
 * budget runs from the open and is checked at every frame, so the work its reader does on the
 * samples (speech recognition) counts; running out of it is an error (media_audio_end).
 */
#include "media_int.h"

int media_audio_open(const char *path, const struct aitag_audio_limits *lim, struct media_audio *a,
                     char *err, size_t errlen)
{
    struct media_limits ml = {0};
    struct aitag_probe probe;
    const AVCodec *codec = NULL;
    int rc;

    *a = (struct media_audio){0};
    a->aidx = -1;
    media_log_init();
    if (lim) {
        ml.max_duration = lim->max_duration;
        ml.max_streams = lim->max_streams;
        ml.time_limit = lim->time_limit;
        ml.cpu_limit = lim->cpu_limit;
    }
    rc = media_input_open_limited(path, &ml, &a->in, &probe, 1);
    if (rc >= 0 && lim) { /* the item's budget began before this read */
        a->in.budget.t0 -= lim->time_spent > 0 ? lim->time_spent : 0;
        a->in.budget.cpu0 -= lim->cpu_spent > 0 ? lim->cpu_spent : 0;
    }
    if (rc < 0) {
        aitag_fmt(err, errlen, "%s: %s", path, probe.error);
        return rc;
    }
    a->aidx = av_find_best_stream(a->in.fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (a->aidx < 0 || !codec)
        return 0; /* no audio, or none we decode */
    for (unsigned i = 0; i < a->in.fmt->nb_streams; i++)
        a->in.fmt->streams[i]->discard = (int)i == a->aidx ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    a->dec = avcodec_alloc_context3(codec);
    a->pkt = av_packet_alloc();
    a->fr = av_frame_alloc();
    if (!a->dec || !a->pkt || !a->fr) {
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    if (avcodec_parameters_to_context(a->dec, a->in.fmt->streams[a->aidx]->codecpar) < 0 ||
        avcodec_open2(a->dec, codec, NULL) < 0 || a->dec->sample_rate <= 0) {
        aitag_fmt(err, errlen, "%s: cannot decode its audio (%s)", path, codec->name);
        return AITAG_ERR_MEDIA;
    }
    return 1;
}

int media_audio_next(struct media_audio *a)
{
    av_frame_unref(a->fr);
    if (media_budget_check(&a->in.budget) != MEDIA_LIMIT_NONE)
        return 0; /* the caller's work on the samples counts too: checked at every frame */
    for (;;) {
        int r = avcodec_receive_frame(a->dec, a->fr);
        if (r == 0) {
            AVStream *st = a->in.fmt->streams[a->aidx];
            int64_t pts = a->fr->best_effort_timestamp;
            if (pts != AV_NOPTS_VALUE &&
                (double)(pts - (st->start_time != AV_NOPTS_VALUE ? st->start_time : 0)) *
                        av_q2d(st->time_base) >
                    a->in.lim.max_duration) {
                av_frame_unref(a->fr); /* past the duration limit: a track that never ends */
                return 0;
            }
            return 1;
        }
        if (r != AVERROR(EAGAIN) || a->eof)
            return 0; /* drained */
        r = av_read_frame(a->in.fmt, a->pkt);
        if (r < 0)
            a->eof = 1; /* the end, or a read error: keep what was found */
        else if (a->pkt->stream_index != a->aidx) {
            av_packet_unref(a->pkt);
            continue;
        }
        r = avcodec_send_packet(a->dec, a->eof ? NULL : a->pkt);
        av_packet_unref(a->pkt);
        (void)r; /* a damaged packet is skipped */
    }
}

int media_audio_end(struct media_audio *a, const char *path, char *err, size_t errlen)
{
    char why[256];

    if (media_budget_check(&a->in.budget) == MEDIA_LIMIT_NONE)
        return 0;
    aitag_fmt(err, errlen, "%s: %s", path,
              media_limit_message(&a->in.lim, &a->in.budget, a->in.budget.hit, why, sizeof why));
    return AITAG_ERR_MEDIA;
}

void media_audio_close(struct media_audio *a)
{
    av_frame_free(&a->fr);
    av_packet_free(&a->pkt);
    avcodec_free_context(&a->dec);
    media_input_close(&a->in);
}
