#!/usr/bin/env bash
# Streams are charged and upstream usage is validated (docs/gateway.md, "Usage and budgets"):
# a streamed chat whose client did not ask for usage makes the gateway ask the upstream
# (stream_options.include_usage) and keeps the extra usage event from the client; an upstream
# that never reports usage is charged by an estimate from the bytes; negative usage is refused,
# never stored, and the key keeps working.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fake=$src/tests/fake-upstream/stream.js
for t in node curl jq; do
    command -v $t >/dev/null || { echo "gateway_stream_usage.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh"
up_openai=$(start up_openai node "$fake" --mode openai)
up_nousage=$(start up_nousage node "$fake" --mode nousage)
up_neg=$(start up_neg node "$fake" --mode negusage)
check "fake upstreams started" [ -n "$up_openai" ] && [ -n "$up_nousage" ] && [ -n "$up_neg" ]
be() { printf '{"backends": [{"name": "%s", "kind": "openai", "url": "http://127.0.0.1:%s/v1", "model": "up-model"}]}' "$1" "$2"; }
cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "retries": 0, "keys_db": "$tmp/keys.db",
 "prices": {"up-model": {"input_per_1m": 1000, "output_per_1m": 2000}},
 "routes": {"chat": $(be openai "$up_openai"), "quiet": $(be quiet "$up_nousage"),
            "neg": $(be neg "$up_neg")}}
JSON
gw=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
base=http://127.0.0.1:$gw
newkey() { "$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --json "$@" | jq -r .key; }
k_stream=$(newkey --name streams)
k_quiet=$(newkey --name quiet)
k_neg=$(newkey --name neg --budget 5)
chat() { # chat KEY MODEL EXTRA [curl args]: the answer on stdout
    local key=$1 model=$2 extra=$3
    shift 3
    curl -sN "$@" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"model\": \"$model\", \"messages\": [{\"role\": \"user\", \"content\": \"count to three\"}]$extra}" \
        "$base/v1/chat/completions"
}
row_has() { # row_has ROUTE KEY_ID JQ: today's usage row of that key and route satisfies JQ
    "$AITAG_BIN" gateway usage --db "$tmp/keys.db" --json |
        jq -e --arg r "$1" --argjson k "$2" "select(.route == \$r and .key_id == \$k) | $3" >/dev/null
}

# Six streamed chats without include_usage: charged, and the client's stream has no usage.
for i in 1 2 3 4 5 6; do chat "$k_stream" chat ', "stream": true' >"$tmp/s$i.txt"; done
check_eq "stream content reaches the client" "$(grep -c '^data: {' "$tmp/s1.txt")" 3
check_eq "stream ends with [DONE]" "$(grep '^data:' "$tmp/s1.txt" | tail -n 1)" "data: [DONE]"
check_eq "no usage event the client did not ask for" "$(grep -c usage "$tmp/s6.txt")" 0
check_eq "the upstream was asked for usage" \
    "$(curl -s "http://127.0.0.1:$up_openai/_last" | jq -c .stream_options)" '{"include_usage":true}'
check "six streams charged the upstream's tokens and a cost" eventually row_has chat 1 \
    '.requests == 6 and .prompt_tokens == 60 and .completion_tokens == 30 and .cost > 0'

# A client that asks for usage gets the event; its own stream_options are kept.
chat "$k_stream" chat ', "stream": true, "stream_options": {"include_usage": true}' >"$tmp/u.txt"
check_eq "usage event for a client that asked" \
    "$(grep '^data: {' "$tmp/u.txt" | sed 's/^data: //' | jq -s -c 'map(select(.usage)) | .[0].usage.prompt_tokens')" 10

# An upstream that never reports usage: the gateway estimates (4 bytes a token), never 0.
chat "$k_quiet" quiet ', "stream": true' >"$tmp/q.txt"
chat "$k_quiet" quiet '' >"$tmp/q2.json"
check "estimated tokens for a stream and an answer without usage" eventually row_has quiet 2 \
    '.requests == 2 and .prompt_tokens > 0 and .completion_tokens > 0 and .cost > 0'

# Negative usage: refused (logged), estimated instead; spend never negative; the key works on.
check "negative usage: answered" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $k_neg' -H 'Content-Type: application/json' -d '{\"model\": \"neg\", \"messages\": []}' $base/v1/chat/completions)\" = 200 ]"
chat "$k_neg" neg ', "stream": true' >/dev/null
check "negative usage never stored" eventually row_has neg 3 \
    '.requests == 2 and .prompt_tokens >= 0 and .completion_tokens >= 0 and .cost >= 0'
check "negative usage is logged" grep -q 'event=usage_invalid' "$tmp/gw.err"
for i in 1 2 3; do
    code=$(chat "$k_neg" chat '' -o /dev/null -w '%{http_code}')
    check_eq "the key works after negative usage ($i)" "$code" 200
done
check "spend of that key is not negative" sh -c "[ \"\$('$AITAG_BIN' gateway usage --db '$tmp/keys.db' --json | jq -s 'map(select(.key_id == 3) | .cost) | add >= 0')\" = true ]"
finish
