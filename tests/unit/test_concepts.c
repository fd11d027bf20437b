/* test_concepts.c - WordNet relations (Debian's wordnet-base through libwordnet): the same
 * word, synonyms (a shared sense, or the label among a sense's words; plurals reduced), kinds
 * (with the levels up), siblings within one domain only, multi-word labels read by their head
 * noun, unknown words, and a missing database named in the error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/concepts.h"
#include "check.h"

static struct aitag_concept_match rel(struct aitag_concepts *c, const char *q, const char *l)
{
    struct aitag_concept_match m;

    CHECK(aitag_concepts_relate(c, q, l, &m) == 0);
    return m;
}

static const char *write_tmp(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof path, "/tmp/test_concepts.XXXXXX");
    fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* The shipped concepts file: categories through WordNet ("dog" under "animal"), the senses it
 * names (the computer mouse), its own parents, and what has no category; errors name the file
 * and field. */
static void test_categories(struct aitag_concepts *c)
{
    struct aitag_concepts *raw = NULL;
    struct aitag_concept_match m;
    char err[512] = "";
    const char *bad;

    CHECK(aitag_concepts_category(c, "dog") == NULL); /* nothing loaded yet */
    CHECK(strcmp(aitag_concepts_key(c), "") == 0);
    CHECK(aitag_concepts_load(c, AITAG_SOURCE_DIR "/models/context/concepts.json", err,
                              sizeof err) == 0);
    CHECK(strlen(aitag_concepts_key(c)) == 64);
    CHECK_STR(aitag_concepts_category(c, "dog"), "animal");
    CHECK_STR(aitag_concepts_category(c, "Horse"), "animal");
    CHECK_STR(aitag_concepts_category(c, "car"), "vehicle");
    CHECK_STR(aitag_concepts_category(c, "bus"), "vehicle"); /* the file's own parent */
    CHECK_STR(aitag_concepts_category(c, "laptop"), "computer");
    CHECK_STR(aitag_concepts_category(c, "pizza"), "food");
    CHECK_STR(aitag_concepts_category(c, "couch"), "furniture");
    CHECK_STR(aitag_concepts_category(c, "cell phone"), "electronic equipment");
    CHECK_STR(aitag_concepts_category(c, "mouse"), "device");   /* sense 4, not the rodent */
    CHECK_STR(aitag_concepts_category(c, "kite"), "plaything"); /* sense 3, not a bad check */
    CHECK_STR(aitag_concepts_category(c, "wedding"), "social event");
    CHECK_STR(aitag_concepts_category(c, "dog"), "animal"); /* cached: the same answer */
    CHECK(aitag_concepts_category(c, "animal") == NULL);    /* a category itself */
    CHECK(aitag_concepts_category(c, "person:Ann Lee") == NULL);
    CHECK(aitag_concepts_category(c, "keyword:budget") == NULL);
    CHECK(aitag_concepts_category(c, "xyzzyq") == NULL);
    /* the sense is used when relating search words too: "animal" finds no computer mouse */
    m = rel(c, "animal", "mouse");
    CHECK_EQ_INT(m.relation, AITAG_REL_NONE);
    m = rel(c, "device", "mouse");
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    /* without the file, WordNet's first sense: the rodent */
    CHECK(aitag_concepts_open(NULL, &raw, err, sizeof err) == 0);
    bad = write_tmp("{\"categories\": [\"animal\", \"device\"]}");
    CHECK(aitag_concepts_load(raw, bad, err, sizeof err) == 0);
    CHECK_STR(aitag_concepts_category(raw, "mouse"), "animal");
    remove(bad);
    bad = write_tmp("{\"senses\": {\"mouse\": 0}}");
    CHECK(aitag_concepts_load(raw, bad, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, bad) && strstr(err, "senses.mouse"));
    remove(bad);
    bad = write_tmp("{\"categories\": [\"animal\", 3]}");
    CHECK(aitag_concepts_load(raw, bad, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "categories[1]") != NULL);
    remove(bad);
    CHECK(aitag_concepts_load(raw, "/nonexistent/concepts.json", err, sizeof err) < 0);
    CHECK(strstr(err, "/nonexistent/concepts.json") != NULL);
    aitag_concepts_close(raw);
}

