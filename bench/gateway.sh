#!/usr/bin/env bash
# bench/gateway.sh [BUILD_DIR] - the gateway's cost on loopback, next to nginx.
#
# One nginx (bench/gateway/upstream.server.in, one worker) answers POST /v1/chat/completions
# with a fixed OpenAI-shaped body: the upstream, and the floor. Three proxies stand in front of
# it: a second nginx (bench/gateway/proxy.server.in: keep-alive upstream connections, access log
# on), `aitag gateway serve` without keys_db (auth off) and the same with a keys_db and a key
# (auth on: a key lookup and a usage upsert per request). Both gateways write their access log.
# All of it runs as the current user in a temporary directory and is stopped on exit.
#
# Two measurements, each BENCH_REPEAT (default 5) rounds of BENCH_SECONDS (default 10) per
# target, the targets interleaved and rotated from round to round so that a burst of other
# work on the machine does not land on one target only:
#   latency    wrk -t1 -c10 with a 10 ms pause after each answer (bench/gateway/post.lua, wrk's
#              delay()): about 1,000 requests/s held open; p50/p99 from wrk's histogram.
#              added = median(target) - median(direct).
#   throughput wrk -t2 -c64, no pause (closed loop): requests/s, and the proxy's CPU time per
#              request (utime + stime of the gateway process or of nginx's workers).
# Every number is a median over rounds. BENCH_PIN=1 pins wrk and the upstream to CPU 0 and the
# proxy under test to CPU 1 (taskset): each proxy gets one core of its own.
# BENCH_GW_WORKERS sets the gateways' "workers", BENCH_GW_LOOPS their "event_loops" (default:
# the gateway's own defaults).
# BENCH_MODES="latency" (or "throughput") runs one measurement only; its table's rows are empty.
# AITAG_BIN=path uses that binary instead of building BUILD_DIR's.
# Prints a Markdown table and writes it to bench/results/gateway.txt (the per-run values to
# bench/results/gateway.jsonl). Exits non-zero only when something cannot be set up or a target
# does not answer 200; the targets of issue 5 are reported, not asserted.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
repeat=${BENCH_REPEAT:-5}
secs=${BENCH_SECONDS:-10}
pin=${BENCH_PIN:-0}
lat_conns=10
lat_delay_ms=10
tp_threads=2
tp_conns=64
results="$root/bench/results"
tpl="$root/bench/gateway"

die() {
    echo "bench/gateway: error: $*" >&2
    exit 1
}
for t in wrk nginx curl jq ps; do
    command -v "$t" >/dev/null || die "$t is not installed (make setup installs it)"
done
[[ $pin == 1 ]] && ! command -v taskset >/dev/null && die "BENCH_PIN=1 needs taskset"

if [[ -n ${AITAG_BIN:-} ]]; then
    build=$(dirname "$AITAG_BIN")
else
    [[ -f "$build/CMakeCache.txt" ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$(nproc)" --target aitag >/dev/null || die "cannot build aitag in $build"
fi
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt" 2>/dev/null || true)
case "$build_type" in
Release | RelWithDebInfo) ;;
"") build_type=unknown ;;
*) echo "bench/gateway: warning: $build is a '${build_type:-no optimisation}' build" >&2 ;;
esac

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
    if [[ -n ${BENCH_KEEP:-} ]]; then
        echo "bench/gateway: kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
# A private copy: a rebuild of the tree during the run must not swap the binary out.
cp "${AITAG_BIN:-$build/aitag}" "$work/aitag"
aitag="$work/aitag"

# CPU sets (empty: no pinning) for the load generator with the upstream, and for the proxies.
cpus_load=()
cpus_proxy=()
if [[ $pin == 1 ]]; then
    cpus_load=(taskset -c 0)
    cpus_proxy=(taskset -c 1)
fi

# A port below the ephemeral range (where outgoing connections take theirs) that nobody answers on.
free_port() {
    local p low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
    for _ in $(seq 50); do
        p=$((low > 12000 ? 10000 + RANDOM % (low - 10000) : 10000 + RANDOM % 20000))
        (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
            echo "$p"
            return 0
        }
    done
    die "no free port found"
}

