/*
 * ppocr_det.c - PaddleOCR DB text detection: running the detector and turning its
 * probability map into rotated line boxes, plus the reading order of the lines found.
 *
 * The detector (DBNet, PP-OCRv4) outputs one probability per input pixel. PaddleOCR's
 * DBPostProcess binarises it, traces contours with OpenCV, fits a minimum-area rectangle to each,
 * scores the rectangle by the mean probability inside it and grows ("unclips") it by
 * area * ratio / perimeter, because the model is trained on shrunk text kernels. We do the same
 * without OpenCV: an 8-connected flood fill whose queue doubles as each component's pixel list,
 * the convex hull of the component from its leftmost and rightmost pixel per row (already sorted,
 * so the monotone chain needs no sort), rotating calipers over the hull edges for the rectangle,
 * and the growth of a rectangle offset with round joins, which is again a rectangle, d larger on
 * every side. Coordinates are continuous (pixel i covers [i, i+1)), so boxes map back to the
 * source exactly through a view's scale and pad.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "text_int.h"

struct ppocr_db_params ppocr_db_default_params(void)
{
    struct ppocr_db_params p = {0.3f, 0.6f, 1.5f, 3, 1000};
    return p;
}

struct comp {
    int start, count; /* range in the pixel list */
    int x0, y0, x1, y1;
};

struct rect {
    float cx, cy;
    float ux, uy; /* unit axis along the width, pointing right-ish */
    float w, h;   /* full extents along u and along (-uy, ux) */
};

static int comp_by_size_desc(const void *a, const void *b)
{
    const struct comp *ca = a, *cb = b;
    return (ca->count < cb->count) - (ca->count > cb->count);
}

static double cross(const float *o, const float *a, const float *b)
{
    return (double)(a[0] - o[0]) * (b[1] - o[1]) - (double)(a[1] - o[1]) * (b[0] - o[0]);
}

/* Monotone chain over pts (n x 2, sorted by y then x); writes the hull counter-clockwise in
 * image orientation into hull (room for n + 1 points) and returns its size. */
static int convex_hull(const float *pts, int n, float *hull)
{
    int k = 0;

    if (n < 3) {
        memcpy(hull, pts, sizeof(float) * 2 * (size_t)n);
        return n;
    }
    for (int i = 0; i < n; i++) {
        while (k >= 2 && cross(&hull[2 * (k - 2)], &hull[2 * (k - 1)], &pts[2 * i]) <= 0)
            k--;
        memcpy(&hull[2 * k++], &pts[2 * i], sizeof(float) * 2);
    }
    for (int i = n - 2, lower = k + 1; i >= 0; i--) {
        while (k >= lower && cross(&hull[2 * (k - 2)], &hull[2 * (k - 1)], &pts[2 * i]) <= 0)
            k--;
        memcpy(&hull[2 * k++], &pts[2 * i], sizeof(float) * 2);
    }
    return k - 1;
}

/* Minimum-area enclosing rectangle of a convex polygon: one side lies on a hull edge. */
static void min_area_rect(const float *hull, int n, struct rect *r)
{
    double best = INFINITY;

    memset(r, 0, sizeof *r);
    r->ux = 1;
    if (n == 1) {
        r->cx = hull[0];
        r->cy = hull[1];
        return;
    }
    for (int i = 0; i < n; i++) {
        const float *a = &hull[2 * i], *b = &hull[2 * ((i + 1) % n)];
        double ex = b[0] - a[0], ey = b[1] - a[1], len = sqrt(ex * ex + ey * ey);
        double lo_u = INFINITY, hi_u = -INFINITY, lo_v = INFINITY, hi_v = -INFINITY;

        if (len < 1e-9)
            continue;
        ex /= len;
        ey /= len;
        for (int j = 0; j < n; j++) {
            double px = hull[2 * j] - a[0], py = hull[2 * j + 1] - a[1];
            double u = px * ex + py * ey, v = -px * ey + py * ex;
            lo_u = fmin(lo_u, u);
            hi_u = fmax(hi_u, u);
            lo_v = fmin(lo_v, v);
            hi_v = fmax(hi_v, v);
        }
        if ((hi_u - lo_u) * (hi_v - lo_v) < best - 1e-9) {
            double cu = (lo_u + hi_u) / 2, cv = (lo_v + hi_v) / 2;
            best = (hi_u - lo_u) * (hi_v - lo_v);
            r->cx = (float)(a[0] + cu * ex - cv * ey);
            r->cy = (float)(a[1] + cu * ey + cv * ex);
            r->ux = (float)ex;
            r->uy = (float)ey;
            r->w = (float)(hi_u - lo_u);
            r->h = (float)(hi_v - lo_v);
        }
    }
    /* Make u the axis nearest horizontal, pointing right; v = (-uy, ux) then points down. */
    if (fabsf(r->ux) < fabsf(r->uy)) {
        float t = r->w;
        float ux = -r->uy, uy = r->ux;
        r->ux = ux;
        r->uy = uy;
        r->w = r->h;
        r->h = t;
    }
    if (r->ux < 0) {
        r->ux = -r->ux;
        r->uy = -r->uy;
    }
}

