/*
 * maintenance.c - looking after a catalog file: check it for damage, back it up while it is in
 * use, put a backup back (`aitag catalog check|backup|restore`, docs/catalog.md).
 *
 * check reads every page (PRAGMA integrity_check, or quick_check which skips comparing each
 * index with its table) and every reference between rows (foreign_key_check); it opens the
 * file as SQLite alone, not through aitag_catalog_open, so a damaged file still gets a list of
 * its damage rather than one failure. A check that passes while no one else has the catalog
 * open also clears the mark of an unclean end (open_state.c).
 *
 * backup is VACUUM INTO a new file beside the destination: one read transaction, so the copy
 * is the catalog as of one moment, and in WAL mode writers go on meanwhile. The copy is checked
 * (quick_check) and flushed before it takes its name, and DEST.sha256 (sha256sum's format)
 * records its bytes, so a copy changed since is refused by restore.
 *
 * restore copies the backup beside the catalog first and verifies that copy, the one to be
 * installed: its checksum when DEST.sha256 is there, integrity_check, and that it is an aitag
 * catalog of a schema this aitag knows. Only then, holding the catalog for itself (refused
 * while any process has it open), it moves the old file aside with its WAL (CATALOG.before-
 * restore-TIME, itself a catalog that opens) and renames the copy into place. A PostgreSQL
 * catalog is backed up with pg_dump and restored with pg_restore; these commands say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog_int.h"

#define PG_REFUSAL                                                                                 \
    "a PostgreSQL catalog is backed up with pg_dump (pg_dump -Fc URL > FILE) and restored with "   \
    "pg_restore (pg_restore -d URL --clean FILE); aitag catalog backup and restore copy SQLite "   \
    "catalog files"

int aitag_catalog_write_blocked(const struct aitag_catalog *c)
{
    return c->trouble;
}

const char *catalog_problem_text(const char *raw, char *buf, size_t len)
{
    const char *nl;

    if (!raw)
        return aitag_fmt(buf, len, "?");
    /* "*** in database main ***\nPage 7: ..." names the schema (always main here) */
    if (strncmp(raw, "*** in database ", 16) == 0 && (nl = strchr(raw, '\n')))
        raw = nl + 1;
    aitag_fmt(buf, len, "%s", raw);
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return buf;
}

/* A bare handle on the SQLite file at path, outside aitag_catalog_open (no migration). */
static int connect_file(struct aitag_catalog *c, const char *path, int readonly, char *errbuf,
                        size_t errlen)
{
    int rc;

    memset(c, 0, sizeof *c);
    c->state.fd = -1;
    if (access(path, F_OK) != 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", path, catalog_errno_reason(errno));
        return AITAG_ERR_NOTFOUND;
    }
    rc = catalog_sqlite_connect(c, path, readonly, 0);
    if (rc < 0) {
        char reason[256];
        catalog_sqlite_open_reason(c, path, reason, sizeof reason);
        aitag_fmt(errbuf, errlen, "%s: %s", path, reason);
    }
    return rc;
}

static void disconnect(struct aitag_catalog *c)
{
    if (c->ops)
        c->ops->close(c);
    c->ops = NULL;
}

/* Runs a PRAGMA whose rows are problems (column 0.. joined), "ok" meaning none; counts them
 * into *problems and hands each to fn. */
static int pragma_problems(struct aitag_catalog *c, const char *sql, int fk, aitag_problem_fn fn,
                           void *ctx, int64_t *problems)
{
    struct catalog_stmt *st = NULL;
    char line[1024];
    int rc, step;

    rc = catalog_sql_prepare(c, sql, &st);
    if (rc < 0)
        return rc;
    while ((step = catalog_step(st)) == CATALOG_ROW) {
        const char *a = catalog_column_text(st, 0);
        if (!fk && a && strcmp(a, "ok") == 0)
            continue;
        if (fk) /* table, rowid, parent table, constraint */
            aitag_fmt(line, sizeof line, "%s row %lld refers to a %s row that is not there",
                      a ? a : "?", (long long)catalog_column_int64(st, 1),
                      catalog_column_text(st, 2) ? catalog_column_text(st, 2) : "?");
        else
            catalog_problem_text(a, line, sizeof line);
        ++*problems;
        if (fn)
            fn(ctx, line);
    }
    rc = catalog_sql_check(c, step, sql);
    catalog_finalize(st);
    return rc;
}

/* Whether the file at c is an aitag catalog of a schema this aitag can open (0), else
 * AITAG_ERR_INVALID with why in errbuf. */
