/*
 * items.c - storing one analysed media item atomically, and deriving results from evidence.
 *
 * commit_item is the only writer of evidence. Within one IMMEDIATE transaction it upserts the
 * media row, drops everything stored for a file whose identity changed, replaces the evidence
 * of each analyzer that ran, records the analyses, replaces the item's faces when face_attrs
 * ran (faces.c), replaces the shots when the sampling found some (shots.c), then re-derives tags,
 * markers and text from all of the item's stored evidence and shots. Derived rows are always
 * rebuilt from evidence, never edited, so they can't drift from it; the policy key stored on the
 * media row says which rules produced them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_int.h"

static const char *kind_name(const struct aitag_probe *p)
{
    return p->kind == AITAG_MEDIA_IMAGE ? "image" : p->kind == AITAG_MEDIA_VIDEO ? "video" : NULL;
}

static int upsert_media(struct aitag_catalog *c, const struct aitag_item *it, int64_t *id)
{
    struct catalog_stmt *st = NULL;
    const struct aitag_probe *p = it->probe;
    struct aitag_media_row row;
    int rc, changed;

    rc = aitag_catalog_find_media(c, it->path, &row);
    if (rc < 0 && rc != AITAG_ERR_NOTFOUND)
        return rc;
    changed = rc == AITAG_ERR_NOTFOUND || row.size != it->size || row.mtime_ns != it->mtime_ns ||
              strcmp(row.fingerprint, it->fingerprint) != 0;
    if (rc == 0 && changed) {
        /* A different file now lives at this path: nothing stored about the old one holds. */
        rc = catalog_sql_prepare(c, "DELETE FROM analyses WHERE media_id = ?1;", &st);
        if (rc < 0)
            return rc;
        catalog_bind_int64(st, 1, row.id);
        rc = catalog_sql_check(c, catalog_step(st), "drop analyses");
        catalog_finalize(st);
        st = NULL;
        if (rc < 0)
            return rc;
        rc = catalog_sql_prepare(c, "DELETE FROM evidence WHERE media_id = ?1", &st);
        if (rc < 0)
            return rc;
        catalog_bind_int64(st, 1, row.id);
        rc = catalog_sql_check(c, catalog_step(st), "drop evidence");
        catalog_finalize(st);
        st = NULL;
        if (rc == 0)
            rc = catalog_shots_store(c, row.id, NULL, 0);
        if (rc == 0)
            rc = catalog_faces_clear(c, row.id);
        if (rc < 0)
            return rc;
    }
    rc = catalog_sql_prepare(
        c,
        "INSERT INTO media(path, size, mtime_ns, fingerprint, kind, duration, width,"
        " height, container, video_codec, audio_codec, fps, rotation, bit_rate,"
        " status, error, updated_at)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)"
        " ON CONFLICT(path) DO UPDATE SET size=?2, mtime_ns=?3, fingerprint=?4,"
        " kind=?5, duration=?6, width=?7, height=?8, container=?9, video_codec=?10,"
        " audio_codec=?11, fps=?12, rotation=?13, bit_rate=?14, status=?15,"
        " error=?16, updated_at=?17, missing_at=NULL RETURNING id",
        &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, it->path, -1);
    catalog_bind_int64(st, 2, it->size);
    catalog_bind_int64(st, 3, it->mtime_ns);
    catalog_bind_text(st, 4, it->fingerprint, -1);
    catalog_bind_text(st, 5, kind_name(p), -1);
    catalog_bind_double(st, 6, p->duration);
    catalog_bind_int(st, 7, p->width);
    catalog_bind_int(st, 8, p->height);
    catalog_bind_text(st, 9, p->container, -1);
    catalog_bind_text(st, 10, p->video_codec, -1);
    catalog_bind_text(st, 11, p->audio_codec, -1);
    catalog_bind_double(st, 12, p->fps);
    catalog_bind_int(st, 13, p->rotation);
    catalog_bind_int64(st, 14, p->bit_rate);
    catalog_bind_text(st, 15, it->status ? it->status : "ok", -1);
    if (it->error)
        catalog_bind_text(st, 16, it->error, -1);
    else
        catalog_bind_null(st, 16);
    catalog_bind_int64(st, 17, (int64_t)time(NULL));
    rc = catalog_step(st);
    if (rc == CATALOG_ROW)
        *id = catalog_column_int64(st, 0);
    rc = catalog_sql_check(c, rc, "upsert media");
    catalog_finalize(st);
    return rc;
}

