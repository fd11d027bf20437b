#!/usr/bin/env bash
# plugin_tag.sh - the plugin run exactly as Stash runs it, against the Stash double, on the
# fixture media seen through a Docker-like path prefix (pathMappings):
#   tags and markers land, equal to the catalog's results; the user's tags and markers are
#   never touched; stale tags and markers of the plugin's own are removed; broken and missing
#   files get AI_Errored; a second run changes nothing (no mutation, no model); settings changes
#   (markers off, tagPrefix) re-derive and rewrite without running a model; the UI's scene mode.
# ctest-cost: 44
source "$(dirname "$0")/lib.sh"

F=$AITAG_FIXTURES_DIR
PREFIX=/media/stash # what "Stash in Docker" sees; mapped to the fixtures folder
CATALOG="$tmp/plugin/data/catalog.db"

double_start || exit 1

seed=$(jq -cn --arg p "$PREFIX" --arg f "$F" '
  def scene($file; $tags): {path: ($p + "/videos/" + $file), tags: $tags};
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}, {name: "oldtag", parents: ["AI"]},
          {name: "Favourite"}, {name: "Kiss"}],
   scenes: [
     (scene("faces_720p_hevc.mkv"; ["AI_TagMe", "Favourite", "oldtag"]) + {markers: [
        {seconds: 5, primary_tag: "Kiss", title: "user marker"},
        {seconds: 4, end_seconds: 18, primary_tag: "Favourite", title: "user, same time as ours"},
        {seconds: 30, end_seconds: 35, primary_tag: "oldtag", title: "stale, ours"}]}),
     scene("faces_1080p_h264.mp4"; ["AI_TagMe"]),
     scene("faces_text_720p_h264.mp4"; ["AI_TagMe"]),
     scene("mixed_480p_mjpeg.avi"; ["AI_TagMe"]),
     scene("rotated_720p_h264.mp4"; ["AI_TagMe"]),
     scene("text_720p_vp9.webm"; ["AI_TagMe"]),
     {path: ($p + "/bad/not-media.mp4"), tags: ["AI_TagMe"]},
     {path: ($p + "/videos/gone.mp4"), tags: ["AI_TagMe"]}],
   images: [
     {path: ($p + "/images/group_3faces.jpg"), tags: ["AI_TagMe", "Kiss"]},
     {path: ($p + "/images/sign_on_photo.jpg"), tags: ["AI_TagMe"]},
     {path: ($p + "/images/horses.webp"), tags: ["AI_TagMe"]},
     {path: ($p + "/images/portrait_1face.gif"), tags: []}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f)}}}')
double_seed "$seed" || exit 1

# ---- helpers

