/*
 * plan.c - deciding, per file, what has to run.
 *
 * A file is "unchanged" when size, mtime and fingerprint match the catalog's row; for such a
 * file every analyzer whose stored key equals its current key is already done. Only files with
 * something left to do are probed here (cheap: headers only), which both gives the progress
 * bar real durations and reports undecodable files before any decoding starts.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tagger_int.h"

static void plan_one(struct aitag_tagger *t, struct work *w)
{
    struct aitag_media_row row;
    struct stat st;
    int64_t fsize = 0;
    int known = 0;

    if (stat(w->path, &st) != 0) {
        aitag_fmt(w->error, sizeof w->error, "cannot stat file");
        return;
    }
    w->size = st.st_size;
    w->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if (aitag_fingerprint_file(w->path, &fsize, w->fingerprint) < 0) {
        aitag_fmt(w->error, sizeof w->error, "cannot read file (permission denied?)");
        return;
    }
    if (t->catalog && aitag_catalog_find_media(t->catalog, w->path, &row) == 0) {
        w->media_id = row.id;
        known = row.size == w->size && row.mtime_ns == w->mtime_ns &&
                strcmp(row.fingerprint, w->fingerprint) == 0 && strcmp(row.status, "error") != 0;
    }
    for (size_t i = 0; i < t->n_ops; i++) {
        char key[4096] = "";
        if (!aitag_graph_asked(t->graph, i))
            continue; /* a dependency: runs when a consumer does, never stored */
        if (known && !t->p.force)
            aitag_catalog_analysis_key(t->catalog, w->media_id, aitag_graph_ops(t->graph, i)->name,
                                       key, sizeof key);
        w->need[i] = strcmp(key, t->keys[i]) != 0;
        w->n_need += w->need[i];
    }
    if (w->n_need == 0)
        return;
    if (aitag_media_probe(w->path, &w->probe) < 0) {
        aitag_fmt(w->error, sizeof w->error, "%s", w->probe.error);
        return;
    }
    w->probed = 1;
}

int tagger_plan(struct aitag_tagger *t)
{
    t->works = calloc(t->walk.n ? t->walk.n : 1, sizeof *t->works);
    if (!t->works)
        return AITAG_ERR_NOMEM;
    t->n_works = t->walk.n;
    for (size_t i = 0; i < t->walk.n; i++) {
        struct work *w = &t->works[i];
        w->path = t->walk.items[i].path;
        if (t->walk.items[i].error)
            aitag_fmt(w->error, sizeof w->error, "%s", t->walk.items[i].error);
        else
            plan_one(t, w);
    }
    return 0;
}
