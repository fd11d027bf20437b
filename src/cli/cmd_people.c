/*
 * cmd_people.c - `aitag people`: the people found in the library's faces (docs/people.md).
 *
 * recluster and update run the people engine (aitag/people.h) on the catalog and report what
 * changed: one line on stderr, or one JSON object on stdout with --json. cli_people_update is
 * the same update for `aitag tag`, after a run that used face_attrs.
 *
 * list|show|name|merge|split|ignore|forget are the user's side of people.
 * list and show open the catalog read-only; the others change it, each in one transaction
 * that re-derives the media involved with the same rules `aitag tag` would apply (--rules,
 * --threshold, --markers, the default rules file), so a named person's tag is in `aitag show`
 * at once. Arguments are checked before the catalog is touched, and every refusal is one line
 * naming the argument: "ID 'x': not a person id", "NAME 'Ann': already the name of person 3".
 * Exit codes as everywhere: 2 for bad arguments (an unknown id included), 3 when the catalog
 * is unusable, 1 when `show --crops` could not write some crops (each said on a line).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/concepts.h"
#include "aitag/people.h"
#include "cli.h"

#define MAX_IDS 1024

/* The id in s (a positive whole number), or 0 after printing why not. */
static int64_t parse_id(const char *cmd, const char *field, const char *s)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0) {
        fprintf(stderr, "aitag %s: %s '%s': not a %s id (a positive whole number)\n", cmd, field, s,
                strcmp(field, "ID") == 0 ? "person" : "face");
        return 0;
    }
    return (int64_t)v;
}

/* Parses args[from..n) as ids into out (at most MAX_IDS). The count, or -1 after printing. */
static long parse_ids(const char *cmd, const char *field, char *const *args, size_t from, size_t n,
                      int64_t *out)
{
    if (n - from > MAX_IDS) {
        fprintf(stderr, "aitag %s: at most %d ids at once\n", cmd, MAX_IDS);
        return -1;
    }
    for (size_t i = from; i < n; i++)
        if (!(out[i - from] = parse_id(cmd, field, args[i])))
            return -1;
    return (long)(n - from);
}

static json_t *box_json(const struct aitag_box *b)
{
    return json_pack("[f,f,f,f]", (double)b->x, (double)b->y, (double)b->w, (double)b->h);
}

static json_t *num_or_null(float v)
{
    return v < 0 ? json_null() : json_real(v);
}

static int on_media(void *ctx, const char *path, int64_t media_id, int missing)
{
    (void)media_id, (void)missing;
    return json_array_append_new(ctx, json_string(path)) < 0;
}

struct person_ctx {
    struct aitag_catalog *c;
    json_t *out; /* list: the array; show: the object */
    int rc;
};

/* {"id", "name", "faces", "media", "cover"}: one person as `people list --json` prints it. */
static json_t *person_json(struct aitag_catalog *c, const struct aitag_person *p, int *rc)
{
    json_t *media = json_array(), *cover = json_null();

    *rc = aitag_catalog_person_media(c, p->id, on_media, media);
    if (p->has_cover)
        cover = json_pack("{s:s, s:f, s:o}", "path", p->cover_path, "t", p->cover_t, "box",
                          box_json(&p->cover_box));
    return json_pack("{s:I, s:o, s:I, s:o, s:o}", "id", (json_int_t)p->id, "name",
                     p->name ? json_string(p->name) : json_null(), "faces", (json_int_t)p->n_faces,
                     "media", media, "cover", cover);
}

static int on_person(void *ctx, const struct aitag_person *p)
{
    struct person_ctx *x = ctx;
    json_t *o = person_json(x->c, p, &x->rc);

    if (o && p->ignored) /* listed with --ignored only */
        json_object_set_new(o, "ignored", json_true());
    json_array_append_new(x->out, o);
    return x->rc < 0;
}

static void print_person_line(const json_t *p)
{
    const json_t *cover = json_object_get(p, "cover");

    printf("%-6lld %-24s %4lld faces  %3zu media%s",
           (long long)json_integer_value(json_object_get(p, "id")),
           json_is_string(json_object_get(p, "name"))
               ? json_string_value(json_object_get(p, "name"))
               : "(unnamed)",
           (long long)json_integer_value(json_object_get(p, "faces")),
           json_array_size(json_object_get(p, "media")),
           json_is_true(json_object_get(p, "ignored")) ? "  (ignored)" : "");
    if (json_is_object(cover))
        printf("  cover %s at %.3f s", json_string_value(json_object_get(cover, "path")),
               json_real_value(json_object_get(cover, "t")));
    putchar('\n');
}