wait_port() { # PORT NAME LOG
    for _ in $(seq 100); do
        (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$3" >&2 2>/dev/null || true
    die "$2 does not listen on port $1"
}

# start_nginx NAME SERVER_TEMPLATE PORT WORKERS CPUSET...: sets nginx_pid (the master).
start_nginx() {
    local name=$1 server=$2 port=$3 workers=$4 user=""
    shift 4
    # Workers of a root master would drop to nobody, who cannot write in $work.
    [[ $(id -u) == 0 ]] && user="user root;"
    sed -e "s|@WORK@|$work|g" -e "s|@NAME@|$name|g" -e "s|@WORKERS@|$workers|g" \
        -e "s|@USER@|$user|" "$tpl/nginx.conf.in" >"$work/$name.conf"
    sed -e "s|@WORK@|$work|g" -e "s|@NAME@|$name|g" -e "s|@PORT@|$port|g" \
        -e "s|@UPSTREAM_PORT@|${up_port:-0}|g" "$tpl/$server" >"$work/$name-server.conf"
    "$@" nginx -p "$work" -e "$work/$name-error.log" -c "$work/$name.conf" \
        >"$work/$name.out" 2>&1 &
    nginx_pid=$!
    pids+=("$nginx_pid")
    wait_port "$port" "nginx $name" "$work/$name-error.log"
}

# start_gateway NAME CONFIG CPUSET...: sets gw_port and gw_pid.
start_gateway() {
    local name=$1 config=$2
    shift 2
    "$@" "$aitag" gateway serve --config "$config" >"$work/$name.out" 2>"$work/$name.err" &
    gw_pid=$!
    pids+=("$gw_pid")
    for _ in $(seq 100); do
        grep -q listening "$work/$name.out" 2>/dev/null && break
        kill -0 "$gw_pid" 2>/dev/null || break
        sleep 0.1
    done
    gw_port=$(grep -oE '[0-9]+$' "$work/$name.out" | head -n 1 || true)
    [[ -n $gw_port ]] || {
        cat "$work/$name.err" >&2
        die "gateway $name did not start"
    }
}

up_port=$(free_port)
start_nginx up upstream.server.in "$up_port" 1 "${cpus_load[@]+"${cpus_load[@]}"}"
up_pid=$nginx_pid
px_port=$(free_port)
start_nginx px proxy.server.in "$px_port" auto "${cpus_proxy[@]+"${cpus_proxy[@]}"}"
px_pid=$nginx_pid

gw_config() { # NAME KEYS_DB (empty: auth off)
    jq -n --arg work "$work" --arg name "$1" --arg db "$2" --arg workers "${BENCH_GW_WORKERS:-}" \
        --arg loops "${BENCH_GW_LOOPS:-}" \
        --arg url "http://127.0.0.1:$up_port/v1" '{
        listen: "127.0.0.1", port: 0, access_log: "\($work)/\($name)-access.jsonl",
        catalog: "\($work)/\($name)-catalog.db", tmp_dir: $work,
        routes: {chat: {backends: [{name: "nginx", kind: "openai", url: $url,
                                    model: "bench-model"}]}}}
        + (if $db == "" then {} else {keys_db: $db} end)
        + (if $workers == "" then {} else {workers: ($workers | tonumber)} end)
        + (if $loops == "" then {} else {event_loops: ($loops | tonumber)} end)'
}
gw_config gw "" >"$work/gw.json"
gw_config gwa "$work/keys.db" >"$work/gwa.json"
key=$("$aitag" gateway keys create --db "$work/keys.db" --name bench --json | jq -r .key) ||
    die "cannot create a gateway key"
start_gateway gw "$work/gw.json" "${cpus_proxy[@]+"${cpus_proxy[@]}"}"
gw_open_port=$gw_port gw_open_pid=$gw_pid
start_gateway gwa "$work/gwa.json" "${cpus_proxy[@]+"${cpus_proxy[@]}"}"
gw_auth_port=$gw_port gw_auth_pid=$gw_pid

targets=(direct nginx gateway gateway-auth)
declare -A url pid_of key_of
url[direct]=http://127.0.0.1:$up_port/v1/chat/completions
url[nginx]=http://127.0.0.1:$px_port/v1/chat/completions
url[gateway]=http://127.0.0.1:$gw_open_port/v1/chat/completions
url[gateway-auth]=http://127.0.0.1:$gw_auth_port/v1/chat/completions
pid_of[direct]=$up_pid pid_of[nginx]=$px_pid pid_of[gateway]=$gw_open_pid
pid_of[gateway-auth]=$gw_auth_pid
key_of[gateway-auth]=$key

