/*
 * cmd_review.c - `aitag review`: the user's corrections of tags and markers from the command
 * line (the review app, `aitag serve`, makes the same decisions through the same catalog
 * calls).
 *
 * accept|reject|rename|bounds record one decision (aitag_catalog_decide) and re-derive the item
 * with the rules `aitag tag` applies, in one transaction, so `aitag show` has the correction at
 * once and no later run undoes it. A marker is named by its tag and its bounds as shown (a
 * start and an end within half the shorter marker's length of the stored ones). queue lists
 * what to review next, log every decision made. Arguments are checked before the catalog is
 * touched; a refusal is one line naming the argument. Exit codes as everywhere: 2 for bad
 * arguments (an unknown tag or marker included), 3 when the catalog is unusable.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aitag/concepts.h"
#include "cli.h"

/* A number of seconds in s into *v; 0, or EXIT_USAGE after printing why. */
static int parse_seconds(const char *cmd, const char *field, const char *s, double *v)
{
    char *end = NULL;

    errno = 0;
    *v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(*v) || *v < 0) {
        fprintf(stderr, "aitag %s: %s '%s': not a time in seconds (a number >= 0)\n", cmd, field,
                s);
        return EXIT_USAGE;
    }
    return 0;
}

/* Parses the arguments of a decision: FILE TAG [NEW_TAG] [START END [NEW_START NEW_END]]. */
static int parse_decision(const char *cmd, const char *sub, char *const *args, size_t n,
                          struct aitag_decision *d)
{
    static const char *const usage[] = {
        "accept FILE TAG [START END]", "reject FILE TAG [START END]",
        "rename FILE TAG NEW_TAG [START END]", "bounds FILE TAG START END NEW_START NEW_END"};
    int v = aitag_verdict_parse(sub);
    size_t at = 2;

    *d = (struct aitag_decision){.verdict = (enum aitag_verdict)v, .tag = args[1]};
    if (v == AITAG_VERDICT_RENAME)
        d->new_tag = args[at++];
    if (!((v == AITAG_VERDICT_BOUNDS && n == 6) ||
          (v != AITAG_VERDICT_BOUNDS && (n == at || n == at + 2)))) {
        fprintf(stderr, "aitag %s: usage: aitag review %s (see aitag review --help)\n", cmd,
                usage[v]);
        return EXIT_USAGE;
    }
    if (n >= at + 2) {
        d->marker = 1;
        if (parse_seconds(cmd, "START", args[at], &d->start) ||
            parse_seconds(cmd, "END", args[at + 1], &d->end))
            return EXIT_USAGE;
    }
    if (v == AITAG_VERDICT_BOUNDS && (parse_seconds(cmd, "NEW_START", args[4], &d->new_start) ||
                                      parse_seconds(cmd, "NEW_END", args[5], &d->new_end)))
        return EXIT_USAGE;
    if (d->marker && !(d->end >= d->start)) {
        fprintf(stderr, "aitag %s: START %s, END %s: the end is before the start\n", cmd, args[at],
                args[at + 1]);
        return EXIT_USAGE;
    }
    return 0;
}

/* The catalog item of the FILE argument (as `aitag tag` stored it: an absolute path), into
 * *id; 0, or an exit code after printing why. */
static int find_item(struct aitag_catalog *c, const char *cmd, const char *arg, int64_t *id)
{
    struct aitag_media_row row;
    char abs[PATH_MAX];
    int rc;

    if (aitag_path_absolute(arg, abs, sizeof abs) < 0)
        aitag_fmt(abs, sizeof abs, "%s", arg);
    rc = aitag_catalog_find_media(c, abs, &row);
    if (rc == AITAG_ERR_NOTFOUND) {
        fprintf(stderr, "aitag %s: %s: not in the catalog (run aitag tag first)\n", cmd, abs);
        return EXIT_USAGE;
    }
    if (rc < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, aitag_catalog_errmsg(c));
        return EXIT_SETUP;
    }
    *id = row.id;
    return 0;
}

static const char *who_am_i(const struct aitag_opts *o)
{
    const char *who = aitag_opts_str(o, "who");

    if (!who || !*who)
        who = getenv("USER");
    return who && *who ? who : "user";
}

