/*
 * test_gateway.c - the gateway's pure parts: config parsing, the circuit breaker, the token
 * buckets (requests and tokens per minute), budget periods, route permissions, backend
 * order, metrics, the response cache, payload
 * redaction, loopback URLs, key store migration and limits.
 * The HTTP behaviour is covered end to end by tests/integration/gateway.sh.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gateway/gateway_int.h"

static struct aitag_gateway_config *parse(const char *text, char *err)
{
    struct aitag_gateway_config *c = NULL;
    err[0] = '\0';
    aitag_gateway_config_parse(text, &c, err, 256);
    return c;
}

static void test_config(void)
{
    char err[256];
    struct aitag_gateway_config *c = parse(
        "{\"port\": 0, \"library_roots\": [\"/media\"], \"breaker\": {\"failures\": 5},"
        " \"prices\": {\"m\": {\"input_per_1m\": 1.5, \"output_per_1m\": 3}},"
        " \"routes\": {\"chat\": {\"backends\": [{\"kind\": \"openai\", \"url\": \"http://x/v1\","
        " \"weight\": 3, \"key_env\": \"K\"}, {\"kind\": \"gateway\", \"url\": \"https://y\","
        " \"priority\": 1, \"max_concurrency\": 4}]},"
        " \"tag\": {\"backends\": [{\"kind\": \"local\", \"analyzers\": [\"faces\", \"text\"]}]}}}",
        err);
    const struct aitag_gateway_route *r;

    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_STR(c->listen, "127.0.0.1");
    CHECK_EQ_INT(c->port, 0);
    CHECK_EQ_INT(c->max_body, 16 << 20);
    CHECK_EQ_INT(c->breaker_failures, 5);
    CHECK_EQ_INT(c->breaker_cooldown_ms, 10000);
    CHECK_EQ_INT(c->n_roots, 1);
    CHECK_EQ_INT(c->n_routes, 2);
    CHECK_EQ_INT(c->n_prices, 1);
    CHECK_NEAR(c->prices[0].output_per_1m, 3, 1e-9);
    r = aitag_gateway_route_find(c, "chat");
    CHECK(r && r->n_backends == 2);
    if (r && r->n_backends == 2) {
        CHECK_STR(r->backends[0].name, "chat#0");
        CHECK_EQ_INT(r->backends[0].weight, 3);
        CHECK_EQ_INT(r->backends[0].timeout_ms, 30000);
        CHECK_EQ_INT(r->backends[1].kind, AITAG_BACKEND_GATEWAY);
        CHECK_EQ_INT(r->backends[1].max_concurrency, 4);
    }
    r = aitag_gateway_route_find(c, "tag");
    CHECK(r && r->backends[0].n_analyzers == 2);
    CHECK(aitag_gateway_route_find(c, "nope") == NULL);
    aitag_gateway_config_free(c);

    CHECK(parse("{\"routes\": {}}", err) == NULL);
    CHECK(strstr(err, "routes") != NULL);
    CHECK(parse("{\"rotues\": {}}", err) == NULL);
    CHECK(strstr(err, "rotues") != NULL);
    CHECK(parse("{\"routes\": {\"a\": {\"backends\": [{\"kind\": \"magic\"}]}}}", err) == NULL);
    CHECK(strstr(err, "magic") != NULL);
    CHECK(parse("{\"routes\": {\"a\": {\"backends\": [{\"kind\": \"openai\"}]}}}", err) == NULL);
    CHECK(parse("{\"routes\": {\"a\": {\"backends\": [{\"kind\": \"openai\", \"url\": "
                "\"file:///etc/passwd\"}]}}}",
                err) == NULL);
    CHECK(parse("{\"routes\": {\"a\": {\"backends\": [{\"kind\": \"local\"}]}}}", err) == NULL);
    CHECK(parse("{\"port\": 70000, \"routes\": {\"a\": {\"backends\": [{\"kind\": \"local\","
                " \"analyzers\": [\"faces\"]}]}}}",
                err) == NULL);
    CHECK(parse("{\"workers\": \"8\", \"routes\": {}}", err) == NULL);
    CHECK(parse("[1, 2]", err) == NULL);
    CHECK(parse("{not json", err) == NULL);
    CHECK(strstr(err, "line 1") != NULL);
    {
        /* A route is capped at AITAG_GATEWAY_MAX_BACKENDS backends. */
        char big[8192];
        size_t n = (size_t)snprintf(big, sizeof big, "{\"routes\": {\"r\": {\"backends\": [");
        for (int i = 0; i < 65; i++)
            n += (size_t)snprintf(big + n, sizeof big - n,
                                  "%s{\"kind\": \"openai\", \"url\": \"http://a\"}", i ? ", " : "");
        snprintf(big + n, sizeof big - n, "]}}}");
        CHECK(parse(big, err) == NULL);
    }
    aitag_gateway_config_free(NULL);
}

static void test_error_shape(void)
{
    struct gw_req r;
    json_t *o;

    memset(&r, 0, sizeof r);
    gw_error(&r, 401, "invalid_request_error", NULL, "no key %d", 7);
    CHECK_EQ_INT(r.status, 401);
    CHECK_STR(r.resp_ctype, "application/json");
    o = json_loads(r.resp, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "error"), "message")),
              "no key 7");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "error"), "type")),
              "invalid_request_error");
    CHECK(json_is_null(json_object_get(json_object_get(o, "error"), "code")));
    json_decref(o);
    gw_error(&r, 403, "permission_error", "route_not_allowed", "x");
    o = json_loads(r.resp, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "error"), "code")),
              "route_not_allowed");
    json_decref(o);
    free(r.resp);
    free(r.resp_ctype);
}

