#!/usr/bin/env bash
# /v1/tag uploads never touch a name another user could plant: symlinks at every name the
# gateway once wrote uploads to (tmp_dir/aitag-upload-<sha256>-<route>) and at other names in
# tmp_dir point at a victim file; uploads (base64, raw bytes, multipart, on two routes) leave
# it unchanged, content and mtime. While a video upload is tagged, its bytes sit in a private
# folder (0700) as a file of mode 0600; the folder is gone once the gateway stops.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
for t in curl jq sha256sum stat; do
    command -v $t >/dev/null || { echo "gateway_upload_tmp.sh: $t is required" >&2; exit 1; }
done
GW_PID=
trap '[ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
img=$fx/images/group_3faces.jpg
vid=$fx/videos/faces_1080p_h264.mp4
mkdir -p "$tmp/up"
printf 'victim: must never change\n' >"$tmp/victim.txt"
touch -d '2021-03-04 05:06:07' "$tmp/victim.txt"
victim_state() { echo "$(sha256sum <"$tmp/victim.txt") $(stat -c %Y "$tmp/victim.txt")"; }
before=$(victim_state)
# Every name the old upload code used, for these files and routes, plus names that merely
# look like the gateway's.
for f in "$img" "$vid"; do
    sha=$(sha256sum "$f" | cut -d' ' -f1)
    for route in tag faces; do
        ln -s "$tmp/victim.txt" "$tmp/up/aitag-upload-$sha-$route"
    done
done
for n in aitag-gateway-000000 upload-1 upload-2 aitag-upload; do ln -s "$tmp/victim.txt" "$tmp/up/$n"; done
planted=$(find "$tmp/up" -maxdepth 1 -type l | wc -l)

cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "catalog": "$tmp/gw.db", "tmp_dir": "$tmp/up",
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces", "text"]}]},
            "faces": {"backends": [{"kind": "local", "analyzers": ["faces"]}]}}}
JSON
gateway_start "$tmp/gw.json"
check "gateway started" [ -n "$GW_PORT" ]
url=http://127.0.0.1:$GW_PORT/v1/tag
check_eq "a private folder in tmp_dir" "$(find "$tmp/up" -mindepth 1 -maxdepth 1 -type d | wc -l)" 1
priv=$(find "$tmp/up" -mindepth 1 -maxdepth 1 -type d | head -n 1)
: "${priv:=$tmp/up/no-private-folder}"
check_eq "private folder: mode 700" "$(stat -c %a "$priv")" 700
check "private folder: not a planted name" [ "$(basename "$priv")" != aitag-gateway-000000 ]

printf '{"image_base64": "%s"}' "$(base64 -w0 "$img")" >"$tmp/b64.json"
code=$(curl -s -o "$tmp/a.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$tmp/b64.json" "$url")
check_eq "base64 upload tagged" "$code" 200
check_eq "answer names the bytes" "$(jq -r .path "$tmp/a.json")" "sha256:$(sha256sum "$img" | cut -d' ' -f1)"
check_eq "raw upload tagged" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: image/jpeg' \
    --data-binary @"$img" "$url")" 200
check_eq "multipart upload, other route" "$(curl -s -o /dev/null -w '%{http_code}' -F model=faces \
    -F "file=@$img" "$url")" 200
check_eq "victim unchanged after image uploads (content, mtime)" "$(victim_state)" "$before"

# A video upload takes seconds: look at its file while it is tagged.
curl -s -o "$tmp/v.json" -w '%{http_code}' -F model=faces -F "file=@$vid" "$url" >"$tmp/v.code" &
cpid=$!
seen=
for _ in $(seq 200); do
    seen=$(find "$priv" -type f | head -n 1)
    [ -n "$seen" ] && break
    sleep 0.05
done
check "the upload was seen while it was tagged" [ -n "$seen" ]
[ -n "$seen" ] && check_eq "upload file: mode 600" "$(stat -c %a "$seen")" 600
[ -n "$seen" ] && check_eq "upload file: in the private folder" "$(dirname "$seen")" "$priv"
wait "$cpid"
check_eq "video upload tagged" "$(cat "$tmp/v.code")" 200
check_eq "victim unchanged after the video upload" "$(victim_state)" "$before"
check_eq "nothing left in the private folder" "$(find "$priv" -mindepth 1 | wc -l)" 0
check_eq "planted links untouched" "$(find "$tmp/up" -maxdepth 1 -type l | wc -l)" "$planted"

kill "$GW_PID"
wait "$GW_PID" 2>/dev/null
GW_PID=
check "private folder removed at stop" [ ! -e "$priv" ]
check_eq "victim unchanged at the end" "$(victim_state)" "$before"
finish