static int do_decide(struct aitag_catalog *c, const struct aitag_opts *o, const char *cmd,
                     const struct aitag_decision *d, const struct aitag_policy *p)
{
    int64_t media_id = 0, id = 0;
    char evidence[600];
    int rc = find_item(c, cmd, o->args[0], &media_id);
    json_t *j = json_object();
    char *ev = NULL;

    if (rc != 0 || !j)
        goto out;
    json_object_set_new(j, "policy", json_string(aitag_policy_key(p)));
    ev = json_dumps(j, JSON_COMPACT);
    aitag_fmt(evidence, sizeof evidence, "%s", ev ? ev : "{}");
    rc = aitag_catalog_decide(c, media_id, d, who_am_i(o), "cli", evidence, p, &id);
    if (rc == AITAG_ERR_NOTFOUND || rc == AITAG_ERR_INVALID) {
        fprintf(stderr, "aitag %s: %s: %s\n", cmd, o->args[0], aitag_catalog_errmsg(c));
        rc = EXIT_USAGE;
        goto out;
    }
    if (rc < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, aitag_catalog_errmsg(c));
        rc = EXIT_SETUP;
        goto out;
    }
    if (aitag_opts_bool(o, "json")) {
        json_t *line = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "verdict",
                                 aitag_verdict_name(d->verdict), "tag", d->tag);
        print_json_line(line);
        json_decref(line);
    } else {
        fprintf(stderr, "aitag %s: decision %lld recorded\n", cmd, (long long)id);
    }
    rc = EXIT_OK;
out:
    free(ev);
    json_decref(j);
    return rc;
}

static int on_decision(void *ctx, const struct aitag_decision_row *r)
{
    int json = *(int *)ctx;
    char when[32] = "";
    time_t t = (time_t)r->at;
    struct tm tm;

    if (json) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:f}", "id", (json_int_t)r->id,
                              "path", r->path, "verdict", aitag_verdict_name(r->d.verdict), "tag",
                              r->d.tag, "who", r->who, "source", r->source, "at", (json_int_t)r->at,
                              "confidence", (double)r->d.confidence);
        if (o && r->d.marker)
            json_object_set_new(o, "marker", json_pack("[f,f]", r->d.start, r->d.end));
        if (o && r->d.new_tag)
            json_object_set_new(o, "new_tag", json_string(r->d.new_tag));
        if (o && r->d.verdict == AITAG_VERDICT_BOUNDS)
            json_object_set_new(o, "new_bounds", json_pack("[f,f]", r->d.new_start, r->d.new_end));
        print_json_line(o);
        json_decref(o);
        return 0;
    }
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%lld  %s  %s  %-6s %s", (long long)r->id, when, r->who,
           aitag_verdict_name(r->d.verdict), r->d.tag);
    if (r->d.marker)
        printf(" [%.1f-%.1f]", r->d.start, r->d.end);
    if (r->d.new_tag)
        printf(" -> %s", r->d.new_tag);
    if (r->d.verdict == AITAG_VERDICT_BOUNDS)
        printf(" -> [%.1f-%.1f]", r->d.new_start, r->d.new_end);
    printf("  %s\n", r->path);
    return 0;
}

static int on_queue(void *ctx, const struct aitag_review_entry *e)
{
    if (*(int *)ctx) {
        json_t *o = json_pack("{s:s, s:s, s:f, s:I, s:f}", "path", e->path, "tag", e->tag,
                              "confidence", (double)e->confidence, "tag_items",
                              (json_int_t)e->tag_items, "priority", e->priority);
        print_json_line(o);
        json_decref(o);
    } else {
        printf("%.2f  %-24s %.2f  %s\n", e->priority, e->tag, (double)e->confidence, e->path);
    }
    return 0;
}

static int do_list(struct aitag_catalog *c, const struct aitag_opts *o, const char *cmd, int queue)
{
    int json = aitag_opts_bool(o, "json"), rc;
    int64_t media_id = 0;

    if (queue) {
        rc = aitag_catalog_review_queue(c, aitag_opts_str(o, "tag"),
                                        aitag_opts_str(o, "limit") ? aitag_opts_int(o, "limit") : 0,
                                        on_queue, &json);
    } else {
        if (o->n_args == 1 && (rc = find_item(c, cmd, o->args[0], &media_id)) != 0)
            return rc;
        rc = aitag_catalog_each_decision(c, media_id, on_decision, &json);
    }
    if (rc < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, aitag_catalog_errmsg(c));
        return EXIT_SETUP;
    }
    return EXIT_OK;
}

