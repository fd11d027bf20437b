/* people_int.h - internals shared by the people engine's files. */
#ifndef AITAG_PEOPLE_INT_H
#define AITAG_PEOPLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/people.h"

/* Running centroids: unnormalised weighted sums (row k at sums + k * dim) and their norms. */
struct people_centroids {
    float *sums, *norms;
    size_t n, cap, dim;
};
void people_centroids_clear(struct people_centroids *cs);
/* Adds an empty centroid; its index, or AITAG_ERR_NOMEM. */
int people_centroids_add(struct people_centroids *cs, size_t dim);
/* Adds w * v to centroid k. */
void people_centroids_accumulate(struct people_centroids *cs, size_t k, const float *v, float w);
/* The centroid nearest to unit vector v (cosine distance into *dist), leaving out those with
 * skip[k] set (skip may be NULL) and empty ones; -1 when none. */
int people_centroids_nearest(const struct people_centroids *cs, const float *v,
                             const unsigned char *skip, float *dist);

/* tracks.c: links the faces of each video of s into tracks, into track[] (per face: the id
 * of the track's first face; 0 for faces of photos). Videos where every face already has a
 * track keep theirs unless all is set. Returns how many tracks of more than one face it linked, or
 * AITAG_ERR_NOMEM. */
long people_link_tracks(const struct aitag_face_set *s, const struct aitag_people_params *p,
                        int all, int64_t *track);

/* Cosine distance between two faces of s. */
float people_face_distance(const struct aitag_face_set *s, size_t a, size_t b);

/* units.c: a track or a single face, faces[first .. first + n) of its set's face list. */
struct people_unit {
    size_t first, n;
    float quality; /* its best face's */
    int good;      /* its faces of quality >= min_quality */
};
struct people_units {
    struct people_unit *units; /* best quality first */
    size_t n;
    size_t *faces;  /* indices into the face set, grouped by unit */
    float *vecs;    /* unit embeddings (normalised), row j for units[j] */
    float *weights; /* faces per unit */
    size_t dim;
};
/* Units of the faces i of s with pick[i] set, grouped by track[i] (0: a unit of its own). */
int people_units_build(const struct aitag_face_set *s, const int64_t *track,
                       const unsigned char *pick, float min_quality, struct people_units *out);
void people_units_free(struct people_units *u);
/* Centroids of the people in person[] (per face; 0: none; NULL: no face counts) and of the
 * people refs stand for (NULL: none; refs of another length than s's are left out), one per
 * distinct person, in ascending order of id (*keys, n_keys; caller frees); faces and
 * references weighted by quality. */
int people_centroids_of(const struct aitag_face_set *s, const int64_t *person,
                        const struct aitag_ref_set *refs, struct people_centroids *cs,
                        int64_t **keys, size_t *n_keys);
/* Index of key in keys (ascending), or -1. */
int people_key_index(const int64_t *keys, size_t n, int64_t key);

#endif
