#!/usr/bin/env bash
# make_fixtures.sh OUTDIR - generate the media fixtures and their ground truth.
#
# Every fixture is built from real photos (people from @vladmandic/face-api's demo, animals from
# Debian's darknet package) and text rendered with DejaVu Sans Bold, so that the detectors see
# what they will see in the field, and the truth is known by construction: a video is a list of
# segments, each a still photo or text card, held, panned, zoomed or noised, and the script that
# assembles a segment also writes down what it holds. See docs/fixtures.md for the layout and the
# truth format.
#
# Offline and deterministic (bit-exact muxing, fixed encoder settings); idempotent: OUTDIR/.stamp
# holds the sha256 of this script and of its input photos, and a run whose stamp matches does
# nothing. Only the folders and files this script owns inside OUTDIR are ever removed.
#
# Needs: bash, ffmpeg/ffprobe (libx264, libx265, libvpx-vp9, mjpeg, aac), ImageMagick 6 `convert`,
# perl, sha256sum, flock, DejaVu fonts. Environment: AITAG_PHOTOS (default <repo>/deps/photos),
# AITAG_DARKNET_DATA (default /usr/share/darknet/data), AITAG_FONT (a .ttf file).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

script=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$script")/.." && pwd)
photos=${AITAG_PHOTOS:-$repo/deps/photos}
darknet=${AITAG_DARKNET_DATA:-/usr/share/darknet/data}
font=${AITAG_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}
out=$1

die() {
    echo "make_fixtures: $*" >&2
    exit 1
}

for tool in ffmpeg ffprobe convert perl sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
convert -version 2>/dev/null | grep "^Version: ImageMagick" >/dev/null ||
    die "convert is not ImageMagick (apt-get install imagemagick)"
[ -f "$font" ] || die "font $font not found (install fonts-dejavu-core or set AITAG_FONT)"
inputs=("$photos"/sample{1,3,5,6}.jpg "$darknet"/{horses,eagle,giraffe}.jpg)
for f in "${inputs[@]}"; do
    [ -f "$f" ] || die "input photo $f not found (run scripts/setup.sh; set AITAG_PHOTOS)"
done

stamp=$({
    sha256sum <"$script"
    for f in "${inputs[@]}"; do sha256sum <"$f"; done
} | sha256sum | cut -d' ' -f1)
mkdir -p "$out"
# One generator at a time per OUTDIR (parallel test runs); the lock is released on exit.
exec 9>"$out/.lock"
flock 9
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "make_fixtures: $out is up to date"
    exit 0
fi

out=$(cd "$out" && pwd)
rm -rf "$out/videos" "$out/images" "$out/bad" "$out/truth" "$out/.work" \
    "$out/MANIFEST.txt" "$out/.stamp"
mkdir -p "$out/videos" "$out/images" "$out/bad" "$out/truth" "$out/.work"
work=$out/.work
t_begin=$(date +%s.%N)

# Bit-exact output: no encoder version strings, no random Matroska UIDs, no dates.
ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
bitexact=(-fflags +bitexact -flags:v +bitexact -map_metadata -1)
im_strip=(-strip -define "png:exclude-chunks=date,time")

#
# Stills. Each is a real photo cropped (in source pixels) to the frame's aspect ratio and scaled
# to the frame size; crops were picked by eye so every kept face is whole and >= 80 px tall.
#

# still NAME SRC CROP W H: crop SRC ("WxH+X+Y", or "" for the whole photo, centre-cut to the
# aspect) and scale to exactly WxH; writes $work/NAME.ppm.
still() {
    local name=$1 src=$2 crop=$3 w=$4 h=$5
    if [ -n "$crop" ]; then
        convert "$src" -crop "$crop" +repage -resize "${w}x${h}!" -depth 8 "$work/$name.ppm"
    else
        convert "$src" -resize "${w}x${h}^" -gravity center -extent "${w}x${h}" \
            -depth 8 "$work/$name.ppm"
    fi
}

# pillar NAME SRC CROP W H: a portrait crop scaled to the frame height between black bars, as a
# phone video posted in landscape.
pillar() {
    local name=$1 src=$2 crop=$3 w=$4 h=$5
    convert "$src" -crop "$crop" +repage -resize "x$h" -background black -gravity center \
        -extent "${w}x${h}" -depth 8 "$work/$name.ppm"
}

