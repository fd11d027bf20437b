/*
 * api.c - the review app's JSON API over the catalog (docs/review.md "The app").
 *
 *     GET  /api/session                 {csrf, who, login, authenticated}
 *     GET  /api/items?q=&tag=&offset=&limit=   a page of the library: {total, offset, items}
 *     GET  /api/items/ID                one item: tags (with the verdict on each), markers,
 *                                       text, shots and the decisions made on it
 *     GET  /api/items/ID/thumb|media    its thumbnail, its file (files.c)
 *     POST /api/items/ID/decisions      {verdict, tag, start?, end?, new_tag?, new_start?,
 *                                       new_end?}: recorded, the item re-derived; answers the
 *                                       item as it is now
 *     GET  /api/queue?tag=&limit=       tags not judged yet, most useful first
 *     GET  /api/decisions?limit=        the latest decisions of every item, newest first
 *     GET  /api/thresholds?min=         thresholds fitted to the decisions, and those learned
 *     GET  /api/rules?min=N             context rules proposed from repeated rejections
 *     GET  /api/search?q=WORDS          items by meaning (WordNet, context rules), with why
 *     GET  /api/stats?tags=N            the plots' data: per tag a confidence histogram with
 *                                       its threshold, tags per item, the tagger's runs
 *     POST /api/thresholds              {label, action: learn|forget, threshold?}
 *     /api/people..., /api/faces/ID/crop people and their faces (people_api.c)
 *     GET  /api/jobs, /api/jobs/ID      tagging jobs (jobs.c), newest first
 *     POST /api/jobs                    {paths, analyzers?}: starts one, 201 {id}
 *     POST /api/jobs/ID/stop            asks it to stop (the item in flight is finished)
 *     GET  /api/jobs/ID/events          its state as Server-Sent Events until it ends
 *
 * A decision goes through aitag_catalog_decide exactly as `aitag review` does (source "web",
 * the server's user), so the command line, the app and the Stash plugin read one truth.
 * Refusals name the field, with 400 for a malformed request and 404 for an unknown item, tag
 * or marker.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_int.h"

static const char *arg(struct MHD_Connection *conn, const char *name)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

static int64_t arg_int(struct MHD_Connection *conn, const char *name, int64_t dflt, int64_t max)
{
    const char *v = arg(conn, name);
    char *end = NULL;
    long long n;

    if (!v)
        return dflt;
    n = strtoll(v, &end, 10);
    if (*end || n < 0)
        return dflt;
    return n > max ? max : n;
}

static json_t *tile_json(const struct aitag_browse_row *r)
{
    json_t *tags = json_array(), *o;
    const char *p = r->top_tags;

    while (p && *p) {
        size_t n = strcspn(p, "\x1f");
        json_array_append_new(tags, json_stringn(p, n));
        p += n + (p[n] != '\0');
    }
    o = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:f, s:i, s:i, s:b, s:I, s:o}", "id",
                  (json_int_t)r->id, "path", r->path ? r->path : "", "name",
                  web_base_name(r->path ? r->path : ""), "kind", r->kind, "status", r->status,
                  "duration", r->duration, "width", r->width, "height", r->height, "missing",
                  r->missing, "n_tags", (json_int_t)r->n_tags, "tags", tags);
    return o;
}

static int on_tile(void *ctx, const struct aitag_browse_row *r)
{
    json_t *o = tile_json(r);
    return !o || json_array_append_new(ctx, o) < 0;
}

static enum MHD_Result list_items(struct aitag_web *w, struct MHD_Connection *conn)
{
    struct aitag_browse_query q = {.tag = arg(conn, "tag"),
                                   .words = arg(conn, "q"),
                                   .offset = arg_int(conn, "offset", 0, INT64_MAX),
                                   .limit = arg_int(conn, "limit", 60, 500)};
    struct aitag_catalog *c = web_catalog_get(w);
    json_t *items = json_array();
    int64_t total = 0;
    int rc = items ? aitag_catalog_browse(c, &q, on_tile, items, &total) : AITAG_ERR_NOMEM;
    char msg[512];

    aitag_fmt(msg, sizeof msg, "%s", aitag_catalog_errmsg(c));
    web_catalog_put(w, c);
    if (rc < 0) {
        json_decref(items);
        return web_send_error(conn, 500, "catalog: %s", msg);
    }
    return web_send_json(conn, 200,
                         json_pack("{s:I, s:I, s:o}", "total", (json_int_t)total, "offset",
                                   (json_int_t)q.offset, "items", items));
}

/* The item's decisions, and the verdict that stands on each of its tags. */
struct decisions_ctx {
    json_t *list;
    json_t *verdicts; /* tag name -> "accepted" | "renamed" (tag-level decisions only) */
    int with_item;    /* listing every item's: name the item of each */
};

