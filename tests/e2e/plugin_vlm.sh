#!/usr/bin/env bash
# plugin_vlm.sh - the plugin with the vlm analyzer, against the Stash double and the fake VLM
# (tests/fake-upstream/vlm.js): vocabulary tags and markers land in Stash, out-of-vocabulary
# ones never do, descriptions go into Details only where Details is empty (the user's text is
# never replaced), a second run calls no model and writes nothing, and with vlmDescribe off
# nothing is written into Details.
source "$(dirname "$0")/lib.sh"

F=$AITAG_FIXTURES_DIR
PREFIX=/media/stash
vlm_pid=""
vlm_stop() { [ -n "$vlm_pid" ] && kill "$vlm_pid" 2>/dev/null && wait "$vlm_pid" 2>/dev/null; }
trap 'vlm_stop; e2e_cleanup' EXIT

double_start || exit 1
node "$AITAG_SOURCE_DIR/tests/fake-upstream/vlm.js" --save "$tmp/jpg" >"$tmp/vlm.out" 2>"$tmp/vlm.err" &
vlm_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/vlm.out" 2>/dev/null && break; sleep 0.1; done
vlm_port=$(grep -oE '[0-9]+$' "$tmp/vlm.out" | head -n 1)
check "fake VLM started" [ -n "$vlm_port" ]
calls() { curl -s "http://127.0.0.1:$vlm_port/_stats" | jq .calls; }
mkdir -p "$tmp/plugin"
printf 'Person\nHorse\nCrowd\nBeach\n' >"$tmp/plugin/vocabulary.txt"

