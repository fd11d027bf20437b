#!/usr/bin/env bash
# scale_workers.sh - many workers tag one library through a PostgreSQL catalog (real server,
# tests/pg/server.sh) and the catalog ends as one machine's `aitag tag` leaves it:
#   - 3 workers (separate processes) drain the queue: every job done once, results equal;
#   - a worker SIGKILLed mid-item: its job is claimed again after its lease, stored once;
#   - the database restarted (as a crash) mid-run: the workers carry on, nothing lost;
#   - SIGTERM: the job in flight is finished, then the worker stops; enqueue never queues a
#     path twice, new paths come before re-tags, a file a worker can't open fails with its
#     name and ends dead after --max-attempts, and `aitag jobs --retry-dead` queues it again.
# ctest-label: slow
source "$(dirname "$0")/lib.sh"
A=$AITAG_BIN
F=$AITAG_FIXTURES_DIR
PG=$AITAG_SOURCE_DIR/tests/pg/server.sh
PSQL=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
trap 'kill -9 $(jobs -p) 2>/dev/null; bash "$PG" stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bash "$PG" start "$tmp/pg" >/dev/null || { echo "FAIL: start PostgreSQL" >&2; exit 1; }
jqq() { jq -e "$@" >/dev/null; }

lib=$tmp/lib
mkdir -p "$lib"
cp "$F"/images/*.jpg "$F"/images/*.png "$F"/images/*.webp "$lib/"
cp "$F/videos/rotated_720p_h264.mp4" "$F/videos/text_720p_vp9.webm" "$lib/"
n_files=$(ls "$lib" | wc -l)
T=(--analyzers faces,objects,text --no-people --threads 1)
W=(--drain --lease 5 --backoff 0.2 "${T[@]}")

# the reference: one machine, one SQLite file
"$A" tag --quiet --progress never "${T[@]}" --catalog "$tmp/one.db" "$lib" 2>"$tmp/one.err"
check_eq "one machine: exit 0" "$?" 0
"$A" show --json --catalog "$tmp/one.db" "$lib"/* >"$tmp/one.json"
one_evidence=$(sqlite3 "$tmp/one.db" 'SELECT count(*) FROM evidence')

q() { "$PSQL" -X -At "$1" -c "$2"; }
same_as_one() { # same_as_one DESCRIPTION URL: results and evidence rows as the reference's
    "$A" show --json --catalog "$2" "$lib"/* >"$tmp/got.json"
    if cmp -s "$tmp/one.json" "$tmp/got.json"; then ok; else
        fail "$1: results differ from one machine's"
        diff "$tmp/one.json" "$tmp/got.json" | head -n 5 >&2
    fi
    check_eq "$1: evidence stored once" "$(q "$2" 'SELECT count(*) FROM evidence')" "$one_evidence"
    check_eq "$1: one item per file" "$(q "$2" 'SELECT count(*) FROM media')" "$n_files"
}
jobs_json() { "$A" jobs --json --catalog "$1"; }
queue_is() { jobs_json "$1" | jq -e "$2" >/dev/null; } # queue_is URL FILTER
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
    local n=$(($1 * 10)); shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}

# --- three workers ---
u3=$(bash "$PG" createdb "$tmp/pg" three)
"$A" enqueue --catalog "$u3" "$lib" 2>"$tmp/enq.err"
check_eq "enqueue: exit 0" "$?" 0
check "enqueue: all queued" grep -q "^aitag enqueue: $n_files queued, 0 already queued" "$tmp/enq.err"
"$A" enqueue --catalog "$u3" "$lib" 2>"$tmp/enq2.err"
check "enqueue again: nothing queued twice" \
    grep -q "^aitag enqueue: 0 queued, $n_files already queued" "$tmp/enq2.err"
for i in 1 2 3; do
    timeout 300 "$A" worker "${W[@]}" --json --worker-name "w$i" --catalog "$u3" \
        >"$tmp/w$i.out" 2>"$tmp/w$i.err" &
done
wait
jobs_json "$u3" >"$tmp/jobs3.json"
check "3 workers: every job done, none dead or left" jqq \
    ".done == $n_files and .queued == 0 and .running == 0 and .dead == 0" "$tmp/jobs3.json"
check "3 workers: each job reported done once" test \
    "$(cat "$tmp"/w?.out | jq -r 'select(.status == "done") | .path' | sort -u | wc -l)" \
    -eq "$(cat "$tmp"/w?.out | jq -r 'select(.status == "done") | .path' | wc -l)"
check "3 workers: the work was shared" test \
    "$(cat "$tmp"/w?.out | jq -r 'select(.status == "done") | .job' | wc -l)" -eq "$n_files"
check "3 workers: each did some" jqq '[.workers[] | .done > 0] | all' "$tmp/jobs3.json"
check "3 workers: stopped" jqq '[.workers[] | .state == "stopped"] | all' "$tmp/jobs3.json"
same_as_one "3 workers" "$u3"

# --- a worker killed mid-item ---
uk=$(bash "$PG" createdb "$tmp/pg" killed)
"$A" enqueue --catalog "$uk" "$lib/text_720p_vp9.webm" 2>/dev/null
"$A" worker "${W[@]}" --worker-name doomed --catalog "$uk" >"$tmp/doomed.out" 2>&1 &
doomed=$!
check "the doomed worker claims the video" wait_for 30 \
    queue_is "$uk" '.running == 1 and .workers[0].current != null'
sleep 1 # mid-item: analysing
kill -9 "$doomed"
wait "$doomed" 2>/dev/null
"$A" enqueue --catalog "$uk" "$lib" 2>/dev/null
check "the killed worker's job is still running (its lease)" jqq '.running == 1' <(jobs_json "$uk")
timeout 300 "$A" worker "${W[@]}" --json --worker-name rescuer --catalog "$uk" \
    >"$tmp/rescuer.out" 2>"$tmp/rescuer.err"
check_eq "rescuer: exit 0" "$?" 0
jobs_json "$uk" >"$tmp/jobsk.json"
check "after the kill: every job done" jqq \
    ".done == $n_files and .running == 0 and .dead == 0" "$tmp/jobsk.json"
check "the killed worker's video was claimed again (attempt 2)" jqq -s \
    'any(.[]; (.path | endswith("text_720p_vp9.webm")) and .attempt == 2 and .status == "done")' \
    "$tmp/rescuer.out"
check "the killed worker is shown as not stopped" jqq \
    '.workers[] | select(.name == "doomed") | .state == "running" or .state == "lost"' \
    "$tmp/jobsk.json"
same_as_one "after a kill" "$uk"

# --- the database restarted mid-run ---
ur=$(bash "$PG" createdb "$tmp/pg" restarted)
"$A" enqueue --catalog "$ur" "$lib" 2>/dev/null
for i in 1 2; do
    timeout 300 "$A" worker "${W[@]}" --json --worker-name "r$i" --catalog "$ur" \
        >"$tmp/r$i.out" 2>"$tmp/r$i.err" &
done
check "restart: some work done first" wait_for 60 queue_is "$ur" '.done >= 2'
bash "$PG" restart "$tmp/pg"
check_eq "the database restarted" "$?" 0
wait
check "the workers met the restart and went on" grep -q "trying again" "$tmp/r1.err" "$tmp/r2.err"
jobs_json "$ur" >"$tmp/jobsr.json"
check "after the restart: every job done" jqq \
    ".done == $n_files and .running == 0 and .dead == 0" "$tmp/jobsr.json"
same_as_one "after a database restart" "$ur"

# --- SIGTERM finishes the job in flight ---
ut=$(bash "$PG" createdb "$tmp/pg" term)
"$A" enqueue --catalog "$ut" "$lib/text_720p_vp9.webm" "$lib/rotated_720p_h264.mp4" 2>/dev/null
"$A" worker "${W[@]}" --json --worker-name polite --catalog "$ut" >"$tmp/polite.out" \
    2>"$tmp/polite.err" &
polite=$!
wait_for 30 queue_is "$ut" '.running == 1'
kill -TERM "$polite"
wait "$polite"
check_eq "SIGTERM: exit 0 after the job in flight" "$?" 0
check "SIGTERM: that job done, the other left queued" jqq \
    '.done == 1 and .queued == 1 and .running == 0' <(jobs_json "$ut")
check "SIGTERM: the worker says it stopped" jqq '.workers[0].state == "stopped"' \
    <(jobs_json "$ut")

# --- priorities, failures, dead letters ---
up=$(bash "$PG" createdb "$tmp/pg" prio)
"$A" tag --quiet --progress never "${T[@]}" --catalog "$up" "$lib/sign_on_photo.jpg" 2>/dev/null
mkdir -p "$tmp/other"
cp "$lib/group_3faces.jpg" "$tmp/other/new.jpg"
"$A" enqueue --catalog "$up" "$lib/sign_on_photo.jpg" "$tmp/other/new.jpg" 2>/dev/null
check_eq "a new path comes first" \
    "$(q "$up" "SELECT path FROM jobs WHERE state = 'queued' ORDER BY priority DESC, id LIMIT 1")" \
    "$tmp/other/new.jpg"
rm "$tmp/other/new.jpg"
"$A" worker "${W[@]}" --json --max-attempts 2 --worker-name failing --catalog "$up" \
    >"$tmp/fail.out" 2>"$tmp/fail.err"
check "a file the worker can't open: named, retried, then dead" jqq -s \
    '[.[] | select(.path | endswith("new.jpg"))] | (.[0].status == "retry") and
     (.[-1].status == "dead") and (.[-1].error | contains("new.jpg")) and length == 2' \
    "$tmp/fail.out"
"$A" jobs --catalog "$up" >"$tmp/jobs.txt"
check "aitag jobs lists the dead job with its error" grep -q "new.jpg \[dead after 2 attempts\]" \
    "$tmp/jobs.txt"
cp "$lib/group_3faces.jpg" "$tmp/other/new.jpg"
"$A" jobs --retry-dead --catalog "$up" >/dev/null 2>"$tmp/retry.err"
check "retry-dead: one queued again" grep -q "1 dead job queued again" "$tmp/retry.err"
"$A" worker "${W[@]}" --worker-name fixed --catalog "$up" >/dev/null 2>&1
check "retried: done" jqq '.dead == 0 and .queued == 0 and .done == 2' <(jobs_json "$up")
finish
