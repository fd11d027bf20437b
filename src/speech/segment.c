/*
 * segment.c - the words of a spoken segment, its text and confidence, and clearing a
 * transcript.
 */
#include <stdlib.h>
#include <string.h>

#include "speech_int.h"

int speech_segment_add_word(struct aitag_speech_segment *seg, const char *word, double start,
                            double end, float confidence)
{
    struct aitag_word *grown = realloc(seg->words, (size_t)(seg->n_words + 1) * sizeof *grown);
    char *w = strdup(word);

    if (!grown || !w) {
        if (grown)
            seg->words = grown;
        free(w);
        return AITAG_ERR_NOMEM;
    }
    seg->words = grown;
    seg->words[seg->n_words++] = (struct aitag_word){w, (float)start, (float)end, confidence};
    /* cppcheck-suppress memleak ; stored by the compound literal above (cppcheck misses it) */
    return 0;
}

int speech_segment_text(struct aitag_speech_segment *seg)
{
    size_t len = 1;
    double sum = 0;
    char *t;

    for (int i = 0; i < seg->n_words; i++)
        len += strlen(seg->words[i].word) + 1;
    t = malloc(len);
    if (!t)
        return AITAG_ERR_NOMEM;
    t[0] = '\0';
    for (int i = 0, at = 0; i < seg->n_words; i++) {
        size_t k = strlen(seg->words[i].word);
        if (at)
            t[at++] = ' ';
        memcpy(t + at, seg->words[i].word, k + 1);
        at += (int)k;
        sum += seg->words[i].confidence;
    }
    free(seg->text);
    seg->text = t;
    seg->confidence = seg->n_words ? (float)(sum / seg->n_words) : 0;
    return 0;
}

void speech_segment_clear(struct aitag_speech_segment *s)
{
    for (int k = 0; k < s->n_words; k++)
        free(s->words[k].word);
    free(s->words);
    free(s->text);
    memset(s, 0, sizeof *s);
}

void aitag_transcript_clear(struct aitag_transcript *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        speech_segment_clear(&t->segs[i]);
    free(t->segs);
    memset(t, 0, sizeof *t);
}
