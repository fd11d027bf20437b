#!/usr/bin/env bash
# Hostile media for the limits of docs/limits.md, each a few KB and made in seconds: files that
# try to exhaust memory or time rather than being merely broken (those are make_fixtures.sh's
# bad/). The FIFO and the file still being written are made by the test itself, live.
#   usage: tools/make_hostile_fixtures.sh OUT_DIR
#   bomb.png          a real PNG bomb: 16000x16000 1-bit pixels (256 megapixels), zlib-packed to ~32 KB
#   bomb.gif          a GIF whose screen is 65535x65535 (4.3 gigapixels) around a 1x1 image
#   many-frames.mkv   3000 frames of 16x16 at 1000 fps with one keyframe: all decoded in order
#   pts-jump.mkv      timestamps jumping 31 years ahead after 1.5 s (declares that duration)
#   pts-backwards.ts  MPEG-TS segments whose timestamps go back and forth (a bad concatenation)
#   many-streams.mkv  990 subtitle streams beside one short video stream
#   stream.ts         4 s of MPEG-TS that the test loops into a file still being written
#   good.mp4          a plain short video: tagged in the same run
# OUT_DIR/.stamp holds the sha256 of this script and the FFmpeg version: a run whose stamp
# matches does nothing.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
stamp=$({ sha256sum <"$0"; ffmpeg -version | head -n 1; } | sha256sum | cut -c1-64)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    exit 0
fi
mkdir -p "$out"
rm -f "$out/.stamp"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ff=(ffmpeg -nostdin -v error -y)
x264=(-c:v libx264 -preset ultrafast -pix_fmt yuv420p)

# PNG bomb: every row is a filter byte and 2000 zero bytes; zlib squeezes 32 MB to ~32 KB.
perl -MCompress::Zlib -e '
    my ($w, $h) = (16000, 16000);
    sub chunk {
        my ($type, $data) = @_;
        return pack("N", length $data) . $type . $data . pack("N", crc32($type . $data));
    }
    my $row = "\0" x (1 + $w / 8);
    my ($d, $st) = deflateInit(-Level => 9);
    my $z = "";
    for (1 .. $h) { my ($o) = $d->deflate($row); $z .= $o }
    my ($o) = $d->flush(); $z .= $o;
    binmode STDOUT;
    print "\x89PNG\r\n\x1a\n", chunk("IHDR", pack("NNCCCCC", $w, $h, 1, 0, 0, 0, 0)),
        chunk("IDAT", $z), chunk("IEND", "");
' >"$out/bomb.png"

# GIF: logical screen 65535x65535, one 1x1 image (LZW min code size 2: clear, 0, end).
printf 'GIF89a\xff\xff\xff\xff\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;' \
    >"$out/bomb.gif"

"${ff[@]}" -f lavfi -i color=gray:size=16x16:rate=1000:duration=3 "${x264[@]}" -g 100000 \
    -x264-params keyint=100000:scenecut=0 "$out/many-frames.mkv"

"${ff[@]}" -f lavfi -i testsrc=size=32x32:rate=10:duration=3 "${x264[@]}" -g 10 \
    -bsf:v "setts=ts='if(gte(N,15),TS+1000000000000,TS)'" "$out/pts-jump.mkv"

"${ff[@]}" -f lavfi -i testsrc=size=32x32:rate=10:duration=2 "${x264[@]}" -g 10 \
    -f mpegts "$work/a.ts"
"${ff[@]}" -f lavfi -i testsrc=size=32x32:rate=10:duration=2 "${x264[@]}" -g 10 \
    -output_ts_offset 40 -f mpegts "$work/b.ts"
cat "$work/b.ts" "$work/a.ts" "$work/b.ts" "$work/a.ts" >"$out/pts-backwards.ts"
"${ff[@]}" -f lavfi -i testsrc=size=32x32:rate=25:duration=4 "${x264[@]}" -g 25 -f mpegts \
    "$out/stream.ts"

printf '1\n00:00:00,000 --> 00:00:00,100\nx\n' >"$work/s.srt"
maps=()
for _ in $(seq 1 990); do maps+=(-map 1:s); done
"${ff[@]}" -f lavfi -i color=black:size=32x32:rate=5:duration=1 -i "$work/s.srt" -map 0:v \
    "${maps[@]}" "${x264[@]}" -c:s srt "$out/many-streams.mkv"

"${ff[@]}" -f lavfi -i testsrc=size=64x64:rate=10:duration=2 "${x264[@]}" "$out/good.mp4"
echo "$stamp" >"$out/.stamp"
