/*
 * categories.c - the concepts file (models/context/concepts.json): the WordNet sense each of
 * our labels means, and the category words that become parent tags ("dog" under "animal").
 *
 * The file's "parents" name a label's category outright, where WordNet files a thing where
 * people would not look for it (a bus is public transport, not a vehicle, to WordNet). Else a
 * label's category is the nearest of the file's category words among the hypernyms of the
 * label's sense, walked breadth-first through every hypernym path (WordNet's graph has several
 * parents at places: a dog is a canine and a domestic animal), so the shallowest match wins,
 * and ties go to the category listed first. Results are cached per label: deriving asks for
 * every tag of every item. The key is a sha256 of the file's bytes, so a changed list or sense
 * re-derives results (never re-runs a model).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wn.h>

#include <jansson.h>

#include "concepts_int.h"

#define MAX_LEVELS 16

int concepts_sense_of(const struct aitag_concepts *c, const char *label)
{
    for (size_t i = 0; c && i < c->n_senses; i++)
        if (strcmp(c->senses[i].label, label) == 0)
            return c->senses[i].sense;
    return 1;
}

int aitag_concepts_load(struct aitag_concepts *c, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je), *senses, *cats, *parents, *v;
    const char *k;
    char *text = NULL;
    size_t i;
    int rc = AITAG_ERR_INVALID;

    if (!root) {
        snprintf(err, errlen, "%s: %s", path, je.text);
        return je.line < 0 ? AITAG_ERR_IO : AITAG_ERR_INVALID;
    }
    senses = json_object_get(root, "senses");
    cats = json_object_get(root, "categories");
    parents = json_object_get(root, "parents");
    if ((senses && !json_is_object(senses)) || (cats && !json_is_array(cats)) ||
        (parents && !json_is_object(parents))) {
        snprintf(err, errlen,
                 "%s: \"senses\" and \"parents\" must be objects, \"categories\" an array", path);
        goto out;
    }
    free(c->senses);
    free(c->categories);
    free(c->parents);
    c->senses = calloc(json_object_size(senses) + 1, sizeof *c->senses);
    c->categories = calloc(json_array_size(cats) + 1, sizeof *c->categories);
    c->parents = calloc(json_object_size(parents) + 1, sizeof *c->parents);
    c->n_senses = c->n_categories = c->n_parents = 0;
    c->n_cache = 0;
    if (!c->senses || !c->categories || !c->parents) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    json_object_foreach(senses, k, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100 ||
            strlen(k) >= MAX_WORD) {
            snprintf(err, errlen, "%s: senses.%s: a sense number from 1", path, k);
            goto out;
        }
        concepts_normalise(k, c->senses[c->n_senses].label);
        c->senses[c->n_senses++].sense = (int)json_integer_value(v);
    }
    json_array_foreach(cats, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= MAX_WORD) {
            snprintf(err, errlen, "%s: categories[%zu]: a word", path, i);
            goto out;
        }
        snprintf(c->categories[c->n_categories++], MAX_WORD, "%s", json_string_value(v));
    }
    json_object_foreach(parents, k, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= MAX_WORD ||
            strlen(k) >= MAX_WORD) {
            snprintf(err, errlen, "%s: parents.%s: a category word", path, k);
            goto out;
        }
        concepts_normalise(k, c->parents[c->n_parents].label);
        snprintf(c->parents[c->n_parents++].category, MAX_WORD, "%s", json_string_value(v));
    }
    text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    aitag_sha256_buf(text, strlen(text), c->key);
    rc = 0;
out:
    free(text);
    json_decref(root);
    return rc;
}

/* The index of the category word s (a synset) holds, or -1. */
static int category_of_synset(const struct aitag_concepts *c, SynsetPtr s)
{
    char cat[MAX_WORD];

    for (size_t k = 0; k < c->n_categories; k++) {
        concepts_normalise(c->categories[k], cat);
        for (int w = 0; w < s->wcount; w++)
            if (strcasecmp(s->words[w], cat) == 0)
                return (int)k;
    }
    return -1;
}

/* Breadth-first over the hypernym tree of the label's sense (ptrlist: parents; nextss: the
 * other parents of the same child): the best category at the shallowest level. */
static int nearest_category(const struct aitag_concepts *c, SynsetPtr root)
{
    SynsetPtr level[256], next[256];
    size_t n = 0;
    int best = -1;

    if (category_of_synset(c, root) >= 0)
        return -1; /* a category has no category: "animal" is no child of "animal" */
    for (SynsetPtr p = root->ptrlist; p && n < 256; p = p->nextss)
        level[n++] = p;
    for (int depth = 0; depth < MAX_LEVELS && n > 0; depth++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            int k = category_of_synset(c, level[i]);
            if (k >= 0 && (best < 0 || k < best))
                best = k;
            for (SynsetPtr p = level[i]->ptrlist; p && m < 256; p = p->nextss)
                next[m++] = p;
        }
        if (best >= 0)
            return best;
        memcpy(level, next, m * sizeof *next);
        n = m;
    }
    return -1;
}

const char *aitag_concepts_category(struct aitag_concepts *c, const char *label)
{
    char l[MAX_WORD], w[MAX_WORD];
    const char *found = NULL;
    SynsetPtr s;
    int sense;

    if (!c || c->n_categories == 0 || strchr(label, ':'))
        return NULL;
    concepts_normalise(label, l);
    pthread_mutex_lock(&concepts_wn_lock);
    for (size_t i = 0; i < c->n_cache; i++)
        if (strcmp(c->cache[i].label, l) == 0) {
            found = c->cache[i].category;
            goto out;
        }
    for (size_t i = 0; i < c->n_parents; i++)
        if (strcmp(c->parents[i].label, l) == 0) {
            found = c->parents[i].category;
            goto out;
        }
    if (concepts_label_sense(c, l, w, &sense)) {
        s = findtheinfo_ds(w, NOUN, -HYPERPTR, sense);
        if (!s && sense != 1)
            s = findtheinfo_ds(w, NOUN, -HYPERPTR, 1);
        if (s) {
            int k = nearest_category(c, s);
            found = k >= 0 ? c->categories[k] : NULL;
            free_syns(s);
        }
    }
    if (c->n_cache == c->cap_cache) {
        size_t cap = c->cap_cache ? 2 * c->cap_cache : 64;
        struct concept_cache *g = realloc(c->cache, cap * sizeof *g);
        if (!g)
            goto out; /* not cached: asked again next time */
        c->cache = g, c->cap_cache = cap;
    }
    snprintf(c->cache[c->n_cache].label, MAX_WORD, "%s", l);
    c->cache[c->n_cache++].category = found;
out:
    pthread_mutex_unlock(&concepts_wn_lock);
    return found;
}

const char *aitag_concepts_key(const struct aitag_concepts *c)
{
    return c ? c->key : "";
}
