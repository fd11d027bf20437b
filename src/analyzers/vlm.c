/*
 * vlm.c - the "vlm" analyzer: sampled frames go to a vision-language model behind an
 * OpenAI-compatible chat endpoint (normally aitag's own gateway), which picks tags from the
 * user's vocabulary (docs/vlm.md).
 *
 * A VLM call costs seconds (or money), so within an item only the first frame and then one
 * frame per `every` seconds are sent; the frames in between hold the last answer, which keeps
 * one evidence row per sampled frame so the policy's coverage and markers work exactly as for
 * the local models. Items are told apart by the frame index the sampler sets (0 = a new item).
 * With `describe`, the first call of an item also asks for a one-line description, stored as
 * evidence "description" with its text; the policy never makes it a tag.
 *
 * key() covers everything that changes answers: url, route, the vocabulary's tags (not its
 * comments), every, describe and the view size. timeout_ms, key_env and local_only change
 * whether a call succeeds, not what it says, so they are not part of it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "analyzers_int.h"
#include "vlm_int.h"

#define VLM_DEFAULT_URL "http://127.0.0.1:8089/v1"
#define VLM_DEFAULT_ROUTE "chat"
#define VLM_DEFAULT_KEY_ENV "AITAG_GATEWAY_KEY"
#define VLM_MAX_OPT 400

struct vlm {
    char url[VLM_MAX_OPT], route[128], key_env[128], vocab_path[VLM_MAX_OPT];
    double every;
    int describe, local_only, size;
    long timeout_ms;
    struct vlm_vocab vocab;
    char *system_tags, *system_desc; /* prompts without and with the description */
    char *bearer;
    struct vlm_http *http;
    char key[512];
    /* per item */
    double last_call_t;
    struct vlm_answer held; /* the last answer, repeated on frames between calls */
};

static void vlm_destroy(void *state)
{
    struct vlm *s = state;

    if (!s)
        return;
    vlm_vocab_free(&s->vocab);
    vlm_answer_free(&s->held);
    vlm_http_free(s->http);
    free(s->system_tags);
    free(s->system_desc);
    free(s->bearer);
    free(s);
}

static int vlm_create(const struct aitag_analyzer_ops *self, struct aitag_infer *inf, void **state,
                        char *err, size_t errlen)
{
    struct vlm *s = calloc(1, sizeof *s);
    (void)self;

    (void)inf;
    *state = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    snprintf(s->url, sizeof s->url, "%s", VLM_DEFAULT_URL);
    snprintf(s->route, sizeof s->route, "%s", VLM_DEFAULT_ROUTE);
    snprintf(s->key_env, sizeof s->key_env, "%s", VLM_DEFAULT_KEY_ENV);
    s->every = 30;
    s->size = 512;
    s->timeout_ms = 120000;
    *state = s;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on"))
        *out = 1;
    else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int parse_num(const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);

    if (end == v || *end || !(d >= lo && d <= hi))
        return -1;
    *out = d;
    return 0;
}

