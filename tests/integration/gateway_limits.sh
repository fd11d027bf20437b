#!/usr/bin/env bash
# The gateway's limits and extras end to end: the real `aitag gateway serve` in front of the fake
# OpenAI-compatible upstream (tests/fake-upstream/server.js, 10 prompt + 5 completion tokens per
# answer): tokens per minute and budgets per key (429 with Retry-After), the response cache
# (MISS then HIT, the upstream asked once), redacted payload logging, an IPv6 listen address,
# local_only configs and the X-Aitag-Local-Only header.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fake=$src/tests/fake-upstream/server.js
for t in node curl jq sqlite3; do
    command -v $t >/dev/null || { echo "gateway_limits.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh" # start NAME CMD..., cleanup on exit
up=$(start up node "$fake" --name ok --mode ok)
check "fake upstream started" [ -n "$up" ]
u="http://127.0.0.1:$up/v1"
# 192.0.2.1 (TEST-NET-1) is not this machine: only a local-only request must never try it.
remote='{"name": "remote", "kind": "openai", "url": "http://192.0.2.1:9/v1", "timeout_ms": 300}'
cat >"$tmp/gw.json" <<JSON
{
  "listen": "127.0.0.1", "port": 0, "workers": 4, "retries": 0,
  "keys_db": "$tmp/keys.db", "access_log": "$tmp/access.jsonl", "catalog": "$tmp/cat.db",
  "log_payloads": true,
  "cache": {"ttl_s": 300, "max_bytes": 1048576, "max_entry_bytes": 65536},
  "prices": {"up-model": {"input_per_1m": 100000, "output_per_1m": 200000}},
  "routes": {
    "chat": {"backends": [{"name": "a", "kind": "openai", "url": "$u", "model": "up-model"}]},
    "mixed": {"backends": [$remote, {"name": "near", "kind": "openai", "url": "$u", "priority": 1}]},
    "far": {"backends": [$remote]}
  }
}
JSON
gw=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
base=http://127.0.0.1:$gw

newkey() { "$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --json "$@" | jq -r .key; }
k_all=$(newkey --name all)
k_other=$(newkey --name other)
k_tpm=$(newkey --name tpm --tpm 20)
k_budget=$(newkey --name budget --budget 3)
k_daily=$(newkey --name daily --budget 0.5 --budget-period day)
check "keys with limits created" [ -n "$k_tpm" -a -n "$k_budget" -a -n "$k_daily" ]
"$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --budget-period week >/dev/null 2>"$tmp/err"
check_eq "bad budget period: usage error" "$?" 2
"$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --tpm -5 >/dev/null 2>"$tmp/err"
check_eq "negative tpm: usage error" "$?" 2
check "the error names the flag" grep -q -- --tpm "$tmp/err"

call() { # call NAME KEY BODY [curl args...]: echoes the status; body/headers in $tmp/NAME.*
    local name=$1 key=$2 body=$3; shift 3
    curl -s -o "$tmp/$name.json" -D "$tmp/$name.h" -w '%{http_code}' \
        ${key:+-H "Authorization: Bearer $key"} -H 'Content-Type: application/json' \
        -d "$body" "$@" "$base/v1/chat/completions"
}
chat_body() { printf '{"model": "%s", "messages": [{"role": "user", "content": "hi"}]%s}' "$1" "${2:-}"; }
header() { grep -i "^$1:" "$tmp/$2.h" | tr -d '\r' | sed 's/^[^:]*: //'; }
chats() { curl -s "http://127.0.0.1:$up/_stats" | jq .chat; }
chats_last_model() { curl -s "http://127.0.0.1:$up/_stats" | jq -r .last.model; }

# Tokens per minute: 20; each answer is 15 tokens. Admitted while the bucket is positive,
# charged afterwards: 20 -> 5 -> -10, then refused until it refills (10 / (20/60 s) = 30 s).
check_eq "tpm: first" "$(call t "$k_tpm" "$(chat_body chat)")" 200
check_eq "tpm: second (bucket still positive)" "$(call t "$k_tpm" "$(chat_body chat)")" 200
check_eq "tpm: third refused" "$(call t "$k_tpm" "$(chat_body chat)")" 429
check_eq "tpm: error code" "$(jq -r .error.code "$tmp/t.json")" rate_limit_exceeded
check "tpm: message speaks of tokens" grep -q "tokens per minute" "$tmp/t.json"
ra=$(header retry-after t)
check "tpm: Retry-After about 31 s (got '$ra')" [ -n "$ra" -a "$ra" -ge 25 -a "$ra" -le 32 ]
check_eq "tpm: other keys unaffected" "$(call t "$k_all" "$(chat_body chat)")" 200

# Budget: 3 USD a month; each answer costs 10 * 0.1 + 5 * 0.2 = 2 USD.
check_eq "budget: first" "$(call b "$k_budget" "$(chat_body chat)")" 200
check_eq "budget: second (1 of 3 USD... 2 spent)" "$(call b "$k_budget" "$(chat_body chat)")" 200
check_eq "budget: spent, refused" "$(call b "$k_budget" "$(chat_body chat)")" 429
check_eq "budget: error code" "$(jq -r .error.code "$tmp/b.json")" budget_exceeded
check_eq "budget: error type" "$(jq -r .error.type "$tmp/b.json")" insufficient_quota
ra=$(header retry-after b)
now=$(date -u +%s)
eom=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%s)
check "budget: Retry-After is the time to the month's end (got '$ra')" \
    [ -n "$ra" ] && [ $((eom - now - ra)) -le 5 ] && [ $((eom - now - ra)) -ge -5 ]
check_eq "daily budget: first" "$(call b "$k_daily" "$(chat_body chat)")" 200
check_eq "daily budget: refused" "$(call b "$k_daily" "$(chat_body chat)")" 429
ra=$(header retry-after b)
eod=$(date -u -d "$(date -u +%Y-%m-%d) +1 day" +%s)
check "daily budget: Retry-After to midnight UTC (got '$ra')" \
    [ -n "$ra" ] && [ $((eod - now - ra)) -le 5 ] && [ $((eod - now - ra)) -ge -5 ]
keys_has() { # keys_has JQ: `keys list --json` satisfies JQ (spent comes from batched usage rows)
    "$AITAG_BIN" gateway keys list --db "$tmp/keys.db" --json >"$tmp/keys.jsonl" &&
        jq -e -s "$1" "$tmp/keys.jsonl" >/dev/null
}
check "keys list: tpm" eventually keys_has 'any(.name == "tpm" and .tpm == 20)'
check "keys list: budget, period, spent" eventually keys_has \
    'any(.name == "budget" and .budget == 3 and .budget_period == "month" and .spent == 4)'
check "keys list: daily" eventually keys_has 'any(.name == "daily" and .budget_period == "day" and .spent == 2)'
check "keys table shows the columns" sh -c \
    "'$AITAG_BIN' gateway keys list --db '$tmp/keys.db' | head -n 1 | grep -q 'tpm.*budget.*budget_period.*spent'"

# An older key file (no tpm/budget columns) is migrated by the running gateway's CLI and server.
sqlite3 "$tmp/old.db" "CREATE TABLE gateway_keys (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL, name TEXT, routes TEXT, rpm INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL, revoked INTEGER)"
check "old key file: create works" sh -c "'$AITAG_BIN' gateway keys create --db '$tmp/old.db' --tpm 5 >/dev/null"
check_eq "old key file: columns added" \
    "$(sqlite3 "$tmp/old.db" "SELECT count(*) FROM pragma_table_info('gateway_keys') WHERE name IN ('tpm', 'budget', 'budget_period')")" 3

# Response cache: temperature 0, not streamed. Keyed by route + endpoint + canonical body, not
# by the key, but the key is checked first.
c0=$(chats)
det=$(chat_body chat ', "temperature": 0')
check_eq "cache: first is a miss" "$(call c1 "$k_all" "$det")" 200
check_eq "cache: X-Cache MISS" "$(header x-cache c1)" MISS
same='{"temperature":0,"messages":[{"content":"hi","role":"user"}],"model":"chat"}'
check_eq "cache: same request, other key order" "$(call c2 "$k_other" "$same")" 200
check_eq "cache: X-Cache HIT" "$(header x-cache c2)" HIT
check_eq "cache: same answer" "$(jq -cS . "$tmp/c2.json")" "$(jq -cS . "$tmp/c1.json")"
check_eq "cache: upstream asked once" "$(($(chats) - c0))" 1
check_eq "cache: no key, no answer" "$(call c3 '' "$same")" 401
check_eq "cache: 401 is not from the cache" "$(header x-cache c3)" ""
warm=$(chat_body chat ', "temperature": 0.7')
call c4 "$k_all" "$warm" >/dev/null
call c4 "$k_all" "$warm" >/dev/null
check_eq "cache: temperature 0.7 never cached" "$(($(chats) - c0))" 3
check_eq "cache: no X-Cache header when not cacheable" "$(header x-cache c4)" ""
call c5 "$k_all" "$(chat_body chat)" >/dev/null
check_eq "cache: absent temperature is not deterministic" "$(($(chats) - c0))" 4
curl -sN -o /dev/null -H "Authorization: Bearer $k_all" -H 'Content-Type: application/json' \
    -d "$(chat_body chat ', "temperature": 0, "stream": true')" "$base/v1/chat/completions"
check_eq "cache: streams go upstream" "$(($(chats) - c0))" 5
metric() { curl -s "$base/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
check_eq "metrics: cache hits" "$(metric aitag_gateway_cache_hits_total)" 1
check_eq "metrics: cache misses" "$(metric aitag_gateway_cache_misses_total)" 1
check_eq "metrics: cache evictions" "$(metric aitag_gateway_cache_evictions_total)" 0

# Payload logging (on here): redacted, cut to 4 KiB, never the key.
img="data:image/png;base64,$(head -c 3000 /dev/urandom | base64 -w0)"
body=$(jq -cn --arg img "$img" '{model: "chat", api_key: "sk-supersecret-1", messages: [{role: "user",
    content: [{type: "text", text: "what is in the picture"}, {type: "image_url", image_url: {url: $img}}]}]}')
