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
 * Calls are asynchronous: gw_proxy starts the first attempt on the worker's event loop
 * (upstream.c) and returns; the loop reports the attempt's end (gw_xfer_done), which fails over,
 * schedules the next pass (gw_xfer_due/gw_xfer_retry: the backoff is a deadline, not a sleep)
 * or answers the client and resumes its connection. No thread waits on an upstream socket.
 * A stream's bytes go into the request's bounded buffer; when it is full the transfer is paused
 * (CURL_WRITEFUNC_PAUSE) until the client has read half of it.
 * Tokens and cost come from the answer's usage, validated, or are estimated (charge.c); a chat
 * stream whose client did not ask for usage asks the upstream for it (include_usage) and the
 * extra usage event is taken out of what the client sees.
 * What counts as a usable 2xx answer depends on the endpoint (the apis table). A JSON body is
 * sent as the client's bytes, with only the top-level "model" value spliced to the backend's
 * (no parse-and-serialise per call); a multipart one is rebuilt from its parts, "model"
 * replaced the same way; anything else (raw bytes) goes as it came.
 */
#include <curl/curl.h>
#include <math.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

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

    /* Jansson takes a NUL byte where the text ends (json_loadb): such a body is sent as the
     * parsed object serialised, never spliced (its bytes are not the JSON it parsed). */
    if (memchr(body, '\0', len))
        return NULL;
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

/* One proxied request: its backend order, the attempt in flight, and what came back so far.
 * Lives on one loop (the worker's) from gw_proxy until finish(). */
struct gw_xfer {
    struct aitag_gateway *gw;
    struct gw_req *r;
    struct gw_loop *loop;
    struct gw_xfer *next; /* the loop's list */
    size_t route_idx;
    const char *path;
    const struct api *api;
    json_t *body;
    int stream, inject; /* inject: ask for usage in the stream (the client did not) */
    size_t order[AITAG_GATEWAY_MAX_BACKENDS], n, k;
    int pass;
    double due; /* a retry pass waits until then; 0: not waiting */
    const char *last;
    /* the attempt in flight */
    struct gw_backend *be;
    CURL *h;
    struct curl_slist *hdr;
    curl_mime *mime;
    char *payload;
    int committed, client_gone, paused;
    char *buf, *out;
    size_t len, cap, out_len, out_cap;
    struct gw_sse sse;
};

struct gw_xfer *gw_xfer_next(const struct gw_xfer *x)
{
    return x->next;
}

double gw_xfer_due(const struct gw_xfer *x)
{
    return x->due;
}

static void stream_gone(struct gw_xfer *x)
{
    x->client_gone = 1; /* abort the upstream call; not the backend's fault */
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    struct gw_xfer *x = ud;
    size_t n = sz * nm;
    long code = 0;
    int room;

    if (x->stream && !x->committed) {
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300) {
            char *ct = NULL;
            curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
            x->r->loop = x->loop; /* before the reader runs: it wakes this loop */
            gw_stream_begin(x->r, (int)code, ct ? ct : "text/event-stream");
            x->committed = 1;
        }
    }
    if (!x->committed) /* answers over 64 MiB, or no memory: 0 makes curl fail the call */
        return aitag_buf_append(&x->buf, &x->len, &x->cap, p, n, 64u << 20) < 0 ? 0 : n;
    /* Backpressure: at the cap, curl keeps these bytes and stops reading the upstream until
     * the reader drained the buffer and woke the loop (gw_xfer_check_paused). */
    room = gw_stream_room(x->r);
    if (room == 0) {
        x->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (room < 0) {
        stream_gone(x);
        return 0;
    }
    if (x->inject) {
        x->out_len = 0;
        if (gw_sse_feed(&x->sse, p, n, &x->out, &x->out_len, &x->out_cap) < 0)
            return 0;
        if (x->out_len && gw_stream_write(x->r, x->out, x->out_len) < 0) {
            stream_gone(x);
            return 0;
        }
        return n;
    }
    if (gw_stream_write(x->r, p, n) < 0) {
        stream_gone(x);
        return 0;
    }
    return gw_sse_feed(&x->sse, p, n, NULL, NULL, NULL) < 0 ? 0 : n;
}

