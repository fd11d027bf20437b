/*
 * aitag/web.h - the review app: a local web server over the catalog (`aitag serve`).
 *
 * Usage:
 *     struct aitag_web_params wp = aitag_web_default_params();
 *     wp.catalog_path = "catalog.db"; wp.static_dir = "web"; wp.cache_dir = "/tmp/thumbs";
 *     wp.policy = policy;                      // decisions re-derive their item with it
 *     struct aitag_web *w;
 *     if (aitag_web_start(&wp, &w, err, sizeof err) < 0) die(err);
 *     printf("listening on %s:%d\n", wp.bind, aitag_web_port(w));
 *     ... wait for a signal ...
 *     aitag_web_stop(w);
 *
 * What it serves: the front end (static files under static_dir, nothing else of the disk),
 * a JSON API over the catalog (docs/review.md "The app"), each item's thumbnail (made once
 * with FFmpeg, cached under cache_dir by the item's fingerprint) and its media file, by item id
 * only, with range requests. A request never names a path on the disk: a media file is served
 * because the catalog holds it (and, when roots are given, it lies under one of them).
 *
 * Security: binds to 127.0.0.1 by default, and then answers only requests whose Host is that
 * address or localhost (DNS rebinding). Bound elsewhere it refuses to start without a password
 * hash (aitag_web_hash_password): every request then needs the session cookie a login gives,
 * or the password as a bearer token. Every state-changing request needs the CSRF token of
 * GET /api/session in X-CSRF-Token, a JSON body, and no foreign Origin. Every answer carries a
 * strict Content-Security-Policy (scripts, styles, media and connections of the app's own
 * origin only).
 *
 * Threads: libmicrohttpd runs a thread per connection (an event stream may wait for a job's
 * next state); each request borrows a catalog connection of a pool of `threads`. The policy is
 * shared read-only and must outlive the server. Jobs run the tagger as a child process
 * (params.tag_argv); stopping the server stops them.
 */
#ifndef AITAG_WEB_H
#define AITAG_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/policy.h"

struct aitag_catalog;
/* A search by meaning (the program's: WordNet and the context rules, `aitag search WORDS`):
 * calls hit once per matching item, best first. 0 or < 0. Called one at a time. */
typedef void (*aitag_web_hit_fn)(void *hit_ctx, int64_t media_id, float score, const char *why);
typedef int (*aitag_web_search_fn)(void *ctx, struct aitag_catalog *c, const char *query,
                                   aitag_web_hit_fn hit, void *hit_ctx);

struct aitag_web_params {
    const char *catalog_path;          /* required */
    const struct aitag_policy *policy; /* required: what decisions re-derive with */
    const char *bind;                  /* address to listen on; default "127.0.0.1" */
    int port;                          /* 0: a free port (aitag_web_port tells which) */
    const char *static_dir;            /* the front end's files; required */
    const char *cache_dir;             /* thumbnails; required (created) */
    const char *const *roots;          /* library roots: media outside them are never served */
    size_t n_roots;                    /* 0: every item of the catalog may be served */
    const char *password_hash;         /* aitag_web_hash_password's text, or NULL */
    const char *who; /* the user name decisions are recorded under; default "user" */
    int threads;     /* catalog connections for requests; default 4 */
    /* the tagger's command for jobs, NULL-terminated (argv[0] an absolute path): it is run
     * with "--analyzers LIST" when asked, then "--" and the paths, and must print one JSON
     * object per item on stdout and {"progress": {...}} lines on stderr (`aitag tag --json
     * --progress json`). NULL: the app cannot start jobs. */
    const char *const *tag_argv;
    /* GET /api/search: NULL leaves search to paths, tag names and text (GET /api/items?q=) */
    aitag_web_search_fn search;
    void *search_ctx;
};

struct aitag_web_params aitag_web_default_params(void);

struct aitag_web;

/* Starts serving. 0 with *out, or < 0 with err naming what failed: AITAG_ERR_INVALID for
 * params (a non-loopback bind without a password hash, a static_dir that is not a folder),
 * AITAG_ERR_DB when the catalog cannot be opened, AITAG_ERR_NET when the address cannot be
 * bound. */
int aitag_web_start(const struct aitag_web_params *p, struct aitag_web **out, char *err,
                    size_t errlen);
/* The port listened on. */
int aitag_web_port(const struct aitag_web *w);
/* Stops serving, waits for the requests in flight, frees w. NULL is a no-op. */
void aitag_web_stop(struct aitag_web *w);

/* A password's hash as stored for params.password_hash: "pbkdf2-sha256$ITER$SALT$HASH" (hex
 * salt and hash, a random salt). 0, or AITAG_ERR_INVALID for an empty password. */
int aitag_web_hash_password(const char *password, char *out, size_t len);
/* True when password matches hash (constant-time compare). */
int aitag_web_check_password(const char *hash, const char *password);

#endif
