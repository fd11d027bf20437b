#!/usr/bin/env bash
# people_cli.sh - `aitag people list|show|name|merge|split|ignore|forget`, `aitag search
# --person` and people as tags and markers, on a real catalog: the fixtures are tagged with the
# faces and face_attrs analyzers (which stores their faces with the embeddings), and
# tests/data/people_assign.sql gives the faces to four people as a clustering would, the same
# on every run. Forget is checked on the raw bytes of the catalog file and its WAL.
source "$(dirname "$0")/lib.sh"
A=$AITAG_BIN
F=$AITAG_FIXTURES_DIR
V=$F/videos/faces_720p_hevc.mkv
G=$F/images/group_3faces.jpg
P=$F/images/portrait_1face.gif
cat=$tmp/catalog.db
C=(--catalog "$cat")
# jq -e: the last result true; and a result at all (jq 1.6 exits 0 on empty input).
jqe() {
    local out
    out=$(jq -e "$@") && [ -n "$out" ]
}

# No catalog yet: nobody is known, said once; list --json is an empty array.
check_eq "list without a catalog: []" "$("$A" people list --json "${C[@]}" 2>/dev/null)" "[]"

# --no-people: the test gives the faces to people itself, the same way on every run
"$A" tag --analyzers faces,face_attrs --no-people --quiet --progress never "${C[@]}" "$V" "$G" "$P" \
    2>"$tmp/tag.err"
check_eq "tag the fixtures" "$?" 0
sqlite3 "$cat" <"$(dirname "$0")/../data/people_assign.sql"
check_eq "faces stored for four people" \
    "$(sqlite3 "$cat" 'SELECT group_concat(n) FROM (SELECT count(*) n FROM faces GROUP BY person_id ORDER BY person_id)')" \
    "7,7,8,3"

# --- list ---------------------------------------------------------------------------------
"$A" people list --json "${C[@]}" >"$tmp/list.json"
check_eq "list --json: exit 0" "$?" 0
check_eq "list --json: one line" "$(wc -l <"$tmp/list.json")" 1
check "list --json: exactly id, name, faces, media, cover" jqe '
    length == 4 and all(.[]; keys == ["cover", "faces", "id", "media", "name"]) and
    all(.[]; .cover | keys == ["box", "path", "t"]) and
    all(.[]; .cover.box | length == 4 and all(.[]; . >= 0 and . <= 1))' "$tmp/list.json"
check_eq "list --json: ids, faces and media counts" \
    "$(jq -c '[.[] | [.id, .name, .faces, (.media | length)]]' "$tmp/list.json")" \
    '[[1,null,7,1],[2,null,7,1],[3,null,8,2],[4,null,3,1]]'
check_eq "list --json: person 3's media in path order" \
    "$(jq -c '.[2].media' "$tmp/list.json")" "$(jq -cn --arg p "$P" --arg v "$V" '[$p, $v]')"
