/*
 * run.c - one plugin invocation: connect, read the settings, select items, run the tagger in
 * batches and write each finished item's differences back to Stash.
 *
 * The plugin is an adapter, not a second tagger: the pipeline decides what must run (nothing
 * for files the catalog already knows), the catalog holds every result, and this file only
 * maps Stash items to paths and results back to Stash. Items are written as the tagger
 * reports them (from its on_item callback, on the calling thread, while the decoder thread
 * keeps sampling the next file), so a kill loses at most the item in flight, and the catalog
 * makes re-running it cheap.
 *
 * A hook invocation does nothing but add AI_TagMe: it runs inside the Stash mutation or scan
 * that fired it, so it opens no catalog and loads no model.
 *
 * Failures: an item that cannot be analysed gets AI_Errored (the run goes on); Stash stopping
 * to answer (after the client's retries) stops the run with an error, since nothing more can
 * be written; whatever was written stays valid and the next run completes the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/people.h"
#include "aitag/remote.h"
#include "plugin_int.h"

#define MAX_FAILURES_LISTED 100
#define MAX_STASH_ERRORS 5

struct sel_item {
    enum aitag_stash_kind kind;
    char *id;
    char *path; /* as Stash sees it */
};

struct run {
    const struct aitag_plugin_params *p;
    const struct aitag_plugin_input *in;
    struct aitag_stash *stash;
    struct plugin_settings set;
    struct plugin_vlm vlm;
    struct plugin_tags tags;
    struct aitag_tagger *tagger;
    struct plugin_memory memory;         /* corrections read back from Stash (readback.c) */
    struct aitag_remote_client *gateway; /* settings gatewayUrl: the tagger's remote executor */
    struct sel_item *items;
    size_t n, cap;
    /* the batch in flight */
    size_t batch_at, batch_n;
    char **mapped;
    /* outcome */
    int analysed, unchanged, partial, failed, missing, updated, models_run, stash_errors;
    int descriptions; /* Details fields given a vlm description */
    int transcripts;  /* Details fields given a transcript (writeTranscript: details) */
    struct sync_counts total;
    int read_back;  /* decisions read back from Stash */
    int people_ran; /* the people sync ran (its counts are in people) */
    struct plugin_people_counts people;
    char context_bufs[2][4096];               /* context rules files (make_tagger) */
    char speech_bufs[4][AITAG_VLM_OPT_LEN];   /* the speech analyzer's options */
    const char *opts[AITAG_VLM_MAX_OPTS + 4]; /* vlm's and speech's, for the tagger */
    const char *context_paths[2];
    int performers_ran; /* performer images were matched (counts in performer_faces) */
    struct plugin_performer_faces performer_faces;
    char people_err[1200]; /* why it stopped, "" when it completed */
    json_t *failures;
    atomic_int stop;
    int fatal;
    char err[1024];
    double t0, last_frac, last_emit;
};

static const char *kind_name(enum aitag_stash_kind k)
{
    return k == AITAG_STASH_SCENE ? "scene" : "image";
}

struct aitag_plugin_params aitag_plugin_default_params(void)
{
    struct aitag_plugin_params p;

    memset(&p, 0, sizeof p);
    p.plugin_id = "aitag";
    p.threads = 2;
    p.batch = 20;
    p.stash_timeout_ms = 30000;
    p.stash_retries = 4;
    return p;
}

static void progress(struct run *r, double frac)
{
    double now = aitag_now();

    if (frac > 1)
        frac = 1;
    /* Monotonic, and only when it moved: Stash draws a bar from these lines. */
    if (!r->p->on_progress || (r->last_emit > 0 && frac <= r->last_frac) ||
        (frac < 1 && frac - r->last_frac < 0.005 && now - r->last_emit < 2))
        return;
    r->last_frac = frac;
    r->last_emit = now;
    r->p->on_progress(r->p->ctx, frac);
}

/* A fatal error: no more writes are possible; the tagger stops after the item in flight. */
static void fatal(struct run *r, int rc, const char *msg)
{
    if (!r->fatal) {
        r->fatal = rc;
        aitag_fmt(r->err, sizeof r->err, "%s", msg);
    }
    atomic_store(&r->stop, 1);
}

static void note_failure(struct run *r, const struct sel_item *it, const char *error)
{
    r->failed++;
    if (json_array_size(r->failures) < MAX_FAILURES_LISTED)
        json_array_append_new(r->failures,
                              json_pack("{s:s, s:s, s:s, s:s}", "kind", kind_name(it->kind), "id",
                                        it->id, "path", it->path ? it->path : "", "error",
                                        error ? error : "error"));
}

/* The speech analyzer's options from the settings (speechKeywords, speechUrl, localOnly), as
 * `aitag tag --keywords --speech-engine remote --speech-url` gives them, when it is among
 * names; returns how many. */
