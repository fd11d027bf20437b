/*
 * cmd_worker.c - `aitag worker`: tags the jobs of the catalog's queue (docs/scale.md).
 *
 * One job at a time: claim it (a lease of --lease seconds), map its library path to this
 * machine's (--path-map), open the file and tag it under its library path (the catalog's name
 * for it, whatever the mount: aitag_tagger_run_fd), then finish it: done, or queued again
 * after a backoff, or dead after --max-attempts. A heartbeat thread renews the lease every
 * third of it through its own connection while the item is analysed, so a long video keeps
 * its job and a worker that dies (SIGKILL, a lost machine) loses it within one lease; another
 * worker then claims it and the re-run stores the item once (a commit replaces the item's
 * results). Idle, the worker waits for an enqueue (PostgreSQL NOTIFY) or polls.
 *
 * Stopping: SIGINT/SIGTERM lets the job in flight finish and stops; a second one cancels it
 * (its job goes back to the queue, attempts unchanged). With --drain the worker stops once no
 * job is queued or running. People: when the tagging options run face_attrs with --people,
 * the new faces are grouped whenever the queue runs dry and before stopping, one worker at a
 * time (a catalog-wide lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aitag/catalog.h"
#include "aitag/remote.h"
#include "cli.h"

struct worker {
    struct aitag_catalog *c;  /* claims and finishes */
    struct aitag_catalog *hc; /* the heartbeat's own connection */
    char name[300], host[256];
    const char *map;
    int64_t lease_ms, backoff_ms;
    int max_attempts, json;
    /* the heartbeat */
    pthread_t hb;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t job_id; /* the job whose lease it renews, 0 none */
    int hb_stop, lost;
    /* the item in flight, from on_item */
    char error[1024];
    int blocked; /* the catalog took no more writes: the worker stopped (said) */
};

static atomic_int stop_after_job; /* the first SIGINT/SIGTERM (a second cancels the job) */

