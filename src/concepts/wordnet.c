/*
 * wordnet.c - aitag_concepts over Debian's libwordnet (Princeton WordNet 3.0's C library).
 *
 * The library is a process-wide singleton (open files, static buffers), so one mutex guards
 * every call and wninit runs once; its messages go to a sink that logs them at debug level
 * (a library prints nothing). Lookups use findtheinfo_ds: a word's senses with their hypernym
 * trees (HYPERPTR traced recursively). A relation is decided by synset offsets, which name a
 * sense uniquely within the noun database.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <wn.h>

#include "concepts_int.h"

#define MAX_NODES 512
#define SIBLING_LEVELS 2

pthread_mutex_t concepts_wn_lock = PTHREAD_MUTEX_INITIALIZER;
#define wn_lock concepts_wn_lock
static int wn_ready;

static int quiet(char *msg)
{
    aitag_log(AITAG_LOG_DEBUG, "concepts", "wordnet: %.200s", msg);
    return 0;
}

int aitag_concepts_open(const char *dict_dir, struct aitag_concepts **out, char *err, size_t errlen)
{
    const char *dir = dict_dir ? dict_dir : getenv("WNSEARCHDIR");
    char probe[4200];
    struct stat st;
    int rc = 0;

    *out = NULL;
    if (!dir || !*dir)
        dir = "/usr/share/wordnet";
    snprintf(probe, sizeof probe, "%.4000s/index.noun", dir);
    if (stat(probe, &st) != 0) {
        snprintf(err, errlen, "WordNet: no database in %s (Debian's wordnet-base installs it)",
                 dir);
        return AITAG_ERR_IO;
    }
    pthread_mutex_lock(&wn_lock);
    if (!wn_ready) {
        display_message = quiet;
        setenv("WNSEARCHDIR", dir, 1);
        if (wninit() != 0) {
            snprintf(err, errlen, "WordNet: cannot open the database in %s", dir);
            rc = AITAG_ERR_IO;
        } else {
            wn_ready = 1;
        }
    }
    pthread_mutex_unlock(&wn_lock);
    if (rc < 0)
        return rc;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : AITAG_ERR_NOMEM;
}

void aitag_concepts_close(struct aitag_concepts *c)
{
    if (!c)
        return; /* the database stays open for the process: libwordnet has no close */
    free(c->senses);
    free(c->categories);
    free(c->parents);
    free(c->cache);
    free(c);
}

const char *aitag_concept_relation_name(enum aitag_concept_relation r)
{
    static const char *const names[] = {"none", "sibling", "kind of", "synonym", "same"};
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "none";
}

void concepts_normalise(const char *in, char *out)
{
    size_t n = 0;

    while (isspace((unsigned char)*in))
        in++;
    for (; *in && n < MAX_WORD - 1; in++)
        out[n++] = *in == ' ' ? '_' : (char)tolower((unsigned char)*in);
    while (n && out[n - 1] == '_')
        n--;
    out[n] = '\0';
}

/* itself, its base form, or for a phrase its last word */
int concepts_known_form(const char *word, char *out)
{
    char buf[MAX_WORD], *base, *last;

    snprintf(buf, sizeof buf, "%s", word);
    if (in_wn(buf, NOUN)) {
        snprintf(out, MAX_WORD, "%s", buf);
        return 1;
    }
    base = morphstr(buf, NOUN);
    if (base && in_wn(base, NOUN)) {
        snprintf(out, MAX_WORD, "%s", base);
        return 1;
    }
    last = strrchr(buf, '_');
    return last && last[1] ? concepts_known_form(last + 1, out) : 0;
}

/* Whether a synset holds the word w (normalised). */
static int synset_has(SynsetPtr s, const char *w)
{
    for (int k = 0; k < s->wcount; k++)
        if (strcasecmp(s->words[k], w) == 0)
            return 1;
    return 0;
}

/* Whether hint names s or one of its hypernyms (breadth-first, 16 levels). */
static int under(SynsetPtr s, const char *hint)
{
    SynsetPtr level[256], next[256];
    size_t n = 0;

    if (synset_has(s, hint))
        return 1;
    for (SynsetPtr p = s->ptrlist; p && n < 256; p = p->nextss)
        level[n++] = p;
    for (int depth = 0; depth < 16 && n > 0; depth++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (synset_has(level[i], hint))
                return 1;
            for (SynsetPtr p = level[i]->ptrlist; p && m < 256; p = p->nextss)
                next[m++] = p;
        }
        memcpy(level, next, m * sizeof *next);
        n = m;
    }
    return 0;
}

int concepts_label_sense(const struct aitag_concepts *c, const char *label, char *lemma, int *sense)
{
    char head[MAX_WORD], hint[MAX_WORD], *open;
    size_t len = strlen(label);
    SynsetPtr all;
    int i = 1;

    *sense = concepts_sense_of(c, label);
    open = strstr(label, "_(");
    if (!open || len < 4 || label[len - 1] != ')')
        return concepts_known_form(label, lemma);
    /* "word (hint)": the first sense of the word that is a kind of hint */
    snprintf(head, sizeof head, "%.*s", (int)(open - label), label);
    snprintf(hint, sizeof hint, "%.*s", (int)(label + len - 1 - (open + 2)), open + 2);
    if (!concepts_known_form(head, lemma))
        return 0;
    *sense = concepts_sense_of(c, lemma);
    all = findtheinfo_ds(lemma, NOUN, -HYPERPTR, ALLSENSES);
    for (SynsetPtr s = all; s && *hint; s = s->nextss, i++)
        if (under(s, hint)) {
            *sense = i;
            break;
        }
    if (all)
        free_syns(all);
    return 1;
}

