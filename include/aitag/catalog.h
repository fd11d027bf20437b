/*
 * aitag/catalog.h - the catalog: the single source of truth for media, analyses, evidence and
 * the tags, markers and text derived from it. A SQLite file (a path: the embedded default) or
 * a PostgreSQL database (a postgresql:// URL, shared by several machines: docs/scale.md);
 * both hold the same tables and give the same answers.
 *
 * Usage:
 *     struct aitag_catalog *c;
 *     char err[256];
 *     if (aitag_catalog_open("aitag.db", 0, &c, err, sizeof err) < 0) die(err);
 *     struct aitag_media_row row;
 *     if (aitag_catalog_find_media(c, path, &row) == 0) ...;
 *     aitag_catalog_commit_item(c, &item);        // one transaction per media item
 *     aitag_catalog_close(c);
 *
 * Durability: WAL mode, synchronous=NORMAL, one transaction per media item. A kill at any
 * moment loses at most the item in flight; nothing half-written is ever visible. Schema changes
 * are versioned migrations keyed by PRAGMA user_version, applied in one transaction at open.
 *
 * Identity: a media item is its path; "unchanged" means same size, same mtime and same content
 * fingerprint (the OpenSubtitles hash: size + 64-bit word sums of the first and last 64 KiB).
 * An analysis is (media, analyzer, key); equal keys on an unchanged file mean the stored
 * evidence stands and no model needs to run. A file that moved keeps its item: the tagger
 * finds the item by size and fingerprint (aitag_catalog_each_match) and moves it to the new
 * path (aitag_catalog_move_media).
 *
 * Missing items: an item whose file is gone is marked missing (aitag_catalog_set_missing); it
 * keeps everything stored, is left out of search, and is deleted only by
 * aitag_catalog_delete_media (`aitag prune`). Storing it again clears the mark.
 *
 * Thread-safety: one connection per handle; a handle belongs to one thread at a time. Several
 * handles (threads or processes) may use one catalog file.
 */
#ifndef AITAG_CATALOG_H
#define AITAG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "aitag/evidence.h"
#include "aitag/media.h"
#include "aitag/policy.h"

#define AITAG_CATALOG_SCHEMA_VERSION 10

struct aitag_catalog;

/* Opens (creating and migrating) a catalog, creating the folders above path. readonly: open an
 * existing file without writing (an older schema is still migrated once); a missing file then
 * gives AITAG_ERR_NOTFOUND. Errors in errbuf, as "PATH: reason" ("permission denied", "not a
 * database", "read-only ..."). Close with _close. */
int aitag_catalog_open(const char *path, int readonly, struct aitag_catalog **out, char *errbuf,
                       size_t errlen);
void aitag_catalog_close(struct aitag_catalog *c);
const char *aitag_catalog_errmsg(const struct aitag_catalog *c);
/* Nonzero when the handle's last failure means no later write can succeed either until the
 * user acts: the catalog's disk is full, or its file is damaged (the message, naming the
 * catalog, says which and what to do). A run should stop rather than fail every item. */
int aitag_catalog_write_blocked(const struct aitag_catalog *c);

/* Upkeep of a catalog file (docs/catalog.md "Backups, damage and a full disk"). Each works on
 * a target as given to _open, from a process of its own; errors in errbuf, naming the file.
 *
 * A SQLite catalog whose last session did not close cleanly (a crash, a kill, power lost: the
 * lock file CATALOG-lock beside it says so) is checked on its next open with PRAGMA
 * quick_check, and refused as damaged when that finds a problem. */
typedef void (*aitag_problem_fn)(void *ctx, const char *problem);
/* Checks the catalog for damage: SQLite's integrity_check (quick: quick_check, which skips
 * comparing indexes with their tables) and foreign_key_check, each problem found to fn (may be
 * NULL), at most 100 of each, counted in *problems. PostgreSQL: connects and checks the schema
 * version (the server guards its pages and references itself). Returns 0 when the check ran,
 * whatever it found; < 0 when the catalog could not be read at all. */
int aitag_catalog_check(const char *target, int quick, aitag_problem_fn fn, void *ctx,
                        int64_t *problems, char *errbuf, size_t errlen);
/* Writes a consistent copy of the SQLite catalog target to the new file dest (the catalog as
 * of one moment, while other processes go on writing) and DEST.sha256 beside it. Refuses a
 * dest that exists and a PostgreSQL catalog (AITAG_ERR_INVALID: pg_dump is its backup). 0,
 * AITAG_ERR_INVALID, AITAG_ERR_NOTFOUND, AITAG_ERR_IO or AITAG_ERR_DB. */
int aitag_catalog_backup(const char *target, const char *dest, char *errbuf, size_t errlen);
/* Replaces the SQLite catalog target by the backup src, after verifying a copy of it (its
 * SRC.sha256 when there is one, else *unsummed = 1; integrity_check; an aitag catalog of a
 * known schema). The old file, with its WAL, is kept at aside (aside_len bytes; "" when there
 * was none). Refused while another process has target open, and for PostgreSQL
 * (AITAG_ERR_INVALID, like a backup that fails verification; target is then untouched). */
int aitag_catalog_restore(const char *target, const char *src, int *unsummed, char *aside,
                          size_t aside_len, char *errbuf, size_t errlen);

/* 1 when target names a PostgreSQL catalog (postgresql:// or postgres://), else 0 (a file). */
int aitag_catalog_is_url(const char *target);
/* target as it may be shown: a URL's password replaced by ***. Returns buf. */
const char *aitag_catalog_target_name(const char *target, char *buf, size_t len);

/* Computes the content fingerprint (16 hex digits) of a file. 0 or AITAG_ERR_IO. */
int aitag_fingerprint_file(const char *path, int64_t *size, char hex[17]);

struct aitag_media_row {
    int64_t id;
    int64_t size;
    int64_t mtime_ns;
    char fingerprint[17];
    char derive_key[65];
    char status[16]; /* "ok", "partial", "error" */
    int missing;     /* the file was gone when last looked for (see set_missing) */
    char error[512];
    double duration;
    int is_image;
};

/* Looks a path up. 0 with *row filled, AITAG_ERR_NOTFOUND, or AITAG_ERR_DB. */
int aitag_catalog_find_media(struct aitag_catalog *c, const char *path,
                             struct aitag_media_row *row);