static void *heartbeat(void *arg)
{
    struct worker *w = arg;
    struct timespec until;

    pthread_mutex_lock(&w->mu);
    while (!w->hb_stop) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += w->lease_ms / 3000;
        until.tv_nsec += (long)(w->lease_ms / 3 % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
        if (w->hb_stop || !w->job_id)
            continue;
        int64_t id = w->job_id;
        pthread_mutex_unlock(&w->mu);
        int held = aitag_catalog_renew_job(w->hc, w->name, id, w->lease_ms);
        if (held < 0)
            aitag_log(AITAG_LOG_WARN, "worker", "event=renew_failed job=%lld error=\"%s\"",
                      (long long)id, aitag_catalog_errmsg(w->hc));
        pthread_mutex_lock(&w->mu);
        if (held == 0 && w->job_id == id && !w->lost) {
            w->lost = 1;
            aitag_log(AITAG_LOG_WARN, "worker", "event=lease_lost job=%lld", (long long)id);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void set_job(struct worker *w, int64_t id)
{
    pthread_mutex_lock(&w->mu);
    w->job_id = id;
    w->lost = 0;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void on_item(void *ctx, const struct aitag_item_report *r)
{
    struct worker *w = ctx;

    if (r->status == AITAG_ITEM_FAILED)
        aitag_fmt(w->error, sizeof w->error, "%s", r->error ? r->error : "failed");
}

static void report(const struct worker *w, const struct aitag_job *job, const char *status,
                   double seconds, const char *error)
{
    if (w->json) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:f, s:s?}", "job", (json_int_t)job->id, "path",
                              job->path, "status", status, "attempt", job->attempts, "seconds",
                              seconds, "error", error);
        print_json_line(o);
        json_decref(o);
    } else {
        printf("%s  [%s]  %.1f s%s%s\n", job->path, status, seconds, error ? "  " : "",
               error ? error : "");
        fflush(stdout);
    }
}

/* Tags one claimed job and finishes it. 0, < 0 when the catalog failed (said), or 1 when the
 * catalog can take no more writes (disk full, damaged): the job is given back, not counted as
 * a failed attempt, and the worker stops (every later job would fail the same way). */
static int run_job(struct worker *w, struct aitag_tagger *t, const struct aitag_job *job)
{
    struct aitag_summary sum = {0};
    char local[4096];
    const char *error = NULL;
    double t0 = aitag_now(), seconds;
    int fd = -1, rc = 0, cancelled = 0;

    w->error[0] = '\0';
    if (aitag_map_path(w->map, job->path, local, sizeof local) < 0) {
        error = "path too long once mapped (--path-map)";
    } else if ((fd = open(local, O_RDONLY | O_CLOEXEC)) < 0) {
        aitag_fmt(w->error, sizeof w->error, "%s: %s%s", local, strerror(errno),
                  strcmp(local, job->path) ? "" : " (is --path-map right for this machine?)");
        error = w->error;
    } else {
        set_job(w, job->id);
        rc = aitag_tagger_run_fd(t, job->path, fd, &sum);
        set_job(w, 0);
        close(fd);
        cancelled = atomic_load(cli_stop_flag()) && sum.tagged + sum.skipped + sum.failed == 0;
        if (rc < 0)
            aitag_fmt(w->error, sizeof w->error, "%s", aitag_tagger_errmsg(t));
        if (rc < 0 || sum.failed)
            error = w->error[0] ? w->error : "failed";
    }
    seconds = aitag_now() - t0;
    if (rc < 0 && aitag_tagger_write_blocked(t)) {
        fprintf(stderr, "aitag worker: %s\n", aitag_tagger_errmsg(t));
        report(w, job, "stopped", seconds, aitag_tagger_errmsg(t));
        aitag_catalog_release_job(w->c, w->name, job->id);
        w->blocked = 1;
        return 1;
    }
    if (cancelled) {
        report(w, job, "cancelled", seconds, NULL);
        return aitag_catalog_release_job(w->c, w->name, job->id) < 0 ? -1 : 0;
    }
    if (aitag_catalog_finish_job(w->c, w->name, job->id, error, seconds, w->max_attempts,
                                 w->backoff_ms) < 0)
        return -1;
    report(w, job,
           !error                             ? "done"
           : job->attempts >= w->max_attempts ? "dead"
                                              : "retry",
           seconds, error);
    return rc < 0 ? -1 : 0;
}

/* Groups the new faces into people, one worker at a time (cli_people_update locks). */
static int people(const struct aitag_opts *o, const struct aitag_tagger_params *tp, int *pending)
{
    if (!*pending || !aitag_opts_bool(o, "people") || !cli_has_analyzer(tp, "face_attrs"))
        return 0;
    *pending = 0;
    return cli_people_update(o, tp->catalog_path);
}

static int queue_empty(struct worker *w, int *empty)
{
    struct aitag_queue_stats s;

    if (aitag_catalog_queue_stats(w->c, 0, &s) < 0)
        return -1;
    *empty = s.queued == 0 && s.running == 0;
    return 0;
}

/* The catalog failed (the database restarting, the network gone): said, then a pause before
 * the next try; the connection is made again by the next statement. */
static void catalog_trouble(struct worker *w)
{
    struct timespec pause = {2, 0};

    fprintf(stderr, "aitag worker: %s (trying again)\n", aitag_catalog_errmsg(w->c));
    nanosleep(&pause, NULL);
}

/* Claims and runs jobs until stopped (or drained). EXIT_OK or EXIT_SETUP. */
static int work(struct worker *w, struct aitag_tagger *t, const struct aitag_opts *o,
                const struct aitag_tagger_params *tp)
{
    struct aitag_job job;
    int pending = 0, drain = aitag_opts_bool(o, "drain"), empty;

    while (!atomic_load(&stop_after_job)) {
        int got = aitag_catalog_claim_job(w->c, w->name, w->lease_ms, w->max_attempts, &job);
        if (got < 0) {
            catalog_trouble(w);
            continue;
        }
        if (got) {
            int r = run_job(w, t, &job);
            if (r > 0) /* the catalog takes no more writes */
                return EXIT_SETUP;
            if (r < 0) /* its lease runs out: it is claimed again */
                catalog_trouble(w);
            pending = 1;
            continue;
        }
        if (people(o, tp, &pending) != 0)
            return EXIT_SETUP;
        if (drain) {
            if (queue_empty(w, &empty) < 0) {
                catalog_trouble(w);
                continue;
            }
            if (empty)
                break;
        }
        /* draining, the wait is for other workers' last jobs: a quarter second */
        if (aitag_catalog_wait_jobs(w->c, drain ? 250 : 2000) < 0)
            catalog_trouble(w);
    }
    return people(o, tp, &pending) != 0 ? EXIT_SETUP : EXIT_OK;
}

static int set_state(struct worker *w, const char *state, int threads)
{
    struct aitag_worker_row r = {
        .name = w->name, .host = w->host, .state = state, .pid = getpid(), .threads = threads};

    return aitag_catalog_worker_seen(w->c, &r);
}

int cmd_worker(int argc, char **argv)
{
    struct cli_tagger_bufs *b = calloc(1, sizeof *b);
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_tagger *t = NULL;
    struct aitag_remote_client *gc = NULL;
    struct worker w = {0};
    struct aitag_opts o;
    char err[1024] = "";
    int rc = EXIT_USAGE, hb_started = 0;

    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    if (!b)
        return EXIT_SETUP;
    if ((rc = cli_options(&o, "worker", argc, argv)) >= 0)
        goto out;
    rc = EXIT_USAGE;
    cli_setup_logging(&o, NULL, NULL);
    if (o.n_args) {
        fprintf(stderr, "aitag worker: takes no paths: they come from the queue (aitag enqueue)\n");
        goto out;
    }
    if ((rc = cli_tagger_params(&o, "worker", b, &tp, &gc)) != 0)
        goto out;
    tp.on_item = on_item;
    tp.ctx = &w;
    gethostname(w.host, sizeof w.host - 1);
    if (aitag_opts_str(&o, "worker-name"))
        aitag_fmt(w.name, sizeof w.name, "%s", aitag_opts_str(&o, "worker-name"));
    else
        aitag_fmt(w.name, sizeof w.name, "%s:%ld", w.host, (long)getpid());
    w.map = aitag_opts_str(&o, "path-map");
    w.lease_ms = aitag_opts_int(&o, "lease") * 1000;
    w.max_attempts = (int)aitag_opts_int(&o, "max-attempts");
    w.backoff_ms = (int64_t)(aitag_opts_num(&o, "backoff") * 1000);
    w.json = aitag_opts_bool(&o, "json");
    rc = EXIT_SETUP;
    if (cli_open_catalog_rw(&o, "worker", &w.c) != 0 ||
        cli_open_catalog_rw(&o, "worker", &w.hc) != 0)
        goto out;
    int trc = aitag_tagger_new(&tp, &t, err, sizeof err);
    if (trc < 0) {
        fprintf(stderr, "aitag worker: %s\n", err);
        rc = trc == AITAG_ERR_INVALID ? EXIT_USAGE : EXIT_SETUP;
        goto out;
    }
    if (set_state(&w, "running", tp.threads) < 0)
        goto db;
    if (pthread_create(&w.hb, NULL, heartbeat, &w) != 0)
        goto out;
    hb_started = 1;
    cli_catch_stop_signals_graceful(&stop_after_job);
    fprintf(stderr, "aitag worker: %s ready\n", w.name);
    rc = work(&w, t, &o, &tp);
    if (rc == EXIT_SETUP && w.blocked)
        goto out;
    if (rc == EXIT_SETUP)
        goto db;
    if (set_state(&w, "stopped", tp.threads) < 0)
        goto db;
    rc = atomic_load(cli_stop_flag()) ? EXIT_INTERRUPTED : EXIT_OK;
    goto out;
db:
    fprintf(stderr, "aitag worker: %s\n", aitag_catalog_errmsg(w.c));
    rc = EXIT_SETUP;
out:
    if (hb_started) {
        pthread_mutex_lock(&w.mu);
        w.hb_stop = 1;
        pthread_cond_signal(&w.cv);
        pthread_mutex_unlock(&w.mu);
        pthread_join(w.hb, NULL);
    }
    aitag_tagger_free(t);
    aitag_remote_client_free(gc);
    aitag_catalog_close(w.c);
    aitag_catalog_close(w.hc);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    aitag_opts_free(&o);
    free(b);
    return rc;
}
