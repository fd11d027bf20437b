/*
 * test_faces.c - the faces analyzer: BlazeFace anchors, decoding, weighted NMS and flip fusion
 * on hand-made tensors; the evidence list and the registry; then the real model on real photos
 * decoded by the real sampler: the face count of every sample photo (counted by eye), no faces
 * on the animal photos, sane boxes and keypoints, batching equal to frame-by-frame runs, and
 * boxes that map back to the same source place whatever the letterbox padding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/media.h"
#include "analyzers/blazeface.h"
#include "check.h"
#include "photo.h"

#define MODELS_DIR AITAG_SOURCE_DIR "/models"
#define WEIGHTS_DIR AITAG_DEPS_DIR "/models"
#define PHOTOS AITAG_DEPS_DIR "/photos/"
#define DARKNET "/usr/share/darknet/data/"
#define SKIMAGE "/usr/lib/python3/dist-packages/skimage/data/"

static void test_anchors(void)
{
    float xy[2 * BLAZEFACE_ANCHORS];

    CHECK_EQ_INT(blazeface_layer_count(0) + blazeface_layer_count(1), BLAZEFACE_ANCHORS);
    blazeface_anchors(xy);
    CHECK_NEAR(xy[0], 0.5 / 16, 1e-7); /* first cell, both anchors */
    CHECK_NEAR(xy[1], 0.5 / 16, 1e-7);
    CHECK_NEAR(xy[2], 0.5 / 16, 1e-7);
    CHECK_NEAR(xy[4], 1.5 / 16, 1e-7); /* next cell to the right */
    CHECK_NEAR(xy[2 * 511], 15.5 / 16, 1e-7);
    CHECK_NEAR(xy[2 * 511 + 1], 15.5 / 16, 1e-7);
    CHECK_NEAR(xy[2 * 512], 0.5 / 8, 1e-7); /* 8x8 layer starts */
    CHECK_NEAR(xy[2 * 517], 0.5 / 8, 1e-7); /* 6 anchors share the cell */
    CHECK_NEAR(xy[2 * 518], 1.5 / 8, 1e-7);
    CHECK_NEAR(xy[2 * 895 + 1], 7.5 / 8, 1e-7);
}

static void test_decode(void)
{
    static float scores[BLAZEFACE_ANCHORS], regs[BLAZEFACE_ANCHORS * BLAZEFACE_REG_DIM];
    static float xy[2 * BLAZEFACE_ANCHORS];
    static struct blazeface_det d[BLAZEFACE_ANCHORS];
    struct blazeface_params p = {256, 0.5f, 100.0f, 0.3f};
    size_t n;
    float *r;

    blazeface_anchors(xy);
    for (size_t i = 0; i < BLAZEFACE_ANCHORS; i++)
        scores[i] = -10.0f;
    /* Anchor 600 (8x8 layer): centre shifted by (+12.8, -25.6) px, a 64x32 px box. */
    scores[600] = 2.0f;
    r = regs + 600 * BLAZEFACE_REG_DIM;
    r[0] = 12.8f;
    r[1] = -25.6f;
    r[2] = 64.0f;
    r[3] = 32.0f;
    for (int k = 0; k < BLAZEFACE_KEYPOINTS; k++) {
        r[4 + 2 * k] = (float)k;
        r[5 + 2 * k] = -(float)k;
    }
    /* An absurd logit is clipped, not turned into inf or NaN; a NaN score is skipped. */
    scores[10] = 1e30f;
    regs[10 * BLAZEFACE_REG_DIM + 2] = 10.0f;
    regs[10 * BLAZEFACE_REG_DIM + 3] = 10.0f;
    scores[11] = NAN;
    /* A box of zero size is no detection, nor one with a non-finite keypoint. */
    scores[12] = 5.0f;
    scores[13] = 5.0f;
    regs[13 * BLAZEFACE_REG_DIM + 2] = 10.0f;
    regs[13 * BLAZEFACE_REG_DIM + 3] = 10.0f;
    regs[13 * BLAZEFACE_REG_DIM + 9] = INFINITY;
    n = blazeface_decode(scores, regs, xy, &p, d);
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(d[0].score, 1.0, 1e-6);
    CHECK_NEAR(d[1].score, 1.0 / (1.0 + exp(-2.0)), 1e-6);
    CHECK_NEAR(d[1].xmin, xy[1200] + 0.05 - 0.125, 1e-6);
    CHECK_NEAR(d[1].xmax, xy[1200] + 0.05 + 0.125, 1e-6);
    CHECK_NEAR(d[1].ymin, xy[1201] - 0.1 - 0.0625, 1e-6);
    CHECK_NEAR(d[1].ymax, xy[1201] - 0.1 + 0.0625, 1e-6);
    CHECK_NEAR(d[1].kp[10], xy[1200] + 5.0 / 256, 1e-6);
    CHECK_NEAR(d[1].kp[11], xy[1201] - 5.0 / 256, 1e-6);
    p.score_threshold = 0.99f;
    CHECK_EQ_INT(blazeface_decode(scores, regs, xy, &p, d), 1);
}

