/*
 * paths.c - the default locations every sink shares: one catalog and one rules file.
 *
 * The command line, the Stash plugin (when told to) and the gateway read and write the same
 * catalog, $XDG_DATA_HOME/aitag/catalog.db (~/.local/share/aitag/catalog.db without it), and
 * apply the same rules file, $XDG_CONFIG_HOME/aitag/rules.json (~/.config/aitag/rules.json),
 * so a file tagged from one sink is not analysed again from another. The paths are computed
 * here only; creating the catalog's folder is a separate step (aitag_mkdir_parents) so that
 * reading a config never touches the file system.
 *
 * aitag_path_absolute folds a path without asking the file system: the tagger names items by
 * the path given (symlinks are part of a name), and the gateway checks a path against its
 * library roots before opening anything.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"

/* $XDG_<var> (absolute, non-empty) + "/aitag/" + file, else $HOME + fallback + file. */
static const char *xdg_path(const char *var, const char *fallback, const char *file, char *buf,
                            size_t len)
{
    const char *xdg = getenv(var), *home = getenv("HOME");

    if (xdg && *xdg)
        return aitag_fmt(buf, len, "%s/aitag/%s", xdg, file);
    return aitag_fmt(buf, len, "%s/%s/aitag/%s", home && *home ? home : ".", fallback, file);
}

const char *aitag_default_catalog_path(char *buf, size_t len)
{
    return xdg_path("XDG_DATA_HOME", ".local/share", "catalog.db", buf, len);
}

const char *aitag_default_rules_path(char *buf, size_t len)
{
    xdg_path("XDG_CONFIG_HOME", ".config", "rules.json", buf, len);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

const char *aitag_default_context_path(char *buf, size_t len)
{
    xdg_path("XDG_CONFIG_HOME", ".config", "context.json", buf, len);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

int aitag_mkdir_parents(const char *path)
{
    char *p = NULL, *s;
    int rc = 0;
    size_t n = strlen(path);

    if (!(p = malloc(n + 1)))
        return AITAG_ERR_NOMEM;
    memcpy(p, path, n + 1);
    for (s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = AITAG_ERR_IO;
            goto out;
        }
        *s = '/';
    }
out:
    free(p);
    return rc;
}

int aitag_path_absolute(const char *path, char *out, size_t len)
{
    char cwd[PATH_MAX], tmp[PATH_MAX * 2];
    size_t o = 0;
    int n;

    if (path[0] == '/')
        n = snprintf(tmp, sizeof tmp, "%s", path);
    else if (getcwd(cwd, sizeof cwd))
        n = snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
    else
        return -1;
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    for (const char *p = tmp; *p;) {
        const char *seg;
        size_t sl;
        while (*p == '/')
            p++;
        seg = p;
        while (*p && *p != '/')
            p++;
        sl = (size_t)(p - seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.'))
            continue;
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        if (o + sl + 2 > len)
            return -1;
        out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return 0;
}