/* The same by item id. 0, AITAG_ERR_NOTFOUND or AITAG_ERR_DB. */
int aitag_catalog_get_media(struct aitag_catalog *c, int64_t media_id, struct aitag_media_row *row);

/* Called with each item of a listing: its path (borrowed for the call), id and missing mark.
 * Returning non-zero stops the listing. */
typedef int (*aitag_catalog_item_fn)(void *ctx, const char *path, int64_t media_id, int missing);

/* Lists items in path order: with under non-NULL only the item at that path and those below it
 * as a folder ("/a" lists "/a" and "/a/x", not "/ab"); with only_missing those marked missing.
 * 0 or AITAG_ERR_DB (also when fn stopped early: 0). */
int aitag_catalog_each_item(struct aitag_catalog *c, const char *under, int only_missing,
                            aitag_catalog_item_fn fn, void *ctx);

/* Lists the items whose stored size and fingerprint equal these (candidates for a file that
 * moved), oldest first. 0 or AITAG_ERR_DB. */
int aitag_catalog_each_match(struct aitag_catalog *c, int64_t size, const char *fingerprint,
                             aitag_catalog_item_fn fn, void *ctx);

/* Sets (missing = 1) or clears the missing mark of n items, in one transaction. */
int aitag_catalog_set_missing(struct aitag_catalog *c, const int64_t *media_ids, size_t n,
                              int missing);

/* Moves an item to new_path with the file's current mtime, clearing its missing mark; all it
 * stores stays. AITAG_ERR_DB (with the reason) when another item already has new_path. */
int aitag_catalog_move_media(struct aitag_catalog *c, int64_t media_id, const char *new_path,
                             int64_t mtime_ns);

/* Deletes an item and everything stored for it (analyses, evidence, shots, tags, markers,
 * text). */
int aitag_catalog_delete_media(struct aitag_catalog *c, int64_t media_id);

/* The stored analysis key of an analyzer for a media id into key (size keylen); "" if none.
 * Returns 0, or AITAG_ERR_DB. */
int aitag_catalog_analysis_key(struct aitag_catalog *c, int64_t media_id, const char *analyzer,
                               char *key, size_t keylen);

/* One analysed item to store atomically. */
struct aitag_item {
    const char *path;
    int64_t size;
    int64_t mtime_ns;
    const char *fingerprint;
    const struct aitag_probe *probe;
    /* analyzers that ran now: their previous evidence is replaced by this evidence */
    const struct aitag_sampling *ran;
    const char *const *ran_keys; /* parallel to ran */
    size_t n_ran;
    const char *strategy; /* sampler strategy, for the record */
    const struct aitag_evidence *evidence;
    size_t n_evidence;
    const char *status; /* "ok" or "partial" */
    const char *error;  /* for "partial": why (e.g. truncated) */
    int64_t run_id;
    /* shots found while sampling (may be none: images, or a sampling that finds none); when
     * n_shots > 0 they replace the item's stored shots */
    const struct aitag_shot *shots;
    size_t n_shots;
};

/* Stores an item in one transaction: upserts the media row (a changed file drops all its old
 * analyses, evidence, faces and shots first), replaces evidence of the analyzers that ran (and
 * the item's faces when face_attrs ran: see "Faces and people" below) and, when
 * item->n_shots > 0, the stored shots, then re-derives tags, markers and text from all stored
 * evidence and shots with policy p. 0 or AITAG_ERR_DB/NOMEM. */
int aitag_catalog_commit_item(struct aitag_catalog *c, const struct aitag_item *item,
                              const struct aitag_policy *p);

/* Re-derives an unchanged item's results under policy p from stored evidence (one
 * transaction); does nothing when the stored derive key is still the one p and the item's named
 * people give (the policy's key, mixed with the item's faces of named people when it has
 * some: a person named or given faces since re-derives it). */
int aitag_catalog_rederive(struct aitag_catalog *c, int64_t media_id, const struct aitag_policy *p);

/* Records a failure for path. A known item keeps its results (status stays, error updated);
 * an unknown one gets an "error" row. No write happens when nothing would change. */
int aitag_catalog_record_error(struct aitag_catalog *c, const char *path, int64_t size,
                               int64_t mtime_ns, const char *message);

/* Loads the derived results of a media id into out (which must be empty), its stored shots
 * (by start) included. */
int aitag_catalog_load_result(struct aitag_catalog *c, int64_t media_id, struct aitag_result *out);

/* Loads an item's stored shots, by start. On success *out (n shots, possibly none; NULL when
 * none) is freed by the caller with free(). 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int aitag_catalog_load_shots(struct aitag_catalog *c, int64_t media_id, struct aitag_shot **out,
                             size_t *n);

/* Loads stored evidence (all analyzers) into out. */
int aitag_catalog_load_evidence(struct aitag_catalog *c, int64_t media_id,
                                struct aitag_evidence_list *out);

/* One stored analysis of an item. */
struct aitag_analysis_row {
    char analyzer[64];
    char key[512];   /* the analysis key (models and parameters) */
    double interval; /* seconds between sampled frames; 0 for images */
    int n_frames;
    char strategy[16];
};

/* Loads an item's stored analyses, by analyzer name. On success *out (n rows, possibly none)
 * is freed by the caller with free(). 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int aitag_catalog_load_analyses(struct aitag_catalog *c, int64_t media_id,
                                struct aitag_analysis_row **out, size_t *n);

/* Starts a run record (model versions and parameters as JSON text); returns its id. */
int aitag_catalog_begin_run(struct aitag_catalog *c, const char *params_json, int64_t *run_id);
int aitag_catalog_end_run(struct aitag_catalog *c, int64_t run_id, int tagged, int skipped,
                          int failed, double seconds, double media_seconds);

/* ---- People synced to Stash performers (schema 5; src/catalog/stash_links.c) ----
 *
 * A person is linked to at most one Stash performer. Each Stash item (kind "scene" or
 * "image", Stash's id) the performer was added to is recorded as "added"; one the user took
 * the performer off again is "removed" and is never added back. Deleting the person deletes
 * its link and item states. */

/* One named, non-ignored person with the media their faces appear in (items marked missing
 * left out), paths in path order. Owned strings; freed with aitag_catalog_named_people_free. */
