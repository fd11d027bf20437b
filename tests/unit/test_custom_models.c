/*
 * test_custom_models.c - a user's ONNX file plus a manifest becomes an analyzer.
 *
 * Real models, user-written manifests: the nsfwjs classifier is added once as a classifier
 * ("mood", softmax over its 5 classes) and once as an embedder ("vec"), and CenterNet as a
 * "centernet"-decoder detector ("mydet"). Each is checked by `aitag_models_add` (checksum,
 * session load, a run whose output shape must fit the task), discovered by
 * aitag_analyzer_registry_load, found by aitag_analyzer_find next to the built-ins, and run
 * on a real photo. Bad adds (wrong checksum, labels that do not fit the output, duplicates)
 * must fail and leave the models dir as it was.
 */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "aitag/analyzer.h"
#include "aitag/models.h"
#include "check.h"
#include "photo.h"

/* The decoders are checked on synthetic outputs too, so the test includes the file. */
#include "analyzers/custom.c"

#define WEIGHTS AITAG_DEPS_DIR "/models"
#define NSFW_ONNX WEIGHTS "/nsfw/mobilenet_v2_mid.onnx"
#define NSFW_SHA "05591f3fc13fcb9171111ac3ee396bf9772036bcdd82c815664e6cb144db95fc"
#define CN_ONNX WEIGHTS "/centernet/centernet.onnx"
#define CN_SHA "ad4554639642c59e84479d0a562e8a63e5bd65b15cafe17d682fbea74de8e861"
#define PHOTO "/usr/share/darknet/data/dog.jpg"

static char tmp[256], user[300];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void manifest(const char *path, const char *name, const char *analyzer, const char *file,
                     const char *sha, const char *task, const char *decoder, int size,
                     const char *conv_in_name, const char *std, const char *labels, const char *extra)
{
    char buf[4096];

    snprintf(buf, sizeof buf,
             "{\"name\": \"%s\", \"analyzer\": \"%s\", \"file\": \"%s\", \"sha256\": \"%s\", "
             "\"license\": \"MIT\", \"task\": \"%s\", \"decoder\": \"%s\", \"input\": {"
             "\"name\": \"%s\", \"shape\": [-1, %d, %d, 3], \"layout\": \"NHWC\", "
             "\"std\": [%s, %s, %s], \"fit\": \"letterbox\"}%s%s%s}",
             name, analyzer, file, sha, task, decoder, conv_in_name, size, size, std, std, std,
             labels ? ", \"labels\": " : "", labels ? labels : "", extra ? extra : "");
    write_text(path, buf);
}

static int exists(const char *dir, const char *rel)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return access(p, F_OK) == 0;
}

static int rm_entry(const char *p, const struct stat *st, int fl, struct FTW *ftw)
{
    (void)st, (void)fl, (void)ftw;
    return remove(p);
}


