/*
 * test_vlm.c - the vlm analyzer without a network: vocabulary files, the system prompt, answer
 * validation (fences, case, unknown tags, confidences, broken content), options and their
 * errors, the loopback test behind local_only, JPEG encoding of a view, the policy's handling
 * of descriptions, and analyzer options through aitag_tagger_new.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#include "aitag/pipeline.h"
#include "analyzers/vlm.c"
#include "analyzers/vlm_answer.c"

static char vocab_path[64];

static const char *write_file(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof path, "/tmp/aitag-vlm-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror("write_file");
        exit(1);
    }
    close(fd);
    return path;
}

static void test_vocab(void)
{
    struct vlm_vocab v, w;
    char err[256] = "";
    const char *p;

    p = write_file("# comment\n  Person \n\nhorse\nPERSON\n#Cat\nRed Car\n");
    CHECK_EQ_INT(vlm_vocab_load(p, &v, err, sizeof err), 0);
    CHECK_EQ_INT(v.n, 3);
    CHECK_STR(v.tags[0], "Person");
    CHECK_STR(v.tags[2], "Red Car");
    CHECK_STR(vlm_vocab_match(&v, " red car "), "Red Car");
    CHECK_STR(vlm_vocab_match(&v, "HORSE"), "horse");
    CHECK(vlm_vocab_match(&v, "cat") == NULL);
    CHECK(vlm_vocab_match(&v, "Perso") == NULL);
    unlink(p);
    /* Comments and blank lines do not change the key's hash; a new tag does. */
    p = write_file("Person\nhorse\nRed Car\n");
    CHECK_EQ_INT(vlm_vocab_load(p, &w, err, sizeof err), 0);
    CHECK_STR(v.sha, w.sha);
    vlm_vocab_free(&w);
    unlink(p);
    p = write_file("Person\nhorse\nRed Car\nBoat\n");
    CHECK_EQ_INT(vlm_vocab_load(p, &w, err, sizeof err), 0);
    CHECK(strcmp(v.sha, w.sha) != 0);
    vlm_vocab_free(&w);
    unlink(p);
    vlm_vocab_free(&v);

    p = write_file("# nothing\n\n");
    CHECK_EQ_INT(vlm_vocab_load(p, &v, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "no tags") != NULL);
    unlink(p);
    p = write_file("ok\nbad \"quote\"\n");
    CHECK_EQ_INT(vlm_vocab_load(p, &v, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, ":2:") != NULL);
    unlink(p);
    CHECK_EQ_INT(vlm_vocab_load("/nonexistent/voc.txt", &v, err, sizeof err), AITAG_ERR_IO);
    CHECK(strstr(err, "/nonexistent/voc.txt") != NULL);
}

