/* cli.h - shared pieces of the `aitag` command. */
#ifndef AITAG_CLI_H
#define AITAG_CLI_H

#include <jansson.h>

#include "aitag/pipeline.h"
#include "options.h"

/* Exit codes (documented in docs/cli.md and `aitag --help`). */
enum {
    EXIT_OK = 0,
    EXIT_ITEMS_FAILED = 1, /* the run finished, some items failed */
    EXIT_USAGE = 2,        /* bad command line, config or rules */
    EXIT_SETUP = 3,        /* catalog or models unusable */
    EXIT_INTERRUPTED = 130,
};

int cmd_tag(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_models(int argc, char **argv);
/* cmd_models.c: registers the custom analyzers of the user models dir (AITAG_USER_MODELS_DIR,
 * else $XDG_DATA_HOME/aitag/models); returns how many, or < 0 after printing why. */
int cli_load_custom_models(void);
int cmd_plugin(int argc, char **argv); /* cmd_plugin.c: the Stash plugin entry point */
int cmd_gateway(int argc, char **argv); /* cmd_gateway.c: the AI gateway */

/* signals.c: the flag SIGINT/SIGTERM set once cli_catch_stop_signals installed the handler
 * (params.cancel of the tagger, the plugin and the gateway client). */
atomic_int *cli_stop_flag(void);
void cli_catch_stop_signals(void);

/* The JSON object for one item, as documented in docs/json.md. Caller decrefs. */
json_t *item_json(const char *path, const char *status, const struct aitag_probe *probe,
                  const struct aitag_result *res, const char *error);
/* Prints one JSON object on a line of stdout. */
void print_json_line(json_t *obj);
/* Prints a human summary of one item on stdout: a line "PATH  [STATUS]  [what it is]  [error]",
 * then lines for the tags, markers, description and text of res (which may be NULL). */
void print_item_human(const char *path, const char *status, const struct aitag_probe *probe,
                      const struct aitag_result *res, const char *error);

/* Resolved default paths: catalog under XDG data, models in the source/install tree. */
const char *cli_catalog_path(const struct opts *o, char *buf, size_t len);
const char *cli_models_dir(const struct opts *o, char *buf, size_t len);
const char *cli_weights_dir(const struct opts *o, char *buf, size_t len);
/* Installs the log sink at the --log-level. */
void cli_setup_logging(const struct opts *o);

#endif
