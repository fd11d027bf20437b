/*
 * options.c - resolving options for one command: defaults < config file < environment < flags,
 * every value checked against its row of the table wherever it comes from.
 *
 * A row is found by name among the rows that accept the command, so two commands may give a
 * name different meanings ("catalog" is the catalog database for tag, a model catalog for
 * models install). Names another command takes are not errors in the config file (one file
 * serves every command) but are on the command line. Every error is one line naming where the
 * value came from (flag, AITAG_X, file:line), what is allowed, and for unknown names the
 * nearest valid one.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aitag/common.h"
#include "aitag/options.h"

static const struct aitag_opt_def *rows(size_t *n)
{
    return aitag_option_table(n);
}

/* Row index of name for cmd (any row of that name when cmd is NULL), or -1. */
static int find(const char *cmd, const char *name, size_t len)
{
    size_t n;
    const struct aitag_opt_def *t = rows(&n);

    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && strncmp(t[i].name, name, len) == 0 &&
            (!cmd || aitag_option_accepts(&t[i], cmd)))
            return (int)i;
    return -1;
}

/* ", did you mean PREFIX<name>?" for the nearest name cmd takes (booleans also as no-name), or
 * "" when nothing is near. config: only rows with a config key. */
static void suggest(const char *cmd, const char *word, int config, const char *prefix, char *out,
                    size_t outlen)
{
    static const char *const no_prefix = "no-";
    const char *cand[2 * AITAG_OPTS_MAX], *near;
    char nos[AITAG_OPTS_MAX][64];
    size_t n, k = 0;
    const struct aitag_opt_def *t = rows(&n);

    for (size_t i = 0; i < n; i++) {
        if (!aitag_option_accepts(&t[i], cmd) || (config && (t[i].flags & AITAG_OPT_FLAG_ONLY)))
            continue;
        cand[k++] = t[i].name;
        if (t[i].type == AITAG_OPT_BOOL) {
            aitag_fmt(nos[i], sizeof nos[i], "%s%s", no_prefix, t[i].name);
            cand[k++] = nos[i];
        }
    }
    near = aitag_nearest(word, cand, k);
    if (near)
        aitag_fmt(out, outlen, " (did you mean %s%s?)", prefix, near);
    else
        out[0] = '\0';
}

/* Parses "LO..HI" of a numeric row. */
static void range(const struct aitag_opt_def *d, double *lo, double *hi)
{
    const char *dots = d->domain ? strstr(d->domain, "..") : NULL;

    *lo = d->domain ? strtod(d->domain, NULL) : -HUGE_VAL;
    *hi = dots ? strtod(dots + 2, NULL) : HUGE_VAL;
}

static int enum_has(const char *domain, const char *v)
{
    size_t len = strlen(v);

    for (const char *p = domain; *p;) {
        size_t w = strcspn(p, "|");
        if (w == len && strncmp(p, v, len) == 0)
            return 1;
        p += w + (p[w] == '|');
    }
    return 0;
}

static int parse_bool(const char *v)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
        return 1;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0"))
        return 0;
    return -1;
}

/* Checks v for row d; on error writes "SRC: NAME must be ..., not 'V'". */
static int check_value(const struct aitag_opt_def *d, const char *v, const char *src, char *err,
                       size_t errlen)
{
    double lo, hi, x;
    char *end, who[700];

    /* "--threads must be", "AITAG_THREADS: threads must be", "FILE:3: threads must be" */
    if (strncmp(src, "--", 2) == 0)
        aitag_fmt(who, sizeof who, "%s", src);
    else
        aitag_fmt(who, sizeof who, "%s: %s", src, d->name);
    errno = 0;
    switch (d->type) {
    case AITAG_OPT_INT:
    case AITAG_OPT_NUM:
        range(d, &lo, &hi);
        if (d->type == AITAG_OPT_INT)
            x = (double)strtoll(v, &end, 10);
        else
            x = strtod(v, &end);
        if (end == v || *end || errno || isnan(x) || x < lo || x > hi) {
            aitag_fmt(err, errlen, "%s must be a %s from %g to %g, not '%s'", who,
                      d->type == AITAG_OPT_INT ? "whole number" : "number", lo, hi, v);
            return AITAG_ERR_INVALID;
        }
        break;
    case AITAG_OPT_BOOL:
        if (parse_bool(v) < 0) {
            aitag_fmt(err, errlen, "%s must be true or false, not '%s'", who, v);
            return AITAG_ERR_INVALID;
        }
        break;
    case AITAG_OPT_ENUM:
        if (!enum_has(d->domain, v)) {
            char vals[256];
            size_t k = 0;
            for (const char *p = d->domain; *p && k + 3 < sizeof vals; p++) {
                if (*p == '|') {
                    vals[k++] = ',';
                    vals[k++] = ' ';
                } else {
                    vals[k++] = *p;
                }
            }
            vals[k] = '\0';
            aitag_fmt(err, errlen, "%s must be one of %s, not '%s'", who, vals, v);
            return AITAG_ERR_INVALID;
        }
        break;
    case AITAG_OPT_STR:
        break;
    }
    return 0;
}

