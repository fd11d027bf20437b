#!/usr/bin/env bash
# bench/people.sh [BUILD_DIR] - the People benchmark (make bench-people; BENCHMARKS.md, "Face
# embeddings"): each a median, next to a floor measured in the same run.
#
#   1. ms per face of each embedder and of the emotion model (bench_faceid --models, one ONNX
#      Runtime thread, median of 30 runs after a warm-up);
#   2. faces embedded per second end to end: `aitag tag --threads 1` over the identity fixtures'
#      226 images (tools/make_faceid_fixtures.sh), --analyzers faces (the floor: decoding and
#      BlazeFace) and faces,face_attrs (crops, faceres, emotion), median of BENCH_REPEAT runs;
#      the embedding cost per face = the difference / faces, against the floor of the two
#      models' runs alone (ratio = what crops and bookkeeping add);
#   3. aitag_people_cluster on 100,000 synthetic 1024-d embeddings of 1,000 people (bench_faceid
#      --cluster), median of BENCH_REPEAT runs, against one pass of 100,000 x clusters dot
#      products.
# Prints the table and writes bench/results/people.json (JSON lines). ~5-10 minutes on a quiet
# 2-core machine (the clustering is most of it); BENCH_REPEAT (default 3).
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
repeat=${BENCH_REPEAT:-3}
results="$root/bench/results"
[[ -f "$build/CMakeCache.txt" ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_faceid aitag >/dev/null
fx="$build/bench-media/faceid"
tools/make_faceid_fixtures.sh "$fx" >/dev/null
mkdir -p "$results"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$build/bench_faceid" "$build/aitag" "$work/"
out="$work/people.jsonl"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

"${pin[@]}" "$work/bench_faceid" --models faceres,mobilefacenet,emotion --threads 1 --runs 30 >>"$out"

# tag ANALYZERS: seconds of one `aitag tag` over the fixture images on a fresh catalog
tag() {
    local t0 t1
    rm -f "$work/cat.db"
    t0=$(date +%s.%N)
    "${pin[@]}" "$work/aitag" tag --catalog "$work/cat.db" --threads 1 --analyzers "$1" \
        "$fx/images" >/dev/null 2>&1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
med() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$work/floor"
: >"$work/attrs"
for _ in $(seq "$repeat"); do # interleaved, so that load spreads over both
    tag faces >>"$work/floor"
    tag faces,face_attrs >>"$work/attrs"
done
faces=$(sqlite3 "$work/cat.db" "SELECT count(*) FROM evidence WHERE analyzer = 'face_attrs' AND label = 'face'")
images=$(find "$fx/images" -name '*.jpg' | wc -l)
t_floor=$(med <"$work/floor")
t_attrs=$(med <"$work/attrs")
faceres_ms=$(jq -r 'select(.name == "faceres") | .ms_median' "$out")
emotion_ms=$(jq -r 'select(.name == "emotion") | .ms_median' "$out")
awk -v f="$faces" -v i="$images" -v a="$t_attrs" -v b="$t_floor" -v r="$faceres_ms" \
    -v e="$emotion_ms" -v n="$repeat" 'BEGIN {
    per = (a - b) / f * 1000
    printf "{\"bench\":\"e2e\",\"images\":%d,\"faces\":%d,\"repeat\":%d,\"faces_s\":%.3f,\"attrs_s\":%.3f,\"faces_per_s\":%.1f,\"embed_ms_per_face\":%.2f,\"models_ms_per_face\":%.2f,\"ratio\":%.2f}\n",
        i, f, n, b, a, f / a, per, r + e, per / (r + e) }' >>"$out"

"$work/bench_faceid" --cluster 100000 --dim 1024 --people 1000 --repeat "$repeat" >>"$out"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cp "$out" "$results/people.json"
{
    echo "People bench ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $load_start -> $load_end)"
    jq -r 'select(.bench == "model") | "  \(.name): \(.ms_median) ms per face (min \(.ms_min)), \(.faces_per_s) faces/s, 1 thread"' "$out"
    jq -r 'select(.bench == "e2e") | "  aitag tag, \(.images) images, \(.faces) faces, 1 thread: faces,face_attrs \(.attrs_s) s = \(.faces_per_s) faces/s; faces alone \(.faces_s) s; embedding \(.embed_ms_per_face) ms per face vs models alone \(.models_ms_per_face) ms: ratio \(.ratio)"' "$out"
    jq -r 'select(.bench == "cluster") | "  cluster \(.faces) x \(.dim)-d, \(.people) people: \(.ms_median) ms (median of \(.repeat)), floor \(.floor_ms_median) ms, ratio \(.ratio); clusters \(.clusters), pure \(.pure_clusters), people in one cluster \(.whole_people)"' "$out"
} | tee "$results/people.txt"