static struct blazeface_det box(float score, float x0, float y0, float x1, float y1)
{
    struct blazeface_det d;

    memset(&d, 0, sizeof d);
    d.score = score;
    d.xmin = x0;
    d.ymin = y0;
    d.xmax = x1;
    d.ymax = y1;
    for (int k = 0; k < BLAZEFACE_KEYPOINTS; k++) {
        d.kp[2 * k] = x0 + (x1 - x0) * (float)k / 6.0f;
        d.kp[2 * k + 1] = y0;
    }
    return d;
}

static void test_nms(void)
{
    struct blazeface_det d[4], a[2], b[2], out[4], m;
    size_t n;

    d[0] = box(0.6f, 0.10f, 0.10f, 0.30f, 0.30f);
    d[1] = box(0.9f, 0.12f, 0.10f, 0.32f, 0.30f); /* overlaps d[0] a lot */
    d[2] = box(0.7f, 0.60f, 0.60f, 0.80f, 0.80f); /* elsewhere */
    d[3] = box(0.8f, 0.31f, 0.10f, 0.51f, 0.30f); /* next to d[1], IoU < 0.3 */
    CHECK_NEAR(blazeface_iou(&d[0], &d[0]), 1.0, 1e-6);
    CHECK_NEAR(blazeface_iou(&d[0], &d[2]), 0.0, 1e-6);
    n = blazeface_weighted_nms(d, 4, 0.3f);
    CHECK_EQ_INT(n, 3);
    CHECK_NEAR(d[0].score, 0.9, 1e-6);                            /* the best score is kept ... */
    CHECK_NEAR(d[0].xmin, (0.9 * 0.12 + 0.6 * 0.10) / 1.5, 1e-6); /* ... the box averaged */
    CHECK_NEAR(d[1].score, 0.8, 1e-6);
    CHECK_NEAR(d[1].xmin, 0.31, 1e-6);
    CHECK_NEAR(d[2].score, 0.7, 1e-6);
    CHECK_EQ_INT(blazeface_weighted_nms(d, 0, 0.3f), 0);

    /* Mirroring twice is the identity; once, it swaps the eyes and the ears. */
    m = box(0.5f, 0.1f, 0.2f, 0.3f, 0.4f);
    blazeface_mirror(&m, 1);
    CHECK_NEAR(m.xmin, 0.7, 1e-6);
    CHECK_NEAR(m.xmax, 0.9, 1e-6);
    CHECK_NEAR(m.kp[0], 1.0 - (0.1 + 0.2 / 6), 1e-6); /* new right eye = old left eye */
    CHECK_NEAR(m.kp[2], 1.0 - 0.1, 1e-6);
    CHECK_NEAR(m.kp[4], 1.0 - (0.1 + 0.4 / 6), 1e-6); /* nose stays the nose */
    blazeface_mirror(&m, 1);
    CHECK_NEAR(m.xmin, 0.1, 1e-6);
    CHECK_NEAR(m.kp[2], 0.1 + 0.2 / 6, 1e-6);

    /* Flip fusion: a consistent pair averages; a one-sided hit scores half and is dropped. */
    a[0] = box(0.9f, 0.10f, 0.10f, 0.30f, 0.30f);
    a[1] = box(0.8f, 0.60f, 0.60f, 0.80f, 0.80f);
    b[0] = box(0.7f, 0.11f, 0.10f, 0.31f, 0.30f);
    b[1] = box(0.95f, 0.40f, 0.00f, 0.50f, 0.10f);
    n = blazeface_fuse_flip(a, 2, b, 2, 0.3f, 0.55f, out);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(out[0].score, 0.8, 1e-6);
    CHECK_NEAR(out[0].xmin, (0.9 * 0.10 + 0.7 * 0.11) / 1.6, 1e-6);
    n = blazeface_fuse_flip(a, 2, b, 2, 0.3f, 0.4f, out);
    CHECK_EQ_INT(n, 3); /* 0.8, 0.475, 0.4 */
}

