/*
 * bench_pipeline.c - how far the tagger is from its floors, measured in one process.
 *
 * For one media file, analyzer list, interval and thread budget it times, N times each:
 *   decode floor  aitag_sampler over the file with exactly the views the analyzers ask for, at
 *                 the tagger's decode thread count, and nothing else (the decoder thread's work);
 *   infer floor   the same analyzers on the frames kept from the first decode run, at the
 *                 tagger's inference thread count, models loaded by an untimed warm-up run (the
 *                 consumer's work);
 *   end to end    aitag_tagger_run with force on a fresh temporary catalog. The tagger runs in
 *                 a child forked before anything is loaded, so its peak RSS (ru_maxrss) is the
 *                 tagger's alone and not the floors' kept frames. Each repeat builds a new tagger
 *                 on a new catalog, tags one photo first (this loads the models; reported as
 *                 e2e_load_s) and then times the file: e2e_s is the steady state a long run sees.
 * The machine this runs on is shared, so: the three phases are interleaved per repeat (decode,
 * infer, e2e, decode, ...) so that noise spreads over all of them; medians (and minimums) are
 * reported; each phase records how many cores other processes took meanwhile (/proc/stat minus
 * our own CPU time), and with --quiet waits, within a budget, for them to pause first.
 * Thread split: aitag_tagger_thread_split(), the one the tagger uses.
 *
 * A second mode (--models) times each analyzer per frame and each model per run at given
 * ONNX Runtime thread counts: median of >= 30 runs over the sampled frames after a warm-up.
 * A third (--table FILE) prints the human table from the JSON lines the other two wrote.
 * Output: one JSON object per line on stdout; progress and the human summary on stderr.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aitag/analyzer.h"
#include "aitag/common.h"
#include "aitag/infer.h"
#include "aitag/media.h"
#include "aitag/pipeline.h"

#define MAX_OPS AITAG_GRAPH_MAX
#define MAX_REPEAT 50

struct config {
    const char *file, *label, *warmup, *models_dir, *weights_dir;
    char analyzers[256]; /* as given, for the report */
    char names_buf[256]; /* split in place into names[] */
    const char *names[MAX_OPS];
    size_t n_names;
    double interval;
    int threads, repeat, strategy, runs, e2e;
    int sampling, skip_deblock; /* sampler what-ifs (enum aitag_sample_pick; deblock skip) */
    const char *opts[8];        /* analyzer options "NAME.key=value" (--option), as the tagger's */
    size_t n_opts;
    int decode_threads; /* > 0: override the tagger's split for the decode floor (what-if) */
    int thread_list[8];
    size_t n_threads;
};

/* What the e2e child sends back for one repeat. */
struct e2e_result {
    int rc, tagged, failed, frames;
    double load_s, wall_s, cpu_s, busy_s, media_s;
    long maxrss_kb;
    char err[256];
};

static const char *const strategy_names[] = {"auto", "sequential", "seek"};
static const char *const sampling_names[] = {"exact", "keyframes"};