static size_t speech_options(struct run *r, const char *const *names, size_t n_names,
                             const char **out)
{
    size_t n = 0, k;

    for (k = 0; k < n_names && strcmp(names[k], "speech") != 0; k++)
        ;
    if (k == n_names)
        return 0; /* options only for an analyzer that runs */

#define SPEECH_OPT(...)                                                                            \
    do {                                                                                           \
        aitag_fmt(r->speech_bufs[n], sizeof r->speech_bufs[n], __VA_ARGS__);                       \
        out[n] = r->speech_bufs[n];                                                                \
        n++;                                                                                       \
    } while (0)
    if (*r->set.speech_keywords)
        SPEECH_OPT("speech.keywords=%s", r->set.speech_keywords);
    if (*r->set.speech_url) {
        SPEECH_OPT("speech.engine=remote");
        SPEECH_OPT("speech.url=%s", r->set.speech_url);
    }
    if (r->set.local_only)
        SPEECH_OPT("speech.local_only=1");
#undef SPEECH_OPT
    return n;
}

/* What the user corrected in Stash since the item's last sync, as decisions; res then points
 * at the corrected result (in fresh). *media_id: the catalog item (0 when unknown). */
static void read_back(struct run *r, const struct sel_item *it, const char *path,
                      const struct aitag_result **res, struct aitag_result *fresh,
                      int64_t *media_id)
{
    struct aitag_media_row row;
    int n = 0, rc;

    *media_id = 0;
    if (!r->memory.catalog || !path || aitag_catalog_find_media(r->memory.catalog, path, &row) < 0)
        return;
    *media_id = row.id;
    rc = plugin_readback(&r->tags, &r->memory, it->kind, it->id, row.id, *res, fresh, &n);
    if (rc < 0) {
        aitag_log(AITAG_LOG_WARN, "plugin", "%s %s: corrections in Stash not read back: %.300s",
                  kind_name(it->kind), it->id,
                  rc == AITAG_ERR_DB ? aitag_catalog_errmsg(r->memory.catalog)
                                     : aitag_stash_errmsg(r->stash));
        aitag_result_clear(fresh);
        return;
    }
    if (n) {
        r->read_back += n;
        *res = fresh;
    }
}

/* Writes one item's outcome; res NULL: it failed with error. path: the file, as the catalog
 * knows it (NULL when it never reached the tagger). */
