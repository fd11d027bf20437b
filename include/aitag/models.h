/*
 * aitag/models.h - models the user brings: custom analyzers made from a manifest, adding and
 * removing them, and installing published models from a catalog.
 *
 * Usage:
 *     char err[512];
 *     // Custom models: every classifier/detector/embedder manifest in dir becomes an analyzer.
 *     int n = aitag_analyzer_registry_load(dir, dir, err, sizeof err);
 *     const struct aitag_analyzer_ops *ops = aitag_analyzer_find("my-classifier");
 *
 *     aitag_models_add("net.onnx", "net.json", dir, err, sizeof err);  // verify + copy in
 *     aitag_models_remove("net", dir, err, sizeof err);
 *
 *     struct aitag_install_params ip = aitag_install_default_params();
 *     ip.catalog = "models/catalog/catalog.json";   // a file or an http(s):// URL
 *     ip.dest_dir = dir;
 *     aitag_models_install(&ip, "clip-vit-b32-vision", err, sizeof err);
 *
 * The user models dir holds manifests and weights side by side (a manifest's "file" is
 * relative to it). docs/models.md ("Custom models", "Installing models") has the formats.
 * Nothing here runs unless the program calls it: the library never downloads on its own.
 */
#ifndef AITAG_MODELS_H
#define AITAG_MODELS_H

#include <stddef.h>

#include "aitag/common.h"

/* Makes an analyzer of every manifest in manifest_dir whose task is "classifier", "detector"
 * (decoder "centernet" or "boxes_scores") or "embedder"; its name is the manifest's "analyzer"
 * key or else the manifest name. Weights are looked up in weights_dir. Names already taken
 * (built-ins, or a custom analyzer registered earlier) are skipped with a warning; a manifest
 * that does not parse is skipped with a warning. A missing manifest_dir is not an error.
 * At most AITAG_MAX_CUSTOM_ANALYZERS stay registered, for the life of the process.
 * Thread-safe (serialised with aitag_analyzer_find). Returns the number added, or < 0. */
#define AITAG_MAX_CUSTOM_ANALYZERS 32
int aitag_analyzer_registry_load(const char *manifest_dir, const char *weights_dir, char *err,
                                 size_t errlen);

/* Adds a custom model to dest_dir (created if missing): checks that the manifest parses, that
 * onnx_path's sha256 equals the manifest's, that ONNX Runtime loads the file and that a run on
 * a zero input of the manifest's shape gives outputs of the shape its task needs; then copies
 * the weights to dest_dir/<manifest "file"> and the manifest to dest_dir/<name>.json. Nothing
 * is left behind on failure. Returns 0, AITAG_ERR_INVALID (bad manifest, shapes),
 * AITAG_ERR_MODEL (checksum, load), AITAG_ERR_IO; err says which. */
int aitag_models_add(const char *onnx_path, const char *manifest_path, const char *dest_dir,
                     char *err, size_t errlen);

/* Removes dest_dir/<name>.json and the weights file it names. Returns 0, AITAG_ERR_NOTFOUND. */
int aitag_models_remove(const char *name, const char *dest_dir, char *err, size_t errlen);

struct aitag_install_params {
    const char *catalog;    /* catalog file path, or an http://, https:// or file:// URL */
    const char *dest_dir;   /* the user models dir: files and the manifest go here */
    long connect_timeout_s; /* default 30 */
    long low_speed_s;       /* abort when below 1 KB/s for this long; default 60 */
    int quiet;              /* no progress meter on stderr; default 1 */
    long long max_bytes;    /* a file the catalog gives no size for stops here (the .part
                               deleted); default 4 GiB */
};

struct aitag_install_params aitag_install_default_params(void);

/* Installs catalog entry `name`: downloads each file into <dest>.part (resuming a .part left
 * by an interrupted run with an HTTP Range request), checks its size and sha256 (a mismatch
 * deletes the .part), renames it into place, then writes the entry's manifest as
 * dest_dir/<manifest name>.json with "sha256" set to the weights' checksum. Files already in
 * place with the right checksum are not downloaded again. A catalog sha256 of null means "not
 * pinned": the computed checksum is recorded and *unpinned (when not NULL) counts such files.
 * Returns 0, AITAG_ERR_NOTFOUND (no such entry), AITAG_ERR_NET, AITAG_ERR_MODEL (checksum or
 * size mismatch), AITAG_ERR_INVALID (bad catalog), AITAG_ERR_IO. */
int aitag_models_install(const struct aitag_install_params *p, const char *name, int *unpinned,
                         char *err, size_t errlen);

/* Lists catalog entries as "name\tlicence\tdescription" strings; caller frees each and the
 * array. Returns 0 or < 0 with err set. */
int aitag_models_catalog_list(const struct aitag_install_params *p, char ***lines, size_t *n,
                              char *err, size_t errlen);

#endif
