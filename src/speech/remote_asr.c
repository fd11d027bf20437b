/*
 * remote_asr.c - the remote recognizer: one spoken segment to an OpenAI-compatible
 * POST /v1/audio/transcriptions, as the Whisper API and the servers that copy it take it.
 *
 * The segment goes up as a 16 kHz WAV file in a multipart form with model,
 * response_format=verbose_json, timestamp_granularities[]=word (and segment) and, when set,
 * the language hint. The answer's "words" (each with start and end, seconds into the upload)
 * become the segment's words, shifted by the segment's start; a server that gives segments
 * only has each segment's words spread evenly over it, and one that gives just "text" has
 * them spread over the upload. A word's confidence is the exp(avg_logprob) of the segment it
 * lies in (the one holding its middle, else the nearest) when the server reports it, else 0.9
 * (the API has no per-word confidence). "language" comes as a
 * name ("english") or a code; names of common languages are mapped to ISO 639-1.
 * Nothing is retried: failing over is the gateway's job; the error names the url and status.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "speech_int.h"

#define ANSWER_MAX (4u << 20)

struct remote_asr {
    CURL *h;
    char url[1024];
    char model[128], key[512], language[16];
    int local_only;
    long timeout_ms;
    struct aitag_http_body body;
};

static const char *const lang_names[][2] = {
    {"english", "en"},  {"german", "de"},     {"french", "fr"},    {"spanish", "es"},
    {"italian", "it"},  {"portuguese", "pt"}, {"dutch", "nl"},     {"russian", "ru"},
    {"japanese", "ja"}, {"chinese", "zh"},    {"korean", "ko"},    {"polish", "pl"},
    {"swedish", "sv"},  {"turkish", "tr"},    {"ukrainian", "uk"}, {"arabic", "ar"},
    {"hindi", "hi"},    {"czech", "cs"},      {"greek", "el"},     {"danish", "da"},
    {"finnish", "fi"},  {"norwegian", "no"},  {"hungarian", "hu"}, {"romanian", "ro"},
};

static void lang_code(const char *s, char *out, size_t len)
{
    out[0] = '\0';
    if (!s || !s[0])
        return;
    for (size_t i = 0; i < sizeof lang_names / sizeof *lang_names; i++)
        if (strcasecmp(s, lang_names[i][0]) == 0) {
            snprintf(out, len, "%s", lang_names[i][1]);
            return;
        }
    snprintf(out, len, "%s", s);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

/* Adds the words of text spread evenly over [a, b). */
static int spread_words(struct aitag_speech_segment *seg, const char *text, double a, double b,
                        float conf)
{
    char *copy = strdup(text ? text : ""), *save = NULL;
    size_t n = 0, i = 0;
    int rc = 0;

    if (!copy)
        return AITAG_ERR_NOMEM;
    for (const char *c = copy; *c;) {
        while (*c && isspace((unsigned char)*c))
            c++;
        if (*c)
            n++;
        while (*c && !isspace((unsigned char)*c))
            c++;
    }
    for (char *w = strtok_r(copy, " \t\r\n", &save); w && rc == 0;
         w = strtok_r(NULL, " \t\r\n", &save), i++)
        rc = speech_segment_add_word(seg, w, a + (b - a) * (double)i / (double)n,
                                     a + (b - a) * (double)(i + 1) / (double)n, conf);
    free(copy);
    return rc;
}

static float segment_conf(const json_t *s)
{
    const json_t *lp = json_object_get(s, "avg_logprob");

    return json_is_number(lp) ? (float)fmin(1.0, exp(json_number_value(lp))) : 0.9f;
}

/* The confidence of the segment of segs that holds t (seconds into the upload), or of the
 * nearest one; 0.9 without segments. */
