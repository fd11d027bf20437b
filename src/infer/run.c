/*
 * run.c - running a model: checking the input against the manifest, one OrtSession Run, and
 * copying the outputs into malloc'd float buffers the caller owns.
 *
 * The input tensor wraps the caller's buffer without a copy (CreateTensorWithDataAsOrtValue);
 * outputs are allocated by ORT and copied out so that callers never hold ORT memory and can
 * free results with plain free(). Run is safe from several threads on one shared session; all
 * per-call state lives on the stack and messages go to the caller's errbuf, never to the
 * context. Shape mismatches are caught here, with the manifest named, before ORT sees them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_int.h"

static int check_input(const struct aitag_model *m, const struct aitag_tensor *in, char *err,
                       size_t errlen)
{
    size_t count = 1;
    int i;

    if (!in || !in->data || in->ndim != m->input_ndim) {
        snprintf(err, errlen, "model %s: input must have %d dims (%s), got %d", m->name,
                 m->input_ndim, m->manifest_path, in ? in->ndim : 0);
        return AITAG_ERR_MODEL;
    }
    for (i = 0; i < in->ndim; i++) {
        if (in->shape[i] < 1 || (m->input_shape[i] > 0 && in->shape[i] != m->input_shape[i])) {
            snprintf(err, errlen, "model %s: input dim %d is %lld, the manifest %s says %lld",
                     m->name, i, (long long)in->shape[i], m->manifest_path,
                     (long long)m->input_shape[i]);
            return AITAG_ERR_MODEL;
        }
        count *= (size_t)in->shape[i];
    }
    if (count != in->count) {
        snprintf(err, errlen, "model %s: input count %zu does not match its shape (%zu)", m->name,
                 in->count, count);
        return AITAG_ERR_MODEL;
    }
    return 0;
}

/* Copies one ORT output into t. */
static int copy_output(const OrtApi *api, const OrtValue *v, const char *name,
                       struct aitag_tensor *t, char *err, size_t errlen)
{
    OrtTensorTypeAndShapeInfo *info = NULL;
    ONNXTensorElementDataType type;
    size_t ndim = 0, count = 0;
    float *src = NULL;
    int rc;

    rc = infer_ort_check(api, api->GetTensorTypeAndShape(v, &info), "output shape", err, errlen);
    if (rc < 0)
        return rc;
    if ((rc = infer_ort_check(api, api->GetTensorElementType(info, &type), "output type", err,
                              errlen)) < 0 ||
        (rc = infer_ort_check(api, api->GetDimensionsCount(info, &ndim), "output dims", err,
                              errlen)) < 0)
        goto out;
    if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || ndim > INFER_MAX_DIMS) {
        snprintf(err, errlen, "output %s: only float tensors of up to %d dims are supported", name,
                 INFER_MAX_DIMS);
        rc = AITAG_ERR_MODEL;
        goto out;
    }
    if ((rc = infer_ort_check(api, api->GetDimensions(info, t->shape, ndim), "output dims", err,
                              errlen)) < 0 ||
        (rc = infer_ort_check(api, api->GetTensorShapeElementCount(info, &count), "output count",
                              err, errlen)) < 0 ||
        (rc = infer_ort_check(api, api->GetTensorMutableData((OrtValue *)v, (void **)&src),
                              "output data", err, errlen)) < 0)
        goto out;
    t->ndim = (int)ndim;
    t->count = count;
    t->data = malloc(count ? count * sizeof(float) : 1);
    if (!t->data) {
        snprintf(err, errlen, "output %s: out of memory", name);
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    if (count)
        memcpy(t->data, src, count * sizeof(float));
out:
    api->ReleaseTensorTypeAndShapeInfo(info);
    return rc;
}

#define MAX_EXTRA 7 /* further named inputs of one run */

int aitag_model_run(struct aitag_model *m, const struct aitag_tensor *in, struct aitag_tensor *out,
                    size_t max_out, size_t *n_out, char *errbuf, size_t errlen)
{
    return aitag_model_run_inputs(m, in, NULL, 0, out, max_out, n_out, errbuf, errlen);
}

