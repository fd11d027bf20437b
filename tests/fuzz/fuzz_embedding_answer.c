/* fuzz_embedding_answer.c - libFuzzer target for an OpenAI-compatible /v1/embeddings answer
 * (`aitag search --embed-url`, another machine's bytes): a vector of 1 .. AITAG_EMBEDDING_MAX
 * finite numbers comes out, or the answer is refused with a message and nothing. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/concepts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "", *body = malloc(size ? size : 1);
    double *v = NULL;
    int n = 0, rc;

    if (!body)
        return 0;
    memcpy(body, data, size); /* exact size: ASan catches a read past the body */
    rc = aitag_concepts_embedding_answer(body, size, &v, &n, err, sizeof err);
    if (rc == 0) {
        if (!v || n < 1 || n > AITAG_EMBEDDING_MAX)
            abort();
        for (int i = 0; i < n; i++)
            if (!isfinite(v[i]))
                abort();
    } else if ((rc != AITAG_ERR_INVALID && rc != AITAG_ERR_NOMEM) || v || n || !err[0]) {
        abort();
    }
    free(v);
    free(body);
    return 0;
}
