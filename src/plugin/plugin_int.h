/*
 * plugin_int.h - internals shared by the files of the Stash plugin adapter (src/plugin/).
 *
 * input.c reads what Stash hands over (stdin JSON, plugin settings, path mappings); tags.c
 * knows which Stash tags are the plugin's (children of the parent tag) and resolves generated
 * tag names to ids; sync.c writes one item's differences; run.c drives a whole invocation:
 * connect, select items, run the tagger in batches, sync each finished item, report.
 */
#ifndef AITAG_PLUGIN_INT_H
#define AITAG_PLUGIN_INT_H

#include <jansson.h>

#include "aitag/catalog.h"
#include "aitag/pipeline.h"
#include "aitag/plugin.h"
#include "aitag/stash.h"

#define PLUGIN_TAG_TAGME "AI_TagMe"
#define PLUGIN_TAG_TAGGED "AI_Tagged"
#define PLUGIN_TAG_ERRORED "AI_Errored"

/* The plugin's settings (Stash: configuration{plugins}). Strings are owned. */
struct plugin_settings {
    double interval;       /* seconds between sampled frames; default: option table */
    char *analyzers;       /* comma-separated; default: option table */
    float threshold;       /* 0..1, < 0: the policy's default (the setting is a percentage) */
    int markers;           /* default 1 */
    char *tag_prefix;      /* default "" */
    char *tag_suffix;      /* default "" */
    char *parent_tag;      /* default "AI" */
    char *path_mappings;   /* default "" */
    char *catalog;         /* "": <PluginDir>/data/catalog.db; else this file (aitag --catalog) */
    char *rules;           /* "": <PluginDir>/data/rules.json when present; else this file */
    char *gateway_url;     /* "": models run here; else an aitag gateway (aitag tag --gateway) */
    int local_only;        /* only a loopback gatewayUrl is accepted */
    int write_cues;        /* writeCues: also write technical cues (cue:* tags, their markers);
                              default 0: the catalog keeps them, Stash does not get them */
    int create_performers; /* createPerformers: a tag run may create performers for named
                              people; default 0 (only the people task creates them) */
    int skip_performer_images; /* skipPerformerImages: do not match faces against the images
                                  of Stash's performers; default 0 (they are matched) */
    int transcript;            /* writeTranscript: PLUGIN_TRANSCRIPT_* */
    char *speech_keywords;     /* speechKeywords: words that become keyword:WORD tags; "" none */
    char *speech_url;          /* speechUrl: a remote transcription server; "": PocketSphinx */
};

/* Where the speech analyzer's transcript goes in Stash (writeTranscript). */
enum {
    PLUGIN_TRANSCRIPT_OFF = 0, /* "off" or unset: the catalog keeps it */
    PLUGIN_TRANSCRIPT_DETAILS, /* "details": into the item's Details when they are empty */
    PLUGIN_TRANSCRIPT_MARKERS, /* "markers": a marker per spoken segment, titled with its words */
};

/* Parses the settings object text; unset or null keys keep their defaults. Numbers and
 * booleans may arrive as JSON values or as strings. AITAG_ERR_INVALID names the bad key. */
int plugin_settings_parse(const char *json, struct plugin_settings *s, char *err, size_t errlen);
void plugin_settings_clear(struct plugin_settings *s);

/* A set of tag ids with their names, owned strings. */
struct tag_set {
    char **ids;
    char **names;
    size_t n, cap;
};

int plugin_tag_set_add(struct tag_set *s, const char *id, const char *name);
int plugin_tag_set_has(const struct tag_set *s, const char *id);
const char *plugin_tag_set_find_name(const struct tag_set *s, const char *name);
void plugin_tag_set_clear(struct tag_set *s);

/* The tags the plugin owns and uses. */
struct plugin_tags {
    struct aitag_stash *stash;
    char *parent_id;
    char *tagme_id, *tagged_id, *errored_id;
    struct tag_set ours;     /* children of the parent tag (control tags included) */
    struct tag_set foreign;  /* generated names that collide with a tag outside the parent */
    struct tag_set parented; /* tags given their category parent during this run */
};

