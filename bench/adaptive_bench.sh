#!/usr/bin/env bash
# bench/adaptive_bench.sh [AITAG_BIN] CLIP... - adaptive sampling against exact sampling on each
# clip, with faces, objects and NSFW (the issue's set; AITAG_BENCH_ANALYZERS overrides):
#   ref       --sampling exact --interval 1 (dense: the accuracy reference)
#   exact     --sampling exact (the interval of 2 s)
#   adaptive  --sampling adaptive
# For each: wall time, x realtime, frames analysed and decoded; for exact and adaptive the tag
# set against the reference (same or the difference) and the worst marker IoU of a tag; for
# adaptive the shot boundaries against CLIP's .shots file when there is one (bench/
# adaptive_clips.sh writes them; a boundary matches within 0.1 s, a fade or dissolve within
# 0.6 s). Also FFmpeg's floors on the same file: every frame decoded, keyframes only.
set -uo pipefail
bin=${AITAG_BIN:-build/aitag}
[[ ${1:-} == */aitag ]] && { bin=$1; shift; }
analyzers=${AITAG_BENCH_ANALYZERS:-faces,objects,nsfw}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/aitag-adbench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

secs() { # secs CMD...: wall seconds of CMD
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; } # ratio A B: A / B

run() { # run NAME CLIP ARGS...: one tag run; prints "seconds analysed decoded"
    local name=$1 clip=$2 t0 t1
    shift 2
    t0=$(date +%s.%N)
    "$bin" tag --catalog "$tmp/$name.db" --analyzers "$analyzers" --json --log-level debug "$@" \
        "$clip" >"$tmp/$name.json" 2>"$tmp/$name.err"
    t1=$(date +%s.%N)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $(sed -nE 's/.*; ([0-9]+) frames analysed, ([0-9]+) decoded.*/\1 \2/p' "$tmp/$name.err")"
}

accuracy() { # accuracy NAME: tag set and worst marker IoU against ref
    local a b iou worst
    a=$(jq -c '[.tags[].name] | sort' "$tmp/ref.json")
    b=$(jq -c '[.tags[].name] | sort' "$tmp/$1.json")
    iou=$(jq -s -r -f "$here/marker_iou.jq" "$tmp/ref.json" "$tmp/$1.json")
    worst=$(tr ' ' '\n' <<<"$iou" | sort -t= -k2 -g | head -n 1)
    if [[ $a == "$b" ]]; then echo "tags same, worst IoU ${worst:-none}"; else echo "tags DIFFER ($a vs $b), worst IoU ${worst:-none}"; fi
}

shots_score() { # shots_score NAME TRUTH: precision and recall of the boundaries
    local found
    found=$(sed -nE 's/.*event=shots .*boundaries="([^"]*)".*/\1/p' "$tmp/$1.err" | tr ',' '\n' | grep . || true)
    awk -v found="$found" '
        BEGIN { n = split(found, f, "\n"); for (i = 1; i <= n; i++) { split(f[i], p, ":"); ft[i] = p[1]; fe[i] = p[2] } }
        { tt[++m] = $2; te[m] = $1 }
        END {
            ok = 0; hit = 0
            for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) {
                tol = te[j] == "cut" ? 0.1 : 0.6
                if ((ft[i] - tt[j]) ^ 2 <= tol ^ 2) { ok++; break } }
            for (j = 1; j <= m; j++) for (i = 1; i <= n; i++) {
                tol = te[j] == "cut" ? 0.1 : 0.6
                if ((ft[i] - tt[j]) ^ 2 <= tol ^ 2) { hit++; break } }
            printf "shots: precision %d/%d recall %d/%d\n", ok, n, hit, m }' "$2"
}

for clip in "$@"; do
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
    full=$(secs ffmpeg -nostdin -threads 2 -i "$clip" -map 0:v -f null -)
    keys=$(secs ffmpeg -nostdin -threads 2 -skip_frame nokey -i "$clip" -map 0:v -f null -)
    echo "== $(basename "$clip") (${dur} s): ffmpeg every frame $(ratio "$dur" "$full")x, keyframes only $(ratio "$dur" "$keys")x"
    for mode in ref exact adaptive; do
        case $mode in
        ref) args=(--sampling exact --interval 1) ;;
        exact) args=(--sampling exact) ;;
        adaptive) args=(--sampling adaptive) ;;
        esac
        read -r s fa fd <<<"$(run "$mode" "$clip" "${args[@]}")"
        line="$mode: ${s} s, $(ratio "$dur" "$s")x realtime, $fa analysed, $fd decoded"
        [[ $mode != ref ]] && line+="; $(accuracy "$mode")"
        echo "$line"
    done
    truth=${clip%.mp4}.shots
    [[ -f $truth ]] && shots_score adaptive "$truth"
done
