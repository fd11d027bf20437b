#!/usr/bin/env bash
# plugin_speech.sh - the speech analyzer through the Stash plugin (writeTranscript): by default
# the "speech" tag and markers reach Stash and the transcript stays in the catalog; "markers"
# writes one marker per spoken segment, titled with its words, instead of the speech markers
# (a re-run creates nothing twice; a change of setting rewrites them without running a model);
# "details" writes the transcript into empty Details and never over the user's text; "off"
# removes the transcript markers written; speechKeywords become keyword tags; speechUrl sends
# the speech to an OpenAI-compatible server (a local fake); a bad value is an error naming
# the setting.
source "$(dirname "$0")/lib.sh"

src=$AITAG_SOURCE_DIR
PREFIX=/media/stash
CATALOG="$tmp/plugin/data/catalog.db"
jqt() { jq -e "$@" >/dev/null; } # jqt FILTER [FILE]: true when FILTER holds
fx=$AITAG_FIXTURES_DIR/speech
if ! [ -f "$fx/.stamp" ] || ! "$src/tools/make_speech_fixtures.sh" --check "$fx" 2>/dev/null; then
    fx=$tmp/speech
    "$src/tools/make_speech_fixtures.sh" "$fx" || { fail "make_speech_fixtures.sh failed"; finish; exit 1; }
fi

# start_fake NAME: a local OpenAI-compatible server (tests/fake-upstream); prints its port
start_fake() {
    node "$src/tests/fake-upstream/server.js" --name "$1" >"$tmp/fake.out" 2>&1 &
    echo $! >"$tmp/fake.pid"
    for _ in $(seq 100); do grep -q listening "$tmp/fake.out" 2>/dev/null && break; sleep 0.1; done
    grep -oE '[0-9]+$' "$tmp/fake.out" | head -n 1
}
stop_fake() { kill "$(cat "$tmp/fake.pid" 2>/dev/null)" 2>/dev/null; }
trap 'stop_fake; e2e_cleanup' EXIT

double_start || exit 1
seed=$(jq -cn --arg p "$PREFIX" --arg f "$fx" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   scenes: [{path: ($p + "/check_clean.mp4"), tags: ["AI_TagMe"]},
            {path: ($p + "/tune_clean.mp4"), tags: ["AI_TagMe"], details: "My own words."}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "speech"}}}')
double_seed "$seed" || exit 1
set_settings() {
    local st
    st=$(double_state | jq -c --argjson s "$1" '.plugins.aitag += $s') && double_seed "$st"
}
scene() { # STATE PATH: tags, markers (primary tag, start, end, title) and details
    jq -c --arg p "$PREFIX$2" '.scenes[] | select(.path == $p) |
        {tags: (.tags | sort), markers: ([.markers[] | [.primary_tag, .seconds, .end_seconds, .title]] | sort),
         details: (.details // "")}' <<<"$1"
}

check "default: queue run exits 0" run_plugin '{"mode":"queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
state=$(double_state)
check "default: the speech tag and one speech marker over the talk" jqt \
    '.tags == ["AI_Tagged", "speech"] and (.markers | length) == 1 and .markers[0][0] == "speech"
     and .markers[0][3] == "speech" and .details == ""' <(scene "$state" /check_clean.mp4)
"$AITAG_BIN" show --catalog "$CATALOG" --json "$fx/check_clean.mp4" >"$tmp/show.json"
check "the catalog holds the transcript" jqt '[.text[] | select(.source == "speech")] | length == 3' "$tmp/show.json"

set_settings '{"writeTranscript": "markers"}'
check "markers: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "markers: no model ran again" "$(jq -c .output.models_run "$tmp/plugin.out")" 0
state=$(double_state)
want=$(jq -c '[.text[] | select(.source == "speech") | ["speech", .start, .end, .text]] | sort' "$tmp/show.json")
check_eq "markers: one per spoken segment, titled with its words" \
    "$(scene "$state" /check_clean.mp4 | jq -c '.markers | map(.[1] |= (. * 1000 | round / 1000) | .[2] |= (. * 1000 | round / 1000))')" \
    "$(jq -c 'map(.[1] |= (. * 1000 | round / 1000) | .[2] |= (. * 1000 | round / 1000))' <<<"$want")"
check "markers: the council line" jqt '.markers | any(.[3] | test("city council voted"))' <(scene "$state" /check_clean.mp4)
check "markers: a second run changes nothing" run_plugin '{"mode":"retag_all"}'
check_eq "markers: nothing created or destroyed" \
    "$(jq -c '[.output.markers_created, .output.markers_destroyed]' "$tmp/plugin.out")" '[0,0]'

set_settings '{"writeTranscript": "details"}'
check "details: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check "details: the transcript, a line per segment" jqt \
    '.details | split("\n") | length == 3 and (.[0] | test("city council"))' <(scene "$state" /check_clean.mp4)
check_eq "details: the user's text is never replaced" "$(scene "$state" /tune_clean.mp4 | jq -r .details)" "My own words."
check_eq "details: one written" "$(jq -c .output.transcripts "$tmp/plugin.out")" 1
check "details: the transcript markers are gone, the speech marker back" jqt \
    '(.markers | length) == 1 and .markers[0][3] == "speech"' <(scene "$state" /check_clean.mp4)

set_settings '{"writeTranscript": "markers", "speechKeywords": "bridge, garden"}'
check "speechKeywords: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check "speechKeywords: the words said become tags" jqt \
    '.tags == ["AI_Tagged", "keyword:bridge", "keyword:garden", "speech"]' <(scene "$state" /check_clean.mp4)

port=$(start_fake whisperish)
set_settings "{\"speechUrl\": \"http://127.0.0.1:$port/v1\", \"speechKeywords\": \"\"}"
check "speechUrl: retag_all exits 0" run_plugin '{"mode":"retag_all"}'
state=$(double_state)
check "speechUrl: the server's words are the transcript markers" jqt \
    '[.markers[] | select(.[3] | test("^heard [0-9]+ bytes with whisper-1 at whisperish$"))] | length == 3' \
    <(scene "$state" /check_clean.mp4)

set_settings '{"writeTranscript": "loud"}'
run_plugin '{"mode":"retag_all"}'
check "a bad writeTranscript is an error naming it" grep -q 'writeTranscript' "$tmp/plugin.out"
finish
