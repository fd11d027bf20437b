/*
 * embedding_answer.c - the vector an OpenAI-compatible /v1/embeddings answer gives for a
 * search's words (`aitag search --embed-url`).
 *
 * The answer comes from a server on the network, so it is read strictly: data[0].embedding
 * must be an array of 1 .. AITAG_EMBEDDING_MAX finite numbers. A value that is not a number
 * (jansson reads it as 0), NaN or infinity would rank every item by garbage; such an answer is
 * refused with a message saying what is wrong, and the search goes on without embeddings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "aitag/concepts.h"

int aitag_concepts_embedding_answer(const char *body, size_t len, double **v, int *n, char *err,
                                    size_t errlen)
{
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *emb = json_object_get(json_array_get(json_object_get(root, "data"), 0), "embedding");
    size_t k = json_array_size(emb);
    int rc = AITAG_ERR_INVALID;

    *v = NULL, *n = 0;
    if (!json_is_array(emb) || k == 0) {
        snprintf(err, errlen, "no data[0].embedding in the answer");
        goto out;
    }
    if (k > AITAG_EMBEDDING_MAX) {
        snprintf(err, errlen, "an embedding of %zu values (at most %d)", k, AITAG_EMBEDDING_MAX);
        goto out;
    }
    if (!(*v = malloc(k * sizeof **v))) {
        snprintf(err, errlen, "out of memory");
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        json_t *x = json_array_get(emb, i);
        if (!json_is_number(x) || !isfinite(json_number_value(x))) {
            snprintf(err, errlen, "data[0].embedding[%zu] is not a finite number", i);
            free(*v);
            *v = NULL;
            goto out;
        }
        (*v)[i] = json_number_value(x);
    }
    *n = (int)k;
    rc = 0;
out:
    json_decref(root);
    return rc;
}
