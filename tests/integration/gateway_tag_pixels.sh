#!/usr/bin/env bash
# The pixel limit: a picture larger than max_megapixels (default 64) is refused from its header
# before any decoder allocates it. A 16000x16000 PNG (under 1 MB, 768 MB decoded) fails as one
# item with an error naming its size, from `aitag tag` and from the gateway (upload and path),
# and the process's peak memory stays low; --max-megapixels and the gateway's max_megapixels
# move the limit.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
for t in curl jq ffmpeg /usr/bin/time; do
    command -v $t >/dev/null || { echo "gateway_tag_pixels.sh: $t is required" >&2; exit 1; }
done
GW_PID=
trap '[ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib"
ffmpeg -v error -f lavfi -i color=c=blue:s=16000x16000 -frames:v 1 "$tmp/lib/big.png"
check "a 16000x16000 PNG under 1 MB" [ "$(stat -c %s "$tmp/lib/big.png")" -lt 1048576 ]
cp "$fx/images/group_3faces.jpg" "$fx/images/text_card.png" "$tmp/lib/"
refused() { # refused JSON FILE: the item failed naming its size and the limit
    jq -e '.status == "error" and (.errors[0].message | test("16000x16000") and test("limit of 64"))' "$1" >/dev/null
}

# The command line: one failed item, the run goes on, memory stays low.
/usr/bin/time -f %M -o "$tmp/cli.rss" "$AITAG_BIN" tag --json --catalog "$tmp/cli.db" \
    --analyzers faces "$tmp/lib/big.png" "$tmp/lib/text_card.png" >"$tmp/cli.json" 2>"$tmp/cli.err"
check_eq "cli: exit code 1 (one failed item)" "$?" 1
check "cli: the big picture refused, naming its size" \
    refused <(jq -c "select(.path == \"$tmp/lib/big.png\")" "$tmp/cli.json")
check "cli: the other file tagged" json_item "$tmp/cli.json" "$tmp/lib/text_card.png" '.status == "tagged"'
check "cli: peak memory under 400 MB (decoded: 768 MB)" [ "$(tail -n 1 "$tmp/cli.rss")" -lt 409600 ]
"$AITAG_BIN" tag --json --catalog "$tmp/cli2.db" --analyzers faces --max-megapixels 1 \
    "$tmp/lib/group_3faces.jpg" >"$tmp/cli2.json" 2>/dev/null
check "cli: --max-megapixels 1 refuses a 1280x900 photo" json_item "$tmp/cli2.json" \
    "$tmp/lib/group_3faces.jpg" '.status == "error" and (.errors[0].message | test("1280x900.*limit of 1.0 megapixels"))'

# The gateway: models loaded first, then the big picture by upload and by path.
cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "catalog": "$tmp/gw.db", "tmp_dir": "$tmp",
 "library_roots": ["$tmp/lib"],
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces"]}]}}}
JSON
gateway_start "$tmp/gw.json"
check "gateway started" [ -n "$GW_PORT" ]
url=http://127.0.0.1:$GW_PORT/v1/tag
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$GW_PID/status"; }
check_eq "a photo first (models loaded)" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "{\"path\": \"$tmp/lib/group_3faces.jpg\"}" "$url")" 200
before=$(hwm)
code=$(curl -s -o "$tmp/up.json" -w '%{http_code}' -H 'Content-Type: image/png' \
    --data-binary @"$tmp/lib/big.png" "$url")
check_eq "upload of the big picture: 422" "$code" 422
check "upload: the error names its size and the limit" refused "$tmp/up.json"
code=$(curl -s -o "$tmp/path.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"path\": \"$tmp/lib/big.png\"}" "$url")
check_eq "the big picture by path: 422" "$code" 422
check "path: the error names its size" refused "$tmp/path.json"
check_eq "path: the answer names the file" "$(jq -r .path "$tmp/path.json")" "$tmp/lib/big.png"
after=$(hwm)
echo "gateway peak memory: $before kB before, $after kB after" >&2
check "gateway: peak memory grew under 200 MB (decoded: 768 MB)" [ $((after - before)) -lt 204800 ]
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=

# max_megapixels moves the limit.
jq ". + {\"max_megapixels\": 1, \"catalog\": \"$tmp/gw1.db\"}" "$tmp/gw.json" >"$tmp/gw1.json"
gateway_start "$tmp/gw1.json"
url=http://127.0.0.1:$GW_PORT/v1/tag
code=$(curl -s -o "$tmp/m1.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"path\": \"$tmp/lib/group_3faces.jpg\"}" "$url")
check_eq "max_megapixels 1: a 1280x900 photo refused" "$code" 422
check "max_megapixels 1: the error names the limit" \
    grep -q '"message":"picture 1280x900 (1.2 megapixels) is over the limit of 1.0 megapixels"' "$tmp/m1.json"
check_eq "max_megapixels 1: a 1280x400 picture tagged" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "{\"path\": \"$tmp/lib/text_card.png\"}" "$url")" 200
jq '. + {"max_megapixels": 0}' "$tmp/gw.json" >"$tmp/gw0.json"
"$AITAG_BIN" gateway serve --config "$tmp/gw0.json" >/dev/null 2>"$tmp/gw0.err"
check_eq "max_megapixels 0: config refused (exit 2)" "$?" 2
check "max_megapixels 0: the key is named" grep -q max_megapixels "$tmp/gw0.err"
finish