void gw_xfer_check_paused(struct gw_xfer *x)
{
    int go;

    if (!x->paused)
        return;
    pthread_mutex_lock(&x->r->mu);
    go = !x->r->spaused || x->r->client_gone;
    pthread_mutex_unlock(&x->r->mu);
    if (go) {
        x->paused = 0;
        curl_easy_pause(x->h, CURLPAUSE_CONT); /* may call on_write, which may pause again */
    }
}

static double price_of(const struct aitag_gateway_config *cfg, const char *model, long in, long out)
{
    for (size_t i = 0; model && i < cfg->n_prices; i++)
        if (strcmp(cfg->prices[i].model, model) == 0)
            return (double)in * cfg->prices[i].input_per_1m / 1e6 +
                   (double)out * cfg->prices[i].output_per_1m / 1e6;
    return 0;
}

/* r's tokens and cost: the upstream's usage when it is believable (charge.c), else an
 * estimate from the bytes for chat and embeddings (text_bytes: the answer's text). */
static void charge(struct gw_xfer *x, json_t *usage, size_t text_bytes, const char *model)
{
    struct gw_req *r = x->r;
    int estimable =
        strcmp(x->path, "/chat/completions") == 0 || strcmp(x->path, "/embeddings") == 0;
    long in = 0, out = 0;
    double cost;

    if (usage && gw_usage_tokens(usage, &in, &out) < 0) {
        aitag_log(AITAG_LOG_WARN, "gateway",
                  "event=usage_invalid request=%s backend=%s (negative, fractional or over %ld "
                  "tokens: not stored; estimated from the bytes)",
                  r->id, r->backend, GW_MAX_TOKENS);
        usage = NULL;
    }
    if (!usage && !estimable)
        return;
    if (!usage) {
        in = gw_tokens_of_bytes(r->body_len);
        out = gw_tokens_of_bytes(text_bytes);
    }
    if (model)
        snprintf(r->model, sizeof r->model, "%s", model);
    r->prompt_tokens = in;
    r->completion_tokens = out;
    cost = price_of(x->gw->cfg, r->model, in, out);
    r->cost = isfinite(cost) && cost >= 0 ? cost : 0;
}

/* The body for backend b: the client's bytes with only "model" spliced when they allow it,
 * and stream_options.include_usage added when x->inject. *payload NULL: r->body as it came.
 * -1 when out of memory. */
