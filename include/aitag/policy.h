/*
 * aitag/policy.h - from frame evidence to media-level tags, time-ranged markers and text.
 *
 * Usage:
 *     struct aitag_policy *p;
 *     aitag_policy_new(&p);                                  // defaults below
 *     if (aitag_policy_load(p, "rules.json", err, sizeof err) < 0) ...;   // optional
 *     struct aitag_result r = {0};
 *     aitag_policy_derive(p, &input, &r);
 *     ...; aitag_result_clear(&r); aitag_policy_free(p);
 *
 * Defaults follow the best-known Stash tagger: a frame counts when its evidence confidence is
 * >= 0.5; hits closer than 6 s merge into one segment; segments shorter than 12 s give no
 * marker; a video gets the tag when the label is present for >= 20 s in all, or has a marker.
 * Short media scale
 * the two durations down (see docs/policy.md): the effective minimum marker length is
 * min(min_marker_duration, duration / 2) and the effective required duration is
 * min(required_duration, duration / 2). Images get tags (any frame over threshold), no markers.
 *
 * The rules file (JSON, docs/policy.md) renames labels, sets parent tags, prefix and suffix,
 * per-tag thresholds and durations, and white/black lists. Everything here is a pure function
 * of stored evidence: changing rules re-derives results without running a model.
 * Thread-safety: a policy is read-only after loading and may be shared by threads.
 */
#ifndef AITAG_POLICY_H
#define AITAG_POLICY_H

#include <stddef.h>

#include "aitag/common.h"
#include "aitag/context.h"
#include "aitag/evidence.h"

struct aitag_rule {
    float threshold;            /* evidence confidence needed for a frame to count */
    double min_marker_duration; /* seconds */
    double max_gap;             /* seconds between hits merged into one segment */
    double required_duration;   /* seconds of presence for a video-level tag */
    int markers;                /* 0: no markers for this tag */
};

struct aitag_rule aitag_rule_default(void);

struct aitag_policy;

int aitag_policy_new(struct aitag_policy **out);
void aitag_policy_free(struct aitag_policy *p);
/* Loads a rules file over the current settings. Returns 0, AITAG_ERR_IO or AITAG_ERR_INVALID
 * with err naming the file and the field. */
int aitag_policy_load(struct aitag_policy *p, const char *path, char *err, size_t errlen);
/* Overrides the default threshold (all tags without their own). */
void aitag_policy_set_threshold(struct aitag_policy *p, float threshold);
/* The threshold the policy applies to a raw label's evidence (its rule's, else the default). */
float aitag_policy_threshold(const struct aitag_policy *p, const char *label);
/* The rule the policy applies to a raw label (the rules file's and the defaults; learned
 * thresholds, which come with each item's input, aside). */
struct aitag_rule aitag_policy_rule(const struct aitag_policy *p, const char *label);
/* Enables or disables markers globally. */
void aitag_policy_set_markers(struct aitag_policy *p, int on);
/* Replaces the rules file's tag prefix and/or suffix (NULL keeps that one): a sink's own
 * setting (the plugin's tagPrefix) wins over the rules file, and the name is built once, here.
 * Returns 0 or AITAG_ERR_NOMEM (nothing changed). */
int aitag_policy_set_affixes(struct aitag_policy *p, const char *prefix, const char *suffix);
/* Adds the context rules of a file (aitag/context.h, docs/context.md), applied before
 * deriving: concepts become labels of the "context" analyzer (a concept named like another
 * analyzer's label, such as "person" implied by a face, adds to that label's frames), and
 * suppressed evidence counts for nothing. A rule named like one loaded before replaces it.
 * The key changes with them. 0, AITAG_ERR_IO or AITAG_ERR_INVALID with err naming the file
 * and the field (nothing of that file is added). */
int aitag_policy_load_context(struct aitag_policy *p, const char *path, char *err, size_t errlen);
/* The category parent of a label ("animal" for "dog"), or NULL for none; must be thread-safe. */
typedef const char *(*aitag_parent_fn)(void *ctx, const char *label);
/* Gives every tag whose label has no parent of its own in the rules file the parent fn names
 * (the concepts file's categories through WordNet: "dog" under "animal"; aitag/concepts.h),
 * before the rules file's parent for all tags. key identifies what fn makes of labels and
 * joins the policy key. ctx is borrowed and must outlive p. 0 or AITAG_ERR_NOMEM. */
