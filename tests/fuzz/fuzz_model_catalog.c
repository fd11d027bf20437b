/* fuzz_model_catalog.c - libFuzzer target for a model catalog (`aitag models install`: a file
 * or a URL's answer, often someone else's): listing it, and installing its entry "m". File
 * URLs "file://@/..." are rewritten to this process's own folder, whose src/m.onnx holds
 * "onnx weights\n" (the seeds carry its sha256); an input with any other file URL is only
 * listed (no /dev/zero downloads). Any catalog lists or fails with a message, installs or
 * fails with one, and never writes outside the destination folder. */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/models.h"

#define MARK "file://@/"

static char root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

static void cleanup(void)
{
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The names in folder are exactly the expected ones (NULL-terminated). */
static void only(const char *folder, const char *const *expected)
{
    DIR *d = opendir(folder);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        int known = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
        for (size_t i = 0; expected[i]; i++)
            known |= !strcmp(e->d_name, expected[i]);
        if (!known)
            abort(); /* the catalog wrote outside the destination folder */
    }
    closedir(d);
}

/* text with every MARK made "file://<root>/" into *out (malloc'd); 0 when a file URL points
 * elsewhere or climbs out ("..") and the catalog is only to be listed. */
static int rewrite(const char *text, char **out)
{
    size_t n = 0, rl = strlen(root), ml = strlen(MARK);
    const char *p;
    char *o;
    int inside = 1;

    for (p = text; (p = strstr(p, "file:")); p += 5) {
        if (strncmp(p, MARK, ml) != 0 || strstr(p, ".."))
            inside = 0;
        n++;
    }
    *out = o = malloc(strlen(text) + n * (rl + 8) + 1);
    if (!o)
        return 0;
    for (p = text; *p;) {
        if (strncmp(p, MARK, ml) == 0) {
            memcpy(o, "file://", 7);
            memcpy(o + 7, root, rl);
            o[7 + rl] = '/';
            o += rl + 8;
            p += ml;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return inside;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_install_params p = aitag_install_default_params();
    char err[1024] = "", *text, *cat = NULL, **lines = NULL, path[128], dest[128], src[128];
    size_t n = 0;
    int install;
    FILE *f;

    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/aitag-fuzz-catalog-XXXXXX");
        if (!mkdtemp(root))
            abort();
        atexit(cleanup);
        snprintf(src, sizeof src, "%s/src", root);
        mkdir(src, 0700);
        snprintf(src, sizeof src, "%s/src/m.onnx", root);
        f = fopen(src, "wb");
        if (!f)
            abort();
        fputs("onnx weights\n", f);
        fclose(f);
    }
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* a NUL inside ends the catalog text early: jansson refuses one anyway */
    install = rewrite(text, &cat);
    snprintf(path, sizeof path, "%s/catalog.json", root);
    snprintf(dest, sizeof dest, "%s/dest", root);
    snprintf(src, sizeof src, "%s/src", root);
    f = cat ? fopen(path, "wb") : NULL;
    if (!f)
        goto out;
    fputs(cat, f);
    fclose(f);
    p.catalog = path;
    p.dest_dir = dest;
    p.connect_timeout_s = 2;
    p.low_speed_s = 2;
    if (aitag_models_catalog_list(&p, &lines, &n, err, sizeof err) == 0) {
        for (size_t i = 0; i < n; i++)
            if (!lines[i])
                abort();
            else
                free(lines[i]);
        free(lines);
    } else if (!err[0]) {
        abort();
    }
    if (install) {
        int unpinned = 0;
        err[0] = '\0';
        if (aitag_models_install(&p, "m", &unpinned, err, sizeof err) < 0 && !err[0])
            abort();
        only(root, (const char *const[]){"catalog.json", "src", "dest", NULL});
        only(src, (const char *const[]){"m.onnx", NULL});
        nftw(dest, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
out:
    free(cat);
    free(text);
    return 0;
}