static void finish(struct run *r, const struct sel_item *it, const char *path,
                   const struct aitag_result *res, const char *error)
{
    struct sync_counts c;
    struct aitag_result view, fresh = {0};
    const struct aitag_result *out;
    int64_t media_id = 0;
    char msg[1200];
    int rc, viewed = 0;

    if (r->p->cancel && atomic_load(r->p->cancel))
        atomic_store(&r->stop, 1);
    if (r->fatal)
        return;
    if (res)
        read_back(r, it, path, &res, &fresh, &media_id);
    /* cues stay in the catalog unless asked for in Stash; transcript lines may be markers */
    out = res;
    if (res && (!r->set.write_cues || r->set.transcript == PLUGIN_TRANSCRIPT_MARKERS)) {
        if (plugin_result_view(res, r->set.write_cues,
                               r->set.transcript == PLUGIN_TRANSCRIPT_MARKERS, &view) < 0) {
            fatal(r, AITAG_ERR_NOMEM, "out of memory");
            goto out;
        }
        out = &view;
        viewed = 1;
    }
    rc = plugin_sync_item(&r->tags, it->kind, it->id, out, error, &c);
    /* what is ours on the item now, for the next read-back */
    if (rc == 0 && out && media_id &&
        aitag_catalog_set_stash_synced(r->memory.catalog,
                                       it->kind == AITAG_STASH_SCENE ? "scene" : "image", it->id,
                                       media_id, out) < 0)
        aitag_log(AITAG_LOG_WARN, "plugin", "%s %s: what was written is not remembered: %.300s",
                  kind_name(it->kind), it->id, aitag_catalog_errmsg(r->memory.catalog));
    if (viewed)
        plugin_result_view_free(&view);
    if (rc == AITAG_ERR_NOTFOUND) {
        r->missing++;
        aitag_log(AITAG_LOG_INFO, "plugin", "%s %s is gone from Stash: skipped",
                  kind_name(it->kind), it->id);
        goto out;
    }
    if (rc < 0) {
        aitag_fmt(msg, sizeof msg, "Stash: %s", aitag_stash_errmsg(r->stash));
        if (rc == AITAG_ERR_NET || ++r->stash_errors >= MAX_STASH_ERRORS)
            fatal(r, rc == AITAG_ERR_NET ? rc : AITAG_ERR_INVALID, msg);
        note_failure(r, it, msg);
        aitag_log(AITAG_LOG_ERROR, "plugin", "%s %s: %.400s", kind_name(it->kind), it->id, msg);
        goto out;
    }
    r->stash_errors = 0;
    if (!res)
        note_failure(r, it, error);
    if (res && res->description && r->vlm.describe) {
        int written = 0;
        if (plugin_vlm_write_description(r->stash, it->kind, it->id, res->description, &written) <
            0)
            aitag_log(AITAG_LOG_WARN, "plugin", "%s %s: description not written: %.400s",
                      kind_name(it->kind), it->id, aitag_stash_errmsg(r->stash));
        else if (written)
            r->descriptions++;
    }
    if (res && r->set.transcript == PLUGIN_TRANSCRIPT_DETAILS) {
        char *text = NULL;
        int written = 0;
        if (plugin_transcript_text(res, &text) < 0) {
            fatal(r, AITAG_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (text && plugin_vlm_write_description(r->stash, it->kind, it->id, text, &written) < 0)
            aitag_log(AITAG_LOG_WARN, "plugin", "%s %s: transcript not written: %.400s",
                      kind_name(it->kind), it->id, aitag_stash_errmsg(r->stash));
        else if (written)
            r->transcripts++;
        free(text);
    }
    if (c.tags_added || c.tags_removed || c.markers_created || c.markers_destroyed) {
        r->updated++;
        aitag_log(AITAG_LOG_INFO, "plugin", "%s %s: tags +%d -%d, markers +%d -%d",
                  kind_name(it->kind), it->id, c.tags_added, c.tags_removed, c.markers_created,
                  c.markers_destroyed);
    }
    r->total.tags_added += c.tags_added;
    r->total.tags_removed += c.tags_removed;
    r->total.markers_created += c.markers_created;
    r->total.markers_destroyed += c.markers_destroyed;
out:
    aitag_result_clear(&fresh);
}

static void on_item(void *ctx, const struct aitag_item_report *rep)
{
    struct run *r = ctx;
    size_t k = r->batch_n;
    char why[1200];

    if (rep->total == r->batch_n && rep->index >= 1 && rep->index <= r->batch_n)
        k = rep->index - 1;
    for (size_t i = 0; k == r->batch_n && i < r->batch_n; i++)
        if (strcmp(r->mapped[i], rep->path) == 0)
            k = i;
    if (k == r->batch_n)
        return; /* not one of ours (cannot happen: every path is a file) */
    const struct sel_item *it = &r->items[r->batch_at + k];
    switch (rep->status) {
    case AITAG_ITEM_FAILED:
        if (access(r->mapped[k], F_OK) != 0)
            aitag_fmt(why, sizeof why, "file not found: %s%s", r->mapped[k],
                      *r->set.path_mappings ? "" : " (Stash in Docker? see pathMappings)");
        else
            aitag_fmt(why, sizeof why, "%s", rep->error ? rep->error : "cannot analyse");
        finish(r, it, rep->path, NULL, why);
        break;
    case AITAG_ITEM_PARTIAL:
        r->partial++;
        aitag_log(AITAG_LOG_WARN, "plugin", "%s %s: %.300s", kind_name(it->kind), it->id,
                  rep->error ? rep->error : "partly decodable");
        finish(r, it, rep->path, rep->result, NULL);
        break;
    case AITAG_ITEM_SKIPPED:
        r->unchanged++;
        finish(r, it, rep->path, rep->result, NULL);
        break;
    default:
        r->analysed++;
        aitag_log(AITAG_LOG_DEBUG, "plugin", "%s %s analysed in %.1f s", kind_name(it->kind),
                  it->id, rep->seconds);
        finish(r, it, rep->path, rep->result, NULL);
        break;
    }
    progress(r, (double)(r->batch_at + rep->index) / (double)r->n);
}

static void on_tagger_progress(void *ctx, const struct aitag_progress *pr)
{
    struct run *r = ctx;
    double frac = pr->media_total > 0 ? pr->media_done / pr->media_total
                                      : (pr->total ? (double)pr->done / (double)pr->total : 0);

    if (r->p->cancel && atomic_load(r->p->cancel))
        atomic_store(&r->stop, 1);
    progress(r, ((double)r->batch_at + frac * (double)r->batch_n) / (double)r->n);
}

static int select_cb(void *ctx, const struct aitag_stash_item *it)
{
    struct run *r = ctx;
    struct sel_item *s;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        struct sel_item *g = realloc(r->items, cap * sizeof *g);
        if (!g)
            return 1;
        r->items = g;
        r->cap = cap;
    }
    s = &r->items[r->n];
    s->kind = it->kind;
    s->id = strdup(it->id);
    s->path = it->path ? strdup(it->path) : NULL;
    if (!s->id || (it->path && !s->path)) {
        free(s->id);
        free(s->path);
        return 1;
    }
    r->n++;
    return 0;
}

static int select_items(struct run *r)
{
    const char *mode = r->in->mode;
    int rc = 0, scenes = 1, images = 1;
    const char *with = NULL, *without = NULL;

    if (strcmp(mode, "scene") == 0 || strcmp(mode, "image") == 0) {
        enum aitag_stash_kind kind = mode[0] == 's' ? AITAG_STASH_SCENE : AITAG_STASH_IMAGE;
        for (size_t i = 0; i < r->in->n_ids && rc == 0; i++) {
            struct aitag_stash_item it;
            memset(&it, 0, sizeof it);
            rc = aitag_stash_get_item(r->stash, kind, r->in->ids[i], &it);
            if (rc == AITAG_ERR_NOTFOUND) {
                struct sel_item gone = {kind, r->in->ids[i], NULL};
                char why[64];
                note_failure(
                    r, &gone,
                    aitag_fmt(why, sizeof why, "no %s with this id in Stash", kind_name(kind)));
                rc = 0;
            } else if (rc == 0 && select_cb(r, &it) != 0) {
                rc = AITAG_ERR_NOMEM;
            }
            aitag_stash_item_clear(&it);
        }
        return rc;
    }
    if (strcmp(mode, "queue") == 0 || strcmp(mode, "enqueue") == 0)
        with = r->tags.tagme_id;
    else if (strcmp(mode, "untagged_scenes") == 0)
        without = r->tags.tagged_id, images = 0;
    else if (strcmp(mode, "untagged_images") == 0)
        without = r->tags.tagged_id, scenes = 0;
    if (scenes)
        rc = aitag_stash_each_item(r->stash, AITAG_STASH_SCENE, with, without, select_cb, r);
    if (rc == 0 && images)
        rc = aitag_stash_each_item(r->stash, AITAG_STASH_IMAGE, with, without, select_cb, r);
    return rc;
}

/* The catalog file: the caller's, else the catalog setting (the file of `aitag tag --catalog`),
 * else data/catalog.db in the plugin folder. */
static const char *catalog_path(const struct run *r, char *buf, size_t len)
{
    if (r->p->catalog_path)
        return r->p->catalog_path;
    if (*r->set.catalog)
        return r->set.catalog;
    return aitag_fmt(buf, len, "%s/data/catalog.db", r->in->plugin_dir);
}

/* The people engine over the faces stored so far (aitag people update, default settings), so
 * faces tagged through the plugin join people as they do after `aitag tag`. A failure is
 * logged and the sync goes on with the people already known. */
static void update_people(const char *catalog)
{
    struct aitag_catalog *c = NULL;
    struct aitag_people_params p;
    struct aitag_people_stats st;
    char err[512] = "";

    aitag_people_default_params(&p);
    if (aitag_catalog_open(catalog, 0, &c, err, sizeof err) < 0 ||
        aitag_people_update(c, &p, &st, err, sizeof err) < 0)
        aitag_log(AITAG_LOG_WARN, "plugin", "people: update failed: %.400s", err);
    aitag_catalog_close(c);
}

/* Whether the comma-separated list names analyzer name. */
static int names_analyzer(const char *list, const char *name)
{
    size_t len = strlen(name);

    for (const char *p = list; p && *p;) {
        p += strspn(p, " ,");
        if (strncmp(p, name, len) == 0 && strchr(" ,", p[len]))
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

/* The faces of Stash's performers become reference faces first (performer_faces.c), when the
 * run embeds faces (face_attrs) and skipPerformerImages is off. A failure is logged; people
 * are then grouped without the references not made. */
static void match_performers(struct run *r, const char *catalog)
{
    char err[1200] = "";
    int rc;

    if (!r->tagger || r->set.skip_performer_images ||
        !names_analyzer(r->set.analyzers, "face_attrs"))
        return;
    r->performers_ran = 1;
    rc = plugin_match_performers(r->stash, r->tagger, catalog, r->p->cancel, &r->performer_faces,
                                 err, sizeof err);
    aitag_log(
        rc < 0 ? AITAG_LOG_WARN : AITAG_LOG_INFO, "plugin",
        "performer images: %d with an image, %d unchanged, %d embedded (%d recognised as "
        "a known person, %d as a new one, %d left alone, %d without a face), %d failed%s%.600s",
        r->performer_faces.performers, r->performer_faces.unchanged, r->performer_faces.embedded,
        r->performer_faces.linked + r->performer_faces.adopted, r->performer_faces.created,
        r->performer_faces.conflicts, r->performer_faces.no_face, r->performer_faces.failed,
        rc < 0 ? "; stopped: " : "", rc < 0 ? err : "");
}

/* Named people to Stash performers (people.c). Returns 0 or the sync's error (in people_err). */
static int sync_people(struct run *r, int allow_create)
{
    char path[4096];
    int rc;

    r->people_ran = 1;
    match_performers(r, catalog_path(r, path, sizeof path));
    update_people(catalog_path(r, path, sizeof path));
    rc = plugin_people_sync(r->stash, catalog_path(r, path, sizeof path), r->set.path_mappings,
                            allow_create, r->p->cancel, &r->people, r->people_err,
                            sizeof r->people_err);
    aitag_log(rc < 0 ? AITAG_LOG_ERROR : AITAG_LOG_INFO, "plugin",
              "people: %d named, %d performer(s) created, %d found by name, %d added to "
              "item(s), %d taken off by the user%s%.600s",
              r->people.named, r->people.created, r->people.found, r->people.added,
              r->people.taken_off, rc < 0 ? "; stopped: " : "", rc < 0 ? r->people_err : "");
    if (rc == 0)
        r->people_err[0] = '\0';
    return rc;
}

static int make_tagger(struct run *r, char *analyzers)
{
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    char catalog[4096], rules[4096], data[4096], err[1024] = "", msg[1200];
    const char *names[16];
    int rc;

    aitag_fmt(data, sizeof data, "%s/data", r->in->plugin_dir);
    if (!r->p->catalog_path && !*r->set.catalog && mkdir(data, 0755) != 0 &&
        access(data, W_OK) != 0) {
        aitag_fmt(msg, sizeof msg, "cannot create %s (the plugin folder must be writable)", data);
        fatal(r, AITAG_ERR_IO, msg);
        return AITAG_ERR_IO;
    }
    aitag_fmt(rules, sizeof rules, "%s/rules.json", data);
    /* The catalog setting names the file `aitag tag --catalog` uses, so a file tagged from the
     * CLI is not analysed again here; a rules setting must exist (a typo is an error). */
    tp.catalog_path = catalog_path(r, catalog, sizeof catalog);
    tp.rules_path = *r->set.rules ? r->set.rules : access(rules, R_OK) == 0 ? rules : NULL;
    /* context rules: the shipped ones, then data/context.json beside rules.json */
    if (r->p->manifest_dir) {
        aitag_fmt(r->context_bufs[0], sizeof r->context_bufs[0], "%s/context/defaults.json",
                  r->p->manifest_dir);
        if (access(r->context_bufs[0], R_OK) == 0)
            r->context_paths[tp.n_context_paths++] = r->context_bufs[0];
    }
    aitag_fmt(r->context_bufs[1], sizeof r->context_bufs[1], "%s/context.json", data);
    if (access(r->context_bufs[1], R_OK) == 0)
        r->context_paths[tp.n_context_paths++] = r->context_bufs[1];
    tp.context_paths = r->context_paths;
    tp.tag_prefix = *r->set.tag_prefix ? r->set.tag_prefix : NULL;
    tp.tag_suffix = *r->set.tag_suffix ? r->set.tag_suffix : NULL;
    tp.manifest_dir = r->p->manifest_dir;
    tp.weights_dir = r->p->weights_dir;
    tp.analyzers = names;
    tp.n_analyzers = aitag_split_csv(analyzers, names, 16);
    rc = plugin_vlm_options(&r->vlm, r->stash, names, tp.n_analyzers, r->in->plugin_dir,
                            r->set.tag_prefix, r->set.tag_suffix, err, sizeof err);
    if (rc < 0) {
        fatal(r, rc, err);
        return rc;
    }
    tp.n_analyzer_opts = 0;
    for (size_t i = 0; i < r->vlm.n_opts; i++)
        r->opts[tp.n_analyzer_opts++] = r->vlm.opts[i];
    tp.n_analyzer_opts += speech_options(r, names, tp.n_analyzers, r->opts + tp.n_analyzer_opts);
    tp.analyzer_opts = r->opts;
    tp.interval = r->set.interval;
    tp.threshold = r->set.threshold;
    tp.markers = r->set.markers;
    tp.threads = r->p->threads > 0 ? r->p->threads : 2;
    tp.on_item = on_item;
    tp.on_progress = on_tagger_progress;
    tp.ctx = r;
    tp.cancel = &r->stop;
    if (*r->set.gateway_url) { /* models run on the gateway; the catalog stays here */
        struct aitag_remote_client_params cp = aitag_remote_client_default_params();
        cp.url = r->set.gateway_url;
        cp.key = r->p->gateway_key;
        cp.local_only = r->set.local_only;
        cp.cancel = &r->stop;
        rc = aitag_remote_client_new(&cp, &r->gateway, err, sizeof err);
        if (rc < 0) {
            aitag_fmt(msg, sizeof msg, "gatewayUrl: %s", err);
            fatal(r, rc, msg);
            return rc;
        }
        tp.remote = aitag_remote_client_tag;
        tp.remote_ctx = r->gateway;
    }
    rc = aitag_tagger_new(&tp, &r->tagger, err, sizeof err);
    if (rc < 0) {
        aitag_fmt(msg, sizeof msg, "cannot start the tagger: %s", err);
        fatal(r, rc, msg);
        return rc;
    }
    /* a connection of our own to the tagger's catalog, for corrections made in Stash */
    r->memory.policy = aitag_tagger_policy(r->tagger);
    if (aitag_catalog_open(tp.catalog_path, 0, &r->memory.catalog, err, sizeof err) < 0)
        aitag_log(AITAG_LOG_WARN, "plugin", "corrections in Stash not read back: %s", err);
    return 0;
}

/* Maps a batch's paths; items that cannot be handed to the tagger fail here. */
static size_t prepare_batch(struct run *r, size_t at, size_t n, const char **paths)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        struct sel_item *it = &r->items[at + i];
        char buf[4096], why[4400];
        struct stat st;
        if (!it->path || !*it->path) {
            finish(r, it, NULL, NULL, "Stash has no file for this item");
            continue;
        }
        if (aitag_map_path(r->set.path_mappings, it->path, buf, sizeof buf) < 0) {
            finish(r, it, NULL, NULL, "path too long after pathMappings");
            continue;
        }
        if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) {
            finish(r, it, NULL, NULL, aitag_fmt(why, sizeof why, "%s is a folder", buf));
            continue;
        }
        if (stat(buf, &st) != 0 && strstr(it->path, ".zip/")) {
            finish(r, it, NULL, NULL, "inside a zip archive: not supported");
            continue;
        }
        free(r->mapped[k]);
        r->mapped[k] = strdup(buf);
        if (!r->mapped[k]) {
            fatal(r, AITAG_ERR_NOMEM, "out of memory");
            break;
        }
        /* Keep selection order: the batch's items move to the front of the window. */
        if (k != i) {
            struct sel_item tmp = r->items[at + k];
            r->items[at + k] = *it;
            r->items[at + i] = tmp;
        }
        paths[k] = r->mapped[k];
        k++;
    }
    return k;
}