int aitag_model_run_inputs(struct aitag_model *m, const struct aitag_tensor *in,
                           const struct aitag_named_input *extra, size_t n_extra,
                           struct aitag_tensor *out, size_t max_out, size_t *n_out, char *errbuf,
                           size_t errlen)
{
    char local[512];
    const OrtApi *api = m->inf->api;
    OrtValue *inputs[1 + MAX_EXTRA] = {NULL}, *outs[32] = {NULL};
    const char *in_names[1 + MAX_EXTRA];
    size_t k = 0, i, done = 0;
    int rc;

    *n_out = 0;
    if (!errbuf || !errlen) {
        errbuf = local;
        errlen = sizeof local;
    }
    errbuf[0] = '\0';
    rc = infer_model_ensure_loaded(m, errbuf, errlen);
    if (rc < 0)
        return AITAG_ERR_MODEL;
    rc = check_input(m, in, errbuf, errlen);
    if (rc < 0)
        return rc;
    k = m->n_sess_outputs < max_out ? m->n_sess_outputs : max_out;
    if (k == 0 || k > sizeof outs / sizeof outs[0]) {
        snprintf(errbuf, errlen, "model %s: asked for %zu of its %zu outputs", m->name, max_out,
                 m->n_sess_outputs);
        return AITAG_ERR_MODEL;
    }
    if (n_extra > MAX_EXTRA) {
        snprintf(errbuf, errlen, "model %s: %zu further inputs (at most %d)", m->name, n_extra,
                 MAX_EXTRA);
        return AITAG_ERR_MODEL;
    }
    memset(out, 0, k * sizeof *out);
    rc = infer_ort_check(api,
                         api->CreateTensorWithDataAsOrtValue(
                             m->inf->mem, in->data, in->count * sizeof(float), in->shape,
                             (size_t)in->ndim, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &inputs[0]),
                         "input tensor", errbuf, errlen);
    if (rc < 0)
        goto out;
    in_names[0] = m->input_name;
    for (i = 0; i < n_extra; i++) {
        size_t size = extra[i].is_int64 ? sizeof(int64_t) : sizeof(float);
        rc = infer_ort_check(api,
                             api->CreateTensorWithDataAsOrtValue(
                                 m->inf->mem, (void *)extra[i].data, extra[i].count * size,
                                 extra[i].shape, (size_t)extra[i].ndim,
                                 extra[i].is_int64 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64
                                                   : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
                                 &inputs[1 + i]),
                             extra[i].name, errbuf, errlen);
        if (rc < 0)
            goto out;
        in_names[1 + i] = extra[i].name;
    }
    rc = infer_ort_check(api,
                         api->Run(m->session, NULL, in_names, (const OrtValue *const *)inputs,
                                  1 + n_extra, (const char *const *)m->sess_outputs, k, outs),
                         m->name, errbuf, errlen);
    if (rc < 0)
        goto out;
    for (i = 0; i < k; i++) {
        rc = copy_output(api, outs[i], m->sess_outputs[i], &out[i], errbuf, errlen);
        if (rc < 0)
            goto out;
        done = i + 1;
    }
    *n_out = k;
    done = 0; /* ownership moved to the caller */
    m->runs++;
    m->items += in->ndim > 0 && in->shape[0] > 0 ? (unsigned long long)in->shape[0] : 1;
out:
    aitag_tensors_release(out, done);
    for (i = 0; i < k; i++) {
        if (outs[i])
            api->ReleaseValue(outs[i]);
    }
    for (i = 0; i <= n_extra; i++) {
        if (inputs[i])
            api->ReleaseValue(inputs[i]);
    }
    return rc < 0 ? AITAG_ERR_MODEL : 0;
}

int aitag_model_output_index(struct aitag_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_sess_outputs; i++) {
        if (strcmp(m->sess_outputs[i], name) == 0)
            return (int)i;
    }
    return -1;
}

void aitag_tensors_release(struct aitag_tensor *t, size_t n)
{
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        free(t[i].data);
        t[i].data = NULL;
        t[i].count = 0;
    }
}
