/* test_path_map.c - path mappings (src/util/path_map.c): the longest prefix that ends at a path
 * separator wins, the root maps, slashes at the ends don't matter, no mapping copies the path,
 * a result too long is refused, and the reverse mapping undoes the mapping. */
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "check.h"

static const char *map(const char *m, const char *path, int *rc)
{
    static char out[256];

    *rc = aitag_map_path(m, path, out, sizeof out);
    return out;
}

int main(void)
{
    const char *m = "/media=>/mnt/nas; /media/stash/=>/srv/stash/ ;/x=>/y";
    char tiny[8], *rev;
    int rc;

    CHECK_STR(map(m, "/media/stash/a.mp4", &rc), "/srv/stash/a.mp4"); /* the longer prefix */
    CHECK_EQ_INT(rc, 1);
    CHECK_STR(map(m, "/media/other/b.jpg", &rc), "/mnt/nas/other/b.jpg");
    CHECK_STR(map(m, "/media/stashed/c.jpg", &rc), "/mnt/nas/stashed/c.jpg"); /* a boundary */
    CHECK_STR(map(m, "/mediax/d.jpg", &rc), "/mediax/d.jpg");
    CHECK_EQ_INT(rc, 0);
    CHECK_STR(map(m, "/media", &rc), "/mnt/nas");
    CHECK_STR(map("/=>/mnt", "/a/b", &rc), "/mnt/a/b");
    CHECK_STR(map("/data=>/", "/data/a", &rc), "/a");
    CHECK_STR(map("", "/a", &rc), "/a");
    /* A one-letter source is not the root: the whole path maps to the target (fuzz_path_map). */
    CHECK_STR(map("[=>0", "[", &rc), "0");
    CHECK_EQ_INT(rc, 1);
    CHECK_STR(map("a=>/mnt/a", "a/b", &rc), "/mnt/a/b");
    CHECK_STR(map("no arrow here", "/a", &rc), "/a");
    CHECK_EQ_INT(aitag_map_path("/a=>/a-much-longer-prefix", "/a/b", tiny, sizeof tiny),
                 AITAG_ERR_INVALID);

    rev = aitag_map_reverse(m);
    CHECK(rev != NULL);
    CHECK_STR(map(rev, "/srv/stash/a.mp4", &rc), "/media/stash/a.mp4");
    CHECK_STR(map(rev, "/mnt/nas/other/b.jpg", &rc), "/media/other/b.jpg");
    free(rev);
    return check_done();
}
