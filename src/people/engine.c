/*
 * engine.c - aitag_people_update and aitag_people_recluster: read the catalog's faces, people
 * and rejects, decide who is who in memory, write it back in one transaction.
 *
 * State is one array per face: its new track, its new person (> 0 an existing id, < 0 the
 * new person -p - 1 of this pass, 0 none) and how that was set. Faces the user assigned are
 * never changed; a face is never given a person it was rejected from.
 *
 * update (incremental): a face without a person in a track that has one joins it; then each
 * unit (track or photo face) without a person joins the nearest person centroid within
 * max_distance; the rest are clustered among themselves and clusters holding min_faces faces
 * of quality >= min_quality become people. Only faces without a person move, so an update
 * costs a scan per new unit, and earlier decisions stand.
 *
 * recluster (full): every face the user did not assign is clustered again from scratch. Each
 * new cluster takes the id of the old person holding most of its faces (largest overlaps
 * first; an automatic person's id goes to one cluster only, a kept person, one with a name,
 * ignored, from Stash or the user, or with faces the user assigned, may take several), a
 * cluster without one becomes a new person when it is big enough, and units still without a
 * person then join the nearest person within max_distance. Automatic people left with no face
 * are deleted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "people_int.h"

struct engine {
    struct aitag_catalog *c;
    const struct aitag_people_params *p;
    struct aitag_face_set s;
    struct aitag_person_row *people;
    size_t n_people;
    struct aitag_face_reject *rejects;
    size_t n_rejects;
    struct aitag_ref_set refs; /* reference faces of the faces' model */
    int64_t *track, *person;
    enum aitag_face_assigned *assigned;
    int64_t *new_covers; /* per new person: its best face's id */
    float *new_cover_q;
    size_t n_new, cap_new;
    int64_t *drop;
    size_t n_drop;
};

void aitag_people_default_params(struct aitag_people_params *p)
{
    p->max_distance = 0.31f; /* docs/people.md: the sample photos and videos made from them */
    p->seed_distance = 0.28f;
    p->min_faces = 2;
    p->min_quality = 0.2f;
    p->track_iou = 0.1f;
    p->track_distance = 0.31f;
    p->track_skip = 1;
}

static int check_params(const struct aitag_people_params *p, char *err, size_t errlen)
{
    const char *bad = NULL;

    if (!(p->max_distance > 0.0f && p->max_distance < 2.0f))
        bad = "max_distance must be in (0, 2)";
    else if (!(p->seed_distance > 0.0f && p->seed_distance < 2.0f))
        bad = "seed_distance must be in (0, 2)";
    else if (p->min_faces < 1)
        bad = "min_faces must be at least 1";
    else if (!(p->min_quality >= 0.0f && p->min_quality <= 1.0f))
        bad = "min_quality must be in 0..1";
    else if (!(p->track_iou >= 0.0f && p->track_iou <= 1.0f) ||
             !(p->track_distance >= 0.0f && p->track_distance < 2.0f) || p->track_skip < 0)
        bad = "track_iou (0..1), track_distance (0..2) or track_skip (>= 0) out of range";
    if (bad)
        snprintf(err, errlen, "people: %s", bad);
    return bad ? AITAG_ERR_INVALID : 0;
}

static void engine_free(struct engine *e)
{
    aitag_face_set_free(&e->s);
    aitag_ref_set_free(&e->refs);
    free(e->people);
    free(e->rejects);
    free(e->track);
    free(e->person);
    free(e->assigned);
    free(e->new_covers);
    free(e->new_cover_q);
    free(e->drop);
}

static int db_error(struct engine *e, int rc, char *err, size_t errlen)
{
    if (rc == AITAG_ERR_NOMEM)
        snprintf(err, errlen, "people: out of memory");
    else
        snprintf(err, errlen, "people: %s", aitag_catalog_errmsg(e->c));
    return rc;
}