# card NAME W H BG FG POINTSIZE LINE...: a plain card with one or more centred lines of text.
card() {
    local name=$1 w=$2 h=$3 bg=$4 fg=$5 pt=$6
    shift 6
    local n=$# i=0 gap=$((pt * 3 / 2)) args=() line
    for line in "$@"; do
        args+=(-annotate "+0+$(((2 * i - n + 1) * gap / 2))" "$line")
        i=$((i + 1))
    done
    convert -size "${w}x${h}" "xc:$bg" -font "$font" -pointsize "$pt" -fill "$fg" \
        -gravity center "${args[@]}" -depth 8 "$work/$name.ppm"
}

# label NAME BASE POINTSIZE TEXT: TEXT in dark letters on a light box over still BASE.
label() {
    local name=$1 base=$2 pt=$3 text=$4
    convert -background '#f3f0e6' -fill '#161616' -font "$font" -pointsize "$pt" \
        "label:$text" -bordercolor '#f3f0e6' -border "$((pt / 2))x$((pt / 4))" "$work/$name.box.ppm"
    convert "$work/$base.ppm" "$work/$name.box.ppm" -gravity south -geometry "+0+$((pt * 2))" \
        -composite -depth 8 "$work/$name.ppm"
}

#
# Videos. A video is declared as a list of segments; `encode` assembles them with one ffmpeg
# call (concat filter) and writes the truth file from the same list.
#

v_name='' v_w=0 v_h=0 v_fps=0 v_segs=()

# video NAME W H FPS: start declaring a video.
video() {
    v_name=$1 v_w=$2 v_h=$3 v_fps=$4 v_segs=()
}

# seg STILL START END MOTION FACES [TEXT...]: one segment. MOTION is still, pan (the still must
# be 8% larger than the frame), zoom (slow 10% zoom in), or noise (temporal grain). FACES is the
# number of visible faces; each TEXT is one rendered line. START and END are on frame boundaries.
seg() {
    local IFS=$'\x1f'
    v_segs+=("$*")
}

# encode CODEC CONTAINER ROTATION PIXFMT ENCODER-ARGS...: assemble the declared video into
# videos/NAME and write its truth.
encode() {
    local file=$v_name codec=$1 container=$2 rotation=$3 pixfmt=$4
    shift 4
    local inputs=() chains='' labels='' k=0 s
    for s in "${v_segs[@]}"; do
        local IFS=$'\x1f'
        # shellcheck disable=SC2206
        local f=($s)
        unset IFS
        local img=${f[0]} start=${f[1]} end=${f[2]} motion=${f[3]}
        local dur frames filter
        dur=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
        frames=$(awk -v d="$dur" -v r="$v_fps" 'BEGIN { printf "%d", d * r + 0.5 }')
        inputs+=(-framerate "$v_fps" -i "$work/$img.ppm")
        case $motion in
        still) filter="scale=${v_w}:${v_h}" ;;
        pan) filter="crop=${v_w}:${v_h}:'floor((iw-ow)*n/$frames)':'floor((ih-oh)*n/(2*$frames))'" ;;
        zoom) filter="zoompan=z='1+0.1*on/$frames':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=${v_w}x${v_h}:fps=$v_fps" ;;
        noise) filter="scale=${v_w}:${v_h},noise=alls=7:allf=t" ;;
        *) die "unknown motion $motion" ;;
        esac
        chains+="[$k:v]format=$pixfmt,loop=loop=$((frames - 1)):size=1:start=0,$filter,setsar=1[v$k];"
        labels+="[v$k]"
        k=$((k + 1))
    done
    "${ff[@]}" "${inputs[@]}" -filter_complex "${chains}${labels}concat=n=$k:v=1:a=0[out]" \
        -map '[out]' -r "$v_fps" "$@" "${bitexact[@]}" "$out/videos/$file"
    truth_video "$file" "$codec" "$container" "$rotation"
}

