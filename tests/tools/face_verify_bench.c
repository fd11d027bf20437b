/*
 * face_verify_bench.c - measures the faces analyzer's verification stage: false faces per 1,000
 * frames on people-free media against recall on real faces, for a grid of thresholds, from one
 * pass over the media (bench/faces_verify.sh drives it; `make bench-faces`).
 *
 * The faces analyzer runs with the manifests in MANIFEST_DIR, which the script writes with a
 * low detector threshold and no verification, so every candidate comes out; for each one the
 * tool then computes what the verification stage would: the keypoint layout
 * (blazeface_layout_measure / blazeface_layout_plausible) and the front model's score on aligned
 * crops of several sizes (blazeface_verifier_score, the very functions the analyzer calls), and
 * times the front model per candidate. Candidates are mapped back from the source frame to the
 * detector's view, which is exact except for boxes clamped at the frame's edge. The grid is
 * then evaluated offline: a candidate counts when its detector score, its layout and its
 * verification score all pass.
 *
 * LIST has one media file a line: `SET KIND PATH EXPECTED`, SET a word (tune, check), KIND neg
 * (no person anywhere) or pos, EXPECTED the number of faces on every sampled frame or a truth
 * JSON ({"faces": [{"start", "end", "count"}]}, counts summed over the ranges holding t).
 * Videos are sampled every second from t = 0.5. With face counts only (no boxes), a frame's
 * true faces are min(kept, expected); kept faces beyond expected count as false ones.
 * Output: a markdown table per set on stdout, every candidate in OUT_TSV.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "analyzers/blazeface.h"

#define N_CROPS 5
#define MAX_SETS 4

/* verifier variants: crop size (times the box) and the view it is cut from (0: the detector's
 * 256 letterbox view, else a view of at most that many pixels on its long side) */
static const float crops[N_CROPS] = {2.0f, 2.0f, 1.6f, 2.0f, 2.5f};
static const int crop_views[N_CROPS] = {0, 512, 1024, 1024, 1024};

struct cand {
    int set, frame;
    float det, ver[N_CROPS];
    int layout;
};

struct frame_rec {
    int set, pos, expected;
};

static struct cand *cands;
static size_t n_cands, cap_cands;
static struct frame_rec *frames_rec;
static size_t n_frames, cap_frames;
static char set_names[MAX_SETS][32];
static int n_sets;
static double verify_ms[N_CROPS];
static size_t verify_runs;

