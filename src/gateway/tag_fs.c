/*
 * tag_fs.c - the files /v1/tag reads: a library file opened once under a root, or an upload
 * written to the gateway's private folder.
 *
 * A path is checked and opened in one go, so the file checked is the file tagged: the path is
 * made absolute and folded lexically ("." and ".." are names, not links), matched against the
 * roots without touching the disk (a path outside every root gets the same answer whether or
 * not a file exists there), then opened from the root's descriptor one component at a time
 * with O_NOFOLLOW. A symbolic link anywhere below the root is refused, never followed, and a
 * file swapped for a link after the check cannot be reached: the tagger reads the descriptor
 * (aitag_tagger_run_fd), not the path. The roots themselves are the administrator's and may be
 * links.
 *
 * Uploads live in a folder made with mkdtemp (0700, an unpredictable name) under tmp_dir when
 * the gateway starts and removed when it stops. Each upload is a new file there, opened
 * O_CREAT|O_EXCL|O_NOFOLLOW with mode 0600 and dated through its descriptor (futimens), so no
 * name planted by another user in tmp_dir is ever opened, written or re-dated.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "gateway_int.h"

/* aitag_path_absolute, with "" for the root folder (so that "root/" + rest names a path). */
static int fold_path(const char *path, char *out, size_t len)
{
    if (aitag_path_absolute(path, out, len) < 0)
        return -1;
    if (strcmp(out, "/") == 0)
        out[0] = '\0';
    return 0;
}

/* The part of abs below root ("" for root itself, else starting after its '/'), or NULL when
 * abs is not root or below it. Both folded; root "" is "/". */
static const char *below(const char *abs, const char *root)
{
    size_t n = strlen(root);

    if (strncmp(abs, root, n) != 0 || (abs[n] != '/' && abs[n] != '\0'))
        return NULL;
    return abs[n] == '/' ? abs + n + 1 : abs + n;
}

/* Opens rel (folded, relative) below the folder dfd without following any link. Returns a
 * descriptor, or -1 with errno (ELOOP for a link, ENOENT, ENOTDIR ...). Closes dfd. */
static int open_beneath(int dfd, const char *rel)
{
    char comp[NAME_MAX + 1];

    while (*rel) {
        const char *slash = strchr(rel, '/');
        size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
        struct stat st;
        int fd, e;

        if (n > NAME_MAX) {
            close(dfd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(comp, rel, n);
        comp[n] = '\0';
        rel += n + (slash ? 1 : 0);
        if (!slash) { /* the file: O_NONBLOCK so a FIFO cannot hold the thread */
            fd = openat(dfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            e = errno;
            close(dfd);
            errno = e;
            return fd;
        }
        fd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        e = errno;
        close(dfd);
        if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
            e = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
            close(fd);
            fd = -1;
        }
        if (fd < 0) {
            errno = e;
            return -1;
        }
        dfd = fd;
    }
    close(dfd);
    errno = EISDIR; /* the root itself */
    return -1;
}

int gw_open_under_roots(const char *path, char *const *roots, size_t n_roots, char *real,
                        size_t len, int *fd_out)
{
    char abs[PATH_MAX], rr[PATH_MAX], rl[PATH_MAX];

    *fd_out = -1;
    if (!path || !*path || fold_path(path, abs, sizeof abs) < 0)
        return AITAG_ERR_INVALID;
    for (size_t i = 0; i < n_roots; i++) {
        const char *rel = NULL;
        int dfd, fd;

        if (!realpath(roots[i], rr))
            continue;
        if (strcmp(rr, "/") == 0)
            rr[0] = '\0';
        rel = below(abs, rr);
        if (!rel && fold_path(roots[i], rl, sizeof rl) == 0)
            rel = below(abs, rl); /* the root as configured, when it is a link */
        if (!rel)
            continue;
        if (snprintf(real, len, "%s/%s", rr, rel) >= (int)len)
            return AITAG_ERR_INVALID;
        dfd = open(rr[0] ? rr : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return AITAG_ERR_NOTFOUND;
        fd = open_beneath(dfd, rel);
        if (fd < 0)
            return errno == ELOOP ? AITAG_ERR_IO : AITAG_ERR_NOTFOUND;
        *fd_out = fd;
        return 0;
    }
    return AITAG_ERR_INVALID;
}

int gw_tag_tmp_open(struct aitag_gateway *gw, char *err, size_t errlen)
{
    char dir[PATH_MAX], tmpl[PATH_MAX + 32];

    if (!realpath(gw->cfg->tmp_dir, dir)) {
        snprintf(err, errlen, "gateway: tmp_dir %s: %s", gw->cfg->tmp_dir, strerror(errno));
        return AITAG_ERR_IO;
    }
    snprintf(tmpl, sizeof tmpl, "%s/aitag-gateway-XXXXXX", strcmp(dir, "/") ? dir : "");
    if (!mkdtemp(tmpl)) { /* 0700, a name nobody could plant beforehand */
        snprintf(err, errlen, "gateway: tmp_dir %s: cannot create a private folder: %s", dir,
                 strerror(errno));
        return AITAG_ERR_IO;
    }
    gw->tag_tmp = strdup(tmpl);
    gw->tag_tmp_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!gw->tag_tmp || gw->tag_tmp_fd < 0) {
        snprintf(err, errlen, "gateway: cannot open its private folder %s", tmpl);
        rmdir(tmpl);
        free(gw->tag_tmp);
        gw->tag_tmp = NULL;
        return AITAG_ERR_IO;
    }
    return 0;
}

void gw_tag_tmp_close(struct aitag_gateway *gw)
{
    DIR *d;
    struct dirent *de;
    int fd;

    if (!gw->tag_tmp)
        return;
    /* uploads are removed after tagging; a gateway stopped mid-way may leave some */
    fd = dup(gw->tag_tmp_fd);
    if (fd >= 0 && (d = fdopendir(fd))) {
        while ((de = readdir(d)))
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                unlinkat(gw->tag_tmp_fd, de->d_name, 0);
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    close(gw->tag_tmp_fd);
    if (rmdir(gw->tag_tmp) != 0)
        aitag_log(AITAG_LOG_WARN, "gateway", "event=tmp_dir_left path=\"%s\" error=\"%s\"",
                  gw->tag_tmp, strerror(errno));
    free(gw->tag_tmp);
    gw->tag_tmp = NULL;
    gw->tag_tmp_fd = -1;
}

int gw_tag_upload_write(struct aitag_gateway *gw, const void *data, size_t len, char *name,
                        size_t namelen)
{
    struct timespec ts[2] = {{1, 0}, {1, 0}}; /* fixed: the same bytes are the same file */
    unsigned long long n = __atomic_add_fetch(&gw->tag_tmp_seq, 1, __ATOMIC_RELAXED);
    const char *p = data;
    int fd, e;

    snprintf(name, namelen, "upload-%llu", n);
    fd = openat(gw->tag_tmp_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        len -= (size_t)w;
    }
    if (futimens(fd, ts) != 0)
        goto fail;
    return fd;
fail:
    e = errno ? errno : EIO;
    close(fd);
    unlinkat(gw->tag_tmp_fd, name, 0);
    errno = e;
    return -1;
}

void gw_tag_upload_remove(struct aitag_gateway *gw, const char *name)
{
    unlinkat(gw->tag_tmp_fd, name, 0);
}