check_eq "payload request" "$(call p "$k_all" "$body")" 200
# logged when the last byte is sent
eventually grep -q '"what is in the picture' "$tmp/access.jsonl"
line=$(grep '"what is in the picture' "$tmp/access.jsonl" | tail -n 1)
check "payload: request body logged" [ -n "$line" ]
check "payload: response body logged" jq -e '.response_body | contains("hello from ok")' <<<"$line"
check "payload: api_key redacted" jq -e '.request_body | contains("\"api_key\":\"[redacted 16 bytes]\"")' <<<"$line"
check "payload: data: URL redacted" jq -e --arg n "${#img}" '.request_body | contains("[redacted " + $n + " bytes]")' <<<"$line"
check "payload: no secret in the log" sh -c "! grep -q -e sk-supersecret -e '${img:30:40}' -e agk_ '$tmp/access.jsonl'"
check "payload: the cache hit is logged" jq -e -s 'any(.cache == "hit" and .status == 200 and .prompt_tokens == 0 and .cost == 0)' "$tmp/access.jsonl"
check "payload: the miss too" jq -e -s 'any(.cache == "miss")' "$tmp/access.jsonl"
check "payload: streams log no response body" jq -e -s \
    'map(select(.request_body // "" | contains("\"stream\":true"))) | length == 1 and (.[0] | has("response_body") | not)' "$tmp/access.jsonl"
