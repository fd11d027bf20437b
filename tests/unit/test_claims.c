/* test_claims.c - claims of items being analysed (aitag/catalog.h "Claims") on a real catalog
 * (SQLite, or PostgreSQL with AITAG_TEST_PG): one holder at a time, its own claim taken again,
 * release, leases that run out unless renewed, a holder on another host trusted until its
 * lease ends, and a holder on this host killed with SIGKILL (zombie or reaped) taken over at
 * once; the catalog-wide lock built on them. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aitag/catalog.h"
#include "catalog_test.h"
#include "check.h"

static char dir[64];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct aitag_catalog *open_catalog(const char *target)
{
    struct aitag_catalog *c = NULL;
    char err[512];

    if (aitag_catalog_open(target, 0, &c, err, sizeof err) != 0)
        fprintf(stderr, "open: %s\n", err);
    return c;
}

/* An owner on another machine: never judged dead here, only by its lease. */
static struct aitag_claim_owner remote_owner(const char *name)
{
    struct aitag_claim_owner o = {0};

    snprintf(o.name, sizeof o.name, "%s", name);
    snprintf(o.host, sizeof o.host, "another-host.invalid");
    o.pid = 1;
    return o;
}

static void test_holders(struct aitag_catalog *a, struct aitag_catalog *b)
{
    struct aitag_claim_owner oa, ob;
    char holder[256];

    aitag_claim_owner_self(&oa);
    aitag_claim_owner_self(&ob);
    CHECK(strcmp(oa.name, ob.name) != 0); /* two runs of one process are two holders */
    CHECK(aitag_claim_owner_alive(&oa));
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/1.mp4", &oa, 60000, NULL, 0), 1);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/1.mp4", &ob, 60000, holder, sizeof holder), 0);
    CHECK_STR(holder, oa.name);
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/1.mp4", &oa, 60000, NULL, 0), 1); /* its own */
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/2.mp4", &ob, 60000, NULL, 0), 1);
    /* a release names its holder: b cannot release a's claim */
    CHECK_EQ_INT(aitag_catalog_release_claim(b, "/m/1.mp4", &ob), 0);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/1.mp4", &ob, 60000, NULL, 0), 0);
    CHECK_EQ_INT(aitag_catalog_release_claim(a, "/m/1.mp4", &oa), 0);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/1.mp4", &ob, 60000, NULL, 0), 1);
    /* releasing all of a holder's claims */
    CHECK_EQ_INT(aitag_catalog_release_claim(b, NULL, &ob), 0);
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/1.mp4", &oa, 60000, NULL, 0), 1);
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/2.mp4", &oa, 60000, NULL, 0), 1);
    CHECK_EQ_INT(aitag_catalog_release_claim(a, NULL, &oa), 0);
}

/* aitag_catalog_lock: on SQLite a claim of "lock:NAME" (PostgreSQL: an advisory lock). */
static void test_lock(struct aitag_catalog *a, struct aitag_catalog *b)
{
    struct aitag_claim_owner ob;

    aitag_claim_owner_self(&ob);
    CHECK_EQ_INT(aitag_catalog_lock(a, "aitag people", 1), 0);
    if (!test_pg_server())
        CHECK_EQ_INT(aitag_catalog_claim(b, "lock:aitag people", &ob, 60000, NULL, 0), 0);
    CHECK_EQ_INT(aitag_catalog_lock(a, "aitag people", 0), 0);
    CHECK_EQ_INT(aitag_catalog_claim(b, "lock:aitag people", &ob, 60000, NULL, 0), 1);
    CHECK_EQ_INT(aitag_catalog_release_claim(b, "lock:aitag people", &ob), 0);
}

static void test_leases(struct aitag_catalog *a, struct aitag_catalog *b)
{
    struct aitag_claim_owner far = remote_owner("far"), ob;
    char holder[256];

    aitag_claim_owner_self(&ob);
    /* another host's claim stands while its lease does, whatever its pid */
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/3.mp4", &far, 60000, NULL, 0), 1);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/3.mp4", &ob, 60000, holder, sizeof holder), 0);
    CHECK_STR(holder, "far");
    /* a lease that ran out is taken over */
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/4.mp4", &far, 1, NULL, 0), 1);
    sleep_ms(20);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/4.mp4", &ob, 60000, NULL, 0), 1);
    /* ... unless renewed in time */
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/5.mp4", &far, 1, NULL, 0), 1);
    CHECK_EQ_INT(aitag_catalog_renew_claims(a, &far, 60000), 0);
    sleep_ms(20);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/5.mp4", &ob, 60000, NULL, 0), 0);
    /* the taken-over holder's late release changes nothing of the new holder's */
    CHECK_EQ_INT(aitag_catalog_release_claim(a, "/m/4.mp4", &far), 0);
    CHECK_EQ_INT(aitag_catalog_claim(a, "/m/4.mp4", &far, 60000, NULL, 0), 0);
}

/* A child process claims path through its own connection, says so on a pipe and waits to be
 * killed. Returns its pid, or -1. */
static pid_t claiming_child(const char *target, const char *path)
{
    int fds[2];
    char c = 0;
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        struct aitag_catalog *cc = open_catalog(target);
        struct aitag_claim_owner o;
        aitag_claim_owner_self(&o);
        c = cc && aitag_catalog_claim(cc, path, &o, 600000, NULL, 0) == 1 ? 'y' : 'n';
        if (write(fds[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    if (pid < 0 || read(fds[0], &c, 1) != 1 || c != 'y') {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        pid = -1;
    }
    close(fds[0]);
    return pid;
}

static void test_dead_holder(const char *target, struct aitag_catalog *b)
{
    struct aitag_claim_owner ob;
    char holder[256];
    pid_t pid;

    aitag_claim_owner_self(&ob);
    /* killed and not yet reaped (a zombie): dead */
    pid = claiming_child(target, "/m/6.mp4");
    CHECK(pid > 0);
    if (pid <= 0)
        return;
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/6.mp4", &ob, 60000, holder, sizeof holder), 0);
    CHECK(strstr(holder, "/") != NULL); /* host/pid/start/sequence */
    kill(pid, SIGKILL);
    sleep_ms(50);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/6.mp4", &ob, 60000, NULL, 0), 1);
    waitpid(pid, NULL, 0);
    /* killed and reaped: gone */
    pid = claiming_child(target, "/m/7.mp4");
    CHECK(pid > 0);
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_EQ_INT(aitag_catalog_claim(b, "/m/7.mp4", &ob, 60000, NULL, 0), 1);
}

int main(void)
{
    struct aitag_catalog *a, *b;
    char target[1024];

    snprintf(dir, sizeof dir, "/tmp/aitag-claims-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_catalog_target(target, sizeof target, dir, "claims");
    a = open_catalog(target);
    b = open_catalog(target);
    CHECK(a && b);
    if (a && b) {
        test_holders(a, b);
        test_leases(a, b);
        test_lock(a, b);
        test_dead_holder(target, b);
    }
    aitag_catalog_close(a);
    aitag_catalog_close(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
