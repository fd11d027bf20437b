/*
 * key_cache.c - the keys an event loop has read, kept until the key store changes.
 *
 * Reading a key from SQLite at every request cost a read transaction (two fcntl locks on the
 * WAL index, a pread, the statement) on the hottest path: about a tenth of the gateway's CPU
 * per request. Each HTTP loop keeps the rows it read, by the key's sha256, and trusts one
 * while the key store is unchanged since it was read, and for at most key_cache_ms.
 *
 * "Unchanged" comes from inotify: one watcher thread waits on the key store's folder and
 * bumps gw->keys_gen whenever a write of the keys touches the file beside the store
 * (KEYS.db-changed, keys.c's gw_keys_touch, after its commit), or the store itself is created,
 * replaced or removed; an entry read under another generation is read again. `aitag gateway
 * keys create` and `revoke` touch it, so a revoked key stops working at the next request, as
 * it did without the cache. The store's own writes are not watched: the usage flush writes it
 * every 25 ms under load, and when each of those made every loop read its keys again, those
 * reads (and the watcher's wakeups) cost more than the cache saved at 1,000 requests/s.
 * key_cache_ms bounds the rest: a store written by other means (plain SQL; `touch
 * KEYS.db-changed` after it takes effect at once), or on a network
 * filesystem written from another machine, raises no event. Without inotify (or with
 * key_cache_ms = 0) nothing is kept and every request reads the store.
 * Unknown and revoked keys are never kept: each of them is one read, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

/* Whether ev may mean other keys: the change file written, the store created, replaced or
 * removed, or events lost (the queue overflowed). */
static int keys_event(const struct aitag_gateway *gw, const struct inotify_event *ev)
{
    size_t base = strlen(gw->keys_base);

    if (ev->mask & IN_Q_OVERFLOW)
        return 1;
    if (ev->len == 0 || strncmp(ev->name, gw->keys_base, base) != 0)
        return 0;
    if (ev->name[base] == '\0')
        return (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM)) != 0;
    return strcmp(ev->name + base, GW_KEYS_CHANGED_SUFFIX) == 0;
}

