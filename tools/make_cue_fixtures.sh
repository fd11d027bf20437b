#!/usr/bin/env bash
# make_cue_fixtures.sh [--check] OUTDIR - the fixtures of the technical cues (the `cues` analyzer), with
# their truth, built from FFmpeg's lavfi sources: colour bars (smptebars), black and fades to
# black (color=black, fade), a frozen picture (loop), rolling end credits (drawtext scrolling
# DejaVu Sans lines over black), a tone with a silent gap (aevalsrc), and a negative: a real
# photo zoomed slowly, with sound all along, that must give no cue at all.
#
# Offline, deterministic (bit-exact muxing, fixed encoder settings) and idempotent like
# tools/make_fixtures.sh: OUTDIR/.stamp holds the sha256 of this script and its inputs; a run
# whose stamp matches does nothing; only the files listed here are ever written. The Makefile's
# `fixtures` target puts them in build/fixtures/cues; the cues test generates a private copy
# when that one is missing or stale. Times of the truth (truth.json) are seconds, by construction.
#
# Needs: bash, ffmpeg (lavfi, libx264, aac, drawtext), sha256sum, flock, DejaVu fonts, Debian's
# darknet photos. Environment: AITAG_DARKNET_DATA, AITAG_FONT as for make_fixtures.sh.
set -euo pipefail

check=0
if [ "${1:-}" = --check ]; then # --check OUTDIR: exit 0 when OUTDIR is up to date, 1 otherwise
    check=1
    shift
fi
if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 [--check] OUTDIR" >&2
    exit 2
fi
script=$(readlink -f "${BASH_SOURCE[0]}")
darknet=${AITAG_DARKNET_DATA:-/usr/share/darknet/data}
font=${AITAG_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}
out=$1
die() {
    echo "make_cue_fixtures: $*" >&2
    exit 1
}
for tool in ffmpeg sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[ -f "$font" ] || die "font $font not found (install fonts-dejavu-core or set AITAG_FONT)"
photo=$darknet/horses.jpg
[ -f "$photo" ] || die "input photo $photo not found (install darknet; set AITAG_DARKNET_DATA)"

stamp=$({
    sha256sum <"$script"
    sha256sum <"$photo"
} | sha256sum | cut -d' ' -f1)
if [ "$check" = 1 ]; then
    [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]
    exit
fi
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    exit 0
fi
out=$(cd "$out" && pwd)
files=(black_fade.mp4 bars.mp4 static.mp4 credits.mp4 none.mp4 truth.json MANIFEST.txt .stamp)
for f in "${files[@]}"; do rm -f "$out/$f"; done

ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
size=640x360
enc=(-c:v libx264 -preset veryfast -crf 23 -g 60 -pix_fmt yuv420p -c:a aac -b:a 96k -ar 48000
    -ac 1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 -shortest)
# moving test pattern: never static, never dark (testsrc2 moves and counts every frame)
moving="testsrc2=size=$size:rate=30"
tone="aevalsrc=0.1*sin(2*PI*440*t):s=48000"

# black_fade.mp4 (20 s): pattern 0-6, fading out 6-9, black 9-14, pattern 14-20; the tone
# stops 9-14 (digital silence).
"${ff[@]}" -f lavfi -i "$moving:duration=20" \
    -f lavfi -i "color=c=black:size=$size:rate=30:duration=5" \
    -f lavfi -i "aevalsrc=if(between(t\,9\,14)\,0\,0.1*sin(2*PI*440*t)):s=48000:d=20" \
    -filter_complex "[0:v]split=2[a][b];[a]trim=0:9,fade=t=out:st=6:d=3[a1];
        [b]trim=14:20,setpts=PTS-STARTPTS[b1];[a1][1:v][b1]concat=n=3:v=1:a=0[v]" \
    -map '[v]' -map 2:a "${enc[@]}" "$out/black_fade.mp4"

# bars.mp4 (12 s): SMPTE colour bars 0-5 with a 1 kHz tone, then the pattern with its tone.
"${ff[@]}" -f lavfi -i "smptebars=size=$size:rate=30:duration=5" \
    -f lavfi -i "$moving:duration=7" -f lavfi -i "$tone:d=12" \
    -filter_complex "[0:v][1:v]concat=n=2:v=1:a=0[v]" -map '[v]' -map 2:a \
    "${enc[@]}" "$out/bars.mp4"

# static.mp4 (16 s): pattern 0-5, its frame at 5 s frozen 5-11, pattern again 11-16.
"${ff[@]}" -f lavfi -i "$moving:duration=16" -f lavfi -i "$tone:d=16" \
    -filter_complex "[0:v]split=3[a][b][c];[a]trim=0:5,setpts=PTS-STARTPTS[a1];
        [b]trim=start_frame=150:end_frame=151,loop=loop=179:size=1:start=0,setpts=N/30/TB[b1];
        [c]trim=11:16,setpts=PTS-STARTPTS[c1];[a1][b1][c1]concat=n=3:v=1:a=0[v]" \
    -map '[v]' -map 1:a "${enc[@]}" "$out/static.mp4"

# credits.mp4 (30 s): pattern 0-20, then end credits rolling up over black 20-30.
credits=$(mktemp)
trap 'rm -f "$credits"' EXIT
for role in Director Producer Writer Editor Camera Sound Music Costumes Lighting Catering \
    Casting Stunts Makeup Props Grip Gaffer Colourist Titles Driver Runner; do
    printf '%-12s  A. %s Person\n' "$role" "$role"
done >"$credits"
"${ff[@]}" -f lavfi -i "$moving:duration=20" \
    -f lavfi -i "color=c=black:size=$size:rate=30:duration=10" -f lavfi -i "$tone:d=30" \
    -filter_complex "[1:v]drawtext=fontfile=$font:textfile=$credits:fontsize=22:fontcolor=white:line_spacing=14:x=(w-text_w)/2:y=h-t*60[r];
        [0:v][r]concat=n=2:v=1:a=0[v]" -map '[v]' -map 2:a "${enc[@]}" "$out/credits.mp4"

# none.mp4 (12 s): a real photo zoomed in slowly (every frame differs), sound all along.
"${ff[@]}" -loop 1 -framerate 30 -i "$photo" -f lavfi -i "$tone:d=12" \
    -filter_complex "[0:v]scale=960:540,zoompan=z='1+0.25*on/360':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=$size:fps=30,trim=duration=12[v]" \
    -map '[v]' -map 1:a "${enc[@]}" "$out/none.mp4"

cat >"$out/truth.json" <<'EOF'
{"black_fade.mp4": {"duration": 20, "black": [[9, 14]], "fade_to_black": [[6, 9]],
                    "silence": [[9, 14]]},
 "bars.mp4": {"duration": 12, "color_bars": [[0, 5]]},
 "static.mp4": {"duration": 16, "static": [[5, 11]]},
 "credits.mp4": {"duration": 30, "credits": [[20, 30]]},
 "none.mp4": {"duration": 12}}
EOF
(cd "$out" && sha256sum black_fade.mp4 bars.mp4 static.mp4 credits.mp4 none.mp4 truth.json) \
    >"$out/MANIFEST.txt"
echo "$stamp" >"$out/.stamp"
