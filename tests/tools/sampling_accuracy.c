/*
 * sampling_accuracy - how close a cheaper sampling's `aitag tag --json` output comes to a
 * reference run of the same files (dense exact sampling), and how well its shots find true
 * shot boundaries.
 *
 *     sampling_accuracy --ref dense.jsonl --test adaptive.jsonl [--same-tags] [--min-iou 0.9]
 *                       [--shots-truth clip.shots.json ...] [--tol 0.5]
 *                       [--min-cut 0.95] [--min-gradual 0.8] [--json]
 *
 * Both results files hold one JSON object per line as `aitag tag --json` prints them
 * (docs/json.md); items pair up by equal "path" (the last line of a path wins). --ref may be
 * left out to score shots alone. A shots truth file is {"file": "NAME", "boundaries": [{"time",
 * "kind": "cut"|"fade"|"dissolve", "start", "end"}]} (bench/sampling.sh writes them beside its
 * clips); it belongs to the test item whose path ends with its "file" on a '/' boundary.
 *
 * Per test item ("FILE METRIC VALUE PASS|FAIL|INFO", details after a '#'):
 *   status     the item is "tagged" or "skipped" in both runs, and the reference has it
 *   tags       missing (in the reference only) and extra tags; FAIL with --same-tags
 *   iou_min    the smallest per-tag marker IoU (sampling_lib.h), FAIL below --min-iou
 *   iou_mean   the mean of the per-tag IoUs (INFO)
 *   shots_KIND_p / shots_KIND_r  boundary precision and recall per kind and for "all", with
 *              --min-cut for cuts and --min-gradual for fades and dissolves ("-" when there is
 *              nothing to count); "shots absent" when the item has no "shots" array, a FAIL
 *              only when a shot threshold was given
 * The last line is "N passed, N failed". With --json, one JSON object per item instead (the
 * same numbers; null for what is absent or not countable, "pass" for the verdict). The exit
 * status is 1 if a check failed, 2 on bad arguments or unreadable input files.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sampling_lib.h"

#define MAX_TRUTH 256

struct params {
    const char *ref_path, *test_path;
    const char *truth_paths[MAX_TRUTH];
    size_t n_truth;
    double tol, min_iou, min_cut, min_gradual;
    int same_tags, json;
};

struct tally {
    int passed, failed;
};

/* One check's outcome: printed at once (text) or gathered into the item's object (--json). */
struct item_out {
    const struct params *p;
    struct tally *t;
    const char *file;
    json_t *obj; /* --json only */
    int ok;
};

static void check(struct item_out *o, const char *metric, const char *value, int verdict,
                  const char *detail)
{
    static const char *const words[] = {"FAIL", "PASS", "INFO"};

    if (verdict == 0)
        o->ok = 0;
    if (verdict == 0)
        o->t->failed++;
    else if (verdict == 1)
        o->t->passed++;
    if (o->p->json)
        return;
    printf("%s %s %s %s", o->file, metric, value, words[verdict]);
    if (detail && *detail)
        printf("  # %s", detail);
    printf("\n");
}

