/*
 * aitag/plugin.h - the Stash plugin adapter: Stash ids and paths in, the pipeline's catalog
 * results out, written back to Stash as differences (its own tags and markers only).
 *
 * Usage (what `aitag plugin` does with Stash's raw-interface stdin):
 *     struct aitag_plugin_input in;
 *     if (aitag_plugin_input_parse(stdin_text, len, &in, err, sizeof err) < 0) fail(err);
 *     struct aitag_plugin_params pp = aitag_plugin_default_params();
 *     pp.manifest_dir = ...; pp.weights_dir = ...; pp.on_progress = show; pp.ctx = &state;
 *     char *output = NULL;                         // JSON text of the "output" member
 *     rc = aitag_plugin_run(&pp, &in, &output, err, sizeof err);
 *     // rc < 0: the run could not happen or stopped (err says why); output still describes
 *     // what was done. Item failures are not run failures: they are counted in output.
 *     free(output); aitag_plugin_input_clear(&in);
 *
 * Modes (args.mode): "hook" (Scene/Image.Create.Post: add AI_TagMe to the new item and
 * nothing else: no catalog, no model), "queue" (items tagged AI_TagMe), "untagged_scenes",
 * "untagged_images" (items without AI_Tagged), "retag_all" (every item; results are
 * re-derived, models run only for new or changed files), "scene" and "image" (args.ids).
 *
 * Ownership: a tag is the plugin's when its parent is the parent tag (setting parentTag,
 * "AI" by default); a marker is the plugin's when its primary tag is. The control tags
 * AI_TagMe, AI_Tagged and AI_Errored are children of the parent tag too but are only ever
 * added or removed as control tags. Nothing else on an item is ever changed. Every write is a
 * difference against the item's state read just before, matched by content (tag ids; marker
 * primary tag, seconds and end within 0.01 s), so a run that was killed, or that met a Stash
 * restart, is completed by running it again, without duplicates.
 *
 * Logging goes through aitag_log (subsystem "plugin"); progress through on_progress.
 * Thread-safety: aitag_plugin_run uses the calling thread (and the tagger's decoder thread);
 * one run per process.
 */
#ifndef AITAG_PLUGIN_H
#define AITAG_PLUGIN_H

#include <stdatomic.h>
#include <stddef.h>

#include "aitag/common.h"

/* The raw-interface input Stash writes on the plugin's stdin. Strings are owned. */
struct aitag_plugin_input {
    char *url;            /* scheme://host:port; 0.0.0.0, :: or "" become 127.0.0.1 */
    char *session_cookie; /* SessionCookie.Value, NULL when Stash has no credentials */
    char *stash_dir;      /* server_connection.Dir (Stash's config folder), may be NULL */
    char *plugin_dir;     /* server_connection.PluginDir; "." when absent */
    char *mode;           /* args.mode; "hook" when only a hookContext was given */
    char **ids;           /* args.ids (array of strings or numbers, or "1,2") or args.id */
    size_t n_ids;
    char *hook_type; /* args.hookContext.type ("Scene.Create.Post"), or NULL */
    char *hook_id;   /* args.hookContext.id as text, or NULL */
};

/* Parses the raw-interface JSON. 0, or AITAG_ERR_INVALID with a message in err (not JSON,
 * no server_connection, unknown mode, ...). The input is cleared on failure. */
int aitag_plugin_input_parse(const char *json, size_t len, struct aitag_plugin_input *in, char *err,
                             size_t errlen);
void aitag_plugin_input_clear(struct aitag_plugin_input *in);

struct aitag_plugin_params {
    const char *plugin_id;    /* settings key in Stash; default "aitag" */
    const char *manifest_dir; /* model manifests (the installed share/aitag/models) */
    const char *weights_dir;  /* model weights */
    const char *catalog_path; /* NULL: <PluginDir>/data/catalog.db */
    const char *api_key;      /* NULL: the client reads it from Stash when needed */
    const char *gateway_key;  /* API key for the setting gatewayUrl's aitag gateway; NULL none */
    int threads;              /* CPU budget of the tagger; default 2 */
    int batch;                /* paths per tagger run; default 20 */
    int stash_timeout_ms;     /* per request; default 30000 */
    int stash_retries;        /* extra attempts on 5xx/timeouts; default 4 */
    /* Fraction 0..1 of the selected items done (called from the calling thread). */
    void (*on_progress)(void *ctx, double fraction);
    void *ctx;
    atomic_int *cancel; /* optional: non-zero stops after the item in flight (atomic: read from
                         * other threads, may be set by a signal handler) */
};

struct aitag_plugin_params aitag_plugin_default_params(void);

/* Runs one plugin invocation. *output (malloc'd JSON text, caller frees; set even on failure
 * when anything was attempted, else NULL) describes what was done: mode, counts, written
 * differences, per-item failures. Returns 0 when the run completed (items may have failed),
 * or < 0 with err set: AITAG_ERR_NET (Stash unreachable or stopped answering),
 * AITAG_ERR_INVALID (bad settings or input), AITAG_ERR_MODEL/DB (tagger setup),
 * AITAG_ERR_CANCELED. */
int aitag_plugin_run(const struct aitag_plugin_params *p, const struct aitag_plugin_input *in,
                     char **output, char *err, size_t errlen);

#endif
