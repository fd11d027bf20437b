/*
 * faceid_score - face identity metrics of a catalog against the identity fixtures' truth
 * (tools/make_faceid_fixtures.sh, docs/face-embeddings.md).
 *
 *     faceid_score --truth FIX/truth.json --catalog cat.db [--center] [--min-iou 0.4]
 *                  [--min-auc X] [--min-tar X]
 *     faceid_score --purity [--update [--max-distance X] [--min-faces N] [--min-quality X]]
 *                  --truth FIX/truth.json --catalog cat.db [--min-purity 0.95] [--max-split 0]
 *
 * Both read the catalog that `aitag tag --analyzers faces,face_attrs` wrote (SQLite, opened
 * read-only), because that is where a face's embedding is kept: the evidence items
 * face_attrs/"face" with their box (0..1 of the frame) and "descriptor" (or "embedding") in
 * their details, or, with --purity, the people engine's faces table (box, person_id). Each face
 * is matched to the truth file whose "file" ends its media path (on a '/' boundary) and there to
 * the truth box of best IoU at its time (>= --min-iou; video boxes move linearly from box0 at t0
 * to box1 at t1); faces that match nothing are counted and left out.
 *
 * Verification (default): every pair of matched faces from two different files of one set
 * (identities of "tune" with "tune", "check" with "check") is genuine (same identity) or
 * impostor; the score is the cosine of the two embeddings (after subtracting the mean embedding
 * of the tune set's faces, with --center). Per set: ROC AUC, the true accept rate at false
 * accept rates 1% and 0.1% with their cosine thresholds, and for the check set also the TAR and
 * FAR it gets at the tune set's thresholds (what a threshold chosen on tune does on unseen
 * people); per variant, the TAR of pairs with a face of that variant at the set's 1% threshold.
 *
 * Purity: over matched faces with a person_id, cluster purity (each cluster counts its largest
 * identity) and the identities split over two or more clusters; faces left without a person
 * are counted per identity; the numbers for the whole catalog (checked against the thresholds)
 * and for the faces of each set alone. --update first runs the people engine on the catalog
 * (aitag_people_update, aitag/people.h; its default parameters unless given; it assigns only
 * faces without a person, so give it a catalog tagged with --no-people): the one step that
 * writes.
 *
 * Output: "key value" lines, grouped by set; the last line is "N passed, N failed" for the
 * thresholds given. Exit 1 when a threshold is missed, 2 on bad arguments or unreadable input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "aitag/catalog.h"
#include "aitag/people.h"

#include "faceid_lib.h"

#define MAX_VARIANTS 32

struct tface { /* a face of the truth, in one file */
    int id;    /* index into identities */
    struct faceid_box b0, b1;
    int has0, has1;
};

struct tfile {
    const char *file, *variant;
    int video, vidx; /* vidx: index into truth.variants */
    double t0, t1;
    struct tface *faces;
    size_t n_faces;
};

struct truth {
    json_t *root;
    const char **ids; /* identity names */
    int *check;       /* 1: the identity is in the check set */
    size_t n_ids;
    struct tfile *files;
    size_t n_files;
    const char *variants[MAX_VARIANTS];
    size_t n_variants;
};

struct face { /* a matched face of the catalog */
    int id, file;
    long long person; /* --purity: person_id, -1 for none */
    float *emb;
    int dim;
};

struct params {
    const char *truth, *catalog;
    double min_iou, min_auc, min_tar, min_purity;
    double max_distance, min_quality; /* --update: < 0 for the engine's default */
    int min_faces;                    /* --update: 0 for the default */
    int center, purity, update, max_split;
};

static int parse_box(json_t *a, struct faceid_box *b)
{
    if (!json_is_array(a) || json_array_size(a) != 4)
        return 0;
    b->x = json_number_value(json_array_get(a, 0));
    b->y = json_number_value(json_array_get(a, 1));
    b->w = json_number_value(json_array_get(a, 2));
    b->h = json_number_value(json_array_get(a, 3));
    return 1;
}

static int variant_index(struct truth *t, const char *v)
{
    for (size_t i = 0; i < t->n_variants; i++)
        if (strcmp(t->variants[i], v) == 0)
            return (int)i;
    if (t->n_variants == MAX_VARIANTS)
        return -1;
    t->variants[t->n_variants] = v;
    return (int)t->n_variants++;
}

