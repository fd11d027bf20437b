/*
 * test_adaptive_plan.c - the coarse-to-fine planner's decisions (src/pipeline/adaptive.c), on
 * hand-made timelines: which times the first round asks (keyframes thinned to the same-findings
 * gap, cuts, fillers), splitting where findings change and no cut explains it, no bisection
 * where a cut does (one sample before the cut when a finding ends there), none between two far
 * samples that agree (up to the any-gap bound), the tail, and the end of refinement (resolution
 * reached, a time never asked twice). Defaults for a 2 s interval and the policy's 6 s max_gap at
 * 30 fps: resolution 1 s, same_gap 7.9 s, any_gap 15.8 s, cut_lead 2 s.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "pipeline/adaptive.h"

static uint64_t A, B;

static struct adaptive_plan *plan(const double *keys, size_t nk, const double *cuts, size_t nc,
                                  double duration)
{
    struct adaptive_params p = pipeline_adaptive_params(2.0, 6.0, 0, 0, duration, 30.0);
    struct adaptive_plan *pl = NULL;

    CHECK_EQ_INT(p.splits, 16);
    p.splits = 4; /* the tests below follow bisection over rounds: four parts a round */
    CHECK(pipeline_adaptive_new(&p, keys, nk, cuts, nc, &pl) == 0);
    return pl;
}

/* Adds a sample with findings "A" (a = 1), "B" (b = 1), both or none. */
static void add(struct adaptive_plan *pl, double t, int a, int b)
{
    uint64_t sig[2];
    size_t n = 0;

    if (a)
        sig[n++] = A;
    if (b)
        sig[n++] = B;
    CHECK(pipeline_adaptive_add(pl, t, sig, n, 0) == 0);
}

/* The next round: its times in t (at most 16), how many in *n. */
static size_t refine(struct adaptive_plan *pl, double *t, int *key)
{
    struct adaptive_req *r = NULL;
    size_t n = 0;

    CHECK(pipeline_adaptive_refine(pl, &r, &n) == 0);
    for (size_t i = 0; i < n && i < 16; i++) {
        t[i] = r[i].t;
        if (key)
            key[i] = r[i].key;
    }
    free(r);
    return n;
}

static void test_coarse(void)
{
    /* keyint 250 at 30 fps (8.33 s) with a cut at 20 (its own keyframe) */
    double keys[] = {0, 8.333, 16.667, 20, 28.333, 36.667};
    double cuts[] = {20};
    struct adaptive_plan *pl = plan(keys, 6, cuts, 1, 40);
    struct adaptive_req *r = NULL;
    size_t n = 0;

    CHECK(pipeline_adaptive_coarse(pl, &r, &n) == 0);
    CHECK_EQ_INT(n, 6); /* every keyframe: each is more than same_gap from the next but one */
    for (size_t i = 0; i < n && i < 6; i++) {
        CHECK_NEAR(r[i].t, keys[i], 1e-9);
        CHECK(r[i].key);
    }
    free(r);
    pipeline_adaptive_free(pl);

    /* keyframes every 2 s: thinned to the farthest within same_gap of the one before; the cut
     * at 13.5 (not a keyframe) is asked exactly and the thinning goes on from it */
    double dense[20];
    for (int i = 0; i < 20; i++)
        dense[i] = 2.0 * i;
    double cut2[] = {13.5};
    pl = plan(dense, 20, cut2, 1, 40);
    CHECK(pipeline_adaptive_coarse(pl, &r, &n) == 0);
    double want[] = {0, 6, 13.5, 20, 26, 32, 38};
    int want_key[] = {1, 1, 0, 1, 1, 1, 1};
    CHECK_EQ_INT(n, 7);
    for (size_t i = 0; i < n && i < 7; i++) {
        CHECK_NEAR(r[i].t, want[i], 1e-9);
        CHECK_EQ_INT(r[i].key, want_key[i]);
    }
    free(r);
    pipeline_adaptive_free(pl);

    /* no keyframe index: fillers so that no gap exceeds any_gap (15.8 s) */
    pl = plan(NULL, 0, NULL, 0, 60);
    CHECK(pipeline_adaptive_coarse(pl, &r, &n) == 0);
    CHECK_EQ_INT(n, 4); /* 0, 15, 30, 45 */
    for (size_t i = 1; i < n; i++)
        CHECK(r[i].t - r[i - 1].t <= 15.8 && !r[i].key);
    CHECK(n && 60 - r[n - 1].t <= 15.8);
    free(r);
    pipeline_adaptive_free(pl);
}

