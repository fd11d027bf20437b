/*
 * result.c - growing and freeing struct aitag_result. Every string is owned by the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/policy.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int aitag_result_add_tag(struct aitag_result *r, const char *name, const char *parent,
                         const char *label, float confidence, float coverage)
{
    struct aitag_tag_result t = {strdup(name), dup_or_null(parent), dup_or_null(label), confidence,
                                 coverage};

    if (!t.name || (parent && !t.parent) || (label && !t.label))
        goto fail;
    {
        void *g = realloc(r->tags, (r->n_tags + 1) * sizeof *r->tags);
        if (!g)
            goto fail;
        r->tags = g;
    }
    r->tags[r->n_tags++] = t;
    return 0;
fail:
    free(t.name), free(t.parent), free(t.label);
    return AITAG_ERR_NOMEM;
}

int aitag_result_add_marker(struct aitag_result *r, const char *tag, double start, double end,
                            float confidence)
{
    char *t = strdup(tag);

    if (!t)
        return AITAG_ERR_NOMEM;
    {
        void *g = realloc(r->markers, (r->n_markers + 1) * sizeof *r->markers);
        if (!g) {
            free(t);
            return AITAG_ERR_NOMEM;
        }
        r->markers = g;
    }
    r->markers[r->n_markers++] = (struct aitag_marker_result){t, start, end, confidence, NULL};
    /* cppcheck-suppress memleak ; stored by the compound literal above (cppcheck misses it) */
    return 0;
}

int aitag_result_add_text(struct aitag_result *r, double start, double end, const char *text,
                          float confidence, const char *source, const char *lang)
{
    char *t = strdup(text);

    if (!t)
        return AITAG_ERR_NOMEM;
    {
        void *g = realloc(r->texts, (r->n_texts + 1) * sizeof *r->texts);
        if (!g) {
            free(t);
            return AITAG_ERR_NOMEM;
        }
        r->texts = g;
    }
    r->texts[r->n_texts] = (struct aitag_text_result){start, end, t, confidence, "", ""};
    snprintf(r->texts[r->n_texts].source, sizeof r->texts->source, "%s",
             source && *source ? source : "text");
    snprintf(r->texts[r->n_texts].lang, sizeof r->texts->lang, "%s", lang ? lang : "");
    r->n_texts++;
    /* cppcheck-suppress memleak ; stored by the compound literal above (cppcheck misses it) */
    return 0;
}

int aitag_result_set_description(struct aitag_result *r, const char *text)
{
    char *d = strdup(text);

    if (!d)
        return AITAG_ERR_NOMEM;
    free(r->description);
    r->description = d;
    return 0;
}

int aitag_evidence_is_description(const char *analyzer, const char *label)
{
    return strcmp(analyzer, "vlm") == 0 && strcmp(label, "description") == 0;
}

void aitag_result_clear(struct aitag_result *r)
{
    for (size_t i = 0; i < r->n_tags; i++) {
        free(r->tags[i].name);
        free(r->tags[i].parent);
        free(r->tags[i].label);
    }
    for (size_t i = 0; i < r->n_markers; i++)
        free(r->markers[i].tag);
    for (size_t i = 0; i < r->n_texts; i++)
        free(r->texts[i].text);
    free(r->tags);
    free(r->markers);
    free(r->texts);
    free(r->description);
    free(r->shots);
    memset(r, 0, sizeof *r);
}
