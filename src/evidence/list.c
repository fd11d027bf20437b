/*
 * list.c - the growable list analyzers append their findings to.
 *
 * Items own copies of their strings and arrays, so an analyzer may push from stack buffers and
 * the list outlives the analyzer's state. A failed push leaves the list as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "aitag/evidence.h"

void aitag_evidence_clear(struct aitag_evidence *e)
{
    if (!e)
        return;
    free(e->analyzer);
    free(e->label);
    free(e->text);
    free(e->keypoints);
    free(e->embedding);
    free(e->model);
    free(e->lang);
    for (int i = 0; e->words && i < e->n_words; i++)
        free(e->words[i].word);
    free(e->words);
    memset(e, 0, sizeof *e);
}

/* strdup that keeps NULL as NULL; *ok drops to 0 when a copy fails. */
static char *dup_opt(const char *s, int *ok)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *ok = 0;
    return d;
}

/* memdup of n elements of size sz; NULL for none; *ok drops to 0 when a copy fails. */
static void *dup_array(const void *p, size_t n, size_t sz, int *ok)
{
    void *d;

    if (!p || n == 0)
        return NULL;
    d = malloc(n * sz);
    if (!d) {
        *ok = 0;
        return NULL;
    }
    memcpy(d, p, n * sz);
    return d;
}

int aitag_evidence_push(struct aitag_evidence_list *l, const struct aitag_evidence *e)
{
    struct aitag_evidence copy = *e;
    size_t n_kp =
        e->n_keypoints > 0 && e->kp_dims > 0 ? (size_t)e->n_keypoints * (size_t)e->kp_dims : 0;
    int ok = 1;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct aitag_evidence *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown)
            return AITAG_ERR_NOMEM;
        l->items = grown;
        l->cap = cap;
    }
    copy.analyzer = dup_opt(e->analyzer, &ok);
    copy.label = dup_opt(e->label, &ok);
    copy.text = dup_opt(e->text, &ok);
    copy.model = dup_opt(e->model, &ok);
    copy.keypoints = dup_array(e->keypoints, n_kp, sizeof *e->keypoints, &ok);
    copy.embedding = dup_array(e->embedding, e->n_embedding > 0 ? (size_t)e->n_embedding : 0,
                               sizeof *e->embedding, &ok);
    copy.lang = dup_opt(e->lang, &ok);
    copy.words = NULL;
    copy.n_words = 0;
    if (e->words && e->n_words > 0) {
        copy.words = calloc((size_t)e->n_words, sizeof *copy.words);
        ok = ok && copy.words;
        for (int i = 0; copy.words && i < e->n_words; i++) {
            copy.words[i] = e->words[i];
            copy.words[i].word = dup_opt(e->words[i].word, &ok);
            copy.n_words = i + 1;
        }
    }
    if (!copy.keypoints)
        copy.n_keypoints = copy.kp_dims = 0;
    if (!copy.embedding) {
        copy.n_embedding = 0;
        copy.embedding_form = AITAG_EMBEDDING_NONE;
    }
    if (!ok) {
        aitag_evidence_clear(&copy);
        return AITAG_ERR_NOMEM;
    }
    l->items[l->n++] = copy;
    return 0;
}

void aitag_evidence_list_clear(struct aitag_evidence_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        aitag_evidence_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}
