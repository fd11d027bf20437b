/*
 * installer.c - `aitag models install NAME`: fetches the files a catalog lists for NAME with
 * libcurl, verifies them and installs them with their manifest.
 *
 * A download goes to <dest>.part and only a complete, verified file is renamed onto <dest>,
 * so a reader never sees a half-written model. A .part left by an interrupted run is resumed
 * with an HTTP Range request from its size; a server that ignores the range (200 instead of
 * 206) makes us start the file again. No file grows past the size the catalog gives, or
 * past max_bytes (4 GiB) when it gives none: a server sending more is cut off there, so a
 * wrong or hostile URL cannot fill the disk. After the transfer the size and the sha256 are
 * checked; a mismatch deletes the .part, since resuming a corrupt file
 * could never succeed. A catalog sha256 of null ("not pinned") accepts the first download and
 * records its checksum in the installed manifest, so later verifies catch any change
 * (trust on first use; docs/models.md says when that is acceptable). The catalog itself is a
 * file or a URL; catalog format in docs/models.md ("Installing models").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "aitag/models.h"
#include "installer_int.h"

#define CATALOG_MAX (4 << 20)

struct aitag_install_params aitag_install_default_params(void)
{
    struct aitag_install_params p = {0};

    p.connect_timeout_s = 30;
    p.low_speed_s = 60;
    p.quiet = 1;
    p.max_bytes = 4LL << 30;
    return p;
}

struct membuf {
    char *data;
    size_t len;
};

static size_t mem_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct membuf *b = ud;
    size_t n = size * nmemb;
    char *p;

    if (b->len + n > CATALOG_MAX || !(p = realloc(b->data, b->len + n + 1)))
        return 0;
    memcpy(p + b->len, ptr, n);
    b->data = p;
    b->len += n;
    p[b->len] = '\0';
    return n;
}

static void set_common(CURL *c, const struct aitag_install_params *p, const char *url)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, p->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, p->low_speed_s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "aitag/" AITAG_VERSION);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, p->quiet ? 1L : 0L);
}

static int load_catalog(const struct aitag_install_params *p, json_t **out, char *err,
                        size_t errlen)
{
    struct membuf b = {0};
    json_error_t je;
    json_t *root = NULL;
    int rc = AITAG_ERR_INVALID;

    *out = NULL;
    if (!p->catalog) {
        snprintf(err, errlen, "no catalog given");
        return AITAG_ERR_INVALID;
    }
    if (strstr(p->catalog, "://")) {
        CURL *c = aitag_curl_global_init() == 0 ? curl_easy_init() : NULL;
        long code = 0;
        CURLcode cc;
        if (!c)
            return AITAG_ERR_NOMEM;
        set_common(c, p, p->catalog);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        if (cc != CURLE_OK || code >= 400 || !b.data) {
            snprintf(err, errlen, "catalog %s: %s", p->catalog,
                     cc != CURLE_OK ? curl_easy_strerror(cc) : "HTTP error or empty body");
            free(b.data);
            return AITAG_ERR_NET;
        }
        root = json_loadb(b.data, b.len, 0, &je);
        free(b.data);
    } else {
        root = json_load_file(p->catalog, 0, &je);
    }
    if (!root || !json_is_array(json_object_get(root, "models"))) {
        snprintf(err, errlen, "catalog %s: %s", p->catalog,
                 root ? "needs a \"models\" array" : je.text);
        goto out;
    }
    *out = root;
    root = NULL;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* A catalog a server sent (http, https) may name only http(s) files: a file:// URL in it would
 * copy whatever this machine's user can read into the models folder. */
static int remote_catalog(const struct aitag_install_params *p)
{
    return strstr(p->catalog, "://") && strncasecmp(p->catalog, "file:", 5) != 0;
}

struct dl {
    FILE *f;
    long long offset; /* bytes already in the .part when the request went out */
    long long got;    /* bytes written since */
    long long limit;  /* the file's size may not pass this (0: no limit) */
    int over;         /* the server sent more than limit: the transfer was stopped */
};

static size_t file_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct dl *d = ud;
    size_t n = size * nmemb;

    if (d->limit > 0 && d->offset + d->got + (long long)n > d->limit) {
        d->over = 1;
        return 0; /* stops the transfer (CURLE_WRITE_ERROR) */
    }
    if (fwrite(ptr, 1, n, d->f) != n)
        return 0;
    d->got += (long long)n;
    return n;
}

/* One transfer into the .part, resuming from its size. */
static CURLcode transfer(const struct aitag_install_params *p, const char *url, struct dl *d,
                         long *code)
{
    CURL *c = aitag_curl_global_init() == 0 ? curl_easy_init() : NULL;
    CURLcode cc;

    *code = 0;
    if (!c)
        return CURLE_OUT_OF_MEMORY;
    set_common(c, p, url);
    if (remote_catalog(p))
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, file_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    if (d->offset > 0)
        curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d->offset);
    aitag_log(AITAG_LOG_INFO, "install", "event=download url=%s resume_from=%lld", url, d->offset);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(c);
    return cc;
}

