#!/usr/bin/env bash
# People on real media: the sample photos (every face a different person) and videos made
# from two of them. The same person is found in a photo and in the video made from it, and
# no person holds faces of two photos; faces rows match the face evidence one for one; a
# SIGKILL during `aitag tag` and a re-run leave no duplicate face and the same people as an
# uninterrupted run; a forced re-tag keeps face and person ids; a re-cluster keeps person ids
# and the user's name, assignment and reject.
source "$(dirname "$0")/lib.sh"
photos=${AITAG_SOURCE_DIR:?}/deps/photos
media=$tmp/media
mkdir -p "$media"
cp "$photos"/sample*.jpg "$media/"
ffmpeg -v error -loop 1 -i "$photos/sample3.jpg" -t 4 -r 25 \
    -vf "scale=1280:-2,format=yuv420p" -c:v libx264 -crf 26 "$media/v3.mp4"
ffmpeg -v error -f lavfi -i color=black:s=1280x720:r=25 -loop 1 -i "$photos/sample6.jpg" -t 4 \
    -filter_complex "[1]scale=960:-2[p];[0][p]overlay=x='30*t':y=0:shortest=1,format=yuv420p" \
    -c:v libx264 -crf 26 "$media/v6.mp4"
args=(--analyzers faces,face_attrs --interval 1 --quiet)
tag() { "$AITAG_BIN" tag --catalog "$1" "${args[@]}" "${@:2}" "$media"; }
q() { sqlite3 "$1" "$2"; }

ref=$tmp/ref.db
tag "$ref" 2>"$tmp/ref.err"
check_eq "reference run exit code" "$?" 0
check "the run reports its people" grep -q "^aitag tag: people: " "$tmp/ref.err"
faces=$(q "$ref" "SELECT count(*) FROM faces")
check "faces stored ($faces)" [ "$faces" -gt 22 ]
check_eq "one faces row per face_attrs face" "$faces" \
    "$(q "$ref" "SELECT count(*) FROM evidence WHERE analyzer = 'face_attrs' AND label = 'face'")"
