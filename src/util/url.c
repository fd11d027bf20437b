/*
 * url.c - is a URL's host this machine? The local-only switch of the gateway's backends and of
 * the remote client rests on it, so it reads the host the way curl will: after "scheme://" and
 * any "user:password@", up to the port, path, query or fragment, with IPv6 literals in
 * brackets. Only literal loopback addresses and "localhost" count; a name that resolves to
 * 127.0.0.1 does not, since resolving could be steered.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "aitag/common.h"

int aitag_url_is_loopback(const char *url)
{
    const char *h = strstr(url ? url : "", "://"), *end, *at;
    char host[256];
    unsigned char a[16];
    size_t n;

    if (!h)
        return 0;
    h += 3;
    end = h + strcspn(h, "/?#");
    at = memchr(h, '@', (size_t)(end - h));
    if (at)
        h = at + 1; /* user:password@ */
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (!close)
            return 0;
        h++;
        n = (size_t)(close - h);
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));
        n = (size_t)((colon ? colon : end) - h);
    }
    if (n == 0 || n >= sizeof host)
        return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1)
        return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
    return 0;
}