static int do_list(struct aitag_catalog *c, int json, int with_ignored)
{
    struct person_ctx x = {c, json_array(), 0};
    size_t i;
    json_t *p;

    if (aitag_catalog_each_person(c, with_ignored, on_person, &x) < 0 || x.rc < 0) {
        fprintf(stderr, "aitag people list: %s\n", aitag_catalog_errmsg(c));
        json_decref(x.out);
        return EXIT_SETUP;
    }
    if (json) {
        print_json_line(x.out); /* one array: every person on one line */
    } else {
        json_array_foreach(x.out, i, p) print_person_line(p);
    }
    json_decref(x.out);
    return EXIT_OK;
}

static int on_face(void *ctx, const struct aitag_face *f)
{
    json_t *o =
        json_pack("{s:I, s:s, s:f, s:o, s:o, s:o, s:s}", "id", (json_int_t)f->id, "path", f->path,
                  "t", f->t, "box", box_json(&f->box), "quality", num_or_null(f->quality), "score",
                  num_or_null(f->score), "assigned", f->assigned ? f->assigned : "none");

    return json_array_append_new(ctx, o) < 0;
}

static int on_show_person(void *ctx, const struct aitag_person *p)
{
    struct person_ctx *x = ctx;

    x->out = person_json(x->c, p, &x->rc);
    json_object_set_new(x->out, "ignored", json_boolean(p->ignored));
    return 0;
}

static int write_file(const char *file, const unsigned char *data, size_t len, char *err,
                      size_t errlen)
{
    FILE *f = fopen(file, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;

    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        aitag_fmt(err, errlen, "%s: %s", file, strerror(errno));
        return AITAG_ERR_IO;
    }
    return 0;
}

/* Writes DIR/face-ID.jpg for each face of faces; adds "crop" (the file) to each face written.
 * The number of faces that failed, each said on stderr. */
static int write_crops(const char *dir, json_t *faces)
{
    size_t i;
    json_t *f;
    int failed = 0;

    json_array_foreach(faces, i, f)
    {
        const json_t *b = json_object_get(f, "box");
        const char *path = json_string_value(json_object_get(f, "path"));
        char file[4096], err[1024] = "";
        unsigned char *jpeg = NULL;
        size_t len = 0;
        int rc;

        snprintf(file, sizeof file, "%s/face-%lld.jpg", dir,
                 (long long)json_integer_value(json_object_get(f, "id")));
        rc = aitag_media_crop_jpeg(path, json_real_value(json_object_get(f, "t")),
                                   (float)json_real_value(json_array_get(b, 0)),
                                   (float)json_real_value(json_array_get(b, 1)),
                                   (float)json_real_value(json_array_get(b, 2)),
                                   (float)json_real_value(json_array_get(b, 3)), &jpeg, &len, err,
                                   sizeof err);
        if (rc == 0 && aitag_mkdir_parents(file) < 0) {
            aitag_fmt(err, sizeof err, "%s: cannot create the folder", dir);
            rc = AITAG_ERR_IO;
        }
        if (rc == 0)
            rc = write_file(file, jpeg, len, err, sizeof err);
        free(jpeg);
        if (rc < 0) {
            fprintf(stderr, "aitag people show: face %lld: %s\n",
                    (long long)json_integer_value(json_object_get(f, "id")), err);
            failed++;
        } else {
            json_object_set_new(f, "crop", json_string(file));
        }
    }
    return failed;
}

static void print_show_human(const json_t *p)
{
    size_t i;
    json_t *f;

    printf(
        "person %lld: %s%s, %zu faces in %zu media\n",
        (long long)json_integer_value(json_object_get(p, "id")),
        json_is_string(json_object_get(p, "name")) ? json_string_value(json_object_get(p, "name"))
                                                   : "(unnamed)",
        json_is_true(json_object_get(p, "ignored")) ? " (ignored)" : "",
        json_array_size(json_object_get(p, "faces")), json_array_size(json_object_get(p, "media")));
    json_array_foreach(json_object_get(p, "faces"), i, f)
    {
        const json_t *b = json_object_get(f, "box"), *q = json_object_get(f, "quality");
        printf("  face %-6lld %s  t=%.3f  box %.3f,%.3f,%.3f,%.3f",
               (long long)json_integer_value(json_object_get(f, "id")),
               json_string_value(json_object_get(f, "path")),
               json_real_value(json_object_get(f, "t")), json_real_value(json_array_get(b, 0)),
               json_real_value(json_array_get(b, 1)), json_real_value(json_array_get(b, 2)),
               json_real_value(json_array_get(b, 3)));
        if (json_is_real(q))
            printf("  quality %.2f", json_real_value(q));
        printf("  %s", json_string_value(json_object_get(f, "assigned")));
        if (json_object_get(f, "crop"))
            printf("  -> %s", json_string_value(json_object_get(f, "crop")));
        putchar('\n');
    }
}