# The truth writer: reads the segment list (fields split by \x1f) and prints the truth JSON.
# Adjacent face segments merge into one truth interval (its count is the larger one).
# shellcheck disable=SC2016 # an awk program, not shell
truth_awk='
function num(x) { return sprintf("%.3f", x) + 0 }
{
    start[NR] = $2; end[NR] = $3; faces[NR] = $5; src[NR] = $1; motion[NR] = $4
    ntext[NR] = NF - 5
    for (i = 6; i <= NF; i++) text[NR, i - 5] = $i
    if ($3 + 0 > dur) dur = $3 + 0
}
END {
    printf "{\"file\":\"%s\",\"kind\":\"video\",\"duration\":%s,\"width\":%d,\"height\":%d,", file, num(dur), w, h
    printf "\"fps\":%d,\"codec\":\"%s\",\"container\":\"%s\",\"rotation\":%d,\n", fps, codec, container, rot
    printf " \"faces\":["; n = 0
    for (i = 1; i <= NR; i++) {
        if (faces[i] == 0) continue
        s = start[i]; c = faces[i]
        while (i < NR && faces[i + 1] > 0) { i++; if (faces[i] > c) c = faces[i] }
        printf "%s{\"start\":%s,\"end\":%s,\"count\":%d}", (n++ ? "," : ""), num(s), num(end[i]), c
    }
    printf "],\n \"text\":["; n = 0
    for (i = 1; i <= NR; i++)
        for (j = 1; j <= ntext[i]; j++)
            printf "%s{\"start\":%s,\"end\":%s,\"text\":\"%s\"}", (n++ ? "," : ""), num(start[i]), num(end[i]), text[i, j]
    printf "],\n \"segments\":["
    for (i = 1; i <= NR; i++)
        printf "%s\n  {\"start\":%s,\"end\":%s,\"still\":\"%s\",\"motion\":\"%s\",\"faces\":%d,\"lines\":%d}", (i > 1 ? "," : ""), num(start[i]), num(end[i]), src[i], motion[i], faces[i], ntext[i]
    printf "]}\n"
}'

# truth_video FILE CODEC CONTAINER ROTATION: truth/FILE.json from the declared segments.
truth_video() {
    local file=$1 codec=$2 container=$3 rotation=$4 s
    {
        for s in "${v_segs[@]}"; do printf '%s\n' "$s"; done
    } | awk -F "\x1f" -v file="videos/$file" -v w="$v_w" -v h="$v_h" -v fps="$v_fps" \
        -v codec="$codec" -v container="$container" -v rot="$rotation" \
        "$truth_awk" >"$out/truth/$file.json"
}

# truth_image FILE FORMAT W H FACES [TEXT...]
truth_image() {
    local file=$1 format=$2 w=$3 h=$4 faces=$5 sep='' t
    shift 5
    {
        printf '{"file":"images/%s","kind":"image","duration":0,"width":%d,"height":%d,' \
            "$file" "$w" "$h"
        printf '"codec":"%s","container":"%s","rotation":0,\n "faces":[' "$format" "$format"
        [ "$faces" -gt 0 ] && printf '{"start":0,"end":0,"count":%d}' "$faces"
        printf '],\n "text":['
        for t in "$@"; do
            printf '%s{"start":0,"end":0,"text":"%s"}' "$sep" "$t"
            sep=,
        done
        printf ']}\n'
    } >"$out/truth/$file.json"
}

h264=(-c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -movflags +faststart)

# 720p stills (1280x720; "p" variants are 8% larger for panning).
still f3_720p "$photos/sample3.jpg" 1920x1080+0+100 1384 778    # 3 faces, panned
still f1_720p "$photos/sample1.jpg" 1920x1080+0+40 1280 720     # 3 faces, zoomed
still horses_720p "$darknet/horses.jpg" '' 1280 720
still eagle_720p "$darknet/eagle.jpg" '' 1280 720
still giraffe_720p "$darknet/giraffe.jpg" '' 1280 720
still f5_720p "$photos/sample5.jpg" 1000x562+950+230 1384 778   # 2 faces (right two women), panned
still f1r_720p "$photos/sample1.jpg" 800x450+1180+110 1280 720  # 1 face (right woman)
card welcome_720p 1280 720 '#f2eee3' '#141414' 72 'WELCOME TO THE PARTY'
card sale_720p 1280 720 '#fbf7ea' '#1b1b1b' 80 'SUMMER SALE TODAY'
card birthday_720p 1280 720 '#16233f' '#f7f3e8' 72 'HAPPY BIRTHDAY' 'SEE YOU AT NINE'

video faces_text_720p_h264.mp4 1280 720 30
seg f3_720p 0 15.5 pan 3
seg horses_720p 15.5 30.5 still 0
seg welcome_720p 30.5 45 still 0 'WELCOME TO THE PARTY'
seg f1_720p 45 60 zoom 3
encode h264 mp4 0 yuv420p "${h264[@]}" -g 60