/* Makes the generated tag named category (created under the parent when absent) a parent of
 * tag_id too, once per run ("dog" under "animal" as well as under "AI"); a category that is
 * someone else's tag is left alone. 0 or the client's error. */
int plugin_tags_set_category(struct plugin_tags *t, const char *tag_id, const char *name,
                             const char *category);
/* Ensures the parent and the three control tags and loads the parent's children.
 * Returns 0 or the client's error (message in the stash handle). */
int plugin_tags_init(struct plugin_tags *t, struct aitag_stash *s, const char *parent);
/* Only the parent and AI_TagMe (the hook's needs): no child listing. */
int plugin_tags_init_hook(struct plugin_tags *t, struct aitag_stash *s, const char *parent);
void plugin_tags_clear(struct plugin_tags *t);
/* The Stash tag id for a generated tag name (the policy applied prefix and suffix), creating it
 * under the parent when absent. *id is borrowed; NULL (rc 0) when the name belongs to a tag
 * outside the parent: such a tag is never used (logged once). */
int plugin_tags_resolve(struct plugin_tags *t, const char *name, const char **id,
                        const char **stash_name);
/* Whether an item's tag is one of the plugin's generated (non-control) tags. */
int plugin_tags_is_generated(const struct plugin_tags *t, const char *id);

/* readback.c: the catalog the tagger writes (a connection of the plugin's own) and the
 * tagger's policy, for corrections read back from Stash. */
struct plugin_memory {
    struct aitag_catalog *catalog;
    const struct aitag_policy *policy;
};
/* Compares Stash item (kind, id), catalog item media_id, with what the plugin last wrote on it
 * and records what the user took off or moved there as decisions (source "stash"); when there
 * were some (*n_read), fresh receives the item's corrected result (the caller clears it).
 * 0, or the client's or the catalog's error. */
int plugin_readback(struct plugin_tags *t, const struct plugin_memory *mem,
                    enum aitag_stash_kind kind, const char *id, int64_t media_id,
                    const struct aitag_result *res, struct aitag_result *fresh, int *n_read);

/* What one item's sync wrote. */
struct sync_counts {
    int tags_added, tags_removed, markers_created, markers_destroyed;
};

/* What of a result goes to Stash: res without the technical cues (tags from "cue:" labels and
 * the markers of those tags) unless cues is set, and with transcript_markers the speech tag's
 * markers replaced by one marker per transcript line (titled with what was said), into *out,
 * which borrows res's strings: free only with plugin_result_view_free(). Returns 0 or
 * AITAG_ERR_NOMEM. */
int plugin_result_view(const struct aitag_result *res, int cues, int transcript_markers,
                       struct aitag_result *out);
/* The transcript of res (its speech lines, one per line of text) in *out (free()), or NULL
 * when it has none. 0 or AITAG_ERR_NOMEM. */
int plugin_transcript_text(const struct aitag_result *res, char **out);
void plugin_result_view_free(struct aitag_result *view);

/* Writes the differences between a result and the item's current state (read fresh by
 * id): content first, control tags last. With markers off the result has none, so the
 * plugin's markers go. res NULL with error set: the item failed (AI_Errored added, AI_TagMe
 * removed, its earlier results left alone). Returns 0, AITAG_ERR_NOTFOUND when the item is
 * gone from Stash, or the client's error. */
int plugin_sync_item(struct plugin_tags *t, enum aitag_stash_kind kind, const char *id,
                     const struct aitag_result *res, const char *error, struct sync_counts *out);

/* people.c: what one people sync did. */
struct plugin_people_counts {
    int named;                 /* named, non-ignored people in the catalog */
    int linked;                /* already linked to a performer that still exists */
    int found;                 /* linked now to a performer Stash had under the name or an alias */
    int created;               /* performers created */
    int created_without_image; /* ... of which without an image (no face crop possible) */
    int not_created;           /* no performer, and creating was not allowed */
    int added;                 /* scenes and images the performer was added to */
    int taken_off;             /* items the user took the performer off since it was added */
    int kept_off;              /* items taken off earlier, left alone */
    int not_in_stash;          /* files of a person Stash has no item for */
    int failed;                /* people Stash refused (name clash, ...) */
};

