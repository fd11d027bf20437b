#!/usr/bin/env bash
# plugin_people.sh - a named person reaches Stash like any tag: the person:NAME tag (a child of
# the parent tag) and markers of when they are on screen, written by the plugin's next run
# without running a model; with tagPrefix the plugin re-derives them under its own names; a
# forgotten person's tag and markers are removed from Stash by the run after.
source "$(dirname "$0")/lib.sh"

PREFIX=/media/stash
CATALOG="$tmp/plugin/data/catalog.db"
F=$AITAG_FIXTURES_DIR

double_start || exit 1
seed=$(jq -cn --arg p "$PREFIX" --arg f "$F/videos" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   scenes: [{path: ($p + "/faces_720p_hevc.mkv"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "faces,face_attrs"}}}')
double_seed "$seed" || exit 1
set_settings() {
    local st
    st=$(double_state | jq -c --argjson s "$1" '.plugins.aitag += $s') && double_seed "$st"
}
scene() { # STATE: the scene's tags and markers (primary tag, start, end), sorted
    jq -c '.scenes[0] | {tags: (.tags | sort),
        markers: ([.markers[] | [.primary_tag, .seconds, .end_seconds]] | sort)}' <<<"$1"
}
person_markers() { # STATE TAG: the markers of TAG
    jq -c --arg t "$2" '[.scenes[0].markers[] | select(.primary_tag == $t) | [.seconds, .end_seconds]]' <<<"$1"
}

check "queue run exits 0" run_plugin '{"mode":"queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check "no person tag before anyone is named" \
    jq -e '[.scenes[0].tags[] | select(startswith("person:"))] == []' <<<"$(double_state)"

# The run ended with the people engine, as `aitag tag` does: the faces it stored have people.
check "the plugin's run grouped its faces into people" \
    test "$(sqlite3 "$CATALOG" 'SELECT count(*) FROM faces WHERE person_id IS NOT NULL')" -gt 0
# The plugin's catalog holds the faces; they go to people as a clustering would.
sqlite3 "$CATALOG" <"$AITAG_SOURCE_DIR/tests/data/people_assign.sql"
check "name a person" "$AITAG_BIN" people name 1 "Ann Lee" --catalog "$CATALOG"
"$AITAG_BIN" show --json --catalog "$CATALOG" "$F/videos/faces_720p_hevc.mkv" >"$tmp/show.json"

check "retag_all exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "no model ran again" "$(jq -c .output.models_run "$tmp/plugin.out")" 0
state=$(double_state)
check "the person's tag is on the scene" \
    jq -e '.scenes[0].tags | index("person:Ann Lee") != null' <<<"$state"
check "... a child of the parent tag" \
    jq -e '[.tags[] | select(.name == "person:Ann Lee")] | length == 1 and .[0].parents == ["AI"]' \
    <<<"$state"
check_eq "the person's markers, as in the catalog" "$(person_markers "$state" "person:Ann Lee")" \
    "$(jq -c '[.markers[] | select(.tag == "person:Ann Lee") | [.start, .end]]' "$tmp/show.json")"
check "... one marker" jq -e 'length == 1' <<<"$(person_markers "$state" "person:Ann Lee")"

# The plugin's own tag names: it re-derives people under them like every other label.
set_settings '{"tagPrefix": "AI:"}'
check "tagPrefix: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check "tagPrefix: the person under the prefixed name" \
    jq -e '.scenes[0].tags | index("AI:person:Ann Lee") != null and index("person:Ann Lee") == null' \
    <<<"$state"
check_eq "tagPrefix: its marker" "$(person_markers "$state" "AI:person:Ann Lee" | jq length)" 1
set_settings '{"tagPrefix": ""}'

check "forget the person" "$AITAG_BIN" people forget 1 --catalog "$CATALOG"
check "after forget: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check "after forget: no person tag or marker left in Stash" jq -e '
    ([.scenes[0].tags[] | select(test("person:"))] == []) and
    ([.scenes[0].markers[] | select(.primary_tag | test("person:"))] == [])' <<<"$state"
check "after forget: the other tags stay" jq -e '.scenes[0].tags | index("face") != null' <<<"$state"
finish
