/*
 * shots.c - shot boundaries from what decoding yields anyway: the packets demuxed and small
 * grey views of the frames decoded.
 *
 * Two kinds of cue, because a sampler may decode every frame of a stretch (dense: exact
 * sampling on long GOPs decodes nearly all reference frames) or only a few frames far apart
 * (keyframes, adaptive sampling):
 *   packets  every video packet is demuxed whatever is decoded. Encoders like x264 put a
 *            keyframe at a scene cut, so a keyframe off the periodic spacing (the longest
 *            spacing, seen at least twice: the encoder's keyint) is a cut candidate; when no
 *            spacing repeats, every keyframe after the first is one (shots shorter than the
 *            GOP). Keyframes of a fixed-GOP encoder all lie on the period and say nothing;
 *            neither do those of an intra-only stream (MJPEG: a keyframe every frame).
 *   frames   each decoded frame is reduced to a 32x18 grey thumbnail (block means: grain
 *            averages out) and a 32-bin histogram. Between frames that follow each other
 *            closely (at most a few frame durations apart: skipped non-reference frames do not
 *            break the stretch): a cut is a picture or histogram difference far above the
 *            local median of its neighbours (motion raises the median, a cut stands out; a
 *            flash, back to the old picture a frame later, is not a cut). A fade is a run of
 *            black (or white) flat frames: the boundary is its middle. A dissolve is a window
 *            of about 0.8 s whose ends differ a lot, whose steps are all small, whose middle
 *            frame is close to the mean of its ends (a cross-fade is linear, a fast pan is
 *            not), and whose middle has less contrast than its ends: a blend of two pictures
 *            has a standard deviation below the mean of theirs (equal only when they are the
 *            same picture), while a slow zoom or pan over one picture, linear enough on the
 *            thumbnails, keeps its contrast (measured on the sampling bench's grainy zooms and
 *            pans, where windows without the dip were 4 false dissolves a minute); the
 *            boundary is the most different window of a run of such windows.
 * Frame cues win where frames are dense; elsewhere keyframe candidates stand (and none is
 * kept within a second of a fade or dissolve, where encoders put keyframes too). A keyframe on
 * the period is still a cut when a picture was decoded at it and the picture decoded last
 * before it, at most JUMP_MAX_S earlier, has a histogram far from it: cuts on a short keyframe
 * grid (keyint 2 s), or shots whose length repeats so that it looks like the period, are seen
 * with sparse sampling too (keyframes only, or exact sampling seeking from keyframe to
 * keyframe). Boundaries
 * closer than MIN_SHOT_S keep the more confident one. Memory: a record of a few numbers per
 * frame and per packet, and a ring of the last thumbnails (no frame is kept).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixdesc.h>

#include "media_int.h"

#define TW 32
#define TH 18
#define NBINS 32
#define RING 96
#define DENSE_FRAMES 4.5 /* frames at most this many frame durations apart are contiguous */
#define MIN_SHOT_S 0.4   /* boundaries closer than this merge */
#define FLAT_STD 12.0    /* a black or white frame is this flat (grey levels) */
#define BLACK_MEAN 24.0
#define WHITE_MEAN 232.0
#define CUT_MIN_PIX 0.09  /* thumbnail mean absolute difference, 0..1 */
#define CUT_MIN_HIST 0.30 /* half the L1 histogram distance, 0..1 */
#define DISSOLVE_MIN_FAR 0.07
#define DISSOLVE_MAX_LIN 0.30 /* middle vs mean of the ends, relative to the ends' difference */
#define DISSOLVE_MAX_DIP 0.92 /* the middle's std over the mean of the ends' std */
#define KEY_NEAR_GRADUAL_S 1.0
#define JUMP_MAX_S 2.05 /* a picture this far before a periodic keyframe tells a cut at it */

struct thumb {
    double t;
    uint8_t px[TW * TH];
    float hist[NBINS];
};

