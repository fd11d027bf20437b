#!/usr/bin/env bash
# The progress bar on a terminal (a pseudo-terminal from script(1), util-linux): while the first
# of two videos is analysed the bar already moves, by media seconds, strictly between 0 and
# 100 %, names that file and shows an ETA as a time; it is redrawn at most about ten times a
# second; --quiet draws none.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
first=$fx/videos/rotated_720p_h264.mp4 # 20 s
second=$fx/videos/mixed_480p_mjpeg.avi # 20 s

# on_tty FILE CMD...: runs CMD with a pseudo-terminal as stdin, stdout and stderr; what it
# wrote goes to FILE, one line per carriage return or newline, erase-line codes removed.
on_tty() {
    local out=$1 cmd
    shift
    printf -v cmd '%q ' "$@"
    script -qfec "$cmd" /dev/null </dev/null >"$out.raw"
    local rc=$?
    tr '\r' '\n' <"$out.raw" | sed 's/\x1b\[K//g' >"$out"
    return $rc
}

t0=$(date +%s.%N)
on_tty "$tmp/bar" "$AITAG_BIN" tag --catalog "$tmp/cat.db" --analyzers faces --interval 1 \
    "$first" "$second"
check_eq "exit code on a terminal" "$?" 0
t1=$(date +%s.%N)
bars=$(grep -E '^\[[#.]{24}\] [0-9]+/2 +[0-9]+%  ETA ' "$tmp/bar")
check "a bar is drawn on a terminal (--progress auto)" [ -n "$bars" ]

# Bar lines while the first file is in flight (0 of 2 items done), naming it.
name=$(basename "$first")
inside=$(grep -E "^\[[#.]{24}\] 0/2 +([1-9]|[1-9][0-9])%  ETA .*  $name\$" <<<"$bars")
check "percentages strictly between 0 and 100 while the first file is in flight" \
    [ "$(sort -u <<<"$inside" | wc -l)" -ge 2 ]
check "the file in flight is named" grep -q "  $name\$" <<<"$bars"
check "the ETA is a time while the first file is in flight" \
    grep -Eq "ETA [0-9]+:[0-5][0-9]  $name\$" <<<"$inside"
pcts=$(sed -E 's/^\[[#.]{24}\] [0-9]+\/2 +([0-9]+)%.*/\1/' <<<"$bars")
check "the percentage never goes back" cmp -s <(echo "$pcts") <(sort -n <<<"$pcts")
check_eq "the last bar shows 100 %" "$(tail -n 1 <<<"$pcts")" 100
# At most ten redraws a second, plus one per item end (never throttled) and slack.
draws=$(wc -l <<<"$bars")
limit=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 10 + 2 + 5 }')
check "redraws are throttled ($draws in $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s)" \
    [ "$draws" -le "$limit" ]
check "the summary follows the bar" grep -q '^aitag: 2 tagged' "$tmp/bar"

# --quiet: no bar even on a terminal; only the summary.
on_tty "$tmp/quiet" "$AITAG_BIN" tag --catalog "$tmp/q.db" --analyzers faces --quiet "$second"
check_eq "--quiet exit code" "$?" 0
check "--quiet draws no bar" sh -c "! grep -q 'ETA' '$tmp/quiet'"
check_eq "--quiet prints only the summary" "$(grep -c . "$tmp/quiet")" 1
finish
