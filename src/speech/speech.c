/*
 * speech.c - a file's audio to its transcript: the samples stream through the VAD, and each
 * spoken span goes to the recognizer as soon as it closes.
 *
 * Samples arrive in chunks (aitag_audio_pcm) and are kept only as far back as a span may need
 * them: while nobody speaks, the last `pad` seconds (a span is padded before its start); while
 * a span is open, everything since its start minus the pad. A closed span is recognised with
 * `pad` of audio either side (the VAD closes it min_silence after its end, which is more than
 * the pad, so the tail is there), and the buffer drops what is no longer needed. Memory is
 * thus bounded by max_segment, whatever the file's length. Spans where nothing is recognised
 * stay in the transcript with empty text: something was said there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "speech_int.h"

struct aitag_speech {
    struct aitag_speech_params p;
    char engine[16];
    struct vad vad;
    struct recognizer rec;
    char key[256];
};

struct aitag_speech_params aitag_speech_default_params(void)
{
    struct aitag_speech_params p = {0};

    p.engine = "pocketsphinx";
    p.timeout_ms = 120000;
    p.threshold = 0.5f;
    p.neg_threshold = 0.35f;
    p.min_speech = 0.25;
    p.min_silence = 0.3;
    p.pad = 0.1;
    p.max_segment = 30;
    return p;
}

int aitag_speech_new(struct aitag_infer *inf, const struct aitag_speech_params *p,
                     struct aitag_speech **out, char *err, size_t errlen)
{
    struct aitag_speech *s;
    const char *engine = p->engine && p->engine[0] ? p->engine : "pocketsphinx";
    int rc;

    *out = NULL;
    if (strcmp(engine, "pocketsphinx") != 0 && strcmp(engine, "remote") != 0) {
        aitag_fmt(err, errlen, "speech.engine: \"%s\" is neither pocketsphinx nor remote", engine);
        return AITAG_ERR_INVALID;
    }
    if (!(p->threshold > 0 && p->threshold < 1 && p->neg_threshold > 0 &&
          p->neg_threshold <= p->threshold && p->min_speech >= 0 && p->min_silence >= p->pad &&
          p->pad >= 0 && p->max_segment >= 1 && p->max_segment <= 600)) {
        aitag_fmt(err, errlen,
                  "speech: bad voice activity settings (0 < neg_threshold <= threshold < 1, "
                  "min_silence >= pad >= 0, 1 <= max_segment <= 600)");
        return AITAG_ERR_INVALID;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    s->p = *p;
    snprintf(s->engine, sizeof s->engine, "%s", engine);
    rc = vad_init(&s->vad, inf, p, err, errlen);
    if (rc == 0)
        rc = strcmp(engine, "remote") == 0 ? asr_remote_new(p, &s->rec, err, errlen)
                                           : asr_sphinx_new(p, &s->rec, err, errlen);
    if (rc < 0) {
        aitag_speech_free(s);
        return rc;
    }
    /* what the remote engine's answers depend on: the server, model and hint, never the key */
    snprintf(s->key, sizeof s->key,
             "speech-1 vad=%s t=%.2f/%.2f min=%.2f/%.2f pad=%.2f max=%.0f %s%s",
             aitag_model_key(s->vad.model), p->threshold, p->neg_threshold, p->min_speech,
             p->min_silence, p->pad, p->max_segment, engine,
             strcmp(engine, "pocketsphinx") == 0 && p->accurate ? " accurate" : "");
    if (strcmp(engine, "remote") == 0)
        snprintf(s->key + strlen(s->key), sizeof s->key - strlen(s->key), " %s %s %s", p->url,
                 p->model && p->model[0] ? p->model : "whisper-1", p->language ? p->language : "");
    *out = s;
    return 0;
}

void aitag_speech_free(struct aitag_speech *s)
{
    if (!s)
        return;
    if (s->rec.free)
        s->rec.free(s->rec.impl);
    vad_free(&s->vad);
    free(s);
}

int aitag_speech_load(struct aitag_speech *s, char *err, size_t errlen)
{
    int rc = aitag_model_load(s->vad.model);

    if (rc < 0) {
        aitag_fmt(err, errlen, "speech: model silero-vad does not load");
        return rc;
    }
    return s->rec.prepare ? s->rec.prepare(s->rec.impl, err, errlen) : 0;
}

const char *aitag_speech_key(struct aitag_speech *s)
{
    return s->key;
}

/* The stream: samples kept from buf_start on. */
struct run {
    struct aitag_speech *s;
    struct aitag_transcript *out;
    int16_t *buf;
    size_t n, cap;
    int64_t buf_start; /* sample index of buf[0] */
    int64_t total;     /* samples read */
    int64_t pad;
    char *err;
    size_t errlen;
    /* VAD-only mode (aitag_speech_vad) */
    double *spans;
    size_t n_spans;
    int vad_only;
};

/* Drops samples before `keep` from the buffer. */
static void drop_before(struct run *r, int64_t keep)
{
    size_t k;

    if (keep <= r->buf_start)
        return;
    k = (size_t)(keep - r->buf_start);
    if (k > r->n)
        k = r->n;
    memmove(r->buf, r->buf + k, (r->n - k) * sizeof *r->buf);
    r->n -= k;
    r->buf_start += (int64_t)k;
}

