/*
 * ocr_metrics.h - character error rate for OCR (and speech) tests.
 *
 * ocr_cer(hyp, ref) = Levenshtein distance / reference length, over Unicode code points, after
 * normalising both strings: ASCII letters folded to lower case and all whitespace removed.
 * PaddleOCR drops some spaces between words, and a test should judge the characters it read,
 * not its spacing. ocr_cer_spaced() keeps single spaces (runs collapsed, ends trimmed) for tests
 * that care about word boundaries. Header-only, for test binaries; no allocation limits beyond
 * the two strings' lengths.
 */
#ifndef AITAG_TEST_OCR_METRICS_H
#define AITAG_TEST_OCR_METRICS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence at *s (advancing it); invalid bytes decode as themselves. */
static inline uint32_t ocr_utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t cp = p[0];
    int extra = 0;

    if (cp >= 0xF0 && cp < 0xF8)
        cp &= 0x07, extra = 3;
    else if (cp >= 0xE0)
        cp &= 0x0F, extra = 2;
    else if (cp >= 0xC0)
        cp &= 0x1F, extra = 1;
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s = p + 1;
            return p[0];
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *s = p + 1 + extra;
    return cp;
}

/* Normalises s into out (room for strlen(s) code points); returns the count. keep_spaces: 0
 * removes all whitespace, 1 keeps single spaces between words. */
static inline size_t ocr_normalize(const char *s, uint32_t *out, int keep_spaces)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    int pending_space = 0;

    while (*p) {
        uint32_t cp = ocr_utf8_next(&p);
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000) {
            pending_space = keep_spaces && n > 0;
            continue;
        }
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        if (pending_space)
            out[n++] = ' ';
        pending_space = 0;
        out[n++] = cp;
    }
    return n;
}

/* Edit distance (insertions, deletions, substitutions cost 1); (size_t)-1 if out of memory. */
static inline size_t ocr_levenshtein(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t *row = malloc((nb + 1) * sizeof *row), d;

    if (!row)
        return (size_t)-1;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    d = row[nb];
    free(row);
    return d;
}

static inline double ocr_cer_mode(const char *hyp, const char *ref, int keep_spaces)
{
    uint32_t *h = malloc((strlen(hyp) + 1) * sizeof *h);
    uint32_t *r = malloc((strlen(ref) + 1) * sizeof *r);
    double cer = 1.0;

    if (h && r) {
        size_t nh = ocr_normalize(hyp, h, keep_spaces), nr = ocr_normalize(ref, r, keep_spaces);
        size_t d = ocr_levenshtein(h, nh, r, nr);
        if (d != (size_t)-1)
            cer = nr ? (double)d / (double)nr : (nh ? 1.0 : 0.0);
    }
    free(h);
    free(r);
    return cer;
}

/* CER with whitespace removed and case folded; 0 = identical, may exceed 1 for long junk. An
 * empty reference gives 0 for an empty hypothesis and 1 otherwise. */
static inline double ocr_cer(const char *hyp, const char *ref)
{
    return ocr_cer_mode(hyp, ref, 0);
}

/* CER keeping word boundaries (whitespace runs count as one space). */
static inline double ocr_cer_spaced(const char *hyp, const char *ref)
{
    return ocr_cer_mode(hyp, ref, 1);
}

#endif
