/*
 * concept_search.c - `aitag search WORDS`: the files whose tags mean what the words mean, or
 * whose recognised text holds them, best first, each with why it matched.
 *
 * Every distinct tag of the library is related to the words through WordNet (aitag/concepts.h:
 * the same word, a synonym, a kind of it, a sibling), by its label and by its name; the context
 * rules add their cues: a rule whose concept relates to the words makes the labels it is made
 * of weaker matches (searching "party" finds the cake of a celebration that did not reach the
 * concept's threshold). A file scores its best match: the relation's score times (0.5 + half
 * the tag's confidence), so a sure tag outranks an unsure one of the same relation; recognised
 * text holding the words scores 0.6 times the same. Without WordNet's database (a warning), only
 * the same word and text match. Recognised texts match by the same relations too: every word
 * of the full-text index is related to the query, and the lines holding a synonym or a kind
 * of it match ("vehicle" finds a transcript that says "car"). With --embed-url, an embedding model
 * ranks too (embed_search.c: the words' embedding against the stored image embeddings of an
 * analyzer).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aitag/concepts.h"
#include "cli.h"

#define CUE_FACTOR 0.5f /* a label a related context rule is made of */
#define TEXT_SCORE 0.6f /* recognised text holding the words */
#define MAX_CUES 64
#define MAX_RULES_PER_CUE 2 /* a label more concept rules use is no cue of any */

struct hit {
    char *path;
    int64_t id;
    float score;
    char why[256];
};

struct search {
    struct aitag_concepts *wn;
    const char *query;
    struct aitag_catalog *c;
    const struct aitag_context *cx;
    struct aitag_concept_match *rule_rel; /* per context rule: how its concept relates to the
                                             query (once per search; suppressions: none) */
    struct hit *hits;
    size_t n, cap;
    /* the tag being matched */
    float rel_score;
    char rel_why[200];
    int rc;
};

static struct hit *hit_for(struct search *s, const char *path, int64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->hits[i].id == id)
            return &s->hits[i];
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        struct hit *g = realloc(s->hits, nc * sizeof *g);
        if (!g)
            return NULL;
        s->hits = g, s->cap = nc;
    }
    memset(&s->hits[s->n], 0, sizeof *s->hits);
    s->hits[s->n].path = strdup(path);
    s->hits[s->n].id = id;
    if (!s->hits[s->n].path)
        return NULL;
    return &s->hits[s->n++];
}

static void offer(struct search *s, const char *path, int64_t id, float score, const char *why);

static void offer_cb(void *ctx, const char *path, int64_t id, float score, const char *why)
{
    offer(ctx, path, id, score, why);
}

static void offer(struct search *s, const char *path, int64_t id, float score, const char *why)
{
    struct hit *h = hit_for(s, path, id);

    if (!h) {
        s->rc = AITAG_ERR_NOMEM;
        return;
    }
    if (score > h->score) {
        h->score = score;
        snprintf(h->why, sizeof h->why, "%s", why);
    }
}

static int on_tagged(void *ctx, const char *path, int64_t id, float confidence)
{
    struct search *s = ctx;

    offer(s, path, id, s->rel_score * (0.5f + 0.5f * confidence), s->rel_why);
    return s->rc < 0;
}

/* The best relation of the query to a tag (its label, its name) into m. */
static void relate_tag(struct search *s, const char *name, const char *label,
                       struct aitag_concept_match *m)
{
    struct aitag_concept_match by_name;

    memset(m, 0, sizeof *m);
    if (*label)
        aitag_concepts_relate(s->wn, s->query, label, m);
    if (strcmp(name, label) != 0) {
        aitag_concepts_relate(s->wn, s->query, name, &by_name);
        if (by_name.score > m->score)
            *m = by_name;
    }
}

static void describe(char *buf, size_t len, const char *name, const struct aitag_concept_match *m)
{
    switch (m->relation) {
    case AITAG_REL_SAME:
        snprintf(buf, len, "tag '%s'", name);
        break;
    case AITAG_REL_SYNONYM:
        snprintf(buf, len, "tag '%s': a synonym", name);
        break;
    case AITAG_REL_KIND_OF:
        snprintf(buf, len, "tag '%s': a kind of %s (%d level%s up)", name, m->via, m->levels,
                 m->levels == 1 ? "" : "s");
        break;
    default:
        snprintf(buf, len, "tag '%s': like it, both %s", name, m->via);
        break;
    }
}

