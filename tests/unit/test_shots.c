/*
 * test_shots.c - shot boundaries (src/media/shots.c through the sampler), on clips built at
 * test time from real photos (deps/photos faces, Debian darknet's animals), 320x180 at 25 fps
 * with a slow zoom and temporal grain, so the ground truth is known by construction:
 *   cuts       twelve shots of uneven length (1.2-2.8 s), hard cuts; encoded twice, once with
 *              x264's scene-cut keyframes and once without (scenecut=0, keyint 250).
 *   gradual    six 3 s shots joined by a fade through black (2.5 s), a 1 s dissolve (4.5 s),
 *              a hard cut (7 s), a dissolve (9.5 s) and a fade through black (11.5 s).
 *   grid       four 4 s shots, keyframes every 2 s and nowhere else (x264 -g 50, scenecut=0):
 *              the cuts fall on the keyframe period, so keyframes alone can tell them only by
 *              the picture across each keyframe.
 *   motion     a 10 s pan across one photo, a hard cut, a 6 s zoom into another (as the
 *              sampling bench's clips move): the one cut and nothing else (the pan, linear
 *              enough on the detector's thumbnails, once made ten dissolves).
 * Every frame decoded (exact sampling at the frame rate): cuts come from frame differences
 * alone (no scene-cut keyframes to help) and fades and dissolves from the frames; precision and
 * recall must reach 0.95 on cuts and 0.8 on fades and dissolves, each of its kind. Keyframes
 * alone (adaptive sampling decoding nothing but them): cuts come from the keyframe placement.
 * Adaptive sampling's next_at yields, in any order, the very frames exact sampling yields.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/media.h"
#include "check.h"

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y "
#define FPS 25

static char dir[] = "/tmp/aitag_test_shots_XXXXXX";
static const char *photos[] = {"sample1", "dog",    "sample2", "eagle", "sample3", "giraffe",
                               "sample4", "horses", "sample5", "kite",  "sample6", "person"};
static const int cut_frames[] = {40, 55, 30, 70, 45, 38, 60, 50, 33, 65, 42, 48};

static const char *photo_path(int i, char *buf, size_t len)
{
    if (strncmp(photos[i], "sample", 6) == 0)
        return aitag_fmt(buf, len, "%s/photos/%s.jpg", AITAG_DEPS_DIR, photos[i]);
    return aitag_fmt(buf, len, "/usr/share/darknet/data/%s.jpg", photos[i]);
}

/* Appends to cmd the inputs and the filter text of n shots of frames[i] frames each, labelled
 * [s0] ... (filter text into fc). */
static void shots_graph(char *in, size_t in_len, char *fc, size_t fc_len, int n, const int *frames)
{
    char p[512];

    in[0] = fc[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t l = strlen(in), m = strlen(fc);
        aitag_fmt(in + l, in_len - l, " -i %s", photo_path(i % 12, p, sizeof p));
        aitag_fmt(fc + m, fc_len - m,
                  "[%d:v]scale=320:180:force_original_aspect_ratio=decrease,"
                  "pad=320:180:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,"
                  "zoompan=z='1+0.0015*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
                  ":d=%d:s=320x180:fps=%d[s%d];",
                  i, frames[i], FPS, i);
    }
}

/* Encodes n shots of frames[i] frames each (shots_graph), joined by the filter text join
 * (taking [s0] ... and giving one stream; NULL: all of them concatenated), with grain, through
 * x264 with the options x264. */
static int encode_shots(const char *out, int n, const int *frames, const char *join,
                        const char *x264)
{
    char in[4096], fc[8192], cmd[16384];
    size_t m;

    shots_graph(in, sizeof in, fc, sizeof fc, n, frames);
    for (int i = 0; !join && i < n; i++) {
        m = strlen(fc);
        aitag_fmt(fc + m, sizeof fc - m, "[s%d]", i);
    }
    m = strlen(fc);
    if (join)
        aitag_fmt(fc + m, sizeof fc - m, "%s,noise=alls=10:allf=t", join);
    else
        aitag_fmt(fc + m, sizeof fc - m, "concat=n=%d:v=1:a=0,noise=alls=10:allf=t", n);
    aitag_fmt(cmd, sizeof cmd,
              FF "%s -filter_complex \"%s\" -c:v libx264 -preset veryfast -crf 23 %s "
                 "-pix_fmt yuv420p %s",
              in, fc, x264, out);
    return system(cmd);
}

