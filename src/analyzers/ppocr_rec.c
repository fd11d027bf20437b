/*
 * ppocr_rec.c - PaddleOCR text line recognition: cropping lines, batching them and CTC
 * decoding.
 *
 * The recogniser (SVTR-LCNet, PP-OCRv4) reads a line image 48 rows high and any width, and
 * outputs a softmax over blank + 6,623 characters + space for every 8 columns. PaddleOCR crops
 * each detected quad with a perspective warp and then resizes it; we do both in one pass by
 * sampling the quad's parallelogram straight into the 48-row buffer (bilinear, supersampled
 * when shrinking so small glyph strokes are not aliased away). Lines are sorted by width and
 * batched with lines of similar width, so the padding each batch needs stays small: model time
 * is proportional to the padded width, and one run of several lines costs less than several
 * runs. Decoding is greedy CTC, which is what PaddleOCR ships for this model.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "text_int.h"

struct ppocr_rec_params ppocr_rec_default_params(void)
{
    struct ppocr_rec_params p = {48, 0, 3200, 8, 1.5f};
    return p;
}

int ppocr_scratch_reserve(struct ppocr_scratch *s, size_t floats, size_t bytes, size_t g_floats)
{
    if (floats > s->f_cap) {
        float *f = realloc(s->f, floats * sizeof *f);
        if (!f)
            return AITAG_ERR_NOMEM;
        s->f = f;
        s->f_cap = floats;
    }
    if (bytes > s->u8_cap) {
        uint8_t *u = realloc(s->u8, bytes);
        if (!u)
            return AITAG_ERR_NOMEM;
        s->u8 = u;
        s->u8_cap = bytes;
    }
    if (g_floats > s->g_cap) {
        float *g = realloc(s->g, g_floats * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        s->g = g;
        s->g_cap = g_floats;
    }
    return 0;
}

void ppocr_scratch_free(struct ppocr_scratch *s)
{
    free(s->f);
    free(s->u8);
    free(s->g);
    memset(s, 0, sizeof *s);
}

/* Origin and the two edge vectors of the parallelogram to read: along the text (a) and down
 * the glyphs (b). Tall quads are read rotated 90 degrees counter-clockwise, like PaddleOCR's
 * np.rot90 of crops whose height is >= 1.5x their width. */
static void quad_frame(const struct ppocr_quad *q, float o[2], float a[2], float b[2])
{
    float w, h;

    ppocr_quad_size(q, &w, &h);
    if (h >= 1.5f * w && w > 0) {
        o[0] = q->x[1], o[1] = q->y[1];
        a[0] = q->x[2] - q->x[1], a[1] = q->y[2] - q->y[1];
        b[0] = q->x[0] - q->x[1], b[1] = q->y[0] - q->y[1];
    } else {
        o[0] = q->x[0], o[1] = q->y[0];
        a[0] = q->x[1] - q->x[0], a[1] = q->y[1] - q->y[0];
        b[0] = q->x[3] - q->x[0], b[1] = q->y[3] - q->y[0];
    }
}

int ppocr_line_width(const struct ppocr_quad *q, int out_h, int max_w)
{
    float o[2], a[2], b[2], la, lb;
    double w;

    quad_frame(q, o, a, b);
    la = hypotf(a[0], a[1]);
    lb = hypotf(b[0], b[1]);
    if (!(lb > 0) || !(la > 0))
        return 1;
    w = ceil((double)out_h * la / lb);
    if (w > max_w)
        w = max_w;
    return w < 1 ? 1 : (int)w;
}

/* Bilinear sample at continuous (x, y), pixel i covering [i, i + 1); edges clamp. */
static void sample(const uint8_t *rgb, int w, int h, int stride, float x, float y, float acc[3])
{
    float fx = x - 0.5f, fy = y - 0.5f;
    int x0 = (int)floorf(fx), y0 = (int)floorf(fy);
    float ax = fx - x0, ay = fy - y0;
    int x1 = x0 + 1, y1 = y0 + 1;

    x0 = x0 < 0 ? 0 : x0 >= w ? w - 1 : x0;
    x1 = x1 < 0 ? 0 : x1 >= w ? w - 1 : x1;
    y0 = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0;
    y1 = y1 < 0 ? 0 : y1 >= h ? h - 1 : y1;
    const uint8_t *r0 = rgb + (size_t)y0 * stride, *r1 = rgb + (size_t)y1 * stride;
    for (int c = 0; c < 3; c++) {
        float top = r0[3 * x0 + c] + ax * (r0[3 * x1 + c] - r0[3 * x0 + c]);
        float bot = r1[3 * x0 + c] + ax * (r1[3 * x1 + c] - r1[3 * x0 + c]);
        acc[c] += top + ay * (bot - top);
    }
}

