/*
 * best_face.c - aitag_tagger_best_face: one picture's best face, embedded exactly as tagging
 * embeds faces, for reference faces (a performer's image) that must be comparable with the
 * faces of the catalog.
 *
 * The tagger's own graph (or its remote executor) runs face_attrs, so the embedding model,
 * its options and the analysis key are those of the run: the model identity comes from the
 * same key the catalog stores faces under. Nothing is written to the catalog. Only the first
 * sampled frame of the picture is analysed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tagger_int.h"

/* face_attrs evidence of path, from the first frame, into ev (probe into *probe). */
static int analyse_local(struct aitag_tagger *t, size_t fa, const char *path,
                         struct aitag_evidence_list *ev, struct aitag_probe *probe, char *err,
                         size_t errlen)
{
    struct aitag_view_spec views[AITAG_MAX_VIEWS];
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    struct aitag_frame *f = NULL;
    int want[MAX_ANALYZERS] = {0};
    int rc;

    want[fa] = 1;
    sp.views = views;
    sp.n_views = aitag_graph_views(t->graph, want, views, AITAG_MAX_VIEWS);
    tagger_sampler_limits(t, &sp);
    rc = aitag_sampler_open(path, &sp, &s, err, errlen);
    if (rc < 0)
        return rc;
    *probe = *aitag_sampler_probe(s);
    rc = aitag_sampler_next(s, &f);
    if (rc < 0)
        aitag_fmt(err, errlen, "%s", aitag_sampler_errmsg(s));
    else if (rc == 0)
        aitag_fmt(err, errlen, "no frame could be decoded"), rc = AITAG_ERR_MEDIA;
    else
        rc = aitag_graph_run(t->graph, &f, 1, want, ev, err, errlen);
    aitag_frame_free(f);
    aitag_sampler_close(s);
    return rc;
}

static int analyse_remote(struct aitag_tagger *t, size_t fa, const char *path,
                          struct aitag_evidence_list *ev, struct aitag_probe *probe, char *err,
                          size_t errlen)
{
    const char *name = "face_attrs", *key = t->keys[fa];
    struct aitag_remote_result res;
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    int rc;

    tagger_sampler_limits(t, &sp);
    rc = aitag_media_probe_params(path, &sp, probe);

    if (rc < 0) {
        aitag_fmt(err, errlen, "cannot read the picture");
        return rc;
    }
    memset(&res, 0, sizeof res);
    rc = t->p.remote(t->p.remote_ctx, path, &name, &key, 1, t->p.interval, &res, err, errlen);
    if (rc == 0)
        *ev = res.evidence;
    else
        aitag_evidence_list_clear(&res.evidence);
    return rc;
}

static float box_area(const struct aitag_evidence *e)
{
    return e->box.w * e->box.h;
}

int aitag_tagger_best_face(struct aitag_tagger *t, const char *path, float **embedding,
                           size_t *dim, float *quality, char *model, size_t model_len, char *err,
                           size_t errlen)
{
    struct aitag_evidence_list ev = {0};
    struct aitag_probe probe;
    const struct aitag_evidence *best = NULL;
    float best_q = 0.0f, *v = NULL;
    double t0 = -1.0, norm = 0.0;
    int fa = aitag_graph_find(t->graph, "face_attrs"), rc;

    *embedding = NULL, *dim = 0, *quality = 0.0f;
    if (model_len)
        model[0] = '\0';
    if (fa < 0 || !aitag_graph_asked(t->graph, (size_t)fa)) {
        aitag_fmt(err, errlen, "face_attrs is not one of the analyzers");
        return AITAG_ERR_INVALID;
    }
    memset(&probe, 0, sizeof probe);
    rc = tagger_runs_remote(t, (size_t)fa)
             ? analyse_remote(t, (size_t)fa, path, &ev, &probe, err, errlen)
             : analyse_local(t, (size_t)fa, path, &ev, &probe, err, errlen);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < ev.n; i++) {
        const struct aitag_evidence *e = &ev.items[i];
        float q;
        if (!e->analyzer || strcmp(e->analyzer, "face_attrs") != 0 || !e->label ||
            strcmp(e->label, "face") != 0 || !e->has_box || !e->embedding ||
            e->n_embedding <= 0)
            continue;
        if (t0 < 0)
            t0 = e->t; /* the first frame's faces only */
        if (e->t != t0)
            continue;
        q = aitag_face_quality(e, probe.width, probe.height);
        if (q > best_q || (best && q == best_q && box_area(e) > box_area(best)))
            best = e, best_q = q;
    }
    rc = 0;
    if (!best)
        goto out;
    v = malloc((size_t)best->n_embedding * sizeof *v);
    if (!v) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (int k = 0; k < best->n_embedding; k++)
        norm += best->embedding[k] * best->embedding[k];
    norm = norm > 0 ? sqrt(norm) : 1.0;
    for (int k = 0; k < best->n_embedding; k++)
        v[k] = (float)(best->embedding[k] / norm);
    aitag_catalog_face_model_of_key(t->keys[fa], model, model_len);
    *embedding = v, *dim = (size_t)best->n_embedding, *quality = best_q;
    rc = 1;
out:
    aitag_evidence_list_clear(&ev);
    return rc;
}