long=$(head -c 9000 /dev/zero | tr '\0' 'x')
call big "$k_all" "$(chat_body chat ", \"user\": \"$long\"")" >/dev/null
sleep 0.3
check "payload: cut to 4 KiB" jq -e -s 'map(select(.request_body // "" | contains("xxxx"))) | .[0].request_body | length < 4200 and contains("more bytes]")' "$tmp/access.jsonl"

# X-Aitag-Local-Only: the remote backend is skipped (not tried, so not counted as failing).
check_eq "local-only header: a loopback backend answers" \
    "$(call l "$k_all" "$(chat_body mixed)" -H 'X-Aitag-Local-Only: 1')" 200
check_eq "local-only header: remote backend never tried" \
    "$(curl -s "$base/metrics" | grep -c 'backend="remote"')" 0
check_eq "local-only header: nothing local left: 503" \
    "$(call l "$k_all" "$(chat_body far)" -H 'X-Aitag-Local-Only: 1')" 503
check_eq "local-only header: error code" "$(jq -r .error.code "$tmp/l.json")" local_only
check_eq "without the header the remote one is tried" "$(call l "$k_all" "$(chat_body mixed)")" 200
check "without the header the remote one is tried (counted)" sh -c "curl -s '$base/metrics' | grep -q 'backend=\"remote\"'"

# local_only in the config: a remote backend is a config error naming route, backend and URL.
cat >"$tmp/lo-bad.json" <<JSON
{"port": 0, "local_only": true, "routes": {
  "ok": {"backends": [{"kind": "openai", "url": "http://localhost:$up/v1"}]},
  "cloud": {"backends": [{"name": "openai", "kind": "openai", "url": "https://api.openai.com/v1"}]}}}