static void test_prompt_and_answer(void)
{
    struct vlm_vocab v;
    struct vlm_answer a;
    char err[256] = "", *prompt;
    const char *p = write_file("Person\nHorse\nBeach\n");

    CHECK_EQ_INT(vlm_vocab_load(p, &v, err, sizeof err), 0);
    unlink(p);
    prompt = vlm_system_prompt(&v, 0);
    CHECK(prompt && strstr(prompt, "\nTags:\nPerson\nHorse\nBeach\n\n") != NULL);
    CHECK(prompt && strstr(prompt, "\"description\"") == NULL);
    free(prompt);
    prompt = vlm_system_prompt(&v, 1);
    CHECK(prompt && strstr(prompt, "\"description\"") != NULL);
    free(prompt);

    /* Fences, case, unknown names, missing and out-of-range confidences, duplicates. */
    CHECK_EQ_INT(
        vlm_answer_parse("```json\n{\"tags\": [{\"name\": \"PERSON\", \"confidence\": 0.4},"
                         " {\"name\": \"horse\"}, {\"name\": \"Unicorn\", \"confidence\": 1},"
                         " {\"name\": \"beach\", \"confidence\": 7}, \"person\","
                         " {\"name\": 3}], \"description\": \"Two horses.\"}\n```\n",
                         &v, &a, err, sizeof err),
        0);
    CHECK_EQ_INT(a.n_tags, 3);
    CHECK_EQ_INT(a.n_dropped, 2);
    if (a.n_tags == 3) { /* fewer when the vocabulary could not be loaded */
        CHECK_STR(a.tags[0].name, "Person");
        CHECK_NEAR(a.tags[0].confidence, 1.0, 1e-6); /* the bare "person" string: confidence 1 */
        CHECK_STR(a.tags[1].name, "Horse");
        CHECK_NEAR(a.tags[1].confidence, 1.0, 1e-6);
        CHECK_STR(a.tags[2].name, "Beach");
        CHECK_NEAR(a.tags[2].confidence, 1.0, 1e-6);
    }
    CHECK_STR(a.description, "Two horses.");
    vlm_answer_free(&a);

    CHECK_EQ_INT(vlm_answer_parse("{\"tags\": [{\"name\": \"Horse\", \"confidence\": -2}]}", &v, &a,
                                  err, sizeof err),
                 0);
    CHECK_EQ_INT(a.n_tags, 1);
    if (a.n_tags == 1)
        CHECK_NEAR(a.tags[0].confidence, 0.0, 1e-6);
    CHECK(a.description == NULL);
    vlm_answer_free(&a);
    CHECK_EQ_INT(vlm_answer_parse("{}", &v, &a, err, sizeof err), 0);
    CHECK_EQ_INT(a.n_tags, 0);
    vlm_answer_free(&a);

    CHECK_EQ_INT(vlm_answer_parse("Sure! Person, Horse", &v, &a, err, sizeof err),
                 AITAG_ERR_INVALID);
    CHECK(strstr(err, "not a JSON object") != NULL);
    CHECK(a.tags == NULL);
    CHECK_EQ_INT(vlm_answer_parse("[1, 2]", &v, &a, err, sizeof err), AITAG_ERR_INVALID);
    CHECK_EQ_INT(vlm_answer_parse("{\"tags\": \"Person\"}", &v, &a, err, sizeof err),
                 AITAG_ERR_INVALID);
    CHECK(strstr(err, "\"tags\"") != NULL);
    CHECK_EQ_INT(vlm_answer_parse("```", &v, &a, err, sizeof err), AITAG_ERR_INVALID);
    CHECK_EQ_INT(vlm_answer_parse("", &v, &a, err, sizeof err), AITAG_ERR_INVALID);
    vlm_vocab_free(&v);
}

