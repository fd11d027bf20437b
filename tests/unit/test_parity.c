/*
 * test_parity.c - converted models against TensorFlow.js itself. For each converted model the
 * same input (a real photo, letterboxed and normalised by the model's manifest) goes through
 * the ONNX file with ONNX Runtime and through the original model.json with TensorFlow.js's pure
 * JavaScript CPU backend (tests/parity/reference.js, run by Node). Every output must agree:
 * max |onnx - tfjs| <= 1e-4 * max(1, max |tfjs|) over the output. Also prints ms per run at 1
 * and 2 intra-op threads (median of a few runs; informative, not asserted).
 *
 * Needs scripts/setup.sh to have converted the models (deps/models) and installed the reference
 * (tests/parity/node_modules).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "check.h"
#include "photo.h"
#include "infer/infer_int.h" /* session output names */

#define MODELS_DIR AITAG_SOURCE_DIR "/models"
#define WEIGHTS_DIR AITAG_DEPS_DIR "/models"
#define TFJS_DIR AITAG_DEPS_DIR "/tfjs"
#define REFERENCE AITAG_SOURCE_DIR "/tests/parity/reference.js"
#define PHOTOS "/usr/share/darknet/data"
#define FACES AITAG_DEPS_DIR "/photos"

struct parity_case {
    const char *manifest;
    const char *model_json; /* under TFJS_DIR */
    const char *photo;
};

static const struct parity_case cases[] = {
    {"centernet", "centernet/centernet.json", PHOTOS "/dog.jpg"},
    {"centernet", "centernet/centernet.json", PHOTOS "/person.jpg"},
    {"nsfw-mobilenet-v2-mid", "nsfw-mobilenet-v2-mid/model.json", PHOTOS "/horses.jpg"},
    {"nsfw-mobilenet-v2-mid", "nsfw-mobilenet-v2-mid/model.json", PHOTOS "/kite.jpg"},
    {"faceres", "faceres/faceres.json", FACES "/sample1.jpg"},
    {"faceres", "faceres/faceres.json", FACES "/sample2.jpg"},
    {"emotion", "emotion/emotion.json", FACES "/sample1.jpg"},
    {"emotion", "emotion/emotion.json", FACES "/sample3.jpg"},
    {"mobilefacenet", "mobilefacenet/mobilefacenet.json", FACES "/sample1.jpg"},
    {"mobilefacenet", "mobilefacenet/mobilefacenet.json", FACES "/sample4.jpg"},
    {"movenet", "movenet-lightning/movenet-lightning.json", PHOTOS "/person.jpg"},
    {"movenet", "movenet-lightning/movenet-lightning.json", FACES "/sample2.jpg"},
};

/* One batch item from a letterboxed view: the manifest's normalisation through
 * aitag_model_fill_input for RGB models; for a one-channel model (emotion) the grey value
 * 0.2989 R + 0.587 G + 0.114 B, normalised by the manifest's first mean and std, the way
 * src/analyzers/face_attrs.c feeds it. */
static void fill_item(const struct aitag_model *m, const struct aitag_view *v, int channels,
                      float *x)
{
    if (channels != 1) {
        aitag_model_fill_input(m, v, x);
        return;
    }
    for (int y = 0; y < v->height; y++) {
        for (int k = 0; k < v->width; k++) {
            const uint8_t *p = v->rgb + (size_t)y * (size_t)v->stride + 3 * (size_t)k;
            float g = 0.2989f * p[0] + 0.587f * p[1] + 0.114f * p[2];
            x[(size_t)y * (size_t)v->width + (size_t)k] = (g - m->mean[0]) * m->inv_std[0];
        }
    }
}

static char tmpdir[256];


static int write_floats(const char *path, const float *x, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(x, sizeof *x, n, f) == n;

    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static float *read_floats(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    float *buf = NULL;
    long sz;

    *n = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)sz);
        if (buf && fread(buf, 1, (size_t)sz, f) == (size_t)sz)
            *n = (size_t)sz / sizeof(float);
    }
    fclose(f);
    return buf;
}

