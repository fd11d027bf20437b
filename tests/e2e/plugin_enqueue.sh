#!/usr/bin/env bash
# plugin_enqueue.sh - Stash's queued items tagged by workers (docs/scale.md): the plugin's
# "Queue for workers" task puts the AI_TagMe items into the job queue of a shared PostgreSQL
# catalog (a real server, tests/pg/server.sh) under their paths on this machine (pathMappings
# applied), twice without queueing anything twice; a worker mounting the library elsewhere
# (--path-map) drains the queue; then "Tag queued items" writes the results to Stash without
# running a model, and they are the results the worker stored.
source "$(dirname "$0")/lib.sh"

PREFIX=/media/stash
F=$AITAG_FIXTURES_DIR
PG=$AITAG_SOURCE_DIR/tests/pg/server.sh
trap 'bash "$PG" stop "$tmp/pg"; e2e_cleanup' EXIT
bash "$PG" start "$tmp/pg" >/dev/null || { echo "FAIL: start PostgreSQL" >&2; exit 1; }
url=$(bash "$PG" createdb "$tmp/pg" stash)
ln -s "$F" "$tmp/worker-mount" # the worker's machine mounts the library elsewhere

double_start || exit 1
seed=$(jq -cn --arg p "$PREFIX" --arg f "$F" --arg u "$url" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}],
   scenes: [{path: ($p + "/videos/faces_720p_hevc.mkv"), tags: ["AI_TagMe"]},
            {path: ($p + "/videos/text_720p_vp9.webm"), tags: ["AI_TagMe"]},
            {path: ($p + "/videos/rotated_720p_h264.mp4"), tags: []}],
   images: [{path: ($p + "/images/sign_on_photo.jpg"), tags: ["AI_TagMe"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $f), analyzers: "faces,text", catalog: $u}}}')
double_seed "$seed" || exit 1
jqq() { jq -e "$@" >/dev/null; }

check "enqueue run exits 0" run_plugin '{"mode":"enqueue"}'
check "enqueue: the three queued items, nothing else" jqq \
    '.output.mode == "enqueue" and .output.items == 3 and .output.queued == 3 and
     .output.failed == 0 and .error == null' "$tmp/plugin.out"
check "enqueue again: already queued" run_plugin '{"mode":"enqueue"}'
check "... nothing queued twice" jqq '.output.queued == 0 and .output.already_queued == 3' \
    "$tmp/plugin.out"
"$AITAG_BIN" jobs --json --catalog "$url" >"$tmp/jobs.json"
check "the queue: 3 jobs, by this machine's paths" jqq \
    ".queued == 3" "$tmp/jobs.json"
check "the items keep AI_TagMe until their results are written" jqq \
    '[.scenes[0], .scenes[1], .images[0]] | all(.tags | index("AI_TagMe"))' <<<"$(double_state)"

timeout 300 "$AITAG_BIN" worker --drain --analyzers faces,text --threads 1 \
    --path-map "$F=>$tmp/worker-mount" --catalog "$url" >"$tmp/worker.out" 2>"$tmp/worker.err"
check_eq "the worker drained the queue" "$?" 0
check "3 jobs done" jqq '.done == 3 and .queued == 0 and .dead == 0' \
    <("$AITAG_BIN" jobs --json --catalog "$url")

check "queue run exits 0" run_plugin '{"mode":"queue"}'
check "the results written without a model" jqq \
    '.output.items == 3 and .output.unchanged == 3 and .output.analysed == 0 and
     .output.models_run == 0 and .output.tags_added > 0' "$tmp/plugin.out"
state=$(double_state)
check "the text the worker read is a tag in Stash" jqq \
    '.images[0].tags | index("text")' <<<"$state"
check "AI_TagMe taken off" jqq '[.scenes[0], .scenes[1], .images[0]] |
    all(.tags | index("AI_TagMe") | not)' <<<"$state"
check "the untagged scene was left alone" jqq '.scenes[2].tags == []' <<<"$state"
finish
