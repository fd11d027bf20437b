/* context_int.h - internals shared by the context rules' files: the parsed rules and the
 * evaluation of conditions over frames of one item. */
#ifndef AITAG_CONTEXT_INT_H
#define AITAG_CONTEXT_INT_H

#include <stddef.h>

#include "aitag/context.h"

enum cond_kind { COND_LABEL, COND_ALL, COND_ANY, COND_NONE, COND_SEQUENCE };
enum scope { SCOPE_FRAME, SCOPE_SHOT, SCOPE_ITEM };
/* The lists of a file, in the order they are applied: suppress, senses, concepts. */
enum rule_kind { RULE_CONCEPT, RULE_SUPPRESS, RULE_SENSE };

#define MAX_ALTS 16 /* label alternatives "a|b|c" */

struct cond {
    enum cond_kind kind;
    /* LABEL: evidence whose label is one of labels[], of confidence >= min_conf, whose box
     * covers area_min .. area_max of the frame and lies inside a box of `inside`; at least
     * count (at most max_count, 0: no limit) such in one frame; present for_s seconds */
    char *labels[MAX_ALTS];
    size_t n_labels;
    float min_conf;
    int count, max_count;
    float area_min, area_max;
    char *inside;
    double for_s;
    /* ALL, ANY (at least at_least of them), NONE, SEQUENCE (in order within `within` s) */
    struct cond *kids;
    size_t n_kids;
    int at_least;
    double within;
};

struct rule {
    char *name; /* concept: its label; suppression, sense: the rule's name */
    enum rule_kind kind;
    struct cond target; /* suppression, sense: a LABEL condition naming what is removed or read */
    char *as;           /* sense: the label the target's evidence becomes */
    enum scope scope;
    struct cond when;
    struct cond unless; /* kind NONE with no kids: nothing */
    int has_unless;
    float weight;
    char *canon; /* the rule's JSON, keys sorted: what the key is made of */
};

struct aitag_context {
    struct rule *rules;
    size_t n, cap;
    char key[65];
};

void context_cond_free(struct cond *c);
void context_rule_free(struct rule *r);

/* One item's evidence seen as frames: distinct times, and per frame the evidence indices. */
struct frames {
    const struct aitag_evidence *ev;
    const unsigned char *gone; /* per evidence: removed (not seen); may be NULL */
    size_t n_ev;
    double *t;     /* frame times, ascending */
    size_t n;      /* frames */
    size_t widest; /* the most evidence one frame has */
    size_t *first; /* frame k's evidence: idx[first[k] .. first[k + 1]) */
    size_t *idx;
};
int context_frames_build(struct frames *f, const struct aitag_evidence *ev, size_t n,
                         const unsigned char *gone);
void context_frames_free(struct frames *f);

/* What a condition gives over frames lo .. hi - 1. */
struct hold {
    int holds;
    float conf;
    size_t *why; /* evidence indices that made it hold (positive parts only) */
    size_t n_why, cap_why;
};
void context_hold_clear(struct hold *h);
/* Evaluates c over frames [lo, hi) of f into h (emptied first). 0 or AITAG_ERR_NOMEM. */
int context_eval(const struct cond *c, const struct frames *f, size_t lo, size_t hi,
                 struct hold *h);

#endif