static int make_cuts(const char *out, const char *x264)
{
    return encode_shots(out, 12, cut_frames, NULL, x264);
}

static int make_gradual(const char *out)
{
    static const int frames[] = {75, 75, 75, 75, 75, 75};

    return encode_shots(out, 6, frames,
                        "[s0][s1]xfade=transition=fadeblack:duration=1:offset=2[x1];"
                        "[x1][s2]xfade=transition=fade:duration=1:offset=4[x2];"
                        "[s3][s4]xfade=transition=fade:duration=1:offset=2[y1];"
                        "[y1][s5]xfade=transition=fadeblack:duration=1:offset=4[y2];"
                        "[x2][y2]concat=n=2:v=1:a=0",
                        "-g 250 -x264-params scenecut=0");
}

static int make_grid(const char *out)
{
    static const int frames[] = {100, 100, 100, 100};

    return encode_shots(out, 4, frames, NULL, "-g 50 -keyint_min 50 -x264-params scenecut=0");
}

static int make_motion(const char *out)
{
    char p1[512], p2[512], cmd[4096];
    /* 1.5x oversampling before zoompan keeps its integer crop steps from shaking the picture */
    const char *fit = "scale=480:270:force_original_aspect_ratio=increase,crop=480:270,setsar=1,";

    aitag_fmt(cmd, sizeof cmd,
              FF "-i %s -i %s -filter_complex \"[0:v]%szoompan=z='1.2':x='(iw-iw/zoom)*on/250'"
                 ":y='ih/2-(ih/zoom/2)':d=250:s=320x180:fps=%d[a];[1:v]%szoompan="
                 "z='min(1+0.2*on/150,1.2)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=150"
                 ":s=320x180:fps=%d[b];[a][b]concat=n=2:v=1:a=0,noise=alls=10:allf=t+u,"
                 "format=yuv420p\" -c:v libx264 -preset veryfast -crf 23 -g 250 %s",
              photo_path(10, p1, sizeof p1), photo_path(6, p2, sizeof p2), fit, FPS, fit, FPS, out);
    return system(cmd);
}

/* Shots of path with every frame decoded (keys_only = 0) or, through adaptive sampling, only
 * the keyframes. */
static int detect(const char *path, int keys_only, struct aitag_shot **shots, size_t *n)
{
    static const struct aitag_view_spec view = {64, 36, AITAG_FIT_LETTERBOX, 0};
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f;
    char err[256];
    int rc;

    *shots = NULL; /* a failed open leaves nothing of the last call's shots */
    *n = 0;
    sp.views = &view;
    sp.n_views = 1;
    sp.threads = 2;
    sp.shots = 1;
    sp.interval = 1.0 / FPS;
    sp.strategy = AITAG_SAMPLER_SEQUENTIAL;
    sp.sampling = keys_only ? AITAG_SAMPLING_ADAPTIVE : AITAG_SAMPLING_EXACT;
    rc = aitag_sampler_open(path, &sp, &s, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        return rc;
    }
    if (keys_only) {
        size_t nk;
        const double *keys = aitag_sampler_keyframes(s, &nk);
        CHECK(nk >= 2);
        for (size_t i = 0; i < nk && rc >= 0; i++) {
            rc = aitag_sampler_next_at(s, keys[i], 1, i + 1 < nk ? keys[i + 1] : -1, &f);
            if (rc > 0) {
                CHECK_NEAR(f->t, keys[i], 1e-3);
                aitag_frame_free(f);
            }
        }
        /* the keyframes, and at most a few frames the decoder had taken in meanwhile */
        CHECK(aitag_sampler_frames_decoded(s) >= (long)nk);
        CHECK(aitag_sampler_frames_decoded(s) <= 3 * (long)nk);
    } else {
        while ((rc = aitag_sampler_next(s, &f)) > 0)
            aitag_frame_free(f);
    }
    if (rc >= 0)
        rc = aitag_sampler_shots(s, shots, n);
    aitag_sampler_close(s);
    return rc;
}

