#!/usr/bin/env bash
# plugin_categories.sh - parent categories in Stash: a tag whose label WordNet files under one of
# the concepts file's categories (models/context/concepts.json) gets that category as a second
# parent beside "AI" ("dog" under "animal"), the category tag itself is created under "AI" and
# put on no item, a label read in a chosen sense gets that sense's category (a computer mouse
# is a device, not an animal), and a second run writes nothing.
source "$(dirname "$0")/lib.sh"

PREFIX=/media/stash
jqt() { jq -e "$@" >/dev/null; }
photos=$tmp/photos
mkdir -p "$photos"
cp /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/horses.jpg "$photos/"

double_start || exit 1
seed=$(jq -cn --arg p "$PREFIX" --arg f "$photos" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}, {name: "animal", parents: []}],
   images: [{path: ($p + "/dog.jpg"), tags: ["AI_TagMe"]},
            {path: ($p + "/horses.jpg"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "objects", tagPrefix: "AI:"}}}')
double_seed "$seed" || exit 1
parents() { jq -c --arg n "$2" '[.tags[] | select(.name == $n) | .parents | sort] | .[0]' <<<"$1"; }

check "queue run exits 0" run_plugin '{"mode":"queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
state=$(double_state)
check_eq "the dog: under AI and under its category" "$(parents "$state" AI:dog)" '["AI","AI:animal"]'
check_eq "the horse too" "$(parents "$state" AI:horse)" '["AI","AI:animal"]'
check_eq "the car: a vehicle" "$(parents "$state" AI:car)" '["AI","AI:vehicle"]'
check_eq "the category tag is aitag's, under AI" "$(parents "$state" AI:animal)" '["AI"]'
check_eq "the user's own \"animal\" tag is untouched" "$(parents "$state" animal)" '[]'
check "the category is on no item" jqt '[.images[].tags[] | select(. == "AI:animal")] == []' <<<"$state"
check "the dog photo has its tags" jqt \
    '.images[] | select(.path | endswith("/dog.jpg")) | .tags | index("AI:dog") != null' <<<"$state"
double_log_clear
check "second run exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "second run: no mutation reached Stash" \
    "$(double_log | jq '[.[] | select(.fields[0] | test("Create|Update|Destroy|Merge"))] | length')" 0
finish