static void test_breaker(void)
{
    struct gw_breaker b = {0};

    CHECK(gw_breaker_allow(&b, 0, 10));
    gw_breaker_result(&b, 0, 3, 1);
    gw_breaker_result(&b, 0, 3, 2);
    CHECK_EQ_INT(b.state, BREAKER_CLOSED);
    gw_breaker_result(&b, 1, 3, 3); /* a success resets the count */
    gw_breaker_result(&b, 0, 3, 4);
    gw_breaker_result(&b, 0, 3, 5);
    CHECK_EQ_INT(b.state, BREAKER_CLOSED);
    gw_breaker_result(&b, 0, 3, 6);
    CHECK_EQ_INT(b.state, BREAKER_OPEN);
    CHECK(!gw_breaker_allow(&b, 10, 10));
    CHECK(gw_breaker_allow(&b, 16, 10)); /* cool-down over: one probe */
    CHECK_EQ_INT(b.state, BREAKER_HALF_OPEN);
    CHECK(!gw_breaker_allow(&b, 16.5, 10)); /* only one probe at a time */
    gw_breaker_result(&b, 0, 3, 17);        /* the probe failed: open again */
    CHECK_EQ_INT(b.state, BREAKER_OPEN);
    CHECK(!gw_breaker_allow(&b, 20, 10));
    CHECK(gw_breaker_allow(&b, 27, 10));
    gw_breaker_result(&b, 1, 3, 27);
    CHECK_EQ_INT(b.state, BREAKER_CLOSED);
    CHECK_EQ_INT(b.failures, 0);
}

static void test_bucket(void)
{
    struct gw_bucket b = {0};

    CHECK_EQ_INT(gw_bucket_take(&b, 0, 100), 0); /* unlimited */
    CHECK_EQ_INT(gw_bucket_take(&b, 2, 100), 0);
    CHECK_EQ_INT(gw_bucket_take(&b, 2, 100), 0);
    CHECK_EQ_INT(gw_bucket_take(&b, 2, 100), 30); /* 2/min: one token every 30 s */
    CHECK_EQ_INT(gw_bucket_take(&b, 2, 115), 15);
    CHECK_EQ_INT(gw_bucket_take(&b, 2, 130), 0);
    CHECK(gw_bucket_take(&b, 2, 130) > 0);
    CHECK_EQ_INT(gw_bucket_take(&b, 2, 1000), 0); /* refills to capacity, no more */
    CHECK_EQ_INT(gw_bucket_take(&b, 2, 1000), 0);
    CHECK(gw_bucket_take(&b, 2, 1000) > 0);
}

static void test_routes_allowed(void)
{
    CHECK(gw_route_allowed(NULL, "chat"));
    CHECK(gw_route_allowed("", "chat"));
    CHECK(gw_route_allowed("chat,tag", "tag"));
    CHECK(gw_route_allowed("chat,tag", "chat"));
    CHECK(!gw_route_allowed("chat,tag", "cha"));
    CHECK(!gw_route_allowed("chatty", "chat"));
    CHECK(gw_route_allowed("chat", NULL));
}

