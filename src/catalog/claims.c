/*
 * claims.c - items being analysed now, one holder each (aitag/catalog.h "Claims").
 *
 * The job queue's idea on a smaller scale: a claim is one row per path naming its holder and
 * a lease in the database's clock, and every later write of the holder (renew, release) names
 * it, so a holder whose claim was taken over changes nothing of its new holder's. A claim is
 * one statement (an upsert that only takes a free, own or expired row, RETURNING it when it
 * did), so it is atomic on both backends without an explicit transaction: on SQLite it runs
 * under the write lock, on PostgreSQL the unique key serialises two inserts of one path.
 *
 * Leases alone would leave an item killed with kill -9 blocked until its lease runs out, so a
 * claim also names the holding process (host, pid, start time): a claimer on the same host
 * that finds the process gone (or a zombie, or a new process under the same pid) deletes the
 * claim, naming its holder, and claims again.
 *
 * The same rows serve aitag_catalog_lock on SQLite (PostgreSQL has advisory locks): a lock is
 * a claim of "lock:NAME" (no item path starts so: they are absolute) waited for while its
 * holder lives, so work that reads, decides and writes in several transactions (the people
 * update at the end of a run) runs in one process at a time, and a holder killed midway
 * leaves no lock behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog_int.h"

/* The process's start time (clock ticks after boot, /proc/PID/stat field 22) and whether it
 * is running: 1 running, 0 gone or a zombie, -1 unknown (no /proc). */
static int proc_start(int64_t pid, int64_t *start)
{
    char path[64], buf[1024], *p;
    unsigned long long ticks = 0;
    char state = 0;
    size_t n;
    FILE *f;

    *start = 0;
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    if (!(f = fopen(path, "r"))) {
        if (access("/proc/self/stat", R_OK) != 0)
            return -1;
        return 0;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name (field 2) may hold spaces and parentheses: fields go on after the last
     * ')' with field 3, the state; starttime is the 20th field after it */
    p = strrchr(buf, ')');
    /* NOLINTNEXTLINE(cert-err34-c): the kernel's own numbers, never out of range */
    if (!p || sscanf(p + 1,
                     " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
                     " %llu",
                     &state, &ticks) != 2)
        return -1;
    *start = (int64_t)ticks;
    return state != 'Z' && state != 'X';
}

void aitag_claim_owner_self(struct aitag_claim_owner *o)
{
    static atomic_int seq;
    int64_t start = 0;

    memset(o, 0, sizeof *o);
    if (gethostname(o->host, sizeof o->host - 1) != 0)
        aitag_fmt(o->host, sizeof o->host, "localhost");
    o->pid = (int64_t)getpid();
    proc_start(o->pid, &start);
    o->start = start;
    aitag_fmt(o->name, sizeof o->name, "%s/%lld/%lld/%d", o->host, (long long)o->pid,
              (long long)o->start, atomic_fetch_add(&seq, 1) + 1);
}

int aitag_claim_owner_alive(const struct aitag_claim_owner *o)
{
    char host[128] = "";
    int64_t start;
    int running;

    if (gethostname(host, sizeof host - 1) != 0 || strcmp(host, o->host) != 0)
        return 1;
    running = proc_start(o->pid, &start);
    if (running < 0) /* no /proc: whether the pid exists at all */
        return kill((pid_t)o->pid, 0) == 0 || errno == EPERM;
    return running && start == o->start;
}

/* The claim's holder when another holds it: 1 with *h filled, 0 when nobody does. */
static int load_holder(struct aitag_catalog *c, const char *path, struct aitag_claim_owner *h)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(
            c, "SELECT holder, host, pid, proc_start FROM claims WHERE path = ?1", &st),
        step;

    memset(h, 0, sizeof *h);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, path, -1);
    step = catalog_step(st);
    rc = catalog_sql_check(c, step, "claim holder");
    if (rc == 0 && step == CATALOG_ROW) {
        const char *name = catalog_column_text(st, 0), *host = catalog_column_text(st, 1);
        aitag_fmt(h->name, sizeof h->name, "%s", name ? name : "");
        aitag_fmt(h->host, sizeof h->host, "%s", host ? host : "");
        h->pid = catalog_column_int64(st, 2);
        h->start = catalog_column_int64(st, 3);
        rc = 1;
    }
    catalog_finalize(st);
    return rc;
}

