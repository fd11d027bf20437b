/*
 * aitag/gateway.h - one HTTP API in front of local analyzers and OpenAI-compatible services,
 * with API keys, rate limits, failover, a circuit breaker per backend, metrics and usage costs.
 *
 * Usage:
 *     struct aitag_gateway_config *cfg;
 *     if (aitag_gateway_config_load("gateway.json", &cfg, err, sizeof err) < 0) die(err);
 *     struct aitag_gateway_params gp = aitag_gateway_default_params();
 *     gp.cfg = cfg; gp.manifest_dir = "models"; gp.weights_dir = "deps/models";
 *     gp.item_json = item_json;               // the `aitag tag --json` object builder
 *     struct aitag_gateway *gw;
 *     if (aitag_gateway_start(&gp, &gw, err, sizeof err) < 0) die(err);
 *     printf("port %d\n", aitag_gateway_port(gw));
 *     ... wait for a signal ...
 *     aitag_gateway_stop(gw);                 // joins every thread, frees gw
 *     aitag_gateway_config_free(cfg);
 *
 * Threads: event_loops threads each run a libmicrohttpd daemon (one port, SO_REUSEPORT) and a
 * libcurl multi handle: a request and its upstream call are served on the thread that accepted
 * it, no thread waiting on a socket. /v1/tag (inference) is suspended and handed to a fixed
 * worker pool, which resumes the connection when the answer is ready. The config is read-only
 * once the gateway runs. Docs: docs/gateway.md.
 */
#ifndef AITAG_GATEWAY_H
#define AITAG_GATEWAY_H

#include <jansson.h>
#include <stddef.h>

#include "aitag/pipeline.h"

enum aitag_backend_kind {
    AITAG_BACKEND_LOCAL = 0,   /* in-process analyzers (POST /v1/tag) */
    AITAG_BACKEND_OPENAI = 1,  /* OpenAI-compatible: OpenAI, Ollama, LM Studio, vLLM */
    AITAG_BACKEND_GATEWAY = 2, /* another aitag gateway */
};

struct aitag_gateway_backend {
    char *name; /* for logs and metrics; default "<route>#<index>" */
    enum aitag_backend_kind kind;
    char *url;        /* base URL: ".../v1" for openai, the server root for gateway */
    char *key_env;    /* environment variable holding the upstream key; may be NULL */
    char *model;      /* model name sent upstream; NULL keeps the client's */
    char **analyzers; /* local: analyzer names */
    size_t n_analyzers;
    int weight;          /* relative share among backends of the same priority; default 1 */
    int priority;        /* lower is tried first; default 0 */
    int timeout_ms;      /* whole upstream call; default 30000 */
    int max_concurrency; /* in-flight calls; 0 = unlimited */
};

#define AITAG_GATEWAY_MAX_BACKENDS 64

struct aitag_gateway_route {
    char *name; /* the virtual model name clients ask for; at most 64 backends */
    struct aitag_gateway_backend *backends;
    size_t n_backends;
};

struct aitag_gateway_price {
    char *model;                        /* upstream model name */
    double input_per_1m, output_per_1m; /* cost per million prompt/completion tokens */
};

struct aitag_gateway_config {
    char *listen;    /* IPv4 or IPv6 literal ("::" is dual stack); default 127.0.0.1 */
    int port;        /* 0 = any free port (see aitag_gateway_port) */
    size_t max_body; /* bytes; default 16 MiB; larger bodies get 413 */
    int workers;     /* worker threads (/v1/tag); default 8 */
    char **roots;    /* library roots that /v1/tag paths must resolve under */
    size_t n_roots;
    char *keys_db;           /* SQLite file of API keys and usage; NULL = no auth */
    char *access_log;        /* JSONL access log; NULL = none */
    char *catalog;           /* catalog for /v1/tag; default aitag_default_catalog_path() */
    char *rules;             /* rules file; NULL: aitag_default_rules_path() when present */
    char *context; /* context rules file over the shipped ones (<manifest_dir>/context/
                      defaults.json); NULL: aitag_default_context_path() when present */
    char *tmp_dir;           /* uploads for /v1/tag; default /tmp */
    int retries;             /* extra passes over the backends; default 1 */
    int backoff_ms;          /* base of the jittered backoff between passes; default 50 */
    int breaker_failures;    /* consecutive failures that open a breaker; default 3 */
    int breaker_cooldown_ms; /* open -> half-open after; default 10000 */
    int local_only;          /* every openai/gateway backend must be on a loopback host */
    int log_payloads;        /* access log gets redacted request/response bodies (4 KiB each) */
    size_t cache_max_bytes;  /* response cache ("cache" object); 0 = no cache */
    size_t cache_max_entry;  /* larger answers are not cached; default 1 MiB */
    int cache_ttl_s;         /* seconds an answer stays; default 300 */
    double max_megapixels;   /* /v1/tag: pictures over this are refused before decoding; 64 */
    int tag_threads;         /* /v1/tag: tagging threads per local backend; default 1 */
    int tag_queue;           /* /v1/tag: requests waiting per local backend, then 503; 16 */
    size_t stream_buffer;    /* bytes of a stream held per request; default 256 KiB */
    int event_loops;         /* HTTP + upstream event loop threads; default: 2 x CPUs, at most 8 */
    struct aitag_gateway_route *routes;
    size_t n_routes;
    struct aitag_gateway_price *prices;
    size_t n_prices;
    /* admission and settlement (docs/gateway.md, "Limits") */
    size_t max_inflight_bytes;     /* request body bytes held at once; default 256 MiB */
    int key_concurrency;           /* requests in flight per key; 0 (default) = no limit */
    int key_cache_ms;              /* a key read is trusted while the key store is unchanged,
                                      for at most this long; 0 = read at every request;
                                      default 1000 */
    int reserve_completion_tokens; /* reserved per chat without max_tokens; default 1024 */
    int max_usage_tokens;          /* one request's tokens beyond this are refused; 10M */
    double max_request_cost;       /* one request's cost (USD) beyond this is refused; 1000 */
};

