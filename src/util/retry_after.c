/*
 * retry_after.c - the HTTP Retry-After header's value (RFC 9110 10.2.3), read from servers
 * that ask to be left alone for a while (Stash's 429 and 503 answers).
 *
 * The value is either delta-seconds (digits only: "+5", "-1", "5s" or "0x10" are not numbers
 * here, nor is a number too long for a long, which is capped rather than wrapped) or an HTTP
 * date, which libcurl's curl_getdate reads in all three of HTTP's formats. Everything is
 * untrusted and bounded: the value is copied only when short, a date in the past means "now",
 * and the wait is capped by the caller's maximum. The clock is a parameter, so the parse is
 * pure and the tests and the fuzz target drive it with a fixed now.
 *
 * Like curl_init.c, this object is only pulled out of util by callers that link libcurl.
 */
#include <curl/curl.h>
#include <string.h>

#include "aitag/common.h"

long aitag_retry_after_ms(const char *v, size_t len, long long now, long max_ms)
{
    char tmp[64];
    long long secs = 0, cap;
    size_t i;
    time_t when;

    if (max_ms < 0)
        max_ms = 0;
    cap = max_ms / 1000;
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len > 0 &&
           (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof tmp || memchr(v, '\0', len))
        return -1;
    for (i = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++)
        if (secs <= cap) /* saturates: past the cap the value no longer matters */
            secs = secs * 10 + (v[i] - '0');
    if (i == len)
        return secs > cap ? max_ms : (long)(secs * 1000);
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    when = curl_getdate(tmp, NULL);
    if (when < 0)
        return -1;
    secs = (long long)when - now;
    if (secs < 0)
        secs = 0;
    return secs > cap ? max_ms : (long)(secs * 1000);
}
