/*
 * aitag/evidence.h - what analyzers find, as typed values: the one currency between analyzers,
 * the policy, the catalog and the remote protocol.
 *
 * An evidence item is a finding at one time of one media file: a label with a confidence,
 * optionally a box, recognised text, keypoints, attributes (a detector's raw score, an age, a
 * gender output) and an embedding vector, plus the analyzer that produced it. Consumers read
 * the typed fields (face_attrs reads the faces analyzer's keypoints as floats); only the
 * catalog and the wire need text, and they get it from aitag_evidence_details_json(), which
 * writes the JSON object the catalog's `evidence.extra` column and the gateway's "extra" field
 * have always held, byte for byte ({"keypoints":[...]}, {"score":0.4312}, ...).
 * aitag_evidence_parse_details() reads it back into the typed fields.
 *
 * Precision is part of the evidence: keypoints are written with 4 decimals (x, y) and 3 (a
 * per-point score), attributes and face descriptors with 4 (age with 1), generic embeddings
 * with 7 significant digits. A producer whose values feed other analyzers (faces' keypoints)
 * rounds them with aitag_evidence_round() before pushing, so a consumer computes the same
 * thing from live evidence as from evidence read back from a catalog or the wire.
 *
 * This library sits below the analyzers: it needs only aitag_util and Jansson, so the catalog
 * and the policy link no ONNX Runtime, FFmpeg or libcurl.
 *
 * Usage:
 *     struct aitag_evidence_list l = {0};
 *     struct aitag_evidence e = {0};
 *     float kp[4] = {0.25f, 0.3f, 0.5f, 0.31f};
 *     e.analyzer = "faces"; e.label = "face"; e.confidence = 0.9f; e.t = 2.0;
 *     e.keypoints = kp; e.n_keypoints = 2; e.kp_dims = 2;
 *     aitag_evidence_push(&l, &e);                  // deep copy
 *     char *json = NULL;
 *     aitag_evidence_details_json(&l.items[0], &json);  // {"keypoints":[0.2500,0.3000,...]}
 *     free(json);
 *     aitag_evidence_list_clear(&l);
 *
 * Thread-safety: plain data; a list belongs to one thread at a time.
 */
#ifndef AITAG_EVIDENCE_H
#define AITAG_EVIDENCE_H

#include <stddef.h>

#include "aitag/common.h"

struct aitag_box {
    float x, y, w, h; /* normalised to the upright source frame, 0..1 */
};

/* How an embedding is spelled in the details JSON. */
enum aitag_embedding_form {
    AITAG_EMBEDDING_NONE = 0,
    AITAG_EMBEDDING_DESCRIPTOR, /* "descriptor":[...] with 4 decimals (face_attrs' faceres) */
    AITAG_EMBEDDING_VECTOR,     /* "dim":N,"embedding":[...] with 7 significant digits */
};

/* Bits of aitag_evidence.attrs: which scalar attributes are set. */
enum {
    AITAG_ATTR_SCORE = 1,  /* "score": a detector's raw score before calibration */
    AITAG_ATTR_AGE = 2,    /* "age": estimated years */
    AITAG_ATTR_GENDER = 4, /* "gender": the raw gender output, 0 female .. 1 male */
};

/* One recognised word of a transcript (speech): seconds from the start of the media. */
struct aitag_word {
    char *word; /* owned */
    float start, end;
    float confidence; /* 0..1 */
};

