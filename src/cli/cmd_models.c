/*
 * cmd_models.c - `aitag models list|verify`: what analyzers exist, which models they use,
 * where each model came from, and whether the weights on disk match their manifests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "cli.h"

static int list_or_verify(struct opts *o, int verify)
{
    char mbuf[4096], wbuf[4096];
    struct aitag_infer_params ip = aitag_infer_default_params();
    const struct aitag_analyzer_ops *const *all;
    struct aitag_infer *inf = NULL;
    size_t n_all = aitag_analyzer_all(&all);
    char **names = NULL;
    size_t n = 0;
    int json = opt_bool(o, "json"), bad = 0;

    ip.manifest_dir = cli_models_dir(o, mbuf, sizeof mbuf);
    ip.weights_dir = cli_weights_dir(o, wbuf, sizeof wbuf);
    if (aitag_infer_new(&ip, &inf) < 0)
        return EXIT_SETUP;
    if (!verify && !json) {
        printf("Analyzers:\n");
        for (size_t i = 0; i < n_all; i++) {
            printf("  %-10s %s  [models:", all[i]->name, all[i]->description);
            for (const char *const *m = all[i]->models; m && *m; m++)
                printf(" %s", *m);
            printf("]\n");
        }
        printf("Models (%s):\n", ip.manifest_dir);
    }
    if (aitag_infer_list_manifests(inf, &names, &n) < 0) {
        fprintf(stderr, "aitag models: cannot read %s\n", ip.manifest_dir);
        aitag_infer_free(inf);
        return EXIT_SETUP;
    }
    for (size_t i = 0; i < n; i++) {
        struct aitag_model *m;
        const char *state = "ok";
        if (aitag_model_open(inf, names[i], &m) < 0) {
            fprintf(stderr, "aitag models: %s\n", aitag_infer_errmsg(inf));
            bad++;
            continue;
        }
        if (verify && aitag_model_verify(m) < 0) {
            state = "BAD";
            bad++;
            fprintf(stderr, "aitag models: %s\n", aitag_infer_errmsg(inf));
        }
        if (json) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name",
                                  aitag_model_name(m), "version", aitag_model_version(m), "package",
                                  aitag_model_package(m), "license", aitag_model_license(m),
                                  "sha256", aitag_model_sha256(m), "path", aitag_model_path(m),
                                  "task", aitag_model_task(m));
            if (verify)
                json_object_set_new(j, "verified", json_boolean(strcmp(state, "ok") == 0));
            print_json_line(j);
            json_decref(j);
        } else if (verify) {
            printf("%-4s %-16s %s\n", state, aitag_model_name(m), aitag_model_path(m));
        } else {
            printf("  %-16s %-8s %-10s %-12s from %s\n", aitag_model_name(m),
                   aitag_model_version(m), aitag_model_task(m), aitag_model_license(m),
                   aitag_model_package(m));
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    aitag_infer_free(inf);
    return bad ? EXIT_ITEMS_FAILED : EXIT_OK;
}

int cmd_models(int argc, char **argv)
{
    struct opts o;
    int rc = EXIT_USAGE;
    const char *sub;

    if (opts_parse(&o, "models", argc, argv) < 0)
        goto out;
    sub = o.n_args ? o.args[0] : NULL;
    if (o.help || !sub) {
        printf("Usage: aitag models list|verify [OPTIONS]\n"
               "  list     analyzers and the models they use, with source and licence\n"
               "  verify   check every model file's sha256 against its manifest\n\n");
        opts_print_help("models", stdout);
        rc = o.help ? EXIT_OK : EXIT_USAGE;
        goto out;
    }
    cli_setup_logging(&o);
    if (strcmp(sub, "list") == 0)
        rc = list_or_verify(&o, 0);
    else if (strcmp(sub, "verify") == 0)
        rc = list_or_verify(&o, 1);
    else
        fprintf(stderr, "aitag models: unknown subcommand '%s' (list or verify)\n", sub);
out:
    opts_free(&o);
    return rc;
}
