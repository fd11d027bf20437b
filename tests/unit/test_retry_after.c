/*
 * test_retry_after.c - the Retry-After value parser (src/util/retry_after.c) shared by the
 * HTTP clients: delta-seconds, the three HTTP date formats, the cap, and what is refused.
 */
#include <string.h>

#include "aitag/common.h"
#include "check.h"

#define NOW 1784505600LL /* 2026-07-20 00:00:00 UTC */

static long ra(const char *v, long max_ms)
{
    return aitag_retry_after_ms(v, strlen(v), NOW, max_ms);
}

int main(void)
{
    CHECK_EQ_INT(ra("5", 60000), 5000);
    CHECK_EQ_INT(ra(" 7\r\n", 60000), 7000); /* as the header line arrives */
    CHECK_EQ_INT(ra("\t0\t", 60000), 0);
    CHECK_EQ_INT(ra("120", 60000), 60000);                           /* capped */
    CHECK_EQ_INT(ra("99999999999999999999999999999", 60000), 60000); /* capped, not wrapped */
    CHECK_EQ_INT(ra("60", 60500), 60000);
    CHECK_EQ_INT(ra("61", 60500), 60500);
    CHECK_EQ_INT(ra("5", -1), 0);
    /* the three date formats, 30 s after NOW */
    CHECK_EQ_INT(ra("Mon, 20 Jul 2026 00:00:30 GMT", 60000), 30000);
    CHECK_EQ_INT(ra("Monday, 20-Jul-26 00:00:30 GMT", 60000), 30000);
    CHECK_EQ_INT(ra("Mon Jul 20 00:00:30 2026", 60000), 30000);
    CHECK_EQ_INT(ra("Sun, 19 Jul 2026 23:00:00 GMT", 60000), 0); /* past: now */
    CHECK_EQ_INT(ra("Tue, 21 Jul 2026 00:00:00 GMT", 60000), 60000);
    /* refused */
    CHECK_EQ_INT(ra("", 60000), -1);
    CHECK_EQ_INT(ra("   \r\n", 60000), -1);
    CHECK_EQ_INT(ra("-1", 60000), -1);
    CHECK_EQ_INT(ra("soon", 60000), -1);
    CHECK_EQ_INT(ra("+5", 60000), -1);
    CHECK_EQ_INT(ra("5s", 60000), -1);
    CHECK_EQ_INT(ra("Mon, 20 Jul 2026 00:00:30 GMT and then some more text to be too long", 60000),
                 -1);
    CHECK_EQ_INT(aitag_retry_after_ms("5\0"
                                      "5",
                                      3, NOW, 60000),
                 -1);
    return check_done();
}
