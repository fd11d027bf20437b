/*
 * documents.c - every GraphQL document the Stash client can send, and nothing else.
 *
 * Keeping them in one file means one place to check against Stash's real schema
 * (graphql/schema/schema.graphql and types/ in stashapp/stash): field, argument, type and enum
 * names here must match it exactly. Values never enter a document: everything a user, a file
 * or Stash supplied travels in the variables, built with json_pack. Each operation is named
 * Aitag<Operation> so it can be told apart in Stash's logs. The stash_documents table at the
 * end lists them all for tests and tools.
 *
 * Per-version variants: SceneMarker.end_seconds (and SceneMarkerCreateInput.end_seconds)
 * appeared in Stash v0.28, and a document naming an unknown field fails validation as a whole,
 * so scene reads come in two variants. Marker creation needs only one: an input object's
 * optional field is simply left out of the variables on older servers.
 */
#include <stddef.h>

#include "stash_int.h"

/* Query.version -> Version.version ("v0.30.1"); gates end_seconds. */
const char *const stash_doc_version = "query AitagVersion { version { version } }";

/* Introspection fallback when version is not a release number (development builds): does
 * SceneMarkerCreateInput have end_seconds? */
const char *const stash_doc_marker_fields =
    "query AitagMarkerFields { __type(name: \"SceneMarkerCreateInput\") { inputFields { name } } }";

/* ConfigResult.general.apiKey: read once after the first answer so a run can leave the session
 * cookie (which expires after maxSessionAge) for the ApiKey header. "" when none is set. */
const char *const stash_doc_api_key = "query AitagApiKey { configuration { general { apiKey } } }";

/* ConfigResult.plugins(include:) -> PluginConfigMap {plugin id: {setting: value}}. */
const char *const stash_doc_plugin_settings = "query AitagPluginSettings($include: [ID!]) {"
                                              " configuration { plugins(include: $include) } }";

/* Query.findTags: candidates for an exact-name lookup. The tag_filter is name or aliases with
 * modifier EQUALS, which Stash runs as SQL LIKE (case-insensitive, _ and % are wildcards): the
 * client pages through every candidate and compares names and aliases itself. */
const char *const stash_doc_find_tags =
    "query AitagFindTags($tag_filter: TagFilterType, $filter: FindFilterType) {"
    " findTags(tag_filter: $tag_filter, filter: $filter) { tags { id name aliases } } }";

/* Mutation.tagCreate(input: {name, parent_ids, ignore_auto_tag}). Fails when the name equals
 * (as LIKE) another tag's name or alias. */
const char *const stash_doc_tag_create =
    "mutation AitagTagCreate($input: TagCreateInput!) { tagCreate(input: $input) { id name } }";

/* Query.findTag(id) -> Tag.children: the tags under a parent (the "AI" tag), so the plugin
 * knows which tags on an item are its own. */
const char *const stash_doc_tag_children =
    "query AitagTagChildren($id: ID!) { findTag(id: $id) { id children { id name } } }";

/* Query.findTag(id) -> parents: a tag's parent tags (to add one without losing the others). */
const char *const stash_doc_tag_parents =
    "query AitagTagParents($id: ID!) { findTag(id: $id) { id parents { id } } }";

/* Mutation.tagUpdate: a tag's parents (TagUpdateInput.parent_ids replaces them all). */
const char *const stash_doc_tag_set_parents =
    "mutation AitagTagSetParents($input: TagUpdateInput!) { tagUpdate(input: $input) { id } }";

/* Query.findScene(id): one scene with its first file's path, tags and markers (v0.28+). */
const char *const stash_doc_find_scene =
    "query AitagFindScene($id: ID!) { findScene(id: $id) {"
    " id files { path } tags { id name }"
    " scene_markers { id title seconds end_seconds primary_tag { id name } } } }";

/* The same for Stash before v0.28: markers without end_seconds. */
const char *const stash_doc_find_scene_no_end =
    "query AitagFindSceneNoEnd($id: ID!) { findScene(id: $id) {"
    " id files { path } tags { id name }"
    " scene_markers { id title seconds primary_tag { id name } } } }";

/* Query.findScenes: one page of a selection, paged by ascending id (filter {per_page, sort:
 * "id", direction: ASC} and scene_filter.id GREATER_THAN the last id seen), so removing a tag
 * from items already visited shifts nothing. v0.28+. */
const char *const stash_doc_find_scenes =
    "query AitagFindScenes($scene_filter: SceneFilterType, $filter: FindFilterType) {"
    " findScenes(scene_filter: $scene_filter, filter: $filter) { scenes {"
    " id files { path } tags { id name }"
    " scene_markers { id title seconds end_seconds primary_tag { id name } } } } }";

/* The same for Stash before v0.28. */
const char *const stash_doc_find_scenes_no_end =
    "query AitagFindScenesNoEnd($scene_filter: SceneFilterType, $filter: FindFilterType) {"
    " findScenes(scene_filter: $scene_filter, filter: $filter) { scenes {"
    " id files { path } tags { id name }"
    " scene_markers { id title seconds primary_tag { id name } } } } }";

/* Query.findImage(id): one image; visual_files is a union (an image may be a video clip). */
const char *const stash_doc_find_image =
    "query AitagFindImage($id: ID!) { findImage(id: $id) {"
    " id visual_files { ... on ImageFile { path } ... on VideoFile { path } }"
    " tags { id name } } }";

/* Query.findImages: one page of a selection, paged by ascending id as findScenes is. */
const char *const stash_doc_find_images =
    "query AitagFindImages($image_filter: ImageFilterType, $filter: FindFilterType) {"
    " findImages(image_filter: $image_filter, filter: $filter) { images {"
    " id visual_files { ... on ImageFile { path } ... on VideoFile { path } }"
    " tags { id name } } } }";

