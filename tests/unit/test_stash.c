/*
 * test_stash.c - the Stash client against the Stash double, a real GraphQL server on loopback.
 *
 * Each group starts its own double (tests/stash-double/server.js, Node + the reference graphql
 * package, validating every document against Stash's schema), seeds it through its control
 * API, drives the client, and reads the double's state back to check what landed. Faults (5xx,
 * slow answers, dropped connections) and session expiry are injected by the double. Skipped
 * (exit 0, with a message) only when node or the double's node_modules are missing.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aitag/stash.h"
#include "check.h"
#include "stash/stash_int.h"

#define DOUBLE_DIR AITAG_SOURCE_DIR "/tests/stash-double"

struct dbl {
    pid_t pid;
    char url[128];
    char dir[64];
    char state[128];
};

/* ---- the double ---------------------------------------------------------------------------- */

static int have_node(void)
{
    return system("node --version >/dev/null 2>&1") == 0;
}

/* Starts node server.js --state <tmp> --port 0 [args...]; waits for "listening on URL" on its
 * stdout, which goes to a file (a pipe nobody reads would block or break the double). */
static int double_start(struct dbl *d, const char *const *args)
{
    const char *argv[24];
    char out[160], err[160], line[256];
    int n = 0, i, fd;
    FILE *f;

    memset(d, 0, sizeof *d);
    aitag_fmt(d->dir, sizeof d->dir, "/tmp/test_stash.XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    aitag_fmt(d->state, sizeof d->state, "%s/state.json", d->dir);
    aitag_fmt(out, sizeof out, "%s/stdout", d->dir);
    aitag_fmt(err, sizeof err, "%s/stderr", d->dir);
    argv[n++] = "node";
    argv[n++] = DOUBLE_DIR "/server.js";
    argv[n++] = "--state";
    argv[n++] = d->state;
    argv[n++] = "--port";
    argv[n++] = "0";
    for (i = 0; args && args[i] && n < 22; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    d->pid = fork();
    if (d->pid < 0)
        return -1;
    if (d->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, 1);
        fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        execvp("node", (char *const *)argv);
        _exit(127);
    }
    for (i = 0; i < 200; i++) { /* up to 10 s */
        f = fopen(out, "r");
        if (f && fgets(line, sizeof line, f) && strchr(line, '\n')) {
            fclose(f);
            line[strcspn(line, "\r\n")] = '\0';
            if (strncmp(line, "listening on ", 13) != 0)
                break;
            aitag_fmt(d->url, sizeof d->url, "%s", line + 13);
            return 0;
        }
        if (f)
            fclose(f);
        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
            d->pid = 0;
            break;
        }
        usleep(50000);
    }
    fprintf(stderr, "stash double did not start; its stderr:\n");
    f = fopen(err, "r");
    while (f && fgets(line, sizeof line, f))
        fputs(line, stderr);
    if (f)
        fclose(f);
    return -1;
}

static void double_stop(struct dbl *d)
{
    char path[160];

    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
    }
    d->pid = 0;
    if (d->dir[0]) {
        aitag_fmt(path, sizeof path, "rm -rf '%s'", d->dir);
        if (system(path) != 0)
            fprintf(stderr, "could not remove %s\n", d->dir);
    }
}

