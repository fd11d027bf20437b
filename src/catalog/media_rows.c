/*
 * media_rows.c - media identity: fingerprints, lookups, error records and stored probe facts.
 *
 * The fingerprint is the OpenSubtitles hash (file size plus the 64-bit little-endian word sums
 * of the first and last 64 KiB), which Stash also computes ("oshash"): cheap on huge videos
 * and stable across renames, so a later issue can match Stash's files to catalog rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

static uint64_t sum_words(const unsigned char *buf, size_t n)
{
    uint64_t h = 0;

    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        for (int b = 7; b >= 0; b--)
            w = (w << 8) | buf[i + (size_t)b];
        h += w;
    }
    return h;
}

int aitag_fingerprint_file(const char *path, int64_t *size, char hex[17])
{
    enum { CHUNK = 65536 };
    unsigned char *buf = malloc(CHUNK);
    FILE *f = NULL;
    uint64_t h;
    long long len;
    size_t n;
    int rc = AITAG_ERR_IO;

    hex[0] = '\0';
    *size = 0;
    if (!buf)
        return AITAG_ERR_NOMEM;
    f = fopen(path, "rb");
    if (!f || fseeko(f, 0, SEEK_END) != 0 || (len = ftello(f)) < 0)
        goto out;
    h = (uint64_t)len;
    rewind(f);
    n = fread(buf, 1, CHUNK, f);
    h += sum_words(buf, n);
    if (len > CHUNK) {
        if (fseeko(f, len - CHUNK, SEEK_SET) != 0)
            goto out;
        n = fread(buf, 1, CHUNK, f);
        h += sum_words(buf, n);
    }
    if (ferror(f))
        goto out;
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
    *size = len;
    rc = 0;
out:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

static void copy_col(struct catalog_stmt *st, int col, char *dst, size_t len)
{
    const char *s = catalog_column_text(st, col);

    aitag_fmt(dst, len, "%s", s ? (const char *)s : "");
}

/* Loads the row WHERE column = the bound value (a path as text or an id). */
static int load_row(struct aitag_catalog *c, const char *sql, const char *path, int64_t id,
                    struct aitag_media_row *row)
{
    struct catalog_stmt *st = NULL;
    int rc, step;

    memset(row, 0, sizeof *row);
    rc = catalog_sql_prepare(c, sql, &st);
    if (rc < 0)
        return rc;
    if (path)
        catalog_bind_text(st, 1, path, -1);
    else
        catalog_bind_int64(st, 1, id);
    step = catalog_step(st);
    if (step == CATALOG_ROW) {
        row->id = catalog_column_int64(st, 0);
        row->size = catalog_column_int64(st, 1);
        row->mtime_ns = catalog_column_int64(st, 2);
        copy_col(st, 3, row->fingerprint, sizeof row->fingerprint);
        copy_col(st, 4, row->derive_key, sizeof row->derive_key);
        copy_col(st, 5, row->status, sizeof row->status);
        copy_col(st, 6, row->error, sizeof row->error);
        row->duration = catalog_column_double(st, 7);
        row->is_image = catalog_column_text(st, 8) &&
                        strcmp((const char *)catalog_column_text(st, 8), "image") == 0;
        row->missing = catalog_column_type(st, 9) != CATALOG_NULL;
        rc = 0;
    } else {
        rc = step == CATALOG_DONE ? AITAG_ERR_NOTFOUND : catalog_sql_check(c, step, "find media");
    }
    catalog_finalize(st);
    return rc;
}

#define ROW_COLUMNS                                                                                \
    "SELECT id, size, mtime_ns, fingerprint, derive_key, status, error, duration, kind,"           \
    " missing_at FROM media "

int aitag_catalog_find_media(struct aitag_catalog *c, const char *path, struct aitag_media_row *row)
{
    return load_row(c, ROW_COLUMNS "WHERE path = ?", path, 0, row);
}

int aitag_catalog_get_media(struct aitag_catalog *c, int64_t media_id, struct aitag_media_row *row)
{
    return load_row(c, ROW_COLUMNS "WHERE id = ?", NULL, media_id, row);
}