check_eq "embeddings are 1024 float32" "$(q "$ref" "SELECT DISTINCT length(embedding) FROM faces")" 4096
# the same person in sample3.jpg and in v3.mp4 (and sample6.jpg, v6.mp4)
for n in 3 6; do
    both=$(q "$ref" "SELECT count(DISTINCT f.person_id) FROM faces f JOIN media m ON m.id = f.media_id
        WHERE m.path LIKE '%/sample$n.jpg' AND f.person_id IN (SELECT f2.person_id FROM faces f2
        JOIN media m2 ON m2.id = f2.media_id WHERE m2.path LIKE '%/v$n.mp4')")
    check "people of sample$n.jpg found in v$n.mp4 ($both)" [ "$both" -ge 3 ]
done
check_eq "no person holds faces of two photos" "$(q "$ref" "SELECT count(*) FROM (SELECT
    f.person_id FROM faces f JOIN media m ON m.id = f.media_id WHERE m.kind = 'image' AND
    f.person_id IS NOT NULL GROUP BY f.person_id HAVING count(DISTINCT f.media_id) > 1)")" 0
check_eq "video faces of one photo face share a track" "$(q "$ref" "SELECT count(*) FROM (SELECT
    f.track FROM faces f JOIN media m ON m.id = f.media_id WHERE m.kind = 'video' GROUP BY
    f.track HAVING count(DISTINCT f.person_id) > 1)")" 0
# the faces of sample3 (3) and sample6 (4) are seen twice (photo and video): 7 people; every
# other face is seen once, too little to make a person (min_faces 2)
people=$(q "$ref" "SELECT count(DISTINCT person_id) FROM faces")
check_eq "people found" "$people" 7

# SIGKILL once some faces are stored, then a re-run
db=$tmp/kill.db
"$AITAG_BIN" tag --catalog "$db" "${args[@]}" "$media" 2>/dev/null & # the process itself
pid=$!
for _ in $(seq 1 600); do
    n=$(q "$db" "SELECT count(*) FROM faces" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 1 ] && break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
stored=$(q "$db" "SELECT count(*) FROM media")
check "the kill left a partial catalog ($stored items)" [ "$stored" -lt 8 ]
check_eq "faces match evidence after the kill" "$(q "$db" "SELECT count(*) FROM faces")" \
    "$(q "$db" "SELECT count(*) FROM evidence WHERE analyzer = 'face_attrs' AND label = 'face'")"
tag "$db" 2>/dev/null
check_eq "resumed run exit code" "$?" 0
check_eq "no face twice" "$(q "$db" "SELECT count(*) FROM (SELECT media_id, t, x, y, count(*) c
    FROM faces GROUP BY 1, 2, 3, 4 HAVING c > 1)")" 0
check_eq "as many faces as the uninterrupted run" "$(q "$db" "SELECT count(*) FROM faces")" "$faces"
check_eq "as many people as the uninterrupted run" \
    "$(q "$db" "SELECT count(DISTINCT person_id) FROM faces")" "$people"

# a forced re-tag keeps every face row and person
before=$(q "$ref" "SELECT group_concat(id || ':' || coalesce(person_id, 0)) FROM faces")
tag "$ref" --force 2>/dev/null
check_eq "forced re-tag exit code" "$?" 0
check_eq "forced re-tag keeps face ids and people" \
    "$(q "$ref" "SELECT group_concat(id || ':' || coalesce(person_id, 0)) FROM faces")" "$before"

# the user names one person, takes a face out of another and puts it in a person of their own;
# a re-cluster keeps every id and those changes
ann=$(q "$ref" "SELECT person_id FROM faces WHERE person_id IS NOT NULL ORDER BY id LIMIT 1")
q "$ref" "UPDATE people SET name = 'Ann' WHERE id = $ann"
rej=$(q "$ref" "SELECT id FROM faces WHERE person_id IS NOT NULL AND person_id != $ann ORDER BY id LIMIT 1")
rej_from=$(q "$ref" "SELECT person_id FROM faces WHERE id = $rej")
q "$ref" "INSERT INTO face_rejects VALUES($rej, $rej_from)"
mine=$(q "$ref" "INSERT INTO people(origin) VALUES('user') RETURNING id")
q "$ref" "UPDATE faces SET person_id = $mine, assigned = 'user' WHERE id = $rej"
before=$(q "$ref" "SELECT group_concat(id || ':' || coalesce(person_id, 0)) FROM faces")
"$AITAG_BIN" people recluster --catalog "$ref" --json >"$tmp/rc.json" 2>"$tmp/rc.err"
check_eq "recluster exit code" "$?" 0
check "recluster reports in JSON" jq -e '.command == "people recluster" and .faces > 0' "$tmp/rc.json"
check_eq "recluster keeps every person id" \
    "$(q "$ref" "SELECT group_concat(id || ':' || coalesce(person_id, 0)) FROM faces")" "$before"
check_eq "the named person stays" "$(q "$ref" "SELECT name FROM people WHERE id = $ann")" Ann
check_eq "the user's face stays theirs" \
    "$(q "$ref" "SELECT person_id || assigned FROM faces WHERE id = $rej")" "${mine}user"
# with the user's assignment undone by hand, the reject still keeps the face out
q "$ref" "UPDATE faces SET person_id = NULL, assigned = 'none' WHERE id = $rej"
"$AITAG_BIN" people recluster --catalog "$ref" 2>/dev/null
check "a rejected face never goes back" [ "$(q "$ref" "SELECT coalesce(person_id, 0) FROM faces WHERE id = $rej")" != "$rej_from" ]
"$AITAG_BIN" people recluster --catalog "$ref" --max-distance 5 2>"$tmp/bad.err"
check_eq "a bad --max-distance is a usage error" "$?" 2
"$AITAG_BIN" people recluster --catalog "$tmp/none.db" 2>/dev/null
check_eq "no catalog: nothing to do" "$?" 0
finish