static size_t collect(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct stash_buf *b = ctx;
    size_t n = size * nmemb;
    char *d = realloc(b->data, b->len + n + 1);

    if (!d)
        return 0;
    b->data = d;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* A control-API call; returns the parsed answer (NULL on failure). */
static json_t *control(struct dbl *d, const char *path, const char *body)
{
    struct stash_buf b = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char url[256];
    CURL *c = curl_easy_init();
    long status = 0;
    json_t *res = NULL;

    aitag_fmt(url, sizeof url, "%s%s", d->url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200)
            res = b.len ? json_loads(b.data, JSON_DECODE_ANY, NULL) : json_object();
        else
            fprintf(stderr, "control %s: HTTP %ld %s\n", path, status, b.data ? b.data : "");
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(b.data);
    return res;
}

static int seed(struct dbl *d, json_t *state)
{
    char *text = json_dumps(state, JSON_COMPACT);
    json_t *r = text ? control(d, "/__test/seed", text) : NULL;
    int ok = r != NULL;

    json_decref(r);
    free(text);
    json_decref(state);
    return ok ? 0 : -1;
}

static int fault(struct dbl *d, const char *spec)
{
    json_t *r = control(d, "/__test/fault", spec);
    int ok = r != NULL;

    json_decref(r);
    return ok ? 0 : -1;
}

static json_t *state_of(struct dbl *d)
{
    return control(d, "/__test/state", NULL);
}

/* The session cookie the double hands out, without any "session=" prefix. */
static char *session_cookie(struct dbl *d)
{
    json_t *r = control(d, "/__test/session", "{}");
    const char *c = json_string_value(json_object_get(r, "cookie"));
    char *res;

    if (c && strncmp(c, "session=", 8) == 0)
        c += 8;
    res = c ? stash_strdup(c) : NULL;
    if (res)
        res[strcspn(res, ";")] = '\0';
    json_decref(r);
    return res;
}

/* A client logged in as a plugin is: with a session cookie (a fresh one when NULL). */
static struct aitag_stash *client(struct dbl *d, const char *cookie)
{
    struct aitag_stash_params p = aitag_stash_default_params();
    struct aitag_stash *s = NULL;
    char *fresh = cookie ? NULL : session_cookie(d);

    p.url = d->url;
    p.session_cookie = cookie ? cookie : fresh;
    p.timeout_ms = 5000;
    p.backoff_ms = 20;
    if (aitag_stash_new(&p, &s) < 0)
        s = NULL;
    free(fresh);
    return s;
}

/* The state's tag object named name, or NULL. */
static json_t *state_tag(json_t *st, const char *name)
{
    json_t *t;
    size_t i;

    json_array_foreach(json_object_get(st, "tags"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    }
    return NULL;
}

static json_t *state_item(json_t *st, const char *kind, const char *id)
{
    json_t *x;
    size_t i;

    json_array_foreach(json_object_get(st, kind), i, x)
    {
        if (strcmp(json_string_value(json_object_get(x, "id")), id) == 0)
            return x;
    }
    return NULL;
}

static int has_string(json_t *arr, const char *v)
{
    json_t *x;
    size_t i;

    json_array_foreach(arr, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0)
            return 1;
    }
    return 0;
}

static int count_performer(void *ctx, const struct aitag_stash_performer *p)
{
    int *n = ctx;

    *n += p->has_image;
    return 0;
}

/* ---- without a server ---------------------------------------------------------------------- */

static void test_offline(void)
{
    static const char *const urls[][2] = {
        {"http://0.0.0.0:9999", "http://127.0.0.1:9999"},
        {"http://0.0.0.0:9999/", "http://127.0.0.1:9999"},
        {"http://[::]:9999", "http://127.0.0.1:9999"},
        {"http://:9999", "http://127.0.0.1:9999"},
        {"https://stash.lan:9999/stash/", "https://stash.lan:9999/stash"},
        {"127.0.0.1:9999", "http://127.0.0.1:9999"},
        {"http://[::1]:9999", "http://[::1]:9999"},
    };
    struct aitag_stash_params p = aitag_stash_default_params();
    struct aitag_stash *s = NULL;
    const struct stash_doc_entry *e;
    int i, maj, min, pat, n = 0, rc;
    char ver[32];

    for (i = 0; i < (int)(sizeof urls / sizeof urls[0]); i++) {
        p.url = urls[i][0];
        CHECK_EQ_INT(aitag_stash_new(&p, &s), 0);
        CHECK_STR(aitag_stash_url(s), urls[i][1]);
        aitag_stash_free(s);
        s = NULL;
    }
    p.url = NULL;
    CHECK_EQ_INT(aitag_stash_new(&p, &s), AITAG_ERR_INVALID);
    CHECK(s == NULL);
    aitag_stash_free(NULL);

    CHECK_EQ_INT(stash_version_parse("v0.30.1", &maj, &min, &pat), 0);
    CHECK(maj == 0 && min == 30 && pat == 1);
    CHECK_EQ_INT(stash_version_parse("v0.27.2", &maj, &min, &pat), 0);
    CHECK(maj == 0 && min == 27 && pat == 2);
    CHECK_EQ_INT(stash_version_parse("0.28", &maj, &min, &pat), 0);
    CHECK(maj == 0 && min == 28 && pat == 0);
    CHECK_EQ_INT(stash_version_parse("v0.29.0-45-gcf3489ef", &maj, &min, &pat), 0);
    CHECK(min == 29 && pat == 0);
    CHECK_EQ_INT(stash_version_parse("v1.2.3", &maj, &min, &pat), 0);
    CHECK(maj == 1 && min == 2 && pat == 3);
    CHECK(stash_version_parse(NULL, &maj, &min, &pat) < 0);
    CHECK(stash_version_parse("", &maj, &min, &pat) < 0);
    CHECK(stash_version_parse("dev", &maj, &min, &pat) < 0);
    CHECK(stash_version_parse("v1", &maj, &min, &pat) < 0);

    for (e = stash_documents; e->name; e++, n++) {
        CHECK(*e->text != NULL);
        CHECK(strstr(*e->text, "query Aitag") == *e->text ||
              strstr(*e->text, "mutation Aitag") == *e->text);
    }
    CHECK_EQ_INT(n, 27); /* 26 sent by the client, 1 by the UI */

    /* Nobody listens on port 1: a clear error naming the operation and the URL. */
    p.url = "http://0.0.0.0:1";
    p.retries = 1;
    p.backoff_ms = 5;
    CHECK_EQ_INT(aitag_stash_new(&p, &s), 0);
    rc = aitag_stash_version(s, ver, sizeof ver);
    CHECK_EQ_INT(rc, AITAG_ERR_NET);
    CHECK(strncmp(aitag_stash_errmsg(s), "version: ", 9) == 0);
    CHECK(strstr(aitag_stash_errmsg(s), "http://127.0.0.1:1/graphql") != NULL);
    CHECK(strstr(aitag_stash_errmsg(s), "2 attempts") != NULL);
    aitag_stash_free(s);
}

/* Every document validates against the double's copy of Stash's schema (graphql-js). */
static void test_documents_validate(void)
{
    static const char script[] =
        "const g = require(process.argv[1] + '/node_modules/graphql');"
        "const fs = require('fs');"
        "const schema = g.buildSchema(fs.readFileSync(process.argv[1] + '/schema.graphql', "
        "'utf8'));"
        "const docs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));"
        "let bad = 0;"
        "for (const [n, t] of Object.entries(docs)) {"
        "  let errs; try { errs = g.validate(schema, g.parse(t)); } catch (e) { errs = [e]; }"
        "  if (errs.length) { bad++; console.error(n + ': ' + errs.map(e => e.message).join('; "
        "')); }"
        "}"
        "process.exit(bad ? 1 : 0);";
    const struct stash_doc_entry *e;
    char path[] = "/tmp/test_stash_docs.XXXXXX", cmd[512];
    json_t *docs = json_object();
    int fd, rc;

    for (e = stash_documents; e->name; e++)
        json_object_set_new(docs, e->name, json_string(*e->text));
    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        goto out;
    close(fd);
    CHECK_EQ_INT(json_dump_file(docs, path, 0), 0);
    aitag_fmt(cmd, sizeof cmd, "node -e \"$AITAG_VALIDATE\" '%s' '%s'", DOUBLE_DIR, path);
    setenv("AITAG_VALIDATE", script, 1);
    rc = system(cmd);
    CHECK_EQ_INT(rc, 0);
    unlink(path);
out:
    json_decref(docs);
}

/* ---- against the double -------------------------------------------------------------------- */

static void test_version_settings(struct dbl *d)
{
    struct aitag_stash *s = client(d, NULL);
    char ver[32], *json = NULL;
    json_t *o;

    CHECK(seed(d, json_pack("{s:{s:{s:f, s:b}}}", "plugins", "aitag", "threshold", 0.6, "markers",
                            1)) == 0);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_EQ_INT(aitag_stash_version(s, ver, sizeof ver), 0);
    CHECK_STR(ver, "v0.30.1");
    CHECK_EQ_INT(aitag_stash_has_marker_end(s), 1);

    CHECK_EQ_INT(aitag_stash_plugin_settings(s, "aitag", &json), 0);
    o = json ? json_loads(json, 0, NULL) : NULL;
    CHECK_NEAR(json_number_value(json_object_get(o, "threshold")), 0.6, 1e-9);
    CHECK(json_is_true(json_object_get(o, "markers")));
    json_decref(o);
    free(json);
    json = NULL;
    CHECK_EQ_INT(aitag_stash_plugin_settings(s, "other", &json), 0);
    CHECK_STR(json, "{}");
    free(json);
    aitag_stash_free(s);
}

static void test_tags(struct dbl *d)
{
    struct aitag_stash *s = client(d, NULL);
    char *ai = NULL, *id = NULL, *id2 = NULL, name[16];
    json_t *seed_obj, *tags, *st, *t;
    const char *abc_id = NULL;
    struct aitag_stash_tag *kids = NULL;
    size_t i, n_person = 0, n_kids = 0;
    int rc;

    tags = json_pack("[s, s, {s:s, s:[s]}, s]", "abc", "Face", "name", "New Name", "aliases",
                     "Old Name", "50%");
    for (i = 1; i <= 150; i++) {
        aitag_fmt(name, sizeof name, "tag%03zu", i);
        json_array_append_new(tags, json_string(name));
    }
    json_array_append_new(tags, json_string("tag%")); /* only on the second page of "tag%" */
    seed_obj = json_pack("{s:o}", "tags", tags);
    CHECK(seed(d, seed_obj) == 0);
    CHECK(s != NULL);
    if (!s)
        return;
    st = state_of(d);
    abc_id = json_string_value(json_object_get(state_tag(st, "abc"), "id"));

    /* Created once, found after; ignore_auto_tag set. */
    CHECK_EQ_INT(aitag_stash_find_tag(s, "AI", &id), AITAG_ERR_NOTFOUND);
    CHECK(strstr(aitag_stash_errmsg(s), "AI") != NULL);
    CHECK_EQ_INT(aitag_stash_ensure_tag(s, "AI", NULL, &ai), 0);
    CHECK_EQ_INT(aitag_stash_ensure_tag(s, "AI", NULL, &id), 0);
    CHECK_STR(id, ai);
    free(id);
    id = NULL;

    /* Under a parent. */
    CHECK_EQ_INT(aitag_stash_ensure_tag(s, "person", ai, &id), 0);
    CHECK_EQ_INT(aitag_stash_ensure_tag(s, "person", ai, &id2), 0);
    CHECK_STR(id, id2);
    free(id2);
    CHECK_EQ_INT(aitag_stash_find_tag(s, "person", &id2), 0);
    CHECK_STR(id, id2);
    free(id);
    free(id2);
    id = id2 = NULL;

    /* Exact: "a_c" is not "abc" although EQUALS (LIKE) says so; Stash refuses to create it. */
    CHECK_EQ_INT(aitag_stash_find_tag(s, "a_c", &id), AITAG_ERR_NOTFOUND);
    rc = aitag_stash_ensure_tag(s, "a_c", ai, &id);
    CHECK(rc < 0 || (id && abc_id && strcmp(id, abc_id) != 0));
    if (rc < 0) {
        CHECK(strncmp(aitag_stash_errmsg(s), "tagCreate: ", 11) == 0);
        CHECK(strstr(aitag_stash_errmsg(s), "already exists") != NULL);
    }
    free(id);
    id = NULL;

    /* Case-sensitive look-up; Stash refuses "face" next to "Face", so that one is used. */
    CHECK_EQ_INT(aitag_stash_find_tag(s, "face", &id), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(aitag_stash_ensure_tag(s, "face", ai, &id), 0);
    CHECK_STR(id, json_string_value(json_object_get(state_tag(st, "Face"), "id")));
    free(id);
    id = NULL;

    /* Aliases: found by alias; an alias collision on create ends on the aliased tag. */
    CHECK_EQ_INT(aitag_stash_find_tag(s, "Old Name", &id), 0);
    CHECK_STR(id, json_string_value(json_object_get(state_tag(st, "New Name"), "id")));
    CHECK_EQ_INT(aitag_stash_ensure_tag(s, "old name", ai, &id2), 0);
    CHECK_STR(id2, id);
    free(id);
    free(id2);
    id = id2 = NULL;

    /* Wildcards in names; candidates over more than one page. */
    CHECK_EQ_INT(aitag_stash_find_tag(s, "50%", &id), 0);
    CHECK_STR(id, json_string_value(json_object_get(state_tag(st, "50%"), "id")));
    free(id);
    id = NULL;
    CHECK_EQ_INT(aitag_stash_find_tag(s, "tag%", &id), 0);
    CHECK_STR(id, json_string_value(json_object_get(state_tag(st, "tag%"), "id")));
    free(id);
    id = NULL;
    CHECK_EQ_INT(aitag_stash_find_tag(s, "tag1_0", &id), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(aitag_stash_find_tag(s, "", &id), AITAG_ERR_INVALID);
    json_decref(st);

    /* Children of the parent: the tags made under it, and only those. */
    CHECK_EQ_INT(aitag_stash_tag_children(s, ai, &kids, &n_kids), 0);
    CHECK_EQ_INT(n_kids, 1);
    if (n_kids == 1)
        CHECK_STR(kids[0].name, "person");
    aitag_stash_tags_free(kids, n_kids);
    CHECK_EQ_INT(aitag_stash_tag_children(s, "424242", &kids, &n_kids), AITAG_ERR_NOTFOUND);
    CHECK(kids == NULL && n_kids == 0);

    /* What landed: one "person", child of AI, both with ignore_auto_tag; nothing else made. */
    st = state_of(d);
    json_array_foreach(json_object_get(st, "tags"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "name")), "person") == 0)
            n_person++;
    }
    CHECK_EQ_INT(n_person, 1);
    t = state_tag(st, "person");
    CHECK(json_is_true(json_object_get(t, "ignore_auto_tag")));
    CHECK(has_string(json_object_get(t, "parents"), "AI"));
    CHECK(json_is_true(json_object_get(state_tag(st, "AI"), "ignore_auto_tag")));
    CHECK(state_tag(st, "face") == NULL);
    CHECK(state_tag(st, "old name") == NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(st, "tags")), 4 + 151 + 2);
    json_decref(st);
    free(ai);
    aitag_stash_free(s);
}

