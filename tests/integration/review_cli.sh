#!/usr/bin/env bash
# review_cli.sh - `aitag review`: corrections are data. A video is tagged (faces, objects),
# its tags and markers are corrected (reject a tag, reject a marker named by bounds a little
# off the stored ones, move a marker's edges, rename a tag, accept one), and every correction
# must hold after a forced re-run (models run again, everything re-derived) and after a re-run
# under a threshold that drops the other tags (re-derived from stored evidence). Then the
# queue (undecided tags only, most useful first), the log, and refusals naming the argument.
source "$(dirname "$0")/lib.sh"
A=$AITAG_BIN
V=$AITAG_FIXTURES_DIR/videos/faces_1080p_h264.mp4
cat=$tmp/catalog.db
C=(--catalog "$cat")
T=(--analyzers faces,objects --no-people --quiet --progress never "${C[@]}")
jqe() {
    local out
    out=$(jq -e "$@") && [ -n "$out" ]
}
show() { "$A" show --json "${C[@]}" "$V"; }

"$A" tag "${T[@]}" "$V" 2>"$tmp/tag.err"
check_eq "tag the video" "$?" 0
show >"$tmp/before.json"
check "before: zebra, bird with a marker at 17.2-31.6, animals outdoors, face 0-17.2" jqe '
    (.tags | map(.name) | index("zebra") and index("bird") and index("animals outdoors")) and
    any(.markers[]; .tag == "bird" and .start == 17.2 and .end == 31.6) and
    any(.markers[]; .tag == "face" and .start == 0 and .end == 17.2)' "$tmp/before.json"

R=(--who tester "${C[@]}")
"$A" review reject "${R[@]}" "$V" zebra 2>"$tmp/err"
check_eq "reject zebra: exit 0" "$?" 0
"$A" review reject "${R[@]}" "$V" bird 17.0 31.0 2>"$tmp/err"
check_eq "reject bird's marker (bounds as shown, rounded): exit 0" "$?" 0
"$A" review bounds "${R[@]}" "$V" face 0 17.2 1.5 16 2>"$tmp/err"
check_eq "move face's first marker: exit 0" "$?" 0
"$A" review rename "${R[@]}" "$V" "animals outdoors" wildlife 2>"$tmp/err"
check_eq "rename animals outdoors: exit 0" "$?" 0
"$A" review accept --json "${R[@]}" "$V" person >"$tmp/accept.json" 2>"$tmp/err"
check_eq "accept person: exit 0" "$?" 0
check "accept --json: the decision's id, verdict and tag" jqe \
    '.id == 5 and .verdict == "accept" and .tag == "person"' "$tmp/accept.json"

corrected() { # the corrections, as `aitag show --json` must give them
    jqe '(.tags | map(.name)) as $t |
        ($t | index("zebra") | not) and ($t | index("animals outdoors") | not) and
        ($t | index("wildlife")) and ($t | index("person")) and ($t | index("bird")) and
        ([.markers[] | select(.tag == "zebra" or .tag == "animals outdoors")] | length == 0) and
        ([.markers[] | select(.tag == "bird")] | length == 0) and
        any(.markers[]; .tag == "wildlife") and
        any(.markers[]; .tag == "face" and .start == 1.5 and .end == 16) and
        ([.markers[] | select(.tag == "face" and .start == 0)] | length == 0)' "$1"
}
show >"$tmp/now.json"
check "show: every correction at once" corrected "$tmp/now.json"

"$A" tag "${T[@]}" --force "$V" 2>"$tmp/tag.err"
check_eq "forced re-run: exit 0" "$?" 0
check_eq "the forced re-run ran the models again" \
    "$(sqlite3 "$cat" 'SELECT count(DISTINCT run_id) FROM analyses')" 1
check_eq "... in a second run" "$(sqlite3 "$cat" 'SELECT count(*) FROM runs')" 2
show >"$tmp/forced.json"
check "forced re-run: every correction holds" corrected "$tmp/forced.json"

"$A" tag "${T[@]}" --threshold 0.99 "$V" 2>"$tmp/tag.err"
check_eq "re-run at threshold 0.99: exit 0" "$?" 0
show >"$tmp/strict.json"
check "threshold 0.99: the accepted person stays, face (not judged) goes, zebra stays out" jqe '
    (.tags | map(.name)) as $t | ($t | index("person")) and ($t | index("face") | not) and
    ($t | index("zebra") | not)' "$tmp/strict.json"
