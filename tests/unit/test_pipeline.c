/* test_pipeline.c - the tagger's parts: the folder walk (order, hidden files, symlink loops),
 * the bounded queue between threads, a whole run through the public API on real photos, and
 * progress within a video (by media seconds) and after a cancel on a generated fixture video. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/pipeline.h"
#include "check.h"
#include "pipeline/queue.h"
#include "pipeline/walk.h"

static char dir[64];

static void touch(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f)
        fclose(f);
}

static void test_walk(void)
{
    struct walk_list l = {0};
    char p[256], q[256];

    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/.hidden", dir);
    mkdir(p, 0755);
    touch("b.mp4");
    touch("a.JPG");
    touch("notes.txt");
    touch("sub/c.mkv");
    touch(".hidden/d.mp4");
    snprintf(p, sizeof p, "%s/sub/up", dir);
    CHECK(symlink("..", p) == 0); /* a folder link back to a parent */
    snprintf(p, sizeof p, "%s/x.mp4", dir);
    snprintf(q, sizeof q, "%s/y.mp4", dir);
    CHECK(symlink(q, p) == 0 && symlink(p, q) == 0); /* a file link loop */
    CHECK(pipeline_walk_path(&l, dir) == 0);
    /* a.JPG, b.mp4, sub/c.mkv, sub/up (loop), x.mp4 (loop), y.mp4 (loop); txt and hidden skipped */
    CHECK_EQ_INT(l.n, 6);
    if (l.n == 6) {
        CHECK(strstr(l.items[0].path, "/a.JPG") && !l.items[0].error);
        CHECK(strstr(l.items[1].path, "/b.mp4") && !l.items[1].error);
        CHECK(strstr(l.items[2].path, "/sub/c.mkv") && !l.items[2].error);
        CHECK(strstr(l.items[3].path, "/sub/up") && l.items[3].error &&
              strstr(l.items[3].error, "loop"));
        CHECK(l.items[4].error && strstr(l.items[4].error, "symlink loop"));
        CHECK(l.items[5].error && strstr(l.items[5].error, "symlink loop"));
    }
    pipeline_walk_list_free(&l);

    /* An explicit file is taken whatever its extension; a missing one is an error entry;
     * relative paths become absolute with "." and ".." resolved. */
    snprintf(p, sizeof p, "%s/./sub/../notes.txt", dir);
    CHECK(pipeline_walk_path(&l, p) == 0);
    snprintf(p, sizeof p, "%s/missing.mp4", dir);
    CHECK(pipeline_walk_path(&l, p) == 0);
    CHECK_EQ_INT(l.n, 2);
    if (l.n == 2) {
        snprintf(q, sizeof q, "%s/notes.txt", dir);
        CHECK_STR(l.items[0].path, q);
        CHECK(l.items[0].error == NULL);
        CHECK(l.items[1].error && strstr(l.items[1].error, "No such file"));
    }
    pipeline_walk_list_free(&l);
}

static void *producer(void *arg)
{
    struct queue *q = arg;
    for (intptr_t i = 1; i <= 1000; i++)
        if (pipeline_queue_push(q, (void *)i) < 0)
            break;
    pipeline_queue_close(q);
    return NULL;
}

static void test_queue(void)
{
    struct queue q;
    pthread_t th;
    intptr_t expect = 1, bad = 0;
    void *v;

    CHECK(pipeline_queue_init(&q, 4) == 0);
    CHECK(pthread_create(&th, NULL, producer, &q) == 0);
    while ((v = pipeline_queue_pop(&q))) {
        if ((intptr_t)v != expect)
            bad++;
        expect++;
        pthread_mutex_lock(&q.lock);
        if (q.n > 4) /* never more than the bound */
            bad++;
        pthread_mutex_unlock(&q.lock);
    }
    pthread_join(th, NULL);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(expect, 1001);
    CHECK(pipeline_queue_push(&q, (void *)1) == -1); /* closed */
    CHECK(pipeline_queue_try_pop(&q) == NULL);
    pipeline_queue_destroy(&q);
}

struct seen {
    int tagged, failed, skipped;
    int faces;
};

static void on_item(void *ctx, const struct aitag_item_report *r)
{
    struct seen *s = ctx;
    if (r->status == AITAG_ITEM_TAGGED)
        s->tagged++;
    if (r->status == AITAG_ITEM_FAILED)
        s->failed++;
    if (r->status == AITAG_ITEM_SKIPPED)
        s->skipped++;
    for (size_t i = 0; r->result && i < r->result->n_tags; i++)
        if (strcmp(r->result->tags[i].name, "face") == 0)
            s->faces++;
}

static const char *const faces_only[] = {"faces"};

/* Params for a run of the faces analyzer into the catalog file NAME of the test folder, whose
 * path is written to db (borrowed by the params). */
static struct aitag_tagger_params faces_params(char *db, size_t len, const char *name)
{
    struct aitag_tagger_params tp = aitag_tagger_default_params();

    snprintf(db, len, "%s/%s", dir, name);
    tp.catalog_path = db;
    tp.manifest_dir = AITAG_SOURCE_DIR "/models";
    tp.weights_dir = AITAG_DEPS_DIR "/models";
    tp.analyzers = faces_only;
    tp.n_analyzers = 1;
    return tp;
}

