#!/usr/bin/env bash
# ctest-label: slow
# A PostgreSQL catalog whose server runs out of disk mid-run (docs/catalog.md "Backups, damage
# and a full disk"): the catalog database lives in a tablespace on a small tmpfs (in a mount
# namespace of its own, with a throwaway server started inside it: nothing leaks to the host),
# the server's WAL on the ordinary disk, so the server answers ERROR 53100 (disk_full) rather
# than stopping. The run stops with one line saying the database server's disk is full, exit
# 3; what was stored before stays stored; once space is freed a re-run completes, skipping
# what was stored. A worker stops the same way, giving its job back (not a failed attempt),
# and a worker started after space is freed finishes the queue.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
A=$AITAG_BIN
PG=$AITAG_SOURCE_DIR/tests/pg/server.sh
jqq() { jq -e "$@" >/dev/null; }

lib=$tmp/lib
mkdir -p "$lib"
for i in $(seq 1 6); do
    cp "$fx/images/group_3faces.jpg" "$lib/g$i.jpg"
    cp "$fx/images/pair_2faces.tiff" "$lib/p$i.tiff"
done

cat >"$tmp/full.sh" <<'EOF'
set -u
A=$1 lib=$2 out=$3 PG=$4
PSQL=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
mnt=$out/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=24m tmpfs "$mnt" || exit 77
mkdir -p "$mnt/ts"
[ "$(id -u)" = 0 ] && chown postgres "$mnt/ts"
url=$(bash "$PG" start "$out/pg") || exit 78
trap 'bash "$PG" stop "$out/pg" >/dev/null 2>&1' EXIT
"$PSQL" -q "$url/postgres" -c "CREATE TABLESPACE small LOCATION '$mnt/ts'" \
    -c "CREATE DATABASE cat TABLESPACE small" >/dev/null || exit 78
db=$url/cat
mkdir -p "$out/empty"
"$A" tag --catalog "$db" --analyzers faces "$out/empty" >/dev/null 2>&1 # the schema
# fill the disk, then free 48 KiB: an item or two fit, then the server cannot extend a table
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
truncate -s -48K "$mnt/filler"
"$A" tag --catalog "$db" --analyzers faces --json "$lib" >"$out/full1.jsonl" 2>"$out/full1.err"
echo $? >"$out/full1.rc"
"$PSQL" -Atq "$db" -c "SELECT count(*) FROM media m WHERE status = 'ok' AND EXISTS
    (SELECT 1 FROM evidence e WHERE e.media_id = m.id)" >"$out/full1.complete"
rm "$mnt/filler"
"$A" tag --catalog "$db" --analyzers faces --json "$lib" >"$out/full2.jsonl" 2>"$out/full2.err"
echo $? >"$out/full2.rc"
"$PSQL" -Atq "$db" -c 'SELECT count(*) FROM media' >"$out/full2.count"
# a worker: the jobs queued, then the disk filled
"$PSQL" -q "$url/postgres" -c "CREATE DATABASE jobs TABLESPACE small" >/dev/null || exit 78
jdb=$url/jobs
"$A" enqueue --catalog "$jdb" "$lib" 2>/dev/null
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
truncate -s -48K "$mnt/filler"
timeout 300 "$A" worker --drain --lease 5 --analyzers faces --json --catalog "$jdb" \
    >"$out/w1.out" 2>"$out/w1.err"
echo $? >"$out/w1.rc"
"$A" jobs --json --catalog "$jdb" >"$out/w1.jobs" 2>/dev/null
"$PSQL" -Atq "$jdb" -c "SELECT count(*) FROM jobs WHERE state <> 'done' AND attempts > 0" \
    >"$out/w1.attempted"
rm "$mnt/filler"
timeout 300 "$A" worker --drain --lease 5 --analyzers faces --json --catalog "$jdb" \
    >"$out/w2.out" 2>"$out/w2.err"
echo $? >"$out/w2.rc"
"$A" jobs --json --catalog "$jdb" >"$out/w2.jobs" 2>/dev/null
EOF
in_own_mounts "$tmp/full.sh" "$A" "$lib" "$tmp" "$PG"
rc=$?
if [ "$rc" = 77 ]; then
    echo "SKIP: a full PostgreSQL disk needs root and unshare -m (a small tmpfs)" >&2
else
    check_eq "the server and its tablespace were set up" "$rc" 0
    check_eq "disk full: exit code" "$(cat "$tmp/full1.rc" 2>/dev/null)" 3
    check "disk full: one line says the database server's disk is full" \
        grep -q "^aitag tag: catalog (PostgreSQL): disk full on the database server" "$tmp/full1.err"
    check "disk full: the server's own words are kept" grep -q "No space left on device" "$tmp/full1.err"
    check "disk full: the run stopped, the rest not reached" \
        grep -Eq "^aitag: stopped: [0-9]+ tagged.*[0-9]+ not reached" "$tmp/full1.err"
    tagged=$(jq -r 'select(.status == "tagged") | .path' "$tmp/full1.jsonl" 2>/dev/null | wc -l)
    check "disk full: not every item was tried" [ "$(wc -l <"$tmp/full1.jsonl")" -lt 12 ]
    check_eq "disk full: every item reported tagged is stored, whole" \
        "$(cat "$tmp/full1.complete" 2>/dev/null)" "$tagged"
    check_eq "space freed: the re-run completes" "$(cat "$tmp/full2.rc" 2>/dev/null)" 0
    check_eq "space freed: every file stored" "$(cat "$tmp/full2.count" 2>/dev/null)" 12
    check_eq "space freed: what was stored is not redone" \
        "$(jq -r 'select(.status == "skipped") | .path' "$tmp/full2.jsonl" | wc -l)" "$tagged"
    check_eq "worker, disk full: exit code" "$(cat "$tmp/w1.rc" 2>/dev/null)" 3
    check "worker, disk full: one line says so" \
        grep -q "^aitag worker: catalog (PostgreSQL): disk full on the database server" "$tmp/w1.err"
    check "worker, disk full: it stopped, jobs left queued, none dead" \
        jqq '.done < 12 and .queued >= 1 and .dead == 0 and .running == 0' "$tmp/w1.jobs"
    check_eq "worker, disk full: the job it stopped on is not a failed attempt" \
        "$(cat "$tmp/w1.attempted" 2>/dev/null)" 0
    check_eq "worker, space freed: exit code" "$(cat "$tmp/w2.rc" 2>/dev/null)" 0
    check "worker, space freed: every job done" \
        jqq '.done == 12 and .queued == 0 and .dead == 0' "$tmp/w2.jobs"
fi
finish
