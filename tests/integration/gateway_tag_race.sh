#!/usr/bin/env bash
# /v1/tag by path reads the file it checked: the file is opened once, under the library root,
# without following links, and the tagger reads that descriptor. A file swapped for a symlink
# to a file outside the roots after the check (while the request waits behind a long video,
# and again in a loop while requests run) never gives data from outside; a symlink anywhere
# on the path below the root is refused, even one that stays inside.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
for t in curl jq sqlite3; do
    command -v $t >/dev/null || { echo "gateway_tag_race.sh: $t is required" >&2; exit 1; }
done
GW_PID=
FLIP=
trap '[ -n "$FLIP" ] && kill "$FLIP" 2>/dev/null; [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
inside=$fx/images/group_3faces.jpg # 1280x900
secret=$tmp/outside/secret.png     # 1280x400
mkdir -p "$tmp/lib/sub" "$tmp/outside"
cp "$fx/images/text_card.png" "$secret"
cp "$inside" "$tmp/lib/swap.jpg"
cp "$inside" "$tmp/lib/sub/photo.jpg"
cp "$fx/videos/faces_1080p_h264.mp4" "$tmp/lib/long.mp4"
secret_size=$(stat -c %s "$secret")
cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "catalog": "$tmp/gw.db", "tmp_dir": "$tmp",
 "library_roots": ["$tmp/lib"],
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces", "text"]}]}}}
JSON
gateway_start "$tmp/gw.json"
check "gateway started" [ -n "$GW_PORT" ]
url=http://127.0.0.1:$GW_PORT/v1/tag
tag_path() { # tag_path PATH OUT: the HTTP status
    curl -s -o "$2" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "{\"path\": \"$1\"}" "$url"
}
# dims FILE: "WxH" of an answer
dims() { jq -r '"\(.width)x\(.height)"' "$1" 2>/dev/null; }

# The request waits for the tagger behind a long video; the file is swapped meanwhile.
tag_path "$tmp/lib/long.mp4" "$tmp/long.json" >"$tmp/long.code" &
lpid=$!
sleep 1
tag_path "$tmp/lib/swap.jpg" "$tmp/swap.json" >"$tmp/swap.code" &
spid=$!
sleep 1.5 # checked and waiting by now
ln -s "$secret" "$tmp/lib/.swap.lnk"
mv -T "$tmp/lib/.swap.lnk" "$tmp/lib/swap.jpg"
wait "$spid" "$lpid"
check_eq "the long video was tagged" "$(cat "$tmp/long.code")" 200
check_eq "swapped while waiting: the checked file answered" "$(cat "$tmp/swap.code")" 200
check_eq "swapped while waiting: its size, not the outside file's" "$(dims "$tmp/swap.json")" 1280x900
check_eq "swapped while waiting: answered under its path" "$(jq -r .path "$tmp/swap.json")" "$tmp/lib/swap.jpg"

# A loop: the file flips between a regular file and a link out of the root while requests run
# (each flip a rename over it, so the name exists from here on).
cp "$inside" "$tmp/lib/flip.jpg"
(
    while :; do
        cp "$inside" "$tmp/lib/.flip.tmp" && mv -T "$tmp/lib/.flip.tmp" "$tmp/lib/flip.jpg"
        sleep 0.02
        ln -sfn "$secret" "$tmp/lib/.flip.lnk" && mv -T "$tmp/lib/.flip.lnk" "$tmp/lib/flip.jpg"
        sleep 0.02
    done
) &
FLIP=$!
leaked=0 answered=0 refused=0 other=0
for i in $(seq 30); do
    code=$(tag_path "$tmp/lib/flip.jpg" "$tmp/flip.json")
    if [ "$code" = 200 ] && [ "$(dims "$tmp/flip.json")" = 1280x900 ]; then
        answered=$((answered + 1))
    elif [ "$code" = 200 ]; then
        leaked=$((leaked + 1))
    elif [ "$code" = 403 ]; then
        refused=$((refused + 1))
    else
        other=$((other + 1))
        echo "flip $i: HTTP $code $(head -c 300 "$tmp/flip.json")" >&2
    fi
done
kill "$FLIP"
wait "$FLIP" 2>/dev/null
FLIP=
echo "flip loop: $answered answered, $refused refused (a link at the time), $leaked from outside" >&2
check_eq "flip loop: never data from outside the roots" "$leaked" 0
check_eq "flip loop: every answer the inside file or a refusal" "$other" 0
check "flip loop: some requests answered" [ "$answered" -gt 0 ]
check_eq "the catalog never held the outside file" \
    "$(sqlite3 "$tmp/gw.db" "SELECT count(*) FROM media WHERE size = $secret_size")" 0

# Links below the root are refused, wherever they lead.
ln -s "$tmp/lib/sub" "$tmp/lib/dirlink"
ln -s "sub/photo.jpg" "$tmp/lib/inlink.jpg"
check_eq "a folder link on the path: 403" "$(tag_path "$tmp/lib/dirlink/photo.jpg" "$tmp/l1.json")" 403
check_eq "a folder link: error code" "$(jq -r .error.code "$tmp/l1.json")" path_not_allowed
check_eq "a file link staying inside: 403" "$(tag_path "$tmp/lib/inlink.jpg" "$tmp/l2.json")" 403
check_eq "the real path still works" "$(tag_path "$tmp/lib/sub/photo.jpg" "$tmp/l3.json")" 200
finish
