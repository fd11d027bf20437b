/* test_text_words.c - putting back the spaces PaddleOCR drops: ink columns of a cropped line
 * and CTC decoding that inserts a space over a wide empty run. */
#include <stdlib.h>

#include "analyzers/text_int.h"
#include "check.h"

enum { W = 200, H = 48 };

static void block(uint8_t *rgb, int x0, int x1, uint8_t v)
{
    for (int y = 10; y < 38; y++)
        for (int x = x0; x < x1; x++)
            for (int c = 0; c < 3; c++)
                rgb[(y * W + x) * 3 + c] = v;
}

static void set_step(float *p, int classes, int best)
{
    for (int c = 0; c < classes; c++)
        p[c] = c == best ? 0.9f : 0.1f / (float)(classes - 1);
}

static void test_ink(void)
{
    uint8_t *rgb = malloc(W * H * 3), ink[W];

    /* White line, three dark "letters": two close together, one after a wide gap. */
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = 250;
    block(rgb, 10, 30, 20);
    block(rgb, 34, 54, 20);
    block(rgb, 90, 110, 20);
    CHECK_EQ_INT(ppocr_ink_columns(rgb, W, H, ink), 1);
    CHECK(ink[15] && ink[40] && ink[100]);
    CHECK(!ink[5] && !ink[32] && !ink[70] && !ink[150]);

    /* Light text on a dark background works the same way. */
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = 15;
    block(rgb, 10, 30, 240);
    CHECK_EQ_INT(ppocr_ink_columns(rgb, W, H, ink), 1);
    CHECK(ink[20] && !ink[40]);

    /* A busy background (stripes in the border rows) can't be read: no profile. */
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = (uint8_t)(((i / 3) % W / 3 % 2) ? 230 : 20);
    CHECK_EQ_INT(ppocr_ink_columns(rgb, W, H, ink), 0);
    free(rgb);

    /* CTC: "a" at step 2, "b" at step 5, "c" at step 12 (8 px per step); the gap between b
     * (x 44) and c (x 100) is empty over 30 columns: one space goes there, none between a and b. */
    const char *labels[] = {"a", "b", "c"};
    enum { CLASSES = 5, STEPS = 25 };
    float probs[STEPS * CLASSES], conf;
    char *text;
    for (int t = 0; t < STEPS; t++)
        set_step(probs + t * CLASSES, CLASSES, t == 2 ? 1 : t == 5 ? 2 : t == 12 ? 3 : 0);
    for (int x = 0; x < W; x++)
        ink[x] = (x >= 10 && x < 54) || (x >= 90 && x < 110);
    CHECK_EQ_INT(ppocr_ctc_decode_spaced(probs, STEPS, CLASSES, labels, 3, ink, W, 8, 16.0f,
                                         &text, &conf), 0);
    CHECK_STR(text, "ab c");
    free(text);
    /* Without a profile, or with a smaller gap than asked for, nothing is inserted. */
    CHECK_EQ_INT(ppocr_ctc_decode_spaced(probs, STEPS, CLASSES, labels, 3, NULL, W, 8, 16.0f,
                                         &text, &conf), 0);
    CHECK_STR(text, "abc");
    free(text);
    CHECK_EQ_INT(ppocr_ctc_decode_spaced(probs, STEPS, CLASSES, labels, 3, ink, W, 8, 40.0f,
                                         &text, &conf), 0);
    CHECK_STR(text, "abc");
    free(text);
}

int main(void)
{
    test_ink();
    return check_done();
}