/* The chat completion around the content: choices[0].message.content or a clear error. */
static void test_chat_content(void)
{
    static const char good[] =
        "{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"{\\\"tags\\\":[]}\"}}]}";
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "{\"choices\":[]}",
        "{\"choices\":[{\"message\":{}}]}",
        "{\"choices\":[{\"message\":{\"content\":null}}]}",
        "{\"choices\":[{\"message\":{\"content\":[\"a\"]}}]}",
        "{\"choices\":{\"message\":{\"content\":\"a\"}}}",
    };
    static const char nul[] = "{\"choices\":[{\"message\":{\"content\":\"a\\u0000b\"}}]}";
    char err[256], *content = NULL;

    CHECK(vlm_chat_content(good, sizeof good - 1, &content, err, sizeof err) == 0);
    CHECK_STR(content, "{\"tags\":[]}");
    free(content);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        content = (char *)"unchanged";
        CHECK(vlm_chat_content(bad[i], strlen(bad[i]), &content, err, sizeof err) ==
              AITAG_ERR_INVALID);
        CHECK(content == NULL && strstr(err, "choices[0].message.content") != NULL);
    }
    CHECK(vlm_chat_content(nul, sizeof nul - 1, &content, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(vlm_chat_content(NULL, 0, &content, err, sizeof err) == AITAG_ERR_INVALID);
}

static void test_options(void)
{
    void *st;
    char err[256] = "";
    struct aitag_view_spec spec[2];

    CHECK(is_loopback_url("http://127.0.0.1:8089/v1"));
    CHECK(is_loopback_url("http://localhost/v1"));
    CHECK(is_loopback_url("https://[::1]:8443/v1"));
    CHECK(is_loopback_url("http://user:pw@127.0.0.2/v1"));
    CHECK(!is_loopback_url("http://192.168.1.5:8089/v1"));
    CHECK(!is_loopback_url("http://127.0.0.1.example.com/v1"));
    CHECK(!is_loopback_url("http://localhost.evil/v1"));
    CHECK(!is_loopback_url("http://[::2]/v1"));
    CHECK(!is_loopback_url("http://127.0.0.1@evil.com/v1"));

    CHECK_EQ_INT(vlm_create(NULL, NULL, &st, err, sizeof err), 0);
    CHECK_EQ_INT(vlm_configure(st, "color", "blue", err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "color") != NULL);
    CHECK_EQ_INT(vlm_configure(st, "every", "soon", err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "every") != NULL);
    CHECK_EQ_INT(vlm_configure(st, "every", "-1", err, sizeof err), AITAG_ERR_INVALID);
    CHECK_EQ_INT(vlm_configure(st, "describe", "maybe", err, sizeof err), AITAG_ERR_INVALID);
    CHECK_EQ_INT(vlm_configure(st, "url", "ftp://x/v1", err, sizeof err), AITAG_ERR_INVALID);
    CHECK_EQ_INT(vlm_ready(st, err, sizeof err), AITAG_ERR_INVALID); /* no vocabulary */
    CHECK(strstr(err, "vocabulary") != NULL);
    vlm_destroy(st);

    CHECK_EQ_INT(vlm_create(NULL, NULL, &st, err, sizeof err), 0);
    CHECK_EQ_INT(vlm_configure(st, "url", "http://10.0.0.9:8089/v1/", err, sizeof err), 0);
    CHECK_EQ_INT(vlm_configure(st, "local_only", "true", err, sizeof err), 0);
    CHECK_EQ_INT(vlm_configure(st, "vocabulary", vocab_path, err, sizeof err), 0);
    CHECK_EQ_INT(vlm_ready(st, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "10.0.0.9") != NULL);
    vlm_destroy(st);

    /* Keys: equal settings, equal keys; every, describe, route and the vocabulary count. */
    {
        const char *opts[][2] = {
            {"every", "10"}, {"describe", "1"}, {"route", "llava"}, {"timeout_ms", "500"}};
        char base[512];
        CHECK_EQ_INT(vlm_create(NULL, NULL, &st, err, sizeof err), 0);
        CHECK_EQ_INT(vlm_configure(st, "vocabulary", vocab_path, err, sizeof err), 0);
        CHECK_EQ_INT(vlm_ready(st, err, sizeof err), 0);
        snprintf(base, sizeof base, "%s", vlm_key(st));
        CHECK_EQ_INT(vlm_views(st, spec, 2), 1);
        CHECK_EQ_INT(spec[0].width, 512);
        CHECK_EQ_INT(spec[0].fit, AITAG_FIT_MAX_SIDE);
        vlm_destroy(st);
        for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
            CHECK_EQ_INT(vlm_create(NULL, NULL, &st, err, sizeof err), 0);
            CHECK_EQ_INT(vlm_configure(st, "vocabulary", vocab_path, err, sizeof err), 0);
            CHECK_EQ_INT(vlm_configure(st, opts[i][0], opts[i][1], err, sizeof err), 0);
            CHECK_EQ_INT(vlm_ready(st, err, sizeof err), 0);
            /* timeout_ms changes whether a call succeeds, not what it answers */
            CHECK((strcmp(vlm_key(st), base) == 0) == (strcmp(opts[i][0], "timeout_ms") == 0));
            vlm_destroy(st);
        }
    }
}

