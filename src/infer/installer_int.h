/* installer_int.h - helpers shared by installer.c (downloads) and installer_local.c (add,
 * remove): file-system steps that must not leave half-written files behind. */
#ifndef AITAG_INSTALLER_INT_H
#define AITAG_INSTALLER_INT_H

#include <stddef.h>

/* 1 when rel is a safe relative path inside a folder: not empty, not absolute, no ".."
 * component, no backslash or control characters. */
int infer_inst_safe_relpath(const char *rel);
/* 1 when name is a usable model name: [A-Za-z0-9._-], 1-100 chars, not starting with '.'. */
int infer_inst_safe_name(const char *name);
/* mkdir -p of path's parent folders (path itself when is_dir). Returns 0 or AITAG_ERR_IO. */
int infer_inst_mkdirs(const char *path, int is_dir);
/* Writes data to path through path.tmp + fsync + rename. Returns 0 or AITAG_ERR_IO. */
int infer_inst_write_atomic(const char *path, const char *data, size_t len);

#endif
