/* fuzz_plugin_input.c - libFuzzer target for what Stash writes to the plugin's stdin (the
 * raw-interface JSON: server_connection, args, hookContext). Any bytes are read into an input
 * or refused with a message naming the field; an accepted input has a URL, a known mode, ids
 * that are non-empty strings, and what its mode needs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_plugin_input in;
    char err[512] = "", *copy;

    copy = malloc(size ? size : 1); /* exact size: ASan catches a read past the text */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (aitag_plugin_input_parse(copy, size, &in, err, sizeof err) < 0) {
        if (!err[0] || in.url || in.mode || in.ids)
            abort(); /* refused: says why, keeps nothing */
    } else {
        if (!in.url || strncmp(in.url, "http", 4) != 0 || !in.mode || !in.plugin_dir)
            abort();
        for (size_t i = 0; i < in.n_ids; i++)
            if (!in.ids[i][0] || in.ids[i][0] == ' ' || in.ids[i][strlen(in.ids[i]) - 1] == ' ')
                abort();
        if ((!strcmp(in.mode, "scene") || !strcmp(in.mode, "image")) && in.n_ids == 0)
            abort();
        if (!strcmp(in.mode, "hook") && (!in.hook_type || !in.hook_id))
            abort();
    }
    aitag_plugin_input_clear(&in);
    free(copy);
    return 0;
}
