/* walk.h - expanding command-line paths into the list of media files to consider. */
#ifndef AITAG_PIPELINE_WALK_H
#define AITAG_PIPELINE_WALK_H

#include <stddef.h>

struct walk_entry {
    char *path;  /* absolute, normalised; owned */
    char *error; /* owned; non-NULL when the entry can't be used (missing, loop, ...) */
};

struct walk_list {
    struct walk_entry *items;
    size_t n, cap;
};

/* Appends the files named by path: a file as itself (whatever its extension), a folder
 * recursively (files with a known media extension, sorted, hidden entries skipped). Problems
 * become entries with an error. Returns 0 or AITAG_ERR_NOMEM. */
int pipeline_walk_path(struct walk_list *l, const char *path);
/* Drops entries that name a file already in the list: the same real path (through another
 * folder given, or a symlink and its target) is one item. The entry whose path is the real
 * path is kept, else the first; order is kept. Returns 0 or AITAG_ERR_NOMEM. */
int pipeline_walk_dedupe(struct walk_list *l);
/* Makes path absolute and normal ("." and ".." folded, no duplicate or trailing slash) without
 * resolving symlinks, as pipeline_walk_path names entries. 0, or -1 when it does not fit in len. */
int pipeline_walk_absolute(const char *path, char *out, size_t len);
/* Appends path as it is (no stat, no expansion), with error when not NULL. 0 or
 * AITAG_ERR_NOMEM. */
int pipeline_walk_add(struct walk_list *l, const char *path, const char *error);
void pipeline_walk_list_free(struct walk_list *l);

#endif
