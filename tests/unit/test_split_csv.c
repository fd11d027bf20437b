/* test_split_csv.c - aitag_split_csv, the one comma-list splitter (analyzer lists of the CLI
 * and the plugin): pieces trimmed like aitag_trim (spaces, tabs, newlines), empty ones
 * dropped, at most max kept. */
#include <string.h>

#include "aitag/common.h"
#include "check.h"

int main(void)
{
    const char *out[4];
    char a[] = " faces , text\t,\n objects ", b[] = ",, ,", c[] = "a,b,c,d,e", d[] = "", e[] = "vlm";

    CHECK_EQ_INT((int)aitag_split_csv(a, out, 4), 3);
    CHECK_STR(out[0], "faces");
    CHECK_STR(out[1], "text");
    CHECK_STR(out[2], "objects");
    CHECK_EQ_INT((int)aitag_split_csv(b, out, 4), 0);
    CHECK_EQ_INT((int)aitag_split_csv(c, out, 4), 4);
    CHECK_STR(out[3], "d");
    CHECK_EQ_INT((int)aitag_split_csv(d, out, 4), 0);
    CHECK_EQ_INT((int)aitag_split_csv(e, out, 4), 1);
    CHECK_STR(out[0], "vlm");
    return check_done();
}