static int copy_opt(char *dst, size_t size, const char *v)
{
    if (strlen(v) >= size || !*v)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int vlm_configure(void *state, const char *key, const char *value, char *err,
                         size_t errlen)
{
    struct vlm *s = state;
    double d;
    int bad;

    if (!strcmp(key, "url"))
        bad = copy_opt(s->url, sizeof s->url, value) ||
              (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0);
    else if (!strcmp(key, "route"))
        bad = copy_opt(s->route, sizeof s->route, value);
    else if (!strcmp(key, "key_env"))
        bad = copy_opt(s->key_env, sizeof s->key_env, value);
    else if (!strcmp(key, "vocabulary"))
        bad = copy_opt(s->vocab_path, sizeof s->vocab_path, value);
    else if (!strcmp(key, "every"))
        bad = parse_num(value, 0, 86400, &s->every);
    else if (!strcmp(key, "describe"))
        bad = parse_bool(value, &s->describe);
    else if (!strcmp(key, "local_only"))
        bad = parse_bool(value, &s->local_only);
    else if (!strcmp(key, "timeout_ms")) {
        bad = parse_num(value, 100, 3600000, &d);
        s->timeout_ms = bad ? s->timeout_ms : (long)d;
    } else if (!strcmp(key, "size")) {
        bad = parse_num(value, 64, 2048, &d);
        s->size = bad ? s->size : (int)d;
    } else {
        snprintf(err, errlen, "unknown option '%s' (url, route, key_env, vocabulary, every, "
                 "describe, timeout_ms, local_only, size)", key);
        return AITAG_ERR_INVALID;
    }
    if (bad) {
        snprintf(err, errlen, "option %s: bad value '%.200s'", key, value);
        return AITAG_ERR_INVALID;
    }
    return 0;
}

/* True when url's host is loopback: localhost, 127.x.x.x or [::1]. */
static int is_loopback_url(const char *url)
{
    const char *h = strstr(url, "://"), *end;
    char host[256];
    size_t n;

    if (!h)
        return 0;
    h += 3;
    if (strchr(h, '@') && strchr(h, '@') < h + strcspn(h, "/"))
        h = strchr(h, '@') + 1; /* user:pass@host */
    if (*h == '[') {
        end = strchr(h, ']');
        return end && (size_t)(end - h - 1) == 3 && strncmp(h + 1, "::1", 3) == 0;
    }
    n = strcspn(h, ":/?#");
    if (n == 0 || n >= sizeof host)
        return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    if (!strcasecmp(host, "localhost"))
        return 1;
    if (strncmp(host, "127.", 4) == 0) {
        for (const char *p = host + 4; *p; p++)
            if (!isdigit((unsigned char)*p) && *p != '.')
                return 0;
        return 1;
    }
    return 0;
}

static int vlm_ready(void *state, char *err, size_t errlen)
{
    struct vlm *s = state;
    const char *bearer;
    size_t len = strlen(s->url);
    int rc;

    while (len && s->url[len - 1] == '/')
        s->url[--len] = '\0';
    if (s->local_only && !is_loopback_url(s->url)) {
        snprintf(err, errlen, "url %s is not on this machine (loopback) and local-only is on",
                 s->url);
        return AITAG_ERR_INVALID;
    }
    if (!s->vocab_path[0]) {
        snprintf(err, errlen, "option vocabulary is required (a file with one tag per line)");
        return AITAG_ERR_INVALID;
    }
    rc = vlm_vocab_load(s->vocab_path, &s->vocab, err, errlen);
    if (rc < 0)
        return rc == AITAG_ERR_NOMEM ? rc : AITAG_ERR_INVALID;
    s->system_tags = vlm_system_prompt(&s->vocab, 0);
    s->system_desc = vlm_system_prompt(&s->vocab, 1);
    s->http = vlm_http_new();
    bearer = getenv(s->key_env);
    if (bearer && *bearer)
        s->bearer = strdup(bearer);
    if (!s->system_tags || !s->system_desc || !s->http || (bearer && *bearer && !s->bearer)) {
        snprintf(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    snprintf(s->key, sizeof s->key, "vlm/v1 url=%.200s route=%.100s vocab=%.16s every=%.3f "
             "describe=%d size=%d", s->url, s->route, s->vocab.sha, s->every, s->describe,
             s->size);
    return 0;
}

static size_t vlm_views(void *state, struct aitag_view_spec *out, size_t max)
{
    struct vlm *s = state;

    if (max < 1)
        return 0;
    out[0] = (struct aitag_view_spec){s->size, s->size, AITAG_FIT_MAX_SIDE, 2};
    return 1;
}

static const char *vlm_key(void *state)
{
    return ((struct vlm *)state)->key;
}

static int push_tags(const struct vlm_answer *a, double t, struct aitag_evidence_list *out)
{
    for (size_t i = 0; i < a->n_tags; i++) {
        struct aitag_evidence e = {0};
        e.analyzer = (char *)"vlm";
        e.label = (char *)a->tags[i].name;
        e.confidence = a->tags[i].confidence;
        e.t = t;
        if (aitag_evidence_push(out, &e) < 0)
            return AITAG_ERR_NOMEM;
    }
    return 0;
}

/* Sends one frame and replaces the held answer with what came back. */
static int call(struct vlm *s, const struct aitag_frame *f, int first, char *err, size_t errlen)
{
    struct aitag_view_spec spec = {s->size, s->size, AITAG_FIT_MAX_SIDE, 2};
    const struct aitag_view *v = aitag_frame_view(f, &spec);
    struct vlm_call c = {0};
    struct vlm_answer a = {0};
    unsigned char *jpeg = NULL;
    size_t len = 0;
    char *content = NULL, why[300] = "";
    int rc;

    if (!v) {
        snprintf(err, errlen, "frame at t=%.3f lacks its %d px view", f->t, s->size);
        return AITAG_ERR_INVALID;
    }
    rc = aitag_media_encode_jpeg(v->rgb, v->width, v->height, v->stride, &jpeg, &len, why,
                                 sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "%s", why);
        goto out;
    }
    c.url = s->url;
    c.route = s->route;
    c.bearer = s->bearer;
    c.timeout_ms = s->timeout_ms;
    c.local_only = s->local_only;
    c.system = first && s->describe ? s->system_desc : s->system_tags;
    c.user = "Tag this picture.";
    c.jpeg = jpeg;
    c.jpeg_len = len;
    rc = vlm_http_chat(s->http, &c, &content, err, errlen);
    if (rc < 0)
        goto out;
    rc = vlm_answer_parse(content, &s->vocab, &a, why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "%s/chat/completions (route %s): %s", s->url, s->route, why);
        goto out;
    }
    if (a.n_dropped)
        aitag_log(AITAG_LOG_INFO, "vlm", "event=tags_dropped n=%zu t=%.3f route=%s", a.n_dropped,
                  f->t, s->route);
    vlm_answer_free(&s->held);
    s->held = a;
    s->last_call_t = f->t;
out:
    free(content);
    free(jpeg);
    return rc;
}

static int vlm_run(void *state, struct aitag_frame *const *frames, size_t n,
                   const struct aitag_evidence_list *in, struct aitag_evidence_list *out,
                   char *err, size_t errlen)
{
    struct vlm *s = state;
    (void)in;

    for (size_t i = 0; i < n; i++) {
        const struct aitag_frame *f = frames[i];
        int first = f->index == 0, rc;

        if (first)
            vlm_answer_free(&s->held);
        if (first || f->t >= s->last_call_t + s->every - 1e-6) {
            rc = call(s, f, first, err, errlen);
            if (rc < 0)
                return rc;
            if (first && s->describe && s->held.description) {
                struct aitag_evidence e = {0};
                e.analyzer = (char *)"vlm";
                e.label = (char *)"description";
                e.confidence = 1;
                e.t = f->t;
                e.text = s->held.description;
                if (aitag_evidence_push(out, &e) < 0)
                    goto nomem;
            }
        }
        if (push_tags(&s->held, f->t, out) < 0)
            goto nomem;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return AITAG_ERR_NOMEM;
}

static const char *const vlm_models[] = {NULL};

const struct aitag_analyzer_ops aitag_analyzer_vlm = {
    .name = "vlm",
    .description = "tags from your vocabulary by a vision-language model behind an "
                   "OpenAI-compatible endpoint (the aitag gateway); optional description",
    .create = vlm_create,
    .destroy = vlm_destroy,
    .views = vlm_views,
    .key = vlm_key,
    .run = vlm_run,
    .models = vlm_models,
    .configure = vlm_configure,
    .ready = vlm_ready,
    .runs_here = 1,
};
