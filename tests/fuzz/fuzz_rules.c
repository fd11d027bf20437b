/* fuzz_rules.c - libFuzzer target for the user-edited rules file: any bytes must load or fail
 * with a message, and a loaded policy must derive without crashing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "aitag/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/aitag-fuzz-rules-XXXXXX", err[512];
    struct aitag_policy *p = NULL;
    struct aitag_result r = {0};
    struct aitag_evidence e = {0};
    struct aitag_sampling s = {"faces", 2.0, 10};
    int fd = mkstemp(path);

    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    if (aitag_policy_new(&p) == 0 && aitag_policy_load(p, path, err, sizeof err) == 0) {
        struct aitag_derive_input in = {0, 20.0, &e, 1, &s, 1, NULL, 0, NULL, 0};
        e.analyzer = "faces";
        e.label = "face";
        e.confidence = 0.9f;
        aitag_policy_derive(p, &in, &r);
        aitag_result_clear(&r);
    }
    aitag_policy_free(p);
    unlink(path);
    return 0;
}
