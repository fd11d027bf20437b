#!/usr/bin/env bash
# SIGKILL in the middle of a run, then a re-run: every item ends up stored exactly once, with
# the same results as an uninterrupted run, and nothing is duplicated. SIGINT: the summary of
# the interrupted run counts only what it did.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR

# Reference: one uninterrupted run.
"$AITAG_BIN" tag --catalog "$tmp/ref.db" "$fx/videos" "$fx/images" >/dev/null 2>&1
check_eq "reference run exit code" "$?" 0
total=$(sqlite3 "$tmp/ref.db" "SELECT count(*) FROM media")

# Interrupted runs: kill -9 after the first, then after a few items are stored.
for after in 1 3; do
    db=$tmp/kill$after.db
    "$AITAG_BIN" tag --catalog "$db" "$fx/videos" "$fx/images" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        n=$(sqlite3 "$db" "SELECT count(*) FROM media" 2>/dev/null || echo 0)
        [ "${n:-0}" -ge "$after" ] && break
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    stored=$(sqlite3 "$db" "SELECT count(*) FROM media")
    check "kill after $after item(s) left a partial catalog ($stored of $total)" [ "$stored" -lt "$total" ]
    check_eq "catalog intact after kill" "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok

    "$AITAG_BIN" tag --catalog "$db" --json "$fx/videos" "$fx/images" >"$tmp/resume.jsonl" 2>/dev/null
    check_eq "resumed run exit code" "$?" 0
    tagged=$(jq -r 'select(.status == "tagged") | .path' "$tmp/resume.jsonl" | wc -l)
    check_eq "resume analyses exactly the missing items" "$tagged" "$((total - stored))"
    check_eq "every item stored once" "$(sqlite3 "$db" 'SELECT count(*), count(DISTINCT path) FROM media')" "$total|$total"
    check_eq "no duplicate markers" \
        "$(sqlite3 "$db" 'SELECT count(*) FROM (SELECT media_id, tag, start, count(*) c FROM markers GROUP BY 1, 2, 3 HAVING c > 1)')" 0
    check "results equal an uninterrupted run" cmp -s <(results_dump "$tmp/ref.db") <(results_dump "$db")
done

# SIGINT (Ctrl-C) after the first item: exit 130, and the summary says "interrupted" and counts
# only what was done: the items and the seconds of video stored, and how many were not reached.
db=$tmp/int.db
"$AITAG_BIN" tag --catalog "$db" "$fx/videos" "$fx/images" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 600); do
    n=$(sqlite3 "$db" "SELECT count(*) FROM media" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 1 ] && break
    sleep 0.05
done
kill -INT "$pid"
wait "$pid"
check_eq "interrupted run exit code" "$?" 130
summary=$(tail -n 1 "$tmp/int.err")
stored=$(sqlite3 "$db" "SELECT count(*) FROM media")
video=$(sqlite3 "$db" "SELECT printf('%.0f', coalesce(sum(duration), 0)) FROM media WHERE kind = 'video'")
check "the summary says interrupted ($summary)" grep -q '^aitag: interrupted: ' <<<"$summary"
check "it counts the items stored ($stored)" grep -q ": $stored tagged, 0 skipped" <<<"$summary"
check "it counts the seconds of video stored ($video)" grep -q "; $video s of video" <<<"$summary"
check "it counts the items not reached ($((total - stored)))" \
    grep -q "; $((total - stored)) not reached" <<<"$summary"
finish
