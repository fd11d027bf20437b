/* test_policy.c - evidence to tags, markers and text lines; the rules file and its errors. */
#include <stdlib.h>
#include <unistd.h>

#include "aitag/policy.h"
#include "check.h"

static struct aitag_evidence ev(const char *an, const char *label, float conf, double t,
                                const char *text)
{
    struct aitag_evidence e = {0};
    e.analyzer = (char *)an;
    e.label = (char *)label;
    e.confidence = conf;
    e.t = t;
    e.text = (char *)text;
    return e;
}

static void test_markers_and_tags(void)
{
    struct aitag_policy *p;
    struct aitag_evidence e[64];
    struct aitag_sampling s = {"faces", 2.0, 30};
    struct aitag_result r = {0};
    size_t n = 0;

    /* Faces at 10..38 s (15 frames), one blip at 50 s, a low-confidence frame at 56 s. */
    for (int t = 10; t <= 38; t += 2)
        e[n++] = ev("faces", "face", 0.9f, t, NULL);
    e[n++] = ev("faces", "face", 0.8f, 50, NULL);
    e[n++] = ev("faces", "face", 0.3f, 56, NULL);
    CHECK(aitag_policy_new(&p) == 0);
    struct aitag_derive_input in = {0, 60.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1);
    CHECK_STR(r.tags[0].name, "face");
    CHECK_NEAR(r.tags[0].coverage, 16.0 / 30.0, 1e-4);
    /* The blip at 50 s is 12 s after the segment's end (40 s): a separate, too-short segment. */
    CHECK_EQ_INT(r.n_markers, 1);
    CHECK_NEAR(r.markers[0].start, 10, 1e-9);
    CHECK_NEAR(r.markers[0].end, 40, 1e-9);
    CHECK_NEAR(r.markers[0].confidence, 0.9, 1e-6);
    aitag_result_clear(&r);

    /* A gap of 6 s (<= max_gap) merges; the last frame is clipped to the duration. */
    n = 0;
    for (int t = 0; t <= 8; t += 2)
        e[n++] = ev("faces", "face", 0.7f, t, NULL);
    for (int t = 16; t <= 58; t += 2)
        e[n++] = ev("faces", "face", 0.7f, t, NULL);
    in = (struct aitag_derive_input){0, 59.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 1);
    CHECK_NEAR(r.markers[0].start, 0, 1e-9);
    CHECK_NEAR(r.markers[0].end, 59, 1e-9);
    aitag_result_clear(&r);

    /* Below the required duration (8 s of 60 s, required 20 s): no tag, no marker. */
    n = 0;
    for (int t = 0; t < 8; t += 2)
        e[n++] = ev("faces", "face", 0.9f, t, NULL);
    in = (struct aitag_derive_input){0, 60.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 0);
    CHECK_EQ_INT(r.n_markers, 0);
    aitag_result_clear(&r);

    /* 14 s in one stretch: under the 20 s required, but a marker, and a marker's tag is kept. */
    n = 0;
    for (int t = 30; t < 44; t += 2)
        e[n++] = ev("faces", "face", 0.9f, t, NULL);
    in = (struct aitag_derive_input){0, 60.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 1);
    CHECK_EQ_INT(r.n_tags, 1);
    aitag_result_clear(&r);
    n = 0;
    for (int t = 0; t < 8; t += 2)
        e[n++] = ev("faces", "face", 0.9f, t, NULL);

    /* A short clip scales durations down: 8 s of a 10 s clip is a tag and a marker. */
    in = (struct aitag_derive_input){0, 10.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1);
    CHECK_EQ_INT(r.n_markers, 1);
    aitag_result_clear(&r);

    /* Images: the best frame over threshold makes the tag; never markers. */
    e[0] = ev("faces", "face", 0.6f, 0, NULL);
    e[1] = ev("faces", "face", 0.95f, 0, NULL);
    in = (struct aitag_derive_input){1, 0, e, 2, NULL, 0, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1);
    CHECK_NEAR(r.tags[0].confidence, 0.95, 1e-6);
    CHECK_EQ_INT(r.n_markers, 0);
    aitag_result_clear(&r);
    aitag_policy_free(p);
}