struct aitag_named_person {
    int64_t id;
    char *name;
    char **paths;
    int *is_image; /* parallel to paths: 1 for a photo, 0 for a video */
    size_t n_paths;
};

/* Every named (non-empty name), non-ignored person, by id, with their media. *out is NULL
 * when there are none. 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int aitag_catalog_named_people(struct aitag_catalog *c, struct aitag_named_person **out, size_t *n);
void aitag_catalog_named_people_free(struct aitag_named_person *people, size_t n);

/* The face that stands for a person: the cover face when one is set, else the best by quality,
 * detector score and size (media marked missing left out). path is owned by the caller. */
struct aitag_person_face {
    char *path;
    int is_image;
    double t;          /* seconds into a video; 0 for a photo */
    double x, y, w, h; /* box in 0..1 of the frame */
};

/* 0 with *out filled, AITAG_ERR_NOTFOUND when the person has no face, or AITAG_ERR_DB. */
int aitag_catalog_person_best_face(struct aitag_catalog *c, int64_t person_id,
                                   struct aitag_person_face *out);
void aitag_catalog_person_face_clear(struct aitag_person_face *f);

/* The performer id linked to person_id into *performer_id (malloc'd) and whether aitag
 * created it; AITAG_ERR_NOTFOUND when the person has no link. */
int aitag_catalog_stash_performer(struct aitag_catalog *c, int64_t person_id, char **performer_id,
                                  int *created);
/* Links person_id to performer_id (replacing an earlier link). */
int aitag_catalog_stash_link(struct aitag_catalog *c, int64_t person_id, const char *performer_id,
                             int created);
/* Drops the link and every item state of person_id (the performer is gone from Stash). */
int aitag_catalog_stash_unlink(struct aitag_catalog *c, int64_t person_id);

/* The recorded state of a Stash item for person_id into state ("added" or "removed");
 * AITAG_ERR_NOTFOUND when none is recorded. kind: "scene" or "image". */
int aitag_catalog_stash_item_state(struct aitag_catalog *c, int64_t person_id, const char *kind,
                                   const char *item_id, char state[16]);
/* Records state ("added" or "removed") of a Stash item for person_id. */
int aitag_catalog_stash_set_item_state(struct aitag_catalog *c, int64_t person_id, const char *kind,
                                       const char *item_id, const char *state);

/* Reference faces (schema 6): a face known to be someone's before any clustering, such as a
 * Stash performer's image. Each comes from an image named by (source, ref) ("stash" and the
 * performer id) whose version is image_key (the image URL Stash answers changes with it), and
 * stands for person_id in the people engine: faces near it join that person. A reference
 * without an embedding records an image that had no usable face, or one whose person the user
 * forgot; either way it is not fetched again until image_key changes. */
struct aitag_person_ref {
    const char *source, *ref, *image_key;
    int64_t person_id;      /* 0: none */
    const char *model;      /* embedding model (aitag_catalog_face_model_of_key); NULL: none */
    const float *embedding; /* dim floats, L2-normalised; NULL: none */
    size_t dim;
    float quality;
};

/* The stored image_key (into key, len bytes) and person (*person_id, 0 for none) of reference
 * (source, ref): 0, AITAG_ERR_NOTFOUND or AITAG_ERR_DB. */
int aitag_catalog_person_ref(struct aitag_catalog *c, const char *source, const char *ref,
                             char *key, size_t len, int64_t *person_id);
/* Stores reference (source, ref), replacing what was stored for it. */
int aitag_catalog_put_person_ref(struct aitag_catalog *c, const struct aitag_person_ref *r);
/* Deletes the references of source whose ref is not among keep[0..n) (their images are gone);
 * *dropped (may be NULL) receives how many. The people stay. */
int aitag_catalog_drop_person_refs(struct aitag_catalog *c, const char *source,
                                   const char *const *keep, size_t n, int *dropped);

/* The reference faces of one embedding model that stand for a person, for the people engine:
 * person ids and qualities, embeddings in one array (row i at vecs + i * dim), by person. */
struct aitag_ref_set {
    int64_t *person_ids;
    float *qualities;
    float *vecs;
    size_t n, dim;
};
int aitag_catalog_load_person_refs(struct aitag_catalog *c, const char *model,
                                   struct aitag_ref_set *out);
void aitag_ref_set_free(struct aitag_ref_set *s);

/* The embedding model's identity within a face_attrs analysis key (what faces.model holds),
 * into out. */
void aitag_catalog_face_model_of_key(const char *key, char *out, size_t len);

/* The person linked to Stash performer performer_id into *person_id: 0 or AITAG_ERR_NOTFOUND. */
int aitag_catalog_stash_person_of(struct aitag_catalog *c, const char *performer_id,
                                  int64_t *person_id);
/* The person named name (ignoring case) into *id: 0 or AITAG_ERR_NOTFOUND. */
int aitag_catalog_person_by_name(struct aitag_catalog *c, const char *name, int64_t *id);
/* A new person without faces, named name (checked as aitag_catalog_name_person does; NULL:
 * unnamed), of origin ("cluster", "user" or "stash"), into *id. */
int aitag_catalog_add_person(struct aitag_catalog *c, const char *name, const char *origin,
                             int64_t *id);

/* Media whose tags match: all of names (any = 0) or any of them (any = 1). Calls fn for each
 * (path, media id) in path order; fn returning non-zero stops. Tag names match exactly,
 * case-insensitively. Items marked missing are left out. */
int aitag_catalog_search(struct aitag_catalog *c, const char *const *names, size_t n, int any,
                         int (*fn)(void *ctx, const char *path, int64_t media_id), void *ctx);

/* Concept search (aitag search QUERY): fn for each distinct tag name of items not missing,
 * by name, with the label it was derived from and how many items carry it; fn returning
 * non-zero stops. 0 or AITAG_ERR_DB. */
int aitag_catalog_each_tag_name(struct aitag_catalog *c,
                                int (*fn)(void *ctx, const char *name, const char *label,
                                          int64_t n_items),
                                void *ctx);
/* fn for each item (not missing) carrying tag name exactly, by path, with the tag's
 * confidence. */
int aitag_catalog_each_tagged(struct aitag_catalog *c, const char *name,
                              int (*fn)(void *ctx, const char *path, int64_t media_id,
                                        float confidence),
                              void *ctx);
