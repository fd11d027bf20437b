#!/usr/bin/env bash
# gateway_usage.sh - keyed POST /v1/tag requests are counted per key and route (requests,
# media seconds, frames analysed) and `aitag gateway usage` shows them; a repeated file counts
# its request and seconds again but no frames (the catalog answers it); a keys_db written
# before these columns existed gains them on open and keeps its rows.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
GW_PID=""
cleanup() {
    [ -n "$GW_PID" ] && { kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/media" "$tmp/up"
cp "$fx/videos/faces_720p_hevc.mkv" "$fx/images/group_3faces.jpg" "$tmp/media/"
# A keys file from before media_seconds and frames: one usage row already in it.
sqlite3 "$tmp/keys.db" \
    "CREATE TABLE gateway_usage (day TEXT NOT NULL, key_id INTEGER NOT NULL, route TEXT NOT NULL,
       model TEXT NOT NULL, requests INTEGER NOT NULL DEFAULT 0,
       prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
       cost REAL NOT NULL DEFAULT 0, PRIMARY KEY (day, key_id, route, model));
     INSERT INTO gateway_usage VALUES ('2026-01-01', 99, 'chat', 'gpt', 3, 10, 20, 0.5);"
key1=$("$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name one --json | jq -r .key)
key2=$("$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name two --json | jq -r .key)
check "keys created" [ -n "$key1" -a -n "$key2" ]
id1=$("$AITAG_BIN" gateway keys list --db "$tmp/keys.db" --json | jq -r 'select(.name == "one") | .id')
id2=$("$AITAG_BIN" gateway keys list --db "$tmp/keys.db" --json | jq -r 'select(.name == "two") | .id')

cat >"$tmp/gw.json" <<JSON
{
  "listen": "127.0.0.1", "port": 0, "workers": 2,
  "library_roots": ["$tmp/media"], "keys_db": "$tmp/keys.db",
  "catalog": "$tmp/gw.db", "tmp_dir": "$tmp/up",
  "routes": {
    "tag": {"backends": [{"kind": "local", "analyzers": ["faces"]}]},
    "other": {"backends": [{"kind": "local", "analyzers": ["faces"]}]}
  }
}
JSON
gateway_start "$tmp/gw.json"
port=$GW_PORT
check "gateway started" [ -n "$port" ]

tag() { # KEY JSON -> the answer in $tmp/answer.json; fails unless HTTP 200
    local code
    code=$(curl -sS -o "$tmp/answer.json" -w '%{http_code}' -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' --data-binary "$2" "http://127.0.0.1:$port/v1/tag")
    [ "$code" = 200 ] || { echo "HTTP $code: $(cat "$tmp/answer.json")" >&2; return 1; }
}
video=$tmp/media/faces_720p_hevc.mkv
check "key one tags the video on route tag" tag "$key1" "{\"model\": \"tag\", \"path\": \"$video\"}"
duration=$(jq .duration "$tmp/answer.json")
check "the video has a duration" jq -e '.duration > 1' "$tmp/answer.json" >/dev/null
check "key one tags it again (from the catalog)" tag "$key1" "{\"model\": \"tag\", \"path\": \"$video\"}"
check "key one tags an image on route tag" tag "$key1" "{\"model\": \"tag\", \"path\": \"$tmp/media/group_3faces.jpg\"}"
check "key two tags the video on route other" tag "$key2" "{\"model\": \"other\", \"path\": \"$video\"}"
check "a request without a key is refused" bash -c \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" --data-binary "{\"path\": \"$1\"}" "$2")" = 401 ]' \
    _ "$video" "http://127.0.0.1:$port/v1/tag"

usage() { "$AITAG_BIN" gateway usage --db "$tmp/keys.db" --json; }
row() { # KEY_ID ROUTE -> that row of `aitag gateway usage --json`
    usage | jq -c --argjson k "$1" --arg r "$2" 'select(.key_id == $k and .route == $r)'
}
usage_has() { [ "$(row "$1" "$2" | jq .requests)" = "$3" ]; }
check "usage shows key one's /v1/tag requests" eventually usage_has "$id1" tag 3
r1=$(row "$id1" tag)
check_eq "key one, route tag: requests" "$(jq .requests <<<"$r1")" 3
near() { jq -en --argjson a "$1" --argjson b "$2" '($a - $b) | fabs < 0.01' >/dev/null 2>&1; }
check "key one, route tag: media seconds = the video twice (the image adds none)" \
    near "$(jq .media_seconds <<<"$r1")" "$(jq -n "2 * $duration")"
frames1=$(jq .frames <<<"$r1")
# faces every 2 s over the video, plus the image: counted once (the repeat runs no model).
want_frames=$(jq -n --argjson d "$duration" '($d / 2 | ceil) + 1')
check "key one, route tag: frames of one analysis of the video and the image ($frames1)" \
    [ "$frames1" -ge "$((want_frames - 1))" ] && [ "$frames1" -le "$((want_frames + 1))" ]
check_eq "key one, route tag: no tokens" "$(jq -c '[.prompt_tokens, .completion_tokens]' <<<"$r1")" "[0,0]"
r2=$(row "$id2" other)
check_eq "key two, route other: one request" "$(jq .requests <<<"$r2")" 1
check "key two, route other: the video's seconds" near "$(jq .media_seconds <<<"$r2")" "$duration"
check_eq "key one has no row on route other, key two none on tag" \
    "$(row "$id1" other)$(row "$id2" tag)" ""
check_eq "the old row is kept, with zero media seconds and frames" \
    "$(usage | jq -c 'select(.key_id == 99) | [.requests, .cost, .media_seconds, .frames]')" "[3,0.5,0,0]"
check "the table lists media_seconds and frames" bash -c \
    '"$1" gateway usage --db "$2" | head -n 1 | grep -q "media_seconds.*frames"' _ "$AITAG_BIN" "$tmp/keys.db"

finish