static void test_text_lines(void)
{
    struct aitag_policy *p;
    struct aitag_evidence e[8];
    struct aitag_sampling s = {"text", 2.0, 20};
    struct aitag_result r = {0};

    /* The same line read with and without spaces in consecutive frames is one entry. */
    e[0] = ev("text", "text", 0.95f, 20, "WELCOME TO THE PARTY");
    e[1] = ev("text", "text", 0.90f, 22, "WELCOMETO THEPARTY");
    e[2] = ev("text", "text", 0.97f, 24, "welcome to the party");
    e[3] = ev("text", "text", 0.92f, 30, "SEE YOU SOON");
    e[4] = ev("text", "text", 0.40f, 32, "junk");
    CHECK(aitag_policy_new(&p) == 0);
    struct aitag_derive_input in = {0, 40.0, e, 5, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_texts, 2);
    if (r.n_texts == 2) {
        CHECK_STR(r.texts[0].text, "welcome to the party"); /* the most confident read */
        CHECK_NEAR(r.texts[0].start, 20, 1e-9);
        CHECK_NEAR(r.texts[0].end, 26, 1e-9);
        CHECK_STR(r.texts[1].text, "SEE YOU SOON");
    }
    aitag_result_clear(&r);
    aitag_policy_free(p);
}

static const char *write_tmp(const char *text)
{
    static char path[64];
    FILE *f;

    snprintf(path, sizeof path, "/tmp/aitag-rules-XXXXXX");
    int fd = mkstemp(path);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_rules_file(void)
{
    struct aitag_policy *p;
    struct aitag_evidence e[20];
    struct aitag_sampling s = {"faces", 2.0, 20};
    struct aitag_result r = {0};
    char err[512], key0[65];
    const char *path;
    size_t n = 0;

    CHECK(aitag_policy_new(&p) == 0);
    snprintf(key0, sizeof key0, "%s", aitag_policy_key(p));
    path = write_tmp("{\"prefix\": \"AI: \", \"parent\": \"AI\", \"blacklist\": [\"cat\"],\n"
                     " \"defaults\": {\"min_marker_duration\": 4},\n"
                     " \"tags\": {\"face\": {\"name\": \"Person face\", \"threshold\": 0.8,"
                     " \"parent\": \"People\"}}}");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == 0);
    unlink(path);
    CHECK(strcmp(key0, aitag_policy_key(p)) != 0); /* new rules, new key */
    for (int t = 0; t < 20; t += 2)
        e[n++] = ev("faces", "face", t < 10 ? 0.9f : 0.7f, t, NULL);
    e[n++] = ev("objects", "cat", 0.99f, 0, NULL);
    struct aitag_derive_input in = {0, 20.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1); /* cat is blacklisted */
    if (r.n_tags) {
        CHECK_STR(r.tags[0].name, "AI: Person face");
        CHECK_STR(r.tags[0].parent, "People");
        CHECK_STR(r.tags[0].label, "face");
    }
    CHECK_EQ_INT(r.n_markers, 1); /* 0..10 s at >= 0.8; min marker now 4 s */
    if (r.n_markers)
        CHECK_NEAR(r.markers[0].end, 10, 1e-9);
    aitag_result_clear(&r);
    /* A sink's prefix replaces the rules file's: the name carries one prefix, not both. */
    snprintf(key0, sizeof key0, "%s", aitag_policy_key(p));
    CHECK(aitag_policy_set_affixes(p, "P:", NULL) == 0);
    CHECK(strcmp(key0, aitag_policy_key(p)) != 0); /* new names, new key */
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1);
    if (r.n_tags)
        CHECK_STR(r.tags[0].name, "P:Person face");
    aitag_result_clear(&r);

    /* Errors name the file and the field. */
    path = write_tmp("{\"tags\": {\"face\": {\"threshold\": \"high\"}}}");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "tags.face.threshold") != NULL);
    unlink(path);
    path = write_tmp("{\"defaults\": {\"max_gap\": -1}}");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "max_gap") != NULL);
    unlink(path);
    /* A misspelt field is an error naming it and the nearest valid one, at every level. */
    path = write_tmp("{\"tags\": {\"face\": {\"treshold\": 0.5}}}");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "unknown field tags.face.treshold (did you mean threshold?)") != NULL);
    unlink(path);
    path = write_tmp("{\"defaults\": {\"name\": \"x\"}}"); /* only per-tag rules rename */
    CHECK(aitag_policy_load(p, path, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "unknown field defaults.name") != NULL);
    unlink(path);
    path = write_tmp("{\"blacklst\": []}");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "unknown field blacklst (did you mean blacklist?)") != NULL);
    unlink(path);
    path = write_tmp("{ not json");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, path) != NULL);
    unlink(path);
    CHECK(aitag_policy_load(p, "/nonexistent/rules.json", err, sizeof err) == AITAG_ERR_IO);
    CHECK(strstr(err, "/nonexistent/rules.json") != NULL);
    aitag_policy_free(p);

    /* Whitelist keeps only the listed labels. */
    CHECK(aitag_policy_new(&p) == 0);
    path = write_tmp("{\"whitelist\": [\"cat\"]}");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == 0);
    unlink(path);
    in.n_evidence = n;
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 0);
    aitag_result_clear(&r);
    aitag_policy_free(p);
}