# the cover is the face of best quality
want=$(sqlite3 -json "$cat" "SELECT m.path, f.t FROM faces f JOIN media m ON m.id = f.media_id
    WHERE person_id = 1 ORDER BY quality DESC, score DESC, f.id LIMIT 1" | jq -c '.[0] | [.path, .t]')
check_eq "list --json: cover = best face" "$(jq -c '.[0].cover | [.path, .t]' "$tmp/list.json")" "$want"
"$A" people list "${C[@]}" >"$tmp/list.txt"
check_eq "list: a line per person" "$(wc -l <"$tmp/list.txt")" 4

# --- name, and people as tags and markers ------------------------------------------------
"$A" people name 1 Alice --json "${C[@]}" >"$tmp/name.json"
check_eq "name: exit 0" "$?" 0
check_eq "name --json" "$(cat "$tmp/name.json")" '{"id":1,"name":"Alice"}'
"$A" show --json "${C[@]}" "$V" >"$tmp/show.json"
check "show: the named person is a tag" \
    jqe '[.tags[].name] | index("person:Alice") != null' "$tmp/show.json"
# Alice's faces are at 4..16 s every 2 s: one marker bracketing them, snapped to the shots
check "show: a marker of when she is on screen" jqe '
    [.markers[] | select(.tag == "person:Alice")] | length == 1 and
    .[0].start <= 4 and .[0].start > 2 and .[0].end >= 16 and .[0].end <= 18.01' "$tmp/show.json"
check "show: no tag for unnamed people" \
    jqe '[.tags[].name | select(startswith("person:"))] == ["person:Alice"]' "$tmp/show.json"
check "show: the group photo has no person tag" sh -c \
    "'$A' show --json --catalog '$cat' '$G' | jq -e '[.tags[].name | select(startswith(\"person:\"))] == []' >/dev/null"
"$A" people list --json "${C[@]}" >"$tmp/list.json"
check_eq "list: the name" "$(jq -c '.[0].name' "$tmp/list.json")" '"Alice"'
"$A" people name 1 ALICE "${C[@]}" >/dev/null
check_eq "rename to another case of the same name" "$?" 0
"$A" people name 1 Alice "${C[@]}" >/dev/null

# Per-person rules work like any tag's: rename and parent through the rules file.
printf '{"tags": {"person:Alice": {"name": "Alice L.", "parent": "People"}}}\n' >"$tmp/rules.json"
"$A" people name 1 Alice --rules "$tmp/rules.json" "${C[@]}" >/dev/null
"$A" show --json "${C[@]}" "$V" >"$tmp/show.json"
check "rules: the person's tag renamed, with its parent" jqe '
    [.tags[] | select(.name == "Alice L.")] | length == 1 and .[0].parent == "People"' \
    "$tmp/show.json"
check "rules: the markers follow" jqe '[.markers[] | select(.tag == "Alice L.")] | length == 1' \
    "$tmp/show.json"
printf '{"tags": {"person:Alice": {"markers": false}}}\n' >"$tmp/rules.json"
"$A" people name 1 Alice --rules "$tmp/rules.json" "${C[@]}" >/dev/null
"$A" show --json "${C[@]}" "$V" >"$tmp/show.json"
check "rules: markers off for this person only" jqe '
    ([.markers[] | select(.tag == "person:Alice")] == []) and
    ([.tags[].name] | index("person:Alice") != null) and
    ([.markers[] | select(.tag == "face")] != [])' "$tmp/show.json"
"$A" people name 1 Alice "${C[@]}" >/dev/null

# --- bad input -----------------------------------------------------------------------------
"$A" people name 2 alice "${C[@]}" 2>"$tmp/err" >/dev/null
check_eq "duplicate name (other case): exit 2" "$?" 2
check_eq "duplicate name: names the field" "$(cat "$tmp/err")" \
    "aitag people name: NAME 'alice': already the name of person 1"
"$A" people name 2 " Bob" "${C[@]}" 2>"$tmp/err" >/dev/null
check_eq "name with a leading space: exit 2" "$?" 2
check "... names the field" grep -q "^aitag people name: NAME ' Bob': starts or ends with a space$" "$tmp/err"
for sub in "show 99" "name 99 Bob" "ignore 99" "forget 99" "merge 1 99" "split 99 1"; do
    # shellcheck disable=SC2086 # the subcommand's words are separate arguments
    "$A" people $sub "${C[@]}" 2>"$tmp/err" >/dev/null
    check_eq "people $sub: exit 2" "$?" 2
    check_eq "people $sub: names the id" "$(cat "$tmp/err")" "aitag people ${sub%% *}: ID 99: no such person"
done
"$A" people show x "${C[@]}" 2>"$tmp/err"
check_eq "show x: exit 2" "$?" 2
check_eq "show x: names the field" "$(cat "$tmp/err")" \
    "aitag people show: ID 'x': not a person id (a positive whole number)"
"$A" people split 1 abc "${C[@]}" 2>"$tmp/err"
check_eq "split with a bad face id: exit 2" "$?" 2
check "... names the field" grep -q "FACE_ID 'abc': not a face id" "$tmp/err"
face2=$(sqlite3 "$cat" "SELECT min(id) FROM faces WHERE person_id = 2")
"$A" people split 1 "$face2" "${C[@]}" 2>"$tmp/err"
check_eq "split with another person's face: exit 2" "$?" 2
check_eq "... names the face" "$(cat "$tmp/err")" \
    "aitag people split: FACE_ID $face2: not a face of person 1"
"$A" people merge 1 1 "${C[@]}" 2>"$tmp/err"
check_eq "merge a person with itself: exit 2" "$?" 2
"$A" people name 1 "${C[@]}" 2>"$tmp/err"
check_eq "name without NAME: exit 2" "$?" 2
check "... says the usage" grep -q "usage: aitag people name ID NAME" "$tmp/err"
"$A" people frobnicate "${C[@]}" 2>"$tmp/err"
check_eq "unknown subcommand: exit 2" "$?" 2
check_eq "nothing changed by the refusals" \
    "$(sqlite3 "$cat" "SELECT group_concat(id || ':' || ifnull(name, '') || ':' || ignored) FROM people")" \
    "1:Alice:0,2::0,3::0,4::0"

# --- show ------------------------------------------------------------------------------------
"$A" people show 1 --json "${C[@]}" >"$tmp/p1.json"
check_eq "show --json: exit 0" "$?" 0
check "show --json: the person and their faces" jqe '
    .id == 1 and .name == "Alice" and .ignored == false and (.faces | length) == 7 and
    all(.faces[]; keys == ["assigned", "box", "id", "path", "quality", "score", "t"]) and
    all(.faces[]; .assigned == "auto" and (.box | length) == 4)' "$tmp/p1.json"
check_eq "show --json: faces by time" "$(jq -c '[.faces[].t]' "$tmp/p1.json")" '[4,6,8,10,12,14,16]'
"$A" people show 1 --crops "$tmp/crops" --json "${C[@]}" >"$tmp/p1c.json"
check_eq "show --crops: exit 0" "$?" 0
check_eq "show --crops: a JPEG per face" "$(ls "$tmp/crops" | grep -c '^face-[0-9]*\.jpg$')" 7
fid=$(jq -r '.faces[0].id' "$tmp/p1c.json")
check_eq "show --crops: the file in the JSON" "$(jq -r '.faces[0].crop' "$tmp/p1c.json")" \
    "$tmp/crops/face-$fid.jpg"
# the crop is the box of the 1280x720 frame, at full resolution
want=$(jq -r '.faces[0].box | "\(.[2] * 1280 | round)x\(.[3] * 720 | round)"' "$tmp/p1c.json")
check_eq "show --crops: the crop's size is the box's" \
    "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 \
        "$tmp/crops/face-$fid.jpg")" "mjpeg,${want/x/,}"
"$A" people show 4 --crops "$tmp/crops4" "${C[@]}" >/dev/null
check_eq "show --crops of a photo" "$(ls "$tmp/crops4" | wc -l)" 3

# --- search --person ---------------------------------------------------------------------
check_eq "search --person" "$("$A" search --person alice "${C[@]}")" "$V"
check_eq "search --person --json" "$("$A" search --person Alice --json "${C[@]}")" \
    "$(jq -cn --arg p "$V" '{path: $p}')"
check_eq "search --person with --tag (all)" "$("$A" search --person Alice --tag face "${C[@]}")" "$V"
check_eq "search --person with a tag it lacks" \
    "$("$A" search --person Alice --tag person:nobody "${C[@]}")" ""
check_eq "search --person or a tag (--any)" \
    "$("$A" search --person Alice --tag gender:female --any "${C[@]}" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "$V" "$G" "$P" | sort | tr '\n' ' ')"
"$A" people name 3 Carol "${C[@]}" >/dev/null
check_eq "search two people: where both are" "$("$A" search --person Alice --person carol "${C[@]}")" "$V"
check_eq "search two people, --any" \
    "$("$A" search --person Alice --person Carol --any "${C[@]}" | tr '\n' ' ')" "$P $V "
"$A" search --person Nobody "${C[@]}" >"$tmp/out" 2>"$tmp/err"
check_eq "search an unknown person: exit 2" "$?" 2
check_eq "... names the field" "$(cat "$tmp/err")" \
    "aitag search: --person 'Nobody': no person has this name (see aitag people list)"
check "... and prints no match" [ ! -s "$tmp/out" ]

# --- merge -------------------------------------------------------------------------------
"$A" people merge 3 4 --json "${C[@]}" >"$tmp/merge.json"
check_eq "merge: exit 0" "$?" 0
check_eq "merge --json" "$(cat "$tmp/merge.json")" '{"id":3,"merged":[4]}'
check_eq "merge: all faces in the first, assigned by the user" \
    "$(sqlite3 "$cat" "SELECT person_id, assigned, count(*) FROM faces WHERE person_id IN (3, 4) GROUP BY 1, 2")" \
    "3|user|11"
"$A" people show 4 "${C[@]}" 2>/dev/null
check_eq "merge: the merged person is gone" "$?" 2
check "merge: Carol is now in the group photo" \
    sh -c "'$A' show --json --catalog '$cat' '$G' | jq -e '[.tags[].name] | index(\"person:Carol\") != null' >/dev/null"

# --- split -------------------------------------------------------------------------------
gface=$(sqlite3 "$cat" "SELECT group_concat(f.id, ' ') FROM faces f JOIN media m ON m.id = f.media_id
    WHERE f.person_id = 3 AND m.path = '$G'")
# shellcheck disable=SC2086 # the face ids are separate arguments
"$A" people split 3 $gface --json "${C[@]}" >"$tmp/split.json"
check_eq "split: exit 0" "$?" 0
new=$(jq -r .id "$tmp/split.json")
check "split --json: the new person, where from, the faces" \
    jqe --argjson f "[${gface// /,}]" '.from == 3 and .id != 3 and .faces == $f' "$tmp/split.json"
check_eq "split: the faces are the new person's, assigned by the user" \
    "$(sqlite3 "$cat" "SELECT count(*) FROM faces WHERE person_id = $new AND assigned = 'user'")" 3
check_eq "split: each face is rejected from the old person for good" \
    "$(sqlite3 "$cat" "SELECT count(*) FROM face_rejects WHERE person_id = 3")" 3
check "split: Carol left the group photo" \
    sh -c "'$A' show --json --catalog '$cat' '$G' | jq -e '[.tags[].name | select(startswith(\"person:\"))] == []' >/dev/null"

# --- ignore ------------------------------------------------------------------------------
"$A" people name 2 Bob "${C[@]}" >/dev/null
check "Bob tagged before he is ignored" sh -c \
    "'$A' show --json --catalog '$cat' '$V' | jq -e '[.tags[].name] | index(\"person:Bob\") != null' >/dev/null"
"$A" people ignore 2 --json "${C[@]}" >"$tmp/ignore.json"
check_eq "ignore: exit 0" "$?" 0
check_eq "ignore --json" "$(cat "$tmp/ignore.json")" '{"id":2,"ignored":true}'
check_eq "ignore: not listed" "$("$A" people list --json "${C[@]}" | jq -c '[.[].id]')" "[1,3,$new]"
check "ignore: still shown by id, marked" sh -c \
    "'$A' people show 2 --json --catalog '$cat' | jq -e '.ignored == true and (.faces | length) == 7' >/dev/null"
check "ignore: no tag or marker any more" sh -c \
    "'$A' show --json --catalog '$cat' '$V' | jq -e '([.tags[].name] | index(\"person:Bob\")) == null and ([.markers[].tag] | index(\"person:Bob\")) == null' >/dev/null"
check_eq "ignore: its faces stay with it, assigned by the user" \
    "$(sqlite3 "$cat" "SELECT count(*) FROM faces WHERE person_id = 2 AND assigned = 'user'")" 7
"$A" search --person Bob "${C[@]}" 2>"$tmp/err" >/dev/null
check_eq "ignore: not searchable" "$(cat "$tmp/err")" "aitag search: --person 'Bob': that person is ignored"
check_eq "list --ignored: listed too, marked" \
    "$("$A" people list --ignored --json "${C[@]}" | jq -c '[.[] | [.id, .ignored // false]]')" \
    "[[1,false],[2,true],[3,false],[$new,false]]"
"$A" people unignore 2 --json "${C[@]}" >"$tmp/unignore.json"
check_eq "unignore --json" "$(cat "$tmp/unignore.json")" '{"id":2,"ignored":false}'
check_eq "unignore: listed again" "$("$A" people list --json "${C[@]}" | jq -c '[.[].id]')" "[1,2,3,$new]"
check "unignore: tagged again" sh -c \
    "'$A' show --json --catalog '$cat' '$V' | jq -e '[.tags[].name] | index(\"person:Bob\") != null' >/dev/null"
check_eq "unignore: searchable again" "$("$A" search --person Bob "${C[@]}" | wc -l)" 1
check_eq "unignore: the same faces" \
    "$(sqlite3 "$cat" "SELECT count(*) FROM faces WHERE person_id = 2 AND assigned = 'user'")" 7
"$A" people ignore 2 "${C[@]}" >/dev/null

# --- recluster keeps every user change ---------------------------------------------------
before=$(sqlite3 "$cat" "SELECT group_concat(id || ':' || ifnull(person_id, '-') || ':' || assigned)
    FROM faces WHERE assigned = 'user' OR person_id IN (SELECT id FROM people WHERE name IS NOT NULL)")
"$A" people recluster --json "${C[@]}" >"$tmp/recluster.json"
check_eq "recluster: exit 0" "$?" 0
check "recluster --json: its counts" jqe '.command == "people recluster" and .faces == 25' \
    "$tmp/recluster.json"
check_eq "recluster: named people's and user-assigned faces unchanged" \
    "$(sqlite3 "$cat" "SELECT group_concat(id || ':' || ifnull(person_id, '-') || ':' || assigned)
        FROM faces WHERE assigned = 'user' OR person_id IN (SELECT id FROM people WHERE name IS NOT NULL)")" \
    "$before"
check_eq "recluster: the names and the ignored person stay" \
    "$(sqlite3 "$cat" "SELECT group_concat(id || ':' || name || ':' || ignored) FROM people WHERE name IS NOT NULL")" \
    "1:Alice:0,2:Bob:1,3:Carol:0"
"$A" people recluster extra "${C[@]}" 2>"$tmp/err"
check_eq "recluster with an argument: exit 2" "$?" 2
check "... says the usage" grep -q "usage: aitag people recluster " "$tmp/err"

# --- forget ------------------------------------------------------------------------------
# 16-byte pieces of Carol's embeddings (mostly non-zero: a descriptor has many zeros) and a
# piece of a descriptor text from the evidence: all must be in the file before, none after.
pieces() {
    sqlite3 "$cat" "SELECT hex(embedding) FROM faces WHERE person_id = 3" | tr 'A-F' 'a-f' |
        fold -w 32 | awk '{ n = 0; for (i = 1; i <= 32; i += 8) if (substr($0, i, 8) != "00000000") n++ } n == 4' |
        awk 'NR % 7 == 1' | head -n 12
}
mapfile -t emb < <(pieces)
desc=$(sqlite3 "$cat" "SELECT substr(e.extra, instr(e.extra, '\"descriptor\"') + 300, 60) FROM evidence e
    JOIN faces f ON f.media_id = e.media_id AND f.t = e.t AND abs(f.x - e.x) < 1e-4
    WHERE f.person_id = 3 AND e.analyzer = 'face_attrs' AND e.label = 'face' LIMIT 1")
hexdump_of() { cat "$@" 2>/dev/null | od -An -v -tx1 | tr -d ' \n'; }
count_pieces() { # FILES...: how many of the embedding pieces occur in them
    local h n=0
    h=$(hexdump_of "$@")
    for p in "${emb[@]}"; do [[ $h == *"$p"* ]] && n=$((n + 1)); done
    echo "$n"
}
sqlite3 "$cat" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
check "forget: embedding pieces to look for" [ "${#emb[@]}" -ge 8 ]
check "forget: a descriptor text to look for" [ "${#desc}" -eq 60 ]
check "before forget: the pieces are in the file (one may straddle a page boundary)" \
    [ "$(count_pieces "$cat")" -ge $((${#emb[@]} - 2)) ]
check "before forget: the descriptor text is in the file" grep -q -a -F -- "$desc" "$cat"
n3=$(sqlite3 "$cat" "SELECT count(*) FROM faces WHERE person_id = 3")
"$A" people forget 3 --json "${C[@]}" >"$tmp/forget.json"
check_eq "forget: exit 0" "$?" 0
check_eq "forget --json" "$(cat "$tmp/forget.json")" "{\"id\":3,\"forgotten\":true,\"faces\":$n3}"
check_eq "forget: no piece of the embeddings in the file or the WAL" \
    "$(count_pieces "$cat" "$cat-wal")" 0
check "forget: no descriptor text in the file or the WAL" \
    sh -c "! cat '$cat' '$cat-wal' 2>/dev/null | LC_ALL=C grep -q -a -F -- '$desc'"
check_eq "forget: no free pages" "$(sqlite3 "$cat" 'PRAGMA freelist_count')" 0
check_eq "forget: the person and their faces are gone" \
    "$(sqlite3 "$cat" "SELECT (SELECT count(*) FROM people WHERE id = 3), (SELECT count(*) FROM faces WHERE person_id = 3)")" \
    "0|0"
check_eq "forget: the other people keep their embeddings in the evidence" \
    "$(sqlite3 "$cat" "SELECT count(*) FROM evidence WHERE extra LIKE '%\"descriptor\"%'")" \
    "$(sqlite3 "$cat" "SELECT count(*) FROM faces")"
check "forget: the stripped evidence keeps its other details" \
    sh -c "[ \$(sqlite3 '$cat' \"SELECT count(*) FROM evidence WHERE analyzer = 'face_attrs' AND label = 'face' AND extra LIKE '%keypoints%'\") -eq 25 ]"
check "forget: Carol's tag is gone" sh -c \
    "'$A' show --json --catalog '$cat' '$P' | jq -e '[.tags[].name | select(startswith(\"person:\"))] == []' >/dev/null"
"$A" search --person Carol "${C[@]}" >/dev/null 2>&1
check_eq "forget: Carol is unknown to search" "$?" 2
check_eq "forget: Alice untouched" "$("$A" search --person Alice "${C[@]}")" "$V"

# A crop whose file is gone: one line naming it, the other crops still written, exit code 1.
cp "$cat" "$tmp/moved.db"
sqlite3 "$tmp/moved.db" "UPDATE media SET path = '$tmp/gone.jpg' WHERE path = '$G';
    UPDATE faces SET media_id = (SELECT id FROM media WHERE path = '$V')
    WHERE id = (SELECT min(id) FROM faces WHERE person_id = $new)"
"$A" people show "$new" --crops "$tmp/crops5" --catalog "$tmp/moved.db" >/dev/null 2>"$tmp/err"
check_eq "crops of a file that is gone: exit 1" "$?" 1
check_eq "... a line per face that failed" "$(grep -c "^aitag people show: face [0-9]*: .*$tmp/gone.jpg" "$tmp/err")" 2
check_eq "... the other crop written" "$(ls "$tmp/crops5")" "face-$(sqlite3 "$cat" "SELECT min(id) FROM faces WHERE person_id = $new").jpg"

# A face the clustering gives a named person (no command involved): the next `aitag tag`
# re-derives the unchanged file without running a model, and the person's tag is there.
sqlite3 "$cat" "UPDATE faces SET person_id = 1 WHERE id = (SELECT min(id) FROM faces WHERE person_id = $new)"
check "clustering: no tag before the next run" sh -c \
    "'$A' show --json --catalog '$cat' '$G' | jq -e '[.tags[].name] | index(\"person:Alice\") == null' >/dev/null"
"$A" tag --analyzers faces,face_attrs --json --progress never "${C[@]}" "$G" >"$tmp/retag.json" 2>/dev/null
check "clustering: the next tag run re-derives the unchanged file" jqe \
    '.status == "skipped" and ([.tags[].name] | index("person:Alice") != null)' "$tmp/retag.json"

# A new picture of Alice and Bob (the video's frame at 4 s): `aitag tag` gives the faces to
# them (the engine's update) and tags the picture in the same run; Bob is ignored: his face
# goes to him, not to a new person, and gives no tag.
ffmpeg -v error -ss 4 -i "$V" -frames:v 1 "$tmp/alice.png"
"$A" tag --analyzers faces,face_attrs --quiet --progress never "${C[@]}" "$tmp/alice.png" 2>"$tmp/err"
check_eq "tag a new picture of Alice: exit 0" "$?" 0
check_eq "... her face is hers, Bob's his (left to right)" "$(sqlite3 "$cat" "SELECT group_concat(person_id)
    FROM (SELECT f.person_id FROM faces f JOIN media m ON m.id = f.media_id
          WHERE m.path = '$tmp/alice.png' ORDER BY f.x)")" "2,1"
check "... and the picture has her tag at once, not his" sh -c \
    "'$A' show --json --catalog '$cat' '$tmp/alice.png' | jq -e '[.tags[].name | select(startswith(\"person:\"))] == [\"person:Alice\"]' >/dev/null"
finish
