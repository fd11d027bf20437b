/*
 * test_remote.c - remote tagging's wire format (src/remote/wire.c): the "evidence" object the
 * gateway writes, read back by the client, gives the same evidence bit for bit, keeps only
 * the analyzers asked, and refuses other keys, another interval, missing analyzers and
 * malformed items; the client refuses non-http URLs and, local-only, non-loopback hosts.
 * The HTTP side is covered end to end by tests/integration/gateway_tag.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "aitag/remote.h"
#include "check.h"
#include "photo.h"

#define KEY_F "blazeface-back@1.2.0 interval=2.000"
#define KEY_T "ppocr-det@1.4.2 ppocr-rec@1.4.2 interval=2.000"

static const char *const names[] = {"faces", "text"};
static const char *const keys[] = {KEY_F, KEY_T};

static void fill(struct aitag_evidence_list *ev)
{
    struct aitag_evidence e = {0};

    e.analyzer = "faces", e.label = "face", e.confidence = 0.123456789f, e.t = 2.0000000001;
    e.has_box = 1, e.box = (struct aitag_box){0.1f, 1.0f / 3.0f, 0.25f, 2.0f / 7.0f};
    {
        float kp[4] = {0.5f, 0.25f, 0.1234f, 0.9876f};
        e.keypoints = kp, e.n_keypoints = 2, e.kp_dims = 2;
        aitag_evidence_push(ev, &e);
    }
    e = (struct aitag_evidence){0};
    e.analyzer = "text", e.label = "text", e.confidence = 0.987654321f, e.t = 4;
    e.text = "caf\xc3\xa9 \"quoted\"";
    aitag_evidence_push(ev, &e);
    e = (struct aitag_evidence){0};
    e.analyzer = "objects", e.label = "dog", e.confidence = 0.5f, e.t = 0;
    aitag_evidence_push(ev, &e);
}

/* Encodes like the gateway (full precision), decodes like the client. */
static int round_trip(const struct aitag_analysis_row *an, size_t n_an, double gw_interval,
                      const char *const *ks, size_t n, struct aitag_remote_result *out, char *err)
{
    struct aitag_evidence_list ev = {0};
    json_t *o, *back;
    char *text;
    int rc;

    fill(&ev);
    o = aitag_remote_evidence_json(an, n_an, &ev, gw_interval, 1);
    text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    back = json_loads(text, 0, NULL);
    err[0] = '\0';
    rc = aitag_remote_evidence_parse(back, names, ks, n, 2.0, out, err, 512);
    json_decref(back);
    free(text);
    json_decref(o);
    aitag_evidence_list_clear(&ev);
    return rc;
}

static void test_round_trip(void)
{
    struct aitag_analysis_row an[3] = {{"faces", KEY_F, 2, 7, "seek"},
                                       {"objects", "centernet interval=2.000", 2, 7, "seek"},
                                       {"text", KEY_T, 2, 7, "seek"}};
    struct aitag_evidence_list want = {0};
    struct aitag_remote_result r;
    char err[512];

    fill(&want);
    CHECK_EQ_INT(round_trip(an, 3, 2.0, keys, 2, &r, err), 0);
    CHECK_EQ_INT(r.n_frames, 7);
    CHECK(strcmp(r.strategy, "seek") == 0);
    CHECK_EQ_INT(r.truncated, 1);
    CHECK_EQ_INT(r.evidence.n, 2); /* objects was not asked for */
    for (size_t i = 0; i < 2 && r.evidence.n == 2; i++) {
        const struct aitag_evidence *a = &want.items[i], *b = &r.evidence.items[i];
        CHECK(strcmp(a->analyzer, b->analyzer) == 0 && strcmp(a->label, b->label) == 0);
        CHECK(a->confidence == b->confidence); /* exact, not near */
        CHECK(a->t == b->t);
        CHECK_EQ_INT(a->has_box, b->has_box);
        CHECK(memcmp(&a->box, &b->box, sizeof a->box) == 0 || !a->has_box);
        CHECK((!a->text && !b->text) || (a->text && b->text && strcmp(a->text, b->text) == 0));
        {
            char *da = strdup(test_details(a)); /* the helper's buffer is reused */
            CHECK_STR(da, test_details(b));     /* the details survive the wire byte for byte */
            CHECK_EQ_INT(a->n_keypoints, b->n_keypoints);
            free(da);
        }
    }
    aitag_evidence_list_clear(&r.evidence);
    aitag_evidence_list_clear(&want);
}

