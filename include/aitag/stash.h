/*
 * aitag/stash.h - a client for Stash's GraphQL API and the operations the Stash plugin needs.
 *
 * Usage:
 *     struct aitag_stash_params sp = aitag_stash_default_params();
 *     sp.url = "http://127.0.0.1:9999";          // 0.0.0.0 is rewritten to 127.0.0.1
 *     sp.session_cookie = "MTY...";              // from the plugin's server_connection
 *     struct aitag_stash *s;
 *     if (aitag_stash_new(&sp, &s) < 0) ...;
 *     char ver[32]; aitag_stash_version(s, ver, sizeof ver);
 *     char *tag_id; aitag_stash_ensure_tag(s, "face", parent_id, &tag_id);
 *     ...; aitag_stash_free(s);
 *
 * Transport: libcurl, one handle reused (keep-alive). Auth: the session cookie first; on the
 * first answer, the client reads configuration{general{apiKey}} and, when set, switches to the
 * ApiKey header, so runs longer than the cookie's lifetime keep working; a 401 with the cookie
 * and no API key is a clear AITAG_ERR_NET error. 5xx answers, timeouts and dropped connections
 * are retried with exponential backoff and jitter (params.retries times); GraphQL "errors" are
 * not retried and come back with their message.
 *
 * Every GraphQL document this client can send is in src/stash/documents.c, and nowhere else, so
 * it can be checked against Stash's real schema (graphql/schema in the stashapp/stash sources).
 *
 * Thread-safety: one handle per thread.
 */
#ifndef AITAG_STASH_H
#define AITAG_STASH_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/common.h"

struct aitag_stash_params {
    const char *url;            /* scheme://host:port, no trailing path; copied */
    const char *session_cookie; /* value of Stash's "session" cookie, or NULL */
    const char *api_key;        /* ApiKey header value, or NULL (read from Stash when possible) */
    int timeout_ms;             /* per request; default 30000 */
    int retries;                /* extra attempts on 5xx/timeouts/drops; default 4 */
    int backoff_ms;             /* first backoff; doubles each retry, with jitter; default 250 */
    int tls_verify;             /* verify https certificates; default 1. Stash reached through
                                   127.0.0.1 with a certificate for its public name needs 0 */
};

struct aitag_stash_params aitag_stash_default_params(void);

struct aitag_stash;

int aitag_stash_new(const struct aitag_stash_params *p, struct aitag_stash **out);
void aitag_stash_free(struct aitag_stash *s);
const char *aitag_stash_errmsg(const struct aitag_stash *s);
/* The server address in use, after the 0.0.0.0 -> 127.0.0.1 rewrite (borrowed). */
const char *aitag_stash_url(const struct aitag_stash *s);

/* Stash's version string ("v0.30.1") into buf; and whether scene markers have end_seconds
 * (Stash >= 0.28): 1 or 0, or a negative aitag_err when Stash cannot be asked. Read once per
 * handle. */
int aitag_stash_version(struct aitag_stash *s, char *buf, size_t len);
int aitag_stash_has_marker_end(struct aitag_stash *s);

/* The plugin's settings as a JSON object text (configuration{plugins(include: [id])}),
 * malloc'd, "{}" when none are set. */
int aitag_stash_plugin_settings(struct aitag_stash *s, const char *plugin_id, char **json);

/* Finds a tag by exact name (case-sensitive compare on the client: Stash's EQUALS is a LIKE)
 * or alias; creates it (with parent_id when not NULL, ignore_auto_tag true) when absent.
 * *id is malloc'd. */
int aitag_stash_ensure_tag(struct aitag_stash *s, const char *name, const char *parent_id,
                           char **id);
/* Makes parent_id one of tag_id's parents, keeping the others (the category of a generated
 * tag: "dog" under "animal" as well as under "AI"). Reads the parents first and writes only
 * when parent_id is not among them. 0, AITAG_ERR_NOTFOUND (no such tag) or an error. */
int aitag_stash_tag_add_parent(struct aitag_stash *s, const char *tag_id, const char *parent_id);
/* Looks a tag up by exact name without creating it; AITAG_ERR_NOTFOUND when absent. */
int aitag_stash_find_tag(struct aitag_stash *s, const char *name, char **id);

struct aitag_stash_tag {
    char *id;
    char *name;
};

/* The direct children of tag_id (for example every tag generated under the "AI" parent).
 * *tags is a malloc'd array of *n entries (NULL when none), freed with aitag_stash_tags_free;
 * AITAG_ERR_NOTFOUND when Stash has no tag tag_id. */
int aitag_stash_tag_children(struct aitag_stash *s, const char *tag_id,
                             struct aitag_stash_tag **tags, size_t *n);
void aitag_stash_tags_free(struct aitag_stash_tag *tags, size_t n);

enum aitag_stash_kind { AITAG_STASH_SCENE = 0, AITAG_STASH_IMAGE = 1 };

struct aitag_stash_marker {
    char *id;
    char *title;
    double seconds, end_seconds; /* end_seconds < 0 when absent */
    char *primary_tag_id;
    char *primary_tag_name;
};

struct aitag_stash_item {
    enum aitag_stash_kind kind;
    char *id;
    char *path;   /* first file's path, as Stash sees it */
    char **tag_ids;
    char **tag_names;
    size_t n_tags;
    struct aitag_stash_marker *markers; /* scenes only */
    size_t n_markers;
};