static int taps_for(float ratio)
{
    int n = (int)ceilf(ratio - 0.25f);
    return n < 1 ? 1 : n > 4 ? 4 : n;
}

void ppocr_crop_line(const uint8_t *rgb, int w, int h, int stride, const struct ppocr_quad *q,
                     int out_w, int out_h, uint8_t *dst)
{
    float o[2], a[2], b[2];

    quad_frame(q, o, a, b);
    int tu = taps_for(hypotf(a[0], a[1]) / out_w), tv = taps_for(hypotf(b[0], b[1]) / out_h);
    float inv = 1.0f / (float)(tu * tv);
    for (int v = 0; v < out_h; v++) {
        uint8_t *row = dst + (size_t)v * out_w * 3;
        for (int u = 0; u < out_w; u++) {
            float acc[3] = {0, 0, 0};
            for (int sv = 0; sv < tv; sv++) {
                float t = (v + (sv + 0.5f) / tv) / out_h;
                for (int su = 0; su < tu; su++) {
                    float s = (u + (su + 0.5f) / tu) / out_w;
                    sample(rgb, w, h, stride, o[0] + s * a[0] + t * b[0],
                           o[1] + s * a[1] + t * b[1], acc);
                }
            }
            for (int c = 0; c < 3; c++)
                row[3 * u + c] = (uint8_t)(acc[c] * inv + 0.5f);
        }
    }
}

/* Appends label bytes, folding fullwidth ASCII (U+FF01..U+FF5E) and U+3000 to ASCII: the
 * Chinese dictionary has both forms and the model picks either for Latin punctuation. */
static size_t put_label(char *dst, const char *label)
{
    const unsigned char *u = (const unsigned char *)label;
    size_t len = strlen(label);

    if (len == 0) {
        dst[0] = ' ';
        return 1;
    }
    if (len == 3 && u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) {
        dst[0] = ' ';
        return 1;
    }
    if (len == 3 && u[0] == 0xEF && (u[1] == 0xBC || u[1] == 0xBD)) {
        unsigned cp = ((u[0] & 0x0Fu) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            dst[0] = (char)(cp - 0xFEE0);
            return 1;
        }
    }
    memcpy(dst, label, len);
    return len;
}

static int is_word_char(const char *label)
{
    unsigned char c = (unsigned char)label[0];
    return label[0] && !label[1] && c < 0x80 && (isalnum(c) || strchr("'&-.,!?:;%$#@\"", c));
}

/* Longest run of empty columns in [x0, x1). */
static int longest_gap(const uint8_t *ink, int ink_w, int x0, int x1)
{
    int best = 0, run = 0;

    if (x0 < 0)
        x0 = 0;
    if (x1 > ink_w)
        x1 = ink_w;
    for (int x = x0; x < x1; x++) {
        run = ink[x] ? 0 : run + 1;
        best = run > best ? run : best;
    }
    return best;
}

