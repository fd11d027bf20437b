/*
 * vlm_int.h - internals of the "vlm" analyzer, shared by vlm.c (options, per-item pacing,
 * evidence), vlm_request.c (JPEG, request body, HTTP) and vlm_answer.c (answer parsing).
 */
#ifndef AITAG_VLM_INT_H
#define AITAG_VLM_INT_H

#include <stddef.h>

#include "aitag/analyzer.h"

#define VLM_MAX_VOCAB 500   /* tags in a vocabulary: the prompt lists them all */
#define VLM_MAX_TAG_LEN 100 /* bytes per tag name */

/* The user's tag vocabulary in file order, duplicates (case-insensitive) removed. */
struct vlm_vocab {
    char **tags;
    size_t n;
    char sha[65]; /* sha256 of the tags joined by '\n': comments and blank lines don't count */
};

/* Reads a vocabulary file (one tag per line, '#' comments, blank lines ignored). Returns 0, or
 * AITAG_ERR_IO / AITAG_ERR_INVALID / AITAG_ERR_NOMEM with err naming the file and line. The
 * caller frees with vlm_vocab_free. */
int vlm_vocab_load(const char *path, struct vlm_vocab *v, char *err, size_t errlen);
void vlm_vocab_free(struct vlm_vocab *v);
/* The vocabulary's own spelling of name (case-insensitive, surrounding blanks ignored), or
 * NULL when name is not in it. Borrowed from v. */
const char *vlm_vocab_match(const struct vlm_vocab *v, const char *name);

struct vlm_tag {
    const char *name; /* borrowed from the vocabulary */
    float confidence; /* 0..1 */
};

/* One answer, validated against the vocabulary. */
struct vlm_answer {
    struct vlm_tag *tags; /* each vocabulary tag at most once (best confidence kept) */
    size_t n_tags;
    size_t n_dropped;     /* names the answer gave that are not in the vocabulary */
    char *description;    /* NULL when the answer has none */
};

/* Parses the model's message content: one JSON object, optionally inside ``` fences, of the
 * shape {"tags": [{"name": ..., "confidence": 0..1}], "description": ...}. Tags outside the
 * vocabulary are dropped and counted; a missing confidence is 1; confidences are clamped to
 * 0..1. Returns 0, or AITAG_ERR_INVALID with err saying what is wrong with the content, or
 * AITAG_ERR_NOMEM. out is freed with vlm_answer_free either way. */
int vlm_answer_parse(const char *content, const struct vlm_vocab *v, struct vlm_answer *out,
                     char *err, size_t errlen);
void vlm_answer_free(struct vlm_answer *a);
/* The message content of an OpenAI-compatible chat completion answer (len bytes of network
 * JSON, read without NUL characters in strings): choices[0].message.content. 0 with *content
 * (free() it), AITAG_ERR_INVALID when the answer is no such JSON (err says what is missing),
 * or AITAG_ERR_NOMEM. */
int vlm_chat_content(const char *body, size_t len, char **content, char *err, size_t errlen);

/* The system prompt for a vocabulary: lists every tag on its own line after a line "Tags:",
 * ended by an empty line, then the exact JSON shape expected (with "description" only when
 * describe). Caller frees; NULL when out of memory. */
char *vlm_system_prompt(const struct vlm_vocab *v, int describe);

struct vlm_http;

struct vlm_call {
    const char *url;         /* base ending in /v1 */
    const char *route;       /* model name */
    const char *bearer;      /* NULL: no Authorization header */
    long timeout_ms;
    int local_only;          /* sends X-Aitag-Local-Only: 1 */
    const char *system;      /* system prompt */
    const char *user;        /* user text */
    const unsigned char *jpeg;
    size_t jpeg_len;
};

/* A connection (kept alive between calls). Returns NULL when out of memory. */
struct vlm_http *vlm_http_new(void);
void vlm_http_free(struct vlm_http *h);
/* POSTs one chat completion and returns the first choice's message content (caller frees).
 * Transport errors, timeouts, non-2xx statuses and answers without a message content are
 * AITAG_ERR_NET / AITAG_ERR_INVALID with err naming the url and the status. */
int vlm_http_chat(struct vlm_http *h, const struct vlm_call *c, char **content, char *err,
                  size_t errlen);

#endif
