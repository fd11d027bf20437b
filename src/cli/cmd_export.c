/*
 * cmd_export.c - `aitag export --srt FILE | --vtt FILE MEDIA`: what was said in a video, from
 * the catalog's transcript (the texts the speech analyzer read: source "speech"), as SubRip or
 * WebVTT subtitles.
 *
 * One cue per spoken segment, in time order, its text wrapped at 42 characters a line (the
 * usual subtitle width). The file is written beside its final name and renamed over it, so a
 * failed or interrupted export leaves any earlier file whole; "-" writes to standard output.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define LINE_WIDTH 42

/* 01:02:03,456 (SubRip) or 01:02:03.456 (WebVTT). */
static void stamp(FILE *f, double t, char sep)
{
    long ms = (long)(t * 1000.0 + 0.5);

    if (ms < 0)
        ms = 0;
    fprintf(f, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, sep,
            ms % 1000);
}

/* Writes text wrapped at LINE_WIDTH on word boundaries. */
static void wrapped(FILE *f, const char *text)
{
    size_t col = 0;

    while (*text) {
        size_t n = strcspn(text, " ");
        if (col > 0 && col + 1 + n > LINE_WIDTH) {
            fputc('\n', f);
            col = 0;
        } else if (col > 0) {
            fputc(' ', f);
            col++;
        }
        fwrite(text, 1, n, f);
        col += n;
        text += n;
        while (*text == ' ')
            text++;
    }
    fputc('\n', f);
}

static int write_cues(FILE *f, const struct aitag_result *r, int vtt)
{
    int n = 0;

    if (vtt)
        fputs("WEBVTT\n\n", f);
    for (size_t i = 0; i < r->n_texts; i++) {
        const struct aitag_text_result *t = &r->texts[i];
        if (strcmp(t->source, "speech") != 0 || !t->text[0])
            continue;
        fprintf(f, "%d\n", ++n);
        stamp(f, t->start, vtt ? '.' : ',');
        fputs(" --> ", f);
        stamp(f, t->end > t->start ? t->end : t->start + 1, vtt ? '.' : ',');
        fputc('\n', f);
        wrapped(f, t->text);
        fputc('\n', f);
    }
    return n;
}

static int export_to(const char *out, const struct aitag_result *r, int vtt, int *cues)
{
    char tmp[PATH_MAX];
    FILE *f;
    int ok;

    if (strcmp(out, "-") == 0) {
        *cues = write_cues(stdout, r, vtt);
        return fflush(stdout) == 0 ? 0 : -1;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    *cues = write_cues(f, r, vtt);
    ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, out) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    struct aitag_catalog *c = NULL;
    struct aitag_opts o;
    struct aitag_media_row row;
    struct aitag_result res = {0};
    const char *srt, *vtt, *out;
    char abs[PATH_MAX];
    const char *path;
    int rc, cues = 0;

    if ((rc = cli_options(&o, "export", argc, argv)) >= 0)
        goto out;
    rc = EXIT_USAGE;
    cli_setup_logging(&o, NULL, NULL);
    srt = aitag_opts_str(&o, "srt");
    vtt = aitag_opts_str(&o, "vtt");
    if (o.n_args != 1 || (!srt == !vtt)) {
        fprintf(stderr, "aitag export: give one of --srt FILE or --vtt FILE, and one video "
                        "(see aitag export --help)\n");
        goto out;
    }
    out = srt ? srt : vtt;
    path = o.args[0];
    if (path[0] != '/' && getcwd(abs, sizeof abs)) {
        size_t l = strlen(abs);
        snprintf(abs + l, sizeof abs - l, "/%s", path);
        path = abs;
    }
    rc = cli_open_catalog(&o, "export", 1, &c);
    if (rc != 0) {
        fprintf(stderr, "aitag export: %s: not in the catalog (run aitag tag first)\n", path);
        rc = rc < 0 ? EXIT_SETUP : EXIT_ITEMS_FAILED;
        goto out;
    }
    rc = aitag_catalog_find_media(c, path, &row);
    if (rc == AITAG_ERR_NOTFOUND) {
        fprintf(stderr, "aitag export: %s: not in the catalog (run aitag tag first)\n", path);
        rc = EXIT_ITEMS_FAILED;
        goto out;
    }
    if (rc == 0)
        rc = aitag_catalog_load_result(c, row.id, &res);
    if (rc < 0) {
        fprintf(stderr, "aitag export: %s\n", aitag_catalog_errmsg(c));
        rc = EXIT_SETUP;
        goto out;
    }
    if (export_to(out, &res, vtt != NULL, &cues) < 0) {
        fprintf(stderr, "aitag export: %s: %s\n", out, strerror(errno));
        rc = EXIT_ITEMS_FAILED;
        goto out;
    }
    if (cues == 0)
        fprintf(stderr, "aitag export: %s: no transcript (tag it with --analyzers speech)\n", path);
    rc = EXIT_OK;
out:
    aitag_result_clear(&res);
    aitag_catalog_close(c);
    aitag_opts_free(&o);
    return rc;
}
