/*
 * aitag/context.h - context rules: higher-level concepts from what occurs together and in
 * sequence, and suppression of evidence that its context contradicts (docs/context.md).
 *
 * A rules file (JSON) holds concepts, suppressions and senses. A concept holds when its
 * condition holds in a frame, a shot or the whole item (its scope), and becomes evidence like
 * any other (analyzer "context", its name as the label) at the frames whose evidence made it
 * hold, so it gets tags, markers and rules like any label. A suppression removes the evidence
 * of a label from the frames, shots or items where its condition holds. A sense gives the
 * evidence of a label another label where its condition holds: the sense its context picks
 * ("mouse" beside a cat is "mouse (animal)", which aitag/concepts.h reads as that sense).
 * Conditions: a label (with minimum confidence, counts, the share of the frame a box covers, a box
 * inside another label's box, a duration of presence), all / any (at least k) / none of conditions,
 * and sequences (A then B within T seconds).
 *
 * Everything is a pure function of the stored evidence: the policy applies the rules when it
 * derives tags (aitag_policy_set_context), so a changed file re-derives without running a
 * model, and aitag_context_apply's trace says which evidence produced each concept.
 *
 * Usage:
 *     struct aitag_context *cx;
 *     aitag_context_new(&cx);
 *     if (aitag_context_load(cx, "context.json", err, sizeof err) < 0) die(err);
 *     struct aitag_context_out out;
 *     aitag_context_apply(cx, evidence, n, shots, n_shots, &out);
 *     ... out.evidence[0 .. out.n) ...; aitag_context_out_clear(&out);
 *     aitag_context_free(cx);
 *
 * Thread-safety: a loaded context is read-only and may be shared by threads.
 */
#ifndef AITAG_CONTEXT_H
#define AITAG_CONTEXT_H

#include <stddef.h>

#include "aitag/common.h"
#include "aitag/evidence.h"

#define AITAG_CONTEXT_ANALYZER "context" /* the analyzer of concept evidence */

struct aitag_context;

/* An empty rule set. 0 or AITAG_ERR_NOMEM. */
int aitag_context_new(struct aitag_context **out);
void aitag_context_free(struct aitag_context *c);
/* Adds the rules of a file; a rule named like one of its kind loaded before replaces
 * it (so a user's file overrides the shipped defaults rule by rule). 0, AITAG_ERR_IO, or
 * AITAG_ERR_INVALID with err naming the file and the field ("context.json: concepts[2].when:
 * ..."); nothing of the file is added then. */
int aitag_context_load(struct aitag_context *c, const char *path, char *err, size_t errlen);
/* The same from JSON text; name stands for the file in messages. */
int aitag_context_load_text(struct aitag_context *c, const char *text, const char *name, char *err,
                            size_t errlen);
/* Rules loaded (concepts, suppressions and senses). */
size_t aitag_context_size(const struct aitag_context *c);
/* The name of rule i (0 .. size) and whether it is no concept (a suppression or a sense). */
const char *aitag_context_rule_name(const struct aitag_context *c, size_t i, int *is_suppress);
/* The label a sense rule i reads its evidence as, or NULL for another kind of rule. */
const char *aitag_context_rule_as(const struct aitag_context *c, size_t i);
/* The labels whose presence makes rule i hold (the labels of its `when`, outside `none`),
 * up to max of them into out (borrowed); returns how many there are. */
size_t aitag_context_rule_labels(const struct aitag_context *c, size_t i, const char **out,
                                 size_t max);
/* A sha256 hex of the rules in effect ("" for none): equal keys apply equally. */
const char *aitag_context_key(const struct aitag_context *c);

/* Why one output evidence is there, or why an input was removed. */
struct aitag_context_why {
    size_t rule;    /* the rule's index (aitag_context_rule_name) */
    int suppressed; /* 1: input[index] was removed */
    int read_as;    /* 1: input[index] is kept with its sense rule's label (rule_as) */
    size_t index;   /* neither: evidence[index] of the output is a concept */
    size_t *inputs; /* the evidence that made the condition hold: indices into the output for
                       a concept, into the input for a suppression or a sense */
    size_t n_inputs;
};

struct aitag_context_out {
    /* The evidence kept (shallow copies of the inputs: their strings and arrays belong to the
     * caller's input, the label of evidence a sense rule read to the context) followed by the
     * concepts (owned). */
    struct aitag_evidence *evidence;
    size_t n, n_kept;
    struct aitag_context_why *why; /* per concept and per removed input */
    size_t n_why;
};

/* Applies the rules to the evidence of one item (shots may be NULL: the item is one shot).
 * Suppressions first, in file order, on the input; then senses, in file order, on the evidence
 * kept (as analysed: one sense does not see another's labels, and the first to read a piece
 * of evidence wins); then concepts, in file order, each seeing the evidence kept (with its
 * senses' labels) and the concepts before it. 0 or AITAG_ERR_NOMEM (out empty). */
int aitag_context_apply(const struct aitag_context *c, const struct aitag_evidence *ev, size_t n,
                        const struct aitag_shot *shots, size_t n_shots,
                        struct aitag_context_out *out);
void aitag_context_out_clear(struct aitag_context_out *out);

#endif
