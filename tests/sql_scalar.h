/* sql_scalar.h - for tests that look into a catalog file behind the library's back: the first
 * column of the first row of one SQL statement, read through its own SQLite connection. */
#ifndef AITAG_TESTS_SQL_SCALAR_H
#define AITAG_TESTS_SQL_SCALAR_H

#include <sqlite3.h>
#include <stdint.h>

/* The value as an integer: 0 when the statement returns no row (or NULL), -1 when it cannot
 * run. Statements that change the file (UPDATE ... RETURNING) are committed. */
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

#endif
