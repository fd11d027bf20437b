/*
 * jobs.c - the job queue that spreads tagging over workers (aitag/catalog.h "The job queue").
 *
 * A job is one row of jobs; its state moves queued -> running -> done, or back to queued with
 * a backoff after a failure, or to dead after max_attempts. A claim is one UPDATE of the next
 * ready row: on PostgreSQL its subquery locks the row FOR UPDATE SKIP LOCKED, so workers
 * claiming at once take different rows without waiting on each other; on SQLite the UPDATE
 * runs under the database's write lock, one claim at a time. A running job carries its
 * worker's name and a lease; every later write of the worker (renew, finish, release) names
 * both, so a worker that lost its lease (stalled, then back) changes nothing that is another
 * worker's now. Clocks: every time is the database server's (one clock for all machines: a
 * worker host's skew cannot expire a lease early), read once per call.
 */
#include <string.h>

#include "catalog_int.h"

/* The next ready job, claimed; LOCK: PostgreSQL's row lock clause. */
#define CLAIM(LOCK)                                                                                \
    "UPDATE jobs SET state = 'running', worker = ?1, lease_ms = ?3, started_ms = ?2,"              \
    " attempts = attempts + 1"                                                                     \
    " WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND not_before_ms <= ?2)"            \
    "  OR (state = 'running' AND lease_ms < ?2) ORDER BY priority DESC, id LIMIT 1" LOCK ")"       \
    " RETURNING id, path, attempts, priority"

/* The longest backoff between two attempts of a job. */
#define MAX_BACKOFF_MS 3600000

int catalog_now_ms(struct aitag_catalog *c, int64_t *ms)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(
        c,
        catalog_sql_is_pg(c) ? "SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000)"
                               " AS BIGINT)"
                             : "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        &st);

    *ms = 0;
    if (rc == 0) {
        int step = catalog_step(st);
        rc = catalog_sql_check(c, step, "clock");
        if (step == CATALOG_ROW)
            *ms = catalog_column_int64(st, 0);
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_now_ms(struct aitag_catalog *c, int64_t *ms)
{
    return catalog_now_ms(c, ms);
}

int aitag_catalog_lock(struct aitag_catalog *c, const char *name, int lock)
{
    struct catalog_stmt *st = NULL;
    int rc;

    if (!catalog_sql_is_pg(c))
        return catalog_claim_lock(c, name, lock);
    rc = catalog_sql_prepare(c,
                             lock ? "SELECT pg_advisory_lock(hashtext(?1))"
                                  : "SELECT pg_advisory_unlock(hashtext(?1))",
                             &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, name, -1);
        rc = catalog_sql_check(c, catalog_step(st), lock ? "lock" : "unlock");
    }
    catalog_finalize(st);
    return rc;
}

/* Runs sql (parameters: ?1 text, then as many of ?2..?4, integers, as it has) to its end;
 * *row: 1 when it gave a row. */
static int run(struct aitag_catalog *c, const char *sql, const char *text, int64_t a, int64_t b,
               int64_t d, const char *what, int *row)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, sql, &st), step;

    if (row)
        *row = 0;
    if (rc < 0)
        return rc;
    if (text)
        catalog_bind_text(st, 1, text, -1);
    if (catalog_param_count(st) >= 2)
        catalog_bind_int64(st, 2, a);
    if (catalog_param_count(st) >= 3)
        catalog_bind_int64(st, 3, b);
    if (catalog_param_count(st) >= 4)
        catalog_bind_int64(st, 4, d);
    step = catalog_step(st);
    rc = catalog_sql_check(c, step, what);
    if (rc == 0 && row)
        *row = step == CATALOG_ROW;
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_enqueue(struct aitag_catalog *c, const char *path, int priority,
                          const char *source, int *queued)
{
    struct catalog_stmt *st = NULL;
    int64_t now;
    int rc = catalog_now_ms(c, &now), step, known = 0;

    *queued = 0;
    if (rc == 0 && priority < 0) {
        rc = run(c, "SELECT 1 FROM media WHERE path = ?1", path, 0, 0, 0, "enqueue", &known);
        priority = known ? AITAG_JOB_PRIORITY_RETAG : AITAG_JOB_PRIORITY_NEW;
    }
    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "INSERT INTO jobs(path, priority, source, enqueued_ms)"
                                 " VALUES(?1, ?2, ?3, ?4)"
                                 " ON CONFLICT(path) WHERE state IN ('queued', 'running')"
                                 " DO NOTHING RETURNING id",
                                 &st);
    if (rc < 0)
        goto out;
    catalog_bind_text(st, 1, path, -1);
    catalog_bind_int64(st, 2, priority);
    catalog_bind_text(st, 3, source ? source : "cli", -1);
    catalog_bind_int64(st, 4, now);
    step = catalog_step(st);
    rc = catalog_sql_check(c, step, "enqueue");
    *queued = rc == 0 && step == CATALOG_ROW;
    catalog_finalize(st); /* a RETURNING statement ends here, its write done */
    st = NULL;
    if (rc == 0 && !*queued) /* there already: it keeps the higher priority */
        rc = run(c,
                 "UPDATE jobs SET priority = ?2 WHERE path = ?1 AND state = 'queued'"
                 " AND priority < ?2",
                 path, priority, 0, 0, "enqueue", NULL);
    if (rc == 0 && *queued && catalog_sql_is_pg(c))
        rc = catalog_sql_exec(c, "NOTIFY aitag_jobs");