/* fn once per distinct word of the recognised texts (transcripts and OCR lines, as the
 * full-text index splits them: lower case, accents removed), with the count of lines holding
 * it; fn returns non-zero to stop. 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int aitag_catalog_each_text_word(struct aitag_catalog *c,
                                 int (*fn)(void *ctx, const char *word, int64_t n_lines),
                                 void *ctx);
/* fn once per stored embedding of analyzer (evidence whose details carry one: a CLIP image
 * embedding per sampled frame, say) of items not missing, with the item's path and id; fn
 * returns non-zero to stop. 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int aitag_catalog_each_embedding(struct aitag_catalog *c, const char *analyzer,
                                 int (*fn)(void *ctx, const char *path, int64_t media_id,
                                           const double *v, int n),
                                 void *ctx);
/* fn once per item (not missing) whose recognised text holds word, with one such text, what
 * read it (source: "text" for OCR, "speech" for a transcript) and its best confidence. OCR
 * lines are matched by substring, any case (OCR drops spaces); transcript lines through the
 * full-text index (texts_fts), word by word, any case and accents. */
int aitag_catalog_each_text_match(struct aitag_catalog *c, const char *word,
                                  int (*fn)(void *ctx, const char *path, int64_t media_id,
                                            const char *text, const char *source, float confidence),
                                  void *ctx);

/* Probe facts stored for a media id (kind, duration, size, codecs). */
int aitag_catalog_load_probe(struct aitag_catalog *c, int64_t media_id, struct aitag_probe *out);

/* Counts rows in a table (for tests and `aitag stats`); table must be a known table name. */
int aitag_catalog_count(struct aitag_catalog *c, const char *table, int64_t *n);

/* ---- Faces and people (schema 4; the people engine is include/aitag/people.h) ----
 *
 * Every "face" item of the face_attrs analyzer that carries an embedding becomes one faces row,
 * written by aitag_catalog_commit_item in the transaction that stores the item's evidence: a
 * kill never leaves faces without their evidence, nor evidence without its faces. Storing the
 * item again (re-tagging) replaces its faces; a new face at the same time with a box that
 * overlaps an old one (IoU >= 0.5) keeps the old row's id, person and how it was assigned, so a
 * re-tag undoes no naming, merging or rejecting. Tracks of a re-stored item are cleared (the
 * people engine links them again). */

/* How a face's person was set (faces.assigned). */
enum aitag_face_assigned {
    AITAG_FACE_NONE = 0, /* no person */
    AITAG_FACE_AUTO = 1, /* by clustering: a re-cluster may change it */
    AITAG_FACE_USER = 2, /* by a person command: never changed by clustering */
};

/* The faces of one embedding model, embeddings in one contiguous array (row i at
 * vecs + i * dim), in (media, time, id) order. */
struct aitag_face_row {
    int64_t id, media_id;
    double t;
    struct aitag_box box;
    float score, quality;
    int64_t track;     /* 0: none */
    int64_t person_id; /* 0: none */
    enum aitag_face_assigned assigned;
    int is_video; /* the item is a video (faces of photos have no track) */
};
struct aitag_face_set {
    struct aitag_face_row *rows;
    float *vecs;
    size_t n, dim;
    char model[256]; /* the embedding model these faces share */
};

/* The model of the most recently stored face into model (len bytes); "" when there are no
 * faces. 0 or AITAG_ERR_DB. */
int aitag_catalog_faces_model(struct aitag_catalog *c, char *model, size_t len);

/* Loads every face whose embedding model is model (NULL: the most recent model, as
 * aitag_catalog_faces_model) into *out (emptied first; free with aitag_face_set_free). Faces
 * whose embedding has another length than the first one's are skipped. 0, AITAG_ERR_DB or
 * AITAG_ERR_NOMEM. */
int aitag_catalog_load_faces(struct aitag_catalog *c, const char *model,
                             struct aitag_face_set *out);
void aitag_face_set_free(struct aitag_face_set *s);

/* One stored person. */
struct aitag_person_row {
    int64_t id;
    char name[256]; /* "" when unnamed */
    int ignored;
    int64_t cover_face; /* 0: none */
    char origin[16];    /* "cluster", "user" or "stash" */
};

/* Loads every person, by id, into *out (n rows, NULL when none; caller frees with free()).
 * 0, AITAG_ERR_DB or AITAG_ERR_NOMEM. */
int aitag_catalog_load_people(struct aitag_catalog *c, struct aitag_person_row **out, size_t *n);

/* A face the user took out of a person. */
struct aitag_face_reject {
    int64_t face_id, person_id;
};
/* Loads every face reject (by face id) into *out (caller frees with free()). */
int aitag_catalog_load_face_rejects(struct aitag_catalog *c, struct aitag_face_reject **out,
                                    size_t *n);

/* A change to one face's track and person. person_id > 0: an existing person; < 0: the new
 * person number -person_id - 1 of the write (see below); 0: none. */
struct aitag_face_change {
    int64_t face_id;
    int64_t track; /* 0: none */
    int64_t person_id;
    enum aitag_face_assigned assigned; /* AITAG_FACE_NONE or AITAG_FACE_AUTO */
};

/* What one clustering pass writes, in one transaction: n_new people created (origin
 * 'cluster', covers new_covers[k], a face id, or 0), the face changes (a face the user assigned
 * in the meantime is left alone; a face deleted in the meantime is skipped), then the people
 * of drop deleted when they have no face left and no name (auto-made people a re-cluster
 * emptied). new_ids (n_new entries, may be NULL) receives the new people's ids. */
struct aitag_people_write {
    size_t n_new;
    const int64_t *new_covers;
    const struct aitag_face_change *changes;
    size_t n_changes;
    const int64_t *drop;
    size_t n_drop;
};
int aitag_catalog_write_people(struct aitag_catalog *c, const struct aitag_people_write *w,
                               int64_t *new_ids);

/* Stores the faces of an item already in the catalog from its stored face_attrs evidence
 * (catalogs tagged before faces were stored): does nothing when the item has faces rows or no
 * face_attrs analysis. *added (may be NULL) receives the number of faces stored. */
int aitag_catalog_backfill_faces(struct aitag_catalog *c, int64_t media_id, int *added);

/* Ids of the items that have a face_attrs analysis but no faces rows (for backfill), in id
 * order; *out freed by the caller with free(). */
