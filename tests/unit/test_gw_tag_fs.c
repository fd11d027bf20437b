/*
 * test_gw_tag_fs.c - /v1/tag's file side (src/gateway/tag_fs.c): paths opened under library
 * roots without following links, and the private upload folder.
 * The HTTP behaviour is covered by tests/integration/gateway_tag_*.sh.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gateway/gateway_int.h"

static void touch(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The first bytes read through fd. */
static void read_fd(int fd, char *buf, size_t len)
{
    ssize_t n = pread(fd, buf, len - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

static void test_roots(void)
{
    char dir[] = "/tmp/aitag-gw-XXXXXX", lib[64], out[64], file[128], real[4096], p[4200];
    char buf[64], *roots[1];
    int fd = -1;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(lib, sizeof lib, "%s/lib", dir);
    snprintf(out, sizeof out, "%s/lib-other", dir);
    mkdir(lib, 0755);
    mkdir(out, 0755);
    snprintf(p, sizeof p, "%s/sub", lib);
    mkdir(p, 0755);
    snprintf(file, sizeof file, "%s/a.jpg", lib);
    touch(file, "inside");
    snprintf(p, sizeof p, "%s/b.jpg", out);
    touch(p, "outside");
    roots[0] = lib;

    CHECK_EQ_INT(gw_open_under_roots(file, roots, 1, real, sizeof real, &fd), 0);
    CHECK_STR(real, file);
    read_fd(fd, buf, sizeof buf);
    CHECK_STR(buf, "inside");
    close(fd);
    snprintf(p, sizeof p, "%s/../lib/./sub/../a.jpg", lib); /* ".." folded, not followed */
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), 0);
    CHECK_STR(real, file);
    close(fd);
    snprintf(p, sizeof p, "%s/../lib-other/b.jpg", lib); /* a sibling sharing the prefix */
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), AITAG_ERR_INVALID);
    CHECK_EQ_INT(fd, -1);
    /* outside: the same answer whether the file exists or not */
    snprintf(p, sizeof p, "%s/lib-other/none.jpg", dir);
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), AITAG_ERR_INVALID);
    CHECK_EQ_INT(gw_open_under_roots("/etc/passwd", roots, 1, real, sizeof real, &fd),
                 AITAG_ERR_INVALID);
    CHECK_EQ_INT(gw_open_under_roots("/no/such/file", roots, 1, real, sizeof real, &fd),
                 AITAG_ERR_INVALID);
    /* links below the root are refused, wherever they lead: the file and a folder on the way */
    snprintf(p, sizeof p, "%s/link.jpg", lib);
    snprintf(real, sizeof real, "%s/b.jpg", out);
    CHECK_EQ_INT(symlink(real, p), 0);
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), AITAG_ERR_IO);
    snprintf(p, sizeof p, "%s/inner.jpg", lib);
    CHECK_EQ_INT(symlink("a.jpg", p), 0); /* even to a file inside */
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), AITAG_ERR_IO);
    snprintf(p, sizeof p, "%s/dirlink", lib);
    CHECK_EQ_INT(symlink(out, p), 0);
    snprintf(p, sizeof p, "%s/dirlink/b.jpg", lib);
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), AITAG_ERR_IO);
    CHECK_EQ_INT(fd, -1);
    snprintf(p, sizeof p, "%s/none.jpg", lib);
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), AITAG_ERR_NOTFOUND);
    snprintf(p, sizeof p, "%s/a.jpg/x", lib); /* a file as a folder */
    CHECK_EQ_INT(gw_open_under_roots(p, roots, 1, real, sizeof real, &fd), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(gw_open_under_roots(lib, roots, 1, real, sizeof real, &fd), AITAG_ERR_NOTFOUND);
    CHECK_EQ_INT(gw_open_under_roots("", roots, 1, real, sizeof real, &fd), AITAG_ERR_INVALID);
    CHECK_EQ_INT(gw_open_under_roots(file, roots, 0, real, sizeof real, &fd), AITAG_ERR_INVALID);
    /* a root that is itself a link: paths through it and through its target both work, and
     * the file is named by the real root */
    snprintf(p, sizeof p, "%s/rootlink", dir);
    CHECK_EQ_INT(symlink(lib, p), 0);
    roots[0] = p;
    snprintf(buf, sizeof buf, "%s/rootlink/a.jpg", dir);
    CHECK_EQ_INT(gw_open_under_roots(buf, roots, 1, real, sizeof real, &fd), 0);
    CHECK_STR(real, file);
    close(fd);
    CHECK_EQ_INT(gw_open_under_roots(file, roots, 1, real, sizeof real, &fd), 0);
    close(fd);
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(p), 0);
}

static void test_upload_folder(void)
{
    char dir[] = "/tmp/aitag-gw-XXXXXX", name[64], err[256] = "", buf[64], p[4200];
    struct aitag_gateway_config cfg;
    struct aitag_gateway gw;
    struct stat st;
    int fd, fd2;

    CHECK(mkdtemp(dir) != NULL);
    memset(&cfg, 0, sizeof cfg);
    memset(&gw, 0, sizeof gw);
    cfg.tmp_dir = dir;
    gw.cfg = &cfg;
    CHECK_EQ_INT(gw_tag_tmp_open(&gw, err, sizeof err), 0);
    CHECK(gw.tag_tmp != NULL && strncmp(gw.tag_tmp, dir, strlen(dir)) == 0);
    if (!gw.tag_tmp)
        return;
    CHECK(lstat(gw.tag_tmp, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    fd = gw_tag_upload_write(&gw, "bytes", 5, name, sizeof name);
    CHECK(fd >= 0);
    snprintf(p, sizeof p, "%s/%s", gw.tag_tmp, name);
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
    CHECK_EQ_INT(st.st_mtime, 1);
    read_fd(fd, buf, sizeof buf);
    CHECK_STR(buf, "bytes");
    fd2 = gw_tag_upload_write(&gw, "other", 5, buf, sizeof buf);
    CHECK(fd2 >= 0 && strcmp(buf, name) != 0); /* every upload its own file */
    close(fd2);
    close(fd);
    gw_tag_upload_remove(&gw, name);
    CHECK(lstat(p, &st) != 0);
    snprintf(p, sizeof p, "%s", gw.tag_tmp);
    gw_tag_tmp_close(&gw); /* removes what is left, then the folder */
    CHECK(gw.tag_tmp == NULL);
    CHECK(lstat(p, &st) != 0);
    cfg.tmp_dir = "/nonexistent-aitag-dir";
    CHECK(gw_tag_tmp_open(&gw, err, sizeof err) < 0);
    CHECK(strstr(err, "/nonexistent-aitag-dir") != NULL);
    rmdir(dir);
}

int main(void)
{
    test_roots();
    test_upload_folder();
    return check_done();
}
