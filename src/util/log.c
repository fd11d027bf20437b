/*
 * log.c - the process-wide log sink.
 *
 * Libraries never print; they call aitag_log(), which formats one event and hands it to the
 * sink the program installed. The sink and level are set once before threads start (the
 * documented contract), so reading them needs no lock; the default sink serialises writes to
 * stderr with a mutex so concurrent lines never interleave.
 */
#include <pthread.h>
#include <stdio.h>

#include "aitag/common.h"

static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

static void default_sink(void *ctx, enum aitag_log_level level, const char *subsystem,
                         const char *msg)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    (void)ctx;
    pthread_mutex_lock(&stderr_lock);
    fprintf(stderr, "level=%s sub=%s %s\n", names[level], subsystem, msg);
    pthread_mutex_unlock(&stderr_lock);
}

static aitag_log_fn sink = default_sink;
static void *sink_ctx;
static enum aitag_log_level sink_level = AITAG_LOG_WARN;

void aitag_log_set_sink(aitag_log_fn fn, void *ctx, enum aitag_log_level max_level)
{
    sink = fn ? fn : default_sink;
    sink_ctx = fn ? ctx : NULL;
    sink_level = max_level;
}

void aitag_log(enum aitag_log_level level, const char *subsystem, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (level > sink_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sink(sink_ctx, level, subsystem, msg);
}

char *aitag_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return buf;
}