static int replace_evidence(struct aitag_catalog *c, int64_t id, const struct aitag_item *it)
{
    struct catalog_stmt *del = NULL, *ins = NULL, *an = NULL;
    int rc;

    rc = catalog_sql_prepare(c, "DELETE FROM evidence WHERE media_id = ? AND analyzer = ?", &del);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c,
            "INSERT INTO evidence(media_id, analyzer, label, confidence, t, x, y, w,"
            " h, text, extra) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            &ins);
    if (rc == 0)
        rc =
            catalog_sql_prepare(c,
                                "INSERT INTO analyses(media_id, analyzer, key, interval, n_frames,"
                                " strategy, run_id, created_at) VALUES(?,?,?,?,?,?,?,?)"
                                " ON CONFLICT(media_id, analyzer) DO UPDATE SET key = excluded.key,"
                                " interval = excluded.interval, n_frames = excluded.n_frames,"
                                " strategy = excluded.strategy, run_id = excluded.run_id,"
                                " created_at = excluded.created_at",
                                &an);
    for (size_t i = 0; rc == 0 && i < it->n_ran; i++) {
        catalog_reset(del);
        catalog_bind_int64(del, 1, id);
        catalog_bind_text(del, 2, it->ran[i].analyzer, -1);
        rc = catalog_sql_check(c, catalog_step(del), "delete evidence");
        if (rc < 0)
            break;
        catalog_reset(an);
        catalog_bind_int64(an, 1, id);
        catalog_bind_text(an, 2, it->ran[i].analyzer, -1);
        catalog_bind_text(an, 3, it->ran_keys[i], -1);
        catalog_bind_double(an, 4, it->ran[i].interval);
        catalog_bind_int(an, 5, it->ran[i].n_frames);
        catalog_bind_text(an, 6, it->strategy, -1);
        catalog_bind_int64(an, 7, it->run_id);
        catalog_bind_int64(an, 8, (int64_t)time(NULL));
        rc = catalog_sql_check(c, catalog_step(an), "record analysis");
    }
    for (size_t i = 0; rc == 0 && i < it->n_evidence; i++) {
        const struct aitag_evidence *e = &it->evidence[i];
        char *details = NULL;
        if (aitag_evidence_details_json(e, &details) < 0) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        catalog_reset(ins);
        catalog_clear_bindings(ins);
        catalog_bind_int64(ins, 1, id);
        catalog_bind_text(ins, 2, e->analyzer, -1);
        catalog_bind_text(ins, 3, e->label, -1);
        catalog_bind_double(ins, 4, e->confidence);
        catalog_bind_double(ins, 5, e->t);
        if (e->has_box) {
            catalog_bind_double(ins, 6, e->box.x);
            catalog_bind_double(ins, 7, e->box.y);
            catalog_bind_double(ins, 8, e->box.w);
            catalog_bind_double(ins, 9, e->box.h);
        }
        if (e->text)
            catalog_bind_text(ins, 10, e->text, -1);
        if (details)
            catalog_bind_text(ins, 11, details, -1);
        rc = catalog_sql_check(c, catalog_step(ins), "insert evidence");
        free(details);
    }
    catalog_finalize(del);
    catalog_finalize(ins);
    catalog_finalize(an);
    return rc;
}

