/* test_buf.c - the shared growable buffer and trim helpers (src/util/buf.c). */
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "check.h"

static void test_append(void)
{
    char *d = NULL, big[40000];
    size_t len = 0, cap = 0;

    CHECK_EQ_INT(aitag_buf_append(&d, &len, &cap, "", 0, 0), 0);
    CHECK(d && len == 0 && d[0] == '\0'); /* an empty append still gives a string */
    CHECK_EQ_INT(aitag_buf_append(&d, &len, &cap, "abc", 3, 0), 0);
    CHECK_EQ_INT(aitag_buf_append(&d, &len, &cap, "de", 2, 0), 0);
    CHECK(len == 5 && strcmp(d, "abcde") == 0);
    memset(big, 'x', sizeof big);
    CHECK_EQ_INT(aitag_buf_append(&d, &len, &cap, big, sizeof big, 0), 0);
    CHECK(len == 5 + sizeof big && cap > len && d[len] == '\0' && d[len - 1] == 'x');
    CHECK(memcmp(d, "abcde", 5) == 0); /* growth keeps what was there */
    free(d);

    /* The cap: up to max bytes fit, one more is refused and the buffer is left as it was. */
    d = NULL;
    len = cap = 0;
    CHECK_EQ_INT(aitag_buf_append(&d, &len, &cap, "12345", 5, 8), 0);
    CHECK_EQ_INT(aitag_buf_append(&d, &len, &cap, "678", 3, 8), 0);
    CHECK_EQ_INT(aitag_buf_append(&d, &len, &cap, "9", 1, 8), AITAG_ERR_INVALID);
    CHECK(len == 8 && strcmp(d, "12345678") == 0);
    free(d);
}

static void test_trim(void)
{
    char a[] = "  \t key = value \r\n", b[] = "   ", c[] = "x";

    CHECK(strcmp(aitag_trim(a), "key = value") == 0);
    CHECK(strcmp(aitag_trim(b), "") == 0);
    CHECK(strcmp(aitag_trim(c), "x") == 0);
}

int main(void)
{
    test_append();
    test_trim();
    return check_done();
}
