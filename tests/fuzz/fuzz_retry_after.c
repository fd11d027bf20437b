/* fuzz_retry_after.c - libFuzzer target for the Retry-After value parser (a server's header
 * bytes): any bytes give -1 or a wait within 0..max, never crash or read past len. The bytes
 * are copied into an exact-size buffer so ASan sees a read past the value's end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = malloc(size ? size : 1);
    size_t digits = 0;
    long ms;

    if (!v)
        return 0;
    memcpy(v, data, size);
    ms = aitag_retry_after_ms(v, size, 1784505600LL, 60000);
    if (ms < -1 || ms > 60000)
        abort();
    /* digits alone are delta-seconds: exactly their value, capped */
    while (digits < size && v[digits] >= '0' && v[digits] <= '9')
        digits++;
    if (size > 0 && size < 6 && digits == size) {
        long secs = 0;
        for (size_t i = 0; i < size; i++)
            secs = secs * 10 + (v[i] - '0');
        if (ms != (secs > 60 ? 60000 : secs * 1000))
            abort();
    }
    free(v);
    return 0;
}
