/*
 * options.c - where the CLI's option values come from: the config file, the process
 * environment and argv, handed to the option library (src/options/) that checks them all
 * alike. A config file named by AITAG_CONFIG must exist; the default one
 * ($XDG_CONFIG_HOME/aitag/config, else ~/.config/aitag/config) may be absent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_CONFIG (1u << 20)

static const char *env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* Reads the config file into *text (NULL when the default file is absent). */
static int read_config(char *path, size_t len, char **text, char *err, size_t errlen)
{
    const char *named = getenv("AITAG_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"),
               *home = getenv("HOME");
    size_t n = 0, cap = 0, used = 0;
    char chunk[4096];
    FILE *f;
    int rc = 0;

    *text = NULL;
    if (named && *named)
        snprintf(path, len, "%s", named);
    else if (xdg && *xdg)
        snprintf(path, len, "%s/aitag/config", xdg);
    else
        snprintf(path, len, "%s/.config/aitag/config", home ? home : ".");
    f = fopen(path, "r");
    if (!f) {
        if (!(named && *named))
            return 0; /* no config file is fine, unless one was named */
        snprintf(err, errlen, "AITAG_CONFIG=%s: %s", path, strerror(errno));
        return AITAG_ERR_IO;
    }
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = aitag_buf_append(text, &used, &cap, chunk, n, MAX_CONFIG);
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = AITAG_ERR_IO;
    } else if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == AITAG_ERR_INVALID ? "larger than 1 MiB" : "out of memory");
    }
    fclose(f);
    return rc;
}

int cli_resolve(struct aitag_opts *o, const char *cmd, int argc, char **argv, char *err,
                size_t errlen)
{
    char path[4096], *text = NULL;
    int rc = aitag_opts_init(o, cmd);

    err[0] = '\0';
    if (rc == 0)
        rc = read_config(path, sizeof path, &text, err, errlen);
    if (rc == 0 && text)
        rc = aitag_opts_load_config(o, text, path, err, errlen);
    if (rc == 0)
        rc = aitag_opts_load_env(o, env_lookup, NULL, err, errlen);
    if (rc == 0)
        rc = aitag_opts_parse_argv(o, argc, argv, err, errlen);
    free(text);
    if (rc < 0 && !err[0])
        snprintf(err, errlen, "%s", aitag_strerror(rc));
    return rc;
}

int cli_options(struct aitag_opts *o, const char *cmd, int argc, char **argv)
{
    char err[1024];

    if (cli_resolve(o, cmd, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "aitag %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    if (o->help) {
        cli_print_help(stdout, cmd);
        return EXIT_OK;
    }
    return cli_need_subcommand(cmd) ? EXIT_USAGE : -1;
}