seed=$(jq -cn --arg p "$PREFIX" --arg f "$F" --arg url "http://127.0.0.1:$vlm_port/v1" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   scenes: [{path: ($p + "/videos/faces_720p_hevc.mkv"), tags: ["AI_TagMe"]}],
   images: [{path: ($p + "/images/horses.webp"), tags: ["AI_TagMe"], details: "My own words."},
            {path: ($p + "/images/group_3faces.jpg"), tags: ["AI_TagMe"], details: "  "},
            {path: ($p + "/images/sign_on_photo.jpg"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "vlm", vlmUrl: $url,
     vlmRoute: "vision", vlmVocabulary: "vocabulary.txt", vlmEvery: 10, vlmDescribe: true}}}')
double_seed "$seed" || exit 1
details() { # KIND PATH
    double_state | jq -r --arg k "$1s" --arg p "$PREFIX$2" '.[$k][] | select(.path == $p) | .details // "(null)"'
}

check "queue run exits 0" run_plugin '{"mode":"queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check_eq "four items analysed" "$(jq .output.analysed "$tmp/plugin.out")" 4
check_eq "VLM calls: 40 s / 10 s for the scene, 1 per image" "$(calls)" 7
check_eq "the route asked" "$(curl -s "http://127.0.0.1:$vlm_port/_stats" | jq -r .last.model)" vision
check_eq "descriptions written: the scene and the two images without text" \
    "$(jq .output.descriptions "$tmp/plugin.out")" 3
check "scene Details text" grep -q "A 512x288 picture" <<<"$(details scene /videos/faces_720p_hevc.mkv)"
check_eq "the user's Details are kept" "$(details image /images/horses.webp)" "My own words."
check "blank Details get the description" grep -q "^A 512x360 picture" <<<"$(details image /images/group_3faces.jpg)"
state=$(double_state)
check "vocabulary tags landed under AI (vocabulary spelling)" \
    jq -e '[.tags[] | select(.name == "Person")] | length == 1 and (.[0].parents == ["AI"])' <<<"$state" >/dev/null
check "every item has Person" \
    jq -e '[.scenes[], .images[] | .tags | index("Person")] | all(. != null)' <<<"$state" >/dev/null
check "no out-of-vocabulary tag in Stash" \
    jq -e '[.tags[] | select(.name | test("unicorn"; "i"))] | length == 0' <<<"$state" >/dev/null
check "the scene has a Person marker over the video" \
    jq -e '[.scenes[0].markers[] | select(.primary_tag == "Person" and .seconds == 0 and .end_seconds == 40)] | length == 1' \
    <<<"$state" >/dev/null
check "no tag or marker called description" \
    jq -e '[.tags[] | select(.name == "description")] | length == 0' <<<"$state" >/dev/null

# A second run: nothing to analyse, no VLM call, nothing overwritten.
double_log_clear
check "retag_all exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "retag_all: no VLM call" "$(calls)" 7
check_eq "retag_all: no description written" "$(jq .output.descriptions "$tmp/plugin.out")" 0
check_eq "retag_all: no mutation" \
    "$(double_log | jq '[.[] | select(.fields[0] | test("Create|Update|Destroy"))] | length')" 0
check_eq "the user's Details are still kept" "$(details image /images/horses.webp)" "My own words."

# Details emptied by the user get the stored description again, without a VLM call.
double_seed "$(double_state | jq -c '.scenes[0].details = null')"
check "emptied Details: exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "emptied Details: no VLM call" "$(calls)" 7
check_eq "emptied Details: one description written" "$(jq .output.descriptions "$tmp/plugin.out")" 1
check "emptied Details: the description is back" grep -q "A 512x288 picture" <<<"$(details scene /videos/faces_720p_hevc.mkv)"

# vlmDescribe off: the analyzer runs again (its settings changed) but Details stay as they are.
st=$(double_state | jq -c '.images |= map(if (.path | test("sign_on_photo")) then .details = null else . end)
                            | .plugins.aitag.vlmDescribe = false')
double_seed "$st"
check "describe off: exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "describe off: no descriptions field in the summary" "$(jq .output.descriptions "$tmp/plugin.out")" null
check_eq "describe off: emptied Details stay empty" "$(details image /images/sign_on_photo.jpg)" "(null)"
check "describe off: the VLM was asked without a description" \
    sh -c "tail -n 1 '$tmp/jpg/calls.jsonl' | jq -e '.describe == false' >/dev/null"

# The vocabulary from Stash: the child tags of a tag the user keeps for it. Stash tag names
# are unique, so aitag's tags get a prefix.
st=$(double_state | jq -c '.plugins.aitag += {vlmVocabulary: "stash:VLM words", tagPrefix: "ai "}')
double_seed "$st"
gql 'mutation { a: tagCreate(input: {name: "VLM words"}) { id } }' >"$tmp/gql.json"
pid=$(jq -r .a.id "$tmp/gql.json")
gql "mutation { b: tagCreate(input: {name: \"Cat\", parent_ids: [\"$pid\"]}) { id }
                c: tagCreate(input: {name: \"Dog\", parent_ids: [\"$pid\"]}) { id } }" >/dev/null
n=$(calls)
check "stash vocabulary: exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "stash vocabulary: the VLM re-ran (new vocabulary)" "$(calls)" $((n + 7))
check_eq "stash vocabulary: the tag's children, sorted" \
    "$(tail -n 1 "$tmp/jpg/calls.jsonl" | jq -c .vocab)" '["Cat","Dog"]'
state=$(double_state)
check "stash vocabulary: items now carry 'ai Cat' (the first tag, answered in upper case)" \
    jq -e '[.scenes[], .images[] | .tags | index("ai Cat")] | all(. != null)' <<<"$state" >/dev/null
check "stash vocabulary: the user's Cat tag is not put on items" \
    jq -e '[.scenes[], .images[] | .tags | index("Cat")] | all(. == null)' <<<"$state" >/dev/null
# The AI parent itself as the source: its control tags are left out, the prefix stripped.
double_seed "$(double_state | jq -c '.plugins.aitag.vlmVocabulary = "stash:AI"')"
check "AI parent as vocabulary: exits 0" run_plugin '{"mode":"retag_all"}'
# (aitag's tags include the parent category it made for Dog, Cat and Horse: "animal")
check_eq "AI parent as vocabulary: aitag's tags without prefix, no control tags" \
    "$(tail -n 1 "$tmp/jpg/calls.jsonl" | jq -c .vocab)" '["Beach","Cat","Crowd","Dog","Horse","Person","animal"]'
double_seed "$(double_state | jq -c '.plugins.aitag.vlmVocabulary = "stash:No such tag"')"
run_plugin '{"mode":"retag_all"}'
check "stash vocabulary without that tag: the run fails naming it" \
    jq -e '.error | test("No such tag")' "$tmp/plugin.out" >/dev/null
finish
