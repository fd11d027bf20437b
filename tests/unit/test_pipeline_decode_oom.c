/*
 * test_pipeline_decode_oom.c - an item the decoder drops for want of memory is reported failed.
 *
 * The decoder (src/pipeline/decode.c, included here with calloc routed through fail_calloc)
 * allocates each item's END message before sampling it. When that allocation fails the item
 * used to vanish: no report, not counted failed, only "not reached". Now the run reports it
 * failed with "out of memory" once the decoder thread is joined, and the next item still runs.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int fail_next; /* the decoder's next calloc of a message fails */
static void *fail_calloc(size_t n, size_t size);

#define calloc(n, size) fail_calloc(n, size)
#include "pipeline/decode.c"
#undef calloc

/* Only a message: the run's own bookkeeping (its list of items put off) is allocated first. */
static void *fail_calloc(size_t n, size_t size)
{
    if (n == 1 && size == sizeof(struct msg) && atomic_exchange(&fail_next, 0))
        return NULL;
    return calloc(n, size);
}

#include "aitag/pipeline.h"
#include "check.h"

struct seen {
    int failed, tagged;
    char error[128];
};

static void on_item(void *ctx, const struct aitag_item_report *r)
{
    struct seen *s = ctx;
    if (r->status == AITAG_ITEM_FAILED) {
        s->failed++;
        snprintf(s->error, sizeof s->error, "%s", r->error ? r->error : "");
    }
    s->tagged += r->status == AITAG_ITEM_TAGGED;
}

int main(void)
{
    static const char *const faces_only[] = {"faces"};
    char dir[64], db[128], err[512];
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_tagger *t = NULL;
    struct aitag_summary sum;
    struct seen s = {0};
    const char *paths[2] = {AITAG_DEPS_DIR "/photos/sample1.jpg",
                            "/usr/share/darknet/data/giraffe.jpg"};

    snprintf(dir, sizeof dir, "/tmp/aitag-oom-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(db, sizeof db, "%s/cat.db", dir);
    tp.catalog_path = db;
    tp.manifest_dir = AITAG_SOURCE_DIR "/models";
    tp.weights_dir = AITAG_DEPS_DIR "/models";
    tp.analyzers = faces_only;
    tp.n_analyzers = 1;
    tp.on_item = on_item;
    tp.ctx = &s;
    CHECK(aitag_tagger_new(&tp, &t, err, sizeof err) == 0);
    if (t) {
        atomic_store(&fail_next, 1); /* the first item's END message */
        CHECK(aitag_tagger_run(t, paths, 2, &sum) == 0);
        CHECK_EQ_INT(sum.failed, 1);
        CHECK_EQ_INT(sum.tagged, 1);
        CHECK_EQ_INT(sum.not_reached, 0);
        CHECK_EQ_INT(s.failed, 1);
        CHECK_STR(s.error, "out of memory");
        CHECK_EQ_INT(s.tagged, 1);
        aitag_tagger_free(t);
    }
    unlink(db);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return check_done();
}
