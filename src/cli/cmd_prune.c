/*
 * cmd_prune.c - `aitag prune`: deletes the catalog items marked missing (their files were gone
 * when `aitag tag` last looked at their folder), with everything stored for them.
 *
 * Each file is looked for once more first: one that is back (a disk mounted again) keeps its
 * item and loses the mark, so prune never deletes the results of a file that exists. The list
 * is read before anything is deleted, so deleting never races the listing. --dry-run only says
 * what would go. One line per item on stdout (or one JSON object with --json), a summary on
 * stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct missing_list {
    int64_t *ids;
    char **paths;
    size_t n, cap;
    int nomem;
};

static int collect(void *ctx, const char *path, int64_t id, int missing)
{
    struct missing_list *l = ctx;

    (void)missing;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *ids = realloc(l->ids, cap * sizeof *ids);
        char **paths = ids ? realloc(l->paths, cap * sizeof *paths) : NULL;
        if (ids)
            l->ids = ids;
        if (paths)
            l->paths = paths;
        if (!ids || !paths)
            return l->nomem = 1;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(path)))
        return l->nomem = 1;
    l->ids[l->n++] = id;
    return 0;
}

static void print_one(int json, const char *path, const char *status, const char *human)
{
    if (json) {
        json_t *o = json_pack("{s:s, s:s}", "path", path, "status", status);
        print_json_line(o);
        json_decref(o);
    } else {
        printf("%s %s\n", human, path);
    }
}

int cmd_prune(int argc, char **argv)
{
    struct aitag_catalog *c = NULL;
    struct missing_list l = {0};
    struct aitag_opts o;
    int rc = EXIT_USAGE, json, dry, removed = 0, back = 0;

    if ((rc = cli_options(&o, "prune", argc, argv)) >= 0)
        goto out;
    rc = EXIT_USAGE;
    cli_setup_logging(&o, NULL, NULL);
    if (o.n_args) {
        fprintf(stderr,
                "aitag prune: takes no paths (got '%s'); aitag tag DIR marks what is gone\n",
                o.args[0]);
        goto out;
    }
    json = aitag_opts_bool(&o, "json");
    dry = aitag_opts_bool(&o, "dry-run");
    rc = cli_open_catalog(&o, "prune", dry, &c);
    if (rc != 0) { /* no catalog yet: nothing to prune */
        rc = rc < 0 ? EXIT_SETUP : EXIT_OK;
        goto out;
    }
    if (aitag_catalog_each_item(c, NULL, 1, collect, &l) < 0 || l.nomem) {
        fprintf(stderr, "aitag prune: %s\n", l.nomem ? "out of memory" : aitag_catalog_errmsg(c));
        rc = EXIT_SETUP;
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        int r = 0;
        if (!cli_file_gone(l.paths[i])) {
            if (!dry)
                r = aitag_catalog_set_missing(c, &l.ids[i], 1, 0);
            if (r == 0)
                print_one(json, l.paths[i], "kept", "kept (the file is back)");
            back += r == 0;
        } else {
            if (!dry)
                r = aitag_catalog_delete_media(c, l.ids[i]);
            if (r == 0)
                print_one(json, l.paths[i], dry ? "missing" : "removed",
                          dry ? "would remove" : "removed");
            removed += r == 0;
        }
        if (r < 0) {
            fprintf(stderr, "aitag prune: %s: %s\n", l.paths[i], aitag_catalog_errmsg(c));
            rc = EXIT_SETUP;
            goto out;
        }
    }
    fprintf(stderr, "aitag prune: %d missing item%s %s", removed, removed == 1 ? "" : "s",
            dry ? "would be removed (dry run)" : "removed");
    if (back)
        fprintf(stderr, "; %d kept, the file%s back", back, back == 1 ? " is" : "s are");
    fputc('\n', stderr);
    rc = EXIT_OK;
out:
    for (size_t i = 0; i < l.n; i++)
        free(l.paths[i]);
    free(l.paths);
    free(l.ids);
    aitag_catalog_close(c);
    aitag_opts_free(&o);
    return rc;
}