static int run_batches(struct run *r)
{
    size_t batch = r->p->batch > 0 ? (size_t)r->p->batch : 20;
    const char **paths = calloc(batch, sizeof *paths);
    int rc = 0;

    r->mapped = calloc(batch, sizeof *r->mapped);
    if (!paths || !r->mapped) {
        free(paths);
        fatal(r, AITAG_ERR_NOMEM, "out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (size_t at = 0; at < r->n && !atomic_load(&r->stop); at += batch) {
        size_t n = r->n - at < batch ? r->n - at : batch, k;
        struct aitag_summary sum;
        k = prepare_batch(r, at, n, paths);
        /* Failed items were moved behind the k good ones; progress counts them as done. */
        r->batch_at = at;
        r->batch_n = k;
        if (k == 0 || atomic_load(&r->stop))
            continue;
        rc = aitag_tagger_run(r->tagger, paths, k, &sum);
        r->models_run += sum.models_run;
        if (rc < 0) {
            char msg[1200];
            aitag_fmt(msg, sizeof msg, "tagger: %s", aitag_tagger_errmsg(r->tagger));
            fatal(r, rc, msg);
            break;
        }
        progress(r, (double)(at + n) / (double)r->n);
    }
    free(paths);
    return r->fatal;
}

static char *summary(struct run *r)
{
    json_t *o = json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:O}", "mode",
        r->in->mode, "items", (int)r->n, "analysed", r->analysed, "unchanged", r->unchanged,
        "partial", r->partial, "failed", r->failed, "missing", r->missing, "updated", r->updated,
        "tags_added", r->total.tags_added, "tags_removed", r->total.tags_removed, "markers_created",
        r->total.markers_created, "markers_destroyed", r->total.markers_destroyed, "models_run",
        r->models_run, "seconds", (double)(long)((aitag_now() - r->t0) * 10) / 10.0, "failures",
        r->failures);
    char *text;

    if (o)
        json_object_set_new(o, "corrections_read_back", json_integer(r->read_back));
    if (o && r->vlm.describe)
        json_object_set_new(o, "descriptions", json_integer(r->descriptions));
    if (o && r->set.transcript == PLUGIN_TRANSCRIPT_DETAILS)
        json_object_set_new(o, "transcripts", json_integer(r->transcripts));
    if (o && r->people_ran) {
        const struct plugin_people_counts *c = &r->people;
        json_t *pe =
            json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "named", c->named,
                      "linked", c->linked, "found", c->found, "created", c->created,
                      "created_without_image", c->created_without_image, "not_created",
                      c->not_created, "added", c->added, "taken_off", c->taken_off, "kept_off",
                      c->kept_off, "not_in_stash", c->not_in_stash, "failed", c->failed);
        if (pe && r->people_err[0])
            json_object_set_new(pe, "error", json_string(r->people_err));
        if (pe && r->performers_ran) {
            const struct plugin_performer_faces *f = &r->performer_faces;
            json_object_set_new(pe, "performer_images",
                                json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
                                          "performers", f->performers, "unchanged", f->unchanged,
                                          "embedded", f->embedded, "linked", f->linked, "adopted",
                                          f->adopted, "created", f->created, "conflicts",
                                          f->conflicts, "no_face", f->no_face, "failed", f->failed,
                                          "dropped", f->dropped));
        }
        json_object_set_new(o, "people", pe);
    }
    text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;

    json_decref(o);
    return text;
}

