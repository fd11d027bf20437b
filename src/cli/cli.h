/* cli.h - shared pieces of the `aitag` command. */
#ifndef AITAG_CLI_H
#define AITAG_CLI_H

#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "aitag/options.h"
#include "aitag/pipeline.h"

/* Exit codes (documented in docs/cli.md and `aitag --help`). */
enum {
    EXIT_OK = 0,
    EXIT_ITEMS_FAILED = 1, /* the run finished, some items failed */
    EXIT_USAGE = 2,        /* bad command line, config or rules */
    EXIT_SETUP = 3,        /* catalog or models unusable */
    EXIT_INTERRUPTED = 130,
};

int cmd_tag(int argc, char **argv);
int cmd_enqueue(int argc, char **argv); /* cmd_jobs.c: paths into the job queue */
int cmd_jobs(int argc, char **argv);    /* cmd_jobs.c: the queue, its workers and failures */
int cmd_worker(int argc, char **argv);  /* cmd_worker.c: tags the queue's jobs */

/* tagger_params.c: the tagger's parameters from the options of `aitag tag` (and `aitag
 * worker`): what the parameters point to lives in a cli_tagger_bufs; with --gateway *gc is
 * the client (free it after the tagger). 0, or an exit code after printing why. */
#define CLI_MAX_ANALYZERS 16
#define CLI_N_ANALYZER_OPTS (2 + AITAG_VLM_MAX_OPTS + 8)
struct cli_tagger_bufs {
    char catalog[4096], models[4096], weights[4096], rules[4096], context[2][4096];
    const char *context_paths[2];
    char analyzers[1024];
    const char *names[CLI_MAX_ANALYZERS];
    char aopt[CLI_N_ANALYZER_OPTS][AITAG_VLM_OPT_LEN];
    const char *aopts[CLI_N_ANALYZER_OPTS];
};
struct aitag_remote_client;
int cli_tagger_params(const struct aitag_opts *o, const char *cmd, struct cli_tagger_bufs *b,
                      struct aitag_tagger_params *tp, struct aitag_remote_client **gc);
