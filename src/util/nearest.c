/*
 * nearest.c - "did you mean" for misspelt option names, config keys and rules fields.
 *
 * Levenshtein distance with one row of memory; names are short (under 64 characters are
 * compared in full, longer ones are never a typo of a table name and count as far away). The
 * cut-off keeps wild guesses out: "treshold" -> "threshold" (1 edit), but "foo" suggests
 * nothing.
 */
#include <ctype.h>
#include <string.h>

#include "aitag/common.h"

#define MAX_LEN 64

static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[MAX_LEN + 1];

    if (la > MAX_LEN || lb > MAX_LEN)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *aitag_nearest(const char *word, const char *const *candidates, size_t n)
{
    size_t best = (size_t)-1, limit = strlen(word) / 3;
    const char *found = NULL;

    if (limit < 2)
        limit = 2;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(word, candidates[i]);
        if (d < best) {
            best = d;
            found = candidates[i];
        }
    }
    return best <= limit ? found : NULL;
}
