/*
 * wire.c - the evidence wire format of POST /v1/tag ("evidence": true): written by the gateway
 * from its catalog's rows, read back by the remote client for the analyzers it asked.
 *
 * Both ends live here so they cannot drift apart. The object carries the sampling interval,
 * one entry per analysis (analyzer, analysis key, frames, interval, strategy) and the evidence
 * items (analyzer, label, confidence, t, optional box and text, and "extra": the evidence
 * library's details JSON for keypoints, embeddings and the like). The reader trusts nothing:
 * every field is type-checked, and keys or an interval that differ from the local ones are an
 * error, never a silent mix of two installs' models.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "aitag/remote.h"

json_t *aitag_remote_evidence_json(const struct aitag_analysis_row *an, size_t n_an,
                                   const struct aitag_evidence_list *ev, double interval,
                                   int truncated)
{
    json_t *o = json_object(), *analyses = json_array(), *items = json_array();
    char *details = NULL;

    if (!o || !analyses || !items) {
        json_decref(o);
        json_decref(analyses);
        json_decref(items);
        return NULL;
    }
    json_object_set_new(o, "interval", json_real(interval));
    json_object_set_new(o, "analyses", analyses);
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "strategy", json_string(n_an ? an[0].strategy : ""));
    json_object_set_new(o, "truncated", json_boolean(truncated));
    for (size_t i = 0; i < n_an; i++)
        json_array_append_new(analyses,
                              json_pack("{s:s, s:s, s:i, s:f, s:s}", "analyzer", an[i].analyzer,
                                        "key", an[i].key, "frames", an[i].n_frames, "interval",
                                        an[i].interval, "strategy", an[i].strategy));
    for (size_t i = 0; i < ev->n; i++) {
        const struct aitag_evidence *e = &ev->items[i];
        json_t *it = json_pack("{s:s, s:s, s:f, s:f}", "analyzer", e->analyzer, "label", e->label,
                               "confidence", (double)e->confidence, "t", e->t);
        if (!it)
            continue;
        if (e->has_box)
            json_object_set_new(it, "box",
                                json_pack("[f,f,f,f]", (double)e->box.x, (double)e->box.y,
                                          (double)e->box.w, (double)e->box.h));
        if (e->text)
            json_object_set_new(it, "text", json_string(e->text));
        if (aitag_evidence_details_json(e, &details) == 0 && details)
            json_object_set_new(it, "extra", json_string(details));
        free(details);
        details = NULL;
        json_array_append_new(items, it);
    }
    return o;
}

/* Four numbers that fit a float (a box is normalised: 0..1, a little past at the edges). */
static int box_ok(json_t *box)
{
    size_t i;
    json_t *v;

    if (!json_is_array(box) || json_array_size(box) != 4)
        return 0;
    json_array_foreach(box, i, v)
    {
        if (!json_is_number(v) || fabs(json_number_value(v)) > FLT_MAX)
            return 0;
    }
    return 1;
}

