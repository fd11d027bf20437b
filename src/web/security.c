/*
 * security.c - who may ask the review app what.
 *
 * Three gates, in order. Host: a server bound to loopback answers only requests addressed to
 * a loopback name (127.x, localhost, [::1]), so a web page whose domain resolves to 127.0.0.1
 * (DNS rebinding) reads nothing. Login: a server with a password (required off loopback) wants
 * a session cookie from POST /api/login, or the password as a bearer token, on every API
 * request; the front end's files carry no data and load without one, so the login form can be
 * shown. CSRF: every request that is not GET or HEAD must carry the server's token (random at
 * each start, handed out by GET /api/session, which other origins cannot read), a JSON body
 * (a form of another site cannot send one without a preflight the server never grants), and
 * no Origin other than the server's own.
 *
 * Passwords are stored as PBKDF2-HMAC-SHA256 with a random salt (OpenSSL's libcrypto); tokens
 * and hashes are compared in constant time.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aitag/common.h"
#include "web_int.h"

#define PBKDF2_ITER 200000
#define SESSION_COOKIE "aitag_session"

int web_random_hex(char *out, size_t n)
{
    unsigned char b[64];

    if (n > sizeof b || RAND_bytes(b, (int)n) != 1)
        return AITAG_ERR_IO;
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    return 0;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static int pbkdf2(const char *password, const char *salt_hex, int iter, unsigned char out[32])
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), (const unsigned char *)salt_hex,
                             (int)strlen(salt_hex), iter, EVP_sha256(), 32, out) == 1
               ? 0
               : AITAG_ERR_INVALID;
}

int aitag_web_hash_password(const char *password, char *out, size_t len)
{
    char salt[33], hex[65];
    unsigned char h[32];

    if (!password || !*password || len < 128 || web_random_hex(salt, 16) < 0 ||
        pbkdf2(password, salt, PBKDF2_ITER, h) < 0)
        return AITAG_ERR_INVALID;
    to_hex(h, sizeof h, hex);
    snprintf(out, len, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITER, salt, hex);
    return 0;
}

int aitag_web_check_password(const char *hash, const char *password)
{
    char salt[65], want[65], got[65];
    unsigned char h[32];
    int iter = 0;

    if (!hash || !password ||
        /* NOLINTNEXTLINE(cert-err34-c): an iteration count out of range fails the check below */
        sscanf(hash, "pbkdf2-sha256$%d$%64[0-9a-f]$%64[0-9a-f]", &iter, salt, want) != 3 ||
        iter < 1 || strlen(want) != 64 || pbkdf2(password, salt, iter, h) < 0)
        return 0;
    to_hex(h, sizeof h, got);
    return CRYPTO_memcmp(got, want, 64) == 0;
}

static int same_token(const char *a, const char *b)
{
    return a && b && strlen(a) == strlen(b) && CRYPTO_memcmp(a, b, strlen(a)) == 0;
}

/* The host part of a Host header ("localhost:8080" -> "localhost", "[::1]:80" -> "::1"). */
static void host_name(const char *host, char *out, size_t len)
{
    const char *end;

    if (*host == '[') {
        host++;
        end = strchr(host, ']');
    } else {
        end = strchr(host, ':');
    }
    snprintf(out, len, "%.*s", (int)(end ? (size_t)(end - host) : strlen(host)), host);
}

static int loopback_host(const char *host)
{
    char name[256];

    if (!host)
        return 0;
    host_name(host, name, sizeof name);
    return strcasecmp(name, "localhost") == 0 || strcmp(name, "::1") == 0 ||
           (strncmp(name, "127.", 4) == 0 && strspn(name, "0123456789.") == strlen(name));
}

static int has_session(struct aitag_web *w, struct MHD_Connection *conn)
{
    const char *token = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    int ok = 0;

    if (!token || strlen(token) != 64)
        return 0;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < WEB_MAX_SESSIONS && !ok; i++)
        ok = w->sessions[i][0] && same_token(w->sessions[i], token);
    pthread_mutex_unlock(&w->lock);
    return ok;
}

static int has_bearer(struct aitag_web *w, struct MHD_Connection *conn)
{
    const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

    return a && strncasecmp(a, "Bearer ", 7) == 0 &&
           aitag_web_check_password(w->password_hash, a + 7);
}

int web_authenticated(struct aitag_web *w, struct MHD_Connection *conn)
{
    return !w->password_hash || has_session(w, conn) || has_bearer(w, conn);
}

static int json_body(struct MHD_Connection *conn)
{
    const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    return t && strncasecmp(t, "application/json", 16) == 0;
}

/* Origin absent (same-origin requests of some browsers, other programs) or this server's. */
static int own_origin(struct MHD_Connection *conn)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");

    if (!origin)
        return 1;
    return host && strncmp(origin, "http://", 7) == 0 && strcmp(origin + 7, host) == 0;
}

unsigned web_gate(struct aitag_web *w, struct MHD_Connection *conn, const char *method,
                  const char *url, const char **why)
{
    int reads = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (w->loopback && !loopback_host(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"))) {
        *why = "Host: not this server's loopback address";
        return 403;
    }
    if (strcmp(url, "/api/login") == 0) /* its own checks (web_login) */
        return 0;
    if (w->password_hash && strncmp(url, "/api/", 5) == 0 && strcmp(url, "/api/session") != 0 &&
        !has_session(w, conn) && !has_bearer(w, conn)) {
        *why = "login required";
        return 401;
    }
    if (reads)
        return 0;
    if (!own_origin(conn)) {
        *why = "Origin: not this server";
        return 403;
    }
    if (!same_token(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token"), w->csrf)) {
        *why = "X-CSRF-Token: missing or wrong (GET /api/session gives it)";
        return 403;
    }
    if (!json_body(conn)) {
        *why = "Content-Type: application/json required";
        return 415;
    }
    return 0;
}

enum MHD_Result web_login(struct aitag_web *w, struct MHD_Connection *conn, const char *body,
                          size_t len)
{
    json_error_t jerr;
    json_t *j = NULL;
    const char *password = NULL;
    char token[65], cookie[160];
    struct MHD_Response *r;
    enum MHD_Result ok;

    if (!w->password_hash)
        return web_send_error(conn, 404, "no login: this server has no password");
    if (!json_body(conn) || !own_origin(conn))
        return web_send_error(conn, 403, "login: a JSON body from this server's page required");
    j = body ? json_loadb(body, len, 0, &jerr) : NULL;
    if (j)
        password = json_string_value(json_object_get(j, "password"));
    if (!password || !aitag_web_check_password(w->password_hash, password)) {
        json_decref(j);
        return web_send_error(conn, 401, "password: wrong");
    }
    json_decref(j);
    if (web_random_hex(token, 32) < 0)
        return web_send_error(conn, 500, "no random bytes for a session");
    pthread_mutex_lock(&w->lock);
    memcpy(w->sessions[w->next_session], token, sizeof token);
    w->next_session = (w->next_session + 1) % WEB_MAX_SESSIONS;
    pthread_mutex_unlock(&w->lock);
    snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", token);
    r = MHD_create_response_from_buffer(11, (void *)"{\"ok\":true}", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Set-Cookie", cookie);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    web_secure_headers(r);
    ok = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ok;
}
