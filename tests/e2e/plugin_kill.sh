#!/usr/bin/env bash
# plugin_kill.sh - random kills of the plugin: a queue run over 50 items (18 scenes, 32 images)
# is SIGKILLed at 20 random moments, each time run again as Stash would: at start-up (the
# fresh catalog, the models' loading), just after an item is stored in the catalog (its
# writes to Stash in flight), and at random delays spread over the run's length. The run after
# the last kill completes the queue, and Stash then holds exactly what an uninterrupted run
# leaves: the same tags on every item, the same markers, each tag once, no duplicate marker,
# nothing missing. The moments come from a seeded RNG; the seed is printed and AITAG_KILL_SEED
# replays them.
# ctest-label: slow
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/kill_lib.sh"
kill_seed

PREFIX=/media/stash
media=$tmp/media
check "50 media files made" kill_media "$media"
seed=$(jq -cn --arg p "$PREFIX" --arg m "$media" '
  {tags: [{name: "AI"}, {name: "AI_TagMe", parents: ["AI"]}, {name: "Favourite"}],
   scenes: [$ARGS.positional[] | select(startswith("videos/"))
            | {path: ($p + "/" + .), tags: ["AI_TagMe", "Favourite"]}],
   images: [$ARGS.positional[] | select(startswith("images/")) | {path: ($p + "/" + .), tags: ["AI_TagMe"]}],
   plugins: {aitag: {pathMappings: ($p + "=>" + $m), analyzers: "faces,face_attrs,text,cues"}}}' \
    --args $(cd "$media" && ls videos/* images/*))

# Stash's side in a canonical form: every tag with its parents, and per item its path, its tags
# and its markers (primary tag, start, end, title), sorted; no ids. Duplicates stay visible.
stash_view() {
    double_state | jq -S '{tags: ([.tags[] | [.name, (.parents | sort)]] | sort),
        scenes: ([.scenes[] | {path, tags: (.tags | sort),
                  markers: ([.markers[] | [.primary_tag, .seconds, .end_seconds, .title]] | sort)}] | sort_by(.path)),
        images: ([.images[] | {path, tags: (.tags | sort)}] | sort_by(.path))}'
}
queued() { double_state | jq '[.scenes[], .images[] | select(.tags | index("AI_TagMe"))] | length'; }

# Reference: one uninterrupted run on a Stash of its own.
double_start || exit 1
double_seed "$seed" || exit 1
PLUGIN_DIR=$tmp/ref && mkdir -p "$PLUGIN_DIR"
catalog=$PLUGIN_DIR/data/catalog.db
stored() { sqlite3 "$catalog" "SELECT count(*) FROM media" 2>/dev/null || echo 0; }
first_stored() { [ "$(stored)" -gt 0 ]; }
t0=$(date +%s.%N)
run_plugin_bg '{"mode":"queue"}'
read -r first_s ref_s < <(kill_span "$t0" "$PLUGIN_PID" first_stored)
check "reference run exits 0" plugin_wait
check_eq "reference run: 50 items analysed" "$(jq -c .output.analysed "$tmp/plugin.out")" 50
stash_view >"$tmp/ref.json"
check "reference run wrote markers" jq -e '[.scenes[].markers[]] | length > 0' "$tmp/ref.json" >/dev/null
check_eq "reference run: queue empty" "$(queued)" 0
double_stop
rm -f "$DOUBLE_STATE"
# Timed kills fall in start-up + 0..1/12 of the items' time: 10 of them and the
# kills after items cover most of the run; once all is stored, within a run with nothing to do.
span=$(awk -v f="$first_s" -v s="$ref_s" 'BEGIN { printf "%.3f", f + (s - f) / 12 }')
echo "reference run: first item after $first_s s, all after $ref_s s; timed kills after $first_s..$span s"

