#!/usr/bin/env bash
# --sampling: a bad value is a usage error naming the option (flag and environment); keyframes
# sampling is part of the analysis key (switching re-analyses, repeating skips) and still
# finds the fixture's faces where the truth file has them (docs/cli.md, "Sampling video frames").
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
clip=$fx/videos/faces_1080p_h264.mp4
db=$tmp/cat.db

"$AITAG_BIN" tag --catalog "$db" --analyzers faces --sampling nearest "$clip" >/dev/null 2>"$tmp/err"
check_eq "bad --sampling exit code" "$?" 2
check "bad --sampling named" grep -q -- "--sampling must be one of exact, keyframes, adaptive, not 'nearest'" "$tmp/err"
AITAG_SAMPLING=sometimes "$AITAG_BIN" tag --catalog "$db" --analyzers faces "$clip" >/dev/null 2>"$tmp/err"
check_eq "bad AITAG_SAMPLING exit code" "$?" 2
check "bad AITAG_SAMPLING named" grep -q "sampling" "$tmp/err"
check "nothing stored by usage errors" [ ! -s "$db" ] || [ "$(sqlite3 "$db" 'SELECT count(*) FROM media')" = 0 ]

tag() { # tag OUT SAMPLING: faces on the clip, JSON to OUT
    "$AITAG_BIN" tag --catalog "$db" --analyzers faces --json --sampling "$2" "$clip" >"$1" 2>"$tmp/tag.err"
}
tag "$tmp/exact.json" exact
check_eq "exact run exit code" "$?" 0
check "exact run tags" json_item "$tmp/exact.json" "$clip" '.status == "tagged"'
key_exact=$(sqlite3 "$db" "SELECT key FROM analyses WHERE analyzer = 'faces'")
check "exact key says nothing of sampling" [ -n "$key_exact" ] && ! grep -q sampling <<<"$key_exact"

tag "$tmp/keys.json" keyframes
check_eq "keyframes run exit code" "$?" 0
check "switching to keyframes re-analyses" json_item "$tmp/keys.json" "$clip" '.status == "tagged"'
key_keys=$(sqlite3 "$db" "SELECT key FROM analyses WHERE analyzer = 'faces'")
check_eq "keyframes key" "$key_keys" "$key_exact sampling=keyframes"
check "keyframes finds faces too" json_item "$tmp/keys.json" "$clip" \
    '[.tags[] | select(.name == "face")] | length == 1'
frames_keys=$(sqlite3 "$db" "SELECT n_frames FROM analyses WHERE analyzer = 'faces'")
check "keyframes samples about as often" [ "$frames_keys" -ge 25 -a "$frames_keys" -le 31 ]

tag "$tmp/again.json" keyframes
check "keyframes again skips" json_item "$tmp/again.json" "$clip" '.status == "skipped"'
tag "$tmp/back.json" exact
check "back to exact re-analyses" json_item "$tmp/back.json" "$clip" '.status == "tagged"'
check "exact results come back the same" \
    cmp -s <(jq -c 'del(.status)' "$tmp/exact.json") <(jq -c 'del(.status)' "$tmp/back.json")

# Accuracy: the scorer on the keyframes results of the two H.264 clips (faces: temporal IoU
# >= 0.8, no markers across no-face gaps; text: CER <= 0.10), as accuracy.sh scores exact runs.
if [ -x "${AITAG_BUILD_DIR:-}/score_fixtures" ]; then
    mkdir -p "$tmp/videos"
    for f in faces_1080p_h264.mp4 faces_text_720p_h264.mp4; do ln -s "$fx/videos/$f" "$tmp/videos/$f"; done
    "$AITAG_BIN" tag --catalog "$tmp/acc.db" --analyzers faces,text --json --sampling keyframes \
        "$tmp/videos" >"$tmp/acc.jsonl" 2>/dev/null
    check_eq "keyframes accuracy run exit code" "$?" 0
    mkdir -p "$tmp/truth"
    for f in faces_1080p_h264.mp4 faces_text_720p_h264.mp4; do cp "$fx/truth/$f.json" "$tmp/truth/"; done
    check "keyframes accuracy on the H.264 clips" \
        "$AITAG_BUILD_DIR/score_fixtures" --truth "$tmp/truth" --results "$tmp/acc.jsonl"
fi
finish