static int on_decision(void *ctx, const struct aitag_decision_row *r)
{
    struct decisions_ctx *d = ctx;
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:f}", "id", (json_int_t)r->id, "verdict",
                  aitag_verdict_name(r->d.verdict), "tag", r->d.tag, "who", r->who, "source",
                  r->source, "at", (json_int_t)r->at, "confidence", (double)r->d.confidence);

    if (!o)
        return 1;
    if (r->d.marker)
        json_object_set_new(o, "marker", json_pack("[f,f]", r->d.start, r->d.end));
    if (r->d.new_tag)
        json_object_set_new(o, "new_tag", json_string(r->d.new_tag));
    if (r->d.verdict == AITAG_VERDICT_BOUNDS)
        json_object_set_new(o, "new_bounds", json_pack("[f,f]", r->d.new_start, r->d.new_end));
    if (d->with_item) {
        json_object_set_new(o, "item", json_integer(r->media_id));
        json_object_set_new(o, "name", json_string(web_base_name(r->path ? r->path : "")));
    }
    json_array_append_new(d->list, o);
    if (!r->d.marker && r->d.verdict == AITAG_VERDICT_ACCEPT)
        json_object_set_new(d->verdicts, r->d.tag, json_string("accepted"));
    if (!r->d.marker && r->d.verdict == AITAG_VERDICT_RENAME && r->d.new_tag)
        json_object_set_new(d->verdicts, r->d.new_tag, json_string("renamed"));
    return 0;
}

static json_t *result_json(const struct aitag_result *res, json_t *verdicts)
{
    json_t *tags = json_array(), *markers = json_array(), *texts = json_array();
    json_t *shots = json_array();

    for (size_t i = 0; i < res->n_tags; i++) {
        const struct aitag_tag_result *t = &res->tags[i];
        json_t *v = json_object_get(verdicts, t->name);
        json_array_append_new(
            tags, json_pack("{s:s, s:s?, s:s?, s:f, s:f, s:s?}", "name", t->name, "parent",
                            t->parent, "label", t->label, "confidence", (double)t->confidence,
                            "coverage", (double)t->coverage, "verdict", json_string_value(v)));
    }
    for (size_t i = 0; i < res->n_markers; i++) {
        const struct aitag_marker_result *m = &res->markers[i];
        json_array_append_new(markers,
                              json_pack("{s:s, s:f, s:f, s:f}", "tag", m->tag, "start", m->start,
                                        "end", m->end, "confidence", (double)m->confidence));
    }
    for (size_t i = 0; i < res->n_texts; i++) {
        const struct aitag_text_result *x = &res->texts[i];
        json_array_append_new(texts, json_pack("{s:f, s:f, s:s, s:s}", "start", x->start, "end",
                                               x->end, "text", x->text, "source", x->source));
    }
    for (size_t i = 0; i < res->n_shots; i++)
        json_array_append_new(shots, json_pack("{s:f, s:f, s:s}", "start", res->shots[i].start,
                                               "end", res->shots[i].end, "edge",
                                               aitag_shot_edge_name(res->shots[i].edge)));
    return json_pack("{s:o, s:o, s:o, s:o, s:s?}", "tags", tags, "markers", markers, "texts", texts,
                     "shots", shots, "description", res->description);
}

/* The item as GET /api/items/ID gives it, or NULL with *status (404, 500). */
static json_t *item_json(struct aitag_catalog *c, int64_t id, unsigned *status)
{
    struct aitag_browse_query q = {.id = id, .limit = 1};
    struct decisions_ctx d = {json_array(), json_object(), 0};
    struct aitag_result res = {0};
    json_t *tiles = json_array(), *item = NULL, *parts = NULL;

    *status = 500;
    if (!tiles || !d.list || !d.verdicts || aitag_catalog_browse(c, &q, on_tile, tiles, NULL) < 0)
        goto out;
    if (json_array_size(tiles) == 0) {
        *status = 404;
        goto out;
    }
    if (aitag_catalog_each_decision(c, id, on_decision, &d) < 0 ||
        aitag_catalog_load_result(c, id, &res) < 0 || !(parts = result_json(&res, d.verdicts)))
        goto out;
    item = json_incref(json_array_get(tiles, 0));
    json_object_update(item, parts);
    json_object_set(item, "decisions", d.list);
    *status = 200;
out:
    aitag_result_clear(&res);
    json_decref(parts);
    json_decref(tiles);
    json_decref(d.list);
    json_decref(d.verdicts);
    return item;
}

