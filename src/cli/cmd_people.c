/*
 * cmd_people.c - `aitag people`: the people found in the library's faces (docs/people.md).
 *
 * recluster and update run the people engine (aitag/people.h) on the catalog and report what
 * changed: one line on stderr, or one JSON object on stdout with --json. cli_people_update is
 * the same update for `aitag tag`, after a run that used face_attrs.
 */
#include <stdio.h>
#include <string.h>

#include "aitag/people.h"
#include "cli.h"

/* The engine's parameters: its measured defaults, overridden by the options given. */
static void people_params(const struct aitag_opts *o, struct aitag_people_params *p)
{
    aitag_people_default_params(p);
    if (aitag_opts_str(o, "max-distance"))
        p->max_distance = (float)aitag_opts_num(o, "max-distance");
    if (aitag_opts_str(o, "min-faces"))
        p->min_faces = (int)aitag_opts_int(o, "min-faces");
    if (aitag_opts_str(o, "min-quality"))
        p->min_quality = (float)aitag_opts_num(o, "min-quality");
}

static void print_stats(const char *what, const struct aitag_people_stats *st, int json)
{
    if (json) {
        json_t *j = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "command", what, "faces",
            (json_int_t)st->faces, "backfilled", (json_int_t)st->backfilled, "tracks",
            (json_int_t)st->tracks, "assigned", (json_int_t)st->assigned, "unassigned",
            (json_int_t)st->unassigned, "people_created", (json_int_t)st->people_created,
            "people_dropped", (json_int_t)st->people_dropped, "people", (json_int_t)st->people);
        print_json_line(j);
        json_decref(j);
        return;
    }
    fprintf(stderr, "aitag %s: %ld faces, %ld people (%ld new", what, st->faces, st->people,
            st->people_created);
    if (st->people_dropped)
        fprintf(stderr, ", %ld removed", st->people_dropped);
    fprintf(stderr, "); %ld faces assigned now, %ld without a person\n", st->assigned,
            st->unassigned);
}

/* Runs the update or the re-cluster on catalog c. 0 or EXIT_SETUP after printing why. */
static int run_engine(struct aitag_catalog *c, const struct aitag_opts *o, const char *what,
                      int full, int json)
{
    struct aitag_people_params p;
    struct aitag_people_stats st;
    char err[512];
    int rc;

    people_params(o, &p);
    rc = full ? aitag_people_recluster(c, &p, &st, err, sizeof err)
              : aitag_people_update(c, &p, &st, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "aitag %s: %s\n", what, err);
        return EXIT_SETUP;
    }
    print_stats(what, &st, json);
    return 0;
}

int cli_people_update(const struct aitag_opts *o, const char *catalog_path)
{
    struct aitag_catalog *c = NULL;
    char err[512];
    int rc;

    if (aitag_catalog_open(catalog_path, 0, &c, err, sizeof err) < 0) {
        fprintf(stderr, "aitag tag: people: %s\n", err);
        return EXIT_SETUP;
    }
    rc = run_engine(c, o, "tag: people", 0, 0);
    aitag_catalog_close(c);
    return rc;
}

int cmd_people(int argc, char **argv)
{
    struct aitag_catalog *c = NULL;
    struct aitag_opts o;
    char name[128] = "people";
    int rc;

    if (cli_subcommand(name, sizeof name, &argc, &argv))
        return EXIT_USAGE;
    if ((rc = cli_options(&o, name, argc, argv)) >= 0)
        goto out;
    cli_setup_logging(&o, NULL, NULL);
    rc = EXIT_USAGE;
    if (o.n_args) {
        fprintf(stderr, "aitag %s: unexpected argument '%s'\n", name, o.args[0]);
        goto out;
    }
    if (strcmp(name, "people recluster") == 0 || strcmp(name, "people update") == 0) {
        rc = cli_open_catalog(&o, name, 0, &c);
        if (rc != 0) { /* no catalog yet: no faces */
            rc = rc < 0 ? EXIT_SETUP : EXIT_OK;
            goto out;
        }
        rc = run_engine(c, &o, name, strcmp(name, "people recluster") == 0,
                        aitag_opts_bool(&o, "json"));
    }
out:
    aitag_catalog_close(c);
    aitag_opts_free(&o);
    return rc;
}