/* Parses a JSON config text. Unknown keys and bad values are errors with a message in err.
 * On success *out is owned by the caller (aitag_gateway_config_free). */
int aitag_gateway_config_parse(const char *text, struct aitag_gateway_config **out, char *err,
                               size_t errlen);
/* Same, from a file. */
int aitag_gateway_config_load(const char *path, struct aitag_gateway_config **out, char *err,
                              size_t errlen);
void aitag_gateway_config_free(struct aitag_gateway_config *c);
/* The route called name, or NULL. Borrowed. */
const struct aitag_gateway_route *aitag_gateway_route_find(const struct aitag_gateway_config *c,
                                                           const char *name);

typedef json_t *(*aitag_item_json_fn)(const char *path, const char *status,
                                      const struct aitag_probe *probe,
                                      const struct aitag_result *res, const char *error);

struct aitag_gateway_params {
    const struct aitag_gateway_config *cfg; /* borrowed; must outlive the gateway */
    const char *manifest_dir, *weights_dir; /* for local analyzers */
    aitag_item_json_fn item_json;           /* builds the /v1/tag answer; required for tags */
};

struct aitag_gateway_params aitag_gateway_default_params(void);

struct aitag_gateway;

/* Binds, starts the worker pool and the HTTP thread. Returns 0 or < 0 with err set. */
int aitag_gateway_start(const struct aitag_gateway_params *p, struct aitag_gateway **out, char *err,
                        size_t errlen);
/* The bound TCP port (useful with port 0). */
int aitag_gateway_port(const struct aitag_gateway *gw);
/* Stops accepting, finishes the workers, frees gw. NULL is a no-op. */
void aitag_gateway_stop(struct aitag_gateway *gw);

/* What a new API key may do. routes: comma-separated allowed routes, NULL or "" for all.
 * rpm: requests per minute, tpm: prompt+completion tokens per minute, 0 for unlimited.
 * concurrency: requests of the key in flight at once, 0 for the gateway's key_concurrency.
 * budget: USD per budget_period ("day" or "month", UTC calendar; NULL = "month"), summed from
 * the usage table's cost; 0 for none. */
struct aitag_gateway_key_params {
    const char *name, *routes;
    int rpm, tpm;
    double budget;
    const char *budget_period;
    int concurrency; /* requests in flight; 0: the config's key_concurrency */
};

/* API keys (SQLite file db; the table is created on first use, older files gain the newer
 * columns). Keys are shown once and only their sha256 is stored. key_out gets the secret
 * ("agk_" + 40 hex). Returns 0, AITAG_ERR_INVALID (bad params), AITAG_ERR_DB, AITAG_ERR_IO. */
int aitag_gateway_key_create(const char *db, const struct aitag_gateway_key_params *kp,
                             char key_out[64], long long *id_out, char *err, size_t errlen);
/* Revokes key id: 0, AITAG_ERR_NOTFOUND when there is no such active key, AITAG_ERR_DB. */
int aitag_gateway_key_revoke(const char *db, long long id, char *err, size_t errlen);
/* Keys (never secrets) as a JSON array of objects, with "spent": the cost summed over the
 * key's current budget period; caller decrefs *out. */
int aitag_gateway_keys_list(const char *db, json_t **out, char *err, size_t errlen);
/* Usage rows by day, key, route and model as a JSON array; caller decrefs *out. */
int aitag_gateway_usage_list(const char *db, json_t **out, char *err, size_t errlen);

/* Remote tagging (`aitag tag --gateway URL`, the plugin's gatewayUrl): the client and the
 * evidence wire format of POST /v1/tag are the remote library, aitag/remote.h. */

#endif
