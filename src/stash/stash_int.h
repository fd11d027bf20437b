/*
 * stash_int.h - internals shared by the files of the Stash client (src/stash/).
 *
 * Layers, bottom up: http.c moves bytes (one libcurl handle, retries, backoff); auth.c decides
 * which credential goes on each request and switches from the session cookie to the API key;
 * graphql.c wraps a document and its variables into a request and turns the answer into a
 * "data" object or one error message; the operation files (version.c, settings.c, tags.c,
 * items.c, writes.c) only build variables with json_pack and read answers. Every document text
 * lives in documents.c.
 */
#ifndef AITAG_STASH_INT_H
#define AITAG_STASH_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>

#include "aitag/stash.h"

enum stash_auth { STASH_AUTH_NONE = 0, STASH_AUTH_COOKIE = 1, STASH_AUTH_APIKEY = 2 };

/* Flags for one request. */
enum {
    /* Not safe to resend blindly: a failure after the request may have reached Stash (timeout,
     * dropped answer) is not retried; s->ambiguous tells the caller to check and resend. */
    STASH_NOT_IDEMPOTENT = 1,
};

struct stash_buf {
    char *data;
    size_t len, cap;
};

struct aitag_stash {
    struct aitag_stash_params p; /* strings below are owned copies, not the caller's */
    char *base_url;              /* scheme://host:port[/prefix], host rewritten, no trailing / */
    char *endpoint;              /* base_url + "/graphql" */
    char *cookie;                /* session cookie value, or NULL */
    char *api_key;               /* ApiKey header value, or NULL */
    enum stash_auth auth;        /* what the next request carries */
    int key_checked;             /* configuration{general{apiKey}} was read (or not needed) */
    int in_key_lookup;           /* guards the key lookup against recursion */

    CURL *curl;
    struct stash_buf body; /* the last answer's body */
    long retry_after_ms;   /* from the last answer's Retry-After, or -1 */
    int ambiguous;         /* the last call had a failure that may have reached Stash */
    int attempts;          /* tries the last call took */
    uint64_t rng;          /* jitter state; per handle, no globals */

    int version_state; /* 0 unknown, 1 read */
    char version[64];
    int has_end; /* markers have end_seconds */

    char errmsg[1024];
};

/* documents.c: every GraphQL document the client sends. */
extern const char *const stash_doc_version;
extern const char *const stash_doc_marker_fields;
extern const char *const stash_doc_api_key;
extern const char *const stash_doc_plugin_settings;
extern const char *const stash_doc_find_tags;
extern const char *const stash_doc_tag_create;
extern const char *const stash_doc_tag_children;
extern const char *const stash_doc_tag_parents;
extern const char *const stash_doc_tag_set_parents;
extern const char *const stash_doc_find_scene;
extern const char *const stash_doc_find_scene_no_end;
extern const char *const stash_doc_find_scenes;
extern const char *const stash_doc_find_scenes_no_end;
extern const char *const stash_doc_find_image;
extern const char *const stash_doc_find_images;
extern const char *const stash_doc_bulk_scene_update;
extern const char *const stash_doc_bulk_image_update;
extern const char *const stash_doc_marker_create;
extern const char *const stash_doc_marker_destroy;
extern const char *const stash_doc_ui_run_task;
extern const char *const stash_doc_find_performers;
extern const char *const stash_doc_find_performer;
extern const char *const stash_doc_performer_create;
extern const char *const stash_doc_find_scenes_by_path;
extern const char *const stash_doc_find_images_by_path;
extern const char *const stash_doc_scene_performers;
extern const char *const stash_doc_image_performers;

struct stash_doc_entry {
    const char *name; /* the constant's name */
    const char *const *text;
};
/* All of the above, NULL-terminated, so tests and tools can check them against a schema. */
extern const struct stash_doc_entry stash_documents[];

/* http.c: POSTs body (JSON) to s->endpoint with the given extra headers. Retries 5xx, 429,
 * timeouts and dropped connections per s->p (fewer with STASH_NOT_IDEMPOTENT). On return 0,
 * *status is the final HTTP status and s->body holds the answer (any status, 401 included).
 * On failure, s->errmsg names label, the curl error and the URL; AITAG_ERR_NET. */
int stash_http_post(struct aitag_stash *s, const char *label, const char *body,
                    struct curl_slist *headers, int flags, long *status);
/* The same as a GET of url (a file Stash serves, such as a performer image). */
int stash_http_get(struct aitag_stash *s, const char *label, const char *url,
                   struct curl_slist *headers, long *status);
int stash_http_init(struct aitag_stash *s);
void stash_http_cleanup(struct aitag_stash *s);
/* Sleeps the backoff for retry number attempt (0-based) with jitter. */
void stash_backoff(struct aitag_stash *s, int attempt);

/* auth.c */
/* Builds the request headers for the current credential (caller frees the list). */
int stash_auth_headers(struct aitag_stash *s, struct curl_slist **out);
/* Sends one request with the current credential: a GET of url, or (url NULL) a POST of body
 * to the GraphQL endpoint; a 401 on the cookie with an API key known is resent once with the
 * key. *status is the final answer's; 0 or the transport's error. */
int stash_auth_send(struct aitag_stash *s, const char *label, const char *url, const char *body,
                    int flags, long *status);
/* After a 401: switches from the cookie to a known API key and returns 1 (resend), else 0. */
int stash_auth_on_401(struct aitag_stash *s);
/* After a successful answer: reads the API key once and switches to it when set. */
void stash_auth_after_success(struct aitag_stash *s);
/* Picks up a refreshed session cookie from a Set-Cookie header line. */
void stash_auth_set_cookie_header(struct aitag_stash *s, const char *line, size_t len);

/* graphql.c: sends document with variables (borrowed, may be NULL); *data is a new reference
 * to the answer's "data" member. GraphQL errors become "<field>: <message>" in s->errmsg. */
int stash_gql(struct aitag_stash *s, const char *document, json_t *variables, int flags,
              json_t **data);
/* Sets s->errmsg to "<label>: <formatted>" and returns rc. */
int stash_fail(struct aitag_stash *s, int rc, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* version.c: "v0.30.1", "0.28.0-12-gabc" -> numbers; AITAG_ERR_INVALID when not a version. */
int stash_version_parse(const char *v, int *major, int *minor, int *patch);
/* Reads version and marker capabilities once. */
int stash_version_load(struct aitag_stash *s);

/* items.c: fills an item from a Scene or Image object. */
int stash_item_from_json(enum aitag_stash_kind kind, json_t *obj, struct aitag_stash_item *it);

/* Small helpers (client.c). */
char *stash_strdup(const char *s);
/* The string member key of obj, or NULL. */
const char *stash_json_str(json_t *obj, const char *key);

#endif
