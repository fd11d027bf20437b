/*
 * probe.c - the public probe and the list of extensions aitag scans.
 *
 * The probe is input.c's open without the rewind: describe, estimate the keyframe spacing,
 * close. The extension list is what folder scans pick up; probing decides what a file really
 * is, so a wrong extension only costs a failed probe with a clear reason.
 */
#include <string.h>
#include <strings.h>

#include "media_int.h"

int aitag_media_probe(const char *path, struct aitag_probe *out)
{
    return aitag_media_probe_max(path, 0, out);
}

int aitag_media_probe_max(const char *path, int64_t max_pixels, struct aitag_probe *out)
{
    struct media_input in;
    int rc;

    rc = media_input_open(path, max_pixels, &in, out, 0);
    if (rc < 0)
        return rc;
    media_input_close(&in);
    return 0;
}

int aitag_media_probe_params(const char *path, const struct aitag_sampler_params *p,
                             struct aitag_probe *out)
{
    struct media_limits lim = {0};
    struct media_input in;
    int rc;

    if (p)
        lim = (struct media_limits){p->max_pixels,  p->max_duration, 0,
                                    p->max_streams, p->time_limit,   p->cpu_limit};
    rc = media_input_open_limited(path, &lim, &in, out, 0);
    if (rc < 0)
        return rc;
    media_input_close(&in);
    return 0;
}

int aitag_media_has_known_extension(const char *path)
{
    static const char *const known[] = {"jpg",  "jpeg", "png", "webp", "gif",  "bmp", "tif",
                                        "tiff", "mp4",  "mkv", "webm", "mov",  "avi", "wmv",
                                        "ts",   "m4v",  "mpg", "mpeg", "m2ts", "flv"};
    const char *slash, *dot;

    if (!path)
        return 0;
    slash = strrchr(path, '/');
    dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot || dot[1] == '\0' || dot == (slash ? slash + 1 : path))
        return 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(dot + 1, known[i]) == 0)
            return 1;
    return 0;
}
