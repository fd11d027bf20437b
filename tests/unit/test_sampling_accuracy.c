/*
 * test_sampling_accuracy.c - the comparisons of tests/tools/sampling_lib.h on items built in
 * place: tag set differences, per-tag marker IoU, shot boundaries from "shots" and from a truth
 * file, and the one-to-one boundary matching behind precision and recall.
 */
#include "check.h"
#include "tools/sampling_lib.h"

static json_t *marker(const char *tag, double start, double end)
{
    return json_pack("{s:s,s:f,s:f,s:f}", "tag", tag, "start", start, "end", end, "confidence",
                     0.9);
}

static json_t *tag(const char *name)
{
    return json_pack("{s:s,s:f,s:f}", "name", name, "confidence", 0.8, "coverage", 0.5);
}

static void test_tag_diff(void)
{
    json_t *ref = json_pack("{s:[o,o,o]}", "tags", tag("face"), tag("dog"), tag("person"));
    json_t *got = json_pack("{s:[o,o,o]}", "tags", tag("person"), tag("cow"), tag("face"));
    json_t *none = json_object();
    struct sa_tag_diff d;

    sa_tag_diff(ref, got, &d);
    CHECK_EQ_INT(d.n_missing, 1);
    CHECK_STR(d.missing[0], "dog");
    CHECK_EQ_INT(d.n_extra, 1);
    CHECK_STR(d.extra[0], "cow");
    sa_tag_diff(ref, ref, &d);
    CHECK_EQ_INT(d.n_missing + d.n_extra, 0);
    /* an item without "tags" has none: every reference tag is missing */
    sa_tag_diff(ref, none, &d);
    CHECK_EQ_INT(d.n_missing, 3);
    CHECK_EQ_INT(d.n_extra, 0);
    json_decref(ref);
    json_decref(got);
    json_decref(none);
}

static void test_marker_iou(void)
{
    /* face: ref [0,10]+[20,30], got [0,10]+[20,28] (split in two markers, one overlapping the
     * other) -> 18/20; dog: ref [5,15], got [5,10] -> 0.5; horse only in got -> 0 */
    json_t *ref = json_pack("{s:[o,o,o]}", "markers", marker("face", 0, 10), marker("dog", 5, 15),
                            marker("face", 20, 30));
    json_t *got =
        json_pack("{s:[o,o,o,o,o]}", "markers", marker("face", 0, 6), marker("face", 4, 10),
                  marker("face", 20, 28), marker("dog", 5, 10), marker("horse", 40, 42));
    json_t *empty = json_pack("{s:[]}", "markers");
    struct sa_iou iou;

    CHECK_EQ_INT(sa_marker_iou(ref, got, &iou), 0);
    CHECK_EQ_INT(iou.n_tags, 3);
    CHECK_NEAR(iou.min, 0.0, 1e-12);
    CHECK_STR(iou.worst, "horse");
    CHECK_NEAR(iou.mean, (18.0 / 20 + 0.5 + 0.0) / 3, 1e-9);

    /* the same item against itself is perfect */
    CHECK_EQ_INT(sa_marker_iou(got, got, &iou), 0);
    CHECK_NEAR(iou.min, 1.0, 1e-12);
    CHECK_NEAR(iou.mean, 1.0, 1e-12);
    CHECK_EQ_INT(iou.n_tags, 3);

    /* no markers on either side: nothing to disagree on */
    CHECK_EQ_INT(sa_marker_iou(empty, empty, &iou), 0);
    CHECK_EQ_INT(iou.n_tags, 0);
    CHECK_NEAR(iou.min, 1.0, 1e-12);
    CHECK(iou.worst == NULL);

    /* markers only in the reference: each tag scores 0 */
    CHECK_EQ_INT(sa_marker_iou(ref, empty, &iou), 0);
    CHECK_EQ_INT(iou.n_tags, 2);
    CHECK_NEAR(iou.mean, 0.0, 1e-12);
    json_decref(ref);
    json_decref(got);
    json_decref(empty);
}

static json_t *shot(double start, double end, const char *edge)
{
    return json_pack("{s:f,s:f,s:s}", "start", start, "end", end, "edge", edge);
}

