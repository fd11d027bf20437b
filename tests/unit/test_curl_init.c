/* test_curl_init.c - libcurl's one process-wide setup (src/util/curl_init.c): racing first
 * calls from many threads all succeed, later calls give the same answer, and handles work. */
#include <pthread.h>

#include <curl/curl.h>

#include "aitag/common.h"
#include "check.h"

enum { THREADS = 8 };

static pthread_barrier_t start;

static void *racer(void *arg)
{
    int *rc = arg;

    pthread_barrier_wait(&start);
    *rc = aitag_curl_global_init();
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    int rc[THREADS];
    CURL *h;

    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        rc[i] = -100;
        pthread_create(&t[i], NULL, racer, &rc[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(rc[i], 0);
    }
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(aitag_curl_global_init(), 0);
    h = curl_easy_init();
    CHECK(h != NULL);
    if (h)
        CHECK_EQ_INT(curl_easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:9/"), CURLE_OK);
    curl_easy_cleanup(h);
    return check_done();
}
