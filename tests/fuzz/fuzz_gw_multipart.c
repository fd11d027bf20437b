/* fuzz_gw_multipart.c - libFuzzer target for multipart/form-data request bodies (a client's
 * bytes), parsed the way the gateway parses them: libmicrohttpd's post processor needs a real
 * connection, so a real gateway is started once on loopback and every input is sent to it as
 * one HTTP request. Its routes lead nowhere harmful: the transcription route's upstream is a
 * loopback port that refuses connections (so the parts are rebuilt for it and the call fails
 * at once), and the tagging route has a local backend in a program without a tagger (501).
 *
 * Two kinds of input. Raw (the default): a first line with the Content-Type's parameters
 * (e.g. "boundary=XyZ"; a leading 'T' sends the request to /v1/tag instead of
 * /v1/audio/transcriptions), then the body as it is; every request must get a whole answer
 * (no hang, no crash, no dropped connection) with one of the statuses a malformed or
 * undeliverable upload may get, never a 500. Structured (a leading 'S', or 's' for /v1/tag):
 * the rest describes parts that are sent as a well-formed body, and the answer must be the
 * one those parts call for (so a part lost, merged or cut by the parser shows). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/gateway.h"

static struct aitag_gateway_config *cfg;
static struct aitag_gateway *gw;
static int port;

#define BODY_ROOM (1000 * 1000) /* under the gateway's max_body_bytes (1 MiB) */

static void quiet(void *ctx, enum aitag_log_level level, const char *subsystem, const char *msg)
{
    (void)ctx, (void)level, (void)subsystem, (void)msg;
}

/* A loopback port that refuses connections: bound, never listening, kept open. */
static int refusing_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        abort();
    return ntohs(a.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct aitag_gateway_params p = aitag_gateway_default_params();
    char text[1024], err[512];

    (void)argc;
    (void)argv;
    aitag_log_set_sink(quiet, NULL, AITAG_LOG_ERROR);
    snprintf(text, sizeof text,
             "{\"listen\": \"127.0.0.1\", \"port\": 0, \"workers\": 2, \"max_body_bytes\": 1048576,"
             " \"retries\": 0, \"breaker\": {\"failures\": 1000000000},"
             " \"catalog\": \"/nonexistent/aitag-fuzz/catalog.db\","
             " \"routes\": {\"whisper\": {\"backends\": [{\"kind\": \"openai\","
             " \"url\": \"http://127.0.0.1:%d/v1\", \"model\": \"whisper-1\"}]},"
             " \"tag\": {\"backends\": [{\"kind\": \"local\", \"analyzers\": [\"objects\"]}]}}}",
             refusing_port());
    if (aitag_gateway_config_parse(text, &cfg, err, sizeof err) < 0 ||
        (p.cfg = cfg, aitag_gateway_start(&p, &gw, err, sizeof err) < 0)) {
        fprintf(stderr, "fuzz_gw_multipart: %s\n", err);
        abort();
    }
    port = aitag_gateway_port(gw);
    return 0;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the gateway may answer (and close) before the body is all sent */
        p += w;
        n -= (size_t)w;
    }
}

/* Sends one request, reads the answer to its end; returns the HTTP status, 0 when none. */
static int exchange(const char *url, const char *params, const uint8_t *body, size_t len)
{
    struct sockaddr_in a = {0};
    struct timeval tv = {20, 0};
    char head[1024], answer[4096];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
    ssize_t n;

    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        abort();
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
             "Content-Type: multipart/form-data; %s\r\nContent-Length: %zu\r\n\r\n",
             url, params, len);
    send_all(fd, head, strlen(head));
    send_all(fd, (const char *)body, len);
    while ((n = recv(fd, answer + got, sizeof answer - 1 - got, 0)) > 0) {
        got += (size_t)n;
        if (got == sizeof answer - 1)
            got = 64; /* keep the status line, drop the rest */
    }
    answer[got] = '\0';
    close(fd);
    if (n < 0)
        return -1; /* timed out: the gateway hung on this body */
    if (sscanf(answer, "HTTP/1.%*d %d", &status) != 1)
        return 0;
    return status;
}

/* Raw mode: a first line of Content-Type parameters, then the body as it is. */
static int raw(const uint8_t *data, size_t size, const char **url)
{
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    char params[256];
    size_t n = 0, skip = 0;

    *url = "/v1/audio/transcriptions";
    if (!nl)
        return 0;
    if (nl > data && data[0] == 'T') {
        *url = "/v1/tag";
        skip = 1;
    }
    for (const uint8_t *p = data + skip; p < nl && n + 1 < sizeof params; p++)
        if (*p >= 0x20 && *p < 0x7f) /* what may stand in a header value */
            params[n++] = (char)*p;
    params[n] = '\0';
    return exchange(*url, params, nl + 1, size - (size_t)(nl + 1 - data));
}

