/* test_geometry.c - the detectors' shared box arithmetic (src/analyzers/geometry.c): view
 * pixels through a letterbox back to the normalised source, clamping, and IoU. */
#include "analyzers/analyzers_int.h"
#include "check.h"

/* A 1280x720 source letterboxed into 640x640: content 640x360 at pad_y 140, scale 0.5. */
static void letterbox(struct aitag_frame *fr, struct aitag_view *v)
{
    memset(fr, 0, sizeof(*fr));
    memset(v, 0, sizeof(*v));
    fr->src_w = 1280, fr->src_h = 720;
    v->width = 640, v->height = 640;
    v->content_w = 640, v->content_h = 360;
    v->pad_x = 0, v->pad_y = 140;
    v->scale_x = 0.5f, v->scale_y = 0.5f;
}

static void test_clamp(void)
{
    CHECK_NEAR(an_clamp01(-0.25f), 0.0, 0);
    CHECK_NEAR(an_clamp01(0.25f), 0.25, 0);
    CHECK_NEAR(an_clamp01(1.5f), 1.0, 0);
}

static void test_points(void)
{
    struct aitag_frame fr;
    struct aitag_view v;

    letterbox(&fr, &v);
    CHECK_NEAR(an_source_x(&fr, &v, 320.0f), 0.5, 1e-6);
    CHECK_NEAR(an_source_y(&fr, &v, 140.0f), 0.0, 1e-6); /* top of the picture */
    CHECK_NEAR(an_source_y(&fr, &v, 320.0f), 0.5, 1e-6); /* middle */
    CHECK_NEAR(an_source_y(&fr, &v, 500.0f), 1.0, 1e-6); /* bottom */
    CHECK_NEAR(an_source_y(&fr, &v, 20.0f), 0.0, 0);     /* in the top bar: clamped */
    CHECK_NEAR(an_source_y(&fr, &v, 620.0f), 1.0, 0);    /* in the bottom bar: clamped */
    /* pillarbox: a 720x1280 portrait source in the same 640x640 view, pad_x 140 */
    fr.src_w = 720, fr.src_h = 1280;
    v.content_w = 360, v.content_h = 640, v.pad_x = 140, v.pad_y = 0;
    CHECK_NEAR(an_source_x(&fr, &v, 230.0f), 0.25, 1e-6);
    CHECK_NEAR(an_source_y(&fr, &v, 160.0f), 0.25, 1e-6);
}

static void test_boxes(void)
{
    struct aitag_frame fr;
    struct aitag_view v;
    struct aitag_box b;

    letterbox(&fr, &v);
    /* the source box (320, 180)-(960, 540) is (160, 230)-(480, 410) in the view */
    CHECK_EQ_INT(an_source_box(&fr, &v, (const float[4]){160, 230, 480, 410}, &b), 1);
    CHECK_NEAR(b.x, 0.25, 1e-6);
    CHECK_NEAR(b.y, 0.25, 1e-6);
    CHECK_NEAR(b.w, 0.5, 1e-6);
    CHECK_NEAR(b.h, 0.5, 1e-6);
    /* a box reaching into the bar is cut at the picture's edge */
    CHECK_EQ_INT(an_source_box(&fr, &v, (const float[4]){0, 100, 640, 230}, &b), 1);
    CHECK_NEAR(b.y, 0.0, 0);
    CHECK_NEAR(b.h, 0.25, 1e-6);
    CHECK_NEAR(b.w, 1.0, 1e-6);
    /* a box wholly in the padding is empty */
    CHECK_EQ_INT(an_source_box(&fr, &v, (const float[4]){10, 10, 200, 120}, &b), 0);
    CHECK_EQ_INT(an_source_box(&fr, &v, (const float[4]){10, 520, 200, 630}, &b), 0);
}

static void test_iou(void)
{
    const float a[4] = {0, 0, 10, 10}, half[4] = {5, 0, 15, 10}, far[4] = {20, 20, 30, 30};
    const float touch[4] = {10, 0, 20, 10}, inner[4] = {0, 0, 5, 10}, dot[4] = {3, 3, 3, 3};

    CHECK_NEAR(an_iou(a, a), 1.0, 1e-6);
    CHECK_NEAR(an_iou(a, half), 50.0 / 150.0, 1e-6);
    CHECK_NEAR(an_iou(half, a), 50.0 / 150.0, 1e-6);
    CHECK_NEAR(an_iou(a, inner), 0.5, 1e-6);
    CHECK_NEAR(an_iou(a, far), 0.0, 0);
    CHECK_NEAR(an_iou(a, touch), 0.0, 0);
    CHECK_NEAR(an_iou(dot, dot), 0.0, 0);
}

int main(void)
{
    test_clamp();
    test_points();
    test_boxes();
    test_iou();
    return check_done();
}
