#!/usr/bin/env bash
# /metrics without a key cannot be inflated or corrupted: labels come from the endpoint table
# (or a configured route's name), so 10,000 random URLs (with quotes, CR and invalid UTF-8 in
# them once decoded) add one "not_found" series and the scrape stays small; a route and a
# backend whose names hold quotes, CR, LF and backslashes are escaped so that a strict reader
# of the exposition format accepts the whole text; GET on the chat endpoint counts as that
# endpoint with 405.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
clients=$src/tests/integration/gateway_auth_clients.js
for t in node curl jq; do
    command -v $t >/dev/null || { echo "gateway_auth_metrics.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh"
up=$(start up node "$src/tests/fake-upstream/server.js" --name ok --mode ok)
check "fake upstream started" [ -n "$up" ]
weird='we\"ird\r\n\\route'
cat >"$tmp/gw.json" <<JSON
{
  "listen": "127.0.0.1", "port": 0, "workers": 2, "retries": 0,
  "routes": {
    "chat": {"backends": [{"name": "a", "kind": "openai", "url": "http://127.0.0.1:$up/v1"}]},
    "$weird": {"backends": [{"name": "dead\r\n\"b\\\\", "kind": "openai", "url": "http://127.0.0.1:9/v1"}]}
  }
}
JSON
gw=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
base=http://127.0.0.1:$gw

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check_eq "chat answers" "$(code -H 'Content-Type: application/json' \
    -d '{"model": "chat", "messages": []}' "$base/v1/chat/completions")" 200
check_eq "the weird route's dead backend: 502" "$(code -H 'Content-Type: application/json' \
    -d "{\"model\": \"$weird\", \"messages\": []}" "$base/v1/chat/completions")" 502
check_eq "GET on chat: 405" "$(code "$base/v1/chat/completions")" 405
node "$clients" urls "$gw" 10000 >"$tmp/urls.json"
check_eq "10,000 random URLs: 404 each" "$(jq '."404"' "$tmp/urls.json")" 10000

curl -s -o "$tmp/metrics.txt" "$base/metrics"
size=$(wc -c <"$tmp/metrics.txt")
check "the scrape stays small ($size bytes)" [ "$size" -lt 16384 ]
metric() { awk -v k="$1" '$1 == k {print $2}' "$tmp/metrics.txt"; }
check_eq "unknown URLs: one series" "$(metric 'aitag_gateway_requests_total{route="not_found",status="404"}')" 10000
check_eq "GET chat: counted as its endpoint with 405" \
    "$(metric 'aitag_gateway_requests_total{route="/v1/chat/completions",status="405"}')" 1
check_eq "chat counted under its route" "$(metric 'aitag_gateway_requests_total{route="chat",status="200"}')" 1
check "the weird route escaped" grep -qF 'route="we\"ird' "$tmp/metrics.txt"

# A strict reader of the exposition format: UTF-8, LF line ends only, every sample line
# name{label="value",...} number with only \\ \" \n escapes inside values.
cat >"$tmp/parse.js" <<'JS'
const fs = require('fs');
const buf = fs.readFileSync(process.argv[2]);
let text;
try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch (e) { console.log('invalid UTF-8'); process.exit(1); }
if (text.includes('\r')) { console.log('CR in the text'); process.exit(1); }
const value = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const sample = new RegExp(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-zA-Z_][a-zA-Z0-9_]*=${value}(,[a-zA-Z_][a-zA-Z0-9_]*=${value})*\\})? [-+0-9.eEInfa]+$`);
const lines = text.split('\n');
if (lines.pop() !== '') { console.log('no final LF'); process.exit(1); }
let n = 0;
for (const l of lines) {
  if (l.startsWith('# HELP ') || l.startsWith('# TYPE ')) continue;
  if (!sample.test(l)) { console.log('bad line: ' + JSON.stringify(l)); process.exit(1); }
  n++;
}
console.log(n);
JS
samples=$(node "$tmp/parse.js" "$tmp/metrics.txt")
check "a strict reader accepts the scrape (got '$samples')" [ "$samples" -gt 10 ] 2>/dev/null
check "the weird backend's errors are in it" grep -q 'aitag_gateway_upstream_errors_total{backend="dead' "$tmp/metrics.txt"
finish
