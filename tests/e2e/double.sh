#!/usr/bin/env bash
# double.sh - tests of the Stash double itself: the behaviours of real Stash that the plugin's
# e2e tests rely on it to reproduce (schema validation, LIKE matching, tag-name uniqueness,
# performers and their images, session expiry, faults, the paging shift, persistence, version
# gating). Needs no aitag.
. "$(dirname "$0")/lib.sh"

KEY=k3y-for-tests
jqt() { jq -e "$@" >/dev/null; } # jqt FILTER [FILE]: true when FILTER holds
quiet() { "$@" >/dev/null; }
double_start --api-key "$KEY" --session-max-age 2
check "double listens on 127.0.0.1" test "${DOUBLE_URL%:*}" = "http://127.0.0.1"

double_seed '{
  "tags": [{"name": "AI"}, {"name": "dog", "aliases": ["doggo", "hound"], "parents": ["AI"]},
           {"name": "abc"}, {"name": "ABD"}, {"name": "a%z"}, {"name": "café"}],
  "scenes": [{"title": "one", "path": "/media/a & b/one.mp4", "tags": ["dog", "user-tag"],
              "markers": [{"title": "mine", "seconds": 5, "end_seconds": 9, "primary_tag": "user-tag"}]},
             {"title": "two", "path": "/media/two.mp4"}],
  "images": [{"path": "/media/p.jpg", "tags": ["AI"], "width": 800, "height": 600},
             {"path": "/media/clip.webm", "duration": 3.5}],
  "plugins": {"aitag": {"interval": 2, "markers": true}}
}'

# ---- every document is validated against the schema
gql_raw '{ findScenes { count scenes { id nope } } }' >"$tmp/r.json"
check_eq "unknown field: HTTP (Accept */*, as libcurl)" "$(gql_status)" 400
check_eq "unknown field: error code" "$(jq -r '.errors[0].extensions.code' "$tmp/r.json")" GRAPHQL_VALIDATION_FAILED
check "unknown field: message names it" jqt '.errors[0].message | test("nope")' "$tmp/r.json"
check_eq "unknown field: data is null" "$(jq -c .data "$tmp/r.json")" null
GQL_HEADERS=('Accept: application/json')
gql_raw '{ findTags(tag_filter: {nam: {value: "x", modifier: EQUALS}}) { count } }' >/dev/null
check_eq "unknown input field: HTTP 422 with Accept: application/json" "$(gql_status)" 422
GQL_HEADERS=()
gql_raw 'mutation { sceneMarkerCreate(input: {scene_id: 1, title: "", seconds: 1, primary_tag_id: 1, end: 2}) { id } }' >/dev/null
check_eq "unknown mutation input field rejected" "$(gql_status)" 400
gql_raw '{ findScenes(filter: {direction: UP}) { count } }' >/dev/null
check_eq "unknown enum value rejected" "$(gql_status)" 400
gql_raw '{ findScenes(' >"$tmp/r.json"
check_eq "syntax error code" "$(jq -r '.errors[0].extensions.code' "$tmp/r.json")" GRAPHQL_PARSE_FAILED
gql_raw 'query Q($f: SceneFilterType) { findScenes(scene_filter: $f) { count } }' '{"f": {"tags": {"value": ["1"]}}}' >/dev/null
check_eq "variables are validated too (missing modifier)" "$(gql_status)" 400

# ---- the subset answers with Stash's names
data=$(gql '{ version { version hash build_time }
  configuration { general { apiKey } plugins(include: ["aitag"]) }
  findScenes(filter: {sort: "id", direction: ASC}) { count scenes { id title files { path }
    tags { id name } scene_markers { id title seconds end_seconds primary_tag { id name } tags { id name } } } }
  findImages(filter: {sort: "path"}) { count images { id title
    visual_files { ... on ImageFile { path width height } ... on VideoFile { path width height duration } } tags { id name } } }
  findTags(filter: {per_page: -1, sort: "id"}) { count tags { id name aliases parents { id name } ignore_auto_tag } } }')
