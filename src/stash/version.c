/*
 * version.c - which Stash is on the other end, and what its schema can take.
 *
 * The one capability that matters today is SceneMarker.end_seconds, added in Stash v0.28: a
 * document that names it fails validation as a whole on an older server, so every marker read
 * and write picks its variant from has_end. version{version} is "v0.30.1" for releases and may
 * carry a "-12-gabcdef" suffix on development builds; when it is missing or not a version at
 * all, the schema itself is asked (introspection of SceneMarkerCreateInput). Read once per
 * handle and cached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stash_int.h"

int stash_version_parse(const char *v, int *major, int *minor, int *patch)
{
    long part[3] = {0, 0, 0};
    const char *p = v;
    char *end;
    int i;

    *major = *minor = *patch = 0;
    if (!v)
        return AITAG_ERR_INVALID;
    while (*p == ' ')
        p++;
    if (*p == 'v' || *p == 'V')
        p++;
    for (i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9') {
            if (i < 2)
                return AITAG_ERR_INVALID; /* at least major.minor */
            break;
        }
        errno = 0;
        part[i] = strtol(p, &end, 10);
        if (errno || part[i] > 100000)
            return AITAG_ERR_INVALID;
        p = end;
        if (i < 2) {
            if (*p != '.') {
                if (i == 0)
                    return AITAG_ERR_INVALID;
                i++;
                break;
            }
            p++;
        }
    }
    *major = (int)part[0];
    *minor = (int)part[1];
    *patch = (int)part[2];
    return 0;
}

/* Introspection: does SceneMarkerCreateInput have end_seconds? */
static int probe_marker_end(struct aitag_stash *s, int *has_end)
{
    json_t *data = NULL, *fields, *f;
    const char *name;
    size_t i;
    int rc;

    *has_end = 0;
    rc = stash_gql(s, stash_doc_marker_fields, NULL, 0, &data);
    if (rc < 0)
        return rc;
    fields = json_object_get(json_object_get(data, "__type"), "inputFields");
    json_array_foreach(fields, i, f)
    {
        name = stash_json_str(f, "name");
        if (name && strcmp(name, "end_seconds") == 0)
            *has_end = 1;
    }
    json_decref(data);
    return 0;
}

int stash_version_load(struct aitag_stash *s)
{
    json_t *data = NULL;
    const char *v;
    int rc, major, minor, patch, has_end;

    if (s->version_state)
        return 0;
    rc = stash_gql(s, stash_doc_version, NULL, 0, &data);
    if (rc < 0)
        return rc;
    v = stash_json_str(json_object_get(data, "version"), "version");
    aitag_fmt(s->version, sizeof s->version, "%s", v ? v : "");
    if (stash_version_parse(v, &major, &minor, &patch) == 0) {
        has_end = major > 0 || minor >= 28;
    } else {
        rc = probe_marker_end(s, &has_end);
        if (rc < 0)
            goto out;
    }
    s->has_end = has_end;
    s->version_state = 1;
    aitag_log(AITAG_LOG_DEBUG, "stash", "event=version version=%s marker_end=%d",
              s->version[0] ? s->version : "unknown", has_end);
out:
    json_decref(data);
    return rc;
}

int aitag_stash_version(struct aitag_stash *s, char *buf, size_t len)
{
    int rc;

    if (!buf || len == 0)
        return stash_fail(s, AITAG_ERR_INVALID, "version", "no buffer");
    buf[0] = '\0';
    rc = stash_version_load(s);
    if (rc < 0)
        return rc;
    aitag_fmt(buf, len, "%s", s->version[0] ? s->version : "unknown");
    return 0;
}

int aitag_stash_has_marker_end(struct aitag_stash *s)
{
    int rc = stash_version_load(s);

    return rc < 0 ? rc : s->has_end;
}