/* How many concept rules are made of label (a label many rules use says little). */
static int rules_using(const struct aitag_context *cx, const char *label)
{
    int n = 0;

    for (size_t i = 0; cx && i < aitag_context_size(cx); i++) {
        const char *labels[MAX_CUES];
        size_t k = aitag_context_rule_labels(cx, i, labels, MAX_CUES);
        int suppress;
        aitag_context_rule_name(cx, i, &suppress);
        for (size_t j = 0; !suppress && j < k && j < MAX_CUES; j++)
            if (strcasecmp(labels[j], label) == 0) {
                n++;
                break;
            }
    }
    return n;
}

/* A context rule whose concept relates to the query: the labels it is made of (those at most
 * two rules use) are cues, scored CUE_FACTOR times the concept's relation. */
static float cue_score(struct search *s, const char *label, char *why, size_t len, int *sibling)
{
    float best = 0;

    if (rules_using(s->cx, label) > MAX_RULES_PER_CUE)
        return 0;
    for (size_t i = 0; s->cx && i < aitag_context_size(s->cx); i++) {
        const struct aitag_concept_match *m = &s->rule_rel[i];
        const char *labels[MAX_CUES], *name;
        size_t n;
        if (m->score <= 0)
            continue; /* a suppression, or a concept unrelated to the query */
        name = aitag_context_rule_name(s->cx, i, NULL);
        n = aitag_context_rule_labels(s->cx, i, labels, MAX_CUES);
        for (size_t k = 0; k < n && k < MAX_CUES; k++) {
            if (strcasecmp(labels[k], label) != 0 || strcasecmp(name, label) == 0)
                continue;
            if (m->score * CUE_FACTOR > best) {
                best = m->score * CUE_FACTOR;
                *sibling = m->relation == AITAG_REL_SIBLING;
                snprintf(why, len, "tag '%s': a cue of '%s' (context rule)", label, name);
            }
        }
    }
    return best;
}

/* A tag that relates to the query, before its items are read. */
struct tag_match {
    char *name;
    float score;
    int sibling; /* matched as a sibling only (or as a cue of a sibling concept) */
    char why[200];
};

struct tag_list {
    struct search *s;
    struct tag_match *v;
    size_t n, cap;
};

static int on_tag_name(void *ctx, const char *name, const char *label, int64_t n_items)
{
    struct tag_list *tl = ctx;
    struct search *s = tl->s;
    struct aitag_concept_match m;
    struct tag_match *t;
    char cue_why[200] = "";
    int cue_sibling = 0;
    float cue;

    (void)n_items;
    relate_tag(s, name, label, &m);
    cue = cue_score(s, *label ? label : name, cue_why, sizeof cue_why, &cue_sibling);
    if (m.score <= 0 && cue <= 0)
        return 0;
    if (tl->n == tl->cap) {
        size_t nc = tl->cap ? tl->cap * 2 : 32;
        struct tag_match *g = realloc(tl->v, nc * sizeof *g);
        if (!g)
            return s->rc = AITAG_ERR_NOMEM, 1;
        tl->v = g, tl->cap = nc;
    }
    t = &tl->v[tl->n];
    if (!(t->name = strdup(name)))
        return s->rc = AITAG_ERR_NOMEM, 1;
    tl->n++;
    if (m.score >= cue) {
        t->score = m.score;
        t->sibling = m.relation == AITAG_REL_SIBLING;
        describe(t->why, sizeof t->why, name, &m);
    } else {
        t->score = cue;
        t->sibling = cue_sibling;
        snprintf(t->why, sizeof t->why, "%s", cue_why);
    }
    return 0;
}

/* Reads the items of the tags that relate; siblings only when nothing relates more closely
 * (a search for "animal" that finds horses does not also want people, fellow organisms). */