/* performer_faces.c: what matching the images of Stash's performers did. */
struct plugin_performer_faces {
    int performers; /* performers with an image */
    int unchanged;  /* images embedded by an earlier run and not changed since */
    int embedded;   /* images fetched and embedded now */
    int linked;     /* ... whose face now stands for the person linked or named like them */
    int adopted;    /* ... whose face matched an unnamed person, who took the name */
    int created;    /* ... who became a new person */
    int conflicts;  /* ... whose face is a person with another name (left alone) */
    int no_face;    /* ... without a usable face */
    int failed;     /* images that could not be fetched or analysed (tried again next run) */
    int dropped;    /* references of performers gone from Stash, deleted */
};

/* Embeds the face of every Stash performer's image that is new or changed since the last run
 * with the tagger's face_attrs and places it as a reference face (aitag_people_add_reference):
 * the person linked to the performer, or named like it, or whose faces it matches, or a new
 * one, linked to the performer. References of performers gone from Stash are deleted.
 * One image's failure is logged and counted; 0, or < 0 with err for the catalog failing,
 * Stash failing to list performers, or cancel. */
int plugin_match_performers(struct aitag_stash *s, struct aitag_tagger *t, const char *catalog_path,
                            atomic_int *cancel, struct plugin_performer_faces *counts, char *err,
                            size_t errlen);

/* Syncs the named people of the catalog at catalog_path to Stash performers (see people.c):
 * allow_create lets it create performers. Returns 0 (counts filled; single people may have
 * failed), or < 0 with err set when the catalog cannot be used, Stash keeps failing, or
 * cancel was set. */
int plugin_people_sync(struct aitag_stash *s, const char *catalog_path, const char *path_mappings,
                       int allow_create, atomic_int *cancel, struct plugin_people_counts *counts,
                       char *err, size_t errlen);

/* vlm.c: the vlm analyzer's settings (docs/vlm.md, docs/stash.md). Strings are owned. */
struct plugin_vlm {
    char *url;        /* vlmUrl; else gatewayUrl + "/v1"; NULL: the analyzer's default */
    char *route;      /* vlmRoute; NULL: the analyzer's default */
    char *vocabulary; /* vlmVocabulary: a file, relative to the plugin folder unless absolute */
    double every;     /* vlmEvery; 0: the analyzer's default */
    int describe;     /* vlmDescribe: ask for descriptions and write them into empty Details */
    int local_only;
    char bufs[AITAG_VLM_MAX_OPTS][AITAG_VLM_OPT_LEN];
    const char *opts[AITAG_VLM_MAX_OPTS]; /* "vlm.key=value" for the tagger (aitag_vlm_options) */
    size_t n_opts;
};

/* Reads the vlm settings from the settings object text. AITAG_ERR_INVALID names the key. */
int plugin_vlm_parse(const char *settings, const char *gateway_url, int local_only,
                     struct plugin_vlm *v, char *err, size_t errlen);
/* Fills v->opts / v->n_opts when "vlm" is among the analyzer names; a vocabulary
 * "stash:PARENT" is first written from PARENT's child tags (control tags left out, the tag
 * prefix/suffix stripped) to <plugin_dir>/data. Returns 0 or < 0 with err set. */
#define PLUGIN_VLM_STASH "stash:"
int plugin_vlm_options(struct plugin_vlm *v, struct aitag_stash *s, const char *const *names,
                       size_t n_names, const char *plugin_dir, const char *prefix,
                       const char *suffix, char *err, size_t errlen);
void plugin_vlm_clear(struct plugin_vlm *v);
/* Writes text into the item's Details when they are empty (blank); *written says whether it
 * did. Returns 0, AITAG_ERR_NOTFOUND, or the client's error. */
int plugin_vlm_write_description(struct aitag_stash *s, enum aitag_stash_kind kind, const char *id,
                                 const char *text, int *written);

#endif