int aitag_policy_set_parent_fn(struct aitag_policy *p, aitag_parent_fn fn, void *ctx,
                               const char *key);
/* The context rules loaded, or NULL. */
const struct aitag_context *aitag_policy_context(const struct aitag_policy *p);
/* A sha256 hex of everything that affects derivation; equal keys derive equal results. */
const char *aitag_policy_key(const struct aitag_policy *p);

/* What one analyzer sampled for an item: needed for coverage and marker ends. */
struct aitag_sampling {
    const char *analyzer;
    double interval; /* seconds between samples; 0 for images */
    int n_frames;
};

/* A threshold learned for one raw label from the user's decisions (aitag/catalog.h,
 * "Learning"): it replaces the policy's threshold for that label. */
struct aitag_label_threshold {
    const char *label;
    float threshold;
};

struct aitag_derive_input {
    int is_image;
    double duration;
    const struct aitag_evidence *evidence;
    size_t n_evidence;
    const struct aitag_sampling *sampling;
    size_t n_sampling;
    const struct aitag_shot *shots; /* the item's shots (aitag/common.h), may be none */
    size_t n_shots;
    const struct aitag_label_threshold *thresholds; /* learned thresholds, may be none */
    size_t n_thresholds;
};

struct aitag_tag_result {
    char *name;   /* final tag name (mapped, prefixed) */
    char *parent; /* parent tag name or NULL */
    char *label;  /* the raw label it came from */
    float confidence;
    float coverage; /* fraction of sampled frames with the label */
};

struct aitag_marker_result {
    char *tag;
    double start, end;
    float confidence;
    /* the title a sink gives the marker when not its tag's name (a transcript line the Stash
     * plugin writes as a marker); NULL in derived results, borrowed in views */
    const char *title;
};

struct aitag_text_result {
    double start, end;
    char *text;
    float confidence;
    char source[16]; /* what read it: "text" (OCR), "speech" (a transcript segment) */
    char lang[16];   /* ISO 639-1 of the text, "" when unknown */
};

struct aitag_result {
    struct aitag_tag_result *tags;
    size_t n_tags;
    struct aitag_marker_result *markers;
    size_t n_markers;
    struct aitag_text_result *texts;
    size_t n_texts;
    char *description;        /* owned, may be NULL: the item's free-text description (vlm) */
    struct aitag_shot *shots; /* owned: the item's shots by start (aitag/common.h) */
    size_t n_shots;
};

/* Derives tags (sorted by name), markers (by start, tag) and texts (by start) into out,
 * which must be empty. Returns 0 or AITAG_ERR_NOMEM (out left empty). */
int aitag_policy_derive(const struct aitag_policy *p, const struct aitag_derive_input *in,
                        struct aitag_result *out);
/* Appends to a result (used by the catalog when loading). 0 or AITAG_ERR_NOMEM. */
int aitag_result_add_tag(struct aitag_result *r, const char *name, const char *parent,
                         const char *label, float confidence, float coverage);
int aitag_result_add_marker(struct aitag_result *r, const char *tag, double start, double end,
                            float confidence);
int aitag_result_add_text(struct aitag_result *r, double start, double end, const char *text,
                          float confidence, const char *source, const char *lang);
/* Sets r's description to a copy of text (replacing any). 0 or AITAG_ERR_NOMEM. */
int aitag_result_set_description(struct aitag_result *r, const char *text);
/* True for evidence that describes the item in words (vlm "description"): it carries text but
 * is never a tag, marker or text line; the catalog loads it as the result's description. */
int aitag_evidence_is_description(const char *analyzer, const char *label);
/* True for labels that describe the whole item rather than moments of it ("keyword:WORD",
 * from speech): any hit tags the item, and they make no markers. */
int aitag_label_is_item_level(const char *label);
/* Frees everything in r and zeroes it. */
void aitag_result_clear(struct aitag_result *r);

