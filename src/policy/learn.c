/*
 * learn.c - a label's threshold fitted to the user's decisions.
 *
 * The caller derives every item carrying the label at each candidate threshold, the decisions
 * left out, so "present" is what the models and the rules alone give. Fitting is then counting:
 * at each candidate, accepted items present are true positives, rejected ones present false
 * positives, accepted ones absent false negatives; F1 = 2tp / (2tp + fp + fn). The best
 * candidate wins, the one nearest the current threshold on ties, so a fit never moves a
 * threshold without a gain. Two folds keep the fit honest: the threshold fitted on one half of
 * the decisions is judged on the other half, and the counts of both halves are pooled into the
 * held-out precision and recall shown beside the proposal.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "policy_int.h"

struct counts {
    int tp, fp, fn;
};

static struct counts count_at(const struct aitag_fit_item *items, size_t n, size_t k, int fold)
{
    struct counts c = {0, 0, 0};

    for (size_t i = 0; i < n; i++) {
        const struct aitag_fit_item *it = &items[i];
        if (it->truth < 0 || (fold >= 0 && it->fold != fold))
            continue;
        if (it->present[k])
            it->truth ? c.tp++ : c.fp++;
        else if (it->truth)
            c.fn++;
    }
    return c;
}

static double f1(struct counts c)
{
    int d = 2 * c.tp + c.fp + c.fn;
    return d ? 2.0 * c.tp / d : 1.0;
}

/* The candidate with the best F1 on the decided items (of fold, or all with -1). */
static size_t best(const float *cand, size_t n_cand, size_t current,
                   const struct aitag_fit_item *items, size_t n, int fold)
{
    size_t b = current;
    double bf = f1(count_at(items, n, current, fold));

    for (size_t k = 0; k < n_cand; k++) {
        double f = f1(count_at(items, n, k, fold));
        if (f > bf + 1e-12 || (fabs(f - bf) <= 1e-12 &&
                               fabsf(cand[k] - cand[current]) < fabsf(cand[b] - cand[current]))) {
            b = k;
            bf = f;
        }
    }
    return b;
}

static double ratio(int a, int b)
{
    return b ? (double)a / b : -1;
}

int aitag_threshold_fit(const float *candidates, size_t n_candidates, size_t current,
                        const struct aitag_fit_item *items, size_t n,
                        struct aitag_threshold_fit *out)
{
    struct counts held_cur = {0, 0, 0}, held_fit = {0, 0, 0};
    size_t k;

    memset(out, 0, sizeof *out);
    if (current >= n_candidates)
        return AITAG_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (items[i].truth >= 0) {
            out->decided++;
            items[i].truth ? out->accepted++ : out->rejected++;
        }
    if (!out->decided)
        return AITAG_ERR_INVALID;
    k = best(candidates, n_candidates, current, items, n, -1);
    out->current = candidates[current];
    out->proposed = candidates[k];
    out->f1_current = f1(count_at(items, n, current, -1));
    out->f1_proposed = f1(count_at(items, n, k, -1));
    for (int fold = 0; fold < 2; fold++) {
        size_t kf = best(candidates, n_candidates, current, items, n, 1 - fold);
        struct counts c = count_at(items, n, kf, fold), cc = count_at(items, n, current, fold);
        held_fit.tp += c.tp, held_fit.fp += c.fp, held_fit.fn += c.fn;
        held_cur.tp += cc.tp, held_cur.fp += cc.fp, held_cur.fn += cc.fn;
    }
    out->precision_current = ratio(held_cur.tp, held_cur.tp + held_cur.fp);
    out->recall_current = ratio(held_cur.tp, held_cur.tp + held_cur.fn);
    out->precision_fitted = ratio(held_fit.tp, held_fit.tp + held_fit.fp);
    out->recall_fitted = ratio(held_fit.tp, held_fit.tp + held_fit.fn);
    for (size_t i = 0; i < n; i++) {
        int now = items[i].present[current], then = items[i].present[k];
        if (now && !then) {
            out->lost++;
            out->false_dropped += items[i].truth == 0;
            out->true_dropped += items[i].truth == 1;
        } else if (!now && then) {
            out->gained++;
            out->false_added += items[i].truth == 0;
        }
    }
    return 0;
}

static json_t *num_or_null(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

char *aitag_threshold_fit_json(const char *label, const struct aitag_threshold_fit *f)
{
    json_t *o = json_pack(
        "{s:s, s:f, s:f, s:i, s:i, s:i, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:{s:o, s:o, s:o, "
        "s:o}}",
        "label", label, "current", round((double)(f->current * 1000)) / 1000, "proposed",
        round((double)(f->proposed * 1000)) / 1000, "decided", f->decided, "accepted", f->accepted,
        "rejected", f->rejected, "f1_current", f->f1_current, "f1_proposed", f->f1_proposed,
        "gained", f->gained, "lost", f->lost, "false_dropped", f->false_dropped, "true_dropped",
        f->true_dropped, "false_added", f->false_added, "held_out", "precision_current",
        num_or_null(f->precision_current), "recall_current", num_or_null(f->recall_current),
        "precision_fitted", num_or_null(f->precision_fitted), "recall_fitted",
        num_or_null(f->recall_fitted));
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;

    json_decref(o);
    return text;
}
