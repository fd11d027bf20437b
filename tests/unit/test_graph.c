/*
 * test_graph.c - the analyzer graph: dependencies are added and ordered, each model runs once
 * per frame however many analyzers build on it, and dependencies nobody asked for are not
 * stored.
 *
 * The counts come from the infer layer (aitag_tagger_model_counts: successful ONNX Runtime
 * Run calls per model). BlazeFace and CenterNet each run once per frame per pass (their
 * mirrored view is a second pass by design when "flip" is on), so the reference is the count
 * with the producer alone: adding face_attrs and pose must not add a single run. Before the
 * graph, face_attrs and pose ran their own BlazeFace and CenterNet: twice the runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/analyzer.h"
#include "aitag/catalog.h"
#include "aitag/pipeline.h"
#include "check.h"
#include "photo.h"

#define VIDEO AITAG_FIXTURES_DIR "/videos/faces_720p_hevc.mkv"

static char dir[64];

struct counts {
    unsigned long long blazeface, centernet;
    int models_run, tagged;
};

static struct counts tag(const char *const *an, size_t n, const char *db)
{
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_tagger *t = NULL;
    struct aitag_summary sum;
    struct counts c = {0};
    const char *paths[1] = {VIDEO};
    unsigned long long items;
    char err[512];

    tp.catalog_path = db;
    tp.manifest_dir = AITAG_SOURCE_DIR "/models";
    tp.weights_dir = AITAG_DEPS_DIR "/models";
    tp.analyzers = an;
    tp.n_analyzers = n;
    tp.force = 1;
    if (aitag_tagger_new(&tp, &t, err, sizeof err) < 0) {
        fprintf(stderr, "tagger: %s\n", err);
        CHECK(0);
        return c;
    }
    CHECK(aitag_tagger_run(t, paths, 1, &sum) == 0);
    c.tagged = sum.tagged;
    c.models_run = sum.models_run;
    aitag_tagger_model_counts(t, "blazeface-back", &c.blazeface, &items);
    aitag_tagger_model_counts(t, "centernet", &c.centernet, &items);
    printf("%-32s blazeface %llu centernet %llu analyzer runs %d\n", an[0], c.blazeface,
           c.centernet, c.models_run);
    aitag_tagger_free(t);
    return c;
}

static void test_once_per_frame(void)
{
    const char *faces[] = {"faces"}, *objects[] = {"objects"};
    const char *all[] = {"faces", "face_attrs", "objects", "pose"}, *attrs[] = {"face_attrs"};
    char db[128];
    struct counts f, o, a, fa;

    snprintf(db, sizeof db, "%s/runs.db", dir);
    f = tag(faces, 1, db);
    o = tag(objects, 1, db);
    a = tag(all, 4, db);
    fa = tag(attrs, 1, db);
    /* faces alone: one analyzer run per frame; BlazeFace once or twice (flip) per frame */
    CHECK(f.models_run > 0 && f.blazeface > 0);
    CHECK(f.blazeface == (unsigned long long)f.models_run ||
          f.blazeface == 2ull * (unsigned long long)f.models_run);
    CHECK(o.centernet > 0 && f.centernet == 0 && o.blazeface == 0);
    /* the four together: not one BlazeFace or CenterNet run more than the producers alone */
    CHECK_EQ_INT((int)a.blazeface, (int)f.blazeface);
    CHECK_EQ_INT((int)a.centernet, (int)o.centernet);
    CHECK_EQ_INT(a.models_run, 4 * f.models_run);
    /* face_attrs alone brings faces along (counted as an analyzer run), BlazeFace still once */
    CHECK_EQ_INT((int)fa.blazeface, (int)f.blazeface);
    CHECK_EQ_INT(fa.models_run, 2 * f.models_run);
}

/* face_attrs alone stores face_attrs evidence only, with the faces analyzer's keypoints. */
static void test_dependency_not_stored(void)
{
    const char *attrs[] = {"face_attrs"};
    struct aitag_catalog *c = NULL;
    struct aitag_evidence_list ev = {0};
    struct aitag_media_row row;
    char db[128], err[256];
    size_t with_kp = 0;

    snprintf(db, sizeof db, "%s/dep.db", dir);
    CHECK_EQ_INT(tag(attrs, 1, db).tagged, 1);
    CHECK_EQ_INT(aitag_catalog_open(db, 1, &c, err, sizeof err), 0);
    CHECK_EQ_INT(aitag_catalog_find_media(c, VIDEO, &row), 0);
    CHECK_EQ_INT(aitag_catalog_load_evidence(c, row.id, &ev), 0);
    CHECK(ev.n > 0);
    for (size_t i = 0; i < ev.n; i++) {
        CHECK_STR(ev.items[i].analyzer, "face_attrs");
        if (strcmp(ev.items[i].label, "face") == 0) {
            /* read back from the catalog's text into typed fields */
            CHECK_EQ_INT(ev.items[i].n_keypoints, 6);
            CHECK_EQ_INT(ev.items[i].n_embedding, 1024);
            CHECK(ev.items[i].attrs & AITAG_ATTR_AGE);
            with_kp++;
        }
    }
    CHECK(with_kp > 0);
    aitag_evidence_list_clear(&ev);
    aitag_catalog_close(c);
}