int ppocr_ctc_decode_spaced(const float *probs, int steps, int classes, const char *const *labels,
                            size_t n_labels, const uint8_t *ink, int ink_w, int step_px,
                            float min_gap, char **text, float *conf)
{
    size_t cap, len = 0, kept = 0;
    double sum = 0;
    int prev = -1, last_step = -1;
    char *buf;

    *text = NULL;
    *conf = 0;
    if (steps < 0 || classes < 1 || (size_t)classes < n_labels + 1)
        return AITAG_ERR_INVALID;
    cap = (size_t)steps * 4 + 16; /* most labels are one CJK character; grown when not */
    buf = malloc(cap);
    if (!buf)
        return AITAG_ERR_NOMEM;
    for (int t = 0; t < steps; t++) {
        const float *p = probs + (size_t)t * classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (p[c] > p[best])
                best = c;
        if (best != 0 && best != prev && (size_t)best <= n_labels + 1) {
            /* class n_labels + 1 is the space PaddleOCR appends to the dictionary */
            const char *label = (size_t)best <= n_labels ? labels[best - 1] : " ";
            size_t l = strlen(label);
            int word = is_word_char(label);
            if (len + l + 3 > cap) {
                char *grown = realloc(buf, cap * 2 + l + 3);
                if (!grown) {
                    free(buf);
                    return AITAG_ERR_NOMEM;
                }
                buf = grown;
                cap = cap * 2 + l + 3;
            }
            if (ink && word && last_step >= 0 && len > 0 && buf[len - 1] != ' ' &&
                longest_gap(ink, ink_w, last_step * step_px + step_px / 2,
                            t * step_px + step_px / 2) >= min_gap)
                buf[len++] = ' ';
            len += put_label(buf + len, label);
            last_step = word ? t : -1;
            sum += p[best];
            kept++;
        }
        prev = best;
    }
    buf[len] = '\0';
    *text = buf;
    *conf = kept ? (float)(sum / kept) : 0.0f;
    return 0;
}

int ppocr_ctc_decode(const float *probs, int steps, int classes, const char *const *labels,
                     size_t n_labels, char **text, float *conf)
{
    return ppocr_ctc_decode_spaced(probs, steps, classes, labels, n_labels, NULL, 0, 0, 0, text,
                                   conf);
}

static int cmp_u8(const void *a, const void *b)
{
    return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b;
}

int ppocr_ink_columns(const uint8_t *rgb, int w, int h, uint8_t *ink)
{
    enum { MAX_BORDER = 4 * 2048 };
    uint8_t border[MAX_BORDER];
    int nb = 0, even = 0, bg, thr;
    const int rows[4] = {0, 1, h - 2, h - 1};

    if (w <= 0 || h < 8)
        return 0;
    for (int r = 0; r < 4; r++)
        for (int x = 0; x < w && nb < MAX_BORDER; x++) {
            const uint8_t *px = rgb + ((size_t)rows[r] * w + x) * 3;
            border[nb++] = (uint8_t)((px[0] * 77 + px[1] * 150 + px[2] * 29) >> 8);
        }
    qsort(border, (size_t)nb, 1, cmp_u8);
    bg = border[nb / 2];
    thr = 64;
    for (int i = 0; i < nb; i++)
        even += abs(border[i] - bg) < thr / 2;
    if (even < nb * 9 / 10)
        return 0; /* busy background: columns can't be told apart */
    for (int x = 0; x < w; x++) {
        int n = 0;
        for (int y = h / 10; y < h - h / 10; y++) {
            const uint8_t *px = rgb + ((size_t)y * w + x) * 3;
            int g = (px[0] * 77 + px[1] * 150 + px[2] * 29) >> 8;
            n += abs(g - bg) >= thr;
        }
        ink[x] = n >= 2;
    }
    return 1;
}

struct rec_item {
    size_t line; /* index into the caller's lines */
    int width;   /* input columns after scaling to the model's height */
};

static int item_by_width(const void *a, const void *b)
{
    const struct rec_item *ia = a, *ib = b;
    if (ia->width != ib->width)
        return (ia->width > ib->width) - (ia->width < ib->width);
    return (ia->line > ib->line) - (ia->line < ib->line);
}

/* Crops, normalises and runs one batch items[0..nb), whose widest line is the last. */
static int rec_batch(struct aitag_model *rec, const struct aitag_view *v, struct ppocr_line *lines,
                     const struct rec_item *items, size_t nb, const struct ppocr_rec_params *p,
                     struct ppocr_scratch *s, char *err, size_t errlen)
{
    const char *const *labels;
    size_t n_labels = 0, n_out = 0;
    struct aitag_tensor out[2];
    int hgt = p->height, bw = items[nb - 1].width, rc;
    uint8_t *inks = NULL;

