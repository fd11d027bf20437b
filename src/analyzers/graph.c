/*
 * graph.c - runs a set of analyzers, each once per frame, producers before consumers.
 *
 * Why a graph and not analyzers calling each other: face_attrs used to run BlazeFace inside
 * itself and pose CenterNet, so "faces,face_attrs" ran BlazeFace twice per frame and the
 * consumer's detector could be configured differently from the one whose results were stored.
 * Here each analyzer exists once; a consumer gets its producers' evidence for the same frames,
 * typed. Dependencies nobody asked for run but their evidence is not handed out (analyzer.h).
 *
 * Ordering is a stable topological sort: repeatedly take the first analyzer, in the order they
 * were asked (dependencies right after the analyzer that pulled them in), whose producers are
 * all placed; nothing placed in a pass means a cycle. Graphs are small (<= AITAG_GRAPH_MAX), so
 * quadratic loops are fine. Evidence of one run is collected per analyzer and then interleaved
 * frame by frame, so the order of stored items is the one the tagger produced when it ran
 * every analyzer frame by frame: batching changes nothing downstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers_int.h"

struct node {
    const struct aitag_analyzer_ops *ops;
    void *state;
    int asked;
    int deps[AITAG_GRAPH_MAX]; /* indexes of the producers */
    int n_deps;
    char *key;
};

struct aitag_graph {
    struct node node[AITAG_GRAPH_MAX];
    size_t n;
    struct aitag_evidence_list ev[AITAG_GRAPH_MAX]; /* per-analyzer evidence of one run */
};

void aitag_graph_free(struct aitag_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        g->node[i].ops->destroy(g->node[i].state);
        free(g->node[i].key);
        aitag_evidence_list_clear(&g->ev[i]);
    }
    free(g);
}

int aitag_graph_find(const struct aitag_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->node[i].ops->name, name) == 0)
            return (int)i;
    return -1;
}

/* Applies the "NAME.key=value" options meant for this analyzer, then lets it check them. */
static int configure(const struct aitag_analyzer_ops *ops, void *state, const char *const *opts,
                     size_t n_opts, char *err, size_t errlen)
{
    size_t len = strlen(ops->name);
    int rc;

    for (size_t i = 0; i < n_opts; i++) {
        const char *o = opts[i], *eq;
        char key[128];
        if (strncmp(o, ops->name, len) != 0 || o[len] != '.')
            continue;
        eq = strchr(o + len + 1, '=');
        if (!eq || eq == o + len + 1 || (size_t)(eq - (o + len + 1)) >= sizeof key) {
            aitag_fmt(err, errlen, "option '%s' is not key=value", o);
            return AITAG_ERR_INVALID;
        }
        aitag_fmt(key, sizeof key, "%.*s", (int)(eq - (o + len + 1)), o + len + 1);
        if (!ops->configure) {
            aitag_fmt(err, errlen, "takes no options (got '%s')", key);
            return AITAG_ERR_INVALID;
        }
        rc = ops->configure(state, key, eq + 1, err, errlen);
        if (rc < 0)
            return rc;
    }
    return ops->ready ? ops->ready(state, err, errlen) : 0;
}

/* Creates and configures analyzer `name` as node g->n (unless it is there); *idx is its index.
 */
static int add(struct aitag_graph *g, struct aitag_infer *inf, const char *name, int asked,
               const char *const *opts, size_t n_opts, int *idx, char *err, size_t errlen)
{
    const struct aitag_analyzer_ops *ops = aitag_analyzer_find(name);
    char why[512] = "";
    struct node *nd;
    int rc;

    *idx = aitag_graph_find(g, name);
    if (*idx >= 0) {
        g->node[*idx].asked |= asked;
        return 0;
    }
    if (!ops) {
        aitag_fmt(err, errlen, "unknown analyzer '%s' (see `aitag models list`)", name);
        return AITAG_ERR_INVALID;
    }
    if (g->n == AITAG_GRAPH_MAX) {
        aitag_fmt(err, errlen, "more than %d analyzers, dependencies included", AITAG_GRAPH_MAX);
        return AITAG_ERR_INVALID;
    }
    nd = &g->node[g->n];
    rc = ops->create(ops, inf, &nd->state, why, sizeof why);
    if (rc < 0) {
        aitag_fmt(err, errlen, "analyzer %s: %s", name, why);
        return rc;
    }
    nd->ops = ops; /* from here on freed with the graph */
    nd->asked = asked;
    *idx = (int)g->n++;
    rc = configure(ops, nd->state, opts, n_opts, why, sizeof why);
    if (rc < 0)
        aitag_fmt(err, errlen, "analyzer %s: %s", name, why);
    return rc;
}

