/*
 * persist.h - findings that last from one adaptive sample to the next (persist.c).
 */
#ifndef AITAG_PIPELINE_PERSIST_H
#define AITAG_PIPELINE_PERSIST_H

#include <stddef.h>

#include "aitag/evidence.h"
#include "aitag/policy.h"

/* Gives each instant finding of ev (end 0, confidence at or above its label's threshold in
 * policy) that the next analysed frame also has (same analyzer and label, at or above the
 * threshold) an end at that frame's time, when that frame is more than `interval` later.
 * times: the times of the frames analysed, any order. Findings with text keep their instant (a
 * text line is its own reading). 0 or AITAG_ERR_NOMEM (ev unchanged). */
int pipeline_persist(struct aitag_evidence_list *ev, const double *times, size_t n_times,
                     double interval, const struct aitag_policy *policy);

#endif
