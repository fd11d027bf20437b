/*
 * main.c - the `aitag` command: dispatch to subcommands, shared defaults and logging.
 *
 * Default locations follow the XDG base directories: the catalog in
 * $XDG_DATA_HOME/aitag/catalog.db, config and rules in $XDG_CONFIG_HOME/aitag/. Model
 * manifests and weights default to the installed tree, or the source tree a developer built
 * from (models/ and deps/models/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef AITAG_SOURCE_DIR
#define AITAG_SOURCE_DIR "."
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "aitag %s - tag videos and images with AI, into a catalog\n\n"
            "Usage:\n"
            "  aitag tag PATH...            tag files and folders (recursive)\n"
            "  aitag show FILE              show the stored tags, markers and text of a file\n"
            "  aitag search --tag A [--tag B] [--any]   find media by tags (AND, or OR)\n"
            "  aitag prune [--dry-run]      delete catalog items whose files are gone\n"
            "  aitag models list|verify     list analyzers and models, verify checksums\n"
            "  aitag plugin < INPUT.json    run as a Stash plugin (see docs/stash.md)\n"
            "  aitag gateway serve|keys|usage   the AI gateway (see docs/gateway.md)\n"
            "  aitag --version | --help     (every command takes --help)\n\n"
            "Exit codes: 0 ok, 1 some items failed, 2 usage error, 3 catalog or models\n"
            "unusable, 130 interrupted.\n",
            AITAG_VERSION);
}

const char *cli_catalog_path(const struct opts *o, char *buf, size_t len)
{
    const char *v = opt_str(o, "catalog"), *xdg = getenv("XDG_DATA_HOME"),
               *home = getenv("HOME");

    if (v && *v)
        return v;
    if (xdg && *xdg)
        snprintf(buf, len, "%s/aitag/catalog.db", xdg);
    else
        snprintf(buf, len, "%s/.local/share/aitag/catalog.db", home ? home : ".");
    return buf; /* opening it for writing creates its folders (aitag_catalog_open) */
}

static const char *tree_dir(const char *v, const char *installed, const char *source, char *buf,
                            size_t len)
{
    char exe[4096];
    ssize_t n;

    if (v && *v)
        return v;
    /* Installed layout: <prefix>/bin/aitag with <prefix>/share/aitag/<installed>. */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        char *slash;
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, len, "%s/../share/aitag/%s", exe, installed);
            if (access(buf, R_OK) == 0)
                return buf;
        }
    }
    snprintf(buf, len, "%s/%s", AITAG_SOURCE_DIR, source);
    return buf;
}

const char *cli_models_dir(const struct opts *o, char *buf, size_t len)
{
    return tree_dir(opt_str(o, "models-dir"), "models", "models", buf, len);
}

const char *cli_weights_dir(const struct opts *o, char *buf, size_t len)
{
    return tree_dir(opt_str(o, "weights-dir"), "weights", "deps/models", buf, len);
}

void cli_setup_logging(const struct opts *o)
{
    const char *l = opt_str(o, "log-level");
    enum aitag_log_level lv = AITAG_LOG_WARN;

    if (l && strcmp(l, "error") == 0)
        lv = AITAG_LOG_ERROR;
    else if (l && strcmp(l, "info") == 0)
        lv = AITAG_LOG_INFO;
    else if (l && strcmp(l, "debug") == 0)
        lv = AITAG_LOG_DEBUG;
    aitag_log_set_sink(NULL, NULL, lv);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return cmd ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("aitag %s\n", AITAG_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "tag") == 0)
        return cmd_tag(argc - 2, argv + 2);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(argc - 2, argv + 2);
    if (strcmp(cmd, "search") == 0)
        return cmd_search(argc - 2, argv + 2);
    if (strcmp(cmd, "prune") == 0)
        return cmd_prune(argc - 2, argv + 2);
    if (strcmp(cmd, "models") == 0)
        return cmd_models(argc - 2, argv + 2);
    if (strcmp(cmd, "plugin") == 0)
        return cmd_plugin(argc - 2, argv + 2);
    if (strcmp(cmd, "gateway") == 0)
        return cmd_gateway(argc - 2, argv + 2);
    fprintf(stderr, "aitag: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
