/* fuzz_web_range.c - libFuzzer target for the Range header of a media request to the review
 * app (a browser's, or anyone's, bytes). The input is the header text; it is tried against a
 * few file sizes. A range that applies lies inside the file (from <= to < size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t sizes[] = {0, 1, 100, 1ull << 40, UINT64_MAX};
    char *h = malloc(size + 1);

    if (!h)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        uint64_t from = 0, to = 0;
        int rc = web_parse_range(h, sizes[i], &from, &to);
        if (rc < -1 || rc > 1 || (rc == 1 && !(from <= to && to < sizes[i])))
            abort();
    }
    free(h);
    return 0;
}
