/*
 * categories.c - the parent tags of labels from WordNet (aitag/concepts.h): every sink's
 * policy gets the same categories, so the command line, the plugin, the gateway and the
 * people commands derive equal results and equal keys.
 *
 * The concepts file is <manifest_dir>/context/concepts.json (shipped in models/). Without it
 * there are no categories; without WordNet's database (Debian's wordnet-base) neither, with a
 * warning: categories are an addition to tags, never a reason to fail tagging.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "aitag/concepts.h"
#include "aitag/pipeline.h"

static const char *category_of(void *ctx, const char *label)
{
    return aitag_concepts_category(ctx, label);
}

int aitag_policy_use_categories(struct aitag_policy *p, const char *manifest_dir,
                                struct aitag_concepts **out, char *err, size_t errlen)
{
    struct aitag_concepts *c = NULL;
    char path[4200], why[512] = "";
    struct stat st;
    int rc;

    *out = NULL;
    snprintf(path, sizeof path, "%.4000s/context/concepts.json", manifest_dir ? manifest_dir : ".");
    if (stat(path, &st) != 0)
        return 0;
    if (aitag_concepts_open(NULL, &c, why, sizeof why) < 0) {
        aitag_log(AITAG_LOG_WARN, "tagger", "no parent categories: %s", why);
        return 0;
    }
    rc = aitag_concepts_load(c, path, err, errlen);
    if (rc == 0)
        rc = aitag_policy_set_parent_fn(p, category_of, c, aitag_concepts_key(c));
    if (rc < 0) {
        aitag_concepts_close(c);
        return rc;
    }
    *out = c;
    return 0;
}
