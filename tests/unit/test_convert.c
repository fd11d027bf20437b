/*
 * test_convert.c - the TensorFlow.js -> ONNX converter on small hand-written graphs: numbers
 * against a plain C convolution (fp16 and uint8-quantised weights, SAME padding with stride 2,
 * fused BiasAdd + Relu6, a depthwise VALID conv), pruning of unused constants, determinism,
 * and the error paths (unknown op named with its node, missing and short shards, bad JSON).
 * The real models' numbers are checked against TensorFlow.js in test_parity.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/convert.h"
#include "aitag/infer.h"
#include "check.h"

static char dir[256];

static void write_text(const char *name, const char *text)
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

static uint16_t to_half(float v) /* exact for the small multiples of 1/4 used here */
{
    uint32_t b;
    int e;
    uint32_t sign, mant;

    memcpy(&b, &v, 4);
    sign = (b >> 16) & 0x8000u;
    if ((b & 0x7fffffffu) == 0)
        return (uint16_t)sign;
    e = (int)((b >> 23) & 0xff) - 127 + 15;
    mant = (b >> 13) & 0x3ffu;
    return (uint16_t)(sign | ((uint32_t)e << 10) | mant);
}

#define IN_H 5
#define IN_W 5
#define IN_C 2
#define OUT_C 3

static float xin[IN_H * IN_W * IN_C], w1[3 * 3 * IN_C * OUT_C], b1[OUT_C], w2[2 * 2 * OUT_C];
static const float DW_MIN = -1.0f, DW_SCALE = 0.01f;

static const char *MODEL =
    "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
    "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
    "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"5\"},{\"size\":\"5\"},"
    "{\"size\":\"2\"}]}}}},"
    "{\"name\":\"w1\",\"op\":\"Const\"},{\"name\":\"b1\",\"op\":\"Const\"},"
    "{\"name\":\"w2\",\"op\":\"Const\"},{\"name\":\"unused\",\"op\":\"Const\"},"
    "{\"name\":\"conv\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w1\",\"b1\"],\"attr\":{"
    "\"strides\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}},\"padding\":{\"s\":\"U0FNRQ==\"},"
    "\"data_format\":{\"s\":\"TkhXQw==\"},\"num_args\":{\"i\":\"1\"},"
    "\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdTY=\"]}}}},"
    "{\"name\":\"dw\",\"op\":\"DepthwiseConv2dNative\",\"input\":[\"conv\",\"w2\"],\"attr\":{"
    "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"padding\":{\"s\":\"VkFMSUQ=\"}}},"
    "{\"name\":\"out\",\"op\":\"Identity\",\"input\":[\"dw\"]}]},"
    "\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":["
    "{\"name\":\"w1\",\"shape\":[3,3,2,3],\"dtype\":\"float32\","
    "\"quantization\":{\"dtype\":\"float16\"}},"
    "{\"name\":\"b1\",\"shape\":[3],\"dtype\":\"float32\"},"
    "{\"name\":\"w2\",\"shape\":[2,2,3,1],\"dtype\":\"float32\","
    "\"quantization\":{\"dtype\":\"uint8\",\"min\":-1,\"scale\":0.01}},"
    "{\"name\":\"unused\",\"shape\":[4],\"dtype\":\"float32\"}]}]}";

/* Writes w.bin for MODEL (truncated to `keep` bytes when keep > 0) and fills the weights. */
static void write_weights(size_t keep)
{
    uint8_t buf[1024];
    size_t n = 0;
    char path[512];
    FILE *f;

    for (size_t i = 0; i < sizeof w1 / sizeof w1[0]; i++) {
        uint16_t h;
        w1[i] = (float)((int)(i % 5) - 2) * 0.25f;
        h = to_half(w1[i]);
        buf[n++] = (uint8_t)(h & 0xff);
        buf[n++] = (uint8_t)(h >> 8);
    }
    for (int i = 0; i < OUT_C; i++) {
        b1[i] = 0.5f - 0.375f * (float)i;
        memcpy(buf + n, &b1[i], 4);
        n += 4;
    }
    for (size_t i = 0; i < sizeof w2 / sizeof w2[0]; i++) {
        uint8_t q = (uint8_t)((i * 37 + 60) % 256);
        w2[i] = (float)((double)q * (double)DW_SCALE + (double)DW_MIN);
        buf[n++] = q;
    }
    for (int i = 0; i < 4; i++) {
        float u = 42.0f;
        memcpy(buf + n, &u, 4);
        n += 4;
    }
    snprintf(path, sizeof path, "%s/w.bin", dir);
    f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, keep ? keep : n, f) != (keep ? keep : n)) {
        perror(path);
        exit(2);
    }
    fclose(f);
}