/* Faces of older catalogs first, then everything the passes read. */
static int engine_load(struct engine *e, int all_tracks, struct aitag_people_stats *st)
{
    int64_t *ids = NULL;
    size_t n = 0;
    long linked;
    int rc;

    rc = aitag_catalog_items_without_faces(e->c, &ids, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int added = 0;
        rc = aitag_catalog_backfill_faces(e->c, ids[i], &added);
        st->backfilled += added;
    }
    free(ids);
    if (rc == 0)
        rc = aitag_catalog_load_faces(e->c, NULL, &e->s);
    if (rc == 0)
        rc = aitag_catalog_load_people(e->c, &e->people, &e->n_people);
    if (rc == 0)
        rc = aitag_catalog_load_face_rejects(e->c, &e->rejects, &e->n_rejects);
    if (rc == 0 && e->s.n)
        rc = aitag_catalog_load_person_refs(e->c, e->s.model, &e->refs);
    if (rc < 0)
        return rc;
    st->faces = (long)e->s.n;
    if (e->s.n == 0)
        return 0;
    e->track = calloc(e->s.n, sizeof *e->track);
    e->person = calloc(e->s.n, sizeof *e->person);
    e->assigned = calloc(e->s.n, sizeof *e->assigned);
    if (!e->track || !e->person || !e->assigned)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < e->s.n; i++) {
        e->person[i] = e->s.rows[i].person_id;
        e->assigned[i] = e->s.rows[i].assigned; /* 'user' without a person: the user's too */
    }
    linked = people_link_tracks(&e->s, e->p, all_tracks, e->track);
    if (linked < 0)
        return (int)linked;
    st->tracks = linked;
    return 0;
}

static int rejected(const struct engine *e, int64_t face_id, int64_t person)
{
    size_t lo = 0, hi = e->n_rejects;

    if (person <= 0)
        return 0;
    while (lo < hi) { /* first reject of face_id */
        size_t mid = (lo + hi) / 2;
        if (e->rejects[mid].face_id < face_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < e->n_rejects && e->rejects[lo].face_id == face_id; lo++)
        if (e->rejects[lo].person_id == person)
            return 1;
    return 0;
}

/* Gives the faces of unit u person pid (AUTO), each unless rejected from it. */
static void assign_unit(struct engine *e, const struct people_units *us,
                        const struct people_unit *u, int64_t pid)
{
    for (size_t k = u->first; k < u->first + u->n; k++) {
        size_t i = us->faces[k];
        if (e->assigned[i] == AITAG_FACE_USER || rejected(e, e->s.rows[i].id, pid))
            continue;
        e->person[i] = pid;
        e->assigned[i] = AITAG_FACE_AUTO;
    }
}

static int unit_rejects(const struct engine *e, const struct people_units *us,
                        const struct people_unit *u, int64_t pid)
{
    for (size_t k = u->first; k < u->first + u->n; k++)
        if (rejected(e, e->s.rows[us->faces[k]].id, pid))
            return 1;
    return 0;
}

/* A new person for the faces of the units whose label is `label`; its number (< 0). */
static int64_t new_person(struct engine *e, const struct people_units *us, const int *labels,
                          int label)
{
    int64_t pid;

    if (e->n_new == e->cap_new) {
        size_t nc = e->cap_new ? e->cap_new * 2 : 16;
        int64_t *c = realloc(e->new_covers, nc * sizeof *c);
        float *q = c ? realloc(e->new_cover_q, nc * sizeof *q) : NULL;
        if (c)
            e->new_covers = c;
        if (q)
            e->new_cover_q = q;
        if (!c || !q)
            return 0;
        e->cap_new = nc;
    }
    pid = -(int64_t)e->n_new - 1;
    e->new_covers[e->n_new] = 0;
    e->new_cover_q[e->n_new] = -1.0f;
    for (size_t j = 0; j < us->n; j++) {
        const struct people_unit *u = &us->units[j];
        if (labels[j] != label)
            continue;
        assign_unit(e, us, u, pid);
        for (size_t k = u->first; k < u->first + u->n; k++) {
            size_t i = us->faces[k];
            if (e->s.rows[i].quality > e->new_cover_q[e->n_new])
                e->new_cover_q[e->n_new] = e->s.rows[i].quality,
                e->new_covers[e->n_new] = e->s.rows[i].id;
        }
    }
    e->n_new++;
    return pid;
}

/* Units of faces without a person join the nearest person within max_distance they are not
 * rejected from. */
static int join_nearest(struct engine *e)
{
    struct people_centroids cs = {0};
    struct people_units us = {0};
    unsigned char *pick = NULL, *skip = NULL;
    int64_t *keys = NULL;
    size_t n_keys = 0;
    int rc;

    pick = malloc(e->s.n);
    if (!pick)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < e->s.n; i++)
        pick[i] = e->person[i] == 0 && e->assigned[i] != AITAG_FACE_USER;
    rc = people_centroids_of(&e->s, e->person, &e->refs, &cs, &keys, &n_keys);
    if (rc == 0 && n_keys)
        rc = people_units_build(&e->s, e->track, pick, e->p->min_quality, &us);
    if (rc == 0 && us.n && !(skip = calloc(n_keys, 1)))
        rc = AITAG_ERR_NOMEM;
    for (size_t j = 0; rc == 0 && j < us.n; j++) {
        const struct people_unit *u = &us.units[j];
        for (;;) {
            float d;
            int k = people_centroids_nearest(&cs, us.vecs + j * us.dim, skip, &d);
            if (k < 0 || d > e->p->max_distance)
                break;
            if (!unit_rejects(e, &us, u, keys[k])) {
                assign_unit(e, &us, u, keys[k]);
                break;
            }
            skip[k] = 1; /* rejected there: the next nearest */
        }
        memset(skip, 0, n_keys);
    }
    free(skip);
    free(pick);
    free(keys);
    people_units_free(&us);
    people_centroids_clear(&cs);
    return rc;
}

