/*
 * test_gw_key_cache.c - the HTTP loops' key cache against a real key file and real inotify:
 * a row read is found again while the keys are unchanged, also across writes of the database
 * and its WAL (the usage flush's); a write of the keys (gw_keys_touch, as create and revoke do)
 * or the store replaced makes it stale at once; key_cache_ms bounds how long a row is trusted;
 * key_cache_ms = 0 keeps nothing; a dropped key is gone; the cache holds at most its size.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gateway/gateway_int.h"

static char dir[] = "/tmp/aitag-test-keycache-XXXXXX";

static void hexof(int i, char hex[65])
{
    snprintf(hex, 65, "%064d", i);
}

/* Appends a byte to path (a write of the store as SQLite would make it). */
static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, "x", 1) == 1);
    close(fd);
}

/* Waits up to 2 s for the watch to see a write: the generation moves. */
static int gen_moves(struct aitag_gateway *gw, unsigned long from)
{
    for (int i = 0; i < 200; i++) {
        if (gw_key_cache_gen(gw) != from)
            return 1;
        usleep(10000);
    }
    return 0;
}

static void test_cache(void)
{
    struct aitag_gateway_config cfg;
    struct aitag_gateway gw;
    struct gw_key_cache *c = calloc(1, sizeof *c);
    struct gw_key_row row = {42, "chat,tag", 60, 1000, 2, 5.0, "day"}, got;
    char db[256], wal[300], other[300], hex[65];
    unsigned long gen;

    CHECK(c != NULL);
    snprintf(db, sizeof db, "%s/keys.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(other, sizeof other, "%s/keys.db2", dir);
    touch(db);
    memset(&cfg, 0, sizeof cfg);
    memset(&gw, 0, sizeof gw);
    cfg.keys_db = db;
    cfg.key_cache_ms = 60000;
    gw.cfg = &cfg;
    CHECK_EQ_INT(gw_key_cache_start(&gw), 0);
    gen = gw_key_cache_gen(&gw);
    CHECK(gen != 0);
    hexof(1, hex);
    CHECK(!gw_key_cache_find(&gw, c, hex, &got)); /* never read */
    gw_key_cache_put(&gw, c, hex, &row, gen);
    memset(&got, 0, sizeof got);
    CHECK(gw_key_cache_find(&gw, c, hex, &got));
    CHECK_EQ_INT((int)got.id, 42);
    CHECK_STR(got.routes, "chat,tag");
    CHECK(got.routes != row.routes); /* the caller's own copy */
    CHECK_EQ_INT(got.rpm, 60);
    CHECK_EQ_INT(got.concurrency, 2);
    CHECK_STR(got.period, "day");
    free(got.routes);
    got.routes = NULL; /* a miss (a failed put) leaves got as it was */

    /* A file beside the store with a longer name changes nothing. */
    touch(other);
    usleep(100000);
    CHECK(gw_key_cache_find(&gw, c, hex, &got));
    free(got.routes);
    got.routes = NULL;

    /* Writes of the database and its WAL (the usage flush) leave the row trusted. */
    touch(wal);
    touch(db);
    CHECK(!gen_moves(&gw, gen));
    CHECK(gw_key_cache_find(&gw, c, hex, &got));
    free(got.routes);
    got.routes = NULL;

    /* A write of the keys (create, revoke: the file beside the store) makes it stale. */
    gw_keys_touch(db);
    CHECK(gen_moves(&gw, gen));
    CHECK(!gw_key_cache_find(&gw, c, hex, &got));
    /* Read again under the new generation: found again; then the store replaced by another
     * file (a restore from a backup), then removed. */
    gen = gw_key_cache_gen(&gw);
    gw_key_cache_put(&gw, c, hex, &row, gen);
    CHECK(gw_key_cache_find(&gw, c, hex, &got));
    free(got.routes);
    got.routes = NULL;
    touch(other);
    CHECK(rename(other, db) == 0);
    CHECK(gen_moves(&gw, gen));
    CHECK(!gw_key_cache_find(&gw, c, hex, &got));
    gen = gw_key_cache_gen(&gw);
    CHECK(unlink(db) == 0);
    CHECK(gen_moves(&gw, gen));
    touch(db);

    /* A row read under a generation that moved during the read is stale at once. */
    gen = gw_key_cache_gen(&gw);
    gw_keys_touch(db);
    CHECK(gen_moves(&gw, gen));
    gw_key_cache_put(&gw, c, hex, &row, gen);
    CHECK(!gw_key_cache_find(&gw, c, hex, &got));

    /* key_cache_ms bounds the trust. */
    cfg.key_cache_ms = 50;
    gw_key_cache_put(&gw, c, hex, &row, gw_key_cache_gen(&gw));
    CHECK(gw_key_cache_find(&gw, c, hex, &got));
    free(got.routes);
    got.routes = NULL;
    usleep(80000);
    CHECK(!gw_key_cache_find(&gw, c, hex, &got));
    cfg.key_cache_ms = 60000;

    /* Dropped (the store said unknown or revoked): gone. */
    gw_key_cache_put(&gw, c, hex, &row, gw_key_cache_gen(&gw));
    gw_key_cache_drop(c, hex);
    CHECK(!gw_key_cache_find(&gw, c, hex, &got));

    /* Full: the oldest read makes room; the table never grows past its size. */
    for (int i = 0; i < GW_KEY_CACHE_SIZE + 10; i++) {
        char h[65];
        hexof(100 + i, h);
        gw_key_cache_put(&gw, c, h, &row, gw_key_cache_gen(&gw));
    }
    CHECK_EQ_INT(c->n, GW_KEY_CACHE_SIZE);
    hexof(100 + GW_KEY_CACHE_SIZE + 9, hex);
    CHECK(gw_key_cache_find(&gw, c, hex, &got));
    free(got.routes);
    got.routes = NULL;
    hexof(100, hex);
    CHECK(!gw_key_cache_find(&gw, c, hex, &got));

    gw_key_cache_stop(&gw);
    CHECK_EQ_INT(gw_key_cache_gen(&gw), 0); /* no watch: nothing is kept */
    hexof(100 + GW_KEY_CACHE_SIZE + 9, hex);
    CHECK(!gw_key_cache_find(&gw, c, hex, &got));
    gw_key_cache_clear(c);
    free(c);
    unlink(db);
    unlink(wal);
    unlink(other);
    snprintf(other, sizeof other, "%s%s", db, GW_KEYS_CHANGED_SUFFIX);
    unlink(other);
}

static void test_off(void)
{
    struct aitag_gateway_config cfg;
    struct aitag_gateway gw;
    char db[256];

    snprintf(db, sizeof db, "%s/keys.db", dir);
    memset(&cfg, 0, sizeof cfg);
    memset(&gw, 0, sizeof gw);
    cfg.keys_db = db;
    cfg.key_cache_ms = 0; /* read at every request */
    gw.cfg = &cfg;
    CHECK_EQ_INT(gw_key_cache_start(&gw), 0);
    CHECK_EQ_INT(gw_key_cache_gen(&gw), 0);
    gw_key_cache_stop(&gw);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    test_cache();
    test_off();
    rmdir(dir);
    return check_done();
}
