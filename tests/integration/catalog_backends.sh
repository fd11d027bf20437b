#!/usr/bin/env bash
# catalog_backends.sh - a PostgreSQL catalog gives the answers a SQLite file gives. One session
# of commands runs on each: media tagged (faces, face attributes, objects, text, speech),
# people listed, named, split and forgotten, tags corrected, the review queue, log and fits,
# searches by tag, person, text and meaning, an unchanged re-run, a moved file, a deleted file
# and prune, subtitles. The PostgreSQL server is real (Debian's, tests/pg/server.sh, on
# loopback); every output of the two sessions must be equal, and the PostgreSQL one must say
# what the checks below expect (so two empty answers are no pass).
# ctest-label: slow
# ctest-cost: 62
source "$(dirname "$0")/lib.sh"
A=$AITAG_BIN
F=$AITAG_FIXTURES_DIR
PG=$AITAG_SOURCE_DIR/tests/pg/server.sh
trap 'bash "$PG" stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bash "$PG" start "$tmp/pg" >/dev/null || { echo "FAIL: start PostgreSQL" >&2; exit 1; }
url=$(bash "$PG" createdb "$tmp/pg" aitag_backends)
jqq() { jq -e "$@" >/dev/null; }

# session DIR CATALOG: the commands, each output in DIR/NAME (stdout; the exit status last)
session() {
    local out=$1 m=$1/media
    local C=(--catalog "$2")
    mkdir -p "$m"
    cp "$F/videos/faces_1080p_h264.mp4" "$F/videos/faces_text_720p_h264.mp4" "$m/"
    cp "$F"/images/*.jpg "$F"/images/*.png "$m/"
    cp "$F/speech/check_clean.mp4" "$m/speech.mp4"
    o() { # o NAME COMMAND...: stdout into $out/NAME, exit status appended
        local name=$1; shift
        "$@" >"$out/$name" 2>"$out/$name.err"
        echo "exit $?" >>"$out/$name"
    }
    o tag1 "$A" tag --json --quiet --progress never --analyzers faces,face_attrs,objects,text \
        "${C[@]}" "$m"
    o tag_speech "$A" tag --json --quiet --progress never --analyzers speech "${C[@]}" \
        "$m/speech.mp4"
    o show1 "$A" show --json "${C[@]}" "$m"/*
    o people1 "$A" people list --json "${C[@]}"
    o name1 "$A" people name 1 Alice --json "${C[@]}"
    o name_clash "$A" people name 2 ALICE "${C[@]}"
    o person1 "$A" people show 1 --json "${C[@]}"
    local face
    face=$(jq -r '.faces[-1].id // empty' "$out/person1" 2>/dev/null | head -n 1)
    o split "$A" people split 1 "${face:-0}" --json "${C[@]}"
    o people2 "$A" people list --json "${C[@]}"
    o by_person "$A" search --person alice --json "${C[@]}"
    o by_tag "$A" search --tag face --tag person --json "${C[@]}"
    o by_tag_any "$A" search --tag face --tag text --any --json "${C[@]}"
    o by_meaning "$A" search animal --json "${C[@]}"
    o by_text "$A" search coffee --json "${C[@]}"
    o by_speech "$A" search bridge --json "${C[@]}"
    local v=$m/faces_1080p_h264.mp4
    o reject "$A" review reject --who tester --json "${C[@]}" "$v" face
    o accept "$A" review accept --who tester --json "${C[@]}" "$m/group_3faces.jpg" person
    o rename "$A" review rename --who tester --json "${C[@]}" "$v" person human
    o queue "$A" review queue --json --limit 5 "${C[@]}"
    o log "$A" review log --json "${C[@]}"
    o fits "$A" review thresholds --json --min-decisions 1 "${C[@]}"
    o rules "$A" review rules --json --min-rejections 1 "${C[@]}"
    o show2 "$A" show --json "${C[@]}" "$v" "$m/group_3faces.jpg"
    o tag2 "$A" tag --json --quiet --progress never --analyzers faces,face_attrs,objects,text \
        "${C[@]}" "$m"
    mv "$m/group_3faces.jpg" "$m/moved.jpg"
    rm "$m/faces_text_720p_h264.mp4"
    o tag3 "$A" tag --json --quiet --progress never --analyzers faces,face_attrs,objects,text \
        "${C[@]}" "$m"
    o show3 "$A" show --json "${C[@]}" "$m/moved.jpg"
    o prune "$A" prune --json "${C[@]}"
    o srt "$A" export --srt "$out/speech.srt" "${C[@]}" "$m/speech.mp4"
    o forget "$A" people forget 1 --json "${C[@]}"
    o people3 "$A" people list --json "${C[@]}"
    o show4 "$A" show --json "${C[@]}" "$m"/*
    # the review app's API: library, search, plots, queue, decisions
    "$A" serve --port 0 "${C[@]}" >"$out/serve.log" 2>&1 &
    local pid=$! port=
    for _ in $(seq 100); do
        port=$(grep -oE '127.0.0.1:[0-9]+' "$out/serve.log" | cut -d: -f2) && [ -n "$port" ] && break
        sleep 0.1
    done
    for api in "items?limit=50" "items?q=coffee" "items?tag=face" stats queue decisions; do
        curl -s "http://127.0.0.1:$port/api/$api" >"$out/api_${api//[?=&]/_}"
    done
    kill "$pid"
    wait "$pid"
}

mkdir -p "$tmp/lite" "$tmp/pgs"
session "$tmp/lite" "$tmp/lite/catalog.db"
session "$tmp/pgs" "$url"

# Paths differ by the session's folder, times by the clock: both are made alike.
norm() {
    sed -e "s#$tmp/lite/#S/#g; s#$tmp/pgs/#S/#g; s#$tmp/lite/catalog.db#CAT#g; s#$url#CAT#g" \
        -e 's/"at":[0-9]*/"at":T/g; s/"elapsed":[0-9.e+-]*/"elapsed":T/g' \
        -e 's/"seconds":[0-9.e+-]*/"seconds":T/g; s/ in [0-9.]* s/ in T s/g' \
        -e 's/"started":[0-9]*/"started":T/g; s/"finished":[0-9]*/"finished":T/g' "$1"
}
for f in "$tmp"/lite/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    [ "$name" = catalog.db ] || [[ $name == catalog.db-* ]] || [ "$name" = serve.log ] && continue
    if [ "$(norm "$f")" = "$(norm "$tmp/pgs/$name")" ]; then
        ok
    else
        fail "$name differs between SQLite and PostgreSQL:"
        diff <(norm "$f") <(norm "$tmp/pgs/$name") | head -n 10 >&2
    fi