out:
    catalog_finalize(st);
    return rc;
}

/* Jobs whose lease expired after their last allowed attempt: dead, with why. */
static int bury_lost(struct aitag_catalog *c, int64_t now, int max_attempts)
{
    struct catalog_stmt *st = NULL;
    int rc =
        catalog_sql_prepare(c,
                            "UPDATE jobs SET state = 'dead', finished_ms = ?1, lease_ms = NULL,"
                            " error = 'its worker stopped answering ' || attempts"
                            " || ' times (last: ' || coalesce(worker, '?') || ')'"
                            " WHERE state = 'running' AND lease_ms < ?1 AND attempts >= ?2",
                            &st);

    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, now);
    catalog_bind_int64(st, 2, max_attempts);
    rc = catalog_sql_check(c, catalog_step(st), "bury lost jobs");
    catalog_finalize(st);
    return rc;
}

/* The worker's last-seen time and job in flight (current: NULL none). */
static int touch(struct aitag_catalog *c, const char *worker, const char *current, int64_t now)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, "UPDATE workers SET seen_ms = ?2, current = ?3 WHERE name = ?1",
                                 &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, worker, -1);
    catalog_bind_int64(st, 2, now);
    catalog_bind_text(st, 3, current, -1);
    rc = catalog_sql_check(c, catalog_step(st), "worker seen");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_claim_job(struct aitag_catalog *c, const char *worker, int64_t lease_ms,
                            int max_attempts, struct aitag_job *job)
{
    struct catalog_stmt *st = NULL;
    int64_t now;
    int rc = catalog_now_ms(c, &now), step;

    memset(job, 0, sizeof *job);
    if (rc == 0)
        rc = bury_lost(c, now, max_attempts);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c, catalog_sql_is_pg(c) ? CLAIM(" FOR UPDATE SKIP LOCKED") : CLAIM(""), &st);
    if (rc < 0)
        goto out;
    catalog_bind_text(st, 1, worker, -1);
    catalog_bind_int64(st, 2, now);
    catalog_bind_int64(st, 3, now + lease_ms);
    step = catalog_step(st);
    rc = catalog_sql_check(c, step, "claim job");
    if (rc == 0 && step == CATALOG_ROW) {
        const char *path = catalog_column_text(st, 1);
        job->id = catalog_column_int64(st, 0);
        aitag_fmt(job->path, sizeof job->path, "%s", path ? path : "");
        job->attempts = catalog_column_int(st, 2);
        job->priority = catalog_column_int(st, 3);
        rc = 1;
    }
out:
    catalog_finalize(st);
    if (rc >= 0) {
        int trc = touch(c, worker, rc == 1 ? job->path : NULL, now);
        if (trc < 0)
            return trc;
    }
    return rc;
}

int aitag_catalog_renew_job(struct aitag_catalog *c, const char *worker, int64_t id,
                            int64_t lease_ms)
{
    int64_t now;
    int held = 0, rc = catalog_now_ms(c, &now);

    if (rc == 0)
        rc = run(c,
                 "UPDATE jobs SET lease_ms = ?3 WHERE worker = ?1 AND id = ?2"
                 " AND state = 'running' RETURNING id",
                 worker, id, now + lease_ms, 0, "renew lease", &held);
    if (rc == 0)
        rc = run(c, "UPDATE workers SET seen_ms = ?2 WHERE name = ?1", worker, now, 0, 0,
                 "worker seen", NULL);
    return rc < 0 ? rc : held;
}

