/*
 * help.c - every text that describes the command line, printed from the option and command
 * tables (src/options/table.c): `aitag --help`, `aitag CMD --help`, and the hidden
 * `aitag help --markdown | --man | --completion bash|zsh | --commands` that generate docs/cli.md's
 * reference section, the man page and the shell completions at build time. Nothing here is
 * written by hand per command, so the texts cannot disagree with each other or with the parser.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The command one level above name ("models" for "models list"), in buf; "" at the top. */
static const char *parent_of(const char *name, char *buf, size_t len)
{
    const char *sp = strrchr(name, ' ');

    snprintf(buf, len, "%.*s", sp ? (int)(sp - name) : 0, name);
    return buf;
}

/* 1 when cmd is a direct subcommand of parent ("" = the top level). */
static int child_of(const char *cmd, const char *parent)
{
    char buf[128];
    return strcmp(parent_of(cmd, buf, sizeof buf), parent) == 0;
}

static int has_children(const char *name)
{
    size_t n;
    const struct aitag_cmd_def *c = aitag_command_table(&n);

    for (size_t i = 0; i < n; i++)
        if (child_of(c[i].name, name))
            return 1;
    return 0;
}

/* "--threads 1..256", "--[no-]markers", "--catalog FILE". */
static const char *flag_text(const struct aitag_opt_def *d, char *buf, size_t len)
{
    if (d->type == AITAG_OPT_BOOL)
        snprintf(buf, len, "--%s%s", (d->flags & AITAG_OPT_FLAG_ONLY) ? "" : "[no-]", d->name);
    else
        snprintf(buf, len, "--%s %s", d->name, d->domain ? d->domain : "VALUE");
    return buf;
}

static void env_name(const struct aitag_opt_def *d, char *buf, size_t len)
{
    size_t k = (size_t)snprintf(buf, len, "AITAG_");
    for (const char *p = d->name; *p && k + 1 < len; p++)
        buf[k++] = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
    buf[k] = '\0';
}

/* Options cmd takes that its parent does not (the parent's are listed with the parent). */
static int own_option(const struct aitag_opt_def *d, const char *cmd)
{
    char parent[128];

    if (!aitag_option_accepts(d, cmd))
        return 0;
    parent_of(cmd, parent, sizeof parent);
    return !*parent || !aitag_option_accepts(d, parent);
}

void cli_print_usage(FILE *out)
{
    size_t n;
    const struct aitag_cmd_def *c = aitag_command_table(&n);

    fprintf(out, "aitag %s - tag videos and images with AI, into a catalog\n\nUsage:\n",
            AITAG_VERSION);
    for (size_t i = 0; i < n; i++) {
        char line[160];
        if (!child_of(c[i].name, ""))
            continue;
        snprintf(line, sizeof line, "aitag %s %s", c[i].name, c[i].args);
        fprintf(out, "  %-48s %s\n", line, c[i].summary);
    }
    fprintf(out, "  %-48s %s\n\n", "aitag --version | --help",
            "(every command and subcommand takes --help)");
    fprintf(out, "Exit codes: 0 ok, 1 some items failed, 2 usage error, 3 catalog or models\n"
                 "unusable, 130 interrupted.\n");
}

void cli_print_help(FILE *out, const char *cmd)
{
    size_t n_cmds, n_opts, shown = 0;
    const struct aitag_cmd_def *c = aitag_command_table(&n_cmds), *me = aitag_command_find(cmd);
    const struct aitag_opt_def *t = aitag_option_table(&n_opts);

    if (!me) {
        cli_print_usage(out);
        return;
    }
    fprintf(out, "Usage: aitag %s %s\n%c%s.\n", me->name, me->args,
            me->summary[0] >= 'a' && me->summary[0] <= 'z' ? me->summary[0] - 'a' + 'A'
                                                           : me->summary[0],
            me->summary + 1);
    if (me->text)
        fprintf(out, "%s\n", me->text);
    if (has_children(cmd)) {
        fprintf(out, "\nCommands (aitag %s COMMAND --help for each):\n", cmd);
        for (size_t i = 0; i < n_cmds; i++) {
            char line[160];
            if (!child_of(c[i].name, cmd))
                continue;
            snprintf(line, sizeof line, "%s %s", c[i].name + strlen(cmd) + 1, c[i].args);
            fprintf(out, strlen(line) > 40 ? "  %s\n%43s%s\n" : "  %-40s %s%s\n", line, "",
                    c[i].summary);
        }
    }
    for (size_t i = 0; i < n_opts; i++) {
        char flag[96];
        if (!aitag_option_accepts(&t[i], cmd))
            continue;
        if (!shown++)
            fprintf(out, "\nOptions (also config file keys \"name = value\" and environment "
                         "variables AITAG_NAME,\nunless marked flag only):\n");
        flag_text(&t[i], flag, sizeof flag);
        fprintf(out, strlen(flag) > 30 ? "  %s\n%33s%s" : "  %-30s %s%s", flag, "", t[i].help);
        if (t[i].def)
            fprintf(out, " [%s]", t[i].def);
        if (t[i].flags & AITAG_OPT_FLAG_ONLY)
            fprintf(out, " (flag only)");
        fputc('\n', out);
    }
}