static void test_bisection(void)
{
    double t[16];
    struct adaptive_plan *pl = plan(NULL, 0, NULL, 0, 30);

    /* "A" until somewhere between 0 and 8, nothing after, no cut: split in four parts, then
     * in two, down to 1 s */
    add(pl, 0, 1, 0);
    add(pl, 8, 0, 0);
    add(pl, 16, 0, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 3);
    CHECK_NEAR(t[0], 2, 1e-9);
    CHECK_NEAR(t[1], 4, 1e-9);
    CHECK_NEAR(t[2], 6, 1e-9);
    add(pl, 2, 1, 0);
    add(pl, 4, 1, 0);
    add(pl, 6, 0, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 1);
    CHECK_NEAR(t[0], 5, 1e-9);
    add(pl, 5, 1, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 0); /* bracketed within 1 s: done (16..30 empty) */
    CHECK_EQ_INT(pipeline_adaptive_samples(pl), 7);
    pipeline_adaptive_free(pl);

    /* a keyframe in the middle half of the gap is asked instead of the middle */
    double keys[] = {0, 5.5, 12};
    pl = plan(keys, 3, NULL, 0, 12);
    add(pl, 0, 0, 0);
    add(pl, 8, 1, 0);
    int key[16];
    CHECK_EQ_INT(refine(pl, t, key), 2); /* the change, and the tail (A ends with the media) */
    CHECK_NEAR(t[0], 5.5, 1e-9);
    CHECK_EQ_INT(key[0], 1);
    CHECK_NEAR(t[1], 10, 1e-9); /* 12 - cut_lead: the marker reaches the end */
    pipeline_adaptive_free(pl);

    /* a frame that comes back at an old time (nothing between) ends the pair */
    pl = plan(NULL, 0, NULL, 0, 40);
    add(pl, 0, 0, 1);
    add(pl, 1.5, 0, 0);
    add(pl, 16, 0, 0);
    add(pl, 31, 0, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 1);
    CHECK_NEAR(t[0], 0.75, 1e-9);
    add(pl, 1.5, 0, 0); /* the decoder yielded the frame at 1.5 again */
    CHECK_EQ_INT(refine(pl, t, NULL), 0);
    pipeline_adaptive_free(pl);
}

/* A finding that goes away and comes back within same_gap is merged by the policy: where it
 * flickered does not matter, no bisection there; where it goes for good, bisection. */
static void test_bridged(void)
{
    double t[16];
    struct adaptive_plan *pl = plan(NULL, 0, NULL, 0, 30);

    add(pl, 0, 1, 0);
    add(pl, 3, 0, 0);
    add(pl, 6, 1, 0);
    add(pl, 20, 0, 0);
    add(pl, 29.9, 0, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 3); /* only where A goes for good */
    CHECK_NEAR(t[0], 9.5, 1e-9);
    CHECK_NEAR(t[1], 13, 1e-9);
    CHECK_NEAR(t[2], 16.5, 1e-9);
    pipeline_adaptive_free(pl);

    /* the same with the flicker 9 s long: both of its ends are bisected */
    pl = plan(NULL, 0, NULL, 0, 30);
    add(pl, 0, 1, 0);
    add(pl, 3, 0, 0);
    add(pl, 9, 1, 0);
    add(pl, 15, 1, 0);
    add(pl, 29.9, 1, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 5);
    CHECK_NEAR(t[0], 1, 1e-9); /* 3 s: three parts bracket it to 1 s */
    CHECK_NEAR(t[1], 2, 1e-9);
    CHECK_NEAR(t[2], 4.5, 1e-9);
    CHECK_NEAR(t[3], 6, 1e-9);
    CHECK_NEAR(t[4], 7.5, 1e-9); /* 15 .. 29.9: A on both sides, nothing between */
    pipeline_adaptive_free(pl);
}