/* A label "word (hint)" is read in the sense of word under hint, whatever the file's sense of
 * the word: what a context rule's sense makes of a label ("mouse" beside a cat). */
static void test_hinted_senses(struct aitag_concepts *c)
{
    struct aitag_concept_match m;

    CHECK_STR(aitag_concepts_category(c, "mouse (animal)"), "animal"); /* the file says 4 */
    CHECK_STR(aitag_concepts_category(c, "mouse (device)"), "device");
    CHECK_STR(aitag_concepts_category(c, "Mouse (Rodent)"), "animal");
    CHECK_STR(aitag_concepts_category(c, "bat (animal)"), "animal");
    CHECK_STR(aitag_concepts_category(c, "bat (sports equipment)"), "sports equipment");
    CHECK_STR(aitag_concepts_category(c, "crane (bird)"), "animal");
    CHECK_STR(aitag_concepts_category(c, "kite (bird)"), "animal"); /* the file says 3, the toy */
    CHECK_STR(aitag_concepts_category(c, "crane (lifting device)"), "device");
    /* a hint WordNet files nowhere above the word: the file's sense (the computer mouse) */
    CHECK_STR(aitag_concepts_category(c, "mouse (xyzzyq)"), "device");
    CHECK(aitag_concepts_category(c, "xyzzyq (animal)") == NULL);
    m = rel(c, "animal", "mouse (animal)");
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    m = rel(c, "rodent", "mouse (animal)");
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    CHECK_EQ_INT(m.levels, 1);
    m = rel(c, "mouse", "mouse (animal)"); /* the word itself: one of its senses */
    CHECK_EQ_INT(m.relation, AITAG_REL_SYNONYM);
    m = rel(c, "animal", "mouse (device)");
    CHECK_EQ_INT(m.relation, AITAG_REL_NONE);
    m = rel(c, "mouse (animal)", "Mouse (animal)");
    CHECK_EQ_INT(m.relation, AITAG_REL_SAME);
}

/* An embeddings answer from the network: data[0].embedding of finite numbers, else an error
 * saying what is wrong (a string read as 0 would rank every item by garbage). */
static void test_embedding_answer(void)
{
    static const char good[] = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\","
                               "\"index\":0,\"embedding\":[0.5,-1,2e-3]}],\"model\":\"m\"}";
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"", "no data[0].embedding"},
        {"{\"data\":[]}", "no data[0].embedding"},
        {"{\"data\":[{\"embedding\":[]}]}", "no data[0].embedding"},
        {"{\"data\":[{\"embedding\":{\"0\":1}}]}", "no data[0].embedding"},
        {"{\"data\":[{\"embedding\":[1,\"2\",3]}]}", "data[0].embedding[1] is not a finite number"},
        {"{\"data\":[{\"embedding\":[1,null]}]}", "data[0].embedding[1] is not a finite number"},
    };
    double *v = NULL;
    char err[256];
    int n = 0;

    CHECK(aitag_concepts_embedding_answer(good, sizeof good - 1, &v, &n, err, sizeof err) == 0);
    CHECK_EQ_INT(n, 3);
    CHECK(v && v[0] == 0.5 && v[1] == -1 && v[2] == 2e-3);
    free(v);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(aitag_concepts_embedding_answer(bad[i].json, strlen(bad[i].json), &v, &n, err,
                                              sizeof err) == AITAG_ERR_INVALID);
        CHECK(v == NULL && n == 0 && strstr(err, bad[i].want) != NULL);
    }
    { /* one value more than the most an answer may hold */
        size_t cap = 64 + 2 * (AITAG_EMBEDDING_MAX + 1), len = 0;
        char *big = malloc(cap);
        CHECK(big != NULL);
        if (!big)
            return; /* the test's own allocation failed (make test-allocfail) */
        len += (size_t)snprintf(big, cap, "{\"data\":[{\"embedding\":[");
        for (int i = 0; i <= AITAG_EMBEDDING_MAX; i++)
            len += (size_t)snprintf(big + len, cap - len, "%s0", i ? "," : "");
        len += (size_t)snprintf(big + len, cap - len, "]}]}");
        CHECK(aitag_concepts_embedding_answer(big, len, &v, &n, err, sizeof err) ==
              AITAG_ERR_INVALID);
        CHECK(strstr(err, "at most 65536") != NULL);
        free(big);
    }
}