# Each target must answer the chat request with the upstream's body before anything is timed.
body='{"model":"chat","messages":[{"role":"user","content":"hi"}]}'
for t in "${targets[@]}"; do
    hdr=()
    [[ -n ${key_of[$t]:-} ]] && hdr=(-H "Authorization: Bearer ${key_of[$t]}")
    got=$(curl -sS -o "$work/check.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        "${hdr[@]+"${hdr[@]}"}" -d "$body" "${url[$t]}") || die "$t: request failed"
    if [[ $got != 200 ]] || ! jq -e '.usage.total_tokens == 37' "$work/check.json" >/dev/null; then
        die "$t answered $got: $(head -c 300 "$work/check.json")"
    fi
done

# CPU ticks of a target's own processes: nginx's workers (children of the master), the gateway.
cpu_ticks() {
    local p procs=$1 sum=0
    [[ -f /proc/$1/stat ]] || die "process $1 is gone"
    if [[ $(cat "/proc/$1/comm") == nginx ]]; then procs=$(ps -o pid= --ppid "$1"); fi
    for p in $procs; do
        sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$sum"
}

runs="$work/runs.jsonl"
# run_wrk MODE TARGET ROUND: one wrk run, appended to $runs as JSON.
run_wrk() {
    local mode=$1 t=$2 round=$3 c0 c1 line
    local args=(-t"$tp_threads" -c"$tp_conns") delay=0
    if [[ $mode == latency ]]; then
        args=(-t1 -c"$lat_conns")
        delay=$lat_delay_ms
    fi
    c0=$(cpu_ticks "${pid_of[$t]}")
    line=$(BENCH_KEY=${key_of[$t]:-} BENCH_DELAY_MS=$delay "${cpus_load[@]+"${cpus_load[@]}"}" \
        wrk "${args[@]}" -d"${secs}s" --timeout 5s -s "$tpl/post.lua" "${url[$t]}" |
        grep '^BENCH ') || die "wrk failed on $t"
    c1=$(cpu_ticks "${pid_of[$t]}")
    # "BENCH k=v k=v ..." -> {"mode":..,"target":..,"round":..,"k":v,...}
    awk -v mode="$mode" -v t="$t" -v r="$round" -v cpu="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" '{
        printf "{\"mode\":\"%s\",\"target\":\"%s\",\"round\":%d,\"cpu_s\":%.2f", mode, t, r, cpu / hz
        for (i = 2; i <= NF; i++) { split($i, kv, "="); printf ",\"%s\":%s", kv[1], kv[2] }
        print "}" }' <<<"$line" >>"$runs"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
# Warm-up: connections, caches, the gateway's first requests.
for t in "${targets[@]}"; do
    BENCH_KEY=${key_of[$t]:-} wrk -t1 -c4 -d1s -s "$tpl/post.lua" "${url[$t]}" >/dev/null
done
n=${#targets[@]}
for mode in ${BENCH_MODES:-latency throughput}; do
    for ((r = 1; r <= repeat; r++)); do
        for ((i = 0; i < n; i++)); do
            run_wrk "$mode" "${targets[$(((i + r - 1) % n))]}" "$r"
        done
    done
done
t_end=$(date +%s)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# Medians per mode and target, in a small JSON object keyed "mode/target".
stats=$(jq -s '
    def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
        else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    group_by(.mode + "/" + .target) | map({key: (.[0].mode + "/" + .[0].target), value: {
        rate: (map(.requests / (.duration_us / 1e6)) | median),
        p50: (map(.p50_us / 1000) | median), p99: (map(.p99_us / 1000) | median),
        cpu_us: (map(.cpu_s * 1e6 / .requests) | median),
        errors: (map(.connect + .read + .write + .timeout + .status) | add),
        requests: (map(.requests) | add)}}) | from_entries' "$runs")
get() { jq -r --arg k "$1" --arg f "$2" '.[$k][$f] // empty' <<<"$stats"; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "") print "-"; else printf f, v }'; }

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src include 2>/dev/null | wc -l)
pinning="none (all processes share all CPUs)"
[[ $pin == 1 ]] && pinning="wrk + upstream nginx on CPU 0, proxy under test on CPU 1"
mkdir -p "$results"
{
    echo "gateway benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit ($dirty files changed under src/ include/), $build_type build"
    echo "machine: $(nproc) x $cpu, shared by wrk, nginx and the gateway; load average $load_start -> $load_end"
    echo "$(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{print "wrk " $2}'); pinning: $pinning; gateway workers: ${BENCH_GW_WORKERS:-default}, event loops: ${BENCH_GW_LOOPS:-default}; $repeat rounds x $secs s per target, medians; $((t_end - t_start)) s"
    echo
    echo "Latency at a fixed rate (wrk -t1 -c$lat_conns, ${lat_delay_ms} ms pause per connection):"
    echo
    echo "| target | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    d50=$(get latency/direct p50)
    d99=$(get latency/direct p99)
    for t in "${targets[@]}"; do
        k=latency/$t p50=$(get "latency/$t" p50) p99=$(get "latency/$t" p99)
        a50=- a99=-
        if [[ $t != direct ]]; then
            a50=$(awk -v a="$p50" -v b="$d50" 'BEGIN { printf "%+.3f", a - b }')
            a99=$(awk -v a="$p99" -v b="$d99" 'BEGIN { printf "%+.3f", a - b }')
        fi
        echo "| $t | $(fmt "$(get "$k" rate)" %.0f) | $(fmt "$p50" %.3f) | $(fmt "$p99" %.3f) | $a50 | $a99 | $(get "$k" errors) |"
    done
    echo
    echo "Throughput (wrk -t$tp_threads -c$tp_conns, closed loop); cpu: the target's own CPU time per request:"
    echo
    echo "| target | req/s | x nginx | p50 ms | p99 ms | cpu us/req | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    nx=$(get throughput/nginx rate)
    for t in "${targets[@]}"; do
        k=throughput/$t rate=$(get "throughput/$t" rate)
        echo "| $t | $(fmt "$rate" %.0f) | $(awk -v a="$rate" -v b="$nx" 'BEGIN { printf "%.2f", a / b }') | $(fmt "$(get "$k" p50)" %.2f) | $(fmt "$(get "$k" p99)" %.2f) | $(fmt "$(get "$k" cpu_us)" %.0f) | $(get "$k" errors) |"
    done
} | tee "$results/gateway.txt"
cp "$runs" "$results/gateway.jsonl"
echo "wrote $results/gateway.txt and gateway.jsonl"
