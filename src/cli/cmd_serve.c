/*
 * cmd_serve.c - `aitag serve`: the review app on the catalog (aitag/web.h, docs/review.md).
 *
 * Builds the policy `aitag tag` would apply (decisions re-derive their item with it), finds
 * the front end's files (the install tree's share/aitag/web, else the source tree's web/) and
 * the thumbnail cache ($XDG_CACHE_HOME/aitag/thumbs), starts the server and waits for SIGINT or
 * SIGTERM with every other thread blocking them. `--hash-password` reads a password on stdin
 * and prints the hash `--password-file` wants (the server refuses a non-loopback --bind
 * without one).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/concepts.h"
#include "aitag/web.h"
#include "cli.h"

static int hash_password(void)
{
    char line[1024], hash[256];
    size_t n;

    if (!fgets(line, sizeof line, stdin)) {
        fprintf(stderr, "aitag serve: --hash-password: no password on stdin\n");
        return EXIT_USAGE;
    }
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    if (aitag_web_hash_password(line, hash, sizeof hash) < 0) {
        fprintf(stderr, "aitag serve: --hash-password: the password is empty\n");
        return EXIT_USAGE;
    }
    printf("%s\n", hash);
    return EXIT_OK;
}

/* The hash in file path (its first line), into out; 0 or EXIT_USAGE after printing why. */
static int read_hash(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");

    if (!f) {
        fprintf(stderr, "aitag serve: --password-file %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    if (!fgets(out, (int)len, f) || strncmp(out, "pbkdf2-sha256$", 14) != 0) {
        fprintf(stderr,
                "aitag serve: --password-file %s: not a hash of `aitag serve --hash-password`\n",
                path);
        fclose(f);
        return EXIT_USAGE;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static const char *cache_dir(const struct aitag_opts *o, char *buf, size_t len)
{
    const char *v = aitag_opts_str(o, "cache-dir"), *xdg = getenv("XDG_CACHE_HOME");

    if (v && *v)
        return v;
    if (xdg && *xdg)
        snprintf(buf, len, "%s/aitag/thumbs", xdg);
    else
        snprintf(buf, len, "%s/.cache/aitag/thumbs", getenv("HOME") ? getenv("HOME") : ".");
    return buf;
}

/* The tagger's command for the app's jobs: this program's `tag`, on the same catalog, with
 * the rules options serve was given, printing items and progress as JSON. */
static size_t tag_command(const struct aitag_opts *o, const char *catalog, char *exe,
                          char *threshold, size_t tlen, const char **argv)
{
    size_t n = 0;

    if (cli_program_path(exe) < 0)
        return 0;
    argv[n++] = exe;
    argv[n++] = "tag";
    argv[n++] = "--catalog";
    argv[n++] = catalog;
    argv[n++] = "--json";
    argv[n++] = "--progress";
    argv[n++] = "json";
    if (aitag_opts_str(o, "rules")) {
        argv[n++] = "--rules";
        argv[n++] = aitag_opts_str(o, "rules");
    }
    if (aitag_opts_str(o, "context")) {
        argv[n++] = "--context";
        argv[n++] = aitag_opts_str(o, "context");
    }
    if (aitag_opts_str(o, "threshold")) {
        snprintf(threshold, tlen, "%g", aitag_opts_num(o, "threshold"));
        argv[n++] = "--threshold";
        argv[n++] = threshold;
    }
    if (!aitag_opts_bool(o, "markers"))
        argv[n++] = "--no-markers";
    if (!aitag_opts_bool(o, "context-defaults"))
        argv[n++] = "--no-context-defaults";
    argv[n] = NULL;
    return n;
}

/* The app's search by meaning: `aitag search WORDS` over the server's catalog connection. */
struct serve_search {
    const struct aitag_opts *o;
    aitag_web_hit_fn hit;
    void *hit_ctx;
};

static void on_concept_hit(void *ctx, const char *path, int64_t id, float score, const char *why)
{
    struct serve_search *s = ctx;
    (void)path;
    s->hit(s->hit_ctx, id, score, why);
}

static int search_by_meaning(void *ctx, struct aitag_catalog *c, const char *query,
                             aitag_web_hit_fn hit, void *hit_ctx)
{
    struct serve_search s = {ctx, hit, hit_ctx};
    return cli_concept_rank(c, s.o, query, on_concept_hit, &s) == EXIT_OK ? 0 : AITAG_ERR_INVALID;
}

static int serve(const struct aitag_opts *o, struct aitag_policy *p)
{
    char exe[PATH_MAX], threshold[32];
    const char *tag_argv[24];
    struct aitag_web_params wp = aitag_web_default_params();
    char *const *roots;
    char catalog[4096], web[4096], cache[4096], hash[256], err[1024];
    const char *pw_file = aitag_opts_str(o, "password-file");
    struct aitag_web *w = NULL;
    sigset_t set;
    int sig;

    roots = aitag_opts_list(o, "root", &wp.n_roots);
    if (pw_file && read_hash(pw_file, hash, sizeof hash) != 0)
        return EXIT_USAGE;
    wp.password_hash = pw_file ? hash : NULL;
    wp.catalog_path = cli_catalog_path(o, catalog, sizeof catalog);
    wp.policy = p;
    wp.bind = aitag_opts_str(o, "bind");
    wp.port = (int)aitag_opts_int(o, "port");
    wp.static_dir = cli_web_dir(o, web, sizeof web);
    wp.cache_dir = cache_dir(o, cache, sizeof cache);
    wp.roots = (const char *const *)roots;
    if (tag_command(o, wp.catalog_path, exe, threshold, sizeof threshold, tag_argv))
        wp.tag_argv = tag_argv;
    wp.search = search_by_meaning;
    wp.search_ctx = (void *)o;
    if (aitag_opts_str(o, "who"))
        wp.who = aitag_opts_str(o, "who");
    else if (getenv("USER"))
        wp.who = getenv("USER");
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (aitag_web_start(&wp, &w, err, sizeof err) < 0) {
        fprintf(stderr, "aitag serve: %s\n", err);
        return strstr(err, "bind") || strstr(err, "static_dir") ? EXIT_USAGE : EXIT_SETUP;
    }
    printf(strchr(wp.bind, ':') ? "listening on http://[%s]:%d/\n" : "listening on http://%s:%d/\n",
           wp.bind, aitag_web_port(w));
    fflush(stdout);
    sigwait(&set, &sig);
    aitag_web_stop(w);
    return EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
    struct aitag_policy *p = NULL;
    struct aitag_concepts *cx = NULL;
    struct aitag_opts o;
    int rc;

    if ((rc = cli_options(&o, "serve", argc, argv)) >= 0)
        goto out;
    cli_setup_logging(&o, NULL, NULL);
    rc = EXIT_USAGE;
    if (o.n_args) {
        fprintf(stderr, "aitag serve: takes no arguments ('%s'; see aitag serve --help)\n",
                o.args[0]);
        goto out;
    }
    if (aitag_opts_bool(&o, "hash-password")) {
        rc = hash_password();
        goto out;
    }
    if (!(p = cli_load_policy(&o, "serve", &cx)))
        goto out;
    rc = serve(&o, p);
out:
    aitag_policy_free(p);
    aitag_concepts_close(cx);
    aitag_opts_free(&o);
    return rc;
}