static void test_cuts(void)
{
    double t[16];
    double keys[] = {0, 7, 16};
    double cuts[] = {16};
    struct adaptive_plan *pl = plan(keys, 3, cuts, 1, 24);

    /* A in shot one, B in shot two: the cut at 16 locates the change; A ends there, so one
     * sample cut_lead before it, none by bisection */
    add(pl, 0, 1, 0);
    add(pl, 7, 1, 0);
    add(pl, 16, 0, 1);
    add(pl, 23.9, 0, 1);
    CHECK_EQ_INT(refine(pl, t, NULL), 1);
    CHECK_NEAR(t[0], 14, 1e-9);
    add(pl, 14, 1, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 0);
    pipeline_adaptive_free(pl);

    /* nothing ends at the cut (B only starts there): no sample before it */
    pl = plan(keys, 3, cuts, 1, 24);
    add(pl, 0, 1, 0);
    add(pl, 7, 1, 0);
    add(pl, 16, 1, 1);
    add(pl, 23.9, 1, 1);
    CHECK_EQ_INT(refine(pl, t, NULL), 0);
    pipeline_adaptive_free(pl);

    /* the cut lies between two samples but has none of its own: asked first */
    double cuts2[] = {13};
    pl = plan(keys, 3, cuts2, 1, 24);
    add(pl, 8, 1, 0);
    add(pl, 16, 0, 1);
    add(pl, 23.9, 0, 1);
    CHECK_EQ_INT(refine(pl, t, NULL), 1);
    CHECK_NEAR(t[0], 13, 1e-9);
    pipeline_adaptive_free(pl);
}

static void test_gaps(void)
{
    double t[16];
    int key[16];
    double keys[] = {0, 8.333, 16.667, 25};
    struct adaptive_plan *pl = plan(keys, 4, NULL, 0, 25.5);

    /* A everywhere, keyframes 8.33 s apart: nothing between (the samples agree, so each hit
     * lasts to the next: pipeline/persist.c, tests/unit/test_persist.c) */
    add(pl, 0, 1, 0);
    add(pl, 8.333, 1, 0);
    add(pl, 16.667, 1, 0);
    add(pl, 25, 1, 0);
    CHECK_EQ_INT(refine(pl, t, key), 0);
    pipeline_adaptive_free(pl);

    /* nothing found anywhere: no sample until gaps exceed any_gap */
    pl = plan(keys, 4, NULL, 0, 25.5);
    add(pl, 0, 0, 0);
    add(pl, 8.333, 0, 0);
    add(pl, 25, 0, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 1);
    CHECK_NEAR(t[0], 16.667, 1e-9); /* 8.33 .. 25 is 16.7 s: split at the keyframe */
    pipeline_adaptive_free(pl);
}

/* Refinement never takes more than twice the frames exact sampling would (2 x duration /
 * interval): a guard against findings that change at every sample. */
static void test_budget(void)
{
    double t[16];
    struct adaptive_plan *pl = plan(NULL, 0, NULL, 0, 3.5); /* 4 frames at most */

    add(pl, 0, 1, 0);
    add(pl, 3, 0, 1);
    add(pl, 3.4, 1, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 1); /* of 1 and 2 (B appears at 3), the first */
    CHECK_NEAR(t[0], 1, 1e-9);
    add(pl, 1, 1, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 0);
    pipeline_adaptive_free(pl);
}

/* With the policy's marker and tag bounds (12 s, 20 s) only edges that can change a marker or
 * a tag are bisected: a finding at one sample whose neighbours are 16.7 s apart (it could be a
 * marker) is; one at two samples whose neighbours are 8 s apart (at most 8 s each, 16 s in
 * all: neither a marker nor the tag can come of it) is not; a long run's end is, a short run's
 * edges beside it (the tag certain already) are not. */
