#!/usr/bin/env bash
# The AI gateway end to end: the real `aitag gateway serve` in front of fake OpenAI-compatible
# upstreams (tests/fake-upstream/server.js, one process per failure mode), driven with curl + jq:
# health, models, chat and streaming passthrough, failover, circuit breaker, keys (401/403/429),
# /v1/tag against `aitag tag --json`, path traversal, oversize bodies, metrics, access log, usage.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fake=$src/tests/fake-upstream/server.js
img=$(ls "$AITAG_FIXTURES_DIR"/images/*.jpg | head -n 1)
for t in node curl jq sqlite3; do
    command -v $t >/dev/null || { echo "gateway.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh" # start NAME CMD..., every process stopped on exit
for m in ok ok2 500 429 slow malformed drop flaky; do
    mode=$m; [ $m = ok2 ] && mode=ok; [ $m = flaky ] && mode=500
    port=$(start "up_$m" node "$fake" --name "$m" --mode "$mode")
    declare "up_${m}=$port"
done
check "fake upstreams started" [ -n "$up_ok" -a -n "$up_drop" ]
u() { echo "http://127.0.0.1:$1/v1"; }
fo_route() { # fo_route NAME BAD_PORT: a failing backend first, the healthy one second
    printf '"%s": {"backends": [{"name": "bad-%s", "kind": "openai", "url": "%s", "timeout_ms": 800},
      {"name": "good", "kind": "openai", "url": "%s", "priority": 1}]}' "$1" "$1" "$(u "$2")" "$(u "$up_ok")"
}
mkdir -p "$tmp/lib" "$tmp/outside"
cp "$img" "$tmp/lib/photo.jpg"
cp "$img" "$tmp/outside/secret.jpg"
ln -s "$tmp/outside/secret.jpg" "$tmp/lib/link.jpg"
cat >"$tmp/gw.json" <<JSON
{
  "listen": "127.0.0.1", "port": 0, "workers": 4, "max_body_bytes": 4194304,
  "library_roots": ["$tmp/lib"], "keys_db": "$tmp/keys.db", "access_log": "$tmp/access.jsonl",
  "catalog": "$tmp/gw-catalog.db", "tmp_dir": "$tmp", "retries": 0, "backoff_ms": 10,
  "breaker": {"failures": 2, "cooldown_ms": 60000},
  "prices": {"up-model": {"input_per_1m": 1000, "output_per_1m": 2000}},
  "routes": {
    "chat": {"backends": [{"name": "a", "kind": "openai", "url": "$(u "$up_ok")", "key_env": "FAKE_UPSTREAM_KEY", "model": "up-model"}]},
    $(fo_route fo500 "$up_500"), $(fo_route fo429 "$up_429"), $(fo_route foslow "$up_slow"),
    $(fo_route fomalformed "$up_malformed"), $(fo_route fodrop "$up_drop"),
    "slowonly": {"backends": [{"name": "slow", "kind": "openai", "url": "$(u "$up_slow")", "timeout_ms": 10000}]},
    "dead": {"backends": [{"name": "nothing", "kind": "openai", "url": "http://127.0.0.1:1/v1", "timeout_ms": 500}]},
    "tag": {"backends": [{"name": "local-faces", "kind": "local", "analyzers": ["faces"]}]}
  }
}
JSON
gw=$(FAKE_UPSTREAM_KEY=sekrit start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
base=http://127.0.0.1:$gw

# Keys: all routes; chat only; chat only at 2 requests per minute.
k_all=$("$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name all --json | jq -r .key)
k_chat=$("$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name chat --routes chat --json | jq -r .key)
k_slow=$("$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --routes chat --rpm 2 --json | jq -r .key)
check "keys look like agk_" sh -c "echo '$k_all' | grep -Eq '^agk_[0-9a-f]{40}$'"
check "no secret stored" [ "$(sqlite3 "$tmp/keys.db" "SELECT count(*) FROM gateway_keys WHERE hash LIKE '%$k_all%' OR prefix = '$k_all'")" = 0 ]
check_eq "keys list" "$("$AITAG_BIN" gateway keys list --db "$tmp/keys.db" --json | wc -l)" 3

# call NAME METHOD PATH KEY [curl args...]: body in $tmp/NAME.json, headers in $tmp/NAME.h;
# echoes the HTTP status.
call() {
    local name=$1 method=$2 path=$3 key=$4; shift 4
    curl -s -o "$tmp/$name.json" -D "$tmp/$name.h" -w '%{http_code}' -X "$method" \
        ${key:+-H "Authorization: Bearer $key"} "$@" "$base$path"
}
chat_body() { printf '{"model": "%s", "messages": [{"role": "user", "content": "hi"}]%s}' "$1" "${2:-}"; }
jpost() { call "$1" POST "$2" "$3" -H 'Content-Type: application/json' -d "$4"; }
jqq() { jq -e "$@" >/dev/null; }

check_eq "healthz" "$(call h GET /healthz '')" 200
check_eq "healthz body" "$(jq -r .status "$tmp/h.json")" ok
check_eq "models" "$(call m GET /v1/models "$k_all")" 200
check_eq "models list routes" "$(jq -r '[.data[].id] | sort | join(",")' "$tmp/m.json")" \
    "chat,dead,fo429,fo500,fodrop,fomalformed,foslow,slowonly,tag"

# Chat passthrough: model rewritten, upstream key from the environment, request id forwarded.
check_eq "chat 200" "$(jpost c /v1/chat/completions "$k_all" "$(chat_body chat)")" 200
check_eq "chat content" "$(jq -r '.choices[0].message.content' "$tmp/c.json")" "hello from ok"
curl -s "http://127.0.0.1:$up_ok/_stats" >"$tmp/stats.json"
check_eq "upstream model rewritten" "$(jq -r .last.model "$tmp/stats.json")" up-model
check_eq "upstream key from key_env" "$(jq -r .last.auth "$tmp/stats.json")" "Bearer sekrit"
rid=$(grep -i '^x-request-id:' "$tmp/c.h" | tr -d '\r' | awk '{print $2}')
check "request id forwarded" [ -n "$rid" -a "$(jq -r .last.request_id "$tmp/stats.json")" = "$rid" ]

# Streaming: chunks in order, and the first arrives well before the last (not buffered).
curl -sN -o "$tmp/s.txt" -w '%{time_starttransfer} %{time_total}' -H "Authorization: Bearer $k_all" \
    -H 'Content-Type: application/json' -d "$(chat_body chat ', "stream": true')" \
    "$base/v1/chat/completions" >"$tmp/s.time"
check_eq "stream chunks in order" \
    "$(grep '^data: {' "$tmp/s.txt" | sed 's/^data: //' | jq -r '.choices[0].delta.content // empty' | tr -d '\n')" \
    "chunk0 chunk1 chunk2 chunk3 chunk4 "
check_eq "stream ends with [DONE]" "$(grep '^data:' "$tmp/s.txt" | tail -n 1)" "data: [DONE]"
check "stream is not buffered" awk '{exit !($2 - $1 > 0.25)}' "$tmp/s.time"

# Failover from each failure mode to the healthy backend.
for m in 500 429 slow malformed drop; do
    check_eq "failover from $m" "$(jpost f /v1/chat/completions "$k_all" "$(chat_body fo$m)")" 200
    check_eq "failover from $m answered by the healthy backend" \
        "$(jq -r '.choices[0].message.content' "$tmp/f.json")" "hello from ok"
done
# Breaker: after 2 failures the 500 backend is no longer tried.
jpost f /v1/chat/completions "$k_all" "$(chat_body fo500)" >/dev/null
for _ in 1 2 3; do jpost f /v1/chat/completions "$k_all" "$(chat_body fo500)" >/dev/null; done
check_eq "breaker open: failing backend tried only twice" \
    "$(curl -s "http://127.0.0.1:$up_500/_stats" | jq .chat)" 2
check_eq "all backends down: 502" "$(jpost d /v1/chat/completions "$k_all" "$(chat_body dead)")" 502
check_eq "502 is an OpenAI error" "$(jq -r .error.type "$tmp/d.json")" upstream_error
check_eq "unknown model: 404" "$(jpost d /v1/chat/completions "$k_all" "$(chat_body nope)")" 404
check_eq "bad JSON: 400" "$(jpost d /v1/chat/completions "$k_all" '{"model": ')" 400

# Auth.
check_eq "no key: 401" "$(jpost a /v1/chat/completions '' "$(chat_body chat)")" 401
check_eq "401 error code" "$(jq -r .error.code "$tmp/a.json")" missing_api_key
check_eq "unknown key: 401" "$(jpost a /v1/chat/completions agk_nope "$(chat_body chat)")" 401
check_eq "route not allowed: 403" "$(jpost a /v1/chat/completions "$k_chat" "$(chat_body fo500)")" 403
check_eq "403 error type" "$(jq -r .error.type "$tmp/a.json")" permission_error
check_eq "allowed route" "$(jpost a /v1/chat/completions "$k_chat" "$(chat_body chat)")" 200
jpost r /v1/chat/completions "$k_slow" "$(chat_body chat)" >/dev/null
jpost r /v1/chat/completions "$k_slow" "$(chat_body chat)" >/dev/null
check_eq "rate limit: 429" "$(jpost r /v1/chat/completions "$k_slow" "$(chat_body chat)")" 429
check "429 has Retry-After" grep -qiE '^retry-after: [0-9]+' "$tmp/r.h"
check_eq "429 error type" "$(jq -r .error.type "$tmp/r.json")" rate_limit_error
# Each HTTP loop keeps the key rows it read (key_cache_ms); a revocation still counts from the
# next request: the key is used on every loop first (a new connection per request spreads them
# over the loops), then every request after the revoke is refused.
for _ in 1 2 3 4 5 6 7 8; do jpost a /v1/chat/completions "$k_chat" "$(chat_body chat)" >/dev/null; done
"$AITAG_BIN" gateway keys revoke --db "$tmp/keys.db" 2
codes=""
for _ in 1 2 3 4 5 6 7 8; do codes+="$(jpost a /v1/chat/completions "$k_chat" "$(chat_body chat)") "; done
check_eq "revoked key: 401 at every request after the revoke" "$codes" \
    "401 401 401 401 401 401 401 401 "

# /v1/tag: same tags as `aitag tag --json`; traversal and symlinks out of the roots refused.
"$AITAG_BIN" tag --json --analyzers faces --catalog "$tmp/cli.db" "$tmp/lib/photo.jpg" >"$tmp/cli.json" 2>/dev/null
check_eq "tag by path" "$(jpost t /v1/tag "$k_all" "{\"path\": \"$tmp/lib/photo.jpg\"}")" 200
check_eq "tag by path = aitag tag --json, byte for byte" "$(cat "$tmp/t.json")" "$(cat "$tmp/cli.json")"
check "the fixture has tags" jqq '.tags | length > 0' "$tmp/cli.json"
check_eq "tag path reported" "$(jq -r .path "$tmp/t.json")" "$tmp/lib/photo.jpg"
check_eq "traversal: 403" "$(jpost t /v1/tag "$k_all" "{\"path\": \"$tmp/lib/../outside/secret.jpg\"}")" 403
check_eq "traversal error code" "$(jq -r .error.code "$tmp/t.json")" path_not_allowed
check_eq "symlink out of the root: 403" "$(jpost t /v1/tag "$k_all" "{\"path\": \"$tmp/lib/link.jpg\"}")" 403
check_eq "absolute path elsewhere: 403" "$(jpost t /v1/tag "$k_all" '{"path": "/etc/passwd"}')" 403
check_eq "missing file: 404" "$(jpost t /v1/tag "$k_all" "{\"path\": \"$tmp/lib/none.jpg\"}")" 404
check_eq "tag route needs the key's permission" "$(jpost t /v1/tag "$k_slow" "{\"path\": \"$tmp/lib/photo.jpg\"}")" 403
printf '{"image_base64": "%s"}' "$(base64 -w0 "$img")" >"$tmp/b64.json"
check_eq "tag base64" "$(call t POST /v1/tag "$k_all" -H 'Content-Type: application/json' --data-binary @"$tmp/b64.json")" 200
check_eq "tag base64 = aitag tag --json" "$(jq -cS '{kind, width, height, tags, text}' "$tmp/t.json")" \
    "$(jq -cS '{kind, width, height, tags, text}' "$tmp/cli.json")"
check_eq "bad base64: 400" "$(call t POST /v1/tag "$k_all" -H 'Content-Type: application/json' --data-binary '{"image_base64": "Zg==Zm9v"}')" 400
check_eq "bad base64 error code" "$(jq -r .error.code "$tmp/t.json")" bad_base64
check_eq "tag raw bytes" "$(call t POST /v1/tag "$k_all" -H 'Content-Type: image/jpeg' --data-binary @"$img")" 200
check_eq "tag raw = aitag tag --json" "$(jq -cS '{kind, width, height, tags, text}' "$tmp/t.json")" \
    "$(jq -cS '{kind, width, height, tags, text}' "$tmp/cli.json")"
check "uploads removed" sh -c "! ls '$tmp'/aitag-upload-* 2>/dev/null"

# Oversize bodies: 413 with and without Content-Length.
head -c 5000000 /dev/zero >"$tmp/big.bin"
check_eq "oversize: 413" "$(call o POST /v1/tag "$k_all" -H 'Content-Type: image/jpeg' --data-binary @"$tmp/big.bin")" 413
check_eq "oversize chunked: 413" "$(call o POST /v1/tag "$k_all" -H 'Content-Type: image/jpeg' -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big.bin")" 413
check_eq "unknown endpoint: 404" "$(call n GET /v1/nothing "$k_all")" 404
check_eq "wrong method: 405" "$(call n GET /v1/chat/completions "$k_all")" 405

# Metrics move.
metric() { curl -s "$base/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
sleep 0.3 # let earlier requests finish being counted
before=$(metric 'aitag_gateway_requests_total{route="chat",status="200"}')
jpost c /v1/chat/completions "$k_all" "$(chat_body chat)" >/dev/null
for _ in $(seq 30); do # counted when the server sees the last byte sent: poll briefly
    [ "$(metric 'aitag_gateway_requests_total{route="chat",status="200"}')" = $((before + 1)) ] && break
    sleep 0.1
done
check_eq "requests counter moves" "$(metric 'aitag_gateway_requests_total{route="chat",status="200"}')" $((before + 1))
check "latency histogram" sh -c "curl -s '$base/metrics' | grep -q 'aitag_gateway_request_duration_seconds_bucket{route=\"chat\",le=\"+Inf\"}'"
check_eq "upstream errors counted" "$(metric 'aitag_gateway_upstream_errors_total{backend="bad-fo500",reason="5xx"}')" 2
check_eq "a client leaving is not the backend's failure" "$(curl -s "$base/metrics" | grep -c 'backend="a"')" 0
check_eq "connect errors counted" "$(metric 'aitag_gateway_upstream_errors_total{backend="nothing",reason="connect"}')" 1

# Access log and usage.
check "access log has request ids" jqq -s 'length > 10 and all(.request_id | startswith("req-"))' "$tmp/access.jsonl"
check "access log names backends" jqq -s 'any(.backend == "good" and .route == "fo500" and .status == 200)' "$tmp/access.jsonl"
check "access log never holds a key" sh -c "! grep -q agk_ '$tmp/access.jsonl'"
usage_has() { # usage_has JQ: the usage table, as JSON lines, satisfies JQ (rows are batched)
    "$AITAG_BIN" gateway usage --db "$tmp/keys.db" --json >"$tmp/usage.jsonl" && jqq -s "$1" "$tmp/usage.jsonl"
}
check "usage per key and route" eventually usage_has 'any(.key_id == 1 and .route == "chat" and .model == "up-model" and .requests >= 3 and .prompt_tokens == 10 * .requests)'
check "usage from streams" jqq -s 'map(select(.key_id == 1 and .route == "chat")) | .[0].completion_tokens == 5 * .[0].requests' "$tmp/usage.jsonl"
check "cost from the price table" jqq -s 'map(select(.key_id == 1 and .route == "chat")) | .[0].cost > 0.0199 * .[0].requests' "$tmp/usage.jsonl"
check "usage table prints" sh -c "'$AITAG_BIN' gateway usage --db '$tmp/keys.db' | head -n 1 | grep -q prompt_tokens"

# The event loop never waits on an upstream: while a slow call is in flight, health answers at
# once; a burst of parallel calls all succeed; a client leaving mid-stream harms nothing.
jpost slow /v1/chat/completions "$k_all" "$(chat_body slowonly)" >"$tmp/slow.code" &
slow_pid=$!
sleep 0.3
check "healthz fast during a slow (3 s) upstream call" \
    awk '{exit !($1 < 1.5)}' <<<"$(curl -s -o /dev/null -w '%{time_total}' "$base/healthz")"
par=()
for i in $(seq 20); do
    jpost "p$i" /v1/chat/completions "$k_all" "$(chat_body chat)" >"$tmp/p$i.code" &
    par+=($!)
done
wait $slow_pid "${par[@]}"
check_eq "20 parallel calls" "$(cat "$tmp"/p*.code)" "$(printf '200%.0s' $(seq 20))"
check_eq "slow call answered" "$(cat "$tmp/slow.code")" 200
timeout 0.25 curl -sN -H "Authorization: Bearer $k_all" -H 'Content-Type: application/json' \
    -d "$(chat_body chat ', "stream": true')" "$base/v1/chat/completions" >/dev/null 2>&1
sleep 0.8
check_eq "healthy after a client left mid-stream" "$(call h GET /healthz '')" 200
# 5 content events: the usage event is left out, this client did not ask for it (include_usage)
check_eq "streams still work after that" \
    "$(curl -sN -H "Authorization: Bearer $k_all" -H 'Content-Type: application/json' -d "$(chat_body chat ', "stream": true')" "$base/v1/chat/completions" | grep -c '^data: {')" 5

# A second gateway (no keys: open) in front of the first: chat and tag through "gateway" backends.
cat >"$tmp/gw2.json" <<JSON
{"port": 0, "workers": 4, "catalog": "$tmp/gw2-catalog.db", "retries": 0,
 "breaker": {"failures": 2, "cooldown_ms": 4000}, "routes": {
  "weighted": {"backends": [{"name": "w3", "kind": "openai", "url": "$(u "$up_ok")", "weight": 3},
                            {"name": "w1", "kind": "openai", "url": "$(u "$up_ok2")", "weight": 1}]},
  "limited": {"backends": [{"name": "one-at-a-time", "kind": "openai", "url": "$(u "$up_slow")", "max_concurrency": 1},
                           {"name": "spare", "kind": "openai", "url": "$(u "$up_ok2")", "priority": 1}]},
  "flaky": {"backends": [{"name": "flaky", "kind": "openai", "url": "$(u "$up_flaky")"},
                         {"name": "spare", "kind": "openai", "url": "$(u "$up_ok2")", "priority": 1}]},
  "chat2": {"backends": [{"kind": "gateway", "url": "$base", "key_env": "GW1_KEY", "model": "chat"}]},
  "tag2": {"backends": [{"kind": "gateway", "url": "$base", "key_env": "GW1_KEY", "model": "tag"}]}}}
JSON
gw2=$(GW1_KEY=$k_all start gw2 "$AITAG_BIN" gateway serve --config "$tmp/gw2.json")
base1=$base
base=http://127.0.0.1:$gw2
check_eq "chat through another gateway" "$(jpost g /v1/chat/completions '' "$(chat_body chat2)")" 200
check_eq "chat through another gateway: content" "$(jq -r '.choices[0].message.content' "$tmp/g.json")" "hello from ok"
check_eq "tag through another gateway" "$(jpost g /v1/tag '' "{\"model\": \"tag2\", \"path\": \"$tmp/lib/photo.jpg\"}")" 200
check_eq "tag through another gateway = aitag tag --json" "$(jq -cS '{kind, tags}' "$tmp/g.json")" "$(jq -cS '{kind, tags}' "$tmp/cli.json")"
check_eq "multipart upload through another gateway" "$(call g POST /v1/tag '' -F model=tag2 -F "file=@$img")" 200
check_eq "multipart through another gateway = aitag tag --json" "$(jq -cS '{kind, width, height, tags, text}' "$tmp/g.json")" \
    "$(jq -cS '{kind, width, height, tags, text}' "$tmp/cli.json")"
check_eq "traversal through another gateway: 403" "$(jpost g /v1/tag '' "{\"model\": \"tag2\", \"path\": \"/etc/passwd\"}")" 403
# Weighted choice: 3:1 between two healthy backends of one priority.
chats() { curl -s "http://127.0.0.1:$1/_stats" | jq .chat; }
a0=$(chats "$up_ok") b0=$(chats "$up_ok2")
for _ in $(seq 60); do jpost w /v1/chat/completions '' "$(chat_body weighted)" >/dev/null; done
a1=$(( $(chats "$up_ok") - a0 )) b1=$(( $(chats "$up_ok2") - b0 ))
check_eq "weighted: every call answered once" "$((a1 + b1))" 60
check "weighted: about 3:1 (got $a1:$b1)" [ "$a1" -ge 35 -a "$a1" -le 55 ]
# Concurrency limit: the second call while the slow backend is busy goes to the spare.
jpost l1 /v1/chat/completions '' "$(chat_body limited)" >/dev/null &
l1=$!
sleep 1.0 # let the first call reach the slow backend (3 s) even on a loaded machine
jpost l2 /v1/chat/completions '' "$(chat_body limited)" >/dev/null
check_eq "concurrency limit: spare answers meanwhile" "$(jq -r '.choices[0].message.content' "$tmp/l2.json")" "hello from ok2"
wait $l1
check_eq "concurrency limit: the limited one answers its call" "$(jq -r '.choices[0].message.content' "$tmp/l1.json")" "hello from slow"
# Breaker recovery: open after 2 failures, one probe after the cool-down, closed on success.
for _ in 1 2 3; do jpost fl /v1/chat/completions '' "$(chat_body flaky)" >/dev/null; done
check_eq "flaky: breaker opened after 2" "$(chats "$up_flaky")" 2
curl -s -d '{"mode": "ok"}' "http://127.0.0.1:$up_flaky/_mode" >/dev/null
jpost fl /v1/chat/completions '' "$(chat_body flaky)" >/dev/null
check_eq "flaky: still open before the cool-down" "$(chats "$up_flaky")" 2
sleep 4.2
jpost fl /v1/chat/completions '' "$(chat_body flaky)" >/dev/null
check_eq "flaky: half-open probe reaches it" "$(jq -r '.choices[0].message.content' "$tmp/fl.json")" "hello from flaky"
jpost fl /v1/chat/completions '' "$(chat_body flaky)" >/dev/null
check_eq "flaky: closed again" "$(chats "$up_flaky")" 4
base=$base1

# Config errors are usage errors.
echo '{"routes": {}}' >"$tmp/bad.json"
"$AITAG_BIN" gateway serve --config "$tmp/bad.json" >/dev/null 2>"$tmp/err"
check_eq "bad config exit code" "$?" 2
check "bad config names the key" grep -q routes "$tmp/err"
finish