static int known_schema(struct aitag_catalog *c, const char *path, char *errbuf, size_t errlen)
{
    struct catalog_stmt *st = NULL;
    int rc, version = -1, media = 0;

    rc = catalog_sql_prepare(c,
                             "SELECT (SELECT user_version FROM pragma_user_version),"
                             " (SELECT count(*) FROM sqlite_schema WHERE name = 'media')",
                             &st);
    if (rc == 0 && catalog_step(st) == CATALOG_ROW) {
        version = catalog_column_int(st, 0);
        media = catalog_column_int(st, 1);
    }
    catalog_finalize(st);
    if (rc < 0 || version < 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", path, c->errmsg);
        return AITAG_ERR_DB;
    }
    if (version < 1 || !media) {
        aitag_fmt(errbuf, errlen, "%s: not an aitag catalog (no media table)", path);
        return AITAG_ERR_INVALID;
    }
    if (version > AITAG_CATALOG_SCHEMA_VERSION) {
        aitag_fmt(errbuf, errlen,
                  "%s: catalog schema version %d is newer than this aitag knows (%d)", path,
                  version, AITAG_CATALOG_SCHEMA_VERSION);
        return AITAG_ERR_INVALID;
    }
    return 0;
}

static int check_pg(const char *target, int64_t *problems, char *errbuf, size_t errlen)
{
    struct aitag_catalog *c = NULL;
    char name[512];
    int rc;

    /* Opening connects and checks the schema version; PostgreSQL guards its own pages and
     * enforces every reference between rows itself (docs/catalog.md). */
    rc = aitag_catalog_open(target, 1, &c, errbuf, errlen);
    if (rc == 0)
        aitag_log(AITAG_LOG_INFO, "catalog", "event=check target=%s ok=1",
                  aitag_catalog_target_name(target, name, sizeof name));
    aitag_catalog_close(c);
    *problems = 0;
    return rc;
}

int aitag_catalog_check(const char *target, int quick, aitag_problem_fn fn, void *ctx,
                        int64_t *problems, char *errbuf, size_t errlen)
{
    struct aitag_catalog c;
    struct catalog_state state;
    int rc, suspect;

    *problems = 0;
    if (aitag_catalog_is_url(target))
        return check_pg(target, problems, errbuf, errlen);
    rc = connect_file(&c, target, 1, errbuf, errlen);
    if (rc < 0)
        goto out;
    catalog_state_open(&state, target, 1, &suspect);
    rc = pragma_problems(&c, quick ? "PRAGMA quick_check(100)" : "PRAGMA integrity_check(100)", 0,
                         fn, ctx, problems);
    if (rc == 0)
        rc = pragma_problems(&c, "PRAGMA foreign_key_check", 1, fn, ctx, problems);
    if (rc < 0) { /* a page too damaged to read is one more problem, not a failure */
        ++*problems;
        if (fn)
            fn(ctx, c.errmsg);
        rc = 0;
    }
    catalog_state_settle(&state, rc == 0 && *problems == 0);
    catalog_state_close(&state);
out:
    disconnect(&c);
    return rc;
}

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* The folder holding path, into buf. */
static const char *folder_of(const char *path, char *buf, size_t len)
{
    char tmp[4096];

    aitag_fmt(tmp, sizeof tmp, "%s", path);
    return aitag_fmt(buf, len, "%s", dirname(tmp));
}

/* Writes "HEX  NAME\n" (sha256sum's format) of file into file.sha256. */
static int write_sum(const char *file, const char *final_name, char *errbuf, size_t errlen)
{
    char hex[65], sum[4200], base[4096];
    FILE *f;
    int ok;

    if (aitag_sha256_file(file, hex) < 0) {
        aitag_fmt(errbuf, errlen, "%s: cannot read it back: %s", file, catalog_errno_reason(errno));
        return AITAG_ERR_IO;
    }
    aitag_fmt(base, sizeof base, "%s", final_name);
    aitag_fmt(sum, sizeof sum, "%s.sha256", final_name);
    f = fopen(sum, "w");
    ok = f && fprintf(f, "%s  %s\n", hex, basename(base)) > 0;
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        int e = errno;
        unlink(sum);
        aitag_fmt(errbuf, errlen, "%s: %s", sum,
                  e == ENOSPC || e == EDQUOT ? "disk full (no space left on device)"
                                             : catalog_errno_reason(e));
        return AITAG_ERR_IO;
    }
    return 0;
}

