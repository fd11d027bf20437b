#!/usr/bin/env bash
# --sampling adaptive against dense exact sampling (--sampling exact --interval 1) on the 1080p
# fixture (four shots, faces and animals): the same tag set, every tag's markers with a
# temporal IoU >= 0.9, far fewer frames decoded and analysed; the mode is part of the analysis
# key (a re-run skips, switching re-analyses); Ctrl-C in the middle of the adaptive rounds ends
# the run at once (the decoder waiting for the next round's times is not left hanging).
source "$(dirname "$0")/lib.sh"
clip=$AITAG_FIXTURES_DIR/videos/faces_1080p_h264.mp4

tag() { # tag NAME ARGS...: faces and objects on the clip, JSON to NAME.json, stderr NAME.err
    local name=$1; shift
    "$AITAG_BIN" tag --catalog "$tmp/$name.db" --analyzers faces,objects --no-objects-mirror \
        --json "$@" "$clip" \
        >"$tmp/$name.json" 2>"$tmp/$name.err"
}
tag exact --sampling exact --interval 1
check_eq "exact run exit code" "$?" 0
tag adaptive --sampling adaptive
check_eq "adaptive run exit code" "$?" 0
check "adaptive run tags" json_item "$tmp/adaptive.json" "$clip" '.status == "tagged"'

check "there are markers to compare" [ "$(jq '.markers | length' "$tmp/exact.json")" -ge 4 ]
# the same tag set, and per tag the temporal IoU of the two runs' markers (tests/tools)
"$AITAG_BUILD_DIR/sampling_accuracy" --ref "$tmp/exact.json" --test "$tmp/adaptive.json" \
    --same-tags --min-iou 0.9 >"$tmp/accuracy.txt" 2>&1
check_eq "same tag set, every tag's marker IoU >= 0.9: $(tr '\n' ';' <"$tmp/accuracy.txt")" "$?" 0
check "both runs were compared" grep -q 'tags same PASS' "$tmp/accuracy.txt"

frames() { # frames NAME: "analysed decoded" from the summary line
    sed -nE 's/.*; ([0-9]+) frames analysed, ([0-9]+) decoded.*/\1 \2/p' "$tmp/$1.err"
}
read -r ea ed <<<"$(frames exact)"
read -r aa ad <<<"$(frames adaptive)"
echo "frames analysed/decoded: exact $ea/$ed, adaptive $aa/$ad"
check "exact decoded most reference frames" [ "${ed:-0}" -ge 500 ]
# (decoding is what costs on long GOPs: a change inside a GOP is bracketed in one forward pass,
# which analyses a few more frames than bisecting would and decodes fewer)
check "adaptive decodes under half as many frames" [ "${ad:-99999}" -lt $((${ed:-0} / 2)) ]
check "adaptive analyses under half as many" [ "${aa:-99999}" -lt $((${ea:-0} / 2)) ]

key=$(sqlite3 "$tmp/adaptive.db" "SELECT key FROM analyses WHERE analyzer = 'faces'")
check "the key names the mode" grep -q "interval=2.000 sampling=adaptive" <<<"$key"
tag adaptive --sampling adaptive
check "adaptive again skips" json_item "$tmp/adaptive.json" "$clip" '.status == "skipped"'
"$AITAG_BIN" tag --catalog "$tmp/adaptive.db" --analyzers faces,objects --no-objects-mirror \
    --dry-run --json --sampling exact "$clip" >"$tmp/ex2.json" 2>/dev/null
check "switching to exact re-analyses" json_item "$tmp/ex2.json" "$clip" '.status == "planned"'

# Ctrl-C while the rounds run, once the first frames are analysed (the ETA is known)
"$AITAG_BIN" tag --catalog "$tmp/int.db" --analyzers faces --sampling adaptive \
    --progress always "$AITAG_FIXTURES_DIR/videos" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 600); do grep -q "ETA [0-9]" "$tmp/int.err" 2>/dev/null && break; sleep 0.05; done
start=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "interrupted adaptive run exit code" "$rc" 130
check "interrupted adaptive run ended within 5 s ($ms ms)" [ "$ms" -lt 5000 ]
finish
