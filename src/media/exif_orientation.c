/*
 * exif_orientation.c - the EXIF orientation of JPEG photos, read without decoding them.
 *
 * Phones store photos sideways and set EXIF Orientation; FFmpeg reports it only as side data
 * on a decoded frame, so a probe would have to decode every photo to know its displayed size.
 * Instead the JPEG markers before the image data are walked to the APP1 "Exif" segment and
 * IFD0's tag 0x0112 is read. The bytes are untrusted: every offset is bounds-checked against
 * the buffer, and anything unexpected just means "no orientation" (0).
 *
 * Mirrored orientations (2, 4, 5, 7) are reduced to their rotation: sizes come out right, the
 * picture stays mirrored (rare, and harmless for tagging).
 */
#include <stdio.h>
#include <string.h>

#include "media_int.h"

#define EXIF_READ_MAX (128 << 10) /* APP1 is at most 64 KiB and comes first in practice */

static unsigned rd16(const uint8_t *p, int le)
{
    return le ? (unsigned)p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | (unsigned)p[1];
}

static uint32_t rd32(const uint8_t *p, int le)
{
    return le ? (uint32_t)rd16(p, 1) | (uint32_t)rd16(p + 2, 1) << 16
              : (uint32_t)rd16(p, 0) << 16 | (uint32_t)rd16(p + 2, 0);
}

static int orientation_to_rotation(unsigned o)
{
    switch (o) {
    case 3:
    case 4:
        return 180;
    case 5:
    case 6:
        return 90;
    case 7:
    case 8:
        return 270;
    default:
        return 0;
    }
}

static int tiff_rotation(const uint8_t *t, size_t n)
{
    size_t off, count;
    int le;

    if (n < 8)
        return 0;
    if (t[0] == 'I' && t[1] == 'I')
        le = 1;
    else if (t[0] == 'M' && t[1] == 'M')
        le = 0;
    else
        return 0;
    if (rd16(t + 2, le) != 42)
        return 0;
    off = rd32(t + 4, le);
    if (off < 8 || off + 2 > n)
        return 0;
    count = rd16(t + off, le);
    for (size_t k = 0; k < count; k++) {
        size_t e = off + 2 + 12 * k;

        if (e + 12 > n)
            return 0;
        if (rd16(t + e, le) == 0x0112)
            return rd16(t + e + 2, le) == 3 ? orientation_to_rotation(rd16(t + e + 8, le)) : 0;
    }
    return 0;
}

int media_jpeg_rotation(const uint8_t *b, size_t n)
{
    size_t i = 2;

    if (n < 4 || b[0] != 0xff || b[1] != 0xd8)
        return 0;
    while (i + 4 <= n) {
        unsigned marker, len;

        if (b[i] != 0xff)
            return 0;
        marker = b[i + 1];
        if (marker == 0xff) { /* fill byte */
            i++;
            continue;
        }
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { /* no length field */
            i += 2;
            continue;
        }
        if (marker == 0xda || marker == 0xd9) /* image data or end: no EXIF before it */
            return 0;
        len = rd16(b + i + 2, 0);
        if (len < 2 || i + 2 + len > n)
            return 0;
        if (marker == 0xe1 && len >= 2 + 6 + 8 && memcmp(b + i + 4, "Exif\0\0", 6) == 0)
            return tiff_rotation(b + i + 10, len - 8);
        i += 2 + (size_t)len;
    }
    return 0;
}

int media_jpeg_file_rotation(const char *path)
{
    static const size_t max = EXIF_READ_MAX;
    uint8_t *buf = av_malloc(max);
    FILE *f = NULL;
    size_t n;
    int rot = 0;

    if (!buf)
        return 0;
    f = fopen(path, "rb");
    if (!f)
        goto out;
    n = fread(buf, 1, max, f);
    rot = media_jpeg_rotation(buf, n);
out:
    if (f)
        fclose(f);
    av_free(buf);
    return rot;
}