void aitag_stash_item_clear(struct aitag_stash_item *it);

/* One item by id; AITAG_ERR_NOTFOUND when Stash has none. */
int aitag_stash_get_item(struct aitag_stash *s, enum aitag_stash_kind kind, const char *id,
                         struct aitag_stash_item *out);

/* A selection of items, paged by ascending id so that changing tags while paging (removing
 * AI_TagMe) shifts nothing: with_tag_id selects items carrying that tag (NULL: all),
 * without_tag_id excludes items carrying it (NULL: none). Calls fn per item (the item is
 * borrowed for the call); fn returning non-zero stops: a positive value makes this return 0,
 * a negative one is returned as is (the caller's error; errmsg is not set for it). */
int aitag_stash_each_item(struct aitag_stash *s, enum aitag_stash_kind kind,
                          const char *with_tag_id, const char *without_tag_id,
                          int (*fn)(void *ctx, const struct aitag_stash_item *it), void *ctx);

/* Adds (mode "ADD") or removes ("REMOVE") tags on items through bulk updates; never replaces
 * the set, so the user's tags are never touched. */
int aitag_stash_update_tags(struct aitag_stash *s, enum aitag_stash_kind kind,
                            const char *const *item_ids, size_t n_items,
                            const char *const *tag_ids, size_t n_tags, const char *mode);

/* Creates a scene marker; end_seconds < 0 or a Stash without end_seconds omits it. *id is
 * malloc'd (may be NULL if not wanted). */
int aitag_stash_create_marker(struct aitag_stash *s, const char *scene_id, const char *title,
                              double seconds, double end_seconds, const char *primary_tag_id,
                              char **id);
int aitag_stash_destroy_marker(struct aitag_stash *s, const char *marker_id);

/* ---- Performers (src/stash/performers.c) ---- */

struct aitag_stash_performer {
    char *id;
    char *name;
    char *disambiguation; /* NULL when none */
    char **aliases;       /* alias_list */
    size_t n_aliases;
    char *image_path; /* the URL Stash answers; NULL when none */
    int has_image;    /* Stash holds an image (image_path without "default=true") */
};

void aitag_stash_performer_clear(struct aitag_stash_performer *p);

/* Finds a performer whose name, else one of whose aliases, equals name ignoring surrounding
 * white space and ASCII letter case (as Stash compares names when it refuses a duplicate).
 * 0 with *out filled (clear it), AITAG_ERR_NOTFOUND, or the client's error. */
int aitag_stash_find_performer(struct aitag_stash *s, const char *name,
                               struct aitag_stash_performer *out);
/* One performer by id; AITAG_ERR_NOTFOUND when Stash has none (deleted). */
int aitag_stash_get_performer(struct aitag_stash *s, const char *id,
                              struct aitag_stash_performer *out);
/* Creates a performer named name (trimmed) with jpeg (len bytes; NULL or 0: no image) as its
 * image, nothing else. When the answer is lost or Stash refuses the name as taken, the name is
 * looked up and the performer found is returned instead (never a second one). *id is
 * malloc'd. */
int aitag_stash_create_performer(struct aitag_stash *s, const char *name, const unsigned char *jpeg,
                                 size_t len, char **id);
/* Calls fn for every performer that has an image in Stash, by ascending id (for matching the
 * faces of known performers); p is borrowed for the call. fn returning non-zero stops: a
 * positive value makes this return 0, a negative one is returned. Ids that do not ascend
 * (a Stash that repeats a page) stop it with AITAG_ERR_NET. */
int aitag_stash_each_performer_with_image(
    struct aitag_stash *s, int (*fn)(void *ctx, const struct aitag_stash_performer *p), void *ctx);
/* Downloads a file Stash serves (a performer's image_path) with this client's credentials.
 * Only the path and query of url are used: the request always goes to this client's Stash.
 * *data (malloc'd, *len bytes) is freed by the caller. AITAG_ERR_NOTFOUND on HTTP 404. */
int aitag_stash_download(struct aitag_stash *s, const char *url, unsigned char **data, size_t *len);
/* The id of the scene or image whose file is exactly path (as Stash sees it) into *id
 * (malloc'd); AITAG_ERR_NOTFOUND when there is none. */
int aitag_stash_find_item_by_path(struct aitag_stash *s, enum aitag_stash_kind kind,
                                  const char *path, char **id);
/* Whether the item's performers (read now) include performer_id: 1 or 0; AITAG_ERR_NOTFOUND
 * when the item is gone. */
int aitag_stash_item_has_performer(struct aitag_stash *s, enum aitag_stash_kind kind,
                                   const char *item_id, const char *performer_id);
/* Adds a performer to an item (bulk update, performer_ids mode ADD): the item's other
 * performers are never touched. Idempotent. */
int aitag_stash_add_performer(struct aitag_stash *s, enum aitag_stash_kind kind,
                              const char *item_id, const char *performer_id);

/* Sends a raw GraphQL document with variables (JSON text, or NULL); *data is the malloc'd
 * JSON text of the "data" member. For tests and tools; the plugin uses the calls above. */
int aitag_stash_query(struct aitag_stash *s, const char *document, const char *variables,
                      char **data);

#endif
