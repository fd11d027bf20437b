#!/usr/bin/env bash
# /v1/tag tells a client nothing it should not know: a path outside the library roots gets the
# same answer whether or not a file exists there; an upload of bytes another key sent before
# answers exactly as the first upload did ("tagged", not "skipped"); a route whose backends are
# OpenAI-compatible services (chat) is refused and nothing is relayed to them; an unknown
# route is only named to a request with a valid key.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fx=$AITAG_FIXTURES_DIR
for t in node curl jq; do
    command -v $t >/dev/null || { echo "gateway_tag_leaks.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh" # start NAME CMD..., every process stopped on exit
up=$(start up node "$src/tests/fake-upstream/server.js" --name up --mode ok)
check "fake upstream started" [ -n "$up" ]
mkdir -p "$tmp/lib" "$tmp/outside"
cp "$fx/images/group_3faces.jpg" "$tmp/lib/photo.jpg"
cp "$fx/images/group_3faces.jpg" "$tmp/outside/secret.jpg"
"$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name a --json >"$tmp/ka.json"
"$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name b --json >"$tmp/kb.json"
ka=$(jq -r .key "$tmp/ka.json")
kb=$(jq -r .key "$tmp/kb.json")
export UP_KEY=upstream-secret
cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "catalog": "$tmp/gw.db", "tmp_dir": "$tmp",
 "library_roots": ["$tmp/lib"], "keys_db": "$tmp/keys.db",
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces"]}]},
            "chat": {"backends": [{"kind": "openai", "url": "http://127.0.0.1:$up/v1", "key_env": "UP_KEY"}]}}}
JSON
port=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$port" ]
url=http://127.0.0.1:$port/v1/tag
post() { # post OUT KEY BODY (or @FILE): JSON POST to /v1/tag, prints the status
    curl -s -o "$1" -w '%{http_code}' ${2:+-H "Authorization: Bearer $2"} \
        -H 'Content-Type: application/json' --data-binary "$3" "$url"
}

# Outside the roots: 403, the same answer for a file that exists and one that does not.
check_eq "outside, existing: 403" "$(post "$tmp/o1.json" "$ka" "{\"path\": \"$tmp/outside/secret.jpg\"}")" 403
check_eq "outside, missing: 403" "$(post "$tmp/o2.json" "$ka" "{\"path\": \"$tmp/outside/none.jpg\"}")" 403
check "outside: the same body either way" cmp -s "$tmp/o1.json" "$tmp/o2.json"
check_eq "outside, system file: 403" "$(post "$tmp/o3.json" "$ka" '{"path": "/etc/passwd"}')" 403
check_eq "outside, no such folder: 403" "$(post "$tmp/o4.json" "$ka" '{"path": "/no/such/dir/x.jpg"}')" 403
check "outside: no answer names the file" bash -c "! grep -q -e secret -e passwd -e 'no such' '$tmp'/o[1-4].json"
check_eq "inside, missing: 404" "$(post "$tmp/i1.json" "$ka" "{\"path\": \"$tmp/lib/none.jpg\"}")" 404

# The same upload from two keys: the second answer is the first's, byte for byte.
up_raw() { # up_raw OUT KEY
    curl -s -o "$1" -w '%{http_code}' -H "Authorization: Bearer $2" -H 'Content-Type: image/jpeg' \
        --data-binary @"$fx/images/sign_on_photo.jpg" "$url"
}
check_eq "key a uploads" "$(up_raw "$tmp/ua.json" "$ka")" 200
check_eq "key a: tagged" "$(jq -r .status "$tmp/ua.json")" tagged
check_eq "key b uploads the same bytes" "$(up_raw "$tmp/ub.json" "$kb")" 200
check_eq "key b: tagged, not skipped" "$(jq -r .status "$tmp/ub.json")" tagged
check "key b: the same answer as key a" cmp -s "$tmp/ua.json" "$tmp/ub.json"
printf '{"image_base64": "%s"}' "$(base64 -w0 "$fx/images/sign_on_photo.jpg")" >"$tmp/b64.json"
check_eq "key b, as base64" "$(post "$tmp/ub2.json" "$kb" @"$tmp/b64.json")" 200
check "key b, as base64: the same answer" cmp -s "$tmp/ua.json" "$tmp/ub2.json"

# A chat route is not a tagging route: refused, and its upstream never sees the body.
code=$(post "$tmp/c.json" "$ka" "{\"model\": \"chat\", \"path\": \"$tmp/lib/photo.jpg\"}")
check_eq "/v1/tag on a chat route: 400" "$code" 400
check_eq "chat route: error code" "$(jq -r .error.code "$tmp/c.json")" not_a_tagging_route
code=$(curl -s -o "$tmp/c2.json" -w '%{http_code}' -H "Authorization: Bearer $ka" -F model=chat \
    -F "file=@$fx/images/sign_on_photo.jpg" "$url")
check_eq "chat route, multipart: 400" "$code" 400
curl -s "http://127.0.0.1:$up/_stats" >"$tmp/stats.json"
check_eq "the chat upstream got no request" "$(jq '[.requests[] | select(.url != "/_stats")] | length' "$tmp/stats.json")" 0

# An unknown route: 401 without a key, 404 with one.
check_eq "unknown route, no key: 401" "$(post "$tmp/u1.json" "" '{"model": "nope", "path": "/x"}')" 401
check_eq "unknown route, bad key: 401" "$(post "$tmp/u2.json" agk_0000000000000000000000000000000000000000 '{"model": "nope", "path": "/x"}')" 401
check_eq "unknown route, valid key: 404" "$(post "$tmp/u3.json" "$ka" '{"model": "nope", "path": "/x"}')" 404
finish
