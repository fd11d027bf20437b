/*
 * cmd_tag.c - `aitag tag PATH...`: run the tagger, print each item as it finishes, keep a
 * progress bar with an ETA on a terminal, plain lines otherwise.
 *
 * Output contract: with --json, stdout carries exactly one JSON object per item, skipped ones
 * included (docs/json.md), and nothing else; the progress bar, one line per failed or partial
 * item and the summary go to stderr. In human form a re-run stays short: skipped items are only
 * counted in the summary (--verbose prints them), a failed item is one line, and --quiet keeps
 * stdout empty, leaving the stderr lines of failed items and the summary. The bar measures
 * seconds of media analysed (the tagger reports every analysed frame) and is redrawn at most ten
 * times a second. SIGINT/SIGTERM stop the run at once; the item in flight is not stored, so an
 * interrupted run is resumed by running again, and its summary counts only what was done.
 * With --gateway the items are analysed by an aitag gateway (the tagger's remote executor);
 * everything else, output included, is the same.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/remote.h"
#include "cli.h"

struct tag_ctx {
    int json, bar, quiet, verbose;
    int progress_json; /* --progress json: progress as JSON lines on stderr */
    int bar_shown;
    double last_bar;
};

static void clear_bar(struct tag_ctx *c)
{
    if (c->bar_shown) {
        fputs("\r\033[K", stderr);
        c->bar_shown = 0;
    }
}

