/* catalog_int.h - internals shared by the catalog's files. */
#ifndef AITAG_CATALOG_INT_H
#define AITAG_CATALOG_INT_H

#include "aitag/catalog.h"
#include "sql.h"

/* open_state.c: a SQLite catalog's lock file (CATALOG-lock): was it closed cleanly, and is it
 * in use (see its design note). fd -1: none. */
struct catalog_state {
    int fd;
    int alone;   /* holds the exclusive lock (between _open and _settle, or after _take) */
    int suspect; /* the last session did not close cleanly and no check has passed since */
    int readonly;
};

struct aitag_catalog {
    const struct catalog_ops *ops; /* the backend (sql.h) */
    void *conn;                    /* its connection: sqlite3 * or PGconn * */
    int sql_rc; /* the last failing SQLite result code (extended), 0 if none or PostgreSQL */
    char errmsg[512];
    char *backend_err;  /* the PostgreSQL backend's last error text, owned */
    void *pg_listening; /* the PostgreSQL connection that LISTENs for jobs, if any */
    int trouble;        /* CATALOG_FULL or CATALOG_DAMAGED: what the last failure meant, or 0 */
    char pg_state[6];   /* the SQLSTATE of PostgreSQL's last failure ("" for none) */
    char *path;         /* the SQLite file (NULL: PostgreSQL), for messages */
    struct catalog_state state;
    struct aitag_claim_owner lock_owner; /* claims.c: who holds this handle's locks */
};

/* Converts a statement's result code once, at the boundary: 0 for OK/DONE/ROW, else
 * AITAG_ERR_DB with the message (and what was being done) stored on the handle. */
int catalog_sql_check(struct aitag_catalog *c, int rc, const char *what);
/* Runs SQL text with no results. */
int catalog_sql_exec(struct aitag_catalog *c, const char *sql);
int catalog_sql_prepare(struct aitag_catalog *c, const char *sql, struct catalog_stmt **st);
/* jobs.c: the database server's clock, unix milliseconds (one clock for every worker). */
int catalog_now_ms(struct aitag_catalog *c, int64_t *ms);
/* claims.c: aitag_catalog_lock on SQLite: a claim of "lock:NAME" held by the handle, waited
 * for while another live process holds it. */
int catalog_claim_lock(struct aitag_catalog *c, const char *name, int lock);
/* sqlite_backend.c: a system error in a user's words ("permission denied", "read-only file
 * system", ...). */
const char *catalog_errno_reason(int e);
/* open_state.c: the lock file's path (CATALOG-lock) into buf. */
const char *catalog_lock_path(const char *path, char *buf, size_t len);
/* Takes part in the lock file at open: *suspect = 1 when this handle is alone and the last
 * session did not close cleanly (then check the file before settling). Never fails: without a
 * lock file (fd -1) the catalog opens as before. */
int catalog_state_open(struct catalog_state *s, const char *path, int readonly, int *suspect);
/* After the open's check (checked_sound: the check ran and found nothing), lets others in. */
void catalog_state_settle(struct catalog_state *s, int checked_sound);
/* At close: the last handle out writes "clean". */
void catalog_state_close(struct catalog_state *s);
/* Takes the catalog for itself (restore): 0, or AITAG_ERR_INVALID when another process has it
 * open (an aitag handle or any SQLite program), AITAG_ERR_IO; errbuf says which. */
int catalog_state_take(struct catalog_state *s, const char *path, char *errbuf, size_t errlen);
/* Ends _take: the catalog is clean and free again. */
void catalog_state_release(struct catalog_state *s);
/* maintenance.c: a row of integrity_check / quick_check on one line (its "*** in database
 * main ***" heading dropped). Returns buf. */
const char *catalog_problem_text(const char *raw, char *buf, size_t len);
/* sqlite_backend.c: what a failing SQLite result code means for the user: CATALOG_FULL (the
 * disk is full), CATALOG_DAMAGED (the file is corrupt or not a database), else 0. */
