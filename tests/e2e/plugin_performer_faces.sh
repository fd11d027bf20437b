#!/usr/bin/env bash
# plugin_performer_faces.sh - performers a user already has in Stash are recognised before any
# clustering, with the plugin run as Stash runs it against the Stash double on real faces (the
# identity fixtures of tools/make_faceid_fixtures.sh: other photos of one real face):
#   a performer's image becomes the reference face of a person of that name, linked to the
#   performer, and the faces of that real person in the tagged images join that person, who is
#   then added to exactly those images (no performer created, nothing on it changed); an image
#   without a face makes no person; a re-run fetches and changes nothing; a performer added
#   later whose face the library had already grouped gives that person its name (no second
#   person) and is added to its images; a performer deleted from Stash loses its reference.
source "$(dirname "$0")/lib.sh"

PREFIX=/media/stash
CATALOG="$tmp/plugin/data/catalog.db"
src=$(cd "$(dirname "$0")/../.." && pwd)
fx=$AITAG_FIXTURES_DIR/faceid
if ! [ -f "$fx/.stamp" ] || ! "$src/tools/make_faceid_fixtures.sh" --check "$fx" 2>/dev/null; then
    fx=$tmp/faceid
    "$src/tools/make_faceid_fixtures.sh" "$fx" >/dev/null || { fail "make_faceid_fixtures.sh failed"; finish; exit 1; }
fi
b64() { base64 -w0 "$fx/images/$1"; }
ffmpeg -v error -f lavfi -i color=c=0x406080:s=64x64 -frames:v 1 "$tmp/plain.jpg" || exit 1

# s3a and s3b are two real people of sample3.jpg; the items are other photos of them.
S3A=(s3a_dark.jpg s3a_blur.jpg s3a_jpeg.jpg)
S3B=(s3b_dark.jpg s3b_jpeg.jpg s3b_noise.jpg)
double_start || exit 1
seed=$(jq -cn --arg p "$PREFIX/images" --arg dana "$(b64 s3a_wide.jpg)" \
    --arg zed "$(b64 s1a_wide.jpg)" --arg plain "$(base64 -w0 "$tmp/plain.jpg")" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   performers: [{name: "Dana Ref", details: "entered by the user", image: $dana},
                {name: "Zed Other", image: $zed},
                {name: "Plain Image", image: $plain},
                {name: "No Image"}],
   images: ([$ARGS.positional[] | {path: ($p + "/" + .), tags: ["AI_TagMe"]}])}' \
    --args "${S3A[@]}" "${S3B[@]}")
seed=$(jq -c --arg p "$PREFIX" --arg f "$fx" \
    '.plugins = {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "faces,face_attrs"}}' <<<"$seed")
double_seed "$seed" || exit 1

sql() { sqlite3 "$CATALOG" "$1"; }
pi() { jq -c ".output.people.performer_images.$1" "$tmp/plugin.out"; }
items_with() { # NAME: the files (names only) of the images carrying performer NAME
    double_state | jq -c --arg n "$1" '[.images[] | select(.performers | index($n)) | .path | sub(".*/"; "")] | sort'
}
sorted() { printf '%s\n' "$@" | jq -R . | jq -sc sort; }
mutations() { double_log | jq '[.[] | select(.fields[0] | test("Create|Update|Destroy"))] | length'; }
person_of() { sql "SELECT id FROM people WHERE name = '$1'"; }
# The distinct people of the faces of FILES
people_of_files() {
    local list
    list=$(printf "'%s/images/%s'," "$fx" "$@")
    sql "SELECT count(DISTINCT f.person_id) || ':' || ifnull(min(f.person_id), 0) FROM faces f JOIN media m ON m.id = f.media_id WHERE m.path IN (${list%,})"
}

check "the tagging run succeeds" run_plugin '{"mode": "queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check_eq "three performers have an image" "$(pi performers)" 3
check_eq "... all three embedded" "$(pi embedded)" 3
check_eq "... two became people" "$(pi created)" 2
check_eq "... the plain image has no face" "$(pi no_face)" 1
check_eq "no performer was created" "$(double_state | jq '.performers | length')" 4
dana=$(person_of "Dana Ref")
check "a person named as the performer" test -n "$dana"
check_eq "... linked to the performer" \
    "$(sql "SELECT performer_id FROM stash_performers WHERE person_id = $dana")" \
    "$(double_state | jq -r '.performers[] | select(.name == "Dana Ref") | .id')"
check_eq "... from Stash" "$(sql "SELECT origin FROM people WHERE id = $dana")" stash
check_eq "every face of her photos is that person" "$(people_of_files "${S3A[@]}")" "1:$dana"
check_eq "... and no other face" "$(sql "SELECT count(*) FROM faces WHERE person_id = $dana")" 3
check_eq "the performer is on exactly her images" "$(items_with "Dana Ref")" "$(sorted "${S3A[@]}")"
check_eq "the performer without faces in the library is on none" "$(items_with "Zed Other")" "[]"
check_eq "the performer's details are the user's" \
    "$(double_state | jq -r '.performers[] | select(.name == "Dana Ref") | .details')" \
    "entered by the user"
check_eq "the plain image made nobody" "$(sql "SELECT count(*) FROM people WHERE name = 'Plain Image'")" 0
check_eq "the other real person is a person of their own, unnamed" \
    "$(people_of_files "${S3B[@]}" | cut -d: -f1)" 1

# ---- a re-run fetches nothing and changes nothing
people_before=$(sql "SELECT count(*) FROM people")
double_log_clear
check "a second run succeeds" run_plugin '{"mode": "people"}'
check_eq "... every image unchanged" "$(pi unchanged)" 3
check_eq "... nothing embedded" "$(pi embedded)" 0
check_eq "... no write to Stash" "$(mutations)" 0
check_eq "... no new person" "$(sql "SELECT count(*) FROM people")" "$people_before"

# ---- a performer added later whose face the library grouped already
bea_before=$(people_of_files "${S3B[@]}" | cut -d: -f2)
people_before=$(sql "SELECT count(*) FROM people")
gql 'mutation C($i: PerformerCreateInput!) { performerCreate(input: $i) { id } }' \
    "$(jq -cn --arg img "data:image/jpeg;base64,$(b64 s3b_wide.jpg)" '{i: {name: "Bea Later", image: $img}}')" >/dev/null
check "the people task succeeds" run_plugin '{"mode": "people"}'
check_eq "... the new performer's face recognised" "$(pi adopted)" 1
check_eq "the person the library had found takes the name" "$(person_of "Bea Later")" "$bea_before"
check_eq "... no second person" "$(sql "SELECT count(*) FROM people")" "$people_before"
check_eq "... and the performer is on their images" "$(items_with "Bea Later")" "$(sorted "${S3B[@]}")"
check_eq "... no performer created" "$(double_state | jq '.performers | length')" 5

# ---- a performer deleted from Stash loses its reference face; the person stays
zed_id=$(double_state | jq -r '.performers[] | select(.name == "Zed Other") | .id')
gql 'mutation D($id: ID!) { performerDestroy(input: {id: $id}) }' "{\"id\": \"$zed_id\"}" >/dev/null
check "a run after the delete succeeds" run_plugin '{"mode": "people"}'
check_eq "... one reference dropped" "$(pi dropped)" 1
check_eq "... no reference of it left" "$(sql "SELECT count(*) FROM person_refs WHERE ref = '$zed_id'")" 0

finish