struct aitag_evidence {
    char *analyzer;   /* owned: which analyzer produced it ("faces") */
    char *label;      /* owned: raw model label ("face", "text", "dog") */
    float confidence; /* 0..1 */
    double t;         /* seconds from the start of the media */
    int has_box;
    struct aitag_box box;
    char *text; /* owned, may be NULL: recognised text (OCR, speech) */
    /* owned, may be NULL: n_keypoints points of kp_dims floats each (2: x, y normalised like
     * box; 3: x, y and a per-point score) */
    float *keypoints;
    int n_keypoints, kp_dims;
    unsigned attrs; /* AITAG_ATTR_* bits: which of score, age, gender are set */
    float score, age, gender;
    /* owned, may be NULL: an embedding of n_embedding values, spelled as embedding_form says */
    double *embedding;
    int n_embedding;
    enum aitag_embedding_form embedding_form;
    /* A finding that lasts (a spoken segment): its end in seconds, > t; 0 for a finding at
     * the instant t. The policy counts [t, end) instead of one sampling interval. */
    double end;
    char *lang; /* owned, may be NULL: the language of text, as an ISO 639-1 code ("en") */
    /* owned, may be NULL: the words of text with their times (speech) */
    struct aitag_word *words;
    int n_words;
    /* owned, may be NULL: identity of the models and settings that produced it; the analyzer
     * graph sets it to the analyzer's key (aitag_graph_key). Carried in memory only: the
     * catalog keeps that key once per analysis, not per item, and the wire does the same */
    char *model;
};

struct aitag_evidence_list {
    struct aitag_evidence *items;
    size_t n, cap;
};

/* Appends a deep copy of e (strings and arrays duplicated). Returns 0 or AITAG_ERR_NOMEM (the
 * list is then as it was). */
int aitag_evidence_push(struct aitag_evidence_list *l, const struct aitag_evidence *e);
/* Frees every item and the array; leaves l empty and reusable. NULL is a no-op. */
void aitag_evidence_list_clear(struct aitag_evidence_list *l);
/* Frees what one owned item (e.g. filled by aitag_evidence_parse_details) holds, and zeroes
 * it. */
void aitag_evidence_clear(struct aitag_evidence *e);

/* The details of e (keypoints, attributes, embedding, end, language and words) as the compact
 * JSON object the catalog
 * and the wire store, in *out (caller frees), or *out = NULL when e has none.
 * Returns 0 or AITAG_ERR_NOMEM. */
int aitag_evidence_details_json(const struct aitag_evidence *e, char **out);

/* Reads a details object written by aitag_evidence_details_json (or an older writer) into
 * e's keypoints, attrs, embedding, end, lang and words, which must be unset (NULL/0); they are
 * then owned by e
 * (free with aitag_evidence_clear, or push and clear). Unknown keys are ignored. json NULL or
 * "" sets nothing. Returns 0, AITAG_ERR_INVALID (not a JSON object, or a field of the wrong
 * type; e is left without details) or AITAG_ERR_NOMEM. */
int aitag_evidence_parse_details(struct aitag_evidence *e, const char *json);

/* Frees what aitag_evidence_parse_details set in e (keypoints, embedding, lang, words) and
 * unsets them, leaving e's other fields alone (a reader that borrows its strings). */
void aitag_evidence_clear_details(struct aitag_evidence *e);

/* v rounded to `decimals` decimals, as printf("%.*f") would print it and strtof read it back.
 * Producers whose values other analyzers consume use it (see the precision note above). */
float aitag_evidence_round(float v, int decimals);

/* Intersection over union of two boxes, 0..1 (0 when both are empty). */
float aitag_box_iou(const struct aitag_box *a, const struct aitag_box *b);

/* Face quality (src/evidence/face_quality.c, docs/people.md): how well a detected face can
 * identify a person, 0..1, the product of its size in pixels of a frame_w x frame_h displayed
 * frame, its pose (aitag_face_yaw) and its detector score. 0 for an item without a box. */
float aitag_face_quality(const struct aitag_evidence *face, int frame_w, int frame_h);
/* How far a face is turned: the nose tip's offset from the middle of the eyes along the eye
 * line, as a fraction of the eye distance (keypoints 0, 1, 2 as BlazeFace gives them); 0 for a
 * frontal face or one without keypoints. */
float aitag_face_yaw(const struct aitag_evidence *face, int frame_w, int frame_h);

#endif