static void rect_quad(const struct rect *r, struct ppocr_quad *q)
{
    float hx = r->ux * r->w / 2, hy = r->uy * r->w / 2;  /* half width along u */
    float vx = -r->uy * r->h / 2, vy = r->ux * r->h / 2; /* half height along v */

    q->x[0] = r->cx - hx - vx, q->y[0] = r->cy - hy - vy;
    q->x[1] = r->cx + hx - vx, q->y[1] = r->cy + hy - vy;
    q->x[2] = r->cx + hx + vx, q->y[2] = r->cy + hy + vy;
    q->x[3] = r->cx - hx + vx, q->y[3] = r->cy - hy + vy;
}

/* Mean probability over the pixels whose centres lie inside r (PaddleOCR's "fast" score,
 * which fills the rectangle's polygon). */
static float rect_score(const float *prob, int w, int h, const struct rect *r)
{
    struct ppocr_quad q;
    float xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    float hw = r->w / 2 + 1e-3f, hh = r->h / 2 + 1e-3f;
    double sum = 0;
    long cnt = 0;

    rect_quad(r, &q);
    for (int i = 0; i < 4; i++) {
        xmin = fminf(xmin, q.x[i]), xmax = fmaxf(xmax, q.x[i]);
        ymin = fminf(ymin, q.y[i]), ymax = fmaxf(ymax, q.y[i]);
    }
    int x0 = (int)floorf(xmin), x1 = (int)ceilf(xmax), y0 = (int)floorf(ymin);
    int y1 = (int)ceilf(ymax);
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > w ? w : x1, y1 = y1 > h ? h : y1;
    for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++) {
            float dx = x + 0.5f - r->cx, dy = y + 0.5f - r->cy;
            float u = dx * r->ux + dy * r->uy, v = -dx * r->uy + dy * r->ux;
            if (fabsf(u) <= hw && fabsf(v) <= hh) {
                sum += prob[(size_t)y * w + x];
                cnt++;
            }
        }
    }
    return cnt ? (float)(sum / cnt) : 0.0f;
}

/* 8-connected components of the binary map bin (cleared as it is visited). px receives the
 * pixel indices, component after component. */
static int label_components(uint8_t *bin, int w, int h, int *px, struct comp **out, size_t *n_out)
{
    struct comp *comps = NULL, *grown;
    size_t n = 0, cap = 0;
    int top = 0;

    for (int i = 0; i < w * h; i++) {
        if (!bin[i])
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            grown = realloc(comps, cap * sizeof *comps);
            if (!grown) {
                free(comps);
                return AITAG_ERR_NOMEM;
            }
            comps = grown;
        }
        struct comp *c = &comps[n++];
        c->start = top;
        c->x0 = c->x1 = i % w;
        c->y0 = c->y1 = i / w;
        bin[i] = 0;
        px[top++] = i;
        for (int head = c->start; head < top; head++) {
            int x = px[head] % w, y = px[head] / w;
            c->x0 = x < c->x0 ? x : c->x0, c->x1 = x > c->x1 ? x : c->x1;
            c->y0 = y < c->y0 ? y : c->y0, c->y1 = y > c->y1 ? y : c->y1;
            for (int dy = -1; dy <= 1; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= h)
                    continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx, j = yy * w + xx;
                    if (xx < 0 || xx >= w || !bin[j])
                        continue;
                    bin[j] = 0;
                    px[top++] = j;
                }
            }
        }
        c->count = top - c->start;
    }
    *out = comps;
    *n_out = n;
    return 0;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int ppocr_db_boxes(const float *prob, int w, int h, const struct ppocr_db_params *p,
                   struct ppocr_det_box **boxes, size_t *n)
{
    uint8_t *bin = NULL;
    int *px = NULL, *row_lo = NULL, *row_hi = NULL;
    float *pts = NULL, *hull = NULL;
    struct comp *comps = NULL;
    struct ppocr_det_box *out = NULL;
    size_t n_comps = 0, n_out = 0;
    int rc = 0;

