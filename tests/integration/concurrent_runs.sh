#!/usr/bin/env bash
# concurrent_runs.sh - `aitag tag` processes over overlapping folders with one SQLite catalog
# (aitag/catalog.h "Claims"):
#   - three runs started together: all exit 0, none says "locked", each item is analysed once
#     (one run reports it tagged, every other run that was asked for it reports it skipped),
#     each run reports every item it was asked for, and the catalog equals one clean run's;
#   - two runs, one SIGKILLed while it holds an item: the other takes the item over at once
#     (the holder is dead, no lease to wait out), completes every item, and the catalog again
#     equals the clean run's, with no claim left behind;
#   - a run opening the catalog while another process holds its write lock for 20 s (longer
#     than SQLite's old 10 s busy timeout) waits for it instead of failing at once with
#     "database is locked".
# ctest-label: slow
# ctest-cost: 37
source "$(dirname "$0")/lib.sh"
A=$AITAG_BIN
F=$AITAG_FIXTURES_DIR
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

lib=$tmp/lib
mkdir -p "$lib/v" "$lib/i"
cp "$F/videos/rotated_720p_h264.mp4" "$F/videos/text_720p_vp9.webm" \
    "$F/videos/faces_720p_hevc.mkv" "$lib/v/"
cp "$F"/images/*.jpg "$F"/images/*.png "$F"/images/*.webp "$F"/images/*.gif "$lib/i/"
n=$(find "$lib" -type f | wc -l)
T=(--analyzers faces,face_attrs,text --threads 1 --sampling keyframes --interval 4 --progress never)

"$A" tag "${T[@]}" --quiet --catalog "$tmp/ref.db" "$lib" 2>"$tmp/ref.err"
check_eq "clean run: exit 0" "$?" 0
results_dump "$tmp/ref.db" >"$tmp/ref.dump"

# --- three runs at once, over overlapping sets, on a catalog none of them has created ---
db=$tmp/cat.db
"$A" tag "${T[@]}" --json --catalog "$db" "$lib/v" "$lib/i" >"$tmp/r1.jsonl" 2>"$tmp/r1.err" &
p1=$!
"$A" tag "${T[@]}" --json --catalog "$db" "$lib/i" "$lib/v/text_720p_vp9.webm" \
    >"$tmp/r2.jsonl" 2>"$tmp/r2.err" &
p2=$!
"$A" tag "${T[@]}" --json --catalog "$db" "$lib/v" "$lib/i/text_card.png" \
    >"$tmp/r3.jsonl" 2>"$tmp/r3.err" &
p3=$!
n_img=$(find "$lib/i" -type f | wc -l)
want=("$n" $((n_img + 1)) 4)
for k in 1 2 3; do
    pid_var=p$k
    wait "${!pid_var}"
    check_eq "run $k: exit 0" "$?" 0
    check "run $k: nothing was locked" bash -c "! grep -qi locked '$tmp/r$k.err'"
    check_eq "run $k: reports every item it was asked for" \
        "$(jq -r .path "$tmp/r$k.jsonl" | sort -u | wc -l)" "${want[$((k - 1))]}"
    check_eq "run $k: tagged or skipped, nothing else" \
        "$(jq -r .status "$tmp/r$k.jsonl" | grep -cvE '^(tagged|skipped)$')" 0
done
check_eq "each item tagged by exactly one run" \
    "$(cat "$tmp"/r[123].jsonl | jq -rs 'group_by(.path)
        | map(select(map(select(.status == "tagged")) | length == 1)) | length')" "$n"
check_eq "the runs' tagged counts add up to the items" \
    "$(sqlite3 "$db" 'SELECT sum(tagged) FROM runs')" "$n"
check "the catalog equals a clean run's" cmp -s "$tmp/ref.dump" <(results_dump "$db")
check_eq "no claim left" "$(sqlite3 "$db" 'SELECT count(*) FROM claims')" 0
check_eq "catalog intact" "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok

# --- another process holding the write lock of a new catalog file for 20 s while a run opens
# it (in the background, beside the next part): SQLite answers part of the open "busy" at
# once, without waiting out its busy timeout ---
sqlite3 "$tmp/held.db" "BEGIN IMMEDIATE;" "CREATE TABLE hold(a);" ".shell sleep 20" "ROLLBACK;" \
    >/dev/null &
holder=$!
sleep 0.5
"$A" tag "${T[@]}" --quiet --catalog "$tmp/held.db" "$lib/i" 2>"$tmp/held.err" &
waiter=$!

# --- two runs, one killed with SIGKILL while it holds an item ---
db=$tmp/kill.db
"$A" tag "${T[@]}" --json --catalog "$db" "$lib" >/dev/null 2>&1 &
doomed=$!
"$A" tag "${T[@]}" --json --log-level info --catalog "$db" "$lib" >"$tmp/k.jsonl" 2>"$tmp/k.err" &
other=$!
held=0
for _ in $(seq 600); do
    held=$(sqlite3 "$db" "SELECT count(*) FROM claims WHERE pid = $doomed" 2>/dev/null || echo 0)
    [ "${held:-0}" -ge 1 ] && break
    sleep 0.05
done
kill -9 "$doomed"
wait "$doomed" 2>/dev/null
check "the killed run held an item" [ "${held:-0}" -ge 1 ]
wait "$other"
check_eq "the other run: exit 0" "$?" 0
check_eq "the other run reports every item" "$(jq -r .path "$tmp/k.jsonl" | sort -u | wc -l)" "$n"
check_eq "... tagged or skipped" "$(jq -r .status "$tmp/k.jsonl" | grep -cvE '^(tagged|skipped)$')" 0
check "it took the dead run's claim over" grep -q 'event=claim_taken_over' "$tmp/k.err"
check "nothing was locked" bash -c "! grep -qi locked '$tmp/k.err'"
check "the catalog equals a clean run's" cmp -s "$tmp/ref.dump" <(results_dump "$db")
check_eq "no claim left" "$(sqlite3 "$db" 'SELECT count(*) FROM claims')" 0

wait "$waiter"
check_eq "a run beside a 20 s write lock: exit 0" "$?" 0
check "... nothing was locked" bash -c "! grep -qi locked '$tmp/held.err'"
wait "$holder"
check_eq "... and it stored every item" "$(sqlite3 "$tmp/held.db" 'SELECT count(*) FROM media')" \
    "$n_img"
finish
