/* options.h - the one option table behind config file keys, environment variables and flags. */
#ifndef AITAG_CLI_OPTIONS_H
#define AITAG_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

enum opt_type { OPT_STR, OPT_INT, OPT_NUM, OPT_BOOL };

struct opt_def {
    const char *name;     /* --name, config key "name", env AITAG_NAME (dashes -> _) */
    enum opt_type type;
    const char *def;      /* default as text; NULL = unset */
    const char *commands; /* space-separated commands that accept it, "*" for all */
    const char *help;
};

#define MAX_OPTS 64 /* rows of the table in options.c; a static assert there checks it */

struct opts {
    char *values[MAX_OPTS];   /* resolved text values (owned), index as in the table */
    char *origin[MAX_OPTS];   /* "default", "config", "env" or "flag" (static) */
    char **args;              /* positional arguments (borrowed from argv) */
    size_t n_args;
    char **tags;              /* repeated --tag values (borrowed) */
    size_t n_tags;
    int help;
    char config_path[512];
};

const struct opt_def *opts_table(size_t *n);
/* Resolves defaults < config file < environment < flags for command cmd. argv starts after the
 * command name. Returns 0, or -1 with a message printed to stderr (usage error). */
int opts_parse(struct opts *o, const char *cmd, int argc, char **argv);
void opts_free(struct opts *o);
const char *opt_str(const struct opts *o, const char *name);
long opt_int(const struct opts *o, const char *name);
double opt_num(const struct opts *o, const char *name);
int opt_bool(const struct opts *o, const char *name);
/* Prints the options accepted by cmd, with env names and defaults. */
void opts_print_help(const char *cmd, FILE *out);

#endif