static int match_tags(struct search *s)
{
    struct tag_list tl = {s, NULL, 0, 0};
    int rc = aitag_catalog_each_tag_name(s->c, on_tag_name, &tl), close = 0;

    for (size_t i = 0; i < tl.n; i++)
        close |= !tl.v[i].sibling;
    for (size_t i = 0; rc == 0 && s->rc == 0 && i < tl.n; i++) {
        if (close && tl.v[i].sibling)
            continue;
        s->rel_score = tl.v[i].score;
        snprintf(s->rel_why, sizeof s->rel_why, "%s", tl.v[i].why);
        rc = aitag_catalog_each_tagged(s->c, tl.v[i].name, on_tagged, s);
    }
    for (size_t i = 0; i < tl.n; i++)
        free(tl.v[i].name);
    free(tl.v);
    return rc;
}

static int on_text(void *ctx, const char *path, int64_t id, const char *text, const char *source,
                   float confidence)
{
    struct search *s = ctx;
    char why[256];

    snprintf(why, sizeof why, "%s '%.120s'", strcmp(source, "speech") == 0 ? "said" : "text", text);
    offer(s, path, id, TEXT_SCORE * (0.5f + 0.5f * confidence), why);
    return s->rc < 0;
}

/* A word of the recognised texts that relates to the query (a kind of it, a synonym): its
 * lines match as the query's own would, scored by the relation. Siblings are left out: a text
 * is too loose a cue for them. */
struct text_word {
    struct search *s;
    char (*words)[64];
    struct aitag_concept_match *rel;
    size_t n, cap;
};

static int on_text_word(void *ctx, const char *word, int64_t n_lines)
{
    struct text_word *tw = ctx;
    struct aitag_concept_match m;
    size_t len = strlen(word);

    (void)n_lines;
    if (len < 3 || len >= 64 || strcasecmp(word, tw->s->query) == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalpha((unsigned char)word[i]))
            return 0;
    if (aitag_concepts_relate(tw->s->wn, tw->s->query, word, &m) < 0)
        return tw->s->rc = AITAG_ERR_NOMEM, 1;
    if (m.relation != AITAG_REL_SYNONYM && m.relation != AITAG_REL_KIND_OF)
        return 0;
    if (tw->n == tw->cap) {
        size_t nc = tw->cap ? 2 * tw->cap : 16;
        char(*w)[64] = realloc(tw->words, nc * sizeof *w);
        struct aitag_concept_match *r = w ? realloc(tw->rel, nc * sizeof *r) : NULL;
        if (w)
            tw->words = w;
        if (!w || !r)
            return tw->s->rc = AITAG_ERR_NOMEM, 1;
        tw->rel = r, tw->cap = nc;
    }
    snprintf(tw->words[tw->n], 64, "%s", word);
    tw->rel[tw->n++] = m;
    return 0;
}

struct related_text {
    struct search *s;
    const char *word;
    const struct aitag_concept_match *m;
};

static int on_related_text(void *ctx, const char *path, int64_t id, const char *text,
                           const char *source, float confidence)
{
    struct related_text *rt = ctx;
    char why[320], rel[160];

    describe(rel, sizeof rel, rt->word, rt->m);
    snprintf(why, sizeof why, "%s '%.120s' (%s)", strcmp(source, "speech") == 0 ? "said" : "text",
             text, rel + strlen("tag ")); /* "'car': a kind of vehicle (4 levels up)" */
    offer(rt->s, path, id, TEXT_SCORE * rt->m->score * (0.5f + 0.5f * confidence), why);
    return rt->s->rc < 0;
}

/* The recognised texts holding words related to the query (WordNet, as for tags). */
static int match_related_text(struct search *s)
{
    struct text_word tw = {s, NULL, NULL, 0, 0};
    int rc = s->wn ? aitag_catalog_each_text_word(s->c, on_text_word, &tw) : 0;

    for (size_t i = 0; rc == 0 && s->rc == 0 && i < tw.n; i++) {
        struct related_text rt = {s, tw.words[i], &tw.rel[i]};
        rc = aitag_catalog_each_text_match(s->c, tw.words[i], on_related_text, &rt);
    }
    free(tw.words);
    free(tw.rel);
    return rc;
}

static int by_score(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->path, y->path);
}

