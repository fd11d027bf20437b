#!/usr/bin/env bash
# bench/sampling.sh [BUILD_DIR] - sampling modes against dense exact sampling, on grainy clips
# with cuts, fast cutting, a long static shot, fades and dissolves (`make bench-sampling`).
#
# Makes the clips once (bench/make_sampling_media.sh, cached in BUILD_DIR/bench-sampling, each
# with its shot boundaries by construction in CLIP.shots.json), then per clip:
#   floors      FFmpeg (one decoder thread, as the tagger's decoder) decoding every frame of the
#               video stream, and decoding only its keyframes (-skip_frame nokey): x realtime,
#               median of BENCH_REPEAT runs
#   reference   `aitag tag --sampling exact --interval 1` (dense exact sampling, 1 fps), once
#   each mode   `aitag tag --sampling MODE --interval BENCH_INTERVAL`, BENCH_REPEAT times:
#               x realtime (median), frames decoded and analysed, and, against the reference,
#               the tag set (same, or missing/extra), per-tag marker IoU (min and mean) and shot
#               boundary precision/recall against the truth (tests/tools/sampling_accuracy.c)
# Analyzers: BENCH_ANALYZERS (default faces,objects,nsfw: the target set; the tagger's default
# is faces,text). Modes: BENCH_MODES (default "exact keyframes", plus "adaptive" when `aitag tag
# --help` lists it). Clips: BENCH_CLIPS (default: all). --threads 2.
#
# Timing: each `aitag tag` run tags a photo first (loads the models) and then the clip; the
# clip's time is between the two items' JSON lines on stdout, so model loading is not counted
# (a library run loads them once). Frames analysed come from the catalog (analyses.n_frames);
# frames decoded from a "frames_decoded" field of the item or of a summary line of `aitag tag
# --json` when the build prints one, else "-". Shot P/R is "-" while `aitag tag --json` has no
# "shots" (tolerance BENCH_TOL seconds, default 0.5).
# Prints the table and writes bench/results/sampling.json and sampling.txt. The machine is
# shared: the load average before and after is recorded with the results.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
repeat=${BENCH_REPEAT:-3}
interval=${BENCH_INTERVAL:-2}
analyzers=${BENCH_ANALYZERS:-faces,objects,nsfw}
tol=${BENCH_TOL:-0.5}
media="$build/bench-sampling"
results="$root/bench/results"
warm="$root/deps/photos/sample1.jpg"

