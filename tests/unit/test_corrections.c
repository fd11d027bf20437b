/*
 * test_corrections.c - decisions applied to a derived result (aitag_result_apply_decisions):
 * each verdict on a tag and on a marker, the overlap rule that lets a decision meet a marker a
 * re-run moved, the order of decisions (a later one wins), accepted tags and markers put back
 * when a derivation drops them, and the result kept sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "aitag/policy.h"
#include "check.h"

/* A result as a derivation gives it: dog (with two markers), person (one), text (none). */
static void derived(struct aitag_result *r)
{
    memset(r, 0, sizeof *r);
    aitag_result_add_tag(r, "dog", "animal", "dog", 0.7f, 0.4f);
    aitag_result_add_tag(r, "person", NULL, "person", 0.9f, 0.5f);
    aitag_result_add_tag(r, "text", NULL, "text", 0.8f, 0.1f);
    aitag_result_add_marker(r, "dog", 0, 12, 0.7f);
    aitag_result_add_marker(r, "person", 4, 20, 0.9f);
    aitag_result_add_marker(r, "dog", 30, 50, 0.6f);
}

static int has_tag(const struct aitag_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_tags; i++)
        if (strcmp(r->tags[i].name, name) == 0)
            return 1;
    return 0;
}

static int count_markers(const struct aitag_result *r, const char *tag)
{
    int n = 0;
    for (size_t i = 0; i < r->n_markers; i++)
        n += strcmp(r->markers[i].tag, tag) == 0;
    return n;
}

static int sorted(const struct aitag_result *r)
{
    for (size_t i = 1; i < r->n_tags; i++)
        if (strcmp(r->tags[i - 1].name, r->tags[i].name) >= 0)
            return 0;
    for (size_t i = 1; i < r->n_markers; i++)
        if (r->markers[i - 1].start > r->markers[i].start)
            return 0;
    return 1;
}

static void test_matching(void)
{
    CHECK(aitag_marker_matches(0, 12, 0, 12));
    CHECK(aitag_marker_matches(0, 12, 1, 11.5)); /* a re-run moved both edges a little */
    CHECK(aitag_marker_matches(0, 12, 6, 40));   /* half of the shorter one overlaps */
    CHECK(!aitag_marker_matches(0, 12, 7, 40));  /* less than half */
    CHECK(!aitag_marker_matches(0, 12, 30, 50));
    CHECK(aitag_marker_matches(5, 5, 0, 12)); /* a point inside */
    CHECK(!aitag_marker_matches(13, 13, 0, 12));
    CHECK_EQ_INT(aitag_verdict_parse("bounds"), AITAG_VERDICT_BOUNDS);
    CHECK_EQ_INT(aitag_verdict_parse("maybe"), -1);
    CHECK(strcmp(aitag_verdict_name(AITAG_VERDICT_REJECT), "reject") == 0);
}

static void test_tag_verdicts(void)
{
    struct aitag_result r;
    struct aitag_decision d[] = {
        {.verdict = AITAG_VERDICT_REJECT, .tag = "dog"},
        {.verdict = AITAG_VERDICT_RENAME, .tag = "person", .new_tag = "actor"},
        {.verdict = AITAG_VERDICT_ACCEPT,
         .tag = "cake",
         .confidence = 0.42f,
         .label = "cake",
         .parent = "food"},
    };

    derived(&r);
    CHECK_EQ_INT(aitag_result_apply_decisions(&r, d, 3), 0);
    CHECK(!has_tag(&r, "dog"));
    CHECK_EQ_INT(count_markers(&r, "dog"), 0); /* a rejected tag takes its markers */
    CHECK(!has_tag(&r, "person") && has_tag(&r, "actor"));
    CHECK_EQ_INT(count_markers(&r, "actor"), 1); /* and a renamed one renames them */
    CHECK(has_tag(&r, "cake"));                  /* accepted, dropped by the derivation: back */
    for (size_t i = 0; i < r.n_tags; i++)
        if (strcmp(r.tags[i].name, "cake") == 0)
            CHECK(r.tags[i].confidence == 0.42f && strcmp(r.tags[i].parent, "food") == 0 &&
                  strcmp(r.tags[i].label, "cake") == 0);
    CHECK_EQ_INT(r.n_tags, 3);
    CHECK(sorted(&r));
    aitag_result_clear(&r);
}

