/*
 * vad.c - voice activity with Silero VAD v5, over a stream of 16 kHz mono samples.
 *
 * The model takes one 512-sample window (32 ms) at a time with the 64 samples before it
 * prepended, and a recurrent state it hands back; it answers the probability that the window
 * is speech. Windows are cut from the stream as samples arrive, so any chunking of the input
 * gives the same answers. Spans follow the model authors' own rule: speech starts at the first
 * window at >= threshold, and ends when the probability stays under a lower neg_threshold for
 * min_silence (the end is where that quiet began); spans shorter than min_speech are dropped,
 * and one longer than max_segment is cut there (a recognizer wants bounded utterances).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "speech_int.h"

int vad_init(struct vad *v, struct aitag_infer *inf, const struct aitag_speech_params *p, char *err,
             size_t errlen)
{
    int rc;

    memset(v, 0, sizeof *v);
    rc = aitag_model_open(inf, "silero-vad", &v->model);
    if (rc < 0) {
        aitag_fmt(err, errlen, "speech: %s", aitag_infer_errmsg(inf));
        return rc;
    }
    v->window = (int)aitag_model_param(v->model, "window", 512);
    v->context = (int)aitag_model_param(v->model, "context", 64);
    if (v->window < 1 || v->context < 0 || v->window > 4096 || v->context > v->window) {
        aitag_fmt(err, errlen, "speech: model silero-vad: bad window %d or context %d", v->window,
                  v->context);
        return AITAG_ERR_INVALID;
    }
    v->input = calloc((size_t)v->window + (size_t)v->context, sizeof *v->input);
    v->pending = calloc((size_t)v->window, sizeof *v->pending);
    if (!v->input || !v->pending) {
        vad_free(v);
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    v->threshold = p->threshold;
    v->neg_threshold = p->neg_threshold;
    v->min_speech = (int64_t)(p->min_speech * AITAG_SPEECH_RATE);
    v->min_silence = (int64_t)(p->min_silence * AITAG_SPEECH_RATE);
    v->max_segment = (int64_t)(p->max_segment * AITAG_SPEECH_RATE);
    vad_reset(v);
    return 0;
}

void vad_reset(struct vad *v)
{
    memset(v->state, 0, sizeof v->state);
    if (v->input)
        memset(v->input, 0, (size_t)(v->window + v->context) * sizeof *v->input);
    v->n_pending = 0;
    v->done = 0;
    v->triggered = 0;
    v->start = v->temp_end = 0;
}

void vad_free(struct vad *v)
{
    free(v->input);
    free(v->pending);
    v->input = NULL;
    v->pending = NULL;
}

/* The speech probability of the window in v->pending; keeps the state and the context. */
static int window_prob(struct vad *v, float *prob, char *err, size_t errlen)
{
    int64_t sr = AITAG_SPEECH_RATE;
    struct aitag_tensor in = {
        v->input, {1, v->window + v->context}, 2, (size_t)(v->window + v->context)};
    struct aitag_named_input extra[2] = {
        {"state", v->state, {2, 1, 128}, 3, 2 * 128, 0},
        {"sr", &sr, {0}, 0, 1, 1},
    };
    struct aitag_tensor out[2];
    size_t n_out = 0;
    int rc;

    for (int i = 0; i < v->window; i++)
        v->input[v->context + i] = v->pending[i] / 32768.0f;
    rc = aitag_model_run_inputs(v->model, &in, extra, 2, out, 2, &n_out, err, errlen);
    if (rc < 0)
        return rc;
    if (n_out < 2 || out[0].count < 1 || out[1].count != 2 * 128) {
        aitag_fmt(err, errlen, "model silero-vad: unexpected outputs");
        aitag_tensors_release(out, n_out);
        return AITAG_ERR_MODEL;
    }
    *prob = out[0].data[0];
    memcpy(v->state, out[1].data, sizeof v->state);
    aitag_tensors_release(out, n_out);
    /* the last context samples of this window open the next one */
    memmove(v->input, v->input + v->window, (size_t)v->context * sizeof *v->input);
    return 0;
}

static int close_span(struct vad *v, int64_t end,
                      int (*on_span)(const struct vad_span *sp, void *ctx), void *ctx)
{
    struct vad_span sp = {v->start, end, v->prob_n ? (float)(v->prob_sum / v->prob_n) : 0};

    v->triggered = 0;
    v->temp_end = 0;
    if (end - v->start < v->min_speech)
        return 0;
    return on_span(&sp, ctx);
}

/* Moves the state machine on by the window that ends at v->done + window. */
static int step(struct vad *v, float p, int (*on_span)(const struct vad_span *sp, void *ctx),
                void *ctx)
{
    int64_t at = v->done; /* this window's first sample */
    int rc = 0;

    if (p >= v->threshold && v->temp_end)
        v->temp_end = 0;
    if (p >= v->threshold && !v->triggered) {
        v->triggered = 1;
        v->start = at;
        v->prob_sum = p, v->prob_n = 1;
        return 0;
    }
    if (!v->triggered)
        return 0;
    if (!v->temp_end || p >= v->neg_threshold)
        v->prob_sum += p, v->prob_n++; /* the quiet tail is not part of the span */
    if (v->max_segment > 0 && at + v->window - v->start > v->max_segment) {
        rc = close_span(v, at, on_span, ctx);
        if (rc == 0 && p >= v->threshold) /* still speaking: a new span goes on */
            v->triggered = 1, v->start = at, v->prob_sum = p, v->prob_n = 1;
        return rc;
    }
    if (p < v->neg_threshold) {
        if (!v->temp_end)
            v->temp_end = at;
        if (at + v->window - v->temp_end >= v->min_silence)
            rc = close_span(v, v->temp_end, on_span, ctx);
    }
    return rc;
}

int vad_feed(struct vad *v, const int16_t *samples, size_t n,
             int (*on_span)(const struct vad_span *sp, void *ctx), void *ctx, char *err,
             size_t errlen)
{
    int rc = 0;

    if (!samples) { /* the end: a last partial window counts as heard so far */
        int64_t end = v->done + v->n_pending;
        if (v->triggered)
            rc = close_span(v, v->temp_end ? v->temp_end : end, on_span, ctx);
        return rc;
    }
    while (n > 0) {
        size_t take = (size_t)(v->window - v->n_pending);
        float p;

        if (take > n)
            take = n;
        memcpy(v->pending + v->n_pending, samples, take * sizeof *samples);
        v->n_pending += (int)take;
        samples += take, n -= take;
        if (v->n_pending < v->window)
            break;
        rc = window_prob(v, &p, err, errlen);
        if (rc == 0)
            rc = step(v, p, on_span, ctx);
        v->done += v->window;
        v->n_pending = 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}
