/*
 * config.c - the gateway config file (JSON) into struct aitag_gateway_config.
 *
 * Parsing is kept apart from the runtime (as h2o does) so that every rule about the file is
 * checked once, at start, with a message naming the key; the server then trusts the struct.
 * Unknown keys are errors: a typo in "max_concurency" must not silently mean "unlimited".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

/* *out = a copy of v's string, else of def, else NULL; fails only when a copy cannot be made
 * (a field that silently became NULL would change what the gateway does: keys_db off). */
static int dup_field(json_t *v, const char *def, char **out, char *err, size_t len)
{
    const char *s = json_is_string(v) ? json_string_value(v) : def;

    *out = s ? strdup(s) : NULL;
    if (s && !*out) {
        snprintf(err, len, "gateway config: out of memory");
        return AITAG_ERR_NOMEM;
    }
    return 0;
}

static int bad(char *err, size_t len, const char *what, const char *key)
{
    snprintf(err, len, "gateway config: %s '%s'", what, key);
    return AITAG_ERR_INVALID;
}

/* Checks that every key of obj is in the NULL-terminated list allowed. */
static int only_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
                     size_t len)
{
    const char *k;
    json_t *v;

    json_object_foreach(obj, k, v)
    {
        int found = 0;
        for (size_t i = 0; allowed[i]; i++)
            found |= strcmp(allowed[i], k) == 0;
        if (!found) {
            snprintf(err, len, "gateway config: unknown key '%s' in %s", k, where);
            return AITAG_ERR_INVALID;
        }
    }
    return 0;
}

static int get_int(json_t *obj, const char *key, int def, int min, int *out, char *err, size_t len)
{
    json_t *v = json_object_get(obj, key);

    *out = def;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > 1 << 30)
        return bad(err, len, "bad integer for", key);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_bool(json_t *obj, const char *key, int *out, char *err, size_t len)
{
    json_t *v = json_object_get(obj, key);

    *out = 0;
    if (v && !json_is_boolean(v))
        return bad(err, len, "expected true or false for", key);
    *out = json_is_true(v);
    return 0;
}

/* The "cache" object: {"ttl_s", "max_bytes", "max_entry_bytes"}; absent = no cache. */
static int parse_cache(json_t *o, struct aitag_gateway_config *c, char *err, size_t len)
{
    static const char *const keys[] = {"ttl_s", "max_bytes", "max_entry_bytes", NULL};
    json_t *v;
    int rc, entry;

    c->cache_ttl_s = 300;
    c->cache_max_entry = 1 << 20;
    if (!o)
        return 0;
    if (!json_is_object(o))
        return bad(err, len, "expected an object for", "cache");
    if ((rc = only_keys(o, keys, "cache", err, len)) < 0 ||
        (rc = get_int(o, "ttl_s", 300, 1, &c->cache_ttl_s, err, len)) < 0 ||
        (rc = get_int(o, "max_entry_bytes", 1 << 20, 1, &entry, err, len)) < 0)
        return rc;
    c->cache_max_entry = (size_t)entry;
    v = json_object_get(o, "max_bytes");
    c->cache_max_bytes = 64u << 20;
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
        return bad(err, len, "bad integer for", "cache.max_bytes");
    if (v)
        c->cache_max_bytes = (size_t)json_integer_value(v);
    return 0;
}

static int get_str_array(json_t *arr, const char *key, char ***out, size_t *n, char *err,
                         size_t len)
{
    size_t i;
    json_t *v;

    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return bad(err, len, "expected an array of strings for", key);
    *out = calloc(json_array_size(arr) + 1, sizeof **out);
    if (!*out)
        return AITAG_ERR_NOMEM;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return bad(err, len, "expected an array of strings for", key);
        if (dup_field(v, NULL, &(*out)[*n], err, len) < 0)
            return AITAG_ERR_NOMEM;
        (*n)++;
    }
    return 0;
}

