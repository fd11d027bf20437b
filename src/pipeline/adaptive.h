/*
 * adaptive.h - the coarse-to-fine planner of adaptive sampling (AITAG_SAMPLING_ADAPTIVE):
 * which frame times to analyse next, from the times analysed so far and what was found there.
 * Pure bookkeeping (no decoding, no models): the decoder thread asks it for the coarse times,
 * the analysis thread feeds it each analysed frame's signature and asks it for the next round.
 */
#ifndef AITAG_PIPELINE_ADAPTIVE_H
#define AITAG_PIPELINE_ADAPTIVE_H

#include <stddef.h>
#include <stdint.h>

struct adaptive_params {
    double duration;    /* seconds */
    double frame_dur;   /* nominal frame duration */
    double resolution;  /* bisection stops when a change is bracketed this closely */
    double same_gap;    /* a finding that goes and comes back within this is one marker to
                           the policy (its max_gap): no bisection of that flicker */
    double any_gap;     /* no two neighbouring samples are further apart than this */
    double cut_lead;    /* a finding that ends at a cut gets a sample at most this long
                           before it (0: none) */
    double fade_lead;   /* a blank sample gets one this long after it (a fade in from
                           black; 0: none) */
    int splits;         /* a gap where findings change is split in this many parts a round
                           (a keyframe in its middle half: in two) */
    int max_rounds;     /* refinement rounds at most */
    size_t max_samples; /* frames refinement may reach (0: no bound): default twice what
                           exact sampling takes */
    double interval;    /* seconds a hit stands for in the policy */
    double min_marker;  /* the policy's shortest marker and the presence a tag requires: a */
    double required;    /* finding whose edges cannot change either is not bisected (0, 0:
                           every change is) */
};

/* Defaults for a sampling interval and the policy's max_gap, min_marker_duration and
 * required_duration (seconds, aitag/policy.h). */
struct adaptive_params pipeline_adaptive_params(double interval, double max_gap, double min_marker,
                                                double required, double duration, double fps);

/* A frame time to decode: key = it is a keyframe time (decode its packet alone). */
struct adaptive_req {
    double t;
    int key;
};

struct adaptive_plan;

/* keys: keyframe times (ascending); cuts: shot boundaries known before decoding (ascending,
 * the media start excluded); both copied. Returns 0 or AITAG_ERR_NOMEM. */
int pipeline_adaptive_new(const struct adaptive_params *p, const double *keys, size_t n_keys,
                          const double *cuts, size_t n_cuts, struct adaptive_plan **out);
void pipeline_adaptive_free(struct adaptive_plan *pl);

/* The first round: the first frame, each cut, keyframes thinned so that neighbours stay
 * within same_gap where they can, and filler times so that none is more than any_gap apart.
 * *out ascending, caller frees. 0 or AITAG_ERR_NOMEM. */
int pipeline_adaptive_coarse(struct adaptive_plan *pl, struct adaptive_req **out, size_t *n);

/* Records an analysed frame at time t whose findings are sig[0..n) (hashes of what was found
 * above threshold, any order; see pipeline_adaptive_hash); blank: its picture shows next to
 * nothing (black, flat). A time seen again replaces the earlier one. 0 or AITAG_ERR_NOMEM. */
int pipeline_adaptive_add(struct adaptive_plan *pl, double t, const uint64_t *sig, size_t n,
                          int blank);

/* The next round: for each pair of neighbouring samples, a bisection time where the findings
 * differ (none when a cut between them explains the change, or the pair is within resolution),
 * and one between two that agree but lie further apart than any_gap. Times tried before are not
 * asked again. *out ascending (caller frees), *n = 0 when the plan is complete. 0 or
 * AITAG_ERR_NOMEM. */
int pipeline_adaptive_refine(struct adaptive_plan *pl, struct adaptive_req **out, size_t *n);

/* The policy's bounds for finding h (a hash as in pipeline_adaptive_hash) when they differ
 * from params' min_marker and required: INFINITY as min_marker for a label that makes no
 * markers. The first call for h counts. 0 or AITAG_ERR_NOMEM. */
int pipeline_adaptive_rule(struct adaptive_plan *pl, uint64_t h, double min_marker,
                           double required);

/* Samples recorded so far. */
size_t pipeline_adaptive_samples(const struct adaptive_plan *pl);

/* The index of the first element of the ascending v[0..n) that is >= x (n when none). */
size_t pipeline_lower_bound(const double *v, size_t n, double x);
/* qsort comparison of two doubles, ascending. */
int pipeline_cmp_double(const void *a, const void *b);

/* FNV-1a of analyzer "\0" label: one finding in a signature. */
uint64_t pipeline_adaptive_hash(const char *analyzer, const char *label);

#endif
