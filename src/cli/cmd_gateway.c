/*
 * cmd_gateway.c - `aitag gateway serve|keys|usage`: the AI gateway's command line.
 *
 * The gateway is configured by its own JSON file (docs/gateway.md) rather than the shared
 * option table: routes and backends are nested data that flat options cannot express. Its
 * command-line flags are rows of the option table (flag only). This file only parses
 * arguments, prints, and waits for SIGINT/SIGTERM; the server lives in src/gateway/.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/gateway.h"
#include "cli.h"

struct gw_args {
    const char *config, *db, *name, *routes, *models_dir, *weights_dir, *pos, *period;
    long rpm, tpm, concurrency;
    double budget;
    int json;
};

static void fill_args(const struct aitag_opts *o, struct gw_args *a)
{
    memset(a, 0, sizeof *a);
    a->config = aitag_opts_str(o, "config");
    a->db = aitag_opts_str(o, "db");
    a->name = aitag_opts_str(o, "name");
    a->routes = aitag_opts_str(o, "routes");
    a->models_dir = aitag_opts_str(o, "models-dir");
    a->weights_dir = aitag_opts_str(o, "weights-dir");
    a->period = aitag_opts_str(o, "budget-period");
    a->rpm = aitag_opts_int(o, "rpm");
    a->tpm = aitag_opts_int(o, "tpm");
    a->concurrency = aitag_opts_int(o, "concurrency");
    a->budget = aitag_opts_num(o, "budget");
    a->json = aitag_opts_bool(o, "json");
    a->pos = o->n_args ? o->args[0] : NULL;
}

static int serve(const struct gw_args *a, const struct aitag_opts *o)
{
    struct aitag_gateway_config *cfg = NULL;
    struct aitag_gateway_params gp = aitag_gateway_default_params();
    struct aitag_gateway *gw = NULL;
    char err[1024] = "", models[4096], weights[4096];
    sigset_t set;
    int sig;

    if (!a->config) {
        fprintf(stderr, "aitag gateway serve: --config FILE is required\n");
        return EXIT_USAGE;
    }
    if (aitag_gateway_config_load(a->config, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "aitag: %s\n", err);
        return EXIT_USAGE;
    }
    cli_setup_logging(o, NULL, NULL);
    gp.cfg = cfg;
    gp.manifest_dir = cli_models_dir(o, models, sizeof models);
    gp.weights_dir = cli_weights_dir(o, weights, sizeof weights);
    gp.item_json = item_json;
    cli_load_custom_models(); /* local backends may name the user's own analyzers */
    /* Block the stop signals in every thread; this one waits for them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (aitag_gateway_start(&gp, &gw, err, sizeof err) < 0) {
        fprintf(stderr, "aitag: %s\n", err);
        aitag_gateway_config_free(cfg);
        return EXIT_SETUP;
    }
    if (strchr(cfg->listen, ':')) /* IPv6: the address in brackets, as in a URL */
        printf("listening on [%s]:%d\n", cfg->listen, aitag_gateway_port(gw));
    else
        printf("listening on %s:%d\n", cfg->listen, aitag_gateway_port(gw));
    fflush(stdout);
    sigwait(&set, &sig);
    aitag_gateway_stop(gw);
    aitag_gateway_config_free(cfg);
    return EXIT_OK;
}

static void print_rows(json_t *rows, const char *const *cols, int json)
{
    size_t i;
    json_t *row;

    if (json) {
        json_array_foreach(rows, i, row) print_json_line(row);
        return;
    }
    for (size_t c = 0; cols[c]; c++)
        printf("%s%s", c ? "\t" : "", cols[c]);
    printf("\n");
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; cols[c]; c++) {
            json_t *v = json_object_get(row, cols[c]);
            printf("%s", c ? "\t" : "");
            if (json_is_string(v))
                printf("%s", json_string_value(v));
            else if (json_is_integer(v))
                printf("%lld", (long long)json_integer_value(v));
            else if (json_is_real(v))
                printf("%.6f", json_real_value(v));
            else
                printf("-");
        }
        printf("\n");
    }
}

int cmd_gateway(int argc, char **argv)
{
    static const char *const key_cols[] = {
        "id",     "prefix",        "name",  "routes",  "rpm",     "tpm", "concurrency",
        "budget", "budget_period", "spent", "created", "revoked", NULL};
    static const char *const usage_cols[] = {"day",
                                             "key_id",
                                             "route",
                                             "model",
                                             "requests",
                                             "prompt_tokens",
                                             "completion_tokens",
                                             "cost",
                                             "media_seconds",
                                             "frames",
                                             NULL};
    char name[128] = "gateway", err[1024] = "";
    struct aitag_opts o;
    struct gw_args a;
    json_t *rows = NULL;
    int rc;

    if (cli_subcommand(name, sizeof name, &argc, &argv))
        return EXIT_USAGE;
    if ((rc = cli_options(&o, name, argc, argv)) >= 0)
        goto out;
    fill_args(&o, &a);
    rc = EXIT_USAGE;
    if (a.pos && strcmp(name, "gateway keys revoke") != 0) {
        fprintf(stderr, "aitag %s: unexpected argument '%s'\n", name, a.pos);
        goto out;
    }
    if (strcmp(name, "gateway serve") == 0) {
        rc = serve(&a, &o);
        goto out;
    }
    if (!a.db) { /* every other subcommand works on the keys database */
        fprintf(stderr, "aitag %s: --db FILE is required\n", name);
        goto out;
    }
    cli_setup_logging(&o, NULL, NULL);
    if (strcmp(name, "gateway keys create") == 0) {
        char key[64];
        long long id;
        struct aitag_gateway_key_params kp = {a.name,   a.routes, (int)a.rpm,        (int)a.tpm,
                                              a.budget, a.period, (int)a.concurrency};
        if (aitag_gateway_key_create(a.db, &kp, key, &id, err, sizeof err) < 0)
            goto setup_err;
        if (a.json) {
            json_t *j = json_pack("{s:I, s:s}", "id", (json_int_t)id, "key", key);
            print_json_line(j);
            json_decref(j);
        } else {
            printf("id %lld\nkey %s\n(the key is shown only now; the gateway stores its sha256)\n",
                   id, key);
        }
        rc = EXIT_OK;
    } else if (strcmp(name, "gateway keys list") == 0) {
        if (aitag_gateway_keys_list(a.db, &rows, err, sizeof err) < 0)
            goto setup_err;
        print_rows(rows, key_cols, a.json);
        rc = EXIT_OK;
    } else if (strcmp(name, "gateway keys revoke") == 0) {
        char *end;
        long long id = a.pos ? strtoll(a.pos, &end, 10) : -1;
        if (!a.pos || *end || id < 0) {
            fprintf(stderr, "aitag gateway keys revoke: give the key id\n");
            goto out;
        }
        rc = aitag_gateway_key_revoke(a.db, id, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "aitag: %s\n", err);
            rc = rc == AITAG_ERR_NOTFOUND ? EXIT_ITEMS_FAILED : EXIT_SETUP;
            goto out;
        }
        rc = EXIT_OK;
    } else { /* gateway usage */
        if (aitag_gateway_usage_list(a.db, &rows, err, sizeof err) < 0)
            goto setup_err;
        print_rows(rows, usage_cols, a.json);
        rc = EXIT_OK;
    }
    goto out;
setup_err:
    fprintf(stderr, "aitag: %s\n", err);
    rc = EXIT_SETUP;
out:
    json_decref(rows);
    aitag_opts_free(&o);
    return rc;
}