static int parse_backend(json_t *o, const char *route, size_t idx, struct aitag_gateway_backend *b,
                         char *err, size_t len)
{
    static const char *const keys[] = {
        "name",   "kind",     "url",        "key_env",         "model", "analyzers",
        "weight", "priority", "timeout_ms", "max_concurrency", NULL};
    const char *kind;
    char name[256];
    int rc;

    if (!json_is_object(o))
        return bad(err, len, "backend must be an object in route", route);
    if ((rc = only_keys(o, keys, "backend", err, len)) < 0)
        return rc;
    kind = json_string_value(json_object_get(o, "kind"));
    if (!kind)
        return bad(err, len, "backend without \"kind\" in route", route);
    if (strcmp(kind, "local") == 0)
        b->kind = AITAG_BACKEND_LOCAL;
    else if (strcmp(kind, "openai") == 0)
        b->kind = AITAG_BACKEND_OPENAI;
    else if (strcmp(kind, "gateway") == 0)
        b->kind = AITAG_BACKEND_GATEWAY;
    else
        return bad(err, len, "unknown backend kind", kind);
    snprintf(name, sizeof name, "%s#%zu", route, idx);
    if ((rc = dup_field(json_object_get(o, "name"), name, &b->name, err, len)) < 0 ||
        (rc = dup_field(json_object_get(o, "url"), NULL, &b->url, err, len)) < 0 ||
        (rc = dup_field(json_object_get(o, "key_env"), NULL, &b->key_env, err, len)) < 0 ||
        (rc = dup_field(json_object_get(o, "model"), NULL, &b->model, err, len)) < 0)
        return rc;
    if (b->kind != AITAG_BACKEND_LOCAL && !b->url)
        return bad(err, len, "remote backend needs \"url\" in route", route);
    if (b->url && strncmp(b->url, "http://", 7) != 0 && strncmp(b->url, "https://", 8) != 0)
        return bad(err, len, "backend url must be http(s)", b->url);
    if ((rc = get_str_array(json_object_get(o, "analyzers"), "analyzers", &b->analyzers,
                            &b->n_analyzers, err, len)) < 0)
        return rc;
    if (b->kind == AITAG_BACKEND_LOCAL && b->n_analyzers == 0)
        return bad(err, len, "local backend needs \"analyzers\" in route", route);
    if ((rc = get_int(o, "weight", 1, 0, &b->weight, err, len)) < 0 ||
        (rc = get_int(o, "priority", 0, 0, &b->priority, err, len)) < 0 ||
        (rc = get_int(o, "timeout_ms", 30000, 1, &b->timeout_ms, err, len)) < 0 ||
        (rc = get_int(o, "max_concurrency", 0, 0, &b->max_concurrency, err, len)) < 0)
        return rc;
    return 0;
}

/* The admission and settlement limits (docs/gateway.md, "Limits"); after "workers". */
static int parse_admission(json_t *root, struct aitag_gateway_config *c, char *err, size_t len)
{
    json_t *v = json_object_get(root, "max_request_cost");
    int inflight, rc;

    if ((rc = get_int(root, "max_inflight_bytes", 256 << 20, 1, &inflight, err, len)) < 0 ||
        (rc = get_int(root, "key_concurrency", 0, 0, &c->key_concurrency, err, len)) < 0 ||
        (rc = get_int(root, "key_cache_ms", 1000, 0, &c->key_cache_ms, err, len)) < 0 ||
        (rc = get_int(root, "reserve_completion_tokens", 1024, 0, &c->reserve_completion_tokens,
                      err, len)) < 0 ||
        (rc = get_int(root, "max_usage_tokens", 10000000, 1, &c->max_usage_tokens, err, len)) < 0)
        return rc;
    c->max_inflight_bytes = (size_t)inflight;
    c->max_request_cost = 1000;
    if (v && (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v))))
        return bad(err, len, "expected a positive number for", "max_request_cost");
    if (v)
        c->max_request_cost = json_number_value(v);
    return 0;
}

/* Two event loops per CPU, at most 8: a loop also reads the key store and parses JSON, and
 * while one waits in the kernel another runs (measured: BENCHMARKS.md). */
static int default_loops(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 2 : n > 4 ? 8 : 2 * (int)n;
}