/* Markdown table cells: a '|' inside a cell must be escaped. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static void print_markdown(FILE *out)
{
    size_t n_cmds, n_opts;
    const struct aitag_cmd_def *c = aitag_command_table(&n_cmds);
    const struct aitag_opt_def *t = aitag_option_table(&n_opts);

    fprintf(out, "### Commands\n\n| command | what it does |\n|---|---|\n");
    for (size_t i = 0; i < n_cmds; i++) {
        fprintf(out, "| `aitag %s ", c[i].name);
        md_cell(out, c[i].args);
        fprintf(out, "` | ");
        md_cell(out, c[i].summary);
        fprintf(out, " |\n");
    }
    for (size_t i = 0; i < n_cmds; i++) {
        int any = 0;
        char parent[128];
        for (size_t j = 0; j < n_opts; j++)
            any |= own_option(&t[j], c[i].name);
        if (!any)
            continue;
        fprintf(out, "\n### `aitag %s` options\n\n", c[i].name);
        parent_of(c[i].name, parent, sizeof parent);
        if (*parent)
            fprintf(out, "Also the options of `aitag %s`.\n\n", parent);
        fprintf(out, "| option | default | environment | meaning |\n|---|---|---|---|\n");
        for (size_t j = 0; j < n_opts; j++) {
            char flag[96], env[80];
            if (!own_option(&t[j], c[i].name))
                continue;
            env_name(&t[j], env, sizeof env);
            fprintf(out, "| `");
            md_cell(out, flag_text(&t[j], flag, sizeof flag));
            fprintf(out, "` | %s%s%s | ", t[j].def ? "`" : "", t[j].def ? t[j].def : "",
                    t[j].def ? "`" : "");
            if (t[j].flags & AITAG_OPT_FLAG_ONLY)
                fprintf(out, "flag only");
            else
                fprintf(out, "`%s`", env);
            fprintf(out, " | ");
            md_cell(out, t[j].help);
            fprintf(out, " |\n");
        }
    }
}

/* roff text: backslashes doubled, '-' as \- (a real minus, searchable), a leading '.' or '\''
 * escaped. */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

static void print_man(FILE *out)
{
    size_t n_cmds, n_opts;
    const struct aitag_cmd_def *c = aitag_command_table(&n_cmds);
    const struct aitag_opt_def *t = aitag_option_table(&n_opts);

    fprintf(out,
            ".TH AITAG 1 \"\" \"aitag %s\" \"User Commands\"\n.SH NAME\naitag \\- tag "
            "videos and images with AI, into a catalog\n.SH SYNOPSIS\n",
            AITAG_VERSION);
    for (size_t i = 0; i < n_cmds; i++) {
        if (has_children(c[i].name))
            continue;
        fprintf(out, ".B aitag %s\n", c[i].name);
        roff(out, c[i].args);
        fprintf(out, "\n.br\n");
    }
    fprintf(out, ".SH DESCRIPTION\nFaces, text, objects, NSFW classes, poses and your own "
                 "vocabulary, stored as tags, markers and text in an SQLite catalog. Every "
                 "option is also a config file key (name = value, in\n.I "
                 "$XDG_CONFIG_HOME/aitag/config\nor the file named by AITAG_CONFIG) and an "
                 "environment variable AITAG_NAME (dashes as underscores), unless marked flag "
                 "only; flags win over the environment, which wins over the file. Booleans "
                 "take \\-\\-no\\-NAME (key no\\-NAME, AITAG_NO_NAME) for false.\n"
                 ".SH COMMANDS\n");
    for (size_t i = 0; i < n_cmds; i++) {
        fprintf(out, ".TP\n.B aitag %s\n", c[i].name);
        roff(out, c[i].summary);
        if (c[i].text) {
            fputs(". ", out);
            roff(out, c[i].text);
        }
        fputc('\n', out);
        for (size_t j = 0; j < n_opts; j++) {
            char flag[96];
            if (!own_option(&t[j], c[i].name))
                continue;
            fprintf(out, ".RS\n.TP\n.B ");
            roff(out, flag_text(&t[j], flag, sizeof flag));
            fputc('\n', out);
            roff(out, t[j].help);
            if (t[j].def) {
                fputs(" (default: ", out);
                roff(out, t[j].def);
                fputc(')', out);
            }
            if (t[j].flags & AITAG_OPT_FLAG_ONLY)
                fputs("; flag only", out);
            fprintf(out, "\n.RE\n");
        }
    }
    fprintf(out, ".SH EXIT STATUS\n0 ok; 1 some items failed; 2 usage error (bad option, "
                 "config or rules file); 3 catalog or models unusable; 130 interrupted.\n"
                 ".SH FILES\n.I <prefix>/share/aitag/models\nand\n.I "
                 "<prefix>/share/aitag/weights\nhold the model manifests and weights; the "
                 "catalog defaults to\n.IR $XDG_DATA_HOME/aitag/catalog.db .\n"
                 ".SH SEE ALSO\ndocs/cli.md, docs/stash.md and docs/gateway.md in the source.\n");
}

