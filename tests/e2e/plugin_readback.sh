#!/usr/bin/env bash
# plugin_readback.sh - corrections made in Stash are read back: a tag of ours the user takes
# off a scene, and a marker of ours the user deletes, are never written again by later runs
# (they become rejections in the catalog, source "stash"); a marker of ours whose times the
# user changes keeps the new times (a "bounds" decision), even through a forced re-analysis.
# Tags the user deletes from Stash altogether, and the user's own tags and markers, say
# nothing about our results.
source "$(dirname "$0")/lib.sh"

F=$AITAG_FIXTURES_DIR
PREFIX=/media/stash
CATALOG="$tmp/plugin/data/catalog.db"
V=/videos/faces_1080p_h264.mp4

double_start || exit 1
double_seed "$(jq -cn --arg p "$PREFIX" --arg f "$F" --arg v "$V" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}, {name: "Favourite"}],
   scenes: [{path: ($p + $v), tags: ["AI_TagMe", "Favourite"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "faces,objects"}}}')" || exit 1

tags() { double_state | jq -c '[.scenes[0].tags[]] | sort'; }
markers() { double_state | jq -c '[.scenes[0].markers[] | [.primary_tag, .seconds, .end_seconds]] | sort'; }
tag_id() { double_state | jq -r --arg n "$1" '.tags[] | select(.name == $n) | .id'; }
out() { jq -c ".output.$1" "$tmp/plugin.out"; }

check "first run exits 0" run_plugin '{"mode":"queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check "zebra and bird tagged, with markers" \
    jq -e '(.scenes[0].tags | index("zebra") and index("bird")) and
           ([.scenes[0].markers[] | select(.primary_tag == "bird")] | length == 1)' <(double_state) >/dev/null
check_eq "nothing read back on the first run" "$(out corrections_read_back)" 0
check_eq "what was written is remembered" \
    "$(sqlite3 "$CATALOG" "SELECT count(*) > 0 FROM stash_synced WHERE kind = 'scene' AND tag = 'zebra'")" 1

# The user, in Stash: takes zebra off the scene, deletes the bird marker, moves the first face
# marker to 2-15 s, and deletes the tag "person" from Stash altogether.
scene=$(double_state | jq -r '.scenes[0].id')
zebra=$(tag_id zebra)
gql "mutation { bulkSceneUpdate(input: {ids: [\"$scene\"], tag_ids: {ids: [\"$zebra\"], mode: REMOVE}}) { id } }" >/dev/null
bird_marker=$(double_state | jq -r '.scenes[0].markers[] | select(.primary_tag == "bird") | .id')
gql "mutation { sceneMarkerDestroy(id: \"$bird_marker\") }" >/dev/null
face_marker=$(double_state | jq -r '.scenes[0].markers[] | select(.primary_tag == "face" and .seconds == 0) | .id')
gql "mutation { sceneMarkerUpdate(input: {id: \"$face_marker\", seconds: 2, end_seconds: 15}) { id } }" >/dev/null
gql "mutation { tagDestroy(input: {id: \"$(tag_id person)\"}) }" >/dev/null
check "the user's edits are in Stash" \
    jq -e '(.scenes[0].tags | index("zebra") | not) and ([.scenes[0].markers[] | select(.primary_tag == "bird")] | length == 0)' \
    <(double_state) >/dev/null

check "retag run exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check_eq "three corrections read back (zebra, the bird marker, the face marker's times)" \
    "$(out corrections_read_back)" 3
check_eq "zebra is not added back" "$(tags | jq 'index("zebra")')" null
check_eq "the bird marker is not created again" \
    "$(markers | jq -c '[.[] | select(.[0] == "bird")]')" '[]'
check "the moved face marker keeps its times, once" \
    jq -e '[.[] | select(.[0] == "face" and .[1] == 0)] | length == 0' <(markers) >/dev/null
check_eq "... at 2-15 s" "$(markers | jq -c '[.[] | select(.[0] == "face" and .[1] == 2)]')" '[["face",2,15]]'
check_eq "the catalog holds the decisions, from Stash" \
    "$(sqlite3 "$CATALOG" "SELECT group_concat(verdict || ' ' || tag || coalesce(' ' || start, ''), '; ') FROM (SELECT * FROM decisions WHERE source = 'stash' AND who = 'stash' ORDER BY id)")" \
    "reject zebra; bounds face 0.0; reject bird 17.2"
check "aitag show agrees: no zebra" bash -c \
    "'$AITAG_BIN' show --json --catalog '$CATALOG' '$F$V' | jq -e '(.tags | map(.name) | index(\"zebra\") | not)' >/dev/null"
check "a tag deleted from Stash altogether is written again (no verdict on the item)" \
    jq -e '.scenes[0].tags | index("person")' <(double_state) >/dev/null
check_eq "the user's own tag is untouched" "$(tags | jq -c 'map(select(. == "Favourite"))')" '["Favourite"]'

# A forced re-analysis (the models run again) keeps every correction.
check "forced re-analysis exits 0" "$AITAG_BIN" tag --analyzers faces,objects --force --quiet \
    --progress never --catalog "$CATALOG" "$F$V" 2>/dev/null
check "retag again exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "nothing new read back" "$(out corrections_read_back)" 0
check "still no zebra, no bird marker, the face marker at 2-15" bash -c "
    s='$(double_state | jq -c .scenes[0])'
    jq -e '(.tags | index(\"zebra\") | not) and ([.markers[] | select(.primary_tag == \"bird\")] | length == 0)
           and ([.markers[] | select(.primary_tag == \"face\" and .seconds == 2 and .end_seconds == 15)] | length == 1)' <<<\"\$s\" >/dev/null"
check_eq "no mutation re-adds anything on a run with nothing to change" \
    "$(run_plugin '{"mode":"retag_all"}'; out tags_added),$(out markers_created)" "0,0"
finish
