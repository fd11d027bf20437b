/*
 * proxy.c - routing to upstreams: backend order, failover, retries, circuit breakers, streams.
 *
 * A route's backends are tried by priority, weighted at random within a priority, skipping
 * those whose breaker is open or that are at their concurrency limit. A connect error, a
 * timeout, a 5xx, a 429 or a 2xx that is not JSON moves on to the next backend; after a full
 * pass the whole order is retried (config "retries") after a jittered exponential backoff.
 * Client errors (other 4xx) are passed through: another backend would say the same.
 * A stream is committed to the client at its first 2xx byte; from then on there is no failover
 * (bytes already sent cannot be taken back), and chunks are forwarded as they arrive.
 * Local backends serve only /v1/tag (tag.c): here they are skipped, never counted as failures.
 * Each worker keeps one curl easy handle (reset between calls, its connection cache kept), so
 * keep-alive connections to upstreams are reused instead of one new TCP connection per call.
 * What counts as a usable 2xx answer depends on the endpoint (the apis table). A JSON body is
 * sent as the client's bytes, with only the top-level "model" value spliced to the backend's
 * (no parse-and-serialise per call); a multipart one is rebuilt from its parts, "model"
 * replaced the same way; anything else (raw bytes) goes as it came.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aitag/common.h"
#include "gateway_int.h"

int gw_breaker_allow(struct gw_breaker *b, double now, double cooldown)
{
    if (b->state == BREAKER_CLOSED)
        return 1;
    if (b->state == BREAKER_OPEN && now - b->opened_at >= cooldown) {
        b->state = BREAKER_HALF_OPEN;
        b->probing = 1; /* this caller is the one probe */
        return 1;
    }
    return 0;
}

void gw_breaker_result(struct gw_breaker *b, int ok, int threshold, double now)
{
    if (ok) {
        b->state = BREAKER_CLOSED;
        b->failures = 0;
        b->probing = 0;
        return;
    }
    b->failures++;
    if (b->state == BREAKER_HALF_OPEN || b->failures >= threshold) {
        b->state = BREAKER_OPEN;
        b->opened_at = now;
        b->probing = 0;
    }
}

static int breaker_peek(const struct gw_breaker *b, double now, double cooldown)
{
    return b->state == BREAKER_CLOSED ||
           (b->state == BREAKER_OPEN && now - b->opened_at >= cooldown);
}

size_t gw_pick_order(struct aitag_gateway *gw, size_t route_idx, size_t *order, double now)
{
    const struct aitag_gateway_route *rt = &gw->cfg->routes[route_idx];
    struct gw_backend *bs = gw->backends[route_idx];
    double cool = gw->cfg->breaker_cooldown_ms / 1000.0;
    size_t n = 0, done = 0;

    pthread_mutex_lock(&gw->mu);
    for (size_t i = 0; i < rt->n_backends && i < AITAG_GATEWAY_MAX_BACKENDS; i++)
        if (breaker_peek(&bs[i].br, now, cool))
            order[n++] = i;
    /* Sort by priority (stable insertion sort; routes are short). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && bs[order[j]].cfg->priority < bs[order[j - 1]].cfg->priority;
             j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    /* Within each priority, weighted sampling without replacement. */
    while (done < n) {
        size_t end = done;
        while (end < n && bs[order[end]].cfg->priority == bs[order[done]].cfg->priority)
            end++;
        for (size_t k = done; k + 1 < end; k++) {
            long total = 0, pick;
            for (size_t j = k; j < end; j++)
                total += bs[order[j]].cfg->weight;
            if (total <= 0)
                break;
            pick = (long)(rand_r(&gw->rng) % (unsigned long)total);
            for (size_t j = k; j < end; j++) {
                pick -= bs[order[j]].cfg->weight;
                if (pick < 0) {
                    size_t t = order[k];
                    order[k] = order[j];
                    order[j] = t;
                    break;
                }
            }
        }
        done = end;
    }
    pthread_mutex_unlock(&gw->mu);
    return n;
}

struct call {
    struct gw_req *r;
    CURL *h;
    int stream, committed, client_gone;
    char *buf, *line;
    size_t len, cap, line_len, line_cap;
    json_t *usage; /* the last "usage" object seen in a stream */
};

