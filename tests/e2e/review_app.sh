#!/usr/bin/env bash
# ctest-label: slow
# (not again under ASan: the time goes to the browser; the app's request handling runs under
# ASan in test_web_requests and the review CLI tests, and is fuzzed)
# review_app.sh - `aitag serve`, the review app, end to end. The fixture video (faces, objects)
# and one image are tagged into a fresh catalog; the app is served on a free loopback port.
# tests/e2e/ui/review_app.js drives Debian's headless Chromium through it (browse, search,
# correct tags and markers, the queue, the log, a forced re-run that keeps every correction);
# its screenshots are kept in $AITAG_BUILD_DIR/artifacts/review_app. Then, with curl, what a
# browser would not show: the security gates (CSRF token, JSON body, Origin, Host, path
# escapes, library roots, a non-loopback bind without a password, the login) and range
# requests on the media.
. "$(dirname "$0")/lib.sh"
UI_DIR="$AITAG_SOURCE_DIR/tests/e2e/ui"
CHROMIUM=${AITAG_CHROMIUM:-/usr/bin/chromium}
A=$AITAG_BIN
V=$AITAG_FIXTURES_DIR/videos/faces_1080p_h264.mp4
I=$AITAG_FIXTURES_DIR/images/eagle.bmp
cat=$tmp/catalog.db
if [ ! -x "$CHROMIUM" ] || [ ! -f "$UI_DIR/node_modules/playwright-core/package.json" ]; then
    echo "review_app: Chromium or playwright-core missing: run scripts/setup.sh" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

"$A" tag --analyzers faces,objects --no-people --quiet --progress never --catalog "$cat" "$V" "$I" \
    2>"$tmp/tag.err"
check_eq "tag the fixtures" "$?" 0
# people: faces with embeddings, given to four people as a clustering would (people_cli.sh)
"$A" tag --analyzers faces,face_attrs --no-people --quiet --progress never --catalog "$cat" \
    "$AITAG_FIXTURES_DIR/videos/faces_720p_hevc.mkv" "$AITAG_FIXTURES_DIR/images/group_3faces.jpg" \
    "$AITAG_FIXTURES_DIR/images/portrait_1face.gif" 2>"$tmp/tag.err"
check_eq "tag the people fixtures" "$?" 0
sqlite3 "$cat" <"$AITAG_SOURCE_DIR/tests/data/people_assign.sql"
check_eq "four people" "$(sqlite3 "$cat" 'SELECT count(*) FROM people')" 4

# serve_start [ARGS...]: aitag serve in the background (SERVE_PID), its port in SERVE_PORT.
serve_start() {
    "$A" serve --catalog "$cat" --port 0 --cache-dir "$tmp/thumbs" "$@" >"$tmp/serve.out" \
        2>"$tmp/serve.err" &
    SERVE_PID=$!
    for _ in $(seq 100); do grep -q listening "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
    SERVE_PORT=$(grep -oE ':[0-9]+/$' "$tmp/serve.out" | tr -d :/)
    URL=http://127.0.0.1:$SERVE_PORT
}
serve_stop() { # SIGTERM; the server must end cleanly (a sanitizer report is a failure)
    local rc=0
    kill "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null || rc=$?
    check_eq "serve ends with exit status 0 on SIGTERM" "$rc" 0
    check "... and says nothing of memory" bash -c "! grep -qE 'Sanitizer|runtime error' '$tmp/serve.err'"
    SERVE_PID=
}
trap '[ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null; rm -rf "$tmp"' EXIT

serve_start
check "serve: listening on a loopback URL" grep -qE '^listening on http://127\.0\.0\.1:[0-9]+/$' "$tmp/serve.out"

# --- the browser ------------------------------------------------------------------------------
shots=${AITAG_UI_SHOTS:-$AITAG_BUILD_DIR/artifacts/review_app}
rm -rf "$shots"
rc=0
APP_URL=$URL AITAG_BIN=$A CATALOG=$cat VIDEO=$V AITAG_CHROMIUM=$CHROMIUM \
    JOB_PATH=$AITAG_FIXTURES_DIR/videos/text_720p_vp9.webm STOP_PATH=$AITAG_FIXTURES_DIR/videos NODE_PATH="$UI_DIR/node_modules" \
    timeout 300 node "$UI_DIR/review_app.js" "$shots" >"$tmp/drive.out" 2>&1 || rc=$?
