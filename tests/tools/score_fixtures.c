/*
 * score_fixtures - score `aitag tag --json` output against the fixtures' ground truth.
 *
 *     score_fixtures --truth FIXTURES/truth --results results.jsonl
 *
 * The truth folder holds one JSON file per good fixture (written by tools/make_fixtures.sh,
 * format in docs/fixtures.md); the results file holds one JSON object per line as `aitag tag
 * --json` prints them. A result belongs to the truth whose "file" (e.g. "videos/x.mp4") is a
 * path suffix of the result's "path", on a '/' boundary; the last such line wins.
 *
 * Checks, one output line each ("FILE METRIC VALUE PASS|FAIL", details after a '#'):
 *   status      the item was found and tagged
 *   duration    a video's reported duration is within --duration-tol of the truth
 *   face_iou    temporal IoU of the union of "face" markers and the union of truth face
 *               intervals is >= --min-iou (both empty counts as 1)
 *   face_spill  the share of each video's no-face time, shrunk by --slack seconds next to face
 *               segments (a 2 s sampler rounds there), covered by face markers is <= --max-spill:
 *               catches markers bridging a no-face gap, which a high IoU can hide
 *   face_tag    an image has a "face" tag exactly when its truth has faces
 *   text_cer[i] for the i-th truth text line, the best CER among result text lines overlapping
 *               its time (+-1 s; any line for an image), alone or joined with up to 3 lines
 *               that follow it in the result (an OCR that splits a line into words), <= --max-cer
 * The last line is "N passed, N failed"; the exit status is 1 if any check failed, 2 on bad
 * arguments or unreadable input.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "score_lib.h"

#define TEXT_TIME_TOL 1.0 /* seconds a result text line may sit outside its truth segment */
#define MAX_JOIN 4        /* result text lines joined at most when matching one truth line */

struct params {
    const char *truth_dir, *results_path;
    double min_iou, max_cer, slack, max_spill, duration_tol;
};

struct tally {
    int passed, failed;
};

struct truth_item {
    char *name; /* file name inside the truth folder, for sorting */
    json_t *json;
};

static void report(struct tally *t, const char *file, const char *metric, const char *value, int ok,
                   const char *detail)
{
    printf("%s %s %s %s", file, metric, value, ok ? "PASS" : "FAIL");
    if (detail && *detail)
        printf("  # %s", detail);
    printf("\n");
    if (ok)
        t->passed++;
    else
        t->failed++;
}

static void report_num(struct tally *t, const char *file, const char *metric, double value, int ok,
                       const char *detail)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.3f", value);
    report(t, file, metric, buf, ok, detail);
}

static double num_or(json_t *obj, const char *key, double fallback)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

static const char *str_or(json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : fallback;
}

/* Does `path` end with `file` on a '/' boundary (or equal it)? */
static int suffix_match(const char *path, const char *file)
{
    size_t np = strlen(path), nf = strlen(file);
    if (nf == 0 || nf > np || strcmp(path + np - nf, file) != 0)
        return 0;
    return np == nf || path[np - nf - 1] == '/';
}

/*
 * Intervals [start, end] of the objects in `arr` (those whose `key` equals `want`, when key is
 * given), merged. Returns the count; *out is malloc'd (free it), NULL when empty.
 */
static size_t collect_intervals(json_t *arr, const char *key, const char *want,
                                struct score_interval **out)
{
    size_t n = 0, i;
    json_t *it;
    struct score_interval *iv;

    *out = NULL;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return 0;
    iv = calloc(json_array_size(arr), sizeof(*iv));
    if (!iv)
        return 0;
    json_array_foreach(arr, i, it)
    {
        if (key && strcmp(str_or(it, key, ""), want) != 0)
            continue;
        iv[n].start = num_or(it, "start", 0);
        iv[n].end = num_or(it, "end", iv[n].start);
        n++;
    }
    n = score_union(iv, n);
    if (n == 0) {
        free(iv);
        return 0;
    }
    *out = iv;
    return n;
}

static void check_faces_video(struct tally *t, const struct params *p, const char *file,
                              json_t *truth, json_t *result)
{
    struct score_interval *tf = NULL, *rf = NULL, *cores = NULL;
    size_t nt, nr, nc;
    double iou, duration = num_or(truth, "duration", 0);
    char detail[160];

    nt = collect_intervals(json_object_get(truth, "faces"), NULL, NULL, &tf);
    nr = collect_intervals(json_object_get(result, "markers"), "tag", "face", &rf);
    iou = score_iou(tf, nt, rf, nr);
    snprintf(detail, sizeof(detail), "truth %.1f s, markers %.1f s, overlap %.1f s",
             score_length(tf, nt), score_length(rf, nr), score_intersection(tf, nt, rf, nr));
    report_num(t, file, "face_iou", iou, iou >= p->min_iou, detail);

    cores = calloc(nt + 1, sizeof(*cores));
    if (!cores) {
        report(t, file, "face_spill", "nomem", 0, NULL);
        goto out;
    }
    nc = score_gap_cores(tf, nt, duration, p->slack, cores, nt + 1);
    if (nc > 0) {
        double len = score_length(cores, nc), hit = score_intersection(cores, nc, rf, nr);
        snprintf(detail, sizeof(detail), "%.1f s of %.1f s no-face time under face markers", hit,
                 len);
        report_num(t, file, "face_spill", hit / len, hit / len <= p->max_spill, detail);
    }
out:
    free(cores);
    free(tf);
    free(rf);
}