static void test_tagger(void)
{
    char db[128], err[512];
    struct aitag_tagger_params tp = faces_params(db, sizeof db, "cat.db");
    const char *paths[2];
    struct aitag_tagger *t = NULL;
    struct aitag_summary sum;
    struct seen s = {0};

    tp.on_item = on_item;
    tp.ctx = &s;
    paths[0] = AITAG_DEPS_DIR "/photos/sample1.jpg";
    paths[1] = "/usr/share/darknet/data/giraffe.jpg";
    CHECK(aitag_tagger_new(&tp, &t, err, sizeof err) == 0);
    CHECK(aitag_tagger_run(t, paths, 2, &sum) == 0);
    CHECK_EQ_INT(sum.tagged, 2);
    CHECK_EQ_INT(s.faces, 1);
    CHECK(sum.models_run >= 2);
    CHECK(aitag_tagger_run(t, paths, 2, &sum) == 0); /* same handle, second run: all skipped */
    CHECK_EQ_INT(sum.skipped, 2);
    CHECK_EQ_INT(sum.models_run, 0);
    aitag_tagger_free(t);

    /* Parameter errors are reported before anything runs. */
    const char *bad[] = {"nope"};
    tp.analyzers = bad;
    CHECK(aitag_tagger_new(&tp, &t, err, sizeof err) == AITAG_ERR_INVALID);
    CHECK(strstr(err, "nope") != NULL);
    tp.analyzers = faces_only;
    tp.interval = 0;
    CHECK(aitag_tagger_new(&tp, &t, err, sizeof err) == AITAG_ERR_INVALID);
    tp.interval = 2;
    tp.catalog_path = "/dev/null/x.db"; /* a missing folder would be created: a file is in the way */
    CHECK(aitag_tagger_new(&tp, &t, err, sizeof err) < 0);
    CHECK_STR(err, "/dev/null/x.db: Not a directory");
}

/* Progress as the CLI's bar sees it: what on_progress reported, in order. */
struct progress_log {
    int n, bad_order, in_flight, in_flight_eta, cancel_at_first_frame;
    double last_done, total, first_total, final_done;
    const char *video;
    atomic_int cancel;
};

static void on_progress(void *ctx, const struct aitag_progress *p)
{
    struct progress_log *l = ctx;

    if (l->n++ == 0)
        l->first_total = p->media_total;
    l->total = p->media_total;
    if (p->media_done + 1e-9 < l->last_done)
        l->bad_order++;
    l->last_done = p->media_done;
    if (!p->current)
        l->final_done = p->media_done;
    if (p->current && strcmp(p->current, l->video) == 0 && p->media_done > 0 &&
        p->media_done < p->media_total) {
        l->in_flight++; /* strictly inside the first (and only) video to analyse */
        l->in_flight_eta +=
            p->eta > 0 && p->current_done == p->media_done && p->current_total == p->media_total;
        if (l->cancel_at_first_frame)
            atomic_store(&l->cancel, 1);
    }
}

static void test_progress(void)
{
    const char *video = AITAG_FIXTURES_DIR "/videos/rotated_720p_h264.mp4";
    const char *paths[3] = {AITAG_DEPS_DIR "/photos/sample1.jpg", video,
                            AITAG_FIXTURES_DIR "/videos/mixed_480p_mjpeg.avi"};
    struct progress_log l = {0};
    char db[128], err[512];
    struct aitag_tagger_params tp = faces_params(db, sizeof db, "progress.db");
    struct aitag_tagger *t = NULL;
    struct aitag_summary sum;

    tp.on_progress = on_progress;
    tp.ctx = &l;
    tp.cancel = &l.cancel;
    l.video = video;
    CHECK(aitag_tagger_new(&tp, &t, err, sizeof err) == 0);
    if (!t)
        return;
    CHECK(aitag_tagger_run(t, paths, 1, &sum) == 0); /* the photo: one second of media */
    CHECK_NEAR(l.total, 1.0, 1e-9);
    CHECK_NEAR(l.final_done, 1.0, 1e-9);

    /* The photo again (unchanged: no work) and a 20 s video: the bar's whole is the video. */
    memset(&l, 0, sizeof l);
    l.video = video;
    CHECK(aitag_tagger_run(t, paths, 2, &sum) == 0);
    CHECK_EQ_INT(sum.skipped, 1);
    CHECK_EQ_INT(sum.tagged, 1);
    CHECK_NEAR(l.first_total, 20.0, 0.05);
    CHECK(l.in_flight >= 3); /* 10 frames at 2 s: the bar moved inside the video */
    CHECK(l.in_flight_eta >= 1);
    CHECK_EQ_INT(l.bad_order, 0);
    CHECK_NEAR(l.final_done, l.total, 1e-9);
    CHECK_NEAR(sum.media_seconds, 20.0, 0.05);
    CHECK_EQ_INT(sum.not_reached, 0);
    aitag_tagger_free(t);

    /* Cancelled inside the first of two videos: nothing stored, nothing counted as analysed,
     * both items left for the next run. */
    snprintf(db, sizeof db, "%s/cancel.db", dir); /* tp.catalog_path */
    memset(&l, 0, sizeof l);
    l.video = video;
    l.cancel_at_first_frame = 1;
    CHECK(aitag_tagger_new(&tp, &t, err, sizeof err) == 0);
    if (!t)
        return;
    CHECK(aitag_tagger_run(t, paths + 1, 2, &sum) == 0);
    CHECK_EQ_INT(l.cancel, 1);
    CHECK_EQ_INT(sum.tagged, 0);
    CHECK_EQ_INT(sum.not_reached, 2);
    CHECK_NEAR(sum.media_seconds, 0.0, 1e-9);
    aitag_tagger_free(t);
}

int main(void)
{
    char cmd[128];

    snprintf(dir, sizeof dir, "/tmp/aitag-pipe-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_walk();
    test_queue();
    test_tagger();
    test_progress();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
