#!/usr/bin/env bash
# Random kills: a 50-item run (videos and pictures, faces with people, text, cues) is SIGKILLed
# at 20 random moments, each time re-run: at start-up (the fresh catalog's migration, the
# models' loading), right after an item is stored (the next item's writes, the people update
# after the last), and at random delays spread over the run's length. Every kill leaves an
# intact catalog, the run after the last kill completes it, analysing exactly the items still
# missing, and the catalog then equals an uninterrupted run's: media, analyses, evidence, tags,
# markers, texts, faces and people (neither ids nor timestamps). The moments come from a seeded
# RNG; the seed is printed and AITAG_KILL_SEED replays them. SIGINT: the summary of the
# interrupted run counts only what it did.
# ctest-label: slow
# ctest-cost: 106
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/kill_lib.sh"
kill_seed

media=$tmp/media
check "50 media files made" kill_media "$media"
# The run under test (add --catalog FILE "${items[@]}"), JSON lines on stdout. A plain command, not a
# function: started with &, $! is then aitag itself, not a subshell that kill -9 would leave
# aitag running behind.
tagrun=("$AITAG_BIN" tag --analyzers faces,face_attrs,text,cues --json)
items=("$media/videos" "$media/images")
# Everything a run stores, in a canonical form: no ids, no run ids, no timestamps.
canonical() { # CATALOG
    sqlite3 "$1" \
        "SELECT path, size, fingerprint, kind, duration, width, height, status, error, derive_key FROM media ORDER BY path;" \
        "SELECT m.path, a.analyzer, a.key, a.interval, a.n_frames, a.strategy FROM analyses a JOIN media m ON m.id = a.media_id ORDER BY 1, 2;" \
        "SELECT m.path, e.analyzer, e.label, round(e.confidence, 4), e.t, e.x, e.y, e.w, e.h, e.text FROM evidence e JOIN media m ON m.id = e.media_id ORDER BY 1, 2, 5, 3, 4, 6, 7, 10;" \
        "SELECT m.path, t.name, round(t.confidence, 4), round(t.coverage, 4) FROM tags t JOIN media m ON m.id = t.media_id ORDER BY 1, 2;" \
        "SELECT m.path, k.tag, k.start, k.end, round(k.confidence, 4) FROM markers k JOIN media m ON m.id = k.media_id ORDER BY 1, 3, 2;" \
        "SELECT m.path, x.start, x.end, x.text FROM texts x JOIN media m ON m.id = x.media_id ORDER BY 1, 2, 4;" \
        "SELECT m.path, f.t, round(f.x, 4), round(f.y, 4), round(f.quality, 4), f.assigned, f.person_id IS NULL FROM faces f JOIN media m ON m.id = f.media_id ORDER BY 1, 2, 3, 4;" \
        "SELECT count(*) FROM people;" \
        "SELECT group_concat(n, ',') FROM (SELECT count(*) n FROM faces WHERE person_id IS NOT NULL GROUP BY person_id ORDER BY n);" \
        "SELECT count(*) FROM (SELECT DISTINCT a.person_id FROM faces a JOIN faces b ON a.person_id = b.person_id AND a.media_id <> b.media_id);"
}

# Reference: one uninterrupted run. Its length sizes the kill delays: up to its first item
# is start-up, the rest the items' analysis and writes.
t0=$(date +%s.%N)
"${tagrun[@]}" --catalog "$tmp/ref.db" "${items[@]}" >"$tmp/ref.jsonl" 2>"$tmp/ref.err" &
pid=$!
read -r first_s ref_s < <(kill_span "$t0" "$pid" grep -q '"status":"tagged"' "$tmp/ref.jsonl")
wait "$pid"
check_eq "reference run exit code" "$?" 0
total=$(sqlite3 "$tmp/ref.db" "SELECT count(*) FROM media")
check_eq "reference run stored every item" "$total" 50
check "reference run found people" [ "$(sqlite3 "$tmp/ref.db" 'SELECT count(*) FROM people')" -gt 0 ]
check "reference run stored markers and texts" \
    [ "$(sqlite3 "$tmp/ref.db" 'SELECT (SELECT count(*) FROM markers) > 0 AND (SELECT count(*) FROM texts) > 0')" = 1 ]
# Timed kills fall in start-up + 0..1/12 of the items' time: 10 of them and the
# kills after items cover most of the run; once all is stored, within a run with nothing to do.
span=$(awk -v f="$first_s" -v s="$ref_s" 'BEGIN { printf "%.3f", f + (s - f) / 12 }')
echo "reference run: first item after $first_s s, all after $ref_s s; timed kills after $first_s..$span s"

