#!/usr/bin/env bash
# ctest-label: slow
# (not again under ASan: an accuracy measurement, model inference for most of its time)
# objects_mirror.sh - the objects analyzer's mirrored pass on ambiguous frames only (the
# manifest's "flip": 2) keeps the results of always mirroring ("flip": 1, through a models folder
# whose centernet.json says so) on every fixture: the same tags and markers (per-tag IoU 1;
# tests/tools/sampling_accuracy.c), the tolerance docs/models.md states. The model run counts
# are in build/test_objects_mirror_gate.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
src=${AITAG_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
tool=${AITAG_BUILD_DIR:?set by ctest}/sampling_accuracy

mkdir -p "$tmp/models"
cp -r "$src"/models/. "$tmp/models/" # the context rules too, as the other run has them
jq '.params.flip = 1' "$src/models/centernet.json" >"$tmp/models/centernet.json"
check_eq "the manifest's default is auto" "$(jq '.params.flip' "$src/models/centernet.json")" 2

media=("$AITAG_FIXTURES_DIR/videos" "$AITAG_FIXTURES_DIR/images")
"$AITAG_BIN" tag --catalog "$tmp/always.db" --json --analyzers objects --models-dir "$tmp/models" \
    "${media[@]}" >"$tmp/always.jsonl" 2>"$tmp/always.err"
check_eq "always mirroring: tagged" "$?" 0
"$AITAG_BIN" tag --catalog "$tmp/auto.db" --json --analyzers objects "${media[@]}" \
    >"$tmp/auto.jsonl" 2>"$tmp/auto.err"
check_eq "auto: tagged" "$?" 0
check "the keys differ (flip=1 against flip=2)" sh -c "sqlite3 '$tmp/auto.db' \
    \"SELECT key FROM analyses WHERE analyzer = 'objects'\" | grep -q ' flip=2 amb='"
check "objects were found" jq -e -s 'map(.tags | length) | add > 5' "$tmp/auto.jsonl"
"$tool" --ref "$tmp/always.jsonl" --test "$tmp/auto.jsonl" --same-tags --min-iou 1 >"$tmp/cmp"
check_eq "same tags and markers on every fixture" "$?" 0 || cat "$tmp/cmp" >&2
check "every fixture compared" test "$(grep -c ' status ok PASS$' "$tmp/cmp")" -eq \
    "$(wc -l <"$tmp/always.jsonl")"
finish
