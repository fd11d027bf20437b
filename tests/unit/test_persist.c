/*
 * test_persist.c - findings that last between adaptive samples (src/pipeline/persist.c), and
 * what the policy and the context rules make of them: a finding seen at two neighbouring
 * samples more than an interval apart lasts from the first to the second (across a shot
 * boundary too) unless the finding differs (analyzer, label, threshold) or it is a text
 * reading; the policy merges such hits into one marker however
 * far apart, also when a concept of the context rules stands at the same time (the longer
 * lasting of two hits at one time wins); a concept made from lasting findings lasts as long as
 * the shortest of them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/context.h"
#include "aitag/policy.h"
#include "check.h"
#include "pipeline/persist.h"

static struct aitag_evidence_list list;
static struct aitag_policy *policy; /* default rules: threshold 0.5 */

static void add(const char *an, const char *label, double t, float conf, const char *text)
{
    struct aitag_evidence e = {0};

    e.analyzer = (char *)an;
    e.label = (char *)label;
    e.t = t;
    e.confidence = conf;
    e.text = (char *)text;
    CHECK(aitag_evidence_push(&list, &e) == 0);
}

/* The end of the i-th evidence. */
static double end_of(size_t i)
{
    return i < list.n ? list.items[i].end : -1;
}

static void test_persist(void)
{
    const double times[] = {8, 0, 16, 17, 30, 30}; /* any order, repeats */

    add("faces", "face", 0, 0.9f, NULL);    /* 0: also at 8 */
    add("faces", "face", 8, 0.8f, NULL);    /* 1: at 16 too */
    add("faces", "face", 16, 0.9f, NULL);   /* 2: next is 17, within the interval */
    add("faces", "face", 17, 0.9f, NULL);   /* 3: at 30 too, past a cut at 24 */
    add("faces", "face", 30, 0.9f, NULL);   /* 4: the last sample */
    add("objects", "dog", 0, 0.9f, NULL);   /* 5: at 8 only as "faces" "dog" */
    add("faces", "dog", 8, 0.9f, NULL);     /* 6: not at 16 */
    add("objects", "cat", 0, 0.9f, NULL);   /* 7: at 8 below the threshold */
    add("objects", "cat", 8, 0.4f, NULL);   /* 8: itself below */
    add("ocr", "text", 0, 0.9f, "EXIT");    /* 9: a reading */
    add("ocr", "text", 8, 0.9f, "EXIT");    /* 10 */
    add("speech", "speech", 0, 0.9f, NULL); /* 11: lasts already */
    list.items[11].end = 3;
    add("speech", "speech", 8, 0.9f, NULL); /* 12 */
    add("objects", "car", 3, 0.9f, NULL);   /* 13: not at a frame's time */
    add("objects", "car", 8, 0.9f, NULL);   /* 14 */
    CHECK(pipeline_persist(&list, times, 6, 2.0, policy) == 0);
    {
        const double want[15] = {8, 16, 0, 30, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0};
        for (size_t i = 0; i < 15; i++)
            CHECK_NEAR(end_of(i), want[i], 1e-9);
    }
    aitag_evidence_list_clear(&list);

    /* nothing to do: no evidence, one time */
    CHECK(pipeline_persist(&list, times, 1, 2.0, policy) == 0);
}

/* The policy: hits that last merge across gaps longer than max_gap (6 s), also where a context
 * concept of the same label stands at the same time with a higher confidence. */
static void test_policy(void)
{
    struct aitag_policy *p = NULL;
    struct aitag_sampling s[] = {{"objects", 2.0, 4}, {AITAG_CONTEXT_ANALYZER, 2.0, 4}};
    struct aitag_result r = {0};
    const double times[] = {0, 8.3, 16.6, 24.9};

    for (int i = 0; i < 4; i++)
        add("objects", "person", times[i], 0.7f, NULL);
    add(AITAG_CONTEXT_ANALYZER, "person", 8.3, 0.95f, NULL);
    CHECK(pipeline_persist(&list, times, 4, 2.0, policy) == 0);
    CHECK(aitag_policy_new(&p) == 0);
    struct aitag_derive_input in = {0, 30.0, list.items, list.n, s, 2, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 1);
    if (r.n_markers == 1) {
        CHECK_NEAR(r.markers[0].start, 0, 1e-9);
        CHECK_NEAR(r.markers[0].end, 26.9, 1e-9); /* the last hit stands for one interval */
    }
    aitag_result_clear(&r);
    aitag_evidence_list_clear(&list);

    /* without persist, the same hits are four short stretches: no marker */
    for (int i = 0; i < 4; i++)
        add("objects", "person", times[i], 0.7f, NULL);
    in = (struct aitag_derive_input){0, 30.0, list.items, list.n, s, 2, NULL, 0, NULL, 0};
    CHECK(aitag_policy_derive(p, &in, &r) == 0);
    CHECK_EQ_INT(r.n_markers, 0);
    aitag_result_clear(&r);
    aitag_evidence_list_clear(&list);
    aitag_policy_free(p);
}

/* A concept lasts while every finding behind it at its time lasts: the shortest of them. */
static void test_concepts(void)
{
    struct aitag_context *c = NULL;
    struct aitag_context_out o;
    char err[256] = "";

    CHECK(aitag_context_new(&c) == 0);
    CHECK(aitag_context_load_text(c,
                                  "{\"concepts\": [{\"name\": \"pair\", \"when\": {\"label\": "
                                  "\"face\", \"count\": 2}}]}",
                                  "pair.json", err, sizeof err) == 0);
    add("faces", "face", 0, 0.9f, NULL);
    add("faces", "face", 0, 0.9f, NULL);
    list.items[0].end = 8;
    list.items[1].end = 6;
    add("faces", "face", 8, 0.9f, NULL); /* one lasting, one not: an instant */
    add("faces", "face", 8, 0.9f, NULL);
    list.items[2].end = 16;
    CHECK(aitag_context_apply(c, list.items, list.n, NULL, 0, &o) == 0);
    CHECK_EQ_INT(o.n - o.n_kept, 2);
    for (size_t i = o.n_kept; i < o.n; i++) {
        const struct aitag_evidence *e = &o.evidence[i];
        CHECK_STR(e->label, "pair");
        CHECK_NEAR(e->end, e->t == 0 ? 6 : 0, 1e-9);
    }
    aitag_context_out_clear(&o);
    aitag_evidence_list_clear(&list);
    aitag_context_free(c);
}

int main(void)
{
    CHECK(aitag_policy_new(&policy) == 0);
    test_persist();
    test_policy();
    test_concepts();
    aitag_policy_free(policy);
    return check_done();
}