/* The person of cs nearest to the centroid v of the units labelled l, within max_distance and
 * not rejected by any of their faces; 0 when none. */
static int64_t nearest_allowed(const struct engine *e, const struct people_units *us,
                               const int *labels, int l, const struct people_centroids *cs,
                               const int64_t *keys, const float *v, unsigned char *skip)
{
    memset(skip, 0, cs->n);
    for (;;) {
        float d;
        int k = people_centroids_nearest(cs, v, skip, &d), bad = 0;
        if (k < 0 || d > e->p->max_distance)
            return 0;
        for (size_t j = 0; j < us->n && !bad; j++)
            bad = labels[j] == l && unit_rejects(e, us, &us->units[j], keys[k]);
        if (!bad)
            return keys[k];
        skip[k] = 1;
    }
}

/* The normalised, weighted mean of the units labelled l, into v (dim floats). */
static void group_centroid(const struct people_units *us, const int *labels, int l, float *v)
{
    float norm;

    memset(v, 0, us->dim * sizeof *v);
    for (size_t j = 0; j < us->n; j++)
        if (labels[j] == l)
            for (size_t d = 0; d < us->dim; d++)
                v[d] += us->weights[j] * us->vecs[j * us->dim + d];
    norm = sqrtf(aitag_people_dot(v, v, us->dim));
    for (size_t d = 0; norm > 0.0f && d < us->dim; d++)
        v[d] /= norm;
}

struct group {
    int label;
    long good;
};

static int by_good(const void *a, const void *b)
{
    const struct group *x = a, *y = b;

    if (x->good != y->good)
        return x->good > y->good ? -1 : 1;
    return x->label - y->label;
}

/* Clusters the units of faces without a person within dist. Largest first, a cluster joins
 * the nearest person (existing, or made by this pass) within max_distance, else becomes a new
 * person when it holds min_faces good faces: a tight dist keeps two stray faces from making a
 * person, max_distance lets a degraded track (blur, compression) still find its person. */