/* The same graph in plain C: conv 3x3 stride 2 SAME (pad 1 each side on 5x5), bias, Relu6,
 * then depthwise 2x2 VALID. */
static void reference(float out[2 * 2 * OUT_C])
{
    float mid[3 * 3 * OUT_C];

    for (int oy = 0; oy < 3; oy++)
        for (int ox = 0; ox < 3; ox++)
            for (int o = 0; o < OUT_C; o++) {
                double acc = b1[o];
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        for (int i = 0; i < IN_C; i++) {
                            int y = oy * 2 - 1 + ky, x = ox * 2 - 1 + kx;
                            if (y < 0 || y >= IN_H || x < 0 || x >= IN_W)
                                continue;
                            acc += (double)xin[(y * IN_W + x) * IN_C + i] *
                                   w1[((ky * 3 + kx) * IN_C + i) * OUT_C + o];
                        }
                mid[(oy * 3 + ox) * OUT_C + o] = (float)(acc < 0 ? 0 : acc > 6 ? 6 : acc);
            }
    for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++)
            for (int c = 0; c < OUT_C; c++) {
                double acc = 0;
                for (int ky = 0; ky < 2; ky++)
                    for (int kx = 0; kx < 2; kx++)
                        acc += (double)mid[((oy + ky) * 3 + ox + kx) * OUT_C + c] *
                               w2[(ky * 2 + kx) * OUT_C + c];
                out[(oy * 2 + ox) * OUT_C + c] = (float)acc;
            }
}

static int convert(const char *json_name, const char *onnx_name, struct aitag_convert_stats *st,
                   char *err, size_t errlen)
{
    struct aitag_convert_params p = aitag_convert_default_params();
    char in[512], out[512];

    snprintf(in, sizeof in, "%s/%s", dir, json_name);
    snprintf(out, sizeof out, "%s/%s", dir, onnx_name);
    p.model_json = in;
    p.output = out;
    return aitag_convert_tfjs(&p, st, err, errlen);
}

