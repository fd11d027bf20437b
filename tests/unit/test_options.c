/* test_options.c - the option library: the tables are consistent, values are checked alike
 * from config text, environment and argv, precedence holds, --no-X works everywhere, and
 * unknown names get the nearest valid one. */
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "aitag/options.h"
#include "check.h"

/* Every row: a known type, a default that passes its own check, a scope some command has, and
 * a name no other row of the same command uses. */
static void test_tables(void)
{
    size_t n_opts, n_cmds;
    const struct aitag_opt_def *t = aitag_option_table(&n_opts);
    const struct aitag_cmd_def *c = aitag_command_table(&n_cmds);

    CHECK(n_opts > 20 && n_opts <= AITAG_OPTS_MAX);
    for (size_t i = 0; i < n_opts; i++) {
        int used = 0;
        for (size_t k = 0; k < n_cmds; k++) {
            if (!aitag_option_accepts(&t[i], c[k].name))
                continue;
            used = 1;
            for (size_t j = 0; j < i; j++)
                if (strcmp(t[j].name, t[i].name) == 0 && aitag_option_accepts(&t[j], c[k].name)) {
                    fprintf(stderr, "option %s twice for %s\n", t[i].name, c[k].name);
                    CHECK(0);
                }
        }
        if (!used)
            fprintf(stderr, "option %s: no command takes it\n", t[i].name);
        CHECK(used);
        CHECK(t[i].help && *t[i].help);
        if (t[i].type == AITAG_OPT_INT || t[i].type == AITAG_OPT_NUM)
            CHECK(t[i].domain && strstr(t[i].domain, "..") &&
                  strtod(t[i].domain, NULL) <= strtod(strstr(t[i].domain, "..") + 2, NULL));
        if (t[i].type == AITAG_OPT_ENUM)
            CHECK(t[i].domain && strchr(t[i].domain, '|'));
    }
    /* defaults pass their rows' checks: init seeds them, so resolve every command */
    for (size_t k = 0; k < n_cmds; k++) {
        struct aitag_opts o;
        char err[256] = "";
        char *argv[1] = {NULL};
        CHECK(aitag_opts_init(&o, c[k].name) == 0);
        CHECK(aitag_opts_parse_argv(&o, 0, argv, err, sizeof err) == 0);
        for (size_t i = 0; i < n_opts; i++) {
            char text[300], e[256] = "";
            struct aitag_opts p;
            if (!t[i].def || !aitag_option_accepts(&t[i], c[k].name) ||
                (t[i].flags & AITAG_OPT_FLAG_ONLY))
                continue;
            aitag_fmt(text, sizeof text, "%s = %s\n", t[i].name, t[i].def);
            aitag_opts_init(&p, c[k].name);
            if (aitag_opts_load_config(&p, text, "defaults", e, sizeof e) != 0)
                fprintf(stderr, "%s: default rejected: %s\n", t[i].name, e);
            CHECK(e[0] == '\0');
            aitag_opts_free(&p);
        }
        aitag_opts_free(&o);
    }
    CHECK(aitag_command_find("gateway keys create") != NULL);
    CHECK(aitag_command_find("gateway keys crate") == NULL);
}

struct env {
    const char *name, *value;
};