/* Appends a sampling record (name copied) to *out and its name to *names. */
static int push_sampling(struct aitag_sampling **out, char ***names, size_t *n, const char *name,
                         double interval, int n_frames)
{
    struct aitag_sampling *g = realloc(*out, (*n + 1) * sizeof **out);
    char **gn = g ? realloc(*names, (*n + 1) * sizeof **names) : NULL;

    if (g)
        *out = g;
    if (gn)
        *names = gn;
    if (!g || !gn || !((*names)[*n] = strdup(name)))
        return AITAG_ERR_NOMEM;
    (*out)[*n] = (struct aitag_sampling){(*names)[*n], interval, n_frames};
    (*n)++;
    return 0;
}

static int load_sampling(struct aitag_catalog *c, int64_t id, struct aitag_sampling **out,
                         char ***names, size_t *n)
{
    struct catalog_stmt *st = NULL;
    int rc;

    *out = NULL, *names = NULL, *n = 0;
    rc = catalog_sql_prepare(
        c, "SELECT analyzer, interval, n_frames FROM analyses WHERE media_id = ?", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, id);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (push_sampling(out, names, n, (const char *)catalog_column_text(st, 0),
                          catalog_column_double(st, 1), catalog_column_int(st, 2)) < 0) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load analyses");
    catalog_finalize(st);
    return rc;
}

/* People's faces as evidence (people_user.c), sampled like the faces they came from: the
 * face_attrs analyzer's sampling (embeddings), else the faces analyzer's. */
static int add_people(struct aitag_catalog *c, int64_t id, struct aitag_evidence_list *ev,
                      struct aitag_sampling **samp, char ***names, size_t *n_samp)
{
    struct aitag_sampling from = {NULL, 0, 0};
    size_t before = ev->n;
    int rc = catalog_people_evidence(c, id, ev);

    if (rc < 0 || ev->n == before)
        return rc;
    for (size_t i = 0; i < *n_samp; i++)
        if (strcmp((*samp)[i].analyzer, "face_attrs") == 0 ||
            (!from.analyzer && strcmp((*samp)[i].analyzer, "faces") == 0))
            from = (*samp)[i];
    return push_sampling(samp, names, n_samp, "people", from.interval, from.n_frames);
}

void catalog_derive_buf_clear(struct catalog_derive_buf *b)
{
    aitag_evidence_list_clear(&b->ev);
    for (size_t i = 0; i < b->n_samp; i++)
        free(b->names[i]);
    free(b->names);
    free(b->samp);
    free(b->shots);
    catalog_thresholds_free(b->thresholds, b->n_thresholds);
    memset(b, 0, sizeof *b);
}

int catalog_derive_load(struct aitag_catalog *c, int64_t id, struct catalog_derive_buf *b)
{
    struct catalog_stmt *st = NULL;
    int rc;

    memset(b, 0, sizeof *b);
    rc = catalog_sql_prepare(c, "SELECT duration, kind FROM media WHERE id = ?", &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, id);
    if (catalog_step(st) == CATALOG_ROW) {
        b->in.duration = catalog_column_double(st, 0);
        b->in.is_image = catalog_column_text(st, 1) &&
                         strcmp((const char *)catalog_column_text(st, 1), "image") == 0;
    }
    catalog_finalize(st);
    rc = aitag_catalog_load_evidence(c, id, &b->ev);
    if (rc == 0)
        rc = load_sampling(c, id, &b->samp, &b->names, &b->n_samp);
    if (rc == 0)
        rc = aitag_catalog_load_shots(c, id, &b->shots, &b->n_shots);
    if (rc == 0)
        rc = add_people(c, id, &b->ev, &b->samp, &b->names, &b->n_samp);
    if (rc == 0)
        rc = catalog_thresholds_load(c, id, &b->thresholds, &b->n_thresholds);
    if (rc < 0) {
        catalog_derive_buf_clear(b);
        return rc;
    }
    b->in.evidence = b->ev.items, b->in.n_evidence = b->ev.n;
    b->in.sampling = b->samp, b->in.n_sampling = b->n_samp;
    b->in.shots = b->shots, b->in.n_shots = b->n_shots;
    b->in.thresholds = b->thresholds, b->in.n_thresholds = b->n_thresholds;
    return 0;
}

