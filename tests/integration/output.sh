#!/usr/bin/env bash
# What `aitag tag` prints: a failed item is one line with its reason; a re-run does not print
# skipped items again (counted in the summary; --verbose prints them); --quiet leaves stdout
# empty and prints one line per failed item and the summary on stderr; --json still prints
# one object per item, skipped ones included.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
m=$tmp/media
mkdir -p "$m"
cp "$fx/images/group_3faces.jpg" "$fx/images/text_card.png" "$m/"
cp "$fx/bad/not-media.mp4" "$m/broken.mp4"
db=$tmp/cat.db
run() { "$AITAG_BIN" tag --catalog "$db" --analyzers faces "$@" "$m" >"$tmp/out" 2>"$tmp/err"; }

run
check_eq "first run: exit code 1 (one item failed)" "$?" 1
check_eq "the failed item is one line" "$(grep -c 'broken.mp4' "$tmp/out")" 1
check "that line has the status and the reason" \
    grep -Eq "^$m/broken.mp4  \[error\]  .{8,}\$" "$tmp/out"
check "no continuation line for the error" sh -c "! grep -q '^  error' '$tmp/out'"
check_eq "both photos printed" "$(grep -c '\[tagged\]' "$tmp/out")" 2
check "summary counts the failure" grep -q '2 tagged, 0 skipped (unchanged), 0 partial, 1 failed' "$tmp/err"

# Re-run: the photos are skipped and only counted; the failure is still reported.
run
check_eq "re-run: exit code" "$?" 1
check "re-run: skipped items are not printed" sh -c "! grep -q 'skipped' '$tmp/out'"
check "re-run: no tag lines of skipped items" sh -c "! grep -q '^  tags:' '$tmp/out'"
check_eq "re-run: stdout is the failed item's line" "$(wc -l <"$tmp/out")" 1
check "re-run: summary counts the skipped" grep -q '0 tagged, 2 skipped (unchanged), 0 partial, 1 failed' "$tmp/err"

# --verbose prints the skipped items' stored results too.
run --verbose
check_eq "--verbose: skipped items printed" "$(grep -c '\[skipped\]' "$tmp/out")" 2
check "--verbose: with their tags" grep -q '^  tags: face' "$tmp/out"

# --quiet: nothing on stdout; on stderr one line per failed item, then the summary.
run --quiet
check_eq "--quiet: exit code" "$?" 1
check_eq "--quiet: stdout empty" "$(wc -c <"$tmp/out")" 0
check_eq "--quiet: two stderr lines" "$(wc -l <"$tmp/err")" 2
check "--quiet: the failed item's line names it and the reason" \
    grep -Eq "^aitag: $m/broken.mp4: .{8,}\$" "$tmp/err"
check "--quiet: then the summary" sh -c "tail -n 1 '$tmp/err' | grep -q '2 skipped'"
AITAG_QUIET=true run
check_eq "quiet from the environment" "$(wc -c <"$tmp/out")" 0
run --quiet --verbose
check_eq "--quiet wins over --verbose" "$(wc -c <"$tmp/out")" 0

# --json keeps its contract: one object per item, skipped ones included, with --quiet too.
for flags in "--json" "--json --quiet"; do
    # shellcheck disable=SC2086
    run $flags
    check_eq "$flags: one object per item" "$(jq -r .status "$tmp/out" | sort | tr '\n' ' ')" \
        "error skipped skipped "
    check "$flags: skipped items carry their stored tags" \
        json_item "$tmp/out" "$m/group_3faces.jpg" '.tags | map(.name) | index("face") != null'
    check_eq "$flags: stderr is the failed item's line and the summary" "$(wc -l <"$tmp/err")" 2
done
finish