int cli_concept_rank(struct aitag_catalog *c, const struct aitag_opts *o, const char *query,
                     cli_hit_fn fn, void *ctx)
{
    struct search s = {.query = query, .c = c};
    struct aitag_context *cx = NULL;
    char bufs[2][4096], err[1024] = "";
    const char *paths[2];
    size_t n_paths = cli_context_paths(o, bufs, paths);
    int rc = 0;

    if (aitag_concepts_open(NULL, &s.wn, err, sizeof err) < 0) {
        fprintf(stderr, "aitag search: %s: only tags named '%s' and text match\n", err, query);
    } else { /* the senses our labels mean ("mouse": the device), as tagging reads them */
        char models[4096], file[4200];
        snprintf(file, sizeof file, "%.4000s/context/concepts.json",
                 cli_models_dir(o, models, sizeof models));
        if (access(file, R_OK) == 0 && aitag_concepts_load(s.wn, file, err, sizeof err) < 0)
            fprintf(stderr, "aitag search: %s\n", err);
    }
    if (aitag_context_new(&cx) < 0)
        rc = AITAG_ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < n_paths; i++)
        rc = aitag_context_load(cx, paths[i], err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "aitag search: %s\n", err[0] ? err : "out of memory");
        rc = EXIT_SETUP;
        goto out;
    }
    s.cx = cx;
    s.rule_rel = calloc(aitag_context_size(cx) + 1, sizeof *s.rule_rel);
    if (!s.rule_rel) {
        fprintf(stderr, "aitag search: out of memory\n");
        rc = EXIT_SETUP;
        goto out;
    }
    for (size_t i = 0; i < aitag_context_size(cx); i++) {
        int suppress;
        const char *name = aitag_context_rule_name(cx, i, &suppress);
        if (!suppress)
            aitag_concepts_relate(s.wn, query, name, &s.rule_rel[i]);
    }
    rc = match_tags(&s);
    if (rc == 0 && s.rc == 0 && strlen(query) >= 3)
        rc = aitag_catalog_each_text_match(c, query, on_text, &s);
    if (rc == 0 && s.rc == 0)
        rc = match_related_text(&s);
    if (rc == 0 && s.rc == 0 && aitag_opts_str(o, "embed-url")) {
        struct cli_embed e = {aitag_opts_str(o, "embed-url"), aitag_opts_str(o, "embed-model"),
                              getenv(aitag_opts_str(o, "embed-key-env")),
                              aitag_opts_str(o, "embed-analyzer")};
        int er = cli_embed_search(c, &e, query, offer_cb, &s, err, sizeof err);
        if (er == AITAG_ERR_NOMEM)
            rc = er;
        else if (er < 0) /* the rest of the search stands */
            fprintf(stderr, "aitag search: no ranking by embeddings: %s\n", err);
    }
    if (rc < 0 || s.rc < 0) {
        fprintf(stderr, "aitag search: %s\n",
                s.rc == AITAG_ERR_NOMEM || rc == AITAG_ERR_NOMEM ? "out of memory"
                                                                 : aitag_catalog_errmsg(c));
        rc = EXIT_SETUP;
        goto out;
    }
    if (s.n > 1)
        qsort(s.hits, s.n, sizeof *s.hits, by_score);
    for (size_t i = 0; i < s.n; i++)
        fn(ctx, s.hits[i].path, s.hits[i].id, s.hits[i].score, s.hits[i].why);
    rc = EXIT_OK;
out:
    for (size_t i = 0; i < s.n; i++)
        free(s.hits[i].path);
    free(s.hits);
    free(s.rule_rel);
    aitag_context_free(cx);
    aitag_concepts_close(s.wn);
    return rc;
}

static void print_hit(void *ctx, const char *path, int64_t id, float score, const char *why)
{
    (void)id;
    if (*(int *)ctx) {
        json_t *h = json_pack("{s:s, s:f, s:s}", "path", path, "score",
                              (double)((int)(score * 1000 + 0.5f)) / 1000, "why", why);
        print_json_line(h);
        json_decref(h);
    } else {
        printf("%s\t%.3f\t%s\n", path, score, why);
    }
}

int cli_concept_search(struct aitag_catalog *c, const struct aitag_opts *o, const char *query)
{
    int json = aitag_opts_bool(o, "json");

    return cli_concept_rank(c, o, query, print_hit, &json);
}