int catalog_derive_locked(struct aitag_catalog *c, int64_t id, const struct aitag_policy *p)
{
    struct catalog_derive_buf b;
    struct aitag_result r = {0};
    struct catalog_stmt *st = NULL;
    char key[65];
    int rc;

    rc = catalog_derive_load(c, id, &b);
    if (rc < 0)
        return rc;
    rc = aitag_policy_derive(p, &b.in, &r);
    if (rc == 0)
        rc = catalog_apply_decisions(c, id, &r);
    if (rc < 0)
        goto out;
    rc = catalog_sql_prepare(c, "DELETE FROM tags WHERE media_id = ?1; ", &st);
    if (rc < 0)
        goto out;
    catalog_bind_int64(st, 1, id);
    rc = catalog_sql_check(c, catalog_step(st), "clear tags");
    catalog_finalize(st);
    st = NULL;
    if (rc == 0 &&
        (rc = catalog_sql_prepare(c, "DELETE FROM markers WHERE media_id = ?1", &st)) == 0) {
        catalog_bind_int64(st, 1, id);
        rc = catalog_sql_check(c, catalog_step(st), "clear markers");
        catalog_finalize(st);
        st = NULL;
    }
    if (rc == 0 &&
        (rc = catalog_sql_prepare(c, "DELETE FROM texts WHERE media_id = ?1", &st)) == 0) {
        catalog_bind_int64(st, 1, id);
        rc = catalog_sql_check(c, catalog_step(st), "clear texts");
        catalog_finalize(st);
        st = NULL;
    }
    if (rc < 0)
        goto out;
    rc = catalog_sql_prepare(c,
                             "INSERT INTO tags(media_id, name, parent, label, confidence, coverage)"
                             " VALUES(?,?,?,?,?,?) ON CONFLICT(media_id, name) DO UPDATE SET"
                             " confidence = CASE WHEN excluded.confidence > tags.confidence"
                             " THEN excluded.confidence ELSE tags.confidence END",
                             &st);
    for (size_t i = 0; rc == 0 && i < r.n_tags; i++) {
        catalog_reset(st);
        catalog_bind_int64(st, 1, id);
        catalog_bind_text(st, 2, r.tags[i].name, -1);
        catalog_bind_text(st, 3, r.tags[i].parent, -1);
        catalog_bind_text(st, 4, r.tags[i].label, -1);
        catalog_bind_double(st, 5, r.tags[i].confidence);
        catalog_bind_double(st, 6, r.tags[i].coverage);
        rc = catalog_sql_check(c, catalog_step(st), "insert tag");
    }
    catalog_finalize(st);
    st = NULL;
    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "INSERT INTO markers(media_id, tag, start, \"end\", confidence)"
                                 " VALUES(?,?,?,?,?)",
                                 &st);
    for (size_t i = 0; rc == 0 && i < r.n_markers; i++) {
        catalog_reset(st);
        catalog_bind_int64(st, 1, id);
        catalog_bind_text(st, 2, r.markers[i].tag, -1);
        catalog_bind_double(st, 3, r.markers[i].start);
        catalog_bind_double(st, 4, r.markers[i].end);
        catalog_bind_double(st, 5, r.markers[i].confidence);
        rc = catalog_sql_check(c, catalog_step(st), "insert marker");
    }
    catalog_finalize(st);
    st = NULL;
    if (rc == 0)
        rc = catalog_sql_prepare(c,
                                 "INSERT INTO texts(media_id, start, \"end\", text, confidence,"
                                 " source, lang) VALUES(?,?,?,?,?,?,?)",
                                 &st);
    for (size_t i = 0; rc == 0 && i < r.n_texts; i++) {
        catalog_reset(st);
        catalog_bind_int64(st, 1, id);
        catalog_bind_double(st, 2, r.texts[i].start);
        catalog_bind_double(st, 3, r.texts[i].end);
        catalog_bind_text(st, 4, r.texts[i].text, -1);
        catalog_bind_double(st, 5, r.texts[i].confidence);
        catalog_bind_text(st, 6, r.texts[i].source[0] ? r.texts[i].source : "text", -1);
        if (r.texts[i].lang[0])
            catalog_bind_text(st, 7, r.texts[i].lang, -1);
        else
            catalog_bind_null(st, 7);
        rc = catalog_sql_check(c, catalog_step(st), "insert text");
    }
    catalog_finalize(st);
    st = NULL;
    if (rc == 0)
        rc = catalog_derive_key(c, id, p, key);
    if (rc == 0 &&
        (rc = catalog_sql_prepare(c, "UPDATE media SET derive_key = ? WHERE id = ?", &st)) == 0) {
        catalog_bind_text(st, 1, key, -1);
        catalog_bind_int64(st, 2, id);
        rc = catalog_sql_check(c, catalog_step(st), "set derive key");
    }
