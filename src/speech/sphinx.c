/*
 * sphinx.c - the local recognizer: CMU PocketSphinx (Debian's libpocketsphinx, 5prealpha) with
 * its US English acoustic model, language model and dictionary.
 *
 * One decoder per speech handle, created on first use (the language model takes a second to
 * read). Each segment is one utterance decoded in a single pass over the whole buffer
 * (full_utt), then read back word by word: fillers (<s>, </s>, <sil>, [NOISE]) are skipped,
 * alternate pronunciations ("read(2)") lose their suffix, frames (100 per second) become
 * seconds from t0, and the word's posterior probability from the lattice is its confidence.
 * By default the search is tuned for speed (docs/speech.md): narrower beams, fewer active
 * HMMs and words per frame than PocketSphinx's defaults and no second (flat lexicon) pass,
 * about 3x faster at equal accuracy on clear speech and worse in noise; `accurate` keeps
 * PocketSphinx's own settings. Cepstral mean normalisation is per utterance (batch): its live
 * default carries what it heard in one file into the next, so a file's words would depend on
 * which files came before. Its logs go nowhere: errors come back through return codes.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pocketsphinx.h>

#include "speech_int.h"

#define SPHINX_DIR "/usr/share/pocketsphinx/model/en-us"
#define FRAME_RATE 100.0

struct sphinx {
    char dir[512];
    int accurate;
    cmd_ln_t *config;
    ps_decoder_t *ps;
};

static int sphinx_load(struct sphinx *s, char *err, size_t errlen)
{
    char hmm[600], lm[600], dict[600];

    if (s->ps)
        return 0;
    snprintf(hmm, sizeof hmm, "%s/en-us", s->dir);
    snprintf(lm, sizeof lm, "%s/en-us.lm.bin", s->dir);
    snprintf(dict, sizeof dict, "%s/cmudict-en-us.dict", s->dir);
    if (s->accurate)
        s->config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-lm", lm, "-dict", dict,
                                "-logfn", "/dev/null", "-cmn", "batch", NULL);
    else
        s->config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-lm", lm, "-dict", dict,
                                "-logfn", "/dev/null", "-maxhmmpf", "1500", "-beam", "1e-40",
                                "-wbeam", "1e-30", "-pbeam", "1e-40", "-maxwpf", "3", "-fwdflat",
                                "no", "-cmn", "batch", NULL);
    if (!s->config || !(s->ps = ps_init(s->config))) {
        aitag_fmt(err, errlen,
                  "speech: cannot load PocketSphinx's model from %s (install pocketsphinx-en-us)",
                  s->dir);
        return AITAG_ERR_NOTFOUND;
    }
    return 0;
}

/* A filler or sentence mark, not a word. */
static int is_filler(const char *w)
{
    return w[0] == '<' || w[0] == '[' || w[0] == '+' || strcmp(w, "<sil>") == 0;
}

static int sphinx_prepare(void *impl, char *err, size_t errlen)
{
    return sphinx_load(impl, err, errlen);
}

static int sphinx_run(void *impl, const int16_t *samples, size_t n, double t0,
                      struct aitag_speech_segment *seg, char *lang, size_t lang_len, char *err,
                      size_t errlen)
{
    struct sphinx *s = impl;
    logmath_t *lmath;
    int rc = sphinx_load(s, err, errlen);

    if (rc < 0)
        return rc;
    snprintf(lang, lang_len, "en");
    if (ps_start_utt(s->ps) < 0 || ps_process_raw(s->ps, samples, n, FALSE, TRUE) < 0 ||
        ps_end_utt(s->ps) < 0) {
        aitag_fmt(err, errlen, "speech: PocketSphinx failed on the segment at %.2f s", t0);
        return AITAG_ERR_MODEL;
    }
    lmath = ps_get_logmath(s->ps);
    for (ps_seg_t *it = ps_seg_iter(s->ps); it; it = ps_seg_next(it)) {
        const char *w = ps_seg_word(it);
        char word[64];
        int sf, ef;
        double p;
        size_t k;

        if (!w || is_filler(w))
            continue;
        for (k = 0; w[k] && w[k] != '(' && k + 1 < sizeof word; k++)
            word[k] = (char)tolower((unsigned char)w[k]);
        word[k] = '\0';
        ps_seg_frames(it, &sf, &ef);
        p = logmath_exp(lmath, ps_seg_prob(it, NULL, NULL, NULL));
        if (!(p >= 0 && p <= 1))
            p = 0;
        rc = speech_segment_add_word(seg, word, t0 + sf / FRAME_RATE, t0 + (ef + 1) / FRAME_RATE,
                                     (float)p);
        if (rc < 0) {
            ps_seg_free(it);
            aitag_fmt(err, errlen, "out of memory");
            return rc;
        }
    }
    return 0;
}

static void sphinx_free(void *impl)
{
    struct sphinx *s = impl;

    if (!s)
        return;
    if (s->ps)
        ps_free(s->ps);
    if (s->config)
        cmd_ln_free_r(s->config);
    free(s);
}

int asr_sphinx_new(const struct aitag_speech_params *p, struct recognizer *r, char *err,
                   size_t errlen)
{
    struct sphinx *s = calloc(1, sizeof *s);
    const char *dir = p->sphinx_dir && p->sphinx_dir[0] ? p->sphinx_dir : SPHINX_DIR;
    char probe[600];
    FILE *f;

    if (!s) {
        aitag_fmt(err, errlen, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->accurate = p->accurate;
    snprintf(probe, sizeof probe, "%s/en-us.lm.bin", s->dir);
    if (!(f = fopen(probe, "rb"))) {
        aitag_fmt(err, errlen,
                  "speech: PocketSphinx's model is not in %s (install pocketsphinx-en-us, or set "
                  "speech.sphinx_dir)",
                  s->dir);
        free(s);
        return AITAG_ERR_NOTFOUND;
    }
    fclose(f);
    *r = (struct recognizer){s, "pocketsphinx", sphinx_prepare, sphinx_run, sphinx_free};
    /* cppcheck-suppress memleak ; stored by the compound literal above (cppcheck misses it) */
    return 0;
}
