/*
 * audio.c - silences of a file's audio track: the one thing aitag reads from audio so far.
 *
 * The track is read by audio_decode.c (the best audio stream only). Decoded samples of
 * any layout and sample format are read as doubles in place, so no resampler is needed: RMS
 * over short windows of all channels together, and runs of windows below the threshold long
 * enough become spans. Decoding audio costs little next to video (an AAC track decodes at
 * hundreds of times realtime), which is why it is a separate pass and not a sampler feature.
 * Times count decoded samples from the first audio frame.
 */
#include <math.h>
#include <stdlib.h>

#include "media_int.h"

struct aitag_silence_params aitag_silence_default_params(void)
{
    return (struct aitag_silence_params){.threshold_db = -50.0, .min_seconds = 2.0, .window = 0.05};
}

/* Sample i of channel ch of a decoded frame, as a double in [-1, 1]. */
static double sample_at(const AVFrame *f, int ch, int i, int channels)
{
    int planar = av_sample_fmt_is_planar(f->format);
    const uint8_t *d = f->extended_data[planar ? ch : 0];
    int k = planar ? i : i * channels + ch;

    switch (av_get_packed_sample_fmt(f->format)) {
    case AV_SAMPLE_FMT_U8:
        return (d[k] - 128) / 128.0;
    case AV_SAMPLE_FMT_S16:
        return ((const int16_t *)d)[k] / 32768.0;
    case AV_SAMPLE_FMT_S32:
        return ((const int32_t *)d)[k] / 2147483648.0;
    case AV_SAMPLE_FMT_S64:
        return (double)((const int64_t *)d)[k] / 9223372036854775808.0;
    case AV_SAMPLE_FMT_FLT:
        /* cppcheck-suppress invalidPointerCast ; FFmpeg's sample buffer holds floats here */
        return ((const float *)d)[k];
    case AV_SAMPLE_FMT_DBL:
        /* cppcheck-suppress invalidPointerCast ; FFmpeg's sample buffer holds doubles here */
        return ((const double *)d)[k];
    default:
        return 0;
    }
}

struct scan {
    const struct aitag_silence_params *p;
    int64_t window; /* samples per window */
    int rate;
    double sum2;        /* sum of squares in the current window */
    int64_t in_win;     /* samples in the current window */
    int64_t done;       /* samples before the current window */
    int64_t quiet_from; /* first sample of the current quiet run, -1 if none */
    double quiet_sum2;
    struct aitag_audio_span *spans;
    size_t n;
    int nomem;
};

/* Ends the quiet run (if any) at sample `at`. */
static void close_run(struct scan *s, int64_t at, int channels)
{
    double len;

    if (s->quiet_from < 0)
        return;
    len = (double)(at - s->quiet_from) / s->rate;
    if (len + 1e-9 >= s->p->min_seconds) {
        struct aitag_audio_span *g = realloc(s->spans, (s->n + 1) * sizeof *g);
        double rms = sqrt(s->quiet_sum2 / ((double)(at - s->quiet_from) * channels));
        if (!g) {
            s->nomem = 1;
        } else {
            s->spans = g;
            s->spans[s->n++] =
                (struct aitag_audio_span){(double)s->quiet_from / s->rate, (double)at / s->rate,
                                          rms > 0 ? (float)(20 * log10(rms)) : -INFINITY};
        }
    }
    s->quiet_from = -1;
}

static void end_window(struct scan *s, int channels)
{
    double rms = sqrt(s->sum2 / ((double)s->in_win * channels));
    int quiet = rms <= 0 || 20 * log10(rms) < s->p->threshold_db;

    if (quiet && s->quiet_from < 0)
        s->quiet_from = s->done, s->quiet_sum2 = 0;
    if (quiet)
        s->quiet_sum2 += s->sum2;
    else
        close_run(s, s->done, channels);
    s->done += s->in_win;
    s->sum2 = 0, s->in_win = 0;
}

static void add_frame(struct scan *s, const AVFrame *f, int channels)
{
    for (int i = 0; i < f->nb_samples; i++) {
        for (int ch = 0; ch < channels; ch++) {
            double v = sample_at(f, ch, i, channels);
            s->sum2 += v * v;
        }
        if (++s->in_win == s->window)
            end_window(s, channels);
    }
}

int aitag_audio_silences(const char *path, const struct aitag_silence_params *p,
                         struct aitag_audio_span **out, size_t *n, int *has_audio, char *err,
                         size_t errlen)
{
    struct media_audio a;
    struct scan s = {0};
    int rc, channels = 0;

    *out = NULL, *n = 0, *has_audio = 0;
    if (!p || p->window <= 0 || p->min_seconds < 0) {
        aitag_fmt(err, errlen, "%s: bad silence parameters", path);
        return AITAG_ERR_INVALID;
    }
    rc = media_audio_open(path, &p->limits, &a, err, errlen);
    if (rc <= 0)
        goto out; /* an error, or no audio (or none we decode): no silence either */
    *has_audio = 1;
    s.p = p;
    s.rate = a.dec->sample_rate;
    s.window = (int64_t)(p->window * s.rate + 0.5);
    if (s.window < 1)
        s.window = 1;
    s.quiet_from = -1;
    while (!s.nomem && media_audio_next(&a)) {
        channels = a.fr->ch_layout.nb_channels > 0 ? a.fr->ch_layout.nb_channels : 1;
        add_frame(&s, a.fr, channels);
    }
    if (s.in_win > 0 && channels > 0)
        end_window(&s, channels);
    close_run(&s, s.done, channels > 0 ? channels : 1);
    if (s.nomem) {
        rc = AITAG_ERR_NOMEM;
        aitag_fmt(err, errlen, "out of memory");
        goto out;
    }
    if ((rc = media_audio_end(&a, path, err, errlen)) < 0)
        goto out;
    *out = s.spans;
    *n = s.n;
    s.spans = NULL;
    rc = 0;
out:
    free(s.spans);
    media_audio_close(&a);
    return rc;
}