/* "42 more items, 3 fewer false": what accepting the fit changes, in words. */
static void print_fit(const char *label, const struct aitag_threshold_fit *f)
{
    printf("%s: %.2f -> %.2f (%d decisions: %d accepted, %d rejected; F1 %.2f -> %.2f)\n", label,
           (double)f->current, (double)f->proposed, f->decided, f->accepted, f->rejected,
           f->f1_current, f->f1_proposed);
    if (f->gained || f->lost)
        printf("  %d more items, %d fewer items (%d of them rejected, %d accepted)\n", f->gained,
               f->lost, f->false_dropped, f->true_dropped);
    else
        printf("  no item would change\n");
    if (f->precision_current >= 0 && f->precision_fitted >= 0)
        printf("  held out: precision %.2f -> %.2f, recall %.2f -> %.2f\n", f->precision_current,
               f->precision_fitted, f->recall_current < 0 ? 0 : f->recall_current,
               f->recall_fitted < 0 ? 0 : f->recall_fitted);
}

struct fits_ctx {
    struct aitag_catalog *c;
    const struct aitag_policy *p;
    int json, rc;
};

static int on_fit_label(void *ctx, const char *label, int accepted, int rejected)
{
    struct fits_ctx *x = ctx;
    struct aitag_threshold_fit f;

    (void)accepted, (void)rejected;
    if ((x->rc = aitag_catalog_fit_threshold(x->c, x->p, label, &f)) < 0)
        return 1;
    if (x->json) {
        char *text = aitag_threshold_fit_json(label, &f);
        if (!text) {
            x->rc = AITAG_ERR_NOMEM;
            return 1;
        }
        printf("%s\n", text);
        free(text);
    } else {
        print_fit(label, &f);
    }
    return 0;
}

static int on_proposal(void *ctx, const struct aitag_rule_proposal *p)
{
    int json = *(int *)ctx;
    char *text = aitag_rule_proposal_json(p);

    if (!text)
        return 1;
    if (json) {
        printf("%s\n", text);
    } else {
        json_error_t jerr;
        json_t *o = json_loads(text, 0, &jerr);
        char *rule = o ? json_dumps(json_object_get(o, "rule"), JSON_COMPACT) : NULL;
        printf("no %s %s %s: explains %d rejected items, removes no accepted one; touches %lld "
               "items of the library\n  %s\n",
               p->label, p->unless ? "without" : "with", p->context, p->rejected_explained,
               (long long)p->library_items, rule ? rule : "");
        free(rule);
        json_decref(o);
    }
    free(text);
    return 0;
}

/* thresholds: the fit of every label with enough decisions; learn LABEL [T]: accept one
 * (the fitted threshold unless T is given); unlearn LABEL: back to the rules'. */
static int do_learning(struct aitag_catalog *c, const struct aitag_opts *o, const char *cmd,
                       const char *sub, const struct aitag_policy *p)
{
    int json = aitag_opts_bool(o, "json"), n = 0, rc;
    struct fits_ctx x = {c, p, json, 0};
    struct aitag_threshold_fit f;
    char *fit = NULL;
    double t;

    if (strcmp(sub, "rules") == 0) {
        rc = aitag_catalog_rule_proposals(
            c, aitag_opts_str(o, "min-rejections") ? (int)aitag_opts_int(o, "min-rejections") : 3,
            on_proposal, &json);
    } else if (strcmp(sub, "thresholds") == 0) {
        rc = aitag_catalog_each_fit_label(
            c, aitag_opts_str(o, "min-decisions") ? (int)aitag_opts_int(o, "min-decisions") : 5,
            on_fit_label, &x);
        rc = rc < 0 ? rc : x.rc;
    } else if (strcmp(sub, "unlearn") == 0) {
        rc = aitag_catalog_forget_threshold(c, p, o->args[0], &n);
    } else {
        rc = aitag_catalog_fit_threshold(c, p, o->args[0], &f);
        t = f.proposed;
        if (rc == 0 && o->n_args == 2 && parse_seconds(cmd, "THRESHOLD", o->args[1], &t) != 0)
            return EXIT_USAGE;
        if (rc == 0) {
            fit = aitag_threshold_fit_json(o->args[0], &f);
            rc = aitag_catalog_learn_threshold(c, p, o->args[0], (float)t, who_am_i(o), fit, &n);
        }
        free(fit);
        if (rc == 0)
            fprintf(stderr, "aitag %s: %s: threshold %.2f from now on; %d items re-derived\n", cmd,
                    o->args[0], t, n);
    }
    if (rc == 0 && strcmp(sub, "unlearn") == 0)
        fprintf(stderr, "aitag %s: %s: back to the rules' threshold; %d items re-derived\n", cmd,
                o->args[0], n);
    if (rc == AITAG_ERR_NOTFOUND || rc == AITAG_ERR_INVALID) {
        fprintf(stderr, "aitag %s: %s\n", cmd, aitag_catalog_errmsg(c));
        return EXIT_USAGE;
    }
    if (rc < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, aitag_catalog_errmsg(c));
        return EXIT_SETUP;
    }
    return EXIT_OK;
}