static void test_whole_item_labels(void)
{
    struct aitag_policy *p;
    struct aitag_evidence e[30];
    struct aitag_sampling s = {"nsfw", 2.0, 30};
    struct aitag_result r = {0};
    char err[256];
    size_t n = 0;

    for (int t = 0; t < 60; t += 2)
        e[n++] = ev("nsfw", "nsfw:safe", 0.9f, t, NULL);
    CHECK(aitag_policy_new(&p) == 0);
    struct aitag_derive_input in = {0, 60.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1);    /* the summary tag stays */
    CHECK_EQ_INT(r.n_markers, 0); /* but no marker spanning the whole video */
    aitag_result_clear(&r);
    const char *path = write_tmp("{\"tags\": {\"nsfw:safe\": {\"markers\": true}}}");
    CHECK(aitag_policy_load(p, path, err, sizeof err) == 0);
    unlink(path);
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 1); /* the rules file can ask for it */
    aitag_result_clear(&r);
    aitag_policy_free(p);
}

/* Markers snap to shot boundaries in the sampling interval before their edges, and only then. */
static void test_shot_snapping(void)
{
    struct aitag_policy *p;
    struct aitag_evidence e[32];
    struct aitag_sampling s = {"faces", 2.0, 30};
    struct aitag_result r = {0};
    size_t n = 0;

    /* Faces sampled at 10..38 s: unsnapped the marker is [10, 40): the face appeared in (8, 10]
     * and went in (38, 40]. */
    for (int t = 10; t <= 38; t += 2)
        e[n++] = ev("faces", "face", 0.9f, t, NULL);
    CHECK(aitag_policy_new(&p) == 0);
    {
        /* A cut 1.3 s before the first hit and a fade 1.5 s before the end: both inside. A
         * farther cut (7 s) lies within reach of neither edge. */
        struct aitag_shot shots[] = {{0, 7, AITAG_SHOT_START, 1},
                                     {7, 8.7, AITAG_SHOT_CUT, 0.9f},
                                     {8.7, 38.5, AITAG_SHOT_CUT, 0.9f},
                                     {38.5, 60, AITAG_SHOT_FADE, 0.8f}};
        struct aitag_derive_input in = {0, 60.0, e, n, &s, 1, shots, 4, NULL, 0};
        CHECK(aitag_policy_derive(p, &in, &r) == 0);
        CHECK_EQ_INT(r.n_markers, 1);
        CHECK_NEAR(r.markers[0].start, 8.7, 1e-9);
        CHECK_NEAR(r.markers[0].end, 38.5, 1e-9);
        /* the result carries the shots it was derived with */
        CHECK_EQ_INT(r.n_shots, 4);
        CHECK(r.n_shots == 4 && r.shots[3].edge == AITAG_SHOT_FADE);
        CHECK_NEAR(r.n_shots == 4 ? r.shots[2].start : -1, 8.7, 1e-9);
        aitag_result_clear(&r);
    }
    {
        /* Boundaries just outside the intervals must not move an edge: 7.9 (2.1 s before the
         * start), 38 (the last hit's own time: the face was still there) and 40.5 (after the
         * sample that saw no face). */
        struct aitag_shot shots[] = {{0, 7.9, AITAG_SHOT_START, 1},
                                     {7.9, 38, AITAG_SHOT_CUT, 0.9f},
                                     {38, 40.5, AITAG_SHOT_CUT, 0.9f},
                                     {40.5, 60, AITAG_SHOT_CUT, 0.9f}};
        struct aitag_derive_input in = {0, 60.0, e, n, &s, 1, shots, 4, NULL, 0};
        CHECK(aitag_policy_derive(p, &in, &r) == 0);
        CHECK_EQ_INT(r.n_markers, 1);
        CHECK_NEAR(r.markers[0].start, 10, 1e-9);
        CHECK_NEAR(r.markers[0].end, 40, 1e-9);
        aitag_result_clear(&r);
        /* of two boundaries inside (38.4 and 39.5) the nearer to the edge wins */
        shots[1].end = shots[2].start = 38.4;
        shots[2].end = shots[3].start = 39.5;
        CHECK(aitag_policy_derive(p, &in, &r) == 0);
        CHECK_NEAR(r.markers[0].start, 10, 1e-9);
        CHECK_NEAR(r.markers[0].end, 39.5, 1e-9);
        aitag_result_clear(&r);
    }
    {
        /* Without shots nothing moves, and a longer interval reaches farther. */
        struct aitag_shot shots[] = {{0, 7.9, AITAG_SHOT_START, 1}, {7.9, 60, AITAG_SHOT_CUT, 1}};
        struct aitag_derive_input in = {0, 60.0, e, n, &s, 1, NULL, 0, NULL, 0};
        CHECK(aitag_policy_derive(p, &in, &r) == 0);
        CHECK_NEAR(r.markers[0].start, 10, 1e-9);
        CHECK_EQ_INT(r.n_shots, 0);
        aitag_result_clear(&r);
        s.interval = 3.0;
        in = (struct aitag_derive_input){0, 60.0, e, n, &s, 1, shots, 2, NULL, 0};
        CHECK(aitag_policy_derive(p, &in, &r) == 0);
        CHECK_NEAR(r.markers[0].start, 7.9, 1e-9);
        aitag_result_clear(&r);
        s.interval = 2.0;
    }
    {
        /* Technical cues keep their own edges: a boundary 1.3 s before a black stretch and one
         * 1.5 s before its end move nothing. */
        struct aitag_evidence c[16];
        struct aitag_sampling cs = {"cues", 2.0, 30};
        struct aitag_shot shots[] = {{0, 8.7, AITAG_SHOT_START, 1},
                                     {8.7, 38.5, AITAG_SHOT_CUT, 0.9f},
                                     {38.5, 60, AITAG_SHOT_FADE, 0.8f}};
        size_t nc = 0;
        for (int t = 10; t <= 38; t += 2)
            c[nc++] = ev("cues", "cue:black", 0.9f, t, NULL);
        struct aitag_derive_input in = {0, 60.0, c, nc, &cs, 1, shots, 3, NULL, 0};
        CHECK(aitag_policy_derive(p, &in, &r) == 0);
        CHECK_EQ_INT(r.n_markers, 1);
        CHECK_NEAR(r.markers[0].start, 10, 1e-9);
        CHECK_NEAR(r.markers[0].end, 40, 1e-9);
        aitag_result_clear(&r);
    }
    aitag_policy_free(p);
}