grep -v '^[0-9]* passed, [0-9]* failed$' "$tmp/drive.out" | grep -v '^ok ' >&2
passed=$((passed + $(grep -c '^ok ' "$tmp/drive.out")))
failed=$((failed + $(grep -c '^FAIL: ' "$tmp/drive.out")))
check_eq "review_app.js finished (exit status)" "$rc" 0
check "review_app.js ran its checks" grep -q '^[1-9][0-9]* passed, 0 failed$' "$tmp/drive.out"
for s in library search marker-dragged item-corrected queue after-rerun learning job-done people person-named plots; do
    check "screenshot $s.png kept" test -s "$shots/$s.png"
done
check "a stopped job left no half-written item" test "$(sqlite3 "$cat" "SELECT count(*) FROM media WHERE status NOT IN ('ok', 'partial')")" -eq 0
check_eq "the browser's decisions are the catalog's" \
    "$(sqlite3 "$cat" "SELECT count(*) FROM decisions WHERE source = 'web'")" 7

# --- security -----------------------------------------------------------------------------------
vid=$(sqlite3 "$cat" "SELECT id FROM media WHERE path = '$V'")
csrf=$(curl -sS "$URL/api/session" | jq -r .csrf)
check "session: a 64-hex CSRF token" test "${#csrf}" -eq 64
post() { # post BODY [CURL ARGS...]: the HTTP status of a decision POST
    local body=$1; shift
    curl -sS -o "$tmp/post.out" -w '%{http_code}' -X POST "$URL/api/items/$vid/decisions" "$@" -d "$body"
}
J=(-H 'Content-Type: application/json')
n0=$(sqlite3 "$cat" 'SELECT count(*) FROM decisions')
check_eq "POST without the CSRF token: 403" "$(post '{"verdict":"reject","tag":"face"}' "${J[@]}")" 403
check "... said" grep -q 'X-CSRF-Token' "$tmp/post.out"
check_eq "POST with a wrong token: 403" \
    "$(post '{"verdict":"reject","tag":"face"}' "${J[@]}" -H "X-CSRF-Token: ${csrf/a/b}x")" 403
check_eq "POST from another origin: 403" \
    "$(post '{"verdict":"reject","tag":"face"}' "${J[@]}" -H "X-CSRF-Token: $csrf" -H 'Origin: http://evil.example')" 403
check_eq "POST as a form (no JSON): 415" \
    "$(post 'verdict=reject&tag=face' -H 'Content-Type: application/x-www-form-urlencoded' -H "X-CSRF-Token: $csrf")" 415
check_eq "refused writes recorded nothing" "$(sqlite3 "$cat" 'SELECT count(*) FROM decisions')" "$n0"
check_eq "POST with token, JSON, own origin: 201" \
    "$(post '{"verdict":"accept","tag":"face"}' "${J[@]}" -H "X-CSRF-Token: $csrf" -H "Origin: $URL")" 201
check_eq "... one decision more" "$(sqlite3 "$cat" 'SELECT count(*) FROM decisions')" "$((n0 + 1))"
check_eq "a decision on an unknown tag: 404" \
    "$(post '{"verdict":"reject","tag":"unicorn"}' "${J[@]}" -H "X-CSRF-Token: $csrf")" 404
check "... naming it" grep -q "TAG 'unicorn': not a tag of this item" "$tmp/post.out"
check_eq "a malformed decision: 400" \
    "$(post '{"verdict":"maybe","tag":"face"}' "${J[@]}" -H "X-CSRF-Token: $csrf")" 400
check_eq "a request for another Host (DNS rebinding): 403" \
    "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$URL/api/items")" 403
for p in '/../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2fetc%2fpasswd' '/api/../../etc/passwd'; do
    code=$(curl -sS --path-as-is -o "$tmp/esc.out" -w '%{http_code}' "$URL$p")
    check "path escape $p: refused ($code)" test "$code" = 404 -o "$code" = 400
    check "... and no file content" bash -c "! grep -q root: '$tmp/esc.out'"
done
check_eq "a front-end file: 200" "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/app.js")" 200
hdr=$(curl -sS -D - -o /dev/null "$URL/")
check "every answer: a strict CSP" grep -q "Content-Security-Policy: default-src 'none'; script-src 'self'" <<<"$hdr"
check "every answer: nosniff" grep -qi "X-Content-Type-Options: nosniff" <<<"$hdr"

