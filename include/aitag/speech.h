/*
 * aitag/speech.h - what is said in a file: voice activity, speech to text with word times,
 * and keywords (docs/speech.md).
 *
 * A file's audio track is read as 16 kHz mono samples (aitag_audio_pcm) and streamed through
 * Silero VAD (the silero-vad model, aitag/infer.h), which cuts it into spoken segments; each
 * segment goes to the recognizer as it closes, so memory holds one segment, never the track:
 *   - "pocketsphinx": CMU PocketSphinx from Debian with its US English model, on this machine;
 *   - "remote": an OpenAI-compatible POST /v1/audio/transcriptions (an aitag gateway route to
 *     a Whisper-class server, or such a server itself): the segment is sent as a WAV file and
 *     the answer's words and language are read back.
 * Keywords come from the transcript: the user's vocabulary found in it, then the words said
 * most often that are not stopwords.
 *
 * Usage:
 *     struct aitag_speech_params sp = aitag_speech_default_params();
 *     struct aitag_speech *s;
 *     if (aitag_speech_new(inf, &sp, &s, err, sizeof err) < 0) die(err);
 *     struct aitag_transcript tr = {0};
 *     if (aitag_speech_file(s, "talk.mp4", NULL, &tr, err, sizeof err) < 0) ...;
 *     for (size_t i = 0; i < tr.n; i++) printf("%.2f %s\n", tr.segs[i].start, tr.segs[i].text);
 *     aitag_transcript_clear(&tr);
 *     aitag_speech_free(s);
 *
 * Thread-safety: a speech handle belongs to one thread at a time.
 */
#ifndef AITAG_SPEECH_H
#define AITAG_SPEECH_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/common.h"
#include "aitag/evidence.h"
#include "aitag/infer.h"

#define AITAG_SPEECH_RATE 16000 /* samples per second the VAD and recognizers take */

struct aitag_speech_params {
    const char *engine; /* "pocketsphinx" (default) or "remote" */
    const char
        *sphinx_dir;   /* PocketSphinx model folder; default /usr/share/pocketsphinx/model/en-us */
    int accurate;      /* pocketsphinx: its own (slower) search settings instead of the fast ones */
    const char *url;   /* remote: the server's base URL (".../v1/audio/transcriptions" added) */
    const char *model; /* remote: the model name sent; default "whisper-1" */
    const char *key;   /* remote: bearer key, or NULL */
    const char *language; /* remote: ISO 639-1 hint, or NULL to let the server detect it */
    int local_only;       /* remote: send X-Aitag-Local-Only (a gateway keeps media local) */
    long timeout_ms;      /* remote: per request; default 120000 */
    /* VAD (Silero): a window is speech at >= threshold, stays speech until < neg_threshold */
    float threshold, neg_threshold;
    double min_speech;  /* seconds: shorter segments are dropped; default 0.25 */
    double min_silence; /* seconds of non-speech that end a segment; default 0.3 */
    double pad;         /* seconds added before and after a segment; default 0.1 */
    double max_segment; /* seconds: a longer segment is cut; default 30 */
};

struct aitag_speech_params aitag_speech_default_params(void);

/* One spoken segment: the VAD's span, with what was recognised in it. */
struct aitag_speech_segment {
    double start, end;        /* seconds from the first audio sample */
    char *text;               /* owned: the words, space-separated; "" when none were recognised */
    float confidence;         /* mean word confidence, 0..1 (0 without words) */
    float vad;                /* the VAD's mean speech probability over the span, 0..1 */
    struct aitag_word *words; /* owned */
    int n_words;
};

struct aitag_transcript {
    struct aitag_speech_segment *segs;
    size_t n, cap;
    int has_audio;         /* 0: the file has no audio track (no segments) */
    double audio_seconds;  /* of audio read */
    double speech_seconds; /* in segments */
    char lang[16];         /* ISO 639-1 of the speech ("en"); "" when nothing was said */
};

struct aitag_speech;

/* Checks the engine's settings and opens the VAD model on inf (borrowed; must outlive s). The
 * recognizer loads on first use. Returns 0, AITAG_ERR_INVALID (bad setting, named) or
 * AITAG_ERR_NOTFOUND (a model missing) with err. */
int aitag_speech_new(struct aitag_infer *inf, const struct aitag_speech_params *p,
                     struct aitag_speech **out, char *err, size_t errlen);
void aitag_speech_free(struct aitag_speech *s);
/* Loads the models now (the VAD and the local recognizer), instead of on the first file:
 * PocketSphinx's language model takes about a second. Returns 0 or < 0 with err. */
int aitag_speech_load(struct aitag_speech *s, char *err, size_t errlen);
/* Identity of the models and settings, for analysis keys. Borrowed, valid while s lives. */
const char *aitag_speech_key(struct aitag_speech *s);

/* Transcribes path into out (which must be empty): its spoken segments in time order, within
 * lim (NULL: the defaults; aitag/media.h: the recognition's time counts against its time and
 * CPU limits). Returns 0 (a file without audio gives has_audio = 0), or < 0 with err naming
 * the file (a media error, a limit met), the model, or the server (url and HTTP status); out
 * then holds nothing. */
struct aitag_audio_limits;
int aitag_speech_file(struct aitag_speech *s, const char *path,
                      const struct aitag_audio_limits *lim, struct aitag_transcript *out, char *err,
                      size_t errlen);
void aitag_transcript_clear(struct aitag_transcript *t);

/* Voice activity alone: the spoken spans of samples[0..n) (16 kHz mono) as [start, end)
 * seconds pairs in *spans (free() it), *n_spans of them. Returns 0 or < 0 with err. */
int aitag_speech_vad(struct aitag_speech *s, const int16_t *samples, size_t n, double **spans,
                     size_t *n_spans, char *err, size_t errlen);

/* A keyword of a transcript: a word said, how often, and when first. */
struct aitag_keyword {
    char word[48];
    int count;
    double first;     /* seconds */
    float confidence; /* the best confidence it was heard with */
    int from_vocabulary;
};

/* Up to max keywords of t into out[]: every word of vocab[0..n_vocab) said (case-insensitive,
 * also as a plural ending in s), then the words said at least min_count times that are not
 * stopwords and have at least 4 letters, most frequent first (then earliest). Returns how many. */
size_t aitag_speech_keywords(const struct aitag_transcript *t, const char *const *vocab,
                             size_t n_vocab, int min_count, struct aitag_keyword *out, size_t max);
/* 1 when w (lower case) is an English stopword. */
int aitag_speech_is_stopword(const char *w);

/* Word error rate of hyp against ref (both free text; compared as lower-case words without
 * punctuation): (substitutions + deletions + insertions) / words of ref, with those counts in
 * *sub, *del, *ins when not NULL. Returns -1 for an empty ref. */
double aitag_speech_wer(const char *ref, const char *hyp, int *sub, int *del, int *ins);

#endif