/* Mutation.bulkSceneUpdate(input: {ids, tag_ids: {ids, mode: ADD|REMOVE}}): adds or removes
 * tags without replacing the set, so tags the user set are never touched. The same document
 * adds performers (performer_ids: {ids, mode: ADD}). */
const char *const stash_doc_bulk_scene_update =
    "mutation AitagBulkSceneUpdate($input: BulkSceneUpdateInput!) {"
    " bulkSceneUpdate(input: $input) { id } }";

/* Mutation.bulkImageUpdate: the same for images. */
const char *const stash_doc_bulk_image_update =
    "mutation AitagBulkImageUpdate($input: BulkImageUpdateInput!) {"
    " bulkImageUpdate(input: $input) { id } }";

/* Mutation.sceneMarkerCreate(input: {scene_id, title, seconds, end_seconds?, primary_tag_id}).
 * end_seconds is left out of the variables for Stash before v0.28. */
const char *const stash_doc_marker_create =
    "mutation AitagSceneMarkerCreate($input: SceneMarkerCreateInput!) {"
    " sceneMarkerCreate(input: $input) { id } }";

/* Mutation.sceneMarkerDestroy(id) -> Boolean. */
const char *const stash_doc_marker_destroy =
    "mutation AitagSceneMarkerDestroy($id: ID!) { sceneMarkerDestroy(id: $id) }";

/* Query.findPerformers: performers by name or alias (performer_filter {name|aliases: {value,
 * modifier: EQUALS}}, a LIKE: candidates the client compares itself), or those with an image
 * (performer_filter {NOT: {is_missing: "image"}}), paged by ascending id. image_path carries
 * "default=true" when Stash has no image for the performer. */
const char *const stash_doc_find_performers =
    "query AitagFindPerformers($performer_filter: PerformerFilterType, $filter: FindFilterType) {"
    " findPerformers(performer_filter: $performer_filter, filter: $filter) {"
    " count performers { id name disambiguation alias_list image_path } } }";

/* Query.findPerformer(id): a linked performer, to see that it still exists. */
const char *const stash_doc_find_performer =
    "query AitagFindPerformer($id: ID!) { findPerformer(id: $id) {"
    " id name disambiguation alias_list image_path } }";

/* Mutation.performerCreate(input: {name, image}): image is a base64 data URL (Stash also takes a
 * URL it fetches itself). Fails when the name equals (as LIKE) another performer's name. */
const char *const stash_doc_performer_create =
    "mutation AitagPerformerCreate($input: PerformerCreateInput!) {"
    " performerCreate(input: $input) { id name } }";

/* Query.findScenes(scene_filter {path: {value, modifier: EQUALS}}): the scene of a file. EQUALS
 * is a LIKE here too, so the paths are compared by the client. */
const char *const stash_doc_find_scenes_by_path =
    "query AitagFindScenesByPath($scene_filter: SceneFilterType, $filter: FindFilterType) {"
    " findScenes(scene_filter: $scene_filter, filter: $filter) { scenes { id files { path } } } }";

/* Query.findImages: the same for images. */
const char *const stash_doc_find_images_by_path =
    "query AitagFindImagesByPath($image_filter: ImageFilterType, $filter: FindFilterType) {"
    " findImages(image_filter: $image_filter, filter: $filter) { images {"
    " id visual_files { ... on ImageFile { path } ... on VideoFile { path } } } } }";

/* Query.findScene(id) -> performers: who is on a scene now (the user may have taken one off). */
const char *const stash_doc_scene_performers =
    "query AitagScenePerformers($id: ID!) { findScene(id: $id) { id performers { id } } }";

/* Query.findImage(id) -> performers: the same for an image. */
const char *const stash_doc_image_performers =
    "query AitagImagePerformers($id: ID!) { findImage(id: $id) { id performers { id } } }";

/* clang-format off */
#define DOC(x) {#x, &(x)}
/* clang-format on */
/* Sent by the plugin's UI (plugin/aitag.js, in the browser), never by this client: listed here
 * so that every document the plugin can send is in one place and validated with the rest.
 * tests/e2e/plugin_package.sh checks that aitag.js sends exactly this text. */
const char *const stash_doc_ui_run_task =
    "mutation AitagRunTask($plugin_id: ID!, $description: String, $args_map: Map) {"
    " runPluginTask(plugin_id: $plugin_id, description: $description, args_map: $args_map) }";

const struct stash_doc_entry stash_documents[] = {
    DOC(stash_doc_version),
    DOC(stash_doc_marker_fields),
    DOC(stash_doc_api_key),
    DOC(stash_doc_plugin_settings),
    DOC(stash_doc_find_tags),
    DOC(stash_doc_tag_create),
    DOC(stash_doc_tag_children),
    DOC(stash_doc_tag_parents),
    DOC(stash_doc_tag_set_parents),
    DOC(stash_doc_find_scene),
    DOC(stash_doc_find_scene_no_end),
    DOC(stash_doc_find_scenes),
    DOC(stash_doc_find_scenes_no_end),
    DOC(stash_doc_find_image),
    DOC(stash_doc_find_images),
    DOC(stash_doc_bulk_scene_update),
    DOC(stash_doc_bulk_image_update),
    DOC(stash_doc_marker_create),
    DOC(stash_doc_marker_destroy),
    DOC(stash_doc_ui_run_task),
    DOC(stash_doc_find_performers),
    DOC(stash_doc_find_performer),
    DOC(stash_doc_performer_create),
    DOC(stash_doc_find_scenes_by_path),
    DOC(stash_doc_find_images_by_path),
    DOC(stash_doc_scene_performers),
    DOC(stash_doc_image_performers),
    {NULL, NULL},
};
