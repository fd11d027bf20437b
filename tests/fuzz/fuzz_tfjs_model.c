/* fuzz_tfjs_model.c - libFuzzer target for a TensorFlow.js graph model as `aitag models
 * convert` reads it (files a user downloads): model.json, a NUL byte, then the bytes of its
 * one weight shard "w.bin". Any model converts or fails with a message naming the file; the
 * whole converter runs (node parsing, weight decoding, every op's conversion and folding, the
 * ONNX writer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/convert.h"

static char dir[64];

static void cleanup(void)
{
    char path[128];

    snprintf(path, sizeof path, "%s/model.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/w.bin", dir);
    unlink(path);
    rmdir(dir);
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -1;
    ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_convert_params p = aitag_convert_default_params();
    const uint8_t *nul = memchr(data, '\0', size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    char model[128], shard[128], out[128], err[1024] = "";

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/aitag-fuzz-tfjs-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(cleanup);
    }
    snprintf(model, sizeof model, "%s/model.json", dir);
    snprintf(shard, sizeof shard, "%s/w.bin", dir);
    snprintf(out, sizeof out, "%s/out.onnx", dir);
    if (write_file(model, data, jlen) < 0 ||
        write_file(shard, nul ? nul + 1 : data, nul ? size - jlen - 1 : 0) < 0)
        return 0;
    p.model_json = model;
    p.output = out;
    if (aitag_convert_tfjs(&p, NULL, err, sizeof err) < 0 && !strstr(err, model))
        abort(); /* a failure names the file */
    unlink(out);
    return 0;
}