done

P=$tmp/pgs
[ -n "${KEEP:-}" ] && cp -r "$P" "$KEEP"
check_eq "tag: exit 0" "$(tail -n 1 "$P/tag1")" "exit 0"
check "tag: every file tagged" jqq -s 'map(select(.status? == "tagged")) | length == 6' \
    <(grep -v '^exit' "$P/tag1")
check "show: the video has a face tag and markers" jqq -s \
    'map(select(.path | endswith("faces_1080p_h264.mp4")))[0] |
     (.tags | map(.name) | index("face")) and (.markers | length > 0)' <(grep -v '^exit' "$P/show1")
check "people: some found" jqq 'length >= 1' <(grep -v '^exit' "$P/people1")
check_eq "a name taken ignoring case is refused" "$(tail -n 1 "$P/name_clash")" "exit 2"
check "search --person alice finds the video" grep -q faces_1080p_h264 "$P/by_person"
check "search by text finds the coffee card" grep -q text_card "$P/by_text"
check "search by what was said finds the speech clip" grep -q speech.mp4 "$P/by_speech"
check "rejected face is gone, person renamed" jqq -s \
    'map(select(.path | endswith("faces_1080p_h264.mp4")))[0].tags | map(.name) |
     (index("face") | not) and index("human")' <(grep -v '^exit' "$P/show2")
check "log: three decisions" jqq -s 'length == 3' <(grep -v '^exit' "$P/log")
check "re-run: nothing tagged again" jqq -s 'all(.[]; .status != "tagged")' \
    <(grep -v '^exit' "$P/tag2")
check "the moved file kept its results" jqq '.tags | map(.name) | index("person")' \
    <(grep -v '^exit' "$P/show3")
check "prune: the deleted file's item went" grep -q faces_text_720p_h264 "$P/prune"
check "subtitles written" grep -q -- '-->' "$P/speech.srt"
check "the review app's library lists the items" jqq '.total == 5 and (.items | length == 5)' \
    "$P/api_items_limit_50"
check "the review app finds the coffee card by its text" jqq \
    '.items | map(.name) == ["text_card.png"]' "$P/api_items_q_coffee"
# catalog upkeep on PostgreSQL: check connects and knows the schema; backup is pg_dump's job
"$AITAG_BIN" catalog check --catalog "$url" >/dev/null 2>"$tmp/pgcheck.err"
check_eq "catalog check on PostgreSQL: exit 0" "$?" 0
check "catalog check on PostgreSQL: says what it checked" grep -q "ok (connected, schema known)" \
    "$tmp/pgcheck.err"
"$AITAG_BIN" catalog backup --catalog "$url" "$tmp/pg.db" 2>"$tmp/pgbackup.err"
check_eq "catalog backup on PostgreSQL: refused" "$?" 3
check "catalog backup on PostgreSQL: points to pg_dump" grep -q "pg_dump -Fc" "$tmp/pgbackup.err"
finish