static int find_id(const struct truth *t, const char *name)
{
    for (size_t i = 0; i < t->n_ids; i++)
        if (strcmp(t->ids[i], name) == 0)
            return (int)i;
    return -1;
}

static int load_truth(const char *path, struct truth *t)
{
    json_error_t je;
    json_t *ids, *files;

    memset(t, 0, sizeof *t);
    t->root = json_load_file(path, 0, &je);
    if (!t->root) {
        fprintf(stderr, "faceid_score: %s:%d: %s\n", path, je.line, je.text);
        return -1;
    }
    ids = json_object_get(t->root, "identities");
    files = json_object_get(t->root, "files");
    if (!json_is_array(ids) || !json_is_array(files)) {
        fprintf(stderr, "faceid_score: %s: needs arrays \"identities\" and \"files\"\n", path);
        return -1;
    }
    t->n_ids = json_array_size(ids);
    t->n_files = json_array_size(files);
    t->ids = calloc(t->n_ids + 1, sizeof *t->ids);
    t->check = calloc(t->n_ids + 1, sizeof *t->check);
    t->files = calloc(t->n_files + 1, sizeof *t->files);
    if (!t->ids || !t->check || !t->files)
        return -1;
    for (size_t i = 0; i < t->n_ids; i++) {
        json_t *o = json_array_get(ids, i);
        const char *set = json_string_value(json_object_get(o, "set"));
        t->ids[i] = json_string_value(json_object_get(o, "id"));
        if (!t->ids[i] || !set) {
            fprintf(stderr, "faceid_score: %s: identities[%zu] needs \"id\" and \"set\"\n", path,
                    i);
            return -1;
        }
        t->check[i] = strcmp(set, "check") == 0;
    }
    for (size_t i = 0; i < t->n_files; i++) {
        json_t *o = json_array_get(files, i), *fa = json_object_get(o, "faces");
        struct tfile *f = &t->files[i];
        f->file = json_string_value(json_object_get(o, "file"));
        f->variant = json_string_value(json_object_get(o, "variant"));
        if (!f->variant)
            f->variant = "-";
        f->video = json_is_string(json_object_get(o, "kind")) &&
                   strcmp(json_string_value(json_object_get(o, "kind")), "video") == 0;
        f->t0 = json_number_value(json_object_get(o, "t0"));
        f->t1 = json_number_value(json_object_get(o, "t1"));
        f->vidx = variant_index(t, f->variant);
        if (!f->file || !json_is_array(fa) || f->vidx < 0) {
            fprintf(stderr, "faceid_score: %s: files[%zu] needs \"file\" and \"faces\"\n", path, i);
            return -1;
        }
        f->n_faces = json_array_size(fa);
        f->faces = calloc(f->n_faces + 1, sizeof *f->faces);
        if (!f->faces)
            return -1;
        for (size_t k = 0; k < f->n_faces; k++) {
            json_t *g = json_array_get(fa, k);
            struct tface *tf = &f->faces[k];
            const char *name = json_string_value(json_object_get(g, "id"));
            tf->id = name ? find_id(t, name) : -1;
            tf->has0 = parse_box(json_object_get(g, f->video ? "box0" : "box"), &tf->b0);
            tf->has1 = f->video ? parse_box(json_object_get(g, "box1"), &tf->b1) : 0;
            if (tf->id < 0) {
                fprintf(stderr, "faceid_score: %s: %s: face %zu has an unknown id\n", path, f->file,
                        k);
                return -1;
            }
        }
    }
    return 0;
}

static void free_truth(struct truth *t)
{
    for (size_t i = 0; t->files && i < t->n_files; i++)
        free(t->files[i].faces);
    free(t->files);
    free(t->ids);
    free(t->check);
    json_decref(t->root);
}

/* The truth file that `path` is (ends with "/" + file), or -1. */
static int find_file(const struct truth *t, const char *path)
{
    size_t lp = strlen(path);

    for (size_t i = 0; i < t->n_files; i++) {
        size_t lf = strlen(t->files[i].file);
        if (lp > lf && path[lp - lf - 1] == '/' && strcmp(path + lp - lf, t->files[i].file) == 0)
            return (int)i;
    }
    return -1;
}

