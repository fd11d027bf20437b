/*
 * test_threshold_fit.c - aitag_threshold_fit: the candidate with the best F1 on the decided
 * items wins (ties: nearest the threshold in force), the expected change counts items that
 * gain or lose the tag, and held-out precision and recall come from two folds.
 */
#include <string.h>

#include "aitag/policy.h"
#include "check.h"

#define NC 5

/* An item whose tag is present at candidates >= its own "score" index: present while the
 * threshold is at most what its evidence reaches. */
static void item(struct aitag_fit_item *it, unsigned char *row, int truth, int fold, int reach)
{
    for (int k = 0; k < NC; k++)
        row[k] = k <= reach;
    *it = (struct aitag_fit_item){truth, fold, row};
}

int main(void)
{
    const float cand[NC] = {0.3f, 0.5f, 0.7f, 0.8f, 0.9f};
    unsigned char rows[8][NC];
    struct aitag_fit_item items[8];
    struct aitag_threshold_fit f;

    /* accepted items reach 0.8 or 0.9; rejected ones only 0.5 or 0.7; undecided: 0.3, 0.8 */
    item(&items[0], rows[0], 1, 0, 3);
    item(&items[1], rows[1], 1, 1, 4);
    item(&items[2], rows[2], 0, 0, 1);
    item(&items[3], rows[3], 0, 1, 2);
    item(&items[4], rows[4], 1, 0, 4);
    item(&items[5], rows[5], 0, 1, 1);
    item(&items[6], rows[6], -1, 0, 0);
    item(&items[7], rows[7], -1, 0, 3);
    CHECK_EQ_INT(aitag_threshold_fit(cand, NC, 1, items, 8, &f), 0);
    CHECK(f.current == 0.5f);
    CHECK(f.proposed == 0.8f); /* 0.8 separates them; 0.9 would lose an accepted one */
    CHECK_EQ_INT(f.decided, 6);
    CHECK_EQ_INT(f.accepted, 3);
    CHECK_EQ_INT(f.rejected, 3);
    CHECK_NEAR(f.f1_current, 2.0 * 3 / (2 * 3 + 3), 1e-9); /* tp 3, fp 3 */
    CHECK_NEAR(f.f1_proposed, 1.0, 1e-9);
    /* at 0.5 present: items 0..5 and 7; at 0.8: 0, 1, 4, 7 */
    CHECK_EQ_INT(f.lost, 3);
    CHECK_EQ_INT(f.false_dropped, 3);
    CHECK_EQ_INT(f.true_dropped, 0);
    CHECK_EQ_INT(f.gained, 0);
    /* held out: fold 1's fit (0.8, nearest 0.5 of the F1 = 1 ones) is right on fold 0; fold
     * 0's (0.7) lets fold 1's rejected item at 0.7 through: 3 true, 1 false in all */
    CHECK_NEAR(f.precision_fitted, 0.75, 1e-9);
    CHECK_NEAR(f.recall_fitted, 1.0, 1e-9);
    CHECK_NEAR(f.precision_current, 0.5, 1e-9);
    CHECK_NEAR(f.recall_current, 1.0, 1e-9);

    /* every judged item accepted: nothing to gain, the threshold stays */
    for (int i = 0; i < 6; i++)
        items[i].truth = 1;
    CHECK_EQ_INT(aitag_threshold_fit(cand, NC, 1, items, 8, &f), 0);
    CHECK(f.proposed == 0.5f); /* a tie goes to the threshold in force */
    CHECK_EQ_INT(f.lost + f.gained, 0);

    /* nothing judged, or a current index out of range: refused */
    for (int i = 0; i < 8; i++)
        items[i].truth = -1;
    CHECK_EQ_INT(aitag_threshold_fit(cand, NC, 1, items, 8, &f), AITAG_ERR_INVALID);
    CHECK_EQ_INT(aitag_threshold_fit(cand, NC, NC, items, 8, &f), AITAG_ERR_INVALID);
    return check_done();
}
