/*
 * test_remote_answer.c - reading a gateway's /v1/tag answer (src/remote/answer.c, wire.c):
 * statuses and error shapes become one message naming the gateway, and evidence values the
 * tagger relies on are checked before anything is kept (a hostile or broken gateway must not
 * put a confidence of 5, a negative time, a box of strings or an absurd frame count into the
 * local catalog, or overflow the tagger's frame sums).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "remote/remote_int.h"

static const char *const analyzers[] = {"faces"};
static const char *const keys[] = {"faces:k1"};

static int parse(long status, const char *body, struct aitag_remote_result *out, char *err)
{
    err[0] = '\0';
    return remote_answer_parse(status, body, body ? strlen(body) : 0, "http://gw:8089", analyzers,
                               keys, 1, 2.0, out, err, 512);
}

/* An answer with one faces item whose fields are item (JSON members) and frames. */
static char *answer(const char *item, const char *frames)
{
    char *s = malloc(1024);

    if (s)
        snprintf(
            s, 1024,
            "{\"evidence\": {\"interval\": 2.0, \"analyses\": [{\"analyzer\": \"faces\","
            " \"key\": \"faces:k1\", \"frames\": %s, \"interval\": 2.0, \"strategy\":"
            " \"uniform\"}], \"items\": [{\"analyzer\": \"faces\", \"label\": \"face\", %s}]}}",
            frames, item);
    return s;
}

static void test_statuses(void)
{
    struct aitag_remote_result r;
    char err[512];

    CHECK(parse(413, "", &r, err) < 0);
    CHECK(strstr(err, "http://gw:8089") && strstr(err, "max_body_bytes"));
    CHECK(parse(403,
                "{\"error\": {\"message\": \"path is outside the library roots\", \"code\":"
                " \"path_not_allowed\"}}",
                &r, err) < 0);
    CHECK_STR(err, "gateway http://gw:8089: HTTP 403 path_not_allowed: path is outside the "
                   "library roots");
    CHECK(parse(200, "{\"status\": \"failed\", \"errors\": [{\"message\": \"cannot decode\"}]}", &r,
                err) < 0); /* an item that failed there has no evidence */
    CHECK(parse(422, "{\"status\": \"failed\", \"errors\": [{\"message\": \"cannot decode\"}]}", &r,
                err) < 0);
    CHECK_STR(err, "gateway http://gw:8089: HTTP 422: cannot decode");
    CHECK(parse(200, "[1, 2]", &r, err) < 0);
    CHECK(strstr(err, "not a JSON object"));
    CHECK(parse(200, NULL, &r, err) < 0);
    CHECK(parse(502, "<html>bad gateway</html>", &r, err) < 0);
    CHECK_STR(err, "gateway http://gw:8089: HTTP 502");
}

static void test_values(void)
{
    static const struct {
        const char *item, *frames;
        int ok;
    } cases[] = {
        {"\"confidence\": 0.9, \"t\": 0, \"box\": [0.1, 0.2, 0.3, 0.4]", "3", 1},
        {"\"confidence\": 1, \"t\": 12.5", "0", 1},
        {"\"confidence\": 5, \"t\": 0", "3", 0},
        {"\"confidence\": -0.1, \"t\": 0", "3", 0},
        {"\"confidence\": 0.5, \"t\": -1", "3", 0},
        {"\"confidence\": 0.5, \"t\": 0, \"box\": [\"a\", null, {}, []]", "3", 0},
        {"\"confidence\": 0.5, \"t\": 0, \"box\": [1e300, 0, 0, 0]", "3", 0},
        {"\"confidence\": 0.5, \"t\": 0", "2147483647", 0},
        {"\"confidence\": 0.5, \"t\": 0", "-4", 0},
        {"\"confidence\": 0.5, \"t\": 0", "\"3\"", 0},
    };
    struct aitag_remote_result r;
    char err[512];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *s = answer(cases[i].item, cases[i].frames);
        int rc;
        memset(&r, 0, sizeof r); /* cleared below even when the answer could not be built */
        err[0] = '\0';
        rc = s ? parse(200, s, &r, err) : -1;
        if ((rc == 0) != cases[i].ok)
            fprintf(stderr, "  case %zu: rc %d (%s)\n", i, rc, err);
        CHECK((rc == 0) == cases[i].ok);
        CHECK(rc == 0 || (err[0] && r.evidence.n == 0));
        if (rc == 0 && cases[i].ok)
            CHECK_EQ_INT(r.evidence.n, 1);
        aitag_evidence_list_clear(&r.evidence);
        free(s);
    }
}

int main(void)
{
    test_statuses();
    test_values();
    return check_done();
}
