/*
 * speech.c - the "speech" analyzer: what is said in a video's sound track (aitag/speech.h),
 * read from the file once per item after its frames; it needs no frame view.
 *
 * Per spoken segment (Silero VAD's span) it writes one item labelled "speech" that lasts
 * [t, end): its confidence is the VAD's mean speech probability over the span, its text the
 * recognised words (none when nothing was recognised), with the words' times and confidences
 * and the language. The policy makes "speech" a tag and markers like any lasting label, and
 * the texts of the segments the item's transcript (tagged "speech" in the catalog's texts,
 * full-text indexed; `aitag export --srt/--vtt`). Then per keyword (aitag_speech_keywords: the
 * user's vocabulary, then the content words said at least min_count times) one item labelled
 * "keyword:WORD" at the time it was first said; keywords describe the whole item, so the policy
 * tags them without a duration. The recognizer is PocketSphinx here, or a remote
 * OpenAI-compatible transcription server (engine=remote, url=...; its key comes from the
 * environment variable key_env names, never from an option, so it shows in no analysis key).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/speech.h"
#include "analyzers_int.h"

#define MAX_VOCAB 256
#define MAX_KEYWORDS 32

struct speech_an {
    struct aitag_infer *inf;
    struct aitag_speech_params p;
    char engine[16], url[512], model[128], language[16], key_env[64], sphinx_dir[512];
    char *vocab_buf;
    const char *vocab[MAX_VOCAB];
    size_t n_vocab;
    int max_keywords, min_count;
    char *bearer;
    struct aitag_speech *sp; /* made by ready() */
    char key[768];
};

static int speech_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf,
                         void **state, char *err, size_t errlen)
{
    struct speech_an *s = calloc(1, sizeof *s);

    (void)self;
    *state = NULL;
    if (!s) {
        snprintf(err, errlen, "speech: out of memory");
        return AITAG_ERR_NOMEM;
    }
    s->inf = inf;
    s->p = aitag_speech_default_params();
    snprintf(s->engine, sizeof s->engine, "pocketsphinx");
    snprintf(s->key_env, sizeof s->key_env, "AITAG_SPEECH_KEY");
    s->max_keywords = 5;
    s->min_count = 2;
    *state = s;
    return 0;
}

static void speech_destroy(void *state)
{
    struct speech_an *s = state;

    if (!s)
        return;
    aitag_speech_free(s->sp);
    free(s->vocab_buf);
    free(s->bearer);
    free(s);
}

static size_t speech_views(void *state, struct aitag_view_spec *out, size_t max)
{
    (void)state, (void)out, (void)max;
    return 0; /* the sound track only */
}

static const char *speech_key(void *state)
{
    struct speech_an *s = state;

    return s->key[0] ? s->key : "speech (not ready)";
}

