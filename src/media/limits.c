/*
 * limits.c - what one opened file may cost: wall-clock time, CPU time, frames, media duration
 * and streams, checked while FFmpeg reads it.
 *
 * Hostile or broken files must not stall a run: a stream that never ends, timestamps that
 * jump to years ahead, a tiny file that decodes to millions of frames, a container declaring
 * thousands of streams. The size limits (pixels, streams, duration) are checked where the
 * headers are read (input.c); the budgets (time, CPU) are checked by FFmpeg's interrupt
 * callback, which every blocking read in libavformat polls, so a read that would wait or spin
 * returns AVERROR_EXIT and the caller turns that into this file's message. The sampler also
 * checks between packets, because decoding what was read already never polls the callback.
 *
 * CPU time is the process's (CLOCK_PROCESS_CPUTIME_ID): decoding runs on FFmpeg's own threads
 * and the frames' analysis on others, and all of it is what the file costs; while several
 * items overlap (the decoder runs ahead of inference), each one's budget counts the others'
 * work too, which the generous defaults allow for. Every message names the limit and the aitag
 * option that raises it.
 */
#include <time.h>

#include "media_int.h"

static double clock_seconds(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void media_limits_resolve(struct media_limits *lim)
{
    if (lim->max_pixels <= 0)
        lim->max_pixels = AITAG_MEDIA_MAX_PIXELS_DEFAULT;
    if (!(lim->max_duration > 0))
        lim->max_duration = AITAG_MEDIA_MAX_DURATION_DEFAULT;
    if (lim->max_frames <= 0)
        lim->max_frames = AITAG_MEDIA_MAX_FRAMES_DEFAULT;
    if (lim->max_streams <= 0)
        lim->max_streams = AITAG_MEDIA_MAX_STREAMS_DEFAULT;
    if (!(lim->time_limit > 0))
        lim->time_limit = 0;
    if (!(lim->cpu_limit > 0))
        lim->cpu_limit = 0;
}

void media_budget_start(struct media_budget *b, const struct media_limits *lim)
{
    b->time_limit = lim->time_limit;
    b->cpu_limit = lim->cpu_limit;
    b->t0 = clock_seconds(CLOCK_MONOTONIC);
    b->cpu0 = b->cpu_limit > 0 ? clock_seconds(CLOCK_PROCESS_CPUTIME_ID) : 0.0;
    b->hit = MEDIA_LIMIT_NONE;
}

int media_budget_check(struct media_budget *b)
{
    if (b->hit != MEDIA_LIMIT_NONE)
        return b->hit;
    if (b->time_limit > 0 && clock_seconds(CLOCK_MONOTONIC) - b->t0 > b->time_limit)
        b->hit = MEDIA_LIMIT_TIME;
    else if (b->cpu_limit > 0 && clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - b->cpu0 > b->cpu_limit)
        b->hit = MEDIA_LIMIT_CPU;
    return b->hit;
}

int media_budget_interrupt(void *opaque)
{
    return media_budget_check(opaque) != MEDIA_LIMIT_NONE;
}

const char *media_limit_message(const struct media_limits *lim, const struct media_budget *b,
                                int which, char *buf, size_t size)
{
    switch (which) {
    case MEDIA_LIMIT_TIME:
        return aitag_fmt(buf, size, "stopped after %g s, the time limit per item (--item-timeout)",
                         b->time_limit);
    case MEDIA_LIMIT_CPU:
        return aitag_fmt(buf, size,
                         "stopped after %g s of CPU time, the CPU limit per item (--item-cpu)",
                         b->cpu_limit);
    case MEDIA_LIMIT_FRAMES:
        return aitag_fmt(buf, size,
                         "stopped after decoding %lld frames, the limit per item (--max-frames)",
                         (long long)lim->max_frames);
    case MEDIA_LIMIT_DURATION:
        return aitag_fmt(buf, size,
                         "video runs past %g s, the duration limit (--max-duration); "
                         "a file still being written or absurd timestamps",
                         lim->max_duration);
    case MEDIA_LIMIT_STREAMS:
        return aitag_fmt(buf, size, "more than %d streams, the limit (--max-streams)",
                         lim->max_streams);
    default:
        return aitag_fmt(buf, size, "over a limit");
    }
}