struct frec {
    double t;
    float mean, std;
    float dpix, dhist;    /* to the previous contiguous frame; < 0: none */
    float dflash;         /* previous vs next frame: small when this one was a flash */
    float far, lin, step; /* dissolve window centred here; far < 0: none */
    float dip;            /* its middle's std / the mean of its ends' std */
    float djump;          /* first of a stretch: histogram distance to the frame decoded last
                             before it, at most JUMP_MAX_S earlier; < 0: none */
    int run;              /* contiguous stretch id */
};

struct prec {
    double t;
    int size, key;
};

struct cand {
    double t;
    int edge;
    float conf;
};

struct aitag_shot_detector {
    double fps, frame_dur;
    int win; /* dissolve half-window, frames */
    struct frec *fr;
    size_t n_fr, cap_fr;
    struct prec *pk;
    size_t n_pk, cap_pk;
    struct thumb ring[RING]; /* the last frames of the current run */
    size_t ring_n;           /* thumbs in the ring (of this run), at most RING */
    size_t ring_head;        /* index of the next slot */
    int run;
    int failed; /* out of memory: finish says so */
};

int aitag_shot_detector_new(double fps, struct aitag_shot_detector **out)
{
    struct aitag_shot_detector *d = calloc(1, sizeof *d);

    *out = NULL;
    if (!d)
        return AITAG_ERR_NOMEM;
    d->fps = fps > 0 && fps < 1000 ? fps : 25.0;
    d->frame_dur = 1.0 / d->fps;
    d->win = (int)lround(0.4 * d->fps);
    if (d->win < 2)
        d->win = 2;
    if (d->win > RING / 2 - 1)
        d->win = RING / 2 - 1;
    *out = d;
    return 0;
}

void aitag_shot_detector_free(struct aitag_shot_detector *d)
{
    if (!d)
        return;
    free(d->fr);
    free(d->pk);
    free(d);
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    void *q;
    size_t c;

    if (n < *cap)
        return 0;
    c = *cap ? *cap * 2 : 1024;
    q = realloc(*p, c * size);
    if (!q)
        return AITAG_ERR_NOMEM;
    *p = q;
    *cap = c;
    return 0;
}

int aitag_shot_detector_packet(struct aitag_shot_detector *d, double t, int size, int key)
{
    if (!d || !(t >= 0) || !isfinite(t))
        return 0;
    if (grow((void **)&d->pk, &d->cap_pk, d->n_pk, sizeof *d->pk) < 0) {
        d->failed = 1;
        return AITAG_ERR_NOMEM;
    }
    d->pk[d->n_pk++] = (struct prec){t, size, key != 0};
    return 0;
}

static const struct thumb *ring_at(const struct aitag_shot_detector *d, size_t back)
{
    /* back = 0: the newest thumb */
    return &d->ring[(d->ring_head + RING - 1 - back) % RING];
}

static float pix_diff(const struct thumb *a, const struct thumb *b)
{
    int s = 0;

    for (int i = 0; i < TW * TH; i++)
        s += abs((int)a->px[i] - (int)b->px[i]);
    return (float)s / (TW * TH * 255.0f);
}

static float hists_diff(const float *a, const float *b)
{
    float s = 0;

    for (int i = 0; i < NBINS; i++)
        s += fabsf(a[i] - b[i]);
    return s / 2;
}

static float hist_diff(const struct thumb *a, const struct thumb *b)
{
    return hists_diff(a->hist, b->hist);
}

/* The dissolve window centred `win` frames back from the newest thumb, stored in its record. */
static void dissolve_window(struct aitag_shot_detector *d)
{
    const struct thumb *a, *m, *b;
    size_t w = (size_t)d->win;
    float far, lin = 0, step = 0, ends_std;
    struct frec *r;

    if (d->ring_n < 2 * w + 1 || d->n_fr < 2 * w + 1)
        return;
    b = ring_at(d, 0);
    m = ring_at(d, w);
    a = ring_at(d, 2 * w);
    r = &d->fr[d->n_fr - 1 - w];
    far = pix_diff(a, b);
    for (int i = 0; i < TW * TH; i++)
        lin += fabsf((float)m->px[i] - ((float)a->px[i] + (float)b->px[i]) / 2);
    lin /= TW * TH * 255.0f;
    for (size_t k = 0; k < 2 * w; k++) {
        float s = d->fr[d->n_fr - 1 - k].dpix;
        step = s > step ? s : step;
    }
    r->far = far;
    r->lin = far > 0 ? lin / far : 1;
    r->step = step;
    ends_std = (d->fr[d->n_fr - 1].std + d->fr[d->n_fr - 1 - 2 * w].std) / 2;
    r->dip = ends_std > 0 ? r->std / ends_std : 1;
}

