/* web_int.h - the review app's internals, shared by its files. */
#ifndef AITAG_WEB_INT_H
#define AITAG_WEB_INT_H

#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "aitag/catalog.h"
#include "aitag/web.h"

#define WEB_MAX_BODY (64 * 1024)
#define WEB_MAX_SESSIONS 64
#define WEB_MAX_JOBS 256
#define WEB_MAX_TAG_ARGS 64
#define WEB_JOB_LINE 65536

/* A tagging job (jobs.c): the tagger as a child process. Fields below `web` are guarded by
 * the server's lock. */
struct web_job {
    struct aitag_web *web;
    pthread_t thread; /* its reader */
    int out_fd, err_fd;
    pid_t pid;
    int id;
    char state[16]; /* running, done, failed, stopped */
    int stop_asked;
    double started, finished;
    json_t *paths;
    char *analyzers;
    json_t *progress; /* the last {"done", "total", ...} */
    int items, failed;
    int exit_code; /* -1 while running */
    char message[512];
    unsigned version; /* bumped on every change */
};

struct aitag_web {
    struct MHD_Daemon *mhd;
    int port;
    int loopback; /* bound to a loopback address: Host must be one */
    const struct aitag_policy *policy;
    char *catalog_path, *who, *password_hash;
    char static_dir[PATH_MAX], cache_dir[PATH_MAX]; /* real paths */
    char **roots;                                   /* real paths */
    size_t n_roots;
    char csrf[65]; /* random, per start */
    /* catalog connections: a stack of free ones, opened at start */
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct aitag_catalog **pool;
    size_t n_pool, n_free;
    aitag_web_search_fn search; /* by meaning (params.search), serialised by search_lock */
    void *search_ctx;
    pthread_mutex_t search_lock;
    /* jobs (jobs.c) */
    char **tag_argv; /* the tagger's command, NULL-terminated; NULL: no jobs */
    struct web_job *jobs[WEB_MAX_JOBS];
    size_t n_jobs;
    int last_job;
    int stopping;
    pthread_cond_t job_changed;
    /* login sessions: random tokens, oldest replaced first */
    char sessions[WEB_MAX_SESSIONS][65];
    size_t next_session;
};

/* One request: its body, gathered before it is answered. */
struct web_req {
    char *body;
    size_t len;
    int too_big;
};

/* server.c: a catalog connection for one request, given back with web_catalog_put. */
struct aitag_catalog *web_catalog_get(struct aitag_web *w);
void web_catalog_put(struct aitag_web *w, struct aitag_catalog *c);

/* reply.c: answers with the app's security headers on every response. */
enum MHD_Result web_send(struct MHD_Connection *conn, unsigned status, const char *type,
                         const void *body, size_t len);
/* A JSON body (j is consumed). */
enum MHD_Result web_send_json(struct MHD_Connection *conn, unsigned status, json_t *j);
/* {"error": message} */
enum MHD_Result web_send_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The file name of a path (after its last '/'); "" for NULL. */
const char *web_base_name(const char *path);
/* Adds the headers every answer carries (CSP, nosniff, no referrer, no framing). */
void web_secure_headers(struct MHD_Response *r);

/* security.c */
/* The answer to give before routing (403, 401, ...), or 0 when the request may go on;
 * *why says why not. A state-changing method must carry the CSRF token, a JSON body and no
 * foreign Origin; a non-loopback server wants a session or the password. */
unsigned web_gate(struct aitag_web *w, struct MHD_Connection *conn, const char *method,
                  const char *url, const char **why);
/* True when the request may read the API: no password set, or a session or the password. */
int web_authenticated(struct aitag_web *w, struct MHD_Connection *conn);
/* POST /api/login {"password"}: a session cookie when it matches. */
enum MHD_Result web_login(struct aitag_web *w, struct MHD_Connection *conn, const char *body,
                          size_t len);
/* Random bytes as hex into out (2 * n + 1 bytes). 0 or AITAG_ERR_IO. */
int web_random_hex(char *out, size_t n);

/* api.c: the JSON API under /api/. */
enum MHD_Result web_api(struct aitag_web *w, struct MHD_Connection *conn, const char *method,
                        const char *url, const struct web_req *r);

/* jobs.c */
/* Starts a job from a request body {paths: [...], analyzers?}; *id its id. 0, or
 * AITAG_ERR_INVALID naming the field, AITAG_ERR_IO/NOMEM, with err set. */
int web_job_start(struct aitag_web *w, json_t *body, int *id, char *err, size_t errlen);
/* SIGTERM to a running job. 0 or AITAG_ERR_NOTFOUND. */
int web_job_stop(struct aitag_web *w, int id);
/* Job id as JSON, or (id 0) every job, newest first; NULL for an unknown id. */
json_t *web_jobs_json(struct aitag_web *w, int id);
/* GET /api/jobs/ID/events: the job's state as Server-Sent Events until it ends. */
enum MHD_Result web_job_events(struct aitag_web *w, struct MHD_Connection *conn, int id);
/* At shutdown: stops the running jobs, ends the streams, waits for the readers. */
void web_jobs_stop_all(struct aitag_web *w);

/* people_api.c: /api/people... and /api/faces/ID/crop; *handled 0 when url is not one. */
enum MHD_Result web_people_api(struct aitag_web *w, struct MHD_Connection *conn, const char *method,
                               const char *url, const struct web_req *r, int *handled);

/* files.c */
/* GET /api/faces/ID/crop: the face (a margin around its box) as a JPEG, made once. */
enum MHD_Result web_face_crop(struct aitag_web *w, struct MHD_Connection *conn, int64_t face_id);
/* GET of a front-end file (url "/" is index.html): only regular files under static_dir. */
enum MHD_Result web_static(struct aitag_web *w, struct MHD_Connection *conn, const char *url);
/* Parses a Range header (a client's bytes) against a file of size bytes into [*from, *to]: 1
 * when one byte range applies, 0 when the header is absent or not a single byte range (the
 * whole file is sent), -1 when it cannot be satisfied. */
int web_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to);
/* GET /api/items/ID/media: the item's file, with range requests. */
enum MHD_Result web_media(struct aitag_web *w, struct MHD_Connection *conn, int64_t id);
/* GET /api/items/ID/thumb: a JPEG made once per fingerprint. */
enum MHD_Result web_thumb(struct aitag_web *w, struct MHD_Connection *conn, int64_t id);

#endif
