/*
 * embed_search.c - search by an embedding model: the words embedded by an OpenAI-compatible
 * POST /v1/embeddings (an aitag gateway route to a CLIP text tower, or any server with a text
 * model whose vectors share a space with what an analyzer stored), compared with the
 * embeddings the catalog holds for an analyzer (the installable "clip" image embedder stores
 * one per sampled frame).
 *
 * An item's similarity is its best frame's cosine. Cosines of text-image models are small and
 * on their own scale (CLIP's matches lie near 0.3), so they are ranked relative to the best
 * item of the library: the best scores EMBED_SCORE, the others in proportion, and items under
 * half the best cosine are not offered. Embeddings of another length than the answer's are
 * skipped (another model stored them). A server that cannot be reached or answers nonsense
 * costs the search only this part: the caller warns and goes on with the rest.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "aitag/concepts.h"
#include "cli.h"

#define EMBED_SCORE 0.8f
#define ANSWER_MAX (16u << 20)

/* The query's embedding from url's /v1/embeddings into *v (free()), *n values. */
static int embed_query(const struct cli_embed *e, const char *query, double **v, int *n, char *err,
                       size_t errlen)
{
    struct aitag_http_body b = {NULL, 0, 0, ANSWER_MAX};
    struct curl_slist *hdr = NULL;
    json_t *req = json_pack("{s:s, s:s}", "model", e->model, "input", query);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL, endpoint[1100], auth[600], why[128];
    size_t len = strlen(e->url);
    long status = 0;
    CURL *h = NULL;
    CURLcode cc;
    int rc = AITAG_ERR_NOMEM;

    *v = NULL, *n = 0;
    while (len && e->url[len - 1] == '/')
        len--;
    snprintf(endpoint, sizeof endpoint, "%.*s%s", (int)len, e->url,
             len >= 3 && strncmp(e->url + len - 3, "/v1", 3) == 0 ? "/embeddings"
                                                                  : "/v1/embeddings");
    if (!text || aitag_curl_global_init() < 0 || !(h = curl_easy_init()) ||
        !(hdr = curl_slist_append(NULL, "Content-Type: application/json"))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (e->key && *e->key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %.500s", e->key);
        struct curl_slist *h2 = curl_slist_append(hdr, auth);
        if (!h2)
            goto out;
        hdr = h2;
    }
    curl_easy_setopt(h, CURLOPT_URL, endpoint);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, aitag_http_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = curl_easy_perform(h);
    rc = AITAG_ERR_IO;
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "POST %s: %s", endpoint, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "POST %s: HTTP %ld, no embedding in the answer", endpoint, status);
        goto out;
    }
    rc = aitag_concepts_embedding_answer(b.data, b.len, v, n, why, sizeof why);
    if (rc == AITAG_ERR_INVALID)
        snprintf(err, errlen, "POST %s: HTTP %ld, %s", endpoint, status, why);
out:
    json_decref(req);
    free(text);
    free(b.data);
    curl_slist_free_all(hdr);
    if (h)
        curl_easy_cleanup(h);
    return rc;
}

struct item_sim {
    char *path;
    int64_t id;
    double cos;
};

struct scan {
    const double *q;
    int n;
    double q_norm;
    struct item_sim *items;
    size_t n_items, cap;
    int nomem;
};

static int on_embedding(void *ctx, const char *path, int64_t id, const double *v, int n)
{
    struct scan *s = ctx;
    double dot = 0, norm = 0, cos;

    if (n != s->n)
        return 0; /* another model's vectors */
    for (int i = 0; i < n; i++)
        dot += s->q[i] * v[i], norm += v[i] * v[i];
    if (norm <= 0 || s->q_norm <= 0)
        return 0;
    cos = dot / (sqrt(norm) * s->q_norm);
    if (s->n_items && s->items[s->n_items - 1].id == id) { /* rows come by item */
        if (cos > s->items[s->n_items - 1].cos)
            s->items[s->n_items - 1].cos = cos;
        return 0;
    }
    if (s->n_items == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct item_sim *g = realloc(s->items, cap * sizeof *g);
        if (!g) {
            s->nomem = 1;
            return 1;
        }
        s->items = g, s->cap = cap;
    }
    s->items[s->n_items].path = strdup(path);
    s->items[s->n_items].id = id;
    s->items[s->n_items].cos = cos;
    if (!s->items[s->n_items].path) {
        s->nomem = 1;
        return 1;
    }
    s->n_items++;
    return 0;
}

int cli_embed_search(struct aitag_catalog *c, const struct cli_embed *e, const char *query,
                     void (*offer)(void *ctx, const char *path, int64_t id, float score,
                                   const char *why),
                     void *ctx, char *err, size_t errlen)
{
    struct scan s = {0};
    double *q = NULL, best = 0;
    int n = 0, rc = embed_query(e, query, &q, &n, err, errlen);

    if (rc < 0)
        return rc;
    s.q = q, s.n = n;
    for (int i = 0; i < n; i++)
        s.q_norm += q[i] * q[i];
    s.q_norm = sqrt(s.q_norm);
    rc = aitag_catalog_each_embedding(c, e->analyzer, on_embedding, &s);
    if (rc == 0 && s.nomem)
        rc = AITAG_ERR_NOMEM;
    if (rc < 0) {
        snprintf(err, errlen, "%s",
                 rc == AITAG_ERR_NOMEM ? "out of memory" : aitag_catalog_errmsg(c));
        goto out;
    }
    for (size_t i = 0; i < s.n_items; i++)
        if (s.items[i].cos > best)
            best = s.items[i].cos;
    for (size_t i = 0; best > 0 && i < s.n_items; i++) {
        char why[200];
        if (s.items[i].cos < 0.5 * best)
            continue;
        snprintf(why, sizeof why, "looks like it: %s similarity %.3f (%s)", e->analyzer,
                 s.items[i].cos, e->model);
        offer(ctx, s.items[i].path, s.items[i].id, EMBED_SCORE * (float)(s.items[i].cos / best),
              why);
    }
out:
    for (size_t i = 0; i < s.n_items; i++)
        free(s.items[i].path);
    free(s.items);
    free(q);
    return rc;
}
