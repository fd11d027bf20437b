/*
 * test_gateway.c - the gateway's pure parts: config parsing, the circuit breaker, the token
 * bucket, route permissions, path containment under library roots, backend order, metrics.
 * The HTTP behaviour is covered end to end by tests/integration/gateway.sh.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void test_roots(void)
{
    char dir[] = "/tmp/aitag-gw-XXXXXX", lib[64], out[64], file[128], real[4096], p[4200];
    char *roots[1];

    CHECK(mkdtemp(dir) != NULL);
    snprintf(lib, sizeof lib, "%s/lib", dir);
    snprintf(out, sizeof out, "%s/lib-other", dir);
    mkdir(lib, 0755);
    mkdir(out, 0755);
    snprintf(file, sizeof file, "%s/a.jpg", lib);
    fclose(fopen(file, "w"));
    snprintf(p, sizeof p, "%s/b.jpg", out);
    fclose(fopen(p, "w"));
    roots[0] = lib;
    CHECK_EQ_INT(gw_resolve_under_roots(file, roots, 1, real, sizeof real), 0);
    CHECK_STR(real, file);
    snprintf(p, sizeof p, "%s/../lib/./a.jpg", lib);
    CHECK_EQ_INT(gw_resolve_under_roots(p, roots, 1, real, sizeof real), 0);
    snprintf(p, sizeof p, "%s/../lib-other/b.jpg", lib); /* a sibling sharing the prefix */
    CHECK_EQ_INT(gw_resolve_under_roots(p, roots, 1, real, sizeof real), AITAG_ERR_INVALID);
    snprintf(p, sizeof p, "%s/link.jpg", lib);
    snprintf(real, sizeof real, "%s/b.jpg", out);
    CHECK_EQ_INT(symlink(real, p), 0);
    CHECK_EQ_INT(gw_resolve_under_roots(p, roots, 1, real, sizeof real), AITAG_ERR_INVALID);
    CHECK_EQ_INT(gw_resolve_under_roots("/etc/passwd", roots, 1, real, sizeof real),
                 AITAG_ERR_INVALID);
    snprintf(p, sizeof p, "%s/none.jpg", lib);
    CHECK_EQ_INT(gw_resolve_under_roots(p, roots, 1, real, sizeof real), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(gw_resolve_under_roots("", roots, 1, real, sizeof real), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(gw_resolve_under_roots(file, roots, 0, real, sizeof real), AITAG_ERR_INVALID);
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(p), 0);
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
    CHECK_EQ_INT(aitag_gateway_key_create(db, "a", "chat", 10, key, &id, err, sizeof err), 0);
    CHECK_EQ_INT(aitag_gateway_key_create(db, NULL, NULL, 0, key2, &id2, err, sizeof err), 0);
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
    CHECK(aitag_gateway_key_create("/nonexistent/dir/k.db", NULL, NULL, 0, key, &id, err,
                                   sizeof err) < 0);
    CHECK_STR(key, "");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    test_config();
    test_error_shape();
    test_breaker();
    test_bucket();
    test_routes_allowed();
    test_roots();
    test_pick_order();
    test_metrics();
    test_keys();
    return check_done();
}
