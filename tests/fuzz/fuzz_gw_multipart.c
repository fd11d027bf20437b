/* fuzz_gw_multipart.c - libFuzzer target for multipart/form-data request bodies (a client's
 * bytes), parsed the way the gateway parses them: libmicrohttpd's post processor needs a real
 * connection, so a real gateway is started once on loopback and every input is sent to it as
 * one HTTP request. Its routes lead nowhere harmful: the transcription route's upstream is a
 * loopback port that refuses connections (so the parts are rebuilt for it and the call fails
 * at once), and the tagging route has a local backend in a program without a tagger (501).
 *
 * Input: a first line with the Content-Type's parameters (e.g. "boundary=XyZ"; a leading 'T'
 * sends the request to /v1/tag instead of /v1/audio/transcriptions), then the body. Checked:
 * every request gets a whole answer (no hang, no crash, no dropped connection), with one of
 * the statuses a malformed or undeliverable upload may get, never a 500. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    const char *url = "/v1/audio/transcriptions";
    char params[256];
    size_t n = 0, skip;
    int status;

    if (!nl)
        return 0;
    skip = 0;
    if (nl > data && data[0] == 'T') {
        url = "/v1/tag";
        skip = 1;
    }
    for (const uint8_t *p = data + skip; p < nl && n + 1 < sizeof params; p++)
        if (*p >= 0x20 && *p < 0x7f) /* what may stand in a header value */
            params[n++] = (char)*p;
    params[n] = '\0';
    status = exchange(url, params, nl + 1, size - (size_t)(nl + 1 - data));
    switch (status) {
    case 400: /* malformed multipart, a missing part */
    case 404: /* no such route */
    case 501: /* tagging without a tagger in this program */
    case 502: /* the refusing upstream */
    case 503:
        return 0;
    default:
        fprintf(stderr, "fuzz_gw_multipart: %s answered %d\n", url, status);
        abort();
    }
}