/* Streams carry usage in a final "data: {...}" event; keep the last one seen. Lines are
 * collected up to 64 KiB (longer ones are no usage event and are cut). */
static void scan_usage(struct call *c, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;

        if (c->line_len + k <= 65536)
            aitag_buf_append(&c->line, &c->line_len, &c->line_cap, p, k, 0);
        if (!nl)
            return;
        p += k + 1;
        n -= k + 1;
        if (c->line_len > 6 && strncmp(c->line, "data: ", 6) == 0) {
            if (strstr(c->line, "\"usage\"")) {
                json_t *o = json_loads(c->line + 6, 0, NULL), *u = json_object_get(o, "usage");
                if (json_is_object(u)) {
                    json_decref(c->usage);
                    c->usage = json_incref(u);
                }
                json_decref(o);
            }
        }
        c->line_len = 0;
    }
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    struct call *c = ud;
    size_t n = sz * nm;
    long code = 0;

    if (c->stream && !c->committed) {
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300) {
            char *ct = NULL;
            curl_easy_getinfo(c->h, CURLINFO_CONTENT_TYPE, &ct);
            gw_stream_begin(c->r, (int)code, ct ? ct : "text/event-stream");
            c->committed = 1;
        }
    }
    if (c->committed) {
        scan_usage(c, p, n);
        if (gw_stream_write(c->r, p, n) < 0) {
            c->client_gone = 1; /* abort the upstream call; not the backend's fault */
            return 0;
        }
        return n;
    }
    /* Answers over 64 MiB, or no memory: 0 makes curl fail the call. */
    return aitag_buf_append(&c->buf, &c->len, &c->cap, p, n, 64u << 20) < 0 ? 0 : n;
}

static double price_of(const struct aitag_gateway_config *cfg, const char *model, long in, long out)
{
    for (size_t i = 0; model && i < cfg->n_prices; i++)
        if (strcmp(cfg->prices[i].model, model) == 0)
            return (double)in * cfg->prices[i].input_per_1m / 1e6 +
                   (double)out * cfg->prices[i].output_per_1m / 1e6;
    return 0;
}

static void note_usage(struct aitag_gateway *gw, struct gw_req *r, json_t *usage, const char *model)
{
    if (!json_is_object(usage))
        return;
    r->prompt_tokens = (long)json_integer_value(json_object_get(usage, "prompt_tokens"));
    r->completion_tokens = (long)json_integer_value(json_object_get(usage, "completion_tokens"));
    if (model)
        snprintf(r->model, sizeof r->model, "%s", model);
    r->cost = price_of(gw->cfg, r->model, r->prompt_tokens, r->completion_tokens);
}

/* Per upstream endpoint: what a 2xx answer must be, and what the client gets. */
struct api {
    const char *path;
    const char *need; /* a 2xx must be a JSON object, with this member when not "" */
    int pass_ctype;   /* answer with the upstream's Content-Type (text formats) */
};

static const struct api apis[] = {
    {"/chat/completions", "", 0},
    {"/embeddings", "data", 0},
    {"/audio/transcriptions", NULL, 1},
};

static const struct api *api_of(const char *path)
{
    static const struct api other = {NULL, NULL, 0}; /* e.g. /tag to another gateway */

    for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++)
        if (strcmp(apis[i].path, path) == 0)
            return &apis[i];
    return &other;
}

/* A 2xx body the endpoint cannot use (not JSON, or without its key member). */
static int malformed(const struct api *api, json_t *o)
{
    return api->need && (!json_is_object(o) || (api->need[0] && !json_object_get(o, api->need)));
}

