/*
 * test_web_requests.c - the review app's API against malformed requests, over real HTTP on
 * loopback with an empty catalog: each case is a finding of tests/fuzz/fuzz_web_api.c, and
 * each must be refused with its message (under ASan: without reading freed memory).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/common.h"
#include "aitag/policy.h"
#include "aitag/web.h"
#include "check.h"

/* One request; the answer's body into *out (free()), its status returned (0: no answer). */
static long request(const char *url, const char *csrf, const char *post, char **out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct aitag_http_body b = {0};
    char line[200];
    long status = 0;

    snprintf(line, sizeof line, "X-CSRF-Token: %s", csrf ? csrf : "");
    h = curl_slist_append(h, line);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (post)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, aitag_http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    *out = b.data;
    return status;
}

int main(void)
{
    char dir[] = "/tmp/aitag-test-web-XXXXXX", catalog[128], web[128], cache[128], base[64];
    char url[128], csrf[128] = "", err[512], *out = NULL;
    struct aitag_web_params wp = aitag_web_default_params();
    struct aitag_policy *policy = NULL;
    struct aitag_web *w = NULL;
    json_t *j;

    CHECK(mkdtemp(dir) != NULL);
    CHECK(aitag_policy_new(&policy) == 0);
    snprintf(catalog, sizeof catalog, "%s/catalog.db", dir);
    snprintf(web, sizeof web, "%s/web", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    mkdir(web, 0700);
    wp.catalog_path = catalog;
    wp.policy = policy;
    wp.static_dir = web;
    wp.cache_dir = cache;
    if (aitag_web_start(&wp, &w, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        goto out;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", aitag_web_port(w));
    snprintf(url, sizeof url, "%s/api/session", base);
    CHECK_EQ_INT(request(url, NULL, NULL, &out), 200);
    j = out ? json_loads(out, 0, NULL) : NULL;
    CHECK(json_is_string(json_object_get(j, "csrf")));
    if (json_is_string(json_object_get(j, "csrf")))
        snprintf(csrf, sizeof csrf, "%s", json_string_value(json_object_get(j, "csrf")));
    json_decref(j);
    free(out);

    /* An unknown action: the message was chosen after the body (which holds the label) was
     * freed. */
    snprintf(url, sizeof url, "%s/api/thresholds", base);
    CHECK_EQ_INT(request(url, csrf, "{\"label\":\"dog\",\"action\":\"learmmmn\"}", &out), 400);
    CHECK(out && strstr(out, "action: not learn or forget"));
    free(out);
    CHECK_EQ_INT(request(url, csrf, "{\"label\":\"\",\"action\":\"learn\"}", &out), 400);
    CHECK(out && strstr(out, "label: missing"));
    free(out);
out:
    aitag_web_stop(w);
    aitag_policy_free(policy);
    {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
    }
    return check_done();
}