#define N_SCENES 250

struct visit {
    struct aitag_stash *s;
    int count[N_SCENES + 2];
    int total, bad, stop_after;
    const char *add_tag, *remove_tag; /* changed on each item while paging */
    enum aitag_stash_kind kind;
};

static int on_item(void *ctx, const struct aitag_stash_item *it)
{
    struct visit *v = ctx;
    const char *ids[1] = {it->id};
    long id = strtol(it->id, NULL, 10);

    if (id < 1 || id > N_SCENES || !it->path)
        v->bad++;
    else
        v->count[id]++;
    v->total++;
    if (v->remove_tag &&
        aitag_stash_update_tags(v->s, v->kind, ids, 1, &v->remove_tag, 1, "REMOVE") < 0)
        v->bad++;
    if (v->add_tag && aitag_stash_update_tags(v->s, v->kind, ids, 1, &v->add_tag, 1, "ADD") < 0)
        v->bad++;
    return v->stop_after && v->total >= v->stop_after;
}

static int visited_once(const struct visit *v, int (*expected)(int id))
{
    int i, ok = 1;

    for (i = 1; i <= N_SCENES; i++) {
        if (v->count[i] != (expected(i) ? 1 : 0)) {
            fprintf(stderr, "scene %d visited %d times\n", i, v->count[i]);
            ok = 0;
        }
    }
    return ok;
}