int aitag_shot_detector_frame(struct aitag_shot_detector *d, double t, const uint8_t *luma, int w,
                              int h, ptrdiff_t stride)
{
    struct thumb *th;
    struct frec r;
    double sum = 0, sq = 0;
    float prev_hist[NBINS];
    int contiguous, have_prev = 0;

    if (!d || !luma || w < TW || h < TH || !(t >= 0) || !isfinite(t))
        return 0;
    if (grow((void **)&d->fr, &d->cap_fr, d->n_fr, sizeof *d->fr) < 0) {
        d->failed = 1;
        return AITAG_ERR_NOMEM;
    }
    contiguous = d->n_fr > 0 && t > d->fr[d->n_fr - 1].t &&
                 t - d->fr[d->n_fr - 1].t <= DENSE_FRAMES * d->frame_dur;
    if (!contiguous) {
        if (d->ring_n > 0 && t > ring_at(d, 0)->t && t - ring_at(d, 0)->t <= JUMP_MAX_S) {
            memcpy(prev_hist, ring_at(d, 0)->hist, sizeof prev_hist);
            have_prev = 1;
        }
        d->run++;
        d->ring_n = 0;
    }
    th = &d->ring[d->ring_head];
    th->t = t;
    memset(th->hist, 0, sizeof th->hist);
    /* Block means over a sparse grid of each block (at most 8 x 8 points): cheap at 1080p. */
    for (int by = 0; by < TH; by++) {
        int y0 = by * h / TH, y1 = (by + 1) * h / TH;
        int sy = (y1 - y0) / 8 > 1 ? (y1 - y0) / 8 : 1;
        for (int bx = 0; bx < TW; bx++) {
            int x0 = bx * w / TW, x1 = (bx + 1) * w / TW;
            int sx = (x1 - x0) / 8 > 1 ? (x1 - x0) / 8 : 1;
            unsigned s = 0, n = 0;
            for (int y = y0; y < y1; y += sy)
                for (int x = x0; x < x1; x += sx, n++)
                    s += luma[(ptrdiff_t)y * stride + x];
            th->px[by * TW + bx] = (uint8_t)(n ? s / n : 0);
        }
    }
    for (int i = 0; i < TW * TH; i++) {
        sum += th->px[i];
        sq += (double)th->px[i] * th->px[i];
        th->hist[th->px[i] * NBINS / 256] += 1.0f / (TW * TH);
    }
    r.t = t;
    r.mean = (float)(sum / (TW * TH));
    r.std = (float)sqrt(fmax(0, sq / (TW * TH) - (sum / (TW * TH)) * (sum / (TW * TH))));
    r.dpix = r.dhist = r.dflash = r.far = -1;
    r.djump = have_prev ? hists_diff(prev_hist, th->hist) : -1;
    r.lin = 1;
    r.dip = 1;
    r.step = 0;
    r.run = d->run;
    d->ring_head = (d->ring_head + 1) % RING;
    if (d->ring_n < RING)
        d->ring_n++;
    if (d->ring_n >= 2) {
        r.dpix = pix_diff(ring_at(d, 1), ring_at(d, 0));
        r.dhist = hist_diff(ring_at(d, 1), ring_at(d, 0));
    }
    d->fr[d->n_fr++] = r;
    if (d->ring_n >= 3) /* was the frame before a flash (back to the one before it)? */
        d->fr[d->n_fr - 2].dflash = pix_diff(ring_at(d, 2), ring_at(d, 0));
    dissolve_window(d);
    return 0;
}

