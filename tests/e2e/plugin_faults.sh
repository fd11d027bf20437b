#!/usr/bin/env bash
# plugin_faults.sh - the plugin against a Stash that fails: SIGKILLed by Stash's stop button
# mid-run, Stash restarted or killed mid-run, 5xx answers, a write that happened but whose answer
# was lost, dropped connections, the session cookie expiring mid-run (API key set), and no
# Stash at all. After each, the next run completes with no duplicated tags or markers, equal to
# the catalog's results; an unreachable Stash gives a clear error and writes nothing.
# ctest-label: slow
# (not again under ASan, for CI time: six videos tagged again after each fault; the Stash
# client's fault paths run under ASan in test_stash, test_stash_answers and e2e_plugin_tag)
# ctest-cost: 106
source "$(dirname "$0")/lib.sh"

F=$AITAG_FIXTURES_DIR
CATALOG="$tmp/plugin/data/catalog.db"
VIDEOS=(faces_1080p_h264.mp4 faces_720p_hevc.mkv faces_text_720p_h264.mp4 mixed_480p_mjpeg.avi
    rotated_720p_h264.mp4 text_720p_vp9.webm)

# Every video queued, plus the user's own tag and marker on the first scene.
queue_seed() {
    printf '%s\n' "${VIDEOS[@]}" | jq -Rsc --arg f "$F" '
      split("\n") | map(select(. != "")) as $v
      | {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}, {name: "Mine"}],
         scenes: [$v | to_entries[] | {path: ($f + "/videos/" + .value),
           tags: (if .key == 0 then ["AI_TagMe", "Mine"] else ["AI_TagMe"] end),
           markers: (if .key == 0 then [{seconds: 0, end_seconds: 18, primary_tag: "Mine", title: "mine"}]
                     else [] end)}]}'
}
out() { jq -c ".output.$1" "$tmp/plugin.out"; }
log_has() { double_log | jq -e "$1" >/dev/null; } # JQ_FILTER over the double's request log
tagged_count() { double_state | jq '[.scenes[] | select(.tags | index("AI_Tagged"))] | length'; }
wait_tagged() { # N TIMEOUT_S: until N scenes carry AI_Tagged
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ "$(tagged_count)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
# Per scene: the plugin's tags and markers, and the user's, canonical.
view() {
    double_state | jq -c '
      ([.tags[] | select(.parents | index("AI")) | .name] - ["AI_TagMe", "AI_Tagged", "AI_Errored"]) as $gen
      | .scenes[] | {path, tags: (.tags | sort),
          ours: ([.markers[] | select(.primary_tag as $t | $gen | index($t)) | [.primary_tag, .seconds, .end_seconds]] | sort),
          user: ([.markers[] | select(.primary_tag as $t | $gen | index($t) | not) | [.id, .primary_tag, .seconds, .title]] | sort)}'
}
# The same from the catalog, for a fully tagged queue (less the technical cues, which the
# catalog keeps and Stash does not get by default).
expected() {
    local v shown
    for v in "${VIDEOS[@]}"; do
        shown=$("$AITAG_BIN" show --catalog "$CATALOG" --json "$F/videos/$v") || return 1
        jq -c --arg p "$F/videos/$v" --arg first "${VIDEOS[0]}" --arg v "$v" '
          def cue: startswith("cue:");
          {path: $p, tags: ((["AI_Tagged"] + [.tags[].name | select(cue | not)] + (if $v == $first then ["Mine"] else [] end)) | sort),
           ours: ([.markers[] | select(.tag | cue | not) | [.tag, .start, .end]] | sort),
           user: (if $v == $first then [["1", "Mine", 0, "mine"]] else [] end)}' <<<"$shown"
    done
}
complete_and_clean() { # LABEL: the last run finished the queue, no duplicates, = catalog
    check_eq "$1: no run error" "$(jq -r .error "$tmp/plugin.out")" null
    check_eq "$1: every scene tagged, nothing queued" \
        "$(double_state | jq -c '[.scenes[] | (.tags | index("AI_Tagged") != null and index("AI_TagMe") == null)] | all')" true
    check_eq "$1: Stash = catalog, no duplicates, user's marker intact" "$(view)" "$(expected)"
}

double_start || exit 1

# ---- SIGKILL mid-run (Stash's stop button), three times, then a run to the end

double_seed "$(queue_seed)"
run_plugin_bg '{"mode":"queue"}'
check "first scene written before the kill" wait_tagged 1 120
kill -KILL "$PLUGIN_PID"
plugin_wait
done1=$(tagged_count)
check "the kill left work to do" test "$done1" -lt ${#VIDEOS[@]}
for delay in 0.3 1.5 3; do
    run_plugin_bg '{"mode":"queue"}'
    sleep "$delay"
    kill -KILL "$PLUGIN_PID" 2>/dev/null
    plugin_wait
done
check "run after the kills exits 0" run_plugin '{"mode":"queue"}'
complete_and_clean "after SIGKILLs"
check "the finished items were not analysed again" test "$(out analysed)" -le $((${#VIDEOS[@]} - done1))

# From here on the catalog knows every file: runs only write, and faults hit the writes.

# ---- 5xx answers and dropped connections are retried

double_seed "$(queue_seed)"
double_fault '[{"status": 503, "count": 2, "match": "AitagBulkSceneUpdate"},
               {"status": 502, "count": 1, "match": "AitagSceneMarkerCreate"},
               {"drop": true, "count": 1, "match": "AitagFindScene"},
               {"status": 500, "count": 1, "match": "AitagFindScenes"}]'
check "5xx and drops: the run exits 0" run_plugin '{"mode":"queue"}'
check_eq "5xx and drops: no model ran" "$(out models_run)" 0
complete_and_clean "5xx and drops"

# ---- a write that happened but whose answer was lost: re-run, no duplicate

double_seed "$(queue_seed)"
double_log_clear
double_fault '[{"status": 502, "apply": true, "count": 1, "after": 1, "match": "AitagSceneMarkerCreate"},
               {"drop": true, "apply": true, "count": 1, "after": 4, "match": "AitagSceneMarkerCreate"},
               {"drop": true, "apply": true, "count": 1, "after": 2, "match": "AitagBulkSceneUpdate"}]'
run_plugin '{"mode":"queue"}'
check "lost answers: the three faults were hit" log_has '[.[] | select(.fault)] | length == 3'
check "lost answers: no duplicate marker even before a re-run" \
    jq -se 'all(.[]; (.ours | length) == (.ours | unique | length))' <<<"$(view)" >/dev/null
check "lost answers: the re-run exits 0" run_plugin '{"mode":"queue"}'
complete_and_clean "lost answers"
check "lost answers: a retag_all run exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "lost answers: retag_all found nothing to fix" "$(out updated)" 0

# ---- Stash restarted mid-run (answers slowed down so the restart lands in the middle)

double_seed "$(queue_seed)"
double_fault '{"delay_ms": 150, "count": 100000}'
run_plugin_bg '{"mode":"queue"}'
check "restart: first scene written" wait_tagged 1 60
double_restart
plugin_wait && rc=0 || rc=$?
check "restart: the run survived (retries) or stopped with an error" \
    jq -e --argjson rc "$rc" '$rc == 0 or (.error | length > 0)' "$tmp/plugin.out" >/dev/null
check "restart: the next run exits 0" run_plugin '{"mode":"queue"}'
complete_and_clean "after a restart"

# ---- Stash killed mid-run and down for longer than the retries: error, then complete

double_seed "$(queue_seed)"
double_fault '{"delay_ms": 150, "count": 100000}'
run_plugin_bg '{"mode":"queue"}'
check "kill: first scene written" wait_tagged 1 60
double_kill
plugin_wait && rc=0 || rc=$?
check "kill: the run stopped with a non-zero exit" test "$rc" -ne 0
check "kill: the error says Stash stopped answering" \
    jq -e '.error | test("Stash|connect|reach"; "i")' "$tmp/plugin.out" >/dev/null
check "kill: the output still counts what was done" jq -e '.output.items == 6' "$tmp/plugin.out" >/dev/null
double_restart
check "kill: the next run exits 0" run_plugin '{"mode":"queue"}'
complete_and_clean "after Stash was killed"

# ---- the session cookie expires mid-run; Stash has an API key

double_stop
double_start --api-key k3y-for-tests --session-max-age 5 --no-cookie-refresh || exit 1
double_seed "$(queue_seed)"
double_fault '{"delay_ms": 200, "count": 100000}'
check "session expiry: the run exits 0" run_plugin '{"mode":"queue"}'
complete_and_clean "session expiry"
check "session expiry: the run went on with the API key" log_has '[.[] | select(.auth == "apikey")] | length > 5'
check "session expiry: no request was refused" log_has '[.[] | select(.status == 401)] | length == 0'

# ---- the plugin dies with the process that started it (PR_SET_PDEATHSIG): no orphan run

double_seed "$(queue_seed)"
double_fault '{"delay_ms": 300, "count": 100000}'
plugin_stdin '{"mode":"retag_all"}' >"$tmp/orphan.in"
bash -c '"$1" plugin <"$2" >/dev/null 2>&1 & echo $! >"$3"; wait' _ "$AITAG_BIN" "$tmp/orphan.in" \
    "$tmp/orphan.pid" &
parent=$!
sleep 1
child=$(cat "$tmp/orphan.pid")
check "orphan: the plugin was running" kill -0 "$child"
kill -KILL "$parent"
wait "$parent" 2>/dev/null
gone() { [ ! -e "/proc/$1" ] || grep -qE '^[0-9]+ \(.*\) [ZX] ' "/proc/$1/stat"; }
for _ in $(seq 50); do gone "$child" && break; sleep 0.1; done
check "orphan: killed with its parent" gone "$child"
kill -KILL "$child" 2>/dev/null
double_ctl DELETE /__test/fault >/dev/null

# ---- no Stash at all: a clear error, exit non-zero, nothing written

double_stop
rm -rf "$tmp/plugin/data"
if run_plugin '{"mode":"queue"}' not-a-real-cookie; then rc=0; else rc=$?; fi
check "unreachable: non-zero exit" test "$rc" -ne 0
check "unreachable: the stdout object names the problem" \
    jq -e -s 'length == 1 and (.[0].error | test("cannot reach Stash at http://127.0.0.1:"))' "$tmp/plugin.out" >/dev/null
check "unreachable: logged at error level" grep -q $'^\x01e\x02cannot reach Stash' "$tmp/plugin.err"
check "unreachable: nothing written (no catalog created)" test ! -e "$tmp/plugin/data"

finish