static void test_pick_order(void)
{
    char err[256];
    struct aitag_gateway_config *c =
        parse("{\"routes\": {\"r\": {\"backends\": ["
              "{\"kind\": \"openai\", \"url\": \"http://a\", \"weight\": 3},"
              "{\"kind\": \"openai\", \"url\": \"http://b\", \"weight\": 1},"
              "{\"kind\": \"openai\", \"url\": \"http://c\", \"priority\": 1}]}}}",
              err);
    struct gw_backend bs[3];
    struct gw_backend *routes[1] = {bs};
    struct aitag_gateway gw;
    size_t order[3], first_a = 0, bad = 0, n;

    CHECK(c != NULL);
    if (!c)
        return;
    memset(&gw, 0, sizeof gw);
    memset(bs, 0, sizeof bs);
    for (int i = 0; i < 3; i++)
        bs[i].cfg = &c->routes[0].backends[i];
    gw.cfg = c;
    gw.backends = routes;
    gw.rng = 42;
    pthread_mutex_init(&gw.mu, NULL);
    for (int i = 0; i < 4000; i++) {
        n = gw_pick_order(&gw, 0, order, 0);
        bad += n != 3 || order[2] != 2; /* priority 1 always last */
        first_a += order[0] == 0;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_NEAR((double)first_a / 4000, 0.75, 0.04); /* weights 3:1 */
    bs[0].br.state = BREAKER_OPEN;
    bs[0].br.opened_at = 0;
    n = gw_pick_order(&gw, 0, order, 1);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(order[0], 1);
    n = gw_pick_order(&gw, 0, order, 20); /* cool-down (10 s) over: tried again */
    CHECK_EQ_INT(n, 3);
    pthread_mutex_destroy(&gw.mu);
    aitag_gateway_config_free(c);
}

static void test_metrics(void)
{
    struct gw_metrics *m = gw_metrics_new();
    char *text;

    gw_metrics_request(m, "chat", 200, 0.003);
    gw_metrics_request(m, "chat", 200, 0.2);
    gw_metrics_request(m, "chat", 502, 40);
    gw_metrics_request(m, "we\"ird", 404, 0.001);
    gw_metrics_upstream_error(m, "a", "timeout");
    text = gw_metrics_render(m);
    CHECK(text != NULL);
    if (text) {
        CHECK(strstr(text, "aitag_gateway_requests_total{route=\"chat\",status=\"200\"} 2\n"));
        CHECK(strstr(text, "aitag_gateway_requests_total{route=\"chat\",status=\"502\"} 1\n"));
        CHECK(strstr(text, "route=\"we\\\"ird\""));
        CHECK(strstr(
            text,
            "aitag_gateway_request_duration_seconds_bucket{route=\"chat\",le=\"0.005\"} 1\n"));
        CHECK(strstr(
            text, "aitag_gateway_request_duration_seconds_bucket{route=\"chat\",le=\"0.25\"} 2\n"));
        CHECK(strstr(
            text, "aitag_gateway_request_duration_seconds_bucket{route=\"chat\",le=\"+Inf\"} 3\n"));
        CHECK(strstr(text, "aitag_gateway_request_duration_seconds_count{route=\"chat\"} 3\n"));
        CHECK(strstr(text,
                     "aitag_gateway_upstream_errors_total{backend=\"a\",reason=\"timeout\"} 1\n"));
        CHECK(strstr(text, "# TYPE aitag_gateway_request_duration_seconds histogram\n"));
    }
    free(text);
    gw_metrics_free(m);
}

static void test_keys(void)
{
    char dir[] = "/tmp/aitag-gwk-XXXXXX", db[300], key[64], key2[64], err[256], cmd[400];
    long long id = 0, id2 = 0;
    json_t *rows = NULL;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/keys.db", dir);
    struct aitag_gateway_key_params kp = {"a", "chat", 10, 0, 0, NULL, 0}, none = {0};
    CHECK_EQ_INT(aitag_gateway_key_create(db, &kp, key, &id, err, sizeof err), 0);
    CHECK_EQ_INT(aitag_gateway_key_create(db, &none, key2, &id2, err, sizeof err), 0);
    CHECK_EQ_INT(strlen(key), 44);
    CHECK(strncmp(key, "agk_", 4) == 0);
    CHECK(strcmp(key, key2) != 0);
    CHECK_EQ_INT(id2, id + 1);
    CHECK_EQ_INT(aitag_gateway_keys_list(db, &rows, err, sizeof err), 0);
    CHECK_EQ_INT(json_array_size(rows), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(rows, 0), "routes")), "chat");
    CHECK(json_is_null(json_object_get(json_array_get(rows, 1), "routes")));
    CHECK(json_object_get(json_array_get(rows, 0), "hash") == NULL); /* never listed */
    json_decref(rows);
    CHECK_EQ_INT(aitag_gateway_key_revoke(db, id, err, sizeof err), 0);
    CHECK_EQ_INT(aitag_gateway_key_revoke(db, id, err, sizeof err), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(aitag_gateway_key_revoke(db, 999, err, sizeof err), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(aitag_gateway_usage_list(db, &rows, err, sizeof err), 0);
    CHECK_EQ_INT(json_array_size(rows), 0);
    json_decref(rows);
    CHECK(aitag_gateway_key_create("/nonexistent/dir/k.db", &none, key, &id, err, sizeof err) < 0);
    CHECK_STR(key, "");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void test_tpm_bucket(void)
{
    struct gw_tpm_bucket b = {0};

    CHECK_EQ_INT(gw_tpm_admit(&b, 0, 100), 0); /* unlimited */
    gw_tpm_charge(&b, 0, 1000000, 100);
    CHECK_EQ_INT(gw_tpm_admit(&b, 600, 100), 0); /* 600/min: 10 tokens a second */
    gw_tpm_charge(&b, 600, 500, 100);
    CHECK_NEAR(b.tokens, 100, 1e-9);
    CHECK_EQ_INT(gw_tpm_admit(&b, 600, 100), 0); /* still positive: admitted */
    gw_tpm_charge(&b, 600, 300, 100);            /* charged afterwards: may go negative */
    CHECK_NEAR(b.tokens, -200, 1e-9);
    CHECK_EQ_INT(gw_tpm_admit(&b, 600, 100), 21); /* -200 + 10/s > 0 after 20 s */
    CHECK_EQ_INT(gw_tpm_admit(&b, 600, 115), 6);
    CHECK_EQ_INT(gw_tpm_admit(&b, 600, 120.5), 0);
    CHECK_EQ_INT(gw_tpm_admit(&b, 600, 10000), 0); /* refills to capacity, no more */
    CHECK_NEAR(b.tokens, 600, 1e-9);
    gw_tpm_charge(&b, 600, 600, 10000);
    CHECK_EQ_INT(gw_tpm_admit(&b, 600, 10000), 1); /* exactly empty is not positive */
    gw_tpm_charge(&b, 600, -5, 10000);             /* nonsense counts are ignored */
    CHECK_NEAR(b.tokens, 0, 1e-9);
}

static long long utc(int y, int mo, int d, int h, int mi, int sec)
{
    struct tm tm = {0};

    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (long long)timegm(&tm);
}

static void test_budget_period(void)
{
    char start[16];

    CHECK_EQ_INT(gw_budget_period("day", utc(2026, 3, 14, 23, 59, 0), start), 60);
    CHECK_STR(start, "2026-03-14");
    CHECK_EQ_INT(gw_budget_period("day", utc(2026, 3, 14, 0, 0, 0), start), 86400);
    CHECK_EQ_INT(gw_budget_period("month", utc(2026, 3, 14, 12, 0, 0), start),
                 utc(2026, 4, 1, 0, 0, 0) - utc(2026, 3, 14, 12, 0, 0));
    CHECK_STR(start, "2026-03-01");
    CHECK_EQ_INT(gw_budget_period("month", utc(2026, 12, 31, 23, 0, 0), start), 3600);
    CHECK_STR(start, "2026-12-01");
    CHECK_EQ_INT(gw_budget_period("month", utc(2028, 2, 29, 0, 0, 0), start), 86400);
    CHECK_STR(start, "2028-02-01");
    CHECK_EQ_INT(gw_budget_period(NULL, utc(2026, 2, 1, 0, 0, 0), start), 28 * 86400);
    CHECK_STR(start, "2026-02-01");
}

static const char key_a[] = "aaaa000000000000000000000000000000000000000000000000000000000000";
static const char key_b[] = "bbbb000000000000000000000000000000000000000000000000000000000000";
static const char key_c[] = "cccc000000000000000000000000000000000000000000000000000000000000";
/* The same slot as key_a (slot = first three hex digits): chains must keep them apart. */
static const char key_a2[] = "aaa1000000000000000000000000000000000000000000000000000000000000";

static int hit(struct gw_cache *c, const char *key, double now, const char *want)
{
    char *body;
    size_t len;
    int status = 0, ok = gw_cache_lookup(c, key, now, &status, &body, &len);

    ok = ok && status == 200 && len == strlen(want) && memcmp(body, want, len) == 0;
    free(body);
    return ok;
}

static void test_cache(void)
{
    struct gw_cache *c = gw_cache_new(100, 60, 300);
    char big[80];

    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(!hit(c, key_a, 0, "x"));
    CHECK_EQ_INT(gw_cache_store(c, key_a, 200, "0123456789012345678901234567890123456789", 40, 1),
                 0);
    CHECK_EQ_INT(gw_cache_store(c, key_a2, 200, "a2", 2, 1), 0);
    CHECK(hit(c, key_a, 2, "0123456789012345678901234567890123456789"));
    CHECK(hit(c, key_a2, 2, "a2"));
    CHECK_EQ_INT(gw_cache_store(c, key_b, 200, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 40, 3),
                 0);
    CHECK_EQ_INT(gw_cache_bytes(c), 82);
    /* LRU: a and a2 were used after b was stored? No: b is newer; touch a so that a2 is the
     * least recently used, then b; 30 more bytes evict a2 (2) and b (40). */
    CHECK(hit(c, key_a, 4, "0123456789012345678901234567890123456789"));
    CHECK(hit(c, key_b, 5, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"));
    CHECK(hit(c, key_a, 6, "0123456789012345678901234567890123456789"));
    CHECK_EQ_INT(gw_cache_store(c, key_c, 200, "cccccccccccccccccccccccccccccc", 30, 7), 2);
    CHECK(!hit(c, key_a2, 8, "a2"));
    CHECK(!hit(c, key_b, 8, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"));
    CHECK(hit(c, key_a, 8, "0123456789012345678901234567890123456789"));
    CHECK(hit(c, key_c, 8, "cccccccccccccccccccccccccccccc"));
    CHECK_EQ_INT(gw_cache_bytes(c), 70);
    /* Too big for one entry: not stored, nothing evicted. */
    memset(big, 'x', sizeof big);
    CHECK_EQ_INT(gw_cache_store(c, key_b, 200, big, 61, 9), -1);
    CHECK_EQ_INT(gw_cache_bytes(c), 70);
    /* The same key again replaces the entry. */
    CHECK_EQ_INT(gw_cache_store(c, key_c, 200, "new", 3, 10), 0);
    CHECK(hit(c, key_c, 11, "new"));
    CHECK_EQ_INT(gw_cache_bytes(c), 43);
    /* TTL (300 s): a stored at 1 expires at 301; c (stored at 10) lives until 310. */
    CHECK(hit(c, key_a, 300.5, "0123456789012345678901234567890123456789"));
    CHECK(!hit(c, key_a, 301, "0123456789012345678901234567890123456789"));
    CHECK_EQ_INT(gw_cache_bytes(c), 3);
    CHECK(hit(c, key_c, 309, "new"));
    /* Expired entries at the tail make room without counting as evictions. */
    CHECK_EQ_INT(gw_cache_store(c, key_a, 200, big, 60, 400), 0);
    CHECK(!hit(c, key_c, 401, "new"));
    CHECK(!hit(c, "short", 401, "x"));
    CHECK_EQ_INT(gw_cache_store(c, "short", 200, "x", 1, 401), -1);
    gw_cache_free(c);
    gw_cache_free(NULL);
}

static void test_deterministic(void)
{
    json_t *o = json_loads("{\"model\": \"m\", \"temperature\": 0}", 0, NULL);

    CHECK(gw_chat_deterministic(o));
    json_object_set_new(o, "temperature", json_real(0.0));
    CHECK(gw_chat_deterministic(o));
    json_object_set_new(o, "stream", json_true());
    CHECK(!gw_chat_deterministic(o)); /* streams are never cached */
    json_object_set_new(o, "stream", json_false());
    CHECK(gw_chat_deterministic(o));
    json_object_set_new(o, "temperature", json_real(0.7));
    CHECK(!gw_chat_deterministic(o));
    json_object_del(o, "temperature");
    CHECK(!gw_chat_deterministic(o)); /* absent means the upstream's default, not 0 */
    json_object_set_new(o, "temperature", json_string("0"));
    CHECK(!gw_chat_deterministic(o));
    json_decref(o);
}

static void test_cache_key(void)
{
    struct aitag_gateway gw;
    char h1[65], h2[65], h3[65], h4[65];
    json_t *a = json_loads("{\"model\": \"m\", \"temperature\": 0, \"messages\": [1, 2]}", 0, NULL);
    json_t *b = json_loads("{\"messages\":[1,2],\"temperature\":0,  \"model\":\"m\"}", 0, NULL);
    json_t *c = json_loads("{\"messages\":[2,1],\"temperature\":0,\"model\":\"m\"}", 0, NULL);

    memset(&gw, 0, sizeof gw);
    CHECK_EQ_INT(gw_cache_key(&gw, "chat", "/chat/completions", a, h1), -1); /* no cache */
    gw.cache = gw_cache_new(1000, 1000, 10);
    CHECK_EQ_INT(gw_cache_key(&gw, "chat", "/chat/completions", a, h1), 0);
    CHECK_EQ_INT(strlen(h1), 64);
    gw_cache_key(&gw, "chat", "/chat/completions", b, h2);
    CHECK_STR(h1, h2); /* key order and spacing do not matter */
    gw_cache_key(&gw, "chat", "/chat/completions", c, h3);
    CHECK(strcmp(h1, h3) != 0);
    gw_cache_key(&gw, "chat2", "/chat/completions", a, h3);
    CHECK(strcmp(h1, h3) != 0); /* another route */
    gw_cache_key(&gw, "chat", "/embeddings", a, h4);
    CHECK(strcmp(h1, h4) != 0); /* another endpoint */
    gw_cache_free(gw.cache);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static char *redact(const char *in)
{
    json_t *v = gw_redact_payload(in, strlen(in), 4096);
    char *s = v ? strdup(json_string_value(v)) : NULL;

    json_decref(v);
    return s;
}

static void test_redact(void)
{
    char *s, *big;
    json_t *o;

    s = redact("{\"model\": \"m\", \"api_key\": \"sk-123\", \"X-Authorization\": \"Bearer abc\","
               " \"nested\": {\"Password\": \"hunter2\", \"client_secret\": 42,"
               " \"access_token\": \"t0k\"}, \"max_tokens\": 7}");
    CHECK(s && !strstr(s, "sk-123") && !strstr(s, "hunter2") && !strstr(s, "abc") &&
          !strstr(s, "t0k"));
    o = s ? json_loads(s, 0, NULL) : NULL;
    CHECK_STR(json_string_value(json_object_get(o, "api_key")), "[redacted 6 bytes]");
    CHECK_STR(json_string_value(json_object_get(o, "model")), "m");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "nested"), "Password")),
              "[redacted 7 bytes]");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "nested"), "client_secret")),
              "[redacted 2 bytes]");
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "max_tokens")), 7); /* a count stays */
    json_decref(o);
    free(s);

    s = redact("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\":"
               " \"what is this?\"}, {\"type\": \"image_url\", \"image_url\": {\"url\":"
               " \"data:image/png;base64,iVBORw0KGgo=\"}}]}], \"image_base64\": \"/9j/4AAQ\","
               " \"list\": [\"data:text/plain,hi\", \"https://example.com/a.png\"]}");
    o = s ? json_loads(s, 0, NULL) : NULL;
    CHECK(s && !strstr(s, "iVBOR") && !strstr(s, "/9j/") && strstr(s, "what is this?"));
    CHECK_STR(
        json_string_value(json_object_get(
            json_object_get(
                json_array_get(
                    json_object_get(json_array_get(json_object_get(o, "messages"), 0), "content"),
                    1),
                "image_url"),
            "url")),
        "[redacted 34 bytes]");
    CHECK_STR(json_string_value(json_object_get(o, "image_base64")), "[redacted 8 bytes]");
    CHECK_STR(json_string_value(json_array_get(json_object_get(o, "list"), 0)),
              "[redacted 18 bytes]");
    CHECK_STR(json_string_value(json_array_get(json_object_get(o, "list"), 1)),
              "https://example.com/a.png");
    json_decref(o);
    free(s);

    s = redact("\xff\xd8\xff\xe0 not json");
    CHECK_STR(s, "[binary 13 bytes]");
    free(s);
    {
        json_t *v = gw_redact_payload("", 0, 4096);
        CHECK_STR(json_string_value(v), "[binary 0 bytes]");
        json_decref(v);
    }
    /* Long bodies are cut, on a character boundary (the log line must stay valid UTF-8). */
    big = malloc(20000);
    if (big) {
        size_t n = (size_t)snprintf(big, 20000, "{\"text\": \"");
        for (int i = 0; i < 3000; i++)
            n += (size_t)snprintf(big + n, 20000 - n, "\xc3\xa9"); /* é, 2 bytes */
        snprintf(big + n, 20000 - n, "\"}");
        s = redact(big);
        CHECK(s && strlen(s) < 4096 + 48 && strstr(s, "more bytes]"));
        CHECK(s && strncmp(s, "{\"text\":\"\xc3\xa9", 11) == 0);
        free(s);
        free(big);
    }
}

