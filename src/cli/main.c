/*
 * main.c - the `aitag` command: dispatch to subcommands, shared defaults and logging.
 *
 * Default locations follow the XDG base directories: the catalog in
 * $XDG_DATA_HOME/aitag/catalog.db, config and rules in $XDG_CONFIG_HOME/aitag/. Model
 * manifests and weights default to the installed tree, or the source tree a developer built
 * from (models/ and deps/models/).
 *
 * The installed tree is found from the program file itself, /proc/self/exe. The Stash plugin
 * starts it through its bundled dynamic loader (`ld-linux-x86-64.so.2 ... bin/aitag.bin`,
 * plugin/package.sh), and then /proc/self/exe names the loader, not the program; the loader
 * puts the program's path in the auxiliary vector's AT_EXECFN instead, which is used then (and
 * where /proc is not mounted).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "cli.h"

#ifndef AITAG_SOURCE_DIR
#define AITAG_SOURCE_DIR "."
#endif

const char *cli_catalog_path(const struct aitag_opts *o, char *buf, size_t len)
{
    const char *v = aitag_opts_str(o, "catalog");

    if (v && *v)
        return v;
    aitag_default_catalog_path(buf, len); /* the gateway's default too */
    return buf; /* opening it for writing creates its folders (aitag_catalog_open) */
}

/* The program file's absolute path into exe (PATH_MAX bytes); its length, or -1. */
ssize_t cli_program_path(char *exe)
{
    /* NOLINTNEXTLINE(performance-no-int-to-ptr): getauxval returns addresses as integers */
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX - 1);

    if (n > 0) {
        const char *base;
        exe[n] = '\0';
        base = strrchr(exe, '/');
        if (strncmp(base ? base + 1 : exe, "ld-linux", 8) != 0)
            return n;
    }
    if (execfn && realpath(execfn, exe))
        return (ssize_t)strlen(exe);
    return -1;
}

static const char *tree_dir(const char *v, const char *installed, const char *source, char *buf,
                            size_t len)
{
    char exe[PATH_MAX];
    ssize_t n;

    if (v && *v)
        return v;
    /* Installed layout: <prefix>/bin/aitag with <prefix>/share/aitag/<installed>. */
    n = cli_program_path(exe);
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

const char *cli_models_dir(const struct aitag_opts *o, char *buf, size_t len)
{
    return tree_dir(aitag_opts_str(o, "models-dir"), "models", "models", buf, len);
}

const char *cli_web_dir(const struct aitag_opts *o, char *buf, size_t len)
{
    return tree_dir(aitag_opts_str(o, "web-dir"), "web", "web", buf, len);
}

size_t cli_context_paths(const struct aitag_opts *o, char (*bufs)[4096], const char **paths)
{
    size_t n = 0;
    const char *user = aitag_opts_str(o, "context");

    if (aitag_opts_bool(o, "context-defaults")) {
        char models[4096];
        snprintf(bufs[0], 4096, "%.4000s/context/defaults.json",
                 cli_models_dir(o, models, sizeof models));
        if (access(bufs[0], R_OK) == 0)
            paths[n++] = bufs[0];
    }
    if (!user)
        user = aitag_default_context_path(bufs[1], 4096);
    if (user)
        paths[n++] = user;
    return n;
}

const char *cli_weights_dir(const struct aitag_opts *o, char *buf, size_t len)
{
    return tree_dir(aitag_opts_str(o, "weights-dir"), "weights", "deps/models", buf, len);
}

void cli_setup_logging(const struct aitag_opts *o, aitag_log_fn sink, void *ctx)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    static const enum aitag_log_level levels[] = {AITAG_LOG_ERROR, AITAG_LOG_WARN, AITAG_LOG_INFO,
                                                  AITAG_LOG_DEBUG};
    const char *l = aitag_opts_str(o, "log-level"); /* the table checked it; its default */
    enum aitag_log_level lv = AITAG_LOG_WARN;

    for (size_t i = 0; l && i < sizeof names / sizeof *names; i++)
        if (strcmp(l, names[i]) == 0)
            lv = levels[i];
    aitag_log_set_sink(sink, ctx, lv);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        cli_print_usage(cmd ? stdout : stderr);
        return cmd ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(cmd, "help") == 0)
        return cli_help(argc - 2, argv + 2);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("aitag %s\n", AITAG_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "tag") == 0)
        return cmd_tag(argc - 2, argv + 2);
    if (strcmp(cmd, "enqueue") == 0)
        return cmd_enqueue(argc - 2, argv + 2);
    if (strcmp(cmd, "worker") == 0)
        return cmd_worker(argc - 2, argv + 2);
    if (strcmp(cmd, "jobs") == 0)
        return cmd_jobs(argc - 2, argv + 2);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(argc - 2, argv + 2);
    if (strcmp(cmd, "search") == 0)
        return cmd_search(argc - 2, argv + 2);
    if (strcmp(cmd, "people") == 0)
        return cmd_people(argc - 2, argv + 2);
    if (strcmp(cmd, "review") == 0)
        return cmd_review(argc - 2, argv + 2);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 2, argv + 2);
    if (strcmp(cmd, "prune") == 0)
        return cmd_prune(argc - 2, argv + 2);
    if (strcmp(cmd, "catalog") == 0)
        return cmd_catalog(argc - 2, argv + 2);
    if (strcmp(cmd, "models") == 0)
        return cmd_models(argc - 2, argv + 2);
    if (strcmp(cmd, "plugin") == 0)
        return cmd_plugin(argc - 2, argv + 2);
    if (strcmp(cmd, "gateway") == 0)
        return cmd_gateway(argc - 2, argv + 2);
    cli_unknown_command("", cmd);
    return EXIT_USAGE;
}
