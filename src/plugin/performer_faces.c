/*
 * performer_faces.c - the performers a user already has in Stash are recognised before any
 * clustering: each performer's image is embedded once and becomes a reference face of the
 * matching person (aitag/people.h, aitag_people_add_reference), linked to the performer.
 *
 * Runs before the people engine's update at the end of a plugin run (and in the "Sync people
 * to performers" task), so faces of that run join known performers rather than forming new
 * people. An image is fetched only when its URL (which Stash changes with the image) differs
 * from the one recorded, so a re-run fetches nothing. The image goes through a private
 * temporary file (FFmpeg reads files) that is removed at once.
 *
 * Kill safety: the reference is stored after its person, and the link after the reference;
 * an interrupted image is fetched again by the next run (its URL was not recorded yet or its
 * person is found by name), never duplicated. Nothing on the performer is changed here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/catalog.h"
#include "aitag/people.h"
#include "plugin_int.h"

struct match {
    struct aitag_stash *stash;
    struct aitag_tagger *tagger;
    struct aitag_catalog *cat;
    struct aitag_people_params params;
    atomic_int *cancel;
    struct plugin_performer_faces *n;
    char **seen; /* ids of performers with an image */
    size_t n_seen, cap_seen;
    int db_failed;
};

/* The file name ending that says what the bytes are (FFmpeg probes image files by it too). */
static const char *image_suffix(const unsigned char *d, size_t len)
{
    if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return ".jpg";
    if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return ".png";
    if (len >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
        return ".gif";
    if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return ".webp";
    return NULL;
}

/* Writes the image to a new private temporary file, its name into path. */
static int write_temp(const unsigned char *data, size_t len, const char *suffix, char *path,
                      size_t pathlen)
{
    const char *dir = getenv("TMPDIR");
    int fd, rc = 0;

    aitag_fmt(path, pathlen, "%s/aitag-performer-XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    fd = mkstemps(path, (int)strlen(suffix));
    if (fd < 0)
        return AITAG_ERR_IO;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) {
            rc = AITAG_ERR_IO;
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        rc = AITAG_ERR_IO;
    if (rc < 0)
        unlink(path);
    return rc;
}

/* The performer's best face: 1 with *emb filled, 0 none, < 0 failure (logged). */
static int performer_face(struct match *m, const struct aitag_stash_performer *p, float **emb,
                          size_t *dim, float *quality, char *model, size_t model_len)
{
    unsigned char *data = NULL;
    const char *suffix;
    char path[4096], err[512] = "";
    size_t len = 0;
    int rc;

    rc = aitag_stash_download(m->stash, p->image_path, &data, &len);
    if (rc < 0) {
        aitag_log(AITAG_LOG_WARN, "plugin", "performer %s (%s): image not fetched: %s", p->id,
                  p->name, aitag_stash_errmsg(m->stash));
        return rc;
    }
    suffix = image_suffix(data, len);
    if (!suffix) {
        aitag_log(AITAG_LOG_WARN, "plugin",
                  "performer %s (%s): the image is not JPEG, PNG, GIF or WebP: no face taken",
                  p->id, p->name);
        free(data);
        return 0;
    }
    rc = write_temp(data, len, suffix, path, sizeof path);
    free(data);
    if (rc < 0) {
        aitag_log(AITAG_LOG_WARN, "plugin", "performer %s (%s): cannot write a temporary file: %s",
                  p->id, p->name, path);
        return rc;
    }
    rc = aitag_tagger_best_face(m->tagger, path, emb, dim, quality, model, model_len, err,
                                sizeof err);
    unlink(path);
    if (rc < 0)
        aitag_log(AITAG_LOG_WARN, "plugin", "performer %s (%s): image not analysed: %s", p->id,
                  p->name, err);
    return rc;
}

static int remember(struct match *m, const char *id)
{
    if (m->n_seen == m->cap_seen) {
        size_t nc = m->cap_seen ? m->cap_seen * 2 : 64;
        char **g = realloc(m->seen, nc * sizeof *g);
        if (!g)
            return AITAG_ERR_NOMEM;
        m->seen = g, m->cap_seen = nc;
    }
    if (!(m->seen[m->n_seen] = strdup(id)))
        return AITAG_ERR_NOMEM;
    m->n_seen++;
    return 0;
}

/* Links person pid to the performer unless it is linked (to it, or to another one). */
static int link_performer(struct match *m, const struct aitag_stash_performer *p, int64_t pid)
{
    char *linked = NULL;
    int rc = aitag_catalog_stash_performer(m->cat, pid, &linked, NULL);

    if (rc == 0) {
        if (strcmp(linked, p->id) != 0)
            aitag_log(AITAG_LOG_INFO, "plugin",
                      "performer %s (%s): person %lld is linked to performer %s already", p->id,
                      p->name, (long long)pid, linked);
        free(linked);
        return 0;
    }
    if (rc != AITAG_ERR_NOTFOUND)
        return rc;
    return aitag_catalog_stash_link(m->cat, pid, p->id, 0);
}

static int one_performer(void *ctx, const struct aitag_stash_performer *p)
{
    struct match *m = ctx;
    struct aitag_people_ref ref = {"stash", p->id, p->image_path, p->name, 0, NULL, NULL, 0, 0};
    enum aitag_people_ref_outcome how;
    float *emb = NULL;
    char key[4096], model[256], err[512] = "";
    int64_t pid = 0;
    int rc;

    if (m->cancel && atomic_load(m->cancel))
        return AITAG_ERR_CANCELED;
    m->n->performers++;
    if (remember(m, p->id) < 0)
        return AITAG_ERR_NOMEM;
    rc = aitag_catalog_person_ref(m->cat, "stash", p->id, key, sizeof key, &pid);
    if (rc == 0 && strcmp(key, p->image_path) == 0) {
        m->n->unchanged++;
        return 0;
    }
    if (rc < 0 && rc != AITAG_ERR_NOTFOUND)
        goto db;
    rc = aitag_catalog_stash_person_of(m->cat, p->id, &ref.person_id);
    if (rc < 0 && rc != AITAG_ERR_NOTFOUND)
        goto db;
    rc = performer_face(m, p, &emb, &ref.dim, &ref.quality, model, sizeof model);
    if (rc < 0) {
        m->n->failed++;
        return 0; /* tried again next run */
    }
    m->n->embedded++;
    ref.embedding = emb;
    ref.model = rc ? model : NULL;
    rc = aitag_people_add_reference(m->cat, &m->params, &ref, &pid, &how, err, sizeof err);
    free(emb);
    if (rc == AITAG_ERR_INVALID) { /* a name the catalog refuses: seen, nobody made */
        aitag_log(AITAG_LOG_WARN, "plugin", "performer %s (%s): %s", p->id, p->name, err);
        ref.embedding = NULL;
        rc = aitag_people_add_reference(m->cat, &m->params, &ref, &pid, &how, err, sizeof err);
    }
    if (rc < 0)
        goto db;
    if (pid && (rc = link_performer(m, p, pid)) < 0)
        goto db;
    switch (how) {
    case AITAG_REF_LINKED:
        m->n->linked++;
        break;
    case AITAG_REF_ADOPTED:
        m->n->adopted++;
        break;
    case AITAG_REF_CREATED:
        m->n->created++;
        break;
    case AITAG_REF_CONFLICT:
        m->n->conflicts++;
        break;
    case AITAG_REF_NO_FACE:
        m->n->no_face++;
        break;
    }
    if (pid)
        aitag_log(AITAG_LOG_INFO, "plugin", "performer %s (%s): %s person %lld", p->id, p->name,
                  how == AITAG_REF_ADOPTED   ? "recognised as"
                  : how == AITAG_REF_CREATED ? "new"
                                             : "reference face of",
                  (long long)pid);
    else
        aitag_log(AITAG_LOG_INFO, "plugin", "performer %s (%s): %s", p->id, p->name,
                  how == AITAG_REF_CONFLICT ? "the face is another person's: left alone"
                                            : "no usable face in the image");
    return 0;
db:
    m->db_failed = 1;
    return rc < 0 ? rc : AITAG_ERR_DB;
}

int plugin_match_performers(struct aitag_stash *s, struct aitag_tagger *t, const char *catalog_path,
                            atomic_int *cancel, struct plugin_performer_faces *counts, char *err,
                            size_t errlen)
{
    struct match m = {.stash = s, .tagger = t, .cancel = cancel, .n = counts};
    int rc;

    memset(counts, 0, sizeof *counts);
    aitag_people_default_params(&m.params);
    rc = aitag_catalog_open(catalog_path, 0, &m.cat, err, errlen);
    if (rc < 0)
        return rc;
    rc = aitag_stash_each_performer_with_image(s, one_performer, &m);
    if (rc == AITAG_ERR_CANCELED)
        aitag_fmt(err, errlen, "stopped on request");
    else if (rc < 0 && m.db_failed)
        aitag_fmt(err, errlen, "%s: %s", catalog_path,
                  rc == AITAG_ERR_NOMEM ? "out of memory" : aitag_catalog_errmsg(m.cat));
    else if (rc < 0)
        aitag_fmt(err, errlen, "Stash: %s", aitag_stash_errmsg(s));
    /* a complete listing: references of performers no longer there go */
    if (rc == 0 && aitag_catalog_drop_person_refs(m.cat, "stash", (const char *const *)m.seen,
                                                  m.n_seen, &counts->dropped) < 0) {
        aitag_fmt(err, errlen, "%s: %s", catalog_path, aitag_catalog_errmsg(m.cat));
        rc = AITAG_ERR_DB;
    }
    for (size_t i = 0; i < m.n_seen; i++)
        free(m.seen[i]);
    free(m.seen);
    aitag_catalog_close(m.cat);
    return rc;
}
