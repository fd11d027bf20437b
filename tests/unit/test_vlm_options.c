/* test_vlm_options.c - aitag_vlm_options, the one builder of the vlm analyzer's options for
 * the CLI and the plugin: unset fields are left out (the analyzer's defaults apply), every
 * 0 is kept (every sampled frame),. */
#include <string.h>

#include "aitag/pipeline.h"
#include "check.h"

int main(void)
{
    char buf[AITAG_VLM_MAX_OPTS][AITAG_VLM_OPT_LEN];
    const char *out[AITAG_VLM_MAX_OPTS];
    struct aitag_vlm_settings all = {"http://127.0.0.1:9/v1", "chat", "KEY", "/v.txt", 2.5, 1, 1};
    struct aitag_vlm_settings none = {NULL, "", NULL, NULL, -1, 0, 0};
    struct aitag_vlm_settings zero = {NULL, NULL, NULL, NULL, 0, 0, 0};
    size_t n;

    n = aitag_vlm_options(&all, buf, out);
    CHECK_EQ_INT((int)n, AITAG_VLM_MAX_OPTS);
    CHECK_STR(out[0], "vlm.url=http://127.0.0.1:9/v1");
    CHECK_STR(out[1], "vlm.route=chat");
    CHECK_STR(out[2], "vlm.key_env=KEY");
    CHECK_STR(out[3], "vlm.vocabulary=/v.txt");
    CHECK_STR(out[4], "vlm.every=2.5");
    CHECK_STR(out[5], "vlm.describe=1");
    CHECK_STR(out[6], "vlm.local_only=1");
    CHECK_EQ_INT((int)aitag_vlm_options(&none, buf, out), 0);
    CHECK_EQ_INT((int)aitag_vlm_options(&zero, buf, out), 1);
    CHECK_STR(out[0], "vlm.every=0");
    return check_done();
}
