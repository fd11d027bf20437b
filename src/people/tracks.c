/*
 * tracks.c - faces of one person over consecutive samples of a video, linked into tracks.
 *
 * A video's faces come sorted by time; the distinct times are its samples. A face on sample s
 * may continue a track whose last face is on sample s - 1 (or up to track_skip samples
 * earlier, a missed detection) when their boxes overlap (IoU >= track_iou) and their
 * embeddings agree (cosine distance <= track_distance): the overlap keeps two people side by
 * side apart even when they look alike, the distance keeps a cut to another person in the
 * same place apart. Pairs are taken greedily, closest embeddings first, so two faces never
 * continue one track. A track is named by the id of its first face, which is stable for as
 * long as that face is stored.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "people_int.h"

float people_face_distance(const struct aitag_face_set *s, size_t a, size_t b)
{
    return 1.0f - aitag_people_dot(s->vecs + a * s->dim, s->vecs + b * s->dim, s->dim);
}

struct pair {
    float dist;
    size_t tail, face; /* the track's last face, the new face (indices into the set) */
};

static int by_dist(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;

    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return x->face < y->face ? -1 : x->face > y->face;
}

/* Links the faces [lo, hi) of one video. sample[i]: the sample number of face i; tail[] marks
 * faces that currently end a track (1) and took a successor (0). */
static int link_video(const struct aitag_face_set *s, const struct aitag_people_params *p,
                      size_t lo, size_t hi, int64_t *track, long *multi)
{
    size_t *sample = malloc((hi - lo) * sizeof *sample), cur = lo;
    unsigned char *open = calloc(hi - lo, 1);
    struct pair *pairs = NULL;
    size_t cap = 0;
    int rc = 0;

    if (!sample || !open) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t i = lo, k = 0; i < hi; i++) {
        if (i > lo && s->rows[i].t > s->rows[i - 1].t + 1e-6)
            k++;
        sample[i - lo] = k;
    }
    while (cur < hi) {
        size_t end = cur, np = 0;
        while (end < hi && sample[end - lo] == sample[cur - lo])
            end++;
        /* candidate pairs: open track ends on the previous 1 + track_skip samples */
        for (size_t j = lo; j < cur; j++) {
            if (!open[j - lo] || sample[cur - lo] - sample[j - lo] > (size_t)p->track_skip + 1)
                continue;
            for (size_t f = cur; f < end; f++) {
                float d;
                if (aitag_box_iou(&s->rows[j].box, &s->rows[f].box) < p->track_iou)
                    continue;
                d = people_face_distance(s, j, f);
                if (d > p->track_distance)
                    continue;
                if (np == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    struct pair *g = realloc(pairs, nc * sizeof *g);
                    if (!g) {
                        rc = AITAG_ERR_NOMEM;
                        goto out;
                    }
                    pairs = g, cap = nc;
                }
                pairs[np++] = (struct pair){d, j, f};
            }
        }
        if (np > 1)
            qsort(pairs, np, sizeof *pairs, by_dist);
        for (size_t f = cur; f < end; f++)
            track[f] = 0;
        for (size_t k = 0; k < np; k++) {
            struct pair *q = &pairs[k];
            if (!open[q->tail - lo] || track[q->face])
                continue;
            if (track[q->tail] == s->rows[q->tail].id)
                (*multi)++; /* a single face becomes a track of two */
            track[q->face] = track[q->tail];
            open[q->tail - lo] = 0;
        }
        for (size_t f = cur; f < end; f++) {
            if (!track[f])
                track[f] = s->rows[f].id;
            open[f - lo] = 1;
        }
        cur = end;
    }
out:
    free(sample);
    free(open);
    free(pairs);
    return rc;
}

long people_link_tracks(const struct aitag_face_set *s, const struct aitag_people_params *p,
                        int all, int64_t *track)
{
    long multi = 0;
    size_t lo = 0;

    while (lo < s->n) {
        size_t hi = lo;
        int unlinked = 0;
        while (hi < s->n && s->rows[hi].media_id == s->rows[lo].media_id)
            unlinked |= s->rows[hi++].track == 0;
        if (!s->rows[lo].is_video) {
            for (size_t i = lo; i < hi; i++)
                track[i] = 0;
        } else if (all || unlinked) {
            int rc = link_video(s, p, lo, hi, track, &multi);
            if (rc < 0)
                return rc;
        } else {
            for (size_t i = lo; i < hi; i++)
                track[i] = s->rows[i].track;
        }
        lo = hi;
    }
    return multi;
}
