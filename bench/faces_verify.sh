#!/usr/bin/env bash
# bench/faces_verify.sh [BUILD_DIR] - false faces per 1,000 people-free frames against recall on
# real faces, for the faces analyzer's detector threshold and verification stage
# (`make bench-faces`; BENCHMARKS.md "Face verification").
#
# Makes the media once (bench/make_faces_media.sh, cached in BUILD_DIR/bench-faces), writes the
# shipped manifests with the faces analyzer opened wide (detector threshold 0.45, no
# verification) to a temporary folder, and runs tests/tools/face_verify_bench.c over the list:
# one markdown table per set (tune, check) on stdout and in bench/results/faces_verify.md,
# every candidate with its scores in bench/results/faces_verify.tsv.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
media="$build/bench-faces"
results="$root/bench/results"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[[ -f "$build/CMakeCache.txt" ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target face_verify_bench -j 2 >/dev/null
bench/make_faces_media.sh "$media"
cp models/*.json "$tmp/"
jq '.params.score_threshold = 0.45 | .params.verify_threshold = 0 | .params.layout_check = 0' \
    models/blazeface-back.json >"$tmp/blazeface-back.json"
mkdir -p "$results"
BENCH_VIEW_COST=${BENCH_VIEW_COST:-build/fixtures/videos/faces_1080p_h264.mp4} \
    "$build/face_verify_bench" "$tmp" "$root/deps/models" "$media/list.txt" \
    "$results/faces_verify.tsv" | tee "$results/faces_verify.md"
