/*
 * vlm_options.c - the vlm analyzer's options from a sink's settings, built in one place.
 *
 * The command line (--vlm-url, --vlm-route, ...) and the Stash plugin (vlmUrl, vlmRoute, ...)
 * hand the same struct here and get the same "vlm.key=value" strings for the tagger, so a
 * setting means the same to both and the analysis key (analyzers/vlm.c) does not depend on
 * which sink ran. Unset fields are left out: the analyzer's own default applies.
 */
#include <stdio.h>

#include "aitag/pipeline.h"

static void put(char (*buf)[AITAG_VLM_OPT_LEN], const char **out, size_t *n, const char *key,
                const char *value)
{
    if (!value || !*value)
        return;
    snprintf(buf[*n], AITAG_VLM_OPT_LEN, "vlm.%s=%s", key, value);
    out[*n] = buf[*n];
    (*n)++;
}

size_t aitag_vlm_options(const struct aitag_vlm_settings *s, char (*buf)[AITAG_VLM_OPT_LEN],
                         const char **out)
{
    char every[32];
    size_t n = 0;

    put(buf, out, &n, "url", s->url);
    put(buf, out, &n, "route", s->route);
    put(buf, out, &n, "key_env", s->key_env);
    put(buf, out, &n, "vocabulary", s->vocabulary);
    if (s->every >= 0) {
        snprintf(every, sizeof every, "%g", s->every);
        put(buf, out, &n, "every", every);
    }
    put(buf, out, &n, "describe", s->describe ? "1" : NULL);
    put(buf, out, &n, "local_only", s->local_only ? "1" : NULL);
    return n;
}