int aitag_catalog_items_without_faces(struct aitag_catalog *c, int64_t **out, size_t *n);

/* What to search for: media carrying all of the tags and showing all of the people (any = 0),
 * or any one of them (any = 1). Tag and person names match exactly, case-insensitively. */
struct aitag_search_query {
    const char *const *tags;
    size_t n_tags;
    const char *const *people; /* person names (aitag_catalog_name_person) */
    size_t n_people;
    int any;
};

/* aitag_catalog_search with people: calls fn for each matching (path, media id) in path
 * order, items marked missing left out. A person matches the media where any face of theirs
 * is. A name no shown person has (unknown, or the person is ignored) gives AITAG_ERR_NOTFOUND
 * with the name in the handle's message, and no call of fn. 0 or AITAG_ERR_DB/NOMEM. */
int aitag_catalog_search_query(struct aitag_catalog *c, const struct aitag_search_query *q,
                               int (*fn)(void *ctx, const char *path, int64_t media_id), void *ctx);

/*
 * People, the user's side (people_user.c, people_edit.c; docs/people.md). A person is a
 * stable id with faces (rows of the faces table) assigned to it by clustering ("auto") or by
 * a command here ("user"; a re-cluster never changes those). Named people who are not
 * ignored are evidence for the policy (analyzer "people", label "person:NAME", one item per
 * face, its confidence the face detector's), so they get tags and, in videos, markers like any
 * label, rules included. Each change below runs in one transaction that also re-derives the
 * media it touches with policy p (p NULL: their derive key is cleared, so the next `aitag tag`
 * re-derives them). Errors name the field: "ID 7: no such person", "NAME 'Ann': ...", with
 * AITAG_ERR_NOTFOUND or AITAG_ERR_INVALID and the message on the handle.
 */

/* One person, as listed. Strings are borrowed for the call. */
struct aitag_person {
    int64_t id;
    const char *name; /* NULL when unnamed */
    int ignored;
    int64_t n_faces;
    /* the cover: the person's chosen cover face, else their best face (quality, then
     * detector score); has_cover 0 when the person has no face */
    int has_cover;
    int64_t cover_face;
    const char *cover_path;
    double cover_t;
    struct aitag_box cover_box;
};

/* Called with each person; returning non-zero stops the listing. */
typedef int (*aitag_person_fn)(void *ctx, const struct aitag_person *p);

/* Lists people by id; ignored ones only with with_ignored. 0 or AITAG_ERR_DB. */
int aitag_catalog_each_person(struct aitag_catalog *c, int with_ignored, aitag_person_fn fn,
                              void *ctx);
/* Calls fn once with person id (ignored or not). 0, AITAG_ERR_NOTFOUND or AITAG_ERR_DB. */
int aitag_catalog_get_person(struct aitag_catalog *c, int64_t id, aitag_person_fn fn, void *ctx);

/* One face of a person. Strings are borrowed for the call. */
struct aitag_face {
    int64_t id;
    int64_t media_id;
    const char *path;
    double t;
    struct aitag_box box;
    float score;          /* detector confidence; -1 when not stored */
    float quality;        /* -1 when not stored */
    const char *assigned; /* "auto", "user" or "none" */
};

typedef int (*aitag_face_fn)(void *ctx, const struct aitag_face *f);

/* The faces of person id by path and time. 0, AITAG_ERR_NOTFOUND or AITAG_ERR_DB. */
int aitag_catalog_person_faces(struct aitag_catalog *c, int64_t id, aitag_face_fn fn, void *ctx);
/* Calls fn once with face face_id (whoever's it is). 0, AITAG_ERR_NOTFOUND or AITAG_ERR_DB. */
int aitag_catalog_get_face(struct aitag_catalog *c, int64_t face_id, aitag_face_fn fn, void *ctx);
/* The media where person id has faces, in path order, once each. 0, AITAG_ERR_NOTFOUND or
 * AITAG_ERR_DB. */
int aitag_catalog_person_media(struct aitag_catalog *c, int64_t id, aitag_catalog_item_fn fn,
                               void *ctx);

/* Names person id (or renames). Names are unique ignoring case; 1..200 bytes of UTF-8 text
 * without control characters or surrounding spaces. */
int aitag_catalog_name_person(struct aitag_catalog *c, int64_t id, const char *name,
                              const struct aitag_policy *p);
/* Merges ids[1..n) into ids[0]: their faces move to it and every face of the result is
 * assigned "user"; the others are deleted (the first one's name wins; an unnamed first takes
 * the first name among the others). Faces a merged person had rejected stay rejected. */
int aitag_catalog_merge_people(struct aitag_catalog *c, const int64_t *ids, size_t n,
                               const struct aitag_policy *p);
/* Moves n faces of person id into a new person (*new_id), assigned "user"; each face is
 * rejected from id for good (face_rejects). Every face must be id's. */
int aitag_catalog_split_person(struct aitag_catalog *c, int64_t id, const int64_t *face_ids,
                               size_t n, const struct aitag_policy *p, int64_t *new_id);
/* Hides person id: kept with its faces (assigned "user", so they never form a new person),
 * but no longer listed, searched or tagged. */
int aitag_catalog_ignore_person(struct aitag_catalog *c, int64_t id, const struct aitag_policy *p);
/* Shows an ignored person again (listed, searched, tagged); its faces stay its own, assigned
 * "user". A person not ignored is left as it is. */
int aitag_catalog_unignore_person(struct aitag_catalog *c, int64_t id,
                                  const struct aitag_policy *p);
/* Deletes person id, its faces with their embeddings, and the embeddings in the evidence of
 * those faces; with SQLite's secure_delete, then VACUUM and a truncating WAL checkpoint, so
 * no byte of them stays in the file, its free pages or its WAL. *n_faces: faces deleted. */
int aitag_catalog_forget_person(struct aitag_catalog *c, int64_t id, const struct aitag_policy *p,
                                int64_t *n_faces);
/* Re-derives, with policy p, every item where a named, shown person has a face and whose
 * derive key is out of date (aitag_catalog_rederive): after the clustering gave faces to named
 * people. *n (may be NULL) receives how many were re-derived. 0 or AITAG_ERR_DB/NOMEM. */
