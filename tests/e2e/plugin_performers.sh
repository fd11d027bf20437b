#!/usr/bin/env bash
# plugin_performers.sh - named people become Stash performers, with the plugin run as Stash runs
# it against the Stash double, on a catalog made by a real tagging run (people and their faces are
# written into it with sqlite3, from the faces the tagging run found, as the people engine and
# `aitag people name` would):
#   a tagging run without createPerformers creates nothing but uses a performer Stash already
#   has under the name (its details and image untouched); the "Sync people to performers" task
#   creates one performer per named person with the best face crop as its image and adds it to
#   exactly the scenes and images the person appears in; ignored and unnamed people are left
#   out; a re-run creates and adds nothing; a performer the user took off a scene is not added
#   back; a SIGKILL between performerCreate and recording the link, or between adding the
#   performer to an item and recording that, is completed by the next run without a second
#   performer or a second add.
source "$(dirname "$0")/lib.sh"

F=$AITAG_FIXTURES_DIR
PREFIX=/media/stash # what "Stash in Docker" sees; mapped to the fixtures folder
CATALOG="$tmp/plugin/data/catalog.db"

for f in videos/mixed_480p_mjpeg.avi videos/rotated_720p_h264.mp4 images/portrait_1face.gif \
    images/pair_2faces.tiff; do
    [ -f "$F/$f" ] || { echo "e2e: missing fixture $F/$f (make fixtures)" >&2; echo "0 passed, 1 failed"; exit 1; }
done

# The image the user gave Bob's performer in Stash.
ffmpeg -v error -f lavfi -i color=c=red:s=32x48 -frames:v 1 "$tmp/bob.jpg" || exit 1
BOB_IMAGE=$(base64 -w0 "$tmp/bob.jpg")

double_start || exit 1
seed=$(jq -cn --arg p "$PREFIX" --arg f "$F" --arg img "$BOB_IMAGE" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   performers: [{name: "bob example", aliases: ["Bobby"], details: "entered by the user",
                 image: $img}],
   scenes: [{path: ($p + "/videos/mixed_480p_mjpeg.avi"), tags: ["AI_TagMe"]},
            {path: ($p + "/videos/rotated_720p_h264.mp4"), tags: ["AI_TagMe"]}],
   images: [{path: ($p + "/images/portrait_1face.gif"), tags: ["AI_TagMe"]},
            {path: ($p + "/images/pair_2faces.tiff"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "faces"}}}')
double_seed "$seed" || exit 1

people() { jq -c ".output.people.$1" "$tmp/plugin.out"; }
performer_names() { double_state | jq -c '[.performers[].name] | sort'; }
# Paths (without the prefix) of the scenes or images carrying performer NAME.
items_of() { # KIND NAME
    double_state | jq -c --arg k "$1" --arg n "$2" --arg p "$PREFIX" \
        '[.[$k][] | select(.performers | index($n)) | .path | sub("^" + $p; "")] | sort'
}
mutations() { double_log | jq '[.[] | select(.fields[0] | test("Create|Update|Destroy"))] | length'; }
sql() { sqlite3 "$CATALOG" "$1"; }
# Runs the people task and SIGKILLs it while the double holds its first request to FIELD (a
# root field), which the double then completes: the write lands, the plugin never learns it.
kill_during() { # FIELD
    double_log_clear
    double_fault "{\"delay_ms\": 2500, \"match\": \"$1\"}"
    run_plugin_bg '{"mode": "people"}'
    for _ in $(seq 200); do
        double_log | jq -e --arg f "$1" 'any(.[]; .fields[0] == $f)' >/dev/null && break
        sleep 0.05
    done
    kill -KILL "$PLUGIN_PID" 2>/dev/null
    plugin_wait 2>/dev/null
}
wait_for() { # WANT COMMAND...: up to 5 s until COMMAND prints WANT
    local want=$1 i
    shift
    for i in $(seq 100); do
        [ "$("$@")" = "$want" ] && return 0
        sleep 0.05
    done
    return 1
}

# ---- a tagging run makes the catalog; nobody is named yet

check "the tagging run succeeds" run_plugin '{"mode": "queue"}'
check_eq "no named people yet" "$(people named)" 0
check "the catalog has faces of the fixtures" \
    test "$(sql "SELECT count(DISTINCT media_id) FROM evidence WHERE analyzer = 'faces'")" -ge 4

# People as the engine and `aitag people name` leave them: faces of one file per person, boxes
# and times from the faces the run found.
faces_of() { # PERSON_ID FILE_SUFFIX
    sql "INSERT INTO faces(media_id, t, x, y, w, h, score, quality, model, embedding, person_id,
                           assigned)
         SELECT e.media_id, e.t, e.x, e.y, e.w, e.h, e.confidence, e.confidence, 'test',
                zeroblob(16), $1, 'user'
         FROM evidence e JOIN media m ON m.id = e.media_id
         WHERE e.analyzer = 'faces' AND m.path LIKE '%/$2'"
}
sql "INSERT INTO people(id, name, origin) VALUES (1, 'Alice Example', 'user'),
       (2, 'Bob Example', 'user'), (3, 'Carol Ignored', 'user'), (4, NULL, 'cluster');
     UPDATE people SET ignored = 1 WHERE id = 3;"