[[ -f "$build/CMakeCache.txt" ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target aitag sampling_accuracy >/dev/null
bench/make_sampling_media.sh "$media"
mkdir -p "$results"
# Private copies of the binaries: a rebuild in the same tree mid-run must not swap them out.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$build/aitag" "$build/sampling_accuracy" "$work/"
aitag="$work/aitag"
scorer="$work/sampling_accuracy"
jsonl="$work/results.jsonl"
: >"$jsonl"

if [[ -n ${BENCH_MODES:-} ]]; then
    read -r -a modes <<<"$BENCH_MODES"
else
    modes=(exact keyframes)
    # (grep -q would close the pipe early: under pipefail aitag's SIGPIPE failed the test)
    "$aitag" tag --help | grep -- '--sampling .*adaptive' >/dev/null && modes+=(adaptive)
fi
if [[ -n ${BENCH_CLIPS:-} ]]; then
    read -r -a clips <<<"$BENCH_CLIPS"
else
    clips=(g250_1080p g60_1080p g250_720p g60_2160p fastcut static fades dissolves)
fi

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "null";
    else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# floor FILE [FFMPEG INPUT OPTIONS...]: seconds FFmpeg takes to decode the video stream.
floor() {
    local file=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    ffmpeg -hide_banner -loglevel error -threads 1 "$@" -i "$file" -map 0:v:0 -f null - </dev/null
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# tag_run OUT MODE INTERVAL FILE: one `aitag tag` run on a fresh catalog; writes OUT.json (the
# clip's line), OUT.err, OUT.db and prints the clip's seconds (from the warm-up photo's line).
tag_run() {
    local out=$1 mode=$2 iv=$3 file=$4 rc=0
    rm -f "$out.db"
    "$aitag" tag --catalog "$out.db" --json --force --progress never --threads 2 \
        --analyzers "$analyzers" --interval "$iv" --sampling "$mode" "$warm" "$file" \
        2>"$out.err" | while IFS= read -r line; do printf '%s\t%s\n' "$EPOCHREALTIME" "$line"; done \
        >"$out.tsv" || rc=$?
    if [[ $rc -ne 0 ]] || ! grep -qF "\"path\":\"$file\"" "$out.tsv"; then
        cat "$out.err" >&2
        echo "bench: aitag tag --sampling $mode on $file failed" >&2
        return 1
    fi
    grep -F "\"path\":\"$file\"" "$out.tsv" | cut -f2- >"$out.json"
    # non-item lines (a summary) are kept for the frame counts
    grep -vF '"path":' "$out.tsv" | cut -f2- >"$out.summary" || true
    awk -F'\t' -v w="\"path\":\"$warm\"" -v f="\"path\":\"$file\"" \
        'index($2, w) { t0 = $1 } index($2, f) { t1 = $1 } END { printf "%.3f\n", t1 - t0 }' "$out.tsv"
}

# frames OUT FILE: "decoded analysed" for the clip ("-" where unknown).
frames() {
    local out=$1 file=$2 dec ana
    dec=$(jq -r '.frames_decoded // empty' "$out.json" "$out.summary" 2>/dev/null | head -n 1) || true
    [[ -n $dec ]] || dec=$(grep -oE '[0-9]+ frames decoded' "$out.err" | head -n 1 | cut -d' ' -f1) || true
    ana=$(jq -r '.frames_analysed // .frames_analyzed // empty' "$out.json" "$out.summary" \
        2>/dev/null | head -n 1) || true
    [[ -n $ana ]] || ana=$(sqlite3 "$out.db" "SELECT max(a.n_frames) FROM analyses a JOIN media m
        ON m.id = a.media_id WHERE m.path = '${file//\'/\'\'}';" 2>/dev/null) || true
    echo "${dec:--} ${ana:--}"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
for clip in "${clips[@]}"; do
    file="$root/$media/$clip.mp4"
    [[ $media == /* ]] && file="$media/$clip.mp4"
    truth="${file%.mp4}.shots.json"
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$file")
    echo "bench: $clip (${dur} s)" >&2
    full=() key=()
    for ((r = 0; r < repeat; r++)); do
        full+=("$(floor "$file")")
        key+=("$(floor "$file" -skip_frame nokey)")
    done
    full_s=$(printf '%s\n' "${full[@]}" | median)
    key_s=$(printf '%s\n' "${key[@]}" | median)
    ref_s=$(tag_run "$work/$clip-ref" exact 1 "$file")
    read -r ref_dec ref_ana < <(frames "$work/$clip-ref" "$file")
    for mode in ref "${modes[@]}"; do
        if [[ $mode == ref ]]; then
            out="$work/$clip-ref" label="exact@1" secs=$ref_s dec=$ref_dec ana=$ref_ana
        else
            out="$work/$clip-$mode" label="$mode@$interval"
            times=()
            for ((r = 0; r < repeat; r++)); do times+=("$(tag_run "$out" "$mode" "$interval" "$file")"); done
            secs=$(printf '%s\n' "${times[@]}" | median)
            read -r dec ana < <(frames "$out" "$file")
        fi
        acc=$("$scorer" --ref "$work/$clip-ref.json" --test "$out.json" --shots-truth "$truth" \
            --tol "$tol" --json 2>/dev/null || true)
        [[ -n $acc ]] || acc='{}'
        jq -c -n --arg clip "$clip" --arg mode "$label" --argjson dur "$dur" --argjson secs "$secs" \
            --arg dec "$dec" --arg ana "$ana" --argjson full "$full_s" --argjson key "$key_s" \
            --argjson acc "$acc" --arg analyzers "$analyzers" \
            '{clip: $clip, mode: $mode, analyzers: $analyzers, media_s: $dur, tag_s: $secs,
              x_realtime: ($dur / $secs), frames_decoded: ($dec | tonumber? // null),
              frames_analysed: ($ana | tonumber? // null),
              floor_full_s: $full, floor_full_x: ($dur / $full),
              floor_key_s: $key, floor_key_x: ($dur / $key),
              tags_same: $acc.tags_same, missing: $acc.missing, extra: $acc.extra,
              iou_min: $acc.iou_min, iou_mean: $acc.iou_mean, iou_worst: $acc.iou_worst,
              shots: $acc.shots}' >>"$jsonl"
    done
done
t_end=$(date +%s)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo | tr -d '"\\')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

jq -s --arg cpu "$cpu" --argjson nproc "$(nproc)" --arg l0 "$load_start" --arg l1 "$load_end" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$commit" \
    --argjson secs $((t_end - t_start)) --argjson repeat "$repeat" --argjson interval "$interval" \
    '{machine: {nproc: $nproc, cpu: $cpu, loadavg_start: $l0, loadavg_end: $l1}, date: $date,
      commit: $commit, bench_seconds: $secs, repeat: $repeat, interval: $interval,
      results: .}' "$jsonl" >"$results/sampling.json"

# The table: one row per clip and mode; "-" for what the build does not report.
{
    echo "machine: $(nproc) x $cpu; load average $load_start -> $load_end; $repeat repeats (medians); $((t_end - t_start)) s; analyzers $analyzers"
    printf '%-11s %-12s %7s %7s %5s %-24s %11s %-16s %8s %8s\n' clip mode x-rt decoded anal \
        "tags vs exact@1" "IoU min/avg" "shots P/R" full-dec key-only
    jq -r '
      def n: if . == null then "-" else tostring end;
      def kind: [(.shots // {}) | to_entries[] | select(.key != "all" and .value.truth > 0)
        | .key] | first // "";
      [.clip, .mode, (.x_realtime | n), (.frames_decoded | n), (.frames_analysed | n),
       (if .tags_same == null then "-" elif .tags_same then "same"
        else ([(.missing // [] | map("-" + .)), (.extra // [] | map("+" + .))] | add | join(" "))
        end),
       (.iou_min | n), (.iou_mean | n), (.shots.all.precision | n), (.shots.all.recall | n),
       (if .shots == null then "absent" else kind end),
       (.floor_full_x | n), (.floor_key_x | n)] | @tsv' "$jsonl" |
        awk -F'\t' '
            function x(v) { return v == "-" ? "-" : sprintf("%.1fx", v) }
            function f(v) { return v == "-" ? "-" : sprintf("%.2f", v) }
            { shots = $11 == "absent" ? "-" : f($9) "/" f($10) " " $11
              printf "%-11s %-12s %7s %7s %5s %-24s %11s %-16s %8s %8s\n", $1, $2, x($3), $4, $5,
                  substr($6, 1, 24), f($7) "/" f($8), shots, x($12), x($13) }'
} | tee "$results/sampling.txt"
echo "wrote $results/sampling.json" >&2
