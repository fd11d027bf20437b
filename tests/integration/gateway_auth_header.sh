#!/usr/bin/env bash
# Requests refused from their headers, before the gateway holds a body byte: without a key the
# answer is 401 at once (ten unfinished 15 MB bodies, raw and multipart, leave the RSS where it
# was; eight 15.9 MB JSON bodies get their 401 fast and a keyed request stays fast meanwhile);
# the bytes held for bodies in flight have a cap (max_inflight_bytes: 503 beyond it, at the
# headers when Content-Length says so, at the end of a chunked body otherwise); an unknown model
# is 401 before 404; /v1/models lists only the key's routes; two different Content-Length
# headers, or Content-Length with Transfer-Encoding, are 400 and the connection closes.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
clients=$src/tests/integration/gateway_auth_clients.js
for t in node curl jq; do
    command -v $t >/dev/null || { echo "gateway_auth_header.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh"
up=$(start up node "$src/tests/fake-upstream/server.js" --name ok --mode ok)
check "fake upstream started" [ -n "$up" ]
cat >"$tmp/gw.json" <<JSON
{
  "listen": "127.0.0.1", "port": 0, "workers": 4, "keys_db": "$tmp/keys.db",
  "max_inflight_bytes": 8388608,
  "routes": {
    "chat": {"backends": [{"name": "a", "kind": "openai", "url": "http://127.0.0.1:$up/v1"}]},
    "other": {"backends": [{"name": "b", "kind": "openai", "url": "http://127.0.0.1:$up/v1"}]}
  }
}
JSON
newkey() { "$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --json "$@" | jq -r .key; }
k_all=$(newkey --name all)
k_chat=$(newkey --name chat-only --routes chat)
check "keys created" [ -n "$k_all" -a -n "$k_chat" ]
gw=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
gw_pid=$(tail -n 1 "$tmp/.pids")
base=http://127.0.0.1:$gw
rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$gw_pid/status"; }
for _ in 1 2 3; do curl -s -o /dev/null -H "Authorization: Bearer $k_all" "$base/v1/models"; done

# hold_test KIND: ten unfinished 15 MB bodies without a key; the RSS growth while they are held
hold_test() {
    local kind=$1 before after line
    before=$(rss)
    node "$clients" hold "$gw" 10 15000000 "$kind" >"$tmp/hold.out" 2>&1 &
    local pid=$!
    for _ in $(seq 600); do grep -qs held "$tmp/hold.out" && break; sleep 0.1; done
    after=$(rss)
    line=$(head -n 1 "$tmp/hold.out")
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    check "$kind: ten unfinished 15 MB bodies without a key: RSS +$((after - before)) MB < 40 MB" \
        [ -n "$after" -a $((${after:-999} - before)) -lt 40 ]
    check_eq "$kind: each got its 401 before the body ended" \
        "$(echo "$line" | jq -c '[.statuses[] | select(. == 401)] | length')" 10
}
hold_test raw
hold_test multipart

# Eight 15.9 MB JSON bodies without a key, and a keyed request at the same time.
node "$clients" flood "$gw" 8 15900000 "$k_all" >"$tmp/flood.json" 2>"$tmp/flood.err"
check_eq "flood: eight 401s" "$(jq -c '[.statuses[] | select(. == 401)] | length' "$tmp/flood.json")" 8
slowest=$(jq '.first_ms | max | floor' "$tmp/flood.json")
check "flood: each 401 within 2 s (slowest ${slowest} ms)" [ "${slowest:-99999}" -lt 2000 ]
idle=$(jq '.idle_ms | ceil' "$tmp/flood.json")
busy=$(jq '.busy_ms | ceil' "$tmp/flood.json")
check "flood: a keyed request stays fast (idle ${idle} ms, during the flood ${busy} ms)" \
    [ "${busy:-99999}" -lt $((${idle:-0} * 20 + 500)) ]

# The bytes held for bodies in flight: 8 MiB here. Two keyed 3 MB bodies held open count 6 MB
# from their headers; a third is refused at once, a chunked one at its end.
node "$clients" hold "$gw" 2 3000000 raw "$k_all" >"$tmp/hold2.out" 2>&1 &
hold_pid=$!
for _ in $(seq 300); do grep -qs held "$tmp/hold2.out" && break; sleep 0.1; done
head -c 3000000 /dev/zero | tr '\0' a >"$tmp/3mb"
code=$(curl -s -o "$tmp/cap.json" -w '%{http_code}' -H "Authorization: Bearer $k_all" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/3mb" "$base/v1/tag")
check_eq "in-flight cap: a third 3 MB body is refused" "$code" 503
check_eq "in-flight cap: error code" "$(jq -r .error.code "$tmp/cap.json")" overloaded
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k_all" \
    -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
    --data-binary @"$tmp/3mb" "$base/v1/tag")
check_eq "in-flight cap: a chunked 3 MB body too" "$code" 503
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k_all" \
    -H 'Content-Type: application/json' --data-binary @"$tmp/3mb" "$base/v1/chat/completions")
check_eq "in-flight cap: the bytes are given back when the holders leave (bad JSON: 400)" "$code" 400

# An unknown model: the key is checked first.
chat() { curl -s -o "$tmp/c.json" -w '%{http_code}' ${2:+-H "Authorization: Bearer $2"} \
    -H 'Content-Type: application/json' -d "{\"model\": \"$1\", \"messages\": []}" \
    "$base/v1/chat/completions"; }
check_eq "unknown model without a key: 401" "$(chat no-such-model '')" 401
check_eq "unknown model with a wrong key: 401" "$(chat no-such-model agk_wrong)" 401
check_eq "unknown model with a key: 404" "$(chat no-such-model "$k_all")" 404
check_eq "404 code" "$(jq -r .error.code "$tmp/c.json")" model_not_found
check_eq "a route the key may not use: 403" "$(chat other "$k_chat")" 403

# /v1/models: only the routes the key may use.
models() { curl -s -H "Authorization: Bearer $1" "$base/v1/models" | jq -c '[.data[].id] | sort'; }
check_eq "models: a key for chat sees chat" "$(models "$k_chat")" '["chat"]'
check_eq "models: a key for all sees all" "$(models "$k_all")" '["chat","other"]'
check_eq "models: no key, no list" "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/models")" 401

# Framing: the body's length must be unambiguous.
raw() { node "$clients" raw "$gw" "$1"; }
hdr="POST /v1/chat/completions HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $k_all\\r\\nContent-Type: application/json\\r\\n"
body='{\"model\":\"chat\",\"messages\":[]}'
r=$(raw "${hdr}Content-Length: 30\\r\\nContent-Length: 5\\r\\n\\r\\n$body")
check_eq "two different Content-Length: 400" "$(echo "$r" | jq -c '[.status, .code]')" '[400,"invalid_framing"]'
check_eq "two different Content-Length: connection closed" "$(echo "$r" | jq .closed)" true
r=$(raw "${hdr}Content-Length: 30\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1e\\r\\n$body\\r\\n0\\r\\n\\r\\n")
check_eq "Content-Length with chunked: 400" "$(echo "$r" | jq -c '[.status, .code]')" '[400,"invalid_framing"]'
check_eq "Content-Length with chunked: connection closed" "$(echo "$r" | jq .closed)" true
r=$(raw "${hdr}Content-Length: 30\\r\\nContent-Length: 30\\r\\n\\r\\n$body")
check_eq "the same Content-Length twice is unambiguous" "$(echo "$r" | jq .status)" 200
r=$(raw "${hdr}Content-Length: +30\\r\\n\\r\\n$body")
check_eq "a malformed Content-Length: 400" "$(echo "$r" | jq .status)" 400
finish