    if (bw < p->min_width)
        bw = p->min_width;
    bw = (bw + 7) / 8 * 8;
    size_t plane = (size_t)hgt * bw, count = nb * 3 * plane;
    size_t widest = (size_t)items[nb - 1].width;
    rc = ppocr_scratch_reserve(s, count, widest * hgt * 3, widest * hgt * 3);
    if (rc < 0) {
        aitag_fmt(err, errlen, "text: out of memory for a batch of %zu lines", nb);
        return rc;
    }
    /* Zero is the normalised mid-grey PaddleOCR pads with. */
    memset(s->f, 0, count * sizeof *s->f);
    inks = calloc(nb, (size_t)bw + 1);
    if (!inks) {
        aitag_fmt(err, errlen, "text: out of memory for a batch of %zu lines", nb);
        return AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; i < nb; i++) {
        int lw = items[i].width;
        ppocr_crop_line(v->rgb, v->width, v->height, v->stride, &lines[items[i].line].q, lw, hgt,
                        s->u8);
        /* byte 0 says whether the profile is usable; the columns follow */
        inks[i * ((size_t)bw + 1)] = (uint8_t)ppocr_ink_columns(s->u8, lw, hgt,
                                                                 inks + i * ((size_t)bw + 1) + 1);
        aitag_model_fill_input_rgb(rec, s->u8, lw, hgt, lw * 3, s->g);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < hgt; y++)
                memcpy(s->f + (i * 3 + c) * plane + (size_t)y * bw,
                       s->g + ((size_t)c * hgt + y) * lw, sizeof(float) * (size_t)lw);
    }
    struct aitag_tensor in = {s->f, {(int64_t)nb, 3, hgt, bw}, 4, count};
    rc = aitag_model_run(rec, &in, out, 2, &n_out, err, errlen);
    if (rc < 0)
        goto out;
    labels = aitag_model_labels(rec, &n_labels);
    if (n_out < 1 || out[0].ndim != 3 || out[0].shape[0] != (int64_t)nb ||
        out[0].shape[2] < (int64_t)n_labels + 1 || !labels) {
        aitag_fmt(err, errlen, "text: %s: unexpected output shape or no labels",
                  aitag_model_name(rec));
        rc = AITAG_ERR_MODEL;
        goto out;
    }
    int steps = (int)out[0].shape[1], classes = (int)out[0].shape[2];
    for (size_t i = 0; i < nb; i++) {
        struct ppocr_line *l = &lines[items[i].line];
        free(l->text);
        l->text = NULL;
        const uint8_t *ink = inks + i * ((size_t)bw + 1);
        rc = ppocr_ctc_decode_spaced(out[0].data + i * (size_t)steps * classes, steps, classes,
                                     labels, n_labels, ink[0] ? ink + 1 : NULL, items[i].width,
                                     steps > 0 ? bw / steps : 8, 0.33f * (float)hgt, &l->text,
                                     &l->conf);
        if (rc < 0) {
            aitag_fmt(err, errlen, "text: decoding failed: %s", aitag_strerror(rc));
            goto out;
        }
    }
out:
    free(inks);
    aitag_tensors_release(out, n_out);
    return rc;
}

int ppocr_rec_run(struct aitag_model *rec, const struct aitag_view *v, struct ppocr_line *lines,
                  size_t n, const struct ppocr_rec_params *p, struct ppocr_scratch *s, char *err,
                  size_t errlen)
{
    struct rec_item *items;
    int rc = 0;

    if (n == 0)
        return 0;
    items = malloc(n * sizeof *items);
    if (!items) {
        aitag_fmt(err, errlen, "text: out of memory");
        return AITAG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].line = i;
        items[i].width = ppocr_line_width(&lines[i].q, p->height, p->max_width);
    }
    qsort(items, n, sizeof *items, item_by_width);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && j - i < (size_t)p->max_batch &&
               items[j].width <=
                   p->max_ratio * (items[i].width > p->min_width ? items[i].width : p->min_width))
            j++;
        rc = rec_batch(rec, v, lines, items + i, j - i, p, s, err, errlen);
        if (rc < 0)
            break;
        i = j;
    }
    free(items);
    return rc;
}
