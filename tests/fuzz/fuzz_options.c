/* fuzz_options.c - libFuzzer target for the option parser: any bytes as a config file, then
 * the same bytes split into argv words, must resolve or fail with a one-line message, for
 * every command of the table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/options.h"

#define MAX_WORDS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n_cmds;
    const struct aitag_cmd_def *cmds = aitag_command_table(&n_cmds);
    char *text = malloc(size + 1), *words = malloc(size + 1), *argv[MAX_WORDS], err[512];
    int argc = 0;

    if (!text || !words)
        goto out;
    memcpy(text, data, size);
    text[size] = '\0';
    memcpy(words, text, size + 1);
    for (char *p = words; *p && argc < MAX_WORDS;) { /* words split at blanks and newlines */
        size_t len = strcspn(p, " \n");
        if (len)
            argv[argc++] = p;
        p += len;
        if (*p)
            *p++ = '\0';
    }
    for (size_t i = 0; i < n_cmds; i++) {
        struct aitag_opts o;
        err[0] = '\0';
        if (aitag_opts_init(&o, cmds[i].name) == 0 &&
            aitag_opts_load_config(&o, text, "fuzz", err, sizeof err) == 0)
            aitag_opts_parse_argv(&o, argc, argv, err, sizeof err);
        if (strchr(err, '\n'))
            abort(); /* errors are one line */
        aitag_opts_free(&o);
    }
out:
    free(text);
    free(words);
    return 0;
}