enum { CATALOG_FULL = 1, CATALOG_DAMAGED = 2 };
int catalog_sqlite_trouble(struct aitag_catalog *c, int rc);
/* pg_backend.c: the same for PostgreSQL's last failure: its disk full (SQLSTATE 53100) or data
 * found damaged (XX001, XX002); 0 otherwise. */
int catalog_pg_trouble(const struct aitag_catalog *c);

/* Starts a write transaction / COMMIT / ROLLBACK. */
int catalog_sql_begin(struct aitag_catalog *c);
int catalog_sql_commit(struct aitag_catalog *c);
void catalog_sql_rollback(struct aitag_catalog *c);

/* shots.c: replaces the item's stored shots with n shots (n == 0: deletes them), inside an
 * open transaction. */
int catalog_shots_store(struct aitag_catalog *c, int64_t media_id, const struct aitag_shot *shots,
                        size_t n);

/* faces.c: true for a face_attrs "face" item with a box and an embedding (a faces row). */
int catalog_face_embedded(const struct aitag_evidence *e);
/* Deletes every faces row of an item (its file changed). */
int catalog_faces_clear(struct aitag_catalog *c, int64_t media_id);
/* Replaces an item's faces with the embedded faces among ev (n items) of the face_attrs
 * analysis with key, frames frame_w x frame_h (displayed) pixels, inside an open transaction;
 * old rows matching a new face keep their id and person (faces.c). */
int catalog_faces_replace(struct aitag_catalog *c, int64_t media_id,
                          const struct aitag_evidence *ev, size_t n, const char *key, int frame_w,
                          int frame_h);
/* The same for an item being committed: does nothing unless face_attrs is among it->ran. */
int catalog_faces_store(struct aitag_catalog *c, int64_t media_id, const struct aitag_item *it);

/* items.c: everything a derivation of an item reads (evidence, the people's faces as
 * evidence, sampling, shots, learned thresholds), with `in` pointing into it. */
struct catalog_derive_buf {
    struct aitag_evidence_list ev;
    struct aitag_sampling *samp;
    char **names;
    size_t n_samp;
    struct aitag_shot *shots;
    size_t n_shots;
    struct aitag_label_threshold *thresholds;
    size_t n_thresholds;
    struct aitag_derive_input in;
};
int catalog_derive_load(struct aitag_catalog *c, int64_t media_id, struct catalog_derive_buf *b);
void catalog_derive_buf_clear(struct catalog_derive_buf *b);

/* learn.c: the learned thresholds of the labels in the item's evidence (media_id 0: all),
 * labels owned; freed with catalog_thresholds_free. */
int catalog_thresholds_load(struct aitag_catalog *c, int64_t media_id,
                            struct aitag_label_threshold **out, size_t *n);
void catalog_thresholds_free(struct aitag_label_threshold *t, size_t n);

/* Derives and stores results for a media id inside an open transaction. */
int catalog_derive_locked(struct aitag_catalog *c, int64_t media_id, const struct aitag_policy *p);

/* people_user.c: appends the faces of the item's named, shown people as evidence (analyzer
 * "people", label "person:NAME"). 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int catalog_people_evidence(struct aitag_catalog *c, int64_t media_id,
                            struct aitag_evidence_list *ev);
/* people_user.c: 0 when person id exists, else AITAG_ERR_NOTFOUND with "ID N: no such person"
 * on the handle (catalog_person_missing sets that message). */
int catalog_person_check(struct aitag_catalog *c, int64_t id);
/* Why name cannot be a person's name ("is empty", ...), or NULL when it can. */
const char *catalog_person_name_problem(const char *name);
/* people_user.c: the derive key of an item under policy p: the policy's key when no named,
 * shown person has a face in it, else a sha256 of that key and those faces (person, face,
 * time), so a change to the item's people is a change of key. 0, AITAG_ERR_DB/NOMEM. */
int catalog_derive_key(struct aitag_catalog *c, int64_t media_id, const struct aitag_policy *p,
                       char key[65]);
int catalog_person_missing(struct aitag_catalog *c, int64_t id);

/* decisions.c: applies the item's stored decisions to r (a fresh derivation), in the order
 * made. 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int catalog_apply_decisions(struct aitag_catalog *c, int64_t media_id, struct aitag_result *r);

#endif
