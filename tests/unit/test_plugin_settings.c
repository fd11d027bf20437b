/* test_plugin_settings.c - the Stash settings resolve through the option table: its defaults,
 * ranges and types; threshold percent becomes a fraction; 0 means unset. */
#include <stdlib.h>
#include <string.h>

#include "../../src/plugin/plugin_int.h"
#include "aitag/options.h"
#include "check.h"

/* The option table's default text for a `tag` option, or NULL. */
static const char *table_def(const char *key)
{
    size_t n;
    const struct aitag_opt_def *t = aitag_option_table(&n);

    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, key) == 0 && aitag_option_accepts(&t[i], "tag"))
            return t[i].def;
    return NULL;
}

int main(void)
{
    struct plugin_settings s;
    char err[512] = "";

    /* No settings: every mapped default is the option table's. */
    CHECK(plugin_settings_parse("{}", &s, err, sizeof err) == 0);
    CHECK(s.interval == strtod(table_def("interval"), NULL));
    CHECK(strcmp(s.analyzers, table_def("analyzers")) == 0);
    CHECK(s.markers == (strcmp(table_def("markers"), "true") == 0));
    CHECK(s.local_only == (strcmp(table_def("local-only"), "true") == 0));
    CHECK(table_def("threshold") == NULL && s.threshold < 0); /* the policy's */
    CHECK(strcmp(s.catalog, "") == 0 && strcmp(s.rules, "") == 0);
    CHECK(s.write_cues == 0); /* technical cues stay in the catalog unless asked for */
    plugin_settings_clear(&s);
    CHECK(plugin_settings_parse("{\"writeCues\": true}", &s, err, sizeof err) == 0);
    CHECK(s.write_cues == 1);
    plugin_settings_clear(&s);
    CHECK(plugin_settings_parse("{\"writeCues\": \"true\"}", &s, err, sizeof err) == 0);
    CHECK(s.write_cues == 1);
    plugin_settings_clear(&s);
    {
        /* The view Stash gets without cues: cue tags and their markers left out, the rest
         * kept, nothing copied. */
        struct aitag_result r = {0}, v;
        CHECK(aitag_result_add_tag(&r, "black", NULL, "cue:black", 1, 0.1f) == 0);
        CHECK(aitag_result_add_tag(&r, "face", "AI", "face", 0.9f, 0.5f) == 0);
        CHECK(aitag_result_add_marker(&r, "black", 4, 6, 1) == 0);
        CHECK(aitag_result_add_marker(&r, "face", 0, 20, 0.9f) == 0);
        CHECK(plugin_result_view(&r, 0, 0, &v) == 0);
        CHECK(v.n_tags == 1 && strcmp(v.tags[0].name, "face") == 0);
        CHECK(v.n_markers == 1 && strcmp(v.markers[0].tag, "face") == 0);
        CHECK(v.n_tags == 1 && v.tags[0].name == r.tags[1].name);
        plugin_result_view_free(&v);
        aitag_result_clear(&r);
    }
    {
        /* writeTranscript markers: the speech tag's markers give way to one marker per
         * spoken line, titled with its words; OCR lines and other markers stay as they were;
         * the transcript for Details is the spoken lines, one per line. */
        struct aitag_result r = {0}, v;
        char *text = NULL;
        CHECK(aitag_result_add_tag(&r, "AI:speech", NULL, "speech", 0.9f, 0.5f) == 0);
        CHECK(aitag_result_add_tag(&r, "AI:face", NULL, "face", 0.9f, 0.5f) == 0);
        CHECK(aitag_result_add_marker(&r, "AI:speech", 1, 14, 0.9f) == 0);
        CHECK(aitag_result_add_marker(&r, "AI:face", 0, 20, 0.9f) == 0);
        CHECK(aitag_result_add_text(&r, 1, 5, "hello there", 0.9f, "speech", "en") == 0);
        CHECK(aitag_result_add_text(&r, 2, 4, "EXIT", 0.9f, "text", NULL) == 0);
        CHECK(aitag_result_add_text(&r, 8, 14, "good bye", 0.8f, "speech", "en") == 0);
        CHECK(plugin_result_view(&r, 0, 1, &v) == 0);
        CHECK_EQ_INT(v.n_markers, 3);
        CHECK(v.n_markers == 3 && strcmp(v.markers[0].tag, "AI:face") == 0 && !v.markers[0].title);
        CHECK(v.n_markers == 3 && strcmp(v.markers[1].tag, "AI:speech") == 0 &&
              v.markers[1].start == 1 && v.markers[1].end == 5 &&
              strcmp(v.markers[1].title, "hello there") == 0);
        CHECK(v.n_markers == 3 && strcmp(v.markers[2].title, "good bye") == 0);
        plugin_result_view_free(&v);
        CHECK(plugin_result_view(&r, 0, 0, &v) == 0);
        CHECK(v.n_markers == 2 && !v.markers[0].title && !v.markers[1].title);
        plugin_result_view_free(&v);
        CHECK(plugin_transcript_text(&r, &text) == 0);
        CHECK(text && strcmp(text, "hello there\ngood bye") == 0);
        free(text);
        aitag_result_clear(&r);
    }
    CHECK(plugin_settings_parse("{\"writeTranscript\": \"markers\"}", &s, err, sizeof err) == 0);
    CHECK(s.transcript == PLUGIN_TRANSCRIPT_MARKERS);
    plugin_settings_clear(&s);
    CHECK(plugin_settings_parse("{\"writeTranscript\": \"\"}", &s, err, sizeof err) == 0);
    CHECK(s.transcript == PLUGIN_TRANSCRIPT_OFF);
    plugin_settings_clear(&s);
    CHECK(plugin_settings_parse("{\"writeTranscript\": \"loud\"}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "writeTranscript") != NULL);
    plugin_settings_clear(&s);

    /* Stash's encodings: an unset NUMBER is 0, percent becomes a fraction, strings work. */
    CHECK(plugin_settings_parse("{\"interval\": 0, \"threshold\": 40, \"markers\": false,"
                                " \"localOnly\": \"yes\", \"analyzers\": \"\","
                                " \"catalog\": \"/c.db\", \"rules\": \"/r.json\"}",
                                &s, err, sizeof err) == 0);
    CHECK(s.interval == strtod(table_def("interval"), NULL));
    CHECK(s.threshold > 0.399f && s.threshold < 0.401f);
    CHECK(s.markers == 0 && s.local_only == 1);
    CHECK(strcmp(s.analyzers, table_def("analyzers")) == 0);
    CHECK(strcmp(s.catalog, "/c.db") == 0 && strcmp(s.rules, "/r.json") == 0);
    plugin_settings_clear(&s);
    CHECK(plugin_settings_parse("{\"interval\": \"0.5\", \"threshold\": 0.25}", &s, err,
                                sizeof err) == 0);
    CHECK(s.interval == 0.5 && s.threshold == 0.25f);
    plugin_settings_clear(&s);

    /* Ranges and types are the option table's; the message names the setting. */
    CHECK(plugin_settings_parse("{\"interval\": 5000}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "setting interval") && strstr(err, "3600"));
    CHECK(plugin_settings_parse("{\"threshold\": 150}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "setting threshold") != NULL);
    CHECK(plugin_settings_parse("{\"markers\": \"maybe\"}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "setting markers") != NULL);
    CHECK(plugin_settings_parse("{\"interval\": \"abc\"}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "setting interval") != NULL);
    CHECK(plugin_settings_parse("{\"analyzers\": [1]}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "setting analyzers") != NULL);
    return check_done();
}
