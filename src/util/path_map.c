/*
 * path_map.c - path mappings: the same library mounted at different paths on different
 * machines ("from_prefix=>to_prefix;..."). Stash's paths to this machine's (the Stash plugin's
 * pathMappings), and the catalog's library paths to a worker's mounts (aitag worker
 * --path-map). The longest prefix that ends at a path separator wins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"

static void trim_span(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\n' || **b == '\r'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\n' || (*e)[-1] == '\r'))
        (*e)--;
}

int aitag_map_path(const char *mappings, const char *path, char *out, size_t outlen)
{
    const char *best_from = NULL, *best_to = NULL;
    size_t best_len = 0, best_to_len = 0;
    int n;

    for (const char *p = mappings ? mappings : ""; *p;) {
        const char *end = strchr(p, ';'), *arrow, *fb = p, *fe, *tb, *te;
        if (!end)
            end = p + strlen(p);
        arrow = strstr(p, "=>");
        if (arrow && arrow < end) {
            fe = arrow;
            tb = arrow + 2;
            te = end;
            trim_span(&fb, &fe);
            trim_span(&tb, &te);
            /* Compare without a trailing slash, and match only at a component boundary. */
            while (fe - fb > 1 && fe[-1] == '/')
                fe--;
            while (te - tb > 1 && te[-1] == '/')
                te--;
            size_t fl = (size_t)(fe - fb);
            if (fl > 0 && fl > best_len && strncmp(path, fb, fl) == 0 &&
                (path[fl] == '/' || path[fl] == '\0' || (fl == 1 && fb[0] == '/'))) {
                best_from = fb, best_len = fl;
                best_to = tb, best_to_len = (size_t)(te - tb);
            }
        }
        p = *end ? end + 1 : end;
    }
    if (!best_from) {
        n = snprintf(out, outlen, "%s", path);
        return n < 0 || (size_t)n >= outlen ? AITAG_ERR_INVALID : 0;
    }
    {
        const char *rest = path + best_len;
        /* "/" => "/mnt": keep the separator between the new prefix and the rest (only the
         * root: a one-letter prefix "a" => "b" maps "a" to "b", not "ba"). */
        if (best_len == 1 && best_from[0] == '/' && *rest != '/')
            rest--;
        if (best_to_len == 1 && best_to[0] == '/' && *rest == '/')
            best_to_len = 0;
        n = snprintf(out, outlen, "%.*s%s", (int)best_to_len, best_to, rest);
    }
    return n < 0 || (size_t)n >= outlen ? AITAG_ERR_INVALID : 1;
}

/* "a=>b;c=>d" -> "b=>a;d=>c" (malloc'd). */
char *aitag_map_reverse(const char *m)
{
    size_t len = strlen(m);
    char *out = malloc(len + 2), *o = out;

    if (!out)
        return NULL;
    *o = '\0';
    for (const char *p = m; *p;) {
        const char *end = strchr(p, ';'), *arrow;
        if (!end)
            end = p + strlen(p);
        arrow = strstr(p, "=>");
        if (arrow && arrow < end) {
            if (o != out)
                *o++ = ';';
            memcpy(o, arrow + 2, (size_t)(end - arrow - 2));
            o += end - arrow - 2;
            memcpy(o, "=>", 2);
            o += 2;
            memcpy(o, p, (size_t)(arrow - p));
            o += arrow - p;
            *o = '\0';
        }
        p = *end ? end + 1 : end;
    }
    return out;
}
