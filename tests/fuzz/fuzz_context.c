/* fuzz_context.c - libFuzzer target for the user-edited context rules file: any bytes must
 * load or fail with a message naming the file, and loaded rules must apply to an item's
 * evidence (three frames, two shots: every scope) without crashing, and their trace must
 * point inside the evidence it speaks of (a sense's, at a sense rule). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/context.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const labels[] = {"face", "person", "cat", "cake", "car", "text"};
    struct aitag_evidence ev[12];
    struct aitag_shot shots[2] = {{0, 3, 0, 1}, {3, 6, 1, 0.8f}};
    struct aitag_context *c = NULL;
    struct aitag_context_out out;
    char *text = malloc(size + 1), err[512] = "";

    if (!text || aitag_context_new(&c) < 0)
        goto out;
    memcpy(text, data, size);
    text[size] = '\0';
    if (aitag_context_load_text(c, text, "fuzz.json", err, sizeof err) < 0) {
        if (strncmp(err, "fuzz.json: ", 11) != 0)
            abort(); /* every message names the file */
        goto out;
    }
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 12; i++) {
        ev[i].analyzer = (char *)(i % 2 ? "objects" : "faces");
        ev[i].label = (char *)labels[(i * 7) % 6];
        ev[i].confidence = 0.2f + 0.06f * (float)i;
        ev[i].t = (double)(i / 4) * 2.0;
        ev[i].has_box = i % 3 != 0;
        ev[i].box = (struct aitag_box){0.05f * (float)i, 0.1f, 0.3f, 0.4f};
    }
    if (aitag_context_apply(c, ev, 12, shots, 2, &out) == 0) {
        for (size_t w = 0; w < out.n_why; w++) {
            const struct aitag_context_why *y = &out.why[w];
            size_t bound = y->suppressed || y->read_as ? 12 : out.n;
            if (y->index >= bound || y->rule >= aitag_context_size(c) ||
                (y->read_as && !aitag_context_rule_as(c, y->rule)))
                abort();
            for (size_t k = 0; k < y->n_inputs; k++)
                if (y->inputs[k] >= bound)
                    abort();
        }
        aitag_context_out_clear(&out);
    }
out:
    aitag_context_free(c);
    free(text);
    return 0;
}
