/*
 * media_fixtures.h - small media files made by a test in a temporary folder of its own.
 *
 * The test defines `static char dir[] = "/tmp/NAME_XXXXXX";` (made with mkdtemp) before
 * including this. fx(NAME) is that folder's path for NAME (four at a time stay valid);
 * ffmpeg_make(ARGS, NAME) runs ffmpeg with ARGS writing fx(NAME) and returns system()'s status.
 */
#ifndef AITAG_TEST_MEDIA_FIXTURES_H
#define AITAG_TEST_MEDIA_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y "

static inline const char *fx(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];

    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static inline int ffmpeg_make(const char *args, const char *name)
{
    char cmd[1024];

    snprintf(cmd, sizeof cmd, FF "%s %s", args, fx(name));
    return system(cmd);
}

#endif