static void test_evidence_registry(void)
{
    struct aitag_evidence_list l = {0};
    struct aitag_evidence e = {0};
    const struct aitag_analyzer_ops *const *all;
    char label[8] = "face";
    size_t n;
    int found = 0;

    e.analyzer = (char *)"faces";
    e.label = label;
    e.confidence = 0.5f;
    for (int i = 0; i < 40; i++)
        CHECK_EQ_INT(aitag_evidence_push(&l, &e), 0);
    label[0] = 'X'; /* the list holds copies */
    CHECK_EQ_INT(l.n, 40);
    CHECK_STR(l.items[39].label, "face");
    CHECK(l.items[0].text == NULL && test_details(&l.items[0])[0] == 0);
    aitag_evidence_list_clear(&l);
    CHECK(l.n == 0 && l.items == NULL);
    aitag_evidence_list_clear(&l);

    CHECK(aitag_analyzer_find("faces") != NULL);
    CHECK(aitag_analyzer_find("no-such") == NULL);
    CHECK(aitag_analyzer_find(NULL) == NULL);
    n = aitag_analyzer_all(&all);
    for (size_t i = 0; i < n; i++)
        found += strcmp(all[i]->name, "faces") == 0;
    CHECK_EQ_INT(found, 1);
}

static void check_face(const struct aitag_evidence *e, const struct aitag_frame *f)
{
    float kp[12], pw = e->box.w * (float)f->src_w, ph = e->box.h * (float)f->src_h;
    const char *p = strchr(test_details(e), '[');
    int n = 0;

    CHECK_STR(e->analyzer, "faces");
    CHECK_STR(e->label, "face");
    CHECK(e->has_box);
    CHECK(e->confidence >= 0.55f && e->confidence <= 1.0f);
    CHECK(e->box.x >= 0 && e->box.y >= 0 && e->box.w > 0 && e->box.h > 0);
    CHECK(e->box.x + e->box.w <= 1.0001f && e->box.y + e->box.h <= 1.0001f);
    CHECK(pw > 40 && ph > 40);                /* the sample faces are 150-250 px */
    CHECK(pw / ph > 0.8f && pw / ph < 1.25f); /* BlazeFace boxes are square in pixels */
    CHECK(e->t == f->t);
    for (p = p ? p + 1 : NULL; p && n < 12; n++) {
        char *end;
        kp[n] = strtof(p, &end);
        if (end == p)
            break;
        p = *end == ',' ? end + 1 : end;
    }
    CHECK_EQ_INT(n, 12);
    if (n == 12) {
        /* Eyes, nose and mouth lie in the box (with a margin); the eyes above the mouth. */
        for (int k = 0; k < 4; k++) {
            CHECK(kp[2 * k] > e->box.x - 0.1f * e->box.w && kp[2 * k] < e->box.x + 1.1f * e->box.w);
            CHECK(kp[2 * k + 1] > e->box.y - 0.1f * e->box.h &&
                  kp[2 * k + 1] < e->box.y + 1.1f * e->box.h);
        }
        CHECK(kp[1] < kp[7] && kp[3] < kp[7]);
    }
}

