/*
 * sql.c - the catalog's SQL layer above its backends (sql.h): the error boundary, where a
 * statement's result code becomes AITAG_ERR_DB with the backend's words on the handle, and the
 * calls every file of the catalog makes (exec, prepare, transactions) whatever the backend.
 */
#include <string.h>

#include "catalog_int.h"

int catalog_sql_is_pg(const struct aitag_catalog *c)
{
    return c->ops && strcmp(c->ops->name, "postgresql") == 0;
}

int catalog_sql_check(struct aitag_catalog *c, int rc, const char *what)
{
    const char *why;

    if (rc == CATALOG_OK || rc == CATALOG_DONE || rc == CATALOG_ROW)
        return 0;
    c->sql_rc = catalog_sql_is_pg(c) ? 0 : rc;
    c->trouble = catalog_sql_is_pg(c) ? catalog_pg_trouble(c)
                 : c->sql_rc          ? catalog_sqlite_trouble(c, rc)
                                      : 0;
    why = c->ops ? c->ops->errmsg(c, rc) : "no catalog connection";
    /* a file opened for upkeep (maintenance.c, no path) speaks in its own words */
    if (catalog_sql_is_pg(c) && c->trouble == CATALOG_FULL)
        aitag_fmt(c->errmsg, sizeof c->errmsg,
                  "catalog (PostgreSQL): disk full on the database server (%s: %s): nothing "
                  "more can be stored, what was stored before is kept; free space there and run "
                  "again",
                  what, why);
    else if (catalog_sql_is_pg(c) && c->trouble == CATALOG_DAMAGED)
        aitag_fmt(c->errmsg, sizeof c->errmsg,
                  "catalog (PostgreSQL): the server found damaged data (%s: %s); restore a "
                  "pg_dump backup (docs/catalog.md)",
                  what, why);
    else if (c->path && c->trouble == CATALOG_FULL)
        aitag_fmt(c->errmsg, sizeof c->errmsg,
                  "catalog %s: disk full (no space left on device; %s: %s): nothing more can be "
                  "stored, what was stored before is kept; free space and run again",
                  c->path, what, why);
    else if (c->path && c->trouble == CATALOG_DAMAGED)
        aitag_fmt(c->errmsg, sizeof c->errmsg,
                  "catalog %s is damaged (%s: %s): `aitag catalog check` lists the damage, "
                  "`aitag catalog restore BACKUP` puts a backup back",
                  c->path, what, why);
    else
        aitag_fmt(c->errmsg, sizeof c->errmsg, "%s: %s", what, why);
    return AITAG_ERR_DB;
}

int catalog_sql_exec(struct aitag_catalog *c, const char *sql)
{
    return catalog_sql_check(c, c->ops->exec(c, sql), "exec");
}

int catalog_sql_prepare(struct aitag_catalog *c, const char *sql, struct catalog_stmt **st)
{
    return catalog_sql_check(c, c->ops->prepare(c, sql, st), "prepare");
}

int catalog_sql_begin(struct aitag_catalog *c)
{
    return catalog_sql_check(c, c->ops->begin(c), "begin");
}

int catalog_sql_commit(struct aitag_catalog *c)
{
    return catalog_sql_exec(c, "COMMIT");
}

void catalog_sql_rollback(struct aitag_catalog *c)
{
    if (c->ops && c->conn && c->ops->in_transaction(c))
        c->ops->exec(c, "ROLLBACK");
}
