#!/usr/bin/env bash
# Budgets, tokens per minute and concurrency per key under concurrent requests: admission
# reserves an estimate (so four requests at once cannot spend past the budget by more than one
# estimate, six cannot take past the token limit by more than one), settlement gives it back
# and charges the real usage once; usage an upstream reports as negative or beyond any count is
# replaced by the estimate and logged, usage over the config's caps is refused at settlement,
# logged and never stored (the key's spend stays >= 0 and its next request is answered); one
# key's requests to a slow upstream hold at most its concurrency slots (429 with Retry-After
# beyond them), so another key is not starved, and slots come back when clients leave early.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
for t in node curl jq sqlite3; do
    command -v $t >/dev/null || { echo "gateway_auth_limits.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh"
# An upstream whose path prefix picks its behaviour: /slow waits 2 s, /neg reports negative
# usage, /huge two billion prompt tokens, /big fifty million (a count, but over max_usage_tokens);
# every answer otherwise 10 + 5 tokens.
cat >"$tmp/up.js" <<'JS'
const http = require('http');
const srv = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const kind = req.url.split('/')[1];
    let usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    if (kind === 'neg') usage = { prompt_tokens: -1000000000, completion_tokens: 5, total_tokens: -999999995 };
    if (kind === 'big') usage = { prompt_tokens: 50000000, completion_tokens: 5, total_tokens: 50000005 };
    if (kind === 'huge') usage = { prompt_tokens: 2000000000, completion_tokens: 5, total_tokens: 2000000005 };
    const answer = JSON.stringify({ id: 'c', object: 'chat.completion', model: 'up-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage });
    setTimeout(() => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(answer); },
      kind === 'slow' ? 2000 : 0);
  });
});
srv.listen(0, '127.0.0.1', () => console.log('listening ' + srv.address().port));
JS
up=$(start up node "$tmp/up.js")
check "upstream started" [ -n "$up" ]
backend() { echo "{\"backends\": [{\"name\": \"$1\", \"kind\": \"openai\", \"url\": \"http://127.0.0.1:$up/$1/v1\", \"model\": \"up-model\"}]}"; }
cat >"$tmp/gw.json" <<JSON
{
  "listen": "127.0.0.1", "port": 0, "workers": 4, "retries": 0, "keys_db": "$tmp/keys.db",
  "key_concurrency": 2,
  "prices": {"up-model": {"input_per_1m": 100000, "output_per_1m": 200000}},
  "routes": {"slow": $(backend slow), "fast": $(backend fast), "neg": $(backend neg),
             "huge": $(backend huge), "big": $(backend big)}
}
JSON
newkey() { "$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --json "$@"; }
newkey --name budget --budget 3 >"$tmp/kb.json"
newkey --name tpm --tpm 40 >"$tmp/kt.json"
newkey --name neg --budget 100 >"$tmp/kn.json"
newkey --name greedy >"$tmp/ka.json"
newkey --name other >"$tmp/ko.json"
newkey --name single --concurrency 1 >"$tmp/kc.json"
key() { jq -r .key "$tmp/$1.json"; }
kid() { jq -r .id "$tmp/$1.json"; }
check "keys created" [ -n "$(key kc)" ]
"$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --concurrency -1 >/dev/null 2>"$tmp/err"
check_eq "negative concurrency: usage error" "$?" 2
check "keys list shows the concurrency" sh -c \
    "'$AITAG_BIN' gateway keys list --db '$tmp/keys.db' --json | jq -e -s 'any(.name == \"single\" and .concurrency == 1)' >/dev/null"
gw=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
base=http://127.0.0.1:$gw

# chat NAME KEY ROUTE [curl args]: the status, body in $tmp/NAME.json, headers in $tmp/NAME.h
chat() {
    local name=$1 k=$2 route=$3; shift 3
    curl -s -o "$tmp/$name.json" -D "$tmp/$name.h" -w '%{http_code}' -H "Authorization: Bearer $k" \
        -H 'Content-Type: application/json' "$@" \
        -d "{\"model\": \"$route\", \"max_tokens\": 5, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" \
        "$base/v1/chat/completions"
}
# parallel N NAME KEY ROUTE: N chats at once; their statuses sorted, one per line
parallel() {
    local n=$1 name=$2 k=$3 route=$4 i
    for i in $(seq "$n"); do (echo "$(chat "$name$i" "$k" "$route")" >"$tmp/$name$i.code") & done
    wait
    cat "$tmp/$name"[0-9]*.code | sort
}
count() { echo "$1" | grep -c "^$2\$"; }
q() { sqlite3 "$tmp/keys.db" "$1"; }
settled() { [ "$(q "SELECT COALESCE(SUM(requests), 0) FROM gateway_usage WHERE key_id = $1")" = "$2" ]; }

# Budget 3 USD, 2 USD an answer, an estimate of about 2.8 USD (18 prompt tokens from the body's
# bytes + max_tokens 5): four at once may spend at most 3 + 2.8.
codes=$(parallel 4 b "$(key kb)" slow)
check "budget: some answered, some refused ($(echo $codes))" \
    [ "$(count "$codes" 200)" -ge 1 -a "$(count "$codes" 429)" -ge 1 ]
check "budget: the answers are settled" eventually settled "$(kid kb)" "$(count "$codes" 200)"
spent=$(q "SELECT COALESCE(SUM(cost), 0) FROM gateway_usage WHERE key_id = $(kid kb)")
check "budget: four at once spent $spent <= 3 + one estimate" \
    awk -v s="$spent" 'BEGIN { exit !(s <= 5.8) }'

# Tokens per minute 40, 15 tokens an answer, an estimate of 23: six at once take at most 63.
codes=$(parallel 6 t "$(key kt)" slow)
check "tpm: some refused ($(echo $codes))" [ "$(count "$codes" 429)" -ge 1 ]
check "tpm: the answers are settled" eventually settled "$(kid kt)" "$(count "$codes" 200)"
tokens=$(q "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM gateway_usage WHERE key_id = $(kid kt)")
check "tpm: six at once took $tokens <= 40 + one estimate" [ "$tokens" -le 63 ]

# Usage the upstream reports as negative or absurd: answered, charged the estimate instead,
# logged; usage over max_usage_tokens: answered, refused at settlement, logged, not stored.
check_eq "negative usage: the answer is relayed" "$(chat n1 "$(key kn)" neg)" 200
check_eq "absurd usage: the answer is relayed" "$(chat n2 "$(key kn)" huge)" 200
check_eq "usage over the cap: the answer is relayed" "$(chat n5 "$(key kn)" big)" 200
check_eq "the key's next request is answered" "$(chat n3 "$(key kn)" fast)" 200
check_eq "and the next" "$(chat n4 "$(key kn)" fast)" 200
check "all but the one over the cap are stored" eventually settled "$(kid kn)" 4
check "the invalid ones were charged an estimate, not their usage" [ \
    "$(q "SELECT MAX(prompt_tokens) FROM gateway_usage WHERE key_id = $(kid kn)")" -lt 1000 ]
check_eq "nothing negative stored" \
    "$(q "SELECT count(*) FROM gateway_usage WHERE cost < 0 OR prompt_tokens < 0 OR completion_tokens < 0")" 0
check "the spend is not negative" sh -c \
    "'$AITAG_BIN' gateway keys list --db '$tmp/keys.db' --json | jq -e -s 'all(.spent >= 0)' >/dev/null"
check_eq "invalid usage logged" "$(grep -c 'event=usage_invalid' "$tmp/gw.err")" 2
check_eq "refusals logged" "$(grep -c 'event=usage_refused' "$tmp/gw.err")" 1

# Concurrency: "greedy" (the config's 2) sends four to the slow route; "other" is not starved.
for i in 1 2 3 4; do (echo "$(chat g$i "$(key ka)" slow)" >"$tmp/g$i.code") & done
sleep 0.5
t0=$(date +%s%N)
check_eq "another key meanwhile: answered" "$(chat o1 "$(key ko)" fast)" 200
ms=$((($(date +%s%N) - t0) / 1000000))
wait
codes=$(cat "$tmp"/g?.code | sort)
check "another key is not starved (${ms} ms)" [ "$ms" -lt 1000 ]
check_eq "greedy: two answered" "$(count "$codes" 200)" 2
check_eq "greedy: two refused" "$(count "$codes" 429)" 2
for i in 1 2 3 4; do
    if [ "$(cat "$tmp/g$i.code")" = 429 ]; then
        check_eq "429 names the concurrency limit" "$(jq -r .error.code "$tmp/g$i.json")" concurrency_limit_exceeded
        check_eq "429 has Retry-After" "$(grep -i '^retry-after:' "$tmp/g$i.h" | tr -d '\r' | awk '{print $2}')" 1
        break
    fi
done
codes=$(parallel 2 c "$(key kc)" slow)
check_eq "a key's own --concurrency 1 wins over the config" "$(echo $codes)" "200 429"
# Clients that leave early: their slots come back once the upstream call ends.
for i in 1 2; do (chat e$i "$(key ka)" slow --max-time 0.3 >/dev/null) & done
wait
sleep 2.5
codes=$(parallel 2 a "$(key ka)" slow)
check_eq "slots given back after clients left" "$(echo $codes)" "200 200"
finish