/* The words completed after a command path: its subcommands and flags. */
static void completion_words(FILE *out, const char *cmd)
{
    size_t n_cmds, n_opts;
    const struct aitag_cmd_def *c = aitag_command_table(&n_cmds);
    const struct aitag_opt_def *t = aitag_option_table(&n_opts);
    const char *sep = "";

    for (size_t i = 0; i < n_cmds; i++)
        if (child_of(c[i].name, cmd)) {
            fprintf(out, "%s%s", sep, c[i].name + (*cmd ? strlen(cmd) + 1 : 0));
            sep = " ";
        }
    for (size_t i = 0; *cmd && i < n_opts; i++) {
        if (!aitag_option_accepts(&t[i], cmd))
            continue;
        fprintf(out, "%s--%s", sep, t[i].name);
        if (t[i].type == AITAG_OPT_BOOL && !(t[i].flags & AITAG_OPT_FLAG_ONLY))
            fprintf(out, " --no-%s", t[i].name);
        sep = " ";
    }
    fprintf(out, "%s--help", sep);
}

/* Shell functions shared by bash and zsh: _aitag_words PATH and _aitag_values FLAG. */
static void print_completion_data(FILE *out)
{
    size_t n_cmds, n_opts;
    const struct aitag_cmd_def *c = aitag_command_table(&n_cmds);
    const struct aitag_opt_def *t = aitag_option_table(&n_opts);

    fprintf(out, "_aitag_words() {\n    case \"$1\" in\n    \"\") echo \"");
    completion_words(out, "");
    fprintf(out, " --version\" ;;\n");
    for (size_t i = 0; i < n_cmds; i++) {
        fprintf(out, "    \"%s\") echo \"", c[i].name);
        completion_words(out, c[i].name);
        fprintf(out, "\" ;;\n");
    }
    fprintf(out, "    esac\n}\n_aitag_values() {\n    case \"$1\" in\n");
    for (size_t i = 0; i < n_opts; i++) {
        int dup = 0;
        if (t[i].type != AITAG_OPT_ENUM)
            continue;
        for (size_t j = 0; j < i; j++)
            dup |= t[j].type == AITAG_OPT_ENUM && strcmp(t[j].name, t[i].name) == 0;
        if (dup)
            continue;
        fprintf(out, "    --%s) echo \"", t[i].name);
        for (const char *p = t[i].domain; *p; p++)
            fputc(*p == '|' ? ' ' : *p, out);
        fprintf(out, "\" ;;\n");
    }
    fprintf(out, "    esac\n}\n");
}

