/*
 * test_pipeline_remote.c - the tagger with a remote executor (a fake one here): items with
 * work go to it with the local analysis keys, its evidence is committed like local evidence,
 * nothing is sampled or loaded locally, a failure is an item failure and the run goes on, and
 * a second run asks it nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/pipeline.h"
#include "check.h"

struct fake {
    int calls;
    char last_key[512];
    double last_interval;
    size_t last_n;
};

static int fake_remote(void *ctx, const char *path, const char *const *analyzers,
                       const char *const *keys, size_t n, double interval,
                       struct aitag_remote_result *out, char *err, size_t errlen)
{
    struct fake *f = ctx;
    struct aitag_evidence e = {0};

    f->calls++;
    f->last_n = n;
    f->last_interval = interval;
    snprintf(f->last_key, sizeof f->last_key, "%s", n ? keys[0] : "");
    if (strstr(path, "pair_2faces")) {
        snprintf(err, errlen, "gateway http://x: HTTP 401 invalid_api_key: bad key");
        return AITAG_ERR_IO;
    }
    e.analyzer = (char *)analyzers[0];
    e.label = "face";
    e.confidence = 0.875f;
    e.has_box = 1;
    e.box = (struct aitag_box){0.25f, 0.25f, 0.5f, 0.5f};
    aitag_evidence_push(&out->evidence, &e);
    out->n_frames = 1;
    snprintf(out->strategy, sizeof out->strategy, "seek");
    return 0;
}

struct seen {
    int tagged, failed, skipped;
    char error[512];
    int face_tag;
};

static void on_item(void *ctx, const struct aitag_item_report *r)
{
    struct seen *s = ctx;

    s->tagged += r->status == AITAG_ITEM_TAGGED;
    s->skipped += r->status == AITAG_ITEM_SKIPPED;
    if (r->status == AITAG_ITEM_FAILED) {
        s->failed++;
        snprintf(s->error, sizeof s->error, "%s", r->error ? r->error : "");
    }
    for (size_t i = 0; r->result && i < r->result->n_tags; i++)
        s->face_tag += strcmp(r->result->tags[i].name, "face") == 0;
}

static int run(const char *db, struct fake *f, struct seen *s, struct aitag_summary *sum)
{
    const char *names[] = {"faces"};
    const char *paths[] = {AITAG_FIXTURES_DIR "/images/group_3faces.jpg",
                           AITAG_FIXTURES_DIR "/images/pair_2faces.tiff"};
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_tagger *t = NULL;
    char err[512];
    int rc;

    tp.catalog_path = db;
    tp.analyzers = names;
    tp.n_analyzers = 1;
    tp.manifest_dir = AITAG_SOURCE_DIR "/models";
    tp.weights_dir = "/nonexistent"; /* nothing may be loaded here */
    tp.on_item = on_item;
    tp.ctx = s;
    tp.remote = fake_remote;
    tp.remote_ctx = f;
    memset(s, 0, sizeof *s);
    rc = aitag_tagger_new(&tp, &t, err, sizeof err);
    if (rc == 0)
        rc = aitag_tagger_run(t, paths, 2, sum);
    aitag_tagger_free(t);
    return rc;
}

int main(void)
{
    char db[] = "/tmp/aitag-remote-XXXXXX";
    char path[64];
    struct aitag_catalog *c = NULL;
    struct aitag_evidence_list ev = {0};
    struct aitag_media_row row;
    struct aitag_summary sum;
    struct fake f = {0};
    struct seen s;
    char err[256], key[512] = "";
    int fd = mkstemp(db);

    CHECK(fd >= 0);
    close(fd);
    unlink(db);
    CHECK_EQ_INT(run(db, &f, &s, &sum), 0);
    CHECK_EQ_INT(f.calls, 2);
    CHECK_EQ_INT(f.last_n, 1);
    CHECK(f.last_interval == 2.0);
    CHECK(strstr(f.last_key, "interval=2.000") != NULL);
    CHECK_EQ_INT(s.tagged, 1);
    CHECK_EQ_INT(s.failed, 1);
    CHECK(strstr(s.error, "HTTP 401") != NULL);
    CHECK_EQ_INT(s.face_tag, 1); /* derived by the local policy from the remote evidence */
    CHECK_EQ_INT(sum.models_run, 1);
    CHECK_EQ_INT(aitag_catalog_open(db, 1, &c, err, sizeof err), 0);
    if (c) {
        CHECK_EQ_INT(aitag_catalog_find_media(c, AITAG_FIXTURES_DIR "/images/group_3faces.jpg",
                                              &row),
                     0);
        CHECK_EQ_INT(aitag_catalog_load_evidence(c, row.id, &ev), 0);
        CHECK_EQ_INT(ev.n, 1);
        CHECK(ev.n == 1 && ev.items[0].confidence == 0.875f && ev.items[0].has_box);
        aitag_catalog_analysis_key(c, row.id, "faces", key, sizeof key);
        CHECK(strcmp(key, f.last_key) == 0); /* the local key is what is stored */
        aitag_evidence_list_clear(&ev);
        aitag_catalog_close(c);
    }
    /* Second run: the tagged item is skipped without asking; the failed one is asked again. */
    f.calls = 0;
    CHECK_EQ_INT(run(db, &f, &s, &sum), 0);
    CHECK_EQ_INT(f.calls, 1);
    CHECK_EQ_INT(s.skipped, 1);
    CHECK_EQ_INT(s.failed, 1);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", db, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
        unlink(path);
    }
    return check_done();
}