/* m:ss, or h:mm:ss from an hour on. */
static void clock_text(double s, char *buf, size_t len)
{
    int t = (int)(s + 0.5);

    if (t >= 3600)
        snprintf(buf, len, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%d:%02d", t / 60, t % 60);
}

static void on_progress(void *ctx, const struct aitag_progress *p)
{
    struct tag_ctx *c = ctx;
    char eta[32] = "--:--";
    const char *slash = p->current ? strrchr(p->current, '/') : NULL;
    const char *name = slash ? slash + 1 : p->current ? p->current : "";
    int width = 24, filled;
    double frac, now = aitag_now();

    if (c->progress_json) {
        /* a line at most every quarter second, and one after each item (no current) */
        if (p->current && now - c->last_bar < 0.25)
            return;
        c->last_bar = now;
        fprintf(stderr,
                "{\"progress\":{\"done\":%zu,\"total\":%zu,\"media_done\":%.1f,"
                "\"media_total\":%.1f,\"elapsed\":%.1f,\"eta\":%.1f}}\n",
                p->done, p->total, p->media_done, p->media_total, p->elapsed, p->eta);
        fflush(stderr);
        return;
    }
    if (!c->bar)
        return;
    /* At most ten redraws a second; the redraw after an item ends (no current) always. */
    if (p->current && now - c->last_bar < 0.1)
        return;
    c->last_bar = now;
    frac = p->media_total > 0 ? p->media_done / p->media_total
                              : (p->total ? (double)p->done / (double)p->total : 1);
    if (frac > 1)
        frac = 1;
    filled = (int)(frac * width + 0.5);
    if (p->eta >= 0)
        clock_text(p->eta, eta, sizeof eta);
    fprintf(stderr, "\r\033[K[%.*s%.*s] %zu/%zu %3d%%  ETA %s  %.40s", filled,
            "########################", width - filled, "........................", p->done,
            p->total, (int)(frac * 100), eta, name);
    c->bar_shown = 1;
}

static void on_item(void *ctx, const struct aitag_item_report *r)
{
    struct tag_ctx *c = ctx;
    const char *status = aitag_item_status_name(r->status);
    int trouble = r->status == AITAG_ITEM_FAILED || r->status == AITAG_ITEM_PARTIAL;

    if (c->json) {
        json_t *o = item_json(r->path, status, r->probe, r->result, r->error);
        clear_bar(c);
        print_json_line(o);
        json_decref(o);
    } else if (!c->quiet && (r->status != AITAG_ITEM_SKIPPED || c->verbose)) {
        clear_bar(c);
        print_item_human(r->path, status, r->probe, r->result, r->error);
        fflush(stdout);
    }
    if (trouble && (c->json || c->quiet)) {
        clear_bar(c);
        fprintf(stderr, "aitag: %s: %s\n", r->path, r->error ? r->error : "failed");
    }
}

/* The last line: what this run did, and when it stopped early (interrupted: "interrupted", a
 * catalog that took no more: "stopped"), how much it left for the next run. */
static void print_summary(const struct aitag_summary *sum, int dry_run, const char *stopped)
{
    int interrupted = stopped != NULL;

    fprintf(stderr,
            "aitag: %s%s%d tagged, %d skipped (unchanged), %d partial, %d failed%s in %.1f s",
            interrupted ? stopped : "", interrupted ? ": " : "", sum->tagged, sum->skipped,
            sum->partial, sum->failed, dry_run ? " (dry run)" : "", sum->seconds);
    if (dry_run)
        fprintf(stderr, "; %d would be analysed", sum->planned);
    if (sum->media_seconds > 0)
        fprintf(stderr, "; %.0f s of video", sum->media_seconds);
    if (sum->frames > 0)
        fprintf(stderr, "; %ld frames analysed, %ld decoded", sum->frames, sum->frames_decoded);
    if (interrupted && sum->not_reached > 0)
        fprintf(stderr, "; %d not reached (run again to go on)", sum->not_reached);
    fputc('\n', stderr);
}

/* Moved and missing items, on a line of their own (only when there are any). */
static void print_housekeeping(const struct aitag_summary *sum, int dry_run)
{
    if (sum->moved)
        fprintf(stderr, "aitag: %d %s at a new path; analysis kept\n", sum->moved,
                dry_run ? "would be moved" : "moved");
    if (sum->missing)
        fprintf(stderr, "aitag: %d %s missing: the files are gone (aitag prune deletes them)\n",
                sum->missing, dry_run ? "would be marked" : "marked");
}

#define N_ANALYZER_OPTS (2 + AITAG_VLM_MAX_OPTS + 8)

int cmd_tag(int argc, char **argv)
{
    struct cli_tagger_bufs *b = calloc(1, sizeof *b);
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_tagger *t = NULL;
    struct aitag_remote_client *gc = NULL;
    struct aitag_summary sum;
    struct tag_ctx ctx = {0};
    struct aitag_opts o;
    const char *prog;
    char err[1024] = "";
    int rc = EXIT_USAGE, interrupted;

    if (!b)
        return EXIT_SETUP;
    if ((rc = cli_options(&o, "tag", argc, argv)) >= 0)
        goto out;
    rc = EXIT_USAGE;
    cli_setup_logging(&o, NULL, NULL);
    if (o.n_args == 0) {
        fprintf(stderr, "aitag tag: give at least one file or folder (see aitag tag --help)\n");
        goto out;
    }
    if ((rc = cli_tagger_params(&o, "tag", b, &tp, &gc)) != 0)
        goto out;
    tp.dry_run = aitag_opts_bool(&o, "dry-run");
    ctx.json = aitag_opts_bool(&o, "json");
    ctx.quiet = aitag_opts_bool(&o, "quiet");
    ctx.verbose =
        aitag_opts_bool(&o, "verbose") && !ctx.quiet; /* --quiet wins: nothing to add to */
    prog = aitag_opts_str(&o, "progress");
    ctx.progress_json = strcmp(prog, "json") == 0;
    ctx.bar =
        !ctx.quiet && (strcmp(prog, "always") == 0 || (strcmp(prog, "auto") == 0 && isatty(2)));
    tp.on_item = on_item;
    tp.on_progress = on_progress;
    tp.ctx = &ctx;
    tp.cancel = cli_stop_flag();
    int trc = aitag_tagger_new(&tp, &t, err, sizeof err);
    if (trc < 0) {
        fprintf(stderr, "aitag tag: %s\n", err);
        rc = trc == AITAG_ERR_INVALID ? EXIT_USAGE : EXIT_SETUP;
        goto out;
    }
    cli_catch_stop_signals();
    if (aitag_tagger_run(t, (const char *const *)o.args, o.n_args, &sum) < 0) {
        clear_bar(&ctx);
        if (sum.tagged + sum.skipped + sum.failed > 0) /* stopped mid-run: what it got through */
            print_summary(&sum, tp.dry_run, "stopped");
        fprintf(stderr, "aitag tag: %s\n", aitag_tagger_errmsg(t));
        rc = EXIT_SETUP;
        goto out;
    }
    clear_bar(&ctx);
    interrupted = atomic_load(cli_stop_flag());
    print_summary(&sum, tp.dry_run, interrupted ? "interrupted" : NULL);
    print_housekeeping(&sum, tp.dry_run);
    rc = interrupted ? EXIT_INTERRUPTED : (sum.failed || sum.partial) ? EXIT_ITEMS_FAILED : EXIT_OK;
    /* people: the new faces of this run (an interrupted run's go with the next) */
    if (!interrupted && !tp.dry_run && aitag_opts_bool(&o, "people") &&
        cli_has_analyzer(&tp, "face_attrs") && cli_people_update(&o, tp.catalog_path) != 0)
        rc = EXIT_SETUP;
out:
    aitag_tagger_free(t);
    aitag_remote_client_free(gc); /* after the tagger that calls it */
    aitag_opts_free(&o);
    free(b);
    return rc;
}
