/* fuzz_vlm_chat.c - libFuzzer target for the chat completion a vision-language service sends
 * back (another machine's bytes) around the model's content: choices[0].message.content is
 * taken out or the answer refused with a message, and the content taken goes on to the
 * answer parser (fuzz_vlm_answer) as the analyzer does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/vlm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vlm_vocab none = {0};
    struct vlm_answer a;
    char err[256] = "", *content = NULL, *body = malloc(size ? size : 1);
    int rc;

    if (!body)
        return 0;
    memcpy(body, data, size); /* exact size: ASan catches a read past the body */
    rc = vlm_chat_content(body, size, &content, err, sizeof err);
    if (rc == 0) {
        if (!content)
            abort();
        memset(&a, 0, sizeof a);
        rc = vlm_answer_parse(content, &none, &a, err, sizeof err);
        if (rc < 0 && rc != AITAG_ERR_INVALID && rc != AITAG_ERR_NOMEM)
            abort();
        vlm_answer_free(&a);
    } else if ((rc != AITAG_ERR_INVALID && rc != AITAG_ERR_NOMEM) || content || !err[0]) {
        abort();
    }
    free(content);
    free(body);
    return 0;
}