int media_shot_detector_avframe(struct aitag_shot_detector *d, double t, const AVFrame *f)
{
    const AVPixFmtDescriptor *desc;

    if (!d || !f || !f->data[0])
        return 0;
    desc = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
    /* planar YUV or grey with 8-bit luma first: read the luma plane in place */
    if (!desc ||
        (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BE |
                        AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)) ||
        !(desc->flags & AV_PIX_FMT_FLAG_PLANAR) || desc->comp[0].depth != 8 ||
        desc->comp[0].plane != 0 || desc->comp[0].step != 1)
        return 0;
    return aitag_shot_detector_frame(d, t, f->data[0], f->width, f->height, f->linesize[0]);
}

static int cmp_frec(const void *a, const void *b)
{
    const struct frec *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_prec(const void *a, const void *b)
{
    const struct prec *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

struct cands {
    struct cand *c;
    size_t n, cap;
};

static int add_cand(struct cands *cs, double t, int edge, float conf)
{
    if (grow((void **)&cs->c, &cs->cap, cs->n, sizeof *cs->c) < 0)
        return AITAG_ERR_NOMEM;
    cs->c[cs->n++] = (struct cand){t, edge, conf > 1 ? 1 : conf};
    return 0;
}

/* The median of field dpix (hist = 0) or dhist (1) over the contiguous neighbours of i. */
static float local_median(const struct frec *fr, size_t n, size_t i, int hist)
{
    float v[16];
    size_t k = 0;

    for (size_t j = i > 8 ? i - 8 : 0; j < n && j <= i + 8; j++) {
        float x = hist ? fr[j].dhist : fr[j].dpix;
        if (j != i && fr[j].run == fr[i].run && x >= 0 && k < 16)
            v[k++] = x;
    }
    if (k == 0)
        return 0;
    if (k > 1)
        qsort(v, k, sizeof *v, cmp_float);
    return v[k / 2];
}

static int flat(const struct frec *r)
{
    return r->std < FLAT_STD && (r->mean < BLACK_MEAN || r->mean > WHITE_MEAN);
}

/* Cuts, fades and dissolves from the frame records (sorted, deduplicated). */
static int frame_cues(const struct frec *fr, size_t n, int win, struct cands *cs)
{
    int rc = 0;

    for (size_t i = 1; i < n && rc == 0; i++) {
        const struct frec *r = &fr[i];
        float mp, mh;
        if (r->dpix < 0 || r->run != fr[i - 1].run || flat(r) || flat(&fr[i - 1]))
            continue;
        mp = local_median(fr, n, i, 0);
        mh = local_median(fr, n, i, 1);
        if ((r->dpix >= CUT_MIN_PIX && r->dpix >= 3 * mp + 0.03f) ||
            (r->dhist >= CUT_MIN_HIST && r->dhist >= 3 * mh + 0.1f)) {
            if (r->dflash >= 0 && r->dflash < 0.5f * r->dpix && i + 1 < n &&
                fr[i + 1].run == r->run)
                continue; /* a flash: the next frame is back to the previous picture */
            if (fr[i - 1].dflash >= 0 && fr[i - 1].dflash < 0.5f * r->dpix)
                continue; /* the way back from a flash */
            rc = add_cand(cs, r->t, AITAG_SHOT_CUT, fmaxf(r->dpix / 0.25f, r->dhist / 0.6f));
        }
    }
    /* fades: runs of flat frames inside a contiguous stretch, with content on both sides */
    for (size_t i = 1; i < n && rc == 0; i++) {
        size_t j = i;
        if (!flat(&fr[i]) || flat(&fr[i - 1]) || fr[i - 1].run != fr[i].run)
            continue;
        while (j + 1 < n && flat(&fr[j + 1]) && fr[j + 1].run == fr[i].run)
            j++;
        if (j + 1 < n && fr[j + 1].run == fr[i].run)
            rc = add_cand(cs, (fr[i].t + fr[j + 1].t) / 2, AITAG_SHOT_FADE, 0.9f);
        i = j;
    }
    /* dissolves: runs of linear windows with different ends and small steps */
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t j = i, best = i;
        int ok = 1;
#define DISSOLVING(r)                                                                              \
    ((r).far >= DISSOLVE_MIN_FAR && (r).lin <= DISSOLVE_MAX_LIN && (r).dip <= DISSOLVE_MAX_DIP &&  \
     (r).step < CUT_MIN_PIX && (r).step < 0.5f * (r).far && !flat(&(r)))
        if (!DISSOLVING(fr[i]))
            continue;
        while (j + 1 < n && fr[j + 1].run == fr[i].run && DISSOLVING(fr[j + 1])) {
            j++;
            if (fr[j].far > fr[best].far)
                best = j;
        }
#undef DISSOLVING
        /* a fade within a window's reach explains it: a fade to black is linear too */
        for (size_t k = i > (size_t)win ? i - (size_t)win : 0; k <= j + (size_t)win && k < n; k++)
            ok = ok && !(fr[k].run == fr[i].run && flat(&fr[k]));
        if (ok && j > i) /* at least two windows agree */
            rc = add_cand(cs, fr[best].t, AITAG_SHOT_DISSOLVE, fminf(1, fr[best].far / 0.15f));
        i = j;
    }
    return rc;
}

/* The index of the first of n records (sorted by time) at or after t; n when none. */
static size_t first_from(const struct frec *fr, size_t n, double t)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fr[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* True when frames are decoded densely around t (a contiguous stretch covers t +- 2 frames):
 * frame cues decide there. */
static int dense_at(const struct frec *fr, size_t n, double t, double dur)
{
    size_t lo = first_from(fr, n, t);

    return lo > 0 && lo < n && fr[lo].run == fr[lo - 1].run && fr[lo - 1].t >= t - 3 * dur &&
           fr[lo].t <= t + 3 * dur;
}

/* True when the frame decoded at t starts a stretch whose picture is far from the one decoded
 * last before it (djump): a cut at t, whatever the keyframe spacing says. */
static int jump_at(const struct frec *fr, size_t n, double t)
{
    size_t lo = first_from(fr, n, t - 1e-3);

    return lo < n && fabs(fr[lo].t - t) <= 1e-3 && fr[lo].djump >= CUT_MIN_HIST && !flat(&fr[lo]);
}

/* Keyframes off the encoder's periodic spacing, or on it with a jump (see the design note). */
static int packet_cues(const struct aitag_shot_detector *d, const struct prec *pk, size_t n,
                       const struct frec *fr, size_t n_fr, struct cands *cs, size_t n_frame_cands)
{
    double *keys = malloc((n + 1) * sizeof *keys);
    size_t nk = 0;
    long period = 0, max_sp = 0;
    int max_count = 0, rc = 0;

    if (!keys)
        return AITAG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (pk[i].key)
            keys[nk++] = pk[i].t;
    if (nk * 4 > n) { /* intra-only (MJPEG) or nearly: keyframes say nothing of cuts */
        free(keys);
        return 0;
    }
    for (size_t i = 1; i < nk; i++) {
        long sp = lround((keys[i] - keys[i - 1]) * d->fps);
        if (sp > max_sp + 1) {
            max_sp = sp;
            max_count = 1;
        } else if (labs(sp - max_sp) <= 1) {
            max_count++;
        }
    }
    if (max_count >= 2)
        period = max_sp;
    for (size_t i = 1; i < nk && rc == 0; i++) {
        long sp = lround((keys[i] - keys[i - 1]) * d->fps);
        int near_gradual = 0;
        if (period && labs(sp - period) <= 1 && !jump_at(fr, n_fr, keys[i]))
            continue;
        if (dense_at(fr, n_fr, keys[i], d->frame_dur))
            continue; /* the frames decide there */
        for (size_t k = 0; k < n_frame_cands; k++)
            if (cs->c[k].edge != AITAG_SHOT_CUT && fabs(cs->c[k].t - keys[i]) < KEY_NEAR_GRADUAL_S)
                near_gradual = 1;
        if (!near_gradual)
            rc = add_cand(cs, keys[i], AITAG_SHOT_CUT, 0.6f);
    }
    free(keys);
    return rc;
}

/* Sorts n records of size bytes, each starting with its double time, and drops repeats (a
 * frame or packet read twice after a seek). Returns the new count. */
static size_t dedupe(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *base = v;
    size_t k = 0;

    if (n > 1)
        qsort(v, n, size, cmp);
    for (size_t i = 0; i < n; i++) {
        double ti, tk;
        memcpy(&ti, base + i * size, sizeof ti);
        if (k)
            memcpy(&tk, base + (k - 1) * size, sizeof tk);
        if (k == 0 || ti > tk + 1e-6) {
            if (k != i)
                memcpy(base + k * size, base + i * size, size);
            k++;
        }
    }
    return k;
}

int aitag_shot_detector_finish(struct aitag_shot_detector *d, double duration,
                               struct aitag_shot **out, size_t *n_out)
{
    struct cands cs = {0};
    struct aitag_shot *shots = NULL;
    size_t n_frame_cands, k = 0, n_fr, n_pk;
    int rc = 0;

    *out = NULL;
    *n_out = 0;
    if (!d)
        return AITAG_ERR_INVALID;
    if (d->failed)
        return AITAG_ERR_NOMEM;
    if (!(duration > 0)) {
        duration = 0;
        if (d->n_fr)
            duration = fmax(duration, d->fr[d->n_fr - 1].t + d->frame_dur);
        if (d->n_pk)
            duration = fmax(duration, d->pk[d->n_pk - 1].t + d->frame_dur);
        if (!(duration > 0))
            return 0;
    }
    n_fr = dedupe(d->fr, d->n_fr, sizeof *d->fr, cmp_frec);
    n_pk = dedupe(d->pk, d->n_pk, sizeof *d->pk, cmp_prec);
    rc = frame_cues(d->fr, n_fr, d->win, &cs);
    n_frame_cands = cs.n;
    if (rc == 0)
        rc = packet_cues(d, d->pk, n_pk, d->fr, n_fr, &cs, n_frame_cands);
    if (rc < 0)
        goto out;
    if (cs.n > 1)
        qsort(cs.c, cs.n, sizeof *cs.c, cmp_cand);
    shots = malloc((cs.n + 1) * sizeof *shots);
    if (!shots) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    shots[k++] = (struct aitag_shot){0, duration, AITAG_SHOT_START, 1.0f};
    for (size_t i = 0; i < cs.n; i++) {
        const struct cand *c = &cs.c[i];
        struct aitag_shot *last = &shots[k - 1];
        if (c->t < MIN_SHOT_S || c->t > duration - MIN_SHOT_S)
            continue;
        if (c->t - last->start < MIN_SHOT_S) {
            if (k > 1 && c->conf > last->confidence) { /* the more confident one stays */
                last->start = c->t;
                last->edge = c->edge;
                last->confidence = c->conf;
                shots[k - 2].end = c->t;
            }
            continue;
        }
        last->end = c->t;
        shots[k++] = (struct aitag_shot){c->t, duration, c->edge, c->conf};
    }
    /* Times to the millisecond: a frame time is pts x time base (431 x 0.04 = 17.240000000000002),
     * and a boundary becomes a marker's edge that every sink writes as it is. */
    for (size_t i = 0; i < k; i++) {
        shots[i].start = round(shots[i].start * 1000.0) / 1000.0;
        shots[i].end = round(shots[i].end * 1000.0) / 1000.0;
    }
    *out = shots;
    *n_out = k;
    shots = NULL;
out:
    d->n_fr = n_fr; /* sorted now: frames fed later start a new stretch */
    d->n_pk = n_pk;
    d->ring_n = 0;
    d->run++;
    free(shots);
    free(cs.c);
    return rc;
}
