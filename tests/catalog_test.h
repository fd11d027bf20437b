/* catalog_test.h - helpers for the tests that build a catalog and look into its file behind
 * the library's back: one SQL value, a face_attrs face as the analyzer stores it, and the
 * removal of a catalog file with its WAL and shared-memory side files. */
#ifndef AITAG_TESTS_CATALOG_TEST_H
#define AITAG_TESTS_CATALOG_TEST_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "aitag/evidence.h"

/* The first column of the first row of sql as an integer, through its own connection: 0 when
 * the statement returns no row (or NULL), -1 when it cannot run. Statements that change the
 * file (UPDATE ... RETURNING) are committed. */
static inline int64_t sql_scalar(const char *db_path, const char *sql)
{
    sqlite3 *d = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_open(db_path, &d) == SQLITE_OK &&
        sqlite3_prepare_v2(d, sql, -1, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(d);
    return v;
}

/* A frontal face's six BlazeFace keypoints (x, y pairs in 0..1 of the frame). */
static float test_kp_frontal[12] = {0.40f, 0.40f, 0.60f, 0.40f, 0.50f, 0.50f,
                                    0.50f, 0.60f, 0.35f, 0.45f, 0.65f, 0.45f};

/* A face_attrs "face" at time t, its box's left edge at x, with embedding emb (dim values,
 * borrowed) and frontal keypoints, as face_attrs hands it to the catalog. */
static inline struct aitag_evidence test_face_evidence(double t, float x, double *emb, int dim)
{
    struct aitag_evidence e = {0};

    e.analyzer = (char *)"face_attrs";
    e.label = (char *)"face";
    e.confidence = 0.9f;
    e.t = t;
    e.has_box = 1;
    e.box = (struct aitag_box){x, 0.2f, 0.2f, 0.3f};
    e.keypoints = test_kp_frontal;
    e.n_keypoints = 6;
    e.kp_dims = 2;
    e.embedding = emb;
    e.n_embedding = dim;
    e.embedding_form = AITAG_EMBEDDING_DESCRIPTOR;
    return e;
}

/* Deletes a catalog file and its -wal and -shm files. */
static inline void remove_catalog(const char *path)
{
    char side[4200];

    unlink(path);
    snprintf(side, sizeof side, "%.4000s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%.4000s-shm", path);
    unlink(side);
}

#endif