static int cluster_rest(struct engine *e, float dist)
{
    struct people_centroids cs = {0};
    struct people_units us = {0};
    struct group *g = NULL;
    unsigned char *pick = malloc(e->s.n ? e->s.n : 1), *skip = NULL;
    int64_t *keys = NULL;
    float *v = NULL;
    int *labels = NULL;
    size_t k = 0, n_keys = 0;
    int rc;

    if (!pick)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < e->s.n; i++)
        pick[i] = e->person[i] == 0 && e->assigned[i] != AITAG_FACE_USER;
    rc = people_units_build(&e->s, e->track, pick, e->p->min_quality, &us);
    if (rc == 0 && us.n) {
        labels = malloc(us.n * sizeof *labels);
        rc = labels ? aitag_people_cluster(us.vecs, us.n, us.dim, us.weights, dist, labels, &k)
                    : AITAG_ERR_NOMEM;
    }
    if (rc == 0 && k)
        rc = people_centroids_of(&e->s, e->person, &e->refs, &cs, &keys, &n_keys);
    if (rc < 0 || k == 0)
        goto out;
    rc = AITAG_ERR_NOMEM;
    g = calloc(k, sizeof *g);
    v = malloc(us.dim * sizeof *v);
    skip = malloc(n_keys + k);
    if (!g || !v || !skip)
        goto out;
    {
        int64_t *grown = realloc(keys, (n_keys + k) * sizeof *keys);
        if (!grown)
            goto out; /* keys is still ours: freed at out */
        keys = grown;
    }
    for (size_t l = 0; l < k; l++)
        g[l].label = (int)l;
    for (size_t j = 0; j < us.n; j++)
        g[labels[j]].good += us.units[j].good;
    if (k > 1)
        qsort(g, k, sizeof *g, by_good);
    rc = 0;
    for (size_t m = 0; rc == 0 && m < k; m++) {
        int l = g[m].label, c;
        int64_t pid;
        group_centroid(&us, labels, l, v);
        pid = nearest_allowed(e, &us, labels, l, &cs, keys, v, skip);
        if (!pid && g[m].good < e->p->min_faces)
            continue;
        if (pid) {
            for (size_t j = 0; j < us.n; j++)
                if (labels[j] == l)
                    assign_unit(e, &us, &us.units[j], pid);
            c = (int)(people_key_index(keys, n_keys, pid) >= 0 ? people_key_index(keys, n_keys, pid)
                                                               : -1);
            if (c < 0) /* made by this pass: after the sorted existing keys */
                for (size_t q = n_keys; q < cs.n; q++)
                    if (keys[q] == pid)
                        c = (int)q;
        } else {
            pid = new_person(e, &us, labels, l);
            c = pid ? people_centroids_add(&cs, us.dim) : AITAG_ERR_NOMEM;
            if (c < 0) {
                rc = AITAG_ERR_NOMEM;
                break;
            }
            keys[c] = pid;
        }
        people_centroids_accumulate(&cs, (size_t)c, v, (float)g[m].good + 1.0f);
    }
out:
    free(g);
    free(v);
    free(skip);
    free(keys);
    free(labels);
    free(pick);
    people_centroids_clear(&cs);
    people_units_free(&us);
    return rc;
}

/* The person most faces of face i's track have, or 0. Faces of one track are in one item,
 * faces [lo, hi) of the set. */
static int64_t track_person(const struct engine *e, size_t i, size_t lo, size_t hi)
{
    int64_t best = 0;
    long best_n = 0;

    for (size_t j = lo; j < hi; j++) {
        long n = 0;
        if (e->track[j] != e->track[i] || !e->person[j] || e->person[j] == best)
            continue;
        for (size_t m = lo; m < hi; m++)
            n += e->track[m] == e->track[i] && e->person[m] == e->person[j];
        if (n > best_n)
            best_n = n, best = e->person[j];
    }
    return best;
}

/* update: faces without a person in a track that has one join the track's person. */
static void follow_tracks(struct engine *e)
{
    size_t lo = 0;

    while (lo < e->s.n) {
        size_t hi = lo;
        while (hi < e->s.n && e->s.rows[hi].media_id == e->s.rows[lo].media_id)
            hi++;
        for (size_t i = lo; i < hi; i++) {
            int64_t best;
            if (e->person[i] || !e->track[i] || e->assigned[i] == AITAG_FACE_USER)
                continue;
            best = track_person(e, i, lo, hi);
            if (best && !rejected(e, e->s.rows[i].id, best)) {
                e->person[i] = best;
                e->assigned[i] = AITAG_FACE_AUTO;
            }
        }
        lo = hi;
    }
}

struct overlap {
    int label;
    int64_t person;
    long n;
};

static int by_overlap(const void *a, const void *b)
{
    const struct overlap *x = a, *y = b;

    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return x->label - y->label;
}

