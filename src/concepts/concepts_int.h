/*
 * concepts_int.h - what the files of the concepts library share: the handle, the one lock
 * around libwordnet, and word normalisation.
 */
#ifndef AITAG_CONCEPTS_INT_H
#define AITAG_CONCEPTS_INT_H

#include <pthread.h>

#include "aitag/concepts.h"

#define MAX_WORD 128

struct concept_sense {
    char label[MAX_WORD];
    int sense;
};

struct concept_parent {
    char label[MAX_WORD]; /* normalised */
    char category[MAX_WORD];
};

struct concept_cache {
    char label[MAX_WORD];
    const char *category; /* into categories[], or NULL */
};

struct aitag_concepts {
    struct concept_sense *senses;
    size_t n_senses;
    char (*categories)[MAX_WORD];
    size_t n_categories;
    struct concept_parent *parents; /* the file's own choices, before WordNet */
    size_t n_parents;
    struct concept_cache *cache;
    size_t n_cache, cap_cache;
    char key[65];
};

/* Every libwordnet call holds it (the library keeps global state). */
extern pthread_mutex_t concepts_wn_lock;

/* Lower case, spaces to underscores, trimmed, into out (MAX_WORD). */
void concepts_normalise(const char *in, char *out);
/* The form of word WordNet knows as a noun into out (MAX_WORD); 0 when none. Under the lock. */
int concepts_known_form(const char *word, char *out);
/* The WordNet sense the label (normalised) is read in: the file's, else 1. */
int concepts_sense_of(const struct aitag_concepts *c, const char *label);
/* The word label (normalised) names, as WordNet knows it, into lemma (MAX_WORD), and the sense
 * it is read in into *sense: for "word (hint)" the first sense of word that is a kind of hint
 * ("mouse (animal)": the rodent; "mouse (device)": the computer mouse), else the file's sense
 * of word, else 1. 0 when WordNet does not know the word. Under the lock. */
int concepts_label_sense(const struct aitag_concepts *c, const char *label, char *lemma,
                         int *sense);

#endif
