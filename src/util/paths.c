/*
 * paths.c - the default locations every sink shares: one catalog and one rules file.
 *
 * The command line, the Stash plugin (when told to) and the gateway read and write the same
 * catalog, $XDG_DATA_HOME/aitag/catalog.db (~/.local/share/aitag/catalog.db without it), and
 * apply the same rules file, $XDG_CONFIG_HOME/aitag/rules.json (~/.config/aitag/rules.json),
 * so a file tagged from one sink is not analysed again from another. The paths are computed
 * here only; creating the catalog's folder is a separate step (aitag_mkdir_parents) so that
 * reading a config never touches the file system.
 */
#include <errno.h>
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