static void test_loopback(void)
{
    CHECK(aitag_url_is_loopback("http://127.0.0.1:8080/v1"));
    CHECK(aitag_url_is_loopback("http://127.3.4.5/v1"));
    CHECK(aitag_url_is_loopback("http://localhost:11434/v1"));
    CHECK(aitag_url_is_loopback("https://LOCALHOST"));
    CHECK(aitag_url_is_loopback("http://[::1]:8089"));
    CHECK(aitag_url_is_loopback("http://user:pw@127.0.0.1/v1"));
    CHECK(!aitag_url_is_loopback("https://api.openai.com/v1"));
    CHECK(!aitag_url_is_loopback("http://128.0.0.1/v1"));
    CHECK(!aitag_url_is_loopback("http://[::2]:80"));
    CHECK(!aitag_url_is_loopback("http://localhost.evil.com/v1"));
    CHECK(!aitag_url_is_loopback("http://127.0.0.1@evil.com/v1")); /* userinfo, then the host */
    CHECK(!aitag_url_is_loopback("http://127.0.0.1.nip.io/v1"));
    CHECK(!aitag_url_is_loopback("no scheme"));
    CHECK(!aitag_url_is_loopback(NULL));
}

static void test_config_limits(void)
{
    char err[256];
    struct aitag_gateway_config *c;

    c = parse("{\"listen\": \"::1\", \"log_payloads\": true, \"local_only\": true,"
              " \"cache\": {\"ttl_s\": 60, \"max_bytes\": 1000},"
              " \"routes\": {\"r\": {\"backends\": [{\"kind\": \"openai\","
              " \"url\": \"http://localhost:1/v1\"}]}}}",
              err);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(c->listen, "::1");
        CHECK(c->log_payloads && c->local_only);
        CHECK_EQ_INT(c->cache_ttl_s, 60);
        CHECK_EQ_INT(c->cache_max_bytes, 1000);
        CHECK_EQ_INT(c->cache_max_entry, 1 << 20);
        aitag_gateway_config_free(c);
    }
    c = parse("{\"routes\": {\"r\": {\"backends\": [{\"kind\": \"local\","
              " \"analyzers\": [\"faces\"]}]}}}",
              err);
    CHECK(c && !c->log_payloads && !c->local_only && c->cache_max_bytes == 0);
    aitag_gateway_config_free(c);
    CHECK(parse("{\"local_only\": true, \"routes\": {\"chat\": {\"backends\": [{\"name\": "
                "\"cloud\", \"kind\": \"openai\", \"url\": \"https://api.openai.com/v1\"}]}}}",
                err) == NULL);
    CHECK(strstr(err, "'chat'") && strstr(err, "'cloud'") && strstr(err, "api.openai.com"));
    CHECK(parse("{\"listen\": \"localhost\", \"routes\": {\"r\": {\"backends\": [{\"kind\":"
                " \"local\", \"analyzers\": [\"faces\"]}]}}}",
                err) == NULL);
    CHECK(strstr(err, "listen") != NULL);
    CHECK(parse("{\"log_payloads\": 1, \"routes\": {}}", err) == NULL);
    CHECK(strstr(err, "log_payloads") != NULL);
    CHECK(parse("{\"cache\": {\"ttl\": 5}, \"routes\": {\"r\": {\"backends\": [{\"kind\":"
                " \"local\", \"analyzers\": [\"faces\"]}]}}}",
                err) == NULL);
    CHECK(strstr(err, "ttl") != NULL);
    CHECK(parse("{\"cache\": {\"max_bytes\": -1}, \"routes\": {\"r\": {\"backends\": [{\"kind\":"
                " \"local\", \"analyzers\": [\"faces\"]}]}}}",
                err) == NULL);
    CHECK(strstr(err, "max_bytes") != NULL);
}

