/*
 * options.h - aitag's options and commands as data, and the one parser that checks them.
 *
 * Every setting a user can give is one row of the option table: its name is the flag
 * (--name VALUE, --name=VALUE; booleans also --name / --no-name), the config file key
 * ("name = value", "no-name = true") and the environment variable (AITAG_NAME, AITAG_NO_NAME;
 * dashes become underscores). Each row states its type and domain (a numeric range or the
 * values of an enum), so flags, environment and config file are checked by the same code and
 * fail with the same one-line message. The command table beside it names every command with its
 * synopsis; help, docs/cli.md, the man page and the shell completions are generated from both.
 *
 * Usage (the CLI; the plugin and the gateway can resolve the same keys the same way):
 *
 *     struct aitag_opts o;
 *     char err[512];
 *     aitag_opts_init(&o, "tag");                        // table defaults
 *     if (aitag_opts_load_config(&o, text, "/home/u/.config/aitag/config", err, sizeof err) < 0 ||
 *         aitag_opts_load_env(&o, env_lookup, NULL, err, sizeof err) < 0 ||
 *         aitag_opts_parse_argv(&o, argc, argv, err, sizeof err) < 0)
 *         ... print err (one line), exit 2 ...
 *     aitag_opts_int(&o, "threads");
 *     aitag_opts_free(&o);
 *
 * The library never reads files or the environment itself and never prints: the caller hands
 * in the config text and an environment lookup, and gets errors in its buffer. A handle belongs
 * to one thread at a time; the tables are constant and shared.
 */
#ifndef AITAG_OPTIONS_H
#define AITAG_OPTIONS_H

#include <stddef.h>

enum aitag_opt_type {
    AITAG_OPT_STR,  /* free text; domain is the metavariable shown in help (FILE, URL) */
    AITAG_OPT_INT,  /* whole number; domain "LO..HI", both inclusive */
    AITAG_OPT_NUM,  /* number; domain "LO..HI", both inclusive */
    AITAG_OPT_BOOL, /* true/false, yes/no, 1/0; --no-name sets false */
    AITAG_OPT_ENUM, /* one of domain "a|b|c" */
};

enum {
    AITAG_OPT_FLAG_ONLY = 1, /* a flag only: no config key, no environment variable */
    AITAG_OPT_REPEAT = 2,    /* a flag that may be given several times (aitag_opts_list) */
};

struct aitag_opt_def {
    const char *name;
    enum aitag_opt_type type;
    const char *def;      /* default as text; NULL = unset */
    const char *domain;   /* see enum aitag_opt_type; NULL for booleans */
    const char *commands; /* space-separated scopes: "tag", "models-install"; "*" = all */
    unsigned flags;       /* AITAG_OPT_FLAG_ONLY, AITAG_OPT_REPEAT */
    const char *help;
};

struct aitag_cmd_def {
    const char *name;    /* "tag", "models list", "gateway keys create" */
    const char *args;    /* synopsis after the name: "[OPTIONS] PATH..." */
    const char *summary; /* one line */
    const char *text;    /* more, for --help and the man page; NULL if none */
};

/* The tables (constant, static storage). A scope in opt_def.commands matches a command whose
 * name, with spaces as dashes, equals it or starts with it and a dash: "gateway-keys" matches
 * "gateway keys create". */
const struct aitag_opt_def *aitag_option_table(size_t *n);
const struct aitag_cmd_def *aitag_command_table(size_t *n);
/* The command named exactly name, or NULL. */
const struct aitag_cmd_def *aitag_command_find(const char *name);
/* 1 when option d applies to command cmd ("models install"). */
int aitag_option_accepts(const struct aitag_opt_def *d, const char *cmd);

#define AITAG_OPTS_MAX 112/* rows in the option table; table.c checks it at compile time */

struct aitag_opts {
    const char *cmd;                    /* the command resolved for (borrowed) */
    char *values[AITAG_OPTS_MAX];       /* resolved text values (owned), index as in the table */
    const char *origin[AITAG_OPTS_MAX]; /* "default", "config", "env" or "flag" (static) */
    char **lists[AITAG_OPTS_MAX];       /* AITAG_OPT_REPEAT values (strings borrowed from argv) */
    size_t n_lists[AITAG_OPTS_MAX];
    char **args; /* positional arguments (borrowed from argv) */
    size_t n_args;
    int help; /* -h or --help was given */
};

/* Seeds o with the table defaults for command cmd (borrowed; must outlive o). Returns 0 or
 * AITAG_ERR_NOMEM. aitag_opts_free releases; a zeroed struct is valid for the getters. */
int aitag_opts_init(struct aitag_opts *o, const char *cmd);
void aitag_opts_free(struct aitag_opts *o);

/* Applies "key = value" lines ('#' comments, blank lines) of a config file named file (for
 * messages). Keys of options that other commands take are skipped; unknown keys are errors
 * naming the nearest valid key. Returns 0 or AITAG_ERR_INVALID with a one-line message
 * "FILE:LINE: ..." in err. */
int aitag_opts_load_config(struct aitag_opts *o, const char *text, const char *file, char *err,
                           size_t errlen);
/* Applies AITAG_<NAME> (and AITAG_NO_<NAME> for booleans) through lookup(name, ctx), which
 * returns the variable's value or NULL (getenv fits through a small adapter). Returns 0 or
 * AITAG_ERR_INVALID with "AITAG_X: ..." in err. */
int aitag_opts_load_env(struct aitag_opts *o, const char *(*lookup)(const char *name, void *ctx),
                        void *ctx, char *err, size_t errlen);
/* Applies flags; argv starts after the command's words. Positional arguments go to o->args
 * (everything after "--" too); -h/--help sets o->help. Unknown options are errors naming the
 * nearest valid one. Returns 0, AITAG_ERR_NOMEM, or AITAG_ERR_INVALID with a message in err.
 * It may be called again: values accumulate, positional and repeated arguments are replaced. */
int aitag_opts_parse_argv(struct aitag_opts *o, int argc, char **argv, char *err, size_t errlen);

/* Getters by option name, for options this command takes; NULL/0 for unset or other names. The
 * string is borrowed from o. Values are valid: they passed their row's check. */
const char *aitag_opts_str(const struct aitag_opts *o, const char *name);
long aitag_opts_int(const struct aitag_opts *o, const char *name);
double aitag_opts_num(const struct aitag_opts *o, const char *name);
int aitag_opts_bool(const struct aitag_opts *o, const char *name);
/* Values of a repeatable option, in order; *n = 0 when none. Borrowed. */
char *const *aitag_opts_list(const struct aitag_opts *o, const char *name, size_t *n);

#endif