/* cue: labels: every stretch is a marker and tags the item, stretches apart stay apart, and
 * credits count only at the item's ends. */
static void test_cue_labels(void)
{
    struct aitag_policy *p;
    struct aitag_evidence e[16];
    struct aitag_sampling s = {"cues", 2.0, 50};
    struct aitag_result r = {0};
    size_t n = 0;

    e[n++] = ev("cues", "cue:black", 1.0f, 10, NULL); /* one black sample */
    e[n++] = ev("cues", "cue:black", 1.0f, 14, NULL); /* another, 2 s after the first's end */
    e[n++] = ev("cues", "cue:credits", 0.8f, 40, NULL); /* text in the middle: a title */
    e[n++] = ev("cues", "cue:credits", 0.8f, 90, NULL); /* at the end: credits */
    e[n++] = ev("cues", "cue:credits", 0.8f, 92, NULL);
    e[n++] = ev("faces", "face", 0.9f, 10, NULL); /* other labels keep the defaults */
    CHECK(aitag_policy_new(&p) == 0);
    struct aitag_derive_input in = {0, 100.0, e, n, &s, 1, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 2);
    CHECK_STR(r.tags[0].name, "cue:black");
    CHECK_STR(r.n_tags == 2 ? r.tags[1].name : "", "cue:credits");
    CHECK_EQ_INT(r.n_markers, 3);
    if (r.n_markers == 3) {
        CHECK_STR(r.markers[0].tag, "cue:black");
        CHECK_NEAR(r.markers[0].start, 10, 1e-9);
        CHECK_NEAR(r.markers[0].end, 12, 1e-9);
        CHECK_NEAR(r.markers[1].start, 14, 1e-9);
        CHECK_STR(r.markers[2].tag, "cue:credits");
        CHECK_NEAR(r.markers[2].start, 90, 1e-9);
        CHECK_NEAR(r.markers[2].end, 94, 1e-9);
    }
    aitag_result_clear(&r);
    /* credits in the middle only: no tag at all */
    in.n_evidence = 3;
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1);
    CHECK_EQ_INT(r.n_markers, 2);
    aitag_result_clear(&r);
    aitag_policy_free(p);
}

