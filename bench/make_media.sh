#!/usr/bin/env bash
# bench/make_media.sh OUT_DIR - builds the benchmark clips from real photos, once.
#
# A 40 s slideshow of 12 real photos (deps/photos/sample*.jpg, faces; Debian darknet's
# dog/eagle/giraffe/horses/kite/person) with a slow zoom, light temporal grain and a caption
# with a running clock, so the encoder sees motion, noise and text like real footage rather
# than a synthetic test pattern. It is encoded once per variant and stream-copied three times
# end to end into 120 s clips (decoding cost per frame does not depend on whether the content
# repeats, and encoding 120 s of 1080p with -preset medium on 2 cores would take ~10 minutes):
#   h264_1080p_g250.mp4   1920x1080 30 fps, x264 -preset medium -crf 23, keyint 250 (default)
#   h264_1080p_g30.mp4    the same with keyint 30 (one keyframe a second)
#   h264_720p_g250.mp4    1280x720, keyint 250
# Scene cuts between photos still get their own keyframes (x264 scenecut, as in real footage).
# A stamp file records the recipe: change it and the clips are rebuilt.
set -euo pipefail

out=${1:?usage: bench/make_media.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
recipe="v1 slideshow40x3 zoompan noise4 drawtext crf23 medium g250/g30 aac96k"
mkdir -p "$out"
if [[ -f "$out/stamp" && "$(cat "$out/stamp")" == "$recipe" ]] &&
    [[ -s "$out/h264_1080p_g250.mp4" && -s "$out/h264_1080p_g30.mp4" && -s "$out/h264_720p_g250.mp4" ]]; then
    exit 0
fi
command -v ffmpeg >/dev/null || { echo "bench: ffmpeg CLI not found (apt-get install ffmpeg)" >&2; exit 1; }

photos=("$root"/deps/photos/sample{1..6}.jpg /usr/share/darknet/data/{dog,eagle,giraffe,horses,kite,person}.jpg)
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
fps=30 per=100 # frames per photo: 12 x 100 / 30 = 40 s
inputs=() fc="" cat=""
for i in "${!photos[@]}"; do
    [[ -r "${photos[$i]}" ]] || { echo "bench: missing photo ${photos[$i]} (run make setup)" >&2; exit 1; }
    inputs+=(-i "${photos[$i]}")
    fc+="[$i:v]scale=1920:1080:force_original_aspect_ratio=decrease,"
    fc+="pad=1920:1080:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,"
    fc+="zoompan=z='min(zoom+0.0015,1.3)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
    fc+=":d=$per:s=1920x1080:fps=$fps[p$i];"
    cat+="[p$i]"
done
n=${#photos[@]}
fc+="${cat}concat=n=$n:v=1:a=0,noise=alls=4:allf=t,"
fc+="drawtext=fontfile=$font:text='aitag bench %{pts\\:hms}':x=60:y=h-110:fontsize=48"
fc+=":fontcolor=white:box=1:boxcolor=black@0.5,split=3[a][b][c0];[c0]scale=1280:720[c]"
secs=$((n * per / fps))
x264=(-c:v libx264 -preset medium -crf 23 -pix_fmt yuv420p)
aud=(-map "$n:a" -c:a aac -b:a 96k)

tmp="$out/tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
echo "bench: encoding ${secs}s segments (one-time, a few minutes on 2 cores)..." >&2
ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" \
    -f lavfi -i "anoisesrc=d=$secs:c=pink:a=0.05:r=48000" -filter_complex "$fc" \
    -map "[a]" "${x264[@]}" -g 250 "${aud[@]}" -t "$secs" "$tmp/h264_1080p_g250.mp4" \
    -map "[b]" "${x264[@]}" -g 30 "${aud[@]}" -t "$secs" "$tmp/h264_1080p_g30.mp4" \
    -map "[c]" "${x264[@]}" -g 250 "${aud[@]}" -t "$secs" "$tmp/h264_720p_g250.mp4"
for v in h264_1080p_g250 h264_1080p_g30 h264_720p_g250; do
    printf "file '%s'\n" "$v.mp4" "$v.mp4" "$v.mp4" >"$tmp/$v.txt"
    ffmpeg -hide_banner -loglevel error -y -f concat -safe 0 -i "$tmp/$v.txt" -c copy \
        -movflags +faststart "$out/$v.mp4"
done
rm -rf "$tmp"
echo "$recipe" >"$out/stamp"
