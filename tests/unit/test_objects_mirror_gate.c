/*
 * test_objects_mirror_gate.c - the objects analyzer's default "auto" flip: the mirrored
 * CenterNet pass runs only for frames whose plain view is ambiguous, counted by the infer
 * layer's model runs (aitag_infer_model_counts, what aitag_tagger_model_counts reports), and
 * the labels stay those of always mirroring (the tolerance docs/models.md states: the same
 * labels per frame; scores may differ where the mirror was skipped).
 *
 * Frames: fixture images whose plain view is clear-cut (eagle.bmp: a bird at 0.71 against a
 * 0.35 threshold, nothing else near one; pair_2faces.tiff: two persons at 0.73-0.76 against
 * 0.45) run CenterNet once; ambiguous ones (Debian darknet's person.jpg, a sheep at 0.39 near
 * 0.35 and no sure sheep; sign_on_photo.jpg, a cow at 0.31 beside sure horses) twice. A fixture
 * video (faces_720p_hevc.mkv, sampled every 2 s) has both kinds of frame: fewer runs than two per
 * frame, more than one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "check.h"

#define IMAGES AITAG_FIXTURES_DIR "/images/"

struct ctx {
    const struct aitag_analyzer_ops *ops;
    struct aitag_infer *inf;
    void *gated, *always;
    struct aitag_view_spec spec;
};

static unsigned long long centernet_runs(const struct ctx *c)
{
    unsigned long long runs = 0, items = 0;

    aitag_infer_model_counts(c->inf, "centernet", &runs, &items);
    return runs;
}

/* The frame's labels, sorted and joined with ','. */
static void labels(const struct aitag_evidence_list *ev, char *buf, size_t cap)
{
    const char *names[64];
    size_t n = 0, len = 0;

    for (size_t i = 0; i < ev->n && n < 64; i++) {
        size_t k = 0;
        while (k < n && strcmp(names[k], ev->items[i].label) < 0)
            k++;
        if (k < n && strcmp(names[k], ev->items[i].label) == 0)
            continue;
        memmove(names + k + 1, names + k, (n - k) * sizeof *names);
        names[k] = ev->items[i].label;
        n++;
    }
    buf[0] = '\0';
    for (size_t k = 0; k < n && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", k ? "," : "", names[k]);
}

/* Runs both states on f; returns the CenterNet runs the gated state made; checks the labels. */
static unsigned long long run_both(struct ctx *c, struct aitag_frame *f, const char *what)
{
    struct aitag_evidence_list a = {0}, b = {0};
    char err[512] = "", la[1024], lb[1024];
    unsigned long long before = centernet_runs(c), runs;

    CHECK(c->ops->run(c->gated, &f, 1, NULL, &a, err, sizeof err) == 0);
    runs = centernet_runs(c) - before;
    CHECK(c->ops->run(c->always, &f, 1, NULL, &b, err, sizeof err) == 0);
    CHECK_EQ_INT(centernet_runs(c) - before - runs, 2); /* always: plain and mirrored */
    labels(&a, la, sizeof la);
    labels(&b, lb, sizeof lb);
    if (strcmp(la, lb) != 0)
        fprintf(stderr, "%s t=%.1f: auto [%s], always [%s]\n", what, f->t, la, lb);
    CHECK_STR(la, lb);
    aitag_evidence_list_clear(&a);
    aitag_evidence_list_clear(&b);
    return runs;
}

/* CenterNet runs of the gated state over the file's frames (every 2 s); *n_frames counts them. */
static unsigned long long run_file(struct ctx *c, const char *path, int *n_frames)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    unsigned long long runs = 0;
    char err[512] = "";

    *n_frames = 0;
    sp.views = &c->spec;
    sp.n_views = 1;
    if (aitag_sampler_open(path, &sp, &s, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        CHECK(0);
        return 0;
    }
    while (aitag_sampler_next(s, &f) == 1) {
        runs += run_both(c, f, path);
        (*n_frames)++;
        aitag_frame_free(f);
    }
    aitag_sampler_close(s);
    return runs;
}

int main(void)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    struct ctx c = {aitag_analyzer_find("objects"), NULL, NULL, NULL, {0}};
    static const char *const clear[] = {IMAGES "eagle.bmp", IMAGES "pair_2faces.tiff"};
    static const char *const unclear[] = {"/usr/share/darknet/data/person.jpg",
                                          IMAGES "sign_on_photo.jpg"};
    char err[512] = "";
    int n;

    p.manifest_dir = AITAG_SOURCE_DIR "/models";
    p.weights_dir = AITAG_DEPS_DIR "/models";
    p.intra_threads = 1;
    CHECK(c.ops != NULL && aitag_infer_new(&p, &c.inf) == 0);
    if (!c.ops || !c.inf || c.ops->create(c.ops, c.inf, &c.gated, err, sizeof err) < 0 ||
        c.ops->create(c.ops, c.inf, &c.always, err, sizeof err) < 0) {
        fprintf(stderr, "objects: %s\n", err);
        CHECK(0);
        if (c.gated)
            c.ops->destroy(c.gated);
        aitag_infer_free(c.inf);
        return check_done();
    }
    CHECK(strstr(c.ops->key(c.gated), " flip=2 ") != NULL); /* auto is the default */
    CHECK(c.ops->configure(c.always, "flip", "1", err, sizeof err) == 0);
    CHECK(c.ops->configure(c.gated, "flip", "ambiguous", err, sizeof err) == 0);
    CHECK(strcmp(c.ops->key(c.gated), c.ops->key(c.always)) != 0);
    c.ops->views(c.gated, &c.spec, 1);

    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ_INT(run_file(&c, clear[i], &n), 1);
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(run_file(&c, unclear[i], &n), 2);
        CHECK_EQ_INT(n, 1);
    }
    {
        unsigned long long runs =
            run_file(&c, AITAG_FIXTURES_DIR "/videos/faces_720p_hevc.mkv", &n);
        printf("faces_720p_hevc.mkv: %d frames, %llu CenterNet runs\n", n, runs);
        CHECK(n >= 10);
        CHECK(runs > (unsigned long long)n && runs < 2ull * (unsigned long long)n);
    }
    /* flip off: one run per frame whatever the frame */
    CHECK(c.ops->configure(c.gated, "flip", "0", err, sizeof err) == 0);
    {
        struct aitag_sampler_params sp = aitag_sampler_default_params();
        struct aitag_sampler *s = NULL;
        struct aitag_frame *f = NULL;
        struct aitag_evidence_list ev = {0};
        unsigned long long before = centernet_runs(&c);

        sp.views = &c.spec;
        sp.n_views = 1;
        CHECK(aitag_sampler_open(unclear[0], &sp, &s, err, sizeof err) == 0);
        CHECK(s && aitag_sampler_next(s, &f) == 1);
        aitag_sampler_close(s);
        CHECK(f && c.ops->run(c.gated, &f, 1, NULL, &ev, err, sizeof err) == 0);
        CHECK_EQ_INT(centernet_runs(&c) - before, 1);
        aitag_evidence_list_clear(&ev);
        aitag_frame_free(f);
    }
    c.ops->destroy(c.gated);
    c.ops->destroy(c.always);
    aitag_infer_free(c.inf);
    return check_done();
}
