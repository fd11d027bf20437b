/*
 * test_gw_settle.c - admission and settlement against a real key file: usage values are
 * validated (negative, NaN, infinite, over the caps: refused and never stored), reservations
 * made at admission are seen by the next admission and given back at settlement, a key's
 * concurrency slots come back whatever the outcome, and the price estimate of a route is its
 * dearest backend's.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gateway/gateway_int.h"

static void test_usage_valid(void)
{
    struct aitag_gateway_config cfg;
    struct gw_req r;

    memset(&cfg, 0, sizeof cfg);
    cfg.max_usage_tokens = 1000;
    cfg.max_request_cost = 10;
    memset(&r, 0, sizeof r);
    CHECK(gw_usage_valid(&cfg, &r));
    r.prompt_tokens = 600;
    r.completion_tokens = 400;
    r.cost = 10;
    CHECK(gw_usage_valid(&cfg, &r)); /* at the caps */
    r.completion_tokens = 401;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.completion_tokens = -1;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.completion_tokens = 0;
    r.prompt_tokens = -100000000;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.prompt_tokens = 0;
    r.cost = -1e8;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.cost = NAN;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.cost = INFINITY;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.cost = 10.5;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.cost = 0;
    r.media_seconds = -3;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.media_seconds = NAN;
    CHECK(!gw_usage_valid(&cfg, &r));
    r.media_seconds = 0;
    r.frames = -1;
    CHECK(!gw_usage_valid(&cfg, &r));
}

static void test_route_price(void)
{
    struct aitag_gateway_backend bs[2] = {{0}, {0}};
    struct aitag_gateway_route rt = {"chat", bs, 2};
    struct aitag_gateway_price prices[2] = {{"cheap", 1, 2}, {"dear", 5, 1}};
    struct aitag_gateway_config cfg;
    double in, out;

    memset(&cfg, 0, sizeof cfg);
    bs[0].model = "cheap";
    bs[1].model = "dear";
    cfg.routes = &rt;
    cfg.n_routes = 1;
    cfg.prices = prices;
    cfg.n_prices = 2;
    gw_route_price(&cfg, "chat", &in, &out);
    CHECK_NEAR(in, 5, 1e-12);
    CHECK_NEAR(out, 2, 1e-12);
    gw_route_price(&cfg, "nope", &in, &out);
    CHECK_NEAR(in + out, 0, 1e-12);
}

/* A fresh request of the test's key: as gw_on_request starts one. */
static void req_reset(struct gw_req *r, struct aitag_gateway *gw, const char *auth)
{
    free(r->resp);
    free(r->resp_ctype);
    memset(r, 0, sizeof *r);
    r->gw = gw;
    r->auth = (char *)auth;
    r->key_id = -1;
    r->key.id = -1;
    snprintf(r->id, sizeof r->id, "req-test");
}

static double spent(struct aitag_gateway *gw, struct gw_worker_ctx *w, long long id)
{
    char start[16];

    gw_budget_period("month", (long long)time(NULL), start);
    return gw_usage_spent(gw->usage, w->spent_st, id, start);
}

