/*
 * cmd_catalog.c - `aitag catalog check|backup|restore`: the catalog file's upkeep from the
 * command line (aitag/catalog.h "Upkeep", docs/catalog.md).
 *
 * check prints each problem found on a line of stdout (or one JSON object with --json) and a
 * verdict on stderr; its exit code is the verdict (0 sound, 1 damaged, 3 unreadable), so a
 * cron job can run it before a backup. backup and restore print one line on stderr saying what
 * they did; restore says where the old catalog went, so it can be put back by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/catalog.h"
#include "cli.h"

struct check_ctx {
    int json;
    json_t *problems;
};

static void on_problem(void *ctx, const char *problem)
{
    struct check_ctx *k = ctx;

    if (k->json)
        json_array_append_new(k->problems, json_string(problem));
    else
        printf("%s\n", problem);
}

static int do_check(const struct aitag_opts *o, const char *target, const char *shown)
{
    struct check_ctx k = {aitag_opts_bool(o, "json"), NULL};
    int quick = aitag_opts_bool(o, "quick"), rc;
    char err[1024] = "";
    int64_t n = 0;

    if (k.json && !(k.problems = json_array()))
        return EXIT_SETUP;
    rc = aitag_catalog_check(target, quick, on_problem, &k, &n, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "aitag catalog check: %s\n", err);
        json_decref(k.problems);
        return EXIT_SETUP;
    }
    if (k.json) {
        json_t *j = json_pack("{s:s, s:b, s:I, s:O}", "catalog", shown, "ok", n == 0, "problems",
                              (json_int_t)n, "details", k.problems);
        print_json_line(j);
        json_decref(j);
    }
    json_decref(k.problems);
    if (n == 0)
        fprintf(stderr, "aitag catalog check: %s: ok (%s)\n", shown,
                aitag_catalog_is_url(target) ? "connected, schema known"
                : quick                      ? "quick_check, foreign keys"
                                             : "integrity_check, foreign keys");
    else
        fprintf(stderr,
                "aitag catalog check: %s: damaged, %lld problem%s; `aitag catalog restore "
                "BACKUP` puts a backup back\n",
                shown, (long long)n, n == 1 ? "" : "s");
    return n == 0 ? EXIT_OK : EXIT_ITEMS_FAILED;
}

int cmd_catalog(int argc, char **argv)
{
    char name[128] = "catalog", buf[4096], shown[512], err[1024] = "", aside[4400];
    struct aitag_opts o;
    const char *target, *sub;
    int rc, unsummed = 0;

    if (cli_subcommand(name, sizeof name, &argc, &argv))
        return EXIT_USAGE;
    if ((rc = cli_options(&o, name, argc, argv)) >= 0)
        goto out;
    cli_setup_logging(&o, NULL, NULL);
    sub = name + strlen("catalog ");
    target = cli_catalog_path(&o, buf, sizeof buf);
    aitag_catalog_target_name(target, shown, sizeof shown);
    rc = EXIT_USAGE;
    if (o.n_args != (strcmp(sub, "check") == 0 ? 0u : 1u)) {
        fprintf(stderr, "aitag %s: usage: aitag %s %s (see aitag %s --help)\n", name, name,
                aitag_command_find(name)->args, name);
        goto out;
    }
    if (strcmp(sub, "check") == 0) {
        rc = do_check(&o, target, shown);
    } else if (strcmp(sub, "backup") == 0) {
        rc = aitag_catalog_backup(target, o.args[0], err, sizeof err);
        if (rc == 0)
            fprintf(stderr, "aitag catalog backup: %s -> %s (and %s.sha256)\n", shown, o.args[0],
                    o.args[0]);
    } else {
        rc = aitag_catalog_restore(target, o.args[0], &unsummed, aside, sizeof aside, err,
                                   sizeof err);
        if (rc == 0 && unsummed)
            fprintf(stderr,
                    "aitag catalog restore: %s has no %s.sha256 beside it: checked for damage "
                    "only\n",
                    o.args[0], o.args[0]);
        if (rc == 0)
            fprintf(stderr, "aitag catalog restore: %s restored from %s%s%s\n", shown, o.args[0],
                    aside[0] ? "; the old catalog is at " : "", aside);
    }
    if (strcmp(sub, "check") != 0) {
        if (rc < 0)
            fprintf(stderr, "aitag %s: %s\n", name, err);
        rc = rc < 0 ? EXIT_SETUP : EXIT_OK;
    }
out:
    aitag_opts_free(&o);
    return rc;
}