/* A key file from before tpm/budget existed gains the columns; limits then work on it. */
static void test_keys_migration(void)
{
    char dir[] = "/tmp/aitag-gwm-XXXXXX", db[300], err[256], cmd[400], key[64];
    long long id = 0;
    sqlite3 *h = NULL;
    json_t *rows = NULL, *row;
    struct aitag_gateway_key_params kp = {"b", NULL, 0, 1000, 5.0, "day", 0};

    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/old.db", dir);
    CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_EQ_INT(
        sqlite3_exec(h,
                     "CREATE TABLE gateway_keys (id INTEGER PRIMARY KEY, hash TEXT NOT NULL"
                     " UNIQUE, prefix TEXT NOT NULL, name TEXT, routes TEXT, rpm INTEGER NOT NULL"
                     " DEFAULT 0, created INTEGER NOT NULL, revoked INTEGER);"
                     "INSERT INTO gateway_keys (hash, prefix, name, rpm, created)"
                     " VALUES ('h', 'agk_old', 'old', 5, 1);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    CHECK_EQ_INT(aitag_gateway_keys_list(db, &rows, err, sizeof err), 0);
    row = json_array_get(rows, 0);
    CHECK_STR(json_string_value(json_object_get(row, "name")), "old");
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "tpm")), 0);
    CHECK(json_is_null(json_object_get(row, "budget")));
    CHECK_STR(json_string_value(json_object_get(row, "budget_period")), "month");
    CHECK_NEAR(json_number_value(json_object_get(row, "spent")), 0, 1e-12);
    json_decref(rows);
    CHECK_EQ_INT(aitag_gateway_key_create(db, &kp, key, &id, err, sizeof err), 0);
    CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
    snprintf(cmd, sizeof cmd,
             "INSERT INTO gateway_usage (day, key_id, route, model, requests, prompt_tokens,"
             " completion_tokens, cost) VALUES (date('now'), %lld, 'chat', 'm', 2, 1, 1, 3.5),"
             " (date('now', '-1 day'), %lld, 'chat', 'm', 1, 1, 1, 100)",
             id, id);
    CHECK_EQ_INT(sqlite3_exec(h, cmd, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    CHECK_EQ_INT(aitag_gateway_keys_list(db, &rows, err, sizeof err), 0);
    row = json_array_get(rows, 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "tpm")), 1000);
    CHECK_NEAR(json_number_value(json_object_get(row, "budget")), 5.0, 1e-12);
    CHECK_STR(json_string_value(json_object_get(row, "budget_period")), "day");
    CHECK_NEAR(json_number_value(json_object_get(row, "spent")), 3.5, 1e-9); /* today only */
    json_decref(rows);
    kp.budget_period = "week";
    CHECK_EQ_INT(aitag_gateway_key_create(db, &kp, key, &id, err, sizeof err), AITAG_ERR_INVALID);
    kp.budget_period = NULL;
    kp.tpm = -1;
    CHECK_EQ_INT(aitag_gateway_key_create(db, &kp, key, &id, err, sizeof err), AITAG_ERR_INVALID);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* SELECT count(*) / SUM(requests) FROM gateway_usage through a connection of its own. */
