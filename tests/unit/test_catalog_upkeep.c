/* test_catalog_upkeep.c - a SQLite catalog's upkeep on real files: the lock file that tells a
 * clean end from an unclean one (two handles at once never look unclean; a process that ends
 * without closing does, and its successor checks), damage found on open and by check, a
 * damaged page met later naming the catalog, and backup / restore (a consistent copy with its
 * checksum, restore refused while the catalog is open or when the backup changed, the old file
 * kept aside). */
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aitag/catalog.h"
#include "check.h"

static char dir[64];
static int checks_on_open; /* event=check_on_open seen by the log sink */

static void sink(void *ctx, enum aitag_log_level level, const char *subsystem, const char *msg)
{
    (void)ctx, (void)level, (void)subsystem;
    if (strstr(msg, "event=check_on_open"))
        checks_on_open++;
}

static const char *word(const char *db, char *buf, size_t len)
{
    char lock[256];
    FILE *f;

    snprintf(lock, sizeof lock, "%s-lock", db);
    buf[0] = '\0';
    f = fopen(lock, "r");
    if (f) {
        if (!fgets(buf, (int)len, f))
            buf[0] = '\0';
        fclose(f);
    }
    return buf;
}

static struct aitag_catalog *open_ok(const char *db, int readonly)
{
    struct aitag_catalog *c = NULL;
    char err[512];

    CHECK(aitag_catalog_open(db, readonly, &c, err, sizeof err) == 0);
    return c;
}

/* A catalog with a few pages of runs (their params text), closed cleanly. */
static void fill(const char *db, int n)
{
    struct aitag_catalog *c = open_ok(db, 0);
    char params[1200];
    int64_t run;

    memset(params, 'x', sizeof params - 1);
    params[sizeof params - 1] = '\0';
    params[0] = '"';
    params[sizeof params - 2] = '"';
    for (int i = 0; c && i < n; i++)
        CHECK(aitag_catalog_begin_run(c, params, &run) == 0);
    aitag_catalog_close(c);
}

/* Opens db for writing in a child process that is then killed without closing it (a crash:
 * SIGKILL, so no exit handler, leak check or sanitizer runs in the child). */
