/*
 * error.c - names for enum aitag_err, and the small helpers (time) every library shares.
 */
#include <time.h>

#include "aitag/common.h"

const char *aitag_strerror(int err)
{
    switch (err) {
    case AITAG_OK:
        return "ok";
    case AITAG_ERR_NOMEM:
        return "out of memory";
    case AITAG_ERR_INVALID:
        return "invalid input";
    case AITAG_ERR_IO:
        return "i/o error";
    case AITAG_ERR_MEDIA:
        return "media error";
    case AITAG_ERR_MODEL:
        return "model error";
    case AITAG_ERR_DB:
        return "catalog error";
    case AITAG_ERR_NOTFOUND:
        return "not found";
    case AITAG_ERR_CANCELED:
        return "canceled";
    case AITAG_ERR_NET:
        return "network error";
    default:
        return "unknown error";
    }
}

double aitag_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double aitag_cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
