/*
 * plan.c - deciding, per file, what has to run.
 *
 * A file is "unchanged" when size, mtime and fingerprint match the catalog's row; for such a
 * file every analyzer whose stored key equals its current key is already done. Only files with
 * something left to do are probed here (cheap: headers only), which both gives the progress
 * bar real durations and reports undecodable files before any decoding starts.
 *
 * A file the catalog doesn't know by path may be a known file that moved: an item with the same
 * size and fingerprint whose own file is gone is moved to the new path (its mtime updated) and
 * planned like an unchanged file, so nothing is analysed again. A dry run plans the same but
 * moves nothing. After planning, items stored at or below the paths given whose files are gone
 * are marked missing (moves are done by then, so a moved item is not among them). The probe
 * applies the run's limits per item (tagger_sampler_limits), so a file over one fails here,
 * before any decoding.
 *
 * Another run may analyse an item between this plan and its turn here (two runs over
 * overlapping folders): once the item is claimed (decode.c), tagger_recheck plans it again
 * against what is stored now, and an item stored since needs nothing more.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tagger_int.h"

int tagger_gone(const char *path)
{
    struct stat st;

    return stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

static int first_gone(void *ctx, const char *path, int64_t id, int missing)
{
    (void)missing;
    if (!tagger_gone(path))
        return 0;
    *(int64_t *)ctx = id;
    return 1;
}

/* Finds the item that w's file was stored as before it moved; fills row and moves the item
 * (unless in a dry run). 0 when found, else < 0. */
static int find_moved(struct aitag_tagger *t, struct work *w, struct aitag_media_row *row)
{
    int64_t id = 0;
    int rc;

    rc = aitag_catalog_each_match(t->catalog, w->size, w->fingerprint, first_gone, &id);
    if (rc < 0 || id == 0)
        return AITAG_ERR_NOTFOUND;
    rc = aitag_catalog_get_media(t->catalog, id, row);
    if (rc == 0 && !t->p.dry_run)
        rc = aitag_catalog_move_media(t->catalog, id, w->path, w->mtime_ns);
    if (rc < 0)
        return rc;
    aitag_log(AITAG_LOG_INFO, "tagger", "event=moved id=%lld path=\"%s\"", (long long)id, w->path);
    row->mtime_ns = w->mtime_ns;
    row->missing = 0;
    t->n_moved++;
    return 0;
}

void tagger_sampler_limits(const struct aitag_tagger *t, struct aitag_sampler_params *sp)
{
    sp->max_pixels = t->p.max_pixels;
    sp->max_duration = t->p.max_duration;
    sp->max_frames = t->p.max_frames;
    sp->max_streams = t->p.max_streams;
    sp->time_limit = t->p.item_timeout > 0 ? t->p.item_timeout : AITAG_ITEM_TIMEOUT_DEFAULT;
    sp->cpu_limit = t->p.item_cpu > 0 ? t->p.item_cpu : 0.0;
}

static void plan_one(struct aitag_tagger *t, struct work *w)
{
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_media_row row;
    struct stat st;
    int64_t fsize = 0;
    int known = 0, found = 0;

    if (stat(w->src, &st) != 0) {
        aitag_fmt(w->error, sizeof w->error, "cannot stat file");
        return;
    }
    if (!S_ISREG(st.st_mode)) { /* replaced since the walk: a FIFO would block the read */
        aitag_fmt(w->error, sizeof w->error, "not a regular file");
        return;
    }
    w->size = st.st_size;
    w->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if (aitag_fingerprint_file(w->src, &fsize, w->fingerprint) < 0) {
        aitag_fmt(w->error, sizeof w->error, "cannot read file (permission denied?)");
        return;
    }
    if (t->catalog) {
        int rc = aitag_catalog_find_media(t->catalog, w->path, &row);
        found = rc == 0 || (rc == AITAG_ERR_NOTFOUND && find_moved(t, w, &row) == 0);
    }
    if (found && row.missing && !t->p.dry_run) /* back on disk */
        aitag_catalog_set_missing(t->catalog, &row.id, 1, 0);
    if (found) {
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
    tagger_sampler_limits(t, &sp);
    if (aitag_media_probe_params(w->src, &sp, &w->probe) < 0) {
        aitag_fmt(w->error, sizeof w->error, "%s", w->probe.error);
        return;
    }
    w->probed = 1;
}

int tagger_recheck(struct aitag_tagger *t, struct aitag_catalog *c, struct work *w)
{
    struct aitag_media_row row;
    int rc;

    if (t->p.force) /* asked to analyse again whatever is stored: still, one run at a time */
        return 0;
    rc = aitag_catalog_find_media(c, w->path, &row);
    if (rc == AITAG_ERR_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (row.size != w->size || row.mtime_ns != w->mtime_ns ||
        strcmp(row.fingerprint, w->fingerprint) != 0 || strcmp(row.status, "error") == 0)
        return 0; /* not this file's result (or a failure: tried again) */
    w->media_id = row.id;
    w->n_need = 0;
    for (size_t i = 0; i < t->n_ops; i++) {
        char key[4096] = "";
        if (!w->need[i])
            continue;
        rc = aitag_catalog_analysis_key(c, row.id, aitag_graph_ops(t->graph, i)->name, key,
                                        sizeof key);
        if (rc < 0 && rc != AITAG_ERR_NOTFOUND)
            return rc;
        w->need[i] = strcmp(key, t->keys[i]) != 0;
        w->n_need += w->need[i];
    }
    return w->n_need == 0;
}

struct gone_ids {
    int64_t *ids;
    size_t n, cap;
};

static int collect_gone(void *ctx, const char *path, int64_t id, int missing)
{
    struct gone_ids *g = ctx;

    if (missing || !tagger_gone(path))
        return 0;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        int64_t *ids = realloc(g->ids, cap * sizeof *ids);
        if (!ids)
            return 1; /* stop: the marks are best effort, the next run finds the rest */
        g->ids = ids, g->cap = cap;
    }
    g->ids[g->n++] = id;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int tagger_mark_missing(struct aitag_tagger *t, const char *const *paths, size_t n)
{
    struct gone_ids g = {0};
    size_t kept = 0;
    int rc = 0;

    if (!t->catalog)
        return 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char abs[4096];
        if (pipeline_walk_absolute(paths[i], abs, sizeof abs) == 0)
            rc = aitag_catalog_each_item(t->catalog, abs, 0, collect_gone, &g);
    }
    if (g.n)
        qsort(g.ids, g.n, sizeof *g.ids, cmp_id); /* nested or repeated paths list an item twice */
    for (size_t i = 0; i < g.n; i++)
        if (kept == 0 || g.ids[kept - 1] != g.ids[i])
            g.ids[kept++] = g.ids[i];
    if (rc == 0 && !t->p.dry_run)
        rc = aitag_catalog_set_missing(t->catalog, g.ids, kept, 1);
    if (rc == 0)
        t->n_missing = (int)kept;
    else
        aitag_fmt(t->errmsg, sizeof t->errmsg, "%s", aitag_catalog_errmsg(t->catalog));
    free(g.ids);
    return rc;
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
        w->src = t->src[0] ? t->src : w->path;
        if (t->walk.items[i].error)
            aitag_fmt(w->error, sizeof w->error, "%s", t->walk.items[i].error);
        else
            plan_one(t, w);
    }
    return 0;
}