/* Downloads url into part, resuming it; the file may not pass limit bytes (0: no limit; `why`
 * names where the limit comes from): a server sending more is cut off and the .part deleted
 * (AITAG_ERR_MODEL). */
static int download(const struct aitag_install_params *p, const char *url, const char *part,
                    long long limit, const char *why, char *err, size_t errlen)
{
    struct stat st;
    struct dl d = {0};
    CURLcode cc;
    long code = 0;
    int rc = AITAG_ERR_NET;

    d.offset = stat(part, &st) == 0 ? (long long)st.st_size : 0;
    d.limit = limit;
    d.f = fopen(part, "ab");
    if (!d.f) {
        snprintf(err, errlen, "cannot write %s: %s", part, strerror(errno));
        return AITAG_ERR_IO;
    }
    cc = transfer(p, url, &d, &code);
    if (cc == CURLE_RANGE_ERROR && d.offset > 0) {
        /* The server ignores Range: start the file again. */
        aitag_log(AITAG_LOG_WARN, "install", "event=no_range url=%s", url);
        if (fflush(d.f) != 0 || ftruncate(fileno(d.f), 0) < 0) {
            fclose(d.f);
            return AITAG_ERR_IO;
        }
        d.offset = d.got = 0;
        cc = transfer(p, url, &d, &code);
    }
    if (d.over) {
        fclose(d.f);
        unlink(part);
        snprintf(err, errlen, "download %s: more than %lld bytes (%s); deleted %s", url, limit, why,
                 part);
        return AITAG_ERR_MODEL;
    }
    /* NOLINTNEXTLINE(bugprone-branch-clone): two ways to succeed, each with its reason */
    if (cc == CURLE_HTTP_RETURNED_ERROR && code == 416 && d.offset > 0) {
        rc = 0; /* the .part is already complete: the checksum decides */
    } else if (cc != CURLE_OK) {
        snprintf(err, errlen,
                 "download %s: %s (HTTP %ld); the partial file %s is kept and the "
                 "next install resumes it",
                 url, curl_easy_strerror(cc), code, part);
    } else {
        rc = 0;
    }
    if (fflush(d.f) != 0 || fsync(fileno(d.f)) != 0)
        rc = rc ? rc : AITAG_ERR_IO;
    fclose(d.f);
    if (rc < 0 && stat(part, &st) == 0 && st.st_size == 0)
        unlink(part); /* nothing arrived: nothing to resume */
    return rc;
}

/* Downloads one catalog file to dest_dir/<dest>, verified. hex gets its sha256. */
static int install_file(const struct aitag_install_params *p, json_t *f, char hex[65],
                        int *unpinned, char *err, size_t errlen)
{
    const char *url = json_string_value(json_object_get(f, "url"));
    const char *dest = json_string_value(json_object_get(f, "dest"));
    json_t *jsha = json_object_get(f, "sha256"), *jsize = json_object_get(f, "size");
    const char *sha = json_string_value(jsha);
    char path[4200], part[4300];
    struct stat st;
    int rc;

    if (!url || !infer_inst_safe_relpath(dest) || (sha && strlen(sha) != 64) ||
        (jsha && !json_is_null(jsha) && !sha)) {
        snprintf(err, errlen,
                 "catalog file entry needs \"url\", a relative \"dest\" and a "
                 "64-hex \"sha256\" or null");
        return AITAG_ERR_INVALID;
    }
    if (remote_catalog(p) && strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "%s: a catalog from %s may name only http and https files", url,
                 p->catalog);
        return AITAG_ERR_INVALID;
    }
    snprintf(path, sizeof path, "%s/%s", p->dest_dir, dest);
    snprintf(part, sizeof part, "%s.part", path);
    if (sha && aitag_sha256_file(path, hex) == 0 && strcasecmp(hex, sha) == 0) {
        aitag_log(AITAG_LOG_INFO, "install", "event=present path=%s", path);
        return 0;
    }
    if (infer_inst_mkdirs(path, 0) < 0) {
        snprintf(err, errlen, "cannot create the folder for %s", path);
        return AITAG_ERR_IO;
    }
    if (json_is_integer(jsize) && json_integer_value(jsize) > 0)
        rc = download(p, url, part, (long long)json_integer_value(jsize), "the catalog's size", err,
                      errlen);
    else
        rc = download(p, url, part, p->max_bytes, "the download limit", err, errlen);
    if (rc < 0)
        return rc;
    if (stat(part, &st) < 0 || aitag_sha256_file(part, hex) < 0) {
        snprintf(err, errlen, "cannot read %s", part);
        return AITAG_ERR_IO;
    }
    if (json_is_integer(jsize) && (long long)st.st_size != json_integer_value(jsize)) {
        snprintf(err, errlen, "%s: got %lld bytes, the catalog says %lld; deleted %s", url,
                 (long long)st.st_size, (long long)json_integer_value(jsize), part);
        unlink(part);
        return AITAG_ERR_MODEL;
    }
    if (sha && strcasecmp(hex, sha) != 0) {
        snprintf(err, errlen, "%s: sha256 mismatch: expected %s, got %s; deleted %s", url, sha, hex,
                 part);
        unlink(part);
        return AITAG_ERR_MODEL;
    }
    if (!sha) {
        aitag_log(AITAG_LOG_WARN, "install", "event=unpinned url=%s sha256=%s", url, hex);
        if (unpinned)
            (*unpinned)++;
    }
    if (rename(part, path) < 0) {
        snprintf(err, errlen, "cannot rename %s into place: %s", part, strerror(errno));
        return AITAG_ERR_IO;
    }
    return 0;
}