struct node {
    long offset;
    int depth;
    const char *word;
};

/* Walks a hypernym tree (ptrlist children, nextss siblings) into nodes, depths from 1. */
static void collect(SynsetPtr s, int depth, struct node *nodes, size_t *n)
{
    for (; s && *n < MAX_NODES; s = s->nextss) {
        nodes[(*n)++] = (struct node){s->hereiam, depth, s->wcount ? s->words[0] : ""};
        if (s->ptrlist)
            collect(s->ptrlist, depth + 1, nodes, n);
    }
}

static float clampf(float v, float lo)
{
    return v < lo ? lo : v;
}

static void relate_locked(const struct aitag_concepts *c, const char *q, const char *l,
                          struct aitag_concept_match *m)
{
    struct node anc[MAX_NODES];
    size_t n_anc = 0;
    SynsetPtr qs = NULL, ls = NULL;
    char qw[MAX_WORD], lw[MAX_WORD];
    long label_sense;
    int sense;

    if (!concepts_known_form(q, qw) || !concepts_label_sense(c, l, lw, &sense))
        return;
    /* every sense of the query with its direct hypernyms; the label's sense with all */
    qs = findtheinfo_ds(qw, NOUN, HYPERPTR, ALLSENSES);
    ls = findtheinfo_ds(lw, NOUN, -HYPERPTR, sense);
    if (!ls && sense != 1)
        ls = findtheinfo_ds(lw, NOUN, -HYPERPTR, 1); /* a sense the database lacks */
    if (!qs || !ls)
        goto out;
    label_sense = ls->hereiam;
    if (ls->ptrlist)
        collect(ls->ptrlist, 1, anc, &n_anc);
    for (SynsetPtr s = qs; s; s = s->nextss) { /* the label's sense, or its word in a sense */
        int word = 0;
        for (int w = 0; w < s->wcount && !word; w++)
            word = strcasecmp(s->words[w], lw) == 0;
        if (s->hereiam == label_sense || word) {
            m->relation = AITAG_REL_SYNONYM;
            m->score = 0.9f;
            goto out;
        }
    }
    for (SynsetPtr s = qs; s; s = s->nextss)
        for (size_t k = 0; k < n_anc; k++)
            if (anc[k].offset == s->hereiam &&
                (m->relation != AITAG_REL_KIND_OF || anc[k].depth < m->levels)) {
                m->relation = AITAG_REL_KIND_OF;
                m->levels = anc[k].depth;
                m->score = clampf(0.85f - 0.05f * (float)(anc[k].depth - 1), 0.4f);
                snprintf(m->via, sizeof m->via, "%s", s->wcount ? s->words[0] : qw);
            }
    if (m->relation == AITAG_REL_KIND_OF)
        goto out;
    /* siblings only within one domain (lexicographer file: noun.event, noun.food, ...), and
     * never under the unique beginners (noun.Tops: animal, person, food...), whose children
     * share little (a person is no kind of animal because both are organisms) */
    for (SynsetPtr s = qs; s; s = s->nextss)
        for (SynsetPtr p = s->ptrlist;
             p && s->fnum == ls->fnum && strcmp(lexfiles[s->fnum], "noun.Tops") != 0; p = p->nextss)
            for (size_t k = 0; k < n_anc; k++)
                if (anc[k].offset == p->hereiam && anc[k].depth <= SIBLING_LEVELS &&
                    (m->relation != AITAG_REL_SIBLING || anc[k].depth < m->levels)) {
                    m->relation = AITAG_REL_SIBLING;
                    m->levels = anc[k].depth;
                    m->score = 0.5f - 0.1f * (float)(anc[k].depth - 1);
                    snprintf(m->via, sizeof m->via, "%s", anc[k].word);
                }
out:
    if (qs)
        free_syns(qs);
    if (ls)
        free_syns(ls);
}

int aitag_concepts_relate(struct aitag_concepts *c, const char *query, const char *label,
                          struct aitag_concept_match *m)
{
    char q[MAX_WORD], l[MAX_WORD];

    memset(m, 0, sizeof *m);
    concepts_normalise(query, q);
    concepts_normalise(label, l);
    if (!*q || !*l)
        return 0;
    if (strcmp(q, l) == 0) {
        m->relation = AITAG_REL_SAME;
        m->score = 1.0f;
        return 0;
    }
    if (!c)
        return 0; /* no database: the same word only */
    pthread_mutex_lock(&wn_lock);
    relate_locked(c, q, l, m);
    pthread_mutex_unlock(&wn_lock);
    for (char *p = m->via; *p; p++)
        if (*p == '_')
            *p = ' ';
    return 0;
}
