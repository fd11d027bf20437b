/*
 * test_objects_flip.c - the objects analyzer's "flip" option (the mirrored CenterNet pass):
 * "auto" by default (the manifest; test_objects_mirror_gate.c tests when it runs), switched per
 * analyzer with configure(), part of the analysis
 * key, bad names and values refused with a message naming them. On Debian darknet's dog.jpg
 * both settings find the dog and the bicycle (boxes drawn by eye in tests/data/photo_objects.json;
 * IoU >= 0.5), and the mirrored pass changes the scores.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "check.h"

#define DOG "/usr/share/darknet/data/dog.jpg"

static const char *const want_labels[] = {"dog", "bicycle"};
/* dog.jpg boxes (x0, y0, x1, y1 in pixels) from tests/data/photo_objects.json */
static const double want_boxes[][4] = {{128, 222, 314, 540}, {125, 140, 568, 420}};

static double iou(const double a[4], const double b[4])
{
    double ix = fmin(a[2], b[2]) - fmax(a[0], b[0]), iy = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    double inter = ix > 0 && iy > 0 ? ix * iy : 0;
    double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;

    return uni > 0 ? inter / uni : 0;
}

/* Runs the analyzer on f; checks both objects; returns the dog's confidence. */
static float run_dog(const struct aitag_analyzer_ops *ops, void *st, struct aitag_frame *f)
{
    struct aitag_evidence_list ev = {0};
    char err[512] = "";
    float dog = -1;

    CHECK(ops->run(st, &f, 1, NULL, &ev, err, sizeof err) == 0);
    for (size_t w = 0; w < 2; w++) {
        double best = 0;
        for (size_t k = 0; k < ev.n; k++) {
            const struct aitag_evidence *e = &ev.items[k];
            double got[4] = {e->box.x * f->src_w, e->box.y * f->src_h,
                             (e->box.x + e->box.w) * f->src_w, (e->box.y + e->box.h) * f->src_h};
            if (strcmp(e->label, want_labels[w]) != 0)
                continue;
            best = fmax(best, iou(want_boxes[w], got));
            if (w == 0)
                dog = e->confidence;
        }
        printf("%s: best IoU %.2f\n", want_labels[w], best);
        CHECK(best >= 0.5);
    }
    aitag_evidence_list_clear(&ev);
    return dog;
}

int main(void)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    const struct aitag_analyzer_ops *ops = aitag_analyzer_find("objects");
    struct aitag_infer *inf = NULL;
    struct aitag_view_spec spec;
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    void *st = NULL;
    char err[512] = "";
    float dog_flip, dog_plain;

    p.manifest_dir = AITAG_SOURCE_DIR "/models";
    p.weights_dir = AITAG_DEPS_DIR "/models";
    p.intra_threads = 1;
    CHECK(ops != NULL && ops->configure != NULL);
    CHECK(aitag_infer_new(&p, &inf) == 0);
    if (!ops || !inf || ops->create(ops, inf, &st, err, sizeof err) < 0) {
        fprintf(stderr, "objects: %s\n", err);
        CHECK(0);
        aitag_infer_free(inf);
        return check_done();
    }
    /* the manifest's default: mirrored only when ambiguous, its bounds part of the key */
    CHECK(strstr(ops->key(st), " flip=2 amb=0.05/0.10/0.70") != NULL);

    CHECK(ops->configure(st, "mirror", "0", err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "unknown option 'mirror'") != NULL);
    CHECK(ops->configure(st, "flip", "maybe", err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "flip") != NULL && strstr(err, "maybe") != NULL);
    CHECK(strstr(ops->key(st), " flip=2 ") != NULL); /* a refused value changes nothing */
    CHECK(ops->configure(st, "flip", "1", err, sizeof err) == 0);
    CHECK(strstr(ops->key(st), " flip=1") != NULL && strstr(ops->key(st), "amb=") == NULL);

    ops->views(st, &spec, 1);
    sp.views = &spec;
    sp.n_views = 1;
    CHECK(aitag_sampler_open(DOG, &sp, &s, err, sizeof err) == 0);
    CHECK(s && aitag_sampler_next(s, &f) == 1);
    aitag_sampler_close(s);
    if (f) {
        dog_flip = run_dog(ops, st, f);
        CHECK(ops->configure(st, "flip", "off", err, sizeof err) == 0);
        CHECK(strstr(ops->key(st), " flip=0") != NULL && strstr(ops->key(st), "person=0.45"));
        dog_plain = run_dog(ops, st, f);
        CHECK(dog_flip >= 0.5f && dog_plain >= 0.5f && dog_flip != dog_plain);
        CHECK(ops->configure(st, "flip", "1", err, sizeof err) == 0);
        CHECK(strstr(ops->key(st), " flip=1") != NULL);
        CHECK(run_dog(ops, st, f) == dog_flip);
    }
    aitag_frame_free(f);
    ops->destroy(st);
    aitag_infer_free(inf);
    return check_done();
}