# --- media: range requests -------------------------------------------------------------------------
size=$(stat -c %s "$V")
hdr=$(curl -sS -D - -o "$tmp/part" -H 'Range: bytes=100-1099' "$URL/api/items/$vid/media")
check "range 100-1099: 206" grep -q '^HTTP/1.1 206' <<<"$hdr"
check "... Content-Range" grep -q "Content-Range: bytes 100-1099/$size" <<<"$hdr"
check "... the file's bytes" cmp -s "$tmp/part" <(tail -c +101 "$V" | head -c 1000)
hdr=$(curl -sS -D - -o "$tmp/part" -H 'Range: bytes=-500' "$URL/api/items/$vid/media")
check "range -500: the last 500 bytes" cmp -s "$tmp/part" <(tail -c 500 "$V")
check_eq "range past the end: 416" \
    "$(curl -sS -o /dev/null -w '%{http_code}' -H "Range: bytes=$size-" "$URL/api/items/$vid/media")" 416
check_eq "no range: the whole file" \
    "$(curl -sS "$URL/api/items/$vid/media" | cmp - "$V" && echo same)" same
check_eq "an unknown item: 404" "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/items/999/media")" 404
serve_stop

# a symbolic link inside the front end's folder that leads out of it is never followed
cp -r "$AITAG_SOURCE_DIR/web" "$tmp/web"
ln -s /etc "$tmp/web/etc"
serve_start --web-dir "$tmp/web"
check_eq "a link out of the front end's folder: 404" \
    "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/etc/passwd")" 404
check_eq "... while its own files load" "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/item.js")" 200
serve_stop

# library roots: the video lies outside the one root given: never served
mkdir -p "$tmp/root"
serve_start --root "$tmp/root"
check_eq "outside every --root: 403" "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/items/$vid/media")" 403
check_eq "... its thumbnail too" "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/items/$vid/thumb")" 403
serve_stop

# --- off loopback: a password or nothing ----------------------------------------------------------
"$A" serve --catalog "$cat" --port 0 --bind 0.0.0.0 --cache-dir "$tmp/thumbs" >"$tmp/s.out" 2>"$tmp/s.err"
check_eq "--bind 0.0.0.0 without a password: exit 2" "$?" 2
check "... said" grep -q "not a loopback address, and no password is set" "$tmp/s.err"
echo 'correct horse battery' | "$A" serve --hash-password >"$tmp/pw"
check "--hash-password: a PBKDF2 hash" grep -qE '^pbkdf2-sha256\$[0-9]+\$[0-9a-f]{32}\$[0-9a-f]{64}$' "$tmp/pw"
check "... salted (two hashes of one password differ)" \
    bash -c "! cmp -s '$tmp/pw' <(echo 'correct horse battery' | '$A' serve --hash-password)"
serve_start --bind 0.0.0.0 --password-file "$tmp/pw"
URL=http://127.0.0.1:$SERVE_PORT
check_eq "with a password: the API wants a login (401)" \
    "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/items")" 401
check_eq "... the media too" "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/items/$vid/media")" 401
check_eq "... the session says so, without a token" \
    "$(curl -sS "$URL/api/session" | jq -c '[.login, .authenticated, .csrf]')" '[true,false,null]'
check_eq "... the page itself loads (to show the login)" \
    "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/")" 200
check_eq "a wrong password: 401" "$(curl -sS -o /dev/null -w '%{http_code}' -X POST "${J[@]}" \
    -d '{"password":"wrong"}' "$URL/api/login")" 401
code=$(curl -sS -o /dev/null -w '%{http_code}' -c "$tmp/jar" -X POST "${J[@]}" \
    -d '{"password":"correct horse battery"}' "$URL/api/login")
check_eq "the right password: 200" "$code" 200
check "... an HttpOnly, SameSite=Strict session cookie" grep -q '#HttpOnly_127.0.0.1.*aitag_session' "$tmp/jar"
check_eq "with the cookie: the API answers" \
    "$(curl -sS -b "$tmp/jar" -o /dev/null -w '%{http_code}' "$URL/api/items")" 200
check_eq "the password as a bearer token: the API answers" \
    "$(curl -sS -H 'Authorization: Bearer correct horse battery' -o /dev/null -w '%{http_code}' "$URL/api/items")" 200
check_eq "a made-up cookie: 401" \
    "$(curl -sS -b "aitag_session=$(printf '%064d' 0)" -o /dev/null -w '%{http_code}' "$URL/api/items")" 401
finish