struct photo {
    const char *path;
    int faces; /* counted by eye */
};

static void test_photos(const struct aitag_analyzer_ops *ops, void *st,
                        const struct aitag_view_spec *spec)
{
    static const struct photo photos[] = {
        {PHOTOS "sample1.jpg", 3},
        {PHOTOS "sample2.jpg", 3},
        {PHOTOS "sample3.jpg", 3},
        {PHOTOS "sample4.jpg", 4},
        {PHOTOS "sample5.jpg", 5},
        {PHOTOS "sample6.jpg", 4},
        {DARKNET "dog.jpg", 0},
        {DARKNET "horses.jpg", 0},
        {DARKNET "giraffe.jpg", 0},
        {DARKNET "eagle.jpg", 0},
        {DARKNET "kite.jpg", 0},
        /* a cat's face (BlazeFace-back alone calls it a face, 0.75: test_verification) and
         * a coffee cup */
        {SKIMAGE "chelsea.png", 0},
        {SKIMAGE "coffee.png", 0},
    };
    enum { N = sizeof photos / sizeof photos[0] };
    struct aitag_frame *frames[N];
    struct aitag_evidence_list one = {0}, all = {0};
    char err[512];
    size_t i, at = 0;

    for (i = 0; i < N; i++) {
        frames[i] = test_load_photo(photos[i].path, spec, 2);
        CHECK(frames[i] != NULL);
        if (!frames[i])
            goto out;
    }
    for (i = 0; i < N; i++) {
        size_t before = one.n;
        CHECK_EQ_INT(ops->run(st, &frames[i], 1, NULL, &one, err, sizeof err), 0);
        printf("faces: %s: %zu\n", strrchr(photos[i].path, '/') + 1, one.n - before);
        CHECK_EQ_INT(one.n - before, photos[i].faces);
        if (one.n - before != (size_t)photos[i].faces)
            fprintf(stderr, "  %s\n", photos[i].path);
        for (size_t k = before; k < one.n; k++)
            check_face(&one.items[k], frames[i]);
    }
    /* All frames in one call: the same evidence in the same order. */
    CHECK_EQ_INT(ops->run(st, frames, N, NULL, &all, err, sizeof err), 0);
    CHECK_EQ_INT(all.n, one.n);
    for (at = 0; at < all.n && at < one.n; at++) {
        CHECK_NEAR(all.items[at].confidence, one.items[at].confidence, 1e-6);
        CHECK_NEAR(all.items[at].box.x, one.items[at].box.x, 1e-6);
        {
            char *a = strdup(test_details(&all.items[at])); /* the helper's buffer is reused */
            CHECK_STR(a, test_details(&one.items[at]));
            free(a);
        }
    }
out:
    aitag_evidence_list_clear(&one);
    aitag_evidence_list_clear(&all);
    for (size_t k = 0; k < i; k++)
        aitag_frame_free(frames[k]);
}

/* The left half of sample6 is a portrait picture: letterboxed, it is padded left and right
 * instead of top and bottom. Its faces must land where the full photo puts them. */
static void test_mapping(const struct aitag_analyzer_ops *ops, void *st,
                         const struct aitag_view_spec *spec)
{
    char dir[] = "/tmp/aitag_test_faces_XXXXXX", crop[64], cmd[512];
    struct aitag_frame *full = NULL, *half = NULL;
    struct aitag_evidence_list a = {0}, b = {0};
    char err[512];
    int matched = 0;

    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    snprintf(crop, sizeof crop, "%s/left.png", dir);
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i '%s' -vf crop=960:ih:0:0 '%s'",
             PHOTOS "sample6.jpg", crop);
    CHECK_EQ_INT(system(cmd), 0);
    full = test_load_photo(PHOTOS "sample6.jpg", spec, 2);
    half = test_load_photo(crop, spec, 2);
    CHECK(full && half);
    if (!full || !half)
        goto out;
    CHECK(half->views[0].pad_x > 0 && half->views[0].pad_y == 0);
    CHECK_EQ_INT(ops->run(st, &full, 1, NULL, &a, err, sizeof err), 0);
    CHECK_EQ_INT(ops->run(st, &half, 1, NULL, &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.n, 2); /* the two left faces */
    for (size_t i = 0; i < b.n; i++) {
        /* half-frame x -> full-frame x: the crop is the left 960 of 1920 px. */
        float x = b.items[i].box.x * 0.5f, w = b.items[i].box.w * 0.5f;
        for (size_t j = 0; j < a.n; j++) {
            const struct aitag_box *o = &a.items[j].box;
            if (fabsf(o->x - x) < 0.02f && fabsf(o->w - w) < 0.02f &&
                fabsf(o->y - b.items[i].box.y) < 0.03f && fabsf(o->h - b.items[i].box.h) < 0.03f)
                matched++;
        }
    }
    CHECK_EQ_INT(matched, 2);
out:
    aitag_evidence_list_clear(&a);
    aitag_evidence_list_clear(&b);
    aitag_frame_free(full);
    aitag_frame_free(half);
    unlink(crop);
    rmdir(dir);
}