static enum MHD_Result get_item(struct aitag_web *w, struct MHD_Connection *conn, int64_t id)
{
    struct aitag_catalog *c = web_catalog_get(w);
    unsigned status;
    json_t *item = item_json(c, id, &status);

    web_catalog_put(w, c);
    if (!item)
        return web_send_error(conn, status, "item %" PRId64 ": %s", id,
                              status == 404 ? "no such item" : "catalog error");
    return web_send_json(conn, 200, item);
}

/* A number field of the body, or -1 when absent; *bad set when present but not a number. */
static double num_field(json_t *body, const char *name, int *bad)
{
    json_t *v = json_object_get(body, name);

    if (!v)
        return -1;
    if (!json_is_number(v) || json_number_value(v) < 0) {
        *bad = 1;
        return -1;
    }
    return json_number_value(v);
}

static enum MHD_Result post_decision(struct aitag_web *w, struct MHD_Connection *conn, int64_t id,
                                     const struct web_req *r)
{
    json_error_t jerr;
    json_t *body = r->body ? json_loadb(r->body, r->len, 0, &jerr) : NULL, *item = NULL;
    struct aitag_decision d = {0};
    struct aitag_catalog *c;
    char evidence[160], msg[600];
    int bad = 0, verdict, rc;
    int64_t decision = 0;
    unsigned status;

    if (!json_is_object(body)) {
        json_decref(body);
        return web_send_error(conn, 400, "body: not a JSON object");
    }
    verdict = aitag_verdict_parse(json_string_value(json_object_get(body, "verdict")));
    d.tag = json_string_value(json_object_get(body, "tag"));
    d.new_tag = json_string_value(json_object_get(body, "new_tag"));
    d.start = num_field(body, "start", &bad);
    d.end = num_field(body, "end", &bad);
    d.new_start = num_field(body, "new_start", &bad);
    d.new_end = num_field(body, "new_end", &bad);
    d.marker = json_object_get(body, "start") != NULL;
    if (verdict < 0 || !d.tag || bad || (d.marker && !json_object_get(body, "end"))) {
        json_decref(body);
        return web_send_error(conn, 400,
                              verdict < 0 ? "verdict: not accept, reject, rename or bounds"
                              : !d.tag    ? "tag: missing"
                                          : "start, end, new_start, new_end: numbers >= 0, "
                                            "start with end");
    }
    d.verdict = (enum aitag_verdict)verdict;
    snprintf(evidence, sizeof evidence, "{\"policy\":\"%s\"}", aitag_policy_key(w->policy));
    c = web_catalog_get(w);
    rc = aitag_catalog_decide(c, id, &d, w->who, "web", evidence, w->policy, &decision);
    aitag_fmt(msg, sizeof msg, "%s", aitag_catalog_errmsg(c));
    if (rc == 0)
        item = item_json(c, id, &status);
    web_catalog_put(w, c);
    json_decref(body);
    if (rc == AITAG_ERR_NOTFOUND)
        return web_send_error(conn, 404, "%s", msg);
    if (rc == AITAG_ERR_INVALID)
        return web_send_error(conn, 400, "%s", msg);
    if (rc < 0 || !item)
        return web_send_error(conn, 500, "catalog: %s", msg);
    return web_send_json(conn, 201,
                         json_pack("{s:I, s:o}", "decision", (json_int_t)decision, "item", item));
}

/* GET /api/decisions?limit=N: the latest N decisions of every item, newest first. */
static enum MHD_Result get_decisions(struct aitag_web *w, struct MHD_Connection *conn)
{
    struct decisions_ctx d = {json_array(), json_object(), 1};
    struct aitag_catalog *c = web_catalog_get(w);
    int64_t limit = arg_int(conn, "limit", 200, 10000);
    int rc =
        d.list && d.verdicts ? aitag_catalog_each_decision(c, 0, on_decision, &d) : AITAG_ERR_NOMEM;
    json_t *newest = json_array();
    size_t n = json_array_size(d.list);

