#!/usr/bin/env bash
# bench/adaptive_clips.sh OUT_DIR - clips for measuring adaptive sampling and shot detection,
# built from real photos (deps/photos faces, Debian darknet's animals and objects) with a slow
# zoom and temporal grain, 1080p30 H.264 (x264 veryfast, CRF 23 capped at 9 Mb/s: ~8 Mb/s with the grain):
#   shots6_g250.mp4   60 s, six shots of 10 s, keyint 250 (like the issue's clip, half as long:
#                     encoding 1080p with grain runs at a few frames a second on 2 loaded cores)
#   shots6_g60.mp4    the same, keyint 60 (2 s)
#   grainy_g250.mp4   the same six shots with heavy grain (~8 Mb/s, like real camera footage)
#   fastcut_g250.mp4  30 s, fifteen shots of 1.3-3 s, keyint 250
#   fades_g250.mp4    36 s, four shots of 9 s: fade to black and back (0.8 s each way) at
#                     9 s, a 1.5 s dissolve centred at 18 s, a hard cut at 26.98 s
#   static_g250.mp4   30 s, one photo, no zoom (static content, one long shot)
# Each clip gets OUT_DIR/NAME.shots: one "edge time" line per boundary (ground truth by
# construction; the middle of a fade or dissolve). Built once; delete the folder to rebuild.
set -euo pipefail

out=${1:?usage: bench/adaptive_clips.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
photos=("$root"/deps/photos/sample{1..6}.jpg /usr/share/darknet/data/{dog,eagle,giraffe,horses,kite,person}.jpg)
for p in "${photos[@]}"; do [[ -r $p ]] || { echo "missing photo $p" >&2; exit 1; }; done
ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
x264=(-c:v libx264 -preset veryfast -crf 23 -maxrate 9M -bufsize 18M -pix_fmt yuv420p -movflags +faststart)
grain="noise=alls=6:allf=t"

# still INDEX FRAMES [ZOOM]: filter text for one photo as a 1080p30 clip of FRAMES frames
still() {
    local z=${3:-0.0008}
    printf "scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,"
    printf "setsar=1,format=yuv420p,zoompan=z='1+%s*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'" "$z"
    printf ":d=%d:s=1920x1080:fps=30" "$2"
}

if [[ ! -s $out/shots6_g250.mp4 || ! -s $out/shots6_g60.mp4 ]]; then
    in=() fc="" cat=""
    for i in 0 6 1 7 2 8; do
        k=${#in[@]}; k=$((k / 2))
        in+=(-i "${photos[$i]}")
        fc+="[$k:v]$(still $i 300)[s$k];"
        cat+="[s$k]"
    done
    fc+="${cat}concat=n=6:v=1:a=0,$grain,split=2[a][b]"
    "${ff[@]}" "${in[@]}" -filter_complex "$fc" \
        -map "[a]" "${x264[@]}" -g 250 -t 60 "$out/shots6_g250.mp4" \
        -map "[b]" "${x264[@]}" -g 60 -t 60 "$out/shots6_g60.mp4"
    for c in shots6_g250 shots6_g60; do printf "cut %s\n" 10 20 30 40 50 >"$out/$c.shots"; done
fi

if [[ ! -s $out/grainy_g250.mp4 ]]; then # the same six shots, heavy grain: ~8 Mb/s
    in=() fc="" cat=""
    for i in 0 6 1 7 2 8; do
        k=${#in[@]}; k=$((k / 2))
        in+=(-i "${photos[$i]}")
        fc+="[$k:v]$(still $i 300)[s$k];"
        cat+="[s$k]"
    done
    fc+="${cat}concat=n=6:v=1:a=0,noise=alls=24:allf=t"
    "${ff[@]}" "${in[@]}" -filter_complex "$fc" -c:v libx264 -preset veryfast -crf 18 \
        -maxrate 9M -bufsize 18M -pix_fmt yuv420p -movflags +faststart -g 250 -t 60 \
        "$out/grainy_g250.mp4"
    printf "cut %s\n" 10 20 30 40 50 >"$out/grainy_g250.shots"
fi

if [[ ! -s $out/fastcut_g250.mp4 ]]; then
    # uneven shots (as in real editing; equal ones would put every cut on one spacing, which
    # reads like a fixed GOP)
    lens=(45 70 52 81 60 38 66 75 49 58 90 42 63 55 56) in=() fc="" cat="" t=0
    : >"$out/fastcut_g250.shots"
    for k in "${!lens[@]}"; do
        in+=(-i "${photos[$((k % 12))]}")
        fc+="[$k:v]$(still $k "${lens[$k]}" 0.002)[s$k];"
        cat+="[s$k]"
        t=$((t + lens[k]))
        ((k < ${#lens[@]} - 1)) && awk -v t="$t" 'BEGIN { printf "cut %.3f\n", t / 30 }' >>"$out/fastcut_g250.shots"
    done
    fc+="${cat}concat=n=${#lens[@]}:v=1:a=0,$grain"
    "${ff[@]}" "${in[@]}" -filter_complex "$fc" "${x264[@]}" -g 250 -t 30 "$out/fastcut_g250.mp4"
fi

if [[ ! -s $out/fades_g250.mp4 ]]; then
    # shot A 0-9 fades out over 8.2-9; B fades in 9-9.8, B and C dissolve 17.25-18.75
    # (xfade at offset 8.25 of the B clip), C cuts to D at 9 + 8.25 + 292/30 = 26.98
    fc="[0:v]$(still 3 270),fade=t=out:st=8.2:d=0.8[a];"
    fc+="[1:v]$(still 9 281),fade=t=in:st=0:d=0.8[b];"
    fc+="[2:v]$(still 4 292)[c];"
    fc+="[3:v]$(still 10 270)[d];"
    fc+="[b][c]xfade=transition=fade:duration=1.5:offset=8.25[bxc];"
    fc+="[a][bxc][d]concat=n=3:v=1:a=0,$grain"
    "${ff[@]}" -i "${photos[3]}" -i "${photos[9]}" -i "${photos[4]}" \
        -i "${photos[10]}" -filter_complex "$fc" "${x264[@]}" -g 250 -t 36 \
        "$out/fades_g250.mp4"
    printf "fade 9\ndissolve 18\ncut 26.98\n" >"$out/fades_g250.shots"
fi

if [[ ! -s $out/static_g250.mp4 ]]; then
    "${ff[@]}" -i "${photos[0]}" -filter_complex "[0:v]$(still 0 900 0),$grain" \
        "${x264[@]}" -g 250 -t 30 "$out/static_g250.mp4"
    : >"$out/static_g250.shots"
fi
ls -l "$out"