static int upstream_body(struct gw_xfer *x, const struct aitag_gateway_backend *b, char **payload,
                         size_t *len)
{
    static const char opt[] = "\"stream_options\":{\"include_usage\":true},";
    struct gw_req *r = x->r;
    json_t *body = x->body, *copy = NULL;
    const char *cur = json_string_value(json_object_get(body, "model"));
    int rewrite = b->model && (!cur || strcmp(cur, b->model) != 0);
    const char *src, *brace, *end;
    size_t slen, head;
    char *spliced = NULL;

    *payload = NULL;
    *len = r->body_len;
    if (rewrite && r->body && !x->inject)
        *payload = gw_splice_model(r->body, r->body_len, b->model, len);
    if (*payload || (!rewrite && !x->inject && r->body))
        return 0;
    if (x->inject && r->body && !json_object_get(body, "stream_options")) {
        /* the bytes again, one member added after the opening brace */
        if (rewrite)
            spliced = gw_splice_model(r->body, r->body_len, b->model, &slen);
        src = spliced ? spliced : r->body;
        slen = spliced ? slen : r->body_len;
        end = src + slen;
        brace = skip_ws(src, end);
        if ((!rewrite || spliced) && brace < end && *brace == '{' &&
            *skip_ws(brace + 1, end) != '}') {
            head = (size_t)(brace + 1 - src);
            *len = slen + sizeof opt - 1;
            if (!(*payload = malloc(*len + 1))) {
                free(spliced);
                return -1;
            }
            memcpy(*payload, src, head);
            memcpy(*payload + head, opt, sizeof opt - 1);
            memcpy(*payload + head + sizeof opt - 1, src + head, slen - head);
            (*payload)[*len] = '\0';
            free(spliced);
            return 0;
        }
        free(spliced);
    }
    /* Serialised from the parsed object (a copy: the next backend starts from the client's). */
    if (!(copy = json_deep_copy(body)))
        return -1;
    if (rewrite)
        json_object_set_new(copy, "model", json_string(b->model));
    if (x->inject) {
        json_t *so = json_object_get(copy, "stream_options");
        if (json_is_object(so))
            json_object_set_new(so, "include_usage", json_true());
        else
            json_object_set_new(copy, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    *payload = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    if (!*payload)
        return -1;
    *len = strlen(*payload);
    return 0;
}

/* Starts one attempt on backend b: 0, or -1 (nothing runs; the caller fails over). */
static int start_attempt(struct gw_xfer *x, const struct aitag_gateway_backend *b)
{
    struct gw_req *r = x->r;
    char url[2048], auth[1024], rid[80];
    size_t payload_len = 0;
    const char *key = b->key_env ? getenv(b->key_env) : NULL;
    CURL *h;

    x->committed = x->client_gone = x->paused = 0;
    x->len = 0;
    gw_sse_free(&x->sse);
    x->sse.strip = x->inject;
    if (!(h = x->h = gw_loop_easy(x->loop)))
        return -1;
    snprintf(url, sizeof url, "%s%s%s", b->url, b->kind == AITAG_BACKEND_GATEWAY ? "/v1" : "",
             x->path);
    if (!x->body && r->n_parts > 0) { /* multipart: the parts again, with the backend's model */
        if (!(x->mime = gw_multipart_mime(h, r, b->model)))
            return -1;
    } else if (x->body) {
        if (upstream_body(x, b, &x->payload, &payload_len) < 0)
            return -1;
        x->hdr = curl_slist_append(x->hdr, "Content-Type: application/json");
    } else {
        char cth[300];
        snprintf(cth, sizeof cth, "Content-Type: %s",
                 r->ctype ? r->ctype : "application/octet-stream");
        x->hdr = curl_slist_append(x->hdr, cth);
    }
    if (key && *key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        x->hdr = curl_slist_append(x->hdr, auth);
    }
    snprintf(rid, sizeof rid, "X-Request-Id: %s", r->id);
    x->hdr = curl_slist_append(x->hdr, rid);
    x->hdr = curl_slist_append(x->hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdr);
    if (x->mime) {
        curl_easy_setopt(h, CURLOPT_MIMEPOST, x->mime);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->payload ? x->payload : (r->body ? r->body : ""));
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(x->payload ? payload_len : r->body_len));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)b->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(b->timeout_ms < 5000 ? b->timeout_ms : 5000));
    return curl_multi_add_handle(x->loop->multi, h) == CURLM_OK ? 0 : -1;
}

/* Ends the attempt in flight: frees what it held and books its outcome (ok: 1 answered, 0
 * failed over, -1 a stream broken after its first byte) on the backend. */
static void end_attempt(struct gw_xfer *x, int ok, const char *reason)
{
    struct aitag_gateway *gw = x->gw;
    struct gw_backend *be = x->be;

    if (x->h) {
        curl_multi_remove_handle(x->loop->multi, x->h);
        gw_loop_easy_put(x->loop, x->h, x->mime == NULL);
        x->h = NULL;
    }
    curl_mime_free(x->mime);
    curl_slist_free_all(x->hdr);
    free(x->payload);
    x->mime = NULL;
    x->hdr = NULL;
    x->payload = NULL;
    x->paused = 0;
    x->be = NULL;
    pthread_mutex_lock(&gw->mu);
    be->inflight--;
    gw_breaker_result(&be->br, ok == 1, gw->cfg->breaker_failures, aitag_now());
    pthread_mutex_unlock(&gw->mu);
    if (ok != 1) {
        gw_metrics_upstream_error(gw->metrics, be->cfg->name, reason);
        aitag_log(AITAG_LOG_WARN, "gateway", "event=upstream_error request=%s backend=%s reason=%s",
                  x->r->id, be->cfg->name, reason);
        x->last = reason;
    }
}

