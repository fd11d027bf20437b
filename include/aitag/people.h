/*
 * aitag/people.h - people across the library: the faces of the catalog grouped into persons.
 *
 * Faces come from the face_attrs analyzer: each "face" it embeds is one row of the catalog's
 * faces table (stored with the item's evidence; aitag/catalog.h, "Faces and people"), with a
 * quality score (aitag_face_quality in aitag/evidence.h). This library decides who is who:
 *
 *   tracks    within one video, faces on consecutive samples whose boxes overlap and whose
 *             embeddings are close are one track (faces.track = the id of its first face);
 *   units     a track, or a single face of a photo, is what gets assigned: its embedding is the
 *             quality-weighted mean of its faces', so one good frame carries a track;
 *   update    (incremental, after each `aitag tag` that ran face_attrs) a unit without a person
 *             joins the nearest person whose centroid is within max_distance and who has not
 *             had one of its faces rejected; units still left are clustered among themselves
 *             (within seed_distance) and a cluster with min_faces faces of quality >=
 *             min_quality becomes a new person;
 *             the rest wait for the next update;
 *   recluster every automatic assignment is made again from scratch: the new clusters take the
 *             ids of the old people holding most of their faces (each old id once, the largest
 *             overlap first), so ids stay stable; faces the user assigned, people with a name,
 *             ignored people, people of Stash or of the user, and face_rejects are never undone.
 *
 * Distances are cosine distances (1 - cos) between L2-normalised embeddings; only faces of one
 * embedding model (the most recent) are compared.
 *
 * Usage:
 *     struct aitag_people_params p;
 *     struct aitag_people_stats st;
 *     char err[256];
 *     aitag_people_default_params(&p);
 *     if (aitag_people_update(catalog, &p, &st, err, sizeof err) < 0) die(err);
 *
 * Thread-safety: the functions use the catalog handle they are given (one thread at a time);
 * aitag_people_cluster is pure and reentrant.
 */
#ifndef AITAG_PEOPLE_H
#define AITAG_PEOPLE_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/catalog.h"

struct aitag_people_params {
    float max_distance;   /* cosine distance at most to join a person or a cluster */
    float seed_distance;  /* update: cosine distance at most within the faces without a person
                             that start a new one (tighter: two stray faces are weaker evidence
                             than a person's centroid) */
    int min_faces;        /* faces (of quality >= min_quality) a cluster needs to become a
                             person */
    float min_quality;    /* faces under it never seed a person (they may join one) */
    float track_iou;      /* tracks: box IoU at least between consecutive samples ... */
    float track_distance; /* ... and cosine distance at most */
    int track_skip;       /* samples a track may skip (a missed detection) */
};

/* The measured defaults (docs/people.md, "How people are found"). */
void aitag_people_default_params(struct aitag_people_params *p);

/* What a call did. */
struct aitag_people_stats {
    long faces;          /* faces considered (of the current embedding model) */
    long backfilled;     /* faces stored from older catalogs' evidence first */
    long tracks;         /* tracks of more than one face */
    long assigned;       /* faces given a person by this call */
    long unassigned;     /* faces left without a person */
    long people_created; /* people made by this call */
    long people_dropped; /* automatic people a re-cluster left without a face (deleted) */
    long people;         /* people with faces after the call */
};

/* Incremental: stores faces of items tagged before faces were stored, links tracks of videos
 * with unlinked faces, assigns every face without a person (see above), in one catalog
 * transaction for the assignment. stats may be NULL. 0, or < 0 with a one-line reason in err
 * (AITAG_ERR_DB, AITAG_ERR_NOMEM, AITAG_ERR_INVALID for bad params). */
int aitag_people_update(struct aitag_catalog *c, const struct aitag_people_params *p,
                        struct aitag_people_stats *stats, char *err, size_t errlen);

/* Full re-cluster of every face not assigned by the user (see above). Same contract. */
int aitag_people_recluster(struct aitag_catalog *c, const struct aitag_people_params *p,
                           struct aitag_people_stats *stats, char *err, size_t errlen);

/* Reference faces: a face known to be someone's (a Stash performer's image), placed before
 * any clustering so that the faces near it are recognised as that person. */
struct aitag_people_ref {
    const char *source, *ref, *image_key; /* where the image came from (aitag/catalog.h) */
    const char *name;                     /* who it is */
    int64_t person_id; /* the person it is already known to be; 0: by name, by face, or new */
    const char *model; /* the embedding and its model; NULL embedding: the image had no face */
    const float *embedding;
    size_t dim;
    float quality;
};

enum aitag_people_ref_outcome {
    AITAG_REF_LINKED,   /* the person given, or the person of that name */
    AITAG_REF_ADOPTED,  /* the unnamed person its face belongs to, who now bears the name */
    AITAG_REF_CREATED,  /* a new person of that name, origin source, without faces yet */
    AITAG_REF_CONFLICT, /* its face belongs to a person with another name, or an ignored one:
                           stored without a person, nothing changed */
    AITAG_REF_NO_FACE,  /* no embedding: stored as seen, without a person */
};

/* Places reference r: the person given, else the person named r->name (ignoring case), else
 * the unnamed person whose centroid (faces and references of r->model) is nearest within
 * p->max_distance (named r->name; its items' derived tags are marked out of date), else a
 * new person. The reference is stored (replacing an earlier one of the same source and ref)
 * with the person into *person_id (0 for CONFLICT and NO_FACE). Each step is committed on
 * its own and re-running it finds what an interrupted call made, so a kill at any point is
 * completed by the next call. Loads the faces of r->model for the face match: call it for
 * new or changed images only. 0, or < 0 with a one-line reason in err (AITAG_ERR_INVALID for
 * a name the catalog refuses). */
int aitag_people_add_reference(struct aitag_catalog *c, const struct aitag_people_params *p,
                               const struct aitag_people_ref *r, int64_t *person_id,
                               enum aitag_people_ref_outcome *outcome, char *err, size_t errlen);

/* Clusters n L2-normalised vectors of dim floats (row i at vecs + i * dim), without a catalog:
 * leader clustering in the given order (put the best faces first) against running centroids
 * (a vector joins the nearest centroid within max_distance, else starts a cluster), then
 * clusters whose centroids are within max_distance are merged, then every vector moves to its
 * nearest final centroid when that one is within max_distance. weights (n values > 0, NULL:
 * all 1) weigh vectors in centroids. labels (n ints) receive cluster numbers 0..*n_clusters-1,
 * numbered by first member. Cost: O(n x clusters x dim). 0, AITAG_ERR_INVALID or
 * AITAG_ERR_NOMEM. */
int aitag_people_cluster(const float *vecs, size_t n, size_t dim, const float *weights,
                         float max_distance, int *labels, size_t *n_clusters);

/* The dot product of two dim-float vectors (the cosine of unit vectors), the one kernel of all
 * searches: 16 independent partial sums, which the compiler vectorises. */
float aitag_people_dot(const float *a, const float *b, size_t dim);

#endif