int aitag_remote_evidence_parse(json_t *ev, const char *const *analyzers, const char *const *keys,
                                size_t n, double interval, struct aitag_remote_result *out,
                                char *err, size_t errlen)
{
    json_t *analyses = json_object_get(ev, "analyses"), *items = json_object_get(ev, "items");
    json_t *iv = json_object_get(ev, "interval"), *a, *it;
    char missing[512] = "";
    size_t i, k;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (!json_is_object(ev) || !json_is_array(analyses) || !json_is_array(items) ||
        !json_is_number(iv)) {
        aitag_fmt(err, errlen,
                  "answer has no usable \"evidence\" object (is the gateway older "
                  "than this aitag?)");
        return AITAG_ERR_INVALID;
    }
    if (fabs(json_number_value(iv) - interval) > 1e-9) {
        aitag_fmt(err, errlen,
                  "the gateway's interval (%g s) differs from this install's (%g s): give "
                  "--interval %g or tag locally",
                  json_number_value(iv), interval, json_number_value(iv));
        return AITAG_ERR_INVALID;
    }
    out->n_frames = -1;
    for (i = 0; i < n; i++) {
        const char *key = NULL;
        json_array_foreach(analyses, k, a)
        {
            const char *name = json_string_value(json_object_get(a, "analyzer"));
            if (name && strcmp(name, analyzers[i]) == 0) {
                json_t *fr = json_object_get(a, "frames");
                key = json_string_value(json_object_get(a, "key"));
                if (!json_is_integer(fr) || json_integer_value(fr) < 0 ||
                    json_integer_value(fr) > AITAG_REMOTE_MAX_FRAMES) {
                    aitag_fmt(err, errlen, "analyzer %s: \"frames\" is not a frame count",
                              analyzers[i]);
                    return AITAG_ERR_INVALID;
                }
                if (out->n_frames < 0) {
                    out->n_frames = (int)json_integer_value(fr);
                    aitag_fmt(out->strategy, sizeof out->strategy, "%s",
                              json_string_value(json_object_get(a, "strategy"))
                                  ? json_string_value(json_object_get(a, "strategy"))
                                  : "");
                }
                break;
            }
        }
        if (!key) {
            size_t used = strlen(missing);
            aitag_fmt(missing + used, sizeof missing - used, "%s%s", used ? ", " : "",
                      analyzers[i]);
        } else if (rc == 0 && strcmp(key, keys[i]) != 0) {
            aitag_fmt(err, errlen,
                      "analyzer %s: the gateway's models or interval differ from this install "
                      "(gateway key \"%s\", local \"%s\")",
                      analyzers[i], key, keys[i]);
            rc = AITAG_ERR_INVALID;
        }
    }
    if (missing[0]) {
        aitag_fmt(err, errlen, "the gateway's route does not run analyzer(s): %s", missing);
        return AITAG_ERR_INVALID;
    }
    if (rc < 0)
        return rc;
    if (!out->strategy[0])
        aitag_fmt(out->strategy, sizeof out->strategy, "%s",
                  json_string_value(json_object_get(ev, "strategy"))
                      ? json_string_value(json_object_get(ev, "strategy"))
                      : "");
    out->truncated = json_is_true(json_object_get(ev, "truncated"));
    json_array_foreach(items, k, it)
    {
        struct aitag_evidence e = {0};
        json_t *box = json_object_get(it, "box"), *conf = json_object_get(it, "confidence");
        json_t *t = json_object_get(it, "t");
        int wanted = 0;
        e.analyzer = (char *)json_string_value(json_object_get(it, "analyzer"));
        e.label = (char *)json_string_value(json_object_get(it, "label"));
        if (!e.analyzer || !e.label || !json_is_number(conf) || !(json_number_value(conf) >= 0) ||
            !(json_number_value(conf) <= 1) || !json_is_number(t) || !(json_number_value(t) >= 0) ||
            (box && !box_ok(box))) {
            aitag_fmt(err, errlen, "evidence item %zu is malformed", k);
            rc = AITAG_ERR_INVALID;
            break;
        }
        for (i = 0; i < n && !wanted; i++)
            wanted = strcmp(e.analyzer, analyzers[i]) == 0;
        if (!wanted)
            continue; /* the route ran more than asked */
        e.confidence = (float)json_number_value(json_object_get(it, "confidence"));
        e.t = json_number_value(json_object_get(it, "t"));
        if (box) {
            e.has_box = 1;
            e.box = (struct aitag_box){(float)json_number_value(json_array_get(box, 0)),
                                       (float)json_number_value(json_array_get(box, 1)),
                                       (float)json_number_value(json_array_get(box, 2)),
                                       (float)json_number_value(json_array_get(box, 3))};
        }
        e.text = (char *)json_string_value(json_object_get(it, "text"));
        rc = aitag_evidence_parse_details(&e, json_string_value(json_object_get(it, "extra")));
        if (rc == AITAG_ERR_INVALID)
            aitag_fmt(err, errlen, "evidence item %zu: \"extra\" is not a details object", k);
        else if (rc < 0 || (rc = aitag_evidence_push(&out->evidence, &e)) < 0)
            aitag_fmt(err, errlen, "out of memory");
        aitag_evidence_clear_details(&e);
        if (rc < 0)
            break;
    }
    if (rc < 0)
        aitag_evidence_list_clear(&out->evidence);
    if (out->n_frames < 0)
        out->n_frames = 0;
    return rc;
}
