/*
 * http.c - moving one GraphQL request to Stash and back, with retries; the libcurl boundary.
 *
 * One easy handle per client, reused, so consecutive requests share a keep-alive connection.
 * libcurl is set up once per process (aitag_curl_global_init); CURLcode values are turned into
 * AITAG_ERR_NET and a message here and nowhere else.
 *
 * What is retried: 5xx and 429 answers (Retry-After honoured, capped), timeouts, refused
 * connections (Stash restarting) and connections dropped before or during the answer. Waits
 * grow exponentially from params.backoff_ms with "equal jitter" (half fixed, half random) so
 * several clients do not retry in step. A 401 or any other answer is handed up untouched:
 * auth.c and graphql.c decide what it means.
 *
 * A request that may already have reached Stash when it failed (a timeout after connecting, a
 * dropped answer) is "ambiguous": resending an idempotent one is harmless, but a mutation that
 * creates something could then create it twice. With STASH_NOT_IDEMPOTENT such failures are
 * not resent here, and libcurl's own resend on a dead keep-alive connection is avoided by
 * giving them a fresh connection; s->ambiguous tells the caller to look before it resends
 * (writes.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "stash_int.h"

#define BODY_MAX (64u << 20)     /* answers larger than this are refused */
#define BACKOFF_MAX_MS 30000     /* one wait never exceeds this... */
#define RETRY_AFTER_MAX_MS 60000 /* ...unless Stash asked for longer, up to this */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    struct aitag_stash *s = ctx;
    struct stash_buf *b = &s->body;
    size_t n = size * nmemb;

    /* Past BODY_MAX or without memory: 0 makes curl fail with CURLE_WRITE_ERROR. */
    return aitag_buf_append(&b->data, &b->len, &b->cap, ptr, n, BODY_MAX - 1) < 0 ? 0 : n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    struct aitag_stash *s = ctx;
    size_t n = size * nmemb;
    static const char ra[] = "retry-after:", sc[] = "set-cookie:";

    if (n > sizeof ra - 1 && strncasecmp(ptr, ra, sizeof ra - 1) == 0)
        s->retry_after_ms = aitag_retry_after_ms(ptr + sizeof ra - 1, n - (sizeof ra - 1),
                                                 (long long)time(NULL), RETRY_AFTER_MAX_MS);
    else if (n > sizeof sc - 1 && strncasecmp(ptr, sc, sizeof sc - 1) == 0)
        stash_auth_set_cookie_header(s, ptr + sizeof sc - 1, n - (sizeof sc - 1));
    return n;
}