static int do_show(struct aitag_catalog *c, const struct aitag_opts *o, int64_t id)
{
    struct person_ctx x = {c, NULL, 0};
    json_t *faces = json_array();
    const char *crops = aitag_opts_str(o, "crops");
    int rc = aitag_catalog_get_person(c, id, on_show_person, &x), failed = 0;

    if (rc == 0 && x.rc == 0)
        rc = aitag_catalog_person_faces(c, id, on_face, faces);
    if (rc < 0 || x.rc < 0) {
        fprintf(stderr, "aitag people show: %s\n", aitag_catalog_errmsg(c));
        json_decref(faces);
        json_decref(x.out);
        return rc == AITAG_ERR_NOTFOUND ? EXIT_USAGE : EXIT_SETUP;
    }
    if (crops && *crops)
        failed = write_crops(crops, faces);
    json_object_set_new(x.out, "faces", faces);
    if (aitag_opts_bool(o, "json"))
        print_json_line(x.out);
    else
        print_show_human(x.out);
    json_decref(x.out);
    return failed ? EXIT_ITEMS_FAILED : EXIT_OK;
}

/* name, merge, split, ignore, forget: one change, printed as one line (JSON or words). */
static int do_change(struct aitag_catalog *c, const struct aitag_opts *o, const char *cmd,
                     const char *sub, const int64_t *ids, size_t n_ids,
                     const struct aitag_policy *p)
{
    int json = aitag_opts_bool(o, "json"), rc;
    int64_t new_id = 0, n_faces = 0;
    json_t *out = NULL;

    if (strcmp(sub, "name") == 0) {
        rc = aitag_catalog_name_person(c, ids[0], o->args[1], p);
        out = json_pack("{s:I, s:s}", "id", (json_int_t)ids[0], "name", o->args[1]);
    } else if (strcmp(sub, "merge") == 0) {
        json_t *merged = json_array();
        rc = aitag_catalog_merge_people(c, ids, n_ids, p);
        for (size_t i = 1; i < n_ids; i++)
            json_array_append_new(merged, json_integer(ids[i]));
        out = json_pack("{s:I, s:o}", "id", (json_int_t)ids[0], "merged", merged);
    } else if (strcmp(sub, "split") == 0) {
        json_t *faces = json_array();
        rc = aitag_catalog_split_person(c, ids[0], ids + 1, n_ids - 1, p, &new_id);
        for (size_t i = 1; i < n_ids; i++)
            json_array_append_new(faces, json_integer(ids[i]));
        out = json_pack("{s:I, s:I, s:o}", "id", (json_int_t)new_id, "from", (json_int_t)ids[0],
                        "faces", faces);
    } else if (strcmp(sub, "ignore") == 0 || strcmp(sub, "unignore") == 0) {
        int on = strcmp(sub, "ignore") == 0;
        rc = on ? aitag_catalog_ignore_person(c, ids[0], p)
                : aitag_catalog_unignore_person(c, ids[0], p);
        out = json_pack("{s:I, s:b}", "id", (json_int_t)ids[0], "ignored", on);
    } else {
        rc = aitag_catalog_forget_person(c, ids[0], p, &n_faces);
        out = json_pack("{s:I, s:b}", "id", (json_int_t)ids[0], "forgotten", 1);
    }
    if (rc < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, aitag_catalog_errmsg(c));
        json_decref(out);
        return rc == AITAG_ERR_NOTFOUND || rc == AITAG_ERR_INVALID ? EXIT_USAGE : EXIT_SETUP;
    }
    if (strcmp(sub, "forget") == 0)
        json_object_set_new(out, "faces", json_integer(n_faces));
    if (json)
        print_json_line(out);
    else if (strcmp(sub, "name") == 0)
        printf("person %lld is now %s\n", (long long)ids[0], o->args[1]);
    else if (strcmp(sub, "merge") == 0)
        printf("merged %zu people into person %lld\n", n_ids - 1, (long long)ids[0]);
    else if (strcmp(sub, "split") == 0)
        printf("%zu faces of person %lld are now person %lld\n", n_ids - 1, (long long)ids[0],
               (long long)new_id);
    else if (strcmp(sub, "ignore") == 0)
        printf("person %lld is ignored\n", (long long)ids[0]);
    else if (strcmp(sub, "unignore") == 0)
        printf("person %lld is shown again\n", (long long)ids[0]);
    else
        printf("person %lld forgotten: %lld faces and their embeddings deleted\n",
               (long long)ids[0], (long long)n_faces);
    json_decref(out);
    return EXIT_OK;
}

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
    struct aitag_policy *pol;
    struct aitag_concepts *cx = NULL;
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
    /* faces given to named people: their items' tags and markers now, with the rules
     * `aitag tag` applies, rather than at the next run over those items */
    pol = cli_load_policy(o, what, &cx);
    if (!pol)
        return EXIT_USAGE;
    rc = aitag_catalog_rederive_people(c, pol, NULL);
    if (rc < 0)
        fprintf(stderr, "aitag %s: %s\n", what, aitag_catalog_errmsg(c));
    aitag_policy_free(pol);
    aitag_concepts_close(cx);
    return rc < 0 ? EXIT_SETUP : 0;
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
    /* one people update at a time across every worker of a shared catalog */
    if (aitag_catalog_lock(c, "aitag people", 1) < 0) {
        fprintf(stderr, "aitag tag: people: %s\n", aitag_catalog_errmsg(c));
        aitag_catalog_close(c);
        return EXIT_SETUP;
    }
    rc = run_engine(c, o, "tag: people", 0, 0);
    aitag_catalog_lock(c, "aitag people", 0);
    aitag_catalog_close(c);
    return rc;
}

