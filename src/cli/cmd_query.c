/*
 * cmd_query.c - `aitag show FILE` and `aitag search --tag ... --person ...`: read-only views of
 * the catalog.
 * Both open the catalog read-only, so they never create one (an older schema is upgraded in
 * place). Before the first `aitag tag` there is no catalog: that is an empty catalog, said in
 * one line on stderr, not an error. An item whose file is gone shows as "missing", whether a
 * tag run marked it or show finds it gone now.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_open_catalog(const struct aitag_opts *o, const char *cmd, int readonly,
                     struct aitag_catalog **c)
{
    char buf[4096], err[1024];
    const char *path = cli_catalog_path(o, buf, sizeof buf);

    *c = NULL;
    if (!aitag_catalog_is_url(path) && access(path, F_OK) != 0 && errno == ENOENT) {
        fprintf(stderr, "aitag %s: no catalog yet at %s (aitag tag creates it)\n", cmd, path);
        return 1;
    }
    if (aitag_catalog_open(path, readonly, c, err, sizeof err) < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, err);
        return -1;
    }
    return 0;
}

int cli_open_catalog_rw(const struct aitag_opts *o, const char *cmd, struct aitag_catalog **c)
{
    char buf[4096], err[1024];
    const char *path = cli_catalog_path(o, buf, sizeof buf);

    if (aitag_catalog_open(path, 0, c, err, sizeof err) < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, err);
        return -1;
    }
    return 0;
}

int cli_file_gone(const char *path)
{
    struct stat st;

    return stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

static int show_one(struct aitag_catalog *c, const struct aitag_opts *opts, const char *path,
                    int json)
{
    int why = aitag_opts_bool(opts, "why");
    struct aitag_media_row row;
    struct aitag_result res = {0};
    struct aitag_probe probe;
    int rc = aitag_catalog_find_media(c, path, &row);

    if (rc == AITAG_ERR_NOTFOUND) {
        fprintf(stderr, "aitag show: %s: not in the catalog (run aitag tag first)\n", path);
        return EXIT_ITEMS_FAILED;
    }
    if (rc == 0 && (row.missing || cli_file_gone(path)))
        aitag_fmt(row.status, sizeof row.status, "missing");
    if (rc == 0)
        rc = aitag_catalog_load_result(c, row.id, &res);
    if (rc == 0)
        rc = aitag_catalog_load_probe(c, row.id, &probe);
    if (rc < 0) {
        fprintf(stderr, "aitag show: %s\n", aitag_catalog_errmsg(c));
        return EXIT_SETUP;
    }
    if (json) {
        json_t *o = item_json(path, row.status[0] ? row.status : "ok",
                              strcmp(row.status, "error") == 0 ? NULL : &probe, &res,
                              row.error[0] ? row.error : NULL);
        if (why && o)
            rc = cli_show_why(c, opts, row.id, o);
        print_json_line(o);
        json_decref(o);
    } else {
        print_item_human(path, row.status, strcmp(row.status, "error") == 0 ? NULL : &probe, &res,
                         row.error[0] ? row.error : NULL);
        if (why)
            rc = cli_show_why(c, opts, row.id, NULL);
    }
    aitag_result_clear(&res);
    if (rc > 0)
        return rc;
    return strcmp(row.status, "error") == 0 ? EXIT_ITEMS_FAILED : EXIT_OK;
}

int cmd_show(int argc, char **argv)
{
    struct aitag_catalog *c = NULL;
    struct aitag_opts o;
    int rc = EXIT_USAGE;

    if ((rc = cli_options(&o, "show", argc, argv)) >= 0)
        goto out;
    rc = EXIT_USAGE;
    cli_setup_logging(&o, NULL, NULL);
    if (o.n_args == 0) {
        fprintf(stderr, "aitag show: give a file (see aitag show --help)\n");
        goto out;
    }
    rc = cli_open_catalog(&o, "show", 1, &c);
    if (rc != 0) { /* no catalog yet: nothing to show, said once */
        rc = rc < 0 ? EXIT_SETUP : EXIT_OK;
        goto out;
    }
    for (size_t i = 0; i < o.n_args; i++) {
        char abs[PATH_MAX];
        const char *p = o.args[i];
        int r;
        /* The catalog keys items by absolute path, as `aitag tag` stored them. */
        if (p[0] != '/' && getcwd(abs, sizeof abs)) {
            size_t l = strlen(abs);
            snprintf(abs + l, sizeof abs - l, "/%s", p);
            p = abs;
        }
        r = show_one(c, &o, p, aitag_opts_bool(&o, "json"));
        if (r > rc)
            rc = r;
    }
out:
    aitag_catalog_close(c);
    aitag_opts_free(&o);
    return rc;
}

struct search_ctx {
    int json;
    int n;
};

static int on_match(void *ctx, const char *path, int64_t id)
{
    struct search_ctx *s = ctx;

    (void)id;
    s->n++;
    if (s->json) {
        json_t *o = json_pack("{s:s}", "path", path);
        print_json_line(o);
        json_decref(o);
    } else {
        puts(path);
    }
    return 0;
}

int cmd_search(int argc, char **argv)
{
    struct aitag_catalog *c = NULL;
    struct aitag_search_query q = {0};
    struct search_ctx s = {0};
    struct aitag_opts o;
    int rc = EXIT_USAGE;

    if ((rc = cli_options(&o, "search", argc, argv)) >= 0)
        goto out;
    rc = EXIT_USAGE;
    q.tags = (const char *const *)aitag_opts_list(&o, "tag", &q.n_tags);
    q.people = (const char *const *)aitag_opts_list(&o, "person", &q.n_people);
    q.any = aitag_opts_bool(&o, "any");
    cli_setup_logging(&o, NULL, NULL);
    if (q.n_tags + q.n_people == 0 && o.n_args == 0) {
        fprintf(stderr, "aitag search: give words, or at least one --tag NAME or --person NAME\n");
        goto out;
    }
    if (q.n_tags + q.n_people > 0 && o.n_args > 0) {
        fprintf(stderr, "aitag search: give words or --tag/--person names, not both\n");
        goto out;
    }
    rc = cli_open_catalog(&o, "search", 1, &c);
    if (rc != 0) { /* no catalog yet: no matches */
        rc = rc < 0 ? EXIT_SETUP : EXIT_OK;
        goto out;
    }
    if (o.n_args > 0) { /* concept search: the words as one phrase */
        char query[1024] = "";
        size_t len = 0;
        for (size_t i = 0; i < o.n_args && len < sizeof query; i++)
            len +=
                (size_t)snprintf(query + len, sizeof query - len, "%s%s", i ? " " : "", o.args[i]);
        rc = cli_concept_search(c, &o, query);
        goto out;
    }
    s.json = aitag_opts_bool(&o, "json");
    rc = aitag_catalog_search_query(c, &q, on_match, &s);
    if (rc < 0) {
        fprintf(stderr, "aitag search: %s\n", aitag_catalog_errmsg(c));
        rc = rc == AITAG_ERR_NOTFOUND ? EXIT_USAGE : EXIT_SETUP;
        goto out;
    }
    rc = EXIT_OK;
out:
    aitag_catalog_close(c);
    aitag_opts_free(&o);
    return rc;
}
