#!/bin/bash
# models.sh - custom models through the CLI: `aitag models add|list|verify|remove` and
# `aitag tag --analyzers <custom>`, plus `aitag models install` error paths on a local catalog
# (the download paths themselves are in tests/unit/test_installer.c).
. "$(dirname "$0")/lib.sh"
src=${AITAG_SOURCE_DIR:?set by ctest}
deps=$src/deps/models
img=/usr/share/darknet/data/dog.jpg
user=$XDG_DATA_HOME/aitag/models
A=$AITAG_BIN

# A user-written manifest for the nsfwjs classifier, used as a custom classifier "mood".
cat >"$tmp/mood.json" <<JSON
{"name": "mood", "analyzer": "mood", "file": "mood.onnx",
 "sha256": "05591f3fc13fcb9171111ac3ee396bf9772036bcdd82c815664e6cb144db95fc",
 "license": "MIT", "package": "nsfwjs@4.4.0", "task": "classifier", "decoder": "softmax",
 "input": {"name": "input:0", "shape": [-1, 224, 224, 3], "layout": "NHWC",
           "std": [255, 255, 255], "fit": "letterbox"},
 "labels": ["drawing", "hentai", "neutral", "porn", "sexy"],
 "params": {"threshold": 0.5}}
JSON
sed 's/"mood"/"broken"/g; s/05591f3f/15591f3f/' "$tmp/mood.json" >"$tmp/broken.json"

"$A" models add "$deps/nsfw/mobilenet_v2_mid.onnx" --manifest "$tmp/mood.json" >/dev/null 2>"$tmp/err"
check_eq "add exits 0" "$?" 0
check "add copies manifest and weights" test -f "$user/mood.json" -a -f "$user/mood.onnx"
"$A" models add "$deps/nsfw/mobilenet_v2_mid.onnx" --manifest "$tmp/broken.json" >/dev/null 2>"$tmp/err"
check_eq "add with a wrong sha256 exits 3" "$?" 3
check "the message names the checksum" grep -q "sha256" "$tmp/err"
check "nothing of the bad add is left" test ! -e "$user/broken.json"
"$A" models add "$deps/nsfw/mobilenet_v2_mid.onnx" >/dev/null 2>&1
check_eq "add without --manifest is a usage error" "$?" 2

"$A" models list >"$tmp/list" 2>&1
check "list shows the custom analyzer" grep -Eq '^  mood +custom classifier' "$tmp/list"
check "list shows the user model" grep -Eq '^  mood +0 +classifier' "$tmp/list"
"$A" models verify >"$tmp/verify" 2>&1
check "verify checks the user model" grep -Eq '^ok +mood ' "$tmp/verify"

"$A" tag --catalog "$tmp/c.db" --analyzers mood --json "$img" >"$tmp/out.json" 2>"$tmp/err"
check_eq "tag with the custom analyzer exits 0" "$?" 0
check "the dog photo is tagged neutral" grep -q '"name":"neutral"' "$tmp/out.json"
n=$(sqlite3 "$tmp/c.db" "SELECT count(*) FROM evidence WHERE analyzer='mood' AND label='neutral'")
check_eq "evidence is stored under the analyzer's name" "$n" 1

"$A" models remove mood >/dev/null 2>&1
check_eq "remove exits 0" "$?" 0
check "remove deletes both files" test ! -e "$user/mood.json" -a ! -e "$user/mood.onnx"
"$A" tag --catalog "$tmp/c2.db" --analyzers mood "$img" >/dev/null 2>&1
check_eq "a removed analyzer is unknown again" "$?" 2

"$A" models install nope --catalog "$src/models/catalog/catalog.json" >/dev/null 2>"$tmp/err"
check_eq "install of an unknown name exits 2" "$?" 2
check "and says so" grep -q "no model 'nope'" "$tmp/err"
"$A" models install --list --catalog "$src/models/catalog/catalog.json" >"$tmp/cat" 2>&1
check "the shipped catalog offers CLIP" grep -q '^clip-vit-b32-vision' "$tmp/cat"
finish