/* Structured mode: the input describes parts, sent as a well-formed body, so the answer is
 * known: records of [flags][length, 2 bytes][value]; flags % 5 picks the name, 0x10 adds a
 * filename, 0x20 makes a "model" part name the route. The model and file that count are the
 * first parts of those names (read as C strings, as the gateway does). */
static int structured(const uint8_t *data, size_t size, int to_tag, int *want)
{
    static const char *const names[] = {"model", "file", "evidence", "prompt", "x y"};
    const char *route = to_tag ? "tag" : "whisper";
    char *body = malloc(BODY_ROOM + 1024), boundary[40];
    const char *model = NULL;
    size_t n = 0, pos = 0, file_len = 0, parts = 0;
    int has_file = 0, status, clash;

    if (!body)
        return -2;
    /* a boundary that no value holds (values are at most size bytes in all) */
    for (unsigned k = 0;; k++) {
        snprintf(boundary, sizeof boundary, "fuzzB0undary%u", k);
        clash = 0;
        for (size_t i = 0; i + strlen(boundary) <= size && !clash; i++)
            clash = memcmp(data + i, boundary, strlen(boundary)) == 0;
        if (!clash)
            break;
    }
    while (pos + 3 <= size) {
        unsigned flags = data[pos], len = data[pos + 1] | (unsigned)data[pos + 2] << 8;
        const char *name = names[flags % 5];
        const char *value = (const char *)data + pos + 3;
        pos += 3;
        if (len > size - pos)
            len = (unsigned)(size - pos);
        if (strcmp(name, "model") == 0 && (flags & 0x20)) {
            value = route;
            len = (unsigned)strlen(route);
        } else {
            pos += len;
        }
        if (len == 0)
            continue; /* an empty value: whether a part exists then is the parser's business */
        if (n + len + 512 > BODY_ROOM)
            break; /* stay under max_body_bytes */
        n += (size_t)snprintf(body + n, 512,
                              "--%s\r\nContent-Disposition: form-data; name=\"%s\"%s\r\n\r\n",
                              boundary, name, flags & 0x10 ? "; filename=\"f.bin\"" : "");
        memcpy(body + n, value, len);
        n += len;
        memcpy(body + n, "\r\n", 2);
        n += 2;
        parts++;
        if (strcmp(name, "model") == 0 && !model)
            model = strndup(value, len);
        if (strcmp(name, "file") == 0 && !has_file) {
            has_file = 1;
            file_len = len;
        }
    }
    n += (size_t)snprintf(body + n, 64, "--%s--\r\n", boundary);
    {
        char params[64];
        snprintf(params, sizeof params, "boundary=%s", boundary);
        status = exchange(to_tag ? "/v1/tag" : "/v1/audio/transcriptions", params,
                          (const uint8_t *)body, n);
    }
    if (parts == 0)
        *want = 400; /* a body without parts is malformed */
    else if (to_tag) /* the tagging route's answers are the tagging handler's business; the
                      * transcription route does not tag (400, nothing relayed) */
        *want = !model || strcmp(model, route) == 0 ? 501
                : strcmp(model, "whisper") == 0     ? 400
                                                    : 404;
    else if (!model || !has_file || file_len == 0)
        *want = 400;
    else
        *want = strcmp(model, route) == 0 ? 502 : 404;
    free((char *)model);
    free(body);
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *url = "/v1/tag";
    int status, want = 0;

    if (size > 0 && (data[0] == 'S' || data[0] == 's')) {
        status = structured(data + 1, size - 1, data[0] == 's', &want);
        if (status == -2)
            return 0; /* out of memory here */
        if (status != want) {
            fprintf(stderr, "fuzz_gw_multipart: well-formed parts answered %d, not %d\n", status,
                    want);
            abort();
        }
        return 0;
    }
    status = raw(data, size, &url);
    switch (status) {
    case 0:
        if (!memchr(data, '\n', size < 256 ? size : 256))
            return 0; /* nothing sent */
        break;
    case 400: /* malformed multipart, a missing part */
    case 404: /* no such route */
    case 501: /* tagging without a tagger in this program */
    case 502: /* the refusing upstream */
    case 503:
        return 0;
    default:
        break;
    }
    fprintf(stderr, "fuzz_gw_multipart: %s answered %d\n", url, status);
    abort();
}
