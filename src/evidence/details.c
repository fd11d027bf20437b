/*
 * details.c - the evidence details (keypoints, attributes, embedding; a lasting finding's end,
 * language and words) as JSON text and back.
 *
 * The text is what the catalog's evidence.extra column and the gateway's "extra" field held
 * before evidence had typed fields, and it must stay byte for byte the same: catalogs written
 * by older versions are read by newer ones, and a gateway and its clients may differ in
 * version. So the writer prints with snprintf in the fixed formats of the header (jansson
 * would print 0.25 as 0.25, not 0.2500) and keeps the key order keypoints, score, age, gender,
 * then the embedding. Only generic embeddings go through jansson, because jansson wrote them.
 * The reader uses jansson: it accepts any order and ignores unknown keys. Keypoint lists carry
 * no width, so a list whose length is a multiple of 3 but not of 2 reads as (x, y, score)
 * points (pose: 17 points) and any other as (x, y) points (faces: 6 points).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aitag/evidence.h"

float aitag_evidence_round(float v, int decimals)
{
    double scale = pow(10.0, decimals);

    /* v * 10^d is exact in double for d <= 4; rint rounds half to even like printf */
    return (float)(rint((double)v * scale) / scale);
}

struct out {
    char *data;
    size_t len, cap;
    int rc;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    if (o->rc < 0)
        return;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        o->rc = AITAG_ERR_INVALID;
        return;
    }
    o->rc = aitag_buf_append(&o->data, &o->len, &o->cap, tmp, (size_t)n, 0);
}

static void put_vector(struct out *o, const struct aitag_evidence *e)
{
    json_t *a = json_array();
    char *s = NULL;

    for (int i = 0; a && i < e->n_embedding; i++)
        if (json_array_append_new(a, json_real(e->embedding[i])) < 0)
            break;
    if (a && json_array_size(a) == (size_t)e->n_embedding)
        s = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(7));
    json_decref(a);
    if (!s) {
        o->rc = AITAG_ERR_NOMEM;
        return;
    }
    put(o, "\"dim\":%d,\"embedding\":", e->n_embedding);
    if (o->rc == 0)
        o->rc = aitag_buf_append(&o->data, &o->len, &o->cap, s, strlen(s), 0);
    free(s);
}

/* Appends json (a jansson value, stolen) compactly. */
static void put_json(struct out *o, json_t *v, int flags)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | flags) : NULL;

    json_decref(v);
    if (!s) {
        o->rc = o->rc < 0 ? o->rc : AITAG_ERR_NOMEM;
        return;
    }
    if (o->rc == 0)
        o->rc = aitag_buf_append(&o->data, &o->len, &o->cap, s, strlen(s), 0);
    free(s);
}

static void put_string(struct out *o, const char *key, const char *value)
{
    put(o, "\"%s\":", key);
    put_json(o, json_string(value), JSON_ENCODE_ANY);
}

/* "words":[["hello",1.230,1.500,0.93],...]: the word, its start and end (3 decimals) and its
 * confidence (2 decimals), rounded like the rest of the details. */
static void put_words(struct out *o, const struct aitag_evidence *e)
{
    json_t *a = json_array();

    for (int i = 0; a && i < e->n_words; i++) {
        const struct aitag_word *w = &e->words[i];
        json_t *row =
            json_pack("[s f f f]", w->word ? w->word : "", rint(w->start * 1000.0) / 1000.0,
                      rint(w->end * 1000.0) / 1000.0, rint(w->confidence * 100.0) / 100.0);
        if (!row || json_array_append_new(a, row) < 0) {
            json_decref(a);
            a = NULL;
        }
    }
    put(o, "\"words\":");
    put_json(o, a, JSON_REAL_PRECISION(10));
}