static void test_refusals(void)
{
    struct aitag_analysis_row an[2] = {{"faces", KEY_F, 2, 7, "seek"},
                                       {"text", KEY_T, 2, 7, "seek"}};
    struct aitag_analysis_row other[2] = {
        {"faces", "blazeface-back@9.9.9 interval=2.000", 2, 7, "seek"},
        {"text", KEY_T, 2, 7, "seek"}};
    struct aitag_remote_result r;
    json_t *bad;
    char err[512];

    /* the gateway's models differ: the analyzer is named */
    CHECK(round_trip(other, 2, 2.0, keys, 2, &r, err) < 0);
    CHECK(strstr(err, "analyzer faces") && strstr(err, "differ from this install"));
    CHECK_EQ_INT(r.evidence.n, 0);
    /* the route lacks an analyzer */
    CHECK(round_trip(an, 1, 2.0, keys, 2, &r, err) < 0);
    CHECK(strstr(err, "does not run analyzer(s): text") != NULL);
    /* another interval */
    CHECK(round_trip(an, 2, 1.0, keys, 2, &r, err) < 0);
    CHECK(strstr(err, "interval (1 s) differs") != NULL);
    /* no evidence object (an older gateway), and a malformed item */
    CHECK(aitag_remote_evidence_parse(NULL, names, keys, 2, 2.0, &r, err, sizeof err) < 0);
    CHECK(strstr(err, "no usable \"evidence\"") != NULL);
    bad = json_loads("{\"interval\": 2, \"analyses\": [{\"analyzer\": \"faces\", \"key\": \"" KEY_F
                     "\", \"frames\": 1}], \"items\": [{\"analyzer\": \"faces\", \"label\": "
                     "\"face\", \"confidence\": 0.5, \"t\": 0, \"box\": [1, 2]}]}",
                     0, NULL);
    CHECK(bad != NULL);
    CHECK(aitag_remote_evidence_parse(bad, names, keys, 1, 2.0, &r, err, sizeof err) < 0);
    CHECK(strstr(err, "evidence item 0 is malformed") != NULL);
    CHECK_EQ_INT(r.evidence.n, 0);
    json_decref(bad);
}

static void test_client_params(void)
{
    struct aitag_remote_client_params p = aitag_remote_client_default_params();
    struct aitag_remote_client *c = NULL;
    char err[512];

    p.url = "ftp://127.0.0.1/";
    CHECK_EQ_INT(aitag_remote_client_new(&p, &c, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(c == NULL && strstr(err, "not an http") != NULL);
    p.url = "http://";
    CHECK_EQ_INT(aitag_remote_client_new(&p, &c, err, sizeof err), AITAG_ERR_INVALID);
    p.local_only = 1;
    p.url = "http://192.0.2.1:8089";
    CHECK_EQ_INT(aitag_remote_client_new(&p, &c, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "not loopback") != NULL);
    p.url = "http://gw.example:8089/";
    CHECK_EQ_INT(aitag_remote_client_new(&p, &c, err, sizeof err), AITAG_ERR_INVALID);
    const char *const ok[] = {"http://127.0.0.1:8089", "http://127.1.2.3/", "http://[::1]:80",
                              "https://localhost:8443/", "http://LOCALHOST"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        p.url = ok[i];
        CHECK_EQ_INT(aitag_remote_client_new(&p, &c, err, sizeof err), 0);
        aitag_remote_client_free(c);
        c = NULL;
    }
    p.local_only = 0;
    p.url = "http://gw.example:8089/";
    p.key = "agk_secret";
    CHECK_EQ_INT(aitag_remote_client_new(&p, &c, err, sizeof err), 0);
    aitag_remote_client_free(c);
    aitag_remote_client_free(NULL);
}

int main(void)
{
    test_round_trip();
    test_refusals();
    test_client_params();
    return check_done();
}