static int set_index(const char *name)
{
    for (int i = 0; i < n_sets; i++) {
        if (strcmp(set_names[i], name) == 0)
            return i;
    }
    if (n_sets == MAX_SETS)
        return -1;
    snprintf(set_names[n_sets], sizeof set_names[0], "%s", name);
    return n_sets++;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    *cap = *cap ? 2 * *cap : 256;
    p = realloc(p, *cap * elem);
    if (!p) {
        fprintf(stderr, "face_verify_bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* Faces expected at time t: `spec` is a count or a truth JSON file. */
static int expected_at(const char *spec, json_t *truth, double t)
{
    json_t *r;
    size_t i;
    int n = 0;

    if (!truth)
        return (int)strtol(spec, NULL, 10);
    json_array_foreach(json_object_get(truth, "faces"), i, r)
    {
        double s = json_number_value(json_object_get(r, "start"));
        double e = json_number_value(json_object_get(r, "end"));
        if ((s == 0 && e == 0) || (t >= s && t < e))
            n += (int)json_integer_value(json_object_get(r, "count"));
    }
    return n;
}

/* Source-normalised point -> view pixel. */
static float to_vx(const struct aitag_frame *fr, const struct aitag_view *v, float x)
{
    return x * v->scale_x * (float)fr->src_w + (float)v->pad_x;
}

static float to_vy(const struct aitag_frame *fr, const struct aitag_view *v, float y)
{
    return y * v->scale_y * (float)fr->src_h + (float)v->pad_y;
}

/* e's box and keypoints in view v's pixels. */
static void map_box(const struct aitag_frame *fr, const struct aitag_view *v,
                    const struct aitag_evidence *e, float box[4], float *kp)
{
    box[0] = to_vx(fr, v, e->box.x);
    box[1] = to_vy(fr, v, e->box.y);
    box[2] = to_vx(fr, v, e->box.x + e->box.w);
    box[3] = to_vy(fr, v, e->box.y + e->box.h);
    for (int k = 0; k < BLAZEFACE_KEYPOINTS; k++) {
        kp[2 * k] = to_vx(fr, v, e->keypoints[2 * k]);
        kp[2 * k + 1] = to_vy(fr, v, e->keypoints[2 * k + 1]);
    }
}

/* The view a variant crops from: views[0] (the detector's) or the max-side view of `side`. */
static const struct aitag_view *crop_view(const struct aitag_frame *fr, int side)
{
    struct aitag_view_spec s = {side, side, AITAG_FIT_MAX_SIDE, 0};

    return side ? aitag_frame_view(fr, &s) : &fr->views[0];
}

static int one_frame(const struct aitag_analyzer_ops *ops, void *st,
                     struct blazeface_verifier *const *fv, struct aitag_frame *fr, int set, int pos,
                     int expected, const char *path, FILE *tsv)
{
    struct aitag_evidence_list l = {0};
    const struct aitag_view *v = &fr->views[0];
    char err[512];
    float box[4], kp[2 * BLAZEFACE_KEYPOINTS];
    int rc;

    rc = ops->run(st, &fr, 1, NULL, &l, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        return rc;
    }
    frames_rec = grow(frames_rec, &cap_frames, n_frames + 1, sizeof *frames_rec);
    frames_rec[n_frames] = (struct frame_rec){set, pos, expected};
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        const struct aitag_evidence *e = &l.items[i];
        struct blazeface_layout lay;
        struct cand c = {set, (int)n_frames, e->confidence, {0}, 0};
        map_box(fr, v, e, box, kp);
        blazeface_layout_measure(box, kp, &lay);
        c.layout = blazeface_layout_plausible(&lay);
        for (int j = 0; j < N_CROPS && rc == 0; j++) {
            const struct aitag_view *cv = crop_view(fr, crop_views[j]);
            double t0 = aitag_now();
            map_box(fr, cv, e, box, kp);
            rc = blazeface_verifier_score(fv[j], cv, box, kp, &c.ver[j], err, sizeof err);
            verify_ms[j] += (aitag_now() - t0) * 1000.0;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", path, err);
            break;
        }
        verify_runs++;
        cands = grow(cands, &cap_cands, n_cands + 1, sizeof *cands);
        cands[n_cands++] = c;
        fprintf(tsv,
                "%s\t%s\t%s\t%.2f\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.3f\t%.3f\t%.3f\t%"
                ".3f\t%d\n",
                set_names[set], pos ? "pos" : "neg", path, fr->t, expected, c.det, c.ver[0],
                c.ver[1], c.ver[2], c.ver[3], c.ver[4], lay.eyes, lay.nose_drop, lay.mouth_drop,
                lay.nose_side, c.layout);
    }
    n_frames++;
    aitag_evidence_list_clear(&l);
    return rc;
}

static int one_file(const struct aitag_analyzer_ops *ops, void *st,
                    struct blazeface_verifier *const *fv, const struct aitag_view_spec *spec,
                    const char *set, const char *kind, const char *path, const char *exp, FILE *tsv)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *fr = NULL;
    json_t *truth = NULL;
    char err[256];
    int si = set_index(set), pos = strcmp(kind, "pos") == 0, rc = 0;

    if (si < 0 || (!pos && strcmp(kind, "neg") != 0)) {
        fprintf(stderr, "%s: bad set or kind (%s %s)\n", path, set, kind);
        return -1;
    }
    if (strstr(exp, ".json")) {
        json_error_t je;
        truth = json_load_file(exp, 0, &je);
        if (!truth) {
            fprintf(stderr, "%s: %s\n", exp, je.text);
            return -1;
        }
    }
    sp.views = spec;
    sp.n_views = 3;
    sp.interval = 1.0;
    sp.start = 0.5;
    if (aitag_sampler_open(path, &sp, &s, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        json_decref(truth);
        return -1;
    }
    while (rc == 0 && aitag_sampler_next(s, &fr) > 0) {
        rc = one_frame(ops, st, fv, fr, si, pos, pos ? expected_at(exp, truth, fr->t) : 0, path,
                       tsv);
        aitag_frame_free(fr);
    }
    aitag_sampler_close(s);
    json_decref(truth);
    return rc;
}

/* ms per sampled frame of path (every second) with the first n views of spec. */
static double sampling_ms(const char *path, const struct aitag_view_spec *spec, size_t n)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *fr = NULL;
    char err[256];
    size_t frames = 0;
    double t0 = aitag_now();

    sp.views = spec;
    sp.n_views = n;
    if (aitag_sampler_open(path, &sp, &s, err, sizeof err) < 0)
        return 0.0;
    while (aitag_sampler_next(s, &fr) > 0) {
        frames++;
        aitag_frame_free(fr);
    }
    aitag_sampler_close(s);
    return frames ? (aitag_now() - t0) * 1000.0 / (double)frames : 0.0;
}

struct rule {
    float det;  /* detector score >= */
    int layout; /* layout must be plausible */
    int crop;   /* index into crops, or -1: no front model */
    float ver;  /* front score >= */
};

static void evaluate(int set, const struct rule *r, double *fp1000, double *recall, double *fp_pos,
                     size_t *neg_frames, size_t *pos_faces)
{
    size_t *kept = calloc(n_frames ? n_frames : 1, sizeof *kept), negf = 0, fpn = 0;
    size_t want = 0, tp = 0, fpp = 0, posf = 0;

    if (!kept)
        exit(1);
    for (size_t i = 0; i < n_cands; i++) {
        const struct cand *c = &cands[i];
        if (c->set != set || c->det < r->det || (r->layout && !c->layout) ||
            (r->crop >= 0 && c->ver[r->crop] < r->ver))
            continue;
        kept[c->frame]++;
    }
    for (size_t f = 0; f < n_frames; f++) {
        const struct frame_rec *fr = &frames_rec[f];
        if (fr->set != set)
            continue;
        if (!fr->pos) {
            negf++;
            fpn += kept[f];
            continue;
        }
        posf++;
        want += (size_t)fr->expected;
        tp += kept[f] < (size_t)fr->expected ? kept[f] : (size_t)fr->expected;
        fpp += kept[f] > (size_t)fr->expected ? kept[f] - (size_t)fr->expected : 0;
    }
    *fp1000 = negf ? 1000.0 * (double)fpn / (double)negf : 0.0;
    *recall = want ? (double)tp / (double)want : 0.0;
    *fp_pos = posf ? 1000.0 * (double)fpp / (double)posf : 0.0;
    *neg_frames = negf;
    *pos_faces = want;
    free(kept);
}

static void report(void)
{
    static const float dets[] = {0.5f, 0.55f, 0.6f, 0.65f, 0.7f};
    static const float vers[] = {0.5f, 0.6f, 0.65f, 0.7f, 0.75f, 0.8f};

    for (int s = 0; s < n_sets; s++) {
        double fp, rec, fpp;
        size_t nf, pf;
        struct rule r0 = {0.55f, 0, -1, 0};
        evaluate(s, &r0, &fp, &rec, &fpp, &nf, &pf);
        printf("\n### %s set: %zu people-free frames, %zu real faces\n\n", set_names[s], nf, pf);
        printf("| detector >= | layout | front crop | front >= | false faces / 1000 "
               "people-free frames | recall | extra faces / 1000 face frames |\n");
        printf("|---|---|---|---|---|---|---|\n");
        for (size_t d = 0; d < sizeof dets / sizeof dets[0]; d++) {
            for (int lay = 0; lay < 2; lay++) {
                for (int c = -1; c < N_CROPS; c++) {
                    size_t nv = c < 0 ? 1 : sizeof vers / sizeof vers[0];
                    for (size_t k = 0; k < nv; k++) {
                        struct rule r = {dets[d], lay, c, c < 0 ? 0.0f : vers[k]};
                        evaluate(s, &r, &fp, &rec, &fpp, &nf, &pf);
                        if (c < 0)
                            printf("| %.2f | %s | - | - | %.1f | %.3f | %.1f |\n", r.det,
                                   lay ? "yes" : "no", fp, rec, fpp);
                        else
                            printf(
                                "| %.2f | %s | %.1f x box, %d view | %.2f | %.1f | %.3f | %.1f |\n",
                                r.det, lay ? "yes" : "no", crops[c],
                                crop_views[c] ? crop_views[c] : 256, r.ver, fp, rec, fpp);
                    }
                }
            }
        }
    }
    printf("\nfront model, ms per candidate (cropping included), mean of %zu:", verify_runs);
    for (int j = 0; j < N_CROPS; j++)
        printf(" %.1f x box, %d view: %.2f;", crops[j], crop_views[j] ? crop_views[j] : 256,
               verify_runs ? verify_ms[j] / (double)verify_runs : 0.0);
    printf("\n");
}

int main(int argc, char **argv)
{
    const struct aitag_analyzer_ops *ops = aitag_analyzer_find("faces");
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct blazeface_verifier *fv[N_CROPS] = {0};
    struct aitag_view_spec spec[AITAG_MAX_VIEWS];
    char line[4096], err[512];
    void *st = NULL;
    FILE *list = NULL, *tsv = NULL;
    int rc = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: face_verify_bench MANIFEST_DIR WEIGHTS_DIR LIST OUT_TSV\n");
        return 2;
    }
    ip.manifest_dir = argv[1];
    ip.weights_dir = argv[2];
    if (!ops || aitag_infer_new(&ip, &inf) < 0 || ops->create(ops, inf, &st, err, sizeof err) < 0) {
        fprintf(stderr, "face_verify_bench: cannot create the faces analyzer: %s\n", st ? "" : err);
        goto out;
    }
    for (int j = 0; j < N_CROPS; j++) {
        if (blazeface_verifier_new(inf, "blazeface-front", crops[j], &fv[j], err, sizeof err) < 0) {
            fprintf(stderr, "face_verify_bench: %s\n", err);
            goto out;
        }
    }
    if (ops->views(st, spec, AITAG_MAX_VIEWS) != 1) {
        fprintf(stderr, "face_verify_bench: the faces analyzer should ask for one view\n");
        goto out;
    }
    spec[1] = (struct aitag_view_spec){512, 512, AITAG_FIT_MAX_SIDE, 0};
    spec[2] = (struct aitag_view_spec){1024, 1024, AITAG_FIT_MAX_SIDE, 0};
    list = fopen(argv[3], "r");
    tsv = fopen(argv[4], "w");
    if (!list || !tsv) {
        fprintf(stderr, "face_verify_bench: cannot open %s or %s\n", argv[3], argv[4]);
        goto out;
    }
    fprintf(tsv,
            "set\tkind\tpath\tt\texpected\tdet\tfront2.0@256\tfront2.0@512\tfront1.6@1024\t"
            "front2.0@1024\tfront2.5@1024\teyes\tnose_drop\tmouth_drop\tnose_side\tlayout_ok\n");
    while (fgets(line, sizeof line, list)) {
        char set[32], kind[8], path[2048], exp[2048];
        if (line[0] == '#' || sscanf(line, "%31s %7s %2047s %2047s", set, kind, path, exp) != 4)
            continue;
        if (one_file(ops, st, fv, spec, set, kind, path, exp, tsv) < 0)
            goto out;
    }
    report();
    if (getenv("BENCH_VIEW_COST")) {
        const char *p = getenv("BENCH_VIEW_COST");
        double a = 0, b = 0;
        for (int k = 0; k < 3; k++) { /* interleaved, best of 3: the machine is shared */
            double x = sampling_ms(p, spec, 1), y = sampling_ms(p, spec, 3);
            double z = sampling_ms(p, (struct aitag_view_spec[]){spec[0], spec[2]}, 2);
            a = k == 0 || x < a ? x : a;
            b = k == 0 || z < b ? z : b;
            (void)y;
        }
        printf("sampling %s every second: %.2f ms per frame with the detector's view, %.2f "
               "with the 1024 view too (best of 3)\n",
               p, a, b);
    }
    rc = 0;
out:
    if (list)
        fclose(list);
    if (tsv)
        fclose(tsv);
    for (int j = 0; j < N_CROPS; j++)
        blazeface_verifier_free(fv[j]);
    if (st)
        ops->destroy(st);
    aitag_infer_free(inf);
    free(cands);
    free(frames_rec);
    return rc;
}
