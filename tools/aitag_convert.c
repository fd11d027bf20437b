/*
 * aitag_convert.c - `aitag-convert`: converts a TensorFlow.js graph model to ONNX (opset 13).
 * scripts/setup.sh runs it once per shipped model; it is also handy on its own:
 *
 *     aitag-convert [--weights-dir DIR] [--quiet] model.json out.onnx
 *
 * Prints one line of statistics and the output's sha256 on success; on failure the converter's
 * message (naming the node and op) and exit status 1.
 */
#include <stdio.h>
#include <string.h>

#include "aitag/common.h"
#include "aitag/convert.h"

static int usage(void)
{
    fprintf(stderr, "usage: aitag-convert [--weights-dir DIR] [--quiet] model.json out.onnx\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct aitag_convert_params p = aitag_convert_default_params();
    struct aitag_convert_stats st;
    const char *pos[2] = {NULL, NULL};
    int n_pos = 0, quiet = 0;
    char err[1024], hex[65];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--weights-dir") == 0 && i + 1 < argc)
            p.weights_dir = argv[++i];
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage();
        else if (argv[i][0] == '-' || n_pos == 2)
            return usage();
        else
            pos[n_pos++] = argv[i];
    }
    if (n_pos != 2)
        return usage();
    p.model_json = pos[0];
    p.output = pos[1];
    if (aitag_convert_tfjs(&p, &st, err, sizeof err) < 0) {
        fprintf(stderr, "aitag-convert: %s\n", err);
        return 1;
    }
    if (!quiet) {
        if (aitag_sha256_file(p.output, hex) < 0)
            hex[0] = '\0';
        printf("%s: %zu TF nodes (%zu folded) -> %zu ONNX nodes, %zu initialisers, %zu bytes, "
               "sha256 %s\n",
               p.output, st.tf_nodes, st.folded, st.onnx_nodes, st.initializers, st.bytes, hex);
    }
    return 0;
}