/* Keypoint layouts: a frontal face passes; eyes on top of each other or a mouth above the
 * eyes do not; a face tilted by 40 degrees is measured along its eye line and passes. */
static void test_layout(void)
{
    const float box[4] = {100, 100, 200, 200};
    float face[12] = {130, 140, 170, 140, 150, 160, 150, 180, 105, 145, 195, 145};
    float stacked[12] = {150, 120, 150, 150, 150, 160, 150, 180, 105, 145, 195, 145};
    float upside[12] = {130, 170, 170, 170, 150, 150, 150, 120, 105, 145, 195, 145};
    float tilted[12];
    struct blazeface_layout l;
    float a = 40.0f * 3.14159265f / 180.0f;

    blazeface_layout_measure(box, face, &l);
    CHECK_NEAR(l.eyes, 0.4, 1e-6);
    CHECK_NEAR(l.nose_drop, 0.2, 1e-6);
    CHECK_NEAR(l.mouth_drop, 0.4, 1e-6);
    CHECK_NEAR(l.nose_side, 0.0, 1e-6);
    CHECK(blazeface_layout_plausible(&l));
    blazeface_layout_measure(box, stacked, &l);
    CHECK(!blazeface_layout_plausible(&l));
    blazeface_layout_measure(box, upside, &l);
    CHECK(l.mouth_drop < 0.0f);
    CHECK(!blazeface_layout_plausible(&l));
    for (int k = 0; k < 6; k++) { /* rotate about the box centre */
        float x = face[2 * k] - 150, y = face[2 * k + 1] - 150;
        tilted[2 * k] = 150 + x * cosf(a) - y * sinf(a);
        tilted[2 * k + 1] = 150 + x * sinf(a) + y * cosf(a);
    }
    blazeface_layout_measure(box, tilted, &l);
    CHECK_NEAR(l.eyes, 0.4, 1e-5);
    CHECK_NEAR(l.mouth_drop, 0.4, 1e-5);
    CHECK(blazeface_layout_plausible(&l));
}

/* Writes dir/blazeface-back.json with the shipped manifest's params changed as given, and a
 * copy of blazeface-front.json. Returns 0 or -1. */
static int write_manifests(const char *dir, double verify, int layout)
{
    json_t *back = json_load_file(MODELS_DIR "/blazeface-back.json", 0, NULL);
    json_t *front = json_load_file(MODELS_DIR "/blazeface-front.json", 0, NULL);
    char path[512];
    int rc = -1;

    if (back && front) {
        json_t *p = json_object_get(back, "params");
        json_object_set_new(p, "verify_threshold", json_real(verify));
        json_object_set_new(p, "layout_check", json_integer(layout));
        snprintf(path, sizeof path, "%s/blazeface-back.json", dir);
        rc = json_dump_file(back, path, 0);
        snprintf(path, sizeof path, "%s/blazeface-front.json", dir);
        rc = rc == 0 ? json_dump_file(front, path, 0) : rc;
    }
    json_decref(back);
    json_decref(front);
    return rc;
}

