/*
 * photo.h - still photos as frames, for the unit tests that run analyzers on real pictures.
 *
 * test_load_photo decodes the first frame of a file with the given views (the sampler path the
 * tagger uses, so rotation and scaling are the real ones); test_run_photo does that with the
 * views an analyzer asks for, runs it, and prints how long the run took.
 */
#ifndef AITAG_TEST_PHOTO_H
#define AITAG_TEST_PHOTO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/analyzer.h"
#include "aitag/media.h"

/* The first frame of path with n views, or NULL (the reason on stderr). Free with
 * aitag_frame_free. */
static inline struct aitag_frame *test_load_photo(const char *path,
                                                  const struct aitag_view_spec *specs, size_t n)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    char err[256];

    sp.views = specs;
    sp.n_views = n;
    if (aitag_sampler_open(path, &sp, &s, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        return NULL;
    }
    if (aitag_sampler_next(s, &f) <= 0)
        f = NULL;
    aitag_sampler_close(s);
    return f;
}

/* Runs analyzer ops (state st) on the photo at path; evidence is appended to out.
 * Returns 0, or -1 when the photo cannot be read or the analyzer fails (reason on stderr). */
static inline int test_run_photo(const struct aitag_analyzer_ops *ops, void *st, const char *path,
                                 struct aitag_evidence_list *out)
{
    struct aitag_view_spec specs[AITAG_MAX_VIEWS];
    struct aitag_frame *f = test_load_photo(path, specs, ops->views(st, specs, AITAG_MAX_VIEWS));
    const char *base = strrchr(path, '/');
    char err[256];
    double t0;
    int rc;

    if (!f)
        return -1;
    t0 = aitag_now();
    rc = ops->run(st, &f, 1, NULL, out, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", path, err);
    printf("%s: %s %.1f ms\n", ops->name, base ? base + 1 : path, (aitag_now() - t0) * 1000.0);
    aitag_frame_free(f);
    return rc < 0 ? -1 : 0;
}

/* Runs graph g (its asked analyzers, with what they consume) on the photo at path; evidence
 * of the asked analyzers is appended to out. Returns 0, or -1 (the reason on stderr). */
static inline int test_run_graph(struct aitag_graph *g, const char *path,
                                 struct aitag_evidence_list *out)
{
    struct aitag_view_spec specs[AITAG_MAX_VIEWS];
    struct aitag_frame *f =
        test_load_photo(path, specs, aitag_graph_views(g, NULL, specs, AITAG_MAX_VIEWS));
    char err[512];
    int rc;

    if (!f)
        return -1;
    rc = aitag_graph_run(g, &f, 1, NULL, out, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", path, err);
    aitag_frame_free(f);
    return rc < 0 ? -1 : 0;
}

/* e's details as the catalog stores them ("" for none); valid until the next call. */
static inline const char *test_details(const struct aitag_evidence *e)
{
    static char buf[65536];
    char *s = NULL;

    buf[0] = '\0';
    if (aitag_evidence_details_json(e, &s) == 0 && s)
        snprintf(buf, sizeof buf, "%s", s);
    free(s);
    return buf;
}

#endif