out:
    catalog_finalize(st);
    aitag_result_clear(&r);
    catalog_derive_buf_clear(&b);
    return rc;
}

int aitag_catalog_commit_item(struct aitag_catalog *c, const struct aitag_item *item,
                              const struct aitag_policy *p)
{
    int64_t id = 0;
    int rc = catalog_sql_begin(c);

    if (rc < 0)
        return rc;
    rc = upsert_media(c, item, &id);
    if (rc == 0)
        rc = replace_evidence(c, id, item);
    if (rc == 0)
        rc = catalog_faces_store(c, id, item);
    if (rc == 0 && item->n_shots > 0)
        rc = catalog_shots_store(c, id, item->shots, item->n_shots);
    if (rc == 0)
        rc = catalog_derive_locked(c, id, p);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_rederive(struct aitag_catalog *c, int64_t media_id, const struct aitag_policy *p)
{
    struct catalog_stmt *st = NULL;
    char key[65];
    int rc, same = 0;

    /* the key covers the item's named people too: a person named, merged or assigned faces
     * since (by a command or the clustering) re-derives it like a change of rules */
    rc = catalog_derive_key(c, media_id, p, key);
    if (rc == 0)
        rc = catalog_sql_prepare(
            c, "SELECT derive_key IS NOT DISTINCT FROM ? FROM media WHERE id = ?", &st);
    if (rc < 0)
        return rc;
    catalog_bind_text(st, 1, key, -1);
    catalog_bind_int64(st, 2, media_id);
    if (catalog_step(st) == CATALOG_ROW)
        same = catalog_column_int(st, 0);
    catalog_finalize(st);
    if (same)
        return 0;
    rc = catalog_sql_begin(c);
    if (rc == 0)
        rc = catalog_derive_locked(c, media_id, p);
    if (rc == 0)
        rc = catalog_sql_commit(c);
    if (rc < 0)
        catalog_sql_rollback(c);
    return rc;
}

int aitag_catalog_load_evidence(struct aitag_catalog *c, int64_t media_id,
                                struct aitag_evidence_list *out)
{
    struct catalog_stmt *st = NULL;
    int rc;

    rc = catalog_sql_prepare(c,
                             "SELECT analyzer, label, confidence, t, x, y, w, h, text, extra"
                             " FROM evidence WHERE media_id = ? ORDER BY id",
                             &st);
    if (rc < 0)
        return rc;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW) {
        struct aitag_evidence e = {0};
        e.analyzer = (char *)catalog_column_text(st, 0);
        e.label = (char *)catalog_column_text(st, 1);
        e.confidence = (float)catalog_column_double(st, 2);
        e.t = catalog_column_double(st, 3);
        e.has_box = catalog_column_type(st, 4) != CATALOG_NULL;
        e.box = (struct aitag_box){
            (float)catalog_column_double(st, 4), (float)catalog_column_double(st, 5),
            (float)catalog_column_double(st, 6), (float)catalog_column_double(st, 7)};
        e.text = (char *)catalog_column_text(st, 8);
        /* unreadable details (a hand-edited row) leave the item without them */
        if (aitag_evidence_parse_details(&e, (const char *)catalog_column_text(st, 9)) ==
            AITAG_ERR_NOMEM) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
        rc = aitag_evidence_push(out, &e);
        aitag_evidence_clear_details(&e);
        if (rc < 0) {
            rc = AITAG_ERR_NOMEM;
            break;
        }
    }
    rc = rc == AITAG_ERR_NOMEM ? rc : catalog_sql_check(c, rc, "load evidence");
    catalog_finalize(st);
    return rc;
}

