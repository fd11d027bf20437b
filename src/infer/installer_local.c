/*
 * installer_local.c - `aitag models add|remove`: bringing a user's own ONNX file and manifest
 * into the user models dir, and taking them out again.
 *
 * Adding is checked before anything lands in the models dir: the files are staged in a hidden
 * folder beside it (same file system, so the final step is a rename), the staged copy is
 * opened through the ordinary manifest parser and ONNX Runtime (checksum, declared outputs),
 * and one run on a zero input of the manifest's shape must give outputs of the shape the
 * task's decoder reads. Only then do the weights and the manifest move into place; on any
 * failure the staging folder is deleted and the models dir is as it was. No curl here, so
 * programs that never install from the network do not link it.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "aitag/infer.h"
#include "aitag/models.h"
#include "installer_int.h"

int infer_inst_safe_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    return n > 0 && n <= 100 && name[0] != '.' &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int infer_inst_safe_relpath(const char *rel)
{
    const char *p = rel;

    if (!rel || !*rel || rel[0] == '/' || strlen(rel) > 1000)
        return 0;
    for (const char *c = rel; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == '\\')
            return 0;
    while (p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.') || (len == 1 && p[0] == '.'))
            return 0;
        p = e ? e + 1 : NULL;
    }
    return 1;
}

int infer_inst_mkdirs(const char *path, int is_dir)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n >= sizeof buf)
        return AITAG_ERR_IO;
    memcpy(buf, path, n + 1);
    if (!is_dir) {
        char *slash = strrchr(buf, '/');
        if (!slash)
            return 0;
        *slash = '\0';
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return AITAG_ERR_IO;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return AITAG_ERR_IO;
    return 0;
}

int infer_inst_write_atomic(const char *path, const char *data, size_t len)
{
    char tmp[4200];
    FILE *f;
    int ok;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f)
        return AITAG_ERR_IO;
    ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return AITAG_ERR_IO;
    }
    return 0;
}

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    size_t n;
    int ok = in && out;

    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in) && fflush(out) == 0 && fsync(fileno(out)) == 0;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok ? 0 : AITAG_ERR_IO;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Runs the staged model on zeros and checks its outputs against what the task reads. */
static int check_shapes(struct aitag_model *m, json_t *root, char *err, size_t errlen)
{
    json_t *names = json_object_get(root, "outputs");
    struct aitag_tensor *o0, *o1;
    const char *task = aitag_model_task(m), *dec = aitag_model_decoder(m);
    const int64_t *shape;
    struct aitag_tensor in = {0}, outs[8];
    size_t n_out = 0, n_labels = 0;
    int ndim, rc;

    aitag_model_labels(m, &n_labels);
    shape = aitag_model_input_shape(m, &ndim);
    in.ndim = ndim;
    in.count = 1;
    for (int i = 0; i < ndim; i++) {
        in.shape[i] = i == 0 && shape[i] < 0 ? 1 : shape[i];
        if (in.shape[i] <= 0) {
            snprintf(err, errlen, "manifest input.shape must be fixed after the batch dim");
            return AITAG_ERR_INVALID;
        }
        in.count *= (size_t)in.shape[i];
    }
    in.data = calloc(in.count, sizeof *in.data);
    if (!in.data)
        return AITAG_ERR_NOMEM;
    rc = aitag_model_run(m, &in, outs, 8, &n_out, err, errlen);
    free(in.data);
    if (rc < 0)
        return rc;
    rc = AITAG_ERR_INVALID;
    for (int k = 0; k < 2; k++) {
        const char *nm = json_string_value(json_array_get(names, (size_t)k));
        int idx = nm ? aitag_model_output_index(m, nm) : k;
        struct aitag_tensor **dst = k ? &o1 : &o0;
        *dst = idx >= 0 && (size_t)idx < n_out ? &outs[idx] : NULL;
    }
    if (!o0) {
        snprintf(err, errlen, "the model has no outputs");
    } else if (strcmp(task, "classifier") == 0) {
        if (o0->ndim < 1 || (size_t)o0->shape[o0->ndim - 1] != n_labels || o0->count != n_labels)
            snprintf(err, errlen,
                     "classifier output has %zu values per item, manifest has "
                     "%zu labels",
                     o0->count, n_labels);
        else
            rc = 0;
    } else if (strcmp(task, "detector") == 0 && strcmp(dec, "centernet") == 0) {
        if (o0->ndim != 3 || o0->shape[2] != 6)
            snprintf(err, errlen, "decoder centernet needs an output [1,N,6]");
        else
            rc = 0;
    } else if (strcmp(task, "detector") == 0 && strcmp(dec, "boxes_scores") == 0) {
        if (!o1 || o0->ndim != 3 || o0->shape[2] != 4 || o1->ndim != 3 ||
            o1->shape[1] != o0->shape[1] || (size_t)o1->shape[2] != n_labels)
            snprintf(err, errlen, "decoder boxes_scores needs outputs [1,N,4] and [1,N,%zu]",
                     n_labels);
        else
            rc = 0;
    } else if (strcmp(task, "embedder") == 0) {
        rc = 0;
    } else {
        snprintf(err, errlen,
                 "task \"%s\" decoder \"%s\" is not one a custom model can use "
                 "(classifier, detector centernet|boxes_scores, embedder)",
                 task, dec);
    }
    aitag_tensors_release(outs, n_out);
    return rc;
}