static const char *lookup(const char *name, void *ctx)
{
    for (const struct env *e = ctx; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e->value;
    return NULL;
}

static void test_precedence_and_negation(void)
{
    struct aitag_opts o;
    struct env env[] = {{"AITAG_THREADS", "3"}, {"AITAG_NO_OBJECTS_MIRROR", "yes"}, {NULL, NULL}};
    char err[256] = "", a0[] = "--threads=4", a1[] = "--no-markers", a2[] = "photo.jpg",
         a3[] = "--", a4[] = "--force";
    char *argv[] = {a0, a1, a2, a3, a4};

    CHECK(aitag_opts_init(&o, "tag") == 0);
    CHECK_EQ_INT(aitag_opts_int(&o, "threads"), 2); /* the table's default */
    CHECK(aitag_opts_bool(&o, "markers"));
    CHECK(aitag_opts_load_config(&o, "threads = 5\nno-force = false\n# x\n", "c", err,
                                 sizeof err) == 0);
    CHECK_EQ_INT(aitag_opts_int(&o, "threads"), 5);
    CHECK(aitag_opts_bool(&o, "force")); /* no-force = false */
    CHECK(aitag_opts_load_env(&o, lookup, env, err, sizeof err) == 0);
    CHECK_EQ_INT(aitag_opts_int(&o, "threads"), 3);
    CHECK(!aitag_opts_bool(&o, "objects-mirror"));
    CHECK(aitag_opts_parse_argv(&o, 5, argv, err, sizeof err) == 0);
    CHECK_EQ_INT(aitag_opts_int(&o, "threads"), 4);
    CHECK(!aitag_opts_bool(&o, "markers"));
    CHECK_EQ_INT(o.n_args, 2); /* photo.jpg and, after --, "--force" as a path */
    CHECK(strcmp(o.args[1], "--force") == 0);
    CHECK(aitag_opts_str(&o, "any") == NULL); /* a search option */
    aitag_opts_free(&o);
}

static void test_errors(void)
{
    struct aitag_opts o;
    char err[256] = "";
    char a0[] = "--tresholds", a1[] = "0.5", b0[] = "--progress", b1[] = "sometimes";
    char *bad_name[] = {a0, a1}, *bad_enum[] = {b0, b1};
    struct env env[] = {{"AITAG_INTERVAL", "0"}, {NULL, NULL}};

    aitag_opts_init(&o, "tag");
    CHECK(aitag_opts_parse_argv(&o, 2, bad_name, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strcmp(err, "unknown option --tresholds (did you mean --threshold?)") == 0);
    aitag_opts_free(&o);

    aitag_opts_init(&o, "tag");
    CHECK(aitag_opts_parse_argv(&o, 2, bad_enum, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strcmp(err, "--progress must be one of auto, always, never, json, not 'sometimes'") == 0);
    aitag_opts_free(&o);

    aitag_opts_init(&o, "tag");
    CHECK(aitag_opts_load_env(&o, lookup, env, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strcmp(err, "AITAG_INTERVAL: interval must be a number from 0.01 to 3600, not '0'") == 0);
    aitag_opts_free(&o);

    aitag_opts_init(&o, "tag");
    CHECK(aitag_opts_load_config(&o, "\nno-marker = 1\n", "/c", err, sizeof err) ==
          AITAG_ERR_INVALID);
    CHECK(strcmp(err, "/c:2: unknown key 'no-marker' (did you mean no-markers?)") == 0);
    CHECK(aitag_opts_load_config(&o, "markers\n", "/c", err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strcmp(err, "/c:1: expected 'key = value'") == 0);
    /* a key another command takes is not this command's error: one file serves them all */
    CHECK(aitag_opts_load_config(&o, "any = true\n", "/c", err, sizeof err) == 0);
    /* flag-only rows have no config key */
    CHECK(aitag_opts_load_config(&o, "tag = x\n", "/c", err, sizeof err) == AITAG_ERR_INVALID);
    aitag_opts_free(&o);
}

/* One name, two meanings: --catalog of tag is the database, of models install a model
 * catalog (flag only); repeated --tag of search keeps every value. */
static void test_scopes_and_lists(void)
{
    struct aitag_opts o;
    char err[256] = "", a0[] = "--catalog", a1[] = "m.json", a2[] = "--list";
    char t0[] = "--tag", t1[] = "face", t2[] = "--tag=text";
    char *argv[] = {a0, a1, a2}, *targv[] = {t0, t1, t2}, *const * tags;
    size_t n;

    aitag_opts_init(&o, "models install");
    CHECK(aitag_opts_load_config(&o, "catalog = /db\n", "c", err, sizeof err) == 0);
    CHECK(aitag_opts_str(&o, "catalog") == NULL); /* the tag row; not this command's */
    CHECK(aitag_opts_parse_argv(&o, 3, argv, err, sizeof err) == 0);
    CHECK(strcmp(aitag_opts_str(&o, "catalog"), "m.json") == 0);
    CHECK(aitag_opts_bool(&o, "list"));
    CHECK_EQ_INT(aitag_opts_int(&o, "threads"), 0);
    aitag_opts_free(&o);

    aitag_opts_init(&o, "search");
    CHECK(aitag_opts_parse_argv(&o, 3, targv, err, sizeof err) == 0);
    tags = aitag_opts_list(&o, "tag", &n);
    CHECK_EQ_INT(n, 2);
    CHECK(n == 2 && strcmp(tags[0], "face") == 0 && strcmp(tags[1], "text") == 0);
    aitag_opts_free(&o);

    CHECK(aitag_option_accepts(&aitag_option_table(&n)[0], "tag"));
}

static void test_nearest(void)
{
    const char *const names[] = {"threshold", "threads", "analyzers", "markers"};

    CHECK(strcmp(aitag_nearest("treshold", names, 4), "threshold") == 0);
    CHECK(strcmp(aitag_nearest("ANALYZER", names, 4), "analyzers") == 0);
    CHECK(strcmp(aitag_nearest("thread", names, 4), "threads") == 0);
    CHECK(aitag_nearest("colour", names, 4) == NULL);
    CHECK(aitag_nearest("x", names, 0) == NULL);
}

int main(void)
{
    test_tables();
    test_precedence_and_negation();
    test_errors();
    test_scopes_and_lists();
    test_nearest();
    return check_done();
}
