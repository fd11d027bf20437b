/*
 * test_faceid.c - the face identity metrics (tests/tools/faceid_lib.h): box IoU and motion, ROC
 * AUC with ties, true accept rate at a fixed false accept rate, cluster purity and splits.
 * Expected values are worked out by hand in the comments.
 */
#include "check.h"
#include "tools/faceid_lib.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_iou(void)
{
    struct faceid_box a = {0, 0, 2, 2}, b = {1, 1, 2, 2}, c = {5, 5, 1, 1}, e = {0, 0, 0, 1};
    struct faceid_box m = faceid_lerp(a, c, 0.5);

    CHECK_NEAR(faceid_iou(a, a), 1.0, 1e-12);
    CHECK_NEAR(faceid_iou(a, b), 1.0 / 7.0, 1e-12); /* overlap 1, union 4 + 4 - 1 */
    CHECK_NEAR(faceid_iou(a, c), 0.0, 1e-12);
    CHECK_NEAR(faceid_iou(a, e), 0.0, 1e-12); /* empty box */
    CHECK_NEAR(m.x, 2.5, 1e-12);
    CHECK_NEAR(m.w, 1.5, 1e-12);
}

static void test_auc(void)
{
    double gen[] = {0.9, 0.8, 0.4}, imp[] = {0.1, 0.5, 0.2, 0.3};
    double tie_g[] = {0.5}, tie_i[] = {0.5, 0.4};
    double sep_g[] = {0.9, 0.95}, sep_i[] = {0.1, 0.2, 0.3};

    /* 0.4 beats 3 of 4 impostors, 0.8 and 0.9 beat all: 11 / 12 */
    CHECK_NEAR(faceid_auc(gen, N(gen), imp, N(imp)), 11.0 / 12.0, 1e-12);
    /* a tie counts one half: (0.5 + 1) / 2 */
    CHECK_NEAR(faceid_auc(tie_g, 1, tie_i, 2), 0.75, 1e-12);
    CHECK_NEAR(faceid_auc(sep_g, 2, sep_i, 3), 1.0, 1e-12);
    CHECK_NEAR(faceid_auc(sep_i, 3, sep_g, 2), 0.0, 1e-12); /* swapped: always loses */
    CHECK(faceid_auc(gen, 0, imp, N(imp)) < 0);
}

static void test_tar(void)
{
    double gen[] = {0.9, 0.8, 0.4, 0.25}, imp[10], thr;

    for (int i = 0; i < 10; i++)
        imp[i] = 0.05 * i; /* 0 .. 0.45 */
    /* FAR 10%: one impostor of 10 may pass; threshold = 2nd highest = 0.40 and 0.4 is not
     * strictly above it: TAR 2/4 */
    CHECK_NEAR(faceid_tar_at_far(gen, 4, imp, 10, 0.1, &thr), 0.5, 1e-12);
    CHECK_NEAR(thr, 0.40, 1e-12);
    CHECK_NEAR(faceid_above(imp, 10, thr), 0.1, 1e-12);
    /* FAR 0: above the highest impostor, 0.45 */
    CHECK_NEAR(faceid_tar_at_far(gen, 4, imp, 10, 0.0, &thr), 0.5, 1e-12);
    CHECK_NEAR(thr, 0.45, 1e-12);
    /* FAR 30%: threshold 0.30, 0.4 now passes, 0.25 does not */
    CHECK_NEAR(faceid_tar_at_far(gen, 4, imp, 10, 0.3, &thr), 0.75, 1e-12);
    CHECK(faceid_tar_at_far(gen, 4, imp, 0, 0.1, &thr) < 0);
}

static void test_purity(void)
{
    /* identities 0 0 0 1 1 2 ; clusters 7 7 9 9 9 -1: cluster 7 = {0, 0}, 9 = {0, 1, 1};
     * purity (2 + 2) / 5; identity 0 is split over 7 and 9; identity 2 has no cluster */
    int id[] = {0, 0, 0, 1, 1, 2, -1};
    long long cl[] = {7, 7, 9, 9, 9, -1, 7};
    struct faceid_purity r;

    CHECK_EQ_INT(faceid_purity(id, cl, N(id), 3, &r), 0);
    CHECK_NEAR(r.purity, 0.8, 1e-12);
    CHECK_EQ_INT(r.clusters, 2);
    CHECK_EQ_INT(r.clustered, 5); /* the face of no known identity is not scored */
    CHECK_EQ_INT(r.unassigned, 1);
    CHECK_EQ_INT(r.split, 1);
    /* a perfect clustering */
    {
        int id2[] = {0, 0, 1, 1};
        long long cl2[] = {3, 3, 4, 4};
        CHECK_EQ_INT(faceid_purity(id2, cl2, 4, 2, &r), 0);
        CHECK_NEAR(r.purity, 1.0, 1e-12);
        CHECK_EQ_INT(r.split, 0);
    }
    /* nothing clustered: purity 1 by convention, every face unassigned */
    {
        int id3[] = {0, 1};
        long long cl3[] = {-1, -1};
        CHECK_EQ_INT(faceid_purity(id3, cl3, 2, 2, &r), 0);
        CHECK_EQ_INT(r.clustered, 0);
        CHECK_EQ_INT(r.unassigned, 2);
    }
}

int main(void)
{
    test_iou();
    test_auc();
    test_tar();
    test_purity();
    return check_done();
}
