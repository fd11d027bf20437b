/* fuzz_manifest.c - libFuzzer target for model manifests (users drop their own): any bytes
 * must open or fail with a message naming the file; no model is ever loaded here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "aitag/infer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_model *m;
    char path[128];
    FILE *f;

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/aitag-fuzz-manifest-XXXXXX");
        if (!mkdtemp(dir))
            return 0;
    }
    snprintf(path, sizeof path, "%s/fz.json", dir);
    f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ip.manifest_dir = dir;
    ip.weights_dir = dir;
    if (aitag_infer_new(&ip, &inf) == 0) {
        if (aitag_model_open(inf, "fz", &m) == 0) {
            size_t n;
            int nd;
            aitag_model_labels(m, &n);
            aitag_model_input_shape(m, &nd);
            aitag_model_key(m);
        } else if (!aitag_infer_errmsg(inf)[0]) {
            __builtin_trap(); /* a failure must say why */
        }
    }
    aitag_infer_free(inf);
    return 0;
}
