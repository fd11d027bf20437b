/*
 * test_media_pixels.c - the pixel limit of the media library: a picture or video larger than
 * max_pixels is refused by the probe and the sampler, from its header, with its size and the
 * limit in the message; the default is AITAG_MEDIA_MAX_PIXELS_DEFAULT. The 16000x16000 PNG and
 * the memory it would take are tests/integration/gateway_tag_pixels.sh's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/media.h"
#include "check.h"

static char dir[] = "/tmp/aitag_test_pixels_XXXXXX";

#include "media_fixtures.h"

static void test_probe(void)
{
    struct aitag_probe p;

    CHECK_EQ_INT(aitag_media_probe_max(fx("2mp.png"), 1000000, &p), AITAG_ERR_MEDIA);
    CHECK(strstr(p.error, "2000x1000 (2.0 megapixels)") != NULL);
    CHECK(strstr(p.error, "limit of 1.0 megapixels") != NULL);
    CHECK_EQ_INT(aitag_media_probe_max(fx("2mp.png"), 2000000, &p), 0); /* at the limit: fine */
    CHECK_EQ_INT(p.width, 2000);
    CHECK_EQ_INT(aitag_media_probe(fx("2mp.png"), &p), 0); /* the default: 64 megapixels */
    CHECK_EQ_INT(aitag_media_probe_max(fx("2mp.mp4"), 1999999, &p), AITAG_ERR_MEDIA);
    CHECK(strstr(p.error, "2000x1000") != NULL);
    CHECK_EQ_INT(aitag_media_probe_max(fx("2mp.mp4"), 0, &p), 0); /* 0: the default */
    CHECK_EQ_INT(p.kind, AITAG_MEDIA_VIDEO);
}

static void test_sampler(void)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    char err[256] = "";

    CHECK(sp.max_pixels == AITAG_MEDIA_MAX_PIXELS_DEFAULT);
    sp.max_pixels = 1000000;
    CHECK(aitag_sampler_open(fx("2mp.png"), &sp, &s, err, sizeof err) < 0);
    CHECK(s == NULL);
    CHECK(strstr(err, "over the limit of 1.0 megapixels") != NULL);
    CHECK(aitag_sampler_open(fx("2mp.mp4"), &sp, &s, err, sizeof err) < 0);
    sp.max_pixels = 2000000;
    CHECK_EQ_INT(aitag_sampler_open(fx("2mp.mp4"), &sp, &s, err, sizeof err), 0);
    if (s) {
        CHECK_EQ_INT(aitag_sampler_next(s, &f), 1);
        CHECK(f != NULL && f->src_w == 2000 && f->src_h == 1000);
        aitag_frame_free(f);
        aitag_sampler_close(s);
    }
}

int main(void)
{
    char cmd[600];

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    CHECK_EQ_INT(ffmpeg_make("-f lavfi -i testsrc2=s=2000x1000 -frames:v 1", "2mp.png"), 0);
    CHECK_EQ_INT(
        ffmpeg_make("-f lavfi -i testsrc2=s=2000x1000:r=5:d=1 -c:v libx264 -preset ultrafast "
                    "-pix_fmt yuv420p",
                    "2mp.mp4"),
        0);
    test_probe();
    test_sampler();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return check_done();
}