/* Runs sql with text parameters ?1 a and, when it has a second, ?2 b. */
static int by_holder(struct aitag_catalog *c, const char *sql, const char *a, const char *b,
                     const char *what)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(c, sql, &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, a, -1);
    if (catalog_param_count(st) >= 2)
        catalog_bind_text(st, 2, b, -1);
    rc = catalog_sql_check(c, catalog_step(st), what);
    catalog_finalize(st);
    return rc;
}

/* One try: 1 claimed, 0 not (another holds it), < 0 error. */
static int try_claim(struct aitag_catalog *c, const char *path, const struct aitag_claim_owner *o,
                     int64_t lease_ms)
{
    struct catalog_stmt *st = NULL;
    int64_t now;
    int rc = catalog_now_ms(c, &now), step;

    if (rc == 0)
        rc = catalog_sql_prepare(
            c,
            "INSERT INTO claims(path, holder, host, pid, proc_start, lease_ms, claimed_ms)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(path) DO UPDATE SET"
            " holder = excluded.holder, host = excluded.host, pid = excluded.pid,"
            " proc_start = excluded.proc_start, lease_ms = excluded.lease_ms,"
            " claimed_ms = excluded.claimed_ms"
            " WHERE claims.holder = excluded.holder OR claims.lease_ms < ?7 RETURNING path",
            &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, path, -1);
    catalog_bind_text(st, 2, o->name, -1);
    catalog_bind_text(st, 3, o->host, -1);
    catalog_bind_int64(st, 4, o->pid);
    catalog_bind_int64(st, 5, o->start);
    catalog_bind_int64(st, 6, now + lease_ms);
    catalog_bind_int64(st, 7, now);
    step = catalog_step(st);
    rc = catalog_sql_check(c, step, "claim");
    catalog_finalize(st); /* a RETURNING statement ends here, its write done */
    return rc < 0 ? rc : step == CATALOG_ROW;
}

int aitag_catalog_claim(struct aitag_catalog *c, const char *path,
                        const struct aitag_claim_owner *o, int64_t lease_ms, char *holder,
                        size_t holder_len)
{
    struct aitag_claim_owner h;
    int rc = 0;

    if (holder && holder_len)
        holder[0] = '\0';
    /* twice at most: the second try after taking a dead holder's claim away */
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = try_claim(c, path, o, lease_ms);
        if (rc != 0)
            return rc;
        rc = load_holder(c, path, &h);
        if (rc < 0)
            return rc;
        if (rc == 0) /* released in between: free now */
            continue;
        if (aitag_claim_owner_alive(&h)) {
            if (holder && holder_len)
                aitag_fmt(holder, holder_len, "%s", h.name);
            return 0;
        }
        aitag_log(AITAG_LOG_INFO, "catalog", "event=claim_taken_over path=\"%s\" holder=\"%s\"",
                  path, h.name);
        rc = by_holder(c, "DELETE FROM claims WHERE path = ?1 AND holder = ?2", path, h.name,
                       "take over claim");
        if (rc < 0)
            return rc;
    }
    return 0;
}

int aitag_catalog_renew_claims(struct aitag_catalog *c, const struct aitag_claim_owner *o,
                               int64_t lease_ms)
{
    struct catalog_stmt *st = NULL;
    int64_t now;
    int rc = catalog_now_ms(c, &now);

    if (rc == 0)
        rc = catalog_sql_prepare(c, "UPDATE claims SET lease_ms = ?2 WHERE holder = ?1", &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, o->name, -1);
    catalog_bind_int64(st, 2, now + lease_ms);
    rc = catalog_sql_check(c, catalog_step(st), "renew claims");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_release_claim(struct aitag_catalog *c, const char *path,
                                const struct aitag_claim_owner *o)
{
    if (!path)
        return by_holder(c, "DELETE FROM claims WHERE holder = ?1", o->name, NULL,
                         "release claims");
    return by_holder(c, "DELETE FROM claims WHERE path = ?1 AND holder = ?2", path, o->name,
                     "release claim");
}

/* A lock's lease: long, as a lock is held for a whole task; a dead holder on this host is
 * recognised at once whatever its lease. */
#define LOCK_LEASE_MS 3600000

int catalog_claim_lock(struct aitag_catalog *c, const char *name, int lock)
{
    char path[300];
    int rc;

    aitag_fmt(path, sizeof path, "lock:%s", name);
    if (!lock)
        return aitag_catalog_release_claim(c, path, &c->lock_owner);
    if (!c->lock_owner.name[0])
        aitag_claim_owner_self(&c->lock_owner);
    while ((rc = aitag_catalog_claim(c, path, &c->lock_owner, LOCK_LEASE_MS, NULL, 0)) == 0) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return rc < 0 ? rc : 0;
}