/* Corrections. A user's decision on a derived tag or marker (`aitag review`, the review app,
 * a tag of ours removed in Stash) is data: the catalog stores each one and applies them, in the
 * order they were made, to every result it derives, so a rejected tag never comes back and an
 * accepted one stays when a later threshold would drop it. A marker decision names the marker
 * by its tag and its bounds when judged; it holds for the derived marker of that tag which
 * overlaps those bounds by at least half of the shorter of the two (a re-run that moves an
 * edge by a sample still meets the decision). */
enum aitag_verdict {
    AITAG_VERDICT_ACCEPT, /* keep it (restored from the decision when a derivation drops it) */
    AITAG_VERDICT_REJECT, /* never show it (a tag: its markers go too) */
    AITAG_VERDICT_RENAME, /* call it new_tag (a tag: its markers too; merges into one there) */
    AITAG_VERDICT_BOUNDS, /* a marker only: [new_start, new_end) instead */
};

struct aitag_decision {
    enum aitag_verdict verdict;
    const char *tag; /* the tag's final name when judged */
    int marker;      /* 1: the marker of tag at [start, end); 0: the item's tag */
    double start, end;
    const char *new_tag;       /* RENAME */
    double new_start, new_end; /* BOUNDS */
    /* what was judged, restored by ACCEPT: the confidence, the raw label and the parent */
    float confidence;
    const char *label, *parent;
};

/* The verdict named word ("accept", "reject", "rename", "bounds"), or -1. */
int aitag_verdict_parse(const char *word);
const char *aitag_verdict_name(enum aitag_verdict v);
/* True when a marker at [s1, e1) is the one judged at [s2, e2) (the overlap rule above). */
int aitag_marker_matches(double s1, double e1, double s2, double e2);
/* Learning a threshold from decisions. A label's decided items (accepted: truth 1, rejected:
 * 0) and the rest (-1) are derived at each candidate threshold, without the decisions applied
 * (what the models alone would give); present[k] says whether the tag is there at
 * candidates[k]. The fit picks the candidate that maximises F1 over the decided items (ties:
 * the one nearest the current threshold) and says what it would change. Precision and recall
 * "held out" come from two folds (by fold, 0 or 1): each half's decisions judge the threshold
 * fitted on the other half, so they say how the fit does on decisions it never saw. */
struct aitag_fit_item {
    int truth;                    /* 1 accepted, 0 rejected, -1 not judged */
    int fold;                     /* 0 or 1 */
    const unsigned char *present; /* [n_candidates] */
};

struct aitag_threshold_fit {
    float current, proposed;
    int decided, accepted, rejected;
    double f1_current, f1_proposed; /* on every decision */
    /* on held-out decisions, current and fitted threshold: -1 when undefined */
    double precision_current, recall_current, precision_fitted, recall_fitted;
    int gained, lost;                /* items that would gain or lose the tag */
    int false_dropped, true_dropped; /* of the lost, rejected and accepted ones */
    int false_added;                 /* of the gained, rejected ones */
};

/* Fits over items (n) derived at candidates (n_candidates, ascending; candidates[current] is
 * the threshold in force). 0, or AITAG_ERR_INVALID when current is out of range or no item is
 * decided. */
int aitag_threshold_fit(const float *candidates, size_t n_candidates, size_t current,
                        const struct aitag_fit_item *items, size_t n,
                        struct aitag_threshold_fit *out);

/* The fit as one JSON object (text, caller frees; NULL when out of memory): label, current,
 * proposed, decided, accepted, rejected, f1_current, f1_proposed, gained, lost,
 * false_dropped, true_dropped, false_added, and held_out {precision_current, recall_current,
 * precision_fitted, recall_fitted} (null when undefined). */
char *aitag_threshold_fit_json(const char *label, const struct aitag_threshold_fit *f);

/* Applies n decisions to r in order (see above); r stays sorted as aitag_policy_derive sorts.
 * 0 or AITAG_ERR_NOMEM (r then holds what was applied so far, still valid). */
int aitag_result_apply_decisions(struct aitag_result *r, const struct aitag_decision *d, size_t n);

#endif