check "threshold 0.99: the accepted tag keeps the confidence it was judged at" jqe \
    '.tags[] | select(.name == "person") | .confidence > 0.9 and .confidence < 0.99' \
    "$tmp/strict.json"
"$A" tag "${T[@]}" "$V" 2>"$tmp/tag.err"
show >"$tmp/back.json"
check "back at the default threshold: as corrected" corrected "$tmp/back.json"

# --- log and queue ---------------------------------------------------------------------------
"$A" review log --json "${C[@]}" >"$tmp/log.json"
check_eq "log --json: exit 0" "$?" 0
check "log: five decisions in order, who and source recorded" jqe -s '
    map(.verdict) == ["reject", "reject", "bounds", "rename", "accept"] and
    all(.[]; .who == "tester" and .source == "cli" and .at > 1700000000) and
    (.[1].marker == [17.2, 31.6]) and (.[2].new_bounds == [1.5, 16]) and
    (.[3].new_tag == "wildlife")' "$tmp/log.json"
check_eq "log FILE: the same five" "$("$A" review log "${C[@]}" "$V" | wc -l)" 5
"$A" review queue --json "${C[@]}" >"$tmp/queue.json"
check "queue: no judged tag in it" jqe -s \
    'map(.tag) | (index("zebra") or index("person") or index("wildlife")) | not' "$tmp/queue.json"
check "queue: bird and face in it, highest priority first" jqe -s '
    (map(.tag) | index("bird") and index("face")) and
    ([.[].priority] == ([.[].priority] | sort | reverse))' "$tmp/queue.json"
check_eq "queue --tag face --limit 1: one line" \
    "$("$A" review queue --json --tag face --limit 1 "${C[@]}" | jq -r .tag)" face

# --- refusals ----------------------------------------------------------------------------------
"$A" review reject "${R[@]}" "$V" unicorn 2>"$tmp/err"
check_eq "an unknown tag: exit 2" "$?" 2
check "... named" grep -q "TAG 'unicorn': not a tag of this item" "$tmp/err"
"$A" review reject "${R[@]}" "$V" face 50 55 2>"$tmp/err"
check_eq "no such marker: exit 2" "$?" 2
check "... named with its bounds" grep -q "MARKER 'face' at 50.0-55.0: no such marker" "$tmp/err"
"$A" review reject "${R[@]}" "$V" face abc 5 2>"$tmp/err"
check_eq "a bad time: exit 2" "$?" 2
check "... names START" grep -q "START 'abc': not a time" "$tmp/err"
"$A" review bounds "${R[@]}" "$V" face 31.6 46.2 20 10 2>"$tmp/err"
check_eq "bounds end before start: exit 2" "$?" 2
check "... names NEW_START, NEW_END" grep -q "NEW_START, NEW_END" "$tmp/err"
"$A" review rename "${R[@]}" "$V" face $'a\tb' 2>"$tmp/err"
check_eq "a control character in a new name: exit 2" "$?" 2
"$A" review accept "${R[@]}" /nonexistent/clip.mp4 face 2>"$tmp/err"
check_eq "a file not in the catalog: exit 2" "$?" 2
check "... named" grep -q "/nonexistent/clip.mp4: not in the catalog" "$tmp/err"
check_eq "refusals recorded nothing" "$(sqlite3 "$cat" 'SELECT count(*) FROM decisions')" 5

# a reject, then an accept of the same tag: the later decision wins
"$A" review reject "${R[@]}" "$V" face 2>"$tmp/err"
check "reject face: gone with its markers" jqe \
    '(.tags | map(.name) | index("face") | not) and ([.markers[] | select(.tag == "face")] | length == 0)' \
    <(show)
sqlite3 "$cat" "INSERT INTO decisions(media_id, kind, tag, verdict, confidence, who, source, at)
    SELECT media_id, 'tag', 'face', 'accept', 0.9, 'tester', 'cli', 0 FROM decisions LIMIT 1"
"$A" tag "${T[@]}" --threshold 0.6 "$V" 2>"$tmp/tag.err"
check "a later accept wins over the reject at the next derivation" jqe \
    '.tags | map(.name) | index("face")' <(show)
finish
