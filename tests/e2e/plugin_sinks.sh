#!/usr/bin/env bash
# plugin_sinks.sh - one catalog and one rules file for the CLI and the plugin, against the
# Stash double:
#   a file tagged by `aitag tag --catalog C` is not analysed again by the plugin whose catalog
#   setting is C (no model runs) and Stash still gets its tags; `aitag show --catalog C` reads
#   what the plugin wrote; a prefix set both in the rules file and in tagPrefix is applied once
#   (tagPrefix wins), and the rules file's prefix alone is applied once too; a context.json in
#   the plugin's data folder adds its concepts without running a model.
source "$(dirname "$0")/lib.sh"

F=$AITAG_FIXTURES_DIR
C="$tmp/shared/catalog.db"
R="$tmp/shared/rules.json"
mkdir -p "$tmp/shared"

double_start || exit 1
seed=$(jq -cn --arg f "$F" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   scenes: [{path: ($f + "/videos/faces_720p_hevc.mkv"), tags: ["AI_TagMe"]}],
   images: [{path: ($f + "/images/group_3faces.jpg"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {catalog: $c}}}' --arg c "$C")
double_seed "$seed" || exit 1

out() { jq -c ".output.$1" "$tmp/plugin.out"; }
set_settings() { # JSON merged into the aitag plugin settings
    local st
    st=$(double_state | jq -c --argjson s "$1" '.plugins.aitag += $s') && double_seed "$st"
}
tags_of() { # KIND PATH
    double_state | jq -c --arg p "$2" "[.$1[] | select(.path == \$p) | .tags[]] | sort"
}

# ---- the CLI tags both files into C; the plugin then finds them there

check "cli tag into the shared catalog" \
    "$AITAG_BIN" tag --quiet --catalog "$C" "$F/videos/faces_720p_hevc.mkv" "$F/images/group_3faces.jpg"
check "plugin run exits 0" run_plugin '{"mode":"queue"}'
check_eq "plugin: no run error" "$(jq -r .error "$tmp/plugin.out")" null
check_eq "plugin: both items selected" "$(out items)" 2
check_eq "plugin: no model ran (the CLI's results are in the catalog)" "$(out models_run)" 0
check_eq "plugin: nothing was analysed again" "$(out analysed)" 0
check_eq "plugin: no data folder catalog" "$(test -e "$tmp/plugin/data/catalog.db" && echo yes || echo no)" no
check_eq "scene got the CLI's tags" "$(tags_of scenes "$F/videos/faces_720p_hevc.mkv")" '["AI_Tagged","close-up portrait","face","person"]'
check_eq "image got the CLI's tags" "$(tags_of images "$F/images/group_3faces.jpg")" '["AI_Tagged","face","group photo","person"]'
check_eq "aitag show --catalog reads the same tags" \
    "$("$AITAG_BIN" show --catalog "$C" --json "$F/images/group_3faces.jpg" | jq -c '[.tags[].name] | sort')" '["face","group photo","person"]'

# ---- a prefix in the rules file and in tagPrefix: applied once, tagPrefix wins

printf '{"prefix": "R:"}\n' >"$R"
set_settings "$(jq -cn --arg r "$R" '{rules: $r, tagPrefix: "P:"}')"
check "both prefixes: run exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "both prefixes: no model ran" "$(out models_run)" 0
check_eq "both prefixes: tagPrefix once, the rules file's not added" \
    "$(tags_of images "$F/images/group_3faces.jpg")" '["AI_Tagged","P:face","P:group photo","P:person"]'
check_eq "both prefixes: no doubled tag exists" \
    "$(double_state | jq -c '[.tags[].name | select(test("face"))] | map(select(. != "face")) | sort')" '["P:face"]'

set_settings '{"tagPrefix": ""}'
check "rules prefix only: run exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "rules prefix only: applied once" \
    "$(tags_of scenes "$F/videos/faces_720p_hevc.mkv")" '["AI_Tagged","R:close-up portrait","R:face","R:person"]'

# ---- data/context.json in the plugin folder: its rules over the shipped ones, re-derived
mkdir -p "$tmp/plugin/data"
printf '{"concepts": [{"name": "duo", "when": {"label": "face", "count": 2}}]}\n' \
    >"$tmp/plugin/data/context.json"
check "context.json: run exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "context.json: no model ran" "$(out models_run)" 0
check_eq "context.json: its concept reaches Stash" \
    "$(tags_of images "$F/images/group_3faces.jpg")" '["AI_Tagged","R:duo","R:face","R:group photo","R:person"]'
rm "$tmp/plugin/data/context.json"

# ---- the plugin's log lines come from every command's log setup (its default: info)
lines() { grep -c $'^\x01'"$1"$'\x02' "$tmp/plugin.err"; }
check "default log level: info lines" [ "$(lines i)" -gt 0 ]
check_eq "default log level: no debug lines" "$(lines d)" 0
AITAG_LOG_LEVEL=error run_plugin '{"mode":"retag_all"}'
check_eq "AITAG_LOG_LEVEL=error: no info lines" "$(lines i)" 0

set_settings "$(jq -cn --arg r "$tmp/shared/missing.json" '{rules: $r}')"
run_plugin '{"mode":"retag_all"}'
check "a missing rules file is named in the error" grep -q "missing.json" "$tmp/plugin.out" "$tmp/plugin.err"

finish