/* JSON scanning over bytes already known to be one valid JSON object (jansson parsed them):
 * the end of the string or value starting at p. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < end ? p + 1 : end;
}

static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && !strchr(",}] \t\r\n", *p))
            p++;
        return p;
    }
    while (p < end) {
        if (*p == '"') {
            p = skip_string(p, end);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return end;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

char *gw_splice_model(const char *body, size_t len, const char *model, size_t *out_len)
{
    const char *p = body, *end = body + len, *vs = NULL, *ve = NULL;
    size_t ml = strlen(model), n = 0;
    char *out, *q;

    p = skip_ws(p, end);
    if (p == end || *p++ != '{')
        return NULL;
    for (;;) {
        const char *k;
        int is_model;
        p = skip_ws(p, end);
        if (p < end && *p == '}')
            break;
        if (p == end || *p != '"')
            return NULL;
        k = p;
        p = skip_string(p, end);
        is_model = p - k == 7 && memcmp(k, "\"model\"", 7) == 0;
        if (memchr(k, '\\', (size_t)(p - k)))
            return NULL;
        p = skip_ws(p, end);
        if (p == end || *p++ != ':')
            return NULL;
        p = skip_ws(p, end);
        if (p == end)
            return NULL;
        if (is_model) {
            if (vs || *p != '"')
                return NULL;
            vs = p;
            ve = skip_value(p, end);
            p = ve;
        } else {
            p = skip_value(p, end);
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}')
            break;
        return NULL;
    }
    if (!vs)
        return NULL;
    for (size_t i = 0; i < ml; i++)
        n += (unsigned char)model[i] < 0x20 ? 6 : model[i] == '"' || model[i] == '\\' ? 2 : 1;
    if (!(out = malloc((size_t)(vs - body) + n + 2 + (size_t)(end - ve) + 1)))
        return NULL;
    memcpy(out, body, (size_t)(vs - body));
    q = out + (vs - body);
    *q++ = '"';
    for (size_t i = 0; i < ml; i++) {
        unsigned char c = (unsigned char)model[i];
        if (c < 0x20) {
            snprintf(q, 7, "\\u%04x", c);
            q += 6;
        } else {
            if (c == '"' || c == '\\')
                *q++ = '\\';
            *q++ = (char)c;
        }
    }
    *q++ = '"';
    memcpy(q, ve, (size_t)(end - ve));
    q += end - ve;
    *q = '\0';
    *out_len = (size_t)(q - out);
    return out;
}

/* One attempt. Returns 1 when r has its answer (success or a pass-through client error),
 * 0 to fail over; *reason names the failure. */