/* Sets row i to v (negated for a "no-" form of a boolean) after checking it. */
static int set(struct aitag_opts *o, int i, const char *v, int neg, const char *origin,
               const char *src, char *err, size_t errlen)
{
    size_t n;
    const struct aitag_opt_def *d = &rows(&n)[i];
    char *dup;
    int rc = check_value(d, v, src, err, errlen);

    if (rc < 0)
        return rc;
    if (neg) /* --no-markers=false is --markers=true */
        v = parse_bool(v) ? "false" : "true";
    if (d->flags & AITAG_OPT_REPEAT) {
        o->lists[i][o->n_lists[i]++] = (char *)v; /* argv strings outlive o (flags only) */
        return 0;
    }
    dup = strdup(v);
    if (!dup)
        return AITAG_ERR_NOMEM;
    free(o->values[i]);
    o->values[i] = dup;
    o->origin[i] = origin;
    return 0;
}

int aitag_opts_init(struct aitag_opts *o, const char *cmd)
{
    size_t n;
    const struct aitag_opt_def *t = rows(&n);

    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    for (size_t i = 0; i < n; i++) {
        if (!aitag_option_accepts(&t[i], cmd) || !t[i].def)
            continue;
        o->values[i] = strdup(t[i].def);
        o->origin[i] = "default";
        if (!o->values[i])
            return AITAG_ERR_NOMEM;
    }
    return 0;
}

void aitag_opts_free(struct aitag_opts *o)
{
    for (size_t i = 0; i < AITAG_OPTS_MAX; i++) {
        free(o->values[i]);
        free(o->lists[i]);
    }
    free(o->args);
    memset(o, 0, sizeof *o);
}

/* Row for a config key or environment name: name, or no-name of a boolean (*neg = 1). -1 when
 * cmd takes neither; -2 when no command does. */
static int find_key(const char *cmd, const char *key, int *neg)
{
    size_t n, len = strlen(key);
    const struct aitag_opt_def *t = rows(&n);
    int i = find(cmd, key, len);

    *neg = 0;
    if (i < 0 && len > 3 && strncmp(key, "no-", 3) == 0) {
        i = find(cmd, key + 3, len - 3);
        *neg = i >= 0;
        if (i >= 0 && t[i].type != AITAG_OPT_BOOL)
            return -2;
    }
    if (i >= 0 && (t[i].flags & AITAG_OPT_FLAG_ONLY))
        i = -1;
    if (i >= 0)
        return i;
    /* taken by another command? then it is not this command's business */
    for (size_t j = 0; j < n; j++) {
        const char *name = t[j].name;
        if (t[j].flags & AITAG_OPT_FLAG_ONLY)
            continue;
        if (strcmp(name, key) == 0 || (t[j].type == AITAG_OPT_BOOL && len > 3 &&
                                       !strncmp(key, "no-", 3) && !strcmp(name, key + 3)))
            return -1;
    }
    return -2;
}

int aitag_opts_load_config(struct aitag_opts *o, const char *text, const char *file, char *err,
                           size_t errlen)
{
    char *copy = strdup(text ? text : ""), *line, *next, src[600], hint[128];
    int lineno = 0, rc = 0;

    if (!copy)
        return AITAG_ERR_NOMEM;
    for (line = copy; line && rc == 0; line = next) {
        char *eq, *key, *val;
        int i, neg;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        key = aitag_trim(line);
        if (!*key || *key == '#')
            continue;
        aitag_fmt(src, sizeof src, "%s:%d", file, lineno);
        eq = strchr(key, '=');
        if (!eq) {
            aitag_fmt(err, errlen, "%s: expected 'key = value'", src);
            rc = AITAG_ERR_INVALID;
            break;
        }
        *eq = '\0';
        key = aitag_trim(key);
        val = aitag_trim(eq + 1);
        i = find_key(o->cmd, key, &neg);
        if (i == -2) {
            suggest(o->cmd, key, 1, "", hint, sizeof hint);
            aitag_fmt(err, errlen, "%s: unknown key '%s'%s", src, key, hint);
            rc = AITAG_ERR_INVALID;
        } else if (i >= 0) {
            rc = set(o, i, val, neg, "config", src, err, errlen);
        }
    }
    free(copy);
    return rc;
}

