#!/usr/bin/env bash
# sampling_accuracy_tool.sh - the sampling accuracy tool (tests/tools/sampling_accuracy.c) on
# results built by hand: verdicts and exit status under thresholds, an item missing from the
# test run, absent "shots", a line that is not JSON, and bad arguments.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
tool=${AITAG_BUILD_DIR:?set by ctest}/sampling_accuracy

cat >"$tmp/ref.jsonl" <<'JSON'
{"path":"/m/a.mp4","status":"tagged","tags":[{"name":"face"},{"name":"dog"}],"markers":[{"tag":"face","start":0,"end":10},{"tag":"dog","start":5,"end":15}]}
{"path":"/m/b.mp4","status":"tagged","tags":[{"name":"face"}],"markers":[{"tag":"face","start":0,"end":20}]}
JSON
# a.mp4: dog missing, face 0-9 against 0-10 (IoU 0.9); shots: the cut at 10 found, a false
# cut at 30. b.mp4: identical, no "shots". A garbage line in between is reported and skipped.
cat >"$tmp/test.jsonl" <<'JSON'
{"path":"/m/a.mp4","status":"tagged","tags":[{"name":"face"}],"markers":[{"tag":"face","start":0,"end":9}],"shots":[{"start":0,"end":10.2,"edge":"start"},{"start":10.2,"end":30,"edge":"cut"},{"start":30,"end":40,"edge":"cut"}]}
not json
{"path":"/m/b.mp4","status":"tagged","tags":[{"name":"face"}],"markers":[{"tag":"face","start":0,"end":20}]}
JSON
echo '{"file":"a.mp4","boundaries":[{"time":10,"kind":"cut"}]}' >"$tmp/a.shots.json"
echo '{"file":"b.mp4","boundaries":[{"time":10,"kind":"fade","start":9,"end":11}]}' >"$tmp/b.shots.json"
truth=(--shots-truth "$tmp/a.shots.json" --shots-truth "$tmp/b.shots.json")

# Without thresholds everything is reported and nothing fails.
"$tool" --ref "$tmp/ref.jsonl" --test "$tmp/test.jsonl" "${truth[@]}" >"$tmp/out" 2>"$tmp/err"
check_eq "no thresholds: exit 0" "$?" 0
check "missing tag named" grep -q '^/m/a.mp4 tags differ INFO  # missing dog$' "$tmp/out"
check "IoU minimum is the dog's 0" grep -q '^/m/a.mp4 iou_min 0.000 INFO.*lowest: dog' "$tmp/out"
check "IoU mean (0.9 + 0) / 2" grep -q '^/m/a.mp4 iou_mean 0.450 INFO' "$tmp/out"
check "cut precision 1 of 2" grep -q '^/m/a.mp4 shots_cut_p 0.500 INFO' "$tmp/out"
check "cut recall 1 of 1" grep -q '^/m/a.mp4 shots_cut_r 1.000 INFO' "$tmp/out"
check "absent shots reported" grep -q '^/m/b.mp4 shots absent INFO' "$tmp/out"
check "bad line named" grep -q 'test.jsonl:2: ' "$tmp/err"

# --same-tags fails a.mp4 only; exit 1.
"$tool" --ref "$tmp/ref.jsonl" --test "$tmp/test.jsonl" --same-tags >"$tmp/out" 2>/dev/null
check_eq "--same-tags: exit 1" "$?" 1
check "a.mp4 tags FAIL" grep -q '^/m/a.mp4 tags differ FAIL' "$tmp/out"
check "b.mp4 tags PASS" grep -q '^/m/b.mp4 tags same PASS' "$tmp/out"

# Thresholds the results meet: exit 0 (b.mp4 against itself; a.mp4 scored for shots alone).
grep b.mp4 "$tmp/test.jsonl" >"$tmp/b.jsonl"
"$tool" --ref "$tmp/b.jsonl" --test "$tmp/b.jsonl" --same-tags --min-iou 0.9 >/dev/null 2>&1
check_eq "identical runs pass --same-tags --min-iou 0.9" "$?" 0
"$tool" --test "$tmp/test.jsonl" "${truth[@]}" --min-cut 0.5 >"$tmp/out" 2>/dev/null
check_eq "absent shots fail under a shot threshold" "$?" 1
check "b.mp4 shots absent FAIL" grep -q '^/m/b.mp4 shots absent FAIL' "$tmp/out"
check "a.mp4 cut precision 0.5 passes --min-cut 0.5" grep -q '^/m/a.mp4 shots_cut_p 0.500 PASS' "$tmp/out"
"$tool" --test "$tmp/test.jsonl" "${truth[@]}" --min-cut 0.9 --json >"$tmp/out" 2>/dev/null
check_eq "cut precision 0.5 fails --min-cut 0.9" "$?" 1
check "--json: one object per item, numbers and verdict" jq -e -s \
    'length == 2 and (.[] | select(.path == "/m/a.mp4") | .shots.cut.precision == 0.5 and .pass == false)' \
    "$tmp/out"

# The reference has an item the test run lacks.
"$tool" --ref "$tmp/ref.jsonl" --test "$tmp/b.jsonl" >"$tmp/out" 2>/dev/null
check_eq "missing item: exit 1" "$?" 1
check "missing item named" grep -q '^/m/a.mp4 status missing FAIL' "$tmp/out"

# Bad arguments and unreadable files: exit 2 with a message.
"$tool" --test "$tmp/test.jsonl" --min-iou abc 2>"$tmp/err" >/dev/null
check_eq "bad number: exit 2" "$?" 2
check "bad number named" grep -q -- '--min-iou: not a number' "$tmp/err"
"$tool" --test "$tmp/nope.jsonl" 2>"$tmp/err" >/dev/null
check_eq "unreadable file: exit 2" "$?" 2
check "unreadable file named" grep -q 'nope.jsonl' "$tmp/err"
finish