static json_t *find_entry(json_t *cat, const char *name)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(cat, "models"), i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

int aitag_models_install(const struct aitag_install_params *p, const char *name, int *unpinned,
                         char *err, size_t errlen)
{
    json_t *cat = NULL, *e, *files, *f, *man = NULL;
    const char *mname, *mfile;
    char path[4200], *text = NULL;
    size_t i;
    int rc;

    if (unpinned)
        *unpinned = 0;
    if (!p->dest_dir || !name) {
        snprintf(err, errlen, "install needs a model name and a destination folder");
        return AITAG_ERR_INVALID;
    }
    if ((rc = load_catalog(p, &cat, err, errlen)) < 0)
        return rc;
    rc = AITAG_ERR_NOTFOUND;
    if (!(e = find_entry(cat, name))) {
        snprintf(err, errlen,
                 "no model '%s' in catalog %s (aitag models install --list shows "
                 "them)",
                 name, p->catalog);
        goto out;
    }
    rc = AITAG_ERR_INVALID;
    files = json_object_get(e, "files");
    man = json_deep_copy(json_object_get(e, "manifest"));
    mname = json_string_value(json_object_get(man, "name"));
    mfile = json_string_value(json_object_get(man, "file"));
    if (!json_is_array(files) || !json_array_size(files) || !infer_inst_safe_name(mname) ||
        !infer_inst_safe_relpath(mfile)) {
        snprintf(err, errlen,
                 "catalog entry %s needs \"files\" and a \"manifest\" with a safe "
                 "\"name\" and \"file\"",
                 name);
        goto out;
    }
    if (infer_inst_mkdirs(p->dest_dir, 1) < 0) {
        snprintf(err, errlen, "cannot create %s", p->dest_dir);
        rc = AITAG_ERR_IO;
        goto out;
    }
    json_array_foreach(files, i, f)
    {
        char hex[65];
        if ((rc = install_file(p, f, hex, unpinned, err, errlen)) < 0)
            goto out;
        if (strcmp(json_string_value(json_object_get(f, "dest")), mfile) == 0)
            json_object_set_new(man, "sha256", json_string(hex));
    }
    rc = AITAG_ERR_INVALID;
    if (!json_is_string(json_object_get(man, "sha256")) ||
        json_string_length(json_object_get(man, "sha256")) != 64) {
        snprintf(err, errlen, "catalog entry %s: the manifest's \"file\" is none of its files",
                 name);
        goto out;
    }
    text = json_dumps(man, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    snprintf(path, sizeof path, "%s/%s.json", p->dest_dir, mname);
    rc = text ? infer_inst_write_atomic(path, text, strlen(text)) : AITAG_ERR_NOMEM;
    if (rc < 0)
        snprintf(err, errlen, "cannot write %s", path);
out:
    free(text);
    json_decref(man);
    json_decref(cat);
    return rc;
}

int aitag_models_catalog_list(const struct aitag_install_params *p, char ***lines, size_t *n,
                              char *err, size_t errlen)
{
    json_t *cat, *e, *models;
    char **arr;
    size_t i;
    int rc;

    *lines = NULL;
    *n = 0;
    if ((rc = load_catalog(p, &cat, err, errlen)) < 0)
        return rc;
    models = json_object_get(cat, "models");
    arr = calloc(json_array_size(models) + 1, sizeof *arr);
    if (!arr) {
        json_decref(cat);
        return AITAG_ERR_NOMEM;
    }
    json_array_foreach(models, i, e)
    {
        const char *nm = json_string_value(json_object_get(e, "name"));
        const char *lic = json_string_value(json_object_get(e, "license"));
        const char *desc = json_string_value(json_object_get(e, "description"));
        if (asprintf(&arr[i], "%s\t%s\t%s", nm ? nm : "?", lic ? lic : "?", desc ? desc : "") < 0) {
            for (size_t k = 0; k < i; k++)
                free(arr[k]);
            free(arr);
            json_decref(cat);
            return AITAG_ERR_NOMEM;
        }
    }
    *lines = arr;
    *n = json_array_size(models);
    json_decref(cat);
    return 0;
}