int main(void)
{
    struct aitag_concepts *c = NULL;
    struct aitag_concept_match m;
    char err[256] = "";

    CHECK(aitag_concepts_open("/nonexistent", &c, err, sizeof err) == AITAG_ERR_IO);
    CHECK(strstr(err, "/nonexistent") != NULL);
    CHECK(aitag_concepts_open(NULL, &c, err, sizeof err) == 0);

    m = rel(c, "Dog", "dog");
    CHECK_EQ_INT(m.relation, AITAG_REL_SAME);
    CHECK_NEAR(m.score, 1.0, 1e-6);
    m = rel(c, "horses", "horse"); /* a plural, reduced */
    CHECK_EQ_INT(m.relation, AITAG_REL_SYNONYM);
    m = rel(c, "festivity", "celebration"); /* a word of one of its senses */
    CHECK_EQ_INT(m.relation, AITAG_REL_SYNONYM);
    m = rel(c, "someone", "person");
    CHECK_EQ_INT(m.relation, AITAG_REL_SYNONYM);
    m = rel(c, "animal", "horse");
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    CHECK(m.levels >= 2 && strcmp(m.via, "animal") == 0);
    m = rel(c, "equine", "horse");
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    CHECK_EQ_INT(m.levels, 1);
    CHECK(m.score > rel(c, "animal", "horse").score); /* nearer is stronger */
    m = rel(c, "vehicle", "car");
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    m = rel(c, "furniture", "dining table"); /* a phrase WordNet has */
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    m = rel(c, "equipment", "sports ball"); /* a phrase it lacks: its head noun, "ball" */
    CHECK_EQ_INT(m.relation, AITAG_REL_KIND_OF);
    m = rel(c, "party", "celebration"); /* both social occasions */
    CHECK_EQ_INT(m.relation, AITAG_REL_SIBLING);
    CHECK(strcmp(m.via, "affair") == 0);
    m = rel(c, "animal", "person"); /* both organisms, at the top level: no siblings */
    CHECK_EQ_INT(m.relation, AITAG_REL_NONE);
    m = rel(c, "animal", "car");
    CHECK_EQ_INT(m.relation, AITAG_REL_NONE);
    CHECK_NEAR(m.score, 0.0, 1e-6);
    m = rel(c, "animal", "person:Ann Lee"); /* not a word */
    CHECK_EQ_INT(m.relation, AITAG_REL_NONE);
    m = rel(c, "xyzzyq", "xyzzyq");
    CHECK_EQ_INT(m.relation, AITAG_REL_SAME);
    CHECK(strcmp(aitag_concept_relation_name(AITAG_REL_KIND_OF), "kind of") == 0);
    /* without a database: the same word only */
    CHECK(aitag_concepts_relate(NULL, "animal", "horse", &m) == 0 && m.relation == AITAG_REL_NONE);
    CHECK(aitag_concepts_relate(NULL, "horse", "Horse", &m) == 0 && m.relation == AITAG_REL_SAME);
    test_categories(c);
    test_hinted_senses(c);
    test_embedding_answer();
    aitag_concepts_close(c);
    return check_done();
}