static void test_reserve_settle(void)
{
    char dir[] = "/tmp/aitag-gws-XXXXXX", db[300], err[256], cmd[400], key[64], auth[80];
    struct aitag_gateway_key_params kp = {"k", NULL, 0, 0, 3.0, "month", 2};
    struct aitag_gateway_backend be = {0};
    struct aitag_gateway_route rt = {"chat", &be, 1};
    struct aitag_gateway_price price = {"up", 100000, 200000}; /* 0.1 / 0.2 USD a token */
    struct aitag_gateway_config cfg;
    struct aitag_gateway gw;
    struct gw_worker_ctx w = {0};
    struct gw_req a, b, c;
    long long id;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/keys.db", dir);
    memset(&cfg, 0, sizeof cfg);
    memset(&gw, 0, sizeof gw);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    be.model = "up";
    cfg.keys_db = db;
    cfg.routes = &rt;
    cfg.n_routes = 1;
    cfg.prices = &price;
    cfg.n_prices = 1;
    cfg.max_usage_tokens = 1000000;
    cfg.max_request_cost = 100;
    gw.cfg = &cfg;
    pthread_mutex_init(&gw.key_mu, NULL);
    CHECK_EQ_INT(aitag_gateway_key_create(db, &kp, key, &id, err, sizeof err), 0);
    CHECK_EQ_INT(gw_keys_open(db, &w.db, err, sizeof err), 0);
    CHECK_EQ_INT(gw_admit_open(&gw, err, sizeof err), 0);
    CHECK_EQ_INT(gw_usage_open(db, 0, &gw.usage, err, sizeof err), 0);
    snprintf(auth, sizeof auth, "Bearer %s", key);

    /* Two in flight at once, each reserving 10 completion tokens = 2 USD of a 3 USD budget:
     * the first is admitted (0 < 3), the second too (2 < 3), a third at once is refused by
     * the key's own concurrency of 2 before its budget is looked at. */
    req_reset(&a, &gw, auth);
    a.est_completion = 10;
    CHECK_EQ_INT(gw_admit_key(&gw, &a), 0);
    CHECK_EQ_INT(gw_auth(&gw, &a, &w, "chat"), 0);
    CHECK_NEAR(a.res_cost, 2.0, 1e-9);
    req_reset(&b, &gw, auth);
    b.est_completion = 10;
    CHECK_EQ_INT(gw_admit_key(&gw, &b), 0);
    CHECK_EQ_INT(gw_auth(&gw, &b, &w, "chat"), 0);
    req_reset(&c, &gw, auth);
    CHECK_EQ_INT(gw_admit_key(&gw, &c), -1);
    CHECK_EQ_INT(c.status, 429);
    CHECK(c.resp && strstr(c.resp, "concurrency_limit_exceeded"));
    gw_settle(&gw, &c);
    /* a answers with negative usage: refused, nothing stored, its reservation and slot back */
    a.status = 200;
    a.prompt_tokens = -1000000;
    a.cost = -1e5;
    gw_settle(&gw, &a);
    CHECK_NEAR(spent(&gw, &w, id), 0, 1e-9);
    /* b still holds 2 USD: a new request sees 0 + 2 < 3 and is admitted, reserving 2 more */
    req_reset(&a, &gw, auth);
    a.est_completion = 10;
    CHECK_EQ_INT(gw_admit_key(&gw, &a), 0);
    CHECK_EQ_INT(gw_auth(&gw, &a, &w, "chat"), 0);
    /* b fails upstream (502): nothing charged, its 2 USD given back */
    b.status = 502;
    b.cost = 1;
    gw_settle(&gw, &b);
    CHECK_NEAR(spent(&gw, &w, id), 0, 1e-9);
    /* a is answered, 2.5 USD: spent 2.5, nothing reserved; the next (2.5 < 3) is admitted */
    a.status = 200;
    a.cost = 2.5;
    gw_settle(&gw, &a);
    CHECK_NEAR(spent(&gw, &w, id), 2.5, 1e-9);
    req_reset(&b, &gw, auth);
    b.est_completion = 10;
    CHECK_EQ_INT(gw_admit_key(&gw, &b), 0);
    CHECK_EQ_INT(gw_auth(&gw, &b, &w, "chat"), 0);
    /* ... and with its 2 USD reserved, one more is over the budget */
    req_reset(&c, &gw, auth);
    CHECK_EQ_INT(gw_admit_key(&gw, &c), 0);
    CHECK_EQ_INT(gw_auth(&gw, &c, &w, "chat"), -1);
    CHECK(c.resp && strstr(c.resp, "budget_exceeded"));
    gw_settle(&gw, &c);
    gw_settle(&gw, &b); /* the client left before an answer: status 0 */
    pthread_mutex_lock(&gw.key_mu);
    CHECK_EQ_INT(gw_key_state(&gw, id)->active, 0);
    CHECK_NEAR(gw_key_state(&gw, id)->reserved_cost, 0, 1e-9);
    pthread_mutex_unlock(&gw.key_mu);

    free(a.resp);
    free(a.resp_ctype);
    free(b.resp);
    free(b.resp_ctype);
    free(c.resp);
    free(c.resp_ctype);
    gw_usage_close(gw.usage);
    gw_keys_worker_release(&w);
    gw_admit_close(&gw);
    sqlite3_close(w.db);
    free(gw.keys);
    pthread_mutex_destroy(&gw.key_mu);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    test_usage_valid();
    test_route_price();
    test_reserve_settle();
    return check_done();
}