static void test_marker_verdicts(void)
{
    struct aitag_result r;
    struct aitag_decision d[] = {
        /* the second dog marker, named by bounds a re-run moved by a sample */
        {.verdict = AITAG_VERDICT_REJECT, .tag = "dog", .marker = 1, .start = 32, .end = 50},
        {.verdict = AITAG_VERDICT_BOUNDS,
         .tag = "person",
         .marker = 1,
         .start = 4,
         .end = 20,
         .new_start = 2,
         .new_end = 18.5},
        /* a marker the derivation no longer gives, accepted: back with its bounds */
        {.verdict = AITAG_VERDICT_ACCEPT,
         .tag = "text",
         .marker = 1,
         .start = 60,
         .end = 70,
         .confidence = 0.5f},
        /* a decision on a marker that is not there changes nothing */
        {.verdict = AITAG_VERDICT_REJECT, .tag = "dog", .marker = 1, .start = 80, .end = 90},
    };

    derived(&r);
    CHECK_EQ_INT(aitag_result_apply_decisions(&r, d, 4), 0);
    CHECK(has_tag(&r, "dog")); /* only one marker was judged */
    CHECK_EQ_INT(count_markers(&r, "dog"), 1);
    CHECK_EQ_INT(r.n_markers, 3);
    if (r.n_markers == 3) {
        CHECK(r.markers[0].start == 0 && strcmp(r.markers[0].tag, "dog") == 0);
        CHECK(strcmp(r.markers[1].tag, "person") == 0 && r.markers[1].start == 2 &&
              r.markers[1].end == 18.5);
        CHECK(strcmp(r.markers[2].tag, "text") == 0 && r.markers[2].start == 60 &&
              r.markers[2].end == 70);
    }
    CHECK(sorted(&r));
    aitag_result_clear(&r);
}

static void test_order(void)
{
    struct aitag_result r;
    struct aitag_decision d[] = {
        {.verdict = AITAG_VERDICT_REJECT, .tag = "text"},
        {.verdict = AITAG_VERDICT_ACCEPT, .tag = "text", .confidence = 0.8f, .label = "text"},
        {.verdict = AITAG_VERDICT_ACCEPT, .tag = "person"},
        {.verdict = AITAG_VERDICT_REJECT, .tag = "person"},
        /* a rename onto a tag the item has merges the two */
        {.verdict = AITAG_VERDICT_RENAME, .tag = "dog", .new_tag = "text"},
    };

    derived(&r);
    CHECK_EQ_INT(aitag_result_apply_decisions(&r, d, 5), 0);
    CHECK(has_tag(&r, "text"));    /* reject, then accept: kept */
    CHECK(!has_tag(&r, "person")); /* accept, then reject: gone */
    CHECK(!has_tag(&r, "dog"));
    CHECK_EQ_INT(r.n_tags, 1);
    CHECK_EQ_INT(count_markers(&r, "text"), 2);
    for (size_t i = 0; i < r.n_tags; i++)
        CHECK(r.tags[i].confidence == 0.8f); /* the higher of the merged two */
    aitag_result_clear(&r);

    /* bounds that make two markers of a tag equal leave one */
    {
        struct aitag_decision b = {.verdict = AITAG_VERDICT_BOUNDS,
                                   .tag = "dog",
                                   .marker = 1,
                                   .start = 30,
                                   .end = 50,
                                   .new_start = 0,
                                   .new_end = 12};
        derived(&r);
        CHECK_EQ_INT(aitag_result_apply_decisions(&r, &b, 1), 0);
        CHECK_EQ_INT(count_markers(&r, "dog"), 1);
        aitag_result_clear(&r);
    }
}

/* Two analyzers may each give a tag of one name (faces and face_attrs both say "face"): a
 * rejection removes both, a rename renames both into one. */
static void test_twice_named(void)
{
    struct aitag_result r;
    struct aitag_decision reject = {.verdict = AITAG_VERDICT_REJECT, .tag = "face"},
                          rename = {.verdict = AITAG_VERDICT_RENAME, .tag = "face", .new_tag = "x"};

    memset(&r, 0, sizeof r);
    aitag_result_add_tag(&r, "face", NULL, "face", 0.9f, 0.5f);
    aitag_result_add_tag(&r, "face", NULL, "face", 0.8f, 0.4f);
    CHECK_EQ_INT(aitag_result_apply_decisions(&r, &reject, 1), 0);
    CHECK(!has_tag(&r, "face"));
    CHECK_EQ_INT(r.n_tags, 0);
    aitag_result_clear(&r);

    memset(&r, 0, sizeof r);
    aitag_result_add_tag(&r, "face", NULL, "face", 0.9f, 0.5f);
    aitag_result_add_tag(&r, "face", NULL, "face", 0.8f, 0.4f);
    CHECK_EQ_INT(aitag_result_apply_decisions(&r, &rename, 1), 0);
    CHECK(!has_tag(&r, "face"));
    CHECK_EQ_INT(r.n_tags, 1);
    CHECK(strcmp(r.tags[0].name, "x") == 0 && r.tags[0].confidence == 0.9f);
    aitag_result_clear(&r);
}

int main(void)
{
    test_twice_named();
    test_matching();
    test_tag_verdicts();
    test_marker_verdicts();
    test_order();
    return check_done();
}
