/* fuzz_asr_answer.c - libFuzzer target for a transcription server's answer (verbose_json from
 * an OpenAI-compatible /v1/audio/transcriptions, another machine's bytes): "words" with times,
 * else "segments", else "text". Any answer is read into words or refused as not a
 * transcription; words are non-empty, carry no surrounding blanks, and have confidences in
 * 0..1; the language code is a short lower-case text. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "speech/speech_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_speech_segment seg;
    char lang[16] = "", *body;
    int rc;

    body = malloc(size ? size : 1); /* exact size: ASan catches a read past the body */
    if (!body)
        return 0;
    memcpy(body, data, size);
    memset(&seg, 0, sizeof seg);
    rc = asr_remote_answer(body, size, 12.5, 3.0, "en", &seg, lang, sizeof lang);
    if (rc == 0) {
        for (int i = 0; i < seg.n_words; i++) {
            const struct aitag_word *w = &seg.words[i];
            if (!w->word || !w->word[0] || isspace((unsigned char)w->word[0]) ||
                !(w->confidence >= 0 && w->confidence <= 1))
                abort();
        }
        if (!lang[0] || strlen(lang) >= sizeof lang)
            abort();
        if (speech_segment_text(&seg) < 0)
            abort();
    } else if (rc != AITAG_ERR_INVALID && rc != AITAG_ERR_NOMEM) {
        abort();
    }
    speech_segment_clear(&seg);
    free(body);
    return 0;
}
