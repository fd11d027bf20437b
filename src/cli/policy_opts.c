/*
 * policy_opts.c - the policy `aitag tag` applies, built from a command's options, for the
 * commands that change the catalog and re-derive what they touch (people, review, serve): the
 * same rules file, context rules, categories, threshold and markers, so an edit shows what the
 * next run would store.
 */
#include <stdio.h>

#include "aitag/concepts.h"
#include "cli.h"

struct aitag_policy *cli_load_policy(const struct aitag_opts *o, const char *cmd,
                                     struct aitag_concepts **cx)
{
    struct aitag_policy *p = NULL;
    const char *rules = aitag_opts_str(o, "rules"), *ctx[2];
    static char ctx_bufs[2][4096];
    char buf[4096], err[1024] = "";
    size_t n_ctx;

    if (!rules)
        rules = aitag_default_rules_path(buf, sizeof buf);
    if (aitag_policy_new(&p) < 0) {
        fprintf(stderr, "aitag %s: out of memory\n", cmd);
        return NULL;
    }
    if (rules && aitag_policy_load(p, rules, err, sizeof err) < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, err);
        aitag_policy_free(p);
        return NULL;
    }
    n_ctx = cli_context_paths(o, ctx_bufs, ctx);
    for (size_t i = 0; i < n_ctx; i++)
        if (aitag_policy_load_context(p, ctx[i], err, sizeof err) < 0) {
            fprintf(stderr, "aitag %s: %s\n", cmd, err);
            aitag_policy_free(p);
            return NULL;
        }
    if (aitag_policy_use_categories(p, cli_models_dir(o, buf, sizeof buf), cx, err, sizeof err) <
        0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, err);
        aitag_policy_free(p);
        return NULL;
    }
    if (aitag_opts_str(o, "threshold"))
        aitag_policy_set_threshold(p, (float)aitag_opts_num(o, "threshold"));
    if (!aitag_opts_bool(o, "markers"))
        aitag_policy_set_markers(p, 0);
    return p;
}