/* The index of v in names[0..n), or -1. */
static int name_index(const char *v, const char *const *names, int n)
{
    for (int k = 0; k < n; k++)
        if (strcmp(v, names[k]) == 0)
            return k;
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
    double s[1024];

    if (n == 0)
        return 0;
    if (n > sizeof s / sizeof *s)
        n = sizeof s / sizeof *s;
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double minimum(const double *v, size_t n)
{
    double m = n ? v[0] : 0;

    for (size_t i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* CPU seconds that every process on the machine spent busy (user, nice, system, irq, softirq,
 * steal in /proc/stat). Minus this process's own CPU time over the same span, it says how
 * many cores other work took from the measurement: this machine is shared. */
static double system_busy_seconds(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    long hz = sysconf(_SC_CLK_TCK);
    int n;

    if (!f)
        return 0;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8 || hz <= 0)
        return 0;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)hz;
}

/* Cores other processes used over a span of wall seconds in which we used cpu seconds. */
static double others_cores(double busy, double cpu, double wall)
{
    double o = wall > 0 ? (busy - cpu) / wall : 0;
    return o > 0 ? o : 0;
}

/* Seconds this process may still spend waiting for other work on the machine to pause
 * (--quiet); what it waited is reported. Set once from main, before any thread. */
static double quiet_left, quiet_waited;

static void sleep_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Before a timed phase: waits, within the --quiet budget, until other processes use less than
 * a third of a core over a 0.1 s sample. Contention that starts later is not avoided, only
 * reported (the *_others_cores fields). */
static void wait_quiet(void)
{
    while (quiet_left > 0) {
        double t0 = aitag_now(), c0 = cpu_seconds(), b0 = system_busy_seconds(), dt;
        sleep_seconds(0.1);
        dt = aitag_now() - t0;
        if (others_cores(system_busy_seconds() - b0, cpu_seconds() - c0, dt) < 0.34)
            return;
        sleep_seconds(0.4);
        dt = aitag_now() - t0;
        quiet_left -= dt;
        quiet_waited += dt;
    }
}

static long maxrss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int decode_threads(int threads)
{
    int d, i;
    aitag_tagger_thread_split(threads, &d, &i);
    return d;
}

static int infer_threads(int threads)
{
    int d, i;
    aitag_tagger_thread_split(threads, &d, &i);
    return i;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static void split_names(struct config *c)
{
    c->n_names = 0;
    aitag_fmt(c->names_buf, sizeof c->names_buf, "%s", c->analyzers);
    for (char *tok = c->names_buf; tok && c->n_names < MAX_OPS;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (*tok)
            c->names[c->n_names++] = tok;
        tok = comma ? comma + 1 : NULL;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Analyzers and frames */

/* The analyzers of a run, dependencies included, in the graph's run order (borrowed from it). */
struct ops_set {
    struct aitag_infer *inf;
    struct aitag_graph *graph;
    const struct aitag_analyzer_ops *ops[MAX_OPS];
    void *state[MAX_OPS];
    size_t n;
};

static void ops_free(struct ops_set *o)
{
    aitag_graph_free(o->graph);
    aitag_infer_free(o->inf);
    memset(o, 0, sizeof *o);
}

/* The evidence analyzer k consumes for one frame, from ev[] (each earlier analyzer's evidence
 * for that frame): its producer's list, or the producers' lists joined into *joined. */
static const struct aitag_evidence_list *ops_in(const struct ops_set *o, size_t k,
                                                const struct aitag_evidence_list *ev,
                                                struct aitag_evidence_list *joined)
{
    const char *const *deps = o->ops[k]->consumes ? o->ops[k]->consumes(o->state[k]) : NULL;
    int p;

    if (!deps || !deps[0])
        return NULL;
    if (!deps[1] && (p = aitag_graph_find(o->graph, deps[0])) >= 0)
        return &ev[p];
    for (size_t d = 0; deps[d]; d++)
        if ((p = aitag_graph_find(o->graph, deps[d])) >= 0)
            for (size_t j = 0; j < ev[p].n; j++)
                aitag_evidence_push(joined, &ev[p].items[j]);
    return joined;
}

/* Runs analyzer k on frame f untimed-ready: fills ev[0..k) with its producers' evidence for f
 * (running them, recursively) so that a timed run of k gets its real input. */
static int ops_prepare(const struct ops_set *o, size_t k, struct aitag_frame *f,
                       struct aitag_evidence_list *ev, char *err, size_t errlen)
{
    const char *const *deps = o->ops[k]->consumes ? o->ops[k]->consumes(o->state[k]) : NULL;
    int rc = 0;

    for (size_t d = 0; deps && deps[d] && rc == 0; d++) {
        int p = aitag_graph_find(o->graph, deps[d]);
        struct aitag_evidence_list joined = {0};
        if (p < 0)
            return AITAG_ERR_INVALID;
        aitag_evidence_list_clear(&ev[p]);
        rc = ops_prepare(o, (size_t)p, f, ev, err, errlen);
        if (rc == 0)
            rc = o->ops[p]->run(o->state[p], &f, 1, ops_in(o, (size_t)p, ev, &joined), &ev[p],
                                err, errlen);
        aitag_evidence_list_clear(&joined);
    }
    return rc;
}

static void ops_clear(struct aitag_evidence_list *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aitag_evidence_list_clear(&ev[i]);
}

static int ops_new(const struct config *c, int threads, struct ops_set *o)
{
    struct aitag_infer_params ip = aitag_infer_default_params();
    char err[512] = "";
    int rc;

    memset(o, 0, sizeof *o);
    ip.manifest_dir = c->models_dir;
    ip.weights_dir = c->weights_dir;
    ip.intra_threads = threads;
    rc = aitag_infer_new(&ip, &o->inf);
    if (rc < 0)
        return rc;
    rc = aitag_graph_new(o->inf, (const char *const *)c->names, c->n_names,
                         (const char *const *)c->opts, c->n_opts, &o->graph, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "bench: %s\n", err);
        return rc;
    }
    for (size_t i = 0; i < aitag_graph_size(o->graph) && i < MAX_OPS; i++) {
        o->ops[o->n] = aitag_graph_ops(o->graph, i);
        o->state[o->n++] = aitag_graph_state(o->graph, i);
    }
    return 0;
}

/* The union of the analyzers' views, in the order the tagger's decoder thread builds it. */
static size_t ops_views(const struct ops_set *o, struct aitag_view_spec *views)
{
    size_t nv = 0;

    for (size_t i = 0; i < o->n; i++) {
        struct aitag_view_spec v[AITAG_MAX_VIEWS];
        size_t n = o->ops[i]->views(o->state[i], v, AITAG_MAX_VIEWS);
        for (size_t k = 0; k < n && nv < AITAG_MAX_VIEWS; k++)
            views[nv++] = v[k];
    }
    return nv;
}

struct frames {
    struct aitag_frame **v;
    size_t n, cap;
};

static void frames_clear(struct frames *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        aitag_frame_free(fs->v[i]);
    free(fs->v);
    memset(fs, 0, sizeof *fs);
}

struct decode_run {
    double wall_s, cpu_s, busy_s, media_s, gop_s;
    size_t frames;
    char strategy[16], codec[32];
    int width, height;
    double fps;
    long long bit_rate;
};

/* One decode floor run; keeps the frames in keep when it is not NULL. */
static int decode_once(const struct config *c, const struct ops_set *o, int threads,
                       struct frames *keep, struct decode_run *r)
{
    struct aitag_view_spec views[AITAG_MAX_VIEWS];
    struct aitag_sampler_params sp = aitag_sampler_default_params();
    struct aitag_sampler *s = NULL;
    char err[256] = "";
    double t0 = aitag_now(), c0 = cpu_seconds(), b0 = system_busy_seconds();
    int rc;

    memset(r, 0, sizeof *r);
    sp.interval = c->interval;
    sp.threads = threads;
    sp.views = views;
    sp.n_views = ops_views(o, views);
    sp.strategy = c->strategy;
    sp.sampling = c->sampling;
    /* as the tagger does: keyframes sampling skips deblocking reference-only frames */
    sp.skip_deblock = c->skip_deblock || c->sampling == AITAG_SAMPLING_KEYFRAMES;
    rc = aitag_sampler_open(c->file, &sp, &s, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "bench: %s: %s\n", c->file, err);
        return rc;
    }
    for (;;) {
        struct aitag_frame *f = NULL;
        rc = aitag_sampler_next(s, &f);
        if (rc <= 0)
            break;
        r->frames++;
        if (keep && keep->n == keep->cap) {
            size_t cap = keep->cap ? keep->cap * 2 : 64;
            struct aitag_frame **nv = realloc(keep->v, cap * sizeof *nv);
            if (!nv) {
                aitag_frame_free(f);
                rc = AITAG_ERR_NOMEM;
                break;
            }
            keep->v = nv;
            keep->cap = cap;
        }
        if (keep)
            keep->v[keep->n++] = f;
        else
            aitag_frame_free(f);
    }
    if (rc < 0)
        fprintf(stderr, "bench: %s: %s\n", c->file, aitag_sampler_errmsg(s));
    r->wall_s = aitag_now() - t0;
    r->cpu_s = cpu_seconds() - c0;
    r->busy_s = system_busy_seconds() - b0;
    r->media_s = aitag_sampler_probe(s)->duration;
    r->gop_s = aitag_sampler_probe(s)->gop_seconds;
    r->width = aitag_sampler_probe(s)->width;
    r->height = aitag_sampler_probe(s)->height;
    r->fps = aitag_sampler_probe(s)->fps;
    r->bit_rate = (long long)aitag_sampler_probe(s)->bit_rate;
    aitag_fmt(r->codec, sizeof r->codec, "%s", aitag_sampler_probe(s)->video_codec);
    aitag_fmt(r->strategy, sizeof r->strategy, "%s", aitag_sampler_strategy(s));
    aitag_sampler_close(s);
    return rc;
}

/* Runs every analyzer on every frame as the tagger's consumer does (frame by frame, each
 * analyzer in turn); adds each analyzer's time to per_op (seconds). */
static int infer_once(struct ops_set *o, const struct frames *fs, double *per_op, size_t *n_ev)
{
    struct aitag_evidence_list ev[MAX_OPS] = {{0}};
    char err[512] = "";
    int rc = 0;

    *n_ev = 0;
    for (size_t i = 0; rc == 0 && i < fs->n; i++) {
        for (size_t k = 0; rc == 0 && k < o->n; k++) {
            struct aitag_evidence_list joined = {0};
            const struct aitag_evidence_list *in = ops_in(o, k, ev, &joined);
            double t0 = aitag_now();
            rc = o->ops[k]->run(o->state[k], &fs->v[i], 1, in, &ev[k], err, sizeof err);
            per_op[k] += aitag_now() - t0;
            aitag_evidence_list_clear(&joined);
        }
        for (size_t k = 0; k < o->n; k++)
            *n_ev += aitag_graph_asked(o->graph, k) ? ev[k].n : 0;
        ops_clear(ev, o->n);
    }
    if (rc < 0)
        fprintf(stderr, "bench: inference: %s\n", err);
    ops_clear(ev, o->n);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* End to end, in a child process */

static void remove_catalog(const char *dir)
{
    static const char *const files[] = {"catalog.db", "catalog.db-wal", "catalog.db-shm",
                                        "catalog.db-journal"};
    char path[4200];

    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        aitag_fmt(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Keeps the reason an item failed, for the report. */
static void on_item(void *ctx, const struct aitag_item_report *ir)
{
    struct e2e_result *r = ctx;

    if (ir->error)
        aitag_fmt(r->err, sizeof r->err, "%s: %s", ir->path, ir->error);
}

static void e2e_once(const struct config *c, struct e2e_result *r)
{
    struct aitag_tagger_params tp = aitag_tagger_default_params();
    struct aitag_tagger *t = NULL;
    struct aitag_summary sum;
    const char *tmp = getenv("TMPDIR");
    char dir[4096], catalog[4200];
    double t0, c0, b0;

    memset(r, 0, sizeof *r);
    aitag_fmt(dir, sizeof dir, "%s/aitag-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        r->rc = AITAG_ERR_IO;
        aitag_fmt(r->err, sizeof r->err, "mkdtemp %s: %s", dir, strerror(errno));
        return;
    }
    aitag_fmt(catalog, sizeof catalog, "%s/catalog.db", dir);
    tp.catalog_path = catalog;
    tp.analyzers = c->names;
    tp.n_analyzers = c->n_names;
    tp.manifest_dir = c->models_dir;
    tp.weights_dir = c->weights_dir;
    tp.interval = c->interval;
    tp.threads = c->threads;
    tp.force = 1;
    tp.sampler_strategy = c->strategy;
    tp.sampling = c->sampling;
    tp.analyzer_opts = c->opts;
    tp.n_analyzer_opts = c->n_opts;
    tp.on_item = on_item;
    tp.ctx = r;
    r->rc = aitag_tagger_new(&tp, &t, r->err, sizeof r->err);
    if (r->rc < 0)
        goto out;
    /* One photo first: loads every model, so the timed run below is the steady state. */
    t0 = aitag_now();
    r->rc = aitag_tagger_run(t, &c->warmup, 1, &sum);
    r->load_s = aitag_now() - t0;
    if (r->rc == 0 && sum.tagged != 1) {
        r->rc = AITAG_ERR_MODEL;
        if (!r->err[0])
            aitag_fmt(r->err, sizeof r->err, "warm-up photo %s was not tagged", c->warmup);
    }
    if (r->rc < 0)
        goto out;
    t0 = aitag_now();
    c0 = cpu_seconds();
    b0 = system_busy_seconds();
    r->rc = aitag_tagger_run(t, &c->file, 1, &sum);
    r->wall_s = aitag_now() - t0;
    r->cpu_s = cpu_seconds() - c0;
    r->busy_s = system_busy_seconds() - b0;
    r->tagged = sum.tagged + sum.partial;
    r->failed = sum.failed;
    r->media_s = sum.media_seconds;
    r->frames = c->n_names ? sum.models_run / (int)c->n_names : 0;
    if (r->rc < 0)
        aitag_fmt(r->err, sizeof r->err, "%s", aitag_tagger_errmsg(t));
    else if (r->tagged != 1) {
        r->rc = AITAG_ERR_MEDIA;
        if (!r->err[0])
            aitag_fmt(r->err, sizeof r->err, "%s was not tagged", c->file);
    }
out:
    aitag_tagger_free(t);
    remove_catalog(dir);
    r->maxrss_kb = maxrss_kb();
}

static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;

    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The child: one e2e run per 'r' byte on cmd, a result on res each; exits on EOF. */
static void e2e_child(const struct config *c, int cmd, int res)
{
    char op;

    while (read_full(cmd, &op, 1) == 0 && op == 'r') {
        struct e2e_result r;
        e2e_once(c, &r);
        if (write_full(res, &r, sizeof r) < 0)
            break;
    }
    _exit(0);
}

struct e2e_proc {
    pid_t pid;
    int cmd, res;
};

/* Forks the e2e child. Must run before any thread or model exists in this process. */
static int e2e_start(const struct config *c, struct e2e_proc *p)
{
    int a[2], b[2];

    if (pipe(a) < 0 || pipe(b) < 0)
        return AITAG_ERR_IO;
    fflush(NULL);
    p->pid = fork();
    if (p->pid < 0)
        return AITAG_ERR_IO;
    if (p->pid == 0) {
        close(a[1]);
        close(b[0]);
        e2e_child(c, a[0], b[1]);
    }
    close(a[0]);
    close(b[1]);
    p->cmd = a[1];
    p->res = b[0];
    return 0;
}

static int e2e_request(struct e2e_proc *p, struct e2e_result *r)
{
    char op = 'r';

    if (write_full(p->cmd, &op, 1) < 0 || read_full(p->res, r, sizeof *r) < 0) {
        memset(r, 0, sizeof *r);
        r->rc = AITAG_ERR_IO;
        aitag_fmt(r->err, sizeof r->err, "the e2e child died");
    }
    return r->rc;
}

static void e2e_stop(struct e2e_proc *p)
{
    close(p->cmd);
    close(p->res);
    waitpid(p->pid, NULL, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Mode 1: floors and end to end for one configuration */

static json_t *json_array_of(const double *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real((double)(long long)(v[i] * 1e4 + 0.5) / 1e4));
    return a;
}

static json_t *jr(double v, double scale)
{
    return json_real((double)(long long)(v * scale + (v >= 0 ? 0.5 : -0.5)) / scale);
}

static int bench_config(struct config *c)
{
    struct e2e_proc child = {0};
    struct ops_set o = {0};
    struct frames fs = {0};
    struct decode_run d0 = {0};
    double dec[MAX_REPEAT], dec_cpu[MAX_REPEAT], inf[MAX_REPEAT], inf_cpu[MAX_REPEAT];
    double e2e[MAX_REPEAT], e2e_cpu[MAX_REPEAT], load[MAX_REPEAT];
    double dec_oth[MAX_REPEAT], inf_oth[MAX_REPEAT], e2e_oth[MAX_REPEAT], rss_mb[MAX_REPEAT];
    double op_s[MAX_OPS][MAX_REPEAT];
    double warm_s = 0;
    long e2e_rss = 0;
    int e2e_frames = -1, n_e2e = 0, rc;
    size_t n_ev = 0;
    json_t *j = NULL, *per = NULL;
    char *line;
    int dt = c->decode_threads > 0 ? c->decode_threads : decode_threads(c->threads);
    int it = infer_threads(c->threads);

    memset(op_s, 0, sizeof op_s);
    if (c->e2e && (rc = e2e_start(c, &child)) < 0) {
        fprintf(stderr, "bench: cannot fork the e2e child\n");
        return rc;
    }
    rc = ops_new(c, it, &o);
    if (rc < 0)
        goto out;
    for (int r = 0; r < c->repeat; r++) {
        struct decode_run d;
        double t0, c0;

        wait_quiet();
        rc = decode_once(c, &o, dt, r == 0 ? &fs : NULL, &d);
        if (rc < 0)
            goto out;
        if (r == 0) {
            d0 = d;
            if (fs.n == 0) {
                fprintf(stderr, "bench: %s: no frames\n", c->file);
                rc = AITAG_ERR_MEDIA;
                goto out;
            }
            /* Warm-up: loads every model on the first frame; not timed as floor. */
            t0 = aitag_now();
            {
                struct frames one = {&fs.v[0], 1, 1};
                double scratch[MAX_OPS] = {0};
                rc = infer_once(&o, &one, scratch, &n_ev);
            }
            warm_s = aitag_now() - t0;
            if (rc < 0)
                goto out;
        } else if (d.frames != d0.frames) {
            fprintf(stderr, "bench: decode run %d gave %zu frames, the first %zu\n", r, d.frames,
                    d0.frames);
        }
        dec[r] = d.wall_s;
        dec_cpu[r] = d.cpu_s;
        dec_oth[r] = others_cores(d.busy_s, d.cpu_s, d.wall_s);

        {
            double per_op[MAX_OPS] = {0}, b0;
            wait_quiet();
            b0 = system_busy_seconds();
            t0 = aitag_now();
            c0 = cpu_seconds();
            rc = infer_once(&o, &fs, per_op, &n_ev);
            inf[r] = aitag_now() - t0;
            inf_cpu[r] = cpu_seconds() - c0;
            inf_oth[r] = others_cores(system_busy_seconds() - b0, inf_cpu[r], inf[r]);
            for (size_t k = 0; k < o.n; k++)
                op_s[k][r] = per_op[k];
            if (rc < 0)
                goto out;
        }

        if (c->e2e) {
            struct e2e_result er;
            wait_quiet();
            if (e2e_request(&child, &er) < 0) {
                fprintf(stderr, "bench: e2e: %s\n", er.err);
                rc = er.rc;
                goto out;
            }
            e2e[r] = er.wall_s;
            e2e_cpu[r] = er.cpu_s;
            e2e_oth[r] = others_cores(er.busy_s, er.cpu_s, er.wall_s);
            load[r] = er.load_s;
            e2e_rss = er.maxrss_kb > e2e_rss ? er.maxrss_kb : e2e_rss;
            rss_mb[r] = (double)er.maxrss_kb / 1024.0;
            e2e_frames = er.frames;
            n_e2e++;
        }
        fprintf(stderr, "bench: %s run %d/%d: decode %.2fs infer %.2fs e2e %.2fs\n", c->label,
                r + 1, c->repeat, dec[r], inf[r], c->e2e ? e2e[r] : 0.0);
    }

    {
        double dm = median(dec, (size_t)c->repeat), im = median(inf, (size_t)c->repeat);
        double em = median(e2e, (size_t)n_e2e), media = d0.media_s;
        const char *strat = strategy_names[c->strategy];

        j = json_object();
        json_object_set_new(j, "bench", json_string("pipeline"));
        json_object_set_new(j, "label", json_string(c->label));
        json_object_set_new(j, "file", json_string(c->file));
        json_object_set_new(j, "codec", json_string(d0.codec));
        json_object_set_new(j, "width", json_integer(d0.width));
        json_object_set_new(j, "height", json_integer(d0.height));
        json_object_set_new(j, "fps", jr(d0.fps, 100));
        json_object_set_new(j, "gop_s", jr(d0.gop_s, 1000));
        json_object_set_new(j, "kbps", json_integer(d0.bit_rate / 1000));
        json_object_set_new(j, "media_s", jr(media, 1000));
        json_object_set_new(j, "analyzers", json_string(c->analyzers));
        json_object_set_new(j, "interval", json_real(c->interval));
        json_object_set_new(j, "threads", json_integer(c->threads));
        json_object_set_new(j, "decode_threads", json_integer(dt));
        json_object_set_new(j, "infer_threads", json_integer(it));
        json_object_set_new(j, "strategy_asked", json_string(strat));
        json_object_set_new(j, "strategy", json_string(d0.strategy));
        json_object_set_new(j, "sampling", json_string(sampling_names[c->sampling]));
        {
            json_t *opts = json_array();
            for (size_t k = 0; k < c->n_opts; k++)
                json_array_append_new(opts, json_string(c->opts[k]));
            json_object_set_new(j, "options", opts);
        }
        json_object_set_new(j, "skip_deblock", json_boolean(c->skip_deblock));
        json_object_set_new(j, "repeat", json_integer(c->repeat));
        json_object_set_new(j, "frames", json_integer((json_int_t)d0.frames));
        json_object_set_new(j, "evidence", json_integer((json_int_t)n_ev));
        json_object_set_new(j, "decode_s", jr(dm, 1e4));
        json_object_set_new(j, "decode_min_s", jr(minimum(dec, (size_t)c->repeat), 1e4));
        json_object_set_new(j, "decode_cpu_s", jr(median(dec_cpu, (size_t)c->repeat), 1e4));
        json_object_set_new(j, "decode_others_cores", jr(median(dec_oth, (size_t)c->repeat), 100));
        json_object_set_new(j, "decode_x", jr(dm > 0 ? media / dm : 0, 100));
        json_object_set_new(j, "infer_s", jr(im, 1e4));
        json_object_set_new(j, "infer_min_s", jr(minimum(inf, (size_t)c->repeat), 1e4));
        json_object_set_new(j, "infer_cpu_s", jr(median(inf_cpu, (size_t)c->repeat), 1e4));
        json_object_set_new(j, "infer_others_cores", jr(median(inf_oth, (size_t)c->repeat), 100));
        json_object_set_new(j, "infer_x", jr(im > 0 ? media / im : 0, 100));
        json_object_set_new(j, "infer_ms_per_frame", jr(im * 1e3 / (double)d0.frames, 100));
        per = json_object();
        for (size_t k = 0; k < o.n; k++)
            json_object_set_new(
                per, o.ops[k]->name,
                jr(median(op_s[k], (size_t)c->repeat) * 1e3 / (double)d0.frames, 100));
        json_object_set_new(j, "analyzer_ms_per_frame", per);
        json_object_set_new(j, "warmup_s", jr(warm_s, 1e3));
        json_object_set_new(j, "quiet_waited_s", jr(quiet_waited, 10));
        json_object_set_new(j, "rss_floors_mb", jr((double)maxrss_kb() / 1024.0, 10));
        json_object_set_new(j, "decode_runs", json_array_of(dec, (size_t)c->repeat));
        json_object_set_new(j, "infer_runs", json_array_of(inf, (size_t)c->repeat));
        if (c->e2e) {
            json_object_set_new(j, "e2e_s", jr(em, 1e4));
            json_object_set_new(j, "e2e_min_s", jr(minimum(e2e, (size_t)n_e2e), 1e4));
            json_object_set_new(j, "e2e_cpu_s", jr(median(e2e_cpu, (size_t)n_e2e), 1e4));
            json_object_set_new(j, "e2e_cores",
                                jr(median(e2e_cpu, (size_t)n_e2e) / (em > 0 ? em : 1), 100));
            json_object_set_new(j, "e2e_others_cores", jr(median(e2e_oth, (size_t)n_e2e), 100));
            /* CPU the tagger spends beyond the floors' (planning, queue, catalog) */
            json_object_set_new(j, "e2e_extra_cpu_s",
                                jr(median(e2e_cpu, (size_t)n_e2e) -
                                       median(dec_cpu, (size_t)c->repeat) -
                                       median(inf_cpu, (size_t)c->repeat),
                                   1e3));
            json_object_set_new(j, "e2e_x", jr(em > 0 ? media / em : 0, 100));
            json_object_set_new(j, "e2e_frames", json_integer(e2e_frames));
            json_object_set_new(j, "e2e_load_s", jr(median(load, (size_t)n_e2e), 1e3));
            json_object_set_new(j, "efficiency", jr(em > 0 ? (dm + im) / em : 0, 1000));
            json_object_set_new(j, "overlap_bound_s", jr(dm > im ? dm : im, 1e4));
            /* one tagger run in a fresh process, as `aitag tag` is; the max over repeats too */
            json_object_set_new(j, "rss_e2e_mb", jr(rss_mb[0], 10));
            json_object_set_new(j, "rss_e2e_max_mb", jr((double)e2e_rss / 1024.0, 10));
            json_object_set_new(j, "e2e_runs", json_array_of(e2e, (size_t)n_e2e));
            json_object_set_new(j, "e2e_others_runs", json_array_of(e2e_oth, (size_t)n_e2e));
            /* the child's peak so far after each repeat: growth would mean a leak */
            json_object_set_new(j, "rss_e2e_runs_mb", json_array_of(rss_mb, (size_t)n_e2e));
            if (e2e_frames != (int)d0.frames)
                fprintf(stderr, "bench: warning: e2e analysed %d frames, the floor %zu\n",
                        e2e_frames, d0.frames);
        }
        line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (line) {
            puts(line);
            fflush(stdout);
            free(line);
        }
        fprintf(stderr,
                "bench: %s: %zu frames of %.0fs (%s): decode %.2fs (%.1fx) infer %.2fs (%.1fx)"
                " e2e %.2fs (%.1fx) efficiency %.2f rss %.0f MB\n",
                c->label, d0.frames, media, d0.strategy, dm, dm > 0 ? media / dm : 0, im,
                im > 0 ? media / im : 0, em, em > 0 ? media / em : 0, em > 0 ? (dm + im) / em : 0,
                n_e2e ? rss_mb[0] : 0.0);
    }
    rc = 0;
out:
    json_decref(j);
    frames_clear(&fs);
    ops_free(&o);
    if (c->e2e)
        e2e_stop(&child);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Mode 2: per analyzer and per model */

/* Where a span of timed runs started: for the cores other processes took meanwhile. */
struct span {
    double t, cpu, busy;
};

static struct span span_begin(void)
{
    return (struct span){aitag_now(), cpu_seconds(), system_busy_seconds()};
}

static double span_others(const struct span *s)
{
    return others_cores(system_busy_seconds() - s->busy, cpu_seconds() - s->cpu,
                        aitag_now() - s->t);
}

static void emit_model_line(const char *kind, const char *name, int threads, const char *input,
                            const double *ms, size_t n, double others, const struct config *c)
{
    json_t *j = json_object();
    char *line;

    json_object_set_new(j, "bench", json_string(kind));
    json_object_set_new(j, "name", json_string(name));
    json_object_set_new(j, "threads", json_integer(threads));
    json_object_set_new(j, "input", json_string(input));
    json_object_set_new(j, "runs", json_integer((json_int_t)n));
    json_object_set_new(j, "ms_median", jr(median(ms, n), 100));
    json_object_set_new(j, "others_cores", jr(others, 100));
    json_object_set_new(j, "file", json_string(c->file));
    line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (line)
        puts(line);
    fflush(stdout);
    free(line);
    json_decref(j);
    fprintf(stderr, "bench: %-8s %-22s threads=%d %-10s %7.2f ms (median of %zu)\n", kind, name,
            threads, input, median(ms, n), n);
}

/* Times one model on one input: warm-up, then n runs; *others as span_others. */
static int time_model(struct aitag_model *m, const struct aitag_tensor *in, double *ms, size_t n,
                      double *others)
{
    struct aitag_tensor out[8];
    size_t n_out = 0;
    char err[256] = "";
    struct span sp = {0};

    wait_quiet();
    for (size_t r = 0; r <= n; r++) {
        if (r == 1)
            sp = span_begin();
        double t0 = aitag_now();
        if (aitag_model_run(m, in, out, 8, &n_out, err, sizeof err) < 0) {
            fprintf(stderr, "bench: %s: %s\n", aitag_model_name(m), err);
            return AITAG_ERR_MODEL;
        }
        if (r > 0)
            ms[r - 1] = (aitag_now() - t0) * 1e3;
        aitag_tensors_release(out, n_out);
    }
    *others = span_others(&sp);
    return 0;
}

/* Each model the analyzers use, on the input the analyzer would give it for the first frame:
 * BlazeFace on its letterbox view, the OCR detector on the max-side view, the recogniser on
 * one 48x320 line crop of that view (PaddleOCR's usual line size). */
static int bench_raw_models(const struct config *c, struct ops_set *o, const struct frames *fs,
                            int threads)
{
    size_t n = (size_t)c->runs, n_seen = 0;
    double *ms = calloc(n, sizeof *ms);
    const char *seen[4 * MAX_OPS];
    float *x = NULL;
    int rc = 0;

    if (!ms)
        return AITAG_ERR_NOMEM;
    for (size_t k = 0; rc == 0 && k < o->n; k++) {
        for (const char *const *name = o->ops[k]->models; rc == 0 && *name; name++) {
            int dup = 0;
            for (size_t i = 0; i < n_seen; i++)
                dup |= strcmp(seen[i], *name) == 0;
            if (dup || n_seen == sizeof seen / sizeof *seen)
                continue; /* a model two analyzers share is timed once */
            seen[n_seen++] = *name;
            struct aitag_model *m;
            struct aitag_view_spec spec;
            const struct aitag_view *v = NULL;
            struct aitag_tensor in = {0};
            char desc[64];
            double others = 0;

            if (aitag_model_open(o->inf, *name, &m) < 0 || aitag_model_load(m) < 0) {
                fprintf(stderr, "bench: %s: %s\n", *name, aitag_infer_errmsg(o->inf));
                rc = AITAG_ERR_MODEL;
                break;
            }
            if (strcmp(aitag_model_task(m), "ocr-rec") == 0) {
                /* any max-side view of the frame: the text analyzer's */
                for (size_t i = 0; i < fs->v[0]->n_views; i++)
                    if (fs->v[0]->views[i].spec.fit == AITAG_FIT_MAX_SIDE)
                        v = &fs->v[0]->views[i];
                if (!v || v->width < 320 || v->height < 48)
                    continue;
                free(x);
                x = malloc(3 * 48 * 320 * sizeof *x);
                if (!x) {
                    rc = AITAG_ERR_NOMEM;
                    break;
                }
                aitag_model_fill_input_rgb(m, v->rgb + (size_t)(v->height - 48) * v->stride, 320,
                                           48, v->stride, x);
                in = (struct aitag_tensor){x, {1, 3, 48, 320}, 4, 3 * 48 * 320};
                aitag_fmt(desc, sizeof desc, "320x48");
            } else {
                if (aitag_model_input_view(m, &spec) < 0 ||
                    !(v = aitag_frame_view(fs->v[0], &spec)))
                    continue;
                free(x);
                x = malloc((size_t)v->width * (size_t)v->height * 3 * sizeof *x);
                if (!x) {
                    rc = AITAG_ERR_NOMEM;
                    break;
                }
                aitag_model_fill_input(m, v, x);
                if (strcmp(aitag_model_input_layout(m), "NCHW") == 0)
                    in = (struct aitag_tensor){x, {1, 3, v->height, v->width}, 4, 0};
                else
                    in = (struct aitag_tensor){x, {1, v->height, v->width, 3}, 4, 0};
                in.count = (size_t)v->width * (size_t)v->height * 3;
                aitag_fmt(desc, sizeof desc, "%dx%d", v->width, v->height);
            }
            rc = time_model(m, &in, ms, n, &others);
            if (rc == 0)
                emit_model_line("model", *name, threads, desc, ms, n, others, c);
        }
    }
    free(x);
    free(ms);
    return rc;
}

static int bench_models(struct config *c)
{
    struct frames fs = {0};
    size_t n = (size_t)c->runs;
    double *ms = calloc(n, sizeof *ms);
    int rc = 0;

    if (!ms)
        return AITAG_ERR_NOMEM;
    for (size_t ti = 0; rc == 0 && ti < c->n_threads; ti++) {
        int threads = c->thread_list[ti];
        struct ops_set o = {0};
        struct decode_run d;

        rc = ops_new(c, threads, &o);
        if (rc == 0 && fs.n == 0) /* one decode serves every thread count: same views */
            rc = decode_once(c, &o, 1, &fs, &d);
        if (rc == 0 && fs.n == 0)
            rc = AITAG_ERR_MEDIA;
        for (size_t k = 0; rc == 0 && k < o.n; k++) {
            struct aitag_evidence_list ev = {0}, in[MAX_OPS] = {{0}}, joined = {0};
            char err[512] = "";
            struct span sp;
            /* warm-up on the first frame, then frame after frame, cycling; a consumer's input
             * (its producers' evidence for the frame) is made before its timed run */
            wait_quiet();
            rc = ops_prepare(&o, k, fs.v[0], in, err, sizeof err);
            if (rc == 0)
                rc = o.ops[k]->run(o.state[k], &fs.v[0], 1, ops_in(&o, k, in, &joined), &ev,
                                   err, sizeof err);
            aitag_evidence_list_clear(&joined);
            sp = span_begin();
            for (size_t r = 0; rc == 0 && r < n; r++) {
                const struct aitag_evidence_list *x;
                double t0;
                ops_clear(in, o.n);
                rc = ops_prepare(&o, k, fs.v[r % fs.n], in, err, sizeof err);
                x = ops_in(&o, k, in, &joined);
                t0 = aitag_now();
                if (rc == 0)
                    rc = o.ops[k]->run(o.state[k], &fs.v[r % fs.n], 1, x, &ev, err, sizeof err);
                ms[r] = (aitag_now() - t0) * 1e3;
                aitag_evidence_list_clear(&joined);
                aitag_evidence_list_clear(&ev);
            }
            ops_clear(in, o.n);
            aitag_evidence_list_clear(&ev);
            if (rc < 0)
                fprintf(stderr, "bench: %s: %s\n", o.ops[k]->name, err);
            else
                emit_model_line("analyzer", o.ops[k]->name, threads, "frame", ms, n,
                                span_others(&sp), c);
        }
        if (rc == 0)
            rc = bench_raw_models(c, &o, &fs, threads);
        ops_free(&o);
    }
    free(ms);
    frames_clear(&fs);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Mode 3: the human table */

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int print_table(const char *path)
{
    FILE *f = fopen(path, "r");
    char buf[16384];
    int header = 0, mheader = 0;

    if (!f) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        return AITAG_ERR_IO;
    }
    while (fgets(buf, sizeof buf, f)) {
        json_t *o = json_loads(buf, 0, NULL);
        if (!o)
            continue;
        if (strcmp(str(o, "bench"), "pipeline") == 0) {
            char e2e[96] = "     -     -     -     -       -     -       -";
            double other = num(o, "decode_others_cores");
            /* the noise flag: the most cores other work took during any of the phases */
            if (num(o, "infer_others_cores") > other)
                other = num(o, "infer_others_cores");
            if (num(o, "e2e_others_cores") > other)
                other = num(o, "e2e_others_cores");
            if (json_object_get(o, "e2e_s"))
                aitag_fmt(e2e, sizeof e2e, "%6.2f %5.1f %5.2f %5.2f %6.0fM %5.2f %7.2f",
                          num(o, "e2e_s"), num(o, "e2e_x"), num(o, "efficiency"),
                          num(o, "e2e_cores"), num(o, "rss_e2e_mb"), num(o, "e2e_load_s"),
                          num(o, "e2e_min_s"));
            if (!header++)
                printf("%-16s %-18s %5s %-5s %4s %5s %6s %5s %6s %6s %6s %5s %5s %5s %7s %5s"
                       " %7s %5s\n",
                       "config", "analyzers", "th/dt", "strat", "frms", "gop_s", "dec_s", "dec_x",
                       "inf_s", "inf_x", "e2e_s", "e2e_x", "eff", "cores", "rss_e2e", "load",
                       "e2e_min", "other");
            printf("%-16s %-18s %3d/%d %-5.5s %4d %5.2f %6.2f %5.1f %6.2f %6.1f %s %5.2f\n",
                   str(o, "label"), str(o, "analyzers"), (int)num(o, "threads"),
                   (int)num(o, "decode_threads"), str(o, "strategy"), (int)num(o, "frames"),
                   num(o, "gop_s"), num(o, "decode_s"), num(o, "decode_x"), num(o, "infer_s"),
                   num(o, "infer_x"), e2e, other);
        } else if (strcmp(str(o, "bench"), "analyzer") == 0 ||
                   strcmp(str(o, "bench"), "model") == 0) {
            if (!mheader++)
                printf("\n%-9s %-22s %7s %-10s %9s %5s %6s\n", "kind", "name", "threads", "input",
                       "ms_median", "runs", "other");
            printf("%-9s %-22s %7d %-10s %9.2f %5d %6.2f\n", str(o, "bench"), str(o, "name"),
                   (int)num(o, "threads"), str(o, "input"), num(o, "ms_median"),
                   (int)num(o, "runs"), num(o, "others_cores"));
        } else if (strcmp(str(o, "bench"), "cli") == 0) {
            printf("\ncli: %s, --threads %d: %.2f s (%.1fx realtime), peak RSS %.0f MB\n",
                   str(o, "name"), (int)num(o, "threads"), num(o, "wall_s"),
                   num(o, "wall_s") > 0 ? num(o, "media_s") / num(o, "wall_s") : 0,
                   num(o, "rss_mb"));
        }
        json_decref(o);
    }
    fclose(f);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_pipeline --file PATH [--analyzers faces,text] [--interval 2]\n"
            "                      [--threads 2] [--repeat 5] [--strategy auto|sequential|seek]\n"
            "                      [--label NAME] [--no-e2e] [--warmup PHOTO]\n"
            "                      [--decode-threads N (decode floor only; what-if)]\n"
            "                      [--sampling exact|keyframes] [--skip-deblock (decode floor)]\n"
            "                      [--option NAME.key=value (an analyzer option; repeatable)]\n"
            "                      [--quiet SECONDS (budget to wait for other work to pause)]\n"
            "       bench_pipeline --models --file PATH [--analyzers ...] [--runs 30]\n"
            "                      [--model-threads 1,2]\n"
            "       bench_pipeline --table RESULTS.jsonl\n"
            "       bench_pipeline --list   (the registered analyzers)\n"
            "Floors (decode only, inference only) and end to end for one configuration;\n"
            "one JSON line on stdout per result. See bench/run.sh and BENCHMARKS.md.\n");
}

int main(int argc, char **argv)
{
    struct config c;
    int models = 0;
    const char *table = NULL;

    memset(&c, 0, sizeof c);
    aitag_fmt(c.analyzers, sizeof c.analyzers, "faces");
    c.interval = 2.0;
    c.threads = 2;
    c.repeat = 5;
    c.runs = 30;
    c.e2e = 1;
    c.warmup = AITAG_SOURCE_DIR "/deps/photos/sample1.jpg";
    c.models_dir = AITAG_SOURCE_DIR "/models";
    c.weights_dir = AITAG_SOURCE_DIR "/deps/models";
    c.thread_list[0] = 1;
    c.thread_list[1] = 2;
    c.n_threads = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--list") == 0) {
            const struct aitag_analyzer_ops *const *all;
            size_t n = aitag_analyzer_all(&all);
            for (size_t k = 0; k < n; k++)
                puts(all[k]->name);
            return 0;
        } else if (strcmp(a, "--models") == 0) {
            models = 1;
        } else if (strcmp(a, "--no-e2e") == 0) {
            c.e2e = 0;
        } else if (strcmp(a, "--skip-deblock") == 0) {
            c.skip_deblock = 1;
        } else if (!v) {
            bad = 1;
        } else if (strcmp(a, "--file") == 0) {
            c.file = v;
        } else if (strcmp(a, "--label") == 0) {
            c.label = v;
        } else if (strcmp(a, "--warmup") == 0) {
            c.warmup = v;
        } else if (strcmp(a, "--table") == 0) {
            table = v;
        } else if (strcmp(a, "--analyzers") == 0) {
            aitag_fmt(c.analyzers, sizeof c.analyzers, "%s", v);
        } else if (strcmp(a, "--interval") == 0) {
            char *end;
            c.interval = strtod(v, &end);
            bad = *end || !(c.interval > 0 && c.interval <= 3600);
        } else if (strcmp(a, "--threads") == 0) {
            bad = parse_int(v, 1, 64, &c.threads) < 0;
        } else if (strcmp(a, "--decode-threads") == 0) {
            bad = parse_int(v, 1, 64, &c.decode_threads) < 0;
        } else if (strcmp(a, "--repeat") == 0) {
            bad = parse_int(v, 1, MAX_REPEAT, &c.repeat) < 0;
        } else if (strcmp(a, "--quiet") == 0) {
            char *end;
            quiet_left = strtod(v, &end);
            bad = *end || !(quiet_left >= 0 && quiet_left <= 3600);
        } else if (strcmp(a, "--runs") == 0) {
            bad = parse_int(v, 1, 1000, &c.runs) < 0;
        } else if (strcmp(a, "--strategy") == 0) {
            c.strategy = name_index(v, strategy_names, 3);
            bad = c.strategy < 0;
        } else if (strcmp(a, "--option") == 0) {
            bad = c.n_opts == sizeof c.opts / sizeof *c.opts || !strchr(v, '.') || !strchr(v, '=');
            if (!bad)
                c.opts[c.n_opts++] = v;
        } else if (strcmp(a, "--sampling") == 0) {
            c.sampling = name_index(v, sampling_names, 2);
            bad = c.sampling < 0;
        } else if (strcmp(a, "--model-threads") == 0) {
            char tmp[64], *tok, *save = NULL;
            aitag_fmt(tmp, sizeof tmp, "%s", v);
            c.n_threads = 0;
            for (tok = strtok_r(tmp, ",", &save); tok && c.n_threads < 8;
                 tok = strtok_r(NULL, ",", &save))
                bad |= parse_int(tok, 1, 64, &c.thread_list[c.n_threads++]) < 0;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "bench_pipeline: bad or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (strcmp(a, "--models") != 0 && strcmp(a, "--no-e2e") != 0 &&
            strcmp(a, "--skip-deblock") != 0)
            i++;
    }
    if (table)
        return print_table(table) < 0;
    if (!c.file) {
        usage(stderr);
        return 2;
    }
    split_names(&c);
    if (!c.label)
        c.label = c.file;
    return (models ? bench_models(&c) : bench_config(&c)) < 0;
}