static void crash_while_open(const char *db)
{
    pid_t pid = fork();

    if (pid == 0) {
        struct aitag_catalog *c = NULL;
        char err[512];
        if (aitag_catalog_open(db, 0, &c, err, sizeof err) == 0)
            raise(SIGKILL);
        _exit(1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_clean_and_unclean(void)
{
    char db[128], w[16];
    struct aitag_catalog *a, *b;

    snprintf(db, sizeof db, "%s/state.db", dir);
    fill(db, 3);
    CHECK(strcmp(word(db, w, sizeof w), "clean\n") == 0);
    /* Two handles at once (a run and a `show`): neither is checked, the last one out cleans. */
    checks_on_open = 0;
    a = open_ok(db, 0);
    CHECK(strcmp(word(db, w, sizeof w), "open\n") == 0);
    b = open_ok(db, 1);
    aitag_catalog_close(a);
    CHECK(strcmp(word(db, w, sizeof w), "open\n") == 0);
    aitag_catalog_close(b);
    CHECK(strcmp(word(db, w, sizeof w), "clean\n") == 0);
    CHECK_EQ_INT(checks_on_open, 0);
    /* A crash while another handle stays open: that handle's open was not unclean either. */
    a = open_ok(db, 0);
    crash_while_open(db);
    b = open_ok(db, 1);
    CHECK_EQ_INT(checks_on_open, 0);
    aitag_catalog_close(b);
    aitag_catalog_close(a);
    /* A crash with no one else there: the next open checks, once. */
    crash_while_open(db);
    CHECK(strcmp(word(db, w, sizeof w), "open\n") == 0);
    a = open_ok(db, 1);
    CHECK_EQ_INT(checks_on_open, 1);
    aitag_catalog_close(a);
    CHECK(strcmp(word(db, w, sizeof w), "clean\n") == 0);
    a = open_ok(db, 0);
    CHECK_EQ_INT(checks_on_open, 1);
    aitag_catalog_close(a);
}

/* The page number of the runs table's root. */
static int runs_root(const char *db)
{
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    int page = 0;

    if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(s, "SELECT rootpage FROM sqlite_schema WHERE name = 'runs'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    return page;
}

/* Overwrites the first bytes of page (1-based, 4096-byte pages) with garbage. */
static void damage_page(const char *db, int page)
{
    unsigned char junk[64];
    int fd = open(db, O_WRONLY);

    memset(junk, 0x5a, sizeof junk);
    CHECK(fd >= 0 && pwrite(fd, junk, sizeof junk, (off_t)(page - 1) * 4096) == sizeof junk);
    if (fd >= 0)
        close(fd);
}

static void on_problem(void *ctx, const char *problem)
{
    (void)problem;
    ++*(int *)ctx;
}

static void test_damage(void)
{
    char db[128], err[1024], w[16];
    struct aitag_catalog *c = NULL;
    int64_t problems = -1, n;
    int seen = 0, page;

    snprintf(db, sizeof db, "%s/damaged.db", dir);
    fill(db, 40);
    page = runs_root(db);
    CHECK(page > 1);
    damage_page(db, page);
    /* Closed cleanly: opening does not look (no cost), the damage shows where it is read,
     * naming the catalog and what to do. */
    checks_on_open = 0;
    c = open_ok(db, 1);
    CHECK_EQ_INT(checks_on_open, 0);
    if (c) {
        CHECK(aitag_catalog_count(c, "runs", &n) < 0);
        CHECK(strstr(aitag_catalog_errmsg(c), db) != NULL);
        CHECK(strstr(aitag_catalog_errmsg(c), "is damaged") != NULL);
        CHECK(strstr(aitag_catalog_errmsg(c), "aitag catalog check") != NULL);
        CHECK(aitag_catalog_write_blocked(c) != 0);
    }
    aitag_catalog_close(c);
    /* check lists it */
    CHECK(aitag_catalog_check(db, 1, on_problem, &seen, &problems, err, sizeof err) == 0);
    CHECK(problems > 0);
    CHECK_EQ_INT(seen, problems);
    /* After an unclean end, the open itself refuses it. */
    crash_while_open(db);
    c = NULL;
    CHECK(aitag_catalog_open(db, 0, &c, err, sizeof err) == AITAG_ERR_DB);
    CHECK(c == NULL);
    aitag_catalog_close(c); /* (opened after all: an allocation failed in the set-up) */
    CHECK(strstr(err, db) == err);
    CHECK(strstr(err, "damaged") != NULL);
    CHECK(strstr(err, "aitag catalog restore") != NULL);
    CHECK_EQ_INT(checks_on_open, 1);
    CHECK(strcmp(word(db, w, sizeof w), "open\n") == 0); /* still suspect for the next open */
}

static void test_backup_restore(void)
{
    char db[128], bak[128], other[128], err[1024], aside[512], sum[160];
    struct aitag_catalog *c;
    int64_t n = 0, problems = -1;
    int unsummed = -1;

    snprintf(db, sizeof db, "%s/live.db", dir);
    snprintf(bak, sizeof bak, "%s/live.bak", dir);
    snprintf(other, sizeof other, "%s/other.db", dir);
    fill(db, 7);
    c = open_ok(db, 0); /* a backup while the catalog is open for writing */
    CHECK(aitag_catalog_backup(db, bak, err, sizeof err) == 0);
    CHECK(aitag_catalog_backup(db, bak, err, sizeof err) == AITAG_ERR_INVALID); /* no overwrite */
    CHECK(strstr(err, "already exists") != NULL);
    snprintf(sum, sizeof sum, "%s.sha256", bak);
    CHECK(access(sum, R_OK) == 0);
    CHECK(aitag_catalog_check(bak, 0, NULL, NULL, &problems, err, sizeof err) == 0 &&
          problems == 0);
    /* Restore over a catalog someone has open: refused, nothing changed. */
    fill(other, 2);
    struct aitag_catalog *o = open_ok(other, 1);
    CHECK(aitag_catalog_restore(other, bak, &unsummed, aside, sizeof aside, err, sizeof err) ==
          AITAG_ERR_INVALID);
    CHECK(strstr(err, "in use") != NULL);
    aitag_catalog_close(o);
    CHECK(aitag_catalog_restore(other, bak, &unsummed, aside, sizeof aside, err, sizeof err) == 0);
    CHECK_EQ_INT(unsummed, 0);
    CHECK(strstr(aside, "other.db.before-restore-") != NULL && access(aside, R_OK) == 0);
    o = open_ok(other, 1);
    CHECK(o && aitag_catalog_count(o, "runs", &n) == 0 && n == 7);
    aitag_catalog_close(o);
    o = open_ok(aside, 1); /* the old catalog, as it was */
    CHECK(o && aitag_catalog_count(o, "runs", &n) == 0 && n == 2);
    aitag_catalog_close(o);
    aitag_catalog_close(c);
    /* A backup changed since it was written: refused by its checksum, target untouched. */
    damage_page(bak, 3);
    CHECK(aitag_catalog_restore(other, bak, &unsummed, aside, sizeof aside, err, sizeof err) ==
          AITAG_ERR_INVALID);
    CHECK(strstr(err, "checksum") != NULL);
    /* ... and without its checksum file, by the check. */
    unlink(sum);
    CHECK(aitag_catalog_restore(other, bak, &unsummed, aside, sizeof aside, err, sizeof err) ==
          AITAG_ERR_INVALID);
    CHECK(strstr(err, "damaged") != NULL || strstr(err, "not a catalog") != NULL);
    o = open_ok(other, 1);
    CHECK(o && aitag_catalog_count(o, "runs", &n) == 0 && n == 7);
    aitag_catalog_close(o);
    /* A WAL left without its catalog is moved aside, not replayed into the restored file. */
    char fresh[128], wal[160];
    snprintf(fresh, sizeof fresh, "%s/fresh.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", fresh);
    FILE *f = fopen(wal, "w");
    CHECK(f && fputs("not a WAL of this file", f) >= 0);
    if (f)
        fclose(f);
    CHECK(aitag_catalog_restore(fresh, other, &unsummed, aside, sizeof aside, err, sizeof err) ==
          0);
    CHECK(access(wal, F_OK) != 0);
    o = open_ok(fresh, 1);
    CHECK(o && aitag_catalog_count(o, "runs", &n) == 0 && n == 7);
    aitag_catalog_close(o);
    /* PostgreSQL: pg_dump's job, said before connecting anywhere. */
    CHECK(aitag_catalog_backup("postgresql://u@127.0.0.1:1/x", bak, err, sizeof err) ==
          AITAG_ERR_INVALID);
    CHECK(strstr(err, "pg_dump") != NULL);
    CHECK(aitag_catalog_restore("postgres://h/x", bak, &unsummed, aside, sizeof aside, err,
                                sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "pg_restore") != NULL);
}

int main(void)
{
    char cmd[128];

    snprintf(dir, sizeof dir, "/tmp/aitag-upkeep-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    aitag_log_set_sink(sink, NULL, AITAG_LOG_INFO);
    test_clean_and_unclean();
    test_damage();
    test_backup_restore();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