int aitag_models_add(const char *onnx_path, const char *manifest_path, const char *dest_dir,
                     char *err, size_t errlen)
{
    char stage[4096], path[4200], final[4200], hex[65], msg[512] = "";
    json_t *root = NULL;
    const char *name, *file, *sha;
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_model *m;
    int rc = AITAG_ERR_INVALID, staged = 0;

    root = json_load_file(manifest_path, 0, NULL);
    name = json_string_value(json_object_get(root, "name"));
    file = json_string_value(json_object_get(root, "file"));
    sha = json_string_value(json_object_get(root, "sha256"));
    if (!root || !infer_inst_safe_name(name) || !infer_inst_safe_relpath(file) || !sha) {
        snprintf(err, errlen,
                 "%s: not a manifest with a safe \"name\", a relative \"file\" and "
                 "\"sha256\" (docs/models.md)",
                 manifest_path);
        goto out;
    }
    if (aitag_sha256_file(onnx_path, hex) < 0) {
        snprintf(err, errlen, "%s: cannot read", onnx_path);
        rc = AITAG_ERR_IO;
        goto out;
    }
    if (strcasecmp(hex, sha) != 0) {
        snprintf(err, errlen, "%s: sha256 %s does not match the manifest's %s", onnx_path, hex,
                 sha);
        rc = AITAG_ERR_MODEL;
        goto out;
    }
    snprintf(final, sizeof final, "%s/%s.json", dest_dir, name);
    if (access(final, F_OK) == 0) {
        snprintf(err, errlen, "model %s is already in %s (aitag models remove %s first)", name,
                 dest_dir, name);
        goto out;
    }
    snprintf(final, sizeof final, "%s/%s", dest_dir, file);
    if (access(final, F_OK) == 0) {
        snprintf(err, errlen, "%s already exists (another model's weights?)", final);
        goto out;
    }
    snprintf(stage, sizeof stage, "%s/.add-%s-%ld", dest_dir, name, (long)getpid());
    rc = AITAG_ERR_IO;
    snprintf(path, sizeof path, "%s/%s", stage, file);
    if (infer_inst_mkdirs(stage, 1) < 0 || (staged = 1, infer_inst_mkdirs(path, 0) < 0) ||
        copy_file(onnx_path, path) < 0) {
        snprintf(err, errlen, "cannot copy %s into %s", onnx_path, stage);
        goto out;
    }
    snprintf(path, sizeof path, "%s/%s.json", stage, name);
    if (copy_file(manifest_path, path) < 0) {
        snprintf(err, errlen, "cannot copy %s into %s", manifest_path, stage);
        goto out;
    }
    ip.manifest_dir = stage;
    ip.weights_dir = stage;
    if ((rc = aitag_infer_new(&ip, &inf)) < 0)
        goto out;
    if ((rc = aitag_model_open(inf, name, &m)) < 0 || (rc = aitag_model_load(m)) < 0) {
        snprintf(err, errlen, "%s", aitag_infer_errmsg(inf));
        goto out;
    }
    if ((rc = check_shapes(m, root, msg, sizeof msg)) < 0) {
        snprintf(err, errlen, "%s: %s", name, msg);
        goto out;
    }
    rc = AITAG_ERR_IO;
    snprintf(path, sizeof path, "%s/%s", stage, file);
    snprintf(final, sizeof final, "%s/%s", dest_dir, file);
    if (infer_inst_mkdirs(final, 0) < 0 || rename(path, final) < 0) {
        snprintf(err, errlen, "cannot move the weights to %s", final);
        goto out;
    }
    snprintf(path, sizeof path, "%s/%s.json", stage, name);
    snprintf(final, sizeof final, "%s/%s.json", dest_dir, name);
    if (rename(path, final) < 0) {
        snprintf(err, errlen, "cannot move the manifest to %s", final);
        goto out;
    }
    rc = 0;
out:
    aitag_infer_free(inf);
    if (staged)
        nftw(stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    json_decref(root);
    return rc;
}

int aitag_models_remove(const char *name, const char *dest_dir, char *err, size_t errlen)
{
    char path[4200];
    json_t *root;
    const char *file;
    int rc = 0;

    if (!infer_inst_safe_name(name)) {
        snprintf(err, errlen, "'%s' is not a model name", name ? name : "");
        return AITAG_ERR_INVALID;
    }
    snprintf(path, sizeof path, "%s/%s.json", dest_dir, name);
    root = json_load_file(path, 0, NULL);
    if (!root) {
        snprintf(err, errlen, "no model %s in %s", name, dest_dir);
        return AITAG_ERR_NOTFOUND;
    }
    file = json_string_value(json_object_get(root, "file"));
    if (unlink(path) < 0)
        rc = AITAG_ERR_IO;
    if (rc == 0 && infer_inst_safe_relpath(file)) {
        snprintf(path, sizeof path, "%s/%s", dest_dir, file);
        if (unlink(path) < 0 && errno != ENOENT)
            rc = AITAG_ERR_IO;
    }
    if (rc < 0)
        snprintf(err, errlen, "cannot delete %s", path);
    json_decref(root);
    return rc;
}
