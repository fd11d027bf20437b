/*
 * search.c - finding media by derived tags and by people: all of a set (AND) or any of it (OR).
 * Tag and person names compare case-insensitively and exactly (no wildcards: names are data).
 * Items marked missing are left out: their files are gone.
 *
 * A person is looked for in the faces table, not in the tags: the tag "person:NAME" obeys the
 * rules (a video gets it only for enough time on screen), while "every video with this person"
 * means every one where a face of theirs was seen. A name no shown person has is an error
 * rather than an empty answer, so a typo is not read as "not in the library".
 */
#include <stdio.h>
#include <stdlib.h>

#include "catalog_int.h"

#define TAG_TERM "EXISTS(SELECT 1 FROM tags t WHERE t.media_id = m.id AND lower(t.name) = lower(?))"
#define PERSON_TERM                                                                                \
    "EXISTS(SELECT 1 FROM faces f JOIN people p ON p.id = f.person_id WHERE f.media_id = m.id"     \
    " AND p.ignored = 0 AND p.name = ? COLLATE NOCASE)"

/* 0 when a shown person has this name, else AITAG_ERR_NOTFOUND naming it. */
static int person_known(struct aitag_catalog *c, const char *name)
{
    struct catalog_stmt *st = NULL;
    int rc = catalog_sql_prepare(
        c, "SELECT ignored FROM people WHERE name = ? COLLATE NOCASE ORDER BY ignored LIMIT 1",
        &st);

    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, name, -1);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW && catalog_column_int(st, 0) == 0) {
        rc = 0;
    } else if (rc == CATALOG_ROW || rc == CATALOG_DONE) {
        c->sql_rc = 0;
        aitag_fmt(c->errmsg, sizeof c->errmsg, "--person '%s': %s", name,
                  rc == CATALOG_ROW ? "that person is ignored"
                                    : "no person has this name (see aitag people list)");
        rc = AITAG_ERR_NOTFOUND;
    } else {
        rc = catalog_sql_check(c, rc, "find person");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_search_query(struct aitag_catalog *c, const struct aitag_search_query *q,
                               int (*fn)(void *ctx, const char *path, int64_t media_id), void *ctx)
{
    struct catalog_stmt *st = NULL;
    size_t n = q->n_tags + q->n_people, cap = 256 + n * (sizeof PERSON_TERM + 8), len;
    char *sql;
    int rc = 0, param = 1;

    for (size_t i = 0; i < q->n_people && rc == 0; i++)
        rc = person_known(c, q->people[i]);
    if (rc < 0)
        return rc;
    if (n == 0)
        return 0;
    sql = malloc(cap);
    if (!sql)
        return AITAG_ERR_NOMEM;
    len = (size_t)snprintf(sql, cap,
                           "SELECT m.path, m.id FROM media m WHERE m.missing_at IS NULL AND (");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(sql + len, cap - len, "%s%s", i ? (q->any ? " OR " : " AND ") : "",
                                i < q->n_tags ? TAG_TERM : PERSON_TERM);
    snprintf(sql + len, cap - len, ") ORDER BY m.path");
    rc = catalog_sql_prepare(c, sql, &st);
    free(sql);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < q->n_tags; i++)
        catalog_bind_text(st, param++, q->tags[i], -1);
    for (size_t i = 0; i < q->n_people; i++)
        catalog_bind_text(st, param++, q->people[i], -1);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (fn(ctx, (const char *)catalog_column_text(st, 0), catalog_column_int64(st, 1)))
            break;
    rc = catalog_sql_check(c, rc, "search");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_search(struct aitag_catalog *c, const char *const *names, size_t n, int any,
                         int (*fn)(void *ctx, const char *path, int64_t media_id), void *ctx)
{
    struct aitag_search_query q = {names, n, NULL, 0, any};

    return aitag_catalog_search_query(c, &q, fn, ctx);
}
