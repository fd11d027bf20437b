/*
 * cmd_models.c - `aitag models list|verify|add|remove|install`: what analyzers exist, which
 * models they use, where each model came from, whether the weights on disk match their
 * manifests, and bringing in the user's own or published models.
 *
 * Custom and installed models live in the user models dir (--user-models-dir,
 * AITAG_USER_MODELS_DIR, else $XDG_DATA_HOME/aitag/models, else ~/.local/share/aitag/models),
 * manifests and weights side by side. The subcommand is the first word; its flags come from the
 * option table, where --catalog of `models install` (a model catalog) is its own row, apart from
 * the catalog database of tag, show and search.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/models.h"
#include "cli.h"

/* The flags only some models subcommands take (see the option table). */
struct models_flags {
    const char *manifest, *catalog, *catalog_url, *user_dir;
    int list;
};

static const char *user_dir(const struct models_flags *f, char *buf, size_t len)
{
    const char *env = getenv("AITAG_USER_MODELS_DIR"), *xdg = getenv("XDG_DATA_HOME");

    if (f && f->user_dir)
        snprintf(buf, len, "%s", f->user_dir);
    else if (env && *env)
        snprintf(buf, len, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, len, "%s/aitag/models", xdg);
    else
        snprintf(buf, len, "%s/.local/share/aitag/models", getenv("HOME") ? getenv("HOME") : ".");
    return buf;
}

int cli_load_custom_models(void)
{
    char dir[4096], err[512] = "";
    int n;

    user_dir(NULL, dir, sizeof dir);
    n = aitag_analyzer_registry_load(dir, dir, err, sizeof err);
    if (n < 0)
        fprintf(stderr, "aitag: custom models in %s: %s\n", dir, err);
    return n;
}