int stash_http_init(struct aitag_stash *s)
{
    long connect_ms;

    if (aitag_curl_global_init() < 0)
        return stash_fail(s, AITAG_ERR_NET, "curl", "curl_global_init failed");
    s->curl = curl_easy_init();
    if (!s->curl)
        return stash_fail(s, AITAG_ERR_NOMEM, "curl", "curl_easy_init failed");
    connect_ms = s->p.timeout_ms < 10000 ? s->p.timeout_ms : 10000;
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, (long)s->p.timeout_ms);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(s->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(s->curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (!s->p.tls_verify) {
        curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "aitag/" AITAG_VERSION);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(s->curl, CURLOPT_URL, s->endpoint);
    curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
    return 0;
}

void stash_http_cleanup(struct aitag_stash *s)
{
    if (s->curl)
        curl_easy_cleanup(s->curl);
    s->curl = NULL;
    free(s->body.data);
    s->body.data = NULL;
    s->body.len = s->body.cap = 0;
}

static uint64_t next_random(struct aitag_stash *s)
{
    /* xorshift64*: jitter only, no quality needed beyond "not in step". */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545F4914F6CDD1DULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void stash_backoff(struct aitag_stash *s, int attempt)
{
    long delay = s->p.backoff_ms, wait;
    int i;

    for (i = 0; i < attempt && delay < BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    wait = delay / 2 + (delay > 1 ? (long)(next_random(s) % (uint64_t)(delay / 2 + 1)) : 0);
    if (s->retry_after_ms > wait)
        wait = s->retry_after_ms + (long)(next_random(s) % 250);
    sleep_ms(wait);
}

static int retryable_status(long status)
{
    return status == 429 || (status >= 500 && status <= 599 && status != 501);
}

/* Transport failures worth another try, and whether the request may have reached Stash. */
static int retryable_curl(CURL *c, CURLcode code, int *ambiguous)
{
    double connect_time = 0;

    *ambiguous = 0;
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        return 1;
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(c, CURLINFO_CONNECT_TIME, &connect_time);
        *ambiguous = connect_time > 0;
        return 1;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        *ambiguous = 1;
        return 1;
    default:
        return 0;
    }
}

/* One request with retries: a POST of body to the GraphQL endpoint, or (body NULL) a GET of
 * url. */
static int send_request(struct aitag_stash *s, const char *label, const char *url, const char *body,
                        struct curl_slist *headers, int flags, long *status)
{
    char errbuf[CURL_ERROR_SIZE];
    CURLcode code = CURLE_OK;
    int attempt, ambiguous;

    *status = 0;
    s->ambiguous = 0;
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
    /* libcurl silently resends a request whose reused keep-alive connection died without an
     * answer. Harmless for a read, but it would hide from us that a create may have run, so
     * non-idempotent requests get a connection of their own. */
    curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, (flags & STASH_NOT_IDEMPOTENT) ? 1L : 0L);
    if (s->auth == STASH_AUTH_COOKIE && s->cookie) {
        char cookie[4096];
        aitag_fmt(cookie, sizeof cookie, "session=%s", s->cookie);
        curl_easy_setopt(s->curl, CURLOPT_COOKIE, cookie); /* curl copies it */
        memset(cookie, 0, sizeof cookie);
    } else {
        curl_easy_setopt(s->curl, CURLOPT_COOKIE, NULL);
    }

    for (attempt = 0;; attempt++) {
        if (attempt > 0)
            stash_backoff(s, attempt - 1);
        s->body.len = 0;
        if (s->body.data)
            s->body.data[0] = '\0';
        s->retry_after_ms = -1;
        errbuf[0] = '\0';
        code = curl_easy_perform(s->curl);
        if (code == CURLE_OK) {
            curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, status);
            if (retryable_status(*status) && attempt < s->p.retries) {
                aitag_log(AITAG_LOG_DEBUG, "stash", "event=retry op=%s status=%ld attempt=%d",
                          label, *status, attempt + 1);
                continue;
            }
            break;
        }
        if (!retryable_curl(s->curl, code, &ambiguous) || attempt >= s->p.retries)
            break;
        if (ambiguous && (flags & STASH_NOT_IDEMPOTENT)) {
            s->ambiguous = 1;
            break;
        }
        s->ambiguous |= ambiguous;
        aitag_log(AITAG_LOG_DEBUG, "stash", "event=retry op=%s error=\"%s\" attempt=%d", label,
                  curl_easy_strerror(code), attempt + 1);
    }
    s->attempts = attempt + 1;
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(s->curl, CURLOPT_COOKIE, NULL);
    if (!body) { /* the handle's default: POST to the endpoint */
        curl_easy_setopt(s->curl, CURLOPT_URL, s->endpoint);
        curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
    }
    if (code == CURLE_OK)
        return 0;
    if (retryable_curl(s->curl, code, &ambiguous) && ambiguous)
        s->ambiguous = 1;
    return stash_fail(s, AITAG_ERR_NET, label, "%s (%s %s, %d attempt%s)",
                      errbuf[0] ? errbuf : curl_easy_strerror(code), body ? "POST" : "GET", url,
                      s->attempts, s->attempts == 1 ? "" : "s");
}

int stash_http_post(struct aitag_stash *s, const char *label, const char *body,
                    struct curl_slist *headers, int flags, long *status)
{
    return send_request(s, label, s->endpoint, body, headers, flags, status);
}

int stash_http_get(struct aitag_stash *s, const char *label, const char *url,
                   struct curl_slist *headers, long *status)
{
    return send_request(s, label, url, NULL, headers, 0, status);
}