    web_catalog_put(w, c);
    for (size_t i = n; rc == 0 && newest && i-- > 0 && (int64_t)(n - 1 - i) < limit;)
        json_array_append(newest, json_array_get(d.list, i));
    json_decref(d.list);
    json_decref(d.verdicts);
    if (rc < 0 || !newest) {
        json_decref(newest);
        return web_send_error(conn, 500, "catalog error");
    }
    return web_send_json(conn, 200, json_pack("{s:o}", "decisions", newest));
}

/* GET /api/thresholds?min=N: the fit of every label with at least N judged items (default 5),
 * and the thresholds learned so far. */
struct fits_ctx {
    struct aitag_catalog *c;
    const struct aitag_policy *p;
    json_t *fits;
    int rc;
};

static int on_fit_label(void *ctx, const char *label, int accepted, int rejected)
{
    struct fits_ctx *x = ctx;
    struct aitag_threshold_fit f;
    json_error_t jerr;
    char *text;
    json_t *o;

    (void)accepted, (void)rejected;
    if ((x->rc = aitag_catalog_fit_threshold(x->c, x->p, label, &f)) < 0)
        return 1;
    text = aitag_threshold_fit_json(label, &f);
    o = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    if (!o) {
        x->rc = AITAG_ERR_NOMEM;
        return 1;
    }
    json_array_append_new(x->fits, o);
    return 0;
}

static int on_learned(void *ctx, const struct aitag_learned *l)
{
    json_t *o = json_pack("{s:s, s:f, s:f, s:s, s:I}", "label", l->label, "threshold",
                          round((double)(l->threshold * 1000)) / 1000, "previous",
                          round((double)(l->previous * 1000)) / 1000, "who", l->who, "at",
                          (json_int_t)l->at);
    return !o || json_array_append_new(ctx, o) < 0;
}

static enum MHD_Result get_thresholds(struct aitag_web *w, struct MHD_Connection *conn)
{
    struct aitag_catalog *c = web_catalog_get(w);
    struct fits_ctx x = {c, w->policy, json_array(), 0};
    json_t *learned = json_array();
    int rc = x.fits && learned ? aitag_catalog_each_fit_label(
                                     c, (int)arg_int(conn, "min", 5, 1000000), on_fit_label, &x)
                               : AITAG_ERR_NOMEM;

    rc = rc < 0 ? rc : x.rc;
    if (rc == 0)
        rc = aitag_catalog_each_learned(c, on_learned, learned);
    web_catalog_put(w, c);
    if (rc < 0) {
        json_decref(x.fits);
        json_decref(learned);
        return web_send_error(conn, 500, "catalog error");
    }
    return web_send_json(conn, 200, json_pack("{s:o, s:o}", "fits", x.fits, "learned", learned));
}

/* POST /api/thresholds {label, action: "learn" (threshold: the fit's unless given) | "forget"} */
static enum MHD_Result post_threshold(struct aitag_web *w, struct MHD_Connection *conn,
                                      const struct web_req *r)
{
    json_error_t jerr;
    json_t *body = r->body ? json_loadb(r->body, r->len, 0, &jerr) : NULL, *t;
    const char *label = json_string_value(json_object_get(body, "label"));
    const char *action = json_string_value(json_object_get(body, "action"));
    struct aitag_threshold_fit f;
    struct aitag_catalog *c;
    char *fit = NULL, msg[600];
    double threshold = -1;
    int rc, n = 0, forget;
    enum MHD_Result ok;

    if (!label || !*label ||
        (action && strcmp(action, "learn") != 0 && strcmp(action, "forget") != 0)) {
        const char *why = !label || !*label ? "label: missing" : "action: not learn or forget";
        json_decref(body); /* label is the body's: read it before */
        return web_send_error(conn, 400, "%s", why);
    }
    forget = action && strcmp(action, "forget") == 0;
    if ((t = json_object_get(body, "threshold")) && !json_is_number(t)) {
        json_decref(body);
        return web_send_error(conn, 400, "threshold: not a number");
    }
    if (t)
        threshold = json_number_value(t);
    c = web_catalog_get(w);
    if (forget) {
        rc = aitag_catalog_forget_threshold(c, w->policy, label, &n);
    } else {
        rc = aitag_catalog_fit_threshold(c, w->policy, label, &f);
        if (rc == 0 && threshold < 0)
            threshold = f.proposed;
        if (rc == 0)
            fit = aitag_threshold_fit_json(label, &f);
        if (rc == 0)
            rc = aitag_catalog_learn_threshold(c, w->policy, label, (float)threshold, w->who, fit,
                                               &n);
    }
    aitag_fmt(msg, sizeof msg, "%s", aitag_catalog_errmsg(c));
    web_catalog_put(w, c);
    free(fit);
    if (rc == AITAG_ERR_NOTFOUND)
        ok = web_send_error(conn, 404, "%s", msg);
    else if (rc == AITAG_ERR_INVALID)
        ok = web_send_error(conn, 400, "%s", msg);
    else if (rc < 0)
        ok = web_send_error(conn, 500, "catalog: %s", msg);
    else
        ok = web_send_json(
            conn, 200,
            json_pack("{s:s, s:s, s:o, s:i}", "label", label, "action", forget ? "forget" : "learn",
                      "threshold", forget ? json_null() : json_real(round(threshold * 1000) / 1000),
                      "rederived", n));
    json_decref(body); /* label is the body's */
    return ok;
}

