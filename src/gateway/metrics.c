/*
 * metrics.c - Prometheus counters and a latency histogram, kept in small arrays under one
 * mutex (routes, statuses and backends are few; a lookup is a short linear scan).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_int.h"

static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])

struct counter {
    char a[128], b[64]; /* route+status, or backend+reason */
    unsigned long long n;
};

struct hist {
    char route[128];
    unsigned long long buckets[N_BOUNDS], count;
    double sum;
};

struct gw_metrics {
    pthread_mutex_t mu;
    struct counter *req, *up;
    size_t n_req, n_up;
    struct hist *h;
    size_t n_h;
    unsigned long long cache[3]; /* GW_METRIC_CACHE_* */
};

struct gw_metrics *gw_metrics_new(void)
{
    struct gw_metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void gw_metrics_free(struct gw_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m->req);
    free(m->up);
    free(m->h);
    free(m);
}

static void bump(struct counter **v, size_t *n, const char *a, const char *b)
{
    struct counter *nv;

    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].a, a) == 0 && strcmp((*v)[i].b, b) == 0) {
            (*v)[i].n++;
            return;
        }
    nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return;
    *v = nv;
    memset(&nv[*n], 0, sizeof *nv);
    snprintf(nv[*n].a, sizeof nv[*n].a, "%s", a);
    snprintf(nv[*n].b, sizeof nv[*n].b, "%s", b);
    nv[(*n)++].n = 1;
}

void gw_metrics_request(struct gw_metrics *m, const char *route, int status, double seconds)
{
    char st[16];
    struct hist *h = NULL;

    snprintf(st, sizeof st, "%d", status);
    pthread_mutex_lock(&m->mu);
    bump(&m->req, &m->n_req, route, st);
    for (size_t i = 0; i < m->n_h; i++)
        if (strcmp(m->h[i].route, route) == 0)
            h = &m->h[i];
    if (!h) {
        struct hist *nh = realloc(m->h, (m->n_h + 1) * sizeof *nh);
        if (nh) {
            m->h = nh;
            h = &nh[m->n_h++];
            memset(h, 0, sizeof *h);
            snprintf(h->route, sizeof h->route, "%s", route);
        }
    }
    if (h) {
        for (size_t i = 0; i < N_BOUNDS; i++)
            if (seconds <= bounds[i])
                h->buckets[i]++;
        h->count++;
        h->sum += seconds;
    }
    pthread_mutex_unlock(&m->mu);
}

void gw_metrics_upstream_error(struct gw_metrics *m, const char *backend, const char *reason)
{
    pthread_mutex_lock(&m->mu);
    bump(&m->up, &m->n_up, backend, reason);
    pthread_mutex_unlock(&m->mu);
}

void gw_metrics_cache(struct gw_metrics *m, int what, unsigned long long n)
{
    if (what < 0 || what > GW_METRIC_CACHE_EVICTION)
        return;
    pthread_mutex_lock(&m->mu);
    m->cache[what] += n;
    pthread_mutex_unlock(&m->mu);
}

struct sb {
    char *s;
    size_t len, cap;
    int oom;
};

static void add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        char *p = realloc(b->s, b->cap * 2 + (size_t)n);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = b->cap * 2 + (size_t)n;
    }
}

size_t gw_utf8_len(const unsigned char *s)
{
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range: no overlongs, no surrogates */

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* A label value in the exposition format: backslash, double quote and newline escaped; other
 * control characters and invalid UTF-8 become U+FFFD, so a value can never end its line or
 * its quotes early, whatever bytes a config or a request put in it. */
static const char *esc(const char *in, char *out, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t j = 0;

    while (*s) {
        size_t n = gw_utf8_len(s);
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '"')
            rep = "\\\"";
        else if (*s == '\n')
            rep = "\\n";
        else if (n == 0 || *s < 0x20 || *s == 0x7f)
            rep = "\xef\xbf\xbd"; /* U+FFFD */
        if (rep) {
            size_t k = strlen(rep);
            if (j + k >= len)
                break;
            memcpy(out + j, rep, k);
            j += k;
            s++;
        } else {
            if (j + n >= len)
                break;
            memcpy(out + j, s, n);
            j += n;
            s += n;
        }
    }
    out[j] = '\0';
    return out;
}

char *gw_metrics_render(struct gw_metrics *m)
{
    struct sb b = {malloc(4096), 0, 4096, 0};
    char e1[300], e2[160];

    if (!b.s)
        return NULL;
    b.s[0] = '\0';
    pthread_mutex_lock(&m->mu);
    add(&b, "# HELP aitag_gateway_requests_total Requests by route and HTTP status.\n"
            "# TYPE aitag_gateway_requests_total counter\n");
    for (size_t i = 0; i < m->n_req; i++)
        add(&b, "aitag_gateway_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
            esc(m->req[i].a, e1, sizeof e1), m->req[i].b, m->req[i].n);
    add(&b, "# HELP aitag_gateway_request_duration_seconds Request latency by route.\n"
            "# TYPE aitag_gateway_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n_h; i++) {
        esc(m->h[i].route, e1, sizeof e1);
        for (size_t k = 0; k < N_BOUNDS; k++)
            add(&b, "aitag_gateway_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                e1, bounds[k], m->h[i].buckets[k]);
        add(&b, "aitag_gateway_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
            e1, m->h[i].count);
        add(&b, "aitag_gateway_request_duration_seconds_sum{route=\"%s\"} %.6f\n", e1, m->h[i].sum);
        add(&b, "aitag_gateway_request_duration_seconds_count{route=\"%s\"} %llu\n", e1,
            m->h[i].count);
    }
    add(&b, "# HELP aitag_gateway_upstream_errors_total Failed upstream attempts by backend.\n"
            "# TYPE aitag_gateway_upstream_errors_total counter\n");
    for (size_t i = 0; i < m->n_up; i++)
        add(&b, "aitag_gateway_upstream_errors_total{backend=\"%s\",reason=\"%s\"} %llu\n",
            esc(m->up[i].a, e1, sizeof e1), esc(m->up[i].b, e2, sizeof e2), m->up[i].n);
    add(&b,
        "# HELP aitag_gateway_cache_hits_total Answers served from the response cache.\n"
        "# TYPE aitag_gateway_cache_hits_total counter\n"
        "aitag_gateway_cache_hits_total %llu\n"
        "# HELP aitag_gateway_cache_misses_total Cacheable requests sent upstream.\n"
        "# TYPE aitag_gateway_cache_misses_total counter\n"
        "aitag_gateway_cache_misses_total %llu\n"
        "# HELP aitag_gateway_cache_evictions_total Cached answers dropped to make room.\n"
        "# TYPE aitag_gateway_cache_evictions_total counter\n"
        "aitag_gateway_cache_evictions_total %llu\n",
        m->cache[GW_METRIC_CACHE_HIT], m->cache[GW_METRIC_CACHE_MISS],
        m->cache[GW_METRIC_CACHE_EVICTION]);
    pthread_mutex_unlock(&m->mu);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