static int list_dir(const char *mdir, const char *wdir, int verify, int json, int *bad,
                    int quiet_missing)
{
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    char **names = NULL;
    size_t n = 0;

    ip.manifest_dir = mdir;
    ip.weights_dir = wdir;
    if (aitag_infer_new(&ip, &inf) < 0)
        return EXIT_SETUP;
    if (aitag_infer_list_manifests(inf, &names, &n) < 0) {
        aitag_infer_free(inf);
        if (quiet_missing)
            return 0;
        fprintf(stderr, "aitag models: cannot read %s\n", mdir);
        return EXIT_SETUP;
    }
    for (size_t i = 0; i < n; i++) {
        struct aitag_model *m;
        const char *state = "ok";
        if (aitag_model_open(inf, names[i], &m) < 0) {
            fprintf(stderr, "aitag models: %s\n", aitag_infer_errmsg(inf));
            (*bad)++;
            continue;
        }
        if (verify && aitag_model_verify(m) < 0) {
            state = "BAD";
            (*bad)++;
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
    return 0;
}

static int list_or_verify(struct aitag_opts *o, const struct models_flags *f, int verify)
{
    char mbuf[4096], wbuf[4096], ubuf[4096];
    const struct aitag_analyzer_ops *const *all;
    const char *mdir = cli_models_dir(o, mbuf, sizeof mbuf);
    const char *wdir = cli_weights_dir(o, wbuf, sizeof wbuf);
    const char *udir = user_dir(f, ubuf, sizeof ubuf);
    char err[512] = "";
    size_t n_all;
    int json = aitag_opts_bool(o, "json"), bad = 0, rc;

    if (aitag_analyzer_registry_load(udir, udir, err, sizeof err) < 0)
        fprintf(stderr, "aitag models: %s\n", err);
    n_all = aitag_analyzer_all(&all);
    if (!verify && !json) {
        printf("Analyzers:\n");
        for (size_t i = 0; i < n_all; i++) {
            printf("  %-10s %s", all[i]->name, all[i]->description);
            if (all[i]->models && all[i]->models[0]) {
                printf("  [models:");
                for (const char *const *m = all[i]->models; *m; m++)
                    printf(" %s", *m);
                printf("]");
            } else {
                printf("  [no local model]");
            }
            printf("\n");
        }
        printf("Models (%s):\n", mdir);
    }
    if ((rc = list_dir(mdir, wdir, verify, json, &bad, 0)) != 0)
        return rc;
    if (!verify && !json)
        printf("User models (%s):\n", udir);
    if ((rc = list_dir(udir, udir, verify, json, &bad, 1)) != 0)
        return rc;
    return bad ? EXIT_ITEMS_FAILED : EXIT_OK;
}

static int do_add(struct aitag_opts *o, const struct models_flags *f)
{
    char ubuf[4096], err[1024] = "";
    const char *udir = user_dir(f, ubuf, sizeof ubuf);

    if (o->n_args != 1 || !f->manifest) {
        fprintf(stderr, "aitag models add: usage: aitag models add FILE.onnx --manifest M.json\n");
        return EXIT_USAGE;
    }
    if (aitag_models_add(o->args[0], f->manifest, udir, err, sizeof err) < 0) {
        fprintf(stderr, "aitag models add: %s\n", err);
        return EXIT_SETUP;
    }
    printf("added %s to %s\n", f->manifest, udir);
    return EXIT_OK;
}

static int do_remove(struct aitag_opts *o, const struct models_flags *f)
{
    char ubuf[4096], err[1024] = "";
    const char *udir = user_dir(f, ubuf, sizeof ubuf);

    if (o->n_args != 1) {
        fprintf(stderr, "aitag models remove: usage: aitag models remove NAME\n");
        return EXIT_USAGE;
    }
    if (aitag_models_remove(o->args[0], udir, err, sizeof err) < 0) {
        fprintf(stderr, "aitag models remove: %s\n", err);
        return EXIT_SETUP;
    }
    printf("removed %s from %s\n", o->args[0], udir);
    return EXIT_OK;
}

static int do_install(struct aitag_opts *o, const struct models_flags *f)
{
    struct aitag_install_params ip = aitag_install_default_params();
    char ubuf[4096], mbuf[4096], cbuf[4200], err[1024] = "";
    int unpinned = 0, rc;

    ip.dest_dir = user_dir(f, ubuf, sizeof ubuf);
    snprintf(cbuf, sizeof cbuf, "%s/catalog/catalog.json", cli_models_dir(o, mbuf, sizeof mbuf));
    ip.catalog = f->catalog_url ? f->catalog_url : f->catalog ? f->catalog : cbuf;
    if (f->list) {
        char **lines = NULL;
        size_t n = 0;
        if (aitag_models_catalog_list(&ip, &lines, &n, err, sizeof err) < 0) {
            fprintf(stderr, "aitag models install: %s\n", err);
            return EXIT_SETUP;
        }
        for (size_t i = 0; i < n; i++) {
            printf("%s\n", lines[i]);
            free(lines[i]);
        }
        free(lines);
        return EXIT_OK;
    }
    if (o->n_args != 1) {
        fprintf(stderr, "aitag models install: usage: aitag models install NAME "
                "[--catalog FILE | --catalog-url URL] (--list shows the names)\n");
        return EXIT_USAGE;
    }
    rc = aitag_models_install(&ip, o->args[0], &unpinned, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "aitag models install: %s\n", err);
        return rc == AITAG_ERR_NOTFOUND ? EXIT_USAGE : EXIT_SETUP;
    }
    if (unpinned)
        fprintf(stderr, "aitag models install: warning: %d file(s) had no sha256 in the catalog; "
                "the checksum of this download is now recorded in the manifest "
                "(docs/models.md, \"Installing models\")\n", unpinned);
    printf("installed %s into %s\n", o->args[0], ip.dest_dir);
    return EXIT_OK;
}

int cmd_models(int argc, char **argv)
{
    struct aitag_opts o;
    struct models_flags f = {0};
    const char *sub;
    char name[128] = "models";
    int rc;

    if (cli_subcommand(name, sizeof name, &argc, &argv))
        return EXIT_USAGE;
    if ((rc = cli_options(&o, name, argc, argv)) >= 0)
        goto out;
    sub = name + strlen("models ");
    if ((strcmp(sub, "list") == 0 || strcmp(sub, "verify") == 0) && o.n_args > 0) {
        fprintf(stderr, "aitag %s: unexpected argument '%s'\n", name, o.args[0]);
        rc = EXIT_USAGE;
        goto out;
    }
    f.manifest = aitag_opts_str(&o, "manifest");
    f.catalog = aitag_opts_str(&o, "catalog");
    f.catalog_url = aitag_opts_str(&o, "catalog-url");
    f.user_dir = aitag_opts_str(&o, "user-models-dir");
    f.list = aitag_opts_bool(&o, "list");
    cli_setup_logging(&o, NULL, NULL);
    if (strcmp(sub, "list") == 0)
        rc = list_or_verify(&o, &f, 0);
    else if (strcmp(sub, "verify") == 0)
        rc = list_or_verify(&o, &f, 1);
    else if (strcmp(sub, "add") == 0)
        rc = do_add(&o, &f);
    else if (strcmp(sub, "remove") == 0)
        rc = do_remove(&o, &f);
    else
        rc = do_install(&o, &f);
out:
    aitag_opts_free(&o);
    return rc;
}