int aitag_catalog_backup(const char *target, const char *dest, char *errbuf, size_t errlen)
{
    struct aitag_catalog c, copy;
    struct catalog_stmt *st = NULL;
    char tmp[4200], dir[4096];
    int64_t problems = 0;
    int rc;

    memset(&copy, 0, sizeof copy);
    memset(&c, 0, sizeof c);
    if (aitag_catalog_is_url(target)) {
        aitag_fmt(errbuf, errlen, "%s", PG_REFUSAL);
        return AITAG_ERR_INVALID;
    }
    if (access(dest, F_OK) == 0) {
        aitag_fmt(errbuf, errlen, "%s: already exists (a backup never overwrites a file)", dest);
        return AITAG_ERR_INVALID;
    }
    aitag_fmt(tmp, sizeof tmp, "%s.tmp-%ld", dest, (long)getpid());
    unlink(tmp);
    rc = connect_file(&c, target, 1, errbuf, errlen);
    if (rc == 0)
        rc = known_schema(&c, target, errbuf, errlen);
    if (rc < 0)
        goto out;
    rc = catalog_sql_prepare(&c, "VACUUM INTO ?1", &st);
    if (rc == 0) {
        catalog_bind_text(st, 1, tmp, -1);
        rc = catalog_sql_check(&c, catalog_step(st), "VACUUM INTO");
    }
    catalog_finalize(st);
    if (rc < 0) {
        /* the message names the disk when it is full; VACUUM INTO's file is the backup's */
        aitag_fmt(errbuf, errlen, "backup to %s failed: %s", dest,
                  c.trouble == CATALOG_FULL ? "disk full (no space left on device)" : c.errmsg);
        goto out;
    }
    rc = connect_file(&copy, tmp, 1, errbuf, errlen);
    if (rc == 0)
        rc = pragma_problems(&copy, "PRAGMA quick_check(1)", 0, NULL, NULL, &problems);
    disconnect(&copy);
    if (rc == 0 && problems) {
        aitag_fmt(errbuf, errlen, "%s: the copy does not read back sound", dest);
        rc = AITAG_ERR_IO;
    }
    if (rc < 0)
        goto out;
    if (fsync_path(tmp, 0) < 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", dest, catalog_errno_reason(errno));
        rc = AITAG_ERR_IO;
        goto out;
    }
    rc = write_sum(tmp, dest, errbuf, errlen);
    if (rc < 0)
        goto out;
    if (rename(tmp, dest) != 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", dest, catalog_errno_reason(errno));
        rc = AITAG_ERR_IO;
        goto out;
    }
    fsync_path(folder_of(dest, dir, sizeof dir), 1);
out:
    disconnect(&c);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* Copies the file from to the new file to, flushed. */
static int copy_bytes(const char *from, const char *to, char *errbuf, size_t errlen)
{
    char buf[1 << 16];
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = AITAG_ERR_IO;
    const char *bad = from;
    ssize_t n = 0;

    if (in < 0)
        goto out;
    bad = to;
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0)
        goto out;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0, w; off < n; off += w) {
            w = write(out, buf + off, (size_t)(n - off));
            if (w < 0)
                goto out;
        }
    }
    if (n < 0) {
        bad = from;
        goto out;
    }
    if (fsync(out) == 0)
        rc = 0;
out:
    if (rc < 0) {
        int e = errno;
        aitag_fmt(errbuf, errlen, "%s: %s", bad,
                  e == ENOSPC || e == EDQUOT ? "disk full (no space left on device)"
                                             : catalog_errno_reason(e));
    }
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", to, catalog_errno_reason(errno));
        rc = AITAG_ERR_IO;
    }
    return rc;
}

/* The checksum recorded beside the backup src (SRC.sha256): 1 found (hex filled), 0 none. */
static int recorded_sum(const char *src, char hex[65])
{
    char sum[4200], line[256];
    FILE *f;
    int found = 0;

    aitag_fmt(sum, sizeof sum, "%s.sha256", src);
    f = fopen(sum, "r");
    if (!f)
        return 0;
    if (fgets(line, sizeof line, f) && strspn(line, "0123456789abcdef") == 64) {
        memcpy(hex, line, 64);
        hex[64] = '\0';
        found = 1;
    }
    fclose(f);
    return found ? 1 : -1;
}