static int every(int id)
{
    (void)id;
    return 1;
}

static int not_errored(int id)
{
    return id % 3 != 0;
}

static void test_items(struct dbl *d)
{
    struct aitag_stash *s = client(d, NULL);
    char *tagme = NULL, *tagged = NULL, *errored = NULL, *user = NULL, path[64];
    const char *all[N_SCENES], *two[2];
    char ids[N_SCENES][8];
    struct aitag_stash_item it;
    json_t *scenes = json_array(), *st, *sc;
    struct visit *v = calloc(1, sizeof *v);
    size_t i;

    for (i = 1; i <= N_SCENES; i++) {
        aitag_fmt(path, sizeof path, "/media/scene%03zu.mp4", i);
        sc = json_pack("[s]", "AI_TagMe");
        if (i % 2)
            json_array_append_new(sc, json_string("user"));
        if (i % 3 == 0)
            json_array_append_new(sc, json_string("AI_Errored"));
        json_array_append_new(scenes, json_pack("{s:s, s:o}", "path", path, "tags", sc));
        aitag_fmt(ids[i - 1], sizeof ids[i - 1], "%zu", i);
        all[i - 1] = ids[i - 1];
    }
    CHECK(seed(d, json_pack("{s:[s, s, s, s], s:o, s:[{s:s, s:[s]}, {s:s}]}", "tags", "AI_TagMe",
                            "AI_Tagged", "AI_Errored", "user", "scenes", scenes, "images", "path",
                            "/media/a.jpg", "tags", "user", "path", "/media/b.png")) == 0);
    CHECK(s && v);
    if (!s || !v)
        goto out;
    CHECK_EQ_INT(aitag_stash_find_tag(s, "AI_TagMe", &tagme), 0);
    CHECK_EQ_INT(aitag_stash_find_tag(s, "AI_Tagged", &tagged), 0);
    CHECK_EQ_INT(aitag_stash_find_tag(s, "AI_Errored", &errored), 0);
    CHECK_EQ_INT(aitag_stash_find_tag(s, "user", &user), 0);
    if (!tagme || !tagged || !errored || !user)
        goto out;

    /* One item. */
    CHECK_EQ_INT(aitag_stash_get_item(s, AITAG_STASH_SCENE, "7", &it), 0);
    CHECK_STR(it.id, "7");
    CHECK_STR(it.path, "/media/scene007.mp4");
    CHECK_EQ_INT(it.n_tags, 2);
    CHECK_EQ_INT(it.n_markers, 0);
    aitag_stash_item_clear(&it);
    CHECK_EQ_INT(aitag_stash_get_item(s, AITAG_STASH_SCENE, "99999", &it), AITAG_ERR_NOTFOUND);
    CHECK(strncmp(aitag_stash_errmsg(s), "findScene: ", 11) == 0);

    /* Removing the selecting tag while paging skips nothing and repeats nothing. */
    v->s = s;
    v->kind = AITAG_STASH_SCENE;
    v->remove_tag = tagme;
    CHECK_EQ_INT(aitag_stash_each_item(s, AITAG_STASH_SCENE, tagme, NULL, on_item, v), 0);
    CHECK_EQ_INT(v->total, N_SCENES);
    CHECK_EQ_INT(v->bad, 0);
    CHECK(visited_once(v, every));

    /* Adding the excluding tag while paging, likewise. */
    memset(v, 0, sizeof *v);
    v->s = s;
    v->add_tag = tagged;
    CHECK_EQ_INT(aitag_stash_each_item(s, AITAG_STASH_SCENE, NULL, tagged, on_item, v), 0);
    CHECK_EQ_INT(v->total, N_SCENES);
    CHECK(visited_once(v, every));

    /* Both criteria at once; the user's tags survive every ADD and REMOVE. */
    CHECK_EQ_INT(aitag_stash_update_tags(s, AITAG_STASH_SCENE, all, N_SCENES,
                                         (const char *const *)&tagme, 1, "ADD"),
                 0);
    memset(v, 0, sizeof *v);
    v->s = s;
    v->remove_tag = tagme;
    CHECK_EQ_INT(aitag_stash_each_item(s, AITAG_STASH_SCENE, tagme, errored, on_item, v), 0);
    CHECK_EQ_INT(v->total, N_SCENES - N_SCENES / 3);
    CHECK(visited_once(v, not_errored));

    /* A callback can stop the walk. */
    memset(v, 0, sizeof *v);
    v->stop_after = 5;
    CHECK_EQ_INT(aitag_stash_each_item(s, AITAG_STASH_SCENE, NULL, NULL, on_item, v), 0);
    CHECK_EQ_INT(v->total, 5);
    CHECK_EQ_INT(v->count[5], 1);

    two[0] = tagged;
    two[1] = errored;
    CHECK_EQ_INT(aitag_stash_update_tags(s, AITAG_STASH_SCENE, all, 2, two, 2, "REMOVE"), 0);
    CHECK(aitag_stash_update_tags(s, AITAG_STASH_SCENE, all, 2, two, 2, "SET") ==
          AITAG_ERR_INVALID);
    st = state_of(d);
    sc = state_item(st, "scenes", "1");
    CHECK(has_string(json_object_get(sc, "tags"), "user"));
    CHECK(!has_string(json_object_get(sc, "tags"), "AI_Tagged"));
    CHECK(!has_string(json_object_get(sc, "tags"), "AI_TagMe"));
    sc = state_item(st, "scenes", "3");
    CHECK(has_string(json_object_get(sc, "tags"), "AI_TagMe")); /* errored: left selected */
    CHECK(has_string(json_object_get(sc, "tags"), "AI_Tagged"));
    CHECK(has_string(json_object_get(sc, "tags"), "user"));
    json_decref(st);

    /* Images: paths from visual_files, tags by bulkImageUpdate. */
    memset(v, 0, sizeof *v);
    CHECK_EQ_INT(aitag_stash_each_item(s, AITAG_STASH_IMAGE, NULL, NULL, on_item, v), 0);
    CHECK_EQ_INT(v->total, 2);
    CHECK_EQ_INT(aitag_stash_get_item(s, AITAG_STASH_IMAGE, "2", &it), 0);
    CHECK_STR(it.path, "/media/b.png");
    CHECK_EQ_INT(it.n_tags, 0);
    aitag_stash_item_clear(&it);
    two[0] = "1";
    two[1] = "2";
    CHECK_EQ_INT(aitag_stash_update_tags(s, AITAG_STASH_IMAGE, two, 2, (const char *const *)&tagged,
                                         1, "ADD"),
                 0);
    CHECK_EQ_INT(aitag_stash_get_item(s, AITAG_STASH_IMAGE, "1", &it), 0);
    CHECK_STR(it.path, "/media/a.jpg");
    CHECK_EQ_INT(it.n_tags, 2);
    CHECK(it.n_tags == 2 &&
          (strcmp(it.tag_names[0], "user") == 0 || strcmp(it.tag_names[1], "user") == 0));
    aitag_stash_item_clear(&it);
out:
    free(v);
    free(tagme);
    free(tagged);
    free(errored);
    free(user);
    aitag_stash_free(s);
}