int aitag_opts_load_env(struct aitag_opts *o, const char *(*lookup)(const char *name, void *ctx),
                        void *ctx, char *err, size_t errlen)
{
    size_t n;
    const struct aitag_opt_def *t = rows(&n);

    for (size_t i = 0; i < n; i++) {
        char env[2][80];
        if (!aitag_option_accepts(&t[i], o->cmd) || (t[i].flags & AITAG_OPT_FLAG_ONLY))
            continue;
        aitag_fmt(env[0], sizeof env[0], "AITAG_%s", t[i].name);
        aitag_fmt(env[1], sizeof env[1], "AITAG_NO_%s", t[i].name);
        for (int neg = 0; neg < (t[i].type == AITAG_OPT_BOOL ? 2 : 1); neg++) {
            const char *v;
            int rc;
            for (char *p = env[neg]; *p; p++)
                *p = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
            v = lookup(env[neg], ctx);
            if (v && (rc = set(o, (int)i, v, neg, "env", env[neg], err, errlen)) < 0)
                return rc;
        }
    }
    return 0;
}

int aitag_opts_parse_argv(struct aitag_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    size_t n;
    const struct aitag_opt_def *t = rows(&n);
    char flag[80], hint[128];

    /* A further call (the plugin applies one setting at a time) replaces the positional and
     * repeated arguments of the one before; option values accumulate. */
    free(o->args);
    o->n_args = 0;
    o->args = calloc((size_t)argc + 1, sizeof *o->args);
    if (!o->args)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(t[i].flags & AITAG_OPT_REPEAT) || !aitag_option_accepts(&t[i], o->cmd))
            continue;
        free(o->lists[i]);
        o->n_lists[i] = 0;
        if (!(o->lists[i] = calloc((size_t)argc + 1, sizeof *o->lists[i])))
            return AITAG_ERR_NOMEM;
    }
    for (int a = 0; a < argc; a++) {
        char *arg = argv[a], *eq;
        size_t len;
        int i, neg = 0, rc;

        if (strcmp(arg, "--") == 0) {
            while (++a < argc)
                o->args[o->n_args++] = argv[a];
            break;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            o->help = 1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-') {
                aitag_fmt(err, errlen, "unknown option %s (options are --name)", arg);
                return AITAG_ERR_INVALID;
            }
            o->args[o->n_args++] = arg;
            continue;
        }
        arg += 2;
        eq = strchr(arg, '=');
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        i = find(o->cmd, arg, len);
        if (i < 0 && len > 3 && strncmp(arg, "no-", 3) == 0) {
            i = find(o->cmd, arg + 3, len - 3);
            neg = 1;
            if (i >= 0 && t[i].type != AITAG_OPT_BOOL)
                i = -1;
        }
        aitag_fmt(flag, sizeof flag, "--%.*s", (int)(len < 60 ? len : 60), arg);
        if (i < 0) {
            char word[64];
            aitag_fmt(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), arg);
            suggest(o->cmd, word, 0, "--", hint, sizeof hint);
            aitag_fmt(err, errlen, "unknown option %s%s", flag, hint);
            return AITAG_ERR_INVALID;
        }
        if (t[i].type == AITAG_OPT_BOOL && !eq) {
            if ((rc = set(o, i, "true", neg, "flag", flag, err, errlen)) < 0)
                return rc;
            continue;
        }
        if (!eq && a + 1 >= argc) {
            aitag_fmt(err, errlen, "%s needs a value", flag);
            return AITAG_ERR_INVALID;
        }
        if ((rc = set(o, i, eq ? eq + 1 : argv[++a], neg, "flag", flag, err, errlen)) < 0)
            return rc;
    }
    return 0;
}

static int index_of(const struct aitag_opts *o, const char *name)
{
    return o->cmd ? find(o->cmd, name, strlen(name)) : -1;
}

const char *aitag_opts_str(const struct aitag_opts *o, const char *name)
{
    int i = index_of(o, name);
    return i < 0 ? NULL : o->values[i];
}

long aitag_opts_int(const struct aitag_opts *o, const char *name)
{
    const char *v = aitag_opts_str(o, name);
    return v ? strtol(v, NULL, 10) : 0;
}

double aitag_opts_num(const struct aitag_opts *o, const char *name)
{
    const char *v = aitag_opts_str(o, name);
    return v ? strtod(v, NULL) : 0;
}

int aitag_opts_bool(const struct aitag_opts *o, const char *name)
{
    const char *v = aitag_opts_str(o, name);
    return v && parse_bool(v) == 1;
}

char *const *aitag_opts_list(const struct aitag_opts *o, const char *name, size_t *n)
{
    int i = index_of(o, name);

    *n = i < 0 ? 0 : o->n_lists[i];
    return i < 0 ? NULL : o->lists[i];
}
