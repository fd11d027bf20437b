#!/usr/bin/env bash
# bench/make_sampling_media.sh OUT_DIR - the clip set of the sampling bench (bench/sampling.sh),
# built once, each clip with its shot boundaries by construction in CLIP.shots.json beside it.
#
# Footage: 12 real photos (deps/photos/sample*.jpg, faces; Debian darknet's dog, eagle,
# giraffe, horses, kite, person), each shot one photo filling the frame with a slow zoom or a
# pan, temporal grain (noise alls=10) and x264 -preset fast at a bit rate like a camera's
# (4-8 Mb/s), 30 fps, no audio:
#   g250_1080p   60 s, six 10 s shots, hard cuts, 8 Mb/s, keyint 250
#   g60_1080p    the same shots with keyint 60 (a keyframe every 2 s)
#   g250_720p    the same shots at 1280x720, 4 Mb/s
#   g60_2160p    8 s, two 4 s shots at 3840x2160, 8 Mb/s, keyint 60 (short: 4K encodes slowly)
#   fastcut      30 s of 1-2 s shots (19 cuts), 1080p, keyint 250
#   static       40 s of one photo, no motion, grain only, 1080p, keyint 250
#   fades        40 s, five 8 s shots joined through black: fade out and in of 1 s, one of 2 s
#   dissolves    35 s, five 8 s shots cross-fading (xfade) over 1 s, one over 2 s
# A shot is encoded as its own segment and segments are stream-copied end to end (as
# bench/make_media.sh does: encoding minutes of 1080p on 2 shared cores takes too long); each
# segment starts on a keyframe, as x264's scenecut would put one at a cut. The dissolves clip
# is one encode, since a cross-fade spans two shots. Encoding takes ~10 minutes on 2 quiet cores
# (29 on a machine loaded by other builds).
#
# Ground truth, CLIP.shots.json: {"file": "CLIP.mp4", "duration": S, "boundaries": [{"time",
# "kind": "cut"|"fade"|"dissolve", "start", "end"}]}: a cut's time is the first frame of the new
# shot; a fade's is the junction between fade-out and fade-in, a dissolve's its middle, and
# their start/end span the transition. A stamp file records the recipe: change it and the clips
# are rebuilt.
set -euo pipefail

out=${1:?usage: bench/make_sampling_media.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
recipe="v1 photos12 zoom/pan noise10 x264-fast 30fps cuts/g250/g60/720p/2160p/fastcut/static/fades/dissolves"
clips=(g250_1080p g60_1080p g250_720p g60_2160p fastcut static fades dissolves)
fps=30

have_all() {
    [[ -f "$out/stamp" && "$(cat "$out/stamp")" == "$recipe" ]] || return 1
    for c in "${clips[@]}"; do
        [[ -s "$out/$c.mp4" && -s "$out/$c.shots.json" ]] || return 1
    done
}
mkdir -p "$out"
have_all && exit 0
command -v ffmpeg >/dev/null || { echo "bench: ffmpeg CLI not found (apt-get install ffmpeg)" >&2; exit 1; }

photos=("$root"/deps/photos/sample{1..6}.jpg /usr/share/darknet/data/{dog,eagle,giraffe,horses,kite,person}.jpg)
for p in "${photos[@]}"; do
    [[ -r $p ]] || { echo "bench: missing photo $p (run make setup)" >&2; exit 1; }
done
tmp="$out/tmp"
rm -rf "$tmp"
mkdir -p "$tmp"

# motion_filter W H FRAMES MOTION: the photo filling WxH, zooming in (zoom) or panning left to
# right (pan) or still (still) over FRAMES frames, with grain.
motion_filter() {
    local w=$1 h=$2 n=$3 motion=$4 z x
    case $motion in
    zoom) z="min(1+0.2*on/$n,1.2)" x="iw/2-(iw/zoom/2)" ;;
    pan) z="1.2" x="(iw-iw/zoom)*on/$n" ;;
    still) z="1" x="0" ;;
    esac
    # 1.5x oversampling before zoompan keeps its integer crop steps from shaking the picture
    printf '%s' "scale=$((w * 3 / 2)):$((h * 3 / 2)):force_original_aspect_ratio=increase," \
        "crop=$((w * 3 / 2)):$((h * 3 / 2)),setsar=1," \
        "zoompan=z='$z':x='$x':y='ih/2-(ih/zoom/2)':d=$n:s=${w}x$h:fps=$fps," \
        "noise=alls=10:allf=t+u,format=yuv420p"
}

# x264 RATE KEYINT: encoder options
x264() {
    printf '%s\n' -c:v libx264 -preset fast -b:v "$1" -maxrate "$1" -bufsize "$1" -g "$2" \
        -pix_fmt yuv420p -r "$fps" -an
}

# segment OUT PHOTO SECONDS W H RATE KEYINT MOTION [FADE_IN FADE_OUT]: one shot, encoded.
segment() {
    local o=$1 photo=$2 secs=$3 w=$4 h=$5 rate=$6 g=$7 motion=$8 fi=${9:-0} fo=${10:-0}
    local n f
    n=$(awk -v s="$secs" -v r=$fps 'BEGIN { printf "%d", s * r + 0.5 }')
    f=$(motion_filter "$w" "$h" "$n" "$motion")
    [[ $fi != 0 ]] && f+=",fade=t=in:st=0:d=$fi"
    [[ $fo != 0 ]] && f+=",fade=t=out:st=$(awk -v s="$secs" -v d="$fo" 'BEGIN { print s - d }'):d=$fo"
    # shellcheck disable=SC2046
    ffmpeg -hide_banner -loglevel error -y -i "$photo" -vf "$f" -frames:v "$n" \
        $(x264 "$rate" "$g") "$o"
}

