/*
 * shot.c - names of shot boundary kinds.
 *
 * Shots (aitag/common.h) are produced by the sampler, stored by the catalog and shown by every
 * sink; the names here are the ones the JSON output, the catalog and the docs use, so they are
 * spelled in one place.
 */
#include "aitag/common.h"

const char *aitag_shot_edge_name(int edge)
{
    switch (edge) {
    case AITAG_SHOT_START:
        return "start";
    case AITAG_SHOT_CUT:
        return "cut";
    case AITAG_SHOT_FADE:
        return "fade";
    case AITAG_SHOT_DISSOLVE:
        return "dissolve";
    default:
        return "?";
    }
}
