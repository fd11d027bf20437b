/*
 * output.c - how results look: the JSON object per item (docs/json.md; its field names are a
 * contract other tools rely on) and the human-readable form, whose first line names the item,
 * its status and, for a failed or partial one, the reason, so a failure is one line that grep
 * finds whole. Shots are one line in the human form (where each shot starts and how), since a
 * film has hundreds; the JSON has them all with their ends.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static double round3(double v)
{
    return (double)(long long)(v * 1000.0 + (v >= 0 ? 0.5 : -0.5)) / 1000.0;
}

json_t *item_json(const char *path, const char *status, const struct aitag_probe *probe,
                  const struct aitag_result *res, const char *error)
{
    json_t *o = json_object(), *tags = json_array(), *markers = json_array(), *text = json_array(),
           *shots = json_array(), *errors = json_array();
    int is_image = probe && probe->kind == AITAG_MEDIA_IMAGE;

    json_object_set_new(o, "path", json_string(path));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "kind", json_string(!probe ? "unknown" : is_image ? "image" : "video"));
    json_object_set_new(o, "duration", json_real(probe ? round3(probe->duration) : 0));
    if (probe && probe->width > 0) {
        json_object_set_new(o, "width", json_integer(probe->width));
        json_object_set_new(o, "height", json_integer(probe->height));
    }
    for (size_t i = 0; res && i < res->n_tags; i++) {
        json_t *t =
            json_pack("{s:s, s:f, s:f}", "name", res->tags[i].name, "confidence",
                      round3(res->tags[i].confidence), "coverage", round3(res->tags[i].coverage));
        if (res->tags[i].parent)
            json_object_set_new(t, "parent", json_string(res->tags[i].parent));
        json_array_append_new(tags, t);
    }
    for (size_t i = 0; res && i < res->n_markers; i++)
        json_array_append_new(markers, json_pack("{s:s, s:f, s:f, s:f}", "tag", res->markers[i].tag,
                                                 "start", round3(res->markers[i].start), "end",
                                                 round3(res->markers[i].end), "confidence",
                                                 round3(res->markers[i].confidence)));
    for (size_t i = 0; res && i < res->n_texts; i++) {
        json_t *line =
            json_pack("{s:f, s:f, s:s, s:f, s:s}", "start", round3(res->texts[i].start), "end",
                      round3(res->texts[i].end), "text", res->texts[i].text, "confidence",
                      round3(res->texts[i].confidence), "source", res->texts[i].source);
        if (line && res->texts[i].lang[0])
            json_object_set_new(line, "lang", json_string(res->texts[i].lang));
        json_array_append_new(text, line);
    }
    for (size_t i = 0; res && i < res->n_shots; i++)
        json_array_append_new(shots, json_pack("{s:f, s:f, s:s, s:f}", "start",
                                               round3(res->shots[i].start), "end",
                                               round3(res->shots[i].end), "edge",
                                               aitag_shot_edge_name(res->shots[i].edge),
                                               "confidence", round3(res->shots[i].confidence)));
    if (res && res->description)
        json_object_set_new(o, "description", json_string(res->description));
    if (error)
        json_array_append_new(errors, json_pack("{s:s}", "message", error));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "markers", markers);
    json_object_set_new(o, "text", text);
    json_object_set_new(o, "shots", shots);
    json_object_set_new(o, "errors", errors);
    return o;
}

void print_json_line(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));

    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    fflush(stdout);
}

static void hms(double s, char *buf, size_t len)
{
    int t = (int)(s + 0.5);
    snprintf(buf, len, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
}

void print_item_human(const char *path, const char *status, const struct aitag_probe *probe,
                      const struct aitag_result *res, const char *error)
{
    printf("%s  [%s]", path, status);
    if (probe && probe->kind == AITAG_MEDIA_VIDEO)
        printf("  video %dx%d %.1f s", probe->width, probe->height, probe->duration);
    else if (probe && probe->kind == AITAG_MEDIA_IMAGE)
        printf("  image %dx%d", probe->width, probe->height);
    if (error)
        printf("  %s", error);
    putchar('\n');
    if (!res)
        return;
    if (res->n_tags) {
        printf("  tags:");
        for (size_t i = 0; i < res->n_tags; i++)
            printf("%s %s (%.2f)", i ? "," : "", res->tags[i].name, res->tags[i].confidence);
        putchar('\n');
    }
    for (size_t i = 0; i < res->n_markers; i++) {
        char a[16], b[16];
        hms(res->markers[i].start, a, sizeof a);
        hms(res->markers[i].end, b, sizeof b);
        printf("  marker: %-12s %s - %s  (%.2f)\n", res->markers[i].tag, a, b,
               res->markers[i].confidence);
    }
    if (res->n_shots) {
        /* one line: a feature film has hundreds of shots */
        printf("  shots:  %zu:", res->n_shots);
        for (size_t i = 0; i < res->n_shots; i++) {
            double t = res->shots[i].start;
            printf("%s %d:%02d:%04.1f %s", i ? "," : "", (int)(t / 3600), (int)(t / 60) % 60,
                   fmod(t, 60), aitag_shot_edge_name(res->shots[i].edge));
        }
        putchar('\n');
    }
    if (res->description)
        printf("  description: %s\n", res->description);
    for (size_t i = 0; i < res->n_texts; i++) {
        char a[16];
        hms(res->texts[i].start, a, sizeof a);
        printf("  %s   %s  \"%s\"\n",
               strcmp(res->texts[i].source, "speech") == 0 ? "said:" : "text:", a,
               res->texts[i].text);
    }
}
