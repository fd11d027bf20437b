/*
 * wer.c - word error rate: the edit distance between a reference and a hypothesis counted in
 * words (Levenshtein over word sequences), split into substitutions, deletions and
 * insertions by walking back one optimal alignment. Words are compared in lower case with
 * everything but letters, digits and apostrophes removed, so "Cake," matches "cake".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/speech.h"

/* Splits s into normalised words: *out (free the array and out[0]) */
static size_t words_of(const char *s, char ***out)
{
    size_t len = strlen(s), n = 0;
    char *buf = malloc(len + 1), **w = malloc((len / 2 + 2) * sizeof *w);
    size_t k = 0;

    *out = NULL;
    if (!buf || !w) {
        free(buf);
        free(w);
        return 0;
    }
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c && (isalnum(c) || c == '\'')) {
            if (k == 0 || buf[k - 1] == '\0')
                w[n++] = buf + k;
            buf[k++] = (char)tolower(c);
        } else if (k > 0 && buf[k - 1] != '\0') {
            buf[k++] = '\0';
        }
    }
    if (k == 0 || buf[k - 1] != '\0')
        buf[k] = '\0';
    if (n == 0) {
        free(buf);
        free(w);
        return 0;
    }
    *out = w;
    return n;
}

double aitag_speech_wer(const char *ref, const char *hyp, int *sub, int *del, int *ins)
{
    char **r = NULL, **h = NULL;
    size_t nr = words_of(ref ? ref : "", &r), nh = words_of(hyp ? hyp : "", &h);
    int *d = NULL, s = 0, de = 0, in = 0;
    double wer = -1;

    if (nr == 0)
        goto out;
    d = malloc((nr + 1) * (nh + 1) * sizeof *d);
    if (!d)
        goto out;
#define D(i, j) d[(i) * (nh + 1) + (j)]
    for (size_t i = 0; i <= nr; i++)
        D(i, 0) = (int)i;
    for (size_t j = 0; j <= nh; j++)
        D(0, j) = (int)j;
    for (size_t i = 1; i <= nr; i++)
        for (size_t j = 1; j <= nh; j++) {
            int best = D(i - 1, j - 1) + (strcmp(r[i - 1], h[j - 1]) != 0);
            if (D(i - 1, j) + 1 < best)
                best = D(i - 1, j) + 1;
            if (D(i, j - 1) + 1 < best)
                best = D(i, j - 1) + 1;
            D(i, j) = best;
        }
    for (size_t i = nr, j = nh; i > 0 || j > 0;) {
        if (i > 0 && j > 0 && D(i, j) == D(i - 1, j - 1) + (strcmp(r[i - 1], h[j - 1]) != 0)) {
            s += strcmp(r[i - 1], h[j - 1]) != 0;
            i--, j--;
        } else if (i > 0 && D(i, j) == D(i - 1, j) + 1) {
            de++, i--;
        } else {
            in++, j--;
        }
    }
#undef D
    wer = (double)(s + de + in) / (double)nr;
out:
    if (sub)
        *sub = s;
    if (del)
        *del = de;
    if (ins)
        *ins = in;
    free(d);
    if (r)
        free(r[0]);
    free(r);
    if (h)
        free(h[0]);
    free(h);
    return wer;
}
