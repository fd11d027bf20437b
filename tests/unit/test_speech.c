/* test_speech.c - the speech library's parts: word error rate (substitutions, deletions and
 * insertions counted on a known alignment), keywords (vocabulary first, plurals, stopwords,
 * the minimum count), the evidence details of a spoken segment (end, language and timed words)
 * through JSON and back, and voice activity on a real fixture clip: Silero VAD finds each
 * sentence within 0.5 s, the same however the samples are chunked, and nothing in silence. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aitag/speech.h"
#include "check.h"

static void test_wer(void)
{
    int s, d, i;

    CHECK_NEAR(aitag_speech_wer("the cat sat", "the cat sat", &s, &d, &i), 0.0, 1e-9);
    CHECK_NEAR(aitag_speech_wer("The cat, sat.", "the CAT sat", NULL, NULL, NULL), 0.0, 1e-9);
    CHECK_NEAR(aitag_speech_wer("a b c", "a x c d", &s, &d, &i), 2.0 / 3.0, 1e-9);
    CHECK_EQ_INT(s, 1);
    CHECK_EQ_INT(d, 0);
    CHECK_EQ_INT(i, 1);
    CHECK_NEAR(aitag_speech_wer("a b c d", "a d", &s, &d, &i), 0.5, 1e-9);
    CHECK_EQ_INT(d, 2);
    CHECK_NEAR(aitag_speech_wer("one two", "", &s, &d, &i), 1.0, 1e-9);
    CHECK(aitag_speech_wer("", "words", NULL, NULL, NULL) < 0);
}

static struct aitag_word W(const char *w, float t) {
    return (struct aitag_word){(char *)w, t, t + 0.3f, 0.8f};
}

static void
test_keywords(void)
{
    struct aitag_word a[] = {W("the", 1),   W("budget", 1.3f), W("meeting", 1.6f),
                             W("about", 2), W("budget", 2.2f), W("cakes", 3)};
    struct aitag_word b[] = {W("budget", 5), W("meeting", 6), W("would", 7), W("would", 8)};
    struct aitag_speech_segment segs[2] = {{1, 3.5, NULL, 0.8f, 0.9f, a, 6},
                                           {5, 8.5, NULL, 0.8f, 0.9f, b, 4}};
    struct aitag_transcript t = {segs, 2, 2, 1, 10, 6, "en"};
    const char *vocab[] = {"cake", "wedding"};
    struct aitag_keyword kw[8];
    size_t n;

    CHECK(aitag_speech_is_stopword("would"));
    CHECK(aitag_speech_is_stopword("the"));
    CHECK(!aitag_speech_is_stopword("budget"));
    n = aitag_speech_keywords(&t, vocab, 2, 2, kw, 8);
    CHECK_EQ_INT(n, 3);
    CHECK_STR(kw[0].word, "cake"); /* the vocabulary's word, said as a plural, first */
    CHECK(kw[0].from_vocabulary);
    CHECK_EQ_INT(kw[0].count, 1);
    CHECK_STR(kw[1].word, "budget"); /* said 3 times */
    CHECK_EQ_INT(kw[1].count, 3);
    CHECK_NEAR(kw[1].first, 1.3, 1e-6);
    CHECK_STR(kw[2].word, "meeting"); /* said twice; "would" is a stopword */
    n = aitag_speech_keywords(&t, NULL, 0, 3, kw, 8);
    CHECK_EQ_INT(n, 1);
    n = aitag_speech_keywords(&t, vocab, 2, 2, kw, 1);
    CHECK_EQ_INT(n, 1);
}

static void test_details(void)
{
    struct aitag_word w[2] = {{"hello", 1.2344f, 1.5f, 0.934f},
                              {"\"quoted\" word", 1.6f, 2.0f, 0.5f}};
    struct aitag_evidence e = {0}, back = {0};
    char *json = NULL;

    e.analyzer = "speech", e.label = "speech", e.confidence = 0.9f, e.t = 1.2, e.end = 2.25;
    e.lang = "en", e.words = w, e.n_words = 2;
    CHECK(aitag_evidence_details_json(&e, &json) == 0);
    CHECK(json != NULL);
    if (!json)
        return;
    CHECK(strstr(json, "\"end\":2.250") != NULL);
    CHECK(strstr(json, "[\"hello\",1.234,1.5,0.93]") != NULL);
    CHECK(aitag_evidence_parse_details(&back, json) == 0);
    CHECK_NEAR(back.end, 2.25, 1e-9);
    CHECK_STR(back.lang, "en");
    CHECK_EQ_INT(back.n_words, 2);
    if (back.n_words == 2) {
        CHECK_STR(back.words[1].word, "\"quoted\" word");
        CHECK_NEAR(back.words[0].start, 1.234, 1e-6);
        CHECK_NEAR(back.words[0].confidence, 0.93, 1e-6);
    }
    aitag_evidence_clear_details(&back);
    CHECK(back.words == NULL && back.lang == NULL && back.end == 0);
    CHECK(aitag_evidence_parse_details(&back, "{\"words\":[[1,2,3,4]]}") == AITAG_ERR_INVALID);
    CHECK(back.words == NULL);
    free(json);
}

struct pcm {
    int16_t *s;
    size_t n, cap;
};

