/* fuzz_exif.c - libFuzzer target for the JPEG/EXIF orientation reader (untrusted bytes). */
#include <stddef.h>
#include <stdint.h>

#include "media/media_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int r = media_jpeg_rotation(data, size);

    if (r != 0 && r != 90 && r != 180 && r != 270)
        __builtin_trap();
    return 0;
}