static int on_span(const struct vad_span *sp, void *ctx)
{
    struct run *r = ctx;
    int64_t a = sp->start - r->pad, b = sp->end + r->pad;
    struct aitag_speech_segment seg = {0};
    char lang[16] = "";
    int rc;

    if (a < r->buf_start)
        a = r->buf_start;
    if (b > r->buf_start + (int64_t)r->n)
        b = r->buf_start + (int64_t)r->n;
    if (r->vad_only) {
        double *g = realloc(r->spans, (r->n_spans + 1) * 2 * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        r->spans = g;
        g[2 * r->n_spans] = (double)sp->start / AITAG_SPEECH_RATE;
        g[2 * r->n_spans + 1] = (double)sp->end / AITAG_SPEECH_RATE;
        r->n_spans++;
        return 0;
    }
    seg.start = (double)sp->start / AITAG_SPEECH_RATE;
    seg.end = (double)sp->end / AITAG_SPEECH_RATE;
    seg.vad = sp->mean_prob;
    rc = b > a ? r->s->rec.run(r->s->rec.impl, r->buf + (a - r->buf_start), (size_t)(b - a),
                               (double)a / AITAG_SPEECH_RATE, &seg, lang, sizeof lang, r->err,
                               r->errlen)
               : 0;
    if (rc == 0)
        rc = speech_segment_text(&seg);
    if (rc == 0 && r->out->n == r->out->cap) {
        size_t cap = r->out->cap ? 2 * r->out->cap : 16;
        struct aitag_speech_segment *g = realloc(r->out->segs, cap * sizeof *g);
        if (!g)
            rc = AITAG_ERR_NOMEM;
        else
            r->out->segs = g, r->out->cap = cap;
    }
    if (rc < 0) {
        speech_segment_clear(&seg);
        return rc;
    }
    r->out->segs[r->out->n++] = seg;
    r->out->speech_seconds += seg.end - seg.start;
    if (seg.n_words > 0 && lang[0] && !r->out->lang[0])
        snprintf(r->out->lang, sizeof r->out->lang, "%s", lang);
    return 0;
}

static int on_samples(const int16_t *samples, size_t n, void *ctx)
{
    struct run *r = ctx;
    int rc;

    if (r->n + n > r->cap) {
        size_t cap = (r->n + n) * 2;
        int16_t *g = realloc(r->buf, cap * sizeof *g);
        if (!g) {
            aitag_fmt(r->err, r->errlen, "out of memory");
            return AITAG_ERR_NOMEM;
        }
        r->buf = g, r->cap = cap;
    }
    memcpy(r->buf + r->n, samples, n * sizeof *samples);
    r->n += n;
    r->total += (int64_t)n;
    rc = vad_feed(&r->s->vad, samples, n, on_span, r, r->err, r->errlen);
    if (rc < 0)
        return rc;
    /* keep the pad before an open span's start, or before the newest window */
    drop_before(r, (r->s->vad.triggered ? r->s->vad.start : r->s->vad.done) - r->pad);
    return 0;
}

static int finish(struct run *r)
{
    return vad_feed(&r->s->vad, NULL, 0, on_span, r, r->err, r->errlen);
}

int aitag_speech_file(struct aitag_speech *s, const char *path,
                      const struct aitag_audio_limits *lim, struct aitag_transcript *out, char *err,
                      size_t errlen)
{
    struct run r = {0};
    int rc, has_audio = 0;

    memset(out, 0, sizeof *out);
    vad_reset(&s->vad);
    r.s = s, r.out = out, r.err = err, r.errlen = errlen;
    r.pad = (int64_t)(s->p.pad * AITAG_SPEECH_RATE);
    rc = aitag_audio_pcm(path, AITAG_SPEECH_RATE, lim, on_samples, &r, &has_audio, err, errlen);
    if (rc == 0)
        rc = finish(&r);
    free(r.buf);
    out->has_audio = has_audio;
    out->audio_seconds = (double)r.total / AITAG_SPEECH_RATE;
    if (rc < 0) {
        if (rc == AITAG_ERR_NOMEM)
            aitag_fmt(err, errlen, "%s: out of memory", path);
        aitag_transcript_clear(out);
    }
    return rc;
}

int aitag_speech_vad(struct aitag_speech *s, const int16_t *samples, size_t n, double **spans,
                     size_t *n_spans, char *err, size_t errlen)
{
    struct run r = {0};
    int rc;

    *spans = NULL, *n_spans = 0;
    vad_reset(&s->vad);
    r.s = s, r.err = err, r.errlen = errlen, r.vad_only = 1;
    rc = vad_feed(&s->vad, samples, n, on_span, &r, err, errlen);
    if (rc == 0)
        rc = vad_feed(&s->vad, NULL, 0, on_span, &r, err, errlen);
    if (rc < 0) {
        free(r.spans);
        return rc;
    }
    *spans = r.spans, *n_spans = r.n_spans;
    return 0;
}