/* GET /api/search?q=WORDS: items by meaning, best first, each with why (params.search). */
struct search_ctx {
    json_t *hits;
    size_t max;
};

static void on_hit(void *ctx, int64_t media_id, float score, const char *why)
{
    struct search_ctx *x = ctx;

    if (json_array_size(x->hits) < x->max)
        json_array_append_new(x->hits, json_pack("{s:I, s:f, s:s}", "id", (json_int_t)media_id,
                                                 "score", round((double)(score * 1000)) / 1000,
                                                 "why", why ? why : ""));
}

static enum MHD_Result get_search(struct aitag_web *w, struct MHD_Connection *conn)
{
    const char *q = arg(conn, "q");
    struct search_ctx x = {json_array(), (size_t)arg_int(conn, "limit", 50, 500)};
    struct aitag_catalog *c;
    json_t *item;
    size_t i;
    int rc;

    if (!w->search) {
        json_decref(x.hits);
        return web_send_error(conn, 404, "search by meaning: not available on this server");
    }
    if (!q || strlen(q) > 200) {
        json_decref(x.hits);
        return web_send_error(conn, 400, "q: 1 to 200 bytes of words");
    }
    c = web_catalog_get(w);
    pthread_mutex_lock(&w->search_lock);
    rc = x.hits ? w->search(w->search_ctx, c, q, on_hit, &x) : AITAG_ERR_NOMEM;
    pthread_mutex_unlock(&w->search_lock);
    /* each hit with its tile (name, kind, tags) */
    json_array_foreach(x.hits, i, item)
    {
        struct aitag_browse_query bq = {.id = json_integer_value(json_object_get(item, "id")),
                                        .limit = 1};
        json_t *tiles = json_array();
        if (tiles && aitag_catalog_browse(c, &bq, on_tile, tiles, NULL) == 0 &&
            json_array_size(tiles) == 1)
            json_object_update_missing(item, json_array_get(tiles, 0));
        json_decref(tiles);
    }
    web_catalog_put(w, c);
    if (rc < 0) {
        json_decref(x.hits);
        return web_send_error(conn, 500, "search failed");
    }
    return web_send_json(conn, 200, json_pack("{s:s, s:o}", "q", q, "hits", x.hits));
}

/* GET /api/rules?min=N: context rules proposed from repeated rejections. */
static int on_proposal(void *ctx, const struct aitag_rule_proposal *p)
{
    char *text = aitag_rule_proposal_json(p);
    json_error_t jerr;
    json_t *o = text ? json_loads(text, 0, &jerr) : NULL;

    free(text);
    return !o || json_array_append_new(ctx, o) < 0;
}

static enum MHD_Result get_rules(struct aitag_web *w, struct MHD_Connection *conn)
{
    struct aitag_catalog *c = web_catalog_get(w);
    json_t *list = json_array();
    int rc = list ? aitag_catalog_rule_proposals(c, (int)arg_int(conn, "min", 3, 1000000),
                                                 on_proposal, list)
                  : AITAG_ERR_NOMEM;

