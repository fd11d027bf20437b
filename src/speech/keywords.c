/*
 * keywords.c - the words a transcript is about: the user's vocabulary where it was said, then
 * the content words said most often.
 *
 * Words are compared in lower case. A vocabulary entry matches its word and its plural in -s
 * or -es. Statistical keywords are the words of at least 4 letters that are not stopwords (a
 * list of the most frequent English function words and fillers), said at least min_count
 * times, ranked by count, then by first time said: with no corpus at hand, term frequency
 * within the item is the statistic; stopwords carry the "inverse document" part.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aitag/speech.h"

static const char *const stopwords[] = {
    "about",    "above",   "after",    "again",     "against", "all",      "also",
    "although", "always",  "am",       "among",     "an",      "and",      "another",
    "any",      "anyone",  "anything", "are",       "around",  "as",       "at",
    "away",     "back",    "be",       "because",   "been",    "before",   "being",
    "below",    "between", "both",     "but",       "by",      "can",      "cannot",
    "come",     "could",   "did",      "does",      "doing",   "done",     "down",
    "during",   "each",    "either",   "else",      "enough",  "even",     "ever",
    "every",    "few",     "for",      "from",      "further", "get",      "gets",
    "getting",  "give",    "go",       "goes",      "going",   "gone",     "got",
    "gonna",    "had",     "has",      "have",      "having",  "he",       "her",
    "here",     "hers",    "herself",  "him",       "himself", "his",      "how",
    "however",  "i",       "if",       "in",        "into",    "is",       "it",
    "its",      "itself",  "just",     "know",      "let",     "like",     "made",
    "make",     "many",    "may",      "maybe",     "me",      "might",    "mine",
    "more",     "most",    "much",     "must",      "my",      "myself",   "need",
    "never",    "next",    "no",       "nor",       "not",     "nothing",  "now",
    "of",       "off",     "often",    "okay",      "on",      "once",     "one",
    "only",     "or",      "other",    "others",    "our",     "ours",     "ourselves",
    "out",      "over",    "own",      "really",    "right",   "said",     "same",
    "say",      "says",    "see",      "seen",      "shall",   "she",      "should",
    "since",    "so",      "some",     "something", "still",   "such",     "take",
    "than",     "that",    "the",      "their",     "theirs",  "them",     "themselves",
    "then",     "there",   "these",    "they",      "thing",   "things",   "think",
    "this",     "those",   "though",   "through",   "to",      "today",    "too",
    "under",    "until",   "up",       "upon",      "us",      "very",     "want",
    "was",      "way",     "we",       "well",      "were",    "what",     "when",
    "where",    "whether", "which",    "while",     "who",     "whom",     "whose",
    "why",      "will",    "with",     "within",    "without", "would",    "yeah",
    "yes",      "yet",     "you",      "your",      "yours",   "yourself", "yourselves",
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int aitag_speech_is_stopword(const char *w)
{
    return bsearch(&w, stopwords, sizeof stopwords / sizeof *stopwords, sizeof *stopwords,
                   cmp_str) != NULL;
}

/* w matches vocabulary entry v, itself or as a plural. */
static int matches(const char *w, const char *v)
{
    size_t lw = strlen(w), lv = strlen(v);

    if (strcasecmp(w, v) == 0)
        return 1;
    return lw > lv && strncasecmp(w, v, lv) == 0 &&
           (strcasecmp(w + lv, "s") == 0 || strcasecmp(w + lv, "es") == 0);
}

static int letters(const char *w)
{
    int n = 0;

    for (; *w; w++) {
        if (!isalpha((unsigned char)*w) && *w != '\'')
            return -1;
        n++;
    }
    return n;
}

/* Counts word (lower case) into kw[0..*n) up to cap entries. */
static void count(struct aitag_keyword *kw, size_t *n, size_t cap, const char *word,
                  const struct aitag_word *w, int vocab)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (strcmp(kw[i].word, word) == 0)
            break;
    if (i == *n) {
        if (*n == cap || strlen(word) >= sizeof kw->word)
            return;
        memset(&kw[i], 0, sizeof kw[i]);
        strcpy(kw[i].word, word);
        kw[i].first = w->start;
        kw[i].from_vocabulary = vocab;
        (*n)++;
    }
    kw[i].count++;
    if (w->confidence > kw[i].confidence)
        kw[i].confidence = w->confidence;
}

static int cmp_kw(const void *a, const void *b)
{
    const struct aitag_keyword *x = a, *y = b;

    if (x->from_vocabulary != y->from_vocabulary)
        return y->from_vocabulary - x->from_vocabulary;
    if (x->count != y->count)
        return y->count - x->count;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return strcmp(x->word, y->word);
}

size_t aitag_speech_keywords(const struct aitag_transcript *t, const char *const *vocab,
                             size_t n_vocab, int min_count, struct aitag_keyword *out, size_t max)
{
    size_t cap = 0, n = 0, k = 0;
    struct aitag_keyword *kw;

    for (size_t i = 0; i < t->n; i++)
        cap += (size_t)t->segs[i].n_words;
    if (cap == 0 || max == 0 || !(kw = calloc(cap, sizeof *kw)))
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        for (int j = 0; j < t->segs[i].n_words; j++) {
            const struct aitag_word *w = &t->segs[i].words[j];
            char low[48];
            size_t v, l;
            for (l = 0; w->word[l] && l + 1 < sizeof low; l++)
                low[l] = (char)tolower((unsigned char)w->word[l]);
            low[l] = '\0';
            for (v = 0; v < n_vocab; v++)
                if (matches(low, vocab[v]))
                    break;
            if (v < n_vocab) {
                char entry[48];
                size_t e;
                for (e = 0; vocab[v][e] && e + 1 < sizeof entry; e++)
                    entry[e] = (char)tolower((unsigned char)vocab[v][e]);
                entry[e] = '\0';
                count(kw, &n, cap, entry, w, 1);
            } else if (letters(low) >= 4 && !aitag_speech_is_stopword(low)) {
                count(kw, &n, cap, low, w, 0);
            }
        }
    }
    qsort(kw, n, sizeof *kw, cmp_kw);
    for (size_t i = 0; i < n && k < max; i++)
        if (kw[i].from_vocabulary || kw[i].count >= (min_count > 0 ? min_count : 1))
            out[k++] = kw[i];
    free(kw);
    return k;
}