/* faces and face_attrs both give "face" (face_attrs runs faces): one tag, one marker each. */
static void test_one_label_two_analyzers(void)
{
    struct aitag_policy *p;
    struct aitag_evidence e[64];
    struct aitag_sampling s[2] = {{"faces", 2.0, 5}, {"face_attrs", 2.0, 5}};
    struct aitag_result r = {0};
    size_t n = 0;

    for (int t = 2; t <= 8; t += 2) {
        e[n++] = ev("faces", "face", 0.9f, t, NULL);
        e[n++] = ev("face_attrs", "face", 0.8f, t, NULL);
    }
    CHECK(aitag_policy_new(&p) == 0);
    struct aitag_derive_input in = {0, 10.0, e, n, s, 2, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_tags, 1);
    CHECK_STR(r.tags[0].name, "face");
    CHECK_NEAR(r.tags[0].confidence, 0.9, 1e-6); /* the more confident of the two */
    CHECK_EQ_INT(r.n_markers, 1);
    CHECK_NEAR(r.markers[0].start, 2, 1e-9);
    CHECK_NEAR(r.markers[0].end, 10, 1e-9);
    CHECK_NEAR(r.markers[0].confidence, 0.9, 1e-6);
    aitag_result_clear(&r);
    aitag_policy_free(p);
}

int main(void)
{
    test_one_label_two_analyzers();
    test_cue_labels();
    test_shot_snapping();
    test_whole_item_labels();
    test_markers_and_tags();
    test_text_lines();
    test_rules_file();
    return check_done();
}