# 20 kills on a fresh Stash and catalog. Attempt k: k % 4 == 1 start-up (0..0.4 s), k % 4 == 2
# 0..50 ms after the 1st to 3rd item it stores in its catalog (its writes to Stash in flight),
# else a delay uniform in first_s..span.
double_start || exit 1
double_seed "$seed" || exit 1
PLUGIN_DIR=$tmp/kill && mkdir -p "$PLUGIN_DIR"
catalog=$PLUGIN_DIR/data/catalog.db
landed=0 midrun=0 idle_s=$first_s
for k in $(seq 1 20); do
    before=$(stored) left=$(queued)
    t0=$(date +%s.%N)
    if ! run_plugin_bg '{"mode":"queue"}'; then
        fail "kill $k: the plugin could not be started (the Stash double $(kill -0 "$DOUBLE_PID" 2>/dev/null && echo runs || echo is gone))"
        break
    fi
    # With the queue empty a run has nothing to do: the kills then fall within such a run
    # (idle_s: the last one's length).
    from=$first_s to=$span
    [ "$left" -gt 0 ] || from=0 to=$idle_s
    case $((k % 4)) in
    1) what="start-up"; sleep "$(printf '0.%03d' $((RANDOM % 400)))" ;;
    2)
        want=$((before + 1 + RANDOM % 3)) what="after item $((want - before))"
        while kill -0 "$PLUGIN_PID" 2>/dev/null && [ "$(stored)" -lt "$want" ]; do sleep 0.02; done
        sleep "$(printf '0.%03d' $((RANDOM % 50)))"
        ;;
    *) what="timed"; sleep "$(kill_delay "$from" "$to")" ;;
    esac
    # (with the queue empty a run ends at once: only kills with items left count as landed)
    if kill -9 "$PLUGIN_PID" 2>/dev/null; then
        [ "$left" -gt 0 ] && landed=$((landed + 1))
    else
        what="$what (ended first)"
    fi
    plugin_wait
    [ "$left" -gt 0 ] || [ "$what" = "${what% (ended first)}" ] ||
        idle_s=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')
    now=$(queued)
    echo "kill $k: $what: $left -> $now queued, $(stored) stored"
    [ "$now" -gt 0 ] && [ "$now" -lt 50 ] && midrun=$((midrun + 1))
done
check "the Stash double still runs" kill -0 "$DOUBLE_PID"
check "kills landed while items were queued ($landed)" [ "$landed" -ge 5 ]
check "kills landed in mid-run ($midrun)" [ "$midrun" -ge 3 ]

check "the run after the last kill exits 0" run_plugin '{"mode":"queue"}'
check_eq "no run error" "$(jq -r .error "$tmp/plugin.out")" null
check_eq "queue empty" "$(queued)" 0
stash_view >"$tmp/kill.json"
check "no duplicate tag names" jq -e '(.tags | map(.[0])) as $n | ($n | length) == ($n | unique | length)' "$tmp/kill.json" >/dev/null
check "no duplicate markers" jq -e 'all(.scenes[]; (.markers | map(.[0:3]) | length) == (.markers | map(.[0:3]) | unique | length))' \
    "$tmp/kill.json" >/dev/null
check "Stash equals the uninterrupted run's" cmp -s "$tmp/ref.json" "$tmp/kill.json" ||
    diff "$tmp/ref.json" "$tmp/kill.json" | head -n 30 >&2
check "retag_all after that exits 0" run_plugin '{"mode":"retag_all"}'
check_eq "... analyses nothing" "$(jq -c .output.analysed "$tmp/plugin.out")" 0
check_eq "... writes nothing" "$(jq -c .output.updated "$tmp/plugin.out")" 0

# A catalog derived before results kept one copy of each marker can hold a marker twice (two
# analyzers, faces and face_attrs, giving the same "face"): Stash still gets it once.
sqlite3 "$catalog" "INSERT INTO markers(media_id, tag, start, end, confidence)
    SELECT media_id, tag, start, end, confidence FROM markers WHERE tag = 'face' LIMIT 1"
check "retag_all on a marker stored twice exits 0" run_plugin '{"mode":"retag_all"}'
stash_view >"$tmp/twice.json"
check "... Stash unchanged, the marker once" cmp -s "$tmp/ref.json" "$tmp/twice.json" ||
    diff "$tmp/ref.json" "$tmp/twice.json" | head -n 10 >&2
finish