static float conf_at(json_t *segs, double t)
{
    json_t *s, *best = NULL;
    double best_d = INFINITY;
    size_t i;

    if (!json_is_array(segs))
        return 0.9f;
    json_array_foreach(segs, i, s)
    {
        const json_t *a = json_object_get(s, "start"), *b = json_object_get(s, "end");
        double d;
        if (!json_is_number(a) || !json_is_number(b))
            continue;
        d = t < json_number_value(a)   ? json_number_value(a) - t
            : t > json_number_value(b) ? t - json_number_value(b)
                                       : 0;
        if (d < best_d) {
            best_d = d;
            best = s;
        }
    }
    return best ? segment_conf(best) : 0.9f;
}

/* The answer's words into seg, shifted by t0. */
static int read_answer(json_t *root, double t0, double dur, struct aitag_speech_segment *seg)
{
    json_t *words = json_object_get(root, "words"), *segs = json_object_get(root, "segments");
    const json_t *w;
    size_t i;
    int rc = 0;

    if (json_is_array(words) && json_array_size(words) > 0) {
        json_array_foreach(words, i, w)
        {
            const char *word = json_string_value(json_object_get(w, "word"));
            const json_t *a = json_object_get(w, "start"), *b = json_object_get(w, "end");
            if (!word || !json_is_number(a) || !json_is_number(b))
                return AITAG_ERR_INVALID;
            while (isspace((unsigned char)*word))
                word++;
            if (!*word)
                continue;
            rc = speech_segment_add_word(
                seg, word, t0 + json_number_value(a), t0 + json_number_value(b),
                conf_at(segs, (json_number_value(a) + json_number_value(b)) / 2));
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    if (json_is_array(segs) && json_array_size(segs) > 0) {
        json_array_foreach(segs, i, w)
        {
            const json_t *a = json_object_get(w, "start"), *b = json_object_get(w, "end");
            if (!json_is_number(a) || !json_is_number(b))
                return AITAG_ERR_INVALID;
            rc =
                spread_words(seg, json_string_value(json_object_get(w, "text")),
                             t0 + json_number_value(a), t0 + json_number_value(b), segment_conf(w));
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    if (!json_is_string(json_object_get(root, "text")))
        return AITAG_ERR_INVALID;
    return spread_words(seg, json_string_value(json_object_get(root, "text")), t0, t0 + dur, 0.9f);
}

int asr_remote_answer(const char *body, size_t len, double t0, double dur, const char *hint,
                      struct aitag_speech_segment *seg, char *lang, size_t lang_len)
{
    json_t *root = body ? json_loadb(body, len, 0, NULL) : NULL;
    int rc = AITAG_ERR_INVALID;

    if (json_is_object(root))
        rc = read_answer(root, t0, dur, seg);
    if (rc == 0) {
        lang_code(json_string_value(json_object_get(root, "language")), lang, lang_len);
        if (!lang[0])
            snprintf(lang, lang_len, "%s", hint ? hint : "");
    }
    json_decref(root);
    return rc;
}

static int remote_run(void *impl, const int16_t *samples, size_t n, double t0,
                      struct aitag_speech_segment *seg, char *lang, size_t lang_len, char *err,
                      size_t errlen)
{
    struct remote_asr *r = impl;
    struct curl_slist *hdr = NULL;
    curl_mime *form = NULL;
    curl_mimepart *part;
    uint8_t *wav = NULL;
    size_t wav_len = 0;
    long status = 0;
    char auth[600];
    CURLcode cc;
    int rc = speech_wav(samples, n, AITAG_SPEECH_RATE, &wav, &wav_len);

    if (rc < 0) {
        aitag_fmt(err, errlen, "speech: segment at %.2f s: cannot encode it", t0);
        return rc;
    }
    curl_easy_reset(r->h);
    r->body.len = 0;
    form = curl_mime_init(r->h);
    rc = AITAG_ERR_NOMEM;
    if (!form || !(part = curl_mime_addpart(form)) || curl_mime_name(part, "file") ||
        curl_mime_filename(part, "segment.wav") || curl_mime_type(part, "audio/wav") ||
        curl_mime_data(part, (const char *)wav, wav_len))
        goto fail;
#define FIELD(k, v)                                                                                \
    if (!(part = curl_mime_addpart(form)) || curl_mime_name(part, k) ||                            \
        curl_mime_data(part, v, CURL_ZERO_TERMINATED))                                             \
        goto fail;
    FIELD("model", r->model)
    FIELD("response_format", "verbose_json")
    FIELD("timestamp_granularities[]", "word")
    FIELD("timestamp_granularities[]", "segment")
    if (r->language[0])
        FIELD("language", r->language)
#undef FIELD
    if (r->key[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->key);
        if (!(hdr = curl_slist_append(hdr, auth)))
            goto fail;
    }
    if (r->local_only && !(hdr = curl_slist_append(hdr, "X-Aitag-Local-Only: 1")))
        goto fail;
    curl_easy_setopt(r->h, CURLOPT_URL, r->url);
    curl_easy_setopt(r->h, CURLOPT_MIMEPOST, form);
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, aitag_http_body_write);
    curl_easy_setopt(r->h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = curl_easy_perform(r->h);
    if (cc != CURLE_OK) {
        aitag_fmt(err, errlen, "speech: POST %s: %s", r->url, curl_easy_strerror(cc));
        rc = AITAG_ERR_IO;
        goto out;
    }
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        aitag_fmt(err, errlen, "speech: POST %s: HTTP %ld: %.200s", r->url, status,
                  r->body.data && r->body.len ? r->body.data : "");
        rc = AITAG_ERR_IO;
        goto out;
    }
    rc = asr_remote_answer(r->body.data, r->body.len, t0, (double)n / AITAG_SPEECH_RATE,
                           r->language, seg, lang, lang_len);
    if (rc == AITAG_ERR_INVALID) {
        aitag_fmt(err, errlen, "speech: POST %s: the answer is not a transcription", r->url);
        rc = AITAG_ERR_IO;
        goto out;
    }
    if (rc < 0)
        goto fail;
    goto out;
fail:
    aitag_fmt(err, errlen, "out of memory");
    rc = AITAG_ERR_NOMEM;
out:
    curl_slist_free_all(hdr);
    curl_mime_free(form);
    free(wav);
    return rc;
}

static void remote_free(void *impl)
{
    struct remote_asr *r = impl;

    if (!r)
        return;
    curl_easy_cleanup(r->h);
    free(r->body.data);
    free(r);
}

int asr_remote_new(const struct aitag_speech_params *p, struct recognizer *out, char *err,
                   size_t errlen)
{
    struct remote_asr *r;
    size_t n;

    if (!p->url || !p->url[0] ||
        (strncmp(p->url, "http://", 7) != 0 && strncmp(p->url, "https://", 8) != 0)) {
        aitag_fmt(err, errlen, "speech.url: the remote engine needs an http(s) URL, got \"%s\"",
                  p->url ? p->url : "");
        return AITAG_ERR_INVALID;
    }
    r = aitag_curl_global_init() < 0 ? NULL : calloc(1, sizeof *r);
    if (!r || !(r->h = curl_easy_init())) {
        free(r);
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    n = strlen(p->url);
    while (n > 0 && p->url[n - 1] == '/')
        n--;
    snprintf(r->url, sizeof r->url, "%.*s%s", (int)n, p->url,
             n >= 3 && strncmp(p->url + n - 3, "/v1", 3) == 0 ? "/audio/transcriptions"
                                                              : "/v1/audio/transcriptions");
    snprintf(r->model, sizeof r->model, "%s", p->model && p->model[0] ? p->model : "whisper-1");
    snprintf(r->key, sizeof r->key, "%s", p->key ? p->key : "");
    snprintf(r->language, sizeof r->language, "%s", p->language ? p->language : "");
    r->body.max = ANSWER_MAX;
    r->local_only = p->local_only;
    r->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : 120000;
    *out = (struct recognizer){r, "remote", NULL, remote_run, remote_free};
    return 0;
}
