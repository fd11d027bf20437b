/* catalog_test.h - helpers for the tests that build a catalog and look into it behind the
 * library's back: the catalog a test uses (a SQLite file, or a fresh PostgreSQL database when
 * AITAG_TEST_PG names a server: ctest's *_pg variants, tests/pg/server.sh), one SQL value, a
 * face_attrs face as the analyzer stores it, and the removal of a catalog. */
#ifndef AITAG_TESTS_CATALOG_TEST_H
#define AITAG_TESTS_CATALOG_TEST_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/evidence.h"

/* The PostgreSQL server the catalog tests run on, or NULL: SQLite files. */
static inline const char *test_pg_server(void)
{
    const char *s = getenv("AITAG_TEST_PG");
    return s && *s ? s : NULL;
}

static inline int test_is_url(const char *target)
{
    return strncmp(target, "postgresql://", 13) == 0;
}

/* Runs sql on the server's maintenance database; 0 or -1. */
static inline int test_pg_admin(const char *sql)
{
    char url[1024];
    PGconn *conn;
    PGresult *res;
    int ok;

    snprintf(url, sizeof url, "%s/postgres", test_pg_server());
    conn = PQconnectdb(url);
    res = PQexec(conn, sql);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
    return ok ? 0 : -1;
}

/* An empty catalog named name: dir/name.db, or on the PostgreSQL server a new database
 * name_PID (dropped first if there). Returns buf. */
static inline const char *test_catalog_target(char *buf, size_t len, const char *dir,
                                              const char *name)
{
    char sql[300], db[200];

    if (!test_pg_server()) {
        snprintf(buf, len, "%s/%s.db", dir, name);
        unlink(buf);
        return buf;
    }
    snprintf(db, sizeof db, "%.150s_%ld", name, (long)getpid());
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\"", db);
    test_pg_admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", db);
    test_pg_admin(sql);
    snprintf(buf, len, "%s/%s", test_pg_server(), db);
    return buf;
}

/* The first column of the first row of sql as an integer on the PostgreSQL catalog url (true
 * and false as 1 and 0); as sql_scalar. */
static inline int64_t pg_scalar(const char *url, const char *sql)
{
    PGconn *conn = PQconnectdb(url);
    PGresult *res = PQexec(conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int64_t v = -1;

    if (s == PGRES_TUPLES_OK && (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)))
        v = 0;
    else if (s == PGRES_TUPLES_OK)
        v = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1
            : strcmp(PQgetvalue(res, 0, 0), "f") == 0
                ? 0
                : (int64_t)strtod(PQgetvalue(res, 0, 0), NULL);
    else if (s == PGRES_COMMAND_OK)
        v = 0;
    else
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
    return v;
}

/* The first column of the first row of sql as an integer, through its own connection: 0 when
 * the statement returns no row (or NULL), -1 when it cannot run. Statements that change the
 * file (UPDATE ... RETURNING) are committed. db_path may be a PostgreSQL catalog's URL. */
static inline int64_t sql_scalar(const char *db_path, const char *sql)
{
    sqlite3 *d = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (test_is_url(db_path))
        return pg_scalar(db_path, sql);
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

/* Deletes a catalog file and its -wal and -shm files; a PostgreSQL catalog's database is
 * dropped and made again, empty (its connections closed first). */
static inline void remove_catalog(const char *path)
{
    char side[4200];

    if (test_is_url(path)) {
        const char *name = strrchr(path, '/') + 1;
        snprintf(side, sizeof side, "DROP DATABASE IF EXISTS \"%.200s\"", name);
        test_pg_admin(side);
        snprintf(side, sizeof side, "CREATE DATABASE \"%.200s\"", name);
        test_pg_admin(side);
        return;
    }
    unlink(path);
    snprintf(side, sizeof side, "%.4000s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%.4000s-shm", path);
    unlink(side);
}

#endif
