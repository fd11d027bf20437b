/* fuzz_base64.c - libFuzzer target for aitag_base64_decode (the gateway's "image_base64" field,
 * a client's bytes): any text decodes within AITAG_BASE64_DECODED_MAX or is refused, never
 * writes past it; and what decodes re-encodes to the same alphabet characters (white space
 * and padding aside), so nothing is dropped or invented. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *canon = NULL;
    unsigned char *out = NULL;
    size_t n = 0, max, chars = 0;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    max = AITAG_BASE64_DECODED_MAX(strlen(s));
    out = malloc(max ? max : 1); /* exact size: ASan catches a write past the bound */
    canon = malloc(strlen(s) + 1);
    if (!out || !canon)
        goto out;
    if (aitag_base64_decode(s, out, &n) < 0)
        goto out;
    if (n > max)
        abort();
    /* the input's alphabet characters, URL-safe ones mapped to the standard alphabet */
    for (const char *p = s; *p; p++) {
        char c = *p == '-' ? '+' : *p == '_' ? '/' : *p;
        if (strchr(std_alpha, c))
            canon[chars++] = c;
    }
    if (n != chars * 6 / 8)
        abort();
    /* re-encode n bytes and compare with the input's characters; the last one may carry
     * unused low bits (dropped by the decoder), so only its used bits are compared */
    for (size_t i = 0; i < chars; i++) {
        size_t bit = i * 6, unused = i + 1 == chars ? chars * 6 - n * 8 : 0;
        unsigned v = 0, want = (unsigned)(strchr(std_alpha, canon[i]) - std_alpha);
        for (int b = 0; b < 6; b++, bit++)
            v = v << 1 | (bit / 8 < n ? (out[bit / 8] >> (7 - bit % 8)) & 1u : 0u);
        if (v >> unused != want >> unused)
            abort();
    }
out:
    free(canon);
    free(out);
    free(s);
    return 0;
}
