/*
 * references.c - aitag_people_add_reference: a face known to be someone's becomes a reference
 * of the right person before any clustering.
 *
 * Who the reference stands for, in this order: the person the caller already knows (a linked
 * performer), the person of that name, the unnamed person whose faces it matches (that
 * person is named: the library had found them already, now they have a name), else a new
 * person of that name. A face that matches a person with another name, or an ignored one, is
 * the user's decision and stays so: the reference is stored without a person. From then on
 * the people engine counts the reference in its person's centroid (units.c), so new faces
 * near it join that person in an update and a re-cluster maps the matching cluster to it.
 *
 * Steps are committed one by one (person, then name, then reference); each is found again by
 * a repeated call (by name), so an interrupted call is completed by the next one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "people_int.h"

/* The person whose centroid (faces and references of model) is nearest to v within max,
 * into *pid (0 when none). */
static int nearest_person(struct aitag_catalog *c, const char *model, const float *v, size_t dim,
                          float max, int64_t *pid)
{
    struct aitag_face_set s = {0};
    struct aitag_ref_set refs = {0};
    struct people_centroids cs = {0};
    int64_t *person = NULL, *keys = NULL;
    size_t n_keys = 0;
    float d;
    int rc, k;

    *pid = 0;
    rc = aitag_catalog_load_faces(c, model, &s);
    if (rc == 0)
        rc = aitag_catalog_load_person_refs(c, model, &refs);
    if (rc < 0)
        goto out;
    if (s.n == 0) { /* no faces: the references alone, of this embedding's length */
        s.dim = refs.dim ? refs.dim : dim;
    } else if (!(person = malloc(s.n * sizeof *person))) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    if (s.dim != dim)
        goto out; /* another length: nothing to compare with */
    for (size_t i = 0; i < s.n; i++)
        person[i] = s.rows[i].person_id;
    rc = people_centroids_of(&s, person, &refs, &cs, &keys, &n_keys);
    if (rc < 0 || n_keys == 0)
        goto out;
    k = people_centroids_nearest(&cs, v, NULL, &d);
    if (k >= 0 && d <= max)
        *pid = keys[k];
out:
    free(person);
    free(keys);
    people_centroids_clear(&cs);
    aitag_face_set_free(&s);
    aitag_ref_set_free(&refs);
    return rc;
}

/* The name (into name, "" when unnamed) and ignored flag of person id. */
static int person_state(struct aitag_catalog *c, int64_t id, char *name, size_t len, int *ignored)
{
    struct aitag_person_row *rows = NULL;
    size_t n = 0;
    int rc = aitag_catalog_load_people(c, &rows, &n);

    name[0] = '\0';
    *ignored = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (rows[i].id == id) {
            snprintf(name, len, "%s", rows[i].name);
            *ignored = rows[i].ignored;
        }
    free(rows);
    return rc;
}

static int fail(struct aitag_catalog *c, int rc, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "reference %s: %s", what, aitag_catalog_errmsg(c));
    return rc;
}

int aitag_people_add_reference(struct aitag_catalog *c, const struct aitag_people_params *p,
                               const struct aitag_people_ref *r, int64_t *person_id,
                               enum aitag_people_ref_outcome *outcome, char *err, size_t errlen)
{
    struct aitag_person_ref row = {r->source, r->ref, r->image_key, 0, r->model, r->embedding,
                                   r->dim, r->quality};
    int64_t pid = r->person_id;
    int rc = 0;

    *person_id = 0;
    *outcome = AITAG_REF_NO_FACE;
    if (!r->source || !r->ref || !r->image_key || !r->name || (r->embedding && !r->model)) {
        snprintf(err, errlen, "reference: source, ref, image_key, name and model are needed");
        return AITAG_ERR_INVALID;
    }
    if (!r->embedding) {
        rc = aitag_catalog_put_person_ref(c, &row);
        return rc < 0 ? fail(c, rc, "store", err, errlen) : 0;
    }
    *outcome = AITAG_REF_LINKED;
    if (!pid && (rc = aitag_catalog_person_by_name(c, r->name, &pid)) == AITAG_ERR_NOTFOUND)
        rc = 0;
    if (rc < 0)
        return fail(c, rc, "find by name", err, errlen);
    if (!pid) {
        int64_t near = 0;
        char name[256];
        int ignored = 0;
        rc = nearest_person(c, r->model, r->embedding, r->dim, p->max_distance, &near);
        if (rc == 0 && near)
            rc = person_state(c, near, name, sizeof name, &ignored);
        if (rc < 0)
            return fail(c, rc, "match", err, errlen);
        if (near && (name[0] || ignored)) {
            *outcome = AITAG_REF_CONFLICT;
        } else if (near) {
            rc = aitag_catalog_name_person(c, near, r->name, NULL);
            if (rc < 0)
                return fail(c, rc, "name", err, errlen);
            pid = near;
            *outcome = AITAG_REF_ADOPTED;
        } else {
            rc = aitag_catalog_add_person(c, r->name, r->source, &pid);
            if (rc < 0)
                return fail(c, rc, "new person", err, errlen);
            *outcome = AITAG_REF_CREATED;
        }
    }
    row.person_id = pid;
    rc = aitag_catalog_put_person_ref(c, &row);
    if (rc < 0)
        return fail(c, rc, "store", err, errlen);
    *person_id = pid;
    return 0;
}