# 20 kills. Attempt k: k % 4 == 1 start-up (0..0.4 s), k % 4 == 2 right after the 1st to 3rd
# item it stores (0..50 ms later), else a delay uniform in first_s..span.
db=$tmp/kill.db
landed=0 midrun=0 bad=0 idle_s=$first_s
for k in $(seq 1 20); do
    before=$(sqlite3 "$db" "SELECT count(*) FROM media" 2>/dev/null || echo 0)
    t0=$(date +%s.%N)
    "${tagrun[@]}" --catalog "$db" "${items[@]}" >"$tmp/k.jsonl" 2>"$tmp/k.err" &
    pid=$!
    # With everything stored a run has nothing to analyse: it reports the items and updates
    # the people; the kills then fall within such a run (idle_s: the last one's length).
    line='"status":"tagged"' from=$first_s to=$span
    [ "$before" -lt "$total" ] || line='"status":' from=0 to=$idle_s
    case $((k % 4)) in
    1) what="start-up"; sleep "$(printf '0.%03d' $((RANDOM % 400)))" ;;
    2)
        want=$((1 + RANDOM % 3)) what="after item $want"
        while kill -0 "$pid" 2>/dev/null && [ "$(grep -c "$line" "$tmp/k.jsonl")" -lt "$want" ]; do sleep 0.01; done
        sleep "$(printf '0.%03d' $((RANDOM % 50)))"
        ;;
    *) what="timed"; sleep "$(kill_delay "$from" "$to")" ;;
    esac
    if kill -9 "$pid" 2>/dev/null; then landed=$((landed + 1)); else what="$what (ended first)"; fi
    wait "$pid" 2>/dev/null
    [ "$before" -lt "$total" ] || [ "$what" = "${what% (ended first)}" ] ||
        idle_s=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')
    stored=$(sqlite3 "$db" "SELECT count(*) FROM media" 2>/dev/null || echo 0)
    echo "kill $k: $what: $before -> $stored stored"
    [ "$stored" -gt 0 ] && [ "$stored" -lt "$total" ] && midrun=$((midrun + 1))
    if [ -e "$db" ] && [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" != ok ]; then
        bad=$((bad + 1))
    fi
done
check_eq "every kill left an intact catalog" "$bad" 0
check "most kills landed ($landed of 20)" [ "$landed" -ge 10 ]
check "kills landed in mid-run ($midrun)" [ "$midrun" -ge 3 ]

stored=$(sqlite3 "$db" "SELECT count(*) FROM media" 2>/dev/null || echo 0)
"${tagrun[@]}" --catalog "$db" "${items[@]}" >"$tmp/resume.jsonl" 2>"$tmp/resume.err"
check_eq "the run after the last kill exit code" "$?" 0
tagged=$(jq -r 'select(.status == "tagged") | .path' "$tmp/resume.jsonl" | wc -l)
check "it analyses only the items not stored ($tagged of $((total - stored)) missing)" \
    [ "$tagged" -le "$((total - stored))" ]
check_eq "every item stored once" "$(sqlite3 "$db" 'SELECT count(*), count(DISTINCT path) FROM media')" "$total|$total"
check_eq "no duplicate markers" \
    "$(sqlite3 "$db" 'SELECT count(*) FROM (SELECT media_id, tag, start, end, count(*) c FROM markers GROUP BY 1, 2, 3, 4 HAVING c > 1)')" 0
check "the catalog equals the uninterrupted run's" cmp -s <(canonical "$tmp/ref.db") <(canonical "$db") ||
    diff <(canonical "$tmp/ref.db") <(canonical "$db") | head -n 20 >&2
"${tagrun[@]}" --catalog "$db" "${items[@]}" >"$tmp/again.jsonl" 2>/dev/null
check_eq "a further run analyses nothing" "$(jq -r 'select(.status == "tagged") | .path' "$tmp/again.jsonl" | wc -l)" 0

# SIGINT (Ctrl-C) after the first item: exit 130, and the summary says "interrupted" and counts
# only what was done: the items and the seconds of video stored, and how many were not reached.
db=$tmp/int.db
"${tagrun[@]}" --catalog "$db" "${items[@]}" >"$tmp/int.jsonl" 2>"$tmp/int.err" &
pid=$!
while kill -0 "$pid" 2>/dev/null && [ "$(grep -c '"status":"tagged"' "$tmp/int.jsonl")" -lt 1 ]; do sleep 0.01; done
kill -INT "$pid"
wait "$pid"
check_eq "interrupted run exit code" "$?" 130
summary=$(tail -n 1 "$tmp/int.err")
stored=$(sqlite3 "$db" "SELECT count(*) FROM media")
video=$(sqlite3 "$db" "SELECT printf('%.0f', coalesce(sum(duration), 0)) FROM media WHERE kind = 'video'")
check "the summary says interrupted ($summary)" grep -q '^aitag: interrupted: ' <<<"$summary"
check "it counts the items stored ($stored)" grep -q ": $stored tagged, 0 skipped" <<<"$summary"
check "it counts the seconds of video stored ($video)" grep -q "; $video s of video" <<<"$summary"
check "it counts the items not reached ($((total - stored)))" \
    grep -q "; $((total - stored)) not reached" <<<"$summary"
check_eq "an interrupted run assigns no people" "$(sqlite3 "$db" 'SELECT count(*) FROM people')" 0
finish