/* Runs analyzer `name` on the photo; evidence into ev. */
static int run_on_photo(const char *name, struct aitag_evidence_list *ev)
{
    const struct aitag_analyzer_ops *ops = aitag_analyzer_find(name);
    struct aitag_view_spec spec[AITAG_MAX_VIEWS];
    struct aitag_frame *fr;
    void *st = NULL;
    char err[512] = "";
    int rc;

    if (!ops || ops->create(ops, NULL, &st, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", name, err);
        return -1;
    }
    CHECK_EQ_INT(ops->views(st, spec, AITAG_MAX_VIEWS), 1);
    CHECK(strstr(ops->key(st), name) != NULL);
    fr = test_load_photo(PHOTO, &spec[0], 1);
    CHECK(fr != NULL);
    rc = fr ? ops->run(st, &fr, 1, NULL, ev, err, sizeof err) : -1;
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", name, err);
    aitag_frame_free(fr);
    ops->destroy(st);
    return rc;
}

static void test_add(void)
{
    char m[400], err[1024];
    static const char nsfw_labels[] = "[\"Drawing\", \"Hentai\", \"Neutral\", \"Porn\", \"Sexy\"]";

    snprintf(m, sizeof m, "%s/mood.json", tmp);
    manifest(m, "mood", "mood", "mood/mood.onnx", NSFW_SHA, "classifier", "softmax", 224, "input:0",
             "255", nsfw_labels, ", \"params\": {\"threshold\": 0.2, \"top1\": 1}");
    CHECK_EQ_INT(aitag_models_add(NSFW_ONNX, m, user, err, sizeof err), 0);
    CHECK(exists(user, "mood.json") && exists(user, "mood/mood.onnx"));
    /* The same name twice is refused. */
    CHECK(aitag_models_add(NSFW_ONNX, m, user, err, sizeof err) < 0);
    CHECK(strstr(err, "already") != NULL);

    snprintf(m, sizeof m, "%s/vec.json", tmp);
    manifest(m, "vec", "vec", "vec.onnx", NSFW_SHA, "embedder", "", 224, "input:0", "255", NULL,
             NULL);
    CHECK_EQ_INT(aitag_models_add(NSFW_ONNX, m, user, err, sizeof err), 0);

    snprintf(m, sizeof m, "%s/det.json", tmp);
    {
        char labels[2048] = "[";
        static const char *const coco[] = {
            "person",        "bicycle", "car",  "motorcycle",    "airplane",     "bus",
            "train",         "truck",   "boat", "traffic light", "fire hydrant", "stop sign",
            "parking meter", "bench",   "bird", "cat",           "dog"};
        for (int i = 0; i < 80; i++) {
            char one[40], cname[16];
            snprintf(cname, sizeof cname, "c%d", i);
            snprintf(one, sizeof one, "%s\"%s\"", i ? ", " : "", i < 17 ? coco[i] : cname);
            strncat(labels, one, sizeof labels - strlen(labels) - 1);
        }
        strncat(labels, "]", sizeof labels - strlen(labels) - 1);
        manifest(m, "det", "mydet", "det/cn.onnx", CN_SHA, "detector", "centernet", 512,
                 "tower_0/images", "1", labels,
                 ", \"outputs\": [\"tower_0/detections\"], \"params\": {\"score_threshold\": 0.3}");
    }
    CHECK_EQ_INT(aitag_models_add(CN_ONNX, m, user, err, sizeof err), 0);

    /* Wrong checksum: refused before anything is copied. */
    snprintf(m, sizeof m, "%s/bad.json", tmp);
    manifest(m, "bad", "bad", "bad.onnx", CN_SHA, "classifier", "softmax", 224, "input:0", "255",
             nsfw_labels, NULL);
    CHECK_EQ_INT(aitag_models_add(NSFW_ONNX, m, user, err, sizeof err), AITAG_ERR_MODEL);
    CHECK(strstr(err, "sha256") != NULL);
    CHECK(!exists(user, "bad.json") && !exists(user, "bad.onnx"));

    /* Labels that do not fit the output: the run check refuses it, nothing left behind. */
    manifest(m, "bad", "bad", "bad.onnx", NSFW_SHA, "classifier", "softmax", 224, "input:0", "255",
             "[\"a\", \"b\"]", NULL);
    CHECK_EQ_INT(aitag_models_add(NSFW_ONNX, m, user, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "2 labels") != NULL);
    CHECK(!exists(user, "bad.json") && !exists(user, "bad.onnx"));

    /* A detector whose output is not [1,N,6]. */
    manifest(m, "bad", "bad", "bad.onnx", NSFW_SHA, "detector", "centernet", 224, "input:0", "255",
             nsfw_labels, NULL);
    CHECK_EQ_INT(aitag_models_add(NSFW_ONNX, m, user, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(!exists(user, "bad.json"));
    /* Unsafe paths in the manifest are refused. */
    manifest(m, "bad", "bad", "../escape.onnx", NSFW_SHA, "classifier", "softmax", 224, "input:0",
             "255", nsfw_labels, NULL);
    CHECK_EQ_INT(aitag_models_add(NSFW_ONNX, m, user, err, sizeof err), AITAG_ERR_INVALID);
}

static void test_registry(void)
{
    char err[512] = "";

    CHECK(aitag_analyzer_find("mood") == NULL);
    CHECK_EQ_INT(
        aitag_analyzer_registry_load("/nonexistent/dir", "/nonexistent/dir", err, sizeof err), 0);
    CHECK_EQ_INT(aitag_analyzer_registry_load(user, user, err, sizeof err), 3);
    CHECK(aitag_analyzer_find("mood") != NULL);
    CHECK(aitag_analyzer_find("vec") != NULL);
    CHECK(aitag_analyzer_find("mydet") != NULL);
    CHECK(aitag_analyzer_find("det") == NULL); /* the "analyzer" key names it */
    CHECK(aitag_analyzer_find("faces") != NULL);
    CHECK(aitag_analyzer_find("nsfw") != NULL);
    /* Loading again adds nothing: the names are taken. */
    CHECK_EQ_INT(aitag_analyzer_registry_load(user, user, err, sizeof err), 0);
    {
        const struct aitag_analyzer_ops *const *all;
        size_t n = aitag_analyzer_all(&all), found = 0;
        for (size_t i = 0; i < n; i++)
            found += !strcmp(all[i]->name, "mood") || !strcmp(all[i]->name, "faces");
        CHECK_EQ_INT(found, 2);
        CHECK_STR(aitag_analyzer_find("mood")->models[0], "mood");
    }
}

static void test_run(void)
{
    struct aitag_evidence_list ev = {0};
    int neutral = 0, dog = 0;

    /* Classifier: the top class always, the rest over params.threshold; a distribution. */
    CHECK_EQ_INT(run_on_photo("mood", &ev), 0);
    CHECK(ev.n >= 1);
    for (size_t i = 0; i < ev.n; i++) {
        CHECK_STR(ev.items[i].analyzer, "mood");
        CHECK(ev.items[i].confidence >= 0.2f && ev.items[i].confidence <= 1);
        neutral += strcmp(ev.items[i].label, "Neutral") == 0;
    }
    CHECK_EQ_INT(neutral, 1); /* a dog photo is neutral (nsfw analyzer: 0.7) */
    aitag_evidence_list_clear(&ev);

    /* Embedder: one "embedding" with the unit-length vector in extra. */
    CHECK_EQ_INT(run_on_photo("vec", &ev), 0);
    CHECK_EQ_INT(ev.n, 1);
    if (ev.n == 1) {
        json_t *x = json_loads(test_details(&ev.items[0]), 0, NULL);
        json_t *v = json_object_get(x, "embedding");
        double norm = 0;
        size_t k;
        json_t *e;
        CHECK_STR(ev.items[0].label, "embedding");
        CHECK_EQ_INT(json_integer_value(json_object_get(x, "dim")), 5);
        CHECK_EQ_INT(json_array_size(v), 5);
        json_array_foreach(v, k, e) norm += json_real_value(e) * json_real_value(e);
        CHECK_NEAR(norm, 1.0, 1e-4);
        json_decref(x);
    }
    aitag_evidence_list_clear(&ev);

    /* Detector: boxes inside the frame, labels from the manifest. */
    CHECK_EQ_INT(run_on_photo("mydet", &ev), 0);
    CHECK(ev.n >= 1);
    for (size_t i = 0; i < ev.n; i++) {
        const struct aitag_box *b = &ev.items[i].box;
        CHECK(ev.items[i].has_box);
        CHECK(b->x >= 0 && b->y >= 0 && b->w > 0 && b->h > 0 && b->x + b->w <= 1.0001f &&
              b->y + b->h <= 1.0001f);
        CHECK(ev.items[i].confidence >= 0.3f);
        dog += !strcmp(ev.items[i].label, "bicycle") || !strcmp(ev.items[i].label, "dog");
    }
    CHECK(dog >= 1); /* CenterNet sees the bicycle (0.54) on darknet's dog.jpg */
    aitag_evidence_list_clear(&ev);
}

static void test_remove(void)
{
    char err[512];

    CHECK_EQ_INT(aitag_models_remove("vec", user, err, sizeof err), 0);
    CHECK(!exists(user, "vec.json") && !exists(user, "vec.onnx"));
    CHECK_EQ_INT(aitag_models_remove("vec", user, err, sizeof err), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(aitag_models_remove("../x", user, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(exists(user, "mood.json"));
}

/* Decoders on hand-made outputs: softmax of logits vs a distribution, sigmoid, top1, the
 * letterbox mapping and same-class NMS, embedding normalisation. */
static void test_decoders(void)
{
    static const char *const labels[] = {"a", "b", "c"};
    struct custom_desc sl = {.name = "t"};
    struct custom s = {.d = &sl, .labels = labels, .n_labels = 3, .threshold = 0.5f};
    struct aitag_evidence_list ev = {0};
    float logits[] = {0, 0, 3}, dist[] = {0.2f, 0.7f, 0.1f}, sig[] = {2, -2, 0.1f};

    CHECK_EQ_INT(emit_classes(&s, logits, 3, 1.5, &ev), 0);
    CHECK_EQ_INT(ev.n, 1);
    if (ev.n == 1) {
        CHECK_STR(ev.items[0].label, "c");
        CHECK_NEAR(ev.items[0].confidence, 0.90941, 1e-4);
        CHECK_NEAR(ev.items[0].t, 1.5, 1e-9);
    }
    aitag_evidence_list_clear(&ev);
    CHECK_EQ_INT(emit_classes(&s, dist, 3, 0, &ev), 0); /* already a distribution: as is */
    CHECK(ev.n == 1 && !strcmp(ev.items[0].label, "b"));
    CHECK(ev.n == 1 && fabsf(ev.items[0].confidence - 0.7f) < 1e-6f);
    aitag_evidence_list_clear(&ev);
    s.sigmoid = 1;
    CHECK_EQ_INT(emit_classes(&s, sig, 3, 0, &ev), 0);
    CHECK_EQ_INT(ev.n, 2);
    if (ev.n == 2) {
        CHECK_STR(ev.items[0].label, "a");
        CHECK_NEAR(ev.items[0].confidence, 0.880797, 1e-5);
        CHECK_STR(ev.items[1].label, "c");
    }
    aitag_evidence_list_clear(&ev);
    s.sigmoid = 0;
    s.threshold = 0.95f;
    s.top1 = 1;
    CHECK_EQ_INT(emit_classes(&s, logits, 3, 0, &ev), 0);
    CHECK(ev.n == 1 && !strcmp(ev.items[0].label, "c"));
    aitag_evidence_list_clear(&ev);
    CHECK_EQ_INT(emit_classes(&s, logits, 2, 0, &ev), AITAG_ERR_MODEL); /* C != labels */

    /* A 200x100 frame letterboxed into 100x100: scale 0.5, 25 px of padding top and bottom. */
    {
        struct aitag_frame fr = {.t = 2, .src_w = 200, .src_h = 100};
        struct aitag_view v = {
            .width = 100, .height = 100, .pad_y = 25, .scale_x = 0.5f, .scale_y = 0.5f};
        float rows[] = {
            10, 35, 50, 55, 0.9f, 0, /* kept: (0.1, 0.2) 0.4 x 0.4 */
            11, 35, 50, 55, 0.8f, 0, /* same class, IoU 0.97: NMS drops it */
            11, 35, 50, 55, 0.8f, 1, /* another class: kept */
            60, 30, 90, 60, 0.3f, 2, /* under the threshold */
            60, 30, 90, 60, 0.9f, 7, /* no such label */
            0,  0,  90, 20, 0.9f, 2, /* entirely in the padding */
        };
        s.threshold = 0.5f;
        s.nms_iou = 0.45f;
        CHECK_EQ_INT(emit_boxes(&s, rows, 6, 1, &fr, &v, &ev), 0);
        CHECK_EQ_INT(ev.n, 2);
        if (ev.n == 2) {
            CHECK_STR(ev.items[0].label, "a");
            CHECK(ev.items[0].has_box);
            CHECK_NEAR(ev.items[0].box.x, 0.1, 1e-5);
            CHECK_NEAR(ev.items[0].box.y, 0.2, 1e-5);
            CHECK_NEAR(ev.items[0].box.w, 0.4, 1e-5);
            CHECK_NEAR(ev.items[0].box.h, 0.4, 1e-5);
            CHECK_STR(ev.items[1].label, "b");
        }
        aitag_evidence_list_clear(&ev);
        CHECK_EQ_INT(emit_boxes(&s, rows, 6, 0, &fr, &v, &ev), 0); /* centernet: no NMS */
        CHECK_EQ_INT(ev.n, 3);
        aitag_evidence_list_clear(&ev);
    }
    {
        float x[] = {3, 4};
        s.normalize = 1;
        CHECK_EQ_INT(emit_embedding(&s, x, 2, 0, &ev), 0);
        CHECK(ev.n == 1 &&
              strcmp(test_details(&ev.items[0]), "{\"dim\":2,\"embedding\":[0.6,0.8]}") == 0);
        if (ev.n == 1)
            printf("embedding extra: %s\n", test_details(&ev.items[0]));
        aitag_evidence_list_clear(&ev);
    }
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/aitag-custom-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(user, sizeof user, "%s/user/models", tmp);
    test_decoders();
    test_add();
    test_registry();
    test_run();
    test_remove();
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done();
}