check_eq "version" "$(jq -r .version.version <<<"$data")" v0.30.1
check_eq "apiKey from configuration" "$(jq -r .configuration.general.apiKey <<<"$data")" "$KEY"
check_eq "plugin settings" "$(jq -c '.configuration.plugins.aitag' <<<"$data")" '{"interval":2,"markers":true}'
check_eq "scene tags by name" "$(jq -c '[.findScenes.scenes[0].tags[].name]' <<<"$data")" '["dog","user-tag"]'
check_eq "scene marker" "$(jq -c '.findScenes.scenes[0].scene_markers[0] | [.title, .seconds, .end_seconds, .primary_tag.name]' <<<"$data")" '["mine",5,9,"user-tag"]'
check_eq "image visual_files union" "$(jq -c '[.findImages.images[].visual_files[0] | [.path, .width, (.duration // null)]]' <<<"$data")" \
    '[["/media/clip.webm",1920,3.5],["/media/p.jpg",800,null]]'
check_eq "tag parents" "$(jq -c '.findTags.tags[] | select(.name == "dog") | [.aliases, [.parents[].name]]' <<<"$data")" '[["doggo","hound"],["AI"]]'
check_eq "tag named only by a scene was created" "$(jq '[.findTags.tags[] | select(.name == "user-tag")] | length' <<<"$data")" 1

# ---- EQUALS is SQL LIKE: case-insensitive for ASCII, _ and % are wildcards
names() { # VALUE FIELD: sorted names of the tags whose FIELD EQUALS VALUE
    gql 'query Q($f: TagFilterType) { findTags(tag_filter: $f, filter: {per_page: -1}) { tags { name } } }' \
        "$(jq -cn --arg v "$1" --arg f "$2" '{v: $v, f: {($f): {value: $v, modifier: "EQUALS"}}}')" |
        jq -c '[.findTags.tags[].name] | sort'
}
check_eq "a_c matches abc" "$(names a_c name)" '["abc"]'
check_eq "ABC matches abc" "$(names ABC name)" '["abc"]'
check_eq "ab% matches abc and ABD" "$(names 'ab%' name)" '["ABD","abc"]'
check_eq "a%z matches only names from a to z" "$(names 'a%z' name)" '["a%z"]'
check_eq "non-ASCII is case-sensitive (SQLite LIKE)" "$(names 'CAFÉ' name)" '[]'
check_eq "aliases EQUALS" "$(names 'HOUND' aliases)" '["dog"]'

# ---- tagCreate: a name may not equal (LIKE) another tag's name or alias
create_err() {
    gql_raw 'mutation C($n: String!) { tagCreate(input: {name: $n}) { id } }' "$(jq -cn --arg n "$1" '{n: $n}')" |
        jq -r '.errors[0].message // "created"'
}
ntags=$(double_state | jq '.tags | length')
check_eq "name equal to an alias" "$(create_err Doggo)" "name 'Doggo' is used as alias for 'dog'"
check_eq "name equal to a name, other case" "$(create_err DOG)" "tag with name 'DOG' already exists"
check_eq "name LIKE-equal to a name" "$(create_err d_g)" "tag with name 'd_g' already exists"
check_eq "resolver errors come with HTTP 200" "$(gql_status)" 200
check_eq "failed creates leave no tag" "$(double_state | jq '.tags | length')" "$ntags"
check_eq "alias equal to another tag's name" \
    "$(gql_raw 'mutation { tagCreate(input: {name: "puppy", aliases: ["dog"]}) { id } }' | jq -r '.errors[0].message')" \
    "tag with name 'dog' already exists"
new=$(gql 'mutation { tagCreate(input: {name: "  cat ", parent_ids: ["1"], ignore_auto_tag: true}) { id name parents { name } ignore_auto_tag } }')
check_eq "tagCreate trims, links the parent" "$(jq -c '.tagCreate | [.name, [.parents[].name], .ignore_auto_tag]' <<<"$new")" '["cat",["AI"],true]'

