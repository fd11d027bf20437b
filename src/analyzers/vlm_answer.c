/*
 * vlm_answer.c - the words the VLM may use and what it said: the vocabulary file, the system
 * prompt built from it, and the validation of an answer against it.
 *
 * The vocabulary is the contract: a model may invent names, misspell case or wrap its JSON in
 * Markdown fences (many do even when asked for a JSON object), so the answer is parsed
 * leniently in shape but strictly in content. Only names that match a vocabulary entry
 * (case-insensitively) survive, spelled as the vocabulary spells them; everything else is
 * counted and dropped. Content that is not a JSON object at all is an error: storing nothing
 * is better than storing a guess. The content itself is taken from the chat completion's JSON
 * here too (vlm_chat_content), so every byte the service sends is parsed in this file.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "vlm_int.h"

void vlm_vocab_free(struct vlm_vocab *v)
{
    for (size_t i = 0; v && i < v->n; i++)
        free(v->tags[i]);
    if (v) {
        free(v->tags);
        memset(v, 0, sizeof *v);
    }
}

const char *vlm_vocab_match(const struct vlm_vocab *v, const char *name)
{
    size_t len;

    while (isspace((unsigned char)*name))
        name++;
    len = strlen(name);
    while (len && isspace((unsigned char)name[len - 1]))
        len--;
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->tags[i]) == len && strncasecmp(v->tags[i], name, len) == 0)
            return v->tags[i];
    return NULL;
}

static int vocab_add(struct vlm_vocab *v, const char *tag, const char *path, int line, char *err,
                     size_t errlen)
{
    size_t len = strlen(tag);

    if (len > VLM_MAX_TAG_LEN) {
        snprintf(err, errlen, "vocabulary %s:%d: tag longer than %d bytes", path, line,
                 VLM_MAX_TAG_LEN);
        return AITAG_ERR_INVALID;
    }
    for (const char *p = tag; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\') {
            snprintf(err, errlen, "vocabulary %s:%d: tag has a control character, quote or "
                     "backslash", path, line);
            return AITAG_ERR_INVALID;
        }
    if (vlm_vocab_match(v, tag))
        return 0;
    if (v->n == VLM_MAX_VOCAB) {
        snprintf(err, errlen, "vocabulary %s: more than %d tags", path, VLM_MAX_VOCAB);
        return AITAG_ERR_INVALID;
    }
    if (!v->tags && !(v->tags = calloc(VLM_MAX_VOCAB, sizeof *v->tags)))
        return AITAG_ERR_NOMEM;
    if (!(v->tags[v->n] = strdup(tag)))
        return AITAG_ERR_NOMEM;
    v->n++;
    return 0;
}

int vlm_vocab_load(const char *path, struct vlm_vocab *v, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char buf[1024], *joined = NULL;
    size_t len = 0;
    int rc = 0, line = 0;

    memset(v, 0, sizeof *v);
    if (!f) {
        snprintf(err, errlen, "vocabulary %s: cannot open", path);
        return AITAG_ERR_IO;
    }
    while (rc == 0 && fgets(buf, sizeof buf, f)) {
        char *s;
        line++;
        if (!strchr(buf, '\n') && !feof(f)) {
            snprintf(err, errlen, "vocabulary %s:%d: line too long", path, line);
            rc = AITAG_ERR_INVALID;
            break;
        }
        s = aitag_trim(buf);
        if (*s && *s != '#')
            rc = vocab_add(v, s, path, line, err, errlen);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "vocabulary %s: read error", path);
        rc = AITAG_ERR_IO;
    }
    if (rc == 0 && v->n == 0) {
        snprintf(err, errlen, "vocabulary %s: no tags (one tag per line)", path);
        rc = AITAG_ERR_INVALID;
    }
    fclose(f);
    if (rc == 0) {
        joined = malloc(v->n * (VLM_MAX_TAG_LEN + 1) + 1);
        if (!joined)
            rc = AITAG_ERR_NOMEM;
        for (size_t i = 0; joined && i < v->n; i++) {
            size_t n = strlen(v->tags[i]);
            memcpy(joined + len, v->tags[i], n);
            len += n;
            joined[len++] = '\n';
        }
        if (joined)
            aitag_sha256_buf(joined, len, v->sha);
        free(joined);
    }
    if (rc == AITAG_ERR_NOMEM)
        snprintf(err, errlen, "vocabulary: out of memory");
    if (rc < 0)
        vlm_vocab_free(v);
    return rc;
}

char *vlm_system_prompt(const struct vlm_vocab *v, int describe)
{
    static const char head[] =
        "You tag pictures for a media library. Use only tags from this list, spelled exactly "
        "as written.\nTags:\n";
    static const char shape_tags[] =
        "\nAnswer with one JSON object and nothing else, of exactly this shape:\n"
        "{\"tags\": [{\"name\": \"<a tag from the list>\", \"confidence\": <0 to 1>}]";
    static const char shape_desc[] =
        ", \"description\": \"<one or two plain sentences describing the picture>\"";
    static const char tail[] = "}\nList only tags that clearly apply to the picture; an empty "
                               "list is a valid answer.\n";
    size_t size = sizeof head + sizeof shape_tags + sizeof shape_desc + sizeof tail, len = 0;
    char *p;

    for (size_t i = 0; i < v->n; i++)
        size += strlen(v->tags[i]) + 1;
    p = malloc(size);
    if (!p)
        return NULL;
#define PUT(s)                                                                                 \
    do {                                                                                       \
        size_t n_ = strlen(s);                                                                 \
        memcpy(p + len, s, n_);                                                                \
        len += n_;                                                                             \
    } while (0)
    PUT(head);
    for (size_t i = 0; i < v->n; i++) {
        PUT(v->tags[i]);
        PUT("\n");
    }
    PUT(shape_tags);
    if (describe)
        PUT(shape_desc);
    PUT(tail);
#undef PUT
    p[len] = '\0';
    return p;
}

int vlm_chat_content(const char *body, size_t len, char **content, char *err, size_t errlen)
{
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    json_t *text = json_object_get(msg, "content");
    int rc = AITAG_ERR_INVALID;

    *content = NULL;
    if (!json_is_string(text)) {
        snprintf(err, errlen, "no choices[0].message.content in the answer");
        goto out;
    }
    *content = strdup(json_string_value(text));
    rc = *content ? 0 : AITAG_ERR_NOMEM;
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
out:
    json_decref(root);
    return rc;
}

void vlm_answer_free(struct vlm_answer *a)
{
    free(a->tags);
    free(a->description);
    memset(a, 0, sizeof *a);
}

/* The JSON inside optional ``` fences (```json ... ```); a copy the caller frees. */
static char *unfence(const char *content)
{
    const char *s = content, *e;
    char *out;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e - s >= 6 && strncmp(s, "```", 3) == 0) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        s = nl ? nl + 1 : s + 3;
        if (e - s >= 3 && strncmp(e - 3, "```", 3) == 0)
            e -= 3;
        if (e < s)
            e = s;
    }
    out = malloc((size_t)(e - s) + 1);
    if (out) {
        memcpy(out, s, (size_t)(e - s));
        out[e - s] = '\0';
    }
    return out;
}