/* The markers of scene id in the double's state. */
static json_t *state_markers(struct dbl *d, const char *id, json_t **st)
{
    *st = state_of(d);
    return json_object_get(state_item(*st, "scenes", id), "markers");
}

static void test_markers(struct dbl *d, int has_end)
{
    struct aitag_stash *s = client(d, NULL);
    char *face = NULL, *mid = NULL, *mid2 = NULL;
    struct aitag_stash_item it;
    json_t *st = NULL, *ms, *m;
    size_t i, n_titled = 0;

    CHECK(seed(d, json_pack("{s:[{s:s, s:[{s:s, s:f, s:s}]}]}", "scenes", "path", "/m/1.mp4",
                            "markers", "title", "user marker", "seconds", 3.0, "primary_tag",
                            "kiss")) == 0);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_EQ_INT(aitag_stash_has_marker_end(s), has_end);
    CHECK_EQ_INT(aitag_stash_query(s, stash_doc_marker_fields, NULL, &mid), 0);
    CHECK(mid && (strstr(mid, "\"end_seconds\"") != NULL) == has_end);
    free(mid);
    mid = NULL;
    CHECK_EQ_INT(aitag_stash_ensure_tag(s, "face", NULL, &face), 0);
    if (!face)
        goto out;

    CHECK_EQ_INT(aitag_stash_create_marker(s, "1", "face", 10.5, 22.0, face, &mid), 0);
    CHECK(mid != NULL);
    CHECK_EQ_INT(aitag_stash_create_marker(s, "1", "face", 40.0, -1, face, NULL), 0);
    CHECK_EQ_INT(aitag_stash_create_marker(s, "1", "face", 50.0, 45.0, face, NULL),
                 AITAG_ERR_INVALID);
    ms = state_markers(d, "1", &st);
    CHECK_EQ_INT(json_array_size(ms), 3);
    json_array_foreach(ms, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "id"));
        if (mid && id && strcmp(id, mid) == 0) {
            CHECK_STR(json_string_value(json_object_get(m, "title")), "face");
            CHECK_NEAR(json_number_value(json_object_get(m, "seconds")), 10.5, 1e-9);
            CHECK_STR(json_string_value(json_object_get(m, "primary_tag")), "face");
            if (has_end)
                CHECK_NEAR(json_number_value(json_object_get(m, "end_seconds")), 22.0, 1e-9);
            else
                CHECK(json_is_null(json_object_get(m, "end_seconds")) ||
                      !json_object_get(m, "end_seconds"));
        }
    }
    json_decref(st);

    /* Read back through the client (the document variant for this version). */
    CHECK_EQ_INT(aitag_stash_get_item(s, AITAG_STASH_SCENE, "1", &it), 0);
    CHECK_EQ_INT(it.n_markers, 3);
    for (i = 0; i < it.n_markers; i++) {
        if (mid && strcmp(it.markers[i].id, mid) == 0) {
            CHECK_NEAR(it.markers[i].seconds, 10.5, 1e-9);
            CHECK_NEAR(it.markers[i].end_seconds, has_end ? 22.0 : -1.0, 1e-9);
            CHECK_STR(it.markers[i].primary_tag_id, face);
            CHECK_STR(it.markers[i].primary_tag_name, "face");
        }
        if (strcmp(it.markers[i].title, "user marker") == 0)
            CHECK_NEAR(it.markers[i].end_seconds, -1.0, 1e-9);
    }
    aitag_stash_item_clear(&it);

    /* Destroy: gone; the user's marker stays; a second destroy is an error. */
    CHECK_EQ_INT(aitag_stash_destroy_marker(s, mid), 0);
    CHECK(aitag_stash_destroy_marker(s, mid) < 0);
    CHECK(strncmp(aitag_stash_errmsg(s), "sceneMarkerDestroy: ", 20) == 0);
    ms = state_markers(d, "1", &st);
    CHECK_EQ_INT(json_array_size(ms), 2);
    json_array_foreach(ms, i, m)
    {
        CHECK(!mid || strcmp(json_string_value(json_object_get(m, "id")), mid) != 0);
    }
    json_decref(st);

    /* The connection drops before the create ran, or after it ran (the answer is lost):
     * exactly one marker either way, and its id. */
    CHECK(fault(d, "{\"drop\":true,\"match\":\"sceneMarkerCreate\"}") == 0);
    CHECK_EQ_INT(aitag_stash_create_marker(s, "1", "dropped", 60.0, 70.0, face, &mid2), 0);
    CHECK(mid2 != NULL);
    free(mid2);
    mid2 = NULL;
    CHECK(fault(d, "{\"drop\":true,\"apply\":true,\"match\":\"sceneMarkerCreate\"}") == 0);
    CHECK_EQ_INT(aitag_stash_create_marker(s, "1", "lost", 80.0, 90.0, face, &mid2), 0);
    CHECK(mid2 != NULL);
    ms = state_markers(d, "1", &st);
    json_array_foreach(ms, i, m)
    {
        const char *t = json_string_value(json_object_get(m, "title"));
        n_titled += strcmp(t, "dropped") == 0 ? 1 : strcmp(t, "lost") == 0 ? 100 : 0;
        if (strcmp(t, "lost") == 0)
            CHECK_STR(json_string_value(json_object_get(m, "id")), mid2);
    }
    CHECK_EQ_INT(n_titled, 101);
    json_decref(st);

    /* A destroy whose answer is lost: done, not an error. */
    CHECK(fault(d, "{\"drop\":true,\"apply\":true,\"match\":\"sceneMarkerDestroy\"}") == 0);
    CHECK_EQ_INT(aitag_stash_destroy_marker(s, mid2), 0);
    ms = state_markers(d, "1", &st);
    CHECK_EQ_INT(json_array_size(ms), 3);
    json_decref(st);