# ---- tag writes: bulk ADD/REMOVE, sceneUpdate replaces, markers
cat_id=$(jq -r .tagCreate.id <<<"$new")
gql 'mutation B($ids: [ID!], $t: [ID!]) { bulkSceneUpdate(input: {ids: $ids, tag_ids: {ids: $t, mode: ADD}}) { id } }' \
    "{\"ids\": [\"1\", \"2\"], \"t\": [\"$cat_id\"]}" >/dev/null
check_eq "bulk ADD" "$(double_state | jq -c '[.scenes[].tags]')" '[["dog","user-tag","cat"],["cat"]]'
gql 'mutation { bulkSceneUpdate(input: {ids: ["1"], tag_ids: {ids: ["2"], mode: REMOVE}}) { id } }' >/dev/null
check_eq "bulk REMOVE" "$(double_state | jq -c '.scenes[0].tags')" '["user-tag","cat"]'
gql 'mutation { sceneUpdate(input: {id: "2", tag_ids: ["2"]}) { id } }' >/dev/null
check_eq "sceneUpdate tag_ids replaces" "$(double_state | jq -c '.scenes[1].tags')" '["dog"]'
gql_raw 'mutation { bulkSceneUpdate(input: {ids: ["1", "99"], tag_ids: {ids: ["2"], mode: ADD}}) { id } }' >"$tmp/r.json"
check_eq "bulk update of a missing scene fails" "$(jq -r '.errors[0].message' "$tmp/r.json")" "id 99 does not exist in scenes"
check_eq "... and changes nothing" "$(double_state | jq -c '.scenes[0].tags')" '["user-tag","cat"]'
m=$(gql 'mutation { sceneMarkerCreate(input: {scene_id: "1", title: "", seconds: 10, end_seconds: 22.5, primary_tag_id: "2", tag_ids: ["2", "1"]}) { id title seconds end_seconds primary_tag { name } tags { name } } }')
check_eq "sceneMarkerCreate" "$(jq -c '.sceneMarkerCreate | [.title, .seconds, .end_seconds, .primary_tag.name, [.tags[].name]]' <<<"$m")" '["",10,22.5,"dog",["AI"]]'
gql_raw 'mutation { sceneMarkerCreate(input: {scene_id: "1", title: "x", seconds: 10, end_seconds: 2, primary_tag_id: "2"}) { id } }' >"$tmp/r.json"
check "end before start is refused" jqt '.errors[0].message | startswith("end_seconds (2.000000) must be")' "$tmp/r.json"
mid=$(jq -r .sceneMarkerCreate.id <<<"$m")
gql "mutation { sceneMarkerDestroy(id: \"$mid\") }" >/dev/null
check_eq "sceneMarkerDestroy" "$(double_state | jq '.scenes[0].markers | length')" 1
check_eq "images: bulkImageUpdate" \
    "$(gql 'mutation { bulkImageUpdate(input: {ids: ["1"], tag_ids: {ids: ["2"], mode: ADD}}) { tags { name } } }' | jq -c '[.bulkImageUpdate[0].tags[].name]')" \
    '["AI","dog"]'

# ---- performers: Stash's name check, images as data URLs, performer_ids on items
perf_err() { # INPUT_JSON: the error message of performerCreate, or "created"
    gql_raw 'mutation C($i: PerformerCreateInput!) { performerCreate(input: $i) { id } }' "{\"i\": $1}" |
        jq -r '.errors[0].message // "created"'
}
check_eq "performerCreate" "$(perf_err '{"name": " Jane Doe ", "alias_list": ["JD"], "details": "x"}')" created
check_eq "a name LIKE-equal to another is refused" "$(perf_err '{"name": "jane_doe"}')" \
    "performer with name 'jane_doe' already exists"
check_eq "the same name with a disambiguation is not" "$(perf_err '{"name": "Jane Doe", "disambiguation": "2"}')" created
check_eq "an alias repeating the name is refused" "$(perf_err '{"name": "Kim", "alias_list": ["KIM"]}')" \
    "performer contains duplicate alias 'KIM'"
check_eq "bad base64 is refused as Stash does" "$(perf_err '{"name": "Lee", "image": "data:image/jpeg;base64,/9j/4A!Q"}')" \
    "processing image: illegal base64 data at input byte 6"