/* The answer when every backend failed. */
static void answer_failed(struct gw_xfer *x)
{
    struct gw_req *r = x->r;
    const char *name = x->gw->cfg->routes[x->route_idx].name;

    r->backend[0] = '\0';
    if (strcmp(x->last, "local_only") == 0)
        gw_error(r, 503, "upstream_error", "local_only",
                 "no backend of route '%s' is on this machine (X-Aitag-Local-Only)", name);
    else if (strcmp(x->last, "no_backend") == 0)
        gw_error(r, 503, "upstream_error", "no_backend", "no backend of route '%s' is available",
                 name);
    else
        gw_error(r, 502, "upstream_error", "upstream_failed",
                 "every backend of route '%s' failed (last: %s)", name, x->last);
}

/* Starts the next backend of the order, or schedules the next pass after a jittered
 * exponential backoff. 1 while the call goes on; 0 when it is over (r holds the error). */
static int advance(struct gw_xfer *x)
{
    struct aitag_gateway *gw = x->gw;
    struct gw_backend *bs = gw->backends[x->route_idx];
    double cool = gw->cfg->breaker_cooldown_ms / 1000.0;

    while (x->k < x->n) {
        struct gw_backend *be = &bs[x->order[x->k++]];
        int allowed;

        if (be->cfg->kind == AITAG_BACKEND_LOCAL)
            continue; /* unsupported here: neither a failure nor an upstream error */
        if (!aitag_url_is_loopback(be->cfg->url) && gw_req_local_only(gw, x->r)) {
            x->last = strcmp(x->last, "no_backend") == 0 ? "local_only" : x->last;
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
        snprintf(x->r->backend, sizeof x->r->backend, "%s", be->cfg->name);
        x->be = be;
        if (start_attempt(x, be->cfg) == 0)
            return 1;
        end_attempt(x, 0, "error");
    }
    if (x->pass >= gw->cfg->retries) {
        answer_failed(x);
        return 0;
    }
    {
        double base = gw->cfg->backoff_ms * (double)(1 << (x->pass < 6 ? x->pass : 6));
        unsigned jitter;
        pthread_mutex_lock(&gw->mu);
        jitter = (unsigned)rand_r(&gw->rng) % 1000;
        pthread_mutex_unlock(&gw->mu);
        x->pass++;
        x->due = aitag_now() + base * (0.5 + jitter / 1000.0) / 1000.0;
        if (x->due <= 0)
            x->due = 1e-9;
    }
    return 1;
}

static void xfer_free(struct gw_xfer *x)
{
    json_decref(x->body);
    free(x->buf);
    free(x->out);
    gw_sse_free(&x->sse);
    free(x);
}

/* The call is over: r gets its answer (cache, usage, resume) and x goes. */
static void finish(struct gw_xfer *x)
{
    struct aitag_gateway *gw = x->gw;
    struct gw_req *r = x->r;
    struct gw_xfer **pp = &x->loop->xfers;

    while (*pp && *pp != x)
        pp = &(*pp)->next;
    if (*pp)
        *pp = x->next;
    if (!x->committed) {
        if (!r->status)
            gw_error(r, 500, "server_error", NULL, "no answer");
        gw_cache_put(gw, r->cache_key, r);
    }
    if (r->key_id >= 0 && r->status == 200 && strcmp(x->path, "/tag") == 0 && r->resp) {
        json_t *ans = json_loadb(r->resp, r->resp_len, 0, NULL);
        r->media_seconds = json_number_value(json_object_get(ans, "duration")); /* gw_settle */
        json_decref(ans);
    }
    if (x->committed) {
        gw_stream_end(r);
    } else {
        pthread_mutex_lock(&r->mu);
        r->state = REQ_DONE;
        gw_req_resume(r);
        pthread_mutex_unlock(&r->mu);
    }
    xfer_free(x);
    gw_req_release(r); /* the worker's reference, which the call held */
}

void gw_xfer_done(struct gw_xfer *x, CURLcode cc)
{
    struct gw_req *r = x->r;
    const char *reason = "error";
    char *ct = NULL;
    long code = 0;
    int ok = 0;

    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
    if (x->committed) {
        /* Already streaming: whatever happened, this is the answer. */
        x->out_len = 0;
        if (x->inject && !x->client_gone &&
            gw_sse_flush(&x->sse, &x->out, &x->out_len, &x->out_cap) == 0 && x->out_len)
            gw_stream_write(r, x->out, x->out_len);
        if (cc != CURLE_OK && !x->client_gone)
            reason = "stream_broken";
        charge(x, x->sse.usage, x->sse.text_bytes,
               x->be->cfg->model ? x->be->cfg->model : r->route);
        ok = cc == CURLE_OK || x->client_gone ? 1 : -1;
    } else if (cc != CURLE_OK) {
        reason = cc == CURLE_OPERATION_TIMEDOUT ? "timeout"
                 : cc == CURLE_COULDNT_CONNECT  ? "connect"
                                                : "network";
    } else if (code >= 500 || code == 429) {
        reason = code == 429 ? "429" : "5xx";
    } else {
        ok = 1;
        if (code >= 200 && code < 300) {
            json_t *o = json_loadb(x->buf ? x->buf : "", x->len, 0, NULL);
            if (malformed(x->api, o)) {
                reason = "malformed";
                ok = 0;
            } else {
                charge(x, json_object_get(o, "usage"), gw_chat_text_bytes(o),
                       json_string_value(json_object_get(o, "model")));
            }
            json_decref(o);
        }
        if (ok && x->api->pass_ctype)
            curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
        if (ok)
            gw_reply(r, (int)code, ct ? ct : "application/json", x->buf ? x->buf : "", x->len);
    }
    end_attempt(x, ok, reason);
    if (ok != 0 || !advance(x))
        finish(x);
}

void gw_xfer_retry(struct gw_xfer *x)
{
    x->due = 0;
    x->k = 0;
    x->n = gw_pick_order(x->gw, x->route_idx, x->order, aitag_now());
    if (!advance(x))
        finish(x);
}

void gw_proxy(struct aitag_gateway *gw, struct gw_req *r, size_t route_idx, const char *path,
              json_t *body, int stream, struct gw_worker_ctx *w)
{
    const struct aitag_gateway_route *rt = &gw->cfg->routes[route_idx];
    size_t n_remote = 0;
    struct gw_xfer *x;

    snprintf(r->route, sizeof r->route, "%s", rt->name);
    for (size_t i = 0; i < rt->n_backends; i++)
        n_remote += rt->backends[i].kind != AITAG_BACKEND_LOCAL;
    if (n_remote == 0) {
        gw_error(r, 501, "invalid_request_error", "unsupported",
                 "route '%s' has only local backends, which do not serve /v1%s", rt->name, path);
        return;
    }
    if (!w || !w->loop || !(x = calloc(1, sizeof *x))) {
        gw_error(r, 500, "server_error", NULL, "out of memory");
        return;
    }
    x->gw = gw;
    x->r = r;
    x->loop = w->loop;
    x->route_idx = route_idx;
    x->path = path;
    x->api = api_of(path);
    x->body = json_incref(body);
    x->stream = stream;
    x->inject =
        stream && body && strcmp(path, "/chat/completions") == 0 &&
        !json_is_true(json_object_get(json_object_get(body, "stream_options"), "include_usage"));
    x->last = "no_backend";
    x->n = gw_pick_order(gw, route_idx, x->order, aitag_now());
    if (!advance(x)) { /* nothing started: r holds the error, the worker answers it */
        xfer_free(x);
        return;
    }
    r->async = 1;
    x->next = w->loop->xfers;
    w->loop->xfers = x;
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
}