/* Verifies the copy tmp of backup src: checksum, integrity, schema. */
static int verify_copy(const char *src, const char *tmp, int *unsummed, char *errbuf, size_t errlen)
{
    struct aitag_catalog c;
    char want[65], got[65];
    int64_t problems = 0;
    int rc, sum = recorded_sum(src, want);

    *unsummed = sum == 0;
    if (sum < 0) {
        aitag_fmt(errbuf, errlen, "%s.sha256: not a sha256 line", src);
        return AITAG_ERR_INVALID;
    }
    if (sum > 0 && (aitag_sha256_file(tmp, got) < 0 || strcmp(want, got) != 0)) {
        aitag_fmt(errbuf, errlen,
                  "%s: does not match its checksum in %s.sha256 (changed since it was written); "
                  "not restored",
                  src, src);
        return AITAG_ERR_INVALID;
    }
    rc = connect_file(&c, tmp, 1, errbuf, errlen);
    if (rc < 0) {
        char reason[256] = "unreadable";
        if (c.sql_rc)
            catalog_sqlite_open_reason(&c, tmp, reason, sizeof reason);
        aitag_fmt(errbuf, errlen, "%s: not a catalog backup (%s); not restored", src, reason);
        disconnect(&c);
        return AITAG_ERR_INVALID;
    }
    rc = pragma_problems(&c, "PRAGMA integrity_check(1)", 0, NULL, NULL, &problems);
    if (rc < 0 || problems) {
        aitag_fmt(errbuf, errlen, "%s: damaged (%s); not restored", src,
                  rc < 0 ? c.errmsg : "integrity_check found problems");
        rc = AITAG_ERR_INVALID;
    }
    if (rc == 0)
        rc = known_schema(&c, src, errbuf, errlen);
    disconnect(&c);
    return rc;
}

/* Moves the catalog at path, with its WAL, to aside (a WAL without its catalog too: left in
 * place it would be replayed into the restored file); its -shm is SQLite's to rebuild. aside
 * stays "" when there was nothing to move. */
static int move_aside(const char *path, char *aside, size_t aside_len, char *errbuf, size_t errlen)
{
    char stamp[32], wal[4200], to[4300];
    int main_file = access(path, F_OK) == 0, has_wal;
    time_t now = time(NULL);
    struct stat st;
    struct tm tm;

    aitag_fmt(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &st) == 0 && st.st_size == 0) /* nothing in it: no need to keep it */
        unlink(wal);
    has_wal = access(wal, F_OK) == 0;
    aitag_fmt(to, sizeof to, "%s-shm", path);
    unlink(to);
    if (!main_file && !has_wal)
        return 0;
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
    aitag_fmt(aside, aside_len, "%s.before-restore-%s", path, stamp);
    for (int i = 2; access(aside, F_OK) == 0; i++)
        aitag_fmt(aside, aside_len, "%s.before-restore-%s-%d", path, stamp, i);
    if (main_file && rename(path, aside) != 0) {
        aitag_fmt(errbuf, errlen, "%s: cannot move it aside: %s", path,
                  catalog_errno_reason(errno));
        aside[0] = '\0';
        return AITAG_ERR_IO;
    }
    aitag_fmt(to, sizeof to, "%s-wal", aside);
    if (has_wal && rename(wal, to) != 0) {
        aitag_fmt(errbuf, errlen, "%s: cannot move it aside: %s", wal, catalog_errno_reason(errno));
        if (main_file)
            rename(aside, path); /* as it was */
        aside[0] = '\0';
        return AITAG_ERR_IO;
    }
    return 0;
}

int aitag_catalog_restore(const char *target, const char *src, int *unsummed, char *aside,
                          size_t aside_len, char *errbuf, size_t errlen)
{
    struct catalog_state state = {.fd = -1};
    char tmp[4200], dir[4096];
    int rc;

    *unsummed = 0;
    aside[0] = '\0';
    if (aitag_catalog_is_url(target)) {
        aitag_fmt(errbuf, errlen, "%s", PG_REFUSAL);
        return AITAG_ERR_INVALID;
    }
    if (aitag_mkdir_parents(target) < 0) {
        aitag_fmt(errbuf, errlen, "%s: cannot create its folder: %s", target,
                  catalog_errno_reason(errno));
        return AITAG_ERR_IO;
    }
    aitag_fmt(tmp, sizeof tmp, "%s.restore-%ld", target, (long)getpid());
    unlink(tmp);
    rc = copy_bytes(src, tmp, errbuf, errlen);
    if (rc == 0)
        rc = verify_copy(src, tmp, unsummed, errbuf, errlen);
    if (rc == 0)
        rc = catalog_state_take(&state, target, errbuf, errlen);
    if (rc < 0)
        goto out;
    rc = move_aside(target, aside, aside_len, errbuf, errlen);
    if (rc == 0 && rename(tmp, target) != 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", target, catalog_errno_reason(errno));
        rc = AITAG_ERR_IO;
        if (aside[0])
            rename(aside, target); /* the old catalog back in place; its WAL stays aside */
    }
    if (rc == 0)
        fsync_path(folder_of(target, dir, sizeof dir), 1);
    catalog_state_release(&state);
out:
    if (rc < 0)
        unlink(tmp);
    return rc;
}