# concat OUT SEG...: stream copy end to end.
concat() {
    local o=$1 list="$tmp/list.txt"
    shift
    : >"$list"
    for s in "$@"; do printf "file '%s'\n" "$s" >>"$list"; done
    ffmpeg -hide_banner -loglevel error -y -f concat -safe 0 -i "$list" -c copy \
        -movflags +faststart "$o"
}

# truth CLIP DURATION BOUNDARY_JSON...: CLIP.shots.json
truth() {
    local clip=$1 dur=$2
    shift 2
    local IFS=,
    printf '{"file": "%s.mp4", "duration": %s, "boundaries": [%s]}\n' "$clip" "$dur" "$*" \
        >"$out/$clip.shots.json"
}

cut_at() { printf '{"time": %s, "kind": "cut"}' "$1"; }
gradual_at() { # KIND START END: the middle is the boundary
    printf '{"time": %s, "kind": "%s", "start": %s, "end": %s}' \
        "$(awk -v a="$2" -v b="$3" 'BEGIN { print (a + b) / 2 }')" "$1" "$2" "$3"
}

# cuts CLIP W H RATE KEYINT SHOTS SECONDS FIRST_PHOTO: SHOTS photos of SECONDS each, hard cuts,
# zoom and pan alternating.
cuts() {
    local clip=$1 w=$2 h=$3 rate=$4 g=$5 shots=$6 secs=$7 first=$8 segs=() bounds=() i t
    for ((i = 0; i < shots; i++)); do
        local m=zoom
        ((i % 2)) && m=pan
        segment "$tmp/$clip-$i.mp4" "${photos[(first + i) % 12]}" "$secs" "$w" "$h" "$rate" "$g" "$m"
        segs+=("$clip-$i.mp4")
        ((i > 0)) && bounds+=("$(cut_at "$((i * secs))")")
    done
    concat "$out/$clip.mp4" "${segs[@]}"
    truth "$clip" "$((shots * secs))" "${bounds[@]}"
}

echo "bench: encoding the sampling clips (one-time, ~10 minutes on 2 cores)..." >&2
cuts g250_1080p 1920 1080 8M 250 6 10 0
cuts g60_1080p 1920 1080 8M 60 6 10 0
cuts g250_720p 1280 720 4M 250 6 10 0
cuts g60_2160p 3840 2160 8M 60 2 4 6

# fastcut: shots of 1, 1.5 and 2 s in turn, 30 s in all
segs=() bounds=() t=0 i=0
lens=(1 1.5 2 1.5)
while awk -v t="$t" 'BEGIN { exit !(t < 29.9) }'; do
    len=${lens[i % 4]}
    m=zoom
    ((i % 2)) && m=pan
    segment "$tmp/fastcut-$i.mp4" "${photos[(i * 5) % 12]}" "$len" 1920 1080 8M 250 "$m"
    segs+=("fastcut-$i.mp4")
    ((i > 0)) && bounds+=("$(cut_at "$t")")
    t=$(awk -v t="$t" -v l="$len" 'BEGIN { print t + l }')
    i=$((i + 1))
done
concat "$out/fastcut.mp4" "${segs[@]}"
truth fastcut "$t" "${bounds[@]}"

segment "$tmp/static-0.mp4" "${photos[2]}" 40 1920 1080 8M 250 still
concat "$out/static.mp4" static-0.mp4
truth static 40

# fades: five 8 s shots; junctions at 8, 16, 24, 32; the one at 24 fades 2 s each way
segs=() bounds=()
for i in 0 1 2 3 4; do
    fin=1 fout=1
    ((i == 0)) && fin=0
    ((i == 4)) && fout=0
    ((i == 2)) && fout=2
    ((i == 3)) && fin=2
    m=zoom
    ((i % 2)) && m=pan
    segment "$tmp/fades-$i.mp4" "${photos[(i * 7 + 1) % 12]}" 8 1920 1080 8M 250 "$m" "$fin" "$fout"
    segs+=("fades-$i.mp4")
    if ((i > 0)); then
        j=$((i * 8)) w=1
        ((i == 3)) && w=2
        bounds+=("$(gradual_at fade $((j - w)) $((j + w)))")
    fi
done
concat "$out/fades.mp4" "${segs[@]}"
truth fades 40 "${bounds[@]}"

# dissolves: five 8 s shots, xfade of 1 s (2 s for the third) at the end of each: one encode
inputs=() fc="" bounds=()
for i in 0 1 2 3 4; do
    m=zoom
    ((i % 2)) && m=pan
    inputs+=(-i "${photos[(i * 5 + 3) % 12]}")
    fc+="[$i:v]$(motion_filter 1920 1080 $((8 * fps)) "$m")[s$i];"
done
prev="s0" off=0
for i in 1 2 3 4; do
    d=1
    ((i == 3)) && d=2
    off=$((off + 8 - d))
    fc+="[$prev][s$i]xfade=transition=fade:duration=$d:offset=$off[x$i];"
    bounds+=("$(gradual_at dissolve "$off" "$((off + d))")")
    prev="x$i"
done
dur=$((off + 8))
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" -filter_complex "${fc%;}" -map "[$prev]" \
    $(x264 8M 250) -movflags +faststart "$out/dissolves.mp4"
truth dissolves "$dur" "${bounds[@]}"

rm -rf "$tmp"
echo "$recipe" >"$out/stamp"