/* Faces found on a photo by the faces analyzer made from the manifests in dir. */
static int count_faces(const char *dir, const char *photo)
{
    const struct aitag_analyzer_ops *ops = aitag_analyzer_find("faces");
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_evidence_list l = {0};
    void *st = NULL;
    char err[512];
    int n = -1;

    ip.manifest_dir = dir;
    ip.weights_dir = WEIGHTS_DIR;
    if (aitag_infer_new(&ip, &inf) == 0 && ops->create(ops, inf, &st, err, sizeof err) == 0 &&
        test_run_photo(ops, st, photo, &l) == 0)
        n = (int)l.n;
    for (size_t i = 0; i < l.n; i++)
        printf("  %s: face %.2f\n", strrchr(photo, '/') + 1, l.items[i].confidence);
    aitag_evidence_list_clear(&l);
    if (st)
        ops->destroy(st);
    aitag_infer_free(inf);
    return n;
}

/* The verification stage is what keeps the cat and the cup out: without it (verify_threshold
 * 0) the detector reports both (the cup on the left part of scikit-image's coffee photo, as a
 * pan over it shows it); the layout check alone does not remove the cat; the real faces stay. */
static void test_verification(void)
{
    char dir[] = "/tmp/aitag_test_faces_verify_XXXXXX", path[512], cup[512], cmd[1024];

    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    snprintf(cup, sizeof cup, "%s/cup.png", dir);
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i '%s' -vf crop=428:286:8:57 '%s'",
             SKIMAGE "coffee.png", cup);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(write_manifests(dir, 0.0, 0), 0);
    CHECK(count_faces(dir, SKIMAGE "chelsea.png") >= 1);
    CHECK(count_faces(dir, cup) >= 1);
    CHECK_EQ_INT(count_faces(dir, PHOTOS "sample2.jpg"), 3);
    CHECK_EQ_INT(write_manifests(dir, 0.0, 1), 0);
    CHECK(count_faces(dir, SKIMAGE "chelsea.png") >= 1);
    CHECK_EQ_INT(write_manifests(dir, 0.7, 0), 0);
    CHECK_EQ_INT(count_faces(dir, SKIMAGE "chelsea.png"), 0);
    CHECK_EQ_INT(count_faces(dir, cup), 0);
    CHECK_EQ_INT(count_faces(dir, PHOTOS "sample2.jpg"), 3);
    snprintf(path, sizeof path, "%s/blazeface-back.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/blazeface-front.json", dir);
    unlink(path);
    unlink(cup);
    rmdir(dir);
}

/* Per-tagger options: the verification settings, in the key and in the views asked for. */
static void test_configure(const struct aitag_analyzer_ops *ops, void *st)
{
    struct aitag_view_spec spec[AITAG_MAX_VIEWS];
    char err[512];

    CHECK(ops->configure != NULL);
    if (!ops->configure)
        return;
    CHECK_EQ_INT(ops->configure(st, "verify_threshold", "0", err, sizeof err), 0);
    CHECK(strstr(ops->key(st), "verify=") == NULL);
    CHECK_EQ_INT(ops->views(st, spec, AITAG_MAX_VIEWS), 1);
    CHECK_EQ_INT(ops->configure(st, "layout_check", "1", err, sizeof err), 0);
    CHECK(strstr(ops->key(st), " layout=1") != NULL);
    CHECK_EQ_INT(ops->configure(st, "layout_check", "2", err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "layout_check") != NULL);
    CHECK_EQ_INT(ops->configure(st, "verify", "1", err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "unknown option 'verify'") != NULL);
    CHECK_EQ_INT(ops->configure(st, "verify_threshold", "abc", err, sizeof err), AITAG_ERR_INVALID);
    CHECK_EQ_INT(ops->configure(st, "verify_view", "10", err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "64..4096") != NULL);
    CHECK_EQ_INT(ops->configure(st, "verify_view", "512", err, sizeof err), 0);
    CHECK_EQ_INT(ops->configure(st, "verify_threshold", "0.6", err, sizeof err), 0);
    CHECK(strstr(ops->key(st), "layout=1 verify=blazeface-front@1.2.0#d388b1cf>=0.60 crop=2.00 "
                               "view=512") != NULL);
    CHECK_EQ_INT(ops->views(st, spec, AITAG_MAX_VIEWS), 2);
    CHECK(spec[1].width == 512 && spec[1].fit == AITAG_FIT_MAX_SIDE);
}

