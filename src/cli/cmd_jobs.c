/*
 * cmd_jobs.c - `aitag enqueue PATH...` and `aitag jobs`: the catalog's job queue from the
 * command line (docs/scale.md).
 *
 * enqueue expands its paths as `aitag tag` does (folders recursively, media extensions), maps
 * each through --path-map the other way (this machine's mount to the library's path, which
 * names the catalog's items) and queues it; a path already queued or running is counted, not
 * queued twice. A path that can't be used is one line on stderr and the rest go on. jobs
 * prints the queue's depth by state, its throughput over the last minute, every worker (lost
 * when not seen for three leases of the default length) and the latest failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/catalog.h"
#include "cli.h"

/* A worker not seen for this long is lost (three default leases). */
#define LOST_AFTER_MS (3 * 60 * 1000)

struct enqueue_ctx {
    struct aitag_catalog *c;
    const char *unmap; /* local prefix => library prefix */
    int priority, json;
    long queued, already, failed;
    int db_error;
};

static int enqueue_one(void *ctx, const char *path, const char *error)
{
    struct enqueue_ctx *e = ctx;
    char lib[4096];
    int queued = 0;

    if (error) {
        fprintf(stderr, "aitag enqueue: %s: %s\n", path, error);
        e->failed++;
        return 0;
    }
    if (aitag_map_path(e->unmap, path, lib, sizeof lib) < 0) {
        fprintf(stderr, "aitag enqueue: %s: path too long once mapped\n", path);
        e->failed++;
        return 0;
    }
    if (aitag_catalog_enqueue(e->c, lib, e->priority, "cli", &queued) < 0) {
        fprintf(stderr, "aitag enqueue: %s\n", aitag_catalog_errmsg(e->c));
        e->db_error = 1;
        return 1;
    }
    if (queued)
        e->queued++;
    else
        e->already++;
    if (e->json) {
        json_t *o = json_pack("{s:s, s:s}", "path", lib, "status", queued ? "queued" : "already");
        print_json_line(o);
        json_decref(o);
    }
    return 0;
}

int cmd_enqueue(int argc, char **argv)
{
    struct enqueue_ctx e = {0};
    struct aitag_opts o;
    char *unmap = NULL;
    int rc;

    if ((rc = cli_options(&o, "enqueue", argc, argv)) >= 0)
        goto out;
    rc = EXIT_USAGE;
    cli_setup_logging(&o, NULL, NULL);
    if (o.n_args == 0) {
        fprintf(stderr, "aitag enqueue: give at least one file or folder (see aitag enqueue "
                        "--help)\n");
        goto out;
    }
    unmap = aitag_map_reverse(aitag_opts_str(&o, "path-map"));
    if (!unmap) {
        rc = EXIT_SETUP;
        goto out;
    }
    if (cli_open_catalog_rw(&o, "enqueue", &e.c) != 0) {
        rc = EXIT_SETUP;
        goto out;
    }
    e.unmap = unmap;
    e.priority = (int)aitag_opts_int(&o, "priority");
    e.json = aitag_opts_bool(&o, "json");
    rc = aitag_media_files((const char *const *)o.args, o.n_args, enqueue_one, &e);
    if (rc == AITAG_ERR_NOMEM)
        fprintf(stderr, "aitag enqueue: out of memory\n");
    fprintf(stderr, "aitag enqueue: %ld queued, %ld already queued, %ld failed\n", e.queued,
            e.already, e.failed);
    rc = e.db_error || rc < 0 ? EXIT_SETUP : e.failed ? EXIT_ITEMS_FAILED : EXIT_OK;
out:
    aitag_catalog_close(e.c);
    free(unmap);
    aitag_opts_free(&o);
    return rc;
}

struct jobs_ctx {
    int json;
    int64_t now;
    json_t *list;
};