static void test_boundaries(void)
{
    json_t *item = json_pack("{s:[o,o,o,o]}", "shots", shot(0, 10, "start"), shot(20, 30, "fade"),
                             shot(10, 20, "cut"), shot(30, 40, "wipe"));
    json_t *no_shots = json_pack("{s:s}", "path", "/x.mp4");
    json_t *truth = json_pack("{s:s,s:[{s:f,s:s},{s:f,s:s,s:f,s:f}]}", "file", "x.mp4",
                              "boundaries", "time", 30.0, "kind", "dissolve", "time", 10.0, "kind",
                              "fade", "start", 9.0, "end", 11.0);
    json_t *bad_truth = json_pack("{s:[{s:s}]}", "boundaries", "kind", "cut");
    struct sa_boundary *b = NULL;
    size_t n = 0;

    /* the first shot's start is no boundary; sorted by time; unknown edges keep kind -1 */
    CHECK_EQ_INT(sa_shot_boundaries(item, &b, &n), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_NEAR(b[0].t, 10, 1e-12);
    CHECK_EQ_INT(b[0].kind, SA_CUT);
    CHECK_EQ_INT(b[1].kind, SA_FADE);
    CHECK_EQ_INT(b[2].kind, -1);
    free(b);
    /* absent shots are told apart from an empty list */
    CHECK_EQ_INT(sa_shot_boundaries(no_shots, &b, &n), 1);
    CHECK(b == NULL);
    CHECK_EQ_INT(n, 0);

    CHECK_EQ_INT(sa_truth_boundaries(truth, &b, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(b[0].t, 10, 1e-12);
    CHECK_NEAR(b[0].lo, 9, 1e-12);
    CHECK_NEAR(b[0].hi, 11, 1e-12);
    CHECK_EQ_INT(b[0].kind, SA_FADE);
    CHECK_NEAR(b[1].lo, 30, 1e-12); /* no span given: a point */
    CHECK_EQ_INT(b[1].kind, SA_DISSOLVE);
    free(b);
    CHECK_EQ_INT(sa_truth_boundaries(bad_truth, &b, &n), -1);
    CHECK_EQ_INT(sa_truth_boundaries(no_shots, &b, &n), -1);
    json_decref(item);
    json_decref(no_shots);
    json_decref(truth);
    json_decref(bad_truth);
}

static void test_match(void)
{
    const struct sa_boundary truth[] = {
        {10, 10, 10, SA_CUT},  {20, 20, 20, SA_CUT},      {30, 30, 30, SA_CUT},
        {45, 44, 46, SA_FADE}, {60, 59, 61, SA_DISSOLVE},
    };
    /* 10.2 finds the cut at 10; 10.4 is a duplicate (one to one: false); 21 is too far from
     * 20; 45.9 lies in the fade's span (the fade found); the dissolve is reported as a fade
     * (found, mislabelled); 80 is false */
    const struct sa_boundary det[] = {
        {10.4, 10.4, 10.4, SA_CUT}, {10.2, 10.2, 10.2, SA_CUT},  {21, 21, 21, SA_CUT},
        {30, 30, 30, SA_CUT},       {45.9, 45.9, 45.9, SA_FADE}, {61.3, 61.3, 61.3, SA_FADE},
        {80, 80, 80, SA_CUT},
    };
    struct sa_pr pr[SA_KINDS + 1];

    CHECK_EQ_INT(sa_match(truth, 5, det, 7, 0.5, pr), 0);
    CHECK_EQ_INT(pr[SA_CUT].n_truth, 3);
    CHECK_EQ_INT(pr[SA_CUT].n_det, 5);
    CHECK_EQ_INT(pr[SA_CUT].hit_truth, 2);
    CHECK_EQ_INT(pr[SA_CUT].hit_det, 2);
    CHECK_NEAR(sa_rate(pr[SA_CUT].hit_det, pr[SA_CUT].n_det), 0.4, 1e-12);
    CHECK_EQ_INT(pr[SA_FADE].hit_truth, 1);
    CHECK_EQ_INT(pr[SA_FADE].n_det, 2);
    CHECK_EQ_INT(pr[SA_FADE].hit_det, 2);
    CHECK_EQ_INT(pr[SA_DISSOLVE].hit_truth, 1);
    CHECK_EQ_INT(pr[SA_DISSOLVE].mislabelled, 1);
    CHECK_EQ_INT(pr[SA_DISSOLVE].n_det, 0);
    CHECK(isnan(sa_rate(pr[SA_DISSOLVE].hit_det, pr[SA_DISSOLVE].n_det)));
    CHECK_EQ_INT(pr[SA_ALL].n_truth, 5);
    CHECK_EQ_INT(pr[SA_ALL].n_det, 7);
    CHECK_EQ_INT(pr[SA_ALL].hit_truth, 4);
    CHECK_EQ_INT(pr[SA_ALL].hit_det, 4);

    /* a wider tolerance takes 21 for the cut at 20; the closest pair wins: 10.2, not 10.4 */
    CHECK_EQ_INT(sa_match(truth, 5, det, 7, 1.0, pr), 0);
    CHECK_EQ_INT(pr[SA_CUT].hit_truth, 3);
    CHECK_EQ_INT(pr[SA_CUT].hit_det, 3);

    /* nothing detected, nothing true */
    CHECK_EQ_INT(sa_match(NULL, 0, NULL, 0, 0.5, pr), 0);
    CHECK_EQ_INT(pr[SA_ALL].n_truth + pr[SA_ALL].n_det, 0);
    CHECK_EQ_INT(sa_kind_from_name("dissolve"), SA_DISSOLVE);
    CHECK_EQ_INT(sa_kind_from_name("start"), -1);
    CHECK_EQ_INT(sa_kind_from_name(NULL), -1);
}

int main(void)
{
    test_tag_diff();
    test_marker_iou();
    test_boundaries();
    test_match();
    return check_done();
}
