/*
 * test_face_attrs.c - the "face_attrs" analyzer on real photos decoded by the real sampler:
 * registry entry, views and key; one "face" item per face the faces analyzer finds, carrying a
 * 1024-d unit-length faceres descriptor; only unambiguous attributes are asserted (judged by
 * eye on @vladmandic/face-api's demo photos, deps/photos): broad age sanity (adults are not
 * children), and the expressions and genders that leave no doubt. Alignment: on the same photo
 * turned by 14 degrees each face's descriptor stays closest to its upright twin. The option
 * embedder=mobilefacenet gives 192-d unit-length embeddings and its own key; a bad value is
 * refused. Every evidence item is printed for the log.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "check.h"
#include "photo.h"

#define MODELS_DIR AITAG_SOURCE_DIR "/models"
#define WEIGHTS_DIR AITAG_DEPS_DIR "/models"
#define PHOTOS AITAG_DEPS_DIR "/photos/"
#define DARKNET "/usr/share/darknet/data/"

static int run_photo(struct aitag_graph *st, const char *path, struct aitag_evidence_list *out)
{
    int rc = test_run_graph(st, path, out);

    for (size_t i = 0; i < out->n; i++) {
        const struct aitag_evidence *e = &out->items[i];
        const char *age = test_details(e)[0] ? strstr(test_details(e), "\"age\"") : NULL;
        printf("  %-16s %.2f box %.2f,%.2f %.2fx%.2f %.40s\n", e->label, e->confidence, e->box.x,
               e->box.y, e->box.w, e->box.h, age ? age : "");
    }
    return rc;
}

/* 1 when an item labelled `label` has its box centre at x in [lo, hi]. */
static int has_at(const struct aitag_evidence_list *l, const char *label, float lo, float hi)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct aitag_evidence *e = &l->items[i];
        float cx = e->box.x + e->box.w / 2;
        if (strcmp(e->label, label) == 0 && cx >= lo && cx <= hi)
            return 1;
    }
    return 0;
}

static size_t count_label(const struct aitag_evidence_list *l, const char *label)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n; i++)
        n += strcmp(l->items[i].label, label) == 0;
    return n;
}

/* Every "face": an age estimate an adult's photo allows, a unit-length descriptor of `dim`. */
static void check_faces_dim(const struct aitag_evidence_list *l, int dim)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct aitag_evidence *e = &l->items[i];
        const char *age, *emb;
        double norm = 0;
        int dims = 0;
        if (strcmp(e->label, "face") != 0)
            continue;
        CHECK(e->has_box && strstr(test_details(e), "\"keypoints\":["));
        age = test_details(e)[0] ? strstr(test_details(e), "\"age\":") : NULL;
        emb = test_details(e)[0] ? strstr(test_details(e), "\"descriptor\":[") : NULL;
        CHECK(age && emb);
        if (!age || !emb)
            continue;
        CHECK(strtod(age + 6, NULL) >= 13 && strtod(age + 6, NULL) <= 60);
        for (const char *p = emb + 13; *p == '[' || *p == ','; dims++) {
            char *end;
            double v = strtod(p + 1, &end);
            norm += v * v;
            p = end;
        }
        CHECK_EQ_INT(dims, dim);
        CHECK_NEAR(sqrt(norm), 1.0, 0.01);
    }
}

static void check_faces(const struct aitag_evidence_list *l)
{
    check_faces_dim(l, 1024);
}

/* embedder=mobilefacenet: MobileFaceNet's 192-d embedding in every face, its model first in the
 * key (where the faces table reads the embedding model); bad values refused. */
static void test_embedder(struct aitag_infer *inf)
{
    const char *name = "face_attrs", *mfn[] = {"face_attrs.embedder=mobilefacenet"},
               *bad[] = {"face_attrs.embedder=arcface"};
    struct aitag_evidence_list l = {0};
    struct aitag_graph *st = NULL;
    char err[256] = "";

    CHECK_EQ_INT(aitag_graph_new(inf, &name, 1, mfn, 1, &st, err, sizeof err), 0);
    if (!st) {
        fprintf(stderr, "face_attrs: %s\n", err);
        return;
    }
    CHECK(strncmp(aitag_graph_key(st, (size_t)aitag_graph_find(st, "face_attrs")),
                  "face_attrs/v2 mobilefacenet@", 28) == 0);
    CHECK_EQ_INT(run_photo(st, PHOTOS "sample6.jpg", &l), 0);
    CHECK_EQ_INT(count_label(&l, "face"), 4);
    check_faces_dim(&l, 192);
    aitag_evidence_list_clear(&l);
    aitag_graph_free(st);
    st = NULL;
    CHECK(aitag_graph_new(inf, &name, 1, bad, 1, &st, err, sizeof err) < 0);
    CHECK(st == NULL && strstr(err, "arcface") != NULL);
    printf("  bad embedder: %s\n", err);
    aitag_graph_free(st);
}

