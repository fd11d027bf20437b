/*
 * curl_init.c - libcurl's process-wide setup, once. curl_global_init is not safe to race with
 * itself or with handles being created, so every library that makes a handle (Stash client,
 * gateway upstreams, VLM requests, model installer, remote client) calls
 * aitag_curl_global_init() first; pthread_once makes the first call the only one and every
 * later call returns its result. It is never cleaned up: handles may live until exit.
 *
 * util itself does not link libcurl (the catalog links util and must not load it): this object
 * is only pulled out of the static library by callers that already link libcurl.
 */
#include <pthread.h>

#include <curl/curl.h>

#include "aitag/common.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void init(void)
{
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int aitag_curl_global_init(void)
{
    pthread_once(&once, init);
    return init_rc == CURLE_OK ? 0 : AITAG_ERR_NET;
}
