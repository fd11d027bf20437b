/* fuzz_vlm_answer.c - libFuzzer target for what a vision-language model answers (network
 * bytes): any content must parse into vocabulary tags or fail with a message, never crash,
 * and every tag kept must be a vocabulary entry with a confidence in 0..1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzers/vlm_int.h"

static struct vlm_vocab vocab;

static void load_vocab(void)
{
    char path[] = "/tmp/aitag-fuzz-vocab-XXXXXX", err[256];
    static const char text[] = "Person\nHorse\nRed Car\nbeach\n# comment\n";
    int fd = mkstemp(path);

    if (fd < 0 || write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1) ||
        vlm_vocab_load(path, &vocab, err, sizeof err) < 0)
        abort();
    close(fd);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vlm_answer a;
    char err[256], *content;

    if (!vocab.n)
        load_vocab();
    content = malloc(size + 1);
    if (!content)
        return 0;
    memcpy(content, data, size);
    content[size] = '\0';
    if (vlm_answer_parse(content, &vocab, &a, err, sizeof err) == 0) {
        for (size_t i = 0; i < a.n_tags; i++) {
            int found = 0;
            for (size_t k = 0; k < vocab.n; k++)
                found |= a.tags[i].name == vocab.tags[k];
            if (!found || !(a.tags[i].confidence >= 0 && a.tags[i].confidence <= 1))
                abort();
        }
    }
    vlm_answer_free(&a);
    free(content);
    return 0;
}