/* Every option must name an analyzer of the graph. */
static int check_opts(const struct aitag_graph *g, const char *const *opts, size_t n_opts,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < n_opts; i++) {
        const char *o = opts[i], *dot = strchr(o, '.');
        size_t k;
        for (k = 0; dot && k < g->n; k++)
            if (strlen(g->node[k].ops->name) == (size_t)(dot - o) &&
                strncmp(g->node[k].ops->name, o, (size_t)(dot - o)) == 0)
                break;
        if (!dot || k == g->n) {
            aitag_fmt(err, errlen, "analyzer option '%s' names no analyzer of this run", o);
            return AITAG_ERR_INVALID;
        }
    }
    return 0;
}

/* Adds node i's producers (and theirs) right after it. */
static int add_deps(struct aitag_graph *g, struct aitag_infer *inf, int i, const char *const *opts,
                    size_t n_opts, char *err, size_t errlen)
{
    const struct aitag_analyzer_ops *ops = g->node[i].ops;
    const char *const *deps = ops->consumes ? ops->consumes(g->node[i].state) : NULL;
    int rc;

    for (size_t k = 0; deps && deps[k]; k++) {
        int d;
        if (g->node[i].n_deps == AITAG_GRAPH_MAX)
            return AITAG_ERR_INVALID;
        rc = add(g, inf, deps[k], 0, opts, n_opts, &d, err, errlen);
        if (rc < 0)
            return rc;
        if (d == i) {
            aitag_fmt(err, errlen, "analyzer %s consumes itself", ops->name);
            return AITAG_ERR_INVALID;
        }
        g->node[i].deps[g->node[i].n_deps++] = d;
        rc = add_deps(g, inf, d, opts, n_opts, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Reorders the nodes producers first (stable); AITAG_ERR_INVALID on a cycle. */
static int order(struct aitag_graph *g, char *err, size_t errlen)
{
    struct node sorted[AITAG_GRAPH_MAX];
    int placed[AITAG_GRAPH_MAX] = {0}, where[AITAG_GRAPH_MAX];
    size_t n = 0;

    while (n < g->n) {
        size_t i;
        for (i = 0; i < g->n; i++) {
            int ready = !placed[i];
            for (int k = 0; ready && k < g->node[i].n_deps; k++)
                ready = placed[g->node[i].deps[k]];
            if (ready)
                break;
        }
        if (i == g->n) {
            for (i = 0; placed[i]; i++)
                ;
            aitag_fmt(err, errlen, "analyzer %s: its dependencies form a cycle",
                      g->node[i].ops->name);
            return AITAG_ERR_INVALID;
        }
        placed[i] = 1;
        where[i] = (int)n;
        sorted[n++] = g->node[i];
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < sorted[i].n_deps; k++)
            sorted[i].deps[k] = where[sorted[i].deps[k]];
    /* cppcheck-suppress uninitvar ; the loop above filled sorted[0..n) */
    memcpy(g->node, sorted, n * sizeof *sorted);
    return 0;
}

/* Node i's full key, producers' keys (already made: they come first) in brackets. */
static int make_key(struct aitag_graph *g, size_t i)
{
    struct node *nd = &g->node[i];
    const char *own = nd->ops->key(nd->state);
    size_t len = strlen(own) + 1;

    for (int k = 0; k < nd->n_deps; k++)
        len += strlen(g->node[nd->deps[k]].key) + 3;
    nd->key = malloc(len);
    if (!nd->key)
        return AITAG_ERR_NOMEM;
    aitag_fmt(nd->key, len, "%s", own);
    for (int k = 0; k < nd->n_deps; k++) {
        size_t at = strlen(nd->key);
        aitag_fmt(nd->key + at, len - at, " [%s]", g->node[nd->deps[k]].key);
    }
    return 0;
}

int aitag_graph_new(struct aitag_infer *inf, const char *const *names, size_t n,
                    const char *const *opts, size_t n_opts, struct aitag_graph **out, char *err,
                    size_t errlen)
{
    struct aitag_graph *g = calloc(1, sizeof *g);
    int rc = 0, idx;

    *out = NULL;
    if (!g) {
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = add(g, inf, names[i], 1, opts, n_opts, &idx, err, errlen);
        if (rc == 0)
            rc = add_deps(g, inf, idx, opts, n_opts, err, errlen);
    }
    if (rc == 0)
        rc = check_opts(g, opts, n_opts, err, errlen);
    if (rc == 0)
        rc = order(g, err, errlen);
    for (size_t i = 0; rc == 0 && i < g->n; i++)
        if ((rc = make_key(g, i)) < 0)
            aitag_fmt(err, errlen, "out of memory");
    if (rc < 0) {
        aitag_graph_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

size_t aitag_graph_size(const struct aitag_graph *g)
{
    return g->n;
}

const struct aitag_analyzer_ops *aitag_graph_ops(const struct aitag_graph *g, size_t i)
{
    return g->node[i].ops;
}

void *aitag_graph_state(const struct aitag_graph *g, size_t i)
{
    return g->node[i].state;
}

int aitag_graph_asked(const struct aitag_graph *g, size_t i)
{
    return g->node[i].asked;
}

const char *aitag_graph_key(const struct aitag_graph *g, size_t i)
{
    return g->node[i].key;
}

size_t aitag_graph_batch(const struct aitag_graph *g)
{
    size_t b = 1;

    for (size_t i = 0; i < g->n; i++)
        if (g->node[i].ops->batch > 0 && (size_t)g->node[i].ops->batch > b)
            b = (size_t)g->node[i].ops->batch;
    return b;
}

void aitag_graph_closure(const struct aitag_graph *g, const int *want, int *run)
{
    /* consumers come after their producers: one pass from the back marks every producer */
    for (size_t i = 0; i < g->n; i++)
        run[i] = want ? want[i] != 0 : g->node[i].asked;
    for (size_t i = g->n; i-- > 0;)
        for (int k = 0; run[i] && k < g->node[i].n_deps; k++)
            run[g->node[i].deps[k]] = 1;
}

/* 1 if v is among the n views of have (the same size, fit and rounding). */
static int has_view(const struct aitag_view_spec *have, size_t n, const struct aitag_view_spec *v)
{
    for (size_t i = 0; i < n; i++)
        if (have[i].width == v->width && have[i].height == v->height && have[i].fit == v->fit &&
            have[i].multiple == v->multiple)
            return 1;
    return 0;
}

size_t aitag_graph_views(const struct aitag_graph *g, const int *want, struct aitag_view_spec *out,
                         size_t max)
{
    int run[AITAG_GRAPH_MAX];
    size_t nv = 0;

    aitag_graph_closure(g, want, run);
    for (size_t i = 0; i < g->n; i++) {
        struct aitag_view_spec v[AITAG_MAX_VIEWS];
        size_t k, n;
        if (!run[i])
            continue;
        n = g->node[i].ops->views(g->node[i].state, v, AITAG_MAX_VIEWS);
        for (k = 0; k < n && nv < max; k++) /* duplicates first, then the cap */
            if (!has_view(out, nv, &v[k]))
                out[nv++] = v[k];
    }
    return nv;
}

/* The evidence node i consumes: its one producer's list, or the producers' lists joined into
 * *joined. NULL for none. */
static const struct aitag_evidence_list *input_of(struct aitag_graph *g, size_t i,
                                                  struct aitag_evidence_list *joined, int *rc)
{
    const struct node *nd = &g->node[i];

    *rc = 0;
    if (nd->n_deps == 0)
        return NULL;
    if (nd->n_deps == 1)
        return &g->ev[nd->deps[0]];
    for (int k = 0; k < nd->n_deps && *rc == 0; k++)
        for (size_t j = 0; j < g->ev[nd->deps[k]].n && *rc == 0; j++)
            *rc = aitag_evidence_push(joined, &g->ev[nd->deps[k]].items[j]);
    return joined;
}

static int of_frames(const struct aitag_evidence *e, struct aitag_frame *const *frames, size_t n)
{
    for (size_t f = 0; f < n; f++)
        if (e->t == frames[f]->t)
            return 1;
    return 0;
}

int aitag_graph_run(struct aitag_graph *g, struct aitag_frame *const *frames, size_t n,
                    const int *want, struct aitag_evidence_list *out, char *err, size_t errlen)
{
    int run[AITAG_GRAPH_MAX], keep[AITAG_GRAPH_MAX], rc = 0;
    size_t first = out->n;

    aitag_graph_closure(g, want, run);
    for (size_t i = 0; i < g->n; i++) {
        keep[i] = want ? want[i] != 0 : g->node[i].asked;
        aitag_evidence_list_clear(&g->ev[i]);
    }
    for (size_t i = 0; i < g->n && rc == 0; i++) {
        struct aitag_evidence_list joined = {0};
        const struct aitag_evidence_list *in;
        char why[400] = "";
        if (!run[i])
            continue;
        in = input_of(g, i, &joined, &rc);
        if (rc == 0)
            rc = g->node[i].ops->run(g->node[i].state, frames, n, in, &g->ev[i], why, sizeof why);
        else
            aitag_fmt(why, sizeof why, "out of memory");
        /* every item names the exact models and settings that made it */
        for (size_t j = 0; rc == 0 && j < g->ev[i].n; j++)
            if (!g->ev[i].items[j].model && !(g->ev[i].items[j].model = strdup(g->node[i].key))) {
                rc = AITAG_ERR_NOMEM;
                aitag_fmt(why, sizeof why, "out of memory");
            }
        aitag_evidence_list_clear(&joined);
        if (rc < 0)
            aitag_fmt(err, errlen, "analyzer %s: %s", g->node[i].ops->name, why);
    }
    /* interleave frame by frame: the order one-frame-at-a-time runs gave */
    for (size_t f = 0; f < n && rc == 0; f++)
        for (size_t i = 0; i < g->n && rc == 0; i++)
            /* cppcheck-suppress uninitvar ; keep[i] is set above for every i < g->n */
            for (size_t j = 0; keep[i] && j < g->ev[i].n && rc == 0; j++)
                if (g->ev[i].items[j].t == frames[f]->t &&
                    (rc = aitag_evidence_push(out, &g->ev[i].items[j])) < 0)
                    aitag_fmt(err, errlen, "out of memory");
    /* items of no frame's time (none of today's analyzers makes them) keep their place last */
    for (size_t i = 0; i < g->n && rc == 0; i++)
        for (size_t j = 0; keep[i] && j < g->ev[i].n && rc == 0; j++)
            if (!of_frames(&g->ev[i].items[j], frames, n) &&
                (rc = aitag_evidence_push(out, &g->ev[i].items[j])) < 0)
                aitag_fmt(err, errlen, "out of memory");
    if (rc < 0) {
        while (out->n > first)
            aitag_evidence_clear(&out->items[--out->n]);
    }
    for (size_t i = 0; i < g->n; i++)
        aitag_evidence_list_clear(&g->ev[i]);
    return rc;
}

int aitag_graph_run_item(struct aitag_graph *g, const int *want, const char *path,
                         const struct aitag_probe *probe, double interval,
                         const struct aitag_audio_limits *lim, struct aitag_evidence_list *out,
                         char *err, size_t errlen)
{
    size_t first = out->n;
    int rc = 0;

    for (size_t i = 0; i < g->n && rc == 0; i++) {
        const struct aitag_analyzer_ops *ops = g->node[i].ops;
        size_t from = out->n;
        char why[400] = "";
        if (!ops->item || !(want ? want[i] != 0 : g->node[i].asked))
            continue;
        rc = ops->item(g->node[i].state, path, probe, interval, lim, out, why, sizeof why);
        for (size_t j = from; rc == 0 && j < out->n; j++)
            if (!out->items[j].model && !(out->items[j].model = strdup(g->node[i].key))) {
                rc = AITAG_ERR_NOMEM;
                aitag_fmt(why, sizeof why, "out of memory");
            }
        if (rc < 0)
            aitag_fmt(err, errlen, "analyzer %s: %s", ops->name, why);
    }
    if (rc < 0)
        while (out->n > first)
            aitag_evidence_clear(&out->items[--out->n]);
    return rc;
}