int aitag_evidence_details_json(const struct aitag_evidence *e, char **out)
{
    struct out o = {NULL, 0, 0, 0};
    const char *sep = "{";

    *out = NULL;
    if (e->keypoints && e->n_keypoints > 0 && e->kp_dims > 0) {
        put(&o, "%s\"keypoints\":[", sep);
        for (int i = 0; i < e->n_keypoints * e->kp_dims; i++)
            put(&o, (e->kp_dims == 3 && i % 3 == 2) ? "%s%.3f" : "%s%.4f", i ? "," : "",
                e->keypoints[i]);
        put(&o, "]");
        sep = ",";
    }
    if (e->attrs & AITAG_ATTR_SCORE) {
        put(&o, "%s\"score\":%.4f", sep, e->score);
        sep = ",";
    }
    if (e->attrs & AITAG_ATTR_AGE) {
        put(&o, "%s\"age\":%.1f", sep, e->age);
        sep = ",";
    }
    if (e->attrs & AITAG_ATTR_GENDER) {
        put(&o, "%s\"gender\":%.4f", sep, e->gender);
        sep = ",";
    }
    if (e->embedding && e->n_embedding > 0 && e->embedding_form == AITAG_EMBEDDING_DESCRIPTOR) {
        put(&o, "%s\"descriptor\":[", sep);
        for (int i = 0; i < e->n_embedding; i++)
            put(&o, "%s%.4f", i ? "," : "", e->embedding[i]);
        put(&o, "]");
        sep = ",";
    } else if (e->embedding && e->n_embedding > 0 && e->embedding_form == AITAG_EMBEDDING_VECTOR) {
        put(&o, "%s", sep);
        put_vector(&o, e);
        sep = ",";
    }
    if (e->end > 0) {
        put(&o, "%s\"end\":%.3f", sep, e->end);
        sep = ",";
    }
    if (e->lang && e->lang[0]) {
        put(&o, "%s", sep);
        put_string(&o, "lang", e->lang);
        sep = ",";
    }
    if (e->words && e->n_words > 0) {
        put(&o, "%s", sep);
        put_words(&o, e);
        sep = ",";
    }
    if (sep[0] == '{') /* nothing written */
        return 0;
    put(&o, "}");
    if (o.rc < 0) {
        free(o.data);
        return AITAG_ERR_NOMEM;
    }
    *out = o.data;
    return 0;
}

/* The numbers of array a as n doubles in *out (caller frees); 0, or < 0 when a is not an
 * array of numbers. */
static int numbers(const json_t *a, double **out, size_t *n)
{
    size_t i;
    json_t *v;

    *out = NULL;
    *n = 0;
    if (!json_is_array(a))
        return AITAG_ERR_INVALID;
    if (json_array_size(a) == 0)
        return 0;
    *out = malloc(json_array_size(a) * sizeof **out);
    if (!*out)
        return AITAG_ERR_NOMEM;
    json_array_foreach(a, i, v)
    {
        if (!json_is_number(v)) {
            free(*out);
            *out = NULL;
            return AITAG_ERR_INVALID;
        }
        (*out)[i] = json_number_value(v);
    }
    *n = json_array_size(a);
    return 0;
}

static int read_attr(const json_t *root, const char *key, unsigned bit, float *dst, unsigned *attrs)
{
    const json_t *v = json_object_get(root, key);

    if (!v)
        return 0;
    if (!json_is_number(v))
        return AITAG_ERR_INVALID;
    *dst = (float)json_number_value(v);
    *attrs |= bit;
    return 0;
}

void aitag_evidence_clear_details(struct aitag_evidence *e)
{
    free(e->keypoints);
    free(e->embedding);
    free(e->lang);
    for (int i = 0; e->words && i < e->n_words; i++)
        free(e->words[i].word);
    free(e->words);
    e->keypoints = NULL;
    e->embedding = NULL;
    e->lang = NULL;
    e->words = NULL;
    e->n_words = 0;
    e->end = 0;
    e->n_keypoints = e->kp_dims = e->n_embedding = 0;
    e->attrs = 0;
    e->embedding_form = AITAG_EMBEDDING_NONE;
}

