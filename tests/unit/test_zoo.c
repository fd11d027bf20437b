/*
 * test_zoo.c - the analyzers on converted models: "objects" (CenterNet) and "nsfw" (nsfwjs
 * MobileNetV2 mid). Registry entries, keys and views; then accuracy on Debian darknet's real
 * photos against tests/data/photo_objects.json (boxes drawn by eye): every required object is
 * found with the same label and box IoU >= 0.5 at the manifest's thresholds; on these safe
 * photos the nsfw analyzer says nsfw:safe >= 0.5 > nsfw:unsafe, and its top class is
 * nsfw:neutral where the truth file says so (giraffe.jpg: Drawing, a known weakness). Every
 * detection is printed, so threshold changes can be judged from the test log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "check.h"
#include "photo.h"

#define MODELS_DIR AITAG_SOURCE_DIR "/models"
#define WEIGHTS_DIR AITAG_DEPS_DIR "/models"
#define TRUTH AITAG_SOURCE_DIR "/tests/data/photo_objects.json"
#define PHOTOS "/usr/share/darknet/data"


static double iou(const double a[4], const double b[4])
{
    double ix = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
    double iy = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
    double inter = ix > 0 && iy > 0 ? ix * iy : 0;
    double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;

    return uni > 0 ? inter / uni : 0;
}

struct analyzer {
    const struct aitag_analyzer_ops *ops;
    void *st;
};

static void check_registry(struct aitag_infer *inf, struct analyzer *an)
{
    const char *names[2] = {"objects", "nsfw"};
    char err[512];

    for (int i = 0; i < 2; i++) {
        struct aitag_view_spec v[AITAG_MAX_VIEWS];
        an[i].ops = aitag_analyzer_find(names[i]);
        CHECK(an[i].ops != NULL);
        if (!an[i].ops)
            continue;
        CHECK(an[i].ops->create(an[i].ops, inf, &an[i].st, err, sizeof err) == 0);
        if (!an[i].st) {
            fprintf(stderr, "%s: %s\n", names[i], err);
            continue;
        }
        CHECK_EQ_INT(an[i].ops->views(an[i].st, v, AITAG_MAX_VIEWS), 1);
        CHECK(v[0].fit == AITAG_FIT_LETTERBOX);
        CHECK_EQ_INT(v[0].width, i == 0 ? 512 : 224);
        printf("key: %s\n", an[i].ops->key(an[i].st));
        CHECK(strstr(an[i].ops->key(an[i].st),
                     i == 0 ? "centernet@3.0.4#" : "nsfw-mobilenet-v2-mid@4.4.0#") != NULL);
        CHECK(strcmp(an[i].ops->models[0], i == 0 ? "centernet" : "nsfw-mobilenet-v2-mid") == 0);
    }
    CHECK(an[0].st && strstr(an[0].ops->key(an[0].st), "person=0.45") != NULL);
}

static void check_photo(struct analyzer *an, json_t *photo)
{
    const char *file = json_string_value(json_object_get(photo, "file"));
    const char *want_nsfw = json_string_value(json_object_get(photo, "nsfw"));
    json_t *objs = json_object_get(photo, "objects");
    struct aitag_view_spec specs[2];
    struct aitag_evidence_list ev = {0};
    struct aitag_frame *f;
    char path[512], err[512];
    const char *top = NULL;
    float top_conf = -1, unsafe = 0, safe = 0;

    snprintf(path, sizeof path, "%s/%s", PHOTOS, file);
    for (int i = 0; i < 2; i++)
        an[i].ops->views(an[i].st, &specs[i], 1);
    f = test_load_photo(path, specs, 2);
    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < 2; i++) {
        int rc = an[i].ops->run(an[i].st, &f, 1, NULL, &ev, err, sizeof err);
        CHECK(rc == 0);
        if (rc < 0)
            fprintf(stderr, "%s: %s\n", file, err);
    }
    for (size_t k = 0; k < ev.n; k++) {
        const struct aitag_evidence *e = &ev.items[k];
        if (strcmp(e->analyzer, "objects") == 0) {
            CHECK(e->has_box && e->box.w > 0 && e->box.h > 0);
            CHECK(e->box.x >= 0 && e->box.x + e->box.w <= 1.0001f);
            CHECK(e->confidence >= 0.5f && strstr(test_details(e), "\"score\":"));
            printf("objects: %s %s %.2f %s [%.0f %.0f %.0f %.0f]\n", file, e->label, e->confidence,
                   test_details(e), e->box.x * f->src_w, e->box.y * f->src_h,
                   (e->box.x + e->box.w) * f->src_w, (e->box.y + e->box.h) * f->src_h);
        } else {
            printf("nsfw: %s %s %.3f\n", file, e->label, e->confidence);
            if (strcmp(e->label, "nsfw:unsafe") == 0)
                unsafe = e->confidence;
            else if (strcmp(e->label, "nsfw:safe") == 0)
                safe = e->confidence;
            else if (e->confidence > top_conf) {
                top = e->label;
                top_conf = e->confidence;
            }
        }
    }
    for (size_t j = 0; j < json_array_size(objs); j++) {
        json_t *o = json_array_get(objs, j), *box = json_object_get(o, "box");
        const char *label = json_string_value(json_object_get(o, "label"));
        double want[4], best = 0;
        for (int d = 0; d < 4; d++)
            want[d] = json_number_value(json_array_get(box, (size_t)d));
        for (size_t k = 0; k < ev.n; k++) {
            const struct aitag_evidence *e = &ev.items[k];
            double got[4] = {e->box.x * f->src_w, e->box.y * f->src_h,
                             (e->box.x + e->box.w) * f->src_w, (e->box.y + e->box.h) * f->src_h};
            double v;
            if (strcmp(e->analyzer, "objects") || strcmp(e->label, label))
                continue;
            v = iou(want, got);
            best = v > best ? v : best;
        }
        printf("truth: %s %s best IoU %.2f%s\n", file, label, best,
               json_is_true(json_object_get(o, "required")) ? " (required)" : "");
        if (json_is_true(json_object_get(o, "required")))
            CHECK(best >= 0.5);
    }
    if (want_nsfw)
        CHECK(top && strcmp(top, want_nsfw) == 0);
    CHECK(safe >= 0.5f && unsafe < 0.5f);
    aitag_evidence_list_clear(&ev);
    aitag_frame_free(f);
}

int main(void)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct analyzer an[2] = {{0}};
    json_error_t je;
    json_t *truth = json_load_file(TRUTH, 0, &je), *photos;

    CHECK(truth != NULL);
    p.manifest_dir = MODELS_DIR;
    p.weights_dir = WEIGHTS_DIR;
    CHECK(aitag_infer_new(&p, &inf) == 0);
    check_registry(inf, an);
    photos = json_object_get(truth, "photos");
    CHECK_EQ_INT(json_array_size(photos), 5);
    if (an[0].st && an[1].st) {
        for (size_t i = 0; i < json_array_size(photos); i++)
            check_photo(an, json_array_get(photos, i));
    }
    for (int i = 0; i < 2; i++) {
        if (an[i].st)
            an[i].ops->destroy(an[i].st);
    }
    aitag_infer_free(inf);
    json_decref(truth);
    return check_done();
}