video text_720p_vp9.webm 1280 720 30
seg sale_720p 0 13.5 still 0 'SUMMER SALE TODAY'
seg eagle_720p 13.5 17 still 0
seg birthday_720p 17 30 still 0 'HAPPY BIRTHDAY' 'SEE YOU AT NINE'
encode vp9 webm 0 yuv420p -c:v libvpx-vp9 -deadline realtime -cpu-used 8 \
    -crf 36 -b:v 0 -row-mt 1 -g 120

video faces_720p_hevc.mkv 1280 720 25
seg giraffe_720p 0 2.6 still 0
seg f5_720p 2.6 17.2 pan 2
seg eagle_720p 17.2 25.8 still 0
seg f1r_720p 25.8 40 still 1
encode hevc matroska 0 yuv420p -c:v libx265 -preset ultrafast -crf 30 \
    -x265-params log-level=error

# 1080p stills.
still f6_1080p "$photos/sample6.jpg" 960x540+80+330 1920 1080    # 2 faces (left two women)
still eagle_1080p "$darknet/eagle.jpg" '' 1920 1080
pillar f3m_1080p "$photos/sample3.jpg" 580x820+900+80 1920 1080   # 1 face, pillarboxed
still giraffe_1080p "$darknet/giraffe.jpg" '' 1920 1080
label safari_1080p giraffe_1080p 100 'SAFARI PARK ENTRANCE'

video faces_1080p_h264.mp4 1920 1080 25
seg f6_1080p 0 17.2 still 2
seg eagle_1080p 17.2 31.6 still 0
seg f3m_1080p 31.6 46.2 zoom 1
seg safari_1080p 46.2 60 still 0 'SAFARI PARK ENTRANCE'
encode h264 mp4 0 yuv420p "${h264[@]}" -g 250

# 480p (640x480, 4:3) Motion JPEG in AVI.
still f3_480p "$photos/sample3.jpg" 1000x750+880+50 640 480     # 2 faces (right two women)
card gameover_480p 640 480 '#efece2' '#121212' 80 'GAME OVER'

video mixed_480p_mjpeg.avi 640 480 25
seg f3_480p 0 14.4 noise 2
seg gameover_480p 14.4 20 still 0 'GAME OVER'
encode mjpeg avi 0 yuvj420p -c:v mjpeg -q:v 7

# Portrait video as phones store it: 1280x720 frames turned 90 degrees counter-clockwise, and a
# display matrix saying "rotate 90 degrees clockwise to show" (legacy mov tag rotate=90; ffprobe
# >= 5 prints rotation=-90). A reader that ignores the matrix sees sideways faces.
still f6_portrait "$photos/sample6.jpg" 860x1529+580+0 720 1280 # 2 faces (middle two women)
convert "$work/f6_portrait.ppm" -rotate -90 "$work/f6_rot.ppm"
still eagle_portrait "$darknet/eagle.jpg" 288x512+300+0 720 1280
convert "$work/eagle_portrait.ppm" -rotate -90 "$work/eagle_rot.ppm"

video rotated_720p_h264.mp4 1280 720 30
seg f6_rot 0 15.2 still 2
seg eagle_rot 15.2 20 still 0
encode h264 mp4 90 yuv420p "${h264[@]}" -g 60
# FFmpeg 5.1 writes the display matrix only when remuxing; its "rotate" value is
# counter-clockwise there, so 270 gives the standard clockwise-90 phone matrix.
mv "$out/videos/rotated_720p_h264.mp4" "$work/rot_plain.mp4"
"${ff[@]}" -i "$work/rot_plain.mp4" -map 0 -c copy -metadata:s:v:0 rotate=270 \
    -movflags +faststart "${bitexact[@]}" "$out/videos/rotated_720p_h264.mp4"

#
# Images: one per common format, faces, text and neither.
#
convert "$photos/sample3.jpg" -resize 1280x900! -quality 88 "${im_strip[@]}" \
    "$out/images/group_3faces.jpg"
truth_image group_3faces.jpg jpeg 1280 900 3
card coffee 1280 400 '#f6f2e4' '#1a1a1a' 72 'FRESH COFFEE HERE'
convert "$work/coffee.ppm" "${im_strip[@]}" "$out/images/text_card.png"
truth_image text_card.png png 1280 400 0 'FRESH COFFEE HERE'
convert "$darknet/horses.jpg" -quality 80 "${im_strip[@]}" "$out/images/horses.webp"
truth_image horses.webp webp 773 512 0
convert "$darknet/eagle.jpg" -resize 640x424! "${im_strip[@]}" "BMP3:$out/images/eagle.bmp"
truth_image eagle.bmp bmp 640 424 0
convert "$photos/sample1.jpg" -crop 800x600+1180+90 +repage -resize 480x360! -colors 256 \
    "${im_strip[@]}" "$out/images/portrait_1face.gif"
