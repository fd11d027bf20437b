/*
 * settle.c - the end of a request's accounting, once, whatever became of it.
 *
 * Admission reserves: a concurrency slot and the body bytes at header time (admit.c), an
 * estimate of the cost against the key's budget and of the tokens against its tokens-per-
 * minute bucket on the worker (keys.c), so that requests in flight at once see each other's
 * reservations and cannot together overspend by more than one estimate. gw_settle runs when
 * the request's last holder lets go of it (gw_on_completed, or the worker when the client left
 * first), and gives every reservation back; a 2xx answer's usage is then recorded and its
 * tokens charged, but only when the values are sane: negative, non-finite, or over the
 * configured caps (max_usage_tokens, max_request_cost) is an upstream lying or broken, so the
 * values are logged and dropped, never summed into a key's spend.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "gateway_int.h"

void gw_route_price(const struct aitag_gateway_config *cfg, const char *route, double *in,
                    double *out)
{
    const struct aitag_gateway_route *rt = aitag_gateway_route_find(cfg, route);

    *in = *out = 0;
    for (size_t b = 0; rt && b < rt->n_backends; b++) {
        const char *model = rt->backends[b].model ? rt->backends[b].model : rt->name;
        for (size_t i = 0; i < cfg->n_prices; i++) {
            if (strcmp(cfg->prices[i].model, model) != 0)
                continue;
            *in = fmax(*in, cfg->prices[i].input_per_1m);
            *out = fmax(*out, cfg->prices[i].output_per_1m);
        }
    }
}

int gw_usage_valid(const struct aitag_gateway_config *cfg, const struct gw_req *r)
{
    long cap = cfg->max_usage_tokens;

    return r->prompt_tokens >= 0 && r->completion_tokens >= 0 && r->prompt_tokens <= cap &&
           r->completion_tokens <= cap - r->prompt_tokens && isfinite(r->cost) && r->cost >= 0 &&
           r->cost <= cfg->max_request_cost && isfinite(r->media_seconds) &&
           r->media_seconds >= 0 && r->frames >= 0;
}

void gw_settle(struct aitag_gateway *gw, struct gw_req *r)
{
    int record = r->key_id >= 0 && r->status >= 200 && r->status < 300 && gw->usage;
    struct gw_key_state *ks;

    if (record && !gw_usage_valid(gw->cfg, r)) {
        aitag_log(AITAG_LOG_WARN, "gateway",
                  "event=usage_refused request=%s key_id=%lld route=%s prompt_tokens=%ld"
                  " completion_tokens=%ld cost=%g media_seconds=%g",
                  r->id, r->key_id, r->route, r->prompt_tokens, r->completion_tokens, r->cost,
                  r->media_seconds);
        record = 0;
    }
    /* Spend first, then the reservation goes: a budget check in between sees one of them. */
    if (record)
        gw_usage_add(gw->usage, r);
    if (r->slot || r->res_cost > 0 || r->res_tokens > 0 || record) {
        double now = aitag_now();
        pthread_mutex_lock(&gw->key_mu);
        if ((ks = gw_key_state(gw, r->key.id >= 0 ? r->key.id : r->key_id))) {
            if (r->slot && ks->active > 0)
                ks->active--;
            ks->reserved_cost = fmax(0.0, ks->reserved_cost - r->res_cost);
            if (r->res_tokens > 0 && ks->tpm_limit > 0) {
                gw_tpm_admit(&ks->tpm, ks->tpm_limit, now); /* refill up to now */
                ks->tpm.tokens =
                    fmin((double)ks->tpm_limit, ks->tpm.tokens + (double)r->res_tokens);
            }
            if (record)
                gw_tpm_charge(&ks->tpm, ks->tpm_limit, r->prompt_tokens + r->completion_tokens,
                              now);
        }
        pthread_mutex_unlock(&gw->key_mu);
    }
    r->slot = 0;
    r->res_cost = 0;
    r->res_tokens = 0;
    if (r->held)
        __atomic_sub_fetch(&gw->held_bytes, r->held, __ATOMIC_RELAXED);
    r->held = 0;
    free(r->key.routes);
    r->key.routes = NULL;
}
