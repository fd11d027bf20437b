/* fuzz_gw_json_body.c - libFuzzer target for the JSON bodies of POST /v1/chat/completions and
 * /v1/embeddings (a client's bytes), through what the handlers do with them before an upstream
 * is asked: the body parsed as the handlers parse it, the route looked up by "model", whether
 * the chat is cacheable, the cache key from the canonical body, and the splice that puts a
 * backend's model into the client's bytes.
 *
 * Checked: the route found is the one named "model" (or none); the canonical text the cache
 * key hashes reads back as the same body (two different bodies never share a key through it),
 * and keys are stable; a splice, when it is made, is one JSON object equal to the body with
 * only "model" replaced, whatever the model name holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway_int.h"

static struct aitag_gateway_config *cfg;
static struct aitag_gateway gw;

static const char config[] =
    "{\"routes\": {"
    " \"chat\": {\"backends\": [{\"kind\": \"openai\", \"url\": \"http://127.0.0.1:9/v1\","
    " \"model\": \"gpt-4o\"}]},"
    " \"embed\": {\"backends\": [{\"kind\": \"openai\", \"url\": \"http://127.0.0.1:9/v1\"}]},"
    " \"m\": {\"backends\": [{\"kind\": \"gateway\", \"url\": \"http://127.0.0.1:9\"}]}}}";

/* Model names a backend may carry: plain, and ones that need escaping in JSON. */
static const char *const models[] = {
    "gpt-4o", "", "a\"b\\c", "line\nbreak\x01\x1f", "caf\xc3\xa9 \xe2\x82\xac", "model"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];

    (void)argc;
    (void)argv;
    if (aitag_gateway_config_parse(config, &cfg, err, sizeof err) < 0)
        abort();
    memset(&gw, 0, sizeof gw);
    gw.cfg = cfg;
    gw.cache = gw_cache_new(1 << 20, 1 << 16, 60);
    if (!gw.cache)
        abort();
    return 0;
}

static void check_route(json_t *body)
{
    const char *model = json_string_value(json_object_get(body, "model"));
    const struct aitag_gateway_route *route = aitag_gateway_route_find(cfg, model);
    int named = 0;

    for (size_t i = 0; model && i < cfg->n_routes; i++)
        named |= strcmp(cfg->routes[i].name, model) == 0;
    if (named != (route != NULL) || (route && strcmp(route->name, model) != 0))
        abort();
}

static void check_cache_key(json_t *body)
{
    char h1[65], h2[65], h3[65];
    char *canon = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT);
    json_t *back = canon ? json_loads(canon, 0, NULL) : NULL;
    json_t *copy = json_deep_copy(body);

    if (!canon || !copy)
        goto out; /* out of memory */
    if (!back || !json_equal(back, body))
        abort(); /* the canonical text must say exactly what the body says */
    if (gw_cache_key(&gw, "chat", "/chat/completions", body, h1) < 0 ||
        gw_cache_key(&gw, "chat", "/chat/completions", back, h2) < 0 ||
        gw_cache_key(&gw, "chat", "/chat/completions", copy, h3) < 0)
        abort();
    if (strlen(h1) != 64 || strcmp(h1, h2) != 0 || strcmp(h1, h3) != 0)
        abort();
    if (gw_cache_key(&gw, "chat", "/embeddings", body, h2) < 0 || strcmp(h1, h2) == 0)
        abort(); /* the endpoint is part of the key */
    /* cacheable: not streamed, temperature a number equal to 0 */
    {
        json_t *t = json_object_get(body, "temperature");
        int want = !json_is_true(json_object_get(body, "stream")) && json_is_number(t) &&
                   json_number_value(t) == 0;
        if (gw_chat_deterministic(body) != want)
            abort();
    }
out:
    json_decref(copy);
    json_decref(back);
    free(canon);
}

static void check_splice(const char *text, size_t len, json_t *body)
{
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        size_t out_len = 0;
        char *out = gw_splice_model(text, len, models[i], &out_len);
        json_t *got, *want;

        if (!out)
            continue; /* the proxy then serialises the parsed object */
        if (strlen(out) != out_len)
            abort();
        got = json_loadb(out, out_len, 0, NULL);
        want = json_deep_copy(body);
        if (!want) {
            json_decref(got);
            free(out);
            return;
        }
        json_object_set_new(want, "model", json_string(models[i]));
        if (!json_is_object(got) || !json_equal(got, want)) {
            fprintf(stderr, "splice of model %zu gave:\n%.*s\n", i, (int)out_len, out);
            abort();
        }
        json_decref(got);
        json_decref(want);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact size, not NUL-terminated: ASan catches a scan past the body's end */
    char *text = malloc(size ? size : 1);
    json_t *body;

    if (!text)
        return 0;
    memcpy(text, data, size);
    body = json_loadb(text, size, 0, NULL); /* as server.c and proxy.c parse bodies */
    check_route(body);
    if (json_is_object(body)) {
        check_cache_key(body);
        check_splice(text, size, body); /* only ever given bytes jansson accepted */
    }
    json_decref(body);
    free(text);
    return 0;
}
