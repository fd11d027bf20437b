/*
 * sha256.c - sha256 of files and buffers through OpenSSL's EVP interface, as lower-case hex.
 * Used to verify model weights against their manifests, to key catalog analyses and to look
 * up gateway keys.
 */
#include <pthread.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "aitag/common.h"

static void to_hex(const unsigned char *md, unsigned len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned i;

    for (i = 0; i < len && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * i] = '\0';
}

int aitag_sha256_file(const char *path, char hex[65])
{
    unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *ctx = NULL;
    FILE *f = NULL;
    size_t n;
    int rc = AITAG_ERR_IO;

    hex[0] = '\0';
    f = fopen(path, "rb");
    if (!f)
        goto out;
    ctx = EVP_MD_CTX_new();
    if (!ctx) {
        rc = AITAG_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (EVP_DigestUpdate(ctx, buf, n) != 1)
            goto out;
    if (ferror(f) || EVP_DigestFinal_ex(ctx, md, &len) != 1)
        goto out;
    to_hex(md, len, hex);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    if (f)
        fclose(f);
    return rc;
}

/* The algorithm fetched once: EVP_sha256() makes every EVP_Digest look it up again in the
 * provider tables (a fetch with locks and a property query, several times the hash of a short
 * buffer, e.g. a gateway key at each request). */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void aitag_sha256_buf(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    pthread_once(&sha256_once, sha256_fetch);
    if (EVP_Digest(data, len, md, &mdlen, sha256_md ? sha256_md : EVP_sha256(), NULL) != 1) {
        hex[0] = '\0';
        return;
    }
    to_hex(md, mdlen, hex);
}
