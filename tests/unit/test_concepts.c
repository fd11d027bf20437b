/* test_concepts.c - WordNet relations (Debian's wordnet-base through libwordnet): the same
 * word, synonyms (a shared sense, or the label among a sense's words; plurals reduced), kinds
 * (with the levels up), siblings within one domain only, multi-word labels read by their head
 * noun, unknown words, and a missing database named in the error. */
#include <string.h>

#include "aitag/concepts.h"
#include "check.h"

static struct aitag_concept_match rel(struct aitag_concepts *c, const char *q, const char *l)
{
    struct aitag_concept_match m;

    CHECK(aitag_concepts_relate(c, q, l, &m) == 0);
    return m;
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
    aitag_concepts_close(c);
    return check_done();
}
