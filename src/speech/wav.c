/*
 * wav.c - a segment of samples as a WAV file: what the remote recognizer uploads. The format
 * is the plainest there is (RIFF, PCM, 16-bit, mono, little-endian), which every
 * transcription server reads.
 */
#include <stdlib.h>
#include <string.h>

#include "speech_int.h"

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

int speech_wav(const int16_t *samples, size_t n, int rate, uint8_t **out, size_t *len)
{
    size_t data = n * 2;
    uint8_t *w;

    *out = NULL, *len = 0;
    if (data > 0x7fffffffu - 44)
        return AITAG_ERR_INVALID;
    w = malloc(44 + data);
    if (!w)
        return AITAG_ERR_NOMEM;
    memcpy(w, "RIFF", 4);
    le32(w + 4, (uint32_t)(36 + data));
    memcpy(w + 8, "WAVEfmt ", 8);
    le32(w + 16, 16);
    le16(w + 20, 1); /* PCM */
    le16(w + 22, 1); /* mono */
    le32(w + 24, (uint32_t)rate);
    le32(w + 28, (uint32_t)rate * 2);
    le16(w + 32, 2);
    le16(w + 34, 16);
    memcpy(w + 36, "data", 4);
    le32(w + 40, (uint32_t)data);
    for (size_t i = 0; i < n; i++)
        le16(w + 44 + 2 * i, (uint16_t)samples[i]);
    *out = w;
    *len = 44 + data;
    return 0;
}