static int collect(const int16_t *samples, size_t n, void *ctx)
{
    struct pcm *p = ctx;

    if (p->n + n > p->cap) {
        size_t cap = (p->n + n) * 2;
        int16_t *g = realloc(p->s, cap * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        p->s = g, p->cap = cap;
    }
    memcpy(p->s + p->n, samples, n * sizeof *samples);
    p->n += n;
    return 0;
}

static void test_vad(const char *fixtures)
{
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_speech_params sp = aitag_speech_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_speech *s = NULL;
    struct pcm pcm = {0};
    double *spans = NULL;
    size_t n = 0;
    char path[1024], err[512] = "";
    int has_audio = 0;
    json_t *truth, *clip, *segs;

    snprintf(path, sizeof path, "%s/truth.json", fixtures);
    truth = json_load_file(path, 0, NULL);
    if (!truth) {
        fprintf(stderr, "test_speech: no fixtures in %s (make fixtures); VAD not checked\n",
                fixtures);
        check_failed++;
        return;
    }
    clip = json_array_get(truth, 4); /* check_clean.mp4 */
    CHECK_STR(json_string_value(json_object_get(clip, "file")), "check_clean.mp4");
    segs = json_object_get(clip, "segments");
    ip.manifest_dir = AITAG_SOURCE_DIR "/models";
    ip.weights_dir = AITAG_DEPS_DIR "/models";
    CHECK(aitag_infer_new(&ip, &inf) == 0);
    CHECK(aitag_speech_new(inf, &sp, &s, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/check_clean.mp4", fixtures);
    CHECK(aitag_audio_pcm(path, AITAG_SPEECH_RATE, NULL, collect, &pcm, &has_audio, err,
                          sizeof err) == 0);
    CHECK(has_audio);
    CHECK(pcm.n > 16 * AITAG_SPEECH_RATE && pcm.n < 18 * AITAG_SPEECH_RATE);
    { /* an item that spent its CPU budget on its frames gets no samples: an error names it */
        struct aitag_audio_limits spent = {.cpu_limit = 30, .cpu_spent = 31};
        struct pcm none = {0};
        CHECK(aitag_audio_pcm(path, AITAG_SPEECH_RATE, &spent, collect, &none, &has_audio, err,
                              sizeof err) == AITAG_ERR_MEDIA);
        CHECK(strstr(err, "check_clean.mp4") && strstr(err, "--item-cpu"));
        CHECK(none.n == 0);
        free(none.s);
    }
    if (s && pcm.n) {
        CHECK(aitag_speech_vad(s, pcm.s, pcm.n, &spans, &n, err, sizeof err) == 0);
        CHECK_EQ_INT(n, json_array_size(segs));
        for (size_t i = 0; i < n && i < json_array_size(segs); i++) {
            json_t *g = json_array_get(segs, i);
            CHECK_NEAR(spans[2 * i], json_number_value(json_object_get(g, "start")), 0.5);
            CHECK_NEAR(spans[2 * i + 1], json_number_value(json_object_get(g, "end")), 0.5);
        }
        /* silence: no span */
        {
            int16_t *quiet = calloc(3 * AITAG_SPEECH_RATE, sizeof *quiet);
            double *none = NULL;
            size_t k = 9;
            CHECK(quiet && aitag_speech_vad(s, quiet, 3 * AITAG_SPEECH_RATE, &none, &k, err,
                                            sizeof err) == 0);
            CHECK_EQ_INT(k, 0);
            free(none);
            free(quiet);
        }
    }
    free(spans);
    free(pcm.s);
    aitag_speech_free(s);
    aitag_infer_free(inf);
    json_decref(truth);
}

static void test_errors(void)
{
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_speech_params sp = aitag_speech_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_speech *s = NULL;
    struct aitag_transcript tr;
    char err[512] = "";

    ip.manifest_dir = AITAG_SOURCE_DIR "/models";
    ip.weights_dir = AITAG_DEPS_DIR "/models";
    CHECK(aitag_infer_new(&ip, &inf) == 0);
    sp.engine = "whisper.cpp";
    CHECK(aitag_speech_new(inf, &sp, &s, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "speech.engine") != NULL);
    sp = aitag_speech_default_params();
    sp.engine = "remote";
    sp.url = "ftp://example.org";
    CHECK(aitag_speech_new(inf, &sp, &s, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "speech.url") != NULL);
    sp = aitag_speech_default_params();
    sp.sphinx_dir = "/nonexistent/en-us";
    CHECK(aitag_speech_new(inf, &sp, &s, err, sizeof err) == AITAG_ERR_NOTFOUND);
    CHECK(strstr(err, "/nonexistent/en-us") != NULL);
    sp = aitag_speech_default_params();
    CHECK(aitag_speech_new(inf, &sp, &s, err, sizeof err) == 0);
    CHECK(aitag_speech_file(s, "/nonexistent.mp4", NULL, &tr, err, sizeof err) < 0);
    CHECK(strstr(err, "/nonexistent.mp4") != NULL);
    CHECK_EQ_INT(tr.n, 0);
    aitag_speech_free(s);
    aitag_infer_free(inf);
}

int main(void)
{
    test_wer();
    test_keywords();
    test_details();
    test_errors();
    test_vad(AITAG_FIXTURES_DIR "/speech");
    return check_done();
}
