/*
 * check.h - the tiny test harness every unit test uses.
 *
 * CHECK(expr) records a failure with file:line and the expression text and goes on;
 * CHECK_EQ_INT / CHECK_NEAR print both values. Each test binary ends with check_done(), which
 * prints the plain line "N passed, N failed" and returns the process exit status.
 */
#ifndef AITAG_TEST_CHECK_H
#define AITAG_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(expr)                                                                             \
    do {                                                                                        \
        if (expr) {                                                                             \
            check_passed++;                                                                     \
        } else {                                                                                \
            check_failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);           \
        }                                                                                       \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                      \
    do {                                                                                        \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                         \
        if (check_a_ == check_b_) {                                                             \
            check_passed++;                                                                     \
        } else {                                                                                \
            check_failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", __FILE__,         \
                    __LINE__, #a, #b, check_a_, check_b_);                                      \
        }                                                                                       \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                        \
        double check_a_ = (double)(a), check_b_ = (double)(b);                                  \
        if (fabs(check_a_ - check_b_) <= (tol)) {                                               \
            check_passed++;                                                                     \
        } else {                                                                                \
            check_failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s ~ %s (%g vs %g, tol %g)\n", __FILE__,      \
                    __LINE__, #a, #b, check_a_, check_b_, (double)(tol));                       \
        }                                                                                       \
    } while (0)

#define CHECK_STR(a, b)                                                                         \
    do {                                                                                        \
        const char *check_a_ = (a), *check_b_ = (b);                                            \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {                          \
            check_passed++;                                                                     \
        } else {                                                                                \
            check_failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__,     \
                    __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",                           \
                    check_b_ ? check_b_ : "(null)");                                            \
        }                                                                                       \
    } while (0)

static inline int check_done(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