static void test_numbers(void)
{
    struct aitag_convert_stats st;
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_model *m = NULL;
    struct aitag_tensor in = {0}, outs[2];
    size_t n_out = 0;
    char err[512], hex[65], hex2[65], path[512], manifest[1024];
    float want[2 * 2 * OUT_C];
    int rc;

    write_text("model.json", MODEL);
    write_weights(0);
    rc = convert("model.json", "tiny.onnx", &st, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ_INT(st.tf_nodes, 8);
    CHECK_EQ_INT(st.initializers, 5); /* w1, b1, w2 and Relu6's two bounds; "unused" pruned */
    snprintf(path, sizeof path, "%s/tiny.onnx", dir);
    CHECK(aitag_sha256_file(path, hex) == 0);
    CHECK(convert("model.json", "tiny2.onnx", &st, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/tiny2.onnx", dir);
    CHECK(aitag_sha256_file(path, hex2) == 0);
    CHECK(strcmp(hex, hex2) == 0); /* deterministic */

    snprintf(manifest, sizeof manifest,
             "{\"name\":\"tiny\",\"file\":\"tiny.onnx\",\"sha256\":\"%s\",\"input\":{\"name\":"
             "\"x\",\"shape\":[1,5,5,2]},\"outputs\":[\"out\"]}",
             hex);
    write_text("tiny.json", manifest);
    ip.manifest_dir = dir;
    ip.weights_dir = dir;
    CHECK(aitag_infer_new(&ip, &inf) == 0);
    CHECK(aitag_model_open(inf, "tiny", &m) == 0);
    for (size_t i = 0; i < sizeof xin / sizeof xin[0]; i++)
        xin[i] = (float)(int)(i % 7) * 0.5f - 1.0f;
    in.data = xin;
    in.ndim = 4;
    in.shape[0] = 1;
    in.shape[1] = IN_H;
    in.shape[2] = IN_W;
    in.shape[3] = IN_C;
    in.count = sizeof xin / sizeof xin[0];
    rc = m ? aitag_model_run(m, &in, outs, 2, &n_out, err, sizeof err) : -1;
    CHECK_EQ_INT(rc, 0);
    if (rc == 0) {
        reference(want);
        CHECK_EQ_INT(n_out, 1);
        CHECK_EQ_INT(outs[0].ndim, 4);
        CHECK_EQ_INT(outs[0].count, 2 * 2 * OUT_C);
        for (size_t i = 0; i < outs[0].count && i < 2 * 2 * OUT_C; i++)
            CHECK_NEAR(outs[0].data[i], want[i], 1e-4);
        aitag_tensors_release(outs, n_out);
    } else {
        fprintf(stderr, "run: %s\n", err);
    }
    aitag_infer_free(inf);
}

/* Constant folding (a shape computed from constants), integer FloorDiv/FloorMod on negative
 * numbers (floor semantics, not C's truncation), Cast, ConcatV2 and a shrinking StridedSlice. */
static const char *FOLD_MODEL =
    "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
    "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
    "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"6\"}]}}}},"
    "{\"name\":\"one\",\"op\":\"Const\"},{\"name\":\"three\",\"op\":\"Const\"},"
    "{\"name\":\"two\",\"op\":\"Const\"},{\"name\":\"k\",\"op\":\"Const\"},"
    "{\"name\":\"axis\",\"op\":\"Const\"},{\"name\":\"b\",\"op\":\"Const\"},"
    "{\"name\":\"e\",\"op\":\"Const\"},{\"name\":\"s\",\"op\":\"Const\"},"
    "{\"name\":\"six\",\"op\":\"Mul\",\"input\":[\"three\",\"two\"]},"
    "{\"name\":\"shape\",\"op\":\"Pack\",\"input\":[\"one\",\"six\"],"
    "\"attr\":{\"axis\":{\"i\":\"0\"}}},"
    "{\"name\":\"r\",\"op\":\"Reshape\",\"input\":[\"x\",\"shape\"]},"
    "{\"name\":\"ci\",\"op\":\"Cast\",\"input\":[\"r\"],\"attr\":{\"DstT\":{\"type\":"
    "\"DT_INT32\"}}},"
    "{\"name\":\"fd\",\"op\":\"FloorDiv\",\"input\":[\"ci\",\"k\"]},"
    "{\"name\":\"fm\",\"op\":\"FloorMod\",\"input\":[\"ci\",\"k\"]},"
    "{\"name\":\"cat\",\"op\":\"ConcatV2\",\"input\":[\"fd\",\"fm\",\"axis\"]},"
    "{\"name\":\"out\",\"op\":\"Cast\",\"input\":[\"cat\"],\"attr\":{\"DstT\":{\"type\":"
    "\"DT_FLOAT\"}}},"
    "{\"name\":\"ss\",\"op\":\"StridedSlice\",\"input\":[\"r\",\"b\",\"e\",\"s\"],"
    "\"attr\":{\"shrink_axis_mask\":{\"i\":\"1\"}}}]},"
    "\"weightsManifest\":[{\"paths\":[\"f.bin\"],\"weights\":["
    "{\"name\":\"one\",\"shape\":[],\"dtype\":\"int32\"},"
    "{\"name\":\"three\",\"shape\":[],\"dtype\":\"int32\"},"
    "{\"name\":\"two\",\"shape\":[],\"dtype\":\"int32\"},"
    "{\"name\":\"k\",\"shape\":[],\"dtype\":\"int32\"},"
    "{\"name\":\"axis\",\"shape\":[],\"dtype\":\"int32\"},"
    "{\"name\":\"b\",\"shape\":[2],\"dtype\":\"int32\"},"
    "{\"name\":\"e\",\"shape\":[2],\"dtype\":\"int32\"},"
    "{\"name\":\"s\",\"shape\":[2],\"dtype\":\"int32\"}]}]}";

static void test_fold(void)
{
    static const int32_t w[] = {1, 3, 2, 4, -1, 0, 1, 0, 4, 1, 2};
    static const float want_cat[12] = {-2, -1, -1, 0, 1, 2, 1, 0, 3, 0, 1, 1};
    struct aitag_convert_stats st;
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_model *m = NULL;
    float x[6] = {-7, -4, -1, 0, 5, 9};
    struct aitag_tensor in = {x, {6}, 1, 6}, outs[4];
    size_t n_out = 0;
    char err[512], path[512], hex[65], manifest[512];
    FILE *f;
    int rc;

    write_text("fold.json", FOLD_MODEL);
    snprintf(path, sizeof path, "%s/f.bin", dir);
    f = fopen(path, "wb");
    CHECK(f && fwrite(w, sizeof w, 1, f) == 1);
    if (f)
        fclose(f);
    rc = convert("fold.json", "fold.onnx", &st, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ_INT(st.folded, 2); /* six = 3 * 2, shape = Pack(1, six) */
    snprintf(path, sizeof path, "%s/fold.onnx", dir);
    CHECK(aitag_sha256_file(path, hex) == 0);
    snprintf(manifest, sizeof manifest,
             "{\"name\":\"foldm\",\"file\":\"fold.onnx\",\"sha256\":\"%s\",\"input\":{"
             "\"name\":\"x\",\"shape\":[6]}}",
             hex);
    write_text("foldm.json", manifest);
    ip.manifest_dir = dir;
    ip.weights_dir = dir;
    CHECK(aitag_infer_new(&ip, &inf) == 0);
    CHECK(aitag_model_open(inf, "foldm", &m) == 0);
    rc = m ? aitag_model_run(m, &in, outs, 4, &n_out, err, sizeof err) : -1;
    CHECK_EQ_INT(rc, 0);
    if (rc == 0) {
        int io = aitag_model_output_index(m, "out"), is = aitag_model_output_index(m, "ss");
        CHECK(io >= 0 && is >= 0);
        if (io >= 0 && is >= 0) {
            CHECK_EQ_INT(outs[io].count, 12);
            for (size_t i = 0; i < 12 && i < outs[io].count; i++)
                CHECK_NEAR(outs[io].data[i], want_cat[i], 0);
            CHECK_EQ_INT(outs[is].ndim, 1); /* r[0, 1:4:2], axis 0 shrunk */
            CHECK_EQ_INT(outs[is].count, 2);
            if (outs[is].count == 2)
                CHECK(outs[is].data[0] == -4 && outs[is].data[1] == 0);
        }
        aitag_tensors_release(outs, n_out);
    } else {
        fprintf(stderr, "run: %s\n", err);
    }
    aitag_infer_free(inf);
}

static void test_errors(void)
{
    char err[512], *model;
    const char *from = "\"op\":\"DepthwiseConv2dNative\"";
    char *at;

    /* an unknown op names itself and its node */
    model = strdup(MODEL);
    at = strstr(model, from);
    memcpy(at, "\"op\":\"FancyOp2dNative\"      ", strlen(from));
    write_text("bad.json", model);
    write_weights(0);
    CHECK_EQ_INT(convert("bad.json", "bad.onnx", NULL, err, sizeof err), AITAG_ERR_MODEL);
    CHECK(strstr(err, "FancyOp2dNative") && strstr(err, "\"dw\""));
    printf("unknown op: %s\n", err);
    free(model);

    CHECK_EQ_INT(convert("no-such.json", "x.onnx", NULL, err, sizeof err), AITAG_ERR_IO);
    write_weights(20); /* shards shorter than the manifest */
    write_text("short.json", MODEL);
    CHECK_EQ_INT(convert("short.json", "x.onnx", NULL, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "shards end inside weight") != NULL);
    printf("short shard: %s\n", err);

    write_text("noshard.json",
               "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":[]},"
               "\"weightsManifest\":[{\"paths\":[\"missing.bin\"],\"weights\":[]}]}");
    CHECK_EQ_INT(convert("noshard.json", "x.onnx", NULL, err, sizeof err), AITAG_ERR_IO);
    CHECK(strstr(err, "missing.bin") != NULL);

    write_text("broken.json", "{\"format\": \"graph-model\", ");
    CHECK_EQ_INT(convert("broken.json", "x.onnx", NULL, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "line 1") != NULL);
    write_text("layers.json", "{\"format\":\"layers-model\",\"modelTopology\":{}}");
    CHECK_EQ_INT(convert("layers.json", "x.onnx", NULL, err, sizeof err), AITAG_ERR_MODEL);
    CHECK(strstr(err, "layers") != NULL);
    snprintf(err, sizeof err, "%s/x.onnx", dir);
    CHECK(access(err, F_OK) != 0); /* failures leave no output behind */

    /* window numbers out of range are refused before any arithmetic on them (a stride of 0
     * divided, one near INT64_MAX overflowed: found by fuzz_tfjs_model) */
    static const char *const strides[] = {"\"1\",\"0\",\"2\",\"1\"",
                                          "\"1\",\"9223372036854775807\",\"2\",\"1\""};
    for (size_t i = 0; i < sizeof strides / sizeof *strides; i++) {
        const char *keep = "\"1\",\"2\",\"2\",\"1\"";
        size_t len = strlen(MODEL) + strlen(strides[i]);
        char *m = malloc(len);

        CHECK(m != NULL);
        if (!m)
            break;
        at = strstr(MODEL, keep);
        snprintf(m, len, "%.*s%s%s", (int)(at - MODEL), MODEL, strides[i], at + strlen(keep));
        write_text("stride.json", m);
        write_weights(0);
        CHECK_EQ_INT(convert("stride.json", "x.onnx", NULL, err, sizeof err), AITAG_ERR_MODEL);
        CHECK(strstr(err, "stride") && strstr(err, "\"conv\""));
        printf("bad stride: %s\n", err);
        free(m);
    }
}

int main(void)
{
    char cmd[512];

    snprintf(dir, sizeof dir, "/tmp/aitag_convert_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_numbers();
    test_fold();
    test_errors();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