JSON
"$AITAG_BIN" gateway serve --config "$tmp/lo-bad.json" >/dev/null 2>"$tmp/err"
check_eq "local_only config: exit 2" "$?" 2
check "local_only config: names route, backend and url" \
    grep -q "route 'cloud' backend 'openai' url 'https://api.openai.com/v1'" "$tmp/err"

# IPv6 (and local_only with loopback backends): listen on ::1; payloads not logged by default.
if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
    cat >"$tmp/gw6.json" <<JSON
{"listen": "::1", "port": 0, "local_only": true, "access_log": "$tmp/access6.jsonl",
 "catalog": "$tmp/cat6.db", "routes": {"chat": {"backends": [{"kind": "openai", "url": "http://[::1]:1/v1", "timeout_ms": 300},
   {"kind": "openai", "url": "http://localhost:$up/v1", "priority": 1}]}}}
JSON
    gw6=$(start gw6 "$AITAG_BIN" gateway serve --config "$tmp/gw6.json")
    check "ipv6: started" [ -n "$gw6" ]
    check "ipv6: listening line in brackets" grep -q "listening on \[::1\]:$gw6" "$tmp/gw6.out"
    check_eq "ipv6: healthz" "$(curl -s -g -o /dev/null -w '%{http_code}' "http://[::1]:$gw6/healthz")" 200
    check_eq "ipv6: chat" "$(curl -s -g -o "$tmp/v6.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$(chat_body chat ', "temperature": 0')" "http://[::1]:$gw6/v1/chat/completions")" 200
    check_eq "ipv6: no cache configured, no X-Cache" \
        "$(curl -s -g -D - -o /dev/null -H 'Content-Type: application/json' -d "$(chat_body chat ', "temperature": 0')" \
            "http://[::1]:$gw6/v1/chat/completions" | grep -ci '^x-cache')" 0
    check "ipv6: only IPv6 (not 127.0.0.1)" sh -c "! curl -s -m 2 'http://127.0.0.1:$gw6/healthz' >/dev/null"
    echo '{"listen": "::", "port": 0, "catalog": "'"$tmp"'/ds.db", "routes": {"r": {"backends": [{"kind": "openai", "url": "http://127.0.0.1:1/v1"}]}}}' >"$tmp/ds.json"
    ds=$(start ds "$AITAG_BIN" gateway serve --config "$tmp/ds.json")
    check_eq "dual stack (::): IPv6 client" "$(curl -s -g -o /dev/null -w '%{http_code}' "http://[::1]:$ds/healthz")" 200
    check_eq "dual stack (::): IPv4 client" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ds/healthz")" 200
    sleep 0.3
    check "no payloads by default" jq -e -s 'length >= 2 and all(has("request_body") or has("response_body") | not)' "$tmp/access6.jsonl"
else
    echo "gateway_limits.sh: no IPv6 loopback (::1) here: IPv6 checks skipped" >&2
fi
echo '{"listen": "::zz", "routes": {"r": {"backends": [{"kind": "local", "analyzers": ["faces"]}]}}}' >"$tmp/bad6.json"
"$AITAG_BIN" gateway serve --config "$tmp/bad6.json" >/dev/null 2>"$tmp/err"
check_eq "bad listen address: exit 2" "$?" 2
check "bad listen address named" grep -q "::zz" "$tmp/err"
# Usage is summed in memory and written in batches (docs/gateway.md): a burst of parallel
# requests is all in gateway_usage once the gateway has stopped on SIGTERM; budgets count what
# is not written yet; a revoked key is refused at its next request. Access log without payloads.
cat >"$tmp/gwu.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 4, "keys_db": "$tmp/usage.db",
 "access_log": "$tmp/access-u.jsonl", "catalog": "$tmp/cat-u.db",
 "prices": {"up-model": {"input_per_1m": 100000, "output_per_1m": 200000}},
 "routes": {"chat": {"backends": [{"name": "a", "kind": "openai", "url": "$u", "model": "up-model"}]}}}
JSON
ku=$("$AITAG_BIN" gateway keys create --db "$tmp/usage.db" --json | jq -r .key)
kb=$("$AITAG_BIN" gateway keys create --db "$tmp/usage.db" --budget 5 --json | jq -r .key)
gwu=$(start gwu "$AITAG_BIN" gateway serve --config "$tmp/gwu.json")
gwu_pid=$(tail -n 1 "$tmp/.pids")
check "usage gateway started" [ -n "$gwu" ]
seq 40 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ku" \
    -H 'Content-Type: application/json' -d "$(chat_body chat)" \
    "http://127.0.0.1:$gwu/v1/chat/completions" >"$tmp/burst.codes"