int aitag_catalog_rederive_people(struct aitag_catalog *c, const struct aitag_policy *p, int *n);
/* Re-derives n media with policy p in one transaction (for who changes which person faces
 * belong to: their tags and markers follow). p NULL clears their derive keys instead. */
int aitag_catalog_people_rederive(struct aitag_catalog *c, const int64_t *media_ids, size_t n,
                                  const struct aitag_policy *p);

/*
 * Decisions: the user's corrections of derived tags and markers (aitag/policy.h
 * "Corrections"). Each is stored with who made it, through what (source: "cli", "web",
 * "stash"), when, and what it judged, and applied by every derivation of the item after it
 * (aitag_catalog_commit_item, aitag_catalog_rederive, the people edits): a rejected tag is
 * never stored again, an accepted one stays. Decisions are kept in the order made; a later
 * one on the same tag or marker wins.
 */

/* One stored decision. Strings are borrowed for the call. */
struct aitag_decision_row {
    int64_t id, media_id;
    const char *path;
    struct aitag_decision d;
    const char *who, *source;
    const char *evidence; /* a JSON object, or NULL */
    int64_t at;           /* unix seconds */
};

typedef int (*aitag_decision_fn)(void *ctx, const struct aitag_decision_row *r);

/* Records a decision on a tag or marker of media_id as stored now, and re-derives the item
 * with p in the same transaction (p NULL: its derive key is cleared instead). What is judged
 * must be there: the item's tag d->tag, or (d->marker) a stored marker of d->tag matching
 * [d->start, d->end) (aitag_marker_matches; its stored bounds are what is recorded); else
 * AITAG_ERR_NOTFOUND with "TAG 'x': not a tag of this item" or "MARKER 'x' at 12.0-30.0: ...".
 * RENAME needs a new_tag of 1..200 bytes without control characters; BOUNDS a marker and
 * 0 <= new_start < new_end (else AITAG_ERR_INVALID naming the field). The confidence, label
 * and parent recorded are the stored tag's (d's are ignored). who and source are required;
 * evidence is a JSON object (text) or NULL. *id (may be NULL) receives the decision's id. */
int aitag_catalog_decide(struct aitag_catalog *c, int64_t media_id, const struct aitag_decision *d,
                         const char *who, const char *source, const char *evidence,
                         const struct aitag_policy *p, int64_t *id);
/* Calls fn with each decision of media_id (0: of every item) in the order made; fn returning
 * non-zero stops. 0 or AITAG_ERR_DB. */
int aitag_catalog_each_decision(struct aitag_catalog *c, int64_t media_id, aitag_decision_fn fn,
                                void *ctx);

/* What the Stash plugin last wrote of ours on a Stash item: its tags (marker 0) and markers.
 * A tag or marker in this record that the item no longer has in Stash was taken off by the
 * user, and becomes a rejection (source "stash"), so no later run adds it back. */
struct aitag_synced {
    const char *tag;
    int marker;
    double start, end; /* markers only */
};

typedef int (*aitag_synced_fn)(void *ctx, const struct aitag_synced *s);

/* Calls fn with each entry of the record of Stash item (kind "scene" or "image", id) written
 * while it was catalog item media_id (a record of another file under the same Stash id, after
 * a Stash database was replaced, is not this item's). fn returning non-zero stops. 0 or
 * AITAG_ERR_DB. */
int aitag_catalog_each_stash_synced(struct aitag_catalog *c, const char *kind, const char *item_id,
                                    int64_t media_id, aitag_synced_fn fn, void *ctx);
/* Replaces the record of Stash item (kind, id), which is catalog item media_id, with the tags
 * and markers of r, in one transaction. 0 or AITAG_ERR_DB. */
int aitag_catalog_set_stash_synced(struct aitag_catalog *c, const char *kind, const char *item_id,
                                   int64_t media_id, const struct aitag_result *r);

/* One tag of an item waiting for review. Strings are borrowed for the call. */
struct aitag_review_entry {
    int64_t media_id;
    const char *path;
    const char *tag;
    float confidence;
    int64_t tag_items; /* how many items have the tag */
    double priority;   /* what the queue is ordered by, highest first */
};

typedef int (*aitag_review_fn)(void *ctx, const struct aitag_review_entry *e);

/* The review queue: every stored tag of a present item that no decision has judged (neither
 * the tag, nor a tag renamed to it), ordered by what a decision teaches most: low confidence
 * first, weighed by how many items have the tag ((1 - confidence) * n / (n + 5)), then by tag
 * and path. tag: only that tag (NULL: all). At most limit entries (0: no limit). fn returning
 * non-zero stops. 0 or AITAG_ERR_DB. */
int aitag_catalog_review_queue(struct aitag_catalog *c, const char *tag, int64_t limit,
                               aitag_review_fn fn, void *ctx);

/*
 * Learning: a label's threshold fitted to the user's decisions on its tags (aitag/policy.h,
 * aitag_threshold_fit), proposed, and used by every derivation once accepted.
 */

/* Labels with at least min_decisions judged items (the latest accept or reject per item),
 * most judged first: fn(ctx, label, accepted, rejected); non-zero stops. 0 or AITAG_ERR_DB. */
typedef int (*aitag_fit_label_fn)(void *ctx, const char *label, int accepted, int rejected);
int aitag_catalog_each_fit_label(struct aitag_catalog *c, int min_decisions, aitag_fit_label_fn fn,
                                 void *ctx);
/* Fits label's threshold: every item whose evidence carries it is derived with policy p at
 * each candidate (0.05..0.75 by 0.05, 0.80..0.99 by 0.01, and the threshold in force), decisions
 * left out. Nothing is written. 0; AITAG_ERR_NOTFOUND ("LABEL 'x': no decisions to fit") when no
 * item of the label is judged; AITAG_ERR_DB/NOMEM. */
int aitag_catalog_fit_threshold(struct aitag_catalog *c, const struct aitag_policy *p,
                                const char *label, struct aitag_threshold_fit *out);
/* Uses threshold for label from now on (who accepted it; fit_json: the fit shown, or NULL),
 * and re-derives with p every item whose evidence carries the label, in one transaction;
 * *n_rederived (may be NULL) receives how many. 0, AITAG_ERR_INVALID naming the field, or
 * AITAG_ERR_DB. */