/* The index of person id in e->people (loaded by id), or n_people. */
static size_t person_index(const struct engine *e, int64_t id)
{
    size_t lo = 0, hi = e->n_people;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e->people[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->n_people && e->people[lo].id == id ? lo : e->n_people;
}

static int person_kept(const struct aitag_person_row *p, const unsigned char *has_user)
{
    return p->name[0] || p->ignored || strcmp(p->origin, "cluster") != 0 || *has_user;
}

/* recluster: each of the k clusters (labels of us) that no old person took (dest[l] 0)
 * joins the person of the nearest reference faces within max_distance, if any, before it may
 * become a new person: a known face is recognised, not clustered anew. */
static int ref_people_for(struct engine *e, const struct people_units *us, const int *labels,
                          size_t k, int64_t *dest)
{
    struct people_centroids cs = {0};
    unsigned char *skip = NULL;
    int64_t *keys = NULL;
    float *v = NULL;
    size_t n_keys = 0;
    int rc = people_centroids_of(&e->s, NULL, &e->refs, &cs, &keys, &n_keys);

    if (rc < 0 || n_keys == 0)
        goto out;
    rc = AITAG_ERR_NOMEM;
    v = malloc(us->dim * sizeof *v);
    skip = malloc(n_keys);
    if (!v || !skip)
        goto out;
    rc = 0;
    for (size_t l = 0; l < k; l++) {
        if (dest[l])
            continue;
        group_centroid(us, labels, (int)l, v);
        dest[l] = nearest_allowed(e, us, labels, (int)l, &cs, keys, v, skip);
    }
out:
    free(v);
    free(skip);
    free(keys);
    people_centroids_clear(&cs);
    return rc;
}

/* recluster: clusters every face the user did not assign and maps clusters to old ids. */
static int recluster_all(struct engine *e)
{
    struct people_units us = {0};
    unsigned char *pick = NULL, *kept = NULL, *used = NULL, *has_user = NULL;
    struct overlap *ov = NULL;
    int64_t *dest = NULL;
    long *good = NULL;
    int *labels = NULL;
    size_t k = 0, n_ov = 0;
    int rc = AITAG_ERR_NOMEM;

    pick = malloc(e->s.n);
    has_user = calloc(e->n_people + 1, 1);
    kept = calloc(e->n_people + 1, 1);
    used = calloc(e->n_people + 1, 1);
    if (!pick || !has_user || !kept || !used)
        goto out;
    for (size_t i = 0; i < e->s.n; i++) {
        pick[i] = e->assigned[i] != AITAG_FACE_USER;
        if (!pick[i]) {
            size_t q = person_index(e, e->person[i]);
            if (q < e->n_people)
                has_user[q] = 1;
        } else {
            e->person[i] = 0, e->assigned[i] = AITAG_FACE_NONE;
        }
    }
    for (size_t q = 0; q < e->n_people; q++)
        kept[q] = (unsigned char)person_kept(&e->people[q], &has_user[q]);
    rc = people_units_build(&e->s, e->track, pick, e->p->min_quality, &us);
    if (rc < 0 || us.n == 0)
        goto out;
    rc = AITAG_ERR_NOMEM;
    labels = malloc(us.n * sizeof *labels);
    if (!labels)
        goto out;
    rc = aitag_people_cluster(us.vecs, us.n, us.dim, us.weights, e->p->max_distance, labels, &k);
    if (rc < 0 || k == 0)
        goto out;
    rc = AITAG_ERR_NOMEM;
    good = calloc(k, sizeof *good);
    dest = calloc(k, sizeof *dest);
    ov = malloc(us.n * 8 * sizeof *ov + sizeof *ov);
    if (!good || !dest || !ov)
        goto out;
    /* overlaps: (cluster, old person) -> faces, from the faces' stored persons */
    for (size_t j = 0; j < us.n; j++) {
        const struct people_unit *u = &us.units[j];
        good[labels[j]] += u->good;
        for (size_t m = u->first; m < u->first + u->n; m++) {
            int64_t old = e->s.rows[us.faces[m]].person_id;
            size_t o;
            if (!old)
                continue;
            for (o = 0; o < n_ov; o++)
                if (ov[o].label == labels[j] && ov[o].person == old)
                    break;
            if (o == n_ov) {
                if (n_ov == us.n * 8) /* a bound per unit; more old persons than that is odd */
                    continue;
                ov[n_ov++] = (struct overlap){labels[j], old, 0};
            }
            ov[o].n++;
        }
    }
    if (n_ov > 1)
        qsort(ov, n_ov, sizeof *ov, by_overlap);
    for (size_t o = 0; o < n_ov; o++) {
        size_t q = person_index(e, ov[o].person);
        if (dest[ov[o].label])
            continue;
        if (q == e->n_people || (!kept[q] && used[q]))
            continue; /* deleted meanwhile, or its id went to a bigger part */
        dest[ov[o].label] = ov[o].person;
        used[q] = 1;
    }
    rc = ref_people_for(e, &us, labels, k, dest);
    if (rc < 0)
        goto out;
    rc = AITAG_ERR_NOMEM;
    for (size_t l = 0; l < k; l++) {
        if (dest[l]) {
            for (size_t j = 0; j < us.n; j++)
                if (labels[j] == (int)l)
                    assign_unit(e, &us, &us.units[j], dest[l]);
        } else if (good[l] >= e->p->min_faces && new_person(e, &us, labels, (int)l) == 0) {
            goto out;
        }
    }
    /* automatic people no cluster took: deleted once empty (the catalog checks again) */
    e->drop = malloc((e->n_people + 1) * sizeof *e->drop);
    if (!e->drop)
        goto out;
    for (size_t q = 0; q < e->n_people; q++)
        if (!kept[q] && !used[q])
            e->drop[e->n_drop++] = e->people[q].id;
    rc = join_nearest(e);
out:
    free(pick);
    free(kept);
    free(used);
    free(has_user);
    free(ov);
    free(dest);
    free(good);
    free(labels);
    people_units_free(&us);
    return rc;
}

static int engine_write(struct engine *e, struct aitag_people_stats *st)
{
    struct aitag_face_change *ch = malloc((e->s.n ? e->s.n : 1) * sizeof *ch);
    int64_t *ids = calloc(e->n_new ? e->n_new : 1, sizeof *ids);
    size_t n = 0;
    int rc = AITAG_ERR_NOMEM;

    if (!ch || !ids)
        goto out;
    for (size_t i = 0; i < e->s.n; i++) {
        const struct aitag_face_row *r = &e->s.rows[i];
        if (e->assigned[i] == AITAG_FACE_USER)
            continue;
        if (e->person[i] && e->person[i] != r->person_id)
            st->assigned++;
        if (e->track[i] == r->track && e->person[i] == r->person_id &&
            e->assigned[i] == r->assigned)
            continue;
        ch[n++] = (struct aitag_face_change){r->id, e->track[i], e->person[i], e->assigned[i]};
    }
    {
        struct aitag_people_write w = {e->n_new, e->new_covers, ch, n, e->drop, e->n_drop};
        rc = aitag_catalog_write_people(e->c, &w, ids);
    }
    if (rc < 0)
        goto out;
    st->people_created = (long)e->n_new;
    st->people_dropped = (long)e->n_drop;
    for (size_t i = 0; i < e->s.n; i++) {
        if (e->person[i] < 0)
            e->person[i] = ids[-e->person[i] - 1];
        st->unassigned += e->person[i] == 0;
    }
    {
        struct people_centroids cs;
        int64_t *keys = NULL;
        size_t n_keys = 0;
        /* distinct people with faces (the same helper, for its key list) */
        rc = people_centroids_of(&e->s, e->person, NULL, &cs, &keys, &n_keys);
        st->people = (long)n_keys;
        free(keys);
        people_centroids_clear(&cs);
    }
out:
    free(ch);
    free(ids);
    return rc;
}

static int run(struct aitag_catalog *c, const struct aitag_people_params *p,
               struct aitag_people_stats *stats, int full, char *err, size_t errlen)
{
    struct aitag_people_stats local;
    struct engine e = {0};
    int rc;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if ((rc = check_params(p, err, errlen)) < 0)
        return rc;
    e.c = c, e.p = p;
    rc = engine_load(&e, full, stats);
    if (rc == 0 && e.s.n) {
        if (full) {
            rc = recluster_all(&e);
        } else {
            follow_tracks(&e);
            rc = join_nearest(&e);
        }
        if (rc == 0) /* a re-cluster already grouped these within max_distance */
            rc = cluster_rest(&e, full ? e.p->max_distance : e.p->seed_distance);
        if (rc == 0)
            rc = engine_write(&e, stats);
    }
    if (rc < 0)
        db_error(&e, rc, err, errlen);
    engine_free(&e);
    return rc;
}

int aitag_people_update(struct aitag_catalog *c, const struct aitag_people_params *p,
                        struct aitag_people_stats *stats, char *err, size_t errlen)
{
    return run(c, p, stats, 0, err, errlen);
}

int aitag_people_recluster(struct aitag_catalog *c, const struct aitag_people_params *p,
                           struct aitag_people_stats *stats, char *err, size_t errlen)
{
    return run(c, p, stats, 1, err, errlen);
}