int aitag_catalog_finish_job(struct aitag_catalog *c, const char *worker, int64_t id,
                             const char *error, double seconds, int max_attempts,
                             int64_t backoff_ms)
{
    struct catalog_stmt *st = NULL;
    int64_t now;
    int rc = catalog_sql_begin(c), held = 0;

    if (rc == 0)
        rc = catalog_now_ms(c, &now);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c,
            "UPDATE jobs SET finished_ms = ?3, seconds = ?4, lease_ms = NULL, error = ?5,"
            " state = CASE WHEN ?5 IS NULL THEN 'done' WHEN attempts >= ?6 THEN 'dead'"
            "  ELSE 'queued' END,"
            " worker = CASE WHEN ?5 IS NULL OR attempts >= ?6 THEN worker END,"
            " not_before_ms = CASE WHEN ?5 IS NULL OR attempts >= ?6 THEN not_before_ms"
            "  ELSE ?3 + CASE WHEN attempts > 20 THEN ?8 ELSE"
            "   CASE WHEN ?7 * (CAST(1 AS BIGINT) << CAST(attempts - 1 AS INTEGER)) > ?8 THEN ?8"
            "   ELSE ?7 * (CAST(1 AS BIGINT) << CAST(attempts - 1 AS INTEGER)) END END END"
            " WHERE worker = ?1 AND id = ?2 AND state = 'running' RETURNING id",
            &st);
    if (rc < 0)
        goto out;
    catalog_bind_text(st, 1, worker, -1);
    catalog_bind_int64(st, 2, id);
    catalog_bind_int64(st, 3, now);
    catalog_bind_double(st, 4, seconds);
    catalog_bind_text(st, 5, error, -1);
    catalog_bind_int64(st, 6, max_attempts);
    catalog_bind_int64(st, 7, backoff_ms);
    catalog_bind_int64(st, 8, MAX_BACKOFF_MS);
    rc = catalog_step(st);
    held = rc == CATALOG_ROW;
    rc = catalog_sql_check(c, rc, "finish job");
    catalog_finalize(st); /* before the commit: a RETURNING statement ends here */
    st = NULL;
    if (rc == 0 && held)
        rc = run(c,
                 error ? "UPDATE workers SET failed = failed + 1, current = NULL, seen_ms = ?2"
                         " WHERE name = ?1"
                       : "UPDATE workers SET done = done + 1, current = NULL, seen_ms = ?2"
                         " WHERE name = ?1",
                 worker, now, 0, 0, "worker counts", NULL);
    if (rc == 0)
        rc = catalog_sql_commit(c);
out:
    catalog_finalize(st);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_release_job(struct aitag_catalog *c, const char *worker, int64_t id)
{
    return run(c,
               "UPDATE jobs SET state = 'queued', worker = NULL, lease_ms = NULL,"
               " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
               " WHERE worker = ?1 AND id = ?2 AND state = 'running'",
               worker, id, 0, 0, "release job", NULL);
}

int aitag_catalog_wait_jobs(struct aitag_catalog *c, int timeout_ms)
{
    int rc = c->ops->wait_notify(c, "aitag_jobs", timeout_ms);

    return rc < 0 ? catalog_sql_check(c, CATALOG_ERROR, "wait for jobs") : rc;
}

int aitag_catalog_retry_dead(struct aitag_catalog *c, int64_t *n)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c,
                                 "UPDATE jobs SET state = 'queued', attempts = 0,"
                                 " not_before_ms = 0, worker = NULL WHERE state = 'dead'"
                                 " AND NOT EXISTS(SELECT 1 FROM jobs j WHERE j.path = jobs.path"
                                 "  AND j.state IN ('queued', 'running')) RETURNING id",
                                 &st);

    *n = 0;
    if (rc < 0)
        return rc;
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        (*n)++;
    rc = catalog_sql_check(c, rc, "retry dead jobs");
    catalog_finalize(st);
    if (rc == 0 && *n && catalog_sql_is_pg(c))
        rc = catalog_sql_exec(c, "NOTIFY aitag_jobs");
    return rc;
}