check_eq "burst: 40 answers 200" "$(grep -c '^200$' "$tmp/burst.codes")" 40
# Budget 5 USD, 2 USD an answer, sent one after the other: the third is admitted (4 < 5) and
# the fourth refused (6 >= 5), whether or not the first ones are written yet.
for i in 1 2 3 4; do
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $kb" -H 'Content-Type: application/json' \
        -d "$(chat_body chat)" "http://127.0.0.1:$gwu/v1/chat/completions"
done >"$tmp/budget.codes"
check_eq "budget with unwritten usage: 200 200 200 429" "$(tr '\n' ' ' <"$tmp/budget.codes")" "200 200 200 429 "
"$AITAG_BIN" gateway keys revoke --db "$tmp/usage.db" 1
check_eq "revoked while serving: refused at the next request" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ku" -H 'Content-Type: application/json' \
        -d "$(chat_body chat)" "http://127.0.0.1:$gwu/v1/chat/completions")" 401
# "model" is replaced in the client's bytes: only the top-level one, any spacing, nested ones
# kept; an escaped key name falls back to serialising the parsed body.
odd='{ "messages" : [{"role": "user", "content": "hi \"model\": x", "model": "inner"}], "model" :  "chat" , "meta": {"model": "deep"}}'
k3=$("$AITAG_BIN" gateway keys create --db "$tmp/usage.db" --name k3 --json | jq -r .key)
check_eq "spliced model: answered" "$(curl -s -o "$tmp/odd.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $k3" -d "$odd" "http://127.0.0.1:$gwu/v1/chat/completions")" 200
check_eq "spliced model: upstream got the backend's model" "$(chats_last_model)" up-model
check_eq "escaped key: answered" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $k3" -d '{"mod\u0065l": "chat", "messages": []}' "http://127.0.0.1:$gwu/v1/chat/completions")" 200
check_eq "escaped key: upstream got the backend's model" "$(chats_last_model)" up-model
curl -s -o /dev/null "http://127.0.0.1:$gwu/v1/a%22b%5C%01%ff"
kill -TERM "$gwu_pid"
for _ in $(seq 100); do kill -0 "$gwu_pid" 2>/dev/null || break; sleep 0.1; done
check "usage gateway stopped on SIGTERM" sh -c "! kill -0 $gwu_pid 2>/dev/null"
check_eq "every request of the burst written at shutdown" \
    "$(sqlite3 "$tmp/usage.db" "SELECT SUM(requests) FROM gateway_usage WHERE key_id = 1")" 40
check_eq "tokens summed" "$(sqlite3 "$tmp/usage.db" "SELECT SUM(prompt_tokens) FROM gateway_usage WHERE key_id = 1")" 400
check_eq "one row per day, key, route and model" "$(sqlite3 "$tmp/usage.db" "SELECT count(*) FROM gateway_usage WHERE key_id = 1")" 1
check_eq "budget key: 3 answers written" "$(sqlite3 "$tmp/usage.db" "SELECT requests FROM gateway_usage WHERE key_id = 2")" 3
check "access log: every line is JSON" jq -e -s 'length >= 47' "$tmp/access-u.jsonl"
# Lines wait in memory up to 10 ms and go out in batches; none is lost at shutdown, none cut.
check_eq "access log: one whole line per request, all written at shutdown" \
    "$(jq -c . "$tmp/access-u.jsonl" | wc -l) $(wc -l <"$tmp/access-u.jsonl")" "48 48"
check "access log: path escaped (quote, backslash, control, bad UTF-8)" jq -e -s \
    'any(.path == "/v1/a\"b\\\u0001\ufffd" and .status == 404 and .key_id == null)' "$tmp/access-u.jsonl"
check "access log: fields of an answered request" jq -e -s \
    'any(.key_id == 1 and .route == "chat" and .backend == "a" and .model == "up-model" and .status == 200
         and .prompt_tokens == 10 and .completion_tokens == 5 and (.cost - 2 | fabs) < 1e-9
         and (.latency_ms | type) == "number" and (.ts | type) == "number"
         and (.request_id | startswith("req-")))' "$tmp/access-u.jsonl"
finish
