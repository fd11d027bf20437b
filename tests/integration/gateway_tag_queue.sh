#!/usr/bin/env bash
# Local tagging runs on its own bounded queue and threads, never on the HTTP workers: while
# video tags run and wait (more of them than there are workers), a chat request through another
# route answers about as fast as when the tagger is idle; a full tag queue answers 503 with
# Retry-After at once; a gateway stopped while it tags answers the tag in flight and the
# queued one 503 and exits at once, its private upload folder removed.
# ctest-cost: 38
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
fx=$AITAG_FIXTURES_DIR
for t in node curl jq awk; do
    command -v $t >/dev/null || { echo "gateway_tag_queue.sh: $t is required" >&2; exit 1; }
done
source "$src/tests/fake-upstream/spawn.sh" # start NAME CMD..., every process stopped on exit
up=$(start up node "$src/tests/fake-upstream/server.js" --name up --mode ok)
check "fake upstream started" [ -n "$up" ]
mkdir -p "$tmp/lib"
vids="faces_1080p_h264.mp4 faces_text_720p_h264.mp4 faces_720p_hevc.mkv rotated_720p_h264.mp4"
for v in $vids; do cp "$fx/videos/$v" "$tmp/lib/"; done
config() { # config FILE CATALOG EXTRA: two workers, a local tag route and a chat route
    cat >"$1" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "catalog": "$2", "tmp_dir": "$tmp",
 "library_roots": ["$tmp/lib"] $3,
 "routes": {"tag": {"backends": [{"kind": "local", "analyzers": ["faces", "text"]}]},
            "chat": {"backends": [{"kind": "openai", "url": "http://127.0.0.1:$up/v1"}]}}}
JSON
}
tag() { # tag PORT FILE OUT: prints status and the Retry-After header into OUT.code
    curl -s -D "$3.h" -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "{\"path\": \"$tmp/lib/$2\"}" "http://127.0.0.1:$1/v1/tag" >"$3.code"
}
chat_time() { # chat_time PORT: seconds for one chat completion (prints "fail" unless 200)
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
        --data-binary '{"model": "chat", "messages": [{"role": "user", "content": "hi"}]}' \
        "http://127.0.0.1:$1/v1/chat/completions" | awk '$1 == 200 {print $2; next} {print "fail"}'
}
slowest() { # slowest PORT N: the slowest of N chats, or "fail"
    local t worst=0
    for _ in $(seq "$2"); do
        t=$(chat_time "$1")
        [ "$t" = fail ] && { echo fail; return; }
        worst=$(awk -v a="$worst" -v b="$t" 'BEGIN {print (b > a) ? b : a}')
    done
    echo "$worst"
}

config "$tmp/gw.json" "$tmp/gw.db" ""
port=$(start gw "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway started" [ -n "$port" ]
idle=$(slowest "$port" 5)
check "chat answers while the tagger is idle" [ "$idle" != fail ]
# Four video tags, more than the two workers, each several seconds.
i=0
for v in $vids; do
    tag "$port" "$v" "$tmp/t$i.json" &
    i=$((i + 1))
done
sleep 1.5
busy=$(slowest "$port" 5)
running=$(jobs -r | wc -l)
wait
echo "chat: slowest of 5 idle ${idle} s, during video tags ${busy} s ($running tags still running after)" >&2
check "chat answers during video tags" [ "$busy" != fail ]
check "the tags were still running when chat was measured" [ "$running" -gt 0 ]
check "chat during tags within 3 s + 20x its idle latency" \
    awk -v b="$busy" -v i="$idle" 'BEGIN {exit !(b != "fail" && b < 3 + 20 * i)}'
for i in 0 1 2 3; do
    check_eq "video tag $i answered" "$(cat "$tmp/t$i.json.code")" 200
done
check_eq "the workers returned to the pool" "$(curl -s -o /dev/null -w '%{http_code}' \
    http://127.0.0.1:$port/healthz)" 200

# A full tag queue: one running, one waiting (tag_queue 1), the next is 503 with Retry-After.
config "$tmp/gq.json" "$tmp/gq.db" ', "tag_queue": 1, "tag_threads": 1'
port=$(start gq "$AITAG_BIN" gateway serve --config "$tmp/gq.json")
check "second gateway started" [ -n "$port" ]
tag "$port" faces_1080p_h264.mp4 "$tmp/q0.json" &
sleep 1.5
tag "$port" faces_text_720p_h264.mp4 "$tmp/q1.json" &
sleep 0.5
tag "$port" faces_720p_hevc.mkv "$tmp/q2.json"
check_eq "queue full: 503" "$(cat "$tmp/q2.json.code")" 503
check_eq "queue full: error code" "$(jq -r .error.code "$tmp/q2.json")" overloaded
check "queue full: Retry-After" grep -qi '^Retry-After: [1-9]' "$tmp/q2.json.h"
c=$(chat_time "$port")
check "queue full: chat still answers" [ "$c" != fail ]
wait
check_eq "the running tag answered" "$(cat "$tmp/q0.json.code")" 200
check_eq "the queued tag answered" "$(cat "$tmp/q1.json.code")" 200
"$AITAG_BIN" gateway serve --config <(jq '. + {"tag_threads": 0}' "$tmp/gq.json") >/dev/null 2>"$tmp/bad.err"
check_eq "tag_threads 0: config refused" "$?" 2

# Stopped while tagging: an upload in flight, a path waiting.
gqpid=$(tail -n 1 "$tmp/.pids")
curl -s -o "$tmp/s0.json" -w '%{http_code}' -H 'Content-Type: video/mp4' \
    --data-binary @"$tmp/lib/faces_text_720p_h264.mp4" "http://127.0.0.1:$port/v1/tag" >"$tmp/s0.code" &
sleep 1.5
tag "$port" faces_1080p_h264.mp4 "$tmp/s1.json" &
sleep 0.5
folders=$(find "$tmp" -maxdepth 1 -name 'aitag-gateway-*' | wc -l) # both gateways'
t0=$(date +%s.%N)
kill "$gqpid"
for _ in $(seq 150); do kill -0 "$gqpid" 2>/dev/null || break; sleep 0.1; done
wait
check "stopped within 15 s" bash -c "! kill -0 $gqpid 2>/dev/null"
echo "stop took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s" >&2
check_eq "stop: the tag in flight answered 503" "$(cat "$tmp/s0.code")" 503
check_eq "stop: the waiting tag answered 503" "$(cat "$tmp/s1.json.code")" 503
check_eq "stop: error code" "$(jq -r .error.code "$tmp/s1.json")" shutting_down
check_eq "stop: its upload folder removed" "$(find "$tmp" -maxdepth 1 -name 'aitag-gateway-*' | wc -l)" $((folders - 1))
finish