static void check_num(struct item_out *o, const char *metric, double v, int verdict,
                      const char *detail)
{
    char buf[32];

    if (isnan(v))
        snprintf(buf, sizeof buf, "-");
    else
        snprintf(buf, sizeof buf, "%.3f", v);
    check(o, metric, buf, verdict, detail);
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

/*
 * Reads a JSONL results file into an object keyed by "path". Lines that are not JSON objects
 * with a "path" get a one-line error naming the file and line and are skipped. Returns NULL
 * (after an error line) when the file cannot be read.
 */
static json_t *load_results(const char *path)
{
    FILE *f = fopen(path, "r");
    json_t *by_path;
    char *line = NULL;
    size_t cap = 0, lineno = 0;

    if (!f) {
        fprintf(stderr, "sampling_accuracy: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    by_path = json_object();
    while (by_path && getline(&line, &cap, f) >= 0) {
        json_error_t jerr;
        json_t *j;
        const char *p;

        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        j = json_loads(line, 0, &jerr);
        p = json_string_value(json_object_get(j, "path"));
        if (!p)
            fprintf(stderr, "sampling_accuracy: %s:%zu: %s\n", path, lineno,
                    j ? "no \"path\" in the object" : jerr.text);
        else
            json_object_set(by_path, p, j);
        json_decref(j);
    }
    free(line);
    fclose(f);
    return by_path;
}

/* Does `path` end with `file` on a '/' boundary (or equal it)? */
static int path_ends_with(const char *path, const char *file)
{
    size_t np = strlen(path), nf = strlen(file);

    if (nf == 0 || nf > np || strcmp(path + np - nf, file) != 0)
        return 0;
    return np == nf || path[np - nf - 1] == '/';
}

static int status_ok(json_t *item)
{
    const char *s = json_string_value(json_object_get(item, "status"));
    return s && (strcmp(s, "tagged") == 0 || strcmp(s, "skipped") == 0);
}

static void names_into(json_t *obj, const char *key, const char *const *names, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n && i < SA_MAX_NAMES; i++)
        json_array_append_new(arr, json_string(names[i]));
    json_object_set_new(obj, key, arr);
}

static void list_names(char *buf, size_t cap, const char *label, const char *const *names, size_t n)
{
    size_t len = strlen(buf);

    for (size_t i = 0; i < n && i < SA_MAX_NAMES && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%s%s", i ? "," : label, i ? "" : " ",
                                names[i]);
    }
    if (n > SA_MAX_NAMES && len < cap)
        snprintf(buf + len, cap - len, ",...(%zu)", n);
}

static void compare_ref(struct item_out *o, json_t *ref, json_t *got)
{
    const struct params *p = o->p;
    struct sa_tag_diff d;
    struct sa_iou iou;
    char detail[1024] = "";

    sa_tag_diff(ref, got, &d);
    list_names(detail, sizeof detail, "missing", d.missing, d.n_missing);
    if (d.n_missing && d.n_extra && strlen(detail) + 2 < sizeof detail)
        memcpy(detail + strlen(detail), "; ", 3);
    list_names(detail, sizeof detail, "extra", d.extra, d.n_extra);
    check(o, "tags", d.n_missing + d.n_extra ? "differ" : "same",
          d.n_missing + d.n_extra == 0 ? 1
          : p->same_tags               ? 0
                                       : 2,
          detail);
    if (sa_marker_iou(ref, got, &iou) < 0) {
        check(o, "iou_min", "nomem", 0, NULL);
        return;
    }
    snprintf(detail, sizeof detail, "%zu marked tags; lowest: %s", iou.n_tags,
             iou.worst ? iou.worst : "(none)");
    check_num(o, "iou_min", iou.min, p->min_iou > 0 ? iou.min >= p->min_iou : 2, detail);
    check_num(o, "iou_mean", iou.mean, 2, NULL);
    if (o->obj) {
        json_object_set_new(o->obj, "tags_same", json_boolean(d.n_missing + d.n_extra == 0));
        names_into(o->obj, "missing", d.missing, d.n_missing);
        names_into(o->obj, "extra", d.extra, d.n_extra);
        json_object_set_new(o->obj, "iou_min", json_real(iou.min));
        json_object_set_new(o->obj, "iou_mean", json_real(iou.mean));
        json_object_set_new(o->obj, "iou_worst", iou.worst ? json_string(iou.worst) : json_null());
        json_object_set_new(o->obj, "marked_tags", json_integer((json_int_t)iou.n_tags));
    }
}

/* A rate's verdict: INFO without a threshold or without anything to count. */
static int rate_verdict(double v, double min)
{
    if (min <= 0 || isnan(v))
        return 2;
    return v >= min;
}

static void compare_shots(struct item_out *o, json_t *truth, json_t *got)
{
    const struct params *p = o->p;
    struct sa_boundary *tb = NULL, *db = NULL;
    struct sa_pr pr[SA_KINDS + 1];
    size_t nt = 0, nd = 0;
    json_t *kinds = NULL;
    int rc;

    if (sa_truth_boundaries(truth, &tb, &nt) < 0) {
        check(o, "shots", "bad-truth", 0, "the truth file has no valid \"boundaries\" array");
        return;
    }
    rc = sa_shot_boundaries(got, &db, &nd);
    if (rc == 1) {
        check(o, "shots", "absent", p->min_cut > 0 || p->min_gradual > 0 ? 0 : 2,
              "the item has no \"shots\" array");
        goto out;
    }
    if (rc < 0 || sa_match(tb, nt, db, nd, p->tol, pr) < 0) {
        check(o, "shots", "nomem", 0, NULL);
        goto out;
    }
    kinds = o->obj ? json_object() : NULL;
    for (int k = 0; k <= SA_KINDS; k++) {
        double prec = sa_rate(pr[k].hit_det, pr[k].n_det);
        double rec = sa_rate(pr[k].hit_truth, pr[k].n_truth);
        double min = k == SA_CUT ? p->min_cut : k == SA_ALL ? 0 : p->min_gradual;
        char metric[32], detail[128];

        snprintf(detail, sizeof detail, "%zu of %zu detected match", pr[k].hit_det, pr[k].n_det);
        snprintf(metric, sizeof metric, "shots_%s_p", sa_kind_names[k]);
        check_num(o, metric, prec, rate_verdict(prec, min), detail);
        snprintf(detail, sizeof detail, "%zu of %zu true found (%zu as another kind)",
                 pr[k].hit_truth, pr[k].n_truth, pr[k].mislabelled);
        snprintf(metric, sizeof metric, "shots_%s_r", sa_kind_names[k]);
        check_num(o, metric, rec, rate_verdict(rec, min), detail);
        if (kinds)
            json_object_set_new(
                kinds, sa_kind_names[k],
                json_pack("{s:o,s:o,s:I,s:I,s:I}", "precision", num_or_null(prec), "recall",
                          num_or_null(rec), "truth", (json_int_t)pr[k].n_truth, "detected",
                          (json_int_t)pr[k].n_det, "mislabelled", (json_int_t)pr[k].mislabelled));
    }
out:
    if (o->obj)
        json_object_set_new(o->obj, "shots", kinds ? kinds : json_null());
    free(tb);
    free(db);
}

/* Prints obj on one line and releases it. */
static void print_json(json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;

    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(obj);
}

static void score_item(const struct params *p, struct tally *t, const char *path, json_t *got,
                       json_t *refs, json_t **truths, size_t n_truths)
{
    struct item_out o = {p, t, path, p->json ? json_object() : NULL, 1};
    json_t *ref = refs ? json_object_get(refs, path) : NULL, *truth = NULL;

    if (o.obj)
        json_object_set_new(o.obj, "path", json_string(path));
    if (o.obj && json_is_string(json_object_get(got, "status")))
        json_object_set(o.obj, "status", json_object_get(got, "status"));
    for (size_t i = 0; i < n_truths; i++) {
        const char *file = json_string_value(json_object_get(truths[i], "file"));
        if (file && path_ends_with(path, file))
            truth = truths[i];
    }
    if (!status_ok(got) || (refs && !status_ok(ref))) {
        check(&o, "status", "bad", 0,
              refs && !ref ? "the reference has no line for this path"
                           : "not \"tagged\" or \"skipped\" in both runs");
        goto out;
    }
    check(&o, "status", "ok", 1, NULL);
    if (ref)
        compare_ref(&o, ref, got);
    if (truth)
        compare_shots(&o, truth, got);
out:
    if (o.obj) {
        json_object_set_new(o.obj, "pass", json_boolean(o.ok));
        print_json(o.obj);
    }
}

static int parse_double(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct params *p)
{
    memset(p, 0, sizeof *p);
    p->tol = 0.5;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        double *num = NULL;

        if (strcmp(opt, "--same-tags") == 0) {
            p->same_tags = 1;
            continue;
        }
        if (strcmp(opt, "--json") == 0) {
            p->json = 1;
            continue;
        }
        if (!val)
            return -1;
        i++;
        if (strcmp(opt, "--ref") == 0)
            p->ref_path = val;
        else if (strcmp(opt, "--test") == 0)
            p->test_path = val;
        else if (strcmp(opt, "--shots-truth") == 0 && p->n_truth < MAX_TRUTH)
            p->truth_paths[p->n_truth++] = val;
        else if (strcmp(opt, "--tol") == 0)
            num = &p->tol;
        else if (strcmp(opt, "--min-iou") == 0)
            num = &p->min_iou;
        else if (strcmp(opt, "--min-cut") == 0)
            num = &p->min_cut;
        else if (strcmp(opt, "--min-gradual") == 0)
            num = &p->min_gradual;
        else
            return -1;
        if (num && parse_double(val, num) < 0) {
            fprintf(stderr, "sampling_accuracy: %s: not a number: '%s'\n", opt, val);
            return -1;
        }
    }
    return p->test_path ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct params p;
    struct tally t = {0, 0};
    json_t *refs = NULL, *tests = NULL, *truths[MAX_TRUTH] = {NULL}, *item;
    const char *path;
    int rc = 2;

    if (parse_args(argc, argv, &p) < 0) {
        fprintf(stderr, "usage: sampling_accuracy [--ref REF.jsonl] --test TEST.jsonl "
                        "[--same-tags] [--min-iou X] [--shots-truth FILE.json]... [--tol 0.5] "
                        "[--min-cut X] [--min-gradual X] [--json]\n");
        return 2;
    }
    if ((p.ref_path && !(refs = load_results(p.ref_path))) || !(tests = load_results(p.test_path)))
        goto out;
    for (size_t i = 0; i < p.n_truth; i++) {
        json_error_t jerr;
        truths[i] = json_load_file(p.truth_paths[i], 0, &jerr);
        if (!truths[i]) {
            fprintf(stderr, "sampling_accuracy: %s:%d: %s\n", p.truth_paths[i], jerr.line,
                    jerr.text);
            goto out;
        }
    }
    json_object_foreach(tests, path, item) score_item(&p, &t, path, item, refs, truths, p.n_truth);
    if (refs) {
        json_object_foreach(refs, path, item)
        {
            if (!json_object_get(tests, path)) {
                struct item_out o = {&p, &t, path, NULL, 1};
                check(&o, "status", "missing", 0, "the reference has it, the test run not");
                if (p.json)
                    print_json(
                        json_pack("{s:s,s:s,s:b}", "path", path, "status", "missing", "pass", 0));
            }
        }
    }
    if (!p.json)
        printf("%d passed, %d failed\n", t.passed, t.failed);
    rc = t.failed ? 1 : 0;
out:
    json_decref(refs);
    json_decref(tests);
    for (size_t i = 0; i < p.n_truth; i++)
        json_decref(truths[i]);
    return rc;
}