/* The first frame at or after t by exact sampling (start = t): its time and 64x36 view. */
static double exact_frame(const char *path, double t, uint8_t *px)
{
    static const struct aitag_view_spec view = {64, 36, AITAG_FIT_LETTERBOX, 0};
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    double ft = -1;

    sp.views = &view;
    sp.n_views = 1;
    sp.start = t;
    sp.interval = 1000;
    if (aitag_sampler_open(path, &sp, &s, NULL, 0) == 0 && aitag_sampler_next(s, &f) > 0) {
        ft = f->t;
        memcpy(px, f->views[0].rgb, 64 * 36 * 3);
    }
    aitag_frame_free(f);
    aitag_sampler_close(s);
    return ft;
}

/* next_at in any order (ahead, behind, keyframes, past the end) yields what exact sampling
 * yields for each time, pixel for pixel (no deblocking skipped here). */
static void check_next_at(const char *path)
{
    static const struct aitag_view_spec view = {64, 36, AITAG_FIT_LETTERBOX, 0};
    static const double times[] = {5.3, 1.1, 9.87, 9.9, 0.0, 21.9, 3.0};
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    uint8_t want[64 * 36 * 3];

    sp.views = &view;
    sp.n_views = 1;
    sp.threads = 2;
    sp.sampling = AITAG_SAMPLING_ADAPTIVE;
    CHECK(aitag_sampler_open(path, &sp, &s, NULL, 0) == 0);
    for (size_t i = 0; s && i < sizeof times / sizeof *times; i++) {
        double wt = exact_frame(path, times[i], want);
        CHECK_EQ_INT(aitag_sampler_next_at(s, times[i], 0, -1, &f), 1);
        if (!f)
            continue;
        CHECK_NEAR(f->t, wt, 1e-6);
        CHECK(memcmp(f->views[0].rgb, want, sizeof want) == 0);
        aitag_frame_free(f);
        f = NULL;
    }
    CHECK_EQ_INT(aitag_sampler_next_at(s, 30.0, 0, -1, &f), 0); /* past the end */
    CHECK_EQ_INT(aitag_sampler_next_at(s, 2.0, 0, -1, &f), 1);  /* and back */
    CHECK(f && f->t >= 2.0 && f->t < 2.0 + 1.0 / FPS);
    aitag_frame_free(f);
    aitag_sampler_close(s);
}

struct truth {
    double t;
    int edge;
};

/* Precision and recall of the boundaries of kind `edge` (gradual = fade or dissolve matched
 * by kind) within tol seconds; prints every boundary found. */
static void score(const char *what, const struct aitag_shot *shots, size_t n,
                  const struct truth *tr, size_t n_tr, int edge, double tol, double min_pr)
{
    size_t found = 0, correct = 0, want = 0, hit = 0;

    for (size_t i = 1; i < n; i++) {
        fprintf(stderr, "  %s: %.3f %s %.2f\n", what, shots[i].start,
                aitag_shot_edge_name(shots[i].edge), shots[i].confidence);
        if (shots[i].edge != edge)
            continue;
        found++;
        for (size_t k = 0; k < n_tr; k++)
            if (tr[k].edge == edge && fabs(tr[k].t - shots[i].start) <= tol) {
                correct++;
                break;
            }
    }
    for (size_t k = 0; k < n_tr; k++) {
        if (tr[k].edge != edge)
            continue;
        want++;
        for (size_t i = 1; i < n; i++)
            if (shots[i].edge == edge && fabs(tr[k].t - shots[i].start) <= tol) {
                hit++;
                break;
            }
    }
    fprintf(stderr, "%s %s: precision %zu/%zu recall %zu/%zu\n", what, aitag_shot_edge_name(edge),
            correct, found, hit, want);
    CHECK(want > 0 && found > 0);
    CHECK(found && (double)correct / (double)found >= min_pr);
    CHECK(want && (double)hit / (double)want >= min_pr);
}

static void check_tiling(const struct aitag_shot *shots, size_t n, double duration)
{
    CHECK(n >= 1 && shots[0].start == 0 && shots[0].edge == AITAG_SHOT_START);
    for (size_t i = 0; i + 1 < n; i++)
        CHECK(shots[i].end == shots[i + 1].start && shots[i].end > shots[i].start);
    CHECK(n && fabs(shots[n - 1].end - duration) < 0.1);
}