static long long usage_query(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;

    if (sqlite3_open(db, &h) == SQLITE_OK && sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static long long usage_rows(const char *db)
{
    return usage_query(db, "SELECT count(*) FROM gateway_usage");
}

static long long usage_requests(const char *db)
{
    return usage_query(db, "SELECT COALESCE(SUM(requests), 0) FROM gateway_usage");
}

/* One request of the auth test: r's answer and admission state cleared, its key looked up
 * (as at header time), then gw_auth for route "chat"; returns gw_auth's result, or -1 when the
 * key was refused first. */
static int admit_auth(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    free(r->resp);
    free(r->resp_ctype);
    r->resp = r->resp_ctype = NULL;
    r->retry_after = r->status = 0;
    memset(&r->key, 0, sizeof r->key);
    r->key.id = -1;
    if (gw_admit_key(gw, r) < 0)
        return -1;
    return gw_auth(gw, r, w, "chat");
}

/* The request's end: a 200 answer settled (usage recorded, reservations released). */
static void settle_ok(struct aitag_gateway *gw, struct gw_req *r)
{
    r->status = 200;
    gw_settle(gw, r);
}

/* gw_auth against a real key file: budget spent -> 429 budget_exceeded until the period ends;
 * tokens per minute charged after the answer -> 429 rate_limit_exceeded. */
static void test_auth_limits(void)
{
    char dir[] = "/tmp/aitag-gwa-XXXXXX", db[300], err[256], cmd[400], key[64], auth[80];
    struct aitag_gateway_key_params kp = {NULL, NULL, 0, 0, 1.0, "day", 0};
    struct aitag_gateway_config cfg;
    struct aitag_gateway gw;
    struct gw_worker_ctx w = {0};
    struct gw_req r;
    long long id;
    char start[16];
    long left;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/keys.db", dir);
    memset(&cfg, 0, sizeof cfg);
    memset(&gw, 0, sizeof gw);
    cfg.keys_db = db;
    cfg.key_concurrency = 4;
    cfg.max_usage_tokens = 1000000;
    cfg.max_request_cost = 100;
    gw.cfg = &cfg;
    pthread_mutex_init(&gw.mu, NULL);
    pthread_mutex_init(&gw.key_mu, NULL);
    CHECK_EQ_INT(aitag_gateway_key_create(db, &kp, key, &id, err, sizeof err), 0);
    CHECK_EQ_INT(gw_keys_open(db, &w.db, err, sizeof err), 0);
    CHECK_EQ_INT(gw_admit_open(&gw, err, sizeof err), 0);
    /* No flush thread: usage stays in memory until gw_usage_flush, and budgets must count it. */
    CHECK_EQ_INT(gw_usage_open(db, 0, &gw.usage, err, sizeof err), 0);
    snprintf(auth, sizeof auth, "Bearer %s", key);
    memset(&r, 0, sizeof r);
    r.gw = &gw;
    r.auth = auth;
    r.key_id = -1;
    snprintf(r.route, sizeof r.route, "chat");
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), 0);
    r.cost = 0.6;
    settle_ok(&gw, &r);
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), 0); /* 0.6 < 1.0 */
    settle_ok(&gw, &r);
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), -1); /* 1.2 >= 1.0, none of it written yet */
    CHECK_EQ_INT(r.status, 429);
    CHECK(r.resp && strstr(r.resp, "budget_exceeded") && strstr(r.resp, "insufficient_quota"));
    left = gw_budget_period("day", (long long)time(NULL), start);
    CHECK(r.retry_after >= left - 5 && r.retry_after <= left + 5);
    gw_settle(&gw, &r);
    CHECK_EQ_INT(usage_rows(db), 0);
    CHECK_NEAR(gw_usage_spent(gw.usage, w.spent_st, r.key_id, start), 1.2, 1e-9);
    CHECK_EQ_INT(gw_usage_flush(gw.usage), 0);
    CHECK_EQ_INT(usage_rows(db), 1); /* one row, two requests */
    CHECK_EQ_INT(usage_requests(db), 2);
    CHECK_NEAR(gw_usage_spent(gw.usage, w.spent_st, r.key_id, start), 1.2, 1e-9); /* not twice */
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), -1);
    gw_settle(&gw, &r);
    /* Revoked from another connection (the CLI): the kept lookup statement sees it. */
    CHECK_EQ_INT(aitag_gateway_key_revoke(db, r.key_id, err, sizeof err), 0);
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), -1);
    CHECK_EQ_INT(r.status, 401);

    /* Tokens per minute: 20 tokens; the first answer costs 15, the second 15 (-10), then no. */
    kp.budget = 0;
    kp.tpm = 20;
    CHECK_EQ_INT(aitag_gateway_key_create(db, &kp, key, &id, err, sizeof err), 0);
    snprintf(auth, sizeof auth, "Bearer %s", key);
    r.cost = 0;
    r.prompt_tokens = 10;
    r.completion_tokens = 5;
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), 0);
    settle_ok(&gw, &r);
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), 0);
    settle_ok(&gw, &r);
    CHECK_EQ_INT(admit_auth(&gw, &r, &w), -1);
    CHECK_EQ_INT(r.status, 429);
    CHECK(r.resp && strstr(r.resp, "rate_limit_exceeded") && strstr(r.resp, "tokens"));
    CHECK(r.retry_after >= 30 && r.retry_after <= 31); /* -10 at 20/min: 30 s to 0 */
    gw_settle(&gw, &r);
    free(r.resp);
    free(r.resp_ctype);
    gw_usage_close(gw.usage); /* flushes at close */
    CHECK_EQ_INT(usage_requests(db), 4);
    gw_keys_worker_release(&w);
    gw_admit_close(&gw);
    sqlite3_close(w.db);
    free(gw.keys);
    pthread_mutex_destroy(&gw.key_mu);
    pthread_mutex_destroy(&gw.mu);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* The upstream body: the client's bytes with only the top-level "model" value replaced. */
