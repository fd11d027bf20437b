#!/usr/bin/env bash
# Bad input: each bad file gets one line naming it and the reason, the run goes on, the summary
# counts the failures, the exit code says some failed, and nothing stored is lost.
# ctest-cost: 40
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
db=$tmp/cat.db
good=$(ls "$fx"/images/*.jpg | head -n 1)

"$AITAG_BIN" tag --catalog "$db" --json "$fx/bad" "$tmp/does-not-exist.mp4" "$good" >"$tmp/out.jsonl" 2>"$tmp/err"
check_eq "exit code says some failed" "$?" 1
for f in zero-byte.mp4 not-media.mp4 audio-only.mp4 huge.png truncated.mp4; do
    check "$f reported on stderr with a reason" grep -q "$fx/bad/$f: ..*" "$tmp/err"
    check "$f has an error in its JSON" json_item "$tmp/out.jsonl" "$fx/bad/$f" '.errors | length == 1'
done
check "missing path reported" grep -q "does-not-exist.mp4: No such file" "$tmp/err"
check "symlink loop reported" grep -q "loop.*symlink loop" "$tmp/err"
check "empty file reason" grep -q "zero-byte.mp4: empty file" "$tmp/err"
check "audio-only reason" grep -q "audio-only.mp4: no video stream" "$tmp/err"
check "the good file is still tagged" json_item "$tmp/out.jsonl" "$good" '.status == "tagged"'
check "the truncated file is partial" json_item "$tmp/out.jsonl" "$fx/bad/truncated.mp4" '.status == "partial"'
check "summary counts failures" grep -Eq "[1-9][0-9]* failed" "$tmp/err"
check "one JSON object per item on stdout" jq -e . "$tmp/out.jsonl" >/dev/null

# A stored item whose file turns bad keeps its stored results.
cp "$good" "$tmp/photo.jpg"
"$AITAG_BIN" tag --catalog "$db" "$tmp/photo.jpg" >/dev/null 2>&1
before=$("$AITAG_BIN" show --catalog "$db" --json "$tmp/photo.jpg" | jq -c .tags)
echo "garbage" >"$tmp/photo.jpg"
"$AITAG_BIN" tag --catalog "$db" "$tmp/photo.jpg" >/dev/null 2>&1
check_eq "re-tag of a corrupted file fails" "$?" 1
after=$("$AITAG_BIN" show --catalog "$db" --json "$tmp/photo.jpg" | jq -c .tags)
check_eq "stored tags kept" "$after" "$before"
check "show lists the error" sh -c "'$AITAG_BIN' show --catalog '$db' --json '$tmp/photo.jpg' | jq -e '.errors | length == 1' >/dev/null"

# Permission denied needs an unprivileged user (root reads everything): run as nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    mkdir -p "$tmp/perm" && chmod 777 "$tmp/perm" && chmod 755 "$tmp"
    cp "$good" "$tmp/perm/secret.jpg" && chmod 000 "$tmp/perm/secret.jpg"
    setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$tmp/perm" \
        "$AITAG_BIN" tag --catalog "$tmp/perm/cat.db" --json "$tmp/perm/secret.jpg" >/dev/null 2>"$tmp/perm.err"
    check_eq "permission denied exit code" "$?" 1
    check "permission denied named" grep -q "secret.jpg: .*ermission denied" "$tmp/perm.err"
fi
finish
