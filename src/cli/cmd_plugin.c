/*
 * cmd_plugin.c - `aitag plugin`: the Stash plugin entry point (raw interface).
 *
 * Stash runs `bin/aitag plugin` from the plugin folder, writes one JSON document on stdin and
 * closes it, reads stdout to EOF as one JSON object {"output": ..., "error": ...}, and reads
 * stderr line by line: "\x01" level "\x02" message, levels t d i w e, and "\x01p\x02" 0..1 for
 * the task's progress bar. So stdout carries exactly one object and nothing else (libraries
 * never print), and every log event becomes one short line on stderr.
 *
 * Processes: Stash's stop button SIGKILLs the plugin. aitag starts no child processes (FFmpeg
 * decodes on a thread, ONNX Runtime runs in-process), so nothing can outlive it; it also asks
 * the kernel to SIGKILL it when Stash itself goes away (PR_SET_PDEATHSIG), so an orphaned run
 * never keeps writing. A child process added later must set PR_SET_PDEATHSIG too.
 *
 * Exit status: 0 when the run completed (items may have failed: see output.failed), 1 when it
 * could not run or had to stop (Stash unreachable, models missing: the message is in "error"
 * and on stderr), 2 for unreadable input.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "aitag/plugin.h"
#include "cli.h"

#define MAX_INPUT (64u << 20) /* hook inputs are ~400 KB; anything near this is not Stash */
#define MAX_LINE 400          /* Stash shows log lines in its UI: keep them short */

enum { PLUGIN_EXIT_FAILED = 1 }; /* the run could not happen or had to stop */

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

/* One aitag_log event -> one Stash log line. */
static void stash_sink(void *ctx, enum aitag_log_level level, const char *subsystem,
                       const char *msg)
{
    static const char chars[] = {'e', 'w', 'i', 'd'};
    char line[MAX_LINE + 1];
    size_t n = 0;

    (void)ctx;
    if (strcmp(subsystem, "plugin") != 0)
        n = (size_t)snprintf(line, sizeof line, "%s: ", subsystem);
    for (const char *p = msg; *p && n < MAX_LINE; p++)
        line[n++] = *p == '\n' || *p == '\r' ? ' ' : *p;
    line[n < MAX_LINE ? n : MAX_LINE] = '\0';
    pthread_mutex_lock(&err_lock);
    fprintf(stderr, "\x01%c\x02%s\n", chars[level <= AITAG_LOG_DEBUG ? level : 3], line);
    fflush(stderr);
    pthread_mutex_unlock(&err_lock);
}

static void on_progress(void *ctx, double fraction)
{
    (void)ctx;
    pthread_mutex_lock(&err_lock);
    fprintf(stderr, "\x01p\x02%.3f\n", fraction);
    fflush(stderr);
    pthread_mutex_unlock(&err_lock);
}

/* Reads stdin to EOF into a growing buffer. */
static char *read_all(FILE *in, size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap), *g;

    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= MAX_INPUT) {
                free(buf);
                return NULL;
            }
            g = realloc(buf, cap * 2);
            if (!g) {
                free(buf);
                return NULL;
            }
            buf = g;
            cap *= 2;
        }
    }
    if (buf && ferror(in)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The one stdout object. output is JSON text or NULL. */
static void answer(const char *output, const char *error)
{
    json_t *o = json_object(), *out = output ? json_loads(output, 0, NULL) : NULL;
    char *text;

    json_object_set_new(o, "output", out ? out : json_null());
    json_object_set_new(o, "error", error ? json_string(error) : json_null());
    text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
    } else {
        fputs("{\"output\":null,\"error\":\"out of memory\"}\n", stdout);
    }
    fflush(stdout);
    free(text);
    json_decref(o);
}

int cmd_plugin(int argc, char **argv)
{
    struct aitag_plugin_params pp = aitag_plugin_default_params();
    struct aitag_plugin_input in;
    struct aitag_opts o;
    char models[4096], weights[4096], err[1200] = "", *input = NULL, *output = NULL;
    size_t len = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pid_t parent;
    int rc;

    /* log-level: flag, AITAG_LOG_LEVEL or the config file, checked by the option table */
    if (cli_resolve(&o, "plugin", argc, argv, err, sizeof err) == 0 && o.n_args)
        snprintf(err, sizeof err, "unexpected argument '%.100s'", o.args[0]);
    if (err[0]) {
        fprintf(stderr, "\x01"
                        "e\x02"
                        "aitag plugin: %s\n",
                err);
        answer(NULL, err);
        aitag_opts_free(&o);
        return EXIT_USAGE;
    }
    if (o.help) {
        cli_print_help(stdout, "plugin");
        aitag_opts_free(&o);
        return EXIT_OK;
    }
    cli_setup_logging(&o, stash_sink, NULL); /* every command's setup, Stash's log lines */
    aitag_opts_free(&o);
    /* Die with Stash rather than write to a server that is gone; re-check the race where
     * it died before the prctl. */
    parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return PLUGIN_EXIT_FAILED;
    cli_catch_stop_signals();
    signal(SIGPIPE, SIG_IGN);

    input = read_all(stdin, &len);
    if (!input) {
        aitag_log(AITAG_LOG_ERROR, "plugin", "cannot read the plugin input on stdin");
        answer(NULL, "cannot read the plugin input on stdin");
        return EXIT_USAGE;
    }
    if (aitag_plugin_input_parse(input, len, &in, err, sizeof err) < 0) {
        free(input);
        aitag_log(AITAG_LOG_ERROR, "plugin", "%s", err);
        answer(NULL, err);
        return EXIT_USAGE;
    }
    free(input);
    memset(&o, 0, sizeof o); /* no flags: the installed (or source) tree */
    pp.manifest_dir = cli_models_dir(&o, models, sizeof models);
    pp.weights_dir = cli_weights_dir(&o, weights, sizeof weights);
    pp.threads = ncpu > 4 ? 4 : ncpu > 0 ? (int)ncpu : 2;
    pp.on_progress = on_progress;
    pp.cancel = cli_stop_flag();
    pp.gateway_key = getenv("AITAG_GATEWAY_KEY"); /* for the gatewayUrl setting (docs/gateway.md) */
    if (!in.mode || strcmp(in.mode, "hook") != 0) /* hooks only enqueue: nothing to load */
        cli_load_custom_models();
    rc = aitag_plugin_run(&pp, &in, &output, err, sizeof err);
    if (rc < 0) {
        aitag_log(AITAG_LOG_ERROR, "plugin", "%s", err);
        answer(output, err);
    } else {
        answer(output, NULL);
    }
    free(output);
    aitag_plugin_input_clear(&in);
    return rc < 0 ? (rc == AITAG_ERR_CANCELED ? EXIT_INTERRUPTED : PLUGIN_EXIT_FAILED) : EXIT_OK;
}
