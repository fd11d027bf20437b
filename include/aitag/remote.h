/*
 * aitag/remote.h - tagging on another machine: the client of an aitag gateway's POST /v1/tag
 * that plugs into the tagger as its remote executor, and the evidence wire format both ends
 * speak (docs/gateway.md "Remote tagging").
 *
 * Usage (`aitag tag --gateway URL`, the plugin's gatewayUrl):
 *     struct aitag_remote_client_params cp = aitag_remote_client_default_params();
 *     cp.url = "http://nas:8089"; cp.key = getenv("AITAG_GATEWAY_KEY");
 *     struct aitag_remote_client *gc;
 *     if (aitag_remote_client_new(&cp, &gc, err, sizeof err) < 0) die(err);
 *     tp.remote = aitag_remote_client_tag; tp.remote_ctx = gc;   // tagger params
 *     ... aitag_tagger_run ...; aitag_tagger_free(t);
 *     aitag_remote_client_free(gc);                             // after the tagger
 *
 * The gateway (aitag/gateway.h, the libmicrohttpd server) writes its answers with
 * aitag_remote_evidence_json; this library links libcurl and Jansson, never libmicrohttpd.
 */
#ifndef AITAG_REMOTE_H
#define AITAG_REMOTE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "aitag/catalog.h"
#include "aitag/evidence.h"
#include "aitag/pipeline.h"

/* A client belongs to one thread at a time (the tagger calls it from its decoder thread). */
struct aitag_remote_client_params {
    const char *url;        /* the gateway's root, http:// or https:// */
    const char *route;      /* the tagging route ("model"); NULL/"" = the gateway's default */
    const char *key;        /* API key sent as Authorization: Bearer; NULL = none. Copied. */
    int local_only;         /* refuse non-loopback URLs; send X-Aitag-Local-Only: 1 */
    int connect_timeout_ms; /* default 10000 */
    int timeout_ms;         /* whole request; default 0 = none (a long video takes long) */
    atomic_int *cancel;     /* optional: non-zero aborts the request in flight (atomic_load) */
};

struct aitag_remote_client_params aitag_remote_client_default_params(void);

struct aitag_remote_client;

/* Checks the URL (and, with local_only, that its host is loopback: 127.0.0.0/8, ::1,
 * localhost) without connecting. 0, AITAG_ERR_INVALID (message names the problem) or
 * AITAG_ERR_NOMEM. Free with _free. */
int aitag_remote_client_new(const struct aitag_remote_client_params *p,
                            struct aitag_remote_client **out, char *err, size_t errlen);
/* NULL is a no-op. */
void aitag_remote_client_free(struct aitag_remote_client *c);
/* The tagger's remote executor (aitag_remote_fn; ctx is the client): asks the gateway for the
 * evidence of analyzers on path, sending the path first and uploading the file when the
 * gateway cannot read it. Fails (message naming the gateway and the HTTP status or error) on
 * transport errors, non-200 answers, analyzers missing on the route, and analysis keys or an
 * interval that differ from the local ones. */
int aitag_remote_client_tag(void *ctx, const char *path, const char *const *analyzers,
                            const char *const *keys, size_t n, double interval,
                            struct aitag_remote_result *out, char *err, size_t errlen);

/* The "evidence" object of a /v1/tag answer (with "evidence": true): the stored analyses an
 * (analyzer, key, frames, interval, strategy), the evidence items ev, the interval and whether
 * sampling was truncated. NULL without memory; the caller decrefs. */
json_t *aitag_remote_evidence_json(const struct aitag_analysis_row *an, size_t n_an,
                                   const struct aitag_evidence_list *ev, double interval,
                                   int truncated);
/* Reads such an object back for the n analyzers asked, whose local analysis keys are keys:
 * fills *out (evidence of those analyzers only, frames, strategy, truncated; the caller
 * clears out->evidence). AITAG_ERR_INVALID with err naming the problem when ev is not such an
 * object, an item is malformed (a confidence outside 0..1, a negative time, a box that is not
 * four numbers...), an analysis's frames are not a count in 0..AITAG_REMOTE_MAX_FRAMES, an
 * analyzer is missing, or a key or the interval differs from the local one; AITAG_ERR_NOMEM.
 * Untrusted input: never asserts. */
#define AITAG_REMOTE_MAX_FRAMES (1 << 24) /* 194 days of video at one frame a second */
int aitag_remote_evidence_parse(json_t *ev, const char *const *analyzers, const char *const *keys,
                                size_t n, double interval, struct aitag_remote_result *out,
                                char *err, size_t errlen);

#endif
