/* remote_int.h - internals shared by the remote client's files (client.c, answer.c). */
#ifndef AITAG_REMOTE_INT_H
#define AITAG_REMOTE_INT_H

#include <jansson.h>
#include <stddef.h>

#include "aitag/remote.h"

/* answer.c: the OpenAI-shaped error code of an answer ("error": {"code": ...}), or "".
 * Borrowed from answer. */
const char *remote_error_code(json_t *answer);

/* answer.c: a gateway's answer to POST /v1/tag, as the client received it (HTTP status and
 * len body bytes, not NUL-terminated), read into *out for the n analyzers asked (see
 * aitag_remote_evidence_parse). < 0 with err naming url, the status and the gateway's error
 * message for a non-200 answer, a body that is not a JSON object, or unusable evidence.
 * Pure: untrusted bytes, never asserts. */
int remote_answer_parse(long status, const char *body, size_t len, const char *url,
                        const char *const *analyzers, const char *const *keys, size_t n,
                        double interval, struct aitag_remote_result *out, char *err, size_t errlen);

#endif
