/*
 * options.c - one declarative table drives the config file, environment variables, flags and
 * --help, so the four can never disagree.
 *
 * Precedence, lowest first: the table's default, the config file
 * ($XDG_CONFIG_HOME/aitag/config, or ~/.config/aitag/config; "key = value" lines, '#'
 * comments), AITAG_<KEY> environment variables, then --key value / --key=value flags. Values
 * are type-checked where they are read in, and errors name their source.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "options.h"

static const struct opt_def table[] = {
    {"catalog", OPT_STR, NULL, "tag show search prune", "catalog file (default: $XDG_DATA_HOME/aitag/catalog.db)"},
    {"analyzers", OPT_STR, "faces,text", "tag", "comma-separated analyzers to run (see `aitag models list`)"},
    {"interval", OPT_NUM, "2", "tag", "seconds between sampled video frames"},
    {"threads", OPT_INT, "2", "tag", "CPU threads shared by decoding and inference"},
    {"threshold", OPT_NUM, NULL, "tag", "default confidence threshold for tags (rules file: 0.5)"},
    {"rules", OPT_STR, NULL, "tag", "tag rules file (default: $XDG_CONFIG_HOME/aitag/rules.json if present)"},
    {"markers", OPT_BOOL, "true", "tag", "write time-ranged markers for videos"},
    {"models-dir", OPT_STR, NULL, "tag models", "folder of model manifests (*.json)"},
    {"weights-dir", OPT_STR, NULL, "tag models", "folder of model weight files named by manifests"},
    {"json", OPT_BOOL, "false", "tag show search prune models", "print JSON (one object per line) on stdout"},
    {"dry-run", OPT_BOOL, "false", "tag prune", "show what would be done; run and write nothing"},
    {"force", OPT_BOOL, "false", "tag", "re-analyse files even when unchanged"},
    {"progress", OPT_STR, "auto", "tag", "progress bar: auto (on a terminal), always, never"},
    {"strategy", OPT_STR, "auto", "tag", "frame sampling: auto, sequential, seek"},
    {"objects-mirror", OPT_BOOL, "true", "tag", "objects: also run CenterNet on the mirrored frame (more accurate, twice the cost)"},
    {"sampling", OPT_STR, "exact", "tag", "frame per sample time: exact, or keyframes (a keyframe within half an interval; faster, approximate)"},
    {"vlm-url", OPT_STR, "http://127.0.0.1:8089/v1", "tag", "vlm analyzer: OpenAI-compatible base URL ending in /v1 (docs/vlm.md)"},
    {"vlm-route", OPT_STR, "chat", "tag", "vlm analyzer: the model (gateway route) asked"},
    {"vlm-key-env", OPT_STR, "AITAG_GATEWAY_KEY", "tag", "vlm analyzer: environment variable holding the bearer key"},
    {"vocabulary", OPT_STR, NULL, "tag", "vlm analyzer: file of allowed tags, one per line (required with vlm)"},
    {"describe", OPT_BOOL, "false", "tag", "vlm analyzer: also ask for a one-line description per item"},
    {"vlm-every", OPT_NUM, "30", "tag", "vlm analyzer: seconds between VLM calls within a video"},
    {"queue", OPT_INT, "8", "tag", "frames decoded ahead of inference (bounded queue)"},
    {"gateway", OPT_STR, NULL, "tag", "tag through this aitag gateway (URL); the catalog stays local"},
    {"gateway-route", OPT_STR, NULL, "tag", "the gateway's tagging route (default: its first local route)"},
    {"gateway-key-env", OPT_STR, "AITAG_GATEWAY_KEY", "tag", "environment variable holding the gateway's API key"},
    {"local-only", OPT_BOOL, "false", "tag", "media never leaves this machine: loopback gateways only"},
    {"any", OPT_BOOL, "false", "search", "match any of the --tag names instead of all"},
    {"log-level", OPT_STR, "warn", "*", "error, warn, info or debug (logs go to stderr)"},
};
_Static_assert(sizeof table / sizeof *table <= MAX_OPTS, "raise MAX_OPTS in options.h");

const struct opt_def *opts_table(size_t *n)
{
    *n = sizeof table / sizeof *table;
    return table;
}

static int accepts(const struct opt_def *d, const char *cmd)
{
    const char *p = d->commands;
    size_t len = strlen(cmd);

    if (strcmp(p, "*") == 0)
        return 1;
    while ((p = strstr(p, cmd))) {
        if ((p == d->commands || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
            return 1;
        p += len;
    }
    return 0;
}

static int find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static int check_value(const struct opt_def *d, const char *v, const char *src)
{
    char *end;

    errno = 0;
    switch (d->type) {
    case OPT_INT:
        if (strtol(v, &end, 10) < 0 || *end || end == v || errno) {
            fprintf(stderr, "aitag: %s: %s must be a whole number >= 0, not '%s'\n", src, d->name, v);
            return -1;
        }
        break;
    case OPT_NUM:
        strtod(v, &end);
        if (*end || end == v || errno) {
            fprintf(stderr, "aitag: %s: %s must be a number, not '%s'\n", src, d->name, v);
            return -1;
        }
        break;
    case OPT_BOOL:
        if (strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0") &&
            strcmp(v, "yes") && strcmp(v, "no")) {
            fprintf(stderr, "aitag: %s: %s must be true or false, not '%s'\n", src, d->name, v);
            return -1;
        }
        break;
    case OPT_STR:
        break;
    }
    return 0;
}

static int set(struct opts *o, int i, const char *v, char *origin, const char *src)
{
    char *dup;

    if (check_value(&table[i], v, src) < 0)
        return -1;
    dup = strdup(v);
    if (!dup)
        return -1;
    free(o->values[i]);
    o->values[i] = dup;
    o->origin[i] = origin;
    return 0;
}

static int load_config(struct opts *o, const char *cmd)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char line[1024], src[600];
    FILE *f;
    int lineno = 0, rc = 0;

    if (getenv("AITAG_CONFIG"))
        snprintf(o->config_path, sizeof o->config_path, "%s", getenv("AITAG_CONFIG"));
    else if (xdg && *xdg)
        snprintf(o->config_path, sizeof o->config_path, "%s/aitag/config", xdg);
    else if (home)
        snprintf(o->config_path, sizeof o->config_path, "%s/.config/aitag/config", home);
    f = fopen(o->config_path, "r");
    if (!f)
        return 0; /* no config file is fine */
    while (fgets(line, sizeof line, f)) {
        char *eq, *key, *val;
        int i;
        lineno++;
        key = aitag_trim(line);
        if (!*key || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            fprintf(stderr, "aitag: %s:%d: expected 'key = value'\n", o->config_path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        key = aitag_trim(key);
        val = aitag_trim(eq + 1);
        i = find(key, strlen(key));
        snprintf(src, sizeof src, "%s:%d", o->config_path, lineno);
        if (i < 0) {
            fprintf(stderr, "aitag: %s: unknown key '%s'\n", src, key);
            rc = -1;
            break;
        }
        if (accepts(&table[i], cmd) && set(o, i, val, "config", src) < 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int opts_parse(struct opts *o, const char *cmd, int argc, char **argv)
{
    size_t n = sizeof table / sizeof *table;

    memset(o, 0, sizeof *o);
    o->args = calloc((size_t)argc + 1, sizeof *o->args);
    o->tags = calloc((size_t)argc + 1, sizeof *o->tags);
    if (!o->args || !o->tags)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (table[i].def && set(o, (int)i, table[i].def, "default", "default") < 0)
            return -1;
    if (load_config(o, cmd) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char env[64], *p;
        const char *v;
        snprintf(env, sizeof env, "AITAG_%s", table[i].name);
        for (p = env; *p; p++)
            *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        v = getenv(env);
        if (v && accepts(&table[i], cmd) && set(o, (int)i, v, "env", env) < 0)
            return -1;
    }
    for (int a = 0; a < argc; a++) {
        char *arg = argv[a], *eq;
        size_t len;
        int i, neg = 0;

        if (strcmp(arg, "--") == 0) {
            while (++a < argc)
                o->args[o->n_args++] = argv[a];
            break;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            o->help = 1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            o->args[o->n_args++] = arg;
            continue;
        }
        arg += 2;
        eq = strchr(arg, '=');
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (strcmp(cmd, "search") == 0 && len == 3 && strncmp(arg, "tag", 3) == 0) {
            if (!eq && a + 1 >= argc) {
                fprintf(stderr, "aitag: --tag needs a value\n");
                return -1;
            }
            o->tags[o->n_tags++] = eq ? eq + 1 : argv[++a];
            continue;
        }
        i = find(arg, len);
        if (i < 0 && len > 3 && strncmp(arg, "no-", 3) == 0) {
            i = find(arg + 3, len - 3);
            neg = 1;
        }
        if (i < 0 || !accepts(&table[i], cmd) || (neg && table[i].type != OPT_BOOL)) {
            fprintf(stderr, "aitag %s: unknown option --%.*s (see aitag %s --help)\n", cmd,
                    (int)len, arg, cmd);
            return -1;
        }
        if (table[i].type == OPT_BOOL && !eq) {
            if (set(o, i, neg ? "false" : "true", "flag", "flag") < 0)
                return -1;
            continue;
        }
        if (!eq && a + 1 >= argc) {
            fprintf(stderr, "aitag: --%s needs a value\n", table[i].name);
            return -1;
        }
        if (set(o, i, eq ? eq + 1 : argv[++a], "flag", "command line") < 0)
            return -1;
    }
    return 0;
}

void opts_free(struct opts *o)
{
    for (size_t i = 0; i < MAX_OPTS; i++)
        free(o->values[i]);
    free(o->args);
    free(o->tags);
    memset(o, 0, sizeof *o);
}

const char *opt_str(const struct opts *o, const char *name)
{
    int i = find(name, strlen(name));
    return i < 0 ? NULL : o->values[i];
}

long opt_int(const struct opts *o, const char *name)
{
    const char *v = opt_str(o, name);
    return v ? strtol(v, NULL, 10) : 0;
}

double opt_num(const struct opts *o, const char *name)
{
    const char *v = opt_str(o, name);
    return v ? strtod(v, NULL) : 0;
}

int opt_bool(const struct opts *o, const char *name)
{
    const char *v = opt_str(o, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
}

void opts_print_help(const char *cmd, FILE *out)
{
    fprintf(out, "Options (config key = option name; environment AITAG_<NAME>):\n");
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        char flag[64];
        if (!accepts(&table[i], cmd))
            continue;
        snprintf(flag, sizeof flag, "--%s%s", table[i].name,
                 table[i].type == OPT_BOOL ? "" : " VALUE");
        fprintf(out, "  %-22s %s", flag, table[i].help);
        if (table[i].def)
            fprintf(out, " [%s]", table[i].def);
        fputc('\n', out);
    }
}
