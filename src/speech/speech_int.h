/*
 * speech_int.h - what the files of the speech library share: the streaming VAD and the
 * recognizer interface its engines implement.
 */
#ifndef AITAG_SPEECH_INT_H
#define AITAG_SPEECH_INT_H

#include "aitag/speech.h"

/* ---- vad.c: Silero VAD over a stream of 16 kHz samples ---- */

struct vad {
    struct aitag_model *model;
    int window, context;  /* samples per window, samples of the window before prepended */
    float state[2 * 128]; /* the model's recurrent state (2 x batch 1 x 128) */
    float *input;         /* context + window */
    int16_t *pending;     /* samples not yet a whole window */
    int n_pending;
    int64_t done; /* samples consumed in whole windows */
    /* segment state machine, in samples */
    int triggered;
    int64_t start, temp_end;
    double prob_sum; /* over the open span's windows */
    int prob_n;
    float threshold, neg_threshold;
    int64_t min_speech, min_silence, max_segment;
};

/* Opens the silero-vad model on inf and sets the thresholds from p. */
int vad_init(struct vad *v, struct aitag_infer *inf, const struct aitag_speech_params *p, char *err,
             size_t errlen);
void vad_reset(struct vad *v);
void vad_free(struct vad *v);
/* A closed span of speech, in samples. */
struct vad_span {
    int64_t start, end;
    float mean_prob;
};
/* Feeds n samples; calls on_span for each span that closes. At end (samples NULL), closes the
 * open one. Returns 0 or < 0 (a model error with err, or what on_span returned). */
int vad_feed(struct vad *v, const int16_t *samples, size_t n,
             int (*on_span)(const struct vad_span *sp, void *ctx), void *ctx, char *err,
             size_t errlen);

/* ---- recognizers: one segment of 16 kHz samples to words ---- */

struct recognizer {
    void *impl;
    const char *name; /* "pocketsphinx", "remote" */
    /* Loads what the first run would (may be NULL). */
    int (*prepare)(void *impl, char *err, size_t errlen);
    /* Recognises samples[0..n) that begin at t0 seconds into seg's words, text and
     * confidence (seg->start/end are set by the caller); lang receives the language code. */
    int (*run)(void *impl, const int16_t *samples, size_t n, double t0,
               struct aitag_speech_segment *seg, char *lang, size_t lang_len, char *err,
               size_t errlen);
    void (*free)(void *impl);
};

int asr_sphinx_new(const struct aitag_speech_params *p, struct recognizer *r, char *err,
                   size_t errlen);
int asr_remote_new(const struct aitag_speech_params *p, struct recognizer *out, char *err,
                   size_t errlen);

/* remote_asr.c: reads a transcription server's answer (body, len bytes of verbose_json) for
 * the dur seconds of audio that begin at t0 into seg's words, and its language code into lang
 * (hint when it names none). 0, AITAG_ERR_INVALID when the answer is not a transcription, or
 * AITAG_ERR_NOMEM. Words already added stay in seg on failure (the caller clears it). */
int asr_remote_answer(const char *body, size_t len, double t0, double dur, const char *hint,
                      struct aitag_speech_segment *seg, char *lang, size_t lang_len);

/* Sets seg's text (the words joined by spaces) and its mean confidence from its words. */
int speech_segment_text(struct aitag_speech_segment *seg);
/* Appends a word to seg. 0 or AITAG_ERR_NOMEM. */
int speech_segment_add_word(struct aitag_speech_segment *seg, const char *word, double start,
                            double end, float confidence);

/* Frees seg's words and text and zeroes it. */
void speech_segment_clear(struct aitag_speech_segment *seg);

/* ---- wav.c ---- */

/* A 16-bit mono PCM WAV file of samples[0..n) at rate, in *out (free()), *len bytes. */
int speech_wav(const int16_t *samples, size_t n, int rate, uint8_t **out, size_t *len);

#endif
