#!/usr/bin/env bash
# Search ranked by an embedding model (`aitag search WORDS --embed-url URL`): the words go to an
# OpenAI-compatible /v1/embeddings (here the local fake upstream, which answers a mapped vector
# for known texts, as a CLIP text tower would) and are compared with the image embeddings an
# embedder analyzer stored. The stand-in embedder is a real ONNX model installed as a custom
# "clip" analyzer (nsfwjs' MobileNet as an embedder: real vectors from real photos, not
# CLIP's meaning): the item whose stored vector the words map to ranks first, with why; items
# far below the best are left out; vectors of another length are skipped; a server that is
# down costs only this part of the search; the request carries the model, the words and the key.
source "$(dirname "$0")/lib.sh"
src=$AITAG_SOURCE_DIR
source "$src/tests/fake-upstream/spawn.sh"
A=$AITAG_BIN
db=$tmp/cat.db
# jq -e: the last result true; and a result at all (jq 1.6 exits 0 on empty input).
jqe() {
    local out
    out=$(jq -e "$@") && [ -n "$out" ]
}
photos=$tmp/photos
mkdir -p "$photos"
cp /usr/share/darknet/data/{dog,horses,person,eagle}.jpg "$photos/"

cat >"$tmp/clip.json" <<JSON
{"name": "clip", "analyzer": "clip", "file": "clip.onnx",
 "sha256": "05591f3fc13fcb9171111ac3ee396bf9772036bcdd82c815664e6cb144db95fc",
 "license": "MIT", "package": "nsfwjs@4.4.0", "task": "embedder", "decoder": "",
 "input": {"name": "input:0", "shape": [-1, 224, 224, 3], "layout": "NHWC",
           "std": [255, 255, 255], "fit": "letterbox"},
 "outputs": ["Identity:0"], "params": {"normalize": 1}}
JSON
"$A" models add "$src/deps/models/nsfw/mobilenet_v2_mid.onnx" --manifest "$tmp/clip.json" >/dev/null 2>"$tmp/err"
check_eq "the stand-in embedder is installed" "$?" 0
"$A" tag --catalog "$db" --analyzers clip,objects "$photos" >/dev/null 2>"$tmp/tag.err"
check_eq "tagging with it" "$?" 0
vec=$(sqlite3 "$db" "SELECT e.extra FROM evidence e JOIN media m ON m.id = e.media_id
    WHERE e.analyzer = 'clip' AND m.path LIKE '%horses.jpg'" | jq -c '.embedding')
check "an image embedding was stored per photo" test "$(sqlite3 "$db" "SELECT count(DISTINCT media_id) FROM evidence WHERE analyzer = 'clip'")" = 4
jq -n --argjson v "$vec" '{"a herd of ponies": $v, "short": [1, 0]}' >"$tmp/map.json"
port=$(start emb node "$src/tests/fake-upstream/server.js" --name emb --embed-map "$tmp/map.json")
check "embedding server up" test -n "$port"

AITAG_GATEWAY_KEY=sekret "$A" search --catalog "$db" --embed-url "http://127.0.0.1:$port/v1" \
    --json "a herd of ponies" >"$tmp/s.jsonl" 2>"$tmp/s.err"
check_eq "search exit code" "$?" 0
check "the photo the words map to ranks first, with why" jqe -s \
    '.[0].path | endswith("/horses.jpg")' "$tmp/s.jsonl"
check "why: the analyzer, the similarity and the model" jqe -s \
    '.[0].why == "looks like it: clip similarity 1.000 (clip-text)" and .[0].score == 0.8' "$tmp/s.jsonl"
check "items under half the best similarity are left out" jqe -s \
    '[.[] | select(.why | startswith("looks like it")) | .why | capture("similarity (?<s>[0-9.]+)").s
      | tonumber] | length >= 1 and all(. >= 0.5)' "$tmp/s.jsonl"
curl -s "http://127.0.0.1:$port/_stats" >"$tmp/stats"
check "the request: model, words and key" jqe '.last_embedding.model == "clip-text" and
    .last_embedding.input == "a herd of ponies" and .last_embedding.auth == "Bearer sekret"' "$tmp/stats"

"$A" search --catalog "$db" --embed-url "http://127.0.0.1:$port/v1" --embed-model other \
    --json "short" >"$tmp/short.jsonl" 2>"$tmp/short.err"
check "vectors of another length are skipped" jqe -s \
    '[.[] | select(.why | startswith("looks like it"))] == []' "$tmp/short.jsonl"
"$A" search --catalog "$db" --embed-url "http://127.0.0.1:9/v1" horse >"$tmp/down.out" 2>"$tmp/down.err"
check_eq "a server that is down: search still succeeds" "$?" 0
check "a server that is down: said" grep -q 'no ranking by embeddings: POST http://127.0.0.1:9/v1/embeddings' "$tmp/down.err"
check "a server that is down: tags still match" grep -q "horses.jpg.*tag 'horse'" "$tmp/down.out"
finish