faces_of 1 mixed_480p_mjpeg.avi
faces_of 1 portrait_1face.gif
faces_of 2 rotated_720p_h264.mp4
faces_of 3 pair_2faces.tiff
faces_of 4 pair_2faces.tiff

# ---- a tagging run without createPerformers: existing performers only

check "a tagging run syncs people" run_plugin '{"mode": "queue"}'
check_eq "two named, non-ignored people" "$(people named)" 2
check_eq "Bob is found by name (any case)" "$(people found)" 1
check_eq "Alice is not created without the setting" "$(people not_created)" 1
check_eq "nobody is created" "$(people created)" 0
check_eq "no performer created" "$(performer_names)" '["bob example"]'
check_eq "Bob is on his scene" "$(items_of scenes "bob example")" '["/videos/rotated_720p_h264.mp4"]'
check_eq "Bob's details are the user's" \
    "$(double_state | jq -r '.performers[0].details')" "entered by the user"
check_eq "Bob's image is the user's" "$(double_state | jq -r '.performers[0].image')" "$BOB_IMAGE"
check_eq "Bob's name is the user's" "$(double_state | jq -r '.performers[0].name')" "bob example"

# ---- the task: creates Alice, with her face as the image

check "the people task succeeds" run_plugin '{"mode": "people"}'
check_eq "the task creates Alice" "$(people created)" 1
check_eq "with an image" "$(people created_without_image)" 0
check_eq "one performer per named person" "$(performer_names)" '["Alice Example","bob example"]'
check_eq "Alice is on her scene" "$(items_of scenes "Alice Example")" '["/videos/mixed_480p_mjpeg.avi"]'
check_eq "Alice is on her image" "$(items_of images "Alice Example")" '["/images/portrait_1face.gif"]'
check_eq "Bob stays on his scene only" "$(items_of scenes "bob example")" '["/videos/rotated_720p_h264.mp4"]'
check_eq "nobody on the ignored and unnamed people's image" "$(items_of images "Carol Ignored")" '[]'
check_eq "no performer for ignored or unnamed people" \
    "$(double_state | jq '[.performers[] | select(.name == "Carol Ignored")] | length')" 0
alice=$(double_state | jq -r '.performers[] | select(.name == "Alice Example") | .id')
image_path=$(gql "{ findPerformer(id: \"$alice\") { image_path } }" | jq -r .findPerformer.image_path)
check "Alice's image_path is not Stash's default picture" \
    test -n "$image_path" -a "${image_path#*default=true}" = "$image_path"
curl -sS -o "$tmp/alice.img" -H "Cookie: session=$(double_session)" "$image_path"
check_eq "Alice's image is a JPEG" "$(head -c 3 "$tmp/alice.img" | od -An -tx1 | tr -d ' ')" ffd8ff
size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 \
    "$tmp/alice.img" 2>/dev/null)
check "Alice's image is a face crop, smaller than the frame ($size)" \
    test -n "$size" -a "${size%,*}" -lt 480 -a "${size%,*}" -ge 16