int aitag_catalog_learn_threshold(struct aitag_catalog *c, const struct aitag_policy *p,
                                  const char *label, float threshold, const char *who,
                                  const char *fit_json, int *n_rederived);
/* Goes back to the rules' threshold for label (re-deriving its items). 0, AITAG_ERR_NOTFOUND
 * when none was learned, or AITAG_ERR_DB. */
int aitag_catalog_forget_threshold(struct aitag_catalog *c, const struct aitag_policy *p,
                                   const char *label, int *n_rederived);

/* A context rule proposed from the decisions (src/catalog/learn_rules.c): suppress label in
 * an item unless context is there (unless 1: "no sports ball without a person") or where it is
 * there (unless 0). Strings borrowed for the call. */
struct aitag_rule_proposal {
    const char *label, *context;
    int unless;
    int rejected_explained; /* rejected items it would remove */
    int accepted_removed;   /* accepted items it would remove (0: such are not proposed) */
    int64_t library_items;  /* items of the whole library whose tag it would remove */
};
typedef int (*aitag_rule_proposal_fn)(void *ctx, const struct aitag_rule_proposal *p);
/* For each label with at least min_rejections rejected items, the rules that would remove at
 * least that many of them and no accepted item, best first (most rejections explained, then
 * fewest items of the library touched). Nothing is written. 0, AITAG_ERR_DB/NOMEM. */
int aitag_catalog_rule_proposals(struct aitag_catalog *c, int min_rejections,
                                 aitag_rule_proposal_fn fn, void *ctx);
/* The proposal as JSON text (caller frees; NULL when out of memory): label, context, unless,
 * rejected_explained, accepted_removed, library_items, and rule: the suppression as the
 * context rules file writes it (docs/context.md), to add to its "suppress" list. */
char *aitag_rule_proposal_json(const struct aitag_rule_proposal *p);

/* One learned threshold. Strings borrowed for the call. */
struct aitag_learned {
    const char *label;
    float threshold, previous;
    const char *who;
    int64_t at;
    const char *fit; /* JSON or NULL */
};
typedef int (*aitag_learned_fn)(void *ctx, const struct aitag_learned *l);
int aitag_catalog_each_learned(struct aitag_catalog *c, aitag_learned_fn fn, void *ctx);

/* Statistics for the review app's plots (src/catalog/stats.c). */
#define AITAG_CONF_BINS 20

/* One tag across the library: how many items carry it, their confidences in AITAG_CONF_BINS
 * bins over 0..1, and the decisions on it (latest per item). Strings borrowed for the call. */
struct aitag_tag_stats {
    const char *name, *label;
    int64_t items;
    int64_t bins[AITAG_CONF_BINS];
    int64_t accepted, rejected;
    float learned; /* the label's learned threshold, < 0 when none */
};
typedef int (*aitag_tag_stats_fn)(void *ctx, const struct aitag_tag_stats *s);
/* Calls fn for each tag name, most frequent first (at most limit; 0: all). 0 or AITAG_ERR_DB. */
int aitag_catalog_tag_stats(struct aitag_catalog *c, int64_t limit, aitag_tag_stats_fn fn,
                            void *ctx);
/* counts[k] = present items with k tags (k < n - 1), counts[n - 1] = with n - 1 or more. */
int aitag_catalog_tags_per_item(struct aitag_catalog *c, int64_t *counts, size_t n);

/* One run of the tagger, as recorded. */
struct aitag_run_row {
    int64_t id, started_at, finished_at; /* unix seconds (started: its first item stored);
                                            finished 0 when it never ended */
    int tagged, skipped, failed;
    double seconds, media_seconds; /* its wall time, the media it analysed; 0 when unknown */
};
typedef int (*aitag_run_fn)(void *ctx, const struct aitag_run_row *r);
/* The latest limit runs, oldest first. 0 or AITAG_ERR_DB. */
int aitag_catalog_each_run(struct aitag_catalog *c, int64_t limit, aitag_run_fn fn, void *ctx);

/* Browsing (the review app's library grid): one item as listed. Strings borrowed for the
 * call. */
struct aitag_browse_row {
    int64_t id;
    const char *path, *kind, *status, *fingerprint;
    double duration;
    int width, height;
    int missing;
    int64_t n_tags;
    const char *top_tags; /* its most confident tags (up to 4), joined by '\x1f'; may be NULL */
};

struct aitag_browse_query {
    int64_t id;            /* > 0: only this item */
    const char *tag;       /* only items with this tag (exact, ignoring case) */
    const char *words;     /* only items whose path, a tag name or a text line (full-text, as a
                              phrase) has these words */
    int64_t offset, limit; /* limit 0: no limit */
};

typedef int (*aitag_browse_fn)(void *ctx, const struct aitag_browse_row *r);

/* The items matching q by path, from offset, at most limit; *total (may be NULL) receives how
 * many match in all. fn returning non-zero stops. 0 or AITAG_ERR_DB. */
int aitag_catalog_browse(struct aitag_catalog *c, const struct aitag_browse_query *q,
                         aitag_browse_fn fn, void *ctx, int64_t *total);

/*
 * The job queue (docs/scale.md): paths to tag, shared by every worker of the catalog. A job is
 * queued, running (claimed by a worker holding a lease it renews), done, or dead (failed
 * max_attempts times; its last error kept). At most one queued or running job per path. A
 * worker that stops renewing loses its lease and its job is claimed again: delivery is at
 * least once, and a job done twice is stored once (a commit replaces the item's results).
 * On PostgreSQL claims skip rows another worker holds (FOR UPDATE SKIP LOCKED) and an enqueue
 * wakes idle workers (NOTIFY); on SQLite the write lock serialises claims and idle workers
 * poll. Times are unix milliseconds.
 */
#define AITAG_JOB_PRIORITY_NEW 10  /* a path the catalog does not hold yet */
#define AITAG_JOB_PRIORITY_RETAG 0 /* a path it holds: tagging again */

struct aitag_job {
    int64_t id;
    char path[4096];
    int attempts; /* this claim included */
    int priority;
};

/* Queues path (as the catalog names items: the library's path, not a worker's mount);
 * priority < 0: AITAG_JOB_PRIORITY_NEW or _RETAG by whether the catalog holds path. A path
 * already queued or running is not queued again (a higher priority is kept). *queued: 1 when
 * a job was added. source: who asked ("cli", "scan", "stash"). 0 or AITAG_ERR_DB. */