    *boxes = NULL;
    *n = 0;
    if (w <= 0 || h <= 0 || (size_t)w * h > (size_t)1 << 28)
        return AITAG_ERR_INVALID;
    bin = malloc((size_t)w * h);
    px = malloc(sizeof(int) * (size_t)w * h);
    row_lo = malloc(sizeof(int) * (size_t)h);
    row_hi = malloc(sizeof(int) * (size_t)h);
    pts = malloc(sizeof(float) * 4 * ((size_t)h + 1));
    hull = malloc(sizeof(float) * (8 * ((size_t)h + 1) + 4)); /* generous: 2 * points + 2 */
    if (!bin || !px || !row_lo || !row_hi || !pts || !hull) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < (size_t)w * h; i++)
        bin[i] = prob[i] > p->thresh;
    rc = label_components(bin, w, h, px, &comps, &n_comps);
    if (rc < 0)
        goto out;
    if (n_comps > (size_t)p->max_candidates) {
        qsort(comps, n_comps, sizeof *comps, comp_by_size_desc);
        n_comps = (size_t)p->max_candidates;
    }
    if (n_comps) {
        out = malloc(n_comps * sizeof *out);
        if (!out) {
            rc = AITAG_ERR_NOMEM;
            goto out;
        }
    }
    for (size_t c = 0; c < n_comps; c++) {
        const struct comp *cp = &comps[c];
        int rows = cp->y1 - cp->y0 + 1, np = 0, nh;
        struct rect r;

        if (cp->x1 - cp->x0 + 1 < p->min_size || rows < p->min_size)
            continue; /* a speck or a hairline: not worth fitting */
        for (int y = 0; y < rows; y++)
            row_lo[y] = w, row_hi[y] = -1;
        for (int k = cp->start; k < cp->start + cp->count; k++) {
            int x = px[k] % w, y = px[k] / w - cp->y0;
            row_lo[y] = x < row_lo[y] ? x : row_lo[y];
            row_hi[y] = x > row_hi[y] ? x : row_hi[y];
        }
        /* Hull points: the pixels' corners, so that the rectangle covers the pixels. At each
         * corner level Y only the leftmost and rightmost corners of rows Y - 1 and Y can be on
         * the hull, and emitting them level by level keeps the (y, x) order. */
        for (int y = 0; y <= rows; y++) {
            int lo = w + 1, hi = -1;
            if (y > 0)
                lo = row_lo[y - 1], hi = row_hi[y - 1] + 1;
            if (y < rows) {
                lo = row_lo[y] < lo ? row_lo[y] : lo;
                hi = row_hi[y] + 1 > hi ? row_hi[y] + 1 : hi;
            }
            pts[2 * np] = (float)lo, pts[2 * np + 1] = (float)(cp->y0 + y), np++;
            pts[2 * np] = (float)hi, pts[2 * np + 1] = (float)(cp->y0 + y), np++;
        }
        nh = convex_hull(pts, np, hull);
        min_area_rect(hull, nh, &r);
        if (fminf(r.w, r.h) < (float)p->min_size)
            continue;
        float score = rect_score(prob, w, h, &r);
        if (score < p->box_thresh)
            continue;
        float d = r.w * r.h * p->unclip_ratio / (2 * (r.w + r.h));
        r.w += 2 * d;
        r.h += 2 * d;
        if (fminf(r.w, r.h) < (float)(p->min_size + 2))
            continue;
        struct ppocr_det_box *b = &out[n_out++];
        rect_quad(&r, &b->q);
        for (int i = 0; i < 4; i++) {
            b->q.x[i] = clampf(b->q.x[i], 0, (float)w);
            b->q.y[i] = clampf(b->q.y[i], 0, (float)h);
        }
        b->score = score;
    }
    if (n_out == 0) {
        free(out);
        out = NULL;
    }
