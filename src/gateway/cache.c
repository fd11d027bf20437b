/*
 * cache.c - the gateway's response cache: exact match on a sha256 key, in memory.
 *
 * Only answers that a repeated request would get again are worth keeping (the handlers decide:
 * a chat completion at temperature 0, not streamed), and only 2xx answers. Entries sit in a
 * hash table of chains for lookup and in one doubly linked list for recency; the total of the
 * answer bytes is capped, and the least recently used entries are evicted to make room. An
 * entry older than the TTL is dropped when it is next looked up (or reached by eviction).
 * One mutex guards everything: a lookup or store is a hash, a short chain and a memcpy, so
 * workers do not queue on it for long. The clock is a parameter so the test can fake it.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway_int.h"

#define N_SLOTS 4096 /* chains; keys are sha256 hex, so the first digits spread evenly */

struct entry {
    char key[65];
    int status;
    char *body;
    size_t len;
    double expires;
    struct entry *prev, *next; /* recency: head is the most recent */
    struct entry *chain;       /* same slot */
};

struct gw_cache {
    pthread_mutex_t mu;
    size_t max_bytes, max_entry, bytes;
    double ttl;
    struct entry *head, *tail;
    struct entry *slots[N_SLOTS];
};

static size_t slot_of(const char *key)
{
    return (size_t)strtoul((char[4]){key[0], key[1], key[2], '\0'}, NULL, 16) % N_SLOTS;
}

struct gw_cache *gw_cache_new(size_t max_bytes, size_t max_entry, double ttl)
{
    struct gw_cache *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->max_bytes = max_bytes;
    c->max_entry = max_entry;
    c->ttl = ttl;
    return c;
}

/* Unlinks e from both structures and frees it; c->mu held. */
static void drop(struct gw_cache *c, struct entry *e)
{
    struct entry **pp = &c->slots[slot_of(e->key)];

    while (*pp && *pp != e)
        pp = &(*pp)->chain;
    if (*pp)
        *pp = e->chain;
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    c->bytes -= e->len;
    free(e->body);
    free(e);
}

void gw_cache_free(struct gw_cache *c)
{
    if (!c)
        return;
    while (c->head)
        drop(c, c->head);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static struct entry *find(struct gw_cache *c, const char *key)
{
    for (struct entry *e = c->slots[slot_of(key)]; e; e = e->chain)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void to_front(struct gw_cache *c, struct entry *e)
{
    if (c->head == e)
        return;
    e->prev->next = e->next; /* e is not the head, so it has a prev */
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = NULL;
    e->next = c->head;
    c->head->prev = e;
    c->head = e;
}

int gw_cache_lookup(struct gw_cache *c, const char *key, double now, int *status, char **body,
                    size_t *len)
{
    struct entry *e;
    int hit = 0;

    *body = NULL;
    *len = 0;
    if (strlen(key) != 64)
        return 0;
    pthread_mutex_lock(&c->mu);
    e = find(c, key);
    if (e && now >= e->expires) {
        drop(c, e);
        e = NULL;
    }
    if (e && (*body = malloc(e->len + 1))) {
        memcpy(*body, e->body, e->len);
        (*body)[e->len] = '\0';
        *len = e->len;
        *status = e->status;
        to_front(c, e);
        hit = 1;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

int gw_cache_store(struct gw_cache *c, const char *key, int status, const char *body, size_t len,
                   double now)
{
    struct entry *e;
    int evicted = 0;

    if (strlen(key) != 64 || len > c->max_entry || len > c->max_bytes)
        return -1;
    e = calloc(1, sizeof *e);
    if (!e || !(e->body = malloc(len ? len : 1))) {
        free(e);
        return -1;
    }
    memcpy(e->key, key, 65);
    memcpy(e->body, body, len);
    e->len = len;
    e->status = status;
    e->expires = now + c->ttl;
    pthread_mutex_lock(&c->mu);
    {
        struct entry *old = find(c, key);
        if (old)
            drop(c, old); /* a newer answer to the same request replaces it */
    }
    /* The least recently used go until the new one fits; an expired one is not counted as
     * an eviction (it was dead already). Expired entries elsewhere wait for their next lookup
     * or for the tail: a sweep over the whole list would hold the lock too long. */
    while (c->tail && (c->bytes + len > c->max_bytes || now >= c->tail->expires)) {
        evicted += now < c->tail->expires;
        drop(c, c->tail);
    }
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
    e->chain = c->slots[slot_of(key)];
    c->slots[slot_of(key)] = e;
    c->bytes += len;
    pthread_mutex_unlock(&c->mu);
    return evicted;
}

size_t gw_cache_bytes(struct gw_cache *c)
{
    size_t n;

    pthread_mutex_lock(&c->mu);
    n = c->bytes;
    pthread_mutex_unlock(&c->mu);
    return n;
}