int main(void)
{
    char cuts_key[128], cuts_plain[128], gradual[128], motion[128], grid[128];
    struct truth tr[16];
    struct aitag_shot *shots = NULL;
    size_t n = 0, k = 0;
    double t = 0;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    aitag_fmt(cuts_key, sizeof cuts_key, "%s/cuts_key.mp4", dir);
    aitag_fmt(cuts_plain, sizeof cuts_plain, "%s/cuts_plain.mp4", dir);
    aitag_fmt(gradual, sizeof gradual, "%s/gradual.mp4", dir);
    aitag_fmt(motion, sizeof motion, "%s/motion.mp4", dir);
    aitag_fmt(grid, sizeof grid, "%s/grid.mp4", dir);
    CHECK(make_cuts(cuts_key, "-g 250") == 0);
    CHECK(make_cuts(cuts_plain, "-g 250 -x264-params scenecut=0") == 0);
    CHECK(make_gradual(gradual) == 0);
    CHECK(make_motion(motion) == 0);
    CHECK(make_grid(grid) == 0);
    for (int i = 0; i < 11; i++) {
        t += cut_frames[i] / (double)FPS;
        tr[k++] = (struct truth){t, AITAG_SHOT_CUT};
    }
    t += cut_frames[11] / (double)FPS;

    check_next_at(cuts_plain);
    /* every frame, no scene-cut keyframes: the frames find the cuts */
    CHECK(detect(cuts_plain, 0, &shots, &n) == 0);
    score("dense", shots, n, tr, k, AITAG_SHOT_CUT, 0.05, 0.95);
    check_tiling(shots, n, t);
    free(shots);
    /* keyframes only: x264's scene-cut keyframes find them */
    CHECK(detect(cuts_key, 1, &shots, &n) == 0);
    score("keyframes", shots, n, tr, k, AITAG_SHOT_CUT, 0.05, 0.95);
    check_tiling(shots, n, t);
    free(shots);
    /* keyframes only without scene-cut keyframes: nothing to go on, and nothing is made up */
    CHECK(detect(cuts_plain, 1, &shots, &n) == 0);
    CHECK_EQ_INT(n, 1);
    free(shots);

    k = 0;
    tr[k++] = (struct truth){2.5, AITAG_SHOT_FADE};
    tr[k++] = (struct truth){4.5, AITAG_SHOT_DISSOLVE};
    tr[k++] = (struct truth){7.0, AITAG_SHOT_CUT};
    tr[k++] = (struct truth){9.5, AITAG_SHOT_DISSOLVE};
    tr[k++] = (struct truth){11.5, AITAG_SHOT_FADE};
    CHECK(detect(gradual, 0, &shots, &n) == 0);
    score("gradual", shots, n, tr, k, AITAG_SHOT_FADE, 0.3, 0.8);
    score("gradual", shots, n, tr, k, AITAG_SHOT_DISSOLVE, 0.5, 0.8);
    score("gradual", shots, n, tr, k, AITAG_SHOT_CUT, 0.05, 0.95);
    check_tiling(shots, n, 14.0);
    free(shots);

    /* keyframes only, every one on the 2 s period: the cuts at 4, 8 and 12 s are told by the
     * picture, those at 2, 6, 10 and 14 s (inside a shot) are not cuts */
    k = 0;
    for (int i = 1; i < 4; i++)
        tr[k++] = (struct truth){4.0 * i, AITAG_SHOT_CUT};
    CHECK(detect(grid, 1, &shots, &n) == 0);
    score("grid", shots, n, tr, k, AITAG_SHOT_CUT, 0.05, 0.95);
    check_tiling(shots, n, 16.0);
    free(shots);

    /* a pan and a zoom, one cut between: that cut, no fade or dissolve */
    k = 0;
    tr[k++] = (struct truth){10.0, AITAG_SHOT_CUT};
    CHECK(detect(motion, 0, &shots, &n) == 0);
    score("motion", shots, n, tr, k, AITAG_SHOT_CUT, 0.05, 0.95);
    CHECK_EQ_INT(n, 2);
    check_tiling(shots, n, 16.0);
    free(shots);

    {
        char cmd[256];
        aitag_fmt(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
    return check_done();
}
