/*
 * aitag/concepts.h - what words mean: WordNet (Princeton's lexical database, Debian's
 * wordnet-base, read through Debian's libwordnet) relates the words of a search to the labels
 * the catalog holds, so that "animal" finds a horse and "festivity" a celebration.
 *
 * A label is read in its most common noun sense (WordNet's first: "dog" the animal, not the
 * frump) unless the concepts file names another ("mouse": the computer mouse, sense 4); a
 * label "word (hint)", as context rules' senses write them, in the first sense of word that is
 * a kind of hint ("mouse (animal)": the rodent); a query in all its noun senses. Multi-word labels
 * WordNet lacks ("sports ball") are read by their head noun ("ball"). Plurals and other inflections
 * are reduced to the base form (WordNet's morphology). The relations, strongest first:
 *
 *   SAME      the same word;
 *   SYNONYM   the label's sense is one of the query's senses, or the label is a word of one
 *             of them ("festivity" - "celebration");
 *   KIND_OF   the query's sense is among the label's hypernyms: the label is a kind of it
 *             ("horse" is a kind of "animal", 7 levels up), nearer is stronger;
 *   SIBLING   the label and a sense of the query share the query's direct hypernym, within
 *             two levels of the label, in one domain (WordNet's lexicographer file: both
 *             events, both foods) that is not the top level ("wedding" and "celebration" are
 *             both social occasions; a person is no sibling of "animal").
 *
 * Usage:
 *     struct aitag_concepts *c;
 *     if (aitag_concepts_open(NULL, &c, err, sizeof err) < 0) die(err);
 *     struct aitag_concept_match m;
 *     aitag_concepts_relate(c, "animal", "horse", &m);   // m.relation == AITAG_REL_KIND_OF
 *     aitag_concepts_close(c);
 *
 * Thread-safety: libwordnet keeps global state; every call takes one process-wide lock.
 */
#ifndef AITAG_CONCEPTS_H
#define AITAG_CONCEPTS_H

#include <stddef.h>

#include "aitag/common.h"

struct aitag_concepts;

/* Opens the database in dict_dir (NULL: $WNSEARCHDIR, else /usr/share/wordnet). 0, or
 * AITAG_ERR_IO with err naming the folder (Debian's wordnet-base installs it). */
int aitag_concepts_open(const char *dict_dir, struct aitag_concepts **out, char *err,
                        size_t errlen);
void aitag_concepts_close(struct aitag_concepts *c);

enum aitag_concept_relation {
    AITAG_REL_NONE = 0,
    AITAG_REL_SIBLING,
    AITAG_REL_KIND_OF,
    AITAG_REL_SYNONYM,
    AITAG_REL_SAME,
};

/* "same", "synonym", "kind of", "sibling" or "none". */
const char *aitag_concept_relation_name(enum aitag_concept_relation r);

struct aitag_concept_match {
    enum aitag_concept_relation relation;
    int levels;    /* KIND_OF: hypernym levels from the label to the query; SIBLING: from the
                      label to the shared parent */
    float score;   /* 1 (same), 0.9 (synonym), 0.85 - 0.05 per level over 1 (kind of, at least
                      0.4), 0.5 - 0.1 per level over 1 (sibling); 0 for none */
    char via[128]; /* KIND_OF: the query sense's first word; SIBLING: the shared parent's */
};

/* Loads a concepts file (models/context/concepts.json, docs/context.md): "senses", the WordNet
 * sense number of labels whose first sense is not the one our models mean ("mouse": 4, the
 * computer mouse), used by every lookup of that label; and "categories", the words that become
 * parent tags (aitag_concepts_category). 0, AITAG_ERR_IO or AITAG_ERR_INVALID with err naming
 * the file and field. */
int aitag_concepts_load(struct aitag_concepts *c, const char *path, char *err, size_t errlen);
/* The category of label: the loaded category word nearest above the label's sense among its
 * hypernyms ("dog" -> "animal", "laptop" -> "computer"), or NULL for none (a category
 * itself, an unknown word, "person:..." and other prefixed labels).
 * Borrowed, valid while c lives. Thread-safe (results are cached). */
const char *aitag_concepts_category(struct aitag_concepts *c, const char *label);
/* What the loaded file makes of labels, for keys: a sha256 hex of it and the database, or ""
 * when nothing was loaded. Borrowed. */
const char *aitag_concepts_key(const struct aitag_concepts *c);

/* The most values an embedding answer may hold. */
#define AITAG_EMBEDDING_MAX 65536

/* The vector of an OpenAI-compatible /v1/embeddings answer (len bytes of network JSON):
 * data[0].embedding, 1 .. AITAG_EMBEDDING_MAX finite numbers, into *v (free() it) and *n.
 * 0, AITAG_ERR_INVALID with err saying what is wrong, or AITAG_ERR_NOMEM. */
int aitag_concepts_embedding_answer(const char *body, size_t len, double **v, int *n, char *err,
                                    size_t errlen);

/* How label relates to query (both any case; spaces or underscores between words). A word
 * WordNet does not know relates by SAME only; so does everything when c is NULL (no
 * database). 0 or AITAG_ERR_NOMEM. */
int aitag_concepts_relate(struct aitag_concepts *c, const char *query, const char *label,
                          struct aitag_concept_match *m);

#endif