out:
    free(mid);
    free(mid2);
    free(face);
    aitag_stash_free(s);
}

static void test_faults(struct dbl *d)
{
    struct aitag_stash_params p = aitag_stash_default_params();
    struct aitag_stash *s = NULL;
    char *data = NULL, *cookie;
    const char *msg;
    int rc;

    CHECK(seed(d, json_pack("{s:[s]}", "tags", "x")) == 0);
    cookie = session_cookie(d);
    p.session_cookie = cookie;
    p.url = d->url;
    p.backoff_ms = 10;
    p.retries = 2;
    p.timeout_ms = 400;
    CHECK_EQ_INT(aitag_stash_new(&p, &s), 0);
    if (!s) {
        free(cookie);
        return;
    }

    /* 503 twice, then the answer. */
    CHECK(fault(d, "{\"status\":503,\"count\":2}") == 0);
    CHECK_EQ_INT(aitag_stash_query(s, stash_doc_version, NULL, &data), 0);
    CHECK(data && strstr(data, "v0.30.1"));
    free(data);
    data = NULL;

    /* A dropped connection, then the answer. */
    CHECK(fault(d, "{\"drop\":true,\"count\":1}") == 0);
    CHECK_EQ_INT(aitag_stash_query(s, stash_doc_version, NULL, &data), 0);
    free(data);
    data = NULL;

    /* 503 on every attempt: the status and the URL. */
    CHECK(fault(d, "{\"status\":503,\"count\":3}") == 0);
    rc = aitag_stash_query(s, stash_doc_version, NULL, &data);
    CHECK_EQ_INT(rc, AITAG_ERR_NET);
    msg = aitag_stash_errmsg(s);
    CHECK(strncmp(msg, "version: HTTP 503", 17) == 0);
    CHECK(strstr(msg, d->url) != NULL);

    /* Slower than timeout_ms on every attempt: a timeout naming the URL. */
    CHECK(fault(d, "{\"delay_ms\":1500,\"count\":3}") == 0);
    rc = aitag_stash_query(s, stash_doc_version, NULL, &data);
    CHECK_EQ_INT(rc, AITAG_ERR_NET);
    msg = aitag_stash_errmsg(s);
    CHECK(strstr(msg, "timed out") != NULL);
    CHECK(strstr(msg, d->url) != NULL);
    CHECK(strstr(msg, "3 attempts") != NULL);
    usleep(1600 * 1000); /* let the slow answers drain */

    /* GraphQL errors come back with Stash's message and are not retried. */
    rc = aitag_stash_query(s, "query AitagBad { findTag(id: \"1\") { nosuchfield } }", NULL, &data);
    CHECK_EQ_INT(rc, AITAG_ERR_NET);
    CHECK(strstr(aitag_stash_errmsg(s), "nosuchfield") != NULL);
    CHECK_EQ_INT(aitag_stash_query(s, stash_doc_version, "[1]", &data), AITAG_ERR_INVALID);
    aitag_stash_free(s);
    free(cookie);
}

