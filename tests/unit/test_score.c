/*
 * test_score.c - the accuracy scorer's metrics (tests/tools/score_lib.h): interval union,
 * temporal IoU, no-face gap cores, text normalisation and CER.
 */
#include "check.h"
#include "tools/score_lib.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_union(void)
{
    struct score_interval iv[] = {{10, 12}, {0, 4}, {3, 6}, {6, 8}, {20, 19}, {11, 11.5}};
    size_t n = score_union(iv, N(iv));

    /* [0,4]+[3,6]+[6,8] merge (touching counts), [11,11.5] is inside [10,12], [20,19] drops. */
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(iv[0].start, 0, 1e-9);
    CHECK_NEAR(iv[0].end, 8, 1e-9);
    CHECK_NEAR(iv[1].start, 10, 1e-9);
    CHECK_NEAR(iv[1].end, 12, 1e-9);
    CHECK_NEAR(score_length(iv, n), 10, 1e-9);
    CHECK_EQ_INT(score_union(iv, 0), 0);
}

static void test_iou(void)
{
    struct score_interval truth[] = {{0, 15.5}, {45, 60}};
    struct score_interval got[] = {{0, 16}, {44, 60}};
    struct score_interval far[] = {{20, 40}};
    struct score_interval half[] = {{0, 15.5}};

    /* intersection 15.5 + 15 = 30.5; union 16 + 16 = 32 */
    CHECK_NEAR(score_intersection(truth, 2, got, 2), 30.5, 1e-9);
    CHECK_NEAR(score_iou(truth, 2, got, 2), 30.5 / 32, 1e-9);
    CHECK_NEAR(score_iou(got, 2, truth, 2), 30.5 / 32, 1e-9);
    CHECK_NEAR(score_iou(truth, 2, truth, 2), 1.0, 1e-12);
    CHECK_NEAR(score_iou(truth, 2, far, 1), 0.0, 1e-12);
    CHECK_NEAR(score_iou(truth, 2, half, 1), 15.5 / 30.5, 1e-9);
    /* empty against empty agrees; empty against something does not */
    CHECK_NEAR(score_iou(NULL, 0, NULL, 0), 1.0, 1e-12);
    CHECK_NEAR(score_iou(truth, 2, NULL, 0), 0.0, 1e-12);
    CHECK_NEAR(score_iou(NULL, 0, far, 1), 0.0, 1e-12);
}

static void test_gap_cores(void)
{
    struct score_interval truth[] = {{2.6, 17.2}, {25.8, 40}};
    struct score_interval cores[3];
    size_t n = score_gap_cores(truth, 2, 40, 2.5, cores, N(cores));

    /* [0,2.6] shrinks on its right side only to [0,0.1]; [17.2,25.8] on both to [19.7,23.3]. */
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(cores[0].start, 0, 1e-9);
    CHECK_NEAR(cores[0].end, 0.1, 1e-9);
    CHECK_NEAR(cores[1].start, 19.7, 1e-9);
    CHECK_NEAR(cores[1].end, 23.3, 1e-9);

    /* No faces at all: the whole video is one core, no shrinking. */
    n = score_gap_cores(NULL, 0, 30, 2.5, cores, N(cores));
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(cores[0].start, 0, 1e-9);
    CHECK_NEAR(cores[0].end, 30, 1e-9);

    /* Faces everywhere: nothing left. A short gap vanishes under the slack. */
    {
        struct score_interval all[] = {{0, 20}}, close[] = {{0, 9}, {13, 20}};
        CHECK_EQ_INT(score_gap_cores(all, 1, 20, 2.5, cores, N(cores)), 0);
        CHECK_EQ_INT(score_gap_cores(close, 2, 20, 2.5, cores, N(cores)), 0);
    }
}

static void test_normalize(void)
{
    uint32_t cp[16];
    size_t n = score_normalize(" we\tLc\xc3\xa9 \xe3\x80\x80x\n", cp, N(cp));

    /* spaces, tab, newline and U+3000 dropped; ASCII upper-cased; U+00E9 kept as is */
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(cp[0], 'W');
    CHECK_EQ_INT(cp[1], 'E');
    CHECK_EQ_INT(cp[2], 'L');
    CHECK_EQ_INT(cp[3], 'C');
    CHECK_EQ_INT(cp[4], 0xE9);
    CHECK_EQ_INT(cp[5], 'X');
    /* counting only, and invalid or truncated UTF-8 gives one U+FFFD per bad byte */
    CHECK_EQ_INT(score_normalize("abc", NULL, 0), 3);
    n = score_normalize("a\xff\xe3\x80", cp, N(cp));
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(cp[1], 0xFFFD);
    CHECK_EQ_INT(cp[2], 0xFFFD);
    CHECK_EQ_INT(cp[3], 0xFFFD);
    CHECK_EQ_INT(score_normalize("\xe4\xb8\xad\xe6\x96\x87", NULL, 0), 2); /* two CJK chars */
}

static void test_levenshtein(void)
{
    uint32_t a[] = {'K', 'I', 'T', 'T', 'E', 'N'}, b[] = {'S', 'I', 'T', 'T', 'I', 'N', 'G'};

    CHECK_EQ_INT(score_levenshtein(a, N(a), b, N(b)), 3);
    CHECK_EQ_INT(score_levenshtein(b, N(b), a, N(a)), 3);
    CHECK_EQ_INT(score_levenshtein(a, N(a), a, N(a)), 0);
    CHECK_EQ_INT(score_levenshtein(a, N(a), NULL, 0), 6);
    CHECK_EQ_INT(score_levenshtein(NULL, 0, b, N(b)), 7);
}

static void test_cer(void)
{
    /* PaddleOCR drops spaces and may change case: both are free. */
    CHECK_NEAR(score_cer("WELCOME TO THE PARTY", "WELCOMETOTHEPARTY"), 0.0, 1e-12);
    CHECK_NEAR(score_cer("WELCOME TO THE PARTY", "welcome to the party"), 0.0, 1e-12);
    /* 17 letters; one substitution (O -> 0) */
    CHECK_NEAR(score_cer("WELCOME TO THE PARTY", "WELC0ME TO THE PARTY"), 1.0 / 17, 1e-12);
    /* one deletion and one insertion */
    CHECK_NEAR(score_cer("GAME OVER", "GAM OVERR"), 2.0 / 8, 1e-12);
    CHECK_NEAR(score_cer("GAME OVER", ""), 1.0, 1e-12);
    CHECK_NEAR(score_cer("", ""), 0.0, 1e-12);
    CHECK_NEAR(score_cer("", "x"), 1.0, 1e-12);
    CHECK_NEAR(score_cer("   ", ""), 0.0, 1e-12);
    /* a long wrong reading is not capped at 1 */
    CHECK(score_cer("AB", "XXXXXXXX") > 1.0);
    /* code points, not bytes: one CJK substitution in 2 characters */
    CHECK_NEAR(score_cer("\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe5\xad\x97"), 0.5, 1e-12);
    /* the scorer's pass mark 0.10 on 18 letters: one error passes, two fail */
    CHECK(score_cer("SAFARI PARK ENTRANCE", "SAFAR1 PARK ENTRANCE") <= 0.10);
    CHECK(score_cer("SAFARI PARK ENTRANCE", "SAFAR1 PARK ENTRANC") > 0.10);
}

int main(void)
{
    test_union();
    test_iou();
    test_gap_cores();
    test_normalize();
    test_levenshtein();
    test_cer();
    return check_done();
}