check_eq "an image as a data URL" "$(perf_err '{"name": "Lee", "image": "data:image/jpeg;base64,/9j/4AAQ"}')" created
pf=$(gql '{ findPerformers(performer_filter: {aliases: {value: "jd", modifier: EQUALS}}) { performers { id name image_path } } }')
check_eq "aliases EQUALS (LIKE)" "$(jq -c '[.findPerformers.performers[].name]' <<<"$pf")" '["Jane Doe"]'
check "no image: image_path asks for the default picture" \
    jqt '.findPerformers.performers[0].image_path | test("/performer/1/image\\?t=[0-9]+&default=true$")' <(echo "$pf")
pf=$(gql '{ findPerformers(performer_filter: {NOT: {is_missing: "image"}}) { performers { name image_path } } }')
check_eq "is_missing image" "$(jq -c '[.findPerformers.performers[].name]' <<<"$pf")" '["Lee"]'
check_eq "the image is served at image_path" \
    "$(curl -sS -H "Cookie: session=$(double_session)" "$(jq -r '.findPerformers.performers[0].image_path' <<<"$pf")" | od -An -tx1 | tr -d ' \n')" \
    ffd8ffe00010
check_eq "the image route needs auth" "$(curl -s -o /dev/null -w '%{http_code}' "$DOUBLE_URL/performer/3/image")" 401
check_eq "default=true serves the default picture" \
    "$(curl -sS -H "Cookie: session=$(double_session)" "$DOUBLE_URL/performer/3/image?default=true" | head -c 4)" '<svg'
gql 'mutation { bulkSceneUpdate(input: {ids: ["1"], performer_ids: {ids: ["1", "3"], mode: ADD}}) { id } }' >/dev/null
check_eq "performer_ids ADD" "$(double_state | jq -c '.scenes[0].performers')" '["Jane Doe","Lee"]'
gql 'mutation { bulkSceneUpdate(input: {ids: ["1"], performer_ids: {ids: ["1"], mode: REMOVE}}) { id } }' >/dev/null
check_eq "performer_ids REMOVE" "$(double_state | jq -c '.scenes[0].performers')" '["Lee"]'
gql 'mutation { sceneUpdate(input: {id: "1", performer_ids: []}) { id } }' >/dev/null
check_eq "sceneUpdate performer_ids replaces" "$(double_state | jq -c '.scenes[0].performers')" '[]'
check_eq "an unknown performer id fails" \
    "$(gql_raw 'mutation { bulkImageUpdate(input: {ids: ["1"], performer_ids: {ids: ["99"], mode: ADD}}) { id } }' | jq -r '.errors[0].message')" \
    "FOREIGN KEY constraint failed"
gql 'mutation { performerUpdate(input: {id: "1", image: "data:image/jpeg;base64,/9j/4AAQ"}) { id } }' >/dev/null
check_eq "performerUpdate leaves out what it is not given" \
    "$(double_state | jq -c '.performers[0] | [.name, .alias_list, .details, (.image != null)]')" '["Jane Doe",["JD"],"x",true]'

# ---- auth: the cookie expires after --session-max-age, the ApiKey keeps working
status_with() { # HEADER: HTTP status of a version query sent with only that header
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "$1" \
        --data-binary '{"query":"{ version { version } }"}' "$DOUBLE_URL/graphql"
}
cookie=$(double_session)
check_eq "fresh cookie accepted" "$(status_with "Cookie: session=$cookie")" 200
check "cookie answers refresh the session (Set-Cookie)" bash -c "curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -H 'Cookie: session=$cookie' --data-binary '{\"query\":\"{ version { version } }\"}' '$DOUBLE_URL/graphql' | grep -qi '^set-cookie: session='"
check_eq "no credentials: 401" "$(status_with "X-None: 1")" 401
check_eq "forged cookie: 401" "$(status_with "Cookie: session=${cookie}x")" 401
check_eq "backdated cookie (older than max age): 401" "$(status_with "Cookie: session=$(double_session 3)")" 401
sleep 3
check_eq "cookie after --session-max-age: 401" "$(status_with "Cookie: session=$cookie")" 401
check_eq "ApiKey still works" "$(status_with "ApiKey: $KEY")" 200
check_eq "wrong ApiKey: 401" "$(status_with "ApiKey: nope")" 401
check_eq "the log tells expired cookie from ApiKey" \
    "$(double_log | jq -c '[.[-3:][] | [.auth, .status]]')" '[["cookie-expired",401],["apikey",200],["apikey-invalid",401]]'

