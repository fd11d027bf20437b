/*
 * evidence.c - the growable list analyzers append their findings to.
 *
 * Items own copies of their strings, so an analyzer may push from stack buffers and the list
 * outlives the analyzer's state. A failed push leaves the list as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"

static void evidence_free(struct aitag_evidence *e)
{
    free(e->analyzer);
    free(e->label);
    free(e->text);
    free(e->extra);
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

int aitag_evidence_push(struct aitag_evidence_list *l, const struct aitag_evidence *e)
{
    struct aitag_evidence copy = *e;
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
    copy.extra = dup_opt(e->extra, &ok);
    if (!ok) {
        evidence_free(&copy);
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
        evidence_free(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}