    web_catalog_put(w, c);
    if (rc < 0) {
        json_decref(list);
        return web_send_error(conn, 500, "catalog error");
    }
    return web_send_json(conn, 200, json_pack("{s:o}", "proposals", list));
}

/* GET /api/stats: what the plots draw (docs/review.md). */
struct stats_ctx {
    const struct aitag_policy *p;
    json_t *tags;
};

static int on_tag_stats(void *ctx, const struct aitag_tag_stats *s)
{
    struct stats_ctx *x = ctx;
    json_t *bins = json_array(), *o;
    double t =
        s->learned >= 0 ? s->learned : aitag_policy_threshold(x->p, s->label ? s->label : s->name);

    for (int k = 0; k < AITAG_CONF_BINS; k++)
        json_array_append_new(bins, json_integer(s->bins[k]));
    o = json_pack("{s:s, s:s?, s:I, s:o, s:f, s:b, s:I, s:I}", "name", s->name, "label", s->label,
                  "items", (json_int_t)s->items, "bins", bins, "threshold", round(t * 1000) / 1000,
                  "learned", s->learned >= 0, "accepted", (json_int_t)s->accepted, "rejected",
                  (json_int_t)s->rejected);
    return !o || json_array_append_new(x->tags, o) < 0;
}

static int on_run(void *ctx, const struct aitag_run_row *r)
{
    json_t *o =
        json_pack("{s:I, s:I, s:I, s:i, s:i, s:i, s:f, s:f}", "id", (json_int_t)r->id, "started",
                  (json_int_t)r->started_at, "finished", (json_int_t)r->finished_at, "tagged",
                  r->tagged, "skipped", r->skipped, "failed", r->failed, "seconds", r->seconds,
                  "media_seconds", r->media_seconds);
    return !o || json_array_append_new(ctx, o) < 0;
}

static enum MHD_Result get_stats(struct aitag_web *w, struct MHD_Connection *conn)
{
    struct aitag_catalog *c = web_catalog_get(w);
    struct stats_ctx x = {w->policy, json_array()};
    json_t *runs = json_array(), *per_item = json_array();
    int64_t counts[21];
    int rc = x.tags && runs && per_item
                 ? aitag_catalog_tag_stats(c, arg_int(conn, "tags", 24, 1000), on_tag_stats, &x)
                 : AITAG_ERR_NOMEM;

    if (rc == 0)
        rc = aitag_catalog_tags_per_item(c, counts, 21);
    if (rc == 0)
        rc = aitag_catalog_each_run(c, 50, on_run, runs);
    web_catalog_put(w, c);
    for (int k = 0; rc == 0 && k < 21; k++)
        json_array_append_new(per_item, json_integer(counts[k]));
    if (rc < 0) {
        json_decref(x.tags);
        json_decref(runs);
        json_decref(per_item);
        return web_send_error(conn, 500, "catalog error");
    }
    return web_send_json(conn, 200,
                         json_pack("{s:o, s:o, s:o, s:i}", "tags", x.tags, "tags_per_item",
                                   per_item, "runs", runs, "bins", AITAG_CONF_BINS));
}

static int on_queue(void *ctx, const struct aitag_review_entry *e)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:f, s:I, s:f}", "id", (json_int_t)e->media_id,
                          "path", e->path, "name", web_base_name(e->path), "tag", e->tag,
                          "confidence", (double)e->confidence, "tag_items",
                          (json_int_t)e->tag_items, "priority", e->priority);
    return !o || json_array_append_new(ctx, o) < 0;
}

static enum MHD_Result get_queue(struct aitag_web *w, struct MHD_Connection *conn)
{
    struct aitag_catalog *c = web_catalog_get(w);
    json_t *list = json_array();
    int rc = list ? aitag_catalog_review_queue(c, arg(conn, "tag"),
                                               arg_int(conn, "limit", 100, 1000), on_queue, list)
                  : AITAG_ERR_NOMEM;

    web_catalog_put(w, c);
    if (rc < 0) {
        json_decref(list);
        return web_send_error(conn, 500, "catalog error");
    }
    return web_send_json(conn, 200, json_pack("{s:o}", "entries", list));
}

static enum MHD_Result get_session(struct aitag_web *w, struct MHD_Connection *conn)
{
    int authed = web_authenticated(w, conn);

