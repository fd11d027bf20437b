/*
 * catalog_only.c - linked against aitag_catalog (and what it pulls in) alone: it only links
 * if the catalog, the policy and the evidence library need no analyzer, ONNX Runtime, FFmpeg
 * or libcurl symbol, and CTest checks with ldd that none of those libraries is loaded. It also
 * round-trips one item with keypoints through a catalog, so the layer is exercised, not just
 * linked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aitag/catalog.h"
#include "aitag/policy.h"

int main(void)
{
    char dir[] = "/tmp/aitag-layer-XXXXXX", db[64], err[256];
    struct aitag_catalog *c = NULL;
    struct aitag_policy *pol = NULL;
    struct aitag_evidence e = {0};
    struct aitag_evidence_list back = {0};
    struct aitag_probe probe = {0};
    struct aitag_media_row row;
    float kp[4] = {0.25f, 0.5f, 0.75f, 0.125f};
    char *details = NULL;
    int ok = 0;

    if (!mkdtemp(dir))
        return 1;
    snprintf(db, sizeof db, "%s/c.db", dir);
    e.analyzer = "faces", e.label = "face", e.confidence = 0.9f, e.t = 1.0;
    e.keypoints = kp, e.n_keypoints = 2, e.kp_dims = 2;
    probe.kind = AITAG_MEDIA_IMAGE;
    {
        struct aitag_item it = {0};
        struct aitag_sampling ran = {"faces", 0, 1};
        const char *key = "faces/test";
        it.path = "/x.jpg", it.fingerprint = "0123456789abcdef", it.probe = &probe;
        it.ran = &ran, it.ran_keys = &key, it.n_ran = 1, it.strategy = "test";
        it.evidence = &e, it.n_evidence = 1, it.status = "ok";
        ok = aitag_policy_new(&pol) == 0 && aitag_catalog_open(db, 0, &c, err, sizeof err) == 0 &&
             aitag_catalog_commit_item(c, &it, pol) == 0 &&
             aitag_catalog_find_media(c, "/x.jpg", &row) == 0 &&
             aitag_catalog_load_evidence(c, row.id, &back) == 0 && back.n == 1 &&
             aitag_evidence_details_json(&back.items[0], &details) == 0 && details &&
             strcmp(details, "{\"keypoints\":[0.2500,0.5000,0.7500,0.1250]}") == 0;
    }
    printf("%s: %s\n", ok ? "ok" : "FAILED", details ? details : err);
    free(details);
    aitag_evidence_list_clear(&back);
    aitag_catalog_close(c);
    aitag_policy_free(pol);
    unlink(db);
    rmdir(dir);
    return ok ? 0 : 1;
}
