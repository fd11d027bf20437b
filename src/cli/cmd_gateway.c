/*
 * cmd_gateway.c - `aitag gateway serve|keys|usage`: the AI gateway's command line.
 *
 * The gateway is configured by its own JSON file (docs/gateway.md) rather than the shared
 * option table: routes and backends are nested data that flat options cannot express. This
 * file only parses arguments, prints, and waits for SIGINT/SIGTERM; the server lives in
 * src/gateway/.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/gateway.h"
#include "cli.h"

static void gateway_usage(FILE *out)
{
    fprintf(out,
            "Usage:\n"
            "  aitag gateway serve --config FILE [--models-dir DIR] [--weights-dir DIR]\n"
            "  aitag gateway keys create --db FILE [--name NAME] [--routes a,b] [--rpm N]\n"
            "                            [--tpm N] [--budget USD] [--budget-period day|month]\n"
            "  aitag gateway keys list --db FILE\n"
            "  aitag gateway keys revoke --db FILE ID\n"
            "  aitag gateway usage --db FILE [--json]\n\n"
            "serve prints \"listening on ADDR:PORT\" once ready and stops on SIGINT/SIGTERM.\n"
            "See docs/gateway.md for the config file, the API and the metrics.\n");
}

struct gw_args {
    const char *config, *db, *name, *routes, *models_dir, *weights_dir, *pos, *period;
    long rpm, tpm;
    double budget;
    int json, help;
};

static int parse_args(int argc, char **argv, struct gw_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char **dst = NULL;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->help = 1;
            continue;
        }
        if (strcmp(s, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (strcmp(s, "--config") == 0)
            dst = &a->config;
        else if (strcmp(s, "--db") == 0)
            dst = &a->db;
        else if (strcmp(s, "--name") == 0)
            dst = &a->name;
        else if (strcmp(s, "--routes") == 0)
            dst = &a->routes;
        else if (strcmp(s, "--models-dir") == 0)
            dst = &a->models_dir;
        else if (strcmp(s, "--weights-dir") == 0)
            dst = &a->weights_dir;
        else if (strcmp(s, "--budget-period") == 0)
            dst = &a->period;
        else if (strcmp(s, "--rpm") == 0 || strcmp(s, "--tpm") == 0) {
            char *end;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : -1;
            if (i + 1 >= argc || v < 0 || v > 1 << 30 || *end || !*argv[i + 1]) {
                fprintf(stderr, "aitag gateway: %s needs a number >= 0\n", s);
                return -1;
            }
            *(s[2] == 'r' ? &a->rpm : &a->tpm) = v;
            i++;
            continue;
        } else if (strcmp(s, "--budget") == 0) {
            char *end;
            if (i + 1 >= argc || !(a->budget = strtod(argv[i + 1], &end), a->budget > 0) || *end ||
                a->budget > 1e12) {
                fprintf(stderr, "aitag gateway: --budget needs an amount in USD > 0\n");
                return -1;
            }
            i++;
            continue;
        } else if (s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "aitag gateway: unknown option '%s'\n", s);
            return -1;
        } else if (!a->pos) {
            a->pos = s;
            continue;
        } else {
            fprintf(stderr, "aitag gateway: unexpected argument '%s'\n", s);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "aitag gateway: %s needs a value\n", s);
            return -1;
        }
        *dst = argv[++i];
    }
    return 0;
}

static int serve(const struct gw_args *a)
{
    struct aitag_gateway_config *cfg = NULL;
    struct aitag_gateway_params gp = aitag_gateway_default_params();
    struct aitag_gateway *gw = NULL;
    struct opts o;
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
    memset(&o, 0, sizeof o);
    aitag_log_set_sink(NULL, NULL, getenv("AITAG_LOG_LEVEL") ? AITAG_LOG_INFO : AITAG_LOG_WARN);
    gp.cfg = cfg;
    gp.manifest_dir = a->models_dir ? a->models_dir : cli_models_dir(&o, models, sizeof models);
    gp.weights_dir = a->weights_dir ? a->weights_dir : cli_weights_dir(&o, weights, sizeof weights);
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
    static const char *const key_cols[] = {"id",    "prefix",  "name",    "routes",
                                           "rpm",   "tpm",     "budget",  "budget_period",
                                           "spent", "created", "revoked", NULL};
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
    const char *sub = argc > 0 ? argv[0] : NULL;
    struct gw_args a;
    char err[1024] = "";
    json_t *rows = NULL;
    int rc;

    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        gateway_usage(sub ? stdout : stderr);
        return sub ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(sub, "keys") == 0) {
        const char *verb = argc > 1 ? argv[1] : NULL;
        if (!verb || parse_args(argc - 2, argv + 2, &a) < 0) {
            gateway_usage(stderr);
            return EXIT_USAGE;
        }
        if (a.help) {
            gateway_usage(stdout);
            return EXIT_OK;
        }
        if (!a.db) {
            fprintf(stderr, "aitag gateway keys: --db FILE is required\n");
            return EXIT_USAGE;
        }
        if (strcmp(verb, "create") == 0) {
            char key[64];
            long long id;
            struct aitag_gateway_key_params kp = {a.name,     a.routes, (int)a.rpm,
                                                  (int)a.tpm, a.budget, a.period};
            if (a.period && strcmp(a.period, "day") != 0 && strcmp(a.period, "month") != 0) {
                fprintf(stderr, "aitag gateway: --budget-period is day or month\n");
                return EXIT_USAGE;
            }
            if (aitag_gateway_key_create(a.db, &kp, key, &id, err, sizeof err) < 0)
                goto setup_err;
            if (a.json) {
                json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "key", key);
                print_json_line(o);
                json_decref(o);
            } else {
                printf(
                    "id %lld\nkey %s\n(the key is shown only now; the gateway stores its sha256)\n",
                    id, key);
            }
            return EXIT_OK;
        }
        if (strcmp(verb, "list") == 0) {
            if (aitag_gateway_keys_list(a.db, &rows, err, sizeof err) < 0)
                goto setup_err;
            print_rows(rows, key_cols, a.json);
            json_decref(rows);
            return EXIT_OK;
        }
        if (strcmp(verb, "revoke") == 0) {
            char *end;
            long long id = a.pos ? strtoll(a.pos, &end, 10) : -1;
            if (!a.pos || *end || id < 0) {
                fprintf(stderr, "aitag gateway keys revoke: give the key id\n");
                return EXIT_USAGE;
            }
            rc = aitag_gateway_key_revoke(a.db, id, err, sizeof err);
            if (rc < 0) {
                fprintf(stderr, "aitag: %s\n", err);
                return rc == AITAG_ERR_NOTFOUND ? EXIT_ITEMS_FAILED : EXIT_SETUP;
            }
            return EXIT_OK;
        }
        fprintf(stderr, "aitag gateway keys: unknown action '%s'\n", verb);
        return EXIT_USAGE;
    }
    if (parse_args(argc - 1, argv + 1, &a) < 0) {
        gateway_usage(stderr);
        return EXIT_USAGE;
    }
    if (a.help) {
        gateway_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(sub, "serve") == 0)
        return serve(&a);
    if (strcmp(sub, "usage") == 0) {
        if (!a.db) {
            fprintf(stderr, "aitag gateway usage: --db FILE is required\n");
            return EXIT_USAGE;
        }
        if (aitag_gateway_usage_list(a.db, &rows, err, sizeof err) < 0)
            goto setup_err;
        print_rows(rows, usage_cols, a.json);
        json_decref(rows);
        return EXIT_OK;
    }
    fprintf(stderr, "aitag gateway: unknown command '%s'\n", sub);
    gateway_usage(stderr);
    return EXIT_USAGE;
setup_err:
    fprintf(stderr, "aitag: %s\n", err);
    return EXIT_SETUP;
}