# ---- faults: 5xx then recovery, dropped connections, slow answers, lost answers
double_fault '{"status": 503, "count": 2}'
codes=""
for i in 1 2 3; do gql_raw '{ version { version } }' >/dev/null; codes="$codes $(gql_status)"; done
check_eq "503 twice, then recovered" "$codes" " 503 503 200"
double_fault '{"drop": true}'
rc=0; curl -s -o /dev/null -H 'Content-Type: application/json' -H "ApiKey: $KEY" \
    --data-binary '{"query":"{ version { version } }"}' "$DOUBLE_URL/graphql" || rc=$?
check_eq "dropped connection: curl sees an empty reply" "$rc" 52
double_fault '{"delay_ms": 700}'
t0=$(date +%s%N); gql '{ version { version } }' >/dev/null; t1=$(date +%s%N)
check "slow answer takes >= 700 ms" test $(((t1 - t0) / 1000000)) -ge 700
double_fault '{"status": 500, "match": "tagCreate", "apply": true}'
gql '{ version { version } }' >/dev/null
check_eq "match: other operations pass" "$(gql_status)" 200
gql_raw 'mutation { tagCreate(input: {name: "lost-answer"}) { id } }' >/dev/null
check_eq "apply: the client sees 500" "$(gql_status)" 500
check_eq "apply: ... but the tag exists" "$(double_state | jq '[.tags[] | select(.name == "lost-answer")] | length')" 1
double_fault '{"status": 502, "after": 1}'
gql '{ version { version } }' >/dev/null
gql_raw '{ version { version } }' >/dev/null
check_eq "after: the second request fails" "$(gql_status)" 502
log=$(double_log)
check_eq "log records faults" "$(jq -c '[.[] | select(.fault != null) | .fault] | .[-4:]' <<<"$log")" \
    '["drop","delay 700ms","500","502"]'
check "log names mutations by root field" jqt 'any(.[]; .fields == ["tagCreate"] and .operation == "tagCreate")' <<<"$log"

# ---- the paging shift: the filter is re-evaluated on each call
seed='{"tags": [{"name": "AI_TagMe"}], "scenes": ['
for i in 1 2 3 4 5 6; do seed="$seed{\"title\": \"s$i\", \"path\": \"/m/$i.mp4\", \"tags\": [\"AI_TagMe\"]},"; done
double_seed "${seed%,}]}"
page() { # N: ids of page N (2 per page) of scenes tagged AI_TagMe, by id
    gql "query { findScenes(scene_filter: {tags: {value: [\"1\"], modifier: INCLUDES}}, filter: {page: $1, per_page: 2, sort: \"id\", direction: ASC}) { count scenes { id } } }" |
        jq -c '[.findScenes.count, [.findScenes.scenes[].id]]'
}
check_eq "page 1" "$(page 1)" '[6,["1","2"]]'
gql 'mutation { bulkSceneUpdate(input: {ids: ["1", "2"], tag_ids: {ids: ["1"], mode: REMOVE}}) { id } }' >/dev/null
check_eq "page 2 after removing the tag from page 1 skips 3 and 4" "$(page 2)" '[4,["5","6"]]'
check_eq "EXCLUDES" "$(gql '{ findScenes(scene_filter: {tags: {value: ["1"], modifier: EXCLUDES}}, filter: {sort: "id"}) { scenes { id } } }' | jq -c '[.findScenes.scenes[].id]')" '["1","2"]'
check_eq "IS_NULL" "$(gql '{ findScenes(scene_filter: {tags: {modifier: IS_NULL}}) { count } }' | jq .findScenes.count)" 2
check_eq "id GREATER_THAN" "$(gql '{ findScenes(scene_filter: {id: {value: 4, modifier: GREATER_THAN}}, filter: {sort: "id"}) { scenes { id } } }' | jq -c '[.findScenes.scenes[].id]')" '["5","6"]'