out:
    free(hull);
    free(pts);
    free(row_hi);
    free(row_lo);
    free(px);
    free(bin);
    free(comps);
    if (rc < 0) {
        free(out);
        return rc;
    }
    *boxes = out;
    *n = n_out;
    return 0;
}

int ppocr_det_run(struct aitag_model *det, const struct aitag_view *v,
                  const struct ppocr_db_params *p, struct ppocr_scratch *s,
                  struct ppocr_det_box **boxes, size_t *n, char *err, size_t errlen)
{
    size_t count = (size_t)v->width * v->height * 3, n_out = 0;
    struct aitag_tensor out[2];
    int rc;

    *boxes = NULL;
    *n = 0;
    rc = ppocr_scratch_reserve(s, count, 0, 0);
    if (rc < 0) {
        aitag_fmt(err, errlen, "text: out of memory for a %dx%d detector input", v->width,
                  v->height);
        return rc;
    }
    aitag_model_fill_input(det, v, s->f);
    struct aitag_tensor in = {s->f, {1, 3, v->height, v->width}, 4, count};
    rc = aitag_model_run(det, &in, out, 2, &n_out, err, errlen);
    if (rc < 0)
        return rc;
    if (n_out < 1 || out[0].ndim != 4 || out[0].shape[0] != 1 || out[0].shape[1] != 1 ||
        out[0].shape[2] != v->height || out[0].shape[3] != v->width) {
        aitag_fmt(err, errlen, "text: %s: unexpected output shape for a %dx%d input",
                  aitag_model_name(det), v->width, v->height);
        rc = AITAG_ERR_MODEL;
        goto out;
    }
    rc = ppocr_db_boxes(out[0].data, v->width, v->height, p, boxes, n);
    if (rc < 0)
        aitag_fmt(err, errlen, "text: box extraction failed: %s", aitag_strerror(rc));
out:
    aitag_tensors_release(out, n_out);
    return rc;
}

void ppocr_quad_size(const struct ppocr_quad *q, float *w, float *h)
{
    *w = hypotf(q->x[1] - q->x[0], q->y[1] - q->y[0]);
    *h = hypotf(q->x[3] - q->x[0], q->y[3] - q->y[0]);
}

static float quad_cy(const struct ppocr_quad *q)
{
    return (q->y[0] + q->y[1] + q->y[2] + q->y[3]) / 4;
}

static float quad_left(const struct ppocr_quad *q)
{
    return fminf(fminf(q->x[0], q->x[1]), fminf(q->x[2], q->x[3]));
}

static float quad_height(const struct ppocr_quad *q)
{
    float ymin = fminf(fminf(q->y[0], q->y[1]), fminf(q->y[2], q->y[3]));
    float ymax = fmaxf(fmaxf(q->y[0], q->y[1]), fmaxf(q->y[2], q->y[3]));
    return ymax - ymin;
}

static int line_by_cy(const void *a, const void *b)
{
    float ya = quad_cy(&((const struct ppocr_line *)a)->q);
    float yb = quad_cy(&((const struct ppocr_line *)b)->q);
    return (ya > yb) - (ya < yb);
}

static int line_by_left(const void *a, const void *b)
{
    float xa = quad_left(&((const struct ppocr_line *)a)->q);
    float xb = quad_left(&((const struct ppocr_line *)b)->q);
    return (xa > xb) - (xa < xb);
}

void ppocr_reading_order(struct ppocr_line *lines, size_t n)
{
    size_t i = 0;

    if (n < 2)
        return;
    qsort(lines, n, sizeof *lines, line_by_cy);
    while (i < n) {
        float cy = quad_cy(&lines[i].q), hh = quad_height(&lines[i].q);
        size_t j = i + 1;
        /* A row: lines whose centres sit within half a (mean) line height of its top line. */
        while (j < n && quad_cy(&lines[j].q) - cy <= 0.25f * (hh + quad_height(&lines[j].q)))
            j++;
        qsort(lines + i, j - i, sizeof *lines, line_by_left);
        i = j;
    }
}

void ppocr_lines_free(struct ppocr_line *lines, size_t n)
{
    if (!lines)
        return;
    for (size_t i = 0; i < n; i++)
        free(lines[i].text);
    free(lines);
}
