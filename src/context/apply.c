/*
 * apply.c - aitag_context_apply: the rules over one item's evidence.
 *
 * Scopes cut the item's frames into windows: each frame alone, each shot (frames from its
 * start up to the next shot; an item without shots is one shot), or the whole item. A
 * suppression removes, in every window where its condition holds (and its `unless` does not),
 * the evidence of its label in that window. Then each sense rule gives the evidence of its
 * label in the windows where it holds another label, the sense that context picks ("mouse"
 * next to a cat becomes "mouse (animal)"); the evidence is otherwise the same (its analyzer,
 * box, time and confidence), and the first sense rule to read a piece of evidence wins. Then
 * each concept, in file order, is evaluated on
 * what is kept plus the concepts before it (so a concept may build on another); where it
 * holds, it is added at the frames of the evidence that made it hold (for a frame scope, that
 * frame), with the condition's confidence times the rule's weight. Every addition and removal
 * records its rule and the evidence behind it, for `aitag show --why`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context_int.h"

struct window {
    size_t lo, hi;
};

/* The windows of scope s over f into *w (n of them). */
static int windows(enum scope s, const struct frames *f, const struct aitag_shot *shots,
                   size_t n_shots, struct window **w, size_t *n)
{
    size_t k = 0;

    *n = 0;
    *w = malloc((f->n ? f->n : 1) * sizeof **w);
    if (!*w)
        return AITAG_ERR_NOMEM;
    if (f->n == 0)
        return 0;
    if (s == SCOPE_FRAME) {
        for (k = 0; k < f->n; k++)
            (*w)[k] = (struct window){k, k + 1};
        *n = f->n;
    } else if (s == SCOPE_ITEM || n_shots < 2) {
        (*w)[0] = (struct window){0, f->n};
        *n = 1;
    } else { /* a shot runs from its start to the next shot's start */
        size_t lo = 0;
        for (size_t j = 1; j <= n_shots && lo < f->n; j++) {
            double next = j < n_shots ? shots[j].start : INFINITY;
            size_t hi = lo;
            while (hi < f->n && f->t[hi] < next - 1e-9)
                hi++;
            if (hi > lo)
                (*w)[k++] = (struct window){lo, hi};
            lo = hi;
        }
        if (lo < f->n)
            (*w)[k++] = (struct window){lo, f->n};
        *n = k;
    }
    return 0;
}