static int try_backend(struct aitag_gateway *gw, struct gw_req *r,
                       const struct aitag_gateway_backend *b, const char *path, json_t *body,
                       int stream, struct gw_worker_ctx *w, const char **reason)
{
    const struct api *api = api_of(path);
    struct call c = {.r = r, .stream = stream};
    struct curl_slist *hdr = NULL;
    curl_mime *mime = NULL;
    char url[2048], auth[1024], rid[80], *payload = NULL, *ct = NULL;
    size_t payload_len = 0;
    const char *key = b->key_env ? getenv(b->key_env) : NULL;
    CURLcode cc;
    long code = 0;
    int done = 0;

    *reason = "error";
    if (aitag_curl_global_init() < 0)
        goto out;
    if (w && !w->curl)
        w->curl = curl_easy_init();
    c.h = w ? w->curl : curl_easy_init();
    if (!c.h)
        goto out;
    curl_easy_reset(c.h); /* keeps the connection cache */
    snprintf(url, sizeof url, "%s%s%s", b->url, b->kind == AITAG_BACKEND_GATEWAY ? "/v1" : "",
             path);
    if (!body && r->n_parts > 0) { /* multipart: the parts again, with the backend's model */
        if (!(mime = gw_multipart_mime(c.h, r, b->model)))
            goto out;
    } else if (body) {
        /* The client's bytes as they came, or with only "model" replaced; the parsed object
         * is serialised again only when the bytes cannot be spliced. */
        const char *cur = json_string_value(json_object_get(body, "model"));
        int rewrite = b->model && (!cur || strcmp(cur, b->model) != 0);
        if (rewrite && r->body)
            payload = gw_splice_model(r->body, r->body_len, b->model, &payload_len);
        if (!payload && (rewrite || !r->body)) {
            /* body is left as it came: the next backend starts from the client's model */
            json_t *orig = json_incref(json_object_get(body, "model"));
            if (rewrite)
                json_object_set_new(body, "model", json_string(b->model));
            payload = json_dumps(body, JSON_COMPACT);
            if (rewrite && orig)
                json_object_set(body, "model", orig);
            else if (rewrite)
                json_object_del(body, "model");
            json_decref(orig);
            if (!payload)
                goto out;
            payload_len = strlen(payload);
        }
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
    } else {
        char cth[300];
        snprintf(cth, sizeof cth, "Content-Type: %s",
                 r->ctype ? r->ctype : "application/octet-stream");
        hdr = curl_slist_append(hdr, cth);
    }
    if (key && *key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        hdr = curl_slist_append(hdr, auth);
    }
    snprintf(rid, sizeof rid, "X-Request-Id: %s", r->id);
    hdr = curl_slist_append(hdr, rid);
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(c.h, CURLOPT_URL, url);
    curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, hdr);
    if (mime) {
        curl_easy_setopt(c.h, CURLOPT_MIMEPOST, mime);
    } else {
        curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, payload ? payload : (r->body ? r->body : ""));
        curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE, (long)(payload ? payload_len : r->body_len));
    }
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, (long)b->timeout_ms);
    curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(b->timeout_ms < 5000 ? b->timeout_ms : 5000));
    curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = curl_easy_perform(c.h);
    curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &code);
    if (c.committed) {
        /* Already streaming: whatever happened, this is the answer. */
        if (cc != CURLE_OK && !c.client_gone)
            *reason = "stream_broken";
        note_usage(gw, r, c.usage, b->model ? b->model : r->route);
        done = cc == CURLE_OK || c.client_gone ? 1 : -1;
        goto out;
    }
    if (cc != CURLE_OK) {
        *reason = cc == CURLE_OPERATION_TIMEDOUT ? "timeout"
                  : cc == CURLE_COULDNT_CONNECT  ? "connect"
                                                 : "network";
        goto out;
    }
    if (code >= 500 || code == 429) {
        *reason = code == 429 ? "429" : "5xx";
        goto out;
    }
    if (code >= 200 && code < 300) {
        json_t *o = json_loadb(c.buf ? c.buf : "", c.len, 0, NULL);
        if (malformed(api, o)) {
            json_decref(o);
            *reason = "malformed";
            goto out;
        }
        note_usage(gw, r, json_object_get(o, "usage"),
                   json_string_value(json_object_get(o, "model")));
        json_decref(o);
    }
    if (api->pass_ctype)
        curl_easy_getinfo(c.h, CURLINFO_CONTENT_TYPE, &ct);
    gw_reply(r, (int)code, ct ? ct : "application/json", c.buf ? c.buf : "", c.len);
    done = 1;
out:
    if (!w)
        curl_easy_cleanup(c.h);
    curl_mime_free(mime);
    curl_slist_free_all(hdr);
    free(payload);
    free(c.buf);
    free(c.line);
    json_decref(c.usage);
    return done;
}

void gw_worker_ctx_release(struct gw_worker_ctx *w)
{
    curl_easy_cleanup(w->curl);
    w->curl = NULL;
}

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
}