/* A truth face's box at time tt; 0 when it has none then (it enters or leaves the frame). */
static int box_at(const struct tfile *f, const struct tface *g, double tt, struct faceid_box *b)
{
    double u;

    if (!f->video) {
        *b = g->b0;
        return g->has0;
    }
    u = f->t1 > f->t0 ? (tt - f->t0) / (f->t1 - f->t0) : 0.0;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    if (g->has0 && g->has1) {
        *b = faceid_lerp(g->b0, g->b1, u);
        return 1;
    }
    /* one end only: trust it for the quarter of the motion next to it */
    if (g->has0 && u <= 0.25) {
        *b = g->b0;
        return 1;
    }
    if (g->has1 && u >= 0.75) {
        *b = g->b1;
        return 1;
    }
    return 0;
}

/* The identity of a face at time tt with box b in truth file fi, or -1. */
static int match(const struct truth *t, int fi, double tt, struct faceid_box b, double min_iou)
{
    const struct tfile *f = &t->files[fi];
    double best = min_iou;
    int id = -1;

    for (size_t k = 0; k < f->n_faces; k++) {
        struct faceid_box tb;
        double iou;
        if (!box_at(f, &f->faces[k], tt, &tb))
            continue;
        iou = faceid_iou(b, tb);
        if (iou >= best)
            best = iou, id = f->faces[k].id;
    }
    return id;
}

/* The embedding in a details JSON text ("descriptor" or "embedding"); malloc'd, or NULL. */
static float *parse_embedding(const char *extra, int *dim)
{
    json_t *root = extra ? json_loads(extra, 0, NULL) : NULL, *a;
    float *v = NULL;
    size_t n;

    *dim = 0;
    a = json_object_get(root, "descriptor");
    if (!json_is_array(a))
        a = json_object_get(root, "embedding");
    n = json_array_size(a);
    if (n > 0 && (v = malloc(n * sizeof *v)) != NULL) {
        for (size_t i = 0; i < n; i++)
            v[i] = (float)json_number_value(json_array_get(a, i));
        *dim = (int)n;
    }
    json_decref(root);
    return v;
}

/* Reads the catalog's faces into *out (matched ones only); counts in *n_seen, *n_unmatched. */
static int load_faces(const struct params *p, const struct truth *t, struct face **out,
                      size_t *n_out, size_t *n_seen, size_t *n_unmatched)
{
    static const char q_ev[] =
        "SELECT m.path, e.t, e.x, e.y, e.w, e.h, e.extra, -1 FROM evidence e JOIN media m ON "
        "m.id = e.media_id WHERE e.analyzer = 'face_attrs' AND e.label = 'face' ORDER BY e.id";
    static const char q_faces[] =
        "SELECT m.path, f.t, f.x, f.y, f.w, f.h, NULL, coalesce(f.person_id, -1) FROM faces f "
        "JOIN media m ON m.id = f.media_id ORDER BY f.id";
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct face *v = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, s;

    *out = NULL;
    *n_out = *n_seen = *n_unmatched = 0;
    if (sqlite3_open_v2(p->catalog, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, p->purity ? q_faces : q_ev, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "faceid_score: %s: %s\n", p->catalog,
                db ? sqlite3_errmsg(db) : "no memory");
        goto out;
    }
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        struct faceid_box b = {sqlite3_column_double(st, 2), sqlite3_column_double(st, 3),
                               sqlite3_column_double(st, 4), sqlite3_column_double(st, 5)};
        int fi = path ? find_file(t, path) : -1, id;
        (*n_seen)++;
        id = fi < 0 ? -1 : match(t, fi, sqlite3_column_double(st, 1), b, p->min_iou);
        if (id < 0) {
            (*n_unmatched)++;
            continue;
        }
        if (n == cap) {
            struct face *g = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof *g);
            if (!g)
                goto out;
            v = g;
        }
        v[n].id = id;
        v[n].file = fi;
        v[n].person = sqlite3_column_int64(st, 7);
        v[n].emb = NULL;
        v[n].dim = 0;
        if (!p->purity) {
            v[n].emb = parse_embedding((const char *)sqlite3_column_text(st, 6), &v[n].dim);
            if (!v[n].emb) {
                fprintf(stderr, "faceid_score: %s: a face at t=%.2f has no embedding\n", path,
                        sqlite3_column_double(st, 1));
                continue;
            }
        }
        n++;
    }
    if (s != SQLITE_DONE) {
        fprintf(stderr, "faceid_score: %s: %s\n", p->catalog, sqlite3_errmsg(db));
        goto out;
    }
    *out = v;
    *n_out = n;
    v = NULL;
    rc = 0;
