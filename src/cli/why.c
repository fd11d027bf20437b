/*
 * why.c - `aitag show --why`: which evidence made each concept of the context rules, why
 * evidence was suppressed, and which context picked a label's sense.
 *
 * The chain is computed again from the stored evidence with the context rules the options
 * name (those `aitag tag` would apply now), exactly as the policy applies them when deriving:
 * concepts are not stored, they are a function of the evidence. In JSON the item gains
 * "why": [{"concept", "t", "confidence", "rule", "from": [evidence...]} | {"suppressed":
 * evidence, "rule", "because": [evidence...]} | {"read": evidence, "as", "rule", "because":
 * [evidence...]}], evidence as {"analyzer", "label", "t", "confidence"}. In words, a line per
 * concept and time, at most five per rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define HUMAN_PER_CONCEPT 5

static json_t *ev_json(const struct aitag_evidence *e)
{
    return json_pack("{s:s, s:s, s:f, s:f}", "analyzer", e->analyzer ? e->analyzer : "", "label",
                     e->label ? e->label : "", "t", e->t, "confidence", (double)e->confidence);
}

static json_t *why_json(const struct aitag_context *cx, const struct aitag_evidence_list *in,
                        const struct aitag_context_out *out)
{
    json_t *arr = json_array();

    for (size_t w = 0; arr && w < out->n_why; w++) {
        const struct aitag_context_why *y = &out->why[w];
        const struct aitag_evidence *src = y->suppressed || y->read_as ? in->items : out->evidence;
        const char *rule = aitag_context_rule_name(cx, y->rule, NULL);
        json_t *from = json_array(), *o;
        for (size_t k = 0; from && k < y->n_inputs; k++)
            json_array_append_new(from, ev_json(&src[y->inputs[k]]));
        if (y->suppressed)
            o = json_pack("{s:o, s:s, s:o}", "suppressed", ev_json(&in->items[y->index]), "rule",
                          rule, "because", from);
        else if (y->read_as)
            o = json_pack("{s:o, s:s, s:s, s:o}", "read", ev_json(&in->items[y->index]), "as",
                          aitag_context_rule_as(cx, y->rule), "rule", rule, "because", from);
        else
            o = json_pack("{s:s, s:f, s:f, s:s, s:o}", "concept", out->evidence[y->index].label,
                          "t", out->evidence[y->index].t, "confidence",
                          (double)out->evidence[y->index].confidence, "rule", rule, "from", from);
        json_array_append_new(arr, o);
    }
    return arr;
}

static void print_evidence_list(const struct aitag_evidence *src, const size_t *idx, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const struct aitag_evidence *e = &src[idx[k]];
        printf("%s%s %.2f @%.1fs", k ? ", " : "", e->label, e->confidence, e->t);
    }
}

static void print_why(const struct aitag_context *cx, const struct aitag_evidence_list *in,
                      const struct aitag_context_out *out)
{
    if (out->n_why == 0) {
        printf("why: no context rule applies\n");
        return;
    }
    for (size_t w = 0; w < out->n_why; w++) {
        const struct aitag_context_why *y = &out->why[w];
        size_t seen = 0;
        for (size_t v = 0; v < w; v++) /* earlier lines of the same rule and kind */
            seen += out->why[v].rule == y->rule;
        if (seen == HUMAN_PER_CONCEPT)
            printf("why: ... (%s: more times; --json lists all)\n",
                   aitag_context_rule_name(cx, y->rule, NULL));
        if (seen >= HUMAN_PER_CONCEPT)
            continue;
        if (y->suppressed) {
            const struct aitag_evidence *e = &in->items[y->index];
            printf("why: %s %.2f @%.1fs suppressed by \"%s\" <- ", e->label, e->confidence, e->t,
                   aitag_context_rule_name(cx, y->rule, NULL));
            print_evidence_list(in->items, y->inputs, y->n_inputs);
        } else if (y->read_as) {
            const struct aitag_evidence *e = &in->items[y->index];
            printf("why: %s %.2f @%.1fs read as %s by \"%s\" <- ", e->label, e->confidence, e->t,
                   aitag_context_rule_as(cx, y->rule), aitag_context_rule_name(cx, y->rule, NULL));
            print_evidence_list(in->items, y->inputs, y->n_inputs);
        } else {
            const struct aitag_evidence *e = &out->evidence[y->index];
            printf("why: %s %.2f @%.1fs <- ", e->label, e->confidence, e->t);
            print_evidence_list(out->evidence, y->inputs, y->n_inputs);
        }
        putchar('\n');
    }
}

int cli_show_why(struct aitag_catalog *c, const struct aitag_opts *o, int64_t media_id,
                 json_t *item)
{
    struct aitag_context *cx = NULL;
    struct aitag_evidence_list ev = {0};
    struct aitag_context_out out = {0};
    struct aitag_shot *shots = NULL;
    char bufs[2][4096], err[1024] = "";
    const char *paths[2];
    size_t n_paths = cli_context_paths(o, bufs, paths), n_shots = 0;
    int rc = aitag_context_new(&cx);

    for (size_t i = 0; rc == 0 && i < n_paths; i++)
        rc = aitag_context_load(cx, paths[i], err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "aitag show: %s\n", err[0] ? err : "out of memory");
        rc = EXIT_SETUP;
        goto out;
    }
    if (aitag_catalog_load_evidence(c, media_id, &ev) < 0 ||
        aitag_catalog_load_shots(c, media_id, &shots, &n_shots) < 0) {
        fprintf(stderr, "aitag show: %s\n", aitag_catalog_errmsg(c));
        rc = EXIT_SETUP;
        goto out;
    }
    if (aitag_context_apply(cx, ev.items, ev.n, shots, n_shots, &out) < 0) {
        fprintf(stderr, "aitag show: out of memory\n");
        rc = EXIT_SETUP;
        goto out;
    }
    if (item)
        json_object_set_new(item, "why", why_json(cx, &ev, &out));
    else
        print_why(cx, &ev, &out);
out:
    aitag_context_out_clear(&out);
    aitag_evidence_list_clear(&ev);
    free(shots);
    aitag_context_free(cx);
    return rc;
}