/* Whether the double's log entry `back` places from the end was authenticated as auth and
 * answered status. */
static int log_auth(struct dbl *d, size_t back, const char *auth, int status)
{
    json_t *log = control(d, "/__test/log", NULL), *e;
    size_t n = json_array_size(log);
    int ok = 0;

    if (n > back) {
        e = json_array_get(log, n - 1 - back);
        ok = json_is_string(json_object_get(e, "auth")) &&
             strcmp(json_string_value(json_object_get(e, "auth")), auth) == 0 &&
             json_integer_value(json_object_get(e, "status")) == status;
        if (!ok)
            fprintf(stderr, "log[-%zu]: auth %s status %lld\n", back + 1,
                    json_string_value(json_object_get(e, "auth")),
                    json_integer_value(json_object_get(e, "status")));
    }
    json_decref(log);
    return ok;
}

static void test_auth(void)
{
    static const char *const with_key[] = {"--session-max-age", "1", "--api-key", "sekrit", NULL};
    static const char *const no_key[] = {"--session-max-age", "1", NULL};
    struct aitag_stash_params p = aitag_stash_default_params();
    struct aitag_stash *s = NULL, *anon = NULL;
    char ver[32], *cookie = NULL, *json = NULL;
    struct dbl d;
    int i;

    /* Cookie first; the API key read after the first answer carries the run past the
     * cookie's expiry. */
    CHECK(double_start(&d, with_key) == 0);
    cookie = session_cookie(&d);
    CHECK(cookie != NULL);
    s = client(&d, cookie);
    CHECK(s != NULL);
    if (!s)
        goto out;
    CHECK_EQ_INT(aitag_stash_version(s, ver, sizeof ver), 0);
    CHECK_EQ_INT(s->auth, STASH_AUTH_APIKEY);
    CHECK(log_auth(&d, 1, "cookie", 200)); /* version, then configuration{general{apiKey}} */
    CHECK(log_auth(&d, 0, "cookie", 200));
    sleep(2);
    CHECK_EQ_INT(aitag_stash_plugin_settings(s, "aitag", &json), 0);
    CHECK(log_auth(&d, 0, "apikey", 200));
    free(json);
    json = NULL;

    /* On the cookie with the key known (white box): a 401 switches and resends once. */
    s->auth = STASH_AUTH_COOKIE;
    CHECK_EQ_INT(aitag_stash_plugin_settings(s, "aitag", &json), 0);
    CHECK(log_auth(&d, 1, "cookie-expired", 401));
    CHECK(log_auth(&d, 0, "apikey", 200));
    free(json);
    json = NULL;
    aitag_stash_free(s);

    /* No credential at all, or a wrong key: a clear 401. */
    p.url = d.url;
    p.retries = 0;
    CHECK_EQ_INT(aitag_stash_new(&p, &anon), 0);
    CHECK_EQ_INT(aitag_stash_version(anon, ver, sizeof ver), AITAG_ERR_NET);
    CHECK(strstr(aitag_stash_errmsg(anon), "401") != NULL);
    aitag_stash_free(anon);
    p.api_key = "wrong";
    CHECK_EQ_INT(aitag_stash_new(&p, &anon), 0);
    CHECK_EQ_INT(aitag_stash_version(anon, ver, sizeof ver), AITAG_ERR_NET);
    CHECK(strstr(aitag_stash_errmsg(anon), "401") != NULL);
    CHECK(strstr(aitag_stash_errmsg(anon), "API key") != NULL);
    CHECK(strstr(aitag_stash_errmsg(anon), "wrong") == NULL);
    aitag_stash_free(anon);
    free(cookie);
    double_stop(&d);

    /* Without an API key: the cookie Stash refreshes on every answer is followed, so a busy
     * run outlives maxSessionAge; after a pause longer than that, a clear 401 that says what
     * to do. */
    CHECK(double_start(&d, no_key) == 0);
    cookie = session_cookie(&d);
    s = client(&d, cookie);
    CHECK_EQ_INT(aitag_stash_version(s, ver, sizeof ver), 0);
    for (i = 0; i < 5; i++) {
        usleep(600 * 1000);
        CHECK_EQ_INT(aitag_stash_plugin_settings(s, "aitag", &json), 0);
        free(json);
        json = NULL;
    }
    CHECK(log_auth(&d, 0, "cookie", 200));
    sleep(2);
    CHECK_EQ_INT(aitag_stash_plugin_settings(s, "aitag", &json), AITAG_ERR_NET);
    CHECK(strstr(aitag_stash_errmsg(s), "configuration: HTTP 401") == aitag_stash_errmsg(s));
    CHECK(strstr(aitag_stash_errmsg(s), "API key") != NULL);
    CHECK(cookie && strstr(aitag_stash_errmsg(s), cookie) == NULL);
    CHECK(json == NULL);
out:
    aitag_stash_free(s);
    free(cookie);
    double_stop(&d);
}

/* Performers: look-up by name and alias as Stash compares names (case, no wildcards), create
 * with an image (a data URL the double decodes and serves back), no second performer when the
 * name is taken or the answer is lost, listing those with an image, items by path, adding a
 * performer without touching the others. */
