/*
 * files.c - what the review app serves from the disk: the front end's files, each item's
 * media file and its thumbnail.
 *
 * Nothing here takes a path from a request. A front-end file is the request's path resolved
 * (symbolic links included) and kept only when it is a regular file inside static_dir. A media
 * file is the catalog's path of an item id, kept only inside a library root when roots are
 * set. A thumbnail is made once per content fingerprint into cache_dir (written to a temporary
 * name, then renamed, so two requests at once never serve half a file) and served from there.
 *
 * Media answer range requests (one range: "bytes=a-b", "bytes=a-", "bytes=-n"), which a
 * <video> element needs to seek; the bytes go from the file to the socket by libmicrohttpd's
 * sendfile, never through memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/media.h"
#include "web_int.h"

#define THUMB_SIDE 320

static const struct {
    const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"bmp", "image/bmp"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"mov", "video/quicktime"},
    {"webm", "video/webm"},
    {"mkv", "video/x-matroska"},
    {"avi", "video/x-msvideo"},
    {"ico", "image/x-icon"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* True when path lies inside dir (both real paths). */
static int inside(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* Queues an answer of len bytes of fd from offset (fd is the response's from then on). */
static enum MHD_Result send_fd(struct MHD_Connection *conn, unsigned status, int fd,
                               uint64_t offset, uint64_t len, const char *type, const char *range,
                               const char *cache)
{
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, offset);
    enum MHD_Result ok;

    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", cache);
    if (range)
        MHD_add_response_header(r, "Content-Range", range);
    web_secure_headers(r);
    ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result web_static(struct aitag_web *w, struct MHD_Connection *conn, const char *url)
{
    char want[PATH_MAX], real[PATH_MAX];
    struct stat st;
    int fd;

    if (strcmp(url, "/") == 0)
        url = "/index.html";
    if (url[0] != '/' || strstr(url, "..") || strchr(url, '\\') ||
        snprintf(want, sizeof want, "%s%s", w->static_dir, url) >= (int)sizeof want)
        return web_send_error(conn, 404, "%s: not found", url);
    if (!realpath(want, real) || !inside(real, w->static_dir) || stat(real, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return web_send_error(conn, 404, "%s: not found", url);
    fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return web_send_error(conn, 404, "%s: not found", url);
    return send_fd(conn, 200, fd, 0, (uint64_t)st.st_size, type_of(real), NULL, "no-cache");
}

/* The item's path and fingerprint, from the catalog. */
struct item_file {
    char path[PATH_MAX];
    char fingerprint[32];
    char kind[16];
    double duration;
    int found;
};

static int on_item(void *ctx, const struct aitag_browse_row *r)
{
    struct item_file *f = ctx;

    snprintf(f->path, sizeof f->path, "%s", r->path ? r->path : "");
    snprintf(f->fingerprint, sizeof f->fingerprint, "%s", r->fingerprint ? r->fingerprint : "");
    snprintf(f->kind, sizeof f->kind, "%s", r->kind ? r->kind : "");
    f->duration = r->duration;
    f->found = 1;
    return 1;
}

static int item_file(struct aitag_web *w, int64_t id, struct item_file *f)
{
    struct aitag_browse_query q = {.id = id, .limit = 1};
    struct aitag_catalog *c = web_catalog_get(w);
    int rc = aitag_catalog_browse(c, &q, on_item, f, NULL);

    web_catalog_put(w, c);
    return rc;
}

/* The item's file, resolved, when it may be served: into real. 0, or the HTTP status. */
static unsigned servable(struct aitag_web *w, const struct item_file *f, char *real)
{
    int ok = w->n_roots == 0;

    if (!f->found)
        return 404;
    if (!realpath(f->path, real))
        return 410; /* in the catalog, gone from the disk */
    for (size_t i = 0; i < w->n_roots && !ok; i++)
        ok = inside(real, w->roots[i]);
    return ok ? 0 : 403;
}

int web_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    unsigned long long a, b;
    char *end, *end2;

    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') { /* the last n bytes */
        a = strtoull(h + 1, &end, 10);
        if (end == h + 1 || *end || a == 0 || size == 0)
            return -1;
        *from = a >= size ? 0 : size - a;
        *to = size - 1;
        return 1;
    }
    a = strtoull(h, &end, 10);
    if (end == h || *end != '-')
        return -1;
    end++;
    b = size ? size - 1 : 0;
    if (*end) {
        b = strtoull(end, &end2, 10);
        if (end2 == end || *end2)
            return -1;
    }
    if (a >= size || b < a)
        return -1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 1;
}

enum MHD_Result web_media(struct aitag_web *w, struct MHD_Connection *conn, int64_t id)
{
    struct item_file f = {0};
    char real[PATH_MAX], range[96];
    uint64_t from = 0, to = 0, size;
    struct stat st;
    unsigned status;
    int fd, want;

    if (item_file(w, id, &f) < 0)
        return web_send_error(conn, 500, "item %" PRId64 ": catalog error", id);
    if ((status = servable(w, &f, real)) != 0)
        return web_send_error(conn, status, "item %" PRId64 ": %s", id,
                              status == 404   ? "no such item"
                              : status == 410 ? "its file is gone"
                                              : "its file lies outside the library roots");
    fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return web_send_error(conn, 410, "item %" PRId64 ": its file cannot be read", id);
    }
    size = (uint64_t)st.st_size;
    want = web_parse_range(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range"), size, &from,
                           &to);
    if (want < 0) {
        struct MHD_Response *r;
        enum MHD_Result ok;
        close(fd);
        snprintf(range, sizeof range, "bytes */%" PRIu64, size);
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Content-Range", range);
        web_secure_headers(r);
        ok = MHD_queue_response(conn, 416, r);
        MHD_destroy_response(r);
        return ok;
    }
    if (want == 0)
        return send_fd(conn, 200, fd, 0, size, type_of(real), NULL, "private, max-age=60");
    snprintf(range, sizeof range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
    return send_fd(conn, 206, fd, from, to - from + 1, type_of(real), range, "private, max-age=60");
}

/* Writes len bytes to dest through a temporary file and a rename: a reader sees the whole file
 * or none. 0, or AITAG_ERR_IO with err set. */
static int write_whole(const char *dest, const unsigned char *data, size_t len, char *err,
                       size_t errlen)
{
    char tmp[PATH_MAX + 128];
    int fd, ok;
    FILE *out;

    snprintf(tmp, sizeof tmp, "%s.XXXXXX", dest);
    if ((fd = mkstemp(tmp)) < 0) {
        aitag_fmt(err, errlen, "%s: %s", dest, strerror(errno));
        return AITAG_ERR_IO;
    }
    if (!(out = fdopen(fd, "wb"))) {
        close(fd);
        unlink(tmp);
        aitag_fmt(err, errlen, "%s: %s", dest, strerror(errno));
        return AITAG_ERR_IO;
    }
    ok = fwrite(data, 1, len, out) == len;
    ok = (fclose(out) == 0) && ok;
    if (!ok || rename(tmp, dest) != 0) {
        aitag_fmt(err, errlen, "%s: %s", dest, strerror(errno));
        unlink(tmp);
        return AITAG_ERR_IO;
    }
    return 0;
}

/* Makes the thumbnail of f at dest. */
static int make_thumb(const struct item_file *f, const char *real, const char *dest, char *err,
                      size_t errlen)
{
    unsigned char *jpeg = NULL;
    size_t len = 0;
    double t = strcmp(f->kind, "image") == 0 ? 0 : f->duration * 0.1;
    int rc =
        aitag_media_thumbnail_jpeg(real, t > 60 ? 60 : t, THUMB_SIDE, &jpeg, &len, err, errlen);

    if (rc == 0)
        rc = write_whole(dest, jpeg, len, err, errlen);
    free(jpeg);
    return rc;
}

enum MHD_Result web_thumb(struct aitag_web *w, struct MHD_Connection *conn, int64_t id)
{
    struct item_file f = {0};
    char real[PATH_MAX], dest[PATH_MAX + 64], err[600];
    struct stat st;
    unsigned status;
    int fd;

    if (item_file(w, id, &f) < 0)
        return web_send_error(conn, 500, "item %" PRId64 ": catalog error", id);
    if ((status = servable(w, &f, real)) != 0)
        return web_send_error(conn, status, "item %" PRId64 ": no thumbnail", id);
    if (strspn(f.fingerprint, "0123456789abcdef") != strlen(f.fingerprint) || !f.fingerprint[0])
        return web_send_error(conn, 404, "item %" PRId64 ": no fingerprint", id);
    snprintf(dest, sizeof dest, "%s/%s-%d.jpg", w->cache_dir, f.fingerprint, THUMB_SIDE);
    if (stat(dest, &st) != 0 && make_thumb(&f, real, dest, err, sizeof err) < 0)
        return web_send_error(conn, 422, "%s", err);
    fd = open(dest, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return web_send_error(conn, 500, "%s: %s", dest, strerror(errno));
    }
    return send_fd(conn, 200, fd, 0, (uint64_t)st.st_size, "image/jpeg", NULL,
                   "private, max-age=86400");
}

/* The face's file, time and box (from the catalog). */
struct face_file {
    char path[PATH_MAX];
    double t;
    struct aitag_box box;
    int found;
};

static int on_face(void *ctx, const struct aitag_face *f)
{
    struct face_file *ff = ctx;

    snprintf(ff->path, sizeof ff->path, "%s", f->path ? f->path : "");
    ff->t = f->t;
    ff->box = f->box;
    ff->found = 1;
    return 1;
}

enum MHD_Result web_face_crop(struct aitag_web *w, struct MHD_Connection *conn, int64_t face_id)
{
    struct face_file ff = {0};
    struct item_file f = {0};
    struct aitag_catalog *c = web_catalog_get(w);
    char real[PATH_MAX], dest[PATH_MAX + 64], err[600];
    int rc = aitag_catalog_get_face(c, face_id, on_face, &ff), fd;
    unsigned char *jpeg = NULL;
    unsigned status;
    struct stat st;
    size_t len = 0;

    web_catalog_put(w, c);
    if (rc == AITAG_ERR_NOTFOUND || (rc == 0 && !ff.found))
        return web_send_error(conn, 404, "face %" PRId64 ": no such face", face_id);
    if (rc < 0)
        return web_send_error(conn, 500, "face %" PRId64 ": catalog error", face_id);
    snprintf(f.path, sizeof f.path, "%s", ff.path);
    f.found = 1;
    if ((status = servable(w, &f, real)) != 0)
        return web_send_error(conn, status, "face %" PRId64 ": its file cannot be served", face_id);
    /* the face and a margin of half its size around it, in the frame */
    {
        float mx = ff.box.w * 0.25f, my = ff.box.h * 0.25f;
        float x = ff.box.x - mx < 0 ? 0 : ff.box.x - mx, y = ff.box.y - my < 0 ? 0 : ff.box.y - my;
        float x2 = ff.box.x + ff.box.w + mx, y2 = ff.box.y + ff.box.h + my;
        ff.box = (struct aitag_box){x, y, (x2 > 1 ? 1 : x2) - x, (y2 > 1 ? 1 : y2) - y};
    }
    snprintf(dest, sizeof dest, "%s/face-%" PRId64 "-%.3f-%.4f-%.4f.jpg", w->cache_dir, face_id,
             ff.t, ff.box.x, ff.box.y);
    if (stat(dest, &st) != 0) {
        rc = aitag_media_crop_jpeg(real, ff.t, ff.box.x, ff.box.y, ff.box.w, ff.box.h, &jpeg, &len,
                                   err, sizeof err);
        if (rc == 0)
            rc = write_whole(dest, jpeg, len, err, sizeof err);
        free(jpeg);
        if (rc < 0)
            return web_send_error(conn, rc == AITAG_ERR_IO ? 500 : 422, "%s", err);
    }
    fd = open(dest, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return web_send_error(conn, 500, "%s: %s", dest, strerror(errno));
    }
    return send_fd(conn, 200, fd, 0, (uint64_t)st.st_size, "image/jpeg", NULL,
                   "private, max-age=86400");
}
