#!/usr/bin/env bash
# bench/scale.sh [BUILD_DIR] - the job queue on a PostgreSQL catalog (make bench-scale;
# BENCHMARKS.md, "Scale-out"). A throwaway server (tests/pg/server.sh) on this machine.
#   1. The queue alone: BENCH_JOBS jobs whose files are gone, one attempt each: every job is a
#      claim, an open that fails and a finish, so jobs per second is the queue's own cost per
#      item (claim + finish; a lease renewal costs one UPDATE every lease/3 seconds); with one
#      worker, then four claiming at once (lock contention).
#   2. Light analysis (faces, one thread per worker) of BENCH_ITEMS distinct small pictures:
#      the floor is one `aitag tag` process on the same files and catalog kind; then 1, 2 and 4
#      workers draining the queue. Items per second, and the queue's share of a worker's time
#      (its wall time less the jobs' analysis time, per item).
#   3. Connections a worker holds, from pg_stat_activity while 2 run.
# Medians of BENCH_REPEAT runs. Prints a table and writes bench/results/scale.json.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
repeat=${BENCH_REPEAT:-3}
n_jobs=${BENCH_JOBS:-2000}
n_items=${BENCH_ITEMS:-200}
A="$root/$build/aitag"
PG="$root/tests/pg/server.sh"
PSQL=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
[[ -x "$A" ]] || { echo "scale: build first (make build)" >&2; exit 1; }
mkdir -p "$root/bench/results"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; bash "$PG" stop "$work/pg"; rm -rf "$work"' EXIT
bash "$PG" start "$work/pg" >/dev/null
db=0
newdb() { db=$((db + 1)); u=$(bash "$PG" createdb "$work/pg" "b$db"); } # sets u
now() { date +%s.%N; }
calc() { awk "BEGIN {print $*}"; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# the pictures: distinct frames of FFmpeg's test pattern, 320x240
mkdir -p "$work/lib"
ffmpeg -v error -f lavfi -i "testsrc2=size=320x240:rate=5" -frames:v "$n_items" \
    "$work/lib/p%04d.jpg"
T=(--analyzers faces --no-people --threads 1)

echo "scale: 1. the queue alone ($n_jobs jobs; 1 and 4 workers)" >&2
declare -A qrate
for w in 1 4; do
    rates=()
    for _ in $(seq "$repeat"); do
        newdb
        "$A" jobs --catalog "$u" >/dev/null # creates the tables
        "$PSQL" -X -q "$u" -c "INSERT INTO jobs(path, enqueued_ms) SELECT '/gone/' || g, 0
            FROM generate_series(1, $n_jobs) g" >/dev/null
        t0=$(now)
        for i in $(seq "$w"); do
            "$A" worker --drain --max-attempts 1 "${T[@]}" --worker-name "q$i" --catalog "$u" \
                >/dev/null 2>&1 &
        done
        wait
        t1=$(now)
        rates+=("$(calc "$n_jobs / ($t1 - $t0)")")
    done
    qrate[$w]=$(printf '%s\n' "${rates[@]}" | median)
done
queue_rate=${qrate[1]}

echo "scale: 2. $n_items pictures: aitag tag, then 1, 2, 4 workers" >&2
tag_rates=()
for _ in $(seq "$repeat"); do
    newdb
    t0=$(now)
    "$A" tag "${T[@]}" --quiet --progress never --catalog "$u" "$work/lib" 2>/dev/null
    t1=$(now)
    tag_rates+=("$(calc "$n_items / ($t1 - $t0)")")
done
tag_rate=$(printf '%s\n' "${tag_rates[@]}" | median)
declare -A rate share
conns=0
for w in 1 2 4; do
    rates=() shares=()
    for _ in $(seq "$repeat"); do
        newdb
        "$A" enqueue --catalog "$u" "$work/lib" 2>/dev/null
        t0=$(now)
        for i in $(seq "$w"); do
            "$A" worker --drain "${T[@]}" --worker-name "w$i" --catalog "$u" >/dev/null 2>&1 &
        done
        if [ "$w" = 2 ] && [ "$conns" = 0 ]; then
            sleep 1
            conns=$("$PSQL" -X -At "$u" -c "SELECT count(*) FROM pg_stat_activity
                WHERE datname = 'b$db' AND pid <> pg_backend_pid()")
        fi
        wait
        t1=$(now)
        rates+=("$(calc "$n_items / ($t1 - $t0)")")
        analysis=$("$PSQL" -X -At "$u" -c "SELECT sum(seconds) FROM jobs WHERE state = 'done'")
        # per item: the workers' time less the analysis, over the items
        shares+=("$(calc "(($t1 - $t0) * $w - $analysis) / $n_items * 1000")")
    done
    rate[$w]=$(printf '%s\n' "${rates[@]}" | median)
    share[$w]=$(printf '%s\n' "${shares[@]}" | median)
done

printf '\n%-44s %12s\n' "what" "value"
printf '%-44s %12.0f\n' "queue alone: jobs/s (claim + finish)" "$queue_rate"
printf '%-44s %12.2f\n' "queue alone: ms per job" "$(calc "1000 / $queue_rate")"
printf '%-44s %12.0f\n' "queue alone, 4 workers: jobs/s" "${qrate[4]}"
printf '%-44s %12.1f\n' "aitag tag (floor): items/s" "$tag_rate"
for w in 1 2 4; do
    printf '%-44s %12.1f  (%.2fx the floor)\n' "$w worker(s): items/s" "${rate[$w]}" \
        "$(calc "${rate[$w]} / $tag_rate")"
    printf '%-44s %12.1f\n' "$w worker(s): ms per item outside analysis" "${share[$w]}"
done
printf '%-44s %12s\n' "connections held by 2 workers" "$conns"
cat >"$root/bench/results/scale.json" <<JSON
{"repeat": $repeat, "jobs": $n_jobs, "items": $n_items, "cores": $(nproc),
 "queue_jobs_per_s": $queue_rate, "queue_jobs_per_s_4_workers": ${qrate[4]}, "tag_items_per_s": $tag_rate,
 "workers_items_per_s": {"1": ${rate[1]}, "2": ${rate[2]}, "4": ${rate[4]}},
 "workers_ms_outside_analysis": {"1": ${share[1]}, "2": ${share[2]}, "4": ${share[4]}},
 "connections_2_workers": $conns}
JSON