out:
    for (size_t i = 0; v && i < n; i++)
        free(v[i].emb);
    free(v);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* Subtracts the mean embedding of the tune set's faces and normalises again. */
static void center(struct face *f, size_t n, const struct truth *t)
{
    int dim = n ? f[0].dim : 0;
    double *mean = calloc((size_t)dim + 1, sizeof *mean);
    size_t k = 0;

    if (!mean)
        return;
    for (size_t i = 0; i < n; i++) {
        if (t->check[f[i].id] || f[i].dim != dim)
            continue;
        for (int d = 0; d < dim; d++)
            mean[d] += f[i].emb[d];
        k++;
    }
    for (size_t i = 0; k && i < n; i++) {
        double norm = 0;
        if (f[i].dim != dim)
            continue;
        for (int d = 0; d < dim; d++) {
            f[i].emb[d] -= (float)(mean[d] / (double)k);
            norm += (double)f[i].emb[d] * f[i].emb[d];
        }
        norm = norm > 0 ? 1.0 / sqrt(norm) : 0;
        for (int d = 0; d < dim; d++)
            f[i].emb[d] = (float)(f[i].emb[d] * norm);
    }
    free(mean);
}

static double cosine(const struct face *a, const struct face *b)
{
    double s = 0;

    if (a->dim != b->dim)
        return -1.0;
    for (int d = 0; d < a->dim; d++)
        s += (double)a->emb[d] * b->emb[d];
    return s;
}

struct scores {
    double *v;
    size_t n, cap;
};

static int push_score(struct scores *s, double x)
{
    if (s->n == s->cap) {
        double *g = realloc(s->v, (s->cap = s->cap ? 2 * s->cap : 4096) * sizeof *g);
        if (!g)
            return -1;
        s->v = g;
    }
    s->v[s->n++] = x;
    return 0;
}

struct tally {
    int passed, failed;
};

static void verdict(struct tally *tl, const char *what, double v, double min)
{
    int ok = v >= min;

    printf("%s %.4f %s  # at least %.4f\n", what, v, ok ? "PASS" : "FAIL", min);
    if (ok)
        tl->passed++;
    else
        tl->failed++;
}

/* The pairs of one set (check = 0 tune, 1 check); prints its metrics. thr1/thr01 hold the tune
 * set's thresholds on entry for the check set, and receive this set's. */
static int verify_set(const struct params *p, const struct truth *t, const struct face *f, size_t n,
                      int check, double *thr1, double *thr01, struct tally *tl)
{
    struct scores gen = {0}, imp = {0}, vg[MAX_VARIANTS] = {{0}};
    const char *name = check ? "check" : "tune";
    size_t faces = 0, ids = 0;
    double auc, tar1, tar01, t1, t01;
    int rc = -1;

    for (size_t k = 0; k < t->n_ids; k++) {
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = f[i].id == (int)k;
        ids += seen && t->check[k] == check;
    }
    for (size_t i = 0; i < n; i++) {
        if (t->check[f[i].id] != check)
            continue;
        faces++;
        for (size_t j = i + 1; j < n; j++) {
            double s;
            int vi, vj;
            if (t->check[f[j].id] != check || f[j].file == f[i].file)
                continue;
            s = cosine(&f[i], &f[j]);
            if (f[i].id != f[j].id) {
                if (push_score(&imp, s) < 0)
                    goto out;
                continue;
            }
            vi = t->files[f[i].file].vidx, vj = t->files[f[j].file].vidx;
            if (push_score(&gen, s) < 0 || push_score(&vg[vi], s) < 0 ||
                (vj != vi && push_score(&vg[vj], s) < 0))
                goto out;
        }
    }
    auc = faceid_auc(gen.v, gen.n, imp.v, imp.n);
    tar1 = faceid_tar_at_far(gen.v, gen.n, imp.v, imp.n, 0.01, &t1);
    tar01 = faceid_tar_at_far(gen.v, gen.n, imp.v, imp.n, 0.001, &t01);
    printf("%s identities %zu faces %zu genuine_pairs %zu impostor_pairs %zu\n", name, ids, faces,
           gen.n, imp.n);
    printf("%s auc %.4f\n", name, auc);
    printf("%s tar_at_far_1%% %.4f threshold %.4f\n", name, tar1, t1);
    printf("%s tar_at_far_0.1%% %.4f threshold %.4f\n", name, tar01, t01);
    if (check) {
        printf("%s at_tune_threshold_1%% tar %.4f far %.4f (threshold %.4f)\n", name,
               faceid_above(gen.v, gen.n, *thr1), faceid_above(imp.v, imp.n, *thr1), *thr1);
        printf("%s at_tune_threshold_0.1%% tar %.4f far %.4f (threshold %.4f)\n", name,
               faceid_above(gen.v, gen.n, *thr01), faceid_above(imp.v, imp.n, *thr01), *thr01);
    }
    for (size_t v = 0; v < t->n_variants; v++)
        if (vg[v].n)
            printf("%s variant %-7s tar_at_far_1%% %.4f  # %zu genuine pairs\n", name,
                   t->variants[v], faceid_above(vg[v].v, vg[v].n, t1), vg[v].n);
    if (p->min_auc > 0 && gen.n && imp.n) {
        char what[64];
        snprintf(what, sizeof what, "%s auc", name);
        verdict(tl, what, auc, p->min_auc);
    }
    if (p->min_tar > 0 && gen.n && imp.n) {
        char what[64];
        snprintf(what, sizeof what, "%s tar_at_far_1%%", name);
        verdict(tl, what, tar1, p->min_tar);
    }
    *thr1 = t1;
    *thr01 = t01;
    rc = 0;
out:
    free(gen.v);
    free(imp.v);
    for (size_t v = 0; v < MAX_VARIANTS; v++)
        free(vg[v].v);
    return rc;
}