/* 0 when subcommand sub takes n arguments (min..max), else EXIT_USAGE after its usage line. */
static int check_args(const char *cmd, const char *sub, size_t n)
{
    static const struct {
        const char *sub, *usage;
        size_t min, max;
    } want[] = {{"list", "", 0, 0},
                {"show", " ID", 1, 1},
                {"name", " ID NAME", 2, 2},
                {"merge", " ID ID...", 2, MAX_IDS},
                {"split", " ID FACE_ID...", 2, MAX_IDS + 1},
                {"ignore", " ID", 1, 1},
                {"unignore", " ID", 1, 1},
                {"forget", " ID", 1, 1},
                {"recluster", "", 0, 0},
                {"update", "", 0, 0}};

    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (strcmp(want[i].sub, sub) == 0) {
            if (n >= want[i].min && n <= want[i].max)
                return 0;
            fprintf(stderr, "aitag %s: usage: aitag %s%s (see aitag %s --help)\n", cmd, cmd,
                    want[i].usage, cmd);
            return EXIT_USAGE;
        }
    return EXIT_USAGE;
}

int cmd_people(int argc, char **argv)
{
    static int64_t ids[MAX_IDS + 1];
    struct aitag_catalog *c = NULL;
    struct aitag_policy *p = NULL;
    struct aitag_concepts *cx = NULL;
    struct aitag_opts o;
    char name[128] = "people";
    const char *sub;
    long n_ids = 0;
    int rc, readonly;

    if (cli_subcommand(name, sizeof name, &argc, &argv))
        return EXIT_USAGE;
    if ((rc = cli_options(&o, name, argc, argv)) >= 0)
        goto out;
    cli_setup_logging(&o, NULL, NULL);
    sub = name + strlen("people ");
    readonly = strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0;
    if ((rc = check_args(name, sub, o.n_args)) != 0)
        goto out;
    if (strcmp(sub, "recluster") == 0 || strcmp(sub, "update") == 0) {
        rc = cli_open_catalog(&o, name, 0, &c);
        if (rc != 0) { /* no catalog yet: no faces */
            rc = rc < 0 ? EXIT_SETUP : EXIT_OK;
            goto out;
        }
        rc = run_engine(c, &o, name, strcmp(sub, "recluster") == 0, aitag_opts_bool(&o, "json"));
        goto out;
    }
    rc = EXIT_USAGE;
    if (o.n_args > 0 && !(ids[0] = parse_id(name, "ID", o.args[0])))
        goto out;
    n_ids = 1;
    if (strcmp(sub, "merge") == 0 && (n_ids = parse_ids(name, "ID", o.args, 0, o.n_args, ids)) < 0)
        goto out;
    if (strcmp(sub, "split") == 0 &&
        (n_ids = parse_ids(name, "FACE_ID", o.args, 1, o.n_args, ids + 1)) < 0)
        goto out;
    if (strcmp(sub, "split") == 0)
        n_ids++;
    if (!readonly && !(p = cli_load_policy(&o, name, &cx)))
        goto out;
    rc = cli_open_catalog(&o, name, readonly, &c);
    if (rc != 0) { /* no catalog yet: nobody found yet */
        if (rc > 0 && strcmp(sub, "list") == 0 && aitag_opts_bool(&o, "json"))
            puts("[]");
        rc = rc < 0 ? EXIT_SETUP : strcmp(sub, "list") == 0 ? EXIT_OK : EXIT_USAGE;
        goto out;
    }
    if (strcmp(sub, "list") == 0)
        rc = do_list(c, aitag_opts_bool(&o, "json"), aitag_opts_bool(&o, "ignored"));
    else if (strcmp(sub, "show") == 0)
        rc = do_show(c, &o, ids[0]);
    else
        rc = do_change(c, &o, name, sub, ids, (size_t)n_ids, p);
out:
    aitag_catalog_close(c);
    aitag_policy_free(p);
    aitag_concepts_close(cx);
    aitag_opts_free(&o);
    return rc;
}
