/*
 * util.c - the converter's plumbing: a chunked arena (one conversion, one free), failure by
 * longjmp with a message naming the node, base64 (model.json stores string attributes that
 * way; decoded by aitag_base64_decode), IEEE half -> float, and host tensors with typed
 * element access.
 *
 * Failing by longjmp keeps the op handlers short: every check is one line, and since all
 * memory is in the arena and the caller owns the jansson tree, nothing leaks on the way out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/common.h"
#include "convert_int.h"

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[];
};

#define ARENA_CHUNK (1u << 20)

void *conv_alloc(struct conv *c, size_t n)
{
    struct arena_chunk *a = c->arena;
    size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    void *p;

    if (need == 0)
        need = sizeof(max_align_t);
    if (!a || a->size - a->used < need) {
        size_t size = need > ARENA_CHUNK / 4 ? need : ARENA_CHUNK;
        struct arena_chunk *nc = malloc(sizeof *nc + size);
        if (!nc)
            conv_fail(c, AITAG_ERR_NOMEM, "out of memory (%zu bytes)", n);
        nc->used = 0;
        nc->size = size;
        if (size == need && a) {
            /* a dedicated chunk for a big block: keep filling the current one */
            nc->next = a->next;
            a->next = nc;
        } else {
            nc->next = a;
            c->arena = nc;
        }
        a = nc;
    }
    p = (char *)a->data + a->used;
    a->used += need;
    memset(p, 0, n);
    return p;
}

void conv_arena_free(struct conv *c)
{
    struct arena_chunk *a = c->arena, *next;

    for (; a; a = next) {
        next = a->next;
        free(a);
    }
    c->arena = NULL;
}

char *conv_strdup(struct conv *c, const char *s)
{
    size_t n = strlen(s);
    char *d = conv_alloc(c, n + 1);

    memcpy(d, s, n);
    return d;
}

char *conv_printf(struct conv *c, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *d;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        conv_fail(c, AITAG_ERR_INVALID, "bad format");
    d = conv_alloc(c, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

_Noreturn void conv_fail(struct conv *c, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->rc = rc;
    longjmp(c->jmp, 1);
}

_Noreturn void conv_fail_node(struct conv *c, const char *fmt, ...)
{
    char msg[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->cur)
        conv_fail(c, AITAG_ERR_MODEL, "node \"%s\" (op %s): %s", c->cur->name, c->cur->op, msg);
    conv_fail(c, AITAG_ERR_MODEL, "%s", msg);
}

uint8_t *conv_base64(struct conv *c, const char *s, size_t *len)
{
    uint8_t *d = conv_alloc(c, AITAG_BASE64_DECODED_MAX(strlen(s)));

    return aitag_base64_decode(s, d, len) == 0 ? d : NULL;
}

float conv_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    uint32_t bits;
    float f;

    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400u)) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ffu;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    memcpy(&f, &bits, sizeof f);
    return f;
}

size_t conv_dtype_size(int dtype)
{
    switch (dtype) {
    case DT_FLOAT:
    case DT_INT32:
        return 4;
    case DT_INT64:
        return 8;
    case DT_UINT8:
    case DT_BOOL:
        return 1;
    default:
        return 0;
    }
}

const char *conv_dtype_name(int dtype)
{
    switch (dtype) {
    case DT_FLOAT:
        return "float32";
    case DT_INT32:
        return "int32";
    case DT_INT64:
        return "int64";
    case DT_UINT8:
        return "uint8";
    case DT_BOOL:
        return "bool";
    default:
        return "unknown";
    }
}

struct ctensor *conv_ctensor_new(struct conv *c, int dtype, int ndim, const int64_t *dims)
{
    struct ctensor *t = conv_alloc(c, sizeof *t);
    size_t count = 1;

    if (ndim < 0 || ndim > CONV_MAX_DIMS)
        conv_fail_node(c, "constant of rank %d", ndim);
    if (conv_dtype_size(dtype) == 0)
        conv_fail_node(c, "constant of unsupported type %d", dtype);
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && count > ((size_t)1 << 40) / (size_t)dims[i]))
            conv_fail_node(c, "constant with bad dim %lld", (long long)dims[i]);
        t->dims[i] = dims[i];
        count *= (size_t)dims[i];
    }
    t->dtype = dtype;
    t->ndim = ndim;
    t->count = count;
    t->data = conv_alloc(c, count * conv_dtype_size(dtype));
    return t;
}

double conv_ctensor_get(const struct ctensor *t, size_t i)
{
    switch (t->dtype) {
    case DT_FLOAT:
        return ((const float *)t->data)[i];
    case DT_INT32:
        return ((const int32_t *)t->data)[i];
    case DT_INT64:
        return (double)((const int64_t *)t->data)[i];
    default:
        return ((const uint8_t *)t->data)[i];
    }
}

int64_t conv_ctensor_geti(const struct ctensor *t, size_t i)
{
    switch (t->dtype) {
    case DT_FLOAT:
        return (int64_t)((const float *)t->data)[i];
    case DT_INT32:
        return ((const int32_t *)t->data)[i];
    case DT_INT64:
        return ((const int64_t *)t->data)[i];
    default:
        return ((const uint8_t *)t->data)[i];
    }
}

void conv_ctensor_set(struct ctensor *t, size_t i, double v)
{
    switch (t->dtype) {
    case DT_FLOAT:
        ((float *)t->data)[i] = (float)v;
        break;
    case DT_INT32:
        ((int32_t *)t->data)[i] = (int32_t)v;
        break;
    case DT_INT64:
        ((int64_t *)t->data)[i] = (int64_t)v;
        break;
    case DT_BOOL:
        ((uint8_t *)t->data)[i] = v != 0.0;
        break;
    default:
        ((uint8_t *)t->data)[i] = (uint8_t)v;
        break;
    }
}
