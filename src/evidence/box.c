/*
 * box.c - overlap of two evidence boxes, the one measure the catalog (matching a re-tagged
 * face to its stored row) and the people engine (linking faces into tracks) share.
 */
#include <math.h>

#include "aitag/evidence.h"

float aitag_box_iou(const struct aitag_box *a, const struct aitag_box *b)
{
    float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
    float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
    float inter = (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0.0f;
    float uni = a->w * a->h + b->w * b->h - inter;

    return uni > 0.0f ? inter / uni : 0.0f;
}
