/* fuzz_path_map.c - libFuzzer target for path mappings ("from=>to;...": the plugin's
 * pathMappings setting from Stash, aitag worker --path-map). The input is the mappings, a NUL
 * byte, then the path. Mapping never writes past the buffer, a result that fits is
 * NUL-terminated inside it, an unmapped path comes back unchanged, and a path that is exactly
 * one mapping's source maps to its target. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    char *maps, *path, *rev, out[256], small[8];
    size_t mlen = nul ? (size_t)(nul - data) : size;
    int rc;

    maps = malloc(mlen + 1);
    path = malloc(size - mlen + 1);
    if (!maps || !path)
        goto out;
    memcpy(maps, data, mlen);
    maps[mlen] = '\0';
    memcpy(path, nul ? nul + 1 : (const uint8_t *)"", nul ? size - mlen - 1 : 0);
    path[nul ? size - mlen - 1 : 0] = '\0';
    rc = aitag_map_path(maps, path, out, sizeof out);
    if (rc >= 0 && strlen(out) >= sizeof out)
        abort();
    if (rc == 0 && strcmp(out, path) != 0)
        abort(); /* no mapping matched: the path as it was */
    aitag_map_path(maps, path, small, sizeof small);
    rev = aitag_map_reverse(maps);
    if (rev) {
        if (strlen(rev) > mlen)
            abort();
        aitag_map_path(rev, path, out, sizeof out);
        free(rev);
    }
    /* One mapping "a=>b" with a source that is the whole path: the path becomes "b". */
    if (!strstr(maps, "=>") && !strchr(maps, ';') && maps[0] && path[0] && !strstr(path, "=>") &&
        !strchr(path, ';') && maps[0] != ' ' && path[strlen(path) - 1] != '/' &&
        maps[strlen(maps) - 1] != ' ' && path[0] != ' ' && path[strlen(path) - 1] != ' ') {
        char one[600];
        if (strlen(maps) + strlen(path) + 3 < sizeof one && !strpbrk(maps, "\t\r\n") &&
            !strpbrk(path, "\t\r\n") && maps[strlen(maps) - 1] != '/') {
            snprintf(one, sizeof one, "%s=>%s", path, maps);
            if (aitag_map_path(one, path, out, sizeof out) == 1 && strcmp(out, maps) != 0)
                abort();
        }
    }
out:
    free(maps);
    free(path);
    return 0;
}