int aitag_catalog_enqueue(struct aitag_catalog *c, const char *path, int priority,
                          const char *source, int *queued);
/* Claims the next job (highest priority, then oldest; a queued one whose backoff is over, or a
 * running one whose lease expired) for worker, leased for lease_ms. A job whose lease expired
 * after max_attempts claims is made dead instead. 1 with *job, 0 none ready, AITAG_ERR_DB. */
int aitag_catalog_claim_job(struct aitag_catalog *c, const char *worker, int64_t lease_ms,
                            int max_attempts, struct aitag_job *job);
/* Renews worker's lease of job id (and the worker's last-seen time). 1 held, 0 lost (it
 * expired and another worker claimed it, or it was finished), AITAG_ERR_DB. */
int aitag_catalog_renew_job(struct aitag_catalog *c, const char *worker, int64_t id,
                            int64_t lease_ms);
/* Finishes worker's job id: error NULL: done, in seconds; else queued again after a backoff
 * (backoff_ms doubled per attempt, at most an hour) or, after max_attempts, dead with error.
 * A lost lease changes nothing (the job is another worker's now). 0 or AITAG_ERR_DB. */
int aitag_catalog_finish_job(struct aitag_catalog *c, const char *worker, int64_t id,
                             const char *error, double seconds, int max_attempts,
                             int64_t backoff_ms);
/* Gives worker's job id back to the queue untouched (a worker stopping before it began). */
int aitag_catalog_release_job(struct aitag_catalog *c, const char *worker, int64_t id);
/* Waits up to timeout_ms for an enqueue (PostgreSQL: a notification; SQLite: the timeout, or
 * a quarter second, whichever is shorter). 1 woken, 0 timed out, AITAG_ERR_DB. */
int aitag_catalog_wait_jobs(struct aitag_catalog *c, int timeout_ms);
/* Dead jobs queued again with their attempts reset; *n how many. */
int aitag_catalog_retry_dead(struct aitag_catalog *c, int64_t *n);

/* The database's clock (unix ms): the one every worker's leases are measured by. */
int aitag_catalog_now_ms(struct aitag_catalog *c, int64_t *ms);
/* Takes (lock 1) or gives back (0) the catalog-wide lock called name, waiting for it: one
 * holder at a time across every process and machine of a PostgreSQL catalog (an advisory
 * lock of the connection); on SQLite a claim of "lock:NAME" (see "Claims" below: a holder
 * killed midway is recognised and its lock taken over). For work that reads, decides and
 * writes in several transactions (the people update). */
int aitag_catalog_lock(struct aitag_catalog *c, const char *name, int lock);

/*
 * Claims: an item being analysed now, held by one run so that two runs over one catalog (two
 * `aitag tag` processes over overlapping folders, a worker beside them) never analyse it at
 * the same time. A run claims an item before analysing it and releases it once its result is
 * committed; a run that meets an item claimed by another comes back to it later and, once the
 * claim is gone, finds the result stored (or analyses it, the holder having failed). A claim
 * lasts while its holder renews its lease; a holder on this host that died (kill -9) is
 * recognised at once by its pid and process start time, its claims taken over. The lease, in
 * the database's clock, covers holders on other machines (PostgreSQL).
 */
struct aitag_claim_owner {
    char name[256]; /* unique per run: host/pid/start/sequence */
    char host[128]; /* gethostname() */
    int64_t pid;    /* the holding process */
    int64_t start;  /* its start time (Linux: clock ticks after boot): a reused pid differs */
};

/* Fills o for a run of this process: each call names a new owner (the sequence). */
void aitag_claim_owner_self(struct aitag_claim_owner *o);
/* True when the process o names is still running (on another host: assumed so, its lease
 * decides). */
int aitag_claim_owner_alive(const struct aitag_claim_owner *o);
/* Claims path for o, leased for lease_ms: 1 claimed (it was free, o's already, its lease had
 * run out, or its holder on this host is dead), 0 held by another live run (holder, when not
 * NULL, gets its name), AITAG_ERR_DB. */
int aitag_catalog_claim(struct aitag_catalog *c, const char *path,
                        const struct aitag_claim_owner *o, int64_t lease_ms, char *holder,
                        size_t holder_len);
/* Renews the leases of all of o's claims to lease_ms from now. 0 or AITAG_ERR_DB. */
int aitag_catalog_renew_claims(struct aitag_catalog *c, const struct aitag_claim_owner *o,
                               int64_t lease_ms);
/* Releases o's claim of path (NULL: all of o's claims). 0 or AITAG_ERR_DB. */
int aitag_catalog_release_claim(struct aitag_catalog *c, const char *path,
                                const struct aitag_claim_owner *o);

/* A worker as the catalog knows it: registered at start, seen at each claim and renewal. */
struct aitag_worker_row {
    const char *name, *host, *state; /* state: running, stopping, stopped */
    const char *current;             /* the path of its job in flight, or NULL */
    int64_t pid, started_ms, seen_ms, done, failed;
    int threads;
};

/* Records worker w (by name: a restart under one name is one worker again). */
int aitag_catalog_worker_seen(struct aitag_catalog *c, const struct aitag_worker_row *w);
typedef int (*aitag_worker_fn)(void *ctx, const struct aitag_worker_row *w);
int aitag_catalog_each_worker(struct aitag_catalog *c, aitag_worker_fn fn, void *ctx);

struct aitag_queue_stats {
    int64_t queued, running, done, dead;
    int64_t ready;              /* queued and past their backoff */
    int64_t done_last_minute;   /* finished in the last 60 s */
    double seconds_last_minute; /* their analysis time */
    int64_t oldest_queued_ms;   /* enqueue time of the oldest queued job, 0 none */
};
int aitag_catalog_queue_stats(struct aitag_catalog *c, int64_t now_ms, struct aitag_queue_stats *s);
/* Dead jobs, and queued ones that failed before, newest first: path, attempts, error. */
typedef int (*aitag_failed_job_fn)(void *ctx, const char *path, const char *state, int attempts,
                                   const char *error, int64_t at_ms);
int aitag_catalog_each_failed_job(struct aitag_catalog *c, int64_t limit, aitag_failed_job_fn fn,
                                  void *ctx);

#endif
