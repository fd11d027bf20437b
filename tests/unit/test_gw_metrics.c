/*
 * test_gw_metrics.c - the /metrics text stays valid Prometheus exposition format whatever bytes
 * reach a label (quotes, backslashes, CR, LF, invalid or cut UTF-8), and labels come from the
 * endpoint table: an unknown URL is "not_found", a known path with another method its own.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gateway/gateway_int.h"

/* One label value at *p (after its opening quote) up to the closing quote: only \\, \" and \n
 * escapes, no raw LF or CR. Advances *p past the closing quote; 0 when well-formed. */
static int label_value(const char **p)
{
    const char *s = *p;

    for (; *s && *s != '"'; s++) {
        if (*s == '\r' || *s == '\n')
            return -1;
        if (*s == '\\') {
            s++;
            if (*s != '\\' && *s != '"' && *s != 'n')
                return -1;
        }
    }
    if (*s != '"')
        return -1;
    *p = s + 1;
    return 0;
}

/* A strict reader of the exposition format's lines: "# HELP/TYPE ...", or
 * name{label="value",...} number. The whole text must be valid UTF-8 without CR. Returns the
 * number of samples, or -1 at the first malformed line. */
static int parse_exposition(const char *text)
{
    int samples = 0;

    for (const unsigned char *u = (const unsigned char *)text; *u;) {
        size_t n = gw_utf8_len(u);
        if (n == 0 || *u == '\r')
            return -1;
        u += n;
    }
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n'), *p = line;
        if (!end)
            return -1; /* every line ends with LF */
        if (*p == '#') {
            if (strncmp(p, "# HELP ", 7) != 0 && strncmp(p, "# TYPE ", 7) != 0)
                return -1;
        } else {
            if (!(*p == '_' || *p == ':' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                return -1;
            while (*p == '_' || *p == ':' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9'))
                p++;
            if (*p == '{') {
                p++;
                while (*p != '}') {
                    const char *eq = p;
                    while ((*eq >= 'a' && *eq <= 'z') || *eq == '_')
                        eq++;
                    if (eq == p || eq[0] != '=' || eq[1] != '"')
                        return -1;
                    p = eq + 2;
                    if (label_value(&p) < 0 || p > end)
                        return -1;
                    if (*p == ',')
                        p++;
                    else if (*p != '}')
                        return -1;
                }
                p++;
            }
            if (*p++ != ' ')
                return -1;
            char *num_end;
            strtod(p, &num_end);
            if (num_end == p || num_end != end)
                return -1;
            samples++;
        }
        line = end + 1;
    }
    return samples;
}

static void test_nasty_labels(void)
{
    struct gw_metrics *m = gw_metrics_new();
    static const char *const nasty[] = {
        "we\"ird",
        "back\\slash",
        "line\nfeed",
        "carriage\rreturn",
        "bad\xff utf8",
        "cut \xc3",
        "surrogate \xed\xa0\x80",
        "overlong \xc0\xaf",
        "del\x7f tab\t",
        "caf\xc3\xa9 ok",
    };
    char *text;

    for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
        gw_metrics_request(m, nasty[i], 200, 0.01);
        gw_metrics_upstream_error(m, nasty[i], nasty[i]);
    }
    text = gw_metrics_render(m);
    CHECK(text != NULL);
    if (text) {
        /* 10 request counters, 10 x 15 histogram lines, 10 upstream errors, 3 cache counters */
        CHECK_EQ_INT(parse_exposition(text), 10 + 10 * 15 + 10 + 3);
        CHECK(strstr(text, "route=\"we\\\"ird\""));
        CHECK(strstr(text, "route=\"back\\\\slash\""));
        CHECK(strstr(text, "route=\"line\\nfeed\""));
        CHECK(strstr(text, "route=\"carriage\xef\xbf\xbdreturn\""));
        CHECK(strstr(text, "route=\"bad\xef\xbf\xbd utf8\""));
        CHECK(strstr(text, "route=\"caf\xc3\xa9 ok\"")); /* valid UTF-8 kept */
        CHECK(!strchr(text, '\r'));
    }
    free(text);
    gw_metrics_free(m);
}

static void test_endpoint_labels(void)
{
    struct gw_req r;

    memset(&r, 0, sizeof r);
    r.ep = gw_endpoint_find("/v1/chat/completions");
    CHECK(r.ep != NULL);
    if (r.ep) {
        CHECK_STR(r.ep->method, "POST");
        CHECK_STR(gw_endpoint_label(&r), "/v1/chat/completions"); /* e.g. a GET: 405 */
        CHECK(r.ep->auth && r.ep->on_worker && r.ep->metered);
    }
    snprintf(r.route, sizeof r.route, "chat");
    CHECK_STR(gw_endpoint_label(&r), "chat");
    r.route[0] = '\0';
    r.ep = gw_endpoint_find("/v1/chat/completions/../../etc");
    CHECK(r.ep == NULL);
    CHECK_STR(gw_endpoint_label(&r), "not_found");
    CHECK(gw_endpoint_find("/healthz") && !gw_endpoint_find("/healthz")->auth);
    CHECK(gw_endpoint_find("/metrics") && !gw_endpoint_find("/metrics")->on_worker);
    CHECK(gw_endpoint_find("/v1/tag") && gw_endpoint_find("/v1/tag")->auth);
    CHECK(gw_endpoint_find("/v1/models") && gw_endpoint_find("/v1/models")->auth);
}

/* 10,000 distinct unknown URLs add one series, whatever the URLs. */
static void test_unknown_urls_one_series(void)
{
    struct gw_metrics *m = gw_metrics_new();
    struct gw_req r;
    char *text;

    memset(&r, 0, sizeof r);
    for (int i = 0; i < 10000; i++) {
        snprintf(r.url, sizeof r.url, "/scan/%d/\"\r\xff", i);
        r.ep = gw_endpoint_find(r.url);
        gw_metrics_request(m, gw_endpoint_label(&r), 404, 0.001);
    }
    text = gw_metrics_render(m);
    CHECK(text && strlen(text) < 8192);
    CHECK(text && strstr(text, "route=\"not_found\",status=\"404\"} 10000\n"));
    free(text);
    gw_metrics_free(m);
}

int main(void)
{
    test_nasty_labels();
    test_endpoint_labels();
    test_unknown_urls_one_series();
    return check_done();
}