static int purity(const struct params *p, const struct truth *t, const struct face *f, size_t n,
                  struct tally *tl)
{
    int *id = malloc((n + 1) * sizeof *id);
    long long *cl = malloc((n + 1) * sizeof *cl);
    struct faceid_purity r;
    int rc = -1;

    if (!id || !cl)
        goto out;
    for (int set = 0; set < 2; set++) { /* each set alone: the other's faces left out */
        for (size_t i = 0; i < n; i++)
            id[i] = t->check[f[i].id] == set ? f[i].id : -1, cl[i] = f[i].person;
        if (faceid_purity(id, cl, n, t->n_ids, &r) < 0)
            goto out;
        printf("%s purity %.4f clusters %zu clustered_faces %zu unassigned_faces %zu "
               "split_identities %zu\n",
               set ? "check" : "tune", r.purity, r.clusters, r.clustered, r.unassigned, r.split);
    }
    for (size_t i = 0; i < n; i++)
        id[i] = f[i].id, cl[i] = f[i].person;
    if (faceid_purity(id, cl, n, t->n_ids, &r) < 0)
        goto out;
    for (size_t k = 0; k < t->n_ids; k++) { /* per identity: its clusters, its faces without */
        size_t none = 0, all = 0;
        printf("identity %s set %s persons", t->ids[k], t->check[k] ? "check" : "tune");
        for (size_t i = 0; i < n; i++) {
            int first = 1;
            if (f[i].id != (int)k)
                continue;
            all++;
            none += f[i].person < 0;
            for (size_t j = 0; j < i && first; j++)
                first = !(f[j].id == (int)k && f[j].person == f[i].person);
            if (first && f[i].person >= 0)
                printf(" %lld", f[i].person);
        }
        printf(" faces %zu unassigned %zu\n", all, none);
    }
    printf("all purity %.4f clusters %zu clustered_faces %zu unassigned_faces %zu "
           "split_identities %zu\n",
           r.purity, r.clusters, r.clustered, r.unassigned, r.split);
    verdict(tl, "purity", r.purity, p->min_purity);
    {
        int ok = (int)r.split <= p->max_split;
        printf("split_identities %zu %s  # at most %d\n", r.split, ok ? "PASS" : "FAIL",
               p->max_split);
        if (ok)
            tl->passed++;
        else
            tl->failed++;
    }
    rc = 0;
out:
    free(id);
    free(cl);
    return rc;
}