static void test_splice_model(void)
{
    static const char *const none[] = {
        "{\"messages\": []}",                          /* no model */
        "{\"model\": \"a\", \"model\": \"b\"}",        /* twice: jansson keeps the last */
        "{\"mod\\u0065l\": \"a\"}",                   /* escaped key name */
        "{\"model\": 5}",                               /* not a string */
    };
    const char *in = " { \"messages\" : [{\"content\": \"say \\\"model\\\": x\", \"model\": \"in\"}],"
                     " \"model\"  :  \"chat\" , \"meta\": {\"model\": \"deep\"}, \"n\": [1, {\"a\": \"}\"}]} ";
    const char *want = " { \"messages\" : [{\"content\": \"say \\\"model\\\": x\", \"model\": \"in\"}],"
                       " \"model\"  :  \"up \\\"q\\\" \\\\ \\u0001\" , \"meta\": {\"model\": \"deep\"}, \"n\": [1, {\"a\": \"}\"}]} ";
    size_t n = 0;
    char *out = gw_splice_model(in, strlen(in), "up \"q\" \\ \001", &n);

    CHECK(out != NULL);
    if (out) {
        CHECK_STR(out, want);
        CHECK_EQ_INT(n, strlen(want));
        json_t *o = json_loads(out, 0, NULL);
        CHECK_STR(json_string_value(json_object_get(o, "model")), "up \"q\" \\ \001");
        json_decref(o);
    }
    free(out);
    out = gw_splice_model("{\"model\":\"x\"}", 13, "y", &n);
    CHECK(out && strcmp(out, "{\"model\":\"y\"}") == 0 && n == 13);
    free(out);
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        out = gw_splice_model(none[i], strlen(none[i]), "y", &n);
        CHECK(out == NULL);
        free(out);
    }
    {
        /* a NUL byte inside (found by fuzz_gw_json_body): Jansson parses such a body, and the
         * splice would carry the NUL into the upstream's body */
        static const char nul[] = "{\"model\": \"m\", \"o\": {\"a\": true\0}}";
        out = gw_splice_model(nul, sizeof nul - 1, "y", &n);
        CHECK(out == NULL);
        free(out);
    }
}

int main(void)
{
    test_config();
    test_error_shape();
    test_breaker();
    test_bucket();
    test_routes_allowed();
    test_pick_order();
    test_metrics();
    test_keys();
    test_tpm_bucket();
    test_budget_period();
    test_cache();
    test_deterministic();
    test_cache_key();
    test_redact();
    test_loopback();
    test_config_limits();
    test_keys_migration();
    test_auth_limits();
    test_splice_model();
    return check_done();
}
