/*
 * test_gw_redact.c - the access log's payload redaction (src/gateway/redact.c): every key name
 * that may hold a credential, in its spellings (case, '-', '_', plurals, prefixes), loses its
 * value; counts named like tokens keep theirs; values nested deeper than the walk goes are
 * redacted whole rather than logged.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gateway/gateway_int.h"

/* The redacted text of in (max bytes: large enough never to cut); malloc'd. */
static char *redact(const char *in)
{
    json_t *v = gw_redact_payload(in, strlen(in), 1 << 20);
    char *s = v ? strdup(json_string_value(v)) : NULL;

    json_decref(v);
    return s;
}

/* {"<key>": <value>, "keep": "visible"} redacted: the value must be gone, "keep" must stay. */
static void check_gone(const char *key, const char *value, const char *needle)
{
    json_t *o = json_object(), *v = json_loads(value, JSON_DECODE_ANY, NULL);
    char *in, *s;

    json_object_set_new(o, key, v);
    json_object_set_new(o, "keep", json_string("visible"));
    in = json_dumps(o, JSON_COMPACT);
    s = in ? redact(in) : NULL;
    CHECK(s && strstr(s, "visible"));
    if (!s || strstr(s, needle))
        fprintf(stderr, "  key %s: %s survived in %s\n", key, needle, s ? s : "(null)");
    CHECK(s && !strstr(s, needle));
    free(s);
    free(in);
    json_decref(o);
}

/* The same with the value expected to stay. */
static void check_kept(const char *key, const char *value, const char *needle)
{
    json_t *o = json_object(), *v = json_loads(value, JSON_DECODE_ANY, NULL);
    char *in, *s;

    json_object_set_new(o, key, v);
    in = json_dumps(o, JSON_COMPACT);
    s = in ? redact(in) : NULL;
    if (!s || !strstr(s, needle))
        fprintf(stderr, "  key %s: %s was redacted: %s\n", key, needle, s ? s : "(null)");
    CHECK(s && strstr(s, needle));
    free(s);
    free(in);
    json_decref(o);
}

static void test_credential_names(void)
{
    static const char *const keys[] = {
        /* the names the old list missed */
        "x-api-key", "api-key", "auth", "cookie", "credentials", "private_key", "passwd", "bearer",
        "refresh_tokens",
        /* their spellings: case, separators, plurals, prefixes, camel case */
        "X-API-Key", "Api_Key", "apiKey", "x_api_key", "API-KEYS", "Auth", "x-auth", "oauth",
        "authToken", "Authentication", "Cookies", "Set-Cookie", "session_cookie", "Credential",
        "aws_credentials", "private-key", "privateKey", "ssh_private_keys", "PASSWD", "db_passwd",
        "Bearer", "bearer_token", "refresh_token", "Refresh-Tokens", "refreshTokens",
        "access_tokens", "id_token",
        /* the names the old list had */
        "api_key", "apikey", "authorization", "X-Authorization", "password", "Passwords",
        "client_secret", "secrets", "token", "access_token"};

    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        check_gone(keys[i], "\"s3cr3t-value\"", "s3cr3t");
        check_gone(keys[i], "[\"s3cr3t-a\", \"s3cr3t-b\"]", "s3cr3t");
        check_gone(keys[i], "{\"value\": \"s3cr3t-nested\"}", "s3cr3t");
    }
    /* a number under a credential name is a credential too (a PIN) */
    check_gone("passwd", "987654321", "987654321");
    check_gone("x-api-key", "987654321", "987654321");
    /* a key name longer than any fixed buffer still counts */
    {
        char key[600];
        memset(key, 'a', 580);
        memcpy(key + 580, "_password", 10);
        check_gone(key, "\"s3cr3t-long\"", "s3cr3t");
    }
}

static void test_counts_and_names_stay(void)
{
    /* token counts are numbers (or objects of numbers): they stay */
    check_kept("max_tokens", "4242", "4242");
    check_kept("max_completion_tokens", "4243", "4243");
    check_kept("usage", "{\"prompt_tokens\": 4244, \"total_tokens\": 4245}", "4245");
    check_kept("prompt_tokens_details", "{\"cached_tokens\": 4246}", "4246");
    /* "author" is not "auth" */
    check_kept("author", "\"Jane Austen\"", "Jane Austen");
    check_kept("authors", "[\"Jane Austen\"]", "Jane Austen");
    check_kept("authority", "\"public\"", "public");
    check_kept("model", "\"gpt-4o\"", "gpt-4o");
    /* ...and "authorization" is still a credential, as is "authorise" */
    check_gone("authorisation", "\"s3cr3t\"", "s3cr3t");
}

/* {"a":{"a":...{"<key>": "<value>"}...}} with depth objects above the innermost pair. */
static char *nested(int depth, const char *key, const char *value)
{
    size_t cap = (size_t)depth * 8 + strlen(key) + strlen(value) + 16, n = 0;
    char *s = malloc(cap);

    if (!s)
        return NULL;
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, i % 2 ? "[" : "{\"a\":");
    n += (size_t)snprintf(s + n, cap - n, "{\"%s\":\"%s\"}", key, value);
    for (int i = depth - 1; i >= 0; i--)
        n += (size_t)snprintf(s + n, cap - n, i % 2 ? "]" : "}");
    return s;
}

static void test_deep_nesting(void)
{
    char *in, *s;

    /* shallow: walked, the secret goes and the rest stays */
    in = nested(10, "password", "s3cr3t-shallow");
    s = in ? redact(in) : NULL;
    CHECK(s && !strstr(s, "s3cr3t") && strstr(s, "[redacted 14 bytes]"));
    free(s);
    free(in);
    /* deeper than the walk: the old code logged it as it was */
    static const int depths[] = {63, 64, 65, 100, 1000};
    for (size_t i = 0; i < sizeof depths / sizeof *depths; i++) {
        in = nested(depths[i], "password", "s3cr3t-deep");
        s = in ? redact(in) : NULL;
        CHECK(s && !strstr(s, "s3cr3t"));
        CHECK(s && strstr(s, "[redacted "));
        free(s);
        free(in);
    }
    in = nested(100, "harmless", "visible-but-too-deep");
    s = in ? redact(in) : NULL;
    CHECK(s && !strstr(s, "visible-but-too-deep"));      /* the whole deep subtree goes */
    CHECK(s && strncmp(s, "{\"a\":[{\"a\":[", 12) == 0); /* the levels above it stay */
    free(s);
    free(in);
    /* a token name over a deep value: a count cannot be told from a secret there */
    in = nested(40, "refresh_tokens", "x");
    if (in) {
        char *t = nested(80, "k", "s3cr3t-deep-token");
        size_t l = strlen(in) + (t ? strlen(t) : 0) + 32;
        char *both = t ? malloc(l) : NULL;
        if (both) {
            snprintf(both, l, "{\"refresh_tokens\": %s}", t);
            s = redact(both);
            CHECK(s && !strstr(s, "s3cr3t"));
            free(s);
        }
        free(both);
        free(t);
    }
    free(in);
    /* a bare data: URL body is an image too */
    s = redact("\"data:image/png;base64,iVBORw0KGgo=\"");
    CHECK(s && !strstr(s, "iVBOR"));
    free(s);
}

int main(void)
{
    test_credential_names();
    test_counts_and_names_stay();
    test_deep_nesting();
    return check_done();
}