static void test_analyzer(void)
{
    const struct aitag_analyzer_ops *ops = aitag_analyzer_find("faces");
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_model *m = NULL;
    struct aitag_view_spec spec[AITAG_MAX_VIEWS];
    struct aitag_frame *frame;
    struct aitag_evidence_list l = {0};
    void *st = NULL;
    char err[512];

    if (!ops)
        return;
    CHECK_STR(ops->name, "faces");
    CHECK(ops->models && ops->models[0] && strcmp(ops->models[0], "blazeface-back") == 0);

    /* Without manifests, create fails with a message naming the manifest. */
    ip.manifest_dir = "/nonexistent";
    ip.weights_dir = WEIGHTS_DIR;
    CHECK_EQ_INT(aitag_infer_new(&ip, &inf), 0);
    CHECK(ops->create(ops, inf, &st, err, sizeof err) < 0);
    CHECK(st == NULL);
    CHECK(strstr(err, "blazeface-back.json") != NULL);
    aitag_infer_free(inf);

    ip.manifest_dir = MODELS_DIR;
    CHECK_EQ_INT(aitag_infer_new(&ip, &inf), 0);
    CHECK_EQ_INT(ops->create(ops, inf, &st, err, sizeof err), 0);
    if (!st) {
        fprintf(stderr, "  %s\n", err);
        aitag_infer_free(inf);
        return;
    }
    CHECK_STR(ops->key(st), "faces/v2 blazeface-back@1.2.0#427cbbe0 thr=0.55 nms=0.30 flip=1 "
                            "layout=0 verify=blazeface-front@1.2.0#d388b1cf>=0.70 crop=2.00 "
                            "view=1024");
    CHECK_EQ_INT(ops->views(st, spec, 1), 1);
    CHECK_EQ_INT(ops->views(st, spec, AITAG_MAX_VIEWS), 2);
    CHECK_EQ_INT(ops->views(st, spec, 0), 0);
    CHECK(spec[0].width == 256 && spec[0].height == 256 && spec[0].fit == AITAG_FIT_LETTERBOX &&
          spec[0].multiple == 0);
    /* the verification crops' view: the one face_attrs cuts its crops from */
    CHECK(spec[1].width == 1024 && spec[1].height == 1024 && spec[1].fit == AITAG_FIT_MAX_SIDE);
    /* create() loaded nothing: the session (and its output names) come with run(). */
    CHECK_EQ_INT(aitag_model_open(inf, "blazeface-back", &m), 0);
    CHECK_EQ_INT(aitag_model_output_index(m, "Identity:0"), -1);
    CHECK_EQ_INT(ops->run(st, NULL, 0, NULL, &l, err, sizeof err), 0);

    /* A frame without the analyzer's view is refused, not misread. */
    {
        struct aitag_view_spec other = {128, 128, AITAG_FIT_LETTERBOX, 0};
        frame = test_load_photo(PHOTOS "sample1.jpg", &other, 1);
        CHECK(frame != NULL);
        if (frame) {
            CHECK_EQ_INT(ops->run(st, &frame, 1, NULL, &l, err, sizeof err), AITAG_ERR_INVALID);
            CHECK(strstr(err, "256x256") != NULL);
            CHECK_EQ_INT(l.n, 0);
            aitag_frame_free(frame);
        }
    }
    test_photos(ops, st, spec);
    CHECK(aitag_model_output_index(m, "Identity:0") >= 0);
    test_mapping(ops, st, spec);
    test_configure(ops, st);
    ops->destroy(st);
    ops->destroy(NULL);
    aitag_infer_free(inf);
}

int main(void)
{
    test_anchors();
    test_decode();
    test_nms();
    test_evidence_registry();
    test_layout();
    test_analyzer();
    test_verification();
    return check_done();
}