int cmd_review(int argc, char **argv)
{
    struct aitag_catalog *c = NULL;
    struct aitag_policy *p = NULL;
    struct aitag_concepts *cx = NULL;
    struct aitag_decision d;
    struct aitag_opts o;
    char name[128] = "review";
    const char *sub;
    int rc, listing;

    if (cli_subcommand(name, sizeof name, &argc, &argv))
        return EXIT_USAGE;
    if ((rc = cli_options(&o, name, argc, argv)) >= 0)
        goto out;
    cli_setup_logging(&o, NULL, NULL);
    if ((rc = cli_need_subcommand(name)) != 0)
        goto out;
    sub = name + strlen("review ");
    listing = strcmp(sub, "queue") == 0 || strcmp(sub, "log") == 0;
    rc = EXIT_USAGE;
    if (strcmp(sub, "thresholds") == 0 || strcmp(sub, "learn") == 0 ||
        strcmp(sub, "unlearn") == 0 || strcmp(sub, "rules") == 0) {
        int lists = strcmp(sub, "thresholds") == 0 || strcmp(sub, "rules") == 0;
        size_t lo = lists ? 0 : 1, hi = strcmp(sub, "learn") == 0 ? 2 : lo;
        if (o.n_args < lo || o.n_args > hi) {
            fprintf(stderr, "aitag %s: usage: aitag review %s (see aitag review --help)\n", name,
                    strcmp(sub, "learn") == 0     ? "learn LABEL [THRESHOLD]"
                    : strcmp(sub, "unlearn") == 0 ? "unlearn LABEL"
                    : strcmp(sub, "rules") == 0   ? "rules [--min-rejections N]"
                                                  : "thresholds [--min-decisions N]");
            goto out;
        }
        if (!(p = cli_load_policy(&o, name, &cx)))
            goto out;
        rc = cli_open_catalog(&o, name, lists, &c);
        if (rc != 0) {
            rc = rc < 0 ? EXIT_SETUP : lists ? EXIT_OK : EXIT_USAGE;
            goto out;
        }
        rc = do_learning(c, &o, name, sub, p);
        goto out;
    }
    if (listing && o.n_args > (strcmp(sub, "log") == 0 ? 1u : 0u)) {
        fprintf(stderr, "aitag %s: usage: aitag review %s (see aitag review --help)\n", name,
                strcmp(sub, "log") == 0 ? "log [FILE]" : "queue [--tag NAME] [--limit N]");
        goto out;
    }
    if (!listing && (o.n_args < 2 || parse_decision(name, sub, o.args, o.n_args, &d) != 0)) {
        if (o.n_args < 2)
            fprintf(stderr,
                    "aitag %s: usage: aitag review %s FILE TAG ... (see aitag review "
                    "--help)\n",
                    name, sub);
        goto out;
    }
    if (!listing && !(p = cli_load_policy(&o, name, &cx)))
        goto out;
    rc = cli_open_catalog(&o, name, listing, &c);
    if (rc != 0) { /* no catalog yet: nothing to review */
        rc = rc < 0 ? EXIT_SETUP : listing ? EXIT_OK : EXIT_USAGE;
        goto out;
    }
    rc = listing ? do_list(c, &o, name, strcmp(sub, "queue") == 0) : do_decide(c, &o, name, &d, p);
out:
    aitag_catalog_close(c);
    aitag_policy_free(p);
    aitag_concepts_close(cx);
    aitag_opts_free(&o);
    return rc;
}