# ---- state survives a restart (clean, and SIGKILL)
gql 'mutation { tagCreate(input: {name: "kept"}) { id } }' >/dev/null
# From here on the default session age (3600 s): with the 2 s of the auth checks above, a
# restart slower than 2 s on a loaded machine would expire the cookie that must survive it.
double_restart --api-key "$KEY"
check_eq "state after restart" "$(gql '{ findTags(tag_filter: {name: {value: "kept", modifier: EQUALS}}) { count } }' | jq .findTags.count)" 1
gql 'mutation { tagCreate(input: {name: "kept too"}) { id } }' >/dev/null
double_kill
double_restart
check_eq "state after SIGKILL" "$(gql '{ findTags(tag_filter: {name: {value: "kept%", modifier: EQUALS}}) { count } }' | jq .findTags.count)" 2
check_eq "same port after restart" "$DOUBLE_URL" "http://127.0.0.1:$DOUBLE_PORT"
check_eq "ids keep counting after restart" "$(gql 'mutation { tagCreate(input: {name: "next"}) { id } }' | jq -r .tagCreate.id)" 4
cookie=$(double_session)
double_restart
check_eq "a session cookie survives a restart" "$(status_with "Cookie: session=$cookie")" 200

# ---- version gating: end_seconds does not exist before v0.28
double_restart --api-key "$KEY" --version v0.27.2
check_eq "old version reported" "$(gql '{ version { version } }' | jq -r .version.version)" v0.27.2
gql_raw 'mutation { sceneMarkerCreate(input: {scene_id: "3", title: "t", seconds: 1, end_seconds: 2, primary_tag_id: "1"}) { id } }' >"$tmp/r.json"
check_eq "v0.27.2 rejects end_seconds in input" "$(gql_status)" 400
check "... naming the field" jqt '.errors[0].message | test("end_seconds")' "$tmp/r.json"
gql_raw '{ findSceneMarkers { scene_markers { end_seconds } } }' >/dev/null
check_eq "v0.27.2 has no SceneMarker.end_seconds" "$(gql_status)" 400
check "v0.27.2 accepts a marker without end_seconds" \
    quiet gql 'mutation { sceneMarkerCreate(input: {scene_id: "3", title: "t", seconds: 1, primary_tag_id: "1"}) { id seconds } }'
double_restart --api-key "$KEY"
check_eq "v0.30.1 reads end_seconds back (null)" \
    "$(gql '{ findSceneMarkers(scene_marker_filter: {scenes: {value: ["3"], modifier: INCLUDES}}) { scene_markers { end_seconds } } }' | jq -c .findSceneMarkers.scene_markers)" \
    '[{"end_seconds":null}]'

# ---- the plugin harness writes what Stash writes
plugin_stdin '{"mode": "queued", "q": "<a&b>"}' >"$tmp/in.json"
check "plugin stdin: server_connection as Stash marshals it" jqt --argjson p "$DOUBLE_PORT" \
    '.server_connection | .Scheme == "http" and .Host == "0.0.0.0" and .Port == $p and .SessionCookie.Name == "session"
     and (.SessionCookie.Value | length > 20) and (.PluginDir | endswith("/plugin")) and (.Dir | length > 0)' "$tmp/in.json"
check "plugin stdin: args passed through" jqt '.args == {"mode": "queued", "q": "<a&b>"}' "$tmp/in.json"
check "plugin stdin: HTML characters escaped like Go" grep -q '\\u003ca\\u0026b\\u003e' "$tmp/in.json"
check_eq "plugin stdin: the cookie is a live session" \
    "$(status_with "Cookie: session=$(jq -r .server_connection.SessionCookie.Value "$tmp/in.json")")" 200
PLUGIN_EXEC=(cat)
run_plugin '{"mode": "all"}'
check_eq "run_plugin feeds the stdin and captures stdout" "$(jq -c .args "$tmp/plugin.out")" '{"mode":"all"}'

finish