static void check_face_tag(struct tally *t, const char *file, json_t *truth, json_t *result)
{
    json_t *tag;
    size_t i;
    int want = json_array_size(json_object_get(truth, "faces")) > 0, got = 0;

    json_array_foreach(json_object_get(result, "tags"), i, tag)
    {
        if (strcmp(str_or(tag, "name", ""), "face") == 0)
            got = 1;
    }
    report(t, file, "face_tag", got ? "1" : "0", got == want, want ? "want 1" : "want 0");
}

/* Append `s` to buf (size cap) with a separating space; truncates silently. */
static void join_text(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    if (n > 0 && n + 1 < cap)
        buf[n++] = ' ';
    snprintf(buf + n, cap - n, "%s", s);
}

static void check_text(struct tally *t, const struct params *p, const char *file, json_t *truth,
                       json_t *result, int is_image)
{
    json_t *lines = json_object_get(result, "text"), *want;
    size_t i, k = 0, nl = json_array_size(lines);
    json_t **cand = calloc(nl ? nl : 1, sizeof(*cand));

    if (!cand) {
        report(t, file, "text_cer", "nomem", 0, NULL);
        return;
    }
    json_array_foreach(json_object_get(truth, "text"), i, want)
    {
        double s = num_or(want, "start", 0), e = num_or(want, "end", s), best = INFINITY;
        const char *wtext = str_or(want, "text", "");
        char metric[32], best_text[512] = "", joined[512], detail[1200];
        size_t nc = 0, a, b, j;
        json_t *line;

        json_array_foreach(lines, j, line)
        {
            double ls = num_or(line, "start", 0), le = num_or(line, "end", ls);
            if (is_image || (ls <= e + TEXT_TIME_TOL && le >= s - TEXT_TIME_TOL))
                cand[nc++] = line;
        }
        for (a = 0; a < nc; a++) {
            joined[0] = '\0';
            for (b = a; b < nc && b < a + MAX_JOIN; b++) {
                double cer;
                join_text(joined, sizeof(joined), str_or(cand[b], "text", ""));
                cer = score_cer(wtext, joined);
                if (cer >= 0 && cer < best) {
                    best = cer;
                    snprintf(best_text, sizeof(best_text), "%s", joined);
                }
            }
        }
        if (nc == 0)
            best = 1.0;
        snprintf(metric, sizeof(metric), "text_cer[%zu]", k++);
        snprintf(detail, sizeof(detail), "\"%s\" read as \"%s\"", wtext,
                 nc ? best_text : "(no text at that time)");
        report_num(t, file, metric, best, best <= p->max_cer, detail);
    }
    free(cand);
}

static void score_item(struct tally *t, const struct params *p, json_t *truth, json_t *result)
{
    const char *file = str_or(truth, "file", "?");
    const char *status;
    int is_image = strcmp(str_or(truth, "kind", ""), "image") == 0;

    if (!result) {
        report(t, file, "status", "missing", 0, "no result line names this file");
        return;
    }
    status = str_or(result, "status", "(none)");
    if (strcmp(status, "tagged") != 0) {
        json_t *err = json_array_get(json_object_get(result, "errors"), 0);
        report(t, file, "status", status, 0, str_or(err, "message", ""));
        return;
    }
    report(t, file, "status", status, 1, NULL);

    if (is_image) {
        check_face_tag(t, file, truth, result);
    } else {
        double want = num_or(truth, "duration", 0), got = num_or(result, "duration", NAN);
        char detail[64];
        snprintf(detail, sizeof(detail), "want %.3f", want);
        report_num(t, file, "duration", got, fabs(got - want) <= p->duration_tol, detail);
        check_faces_video(t, p, file, truth, result);
    }
    check_text(t, p, file, truth, result, is_image);
}

static int truth_cmp(const void *a, const void *b)
{
    const struct truth_item *x = a, *y = b;
    return strcmp(str_or(x->json, "file", x->name), str_or(y->json, "file", y->name));
}