static int add_tag(struct vlm_answer *a, const char *name, float conf, size_t max)
{
    for (size_t i = 0; i < a->n_tags; i++)
        if (a->tags[i].name == name) {
            if (conf > a->tags[i].confidence)
                a->tags[i].confidence = conf;
            return 0;
        }
    if (a->n_tags == max)
        return 0;
    a->tags[a->n_tags++] = (struct vlm_tag){name, conf};
    return 0;
}

int vlm_answer_parse(const char *content, const struct vlm_vocab *v, struct vlm_answer *out,
                     char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = NULL, *tags, *desc, *el;
    char *text = unfence(content);
    size_t i;
    int rc = AITAG_ERR_INVALID;

    memset(out, 0, sizeof *out);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    root = json_loads(text, 0, &jerr);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "answer is not a JSON object (%s): \"%.60s\"",
                 root ? "another JSON value" : jerr.text, text);
        goto out;
    }
    tags = json_object_get(root, "tags");
    if (tags && !json_is_array(tags)) {
        snprintf(err, errlen, "answer's \"tags\" is not an array");
        goto out;
    }
    out->tags = calloc(v->n + 1, sizeof *out->tags);
    if (!out->tags) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    json_array_foreach(tags, i, el) {
        json_t *name = json_is_string(el) ? el : json_object_get(el, "name");
        json_t *conf = json_is_object(el) ? json_object_get(el, "confidence") : NULL;
        const char *canon = json_is_string(name) ? vlm_vocab_match(v, json_string_value(name))
                                                 : NULL;
        double c = json_is_number(conf) ? json_number_value(conf) : 1.0;

        if (!canon) {
            out->n_dropped++;
            continue;
        }
        c = c < 0 ? 0 : c > 1 ? 1 : c;
        add_tag(out, canon, (float)c, v->n);
    }
    desc = json_object_get(root, "description");
    if (json_is_string(desc) && json_string_length(desc) > 0) {
        out->description = strdup(json_string_value(desc));
        if (!out->description) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
    }
    rc = 0;
out:
    if (rc == AITAG_ERR_NOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc < 0)
        vlm_answer_free(out);
    json_decref(root);
    free(text);
    return rc;
}
