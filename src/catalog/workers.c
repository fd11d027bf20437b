/*
 * workers.c - the workers of the job queue as the catalog knows them, and the queue in
 * numbers (`aitag jobs`).
 *
 * A worker row is written at start (by name: a worker restarted under its name is the same
 * worker again, its counts kept), touched at every claim and lease renewal (seen_ms, the job
 * in flight) and marked stopping and stopped by the worker itself; one that stopped touching
 * it is lost, which `aitag jobs` tells from seen_ms. The numbers are a few counting queries.
 */
#include <string.h>

#include "catalog_int.h"

int aitag_catalog_worker_seen(struct aitag_catalog *c, const struct aitag_worker_row *w)
{
    struct catalog_stmt *st = NULL;
    int64_t now;
    int rc = catalog_now_ms(c, &now);

    if (rc == 0)
        rc = catalog_sql_prepare(
            c,
            "INSERT INTO workers(name, host, pid, threads, started_ms, seen_ms, state, current)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET"
            " host = excluded.host, pid = excluded.pid, threads = excluded.threads,"
            " started_ms = CASE WHEN excluded.state = 'running' AND workers.state = 'stopped'"
            "  THEN excluded.started_ms ELSE workers.started_ms END,"
            " seen_ms = excluded.seen_ms, state = excluded.state, current = excluded.current",
            &st);
    if (rc < 0)
        goto out;
    catalog_bind_text(st, 1, w->name, -1);
    catalog_bind_text(st, 2, w->host, -1);
    catalog_bind_int64(st, 3, w->pid);
    catalog_bind_int64(st, 4, w->threads);
    catalog_bind_int64(st, 5, now);
    catalog_bind_text(st, 6, w->state ? w->state : "running", -1);
    catalog_bind_text(st, 7, w->current, -1);
    rc = catalog_sql_check(c, catalog_step(st), "worker");
out:
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_each_worker(struct aitag_catalog *c, aitag_worker_fn fn, void *ctx)
{
    struct catalog_stmt *st = NULL;
    struct aitag_worker_row w;
    int rc = catalog_sql_prepare(c,
                                 "SELECT name, host, state, current, pid, started_ms, seen_ms,"
                                 " done, failed, threads FROM workers ORDER BY name",
                                 &st);

    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        w.name = catalog_column_text(st, 0);
        w.host = catalog_column_text(st, 1);
        w.state = catalog_column_text(st, 2);
        w.current = catalog_column_text(st, 3);
        w.pid = catalog_column_int64(st, 4);
        w.started_ms = catalog_column_int64(st, 5);
        w.seen_ms = catalog_column_int64(st, 6);
        w.done = catalog_column_int64(st, 7);
        w.failed = catalog_column_int64(st, 8);
        w.threads = catalog_column_int(st, 9);
        if (fn(ctx, &w)) {
            rc = CATALOG_DONE;
            break;
        }
    }
    rc = catalog_sql_check(c, rc, "workers");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_queue_stats(struct aitag_catalog *c, int64_t now_ms, struct aitag_queue_stats *s)
{
    struct catalog_stmt *st = NULL;
    int rc;

    memset(s, 0, sizeof *s);
    if (now_ms <= 0 && (rc = catalog_now_ms(c, &now_ms)) < 0)
        return rc;
    rc = catalog_sql_prepare(
        c,
        "SELECT"
        " sum(CASE WHEN state = 'queued' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN state = 'done' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN state = 'dead' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN state = 'queued' AND not_before_ms <= ?1 THEN 1 ELSE 0 END),"
        " sum(CASE WHEN state = 'done' AND finished_ms > ?1 - 60000 THEN 1 ELSE 0 END),"
        " sum(CASE WHEN state = 'done' AND finished_ms > ?1 - 60000 THEN seconds ELSE 0 END),"
        " min(CASE WHEN state = 'queued' THEN enqueued_ms END) FROM jobs",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, now_ms);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW) {
        s->queued = catalog_column_int64(st, 0);
        s->running = catalog_column_int64(st, 1);
        s->done = catalog_column_int64(st, 2);
        s->dead = catalog_column_int64(st, 3);
        s->ready = catalog_column_int64(st, 4);
        s->done_last_minute = catalog_column_int64(st, 5);
        s->seconds_last_minute = catalog_column_double(st, 6);
        s->oldest_queued_ms = catalog_column_int64(st, 7);
    }
    rc = catalog_sql_check(c, rc, "queue stats");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_each_failed_job(struct aitag_catalog *c, int64_t limit, aitag_failed_job_fn fn,
                                  void *ctx)
{
    struct catalog_stmt *st = NULL;
    int rc =
        catalog_sql_prepare(c,
                            "SELECT path, state, attempts, error, coalesce(finished_ms, 0)"
                            " FROM jobs WHERE error IS NOT NULL AND state IN ('dead', 'queued')"
                            " ORDER BY finished_ms DESC, id DESC LIMIT ?1",
                            &st);

    if (rc < 0)
        return rc;
    catalog_bind_limit(st, 1, limit);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (fn(ctx, catalog_column_text(st, 0), catalog_column_text(st, 1),
               catalog_column_int(st, 2), catalog_column_text(st, 3),
               catalog_column_int64(st, 4))) {
            rc = CATALOG_DONE;
            break;
        }
    rc = catalog_sql_check(c, rc, "failed jobs");
    catalog_finalize(st);
    return rc;
}
