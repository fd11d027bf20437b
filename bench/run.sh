#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR] - the benchmark: floors vs end to end on real-photo H.264 clips.
#
# Builds bench_pipeline and aitag if needed, makes the clips once (bench/make_media.sh, cached
# in BUILD_DIR/bench-media), then measures (see bench/bench_pipeline.c for what each number is):
#   1080p and 720p (keyint 250), analyzers faces and faces,text, --threads 2, interval 2 s;
#   --threads 1 pinned to one CPU (taskset) for reference;
#   1080p keyint 30 (auto strategy), and both clips with the strategy forced the other way;
#   the 1080p decode floor with two FFmpeg threads instead of the tagger's one (what-if);
#   each analyzer and model per frame at 1 and 2 ONNX Runtime threads (median of 30 runs);
#   `aitag tag` itself under /usr/bin/time -v, for the CLI's peak RSS.
# Prints the table and writes bench/results/latest.json (and latest.txt, the table).
# BENCH_REPEAT (default 3) sets the repeats of the main configurations; the what-ifs run
# once. The machine is shared, so before each timed phase bench_pipeline waits for other
# processes to pause, up to BENCH_QUIET seconds (default 10) per configuration in all, and
# reports the cores they took anyway ("other"): read rows with other > ~0.3 with suspicion.
# Run time on a quiet 2-core machine: ~7-8 minutes with the objects and nsfw analyzers
# registered (~6 without them; BENCH_REPEAT=2 saves ~2), plus ~5 minutes once to encode.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
repeat=${BENCH_REPEAT:-3}
quiet=${BENCH_QUIET:-10}
media="$build/bench-media"
results="$root/bench/results"
interval=2

[[ -f "$build/CMakeCache.txt" ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_pipeline aitag >/dev/null
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt")
case "$build_type" in
Release | RelWithDebInfo) ;;
*) echo "bench: warning: $build is a '${build_type:-no optimisation}' build; numbers will be low" >&2 ;;
esac
bench/make_media.sh "$media"
mkdir -p "$results"
# Private copies of the binaries: a rebuild in the same tree mid-run must not swap them out.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$build/bench_pipeline" "$build/aitag" "$work/"
bin="$work/bench_pipeline"
aitag="$work/aitag"
jsonl="$work/results.jsonl"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)

# config LABEL FILE ANALYZERS THREADS REPEAT [extra bench_pipeline options...]
config() {
    local label=$1 file=$2 analyzers=$3 threads=$4 n=$5
    shift 5
    local pin=()
    # A one-thread budget means one CPU: without pinning, the decoder and inference threads
    # would still run on two cores.
    [[ $threads == 1 ]] && command -v taskset >/dev/null && pin=(taskset -c 0)
    "${pin[@]}" "$bin" --label "$label" --file "$media/$file" --analyzers "$analyzers" \
        --threads "$threads" --interval "$interval" --repeat "$n" --quiet "$quiet" "$@" >>"$jsonl"
}

config 1080p-g250 h264_1080p_g250.mp4 faces 2 "$repeat"
config 1080p-g250 h264_1080p_g250.mp4 faces,text 2 "$repeat"
config 720p-g250 h264_720p_g250.mp4 faces 2 "$repeat"
config 720p-g250 h264_720p_g250.mp4 faces,text 2 "$repeat"
config 1080p-g30 h264_1080p_g30.mp4 faces 2 "$repeat"
config 1080p-g250-1cpu h264_1080p_g250.mp4 faces 1 1
config 1080p-g250-seek h264_1080p_g250.mp4 faces 2 1 --strategy seek --no-e2e
# What if the decoder got both threads of the budget (the tagger gives it one)?
config 1080p-g250-dec2 h264_1080p_g250.mp4 faces 2 1 --decode-threads 2 --no-e2e
config 1080p-g30-seq h264_1080p_g30.mp4 faces 2 1 --strategy sequential --no-e2e
# The target's own set, once its analyzers exist.
registered=$("$bin" --list)
if grep -qx objects <<<"$registered" && grep -qx nsfw <<<"$registered"; then
    config 1080p-g250 h264_1080p_g250.mp4 faces,objects,nsfw 2 "$repeat"
    config 1080p-g30 h264_1080p_g30.mp4 faces,objects,nsfw 2 "$repeat"
fi

# Per analyzer and per model: the analyzers above (others by hand: --models --analyzers ...).
# The views do not depend on the source size (letterboxed squares, a 960-wide max side), so
# the 720p clip, fastest to decode, gives the same inputs as the 1080p one.
timed=faces,text
for a in objects nsfw; do
    if grep -qx "$a" <<<"$registered"; then timed+=",$a"; fi
done
"$bin" --models --file "$media/h264_720p_g250.mp4" --analyzers "$timed" \
    --runs 30 --model-threads 1,2 --quiet "$quiet" >>"$jsonl"

# The CLI itself: wall time and peak RSS as the user sees them (models loaded in the run).
if [[ -x /usr/bin/time ]]; then
    tmp=$(mktemp -d)
    /usr/bin/time -v -o "$tmp/time.txt" "$aitag" tag --catalog "$tmp/c.db" \
        --analyzers faces,text --threads 2 --interval "$interval" --force \
        "$media/h264_1080p_g250.mp4" >/dev/null 2>"$tmp/err.txt" || {
        cat "$tmp/err.txt" >&2
        echo "bench: aitag tag failed" >&2
        exit 1
    }
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time.txt")
    secs=$(awk -v w="$wall" 'BEGIN { n = split(w, p, ":"); s = 0;
        for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$media/h264_1080p_g250.mp4")
    printf '{"bench":"cli","name":"aitag tag faces,text 1080p-g250","threads":2,"wall_s":%s,"media_s":%s,"rss_mb":%.1f}\n' \
        "$secs" "$dur" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" >>"$jsonl"
    rm -rf "$tmp"
fi

t_end=$(date +%s)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo | tr -d '"\\')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src include 2>/dev/null | wc -l)
{
    printf '{"machine":{"nproc":%d,"cpu":"%s","loadavg_start":"%s","loadavg_end":"%s"},' \
        "$(nproc)" "$cpu" "$load_start" "$load_end"
    printf '"date":"%s","commit":"%s","dirty_files":%d,"build_type":"%s","bench_seconds":%d,"repeat":%d,' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$dirty" "$build_type" $((t_end - t_start)) "$repeat"
    printf '"results":[\n'
    sed '$!s/$/,/' "$jsonl"
    printf ']}\n'
} >"$results/latest.json"

{
    echo "machine: $(nproc) x $cpu; load average $load_start -> $load_end; ${repeat} repeats (medians); $((t_end - t_start)) s"
    "$bin" --table "$jsonl"
} | tee "$results/latest.txt"
echo "wrote $results/latest.json"