int aitag_catalog_analysis_key(struct aitag_catalog *c, int64_t media_id, const char *analyzer,
                               char *key, size_t keylen)
{
    struct catalog_stmt *st = NULL;
    int rc, step;

    key[0] = '\0';
    rc =
        catalog_sql_prepare(c, "SELECT key FROM analyses WHERE media_id = ? AND analyzer = ?", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    catalog_bind_text(st, 2, analyzer, -1);
    step = catalog_step(st);
    if (step == CATALOG_ROW)
        copy_col(st, 0, key, keylen);
    else
        rc = catalog_sql_check(c, step, "analysis key");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_record_error(struct aitag_catalog *c, const char *path, int64_t size,
                               int64_t mtime_ns, const char *message)
{
    struct catalog_stmt *st = NULL;
    int rc;

    /* Insert a row for an unknown path; for a known one only touch error (and status when the
     * item never succeeded) and clear its missing mark (a file that fails exists). The WHERE
     * clause skips the write when nothing would change. */
    rc = catalog_sql_prepare(
        c,
        "INSERT INTO media(path, size, mtime_ns, status, error, updated_at)"
        " VALUES(?1, ?2, ?3, 'error', ?4, ?5)"
        " ON CONFLICT(path) DO UPDATE SET error = ?4, updated_at = ?5,"
        " missing_at = NULL WHERE media.error IS DISTINCT FROM ?4 OR media.missing_at IS NOT NULL",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, path, -1);
    catalog_bind_int64(st, 2, size);
    catalog_bind_int64(st, 3, mtime_ns);
    catalog_bind_text(st, 4, message, -1);
    catalog_bind_int64(st, 5, (int64_t)time(NULL));
    rc = catalog_sql_check(c, catalog_step(st), "record error");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_load_probe(struct aitag_catalog *c, int64_t media_id, struct aitag_probe *out)
{
    struct catalog_stmt *st = NULL;
    int rc, step;

    memset(out, 0, sizeof *out);
    rc = catalog_sql_prepare(
        c,
        "SELECT kind, duration, width, height, container, video_codec, audio_codec,"
        " fps, rotation, bit_rate FROM media WHERE id = ?",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    step = catalog_step(st);
    if (step == CATALOG_ROW) {
        const char *kind = catalog_column_text(st, 0);
        out->kind = !kind                                      ? AITAG_MEDIA_UNKNOWN
                    : strcmp((const char *)kind, "image") == 0 ? AITAG_MEDIA_IMAGE
                                                               : AITAG_MEDIA_VIDEO;
        out->duration = catalog_column_double(st, 1);
        out->width = catalog_column_int(st, 2);
        out->height = catalog_column_int(st, 3);
        copy_col(st, 4, out->container, sizeof out->container);
        copy_col(st, 5, out->video_codec, sizeof out->video_codec);
        copy_col(st, 6, out->audio_codec, sizeof out->audio_codec);
        out->fps = catalog_column_double(st, 7);
        out->rotation = catalog_column_int(st, 8);
        out->bit_rate = catalog_column_int64(st, 9);
    } else {
        rc = step == CATALOG_DONE ? AITAG_ERR_NOTFOUND : catalog_sql_check(c, step, "load probe");
    }
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_begin_run(struct aitag_catalog *c, const char *params_json, int64_t *run_id)
{
    struct catalog_stmt *st = NULL;
    int rc, step;

    *run_id = 0;
    rc = catalog_sql_prepare(c,
                             "INSERT INTO runs(started_at, version, params) VALUES(?, ?, ?)"
                             " RETURNING id",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, (int64_t)time(NULL));
    catalog_bind_text(st, 2, AITAG_VERSION, -1);
    catalog_bind_text(st, 3, params_json, -1);
    step = catalog_step(st);
    rc = catalog_sql_check(c, step, "begin run");
    if (rc == 0 && step == CATALOG_ROW)
        *run_id = catalog_column_int64(st, 0);
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_end_run(struct aitag_catalog *c, int64_t run_id, int tagged, int skipped,
                          int failed, double seconds, double media_seconds)
{
    struct catalog_stmt *st = NULL;
    int rc;

    rc = catalog_sql_prepare(c,
                             "UPDATE runs SET finished_at = ?, tagged = ?, skipped = ?, failed = ?,"
                             " seconds = ?, media_seconds = ? WHERE id = ?",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, (int64_t)time(NULL));
    catalog_bind_int(st, 2, tagged);
    catalog_bind_int(st, 3, skipped);
    catalog_bind_int(st, 4, failed);
    catalog_bind_double(st, 5, seconds);
    catalog_bind_double(st, 6, media_seconds);
    catalog_bind_int64(st, 7, run_id);
    rc = catalog_sql_check(c, catalog_step(st), "end run");
    catalog_finalize(st);
    return rc;
}
