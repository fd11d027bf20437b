/*
 * tagger_params.c - the tagger's parameters from the options of `aitag tag`, shared by every
 * command that tags (tag, worker): analyzers and their options, models, rules, context,
 * sampling, threads, and the gateway client when --gateway is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/remote.h"
#include "cli.h"

static int has(const char *const *names, size_t n_names, const char *name)
{
    for (size_t i = 0; i < n_names; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

int cli_has_analyzer(const struct aitag_tagger_params *tp, const char *name)
{
    return has(tp->analyzers, tp->n_analyzers, name);
}

/* Analyzer options from the command line: the vlm analyzer's settings when vlm runs, the
 * objects analyzer's mirrored pass when --no-objects-mirror turns it off, and face_attrs's
 * embedder when --face-embedder names another than faceres. */
static size_t analyzer_options(const struct aitag_opts *o, const char *const *names, size_t n_names,
                               char (*buf)[AITAG_VLM_OPT_LEN], const char **out)
{
    size_t n = 0;

    if (has(names, n_names, "objects") && !aitag_opts_bool(o, "objects-mirror")) {
        snprintf(buf[n], AITAG_VLM_OPT_LEN, "objects.flip=0");
        out[n] = buf[n];
        n++;
    }
    if (has(names, n_names, "face_attrs") &&
        strcmp(aitag_opts_str(o, "face-embedder"), "faceres") != 0) {
        snprintf(buf[n], AITAG_VLM_OPT_LEN, "face_attrs.embedder=%s",
                 aitag_opts_str(o, "face-embedder"));
        out[n] = buf[n];
        n++;
    }
    if (has(names, n_names, "vlm")) {
        struct aitag_vlm_settings vs = {
            .url = aitag_opts_str(o, "vlm-url"),
            .route = aitag_opts_str(o, "vlm-route"),
            .key_env = aitag_opts_str(o, "vlm-key-env"),
            .vocabulary = aitag_opts_str(o, "vocabulary"),
            .every = aitag_opts_num(o, "vlm-every"),
            .describe = aitag_opts_bool(o, "describe"),
            .local_only = aitag_opts_bool(o, "local-only"),
        };
        n += aitag_vlm_options(&vs, buf + n, out + n); /* the plugin's too */
    }
    if (has(names, n_names, "speech")) {
        static const char *const keys[][2] = {
            {"speech-engine", "engine"},     {"speech-url", "url"},
            {"speech-model", "model"},       {"speech-key-env", "key_env"},
            {"speech-language", "language"}, {"keywords", "keywords"},
        };
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
            const char *v = aitag_opts_str(o, keys[i][0]);
            if (!v || !*v)
                continue;
            snprintf(buf[n], AITAG_VLM_OPT_LEN, "speech.%s=%s", keys[i][1], v);
            out[n] = buf[n];
            n++;
        }
        if (aitag_opts_bool(o, "speech-accurate")) {
            snprintf(buf[n], AITAG_VLM_OPT_LEN, "speech.accurate=1");
            out[n] = buf[n];
            n++;
        }
        if (aitag_opts_bool(o, "local-only")) {
            snprintf(buf[n], AITAG_VLM_OPT_LEN, "speech.local_only=1");
            out[n] = buf[n];
            n++;
        }
    }
    return n;
}

int cli_tagger_params(const struct aitag_opts *o, const char *cmd, struct cli_tagger_bufs *b,
                      struct aitag_tagger_params *tp, struct aitag_remote_client **gc)
{
    const char *strategy, *sampling;
    char err[1024];

    *gc = NULL;
    aitag_fmt(b->analyzers, sizeof b->analyzers, "%s", aitag_opts_str(o, "analyzers"));
    tp->catalog_path = cli_catalog_path(o, b->catalog, sizeof b->catalog);
    tp->manifest_dir = cli_models_dir(o, b->models, sizeof b->models);
    tp->weights_dir = cli_weights_dir(o, b->weights, sizeof b->weights);
    tp->analyzers = b->names;
    tp->n_analyzers = aitag_split_csv(b->analyzers, b->names, CLI_MAX_ANALYZERS);
    tp->n_analyzer_opts = analyzer_options(o, b->names, tp->n_analyzers, b->aopt, b->aopts);
    tp->analyzer_opts = b->aopts;
    tp->interval = aitag_opts_num(o, "interval");
    tp->threads = (int)aitag_opts_int(o, "threads");
    tp->threshold = aitag_opts_str(o, "threshold") ? (float)aitag_opts_num(o, "threshold") : -1.0f;
    tp->markers = aitag_opts_bool(o, "markers");
    tp->force = aitag_opts_bool(o, "force");
    tp->queue_frames = (int)aitag_opts_int(o, "queue");
    tp->max_pixels = (int64_t)(aitag_opts_num(o, "max-megapixels") * 1e6);
    tp->max_duration = aitag_opts_num(o, "max-duration");
    tp->max_frames = aitag_opts_int(o, "max-frames");
    tp->max_streams = (int)aitag_opts_int(o, "max-streams");
    tp->item_timeout = aitag_opts_num(o, "item-timeout");
    tp->item_cpu = aitag_opts_num(o, "item-cpu");
    strategy = aitag_opts_str(o, "strategy"); /* enums are checked by the option table */
    tp->sampler_strategy = strcmp(strategy, "sequential") == 0 ? 1
                           : strcmp(strategy, "seek") == 0     ? 2
                                                               : 0;
    sampling = aitag_opts_str(o, "sampling");
    tp->sampling = strcmp(sampling, "keyframes") == 0  ? AITAG_SAMPLING_KEYFRAMES
                   : strcmp(sampling, "adaptive") == 0 ? AITAG_SAMPLING_ADAPTIVE
                                                       : AITAG_SAMPLING_EXACT;
    tp->rules_path = aitag_opts_str(o, "rules");
    if (!tp->rules_path) /* the gateway's default too */
        tp->rules_path = aitag_default_rules_path(b->rules, sizeof b->rules);
    tp->n_context_paths = cli_context_paths(o, b->context, b->context_paths);
    tp->context_paths = b->context_paths;
    tp->cancel = cli_stop_flag();
    if (aitag_opts_str(o, "gateway")) {
        struct aitag_remote_client_params cp = aitag_remote_client_default_params();
        const char *key_env = aitag_opts_str(o, "gateway-key-env");
        cp.url = aitag_opts_str(o, "gateway");
        cp.route = aitag_opts_str(o, "gateway-route");
        cp.key = key_env && *key_env ? getenv(key_env) : NULL; /* never a flag: argv is public */
        cp.local_only = aitag_opts_bool(o, "local-only");
        cp.cancel = cli_stop_flag();
        int grc = aitag_remote_client_new(&cp, gc, err, sizeof err);
        if (grc < 0) {
            fprintf(stderr, "aitag %s: --gateway: %s\n", cmd, err);
            return grc == AITAG_ERR_INVALID ? EXIT_USAGE : EXIT_SETUP;
        }
        tp->remote = aitag_remote_client_tag;
        tp->remote_ctx = *gc;
    }
    cli_load_custom_models(); /* custom analyzers from the user models dir (docs/models.md) */
    return 0;
}
