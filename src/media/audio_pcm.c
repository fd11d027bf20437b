/*
 * audio_pcm.c - a file's audio track as mono 16-bit samples at a chosen rate, handed over in
 * chunks: what speech recognition reads.
 *
 * The track is read by audio_decode.c; libswresample downmixes every channel layout to mono
 * and resamples to the asked rate (16 kHz for speech models), so a recognizer never sees the
 * source format. Samples are handed to the caller chunk by chunk as they are converted and
 * never held whole: an hour of audio at 16 kHz is 115 MB as 16-bit samples, far more than the
 * few seconds a speech segment needs. The resampler's delay is flushed at the end, so the
 * count of samples matches the track's duration at the new rate.
 */
#include <stdlib.h>

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "media_int.h"

int aitag_audio_pcm(const char *path, int rate, const struct aitag_audio_limits *lim,
                    aitag_pcm_fn fn, void *ctx, int *has_audio, char *err, size_t errlen)
{
    struct media_audio a;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    SwrContext *swr = NULL;
    int16_t *buf = NULL;
    int cap = 0, rc;

    *has_audio = 0;
    if (rate < 1000 || rate > 192000 || !fn) {
        aitag_fmt(err, errlen, "%s: bad sample rate %d", path, rate);
        return AITAG_ERR_INVALID;
    }
    rc = media_audio_open(path, lim, &a, err, errlen);
    if (rc <= 0)
        goto out;
    *has_audio = 1;
    for (int more = 1; more;) {
        const uint8_t **in = NULL;
        int n_in = 0, n_out;

        more = media_audio_next(&a);
        if (more) {
            in = (const uint8_t **)a.fr->extended_data;
            n_in = a.fr->nb_samples;
            if (!swr) {
                rc = swr_alloc_set_opts2(&swr, &mono, AV_SAMPLE_FMT_S16, rate, &a.fr->ch_layout,
                                         a.fr->format, a.fr->sample_rate, 0, NULL);
                if (rc < 0 || swr_init(swr) < 0) {
                    aitag_fmt(err, errlen, "%s: cannot convert its audio to %d Hz mono", path,
                              rate);
                    rc = AITAG_ERR_MEDIA;
                    goto out;
                }
            }
        } else if (!swr) {
            break; /* no frame at all */
        }
        n_out = swr_get_out_samples(swr, n_in);
        if (n_out > cap) {
            int16_t *grown = realloc(buf, (size_t)n_out * sizeof *buf);
            if (!grown) {
                aitag_fmt(err, errlen, "out of memory");
                rc = AITAG_ERR_NOMEM;
                goto out;
            }
            buf = grown, cap = n_out;
        }
        n_out = swr_convert(swr, (uint8_t **)&buf, cap, in, n_in);
        if (n_out < 0) {
            aitag_fmt(err, errlen, "%s: cannot convert its audio to %d Hz mono", path, rate);
            rc = AITAG_ERR_MEDIA;
            goto out;
        }
        if (n_out > 0 && (rc = fn(buf, (size_t)n_out, ctx)) < 0)
            goto out;
    }
    rc = media_audio_end(&a, path, err, errlen);
out:
    swr_free(&swr);
    free(buf);
    media_audio_close(&a);
    return rc;
}
