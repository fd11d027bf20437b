#!/usr/bin/env bash
# plugin_gateway.sh - the plugin with the gatewayUrl setting: the models run on a real
# `aitag gateway serve`, the plugin's catalog and Stash get what an in-process run gives, and
# localOnly refuses a gateway that is not on this machine.
source "$(dirname "$0")/lib.sh"

F=$AITAG_FIXTURES_DIR
CATALOG="$tmp/plugin/data/catalog.db"
gw_pid=""
stop_gateway() { [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null; }
trap 'stop_gateway; e2e_cleanup' EXIT

mkdir -p "$tmp/media"
cp "$F/images/group_3faces.jpg" "$F/images/sign_on_photo.jpg" "$F/videos/faces_720p_hevc.mkv" \
    "$tmp/media/"
"$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --json >"$tmp/key.json"
cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "library_roots": ["$tmp/media"],
 "keys_db": "$tmp/keys.db", "access_log": "$tmp/access.jsonl", "catalog": "$tmp/gw.db",
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces", "text"]}]}}}
JSON
"$AITAG_BIN" gateway serve --config "$tmp/gw.json" >"$tmp/gw.out" 2>"$tmp/gw.err" &
gw_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/gw.out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -oE '[0-9]+$' "$tmp/gw.out" | head -n 1)
check "gateway started" [ -n "$port" ]

double_start || exit 1
seed=$(jq -cn --arg m "$tmp/media" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   scenes: [{path: ($m + "/faces_720p_hevc.mkv"), tags: ["AI_TagMe"]}],
   images: [{path: ($m + "/group_3faces.jpg"), tags: ["AI_TagMe"]},
            {path: ($m + "/sign_on_photo.jpg"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {gatewayUrl: "http://192.0.2.1:8089", localOnly: true}}}')
double_seed "$seed" || exit 1
set_settings() {
    local st
    st=$(double_state | jq -c --argjson s "$1" '.plugins.aitag += $s') && double_seed "$st"
}

# localOnly with a gateway elsewhere: the run stops before anything is analysed or written.
run_plugin '{"mode":"queue"}'
check "localOnly, remote gateway: run error says why" \
    jq -e '.error | test("gatewayUrl: local-only")' "$tmp/plugin.out" >/dev/null
check "localOnly, remote gateway: nothing stored" [ ! -s "$CATALOG" ]

# Through the local gateway: everything analysed there, stored here.
set_settings "{\"gatewayUrl\": \"http://127.0.0.1:$port\", \"localOnly\": true}"
export AITAG_GATEWAY_KEY=$(jq -r .key "$tmp/key.json")
AITAG_LOG_LEVEL=info run_plugin '{"mode":"queue"}'
check_eq "queue run through the gateway exits 0" "$?" 0
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check_eq "all three analysed" "$(jq -c '.output.analysed' "$tmp/plugin.out")" 3
check_eq "no model loaded by the plugin" "$(grep -c 'event=load' "$tmp/plugin.err")" 0
check_eq "three /v1/tag calls" "$(grep -c '"path":"/v1/tag"' "$tmp/access.jsonl")" 3
"$AITAG_BIN" tag --catalog "$tmp/local.db" "$tmp/media" >/dev/null 2>&1
# Evidence by item and analyzer, in each analyzer's own order: cues runs here under --gateway
# (runs_here), so its rows are stored before the gateway's, not interleaved frame by frame.
dump() {
    sqlite3 "$1" "SELECT m.path, e.analyzer, e.label, e.confidence, e.t, e.x, e.y, e.w, e.h, e.text FROM evidence e JOIN media m ON m.id = e.media_id ORDER BY m.path, e.analyzer, e.id;" \
        "SELECT m.path, t.name, t.confidence FROM tags t JOIN media m ON m.id = t.media_id ORDER BY 1, 2;" \
        "SELECT m.path, k.tag, k.start, k.end FROM markers k JOIN media m ON m.id = k.media_id ORDER BY 1, 3, 2;"
}
check "plugin catalog = in-process catalog" cmp -s <(dump "$CATALOG") <(dump "$tmp/local.db")
state=$(double_state)
check "Stash got the face tag on the photo" jq -e --arg p "$tmp/media/group_3faces.jpg" \
    '[.images[] | select(.path == $p) | .tags | index("face")] | .[0] != null' <<<"$state" >/dev/null
check "Stash got face markers on the video" jq -e --arg p "$tmp/media/faces_720p_hevc.mkv" \
    '[.scenes[] | select(.path == $p) | .markers[] | select(.primary_tag == "face")] | length >= 1' \
    <<<"$state" >/dev/null

# Without the key the gateway answers 401: items fail (AI_Errored), the message names it.
set_settings '{"localOnly": false}'
"$AITAG_BIN" tag --catalog "$tmp/local.db" "$tmp/media" >/dev/null 2>&1
touch "$tmp/media/sign_on_photo.jpg" # changed for the plugin's catalog: it needs the gateway
AITAG_GATEWAY_KEY= run_plugin '{"mode":"retag_all"}'
check "no key: the failure names 401" grep -q "HTTP 401" "$tmp/plugin.err"
check_eq "no key: one item failed" "$(jq -c '.output.failed' "$tmp/plugin.out")" 1
finish