/* Runs reference.js; returns its parsed stdout ({"outputs": [...]}) or NULL. */
static json_t *run_reference(const char *model_json, const char *in_path, const int64_t *shape,
                             int ndim, const char *out_path, char **names, size_t n_names)
{
    char cmd[4096], line[65536];
    size_t len;
    FILE *p;
    json_t *j = NULL;

    len = (size_t)snprintf(cmd, sizeof cmd, "node '%s' '%s' '%s' ", REFERENCE, model_json, in_path);
    for (int i = 0; i < ndim && len < sizeof cmd; i++)
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, "%s%lld", i ? "," : "",
                                (long long)shape[i]);
    len += (size_t)snprintf(cmd + len, sizeof cmd - len, " '%s'", out_path);
    for (size_t i = 0; i < n_names && len < sizeof cmd; i++)
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, " '%s'", names[i]);
    /* TensorFlow.js chats on stderr; keep it for failures only */
    len += (size_t)snprintf(cmd + len, sizeof cmd - len, " 2>'%s/node.err'", tmpdir);
    p = popen(cmd, "r");
    if (!p)
        return NULL;
    if (fgets(line, sizeof line, p))
        j = json_loads(line, 0, NULL);
    if (pclose(p) != 0) {
        char err_path[512], buf[4096];
        FILE *e;
        size_t n;
        snprintf(err_path, sizeof err_path, "%s/node.err", tmpdir);
        e = fopen(err_path, "r");
        n = e ? fread(buf, 1, sizeof buf - 1, e) : 0;
        buf[n] = '\0';
        if (e)
            fclose(e);
        fprintf(stderr, "reference.js failed: %s\n", buf);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Median of runs (<= 16) Runs in ms; *min_ms gets the fastest. */
static double median_ms(struct aitag_model *m, const struct aitag_tensor *in, int runs,
                        double *min_ms)
{
    double t[16];
    struct aitag_tensor outs[8];
    size_t n_out;
    char err[256];

    *min_ms = 0;
    for (int i = 0; i < runs && i < 16; i++) {
        double t0 = aitag_now();
        if (aitag_model_run(m, in, outs, 8, &n_out, err, sizeof err) < 0)
            return -1;
        t[i] = (aitag_now() - t0) * 1000.0;
        aitag_tensors_release(outs, n_out);
    }
    for (int i = 1; i < runs; i++) /* insertion sort, runs is tiny */
        for (int k = i; k > 0 && t[k] < t[k - 1]; k--) {
            double x = t[k];
            t[k] = t[k - 1];
            t[k - 1] = x;
        }
    *min_ms = t[0];
    return t[runs / 2];
}

static void timing(const char *manifest, const struct aitag_tensor *in)
{
    for (int threads = 1; threads <= 2; threads++) {
        struct aitag_infer_params p = aitag_infer_default_params();
        struct aitag_infer *inf = NULL;
        struct aitag_model *m = NULL;
        p.manifest_dir = MODELS_DIR;
        p.weights_dir = WEIGHTS_DIR;
        p.intra_threads = threads;
        if (aitag_infer_new(&p, &inf) == 0 && aitag_model_open(inf, manifest, &m) == 0 &&
            aitag_model_load(m) == 0) {
            double min_ms, med;
            median_ms(m, in, 3, &min_ms); /* warm-up */
            med = median_ms(m, in, 9, &min_ms);
            printf("timing: %s intra_threads=%d median_ms=%.1f min_ms=%.1f\n", manifest, threads,
                   med, min_ms);
        }
        aitag_infer_free(inf);
    }
}

static void check_case(const struct parity_case *pc, int time_it)
{
    struct aitag_infer_params p = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_model *m = NULL;
    struct aitag_view_spec spec;
    struct aitag_frame *fr = NULL;
    struct aitag_tensor in = {0}, outs[8];
    size_t n_out = 0, n_ref = 0, off = 0;
    char err[512], in_path[512], out_path[512], model_json[512], *names[8];
    float *x = NULL, *ref = NULL;
    json_t *meta = NULL, *arr;
    const int64_t *shape;
    int ndim;

    p.manifest_dir = MODELS_DIR;
    p.weights_dir = WEIGHTS_DIR;
    CHECK(aitag_infer_new(&p, &inf) == 0);
    CHECK(aitag_model_open(inf, pc->manifest, &m) == 0);
    if (!m || aitag_model_load(m) < 0) {
        fprintf(stderr, "%s: %s (run scripts/setup.sh)\n", pc->manifest, aitag_infer_errmsg(inf));
        CHECK(!"model loads");
        goto out;
    }
    CHECK(aitag_model_input_view(m, &spec) == 0);
    fr = test_load_photo(pc->photo, &spec, 1);
    CHECK(fr != NULL);
    if (!fr)
        goto out;
    shape = aitag_model_input_shape(m, &ndim);
    in.ndim = ndim;
    in.count = 1;
    for (int i = 0; i < ndim; i++) {
        in.shape[i] = shape[i] < 0 ? 1 : shape[i];
        in.count *= (size_t)in.shape[i];
    }
    x = malloc(in.count * sizeof *x);
    fill_item(m, &fr->views[0], ndim == 4 ? (int)in.shape[3] : 3, x);
    in.data = x;
    CHECK(aitag_model_run(m, &in, outs, 8, &n_out, err, sizeof err) == 0);
    snprintf(in_path, sizeof in_path, "%s/in.f32", tmpdir);
    snprintf(out_path, sizeof out_path, "%s/ref.f32", tmpdir);
    snprintf(model_json, sizeof model_json, "%s/%s", TFJS_DIR, pc->model_json);
    CHECK(write_floats(in_path, x, in.count) == 0);
    /* the session's output names are the TensorFlow.js signature names */
    CHECK(n_out == m->n_sess_outputs && n_out <= 8);
    if (n_out != m->n_sess_outputs || n_out > 8)
        goto release;
    for (size_t i = 0; i < n_out; i++)
        names[i] = m->sess_outputs[i];
    meta = run_reference(model_json, in_path, in.shape, in.ndim, out_path, names, n_out);
    CHECK(meta != NULL);
    ref = meta ? read_floats(out_path, &n_ref) : NULL;
    CHECK(ref != NULL);
    arr = json_object_get(meta, "outputs");
    CHECK_EQ_INT(json_array_size(arr), n_out);
    for (size_t i = 0; ref && i < n_out && i < json_array_size(arr); i++) {
        const struct aitag_tensor *t = &outs[i];
        json_t *shp = json_object_get(json_array_get(arr, i), "shape");
        double worst = 0, scale = 0, tol;
        size_t count = 1;
        for (size_t d = 0; d < json_array_size(shp); d++)
            count *= (size_t)json_integer_value(json_array_get(shp, d));
        CHECK_EQ_INT(count, t->count);
        CHECK_EQ_INT(json_array_size(shp), t->ndim);
        if (count != t->count || off + count > n_ref)
            break;
        for (size_t k = 0; k < count; k++) {
            double r = ref[off + k], d = fabs((double)t->data[k] - r);
            worst = d > worst ? d : worst;
            scale = fabs(r) > scale ? fabs(r) : scale;
        }
        /* |ref| is the output's magnitude (its largest |value|): convolutions sum many terms,
         * so the absolute error of an output scales with the output, not with each element */
        tol = 1e-4 * (scale > 1 ? scale : 1);
        printf("parity: %s %s %s: %zu values, max |ref| %.4g, max |diff| %.3g, tolerance %.3g "
               "(%.3f of it)\n",
               pc->manifest, strrchr(pc->photo, '/') + 1, names[i], count, scale, worst, tol,
               worst / tol);
        CHECK(worst <= tol);
        off += count;
    }
    if (time_it)
        timing(pc->manifest, &in);
release:
    aitag_tensors_release(outs, n_out);
out:
    json_decref(meta);
    free(ref);
    free(x);
    aitag_frame_free(fr);
    aitag_infer_free(inf);
}

int main(void)
{
    char path[512];

    snprintf(tmpdir, sizeof tmpdir, "/tmp/aitag_parity_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof path, "%s/node_modules/@tensorflow/tfjs-converter/package.json",
             AITAG_SOURCE_DIR "/tests/parity");
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "test_parity: %s missing: run scripts/setup.sh\n", path);
        CHECK(!"TensorFlow.js reference installed");
    } else {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            check_case(&cases[i], i == 0 || strcmp(cases[i].manifest, cases[i - 1].manifest));
    }
    snprintf(path, sizeof path, "%s/in.f32", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/ref.f32", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/node.err", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return check_done();
}
