#!/usr/bin/env bash
# The vlm analyzer end to end: `aitag tag --analyzers vlm` against a fake vision-language model
# (tests/fake-upstream/vlm.js, which checks each request and saves the JPEG it got), directly
# and through the real `aitag gateway serve`: JPEG sizes, calls per video following --vlm-every,
# vocabulary enforcement, tags, markers and descriptions, malformed answers failing one item,
# re-runs that call nothing, vocabulary changes re-running vlm only, --local-only, and vlm
# running here next to analyzers that run on a gateway (`aitag tag --gateway`).
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
double=$src/tests/fake-upstream/vlm.js
for t in node jq sqlite3 ffprobe ffmpeg curl; do
    command -v $t >/dev/null || { echo "vlm.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh" # start NAME CMD..., stopped on exit
calls() { curl -s "http://127.0.0.1:$1/_stats" | jq .calls; }

img1=$AITAG_FIXTURES_DIR/images/horses.webp
img2=$AITAG_FIXTURES_DIR/images/group_3faces.jpg
vid=$AITAG_FIXTURES_DIR/videos/faces_720p_hevc.mkv # 40 s, 1280x720
mkdir -p "$tmp/media"
cp "$img1" "$img2" "$vid" "$tmp/media/"
img1=$tmp/media/horses.webp img2=$tmp/media/group_3faces.jpg vid=$tmp/media/faces_720p_hevc.mkv
printf '# the tags we use\nPerson\nHorse\n\nOutdoor\n  Crowd  \nperson\nBeach\n' >"$tmp/voc.txt"

ok_port=$(start ok node "$double" --save "$tmp/jpg-ok")
check "vlm double started" [ -n "$ok_port" ]
url=http://127.0.0.1:$ok_port/v1
tag() { # tag CATALOG ARGS...: aitag tag with the vlm analyzer, JSON lines on stdout
    local cat=$1; shift
    "$AITAG_BIN" tag --catalog "$tmp/$cat.db" --vlm-url "$url" --vocabulary "$tmp/voc.txt" \
        --vlm-every 10 --progress never --json "$@"
}

# 1. Two images and a 40 s video, with descriptions, next to the faces analyzer.
tag c1 --analyzers faces,vlm --describe "$img1" "$img2" "$vid" >"$tmp/run1.json" 2>"$tmp/run1.err"
check_eq "first run exits 0" "$?" 0
check_eq "three items tagged" "$(jq -s 'map(select(.status == "tagged")) | length' "$tmp/run1.json")" 3
check_eq "calls: 1 per image, 40 s / every 10 s = 4 for the video" "$(calls "$ok_port")" 6
check_eq "video calls" "$(jq -s 'map(select(.height == 288)) | length' "$tmp/jpg-ok/calls.jsonl")" 4
check_eq "the double saw no bad request" "$(curl -s "http://127.0.0.1:$ok_port/_stats" | jq .bad)" 0
check_eq "vocabulary sent without comments, blanks or duplicates" \
    "$(jq -r '.vocab | join(",")' "$tmp/jpg-ok/calls.jsonl" | sort -u)" "Person,Horse,Outdoor,Crowd,Beach"
check_eq "description asked once per item" "$(jq -s 'map(select(.describe)) | length' "$tmp/jpg-ok/calls.jsonl")" 3
# Each saved JPEG decodes with FFmpeg at the view size: long side 512, short side scaled to an
# even number of pixels.
for f in "$tmp"/jpg-ok/*.jpg; do
    wh=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$f")
    name=$(basename "$f" .jpg)
    check_eq "$name decodes at its size" "${wh/,/x}" "${name#*_}"
done
expect_view() { # expect_view SOURCE: the view size of a source (long side 512, even sides)
    ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$1" |
        awk -F, '{ if ($1 >= $2) { w = 512; h = 2 * int($2 * 512 / $1 / 2 + 0.5) }
                   else { h = 512; w = 2 * int($1 * 512 / $2 / 2 + 0.5) } print w "x" h }'
}
# Colours survive the trip (full-range YUV): the JPEG sent is close to the scaled source.
v2=$(expect_view "$img2")
psnr=$(ffmpeg -v info -nostats -i "$(ls "$tmp"/jpg-ok/*_"$v2".jpg)" -i "$img2" -lavfi \
    "[1]scale=${v2/x/:}:flags=bicubic,format=rgb24[r];[0]format=rgb24[a];[a][r]psnr" -f null - 2>&1 |
    grep -oE 'average:[0-9.]+' | cut -d: -f2)
check "JPEG sent matches the picture (PSNR $psnr dB > 30)" awk -v p="${psnr:-0}" 'BEGIN { exit !(p > 30) }'
check_eq "image 1 view size" "$(ls "$tmp/jpg-ok" | grep -c "_$(expect_view "$img1").jpg")" 1
check_eq "image 2 view size" "$(ls "$tmp/jpg-ok" | grep -c "_$(expect_view "$img2").jpg")" 1
check_eq "video view size" "$(ls "$tmp/jpg-ok" | grep -c "_512x288.jpg")" 4
# Out-of-vocabulary tags never reach the catalog; vocabulary tags keep the vocabulary's case.
check_eq "no out-of-vocabulary evidence" \
    "$(sqlite3 "$tmp/c1.db" "SELECT count(*) FROM evidence WHERE label LIKE '%unicorn%'")" 0
check "no out-of-vocabulary tag in JSON" sh -c "! grep -qi unicorn '$tmp/run1.json'"
for p in "$img1" "$img2" "$vid"; do
    check "$(basename "$p"): tag Person (answered PERSON)" \
        json_item "$tmp/run1.json" "$p" '.tags | map(.name) | index("Person") != null'
    check "$(basename "$p"): description" \
        json_item "$tmp/run1.json" "$p" '.description | test("^A [0-9]+x[0-9]+ picture")'
done
check "video: Person marker over the whole video" \
    json_item "$tmp/run1.json" "$vid" '.markers | map(select(.tag == "Person" and .start == 0 and .end == 40)) | length == 1'
check_eq "video: vlm evidence on every sampled frame" \
    "$(sqlite3 "$tmp/c1.db" "SELECT count(DISTINCT e.t) = a.n_frames FROM evidence e JOIN analyses a ON a.media_id = e.media_id AND a.analyzer = 'vlm' WHERE e.analyzer = 'vlm' AND e.label = 'Person' AND e.media_id = (SELECT id FROM media WHERE path = '$vid')")" 1
check_eq "the description is no tag or text" \
    "$(sqlite3 "$tmp/c1.db" "SELECT (SELECT count(*) FROM tags WHERE name LIKE '%description%') + (SELECT count(*) FROM texts WHERE text LIKE 'A %picture%')")" 0
check "show --json prints the description" sh -c \
    "'$AITAG_BIN' show --catalog '$tmp/c1.db' --json '$img1' | jq -e '.description | test(\"picture\")' >/dev/null"

# 2. A re-run skips everything and calls nothing.
tag c1 --analyzers faces,vlm --describe "$img1" "$img2" "$vid" >"$tmp/run2.json" 2>/dev/null
check_eq "re-run: all skipped" "$(jq -s 'map(select(.status == "skipped")) | length' "$tmp/run2.json")" 3
check_eq "re-run: no VLM call" "$(calls "$ok_port")" 6
check "re-run: description still printed" json_item "$tmp/run2.json" "$img1" '.description != null'

# 3. A new vocabulary re-runs vlm only.
faces_runs() { sqlite3 "$tmp/c1.db" "SELECT group_concat(run_id) FROM analyses WHERE analyzer = 'faces'"; }
vlm_runs() { sqlite3 "$tmp/c1.db" "SELECT group_concat(DISTINCT run_id) FROM analyses WHERE analyzer = 'vlm'"; }
faces_before=$(faces_runs) vlm_before=$(vlm_runs)
echo "Sunset" >>"$tmp/voc.txt"
tag c1 --analyzers faces,vlm --describe "$img1" "$img2" "$vid" >"$tmp/run3.json" 2>/dev/null
check_eq "new vocabulary: items re-tagged" "$(jq -s 'map(select(.status == "tagged")) | length' "$tmp/run3.json")" 3
check_eq "new vocabulary: VLM called again" "$(calls "$ok_port")" 12
check_eq "new vocabulary: faces not re-run" "$(faces_runs)" "$faces_before"
check "new vocabulary: vlm re-run" [ "$(vlm_runs)" != "$vlm_before" ]
check_eq "new vocabulary sent" "$(tail -n 1 "$tmp/jpg-ok/calls.jsonl" | jq -r '.vocab[-1]')" Sunset

# 4. Fenced JSON is accepted.
fence_port=$(start fence node "$double" --save "$tmp/jpg-fence" --mode fence)
url=http://127.0.0.1:$fence_port/v1
tag c2 --analyzers vlm "$img1" >"$tmp/fence.json" 2>/dev/null
check_eq "fenced answer: exit 0" "$?" 0
check "fenced answer: tagged with Person" json_item "$tmp/fence.json" "$img1" \
    '.status == "tagged" and (.tags | map(.name) | index("Person") != null)'
check "no description unless asked" json_item "$tmp/fence.json" "$img1" '.description == null'

# 5. A malformed answer fails that item only, with a clear message; nothing of it is stored.
bad=$(expect_view "$img2")
mal_port=$(start mal node "$double" --save "$tmp/jpg-mal" --mode "malformed:$bad")
url=http://127.0.0.1:$mal_port/v1
tag c3 --analyzers vlm "$img1" "$img2" "$vid" >"$tmp/mal.json" 2>"$tmp/mal.err"
check_eq "malformed: exit 1 (some items failed)" "$?" 1
check "malformed: that item failed naming the url and the problem" json_item "$tmp/mal.json" "$img2" \
    ".status == \"error\" and (.errors[0].message | test(\"127.0.0.1:$mal_port/v1/chat/completions.*not a JSON object\"))"
check "malformed: the image before it is tagged" json_item "$tmp/mal.json" "$img1" '.status == "tagged"'
check "malformed: the video after it is tagged" json_item "$tmp/mal.json" "$vid" '.status == "tagged"'
check_eq "malformed: no evidence stored for it" \
    "$(sqlite3 "$tmp/c3.db" "SELECT count(*) FROM evidence e JOIN media m ON m.id = e.media_id WHERE m.path = '$img2'")" 0

# 6. HTTP errors and unreachable servers fail the item with the url and status.
e500_port=$(start e500 node "$double" --save "$tmp/jpg-500" --mode 500)
url=http://127.0.0.1:$e500_port/v1
tag c4 --analyzers vlm "$img1" >"$tmp/e500.json" 2>/dev/null
check "HTTP 500: item fails naming the status" json_item "$tmp/e500.json" "$img1" \
    '.status == "error" and (.errors[0].message | test("HTTP 500"))'
url=http://127.0.0.1:1/v1
tag c4 --analyzers vlm "$img1" >"$tmp/down.json" 2>/dev/null
check "unreachable: item fails naming the url" json_item "$tmp/down.json" "$img1" \
    '.status == "error" and (.errors[0].message | test("127.0.0.1:1/v1/chat/completions"))'

# 7. Bad settings are refused up front (exit 2) with the field named.
url=http://192.0.2.1:8089/v1
tag c5 --analyzers vlm --local-only "$img1" >/dev/null 2>"$tmp/local.err"
check_eq "local-only with a remote url: exit 2" "$?" 2
check "local-only: message names the url" grep -q "192.0.2.1.*local" "$tmp/local.err"
"$AITAG_BIN" tag --catalog "$tmp/c5.db" --analyzers vlm "$img1" >/dev/null 2>"$tmp/novoc.err"
check_eq "no vocabulary: exit 2" "$?" 2
check "no vocabulary: message names it" grep -q "vocabulary" "$tmp/novoc.err"
url=http://127.0.0.1:$ok_port/v1
tag c5 --analyzers vlm --vlm-every=-3 "$img1" >/dev/null 2>"$tmp/every.err"
check_eq "negative every: exit 2" "$?" 2
check "negative every: message names it" grep -q "every" "$tmp/every.err"
n=$(calls "$ok_port")
tag c5 --analyzers vlm --local-only "$img1" >"$tmp/local-ok.json" 2>/dev/null
check "local-only with a loopback url: tagged" json_item "$tmp/local-ok.json" "$img1" '.status == "tagged"'
check_eq "local-only header sent" "$(curl -s "http://127.0.0.1:$ok_port/_stats" | jq -r .last.local_only)" 1

# 8. Through the real gateway: a chat route to the double, with a bearer key from the env.
cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "catalog": "$tmp/gw-catalog.db", "tmp_dir": "$tmp",
 "retries": 0, "keys_db": "$tmp/keys.db", "cache": {"max_bytes": 4194304, "ttl_s": 600},
 "library_roots": ["$tmp/media"],
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces"]}]},
   "vision": {"backends": [{"name": "fake-vlm", "kind": "openai",
   "url": "http://127.0.0.1:$ok_port/v1", "model": "fake-vlm-7b"}]},
   "far": {"backends": [{"name": "elsewhere", "kind": "openai", "url": "http://192.0.2.1:9/v1",
     "timeout_ms": 500}]}}}
JSON
gw=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
key=$("$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --routes vision,far,tag --json | jq -r .key)
url=http://127.0.0.1:$gw/v1
n=$(calls "$ok_port")
MY_GW_KEY=$key tag c6 --analyzers vlm --vlm-route vision --vlm-key-env MY_GW_KEY --describe \
    "$img2" "$vid" >"$tmp/gw-run.json" 2>"$tmp/gw-run.err"
check_eq "via gateway: exit 0" "$?" 0
check "via gateway: image tagged with a description" json_item "$tmp/gw-run.json" "$img2" \
    '.status == "tagged" and (.tags | map(.name) | index("Person") != null) and .description != null'
check "via gateway: video marker" json_item "$tmp/gw-run.json" "$vid" \
    '.markers | map(select(.tag == "Person")) | length == 1'
check_eq "via gateway: the double got 1 + 4 calls" "$(calls "$ok_port")" $((n + 5))
check_eq "via gateway: the route's model was sent upstream" \
    "$(curl -s "http://127.0.0.1:$ok_port/_stats" | jq -r .last.model)" fake-vlm-7b
# Requests are made with temperature 0, so the gateway's cache answers an equal re-analysis
# (a fresh catalog) without asking the model.
MY_GW_KEY=$key tag c6b --analyzers vlm --vlm-route vision --vlm-key-env MY_GW_KEY --describe \
    "$img2" "$vid" >"$tmp/gw-run2.json" 2>/dev/null
check_eq "via gateway again: tagged" "$(jq -s 'map(select(.status == "tagged")) | length' "$tmp/gw-run2.json")" 2
check_eq "via gateway again: answered from the gateway's cache" "$(calls "$ok_port")" $((n + 5))
check_eq "via gateway again: same results" \
    "$(jq -cS 'del(.status)' "$tmp/gw-run2.json")" "$(jq -cS 'del(.status)' "$tmp/gw-run.json")"
# --local-only through the gateway: the header keeps the picture away from a remote backend.
MY_GW_KEY=$key tag c8 --analyzers vlm --vlm-route far --vlm-key-env MY_GW_KEY --local-only \
    "$img1" >"$tmp/gw-far.json" 2>/dev/null
check "local-only via gateway: a remote-only route fails the item (503, local only)" \
    json_item "$tmp/gw-far.json" "$img1" \
    '.status == "error" and (.errors[0].message | test("HTTP 503.*(local_only|Local-Only)"))'
tag c7 --analyzers vlm --vlm-route vision "$img2" >"$tmp/gw-nokey.json" 2>/dev/null
check "via gateway without the key: item fails with 401" json_item "$tmp/gw-nokey.json" "$img2" \
    '.status == "error" and (.errors[0].message | test("HTTP 401"))'

# 9. Tagging through the gateway (--gateway) with faces and vlm: faces run on the gateway, vlm
# runs here (it calls its endpoint itself), and the results equal an in-process run.
MY_GW_KEY=$key tag c10 --analyzers faces,vlm --vlm-route vision --vlm-key-env MY_GW_KEY --describe \
    "$img2" "$vid" >"$tmp/inproc.json" 2>/dev/null
MY_GW_KEY=$key tag c9 --analyzers faces,vlm --vlm-route vision --vlm-key-env MY_GW_KEY --describe \
    --gateway "http://127.0.0.1:$gw" --gateway-route tag --gateway-key-env MY_GW_KEY \
    "$img2" "$vid" >"$tmp/mixed.json" 2>"$tmp/mixed.err"
check_eq "faces via --gateway, vlm here: exit 0" "$?" 0
for p in "$img2" "$vid"; do
    check_eq "$(basename "$p"): same result as in-process faces + vlm" \
        "$(jq -cS --arg p "$p" 'select(.path == $p) | del(.status)' "$tmp/mixed.json")" \
        "$(jq -cS --arg p "$p" 'select(.path == $p) | del(.status)' "$tmp/inproc.json")"
done
check "faces were analysed by the gateway" \
    [ "$(sqlite3 "$tmp/gw-catalog.db" "SELECT count(*) FROM evidence WHERE analyzer = 'faces'")" -gt 0 ]
check_eq "vlm was not asked of the gateway's tagger" \
    "$(sqlite3 "$tmp/gw-catalog.db" "SELECT count(*) FROM analyses WHERE analyzer = 'vlm'")" 0
check_eq "both analyzers stored locally" \
    "$(sqlite3 "$tmp/c9.db" "SELECT group_concat(DISTINCT analyzer) FROM (SELECT analyzer FROM analyses ORDER BY analyzer)")" "faces,vlm"
finish