static int copy(char *dst, size_t size, const char *v)
{
    if (strlen(v) >= size)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int number(const char *v, double lo, double hi, double *out)
{
    char *end = NULL;
    double d = strtod(v, &end);

    if (end == v || *end || !(d >= lo && d <= hi))
        return -1;
    *out = d;
    return 0;
}

/* "cake, wedding,budget" -> lower-case words in s->vocab. */
static int set_vocabulary(struct speech_an *s, const char *value)
{
    char *save = NULL;

    free(s->vocab_buf);
    s->n_vocab = 0;
    s->vocab_buf = strdup(value);
    if (!s->vocab_buf)
        return -1;
    for (char *w = strtok_r(s->vocab_buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        char *e;
        while (isspace((unsigned char)*w))
            w++;
        e = w + strlen(w);
        while (e > w && isspace((unsigned char)e[-1]))
            *--e = '\0';
        for (char *c = w; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (!*w)
            continue;
        if (s->n_vocab == MAX_VOCAB)
            return -1;
        s->vocab[s->n_vocab++] = w;
    }
    return 0;
}

static int speech_configure(void *state, const char *key, const char *value, char *err,
                            size_t errlen)
{
    struct speech_an *s = state;
    double d = 0;
    int bad;

    if (!strcmp(key, "engine"))
        bad = copy(s->engine, sizeof s->engine, value) ||
              (strcmp(value, "pocketsphinx") != 0 && strcmp(value, "remote") != 0);
    else if (!strcmp(key, "url"))
        bad = copy(s->url, sizeof s->url, value);
    else if (!strcmp(key, "model"))
        bad = copy(s->model, sizeof s->model, value);
    else if (!strcmp(key, "language"))
        bad = copy(s->language, sizeof s->language, value);
    else if (!strcmp(key, "key_env"))
        bad = copy(s->key_env, sizeof s->key_env, value) || !*value;
    else if (!strcmp(key, "sphinx_dir"))
        bad = copy(s->sphinx_dir, sizeof s->sphinx_dir, value);
    else if (!strcmp(key, "accurate"))
        bad = number(value, 0, 1, &d) || (d != 0 && d != 1), s->p.accurate = (int)d;
    else if (!strcmp(key, "local_only"))
        bad = number(value, 0, 1, &d) || (d != 0 && d != 1), s->p.local_only = (int)d;
    else if (!strcmp(key, "keywords"))
        bad = set_vocabulary(s, value);
    else if (!strcmp(key, "max_keywords"))
        bad = number(value, 0, MAX_KEYWORDS, &d), s->max_keywords = bad ? s->max_keywords : (int)d;
    else if (!strcmp(key, "min_count"))
        bad = number(value, 1, 1000, &d), s->min_count = bad ? s->min_count : (int)d;
    else if (!strcmp(key, "threshold"))
        bad = number(value, 0.05, 0.95, &d), s->p.threshold = bad ? s->p.threshold : (float)d;
    else if (!strcmp(key, "timeout_ms"))
        bad = number(value, 100, 3600000, &d), s->p.timeout_ms = bad ? s->p.timeout_ms : (long)d;
    else {
        snprintf(err, errlen,
                 "speech: unknown option \"%s\" (engine, url, model, language, key_env, "
                 "sphinx_dir, accurate, local_only, keywords, max_keywords, min_count, threshold, "
                 "timeout_ms)",
                 key);
        return AITAG_ERR_INVALID;
    }
    if (bad) {
        snprintf(err, errlen, "speech.%s: bad value \"%.200s\"", key, value);
        return AITAG_ERR_INVALID;
    }
    return 0;
}

static int speech_ready(void *state, char *err, size_t errlen)
{
    struct speech_an *s = state;
    const char *bearer = getenv(s->key_env);
    int rc;

    s->p.neg_threshold = s->p.threshold - 0.15f > 0.05f ? s->p.threshold - 0.15f : 0.05f;
    s->p.engine = s->engine;
    s->p.url = s->url;
    s->p.model = s->model;
    s->p.language = s->language;
    s->p.sphinx_dir = s->sphinx_dir;
    if (strcmp(s->engine, "remote") == 0 && s->p.local_only && !aitag_url_is_loopback(s->url)) {
        snprintf(err, errlen,
                 "speech.url %s is not on this machine (loopback) and local-only is on", s->url);
        return AITAG_ERR_INVALID;
    }
    if (bearer && *bearer && !(s->bearer = strdup(bearer))) {
        snprintf(err, errlen, "speech: out of memory");
        return AITAG_ERR_NOMEM;
    }
    s->p.key = s->bearer;
    rc = aitag_speech_new(s->inf, &s->p, &s->sp, err, errlen);
    if (rc < 0)
        return rc;
    snprintf(s->key, sizeof s->key, "%s keywords=%d/%d", aitag_speech_key(s->sp), s->max_keywords,
             s->min_count);
    for (size_t i = 0; i < s->n_vocab; i++)
        snprintf(s->key + strlen(s->key), sizeof s->key - strlen(s->key), "%s%s",
                 i ? "," : " vocab=", s->vocab[i]);
    return 0;
}

static int speech_run(void *state, struct aitag_frame *const *frames, size_t n,
                      const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                      /* NOLINTNEXTLINE(readability-non-const-parameter): ops->run's signature */
                      char *err, size_t errlen)
{
    (void)state, (void)frames, (void)n, (void)in, (void)out, (void)err, (void)errlen;
    return 0; /* nothing in the pictures */
}

static int push_segment(const struct aitag_speech_segment *g, const char *lang,
                        struct aitag_evidence_list *out)
{
    struct aitag_evidence e = {0};

    e.analyzer = "speech";
    e.label = "speech";
    e.confidence = g->vad;
    e.t = g->start;
    e.end = g->end;
    e.text = g->n_words ? g->text : NULL;
    e.lang = g->n_words && lang[0] ? (char *)lang : NULL;
    e.words = g->words;
    e.n_words = g->n_words;
    return aitag_evidence_push(out, &e);
}

static int speech_item(void *state, const char *path, const struct aitag_probe *probe,
                       double interval, const struct aitag_audio_limits *lim,
                       struct aitag_evidence_list *out, char *err, size_t errlen)
{
    struct speech_an *s = state;
    struct aitag_transcript tr = {0};
    struct aitag_keyword kw[MAX_KEYWORDS];
    size_t n_kw;
    int rc;

    (void)interval;
    if (probe->kind != AITAG_MEDIA_VIDEO || !probe->audio_codec[0])
        return 0; /* pictures and silent videos say nothing */
    rc = aitag_speech_file(s->sp, path, lim, &tr, err, errlen);
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < tr.n; i++)
        rc = push_segment(&tr.segs[i], tr.lang, out);
    n_kw =
        aitag_speech_keywords(&tr, s->vocab, s->n_vocab, s->min_count, kw, (size_t)s->max_keywords);
    for (size_t i = 0; rc == 0 && i < n_kw; i++) {
        char label[64];
        struct aitag_evidence e = {0};
        snprintf(label, sizeof label, "keyword:%.47s", kw[i].word);
        e.analyzer = "speech";
        e.label = label;
        /* a keyword is as sure as its best hearing; the vocabulary's words were asked for */
        e.confidence = kw[i].from_vocabulary ? 1.0f : kw[i].confidence;
        e.t = kw[i].first;
        rc = aitag_evidence_push(out, &e);
    }
    aitag_transcript_clear(&tr);
    if (rc < 0)
        snprintf(err, errlen, "speech: out of memory");
    return rc;
}

static const char *const speech_models[] = {"silero-vad", NULL};

const struct aitag_analyzer_ops aitag_analyzer_speech = {
    .name = "speech",
    .description = "speech to text from the sound track (Silero VAD, then PocketSphinx or a "
                   "remote Whisper-class server): speech markers, the transcript, keyword:WORD",
    .create = speech_create,
    .destroy = speech_destroy,
    .views = speech_views,
    .key = speech_key,
    .run = speech_run,
    .models = speech_models,
    .configure = speech_configure,
    .ready = speech_ready,
    .item = speech_item,
    /* it reads the file itself: with --gateway it runs here, like cues */
    .runs_here = 1,
};
