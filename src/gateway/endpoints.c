/*
 * endpoints.c - the gateway's one list of endpoints, and the small handlers that have no
 * other home (health, metrics, models, chat).
 *
 * Dispatch (server.c), the 405 answers, the worker's handle() and the metrics labels all read
 * the table below, so a URL is written once. Metrics labels come from this table (or from a
 * configured route name), never from the request's URL: a scan of random URLs adds one
 * "not_found" series, not one per URL.
 */
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "gateway_int.h"

static void handle_healthz(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    (void)gw;
    (void)w;
    gw_reply(r, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

static void handle_metrics(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    char *text = gw_metrics_render(gw->metrics);

    (void)w;
    if (text)
        gw_reply(r, 200, "text/plain; version=0.0.4", text, strlen(text));
    else
        gw_error(r, 500, "server_error", NULL, "out of memory");
    free(text);
}

/* The routes the request's key may use (all of them without keys). */
static void handle_models(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    json_t *data = json_array();

    if (gw_auth(gw, r, w, NULL) < 0) {
        json_decref(data);
        return;
    }
    for (size_t i = 0; i < gw->cfg->n_routes; i++) {
        const char *name = gw->cfg->routes[i].name;
        if (gw->cfg->keys_db && !gw_route_allowed(r->key.routes, name))
            continue;
        json_array_append_new(data, json_pack("{s:s, s:s, s:i, s:s}", "id", name, "object", "model",
                                              "created", 0, "owned_by", "aitag"));
    }
    gw_reply_json(r, 200, json_pack("{s:s, s:o}", "object", "list", "data", data));
}

/* The completion tokens a chat may cost: its max_tokens (or max_completion_tokens), else the
 * configured reservation. */
static long completion_estimate(struct aitag_gateway *gw, json_t *body)
{
    json_t *m = json_object_get(body, "max_completion_tokens");

    if (!json_is_integer(m))
        m = json_object_get(body, "max_tokens");
    if (json_is_integer(m) && json_integer_value(m) >= 0 &&
        json_integer_value(m) <= gw->cfg->max_usage_tokens)
        return (long)json_integer_value(m);
    return gw->cfg->reserve_completion_tokens;
}

static void handle_chat(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    json_error_t je;
    json_t *body = r->body ? json_loadb(r->body, r->body_len, 0, &je) : NULL;
    const char *model = json_string_value(json_object_get(body, "model"));
    const struct aitag_gateway_route *route = aitag_gateway_route_find(gw->cfg, model);

    if (!json_is_object(body)) {
        gw_error(r, 400, "invalid_request_error", "invalid_json", "body is not a JSON object");
    } else if (!model) {
        gw_error(r, 400, "invalid_request_error", "missing_model", "\"model\" is required");
    } else if (!route) { /* the key was checked at header time: no route names leak */
        gw_error(r, 404, "invalid_request_error", "model_not_found",
                 "the model '%s' does not exist", model);
    } else {
        r->est_completion = completion_estimate(gw, body);
        if (gw_auth(gw, r, w, route->name) == 0) {
            /* The key was checked first: a cached answer is only for whoever may ask. */
            char ck[65] = "";
            if (gw_chat_deterministic(body))
                gw_cache_key(gw, route->name, "/chat/completions", body, ck);
            snprintf(r->route, sizeof r->route, "%s", route->name);
            if (!gw_cache_get(gw, ck, r)) {
                gw_proxy(gw, r, (size_t)(route - gw->cfg->routes), "/chat/completions", body,
                         json_is_true(json_object_get(body, "stream")), w);
                gw_cache_put(gw, ck, r);
            }
        }
    }
    json_decref(body); /* usage is recorded once, by gw_settle */
}

static const struct gw_endpoint endpoints[] = {
    /* method, path, auth, on_worker, metered, handler, label */
    {"GET", "/healthz", 0, GW_RUN_HTTP, 0, handle_healthz, "/healthz"},
    {"GET", "/metrics", 0, GW_RUN_HTTP, 0, handle_metrics, "/metrics"},
    {"GET", "/v1/models", 1, GW_RUN_LOOP, 0, handle_models, "/v1/models"},
    {"POST", "/v1/chat/completions", 1, GW_RUN_LOOP, 1, handle_chat, "/v1/chat/completions"},
    {"POST", "/v1/embeddings", 1, GW_RUN_LOOP, 1, gw_handle_embeddings, "/v1/embeddings"},
    {"POST", "/v1/audio/transcriptions", 1, GW_RUN_LOOP, 0, gw_handle_transcriptions,
     "/v1/audio/transcriptions"},
    {"POST", "/v1/tag", 1, GW_RUN_WORKER, 0, gw_handle_tag, "/v1/tag"},
};

const struct gw_endpoint *gw_endpoint_find(const char *url)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        if (strcmp(endpoints[i].path, url) == 0)
            return &endpoints[i];
    return NULL;
}

const char *gw_endpoint_label(const struct gw_req *r)
{
    if (r->route[0])
        return r->route; /* a configured route's name */
    return r->ep ? r->ep->label : "not_found";
}