truth_image portrait_1face.gif gif 480 360 1
convert "$work/f6_1080p.ppm" -resize 960x540! -compress lzw "${im_strip[@]}" \
    "$out/images/pair_2faces.tiff"
truth_image pair_2faces.tiff tiff 960 540 2
still horses_sign "$darknet/horses.jpg" '' 1024 678
label horses_sign_l horses_sign 60 'WILD HORSES CROSSING'
convert "$work/horses_sign_l.ppm" -quality 90 "${im_strip[@]}" "$out/images/sign_on_photo.jpg"
truth_image sign_on_photo.jpg jpeg 1024 678 0 'WILD HORSES CROSSING'

#
# Bad inputs: each must give a clean, named error, never a crash or a hang.
#
bad=$out/bad
: >"$bad/zero-byte.mp4"
printf 'This is not a video.\nIt is plain text saved with an .mp4 name.\n' >"$bad/not-media.mp4"
still trunc_src "$photos/sample3.jpg" 1920x1080+0+100 640 360
"${ff[@]}" -loop 1 -framerate 25 -t 12 -i "$work/trunc_src.ppm" -vf noise=alls=7:allf=t \
    "${h264[@]}" -g 25 "${bitexact[@]}" "$work/good.mp4"
size=$(stat -c %s "$work/good.mp4")
head -c $((size * 55 / 100)) "$work/good.mp4" >"$bad/truncated.mp4"
"${ff[@]}" -f lavfi -i sine=frequency=440:sample_rate=44100:duration=5 -c:a aac -b:a 64k \
    "${bitexact[@]}" "$bad/audio-only.mp4"
# A PNG whose IHDR claims 100000x100000 RGB (30 GB decoded), with correct CRCs and a valid
# (empty) zlib stream: a decoder must refuse the size before allocating.
perl -e '
    # CRC-32 as PNG defines it (ISO 3309, reflected polynomial 0xEDB88320).
    my @t = map {
        my $c = $_;
        $c = $c & 1 ? 0xEDB88320 ^ ($c >> 1) : $c >> 1 for 1 .. 8;
        $c
    } 0 .. 255;
    sub crc {
        my $c = 0xFFFFFFFF;
        $c = $t[($c ^ ord) & 0xFF] ^ ($c >> 8) for split //, $_[0];
        return $c ^ 0xFFFFFFFF;
    }
    sub chunk {
        my ($type, $data) = @_;
        return pack("N", length $data) . $type . $data . pack("N", crc($type . $data));
    }
    binmode STDOUT;
    print "\x89PNG\r\n\x1a\n", chunk("IHDR", pack("NNCCCCC", 100000, 100000, 8, 2, 0, 0, 0)),
        chunk("IDAT", "\x78\x9c\x03\x00\x00\x00\x00\x01"), chunk("IEND", "");
' >"$bad/huge.png"
mkdir -p "$bad/loop"
ln -s b "$bad/loop/a"
ln -s a "$bad/loop/b"
ln -s .. "$bad/loop/self"
cat >"$out/truth/bad.json" <<'EOF'
{"kind":"bad","files":[
 {"file":"bad/zero-byte.mp4","error":"empty"},
 {"file":"bad/not-media.mp4","error":"not media"},
 {"file":"bad/truncated.mp4","error":"truncated"},
 {"file":"bad/audio-only.mp4","error":"no video"},
 {"file":"bad/huge.png","error":"dimensions"},
 {"file":"bad/loop/a","error":"loop"},
 {"file":"bad/loop/b","error":"loop"},
 {"file":"bad/loop/self","error":"loop"}
]}
EOF

rm -rf "$work"
(
    cd "$out"
    find . -type f ! -name MANIFEST.txt ! -name .stamp ! -name .lock -printf '%P\n' | LC_ALL=C sort |
        while IFS= read -r f; do sha256sum "$f"; done
    find . -type l -printf '%P -> %l\n' | LC_ALL=C sort
) >"$out/MANIFEST.txt"
echo "$stamp" >"$out/.stamp"
awk -v a="$t_begin" -v b="$(date +%s.%N)" -v d="$out" \
    'BEGIN { printf "make_fixtures: wrote %s in %.1f s\n", d, b - a }'