check_eq "the link is recorded as created by aitag" \
    "$(sql "SELECT performer_id, created FROM stash_performers WHERE person_id = 1")" "$alice|1"

# ---- a re-run creates and adds nothing

double_log_clear
check "the people task runs again" run_plugin '{"mode": "people"}'
check_eq "nothing created on re-run" "$(people created)" 0
check_eq "nothing added on re-run" "$(people added)" 0
check_eq "no write to Stash on re-run" "$(mutations)" 0
check_eq "still one performer per person" "$(performer_names)" '["Alice Example","bob example"]'

# ---- the user takes Alice off her scene: she is not added back

scene=$(double_state | jq -r --arg p "$PREFIX/videos/mixed_480p_mjpeg.avi" '.scenes[] | select(.path == $p) | .id')
gql 'mutation($i: SceneUpdateInput!) { sceneUpdate(input: $i) { id } }' \
    "{\"i\": {\"id\": \"$scene\", \"performer_ids\": []}}" >/dev/null || fail "sceneUpdate"
check "the people task runs after the user's change" run_plugin '{"mode": "people"}'
check_eq "the removal is noticed" "$(people taken_off)" 1
check_eq "Alice is not added back" "$(items_of scenes "Alice Example")" '[]'
check_eq "Alice stays on her image" "$(items_of images "Alice Example")" '["/images/portrait_1face.gif"]'
double_log_clear
check "and again" run_plugin '{"mode": "queue"}'
check_eq "the removal is remembered" "$(people kept_off)" 1
check_eq "still not added back" "$(items_of scenes "Alice Example")" '[]'
check_eq "no write to Stash" "$(mutations)" 0

# ---- SIGKILL between performerCreate and recording the link

sql "INSERT INTO people(id, name, origin) VALUES (5, 'Dana Killed', 'user');"
faces_of 5 pair_2faces.tiff
kill_during performerCreate
dana_count() { double_state | jq '[.performers[] | select(.name == "Dana Killed")] | length'; }
wait_for 1 dana_count # the double finishes the create the killed plugin sent
check_eq "the create landed after the kill" \
    "$(double_state | jq '[.performers[] | select(.name == "Dana Killed")] | length')" 1
check_eq "the link was not recorded" "$(sql "SELECT count(*) FROM stash_performers WHERE person_id = 5")" 0
check "the people task runs after the kill" run_plugin '{"mode": "people"}'
check_eq "no second performer" \
    "$(double_state | jq '[.performers[] | select(.name == "Dana Killed")] | length')" 1
check_eq "the performer is found by name" "$(people found)" 1
check_eq "nothing created" "$(people created)" 0
check_eq "the link is recorded now" "$(sql "SELECT count(*) FROM stash_performers WHERE person_id = 5")" 1
check_eq "Dana is on her image" "$(items_of images "Dana Killed")" '["/images/pair_2faces.tiff"]'
check_eq "three performers in all" "$(performer_names)" '["Alice Example","Dana Killed","bob example"]'

# ---- SIGKILL between adding a performer to an item and recording it

sql "INSERT INTO people(id, name, origin) VALUES (6, 'Eve Interrupted', 'user');"
faces_of 6 portrait_1face.gif
kill_during bulkImageUpdate
wait_for '["/images/portrait_1face.gif"]' items_of images "Eve Interrupted" # the add lands
check_eq "the add landed after the kill" "$(items_of images "Eve Interrupted")" '["/images/portrait_1face.gif"]'
check_eq "the add was not recorded" \
    "$(sql "SELECT count(*) FROM stash_person_items WHERE person_id = 6")" 0
double_log_clear
check "the people task runs after the second kill" run_plugin '{"mode": "people"}'
check_eq "nothing added twice" "$(people added)" 0
check_eq "no performer created twice" \
    "$(double_state | jq '[.performers[] | select(.name == "Eve Interrupted")] | length')" 1
check_eq "no write to Stash" "$(mutations)" 0
check_eq "the add is recorded now" \
    "$(sql "SELECT state FROM stash_person_items WHERE person_id = 6")" added

finish
