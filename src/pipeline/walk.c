/*
 * walk.c - turning arguments into files: folders recursively, symlinks followed with loop
 * detection, results sorted for a deterministic order.
 *
 * Every folder on the current descent path is remembered by (device, inode); a symlink that
 * leads back into one of them is a loop and is reported as an entry with an error rather than
 * followed. A path that can't be read becomes an error entry too, so the caller reports it and
 * goes on with the rest. FIFOs, devices and sockets (given, or met in a folder with a media
 * extension) are such errors too: reading one may block forever or never end.
 *
 * Duplicates are dropped after the walk, by real path: sorting (real path, position) pairs
 * finds them in O(n log n). Of each group the entry named by its real path survives (so a
 * file's catalog key doesn't depend on which symlink was walked first), else the first one;
 * survivors keep their order.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/media.h"
#include "aitag/pipeline.h"
#include "walk.h"

struct dir_id {
    dev_t dev;
    ino_t ino;
};

static int add(struct walk_list *l, const char *path, const char *error)
{
    struct walk_entry e = {strdup(path), error ? strdup(error) : NULL};

    if (!e.path || (error && !e.error))
        goto fail;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct walk_entry *g = realloc(l->items, cap * sizeof *g);
        if (!g)
            goto fail;
        l->items = g, l->cap = cap;
    }
    l->items[l->n++] = e;
    return 0;
fail:
    free(e.path), free(e.error);
    return AITAG_ERR_NOMEM;
}

/* The error for a path that is neither a folder nor a regular file: a FIFO or a device may
 * never end or block the read, so it is refused, never opened. */
static const char *not_regular(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "not a regular file (a FIFO: only regular files are read)";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "not a regular file (a device: only regular files are read)";
    if (S_ISSOCK(mode))
        return "not a regular file (a socket: only regular files are read)";
    return "not a regular file";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk_list *l, const char *dir, struct dir_id *chain, int depth)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (depth >= 64)
        return add(l, dir, "folder nesting too deep (symlink loop?)");
    d = opendir(dir);
    if (!d) {
        char msg[128];
        return add(l, dir, aitag_fmt(msg, sizeof msg, "cannot open folder: %s", strerror(errno)));
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden entries */
        if (n == cap) {
            char **g = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof *g);
            if (!g) {
                rc = AITAG_ERR_NOMEM;
                goto out;
            }
            names = g;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char child[PATH_MAX];
        struct stat st;
        int len = snprintf(child, sizeof child, "%s/%s", dir, names[i]);

        if (len < 0 || (size_t)len >= sizeof child) {
            rc = add(l, names[i], "path too long");
            continue;
        }
        if (stat(child, &st) != 0) {
            struct stat lst;
            char msg[128];
            if (lstat(child, &lst) == 0 && S_ISLNK(lst.st_mode))
                rc = add(l, child, errno == ELOOP ? "symlink loop" : "broken symlink");
            else if (aitag_media_has_known_extension(child))
                rc = add(l, child, aitag_fmt(msg, sizeof msg, "%s", strerror(errno)));
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int loop = 0;
            for (int k = 0; k <= depth; k++)
                if (chain[k].dev == st.st_dev && chain[k].ino == st.st_ino)
                    loop = 1;
            if (loop) {
                rc = add(l, child, "symlink loop (folder leads back to a parent)");
                continue;
            }
            chain[depth + 1] = (struct dir_id){st.st_dev, st.st_ino};
            rc = walk_dir(l, child, chain, depth + 1);
        } else if (aitag_media_has_known_extension(child)) {
            rc = add(l, child, S_ISREG(st.st_mode) ? NULL : not_regular(st.st_mode));
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int pipeline_walk_absolute(const char *path, char *out, size_t len)
{
    return aitag_path_absolute(path, out, len);
}

int pipeline_walk_add(struct walk_list *l, const char *path, const char *error)
{
    return add(l, path, error);
}

int pipeline_walk_path(struct walk_list *l, const char *path)
{
    char abs[PATH_MAX];
    struct stat st;
    struct dir_id chain[65];

    if (pipeline_walk_absolute(path, abs, sizeof abs) < 0)
        return add(l, path, "path too long");
    if (stat(abs, &st) != 0) {
        char msg[160];
        if (errno == ELOOP)
            return add(l, abs, "symlink loop");
        return add(l, abs, aitag_fmt(msg, sizeof msg, "%s", strerror(errno)));
    }
    if (S_ISDIR(st.st_mode)) {
        chain[0] = (struct dir_id){st.st_dev, st.st_ino};
        return walk_dir(l, abs, chain, 0);
    }
    if (!S_ISREG(st.st_mode))
        return add(l, abs, not_regular(st.st_mode));
    return add(l, abs, NULL);
}

struct real_key {
    char *real;
    size_t pos;
};

static int cmp_real(const void *a, const void *b)
{
    const struct real_key *x = a, *y = b;
    int c = strcmp(x->real, y->real);

    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

int pipeline_walk_dedupe(struct walk_list *l)
{
    size_t total = l->n, n = 0;
    struct real_key *keys = calloc(total ? total : 1, sizeof *keys);
    char *drop = calloc(total ? total : 1, 1);
    int rc = AITAG_ERR_NOMEM;

    if (!keys || !drop)
        goto out;
    for (size_t i = 0; i < total; i++) {
        /* An entry that can't be resolved (an error entry) is keyed by its own path. */
        char *real = l->items[i].error ? NULL : realpath(l->items[i].path, NULL);
        keys[i] = (struct real_key){real ? real : strdup(l->items[i].path), i};
        if (!keys[i].real)
            goto out;
    }
    qsort(keys, total, sizeof *keys, cmp_real);
    for (size_t g = 0, end; g < total; g = end) {
        size_t keep = g;
        for (end = g + 1; end < total && strcmp(keys[end].real, keys[g].real) == 0; end++)
            if (keep == g && strcmp(l->items[keys[g].pos].path, keys[g].real) != 0 &&
                strcmp(l->items[keys[end].pos].path, keys[end].real) == 0)
                keep = end;
        for (size_t i = g; i < end; i++) {
            if (i == keep)
                continue;
            drop[keys[i].pos] = 1;
            aitag_log(AITAG_LOG_INFO, "walk", "event=duplicate path=\"%s\" same_as=\"%s\"",
                      l->items[keys[i].pos].path, l->items[keys[keep].pos].path);
        }
    }
    for (size_t i = 0; i < total; i++) {
        if (drop[i]) {
            free(l->items[i].path);
            free(l->items[i].error);
        } else {
            l->items[n++] = l->items[i];
        }
    }
    l->n = n;
    rc = 0;
out:
    for (size_t i = 0; keys && i < total; i++)
        free(keys[i].real);
    free(keys);
    free(drop);
    return rc;
}

void pipeline_walk_list_free(struct walk_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].path);
        free(l->items[i].error);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

int aitag_media_files(const char *const *paths, size_t n,
                      int (*fn)(void *ctx, const char *path, const char *error), void *ctx)
{
    struct walk_list l = {0};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = pipeline_walk_path(&l, paths[i]);
    if (rc == 0)
        rc = pipeline_walk_dedupe(&l);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = fn(ctx, l.items[i].path, l.items[i].error);
    pipeline_walk_list_free(&l);
    return rc;
}