/* "end", "lang" and "words" (written by put_words) into e. */
static int read_speech(const json_t *root, struct aitag_evidence *e)
{
    const json_t *end = json_object_get(root, "end"), *lang = json_object_get(root, "lang");
    const json_t *words = json_object_get(root, "words"), *row;
    size_t i;

    if ((end && !json_is_number(end)) || (lang && !json_is_string(lang)) ||
        (words && !json_is_array(words)))
        return AITAG_ERR_INVALID;
    if (end)
        e->end = json_number_value(end);
    if (lang && !(e->lang = strdup(json_string_value(lang))))
        return AITAG_ERR_NOMEM;
    if (!words || json_array_size(words) == 0)
        return 0;
    e->words = calloc(json_array_size(words), sizeof *e->words);
    if (!e->words)
        return AITAG_ERR_NOMEM;
    json_array_foreach(words, i, row)
    {
        const char *w = json_string_value(json_array_get(row, 0));
        const json_t *a = json_array_get(row, 1), *b = json_array_get(row, 2),
                     *c = json_array_get(row, 3);
        if (!w || !json_is_number(a) || !json_is_number(b) || !json_is_number(c))
            return AITAG_ERR_INVALID;
        e->words[i] = (struct aitag_word){strdup(w), (float)json_number_value(a),
                                          (float)json_number_value(b), (float)json_number_value(c)};
        e->n_words = (int)i + 1;
        if (!e->words[i].word)
            return AITAG_ERR_NOMEM;
    }
    return 0;
}

int aitag_evidence_parse_details(struct aitag_evidence *e, const char *json)
{
    json_t *root;
    double *kp = NULL, *emb = NULL;
    size_t n_kp = 0, n_emb = 0;
    const json_t *ev;
    int rc = 0;

    if (!json || !json[0])
        return 0;
    root = json_loads(json, JSON_DECODE_ANY, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return AITAG_ERR_INVALID;
    }
    if (json_object_get(root, "keypoints"))
        rc = numbers(json_object_get(root, "keypoints"), &kp, &n_kp);
    if (rc == 0)
        rc = read_attr(root, "score", AITAG_ATTR_SCORE, &e->score, &e->attrs);
    if (rc == 0)
        rc = read_attr(root, "age", AITAG_ATTR_AGE, &e->age, &e->attrs);
    if (rc == 0)
        rc = read_attr(root, "gender", AITAG_ATTR_GENDER, &e->gender, &e->attrs);
    ev = json_object_get(root, "descriptor");
    e->embedding_form = AITAG_EMBEDDING_DESCRIPTOR;
    if (!ev) {
        ev = json_object_get(root, "embedding");
        e->embedding_form = AITAG_EMBEDDING_VECTOR;
    }
    if (rc == 0 && ev)
        rc = numbers(ev, &emb, &n_emb);
    if (rc == 0)
        rc = read_speech(root, e);
    if (rc == 0 && n_kp) {
        int dims = n_kp % 3 == 0 && n_kp % 2 != 0 ? 3 : 2;
        e->keypoints = malloc(n_kp * sizeof *e->keypoints);
        if (!e->keypoints)
            rc = AITAG_ERR_NOMEM;
        for (size_t i = 0; rc == 0 && i < n_kp; i++)
            e->keypoints[i] = (float)kp[i];
        if (rc == 0) {
            e->kp_dims = dims;
            e->n_keypoints = (int)(n_kp / (size_t)dims);
        }
    }
    if (rc == 0 && n_emb) {
        e->embedding = emb;
        e->n_embedding = (int)n_emb;
        emb = NULL;
    } else {
        e->embedding_form = AITAG_EMBEDDING_NONE;
    }
    if (rc < 0)
        aitag_evidence_clear_details(e);
    free(kp);
    free(emb);
    json_decref(root);
    return rc;
}