/* Mode enqueue: the queued items (AI_TagMe) go into the catalog's job queue, by their path on
 * this machine (pathMappings applied: the library path workers map to theirs), for `aitag
 * worker`s to tag (docs/scale.md); they keep AI_TagMe, so the next "Tag queued items" writes
 * their results to Stash without running a model. */
static int run_enqueue(struct run *r, const char *catalog, char **output)
{
    struct aitag_catalog *c = NULL;
    char err[1024], buf[4096];
    int queued = 0, already = 0, failed = 0, rc, q;
    json_t *o;

    rc = aitag_catalog_open(catalog, 0, &c, err, sizeof err);
    if (rc < 0) {
        aitag_fmt(r->err, sizeof r->err, "%s", err);
        return rc;
    }
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        const struct sel_item *it = &r->items[i];
        if (!it->path || !*it->path ||
            aitag_map_path(r->set.path_mappings, it->path, buf, sizeof buf) < 0) {
            note_failure(r, it,
                         it->path && *it->path ? "path too long after pathMappings"
                                               : "Stash has no file for this item");
            failed++;
            continue;
        }
        rc = aitag_catalog_enqueue(c, buf, -1, "stash", &q);
        queued += rc == 0 && q;
        already += rc == 0 && !q;
    }
    if (rc < 0)
        aitag_fmt(r->err, sizeof r->err, "%s", aitag_catalog_errmsg(c));
    aitag_catalog_close(c);
    if (rc < 0)
        return rc;
    aitag_log(AITAG_LOG_INFO, "plugin", "enqueue: %zu item(s): %d queued, %d already, %d failed",
              r->n, queued, already, failed);
    o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:O}", "mode", "enqueue", "items", (int)r->n, "queued",
                  queued, "already_queued", already, "failed", failed, "failures", r->failures);
    *output = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return 0;
}

