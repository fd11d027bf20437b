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
        CHECK(plugin_result_without_cues(&r, &v) == 0);
        CHECK(v.n_tags == 1 && strcmp(v.tags[0].name, "face") == 0);
        CHECK(v.n_markers == 1 && strcmp(v.markers[0].tag, "face") == 0);
        CHECK(v.n_tags == 1 && v.tags[0].name == r.tags[1].name);
        plugin_result_view_free(&v);
        aitag_result_clear(&r);
    }

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
