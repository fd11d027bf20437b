#!/usr/bin/env bash
# ctest-label: slow
# A catalog on a full disk, a damaged catalog, and `aitag catalog check|backup|restore`
# (docs/catalog.md "Backups, damage and a full disk"):
# - a disk that fills up mid-run (a small tmpfs in a mount namespace of its own) stops the run
#   with one line naming the catalog and "disk full", exit 3; what was stored before stays
#   stored and sound; once space is freed a re-run completes, skipping what was stored;
# - a run killed with SIGKILL leaves the catalog marked unclean: a second process opening it
#   meanwhile does not check it, the next lone open does (and a sound file opens); bytes
#   damaged on disk after that are refused on open, naming the file and the commands; a file
#   closed cleanly and damaged later is listed by `catalog check` (exit 1);
# - backup while a tag run writes is a sound, consistent copy; restore is refused while the run
#   has the catalog open, then replaces it and keeps the old file aside; a backup changed since
#   (checksum) or damaged (no checksum) is refused; PostgreSQL is pointed to pg_dump.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
A=$AITAG_BIN
count() { sqlite3 "$1" 'SELECT count(*) FROM media'; }
not_grep() { ! grep -q "$@"; }
has_items() { [ "$(count "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

lib=$tmp/lib
mkdir -p "$lib"
for i in $(seq 1 5); do
    cp "$fx/images/group_3faces.jpg" "$lib/g$i.jpg"
    cp "$fx/images/pair_2faces.tiff" "$lib/p$i.tiff"
done

# --- A full disk mid-run (as root, in a private mount namespace: nothing leaks to the host).
cat >"$tmp/full.sh" <<'EOF'
set -u
A=$1 lib=$2 out=$3 fx=$4
mnt=$out/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=2m tmpfs "$mnt" || exit 77
db=$mnt/cat.db
mkdir -p "$out/empty"
"$A" tag --catalog "$db" --analyzers faces "$out/empty" >/dev/null 2>&1 # the empty catalog
# leave about 400 KiB: a few items fit (their claims and results pass through the WAL), then
# the disk is full
avail=$(df -k --output=avail "$mnt" | tail -n 1)
dd if=/dev/zero of="$mnt/filler" bs=4k count=$((avail / 4 - 100)) 2>/dev/null
"$A" tag --catalog "$db" --analyzers faces --json "$lib" >"$out/full1.jsonl" 2>"$out/full1.err"
echo $? >"$out/full1.rc"
sqlite3 "$db" 'SELECT count(*) FROM media' >"$out/full1.count"
sqlite3 "$db" "SELECT count(*) FROM media m WHERE status = 'ok' AND EXISTS (SELECT 1 FROM evidence e WHERE e.media_id = m.id)" >"$out/full1.complete"
"$A" catalog check --catalog "$db" >/dev/null 2>&1
echo $? >"$out/full1.check"
rm "$mnt/filler"
"$A" tag --catalog "$db" --analyzers faces --json "$lib" >"$out/full2.jsonl" 2>"$out/full2.err"
echo $? >"$out/full2.rc"
sqlite3 "$db" 'SELECT count(*) FROM media' >"$out/full2.count"
EOF
in_own_mounts "$tmp/full.sh" "$A" "$lib" "$tmp" "$fx"
full_rc=$?
if [ "$full_rc" = 77 ]; then
    echo "SKIP: disk full: cannot mount a small tmpfs here (needs root and unshare -m)" >&2
else
    check_eq "disk full: exit code" "$(cat "$tmp/full1.rc")" 3
    check "disk full: one line names the catalog and the full disk" \
        grep -q "^aitag tag: catalog $tmp/mnt/cat.db: disk full (no space left on device" "$tmp/full1.err"
    check "disk full: says what was stored is kept" grep -q "what was stored before is kept" "$tmp/full1.err"
    check "disk full: the run stopped, the rest not reached" \
        grep -Eq "^aitag: stopped: [0-9]+ tagged.*[0-9]+ not reached" "$tmp/full1.err"
    tagged=$(jq -r 'select(.status == "tagged") | .path' "$tmp/full1.jsonl" | wc -l)
    check "disk full: some items were stored before" [ "$tagged" -ge 1 ]
    check "disk full: not every item was tried" [ "$(wc -l <"$tmp/full1.jsonl")" -lt 10 ]
    check_eq "disk full: every item reported tagged is stored, whole" "$(cat "$tmp/full1.complete")" \
        "$tagged"
    check_eq "disk full: the catalog is sound" "$(cat "$tmp/full1.check")" 0
    check_eq "space freed: the re-run completes" "$(cat "$tmp/full2.rc")" 0
    check_eq "space freed: every file stored" "$(cat "$tmp/full2.count")" 10
    check_eq "space freed: what was stored is not redone" \
        "$(jq -r 'select(.status == "skipped") | .path' "$tmp/full2.jsonl" | wc -l)" "$tagged"
fi

# --- A catalog to work on: 10 images.
db=$tmp/cat.db
"$A" tag --catalog "$db" --analyzers faces "$lib" >/dev/null 2>&1
check_eq "catalog tagged" "$(count "$db")" 10
check_eq "a clean end is recorded" "$(cat "$db-lock")" clean

# --- A run killed with SIGKILL; a second process meanwhile is not checked, the next lone open is.
cp "$db" "$tmp/k.db"
"$A" tag --catalog "$tmp/k.db" --analyzers faces --interval 0.25 "$fx/videos/faces_720p_hevc.mkv" \
    >/dev/null 2>&1 &
pid=$!
check "killed run: the catalog is marked open" eventually grep -qs open "$tmp/k.db-lock"
"$A" show --catalog "$tmp/k.db" --log-level info "$lib/g1.jpg" >/dev/null 2>"$tmp/during.err"
check_eq "a second process meanwhile: opens" "$?" 0
check "a second process meanwhile: no check" not_grep check_on_open "$tmp/during.err"
kill -9 "$pid"
wait "$pid" 2>/dev/null
cp "$tmp/k.db" "$tmp/k2.db" # the same unclean state, for the damage below
cp "$tmp/k.db-lock" "$tmp/k2.db-lock"
[ -e "$tmp/k.db-wal" ] && cp "$tmp/k.db-wal" "$tmp/k2.db-wal"
"$A" show --catalog "$tmp/k.db" --log-level info "$lib/g1.jpg" >/dev/null 2>"$tmp/after.err"
check_eq "after the kill: a sound catalog opens" "$?" 0
check "after the kill: checked on open" grep -q "event=check_on_open path=$tmp/k.db ok=1" "$tmp/after.err"
check_eq "after the check: clean again" "$(cat "$tmp/k.db-lock")" clean

# --- Damage: bytes overwritten in the pages of the tables `show` reads.
damage() { # damage FILE: garbage over the first bytes of every page of the tags and evidence
    local p
    for p in $(sqlite3 "$1" "SELECT pageno FROM dbstat WHERE name IN ('tags', 'evidence')"); do
        dd if=/dev/urandom of="$1" bs=1 seek=$(((p - 1) * 4096)) count=64 conv=notrunc 2>/dev/null
    done
}
damage "$tmp/k2.db"
"$A" show --catalog "$tmp/k2.db" "$lib/g1.jpg" >/dev/null 2>"$tmp/dmg.err"
check_eq "damaged after an unclean end: refused on open" "$?" 3
check "damaged: names the file" grep -q "^aitag show: $tmp/k2.db: damaged" "$tmp/dmg.err"
check "damaged: points to check and restore" \
    grep -q "aitag catalog check.*aitag catalog restore BACKUP" "$tmp/dmg.err"
cp "$db" "$tmp/d.db"
damage "$tmp/d.db"
"$A" catalog check --catalog "$tmp/d.db" >"$tmp/chk.out" 2>"$tmp/chk.err"
check_eq "catalog check on a damaged file: exit 1" "$?" 1
check "catalog check: lists problems" [ -s "$tmp/chk.out" ]
check "catalog check: the verdict names the file" grep -q "$tmp/d.db: damaged" "$tmp/chk.err"
"$A" show --catalog "$tmp/d.db" "$lib/g1.jpg" >/dev/null 2>"$tmp/dmg2.err"
check_eq "damaged, closed cleanly: show fails when it reads the damage" "$?" 3
check "damaged, closed cleanly: names the catalog" grep -q "catalog $tmp/d.db is damaged" "$tmp/dmg2.err"
"$A" catalog check --catalog "$db" --quick >/dev/null 2>"$tmp/chk2.err"
check_eq "catalog check on a sound file: exit 0" "$?" 0

# --- Backup while a tag run writes; restore refused while it runs, then done.
live=$tmp/live.db
# the images, then a long video the run is still on when it is stopped (SIGINT)
"$A" tag --catalog "$live" --analyzers faces --interval 0.25 --json "$lib" \
    "$fx/videos/faces_720p_hevc.mkv" >"$tmp/live.jsonl" 2>/dev/null &
pid=$!
eventually has_items "$live" 3
"$A" catalog backup --catalog "$live" "$tmp/bak.db" 2>"$tmp/bak.err"
check_eq "backup while a run writes: exit 0" "$?" 0
check "backup: a checksum beside it" [ -s "$tmp/bak.db.sha256" ]
check "backup: sha256sum agrees" sh -c "cd '$tmp' && sha256sum -c --quiet bak.db.sha256"
"$A" catalog restore --catalog "$live" "$tmp/bak.db" 2>"$tmp/busy.err"
check_eq "restore while a run has the catalog open: refused" "$?" 3
check "restore refused: says it is in use" grep -q "in use by another process" "$tmp/busy.err"
check "the run is still going" kill -0 "$pid"
eventually has_items "$live" 10 # every image; the video is in flight
kill -INT "$pid"
wait "$pid"
check_eq "the run went on until stopped" "$?" 130
n_bak=$(count "$tmp/bak.db")
check "backup: a moment of the run" [ "$n_bak" -ge 3 -a "$n_bak" -le 10 ]
"$A" catalog check --catalog "$tmp/bak.db" >/dev/null 2>&1
check_eq "backup: sound" "$?" 0
check_eq "the live catalog has every image" "$(count "$live")" 10
"$A" catalog restore --catalog "$live" "$tmp/bak.db" 2>"$tmp/res.err"
check_eq "restore: exit 0" "$?" 0
check_eq "restore: the backup's items" "$(count "$live")" "$n_bak"
aside=$(sed -n 's/.*the old catalog is at //p' "$tmp/res.err")
check "restore: the old catalog kept aside" [ -f "$aside" ]
check_eq "restore: the old catalog whole" "$(count "$aside")" 10
"$A" catalog backup --catalog "$live" "$tmp/bak.db" 2>"$tmp/exists.err"
check_eq "backup over an existing file: refused" "$?" 3
# a backup changed since it was written
cp "$tmp/bak.db" "$tmp/t.db"
cp "$tmp/bak.db.sha256" "$tmp/t.db.sha256"
printf 'X' | dd of="$tmp/t.db" bs=1 seek=5000 conv=notrunc 2>/dev/null
"$A" catalog restore --catalog "$live" "$tmp/t.db" 2>"$tmp/tamper.err"
check_eq "tampered backup: refused" "$?" 3
check "tampered backup: the checksum says so" grep -q "does not match its checksum" "$tmp/tamper.err"
check_eq "tampered backup: the catalog untouched" "$(count "$live")" "$n_bak"
rm "$tmp/t.db.sha256"
damage "$tmp/t.db"
"$A" catalog restore --catalog "$live" "$tmp/t.db" 2>"$tmp/tamper2.err"
check_eq "damaged backup without a checksum: refused" "$?" 3
check "damaged backup: says so" grep -q "damaged" "$tmp/tamper2.err"
# PostgreSQL
"$A" catalog backup --catalog postgresql://u@127.0.0.1:1/x "$tmp/pg.dump" 2>"$tmp/pg.err"
check_eq "PostgreSQL backup: refused" "$?" 3
check "PostgreSQL backup: points to pg_dump" grep -q "pg_dump" "$tmp/pg.err"
finish