static int print_worker(void *ctx, const struct aitag_worker_row *w)
{
    struct jobs_ctx *j = ctx;
    int lost = strcmp(w->state, "stopped") != 0 && j->now - w->seen_ms > LOST_AFTER_MS;
    const char *state = lost ? "lost" : w->state;

    if (j->json) {
        json_array_append_new(j->list, json_pack("{s:s, s:s?, s:I, s:s, s:I, s:I, s:I, s:s?}",
                                                 "name", w->name, "host", w->host, "pid",
                                                 (json_int_t)w->pid, "state", state, "seen_ms_ago",
                                                 (json_int_t)(j->now - w->seen_ms), "done",
                                                 (json_int_t)w->done, "failed",
                                                 (json_int_t)w->failed, "current", w->current));
        return 0;
    }
    printf("  %-24s %-8s seen %5.1f s ago  %6lld done  %4lld failed  %s\n", w->name, state,
           (double)(j->now - w->seen_ms) / 1000.0, (long long)w->done, (long long)w->failed,
           w->current ? w->current : "");
    return 0;
}

static int print_failure(void *ctx, const char *path, const char *state, int attempts,
                         const char *error, int64_t at_ms)
{
    struct jobs_ctx *j = ctx;

    (void)at_ms;
    if (j->json) {
        json_array_append_new(j->list, json_pack("{s:s, s:s, s:i, s:s?}", "path", path, "state",
                                                 state, "attempts", attempts, "error", error));
        return 0;
    }
    printf("  %s [%s after %d attempt%s]: %s\n", path, state, attempts, attempts == 1 ? "" : "s",
           error ? error : "");
    return 0;
}

int cmd_jobs(int argc, char **argv)
{
    struct aitag_catalog *c = NULL;
    struct aitag_queue_stats s;
    struct jobs_ctx j = {0};
    struct aitag_opts o;
    json_t *out = NULL;
    int rc;

    if ((rc = cli_options(&o, "jobs", argc, argv)) >= 0)
        goto out;
    cli_setup_logging(&o, NULL, NULL);
    rc = EXIT_SETUP;
    if (cli_open_catalog_rw(&o, "jobs", &c) != 0)
        goto out;
    if (aitag_opts_bool(&o, "retry-dead")) {
        int64_t n = 0;
        if (aitag_catalog_retry_dead(c, &n) < 0)
            goto db;
        fprintf(stderr, "aitag jobs: %lld dead job%s queued again\n", (long long)n,
                n == 1 ? "" : "s");
    }
    j.json = aitag_opts_bool(&o, "json");
    if (aitag_catalog_queue_stats(c, 0, &s) < 0)
        goto db;
    if (aitag_catalog_now_ms(c, &j.now) < 0)
        goto db;
    if (j.json) {
        out =
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "queued", (json_int_t)s.queued,
                      "ready", (json_int_t)s.ready, "running", (json_int_t)s.running, "done",
                      (json_int_t)s.done, "dead", (json_int_t)s.dead, "done_last_minute",
                      (json_int_t)s.done_last_minute, "seconds_last_minute", s.seconds_last_minute);
        j.list = json_array();
        json_object_set_new(out, "workers", j.list);
    } else {
        printf("queue: %lld queued (%lld ready), %lld running, %lld done, %lld dead\n",
               (long long)s.queued, (long long)s.ready, (long long)s.running, (long long)s.done,
               (long long)s.dead);
        printf("last minute: %lld done, %.1f s of analysis", (long long)s.done_last_minute,
               s.seconds_last_minute);
        if (s.oldest_queued_ms)
            printf("; oldest queued %.0f s ago", (double)(j.now - s.oldest_queued_ms) / 1000.0);
        printf("\nworkers:\n");
    }
    if (aitag_catalog_each_worker(c, print_worker, &j) < 0)
        goto db;
    if (j.json) {
        j.list = json_array();
        json_object_set_new(out, "failures", j.list);
    } else {
        printf("failures (latest first):\n");
    }
    if (aitag_catalog_each_failed_job(c, 20, print_failure, &j) < 0)
        goto db;
    if (j.json)
        print_json_line(out);
    rc = EXIT_OK;
    goto out;
db:
    fprintf(stderr, "aitag jobs: %s\n", aitag_catalog_errmsg(c));
out:
    json_decref(out);
    aitag_catalog_close(c);
    aitag_opts_free(&o);
    return rc;
}
