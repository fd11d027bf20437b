/* fuzz_model_catalog.c - libFuzzer target for a model catalog (`aitag models install`: a file
 * or a URL's answer, often someone else's): listing it, and installing its entry "m" from
 * file:// URLs under a folder of this target's own. Any catalog lists or fails with a message,
 * installs or fails with one, and never writes outside the destination folder. */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aitag/models.h"

#define ROOT "/tmp/aitag-fuzz-catalog"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

/* Every file:// URL in the catalog points into ROOT/src (no /dev/zero downloads). */
static int urls_inside(const char *text)
{
    for (const char *p = text; (p = strstr(p, "file:")); p += 5)
        if (strncmp(p, "file://" ROOT "/src/", strlen("file://" ROOT "/src/")) != 0 ||
            strstr(p, ".."))
            return 0;
    return 1;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_install_params p = aitag_install_default_params();
    char err[1024] = "", *text, **lines = NULL;
    size_t n = 0;
    FILE *f;

    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    mkdir(ROOT, 0700);
    mkdir(ROOT "/src", 0700);
    if (access(ROOT "/src/m.onnx", F_OK) != 0 && (f = fopen(ROOT "/src/m.onnx", "wb"))) {
        fputs("onnx weights\n", f); /* sha256 in the seed corpus */
        fclose(f);
    }
    f = fopen(ROOT "/catalog.json", "wb");
    if (!f)
        goto out;
    fwrite(data, 1, size, f);
    fclose(f);
    p.catalog = ROOT "/catalog.json";
    p.dest_dir = ROOT "/dest";
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
    if (urls_inside(text)) {
        int unpinned = 0;
        err[0] = '\0';
        if (aitag_models_install(&p, "m", &unpinned, err, sizeof err) < 0 && !err[0])
            abort();
        only(ROOT, (const char *const[]){"catalog.json", "src", "dest", NULL});
        only(ROOT "/src", (const char *const[]){"m.onnx", NULL});
        nftw(ROOT "/dest", rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
out:
    free(text);
    return 0;
}