static void *watch_main(void *arg)
{
    struct aitag_gateway *gw = arg;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    for (;;) {
        struct pollfd p[2] = {{gw->keys_watch_fd, POLLIN, 0}, {gw->keys_stop[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        ssize_t n = read(gw->keys_watch_fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        for (char *q = buf; q < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)q;
            if (keys_event(gw, ev))
                __atomic_add_fetch(&gw->keys_gen, 1, __ATOMIC_RELEASE);
            q += sizeof *ev + ev->len;
        }
    }
    /* The watch is gone: keep nothing from now on. */
    __atomic_store_n(&gw->keys_watching, 0, __ATOMIC_RELEASE);
    return NULL;
}

int gw_key_cache_start(struct aitag_gateway *gw)
{
    const char *db = gw->cfg->keys_db, *slash;
    char dir[PATH_MAX];
    int wd;

    gw->keys_watch_fd = gw->keys_stop[0] = gw->keys_stop[1] = -1;
    if (!db || gw->cfg->key_cache_ms <= 0)
        return 0;
    slash = strrchr(db, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash == db ? 1 : slash - db) : 1,
             slash ? db : ".");
    snprintf(gw->keys_base, sizeof gw->keys_base, "%s", slash ? slash + 1 : db);
    gw->keys_watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (gw->keys_watch_fd < 0 || pipe2(gw->keys_stop, O_CLOEXEC) < 0)
        goto off;
    /* no IN_MODIFY: the store's own writes (the usage flush's) would wake the watcher */
    wd = inotify_add_watch(gw->keys_watch_fd, dir,
                           IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                               IN_ATTRIB);
    if (wd < 0)
        goto off;
    __atomic_store_n(&gw->keys_watching, 1, __ATOMIC_RELEASE);
    if (pthread_create(&gw->keys_watch_thread, NULL, watch_main, gw) != 0) {
        __atomic_store_n(&gw->keys_watching, 0, __ATOMIC_RELEASE);
        goto off;
    }
    gw->keys_watch_started = 1;
    return 0;
off:
    aitag_log(AITAG_LOG_WARN, "gateway",
              "event=key_cache_off reason=\"cannot watch %s\" errno=%d: every request reads "
              "the key store",
              dir, errno);
    gw_key_cache_stop(gw);
    return 0;
}

void gw_key_cache_stop(struct aitag_gateway *gw)
{
    if (gw->keys_watch_started) {
        ssize_t w = write(gw->keys_stop[1], "x", 1);
        (void)w;
        pthread_join(gw->keys_watch_thread, NULL);
        gw->keys_watch_started = 0;
    }
    __atomic_store_n(&gw->keys_watching, 0, __ATOMIC_RELEASE);
    for (int *fd = &gw->keys_stop[0]; fd <= &gw->keys_stop[1]; fd++)
        if (*fd >= 0)
            close(*fd);
    if (gw->keys_watch_fd >= 0)
        close(gw->keys_watch_fd);
    gw->keys_watch_fd = gw->keys_stop[0] = gw->keys_stop[1] = -1;
}

/* The generation to store an entry under, or 0 when nothing may be kept. Read before the
 * store is read, so that a write during the read makes the entry stale at once. */
unsigned long gw_key_cache_gen(struct aitag_gateway *gw)
{
    if (!__atomic_load_n(&gw->keys_watching, __ATOMIC_ACQUIRE))
        return 0;
    return __atomic_load_n(&gw->keys_gen, __ATOMIC_ACQUIRE) + 1; /* never 0 */
}

int gw_key_cache_find(struct aitag_gateway *gw, struct gw_key_cache *c, const char *hex,
                      struct gw_key_row *out)
{
    unsigned long gen = gw_key_cache_gen(gw);
    double now;

    if (!gen)
        return 0;
    now = aitag_now();
    for (int i = 0; i < c->n; i++) {
        struct gw_key_cache_entry *e = &c->e[i];
        if (memcmp(e->hex, hex, 64) != 0)
            continue;
        if (e->gen != gen || now - e->read_at > gw->cfg->key_cache_ms / 1000.0)
            return 0;
        *out = e->row;
        out->routes = e->row.routes ? strdup(e->row.routes) : NULL;
        if (e->row.routes && !out->routes) {
            out->id = -1;
            return 0; /* out of memory: read it the usual way (which reports it) */
        }
        return 1;
    }
    return 0;
}

void gw_key_cache_put(struct aitag_gateway *gw, struct gw_key_cache *c, const char *hex,
                      const struct gw_key_row *row, unsigned long gen)
{
    struct gw_key_cache_entry *e = NULL;
    char *routes;

    (void)gw;
    if (!gen)
        return;
    for (int i = 0; i < c->n && !e; i++)
        if (memcmp(c->e[i].hex, hex, 64) == 0)
            e = &c->e[i];
    if (!e && c->n < GW_KEY_CACHE_SIZE)
        e = &c->e[c->n++];
    if (!e) { /* full: the oldest read goes */
        e = &c->e[0];
        for (int i = 1; i < c->n; i++)
            if (c->e[i].read_at < e->read_at)
                e = &c->e[i];
    }
    routes = row->routes ? strdup(row->routes) : NULL;
    if (row->routes && !routes) {
        memset(e->hex, 0, sizeof e->hex); /* out of memory: forget the entry */
        return;
    }
    free(e->row.routes);
    memcpy(e->hex, hex, 64);
    e->row = *row;
    e->row.routes = routes;
    e->gen = gen;
    e->read_at = aitag_now();
}

void gw_key_cache_drop(struct gw_key_cache *c, const char *hex)
{
    for (int i = 0; i < c->n; i++)
        if (memcmp(c->e[i].hex, hex, 64) == 0) {
            free(c->e[i].row.routes);
            c->e[i] = c->e[--c->n];
            memset(&c->e[c->n], 0, sizeof c->e[c->n]); /* its routes now belong to e[i] */
            return;
        }
}

void gw_key_cache_clear(struct gw_key_cache *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->e[i].row.routes);
    memset(c, 0, sizeof *c);
}
