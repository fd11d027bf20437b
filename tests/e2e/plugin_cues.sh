#!/usr/bin/env bash
# plugin_cues.sh - technical cues and the Stash plugin: the cues analyzer runs by default and
# its results stay in the catalog, but reach Stash only with the writeCues setting; turning the
# setting off again removes the cue tags and markers written, nothing else.
source "$(dirname "$0")/lib.sh"

src=$AITAG_SOURCE_DIR
PREFIX=/media/stash
CATALOG="$tmp/plugin/data/catalog.db"
cues=$AITAG_FIXTURES_DIR/cues
if ! [ -f "$cues/.stamp" ] || ! "$src/tools/make_cue_fixtures.sh" --check "$cues" 2>/dev/null; then
    cues=$tmp/cues
    "$src/tools/make_cue_fixtures.sh" "$cues" || { fail "make_cue_fixtures.sh failed"; finish; exit 1; }
fi

double_start || exit 1
seed=$(jq -cn --arg p "$PREFIX" --arg f "$cues" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   scenes: [{path: ($p + "/static.mp4"), tags: ["AI_TagMe"]},
            {path: ($p + "/none.mp4"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "faces,cues"}}}')
double_seed "$seed" || exit 1
set_settings() {
    local st
    st=$(double_state | jq -c --argjson s "$1" '.plugins.aitag += $s') && double_seed "$st"
}
scene() { # STATE PATH: its tags and markers (primary tag, start, end), sorted
    jq -c --arg p "$PREFIX$2" '.scenes[] | select(.path == $p) |
        {tags: (.tags | sort), markers: ([.markers[] | [.primary_tag, .seconds, .end_seconds]] | sort)}' <<<"$1"
}

check "queue run exits 0" run_plugin '{"mode":"queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
state=$(double_state)
check_eq "default: no cue in Stash" "$(scene "$state" /static.mp4)" '{"tags":["AI_Tagged"],"markers":[]}'
"$AITAG_BIN" show --catalog "$CATALOG" --json "$cues/static.mp4" >"$tmp/show.json"
check "default: the catalog has the still picture" \
    jq -e '[.tags[].name] == ["cue:static"] and (.markers | length) == 1' "$tmp/show.json" >/dev/null
check "no cue tag created in Stash" jq -e '[.tags[] | select(.name | startswith("cue:"))] == []' \
    <<<"$state" >/dev/null

set_settings '{"writeCues": true}'
check "writeCues: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
want=$(jq -c '{tags: (["AI_Tagged"] + [.tags[].name] | sort),
               markers: [.markers[] | [.tag, .start, .end]]}' "$tmp/show.json")
check_eq "writeCues: the cue tag and its marker, as in the catalog" "$(scene "$state" /static.mp4)" "$want"
check_eq "writeCues: no model ran again" "$(jq -c .output.models_run "$tmp/plugin.out")" 0
check_eq "writeCues: footage without cues gets none" "$(scene "$state" /none.mp4)" \
    '{"tags":["AI_Tagged"],"markers":[]}'
check "the cue tag is a child of AI" \
    jq -e '[.tags[] | select(.name == "cue:static")] | length == 1 and .[0].parents == ["AI"]' <<<"$state"

set_settings '{"writeCues": false}'
check "off again: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check_eq "off again: cue tag and marker removed" "$(scene "$state" /static.mp4)" \
    '{"tags":["AI_Tagged"],"markers":[]}'
finish