static int run_hook(struct run *r, char **output)
{
    const char *type = r->in->hook_type, *id = r->in->hook_id;
    enum aitag_stash_kind kind;
    json_t *o;
    int rc;

    if (strcmp(type, "Scene.Create.Post") == 0)
        kind = AITAG_STASH_SCENE;
    else if (strcmp(type, "Image.Create.Post") == 0)
        kind = AITAG_STASH_IMAGE;
    else {
        /* Only the two create hooks are declared in aitag.yml; anything else is a no-op. */
        o = json_pack("{s:s, s:s}", "mode", "hook", "ignored", type);
        *output = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return 0;
    }
    rc = plugin_tags_init_hook(&r->tags, r->stash, r->set.parent_tag);
    if (rc == 0)
        rc = aitag_stash_update_tags(r->stash, kind, &id, 1, (const char *const *)&r->tags.tagme_id,
                                     1, "ADD");
    if (rc < 0) {
        aitag_fmt(r->err, sizeof r->err, "Stash: %s", aitag_stash_errmsg(r->stash));
        return rc;
    }
    aitag_log(AITAG_LOG_INFO, "plugin", "%s %s queued (%s)", kind_name(kind), id, PLUGIN_TAG_TAGME);
    o = json_pack("{s:s, s:s, s:s, s:s}", "mode", "hook", "kind", kind_name(kind), "id", id,
                  "added", PLUGIN_TAG_TAGME);
    *output = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return 0;
}

