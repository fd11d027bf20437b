/*
 * thumb.c - a still of a media file for the review app's grid.
 *
 * The sampler seeks to the keyframe before t and decodes to the first frame at or after it,
 * scaled once to the thumbnail's size (never up: a small image stays small); a t past the end
 * of a stream whose duration was wrong falls back to the first frame, so every decodable item
 * gets a still.
 */
#include <stdio.h>
#include <stdlib.h>

#include "media_int.h"

static int still_at(const char *path, double t, int max_side, unsigned char **jpeg, size_t *len,
                    char *err, size_t errlen)
{
    struct aitag_view_spec spec = {max_side, 0, AITAG_FIT_MAX_SIDE, 0};
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    const struct aitag_view *v;
    int rc = media_frame_at(path, t, &spec, "still", &s, &f, &v, err, errlen);

    if (rc == 0)
        rc = aitag_media_encode_jpeg(v->rgb + (size_t)v->pad_y * (size_t)v->stride +
                                         (size_t)v->pad_x * 3,
                                     v->content_w, v->content_h, v->stride, jpeg, len, err, errlen);
    aitag_frame_free(f);
    aitag_sampler_close(s);
    return rc;
}

int aitag_media_thumbnail_jpeg(const char *path, double t, int max_side, unsigned char **jpeg,
                               size_t *len, char *err, size_t errlen)
{
    int rc;

    *jpeg = NULL;
    *len = 0;
    if (max_side < 16 || max_side > MEDIA_MAX_DIM) {
        aitag_fmt(err, errlen, "%s: thumbnail size %d out of 16..%d", path, max_side,
                  MEDIA_MAX_DIM);
        return AITAG_ERR_INVALID;
    }
    rc = still_at(path, t, max_side, jpeg, len, err, errlen);
    if (rc == AITAG_ERR_MEDIA && t > 0)
        rc = still_at(path, 0, max_side, jpeg, len, err, errlen);
    return rc;
}
