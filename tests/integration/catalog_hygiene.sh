#!/usr/bin/env bash
# Catalog hygiene: show/search/prune before the first run; a file given twice is analysed once;
# deleted files are marked missing by `aitag tag DIR` (out of search, "missing" in show) and
# deleted by `aitag prune`; a moved file keeps its analysis without running a model; catalog
# errors state their reason once; missing parent folders are created; an old catalog migrates.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
src=${AITAG_SOURCE_DIR:-$(dirname "$0")/../..}
lines() { if [ -s "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# --- Before the first run: no catalog is an empty catalog, said once, exit 0, nothing created.
nodb=$tmp/none/catalog.db
for cmd in "show $fx/images/group_3faces.jpg" "search --tag face" "prune"; do
    name=${cmd%% *}
    # shellcheck disable=SC2086
    "$AITAG_BIN" $cmd --catalog "$nodb" >"$tmp/$name.out" 2>"$tmp/$name.err"
    check_eq "$name without a catalog: exit code" "$?" 0
    check_eq "$name without a catalog: empty result" "$(lines "$tmp/$name.out")" 0
    check_eq "$name without a catalog: one line on stderr" "$(lines "$tmp/$name.err")" 1
    check "$name without a catalog: says so" grep -q "no catalog yet at $nodb" "$tmp/$name.err"
done
check "no catalog or folder was created" [ ! -e "$tmp/none" ]
# The default location (XDG data) too.
"$AITAG_BIN" search --tag face >"$tmp/def.out" 2>"$tmp/def.err"
check_eq "search at the default location: exit code" "$?" 0
check "search at the default location: says so" grep -q "no catalog yet" "$tmp/def.err"

# --- Paths given twice: one item each (the same file, a folder and its subfolder, a symlink).
lib=$tmp/lib
mkdir -p "$lib/sub"
cp "$fx/images/group_3faces.jpg" "$lib/a.jpg"
cp "$fx/images/pair_2faces.tiff" "$lib/sub/b.tiff"
ln -s sub/b.tiff "$lib/link.tiff"
db=$tmp/deep/er/cat.db # parent folders are created
"$AITAG_BIN" tag --catalog "$db" --analyzers faces --json "$lib/a.jpg" "$lib/a.jpg" "$lib/./a.jpg" \
    >"$tmp/dup1.jsonl" 2>"$tmp/dup1.err"
check_eq "same file three times: exit code" "$?" 0
check "missing parent folders of --catalog are created" [ -f "$db" ]
check_eq "same file three times: analysed once" "$(lines "$tmp/dup1.jsonl")" 1
"$AITAG_BIN" tag --catalog "$db" --analyzers faces --json --force "$lib" "$lib/sub" "$lib/link.tiff" \
    "$lib/sub/b.tiff" >"$tmp/dup2.jsonl" 2>"$tmp/dup2.err"
check_eq "folder, subfolder and symlink: exit code" "$?" 0
check_eq "folder, subfolder and symlink: each file once" "$(jq -r .path "$tmp/dup2.jsonl" | sort | tr '\n' ' ')" \
    "$lib/a.jpg $lib/sub/b.tiff "
check_eq "one catalog item per file" "$(sqlite3 "$db" 'SELECT count(*) FROM media')" 2

# --- A deleted file: marked missing by tag DIR, out of search, missing in show, then pruned.
"$AITAG_BIN" search --catalog "$db" --tag face >"$tmp/s1" 2>&1
check_eq "both files found by tag" "$(lines "$tmp/s1")" 2
rm "$lib/a.jpg"
"$AITAG_BIN" tag --catalog "$db" --analyzers faces "$lib" >"$tmp/gone.out" 2>"$tmp/gone.err"
check_eq "tag after a delete: exit code" "$?" 0
check "tag says what it marked missing" grep -q "1 marked missing" "$tmp/gone.err"
"$AITAG_BIN" search --catalog "$db" --tag face >"$tmp/s2" 2>&1
check_eq "search leaves the deleted file out" "$(cat "$tmp/s2")" "$lib/sub/b.tiff"
"$AITAG_BIN" show --catalog "$db" "$lib/a.jpg" >"$tmp/show.out" 2>&1
check_eq "show of a missing item: exit code" "$?" 0
check "show says missing" grep -q "a.jpg  \[missing\]" "$tmp/show.out"
check "show keeps its results" grep -q "tags: face" "$tmp/show.out"
check "show --json says missing" json_item <("$AITAG_BIN" show --catalog "$db" --json "$lib/a.jpg") \
    "$lib/a.jpg" '.status == "missing"'
# A file deleted since the last run is shown as missing too.
cp "$fx/images/portrait_1face.gif" "$lib/c.gif"
"$AITAG_BIN" tag --catalog "$db" --analyzers faces "$lib/c.gif" >/dev/null 2>&1
rm "$lib/c.gif"
check "show notices a file gone since the last run" \
    sh -c "'$AITAG_BIN' show --catalog '$db' '$lib/c.gif' | grep -q '\[missing\]'"
"$AITAG_BIN" tag --catalog "$db" --analyzers faces "$lib/c.gif" >/dev/null 2>"$tmp/gonefile.err"
check "a file given by name that is gone is marked missing" grep -q "1 marked missing" "$tmp/gonefile.err"
check_eq "a gone file gets no error row" "$(sqlite3 "$db" "SELECT status FROM media WHERE path = '$lib/c.gif'")" "ok"

"$AITAG_BIN" prune --catalog "$db" --dry-run >"$tmp/dry.out" 2>"$tmp/dry.err"
check_eq "prune --dry-run: exit code" "$?" 0
check_eq "prune --dry-run lists what would go" "$(cat "$tmp/dry.out")" \
    "would remove $lib/a.jpg
would remove $lib/c.gif"
check "prune --dry-run says it is a dry run" grep -q "2 missing items would be removed (dry run)" "$tmp/dry.err"
check_eq "prune --dry-run deletes nothing" "$(sqlite3 "$db" 'SELECT count(*) FROM media')" 3
"$AITAG_BIN" prune --catalog "$db" --json >"$tmp/prune.jsonl" 2>"$tmp/prune.err"
check_eq "prune: exit code" "$?" 0
check "prune says what it removed" json_item "$tmp/prune.jsonl" "$lib/a.jpg" '.status == "removed"'
check "prune summary" grep -q "2 missing items removed" "$tmp/prune.err"
check_eq "prune deletes the items" "$(sqlite3 "$db" 'SELECT path FROM media')" "$lib/sub/b.tiff"
check_eq "prune deletes their evidence" \
    "$(sqlite3 "$db" 'SELECT count(*) FROM evidence WHERE media_id NOT IN (SELECT id FROM media)')" 0
"$AITAG_BIN" show --catalog "$db" "$lib/a.jpg" >/dev/null 2>"$tmp/unknown.err"
check_eq "show of a file not in the catalog: exit code 1" "$?" 1
check "show of an unknown file says so" grep -q "not in the catalog" "$tmp/unknown.err"
"$AITAG_BIN" prune --catalog "$db" >"$tmp/prune2.out" 2>"$tmp/prune2.err"
check "prune with nothing missing" grep -q "0 missing items removed" "$tmp/prune2.err"

# A missing item whose file comes back is kept by prune (and by tag, unmarked).
mv "$lib/sub/b.tiff" "$tmp/away.tiff"
"$AITAG_BIN" tag --catalog "$db" --analyzers faces "$lib" >/dev/null 2>&1
mv "$tmp/away.tiff" "$lib/sub/b.tiff"
"$AITAG_BIN" prune --catalog "$db" >"$tmp/back.out" 2>&1
check "prune keeps an item whose file is back" grep -q "kept (the file is back) $lib/sub/b.tiff" "$tmp/back.out"
check_eq "the item is still there, unmarked" \
    "$(sqlite3 "$db" "SELECT missing_at IS NULL FROM media WHERE path = '$lib/sub/b.tiff'")" 1

# --- A moved and renamed file keeps its analysis: no model runs, same item, same evidence.
ev_before=$(sqlite3 "$db" "SELECT e.label, e.confidence FROM evidence e JOIN media m ON m.id = e.media_id WHERE m.path = '$lib/sub/b.tiff' ORDER BY e.id")
id_before=$(sqlite3 "$db" "SELECT id FROM media WHERE path = '$lib/sub/b.tiff'")
mkdir -p "$tmp/elsewhere"
rm "$lib/link.tiff" # would be a broken symlink, an error of its own
mv "$lib/sub/b.tiff" "$tmp/elsewhere/renamed.tiff"
"$AITAG_BIN" tag --catalog "$db" --analyzers faces --json --log-level info "$tmp/elsewhere" "$lib" \
    >"$tmp/move.jsonl" 2>"$tmp/move.err"
check_eq "moved file: exit code" "$?" 0
check "moved file is not analysed again" json_item "$tmp/move.jsonl" "$tmp/elsewhere/renamed.tiff" '.status == "skipped"'
check "moved file keeps its tags" json_item "$tmp/move.jsonl" "$tmp/elsewhere/renamed.tiff" '[.tags[].name] | index("face") != null'
check_eq "moved file: no model loaded" "$(grep -c 'event=load' "$tmp/move.err")" 0
check "tag says what moved" grep -q "1 moved at a new path" "$tmp/move.err"
check_eq "moved file: same item, new path" \
    "$(sqlite3 "$db" "SELECT id FROM media WHERE path = '$tmp/elsewhere/renamed.tiff'")" "$id_before"
check_eq "moved file: same evidence" \
    "$(sqlite3 "$db" "SELECT e.label, e.confidence FROM evidence e JOIN media m ON m.id = e.media_id WHERE m.path = '$tmp/elsewhere/renamed.tiff' ORDER BY e.id")" \
    "$ev_before"
check_eq "moved file: nothing left missing" "$(sqlite3 "$db" 'SELECT count(*) FROM media WHERE missing_at IS NOT NULL')" 0

# --- Catalog errors: the path once, then the reason.
echo "this is a text file, not a database; long enough to have a header" >"$tmp/text.db"
"$AITAG_BIN" tag --catalog "$tmp/text.db" --analyzers faces "$lib" >/dev/null 2>"$tmp/notdb.err"
check_eq "not a database: exit code" "$?" 3
check_eq "not a database: the reason once" "$(cat "$tmp/notdb.err")" "aitag tag: $tmp/text.db: not a database"
"$AITAG_BIN" search --catalog "$tmp/text.db" --tag face >/dev/null 2>"$tmp/notdb2.err"
check_eq "search on a text file: the reason once" "$(cat "$tmp/notdb2.err")" "aitag search: $tmp/text.db: not a database"
# Permission problems need an unprivileged user (root may write anywhere): run as nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$tmp/home" "$@"; }
    chmod 755 "$tmp"
    mkdir -p "$tmp/ro" "$tmp/rw" && chmod 555 "$tmp/ro" && chmod 777 "$tmp/rw"
    nobody "$AITAG_BIN" tag --catalog "$tmp/ro/cat.db" --analyzers faces "$tmp/elsewhere" >/dev/null 2>"$tmp/perm.err"
    check_eq "unwritable folder: exit code" "$?" 3
    check_eq "unwritable folder: permission denied, the path once" "$(cat "$tmp/perm.err")" \
        "aitag tag: $tmp/ro/cat.db: permission denied"
    nobody "$AITAG_BIN" tag --catalog "$tmp/ro/sub/cat.db" --analyzers faces "$tmp/elsewhere" >/dev/null 2>"$tmp/perm2.err"
    check "parent folder that cannot be created: the reason" \
        grep -qx "aitag tag: $tmp/ro/sub/cat.db: cannot create folder $tmp/ro/sub: permission denied" "$tmp/perm2.err"
    cp "$db" "$tmp/rw/cat.db" && chown 65534 "$tmp/rw/cat.db" && chmod 444 "$tmp/rw/cat.db"
    nobody "$AITAG_BIN" tag --catalog "$tmp/rw/cat.db" --analyzers faces "$tmp/elsewhere" >/dev/null 2>"$tmp/ro.err"
    check_eq "read-only catalog: exit code" "$?" 3
    check "read-only catalog: says read-only" grep -qx "aitag tag: $tmp/rw/cat.db: read-only (permission denied)" "$tmp/ro.err"
    nobody "$AITAG_BIN" search --catalog "$tmp/rw/cat.db" --tag face >"$tmp/ro.out" 2>&1
    check_eq "a read-only catalog can still be searched" "$(cat "$tmp/ro.out")" "$tmp/elsewhere/renamed.tiff"
    chmod 000 "$tmp/rw/cat.db"
    nobody "$AITAG_BIN" show --catalog "$tmp/rw/cat.db" "$tmp/elsewhere/renamed.tiff" >/dev/null 2>"$tmp/unread.err"
    check_eq "unreadable catalog: exit code" "$?" 3
    check_eq "unreadable catalog: permission denied" "$(cat "$tmp/unread.err")" \
        "aitag show: $tmp/rw/cat.db: permission denied"
fi

# --- A catalog written by aitag 0.1.0 (schema 1) is migrated on first use, by search too.
sqlite3 "$tmp/v1.db" <"$src/tests/data/catalog_v1.sql"
check_eq "the fixture is schema 1" "$(sqlite3 "$tmp/v1.db" 'PRAGMA user_version')" 1
"$AITAG_BIN" search --catalog "$tmp/v1.db" --tag face >"$tmp/v1.out" 2>"$tmp/v1.err"
check_eq "search on an old catalog: exit code" "$?" 0
check_eq "search on an old catalog finds its item" "$(cat "$tmp/v1.out")" "/media/photos/photo.jpg"
check_eq "the old catalog is migrated" "$(sqlite3 "$tmp/v1.db" 'PRAGMA user_version')" 10
check_eq "with a shots table" "$(sqlite3 "$tmp/v1.db" 'SELECT count(*) FROM shots')" 0
check_eq "with people and faces tables" "$(sqlite3 "$tmp/v1.db" 'SELECT count(*) FROM people')$(sqlite3 "$tmp/v1.db" 'SELECT count(*) FROM faces')" 00
"$AITAG_BIN" tag --catalog "$tmp/v1.db" --analyzers faces /media/photos >/dev/null 2>"$tmp/v1tag.err"
check "tag marks the old catalog's gone item missing" grep -q "1 marked missing" "$tmp/v1tag.err"
"$AITAG_BIN" prune --catalog "$tmp/v1.db" >/dev/null 2>&1
check_eq "and prune deletes it" "$(sqlite3 "$tmp/v1.db" 'SELECT count(*) FROM media')" 0
finish