int aitag_plugin_run(const struct aitag_plugin_params *p, const struct aitag_plugin_input *in,
                     char **output, char *err, size_t errlen)
{
    struct aitag_stash_params sp = aitag_stash_default_params();
    struct run r;
    char version[64] = "", *settings = NULL, *analyzers = NULL;
    int rc;

    *output = NULL;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.in = in;
    r.t0 = aitag_now();
    r.failures = json_array();
    sp.url = in->url;
    sp.session_cookie = in->session_cookie;
    sp.api_key = p->api_key;
    sp.timeout_ms = p->stash_timeout_ms;
    sp.retries = p->stash_retries;
    if (!r.failures || (rc = aitag_stash_new(&sp, &r.stash)) < 0) {
        aitag_fmt(err, errlen, "cannot create the Stash client for %s", in->url);
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    /* First contact: an unreachable Stash stops here, before anything is written. */
    rc = aitag_stash_version(r.stash, version, sizeof version);
    if (rc == 0)
        rc = aitag_stash_plugin_settings(r.stash, p->plugin_id, &settings);
    if (rc < 0) {
        aitag_fmt(err, errlen, "cannot reach Stash at %s: %s", in->url,
                  aitag_stash_errmsg(r.stash));
        goto out;
    }
    rc = plugin_settings_parse(settings, &r.set, err, errlen);
    if (rc == 0)
        rc = plugin_vlm_parse(settings, r.set.gateway_url, r.set.local_only, &r.vlm, err, errlen);
    if (rc < 0)
        goto out;
    aitag_log(AITAG_LOG_DEBUG, "plugin", "stash=%s mode=%s analyzers=%s interval=%g", version,
              in->mode, r.set.analyzers, r.set.interval);
    if (strcmp(in->mode, "hook") == 0) {
        rc = run_hook(&r, output);
        if (rc < 0)
            aitag_fmt(err, errlen, "%s", r.err);
        goto out;
    }
    if (strcmp(in->mode, "people") == 0) { /* the task: asked explicitly, so it may create */
        progress(&r, 0);
        /* a tagger only to embed performer images (it loads models when it has one to do) */
        if (!r.set.skip_performer_images && names_analyzer(r.set.analyzers, "face_attrs") &&
            (!(analyzers = strdup(r.set.analyzers)) || make_tagger(&r, analyzers) < 0)) {
            aitag_fmt(err, errlen, "%s", analyzers ? r.err : "out of memory");
            rc = analyzers ? AITAG_ERR_INVALID : AITAG_ERR_NOMEM;
            goto out;
        }
        rc = sync_people(&r, 1);
        if (rc < 0)
            aitag_fmt(err, errlen, "%s", r.people_err);
        else
            progress(&r, 1);
        *output = summary(&r);
        goto out;
    }
    rc = plugin_tags_init(&r.tags, r.stash, r.set.parent_tag);
    if (rc < 0) {
        aitag_fmt(err, errlen, "Stash: %s", aitag_stash_errmsg(r.stash));
        goto out;
    }
    if (strcmp(in->mode, "enqueue") == 0) { /* no tagger: the workers tag */
        char path[4096];
        rc = select_items(&r);
        if (rc < 0) {
            aitag_fmt(err, errlen, "Stash: %s", aitag_stash_errmsg(r.stash));
            goto out;
        }
        rc = run_enqueue(&r, catalog_path(&r, path, sizeof path), output);
        if (rc < 0)
            aitag_fmt(err, errlen, "%s", r.err);
        goto out;
    }
    if (!(analyzers = strdup(r.set.analyzers)) || (rc = make_tagger(&r, analyzers)) < 0) {
        aitag_fmt(err, errlen, "%s", analyzers ? r.err : "out of memory");
        rc = analyzers ? rc : AITAG_ERR_NOMEM;
        goto out;
    }
    rc = select_items(&r);
    if (rc < 0) {
        aitag_fmt(err, errlen, "Stash: %s", aitag_stash_errmsg(r.stash));
        goto out;
    }
    aitag_log(AITAG_LOG_INFO, "plugin", "%s: %zu item(s) selected", in->mode, r.n);
    progress(&r, 0);
    rc = run_batches(&r);
    if (rc == 0 && p->cancel && atomic_load(p->cancel))
        rc = AITAG_ERR_CANCELED, aitag_fmt(r.err, sizeof r.err, "stopped on request");
    /* The tags are written; the people are a second step whose failure is reported in the
     * output without failing the tagging. */
    if (rc == 0)
        sync_people(&r, r.set.create_performers);
    if (rc < 0)
        aitag_fmt(err, errlen, "%s", r.err);
    aitag_log(AITAG_LOG_INFO, "plugin",
              "%s: %zu item(s): %d analysed, %d unchanged, %d failed; tags +%d -%d, "
              "markers +%d -%d; %.1f s",
              in->mode, r.n, r.analysed, r.unchanged, r.failed, r.total.tags_added,
              r.total.tags_removed, r.total.markers_created, r.total.markers_destroyed,
              aitag_now() - r.t0);
    if (rc == 0)
        progress(&r, 1);
    *output = summary(&r);
out:
    aitag_catalog_close(r.memory.catalog);
    aitag_tagger_free(r.tagger);
    aitag_remote_client_free(r.gateway); /* after the tagger that calls it */
    plugin_tags_clear(&r.tags);
    plugin_settings_clear(&r.set);
    plugin_vlm_clear(&r.vlm);
    aitag_stash_free(r.stash);
    for (size_t i = 0; i < r.n; i++) {
        free(r.items[i].id);
        free(r.items[i].path);
    }
    free(r.items);
    for (size_t i = 0; r.mapped && i < (size_t)(p->batch > 0 ? p->batch : 20); i++)
        free(r.mapped[i]);
    free(r.mapped);
    json_decref(r.failures);
    free(settings);
    free(analyzers);
    return rc;
}
