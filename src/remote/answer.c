/*
 * answer.c - reading a gateway's answer to POST /v1/tag: the HTTP status and the body bytes
 * into evidence for the tagger, or one message saying what went wrong.
 *
 * Apart from client.c so that what comes off the network is read by a pure function (the unit
 * tests and the fuzz target give it bytes; no transfer is needed). Errors are OpenAI-shaped
 * ({"error": {"code", "message"}}) or, for an item the gateway could not tag, the item object
 * with "errors": [{"message"}]; a 413 gets advice, since only the user can act on it. The
 * evidence object itself is read by aitag_remote_evidence_parse (wire.c).
 */
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "remote_int.h"

const char *remote_error_code(json_t *answer)
{
    const char *code = json_string_value(json_object_get(json_object_get(answer, "error"), "code"));
    return code ? code : "";
}

static const char *error_message(json_t *answer)
{
    json_t *e = json_object_get(answer, "error");
    const char *m = json_string_value(json_object_get(e, "message"));

    if (!m) /* an item object: errors[0].message */
        m = json_string_value(
            json_object_get(json_array_get(json_object_get(answer, "errors"), 0), "message"));
    return m ? m : "";
}

int remote_answer_parse(long status, const char *body, size_t len, const char *url,
                        const char *const *analyzers, const char *const *keys, size_t n,
                        double interval, struct aitag_remote_result *out, char *err, size_t errlen)
{
    json_t *answer = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
    char why[512] = "";
    int rc;

    memset(out, 0, sizeof *out);
    if (status == 413) {
        aitag_fmt(err, errlen,
                  "gateway %s: HTTP 413: the file is larger than the gateway accepts "
                  "(its max_body_bytes); tag it locally or raise the limit",
                  url);
        rc = AITAG_ERR_IO;
        goto out;
    }
    if (status != 200 || !json_is_object(answer)) {
        const char *code = remote_error_code(answer), *msg = error_message(answer);
        if (status == 200)
            msg = "the answer is not a JSON object";
        aitag_fmt(err, errlen, "gateway %s: HTTP %ld%s%s%s%s", url, status, *code ? " " : "", code,
                  *msg ? ": " : "", msg);
        rc = AITAG_ERR_IO;
        goto out;
    }
    rc = aitag_remote_evidence_parse(json_object_get(answer, "evidence"), analyzers, keys, n,
                                     interval, out, why, sizeof why);
    if (rc < 0)
        aitag_fmt(err, errlen, "gateway %s: %s", url, why);
out:
    json_decref(answer);
    return rc;
}