/* The people engine at its defaults on the catalog; prints what it did. */
static int people_update(const struct params *p)
{
    const char *path = p->catalog;
    struct aitag_catalog *c = NULL;
    struct aitag_people_params pp;
    struct aitag_people_stats st = {0};
    char err[512] = "";
    double t0 = aitag_now();
    int rc;

    if (aitag_catalog_open(path, 0, &c, err, sizeof err) < 0) {
        fprintf(stderr, "faceid_score: %s: %s\n", path, err);
        return -1;
    }
    aitag_people_default_params(&pp);
    if (p->max_distance >= 0)
        pp.max_distance = (float)p->max_distance;
    if (p->min_quality >= 0)
        pp.min_quality = (float)p->min_quality;
    if (p->min_faces > 0)
        pp.min_faces = p->min_faces;
    rc = aitag_people_update(c, &pp, &st, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "faceid_score: people update: %s\n", err);
    else
        printf("people_update faces %ld tracks %ld assigned %ld unassigned %ld people %ld "
               "seconds %.2f (max_distance %.2f min_faces %d min_quality %.2f)\n",
               st.faces, st.tracks, st.assigned, st.unassigned, st.people, aitag_now() - t0,
               pp.max_distance, pp.min_faces, pp.min_quality);
    aitag_catalog_close(c);
    return rc < 0 ? -1 : 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: faceid_score --truth TRUTH.json --catalog CAT.db [--center] "
                    "[--min-iou X] [--min-auc X] [--min-tar X]\n"
                    "       faceid_score --purity [--update [--max-distance X] [--min-faces N] "
                    "[--min-quality X]] --truth TRUTH.json --catalog CAT.db "
                    "[--min-purity X] [--max-split N]\n");
    return 2;
}

static int num_arg(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*out);
}

int main(int argc, char **argv)
{
    struct params p = {.min_iou = 0.4, .min_purity = 0.95, .max_distance = -1, .min_quality = -1};
    struct truth t;
    struct face *f = NULL;
    struct tally tl = {0, 0};
    size_t n = 0, seen = 0, unmatched = 0;
    double thr1 = 0, thr01 = 0, x;
    int rc = 2;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--center") == 0) {
            p.center = 1;
            continue;
        }
        if (strcmp(a, "--purity") == 0) {
            p.purity = 1;
            continue;
        }
        if (strcmp(a, "--update") == 0) {
            p.update = 1;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--truth") == 0)
            p.truth = v;
        else if (strcmp(a, "--catalog") == 0)
            p.catalog = v;
        else if (strcmp(a, "--min-iou") == 0 && num_arg(v, &x))
            p.min_iou = x;
        else if (strcmp(a, "--min-auc") == 0 && num_arg(v, &x))
            p.min_auc = x;
        else if (strcmp(a, "--min-tar") == 0 && num_arg(v, &x))
            p.min_tar = x;
        else if (strcmp(a, "--min-purity") == 0 && num_arg(v, &x))
            p.min_purity = x;
        else if (strcmp(a, "--max-distance") == 0 && num_arg(v, &x) && x >= 0)
            p.max_distance = x;
        else if (strcmp(a, "--min-quality") == 0 && num_arg(v, &x) && x >= 0)
            p.min_quality = x;
        else if (strcmp(a, "--min-faces") == 0 && num_arg(v, &x) && x >= 1 && x < 1e6)
            p.min_faces = (int)x;
        else if (strcmp(a, "--max-split") == 0 && num_arg(v, &x) && x >= 0 && x < 1e6)
            p.max_split = (int)x;
        else
            return usage();
    }
    if (!p.truth || !p.catalog)
        return usage();
    if (load_truth(p.truth, &t) < 0)
        goto out;
    if (p.update && people_update(&p) < 0)
        goto out;
    if (load_faces(&p, &t, &f, &n, &seen, &unmatched) < 0)
        goto out;
    printf("faces %zu matched %zu unmatched %zu\n", seen, n, unmatched);
    if (p.purity) {
        if (purity(&p, &t, f, n, &tl) < 0)
            goto out;
    } else {
        if (p.center)
            center(f, n, &t);
        /* tune first: the check set is also scored at the tune set's thresholds */
        if (verify_set(&p, &t, f, n, 0, &thr1, &thr01, &tl) < 0 ||
            verify_set(&p, &t, f, n, 1, &thr1, &thr01, &tl) < 0)
            goto out;
    }
    printf("%d passed, %d failed\n", tl.passed, tl.failed);
    rc = tl.failed ? 1 : 0;
out:
    for (size_t i = 0; i < n; i++)
        free(f[i].emb);
    free(f);
    free_truth(&t);
    return rc;
}