# The plugin's view of Stash: per item, its generated tags (children of AI but not control tags)
# and its markers (primary tag a child of AI), canonical and sorted.
ours_view() { # STATE_JSON
    jq -c --arg p "$PREFIX" '
      ([.tags[] | select(.parents | index("AI")) | .name]
        - ["AI_TagMe", "AI_Tagged", "AI_Errored"]) as $gen
      | (.scenes[] | {kind: "scene", path: (.path | sub("^" + $p; "")),
           tags: ([.tags[] | select(. as $t | $gen | index($t))] | sort),
           markers: ([.markers[] | select(.primary_tag as $t | $gen | index($t))
                      | [.primary_tag, .seconds, .end_seconds, .title]] | sort)}),
        (.images[] | {kind: "image", path: (.path | sub("^" + $p; "")),
           tags: ([.tags[] | select(. as $t | $gen | index($t))] | sort), markers: []})' <<<"$1"
}
# The same, computed from the plugin's catalog with `aitag show` (prefix and suffix given), less
# the technical cues the catalog keeps and Stash does not get by default.
catalog_view() { # STATE_JSON [TAG_PREFIX] [MARKERS 0|1]
    local pre=${2:-} mk=${3:-1} kind path
    jq -r --arg p "$PREFIX" '(.scenes[] | "scene \(.path)"), (.images[] | "image \(.path)")' <<<"$1" |
        while read -r kind path; do
            local rel=${path#"$PREFIX"}
            local shown
            shown=$("$AITAG_BIN" show --catalog "$CATALOG" --json "$F$rel" 2>/dev/null) ||
                shown='{"tags": [], "markers": []}'
            jq -c --arg k "$kind" --arg r "$rel" --arg pre "$pre" --argjson mk "$mk" '
              def cue: contains("cue:"); # technical cues (any prefix): not written (writeCues off)
              {kind: $k, path: $r, tags: ([.tags[].name | select(cue | not) | $pre + .] | sort),
               markers: (if $k == "scene" and $mk == 1
                 then [.markers[] | select(.tag | cue | not) | [$pre + .tag, .start, .end, $pre + .tag]] | sort
                 else [] end)}' <<<"$shown"
        done
}
scene_tags() { jq -c --arg p "$PREFIX$1" '[.scenes[] | select(.path == $p) | .tags[]] | sort' <<<"$2"; }
image_tags() { jq -c --arg p "$PREFIX$1" '[.images[] | select(.path == $p) | .tags[]] | sort' <<<"$2"; }
mutations() { double_log | jq '[.[] | select(.fields[0] | test("Create|Update|Destroy|Merge"))] | length'; }
out() { jq -c ".output.$1" "$tmp/plugin.out"; }
runs() { sqlite3 "$CATALOG" 'SELECT count(*) FROM runs;'; }
set_settings() { # JSON merged into the aitag plugin settings
    local st
    st=$(double_state | jq -c --argjson s "$1" '.plugins.aitag += $s') && double_seed "$st"
}

# ---- first run: the queue

check "queue run exits 0" run_plugin '{"mode":"queue"}'
check "stdout is exactly one JSON object" \
    jq -e -s 'length == 1 and (.[0] | type == "object" and has("output") and has("error"))' "$tmp/plugin.out" >/dev/null
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check_eq "items selected (AI_TagMe only)" "$(out items)" 11
check_eq "items analysed" "$(out analysed)" 9
check_eq "broken and missing files failed" "$(out failed)" 2
# (An ASan build's LeakSanitizer adds its "Suppressions used" table at exit: not ours.)
check "stderr is Stash log lines only" \
    awk 'BEGIN { bad = 0 } /^$|^-+$|^Suppressions used:|^ +count +bytes|^ +[0-9]+ +[0-9]+ / { next }
         !/^\001[tdiwep]\002/ || length($0) > 450 { bad = 1; print "bad line: " $0 > "/dev/stderr" }
         END { exit bad }' "$tmp/plugin.err"
check "progress reaches 1" grep -q $'^\x01p\x021.000$' "$tmp/plugin.err"
state=$(double_state)
check_eq "results in Stash = the catalog's results" "$(ours_view "$state")" "$(catalog_view "$state")"
check "faces video got face markers with an end" \
    jq -e --arg p "$PREFIX/videos/faces_720p_hevc.mkv" \
    '[.scenes[] | select(.path == $p) | .markers[] | select(.primary_tag == "face" and .end_seconds > .seconds)] | length >= 2' \
    <<<"$state" >/dev/null
check "text video got the text tag" \
    jq -e --arg p "$PREFIX/videos/text_720p_vp9.webm" '[.scenes[] | select(.path == $p) | .tags | index("text")] | .[0] != null' \
    <<<"$state" >/dev/null
check_eq "user tags kept, stale AI tag removed, control tags switched" \
    "$(scene_tags /videos/faces_720p_hevc.mkv "$state")" '["AI_Tagged","Favourite","close-up portrait","face","person"]'
check "user markers untouched (same ids, times, titles)" \
    jq -e --arg p "$PREFIX/videos/faces_720p_hevc.mkv" '
      [.scenes[] | select(.path == $p) | .markers[] | select(.primary_tag == "Kiss" or .primary_tag == "Favourite")
       | [.id, .seconds, .end_seconds, .title]] | sort == [["1", 5, null, "user marker"], ["2", 4, 18, "user, same time as ours"]]' \
    <<<"$state" >/dev/null
check "the stale marker of the plugin's own is gone" \
    jq -e '[.scenes[].markers[] | select(.primary_tag == "oldtag")] | length == 0' <<<"$state" >/dev/null
check_eq "image: user tag kept" "$(image_tags /images/group_3faces.jpg "$state")" '["AI_Tagged","Kiss","face","group photo","person"]'
check_eq "image not queued is left alone" "$(image_tags /images/portrait_1face.gif "$state")" '[]'
check_eq "undecodable file: AI_Errored" "$(scene_tags /bad/not-media.mp4 "$state")" '["AI_Errored"]'
check_eq "missing file: AI_Errored" "$(scene_tags /videos/gone.mp4 "$state")" '["AI_Errored"]'
check "the failure names the missing file" grep -q "file not found: $F/videos/gone.mp4" "$tmp/plugin.err"
check "generated tags are children of AI with ignore_auto_tag" \
    jq -e '[.tags[] | select(.name == "face" or .name == "text")] | length == 2 and all(.parents == ["AI"] and .ignore_auto_tag)' \
    <<<"$state" >/dev/null
check "no duplicate tags or markers" jq -e '
    all(.scenes[], .images[]; (.tags | length) == (.tags | unique | length))
    and all(.scenes[]; (.markers | map([.primary_tag, .seconds]) | length) == (.markers | map([.primary_tag, .seconds]) | unique | length))' \
    <<<"$state" >/dev/null

# ---- the queue is empty now; untagged images: the one image the queue did not have

check "queue again: empty" run_plugin '{"mode":"queue"}'
check_eq "queue again: no items" "$(out items)" 0

check "untagged_images exits 0" run_plugin '{"mode":"untagged_images"}'
check_eq "untagged_images: the unqueued image only" "$(out items)" 1
state=$(double_state)
check_eq "untagged image tagged" "$(image_tags /images/portrait_1face.gif "$state")" '["AI_Tagged","close-up portrait","face","person"]'
check_eq "results in Stash = the catalog's results" "$(ours_view "$state")" "$(catalog_view "$state")"

# ---- a second run changes nothing and runs no model

runs_before=$(runs)
double_log_clear
check "retag_all exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "second run: no model ran" "$(out models_run)" 0
check_eq "second run: nothing analysed" "$(out analysed)" 0
check_eq "second run: nothing written" "$(out updated)" 0
check_eq "second run: no mutation reached Stash" "$(mutations)" 0
check_eq "second run: catalog has no new run" "$(runs)" "$runs_before"
check_eq "second run: Stash state identical" "$(double_state)" "$state"

# ---- settings: markers off, then a tag prefix; results re-derived, no model

set_settings '{"markers": false}'
check "markers off: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check_eq "markers off: no model ran" "$(out models_run)" 0
check "markers off: the plugin's markers are gone" \
    jq -e '[.scenes[].markers[] | select(.primary_tag == "face" or .primary_tag == "text")] | length == 0' <<<"$state" >/dev/null
check_eq "markers off: user markers still there" \
    "$(jq -c '[.scenes[].markers[] | .title] | sort' <<<"$state")" '["user marker","user, same time as ours"]'
check_eq "markers off: Stash = catalog" "$(ours_view "$state")" "$(catalog_view "$state" "" 0)"

set_settings '{"markers": "true", "tagPrefix": "AI:", "threshold": "50"}'
check "prefix: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check_eq "prefix: no model ran" "$(out models_run)" 0
check_eq "prefix: old names replaced by prefixed ones" \
    "$(scene_tags /videos/faces_720p_hevc.mkv "$state")" '["AI:close-up portrait","AI:face","AI:person","AI_Tagged","Favourite"]'
# The policy applies tagPrefix, so the catalog already holds the names Stash shows.
check_eq "prefix: Stash = catalog" "$(ours_view "$state")" "$(catalog_view "$state" "" 1)"
set_settings '{"tagPrefix": ""}'
check "prefix removed: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check_eq "prefix removed: Stash = catalog" "$(ours_view "$state")" "$(catalog_view "$state")"

# ---- the UI's "Tag with AI": one scene by id, after the user removed a generated tag: the
# removal is read back as a rejection (docs/review.md), so the tag is not written again

sid=$(jq -r --arg p "$PREFIX/videos/text_720p_vp9.webm" '.scenes[] | select(.path == $p) | .id' <<<"$state")
tid=$(jq -r '.tags[] | select(.name == "text") | .id' <<<"$state")
gql 'mutation($i: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $i) { id } }' \
    "{\"i\": {\"ids\": [\"$sid\"], \"tag_ids\": {\"ids\": [\"$tid\"], \"mode\": \"REMOVE\"}}}" >/dev/null
check "scene mode exits 0" run_plugin "{\"mode\": \"scene\", \"ids\": [\"$sid\", \"999\"]}"
check_eq "scene mode: one item, the unknown id listed as failed" "$(out items),$(out failed)" "1,1"
check_eq "scene mode: the removed tag stays removed" "$(scene_tags /videos/text_720p_vp9.webm "$(double_state)")" '["AI_Tagged"]'
check_eq "scene mode: read back as one correction" "$(out corrections_read_back)" 1

# ---- a generated name that is already the user's tag is never used

double_seed "$(jq -cn --arg p "$PREFIX" --arg f "$F" '
  {tags: [{name: "face"}],
   scenes: [{path: ($p + "/videos/faces_720p_hevc.mkv"), tags: ["face"]},
            {path: ($p + "/videos/mixed_480p_mjpeg.avi"), tags: []}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f)}}}')"
check "collision run exits 0" run_plugin '{"mode":"untagged_scenes"}'
state=$(double_state)
check_eq "collision: the user's own tag stays where it was" \
    "$(scene_tags /videos/faces_720p_hevc.mkv "$state"),$(scene_tags /videos/mixed_480p_mjpeg.avi "$state")" \
    '["AI_Tagged","close-up portrait","face","person"],["AI_Tagged","person"]'
check "collision: the user's tag was not re-parented" \
    jq -e '[.tags[] | select(.name == "face") | .parents] == [[]]' <<<"$state" >/dev/null
check "collision: warned" grep -q 'tag "face" exists outside the parent tag' "$tmp/plugin.err"

finish