static void print_completion(FILE *out, int zsh)
{
    if (zsh)
        fprintf(out, "#compdef aitag\n");
    fprintf(out, "# %s completion for aitag, generated by `aitag help --completion %s`.\n",
            zsh ? "zsh" : "bash", zsh ? "zsh" : "bash");
    print_completion_data(out);
    if (zsh) {
        fprintf(out,
                "_aitag() {\n"
                "    local cmdpath=\"\" w i\n"
                "    local -a cands vals subs\n"
                "    for ((i = 2; i < CURRENT; i++)); do\n"
                "        w=${words[i]}\n"
                "        [[ $w != -* && \" $(_aitag_words \"$cmdpath\") \" == *\" $w \"* ]] && "
                "cmdpath=${cmdpath:+$cmdpath }$w\n"
                "    done\n"
                "    vals=(${=$(_aitag_values \"${words[CURRENT-1]}\")})\n"
                "    if (( $#vals )); then compadd -- $vals; return; fi\n"
                "    cands=(${=$(_aitag_words \"$cmdpath\")})\n"
                "    subs=(${cands:#-*})\n"
                "    if [[ $PREFIX == -* ]]; then compadd -- ${(M)cands:#-*}\n"
                "    elif (( $#subs )); then compadd -- $subs\n"
                "    else _files; fi\n"
                "}\n"
                "_aitag \"$@\"\n");
        return;
    }
    fprintf(out, "_aitag() {\n"
                 "    local cur=${COMP_WORDS[COMP_CWORD]} cmdpath=\"\" w i words vals subs=\"\"\n"
                 "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
                 "        w=${COMP_WORDS[i]}\n"
                 "        [[ $w != -* && \" $(_aitag_words \"$cmdpath\") \" == *\" $w \"* ]] && "
                 "cmdpath=${cmdpath:+$cmdpath }$w\n"
                 "    done\n"
                 "    vals=$(_aitag_values \"${COMP_WORDS[COMP_CWORD-1]}\")\n"
                 "    if [[ -n $vals ]]; then\n"
                 "        COMPREPLY=($(compgen -W \"$vals\" -- \"$cur\"))\n"
                 "        return\n"
                 "    fi\n"
                 "    words=$(_aitag_words \"$cmdpath\")\n"
                 "    if [[ $cur == -* ]]; then\n"
                 "        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                 "    else\n"
                 "        for w in $words; do [[ $w == -* ]] || subs+=\" $w\"; done\n"
                 "        COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
                 "    fi\n"
                 "}\n"
                 "complete -o default -F _aitag aitag\n");
}

int cli_subcommand(char *name, size_t len, int *argc, char ***argv)
{
    while (*argc > 0 && (*argv)[0][0] != '-') {
        char next[128];
        snprintf(next, sizeof next, "%s %s", name, (*argv)[0]);
        if (!aitag_command_find(next)) {
            if (!has_children(name))
                return 0; /* a positional argument */
            cli_unknown_command(name, (*argv)[0]);
            return EXIT_USAGE;
        }
        snprintf(name, len, "%s", next);
        (*argc)--, (*argv)++;
    }
    return 0;
}

int cli_need_subcommand(const char *name)
{
    size_t n;
    const struct aitag_cmd_def *c = aitag_command_table(&n);
    const char *sep = "";

    if (!has_children(name))
        return 0;
    fprintf(stderr, "aitag %s: give a command:", name);
    for (size_t i = 0; i < n; i++)
        if (child_of(c[i].name, name)) {
            fprintf(stderr, "%s %s", sep, c[i].name + strlen(name) + 1);
            sep = ",";
        }
    fprintf(stderr, " (see aitag %s --help)\n", name);
    return EXIT_USAGE;
}

void cli_unknown_command(const char *parent, const char *word)
{
    size_t n, k = 0;
    const struct aitag_cmd_def *c = aitag_command_table(&n);
    const char *names[64], *near;

    for (size_t i = 0; i < n && k < 64; i++)
        if (child_of(c[i].name, parent))
            names[k++] = c[i].name + (*parent ? strlen(parent) + 1 : 0);
    near = aitag_nearest(word, names, k);
    fprintf(stderr, "aitag%s%s: unknown command '%s'%s%s%s (see aitag%s%s --help)\n",
            *parent ? " " : "", parent, word, near ? " (did you mean " : "", near ? near : "",
            near ? "?)" : "", *parent ? " " : "", parent);
}

int cli_help(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--markdown") == 0) {
        print_markdown(stdout);
        return EXIT_OK;
    }
    if (argc == 1 && strcmp(argv[0], "--commands") == 0) { /* for scripts and tests */
        size_t n;
        const struct aitag_cmd_def *c = aitag_command_table(&n);
        for (size_t i = 0; i < n; i++)
            printf("%s\n", c[i].name);
        return EXIT_OK;
    }
    if (argc == 1 && strcmp(argv[0], "--man") == 0) {
        print_man(stdout);
        return EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[0], "--completion") == 0 &&
        (strcmp(argv[1], "bash") == 0 || strcmp(argv[1], "zsh") == 0)) {
        print_completion(stdout, strcmp(argv[1], "zsh") == 0);
        return EXIT_OK;
    }
    if (argc > 0 && argv[0][0] != '-') { /* aitag help gateway keys = aitag gateway keys --help */
        char name[128] = "";
        size_t k = 0;
        for (int i = 0; i < argc && k < sizeof name; i++)
            k += (size_t)snprintf(name + k, sizeof name - k, "%s%s", i ? " " : "", argv[i]);
        if (aitag_command_find(name)) {
            cli_print_help(stdout, name);
            return EXIT_OK;
        }
        fprintf(stderr, "aitag help: unknown command '%s'\n", name);
        return EXIT_USAGE;
    }
    if (argc == 0) {
        cli_print_usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "aitag help: give a command, or --markdown, --man, --completion bash|zsh\n");
    return EXIT_USAGE;
}