int aitag_catalog_load_result(struct aitag_catalog *c, int64_t media_id, struct aitag_result *out)
{
    struct catalog_stmt *st = NULL;
    int rc;

    rc = catalog_sql_prepare(c,
                             "SELECT name, parent, label, confidence, coverage FROM tags"
                             " WHERE media_id = ? ORDER BY name",
                             &st);
    if (rc < 0)
        goto out;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (aitag_result_add_tag(
                out, (const char *)catalog_column_text(st, 0),
                (const char *)catalog_column_text(st, 1), (const char *)catalog_column_text(st, 2),
                (float)catalog_column_double(st, 3), (float)catalog_column_double(st, 4)) < 0)
            goto nomem;
    if ((rc = catalog_sql_check(c, rc, "load tags")) < 0)
        goto out;
    catalog_finalize(st);
    rc =
        catalog_sql_prepare(c,
                            "SELECT tag, start, \"end\", confidence FROM markers WHERE media_id = ?"
                            " ORDER BY start, tag",
                            &st);
    if (rc < 0)
        goto out;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (aitag_result_add_marker(out, (const char *)catalog_column_text(st, 0),
                                    catalog_column_double(st, 1), catalog_column_double(st, 2),
                                    (float)catalog_column_double(st, 3)) < 0)
            goto nomem;
    if ((rc = catalog_sql_check(c, rc, "load markers")) < 0)
        goto out;
    catalog_finalize(st);
    rc = catalog_sql_prepare(c,
                             "SELECT start, \"end\", text, confidence, source, lang FROM texts"
                             " WHERE media_id = ?"
                             " ORDER BY start, id",
                             &st);
    if (rc < 0)
        goto out;
    catalog_bind_int64(st, 1, media_id);
    while ((rc = catalog_step(st)) == CATALOG_ROW)
        if (aitag_result_add_text(out, catalog_column_double(st, 0), catalog_column_double(st, 1),
                                  (const char *)catalog_column_text(st, 2),
                                  (float)catalog_column_double(st, 3),
                                  (const char *)catalog_column_text(st, 4),
                                  (const char *)catalog_column_text(st, 5)) < 0)
            goto nomem;
    if ((rc = catalog_sql_check(c, rc, "load texts")) < 0)
        goto out;
    catalog_finalize(st);
    /* The description is not derived: it is the vlm analyzer's own words, kept as evidence. */
    rc = catalog_sql_prepare(c,
                             "SELECT text FROM evidence WHERE media_id = ? AND analyzer = 'vlm'"
                             " AND label = 'description' AND text IS NOT NULL AND text != ''"
                             " ORDER BY t, id LIMIT 1",
                             &st);
    if (rc < 0)
        goto out;
    catalog_bind_int64(st, 1, media_id);
    rc = catalog_step(st);
    if (rc == CATALOG_ROW) {
        if (aitag_result_set_description(out, (const char *)catalog_column_text(st, 0)) < 0)
            goto nomem;
        rc = CATALOG_DONE;
    }
    rc = catalog_sql_check(c, rc, "load description");
    if (rc == 0)
        rc = aitag_catalog_load_shots(c, media_id, &out->shots, &out->n_shots);
    goto out;
nomem:
    rc = AITAG_ERR_NOMEM;
out:
    catalog_finalize(st);
    if (rc < 0)
        aitag_result_clear(out);
    return rc;
}