static void test_matters(void)
{
    double t[16];
    double keys[] = {0, 8.333, 16.667, 25, 33.333, 41.667, 50};
    struct adaptive_params p = pipeline_adaptive_params(2.0, 6.0, 12, 20, 60, 30.0);
    struct adaptive_plan *pl = NULL;

    p.splits = 4;
    CHECK_NEAR(p.min_marker, 12, 1e-9);
    CHECK_NEAR(pipeline_adaptive_params(2.0, 6.0, 12, 20, 10, 30.0).required, 5, 1e-9);
    CHECK(pipeline_adaptive_new(&p, keys, 7, NULL, 0, &pl) == 0);
    add(pl, 0, 0, 0);
    add(pl, 8.333, 1, 0); /* A's run: at most 0 .. 16.667 */
    add(pl, 16.667, 0, 0);
    add(pl, 25, 0, 0);
    add(pl, 33.333, 0, 0);
    add(pl, 41.667, 0, 0);
    add(pl, 50, 0, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 6); /* both gaps split in four */
    CHECK(t[0] > 0 && t[2] < 8.333 && t[3] > 8.333 && t[5] < 16.667);
    pipeline_adaptive_free(pl);

    /* B at 4 and 20 between empty samples 4 s away: at most 8 s each, 16 s in all */
    double few[] = {0, 4, 8, 16, 20, 24, 32, 40, 48, 56};
    pl = NULL;
    CHECK(pipeline_adaptive_new(&p, NULL, 0, NULL, 0, &pl) == 0);
    for (size_t i = 0; i < sizeof few / sizeof *few; i++)
        add(pl, few[i], 0, few[i] == 4 || few[i] == 20);
    CHECK_EQ_INT(refine(pl, t, NULL), 0);
    add(pl, 40, 0, 1); /* a third time, between samples 16 s apart: it may be a marker */
    CHECK(refine(pl, t, NULL) > 0);
    pipeline_adaptive_free(pl);

    /* B from 0 to 32 (a marker, the tag certain) and once more at 48 (at most 44 .. 52): only
     * the long run's end is bisected (between 32 and 40), not the short one's edges */
    double runs[] = {0, 8, 16, 24, 32, 40, 44, 48, 52, 56};
    pl = NULL;
    CHECK(pipeline_adaptive_new(&p, NULL, 0, NULL, 0, &pl) == 0);
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++)
        add(pl, runs[i], 0, runs[i] <= 32 || runs[i] == 48);
    CHECK_EQ_INT(refine(pl, t, NULL), 3);
    CHECK(t[0] > 32 && t[2] < 40);
    pipeline_adaptive_free(pl);
}

/* The default splits: a change inside one GOP (keyframes 8.33 s apart) is bracketed to the
 * resolution (1 s) in one round, all of its times decoded in one forward pass from the
 * keyframe before; the next round asks nothing. */
static void test_one_round(void)
{
    double t[16];
    double keys[] = {0, 8.333, 16.667};
    struct adaptive_params p = pipeline_adaptive_params(2.0, 6.0, 0, 0, 20, 30.0);
    struct adaptive_plan *pl = NULL;

    CHECK(pipeline_adaptive_new(&p, keys, 3, NULL, 0, &pl) == 0);
    add(pl, 0, 1, 0);
    add(pl, 8.333, 0, 0);
    add(pl, 16.667, 0, 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 8); /* nine parts of 0.93 s */
    CHECK_NEAR(t[0], 8.333 / 9, 1e-9);
    CHECK_NEAR(t[7], 8 * 8.333 / 9, 1e-9);
    for (int i = 0; i < 8; i++)
        add(pl, t[i], t[i] < 5, 0); /* A ends between 4.6 and 5.6 */
    CHECK_EQ_INT(refine(pl, t, NULL), 0);
    pipeline_adaptive_free(pl);
}

/* A blank sample (a fade's black at a keyframe) gets one more fade_lead (2 s) after it, unless
 * the next sample is that close; a picture that is not blank does not. */
static void test_blank(void)
{
    double t[16];
    double keys[] = {0, 8, 16};
    struct adaptive_plan *pl = plan(keys, 3, NULL, 0, 20);

    CHECK(pipeline_adaptive_add(pl, 0, NULL, 0, 0) == 0);
    CHECK(pipeline_adaptive_add(pl, 8, NULL, 0, 1) == 0);
    CHECK(pipeline_adaptive_add(pl, 16, NULL, 0, 1) == 0);
    CHECK(pipeline_adaptive_add(pl, 17, NULL, 0, 0) == 0);
    CHECK_EQ_INT(refine(pl, t, NULL), 1);
    CHECK_NEAR(t[0], 10, 1e-9);
    pipeline_adaptive_free(pl);
}

int main(void)
{
    A = pipeline_adaptive_hash("objects", "dog");
    B = pipeline_adaptive_hash("faces", "face");
    CHECK(A != B && pipeline_adaptive_hash("objects", "dogfaces") !=
                        pipeline_adaptive_hash("objectsdog", "faces"));
    test_coarse();
    test_bisection();
    test_bridged();
    test_cuts();
    test_gaps();
    test_budget();
    test_matters();
    test_one_round();
    test_blank();
    return check_done();
}