int aitag_gateway_config_parse(const char *text, struct aitag_gateway_config **out, char *err,
                               size_t errlen)
{
    static const char *const keys[] = {
        "listen", "port", "max_body_bytes", "workers", "library_roots", "keys_db", "access_log",
        "catalog", "tmp_dir", "retries", "backoff_ms", "breaker", "routes", "prices", "cache",
        "local_only", "log_payloads", "rules", "context",
        /* admission and settlement (docs/gateway.md, "Limits") */
        "max_inflight_bytes", "key_concurrency", "key_cache_ms", "reserve_completion_tokens",
        "max_usage_tokens", "max_request_cost",
        /* local tagging (docs/gateway.md, "Limits") */
        "max_megapixels", "tag_threads", "tag_queue",
        /* upstream calls and streams (docs/gateway.md, "Limits") */
        "stream_buffer_bytes", "event_loops", NULL};
    struct aitag_gateway_config *c = calloc(1, sizeof *c);
    json_error_t je;
    json_t *root = json_loads(text, 0, &je), *v, *br;
    const char *k;
    char def_catalog[4096];
    int rc = AITAG_ERR_INVALID, body = 0, sbuf = 0;
    size_t i;

    *out = NULL;
    if (!c) {
        rc = AITAG_ERR_NOMEM;
        snprintf(err, errlen, "gateway config: out of memory");
        goto out;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "gateway config: line %d: %s", je.line,
                 root ? "not a JSON object" : je.text);
        goto out;
    }
    if ((rc = only_keys(root, keys, "the top level", err, errlen)) < 0)
        goto out;
    /* The catalog and rules file of `aitag tag` unless named here (docs/gateway.md). */
    if ((rc = dup_field(json_object_get(root, "listen"), "127.0.0.1", &c->listen, err, errlen)) <
            0 ||
        (rc = dup_field(json_object_get(root, "keys_db"), NULL, &c->keys_db, err, errlen)) < 0 ||
        (rc = dup_field(json_object_get(root, "access_log"), NULL, &c->access_log, err, errlen)) <
            0 ||
        (rc = dup_field(json_object_get(root, "catalog"),
                        aitag_default_catalog_path(def_catalog, sizeof def_catalog), &c->catalog,
                        err, errlen)) < 0 ||
        (rc = dup_field(json_object_get(root, "tmp_dir"), "/tmp", &c->tmp_dir, err, errlen)) < 0)
        goto out;
    v = json_object_get(root, "rules");
    if (v && (!json_is_string(v) || !*json_string_value(v))) {
        rc = bad(err, errlen, "expected a file name for", "rules");
        goto out;
    }
    if ((rc = dup_field(v, NULL, &c->rules, err, errlen)) < 0)
        goto out;
    if (c->rules && access(c->rules, R_OK) != 0) {
        snprintf(err, errlen, "gateway config: rules: cannot read %s: %s", c->rules,
                 strerror(errno));
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    v = json_object_get(root, "context");
    if (v && (!json_is_string(v) || !*json_string_value(v))) {
        rc = bad(err, errlen, "expected a file name for", "context");
        goto out;
    }
    if ((rc = dup_field(v, NULL, &c->context, err, errlen)) < 0)
        goto out;
    if (c->context && access(c->context, R_OK) != 0) {
        snprintf(err, errlen, "gateway config: context: cannot read %s: %s", c->context,
                 strerror(errno));
        rc = AITAG_ERR_INVALID;
        goto out;
    }
    br = json_object_get(root, "breaker");
    if (br && !json_is_object(br)) {
        rc = bad(err, errlen, "expected an object for", "breaker");
        goto out;
    }
    if ((rc = get_int(root, "port", 8080, 0, &c->port, err, errlen)) < 0 ||
        (rc = get_int(root, "max_body_bytes", 16 << 20, 1, &body, err, errlen)) < 0 ||
        (rc = get_int(root, "workers", 8, 1, &c->workers, err, errlen)) < 0 ||
        (rc = get_int(root, "stream_buffer_bytes", 256 << 10, 4096, &sbuf, err, errlen)) < 0 ||
        (rc = get_int(root, "event_loops", default_loops(), 1, &c->event_loops, err, errlen)) < 0 ||
        (rc = get_int(root, "retries", 1, 0, &c->retries, err, errlen)) < 0 ||
        (rc = get_int(root, "backoff_ms", 50, 0, &c->backoff_ms, err, errlen)) < 0 ||
        (rc = get_int(br, "failures", 3, 1, &c->breaker_failures, err, errlen)) < 0 ||
        (rc = get_int(br, "cooldown_ms", 10000, 1, &c->breaker_cooldown_ms, err, errlen)) < 0 ||
        (rc = get_int(root, "tag_threads", 1, 1, &c->tag_threads, err, errlen)) < 0 ||
        (rc = get_int(root, "tag_queue", 16, 1, &c->tag_queue, err, errlen)) < 0)
        goto out;
    v = json_object_get(root, "max_megapixels");
    c->max_megapixels = v ? json_number_value(v) : 64.0;
    if (v && (!json_is_number(v) || !(c->max_megapixels >= 0.01 && c->max_megapixels <= 1000))) {
        rc = bad(err, errlen, "expected a number from 0.01 to 1000 for", "max_megapixels");
        goto out;
    }
    if (c->tag_threads > 64) {
        rc = bad(err, errlen, "expected at most 64 for", "tag_threads");
        goto out;
    }
    if (c->port > 65535) {
        rc = bad(err, errlen, "bad integer for", "port");
        goto out;
    }
    c->max_body = (size_t)body;
    if ((rc = parse_admission(root, c, err, errlen)) < 0)
        goto out;
    c->stream_buffer = (size_t)sbuf;
    {
        unsigned char a[16];
        if (inet_pton(AF_INET, c->listen, a) != 1 && inet_pton(AF_INET6, c->listen, a) != 1) {
            rc = bad(err, errlen, "listen must be an IPv4 or IPv6 address, not", c->listen);
            goto out;
        }
    }
    if ((rc = get_bool(root, "local_only", &c->local_only, err, errlen)) < 0 ||
        (rc = get_bool(root, "log_payloads", &c->log_payloads, err, errlen)) < 0 ||
        (rc = parse_cache(json_object_get(root, "cache"), c, err, errlen)) < 0)
        goto out;
    if ((rc = get_str_array(json_object_get(root, "library_roots"), "library_roots", &c->roots,
                            &c->n_roots, err, errlen)) < 0)
        goto out;
    v = json_object_get(root, "routes");
    if (!json_is_object(v) || json_object_size(v) == 0) {
        rc = bad(err, errlen, "needs a non-empty object", "routes");
        goto out;
    }
    c->routes = calloc(json_object_size(v), sizeof *c->routes);
    if (!c->routes) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    json_t *rv;
    json_object_foreach(v, k, rv)
    {
        struct aitag_gateway_route *r = &c->routes[c->n_routes++];
        json_t *bs = json_is_object(rv) ? json_object_get(rv, "backends") : NULL, *bv;
        if ((rc = dup_field(NULL, k, &r->name, err, errlen)) < 0)
            goto out;
        if (!json_is_array(bs) || json_array_size(bs) == 0 ||
            json_array_size(bs) > AITAG_GATEWAY_MAX_BACKENDS) {
            rc = bad(err, errlen, "needs 1 to 64 \"backends\": route", k);
            goto out;
        }
        r->backends = calloc(json_array_size(bs), sizeof *r->backends);
        if (!r->backends) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        json_array_foreach(bs, i, bv)
        {
            r->n_backends++;
            if ((rc = parse_backend(bv, k, i, &r->backends[i], err, errlen)) < 0)
                goto out;
            if (c->local_only && r->backends[i].kind != AITAG_BACKEND_LOCAL &&
                !aitag_url_is_loopback(r->backends[i].url)) {
                snprintf(err, errlen,
                         "gateway config: local_only: route '%s' backend '%s' url '%s' is not"
                         " on this machine",
                         k, r->backends[i].name, r->backends[i].url);
                rc = AITAG_ERR_INVALID;
                goto out;
            }
        }
    }
    v = json_object_get(root, "prices");
    if (v && !json_is_object(v)) {
        rc = bad(err, errlen, "expected an object for", "prices");
        goto out;
    }
    if (v) {
        c->prices = calloc(json_object_size(v) + 1, sizeof *c->prices);
        if (!c->prices) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        json_object_foreach(v, k, rv)
        {
            struct aitag_gateway_price *p = &c->prices[c->n_prices++];
            if ((rc = dup_field(NULL, k, &p->model, err, errlen)) < 0)
                goto out;
            if (!json_is_object(rv)) {
                rc = bad(err, errlen, "price must be an object:", k);
                goto out;
            }
            p->input_per_1m = json_number_value(json_object_get(rv, "input_per_1m"));
            p->output_per_1m = json_number_value(json_object_get(rv, "output_per_1m"));
        }
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    json_decref(root);
    aitag_gateway_config_free(c);
    return rc;
}

int aitag_gateway_config_load(const char *path, struct aitag_gateway_config **out, char *err,
                              size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    int rc;

    *out = NULL;
    if (!f) {
        snprintf(err, errlen, "gateway config: cannot open %s", path);
        return AITAG_ERR_IO;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        snprintf(err, errlen, "gateway config: cannot read %s", path);
        return AITAG_ERR_IO;
    }
    fclose(f);
    buf[n] = '\0';
    rc = aitag_gateway_config_parse(buf, out, err, errlen);
    free(buf);
    return rc;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void aitag_gateway_config_free(struct aitag_gateway_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_routes; i++) {
        struct aitag_gateway_route *r = &c->routes[i];
        for (size_t j = 0; j < r->n_backends; j++) {
            struct aitag_gateway_backend *b = &r->backends[j];
            free(b->name);
            free(b->url);
            free(b->key_env);
            free(b->model);
            free_strs(b->analyzers, b->n_analyzers);
        }
        free(r->backends);
        free(r->name);
    }
    free(c->routes);
    for (size_t i = 0; i < c->n_prices; i++)
        free(c->prices[i].model);
    free(c->prices);
    free_strs(c->roots, c->n_roots);
    free(c->listen);
    free(c->keys_db);
    free(c->access_log);
    free(c->catalog);
    free(c->rules);
    free(c->context);
    free(c->tmp_dir);
    free(c);
}

const struct aitag_gateway_route *aitag_gateway_route_find(const struct aitag_gateway_config *c,
                                                           const char *name)
{
    for (size_t i = 0; name && i < c->n_routes; i++)
        if (strcmp(c->routes[i].name, name) == 0)
            return &c->routes[i];
    return NULL;
}