/* kind: 0 a concept at output index, 1 input index suppressed, 2 input index read as */
static int add_why(struct aitag_context_out *out, size_t *cap, size_t rule, int kind, size_t index,
                   const struct hold *h)
{
    struct aitag_context_why *w;

    if (out->n_why == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct aitag_context_why *g = realloc(out->why, nc * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        out->why = g, *cap = nc;
    }
    w = &out->why[out->n_why];
    memset(w, 0, sizeof *w);
    w->rule = rule, w->suppressed = kind == 1, w->read_as = kind == 2, w->index = index;
    if (h->n_why) {
        w->inputs = malloc(h->n_why * sizeof *w->inputs);
        if (!w->inputs)
            return AITAG_ERR_NOMEM;
        memcpy(w->inputs, h->why, h->n_why * sizeof *w->inputs);
        w->n_inputs = h->n_why;
    }
    out->n_why++;
    return 0;
}

/* Whether rule r holds over window w of f: 1 (h filled), 0, or < 0. */
static int rule_holds(const struct rule *r, const struct frames *f, struct window w, struct hold *h)
{
    struct hold u = {0};
    int rc = context_eval(&r->when, f, w.lo, w.hi, h);

    if (rc < 0 || !h->holds)
        return rc;
    if (r->has_unless) {
        rc = context_eval(&r->unless, f, w.lo, w.hi, &u);
        if (rc == 0 && u.holds)
            h->holds = 0;
        context_hold_clear(&u);
    }
    return rc < 0 ? rc : h->holds;
}

/* Suppressions, then senses, each in file order, over the input: a suppression marks its
 * label's evidence gone, a sense gives its label's evidence (not gone, not read by an earlier
 * sense) the rule's `as` label in as_of. Both record why. */
static int remove_and_read(const struct aitag_context *c, const struct aitag_evidence *ev, size_t n,
                           const struct aitag_shot *shots, size_t n_shots, unsigned char *gone,
                           const char **as_of, struct aitag_context_out *out, size_t *why_cap)
{
    static const enum rule_kind order[] = {RULE_SUPPRESS, RULE_SENSE};
    int rc = 0;

    for (size_t o = 0; rc == 0 && o < 2; o++) {
        struct frames f;
        rc = context_frames_build(&f, ev, n, gone);
        for (size_t r = 0; rc == 0 && r < c->n; r++) {
            const struct rule *ru = &c->rules[r];
            struct window *w = NULL;
            size_t n_w = 0;
            if (ru->kind != order[o])
                continue;
            rc = windows(ru->scope, &f, shots, n_shots, &w, &n_w);
            for (size_t j = 0; rc == 0 && j < n_w; j++) {
                struct hold h = {0};
                rc = rule_holds(ru, &f, w[j], &h);
                for (size_t k = w[j].lo; rc > 0 && k < w[j].hi; k++)
                    for (size_t m = f.first[k]; m < f.first[k + 1] && rc > 0; m++) {
                        size_t i = f.idx[m];
                        if (gone[i] || as_of[i] || !ev[i].label)
                            continue;
                        for (size_t l = 0; l < ru->target.n_labels; l++)
                            if (strcmp(ru->target.labels[l], ev[i].label) == 0) {
                                if (ru->kind == RULE_SUPPRESS)
                                    gone[i] = 1;
                                else
                                    as_of[i] = ru->as;
                                rc = add_why(out, why_cap, r, ru->kind == RULE_SUPPRESS ? 1 : 2, i,
                                             &h) < 0
                                         ? AITAG_ERR_NOMEM
                                         : 1;
                                break;
                            }
                    }
                rc = rc < 0 ? rc : 0;
                context_hold_clear(&h);
            }
            free(w);
        }
        context_frames_free(&f);
    }
    return rc;
}

/* A concept named name at time t with confidence conf, appended to *list (n, cap). */
static int push_concept(struct aitag_evidence **list, size_t *n, size_t *cap, const char *name,
                        double t, double end, float conf)
{
    struct aitag_evidence *e;

    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct aitag_evidence *g = realloc(*list, nc * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        *list = g, *cap = nc;
    }
    e = &(*list)[*n];
    memset(e, 0, sizeof *e);
    e->analyzer = strdup(AITAG_CONTEXT_ANALYZER);
    e->label = strdup(name);
    e->t = t;
    e->end = end;
    e->confidence = conf;
    if (!e->analyzer || !e->label) {
        aitag_evidence_clear(e);
        return AITAG_ERR_NOMEM;
    }
    (*n)++;
    return 0;
}

/* How long a concept made at time t from hold h lasts: as long as every finding behind it at t
 * does (findings that last: speech segments, adaptive samples that agree, persist.c), else 0
 * (an instant). */
static double concept_end(const struct aitag_context_out *out, const struct hold *h, double t)
{
    double end = INFINITY;
    int any = 0;

    for (size_t q = 0; q < h->n_why; q++) {
        const struct aitag_evidence *e = &out->evidence[h->why[q]];
        if (fabs(e->t - t) > 1e-6)
            continue;
        if (e->end <= e->t)
            return 0;
        end = fmin(end, e->end);
        any = 1;
    }
    return any ? end : 0;
}

/* Concept rule r over the output so far: its new evidence appended (after evaluation, since
 * appending moves the array the frames point into). */
static int one_concept(const struct aitag_context *c, size_t r, const struct aitag_shot *shots,
                       size_t n_shots, struct aitag_context_out *out, size_t *cap, size_t *why_cap)
{
    const struct rule *ru = &c->rules[r];
    struct aitag_evidence *add = NULL;
    struct hold *holds = NULL;
    size_t n_add = 0, cap_add = 0, n_w = 0, *owner = NULL;
    struct window *w = NULL;
    struct frames f;
    int rc = context_frames_build(&f, out->evidence, out->n, NULL);

    if (rc == 0)
        rc = windows(ru->scope, &f, shots, n_shots, &w, &n_w);
    if (rc == 0 && n_w &&
        (!(holds = calloc(n_w, sizeof *holds)) ||
         !(owner = malloc((f.n ? f.n : 1) * sizeof *owner))))
        rc = AITAG_ERR_NOMEM;
    for (size_t j = 0; rc == 0 && j < n_w; j++) {
        struct hold *h = &holds[j];
        float conf;
        rc = rule_holds(ru, &f, w[j], h);
        if (rc <= 0)
            continue;
        rc = 0;
        conf = fminf(1.0f, h->conf * ru->weight);
        if (ru->scope == SCOPE_FRAME) {
            owner[n_add] = j;
            rc = push_concept(&add, &n_add, &cap_add, ru->name, f.t[w[j].lo],
                              concept_end(out, h, f.t[w[j].lo]), conf);
            continue;
        }
        for (size_t k = w[j].lo; rc == 0 && k < w[j].hi; k++) { /* frames of its evidence */
            int here = 0;
            for (size_t q = 0; q < h->n_why && !here; q++)
                here = fabs(out->evidence[h->why[q]].t - f.t[k]) <= 1e-6;
            if (here) {
                owner[n_add] = j;
                rc = push_concept(&add, &n_add, &cap_add, ru->name, f.t[k],
                                  concept_end(out, h, f.t[k]), conf);
            }
        }
    }
    if (rc == 0 && n_add && out->n + n_add > *cap) {
        size_t nc = out->n + n_add + 16;
        struct aitag_evidence *g = realloc(out->evidence, nc * sizeof *g);
        if (g)
            out->evidence = g, *cap = nc;
        else
            rc = AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; rc == 0 && i < n_add; i++) {
        out->evidence[out->n] = add[i];
        memset(&add[i], 0, sizeof add[i]);
        rc = add_why(out, why_cap, r, 0, out->n, &holds[owner[i]]);
        out->n++;
    }
    for (size_t i = 0; i < n_add; i++)
        aitag_evidence_clear(&add[i]);
    free(add);
    for (size_t j = 0; holds && j < n_w; j++)
        context_hold_clear(&holds[j]);
    free(holds);
    free(owner);
    free(w);
    context_frames_free(&f);
    return rc;
}

void aitag_context_out_clear(struct aitag_context_out *out)
{
    for (size_t i = out->n_kept; i < out->n; i++)
        aitag_evidence_clear(&out->evidence[i]);
    free(out->evidence);
    for (size_t i = 0; i < out->n_why; i++)
        free(out->why[i].inputs);
    free(out->why);
    memset(out, 0, sizeof *out);
}

int aitag_context_apply(const struct aitag_context *c, const struct aitag_evidence *ev, size_t n,
                        const struct aitag_shot *shots, size_t n_shots,
                        struct aitag_context_out *out)
{
    unsigned char *gone = calloc(n ? n : 1, 1);
    const char **as_of = calloc(n ? n : 1, sizeof *as_of);
    size_t cap = n + 16, why_cap = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->evidence = malloc(cap * sizeof *out->evidence);
    if (!gone || !as_of || !out->evidence) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    if (c)
        rc = remove_and_read(c, ev, n, shots, n_shots, gone, as_of, out, &why_cap);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (gone[i])
            continue;
        out->evidence[out->n] = ev[i]; /* shallow: the caller's */
        if (as_of[i])
            out->evidence[out->n].label = (char *)as_of[i]; /* the rule's, never freed here */
        out->n++;
    }
    out->n_kept = out->n;
    for (size_t r = 0; c && rc == 0 && r < c->n; r++)
        if (c->rules[r].kind == RULE_CONCEPT)
            rc = one_concept(c, r, shots, n_shots, out, &cap, &why_cap);
out:
    free(gone);
    free(as_of);
    if (rc < 0)
        aitag_context_out_clear(out);
    return rc;
}