    return web_send_json(conn, 200,
                         json_pack("{s:s?, s:s, s:b, s:b}", "csrf", authed ? w->csrf : NULL, "who",
                                   w->who, "login", w->password_hash != NULL, "authenticated",
                                   authed));
}

/* POST /api/jobs {paths: [...], analyzers?}: 201 {id}. */
static enum MHD_Result post_job(struct aitag_web *w, struct MHD_Connection *conn,
                                const struct web_req *r)
{
    json_error_t jerr;
    json_t *body = r->body ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
    char err[600];
    int id = 0, rc;

    if (!json_is_object(body)) {
        json_decref(body);
        return web_send_error(conn, 400, "body: not a JSON object");
    }
    rc = web_job_start(w, body, &id, err, sizeof err);
    json_decref(body);
    if (rc < 0)
        return web_send_error(conn, rc == AITAG_ERR_INVALID ? 400 : 500, "%s", err);
    return web_send_json(conn, 201, json_pack("{s:i}", "id", id));
}

enum MHD_Result web_api(struct aitag_web *w, struct MHD_Connection *conn, const char *method,
                        const char *url, const struct web_req *r)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int64_t id = 0;
    int used = 0, job = 0;
    char rest[32] = "";

    if (strcmp(url, "/api/session") == 0 && get)
        return get_session(w, conn);
    if (strcmp(url, "/api/items") == 0 && get)
        return list_items(w, conn);
    if (strcmp(url, "/api/queue") == 0 && get)
        return get_queue(w, conn);
    if (strcmp(url, "/api/decisions") == 0 && get)
        return get_decisions(w, conn);
    if (strcmp(url, "/api/thresholds") == 0 && get)
        return get_thresholds(w, conn);
    if (strcmp(url, "/api/stats") == 0 && get)
        return get_stats(w, conn);
    if (strcmp(url, "/api/rules") == 0 && get)
        return get_rules(w, conn);
    if (strcmp(url, "/api/search") == 0 && get)
        return get_search(w, conn);
    if (strcmp(url, "/api/thresholds") == 0 && strcmp(method, "POST") == 0)
        return post_threshold(w, conn, r);
    if (strncmp(url, "/api/people", 11) == 0 || strncmp(url, "/api/faces/", 11) == 0) {
        int handled = 0;
        enum MHD_Result ok = web_people_api(w, conn, method, url, r, &handled);
        if (handled)
            return ok;
    }
    if (strcmp(url, "/api/jobs") == 0 && get)
        return web_send_json(conn, 200, json_pack("{s:o}", "jobs", web_jobs_json(w, 0)));
    if (strcmp(url, "/api/jobs") == 0 && strcmp(method, "POST") == 0)
        return post_job(w, conn, r);
    /* NOLINTNEXTLINE(cert-err34-c): an id out of range (glibc clamps) is just an unknown id */
    if (sscanf(url, "/api/jobs/%d%n", &job, &used) == 1 && job > 0) {
        snprintf(rest, sizeof rest, "%s", url + used);
        if (strcmp(rest, "") == 0 && get) {
            json_t *j = web_jobs_json(w, job);
            return j ? web_send_json(conn, 200, j)
                     : web_send_error(conn, 404, "job %d: no such job", job);
        }
        if (strcmp(rest, "/events") == 0 && get)
            return web_job_events(w, conn, job);
        if (strcmp(rest, "/stop") == 0 && strcmp(method, "POST") == 0)
            return web_job_stop(w, job) == 0
                       ? web_send_json(conn, 202, json_pack("{s:i}", "stopping", job))
                       : web_send_error(conn, 404, "job %d: no such job", job);
    }
    /* NOLINTNEXTLINE(cert-err34-c): an id out of range (glibc clamps) is just an unknown id */
    if (sscanf(url, "/api/items/%" SCNd64 "%n", &id, &used) == 1 && id > 0) {
        snprintf(rest, sizeof rest, "%s", url + used);
        if (strcmp(rest, "") == 0 && get)
            return get_item(w, conn, id);
        if (strcmp(rest, "/thumb") == 0 && get)
            return web_thumb(w, conn, id);
        if (strcmp(rest, "/media") == 0 && get)
            return web_media(w, conn, id);
        if (strcmp(rest, "/decisions") == 0 && strcmp(method, "POST") == 0)
            return post_decision(w, conn, id, r);
    }
    return web_send_error(conn, 404, "%s %s: no such API", method, url);
}
