/* fuzz_remote_answer.c - libFuzzer target for a gateway's answer to POST /v1/tag as the
 * remote client reads it (network bytes from another machine): an optional "NNN\n" status
 * line, then the body. Any answer is read into evidence or refused with a message, never
 * crashes; what is accepted is only for the analyzers asked, with the values the tagger
 * relies on (confidence 0..1, t >= 0, a float box, a bounded frame count). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote/remote_int.h"

static const char *const analyzers[] = {"faces", "objects"};
static const char *const keys[] = {"faces:k1", "objects:k2"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_remote_result out;
    long status = 200;
    char err[512] = "", *body;
    size_t n;
    int rc;

    if (size >= 4 && data[3] == '\n' && data[0] >= '1' && data[0] <= '5' && data[1] >= '0' &&
        data[1] <= '9' && data[2] >= '0' && data[2] <= '9') {
        status = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
        data += 4;
        size -= 4;
    }
    body = malloc(size ? size : 1); /* exact size: ASan catches a read past the body */
    if (!body)
        return 0;
    memcpy(body, data, size);
    for (n = 1; n <= 2; n++) {
        rc = remote_answer_parse(status, body, size, "http://gw", analyzers, keys, n, 2.0, &out,
                                 err, sizeof err);
        if (rc < 0) {
            if (!err[0] || out.evidence.n != 0)
                abort(); /* refused: says why, keeps nothing */
            continue;
        }
        if (status != 200 || out.n_frames < 0 || out.n_frames > AITAG_REMOTE_MAX_FRAMES)
            abort();
        for (size_t i = 0; i < out.evidence.n; i++) {
            const struct aitag_evidence *e = &out.evidence.items[i];
            int asked = 0;
            for (size_t k = 0; k < n; k++)
                asked |= strcmp(e->analyzer, analyzers[k]) == 0;
            if (!asked || !(e->confidence >= 0 && e->confidence <= 1) || !(e->t >= 0) ||
                !isfinite(e->t) ||
                (e->has_box && !(isfinite(e->box.x) && isfinite(e->box.y) && isfinite(e->box.w) &&
                                 isfinite(e->box.h))))
                abort();
        }
        aitag_evidence_list_clear(&out.evidence);
    }
    free(body);
    return 0;
}