static void test_performers(struct dbl *d)
{
    static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',  'F',
                                         'I',  'F',  0x00, 0x01, 0x02, 0x03, 0xff, 0xd9};
    struct aitag_stash *s = client(d, NULL);
    struct aitag_stash_performer p;
    char *id = NULL, *id2 = NULL, *item = NULL;
    unsigned char *img = NULL;
    size_t len = 0;
    json_t *st = NULL, *x;
    int n_with_image = 0;

    CHECK(seed(d,
               json_pack("{s:[{s:s, s:[s], s:s}, {s:s}], s:[{s:s, s:[s]}, {s:s}], s:[{s:s}]}",
                         "performers", "name", "Jane Doe", "aliases", "JD One", "details",
                         "user text", "name", "A_c", "scenes", "path", "/media/x.mp4", "performers",
                         "A_c", "path", "/media/x_mp4", "images", "path", "/media/p.jpg")) == 0);
    CHECK(s != NULL);
    if (!s)
        return;
    memset(&p, 0, sizeof p);
    CHECK_EQ_INT(aitag_stash_find_performer(s, "  jane DOE ", &p), 0);
    CHECK_STR(p.id, "1");
    CHECK_STR(p.name, "Jane Doe");
    CHECK(!p.has_image && p.image_path && strstr(p.image_path, "default=true"));
    aitag_stash_performer_clear(&p);
    CHECK_EQ_INT(aitag_stash_find_performer(s, "jd one", &p), 0); /* by alias */
    CHECK_STR(p.id, "1");
    aitag_stash_performer_clear(&p);
    /* "A_c" is a LIKE pattern matching "Abc"; the client compares exactly. */
    CHECK_EQ_INT(aitag_stash_find_performer(s, "Abc", &p), AITAG_ERR_NOTFOUND);

    CHECK_EQ_INT(aitag_stash_create_performer(s, "Abc", jpeg, sizeof jpeg, &id), 0);
    CHECK(id && strcmp(id, "3") == 0);
    CHECK_EQ_INT(aitag_stash_get_performer(s, id, &p), 0);
    CHECK(p.has_image);
    if (p.image_path) {
        CHECK_EQ_INT(aitag_stash_download(s, p.image_path, &img, &len), 0);
        CHECK(len == sizeof jpeg && img && memcmp(img, jpeg, len) == 0);
    }
    aitag_stash_performer_clear(&p);
    CHECK_EQ_INT(aitag_stash_get_performer(s, "99", &p), AITAG_ERR_NOTFOUND);
    /* Taken name (any case): the existing performer comes back, none is created. */
    CHECK_EQ_INT(aitag_stash_create_performer(s, "JANE doe", NULL, 0, &id2), 0);
    CHECK(id2 && strcmp(id2, "1") == 0);
    free(id2);
    id2 = NULL;
    /* The create lands but its answer is lost: found by name, still one performer. */
    CHECK(fault(d, "{\"drop\": true, \"apply\": true, \"match\": \"performerCreate\"}") == 0);
    CHECK_EQ_INT(aitag_stash_create_performer(s, "Lost Answer", NULL, 0, &id2), 0);
    CHECK(id2 && strcmp(id2, "4") == 0);

    CHECK_EQ_INT(aitag_stash_each_performer_with_image(s, count_performer, &n_with_image), 0);
    CHECK_EQ_INT(n_with_image, 1);

    /* "/media/x_mp4" LIKE-matches "/media/x.mp4" too: the exact path wins. */
    CHECK_EQ_INT(aitag_stash_find_item_by_path(s, AITAG_STASH_SCENE, "/media/x_mp4", &item), 0);
    CHECK(item && strcmp(item, "2") == 0);
    free(item);
    item = NULL;
    CHECK_EQ_INT(aitag_stash_find_item_by_path(s, AITAG_STASH_SCENE, "/media/p.jpg", &item),
                 AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(aitag_stash_find_item_by_path(s, AITAG_STASH_IMAGE, "/media/p.jpg", &item), 0);
    CHECK(item && strcmp(item, "1") == 0);

    CHECK_EQ_INT(aitag_stash_item_has_performer(s, AITAG_STASH_SCENE, "1", "1"), 0);
    CHECK_EQ_INT(aitag_stash_add_performer(s, AITAG_STASH_SCENE, "1", "1"), 0);
    CHECK_EQ_INT(aitag_stash_add_performer(s, AITAG_STASH_SCENE, "1", "1"), 0);
    CHECK_EQ_INT(aitag_stash_item_has_performer(s, AITAG_STASH_SCENE, "1", "1"), 1);
    CHECK_EQ_INT(aitag_stash_add_performer(s, AITAG_STASH_IMAGE, "1", id), 0);
    CHECK_EQ_INT(aitag_stash_item_has_performer(s, AITAG_STASH_SCENE, "9", "1"),
                 AITAG_ERR_NOTFOUND);

    st = state_of(d);
    x = state_item(st, "scenes", "1");
    CHECK(x && json_array_size(json_object_get(x, "performers")) == 2); /* A_c kept, Jane added */
    CHECK(x && has_string(json_object_get(x, "performers"), "A_c"));
    CHECK(x && has_string(json_object_get(x, "performers"), "Jane Doe"));
    x = state_item(st, "images", "1");
    CHECK(x && has_string(json_object_get(x, "performers"), "Abc"));
    CHECK_EQ_INT((int)json_array_size(json_object_get(st, "performers")), 4);
    x = state_item(st, "performers", "1");
    CHECK_STR(json_string_value(json_object_get(x, "details")), "user text");
    json_decref(st);
    free(img);
    free(item);
    free(id);
    free(id2);
    aitag_stash_free(s);
}

int main(void)
{
    static const char *const v27[] = {"--version", "v0.27.2", NULL};
    struct stat sb;
    struct dbl d;

    test_offline();
    if (!have_node() || stat(DOUBLE_DIR "/node_modules", &sb) != 0) {
        printf("SKIP: the Stash double needs node and %s/node_modules (scripts/setup.sh)\n",
               DOUBLE_DIR);
        return check_done();
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_documents_validate();

    CHECK(double_start(&d, NULL) == 0);
    if (d.url[0]) {
        test_version_settings(&d);
        test_tags(&d);
        test_items(&d);
        test_markers(&d, 1);
        test_faults(&d);
        test_performers(&d);
    }
    double_stop(&d);

    CHECK(double_start(&d, v27) == 0);
    if (d.url[0])
        test_markers(&d, 0);
    double_stop(&d);

    test_auth();
    curl_global_cleanup();
    return check_done();
}