static void test_order_and_keys(void)
{
    struct aitag_infer_params ip = aitag_infer_default_params();
    const char *names[] = {"pose", "face_attrs", "faces"}, *opts[] = {"objects.flip=0"};
    const char *bad_opt[] = {"nsfw.x=1"}, *unknown[] = {"nope"};
    struct aitag_infer *inf = NULL;
    struct aitag_graph *g = NULL;
    char err[512];
    int pose, obj, fa, fc;

    ip.manifest_dir = AITAG_SOURCE_DIR "/models";
    ip.weights_dir = AITAG_DEPS_DIR "/models";
    CHECK_EQ_INT(aitag_infer_new(&ip, &inf), 0);
    CHECK_EQ_INT(aitag_graph_new(inf, names, 3, opts, 1, &g, err, sizeof err), 0);
    if (!g) {
        fprintf(stderr, "graph: %s\n", err);
        aitag_infer_free(inf);
        return;
    }
    CHECK_EQ_INT((int)aitag_graph_size(g), 4);
    pose = aitag_graph_find(g, "pose"), obj = aitag_graph_find(g, "objects");
    fa = aitag_graph_find(g, "face_attrs"), fc = aitag_graph_find(g, "faces");
    CHECK(obj >= 0 && obj < pose && fc >= 0 && fc < fa); /* producers first */
    CHECK(aitag_graph_asked(g, (size_t)pose) && !aitag_graph_asked(g, (size_t)obj));
    CHECK(aitag_graph_asked(g, (size_t)fc)); /* asked and consumed */
    /* an option for a dependency reaches it and shows in its consumer's key */
    CHECK(strstr(aitag_graph_key(g, (size_t)pose), " [objects/") != NULL);
    CHECK(strstr(aitag_graph_key(g, (size_t)pose), "flip=0") != NULL);
    CHECK(strstr(aitag_graph_key(g, (size_t)fa), " [faces/") != NULL);
    {
        /* The sampler's views: each size once, duplicates removed before the cap, so a cap as
         * large as the distinct views loses none (pose asks for objects' view again). */
        struct aitag_view_spec all[AITAG_MAX_VIEWS], capped[AITAG_MAX_VIEWS];
        size_t n = aitag_graph_views(g, NULL, all, AITAG_MAX_VIEWS), dup = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                dup += all[i].width == all[j].width && all[i].height == all[j].height &&
                       all[i].fit == all[j].fit && all[i].multiple == all[j].multiple;
        CHECK_EQ_INT((int)dup, 0);
        CHECK(n >= 3);
        CHECK_EQ_INT((int)aitag_graph_views(g, NULL, capped, n), (int)n);
        CHECK(memcmp(all, capped, n * sizeof *all) == 0);
    }
    {
        /* one photo: asked analyzers' evidence only, each item naming its analyzer's key */
        struct aitag_evidence_list ev = {0};
        size_t n_faces = 0, n_attrs = 0;
        CHECK_EQ_INT(test_run_graph(g, AITAG_DEPS_DIR "/photos/sample1.jpg", &ev), 0);
        for (size_t i = 0; i < ev.n; i++) {
            int k = aitag_graph_find(g, ev.items[i].analyzer);
            CHECK(k >= 0 && aitag_graph_asked(g, (size_t)k));
            CHECK(k >= 0 && ev.items[i].model &&
                  strcmp(ev.items[i].model, aitag_graph_key(g, (size_t)k)) == 0);
            n_faces += k == fc, n_attrs += k == fa;
        }
        CHECK(n_faces >= 3 && n_attrs >= n_faces); /* sample1: three faces */
        aitag_evidence_list_clear(&ev);
    }
    aitag_graph_free(g);
    g = NULL;
    CHECK_EQ_INT(aitag_graph_new(inf, names, 1, bad_opt, 1, &g, err, sizeof err),
                 AITAG_ERR_INVALID);
    CHECK(strstr(err, "nsfw.x=1") != NULL && g == NULL);
    CHECK_EQ_INT(aitag_graph_new(inf, unknown, 1, NULL, 0, &g, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "nope") != NULL);
    aitag_infer_free(inf);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/aitag-graph-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_order_and_keys();
    test_once_per_frame();
    test_dependency_not_stored();
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return check_done();
}