int cli_has_analyzer(const struct aitag_tagger_params *tp, const char *name);
int cmd_show(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_export(int argc, char **argv);  /* cmd_export.c: subtitles from the transcript */
int cmd_prune(int argc, char **argv);   /* cmd_prune.c: deletes items whose files are gone */
int cmd_catalog(int argc, char **argv); /* cmd_catalog.c: catalog check|backup|restore */
int cmd_models(int argc, char **argv);
/* cmd_models.c: registers the custom analyzers of the user models dir (AITAG_USER_MODELS_DIR,
 * else $XDG_DATA_HOME/aitag/models); returns how many, or < 0 after printing why. */
int cli_load_custom_models(void);
int cmd_plugin(int argc, char **argv);  /* cmd_plugin.c: the Stash plugin entry point */
int cmd_gateway(int argc, char **argv); /* cmd_gateway.c: the AI gateway */
int cmd_serve(int argc, char **argv);   /* cmd_serve.c: the review app */
int cmd_review(int argc, char **argv);  /* cmd_review.c: review accept|reject|...|queue|log */
int cmd_people(int argc, char **argv);  /* cmd_people.c: people list|show|name|...|recluster */
/* cmd_people.c: the people update after `aitag tag` (its --max-distance, --min-faces and
 * --min-quality) on the catalog at catalog_path; 0, or EXIT_SETUP after printing why. */
int cli_people_update(const struct aitag_opts *o, const char *catalog_path);

/* signals.c: the flag SIGINT/SIGTERM set once cli_catch_stop_signals installed the handler
 * (params.cancel of the tagger, the plugin and the gateway client). */
atomic_int *cli_stop_flag(void);
void cli_catch_stop_signals(void);
/* The same for a command that finishes the item in flight first (aitag worker): the first
 * signal sets *flag, a second sets cli_stop_flag. */
void cli_catch_stop_signals_graceful(atomic_int *flag);

/* The JSON object for one item, as documented in docs/json.md. Caller decrefs. */
json_t *item_json(const char *path, const char *status, const struct aitag_probe *probe,
                  const struct aitag_result *res, const char *error);
/* Prints one JSON object on a line of stdout. */
void print_json_line(json_t *obj);
/* Prints a human summary of one item on stdout: a line "PATH  [STATUS]  [what it is]  [error]",
 * then lines for the tags, markers, description and text of res (which may be NULL). */
void print_item_human(const char *path, const char *status, const struct aitag_probe *probe,
                      const struct aitag_result *res, const char *error);

/* options.c: resolves cmd's options (config file, environment, argv after the command's
 * words) into o. Returns -1 to go on; otherwise the exit code: EXIT_USAGE after printing the
 * one-line error, EXIT_OK after printing --help. The caller frees o either way. */
int cli_options(struct aitag_opts *o, const char *cmd, int argc, char **argv);
/* The same without printing: 0, or < 0 with the one-line error in err. */
int cli_resolve(struct aitag_opts *o, const char *cmd, int argc, char **argv, char *err,
                size_t errlen);
/* help.c: texts generated from the option and command tables. */
void cli_print_usage(FILE *out);
void cli_print_help(FILE *out, const char *cmd);
/* Extends name ("gateway", in a buffer of len) by the leading words of argv naming its
 * subcommands ("gateway keys create"), taking them off argv. Returns 0, or EXIT_USAGE after
 * printing that a word is not a subcommand. */
int cli_subcommand(char *name, size_t len, int *argc, char ***argv);
/* 0 when name is a command that runs; EXIT_USAGE after one line listing its subcommands when it
 * only groups them ("gateway keys"). */
int cli_need_subcommand(const char *name);
/* One line on stderr: parent's unknown subcommand word, with the nearest valid one. */
void cli_unknown_command(const char *parent, const char *word);
/* `aitag help [CMD... | --markdown | --man | --completion bash|zsh]` */
int cli_help(int argc, char **argv);

/* Resolved default paths: catalog under XDG data, models in the source/install tree. */
const char *cli_catalog_path(const struct aitag_opts *o, char *buf, size_t len);
const char *cli_models_dir(const struct aitag_opts *o, char *buf, size_t len);
/* The program file's absolute path into exe (PATH_MAX bytes); its length, or -1. */
ssize_t cli_program_path(char *exe);
/* The review app's front end: --web-dir, else the install tree's share/aitag/web, else web/. */
const char *cli_web_dir(const struct aitag_opts *o, char *buf, size_t len);
/* The context rules files the options ask for, in load order: the shipped defaults (unless
 * --no-context-defaults) and the user's (--context, else $XDG_CONFIG_HOME/aitag/context.json
 * when present). Fills paths[0..2) (bufs: two buffers for them); returns how many. */
size_t cli_context_paths(const struct aitag_opts *o, char (*bufs)[4096], const char **paths);
/* policy_opts.c: the policy `aitag tag` would apply, from the same options of command cmd
 * (categories: *cx, closed by the caller after the policy is freed); NULL after printing why. */
struct aitag_concepts;
struct aitag_policy *cli_load_policy(const struct aitag_opts *o, const char *cmd,
                                     struct aitag_concepts **cx);
/* concept_search.c: `aitag search WORDS`, ranked, printed. EXIT_OK or EXIT_SETUP. */
int cli_concept_search(struct aitag_catalog *c, const struct aitag_opts *o, const char *query);
/* The same search, each hit to fn, best first (the review app's search). EXIT_OK or
 * EXIT_SETUP (said on stderr). Not thread-safe (WordNet): one search at a time. */
typedef void (*cli_hit_fn)(void *ctx, const char *path, int64_t id, float score, const char *why);
int cli_concept_rank(struct aitag_catalog *c, const struct aitag_opts *o, const char *query,
                     cli_hit_fn fn, void *ctx);

/* embed_search.c: search by an embedding model through an OpenAI-compatible /v1/embeddings. */
struct cli_embed {
    const char *url;      /* base URL (".../v1") */
    const char *model;    /* the model (gateway route) asked to embed the words */
    const char *key;      /* bearer key or NULL */
    const char *analyzer; /* whose stored embeddings are compared ("clip") */
};
/* Offers every item whose embeddings resemble the query's (see embed_search.c). 0, or < 0
 * with err naming the server or the catalog. */
int cli_embed_search(struct aitag_catalog *c, const struct cli_embed *e, const char *query,
                     void (*offer)(void *ctx, const char *path, int64_t id, float score,
                                   const char *why),
                     void *ctx, char *err, size_t errlen);
/* why.c: `aitag show --why` for item media_id: into item's JSON ("why") when item is not
 * NULL, else printed in words. EXIT_OK or EXIT_SETUP (said on stderr). */
int cli_show_why(struct aitag_catalog *c, const struct aitag_opts *o, int64_t media_id,
                 json_t *item);
const char *cli_weights_dir(const struct aitag_opts *o, char *buf, size_t len);
/* cmd_query.c: opens (creating) the catalog of o for writing; 0, or -1 after saying why. */
int cli_open_catalog_rw(const struct aitag_opts *o, const char *cmd, struct aitag_catalog **c);
/* cmd_query.c: opens the catalog of o for command cmd. 0; 1 when there is no catalog file yet
 * (said in one line on stderr; nothing is created); -1 when it can't be opened (the reason
 * printed). */
int cli_open_catalog(const struct aitag_opts *o, const char *cmd, int readonly,
                     struct aitag_catalog **c);
/* cmd_query.c: true when path names no file any more (ENOENT/ENOTDIR; other errors, such as
 * permission denied, don't prove it is gone). */
int cli_file_gone(const char *path);
/* The one log setup of every command (tag, show, search, models, gateway, plugin): installs
 * sink (NULL: stderr) at the command's log-level option (flag, AITAG_LOG_LEVEL or config;
 * the option table's default per command). */
void cli_setup_logging(const struct aitag_opts *o, aitag_log_fn sink, void *ctx);

#endif
