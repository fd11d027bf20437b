/*
 * ffmpeg_log.c - FFmpeg's log routed into aitag_log, and FFmpeg errors turned into words.
 *
 * FFmpeg logs through one process-wide callback; it is installed once (pthread_once) by the
 * first media call. FFmpeg's complaints about a damaged file are expected input conditions that
 * the API already reports through return codes, so they are demoted: FFmpeg fatal/panic become
 * WARN, error becomes INFO, warning becomes DEBUG, and anything chattier is never formatted (the
 * FFmpeg level is set to warning). With the default sink (WARN) that keeps the program quiet.
 *
 * The callback also feeds an optional per-thread capture, so an error message can name what
 * FFmpeg actually saw ("moov atom not found") rather than only the generic AVERROR text. The
 * capture pointer is thread-local and only set around our own calls: no shared mutable state.
 */
#include <pthread.h>
#include <string.h>

#include <libavutil/log.h>

#include "media_int.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static _Thread_local struct media_errcap *current_cap;

/* One event per line: inner line breaks become spaces, trailing ones go, quotes are softened
 * so the msg="..." field stays parseable. */
static void tidy_line(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r')
            s[i] = ' ';
        else if (s[i] == '"')
            s[i] = '\'';
}

static const char *context_name(void *avcl)
{
    const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
    const char *name;

    if (!cls)
        return "ffmpeg";
    name = cls->item_name ? cls->item_name(avcl) : NULL;
    if (!name || strcmp(name, "NULL") == 0)
        name = cls->class_name;
    return name ? name : "ffmpeg";
}

static void av_log_to_aitag(void *avcl, int level, const char *fmt, va_list vl)
{
    enum aitag_log_level lvl;
    char line[512];
    va_list copy;

    if (level > AV_LOG_WARNING)
        return;
    va_copy(copy, vl);
    vsnprintf(line, sizeof line, fmt, copy);
    va_end(copy);
    tidy_line(line);
    if (line[0] == '\0')
        return;
    /* The first error is usually the cause; later ones are its consequences. */
    if (level <= AV_LOG_ERROR && current_cap && !current_cap->msg[0])
        aitag_fmt(current_cap->msg, sizeof current_cap->msg, "%s", line);
    if (level <= AV_LOG_FATAL)
        lvl = AITAG_LOG_WARN;
    else if (level <= AV_LOG_ERROR)
        lvl = AITAG_LOG_INFO;
    else
        lvl = AITAG_LOG_DEBUG;
    aitag_log(lvl, "ffmpeg", "ctx=%s msg=\"%s\"", context_name(avcl), line);
}

static void install(void)
{
    av_log_set_level(AV_LOG_WARNING);
    av_log_set_callback(av_log_to_aitag);
}

void media_log_init(void)
{
    pthread_once(&log_once, install);
}

void media_errcap_begin(struct media_errcap *cap)
{
    cap->msg[0] = '\0';
    cap->prev = current_cap;
    current_cap = cap;
}

void media_errcap_end(struct media_errcap *cap)
{
    if (current_cap == cap)
        current_cap = cap->prev;
}

const char *media_averr(int averr, const struct media_errcap *cap, char *buf, size_t size)
{
    char generic[AV_ERROR_MAX_STRING_SIZE];

    if (cap && cap->msg[0]) {
        aitag_fmt(buf, size, "%s", cap->msg);
        return buf;
    }
    if (av_strerror(averr, generic, sizeof generic) < 0)
        aitag_fmt(generic, sizeof generic, "error %d", averr);
    aitag_fmt(buf, size, "%s", generic);
    return buf;
}