/* The descriptors of the "face" items, ordered by box centre x; returns the count (<= 8). */
static int descriptors(const struct aitag_evidence_list *l, float emb[8][1024])
{
    float cx[8];
    int n = 0;

    for (size_t i = 0; i < l->n && n < 8; i++) {
        const struct aitag_evidence *e = &l->items[i];
        const char *p = test_details(e)[0] ? strstr(test_details(e), "\"descriptor\":[") : NULL;
        int at = n;
        if (strcmp(e->label, "face") != 0 || !p)
            continue;
        while (at > 0 && cx[at - 1] > e->box.x + e->box.w / 2) { /* insertion by x */
            cx[at] = cx[at - 1];
            memcpy(emb[at], emb[at - 1], sizeof emb[0]);
            at--;
        }
        cx[at] = e->box.x + e->box.w / 2;
        p += 13;
        for (int k = 0; k < 1024; k++) {
            char *end;
            emb[at][k] = strtof(p + 1, &end);
            p = end;
        }
        n++;
    }
    return n;
}

/* Alignment: the same photo turned by 14 degrees (ffmpeg's rotate filter) gives every face an
 * descriptor closer to its own upright one than to anyone else's. */
static void test_rotated(struct aitag_graph *st)
{
    struct aitag_evidence_list l = {0};
    static float a[8][1024], b[8][1024];
    char dir[] = "/tmp/aitag_face_attrs_XXXXXX", cmd[1024], path[512];
    int na, nb;

    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    snprintf(path, sizeof path, "%s/rotated.png", dir);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -loglevel error -y -i '%s' -vf rotate=0.25:fillcolor=black '%s'",
             PHOTOS "sample6.jpg", path);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(run_photo(st, PHOTOS "sample6.jpg", &l), 0);
    na = descriptors(&l, a);
    aitag_evidence_list_clear(&l);
    CHECK_EQ_INT(run_photo(st, path, &l), 0);
    nb = descriptors(&l, b);
    CHECK_EQ_INT(count_label(&l, "gender:female"), 4);
    aitag_evidence_list_clear(&l);
    CHECK_EQ_INT(na, 4);
    CHECK_EQ_INT(nb, 4);
    for (int i = 0; i < na && na == nb; i++) {
        int best = -1;
        float best_cos = -2.0f;
        for (int j = 0; j < nb; j++) {
            float c = 0.0f;
            for (int k = 0; k < 1024; k++)
                c += a[i][k] * b[j][k];
            printf("  cos(upright %d, rotated %d) = %.3f\n", i, j, c);
            if (c > best_cos)
                best_cos = c, best = j;
        }
        CHECK_EQ_INT(best, i);
        CHECK(best_cos >= 0.9f); /* measured 0.96-0.98 */
        for (int j = 0; j < nb; j++) {
            float c = 0.0f;
            for (int k = 0; k < 1024 && j != i; k++)
                c += a[i][k] * b[j][k];
            CHECK(c <= 0.8f); /* other faces: measured 0.43-0.62 */
        }
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    const struct aitag_analyzer_ops *ops = aitag_analyzer_find("face_attrs");
    struct aitag_infer *inf = NULL;
    struct aitag_evidence_list l = {0};
    struct aitag_graph *st = NULL;
    char err[256], path[512];

    CHECK(ops != NULL);
    if (!ops)
        return check_done();
    p.manifest_dir = MODELS_DIR;
    p.weights_dir = WEIGHTS_DIR;
    CHECK_EQ_INT(aitag_infer_new(&p, &inf), 0);
    CHECK_EQ_INT(aitag_graph_new(inf, &ops->name, 1, NULL, 0, &st, err, sizeof err), 0);
    if (!st) {
        fprintf(stderr, "face_attrs: %s\n", err);
        aitag_infer_free(inf);
        return check_done();
    }
    CHECK(strncmp(aitag_graph_key(st, (size_t)aitag_graph_find(st, "face_attrs")),
                  "face_attrs/v2 faceres@", 22) == 0);
    CHECK(strstr(aitag_graph_key(st, (size_t)aitag_graph_find(st, "face_attrs")),
                 " [faces/v2 blazeface-back@") != NULL);
    for (int i = 1; i <= 6; i++) {
        snprintf(path, sizeof path, PHOTOS "sample%d.jpg", i);
        CHECK_EQ_INT(run_photo(st, path, &l), 0);
        check_faces(&l);
        /* every sample photo shows only women; the confident-only rule must not say male */
        CHECK_EQ_INT(count_label(&l, "gender:male"), 0);
        switch (i) {
        case 1: /* three faces; the laughing woman on the right */
            CHECK_EQ_INT(count_label(&l, "face"), 3);
            CHECK(has_at(&l, "emotion:happy", 0.7f, 1.0f));
            CHECK(has_at(&l, "gender:female", 0.7f, 1.0f));
            break;
        case 3: /* three faces; the middle and right women smile broadly */
            CHECK_EQ_INT(count_label(&l, "face"), 3);
            CHECK(has_at(&l, "emotion:happy", 0.55f, 0.7f));
            CHECK(has_at(&l, "emotion:happy", 0.75f, 0.9f));
            break;
        case 6: /* four women facing the camera; the second from the left smiles openly */
            CHECK_EQ_INT(count_label(&l, "face"), 4);
            CHECK_EQ_INT(count_label(&l, "gender:female"), 4);
            CHECK(has_at(&l, "emotion:happy", 0.3f, 0.5f));
            break;
        }
        aitag_evidence_list_clear(&l);
    }
    test_rotated(st);
    test_embedder(inf);
    CHECK_EQ_INT(run_photo(st, DARKNET "dog.jpg", &l), 0);
    CHECK_EQ_INT(l.n, 0); /* no face, so nothing at all */
    aitag_evidence_list_clear(&l);
    aitag_graph_free(st);
    aitag_infer_free(inf);
    return check_done();
}
