#!/usr/bin/env bash
# Stream buffers are bounded (docs/gateway.md, "Limits": stream_buffer_bytes): an upstream that
# streams ~300 MB to a client reading slowly pauses instead of filling the gateway's memory,
# and the whole stream still arrives intact, in order, once the client reads it all.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fake=$src/tests/fake-upstream/stream.js
for t in node curl sha256sum; do
    command -v $t >/dev/null || { echo "gateway_stream_buffer.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh"
bytes=$((300 * 1024 * 1024))
up=$(start up node "$fake" --mode flood --bytes "$bytes")
check "flood upstream started" [ -n "$up" ]
cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "retries": 0,
 "routes": {"flood": {"backends": [{"name": "flood", "kind": "openai",
   "url": "http://127.0.0.1:$up/v1", "timeout_ms": 300000}]}}}
JSON
gw=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
gw_pid=$(tail -n 1 "$tmp/.pids")
check "gateway started" [ -n "$gw" ]
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$gw_pid/status"; } # peak RSS, KiB
body='{"model": "flood", "stream": true, "messages": [{"role": "user", "content": "all of it"}]}'
stream() { # stream CURL_ARGS...: the whole answer through the gateway, to stdout
    curl -sN "$@" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$gw/v1/chat/completions"
}

# Warm up (first allocations, a first stream) before the baseline: a short, fast read.
stream | head -c 100000 >/dev/null
sleep 0.5
before=$(hwm)
# The client reads at 60 MB/s while the upstream could send much faster: without backpressure
# the difference piles up in the gateway (hundreds of MB); with it the gateway holds one buffer.
got=$(stream --limit-rate 60M | sha256sum | cut -d' ' -f1)
want=$(node "$fake" --print "$bytes" | sha256sum | cut -d' ' -f1)
after=$(hwm)
grow=$(((after - before) / 1024))
echo "gateway peak RSS: ${before} KiB before, ${after} KiB after (+${grow} MiB)"
check_eq "the whole stream arrives intact" "$got" "$want"
check "peak RSS grows by under 64 MiB for a 300 MB stream to a slow client (+${grow} MiB)" \
    [ "$grow" -lt 64 ]
check_eq "healthy afterwards" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gw/healthz")" 200

# A client that stops reading and leaves: the paused call ends (the upstream sees its socket
# close), and the next stream works.
timeout 2 curl -sN --limit-rate 100K -H 'Content-Type: application/json' -d "$body" \
    "http://127.0.0.1:$gw/v1/chat/completions" >/dev/null 2>&1
check_eq "a stream after a client left a paused one" \
    "$(stream | head -c 2000000 | wc -c)" 2000000
finish