void gw_proxy(struct aitag_gateway *gw, struct gw_req *r, size_t route_idx, const char *path,
              json_t *body, int stream, struct gw_worker_ctx *w)
{
    const struct aitag_gateway_route *rt = &gw->cfg->routes[route_idx];
    struct gw_backend *bs = gw->backends[route_idx];
    size_t order[AITAG_GATEWAY_MAX_BACKENDS];
    const char *last = "no_backend";
    double cool = gw->cfg->breaker_cooldown_ms / 1000.0;
    size_t n_remote = 0;

    snprintf(r->route, sizeof r->route, "%s", rt->name);
    for (size_t i = 0; i < rt->n_backends; i++)
        n_remote += rt->backends[i].kind != AITAG_BACKEND_LOCAL;
    if (n_remote == 0) {
        gw_error(r, 501, "invalid_request_error", "unsupported",
                 "route '%s' has only local backends, which do not serve /v1%s", rt->name, path);
        return;
    }
    for (int pass = 0; pass <= gw->cfg->retries; pass++) {
        size_t n;
        if (pass > 0) {
            double base = gw->cfg->backoff_ms * (double)(1 << (pass - 1 < 6 ? pass - 1 : 6));
            unsigned jitter;
            pthread_mutex_lock(&gw->mu);
            jitter = (unsigned)rand_r(&gw->rng) % 1000;
            pthread_mutex_unlock(&gw->mu);
            sleep_ms(base * (0.5 + jitter / 1000.0));
        }
        n = gw_pick_order(gw, route_idx, order, aitag_now());
        for (size_t k = 0; k < n; k++) {
            struct gw_backend *be = &bs[order[k]];
            const char *reason;
            int ok, allowed;

            if (be->cfg->kind == AITAG_BACKEND_LOCAL)
                continue; /* unsupported here: neither a failure nor an upstream error */
            if (!aitag_url_is_loopback(be->cfg->url) && gw_req_local_only(gw, r)) {
                last = strcmp(last, "no_backend") == 0 ? "local_only" : last;
                continue; /* X-Aitag-Local-Only: this request stays on this machine */
            }
            pthread_mutex_lock(&gw->mu);
            allowed = (!be->cfg->max_concurrency || be->inflight < be->cfg->max_concurrency) &&
                      gw_breaker_allow(&be->br, aitag_now(), cool);
            if (allowed)
                be->inflight++;
            pthread_mutex_unlock(&gw->mu);
            if (!allowed)
                continue;
            snprintf(r->backend, sizeof r->backend, "%s", be->cfg->name);
            ok = try_backend(gw, r, be->cfg, path, body, stream, w, &reason);
            pthread_mutex_lock(&gw->mu);
            be->inflight--;
            gw_breaker_result(&be->br, ok == 1, gw->cfg->breaker_failures, aitag_now());
            pthread_mutex_unlock(&gw->mu);
            if (ok != 1) {
                gw_metrics_upstream_error(gw->metrics, be->cfg->name, reason);
                aitag_log(AITAG_LOG_WARN, "gateway",
                          "event=upstream_error request=%s backend=%s reason=%s", r->id,
                          be->cfg->name, reason);
                last = reason;
            }
            if (ok != 0)
                return;
        }
    }
    r->backend[0] = '\0';
    if (strcmp(last, "local_only") == 0)
        gw_error(r, 503, "upstream_error", "local_only",
                 "no backend of route '%s' is on this machine (X-Aitag-Local-Only)", rt->name);
    else if (strcmp(last, "no_backend") == 0)
        gw_error(r, 503, "upstream_error", "no_backend", "no backend of route '%s' is available",
                 rt->name);
    else
        gw_error(r, 502, "upstream_error", "upstream_failed",
                 "every backend of route '%s' failed (last: %s)", rt->name, last);
}

void gw_handle_embeddings(struct aitag_gateway *gw, struct gw_req *r, struct gw_worker_ctx *w)
{
    json_t *body = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    const char *model = json_string_value(json_object_get(body, "model"));
    json_t *input = json_object_get(body, "input");
    const struct aitag_gateway_route *route = aitag_gateway_route_find(gw->cfg, model);

    if (!json_is_object(body))
        gw_error(r, 400, "invalid_request_error", "invalid_json", "body is not a JSON object");
    else if (!model)
        gw_error(r, 400, "invalid_request_error", "missing_model", "\"model\" is required");
    else if (!json_is_string(input) && !json_is_array(input))
        gw_error(r, 400, "invalid_request_error", "invalid_input",
                 "\"input\" is required: a string or an array");
    else if (!route)
        gw_error(r, 404, "invalid_request_error", "model_not_found",
                 "the model '%s' does not exist", model);
    else if (gw_auth(gw, r, w, route->name) == 0) {
        char ck[65] = ""; /* embeddings are deterministic: always cacheable */
        gw_cache_key(gw, route->name, "/embeddings", body, ck);
        snprintf(r->route, sizeof r->route, "%s", route->name);
        if (!gw_cache_get(gw, ck, r)) {
            gw_proxy(gw, r, (size_t)(route - gw->cfg->routes), "/embeddings", body, 0, w);
            gw_cache_put(gw, ck, r);
        }
    }
    json_decref(body);
    if (r->key_id >= 0 && r->status == 200)
        gw_usage_record(w, r);
}
