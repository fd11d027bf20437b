#!/usr/bin/env bash
# The gateway's OpenAI-compatible endpoints beyond chat, end to end: the real
# `aitag gateway serve` in front of fake upstreams (tests/fake-upstream/server.js) that speak
# the real protocols. /v1/embeddings (passthrough, usage and cost, failover on malformed
# answers, local-only routes), /v1/audio/transcriptions (a real multipart upload of a WAV made
# by FFmpeg, rebuilt for the upstream with the backend's model), malformed and oversize
# multipart bodies, a client that sends its body very slowly, streams that break on either
# side, and keep-alive connection reuse towards upstreams.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fake=$src/tests/fake-upstream/server.js
for t in node curl jq sqlite3 ffmpeg sha256sum; do
    command -v $t >/dev/null || { echo "gateway_api.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh"
for m in ok malformed badembed whisper slowbody streambreak reuse down; do
    mode=$m; [ $m = whisper ] || [ $m = reuse ] && mode=ok; [ $m = down ] && mode=500
    port=$(start "up_$m" node "$fake" --name "$m" --mode "$mode")
    declare "up_${m}=$port"
done
check "fake upstreams started" [ -n "$up_ok" -a -n "$up_reuse" ]
u() { echo "http://127.0.0.1:$1/v1"; }
stats() { curl -s "http://127.0.0.1:$1/__test/stats"; }
cat >"$tmp/gw.json" <<JSON
{
  "listen": "127.0.0.1", "port": 0, "workers": 4, "max_body_bytes": 1048576,
  "keys_db": "$tmp/keys.db", "access_log": "$tmp/access.jsonl",
  "catalog": "$tmp/gw-catalog.db", "tmp_dir": "$tmp", "retries": 0, "backoff_ms": 10,
  "prices": {"emb-model": {"input_per_1m": 1000, "output_per_1m": 0}},
  "cache": {"max_bytes": 1048576, "ttl_s": 300},
  "routes": {
    "embed": {"backends": [{"name": "emb", "kind": "openai", "url": "$(u "$up_ok")", "key_env": "FAKE_UPSTREAM_KEY", "model": "emb-model"}]},
    "embed-fo": {"backends": [{"name": "bad-json", "kind": "openai", "url": "$(u "$up_malformed")"},
                              {"name": "no-data", "kind": "openai", "url": "$(u "$up_badembed")", "priority": 1},
                              {"name": "good", "kind": "openai", "url": "$(u "$up_ok")", "priority": 2}]},
    "embed-local": {"backends": [{"name": "local-faces", "kind": "local", "analyzers": ["faces"]}]},
    "embed-mixed": {"backends": [{"name": "local-first", "kind": "local", "analyzers": ["faces"]},
                                 {"name": "good", "kind": "openai", "url": "$(u "$up_ok")", "priority": 1}]},
    "whisper": {"backends": [{"name": "w", "kind": "openai", "url": "$(u "$up_whisper")", "model": "whisper-large"}]},
    "whisper-fo": {"backends": [{"name": "w-down", "kind": "openai", "url": "$(u "$up_down")"},
                                {"name": "w-up", "kind": "openai", "url": "$(u "$up_whisper")", "priority": 1}]},
    "chat": {"backends": [{"name": "a", "kind": "openai", "url": "$(u "$up_ok")"}]},
    "slowbody": {"backends": [{"name": "dribble", "kind": "openai", "url": "$(u "$up_slowbody")"}]},
    "broken": {"backends": [{"name": "breaks", "kind": "openai", "url": "$(u "$up_streambreak")"}]},
    "reuse": {"backends": [{"name": "kept", "kind": "openai", "url": "$(u "$up_reuse")"}]}
  }
}
JSON
gw=$(FAKE_UPSTREAM_KEY=sekrit start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$gw" ]
base=http://127.0.0.1:$gw
key=$("$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name all --json | jq -r .key)

# call NAME METHOD PATH KEY [curl args...]: body in $tmp/NAME.json, headers in $tmp/NAME.h;
# echoes the HTTP status.
call() {
    local name=$1 method=$2 path=$3 key=$4; shift 4
    curl -s -o "$tmp/$name.json" -D "$tmp/$name.h" -w '%{http_code}' -X "$method" \
        ${key:+-H "Authorization: Bearer $key"} "$@" "$base$path"
}
jpost() { call "$1" POST "$2" "$3" -H 'Content-Type: application/json' -d "$4"; }
jqq() { jq -e "$@" >/dev/null; }
metric() { curl -s "$base/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
emb_body() { printf '{"model": "%s", "input": %s}' "$1" "${2:-[\"red fox jumps\", \"blue\"]}"; }
chat_body() { printf '{"model": "%s", "messages": [{"role": "user", "content": "hi"}]%s}' "$1" "${2:-}"; }

# --- /v1/embeddings ---------------------------------------------------------------------------
check_eq "embeddings 200" "$(jpost e /v1/embeddings "$key" "$(emb_body embed)")" 200
stats "$up_ok" >"$tmp/st.json"
curl -s -H 'Content-Type: application/json' -d "$(emb_body emb-model)" "$(u "$up_ok")/embeddings" >"$tmp/direct.json"
check_eq "embeddings passed through (the upstream's vectors)" "$(jq -c .data "$tmp/e.json")" "$(jq -c .data "$tmp/direct.json")"
check "two vectors of 8" jqq '(.data | length) == 2 and (.data[0].embedding | length) == 8' "$tmp/e.json"
check_eq "embeddings: model rewritten upstream" "$(jq -r .last_embedding.model "$tmp/st.json")" emb-model
check_eq "embeddings: upstream key from key_env" "$(jq -r .last_embedding.auth "$tmp/st.json")" "Bearer sekrit"
check_eq "embeddings: input forwarded" "$(jq -c .last_embedding.input "$tmp/st.json")" '["red fox jumps","blue"]'
rid=$(grep -i '^x-request-id:' "$tmp/e.h" | tr -d '\r' | awk '{print $2}')
check_eq "embeddings: request id forwarded" "$(jq -r .last_embedding.request_id "$tmp/st.json")" "$rid"
for _ in $(seq 30); do grep -q "\"$rid\"" "$tmp/access.jsonl" 2>/dev/null && break; sleep 0.1; done
check "embeddings: usage and cost in the access log" \
    jqq -s --arg id "$rid" 'map(select(.request_id == $id)) | .[0] | .route == "embed" and .prompt_tokens == 4 and .model == "emb-model" and (.cost - 0.004 | fabs) < 1e-9' "$tmp/access.jsonl"
usage_has() { # usage_has JQ: the usage table, as JSON lines, satisfies JQ (rows are batched)
    "$AITAG_BIN" gateway usage --db "$tmp/keys.db" --json >"$tmp/usage.jsonl" && jqq -s "$1" "$tmp/usage.jsonl"
}
check "embeddings: usage summed per key" eventually usage_has \
    'any(.route == "embed" and .model == "emb-model" and .requests == 1 and .prompt_tokens == 4 and .cost > 0.0039)'
check "embeddings: first call is a cache miss" grep -qi '^x-cache: miss' "$tmp/e.h"
check_eq "embeddings: the same call again" "$(jpost e2 /v1/embeddings "$key" "$(emb_body embed)")" 200
check "embeddings: ... is a cache hit" grep -qi '^x-cache: hit' "$tmp/e2.h"
check_eq "embeddings: ... with the same vectors" "$(jq -c .data "$tmp/e2.json")" "$(jq -c .data "$tmp/e.json")"
check_eq "embeddings: ... and no upstream call" "$(stats "$up_ok" | jq .embeddings)" 2
check_eq "embeddings: failover past broken JSON and an answer without data" \
    "$(jpost e /v1/embeddings "$key" "$(emb_body embed-fo '"one"')")" 200
check_eq "embeddings: answered by the healthy backend" "$(jq -r '.data | length' "$tmp/e.json")" 1
check_eq "malformed JSON counted" "$(metric 'aitag_gateway_upstream_errors_total{backend="bad-json",reason="malformed"}')" 1
check_eq "answer without data counted as malformed" "$(metric 'aitag_gateway_upstream_errors_total{backend="no-data",reason="malformed"}')" 1
check_eq "embeddings: local-only route 501" "$(jpost e /v1/embeddings "$key" "$(emb_body embed-local)")" 501
check_eq "chat: local-only route 501 too" "$(jpost c /v1/chat/completions "$key" "$(chat_body embed-local)")" 501
check "501 says why" jqq '.error.code == "unsupported" and (.error.message | test("embed-local") and test("local"))' "$tmp/e.json"
check_eq "embeddings: local backend skipped" "$(jpost e /v1/embeddings "$key" "$(emb_body embed-mixed)")" 200
check_eq "a skipped local backend is no upstream error" "$(curl -s "$base/metrics" | grep -c 'backend="local-')" 0
check_eq "embeddings: bad JSON 400" "$(jpost e /v1/embeddings "$key" '{"model": "embed", "input": ')" 400
check_eq "bad JSON error code" "$(jq -r .error.code "$tmp/e.json")" invalid_json
check_eq "embeddings: missing input 400" "$(jpost e /v1/embeddings "$key" '{"model": "embed"}')" 400
check "missing input names the field" jqq '.error.code == "invalid_input" and (.error.message | test("input"))' "$tmp/e.json"
check_eq "embeddings: missing model 400" "$(jpost e /v1/embeddings "$key" '{"input": "x"}')" 400
check_eq "embeddings: unknown model 404" "$(jpost e /v1/embeddings "$key" "$(emb_body nope)")" 404
check_eq "embeddings: upstream 4xx passed through" "$(jpost e /v1/embeddings "$key" "$(emb_body embed '[1, 2]')")" 400
check_eq "upstream 4xx body kept" "$(jq -r .error.param "$tmp/e.json")" input
check_eq "embeddings: no key 401" "$(jpost e /v1/embeddings '' "$(emb_body embed)")" 401
check_eq "embeddings: GET 405" "$(call e GET /v1/embeddings "$key")" 405

# --- /v1/audio/transcriptions -----------------------------------------------------------------
ffmpeg -nostdin -loglevel error -f lavfi -i sine=frequency=440:duration=1 -ar 16000 -ac 1 "$tmp/tone.wav"
wav_bytes=$(stat -c %s "$tmp/tone.wav")
check "a WAV was made" [ "$wav_bytes" -gt 20000 ]
tpost() { local name=$1; shift; call "$name" POST /v1/audio/transcriptions "$key" "$@"; }
check_eq "transcription 200" "$(tpost t -F "file=@$tmp/tone.wav;type=audio/wav" -F model=whisper -F language=en -F temperature=0.2)" 200
check_eq "transcription answer passed through" "$(jq -r .text "$tmp/t.json")" \
    "heard $wav_bytes bytes with whisper-large at whisper"
stats "$up_whisper" >"$tmp/st.json"
check_eq "upstream got the backend's model" "$(jq -r .last_transcription.model "$tmp/st.json")" whisper-large
check_eq "upstream got every byte" "$(jq -r .last_transcription.file_sha256 "$tmp/st.json")" \
    "$(sha256sum "$tmp/tone.wav" | cut -d' ' -f1)"
check_eq "upstream got the file name and type" "$(jq -r '.last_transcription | "\(.file_name) \(.file_type)"' "$tmp/st.json")" \
    "tone.wav audio/wav"
check_eq "other fields forwarded in order" \
    "$(jq -r '.last_transcription | "\(.parts | join(",")) \(.language) \(.temperature)"' "$tmp/st.json")" \
    "file,model,language,temperature en 0.2"
check_eq "transcription as text" "$(tpost t -F "file=@$tmp/tone.wav" -F model=whisper -F response_format=text)" 200
check_eq "text body" "$(cat "$tmp/t.json")" "heard $wav_bytes bytes with whisper-large at whisper"
check "text content type" grep -qi '^content-type: text/plain' "$tmp/t.h"
check_eq "missing file 400" "$(tpost t -F model=whisper)" 400
check "missing file names the part" jqq '.error.code == "missing_file" and (.error.message | test("\"file\""))' "$tmp/t.json"
check_eq "missing model 400" "$(tpost t -F "file=@$tmp/tone.wav")" 400
check "missing model names the part" jqq '.error.code == "missing_model" and (.error.message | test("\"model\""))' "$tmp/t.json"
check_eq "unknown model 404" "$(tpost t -F "file=@$tmp/tone.wav" -F model=nope)" 404
check_eq "JSON instead of multipart 400" "$(tpost t -H 'Content-Type: application/json' -d '{"model": "whisper"}')" 400
check_eq "JSON instead of multipart: code" "$(jq -r .error.code "$tmp/t.json")" invalid_multipart
check_eq "multipart without a boundary 400" "$(tpost t -H 'Content-Type: multipart/form-data' --data-binary 'abc')" 400
check_eq "no boundary: code" "$(jq -r .error.code "$tmp/t.json")" invalid_multipart
check_eq "multipart garbage 400" "$(tpost t -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary 'not multipart at all')" 400
check_eq "garbage: code" "$(jq -r .error.code "$tmp/t.json")" invalid_multipart
printf -- '--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF....' >"$tmp/cut.bin"
check_eq "multipart cut before its end 400" "$(tpost t -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$tmp/cut.bin")" 400
check_eq "cut: code" "$(jq -r .error.code "$tmp/t.json")" invalid_multipart
head -c 1500000 /dev/urandom >"$tmp/big.wav"
check_eq "oversize upload 413" "$(tpost t -F "file=@$tmp/big.wav" -F model=whisper)" 413
check_eq "oversize chunked upload 413" "$(tpost t -H 'Transfer-Encoding: chunked' -F "file=@$tmp/big.wav" -F model=whisper)" 413
check_eq "transcription: no key 401" "$(call t POST /v1/audio/transcriptions '' -F "file=@$tmp/tone.wav" -F model=whisper)" 401
check_eq "transcriptions counted upstream (no call for bad requests)" "$(stats "$up_whisper" | jq .transcriptions)" 2
check_eq "transcription fails over past a 500" "$(tpost t -F "file=@$tmp/tone.wav" -F model=whisper-fo)" 200
check_eq "failover: the second backend answered, with the client's model" "$(jq -r .text "$tmp/t.json")" \
    "heard $wav_bytes bytes with whisper-fo at whisper"
check_eq "failover: the failing backend got the whole upload too" \
    "$(stats "$up_down" | jq -r .last_transcription.file_bytes)" "$wav_bytes"

# --- Slow clients and streaming faults ------------------------------------------------------
# A client that sends its headers and then its body over ~3 s holds no worker and no loop time.
body=$(chat_body chat)
{
    exec 3<>"/dev/tcp/127.0.0.1/$gw"
    printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' "$key" "${#body}" >&3
    for ((i = 0; i < ${#body}; i += 8)); do
        printf '%s' "${body:i:8}" >&3
        sleep 0.4
    done
    timeout 10 cat <&3 >"$tmp/slowclient.txt"
    exec 3<&-
} &
slow_pid=$!
sleep 1
check "slow client: healthz answers meanwhile" \
    awk '{exit !($1 < 1.0)}' <<<"$(curl -s -o /dev/null -w '%{time_total}' "$base/healthz")"
t0=$(date +%s.%N)
check_eq "slow client: a chat call answers meanwhile" "$(jpost c /v1/chat/completions "$key" "$(chat_body chat)")" 200
check "slow client: ... promptly" awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {exit !(b - a < 1.5)}'
check "slow client: still sending when the others were answered" kill -0 $slow_pid
wait $slow_pid
check "slow client: answered in the end" grep -q '^HTTP/1.1 200' "$tmp/slowclient.txt"
check "slow client: full answer" grep -q 'hello from ok' "$tmp/slowclient.txt"

# An upstream that dribbles its answer: the gateway waits for all of it.
check_eq "slow upstream body: 200" "$(jpost sb /v1/chat/completions "$key" "$(chat_body slowbody)")" 200
check_eq "slow upstream body: complete" "$(jq -r '.choices[0].message.content' "$tmp/sb.json")" "hello from slowbody"

# An upstream that breaks mid-stream: the client keeps what was sent, the gateway counts it.
curl -sN -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "$(chat_body broken ', "stream": true')" "$base/v1/chat/completions" >"$tmp/brk.txt"
check_eq "broken stream: the chunks before the break arrive" \
    "$(grep '^data: {' "$tmp/brk.txt" | sed 's/^data: //' | jq -r '.choices[0].delta.content' | tr -d '\n')" "chunk0 chunk1 "
check "broken stream: no [DONE]" sh -c "! grep -q DONE '$tmp/brk.txt'"
check_eq "broken stream counted" "$(metric 'aitag_gateway_upstream_errors_total{backend="breaks",reason="stream_broken"}')" 1
check_eq "healthy after a broken stream" "$(call h GET /healthz '')" 200

# A client that leaves mid-stream: nothing counted against the backend, later calls work.
for _ in 1 2 3; do
    timeout 0.25 curl -sN -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "$(chat_body chat ', "stream": true')" "$base/v1/chat/completions" >/dev/null 2>&1
done
sleep 0.8
check_eq "healthy after clients left mid-stream" "$(call h GET /healthz '')" 200
check_eq "a client leaving is not the backend's failure" "$(curl -s "$base/metrics" | grep -c 'backend="a"')" 0
# 5 content events: the usage event is left out, this client did not ask for it (include_usage)
check_eq "streams still work after that" \
    "$(curl -sN -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$(chat_body chat ', "stream": true')" "$base/v1/chat/completions" | grep -c '^data: {')" 5

# --- Through another gateway (no keys: open) -------------------------------------------------
cat >"$tmp/gw2.json" <<JSON
{"port": 0, "workers": 2, "catalog": "$tmp/gw2-catalog.db", "retries": 0, "routes": {
  "embed2": {"backends": [{"kind": "gateway", "url": "$base", "key_env": "GW1_KEY", "model": "embed"}]},
  "whisper2": {"backends": [{"kind": "gateway", "url": "$base", "key_env": "GW1_KEY", "model": "whisper"}]}}}
JSON
gw2=$(GW1_KEY=$key start gw2 "$AITAG_BIN" gateway serve --config "$tmp/gw2.json")
base1=$base
base=http://127.0.0.1:$gw2
check_eq "embeddings through another gateway" "$(jpost g /v1/embeddings '' "$(emb_body embed2)")" 200
check_eq "... same vectors" "$(jq -c .data "$tmp/g.json")" "$(jq -c .data "$tmp/direct.json")"
check_eq "transcription through another gateway" "$(call g POST /v1/audio/transcriptions '' -F "file=@$tmp/tone.wav" -F model=whisper2 -F response_format=text)" 200
check_eq "... the model replaced at each hop, every byte there" "$(cat "$tmp/g.json")" \
    "heard $wav_bytes bytes with whisper-large at whisper"
base=$base1

# --- Connection reuse -------------------------------------------------------------------------
for _ in $(seq 20); do jpost r /v1/chat/completions "$key" "$(chat_body reuse)" >/dev/null; done
stats "$up_reuse" >"$tmp/st.json"
check_eq "reuse: 20 calls reached the upstream" "$(jq .chat "$tmp/st.json")" 20
# (the stats call itself is one more connection)
check "reuse: over at most one connection per worker (got $(jq '.connections - 1' "$tmp/st.json"))" \
    jqq '.connections - 1 >= 1 and .connections - 1 <= 4' "$tmp/st.json"
check "reuse: requests shared connections" \
    jqq '[.requests[] | select(.url == "/v1/chat/completions") | .socket] | unique | length <= 4' "$tmp/st.json"
finish