/* Load every truth/<x>.json that describes one fixture (not bad.json). Returns -1 on error. */
static int load_truth(const char *dir, struct truth_item **out, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct truth_item *items = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    *out = NULL;
    *count = 0;
    if (!d) {
        fprintf(stderr, "score_fixtures: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char path[4096];
        json_error_t jerr;
        json_t *j;

        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        j = json_load_file(path, 0, &jerr);
        if (!j) {
            fprintf(stderr, "score_fixtures: %s:%d: %s\n", path, jerr.line, jerr.text);
            goto out;
        }
        if (!json_is_string(json_object_get(j, "file")) ||
            strcmp(str_or(j, "kind", "bad"), "bad") == 0) {
            json_decref(j);
            continue;
        }
        if (n == cap) {
            struct truth_item *bigger;
            cap = cap ? 2 * cap : 16;
            bigger = realloc(items, cap * sizeof(*items));
            if (!bigger) {
                json_decref(j);
                goto out;
            }
            items = bigger;
        }
        items[n].name = strdup(de->d_name);
        items[n].json = j;
        if (!items[n].name) {
            json_decref(j);
            goto out;
        }
        n++;
    }
    qsort(items, n, sizeof(*items), truth_cmp);
    *out = items;
    *count = n;
    items = NULL;
    n = 0;
    rc = 0;
out:
    while (n > 0) {
        n--;
        free(items[n].name);
        json_decref(items[n].json);
    }
    free(items);
    closedir(d);
    return rc;
}

static int parse_args(int argc, char **argv, struct params *p)
{
    int i;

    p->truth_dir = p->results_path = NULL;
    p->min_iou = 0.8;
    p->max_cer = 0.10;
    p->slack = 2.5;
    p->max_spill = 0.10;
    p->duration_tol = 0.5;
    for (i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        double *num = NULL;
        char *end;

        if (strcmp(opt, "--truth") == 0 && val)
            p->truth_dir = val;
        else if (strcmp(opt, "--results") == 0 && val)
            p->results_path = val;
        else if (strcmp(opt, "--min-iou") == 0 && val)
            num = &p->min_iou;
        else if (strcmp(opt, "--max-cer") == 0 && val)
            num = &p->max_cer;
        else if (strcmp(opt, "--slack") == 0 && val)
            num = &p->slack;
        else if (strcmp(opt, "--max-spill") == 0 && val)
            num = &p->max_spill;
        else if (strcmp(opt, "--duration-tol") == 0 && val)
            num = &p->duration_tol;
        else
            return -1;
        if (num) {
            errno = 0;
            *num = strtod(val, &end);
            if (errno || end == val || *end)
                return -1;
        }
    }
    return p->truth_dir && p->results_path ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct params p;
    struct tally t = {0, 0};
    struct truth_item *truth = NULL;
    json_t **match = NULL;
    size_t ntruth = 0, i, lineno = 0, cap = 0;
    char *line = NULL;
    FILE *f = NULL;
    int rc = 2;

    if (parse_args(argc, argv, &p) < 0) {
        fprintf(stderr, "usage: score_fixtures --truth DIR --results FILE.jsonl [--min-iou 0.8] "
                        "[--max-cer 0.1] [--slack 2.5] [--max-spill 0.1] [--duration-tol 0.5]\n");
        return 2;
    }
    if (load_truth(p.truth_dir, &truth, &ntruth) < 0)
        goto out;
    if (ntruth == 0) {
        fprintf(stderr, "score_fixtures: no truth files in %s\n", p.truth_dir);
        goto out;
    }
    match = calloc(ntruth, sizeof(*match));
    f = fopen(p.results_path, "r");
    if (!match || !f) {
        fprintf(stderr, "score_fixtures: %s: %s\n", p.results_path, strerror(errno));
        goto out;
    }
    while (getline(&line, &cap, f) >= 0) {
        json_error_t jerr;
        json_t *r;
        const char *path;
        char where[64];

        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        r = json_loads(line, 0, &jerr);
        snprintf(where, sizeof(where), "line:%zu", lineno);
        if (!r || !json_is_object(r)) {
            report(&t, p.results_path, where, "not-json", 0, r ? "not an object" : jerr.text);
            json_decref(r);
            continue;
        }
        path = str_or(r, "path", "");
        for (i = 0; i < ntruth; i++) {
            if (suffix_match(path, str_or(truth[i].json, "file", ""))) {
                json_decref(match[i]);
                match[i] = json_incref(r);
            }
        }
        json_decref(r);
    }
    for (i = 0; i < ntruth; i++)
        score_item(&t, &p, truth[i].json, match[i]);
    printf("%d passed, %d failed\n", t.passed, t.failed);
    rc = t.failed ? 1 : 0;
out:
    if (f)
        fclose(f);
    free(line);
    for (i = 0; i < ntruth; i++) {
        if (match)
            json_decref(match[i]);
        json_decref(truth[i].json);
        free(truth[i].name);
    }
    free(match);
    free(truth);
    return rc;
}