static void test_jpeg(void)
{
    struct aitag_view v = {0};
    unsigned char *jpeg = NULL;
    size_t len = 0;
    char err[256] = "";

    v.width = v.content_w = 64;
    v.height = v.content_h = 38;
    v.stride = 64 * 3;
    v.rgb = malloc((size_t)v.stride * (size_t)v.height);
    for (int i = 0; i < v.stride * v.height; i++)
        v.rgb[i] = (uint8_t)(i * 7);
    CHECK_EQ_INT(
        aitag_media_encode_jpeg(v.rgb, v.width, v.height, v.stride, &jpeg, &len, err, sizeof err),
        0);
    CHECK(len > 100);
    CHECK(jpeg && jpeg[0] == 0xff && jpeg[1] == 0xd8);
    CHECK(jpeg && jpeg[len - 2] == 0xff && jpeg[len - 1] == 0xd9);
    /* The SOF0 marker carries the view's size. */
    {
        int found = 0;
        for (size_t i = 2; jpeg && i + 9 < len && !found; i++)
            if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
                CHECK_EQ_INT((jpeg[i + 5] << 8) | jpeg[i + 6], 38);
                CHECK_EQ_INT((jpeg[i + 7] << 8) | jpeg[i + 8], 64);
                found = 1;
            }
        CHECK(found);
    }
    free(jpeg);
    free(v.rgb);
}

static void test_policy_description(void)
{
    struct aitag_policy *p;
    struct aitag_evidence ev[] = {
        {.analyzer = "vlm", .label = "Horse", .confidence = 0.9f},
        {.analyzer = "vlm",
         .label = "description",
         .confidence = 1,
         .text = "Two horses in a field."},
        {.analyzer = "text", .label = "text", .confidence = 0.9f, .text = "EXIT"},
    };
    struct aitag_sampling s[] = {{"vlm", 0, 1}, {"text", 0, 1}};
    struct aitag_derive_input in = {1, 0, ev, 3, s, 2, NULL, 0, NULL, 0};
    struct aitag_result r = {0};

    CHECK_EQ_INT(aitag_policy_new(&p), 0);
    CHECK_EQ_INT(aitag_policy_derive(p, &in, &r), 0);
    CHECK_EQ_INT(r.n_tags, 2); /* Horse and text; not "description" */
    for (size_t i = 0; i < r.n_tags; i++)
        CHECK(strcmp(r.tags[i].name, "description") != 0);
    CHECK_EQ_INT(r.n_texts, 1);
    CHECK_STR(r.texts[0].text, "EXIT");
    CHECK_STR(r.description, "Two horses in a field.");
    aitag_result_clear(&r);
    CHECK(r.description == NULL);
    aitag_policy_free(p);
}

static void test_tagger_options(void)
{
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_tagger *t = NULL;
    const char *names[] = {"vlm"};
    char voc[128], err[512] = "";
    const char *opts[3];

    snprintf(voc, sizeof voc, "vlm.vocabulary=%s", vocab_path);
    tp.catalog_path = "/tmp/aitag-vlm-none.db";
    tp.dry_run = 1;
    tp.analyzers = names;
    tp.n_analyzers = 1;
    tp.analyzer_opts = opts;

    opts[0] = voc;
    tp.n_analyzer_opts = 1;
    CHECK_EQ_INT(aitag_tagger_new(&tp, &t, err, sizeof err), 0);
    aitag_tagger_free(t);
    t = NULL;

    opts[1] = "faces.size=3";
    tp.n_analyzer_opts = 2;
    CHECK_EQ_INT(aitag_tagger_new(&tp, &t, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(t == NULL && strstr(err, "faces.size=3") != NULL);

    opts[1] = "vlm.colour=blue";
    CHECK_EQ_INT(aitag_tagger_new(&tp, &t, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "analyzer vlm") != NULL && strstr(err, "colour") != NULL);

    opts[1] = "vlm.every";
    CHECK_EQ_INT(aitag_tagger_new(&tp, &t, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "key=value") != NULL);

    tp.n_analyzer_opts = 0; /* vocabulary is required */
    CHECK_EQ_INT(aitag_tagger_new(&tp, &t, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "vocabulary") != NULL);
}

int main(void)
{
    snprintf(vocab_path, sizeof vocab_path, "%s", write_file("Person\nHorse\n"));
    test_vocab();
    test_prompt_and_answer();
    test_chat_content();
    test_options();
    test_jpeg();
    test_policy_description();
    test_tagger_options();
    unlink(vocab_path);
    return check_done();
}
