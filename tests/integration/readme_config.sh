#!/usr/bin/env bash
# The gateway config shown in the README works as printed: its JSON block is taken from
# README.md, only the port, the library root and the two upstream URLs are pointed at this test's
# loopback servers (fake OpenAI-compatible upstreams standing in for Ollama and OpenAI), and the
# real `aitag gateway serve` must answer /v1/tag like `aitag tag --json` and relay chat through
# the local upstream, failing over to the "OpenAI" one with its key from OPENAI_API_KEY.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fake=$src/tests/fake-upstream/server.js
img=$(ls "$AITAG_FIXTURES_DIR"/images/*.jpg | head -n 1)
source "$src/tests/fake-upstream/spawn.sh" # start NAME CMD..., every process stopped on exit

# The first ```json block after "## Gateway".
awk '/^## Gateway/{g=1} g && /^```json/{on=1; next} on && /^```/{exit} on' "$src/README.md" >"$tmp/readme.json"
check "README has a gateway config block" jq -e '.routes.tag and .routes.chat' "$tmp/readme.json" >/dev/null
check "README config: a local route" jq -e '[.routes[].backends[] | select(.kind == "local")] | length > 0' "$tmp/readme.json" >/dev/null
check "README config: an OpenAI-compatible route" jq -e '[.routes[].backends[] | select(.kind == "openai")] | length > 0' "$tmp/readme.json" >/dev/null

local_up=$(start local node "$fake" --name ollama --mode ok)
cloud_up=$(start cloud node "$fake" --name openai --mode ok)
mkdir -p "$tmp/media" "$tmp/run"
cp "$img" "$tmp/media/a.jpg"
jq --arg root "$tmp/media" --arg l "http://127.0.0.1:$local_up/v1" --arg c "http://127.0.0.1:$cloud_up/v1" '
    .port = 0 | .library_roots = [$root]
    | .routes.chat.backends[0].url = $l | .routes.chat.backends[1].url = $c' \
    "$tmp/readme.json" >"$tmp/run/gateway.json"
cd "$tmp/run" || exit 1
# The README's commands, in its order.
key=$("$AITAG_BIN" gateway keys create --db gateway-keys.db --routes tag,chat --rpm 60 2>/dev/null | grep -oE 'agk_[0-9a-f]{40}' | head -n 1)
check "keys create prints a key" [ -n "$key" ]
gw=$(OPENAI_API_KEY=sk-test start gw "$AITAG_BIN" gateway serve --config gateway.json)
check "gateway serves the README config" [ -n "$gw" ]
base=http://127.0.0.1:$gw

"$AITAG_BIN" tag --json --analyzers faces,text --catalog "$tmp/cli.db" "$tmp/media/a.jpg" >"$tmp/cli.json" 2>/dev/null
code=$(curl -s -o "$tmp/tag.json" -w '%{http_code}' -H "Authorization: Bearer $key" \
    -d "{\"path\": \"$tmp/media/a.jpg\"}" -H 'Content-Type: application/json' "$base/v1/tag")
check_eq "README /v1/tag call" "$code" 200
check_eq "README /v1/tag = aitag tag --json" "$(cat "$tmp/tag.json")" "$(cat "$tmp/cli.json")"

chat() {
    curl -s -o "$tmp/chat.json" -w '%{http_code}' -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' \
        -d '{"model": "chat", "messages": [{"role": "user", "content": "hi"}]}' "$base/v1/chat/completions"
}
check_eq "README chat call" "$(chat)" 200
check_eq "chat answered by the local upstream first" "$(jq -r '.choices[0].message.content' "$tmp/chat.json")" "hello from ollama"
check_eq "local upstream got the route's model" "$(curl -s "http://127.0.0.1:$local_up/_stats" | jq -r .last.model)" \
    "$(jq -r '.routes.chat.backends[0].model' "$tmp/readme.json")"
curl -s -X POST -d '{"mode": "500"}' "http://127.0.0.1:$local_up/_mode" >/dev/null
check_eq "chat fails over to the OpenAI-compatible backend" "$(chat)" 200
check_eq "answered by the second backend" "$(jq -r '.choices[0].message.content' "$tmp/chat.json")" "hello from openai"
curl -s "http://127.0.0.1:$cloud_up/_stats" >"$tmp/cloud.json"
check_eq "second backend got its model" "$(jq -r .last.model "$tmp/cloud.json")" \
    "$(jq -r '.routes.chat.backends[1].model' "$tmp/readme.json")"
check_eq "second backend got the key from OPENAI_API_KEY" "$(jq -r .last.auth "$tmp/cloud.json")" "Bearer sk-test"
check "usage recorded with a cost" eventually sh -c "'$AITAG_BIN' gateway usage --db gateway-keys.db --json | jq -e -s 'map(select(.model == \"gpt-4o-mini\" and .cost > 0)) | length == 1' >/dev/null"
finish
