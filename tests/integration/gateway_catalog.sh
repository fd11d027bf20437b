#!/usr/bin/env bash
# gateway_catalog.sh - the gateway shares the command line's catalog and rules file:
#   a file tagged by `aitag tag --catalog C` is answered by a gateway whose "catalog" is C as
#   skipped, without running a model; without a "catalog" key the gateway uses the CLI's
#   default ($XDG_DATA_HOME/aitag/catalog.db), not a file in its working directory; without a
#   "rules" key it applies the CLI's default rules file, with one it applies that file; a
#   "rules" file that cannot be read refuses the config, naming the file. The gateway logs
#   through the same log setup as every command: --log-level info shows info lines (model
#   loads), the default (warn) none.
source "$(dirname "$0")/lib.sh"
for t in curl jq sqlite3; do
    command -v $t >/dev/null || { echo "gateway_catalog.sh: $t is required" >&2; exit 1; }
done
GW_PID=
cleanup() {
    [ -n "$GW_PID" ] && { kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
stop() { kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; GW_PID=; }

mkdir -p "$tmp/media" "$tmp/cwd"
cp "$AITAG_FIXTURES_DIR/images/group_3faces.jpg" "$tmp/media/"
img="$tmp/media/group_3faces.jpg"
cd "$tmp/cwd" || exit 1 # the gateways run here: nothing may appear in it
# config FILE EXTRA: one local route "tag" (faces), EXTRA spliced into the top level.
config() {
    cat >"$1" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 1, "library_roots": ["$tmp/media"],
 "tmp_dir": "$tmp", $2
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces"]}]}}}
JSON
}
tag_via_gateway() { # -> the answer of /v1/tag for the image
    curl -s -X POST -H 'Content-Type: application/json' \
        -d "$(jq -cn --arg p "$img" '{path: $p}')" "http://127.0.0.1:$GW_PORT/v1/tag"
}
runs() { sqlite3 "$1" "SELECT count(*) FROM runs"; }

# ---- an explicit catalog: the CLI's results are the gateway's answer
C="$tmp/shared/c.db"
mkdir -p "$tmp/shared"
"$AITAG_BIN" tag --quiet --analyzers faces --catalog "$C" "$img"
check_eq "cli tagged the image into C" "$(runs "$C")" 1
config "$tmp/g1.json" "\"catalog\": \"$C\","
gateway_start "$tmp/g1.json" --log-level info
check "gateway started on C" [ -n "$GW_PORT" ]
ans=$(tag_via_gateway)
check_eq "gateway on C: the image is skipped (results from C)" "$(jq -r .status <<<"$ans")" skipped
check_eq "gateway on C: the CLI's tags" "$(jq -c '[.tags[].name]' <<<"$ans")" '["face","group photo","person"]'
check_eq "gateway on C: no model ran (no new run in C)" "$(runs "$C")" 1
check "gateway on C: info lines at --log-level info" grep -q '^level=info ' "$tmp/gw.err"
check_eq "gateway on C: no model loaded" "$(grep -c 'event=load' "$tmp/gw.err")" 0
stop

# ---- no catalog key: the CLI's default catalog, and the CLI's default rules file
mkdir -p "$XDG_CONFIG_HOME/aitag"
printf '{"prefix": "R:"}\n' >"$XDG_CONFIG_HOME/aitag/rules.json"
"$AITAG_BIN" tag --quiet --analyzers faces "$img"
D="$XDG_DATA_HOME/aitag/catalog.db"
check "cli wrote its default catalog" [ -f "$D" ]
config "$tmp/g2.json" ""
gateway_start "$tmp/g2.json"
ans=$(tag_via_gateway)
check_eq "default catalog: the image is skipped" "$(jq -r .status <<<"$ans")" skipped
check_eq "default rules: the rules file's prefix" "$(jq -c '[.tags[].name]' <<<"$ans")" '["R:face","R:group photo","R:person"]'
check_eq "default catalog: no model ran" "$(runs "$D")" 1
check "default catalog: no gateway-catalog.db in the working directory" \
    [ ! -e "$tmp/cwd/gateway-catalog.db" ]
check_eq "default log level (warn): no info lines" "$(grep -c '^level=info ' "$tmp/gw.err")" 0
stop

# ---- a rules key: that file, over the default one
printf '{"prefix": "G:"}\n' >"$tmp/g-rules.json"
config "$tmp/g3.json" "\"rules\": \"$tmp/g-rules.json\","
gateway_start "$tmp/g3.json"
ans=$(tag_via_gateway)
check_eq "rules key: its prefix" "$(jq -c '[.tags[].name]' <<<"$ans")" '["G:face","G:group photo","G:person"]'
stop

# ---- a context key: that file's rules over the shipped ones, as `aitag tag --context` applies
printf '{"concepts": [{"name": "trio", "when": {"label": "face", "count": 3}}]}\n' >"$tmp/g-context.json"
config "$tmp/g4.json" "\"context\": \"$tmp/g-context.json\","
gateway_start "$tmp/g4.json"
ans=$(tag_via_gateway)
check_eq "context key: its concept too" "$(jq -c '[.tags[].name]' <<<"$ans")" \
    '["R:face","R:group photo","R:person","R:trio"]'
stop

config "$tmp/g4.json" "\"rules\": \"$tmp/missing-rules.json\","
"$AITAG_BIN" gateway serve --config "$tmp/g4.json" >/dev/null 2>"$tmp/g4.err"
check_eq "unreadable rules: refused (exit 2)" "$?" 2
check "unreadable rules: the error names the file" grep -q "missing-rules.json" "$tmp/g4.err"

finish
