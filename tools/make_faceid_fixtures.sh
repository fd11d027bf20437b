#!/usr/bin/env bash
# make_faceid_fixtures.sh [--check] OUTDIR - the identity fixtures of the People work: the 22
# real faces of deps/photos/sample1..6.jpg (group photos), each face one identity, and for every
# identity ten images and two short videos that change what a face embedding must see through:
# scale (a tight crop, a wide one, a small one), light (brighter and washed out, darker by
# gamma), blur, noise, strong JPEG compression, a 12-degree rotation, a mirror image, a slow pan
# and a zoom encoded in H.264 at a low bit rate; plus each group photo at half size. The truth
# (truth.json) names the identity of every face in every file with its box, so neighbours that
# show at a crop's edge are labelled too.
#
# The face boxes in the photos below are BlazeFace's (aitag tag --analyzers faces on the photos,
# in source pixels), checked by eye one by one. Nobody appears in two photos as far as can be
# seen, so every face is its own identity. Sets: "tune" (sample1-4, 13 identities) is what
# thresholds may be chosen on; "check" (sample5-6, 9 identities) is held out and only reported.
#
# Geometry: every still is one ImageMagick `-distort SRT` from the photo (scale, rotation about
# the face centre, output centred on the face, black outside the photo), so each truth box is the
# photo box pushed through the same map (centre rotated and scaled; width and height scaled).
# Videos move linearly in time; their truth gives the boxes at t0 and t1 and a reader
# interpolates (docs/fixtures.md, "Identity fixtures").
#
# Offline, deterministic (bit-exact muxing, fixed encoder settings, a fixed noise seed) and
# idempotent like tools/make_cue_fixtures.sh: OUTDIR/.stamp holds the sha256 of this script and
# its photos; a matching stamp means nothing to do; --check only says whether OUTDIR is up to
# date. `make fixtures` puts them in build/fixtures/faceid. Needs: bash, ffmpeg (libx264),
# ImageMagick 6 `convert`, perl, sha256sum, flock. Environment: AITAG_PHOTOS.
set -euo pipefail

check=0
if [ "${1:-}" = --check ]; then
    check=1
    shift
fi
if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 [--check] OUTDIR" >&2
    exit 2
fi
script=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$script")/.." && pwd)
photos=${AITAG_PHOTOS:-$repo/deps/photos}
out=$1
die() {
    echo "make_faceid_fixtures: $*" >&2
    exit 1
}
for tool in ffmpeg convert perl sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
inputs=("$photos"/sample{1,2,3,4,5,6}.jpg)
for f in "${inputs[@]}"; do
    [ -f "$f" ] || die "input photo $f not found (run scripts/setup.sh; set AITAG_PHOTOS)"
done
stamp=$({
    sha256sum <"$script"
    for f in "${inputs[@]}"; do sha256sum <"$f"; done
} | sha256sum | cut -d' ' -f1)
if [ "$check" = 1 ]; then
    [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]
    exit
fi
convert -version 2>/dev/null | grep "^Version: ImageMagick" >/dev/null ||
    die "convert is not ImageMagick (apt-get install imagemagick)"
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    exit 0
fi
out=$(cd "$out" && pwd)
rm -rf "$out/images" "$out/videos" "$out/.work" "$out/truth.json" "$out/MANIFEST.txt" \
    "$out/.stamp"
mkdir -p "$out/images" "$out/videos" "$out/.work"
work=$out/.work
t_begin=$(date +%s.%N)

# The faces: identity photo x y w h (source pixels, BlazeFace boxes checked by eye), set.
faces='s1a 1 421 404 193 193 tune
s1b 1 856 466 177 177 tune
s1c 1 1489 262 157 157 tune
s2a 2 354 190 208 208 tune
s2b 2 868 247 213 214 tune
s2c 2 1460 199 197 197 tune
s3a 3 583 376 218 218 tune
s3b 3 1063 259 247 247 tune
s3c 3 1469 350 201 201 tune
s4a 4 232 252 184 185 tune
s4b 4 668 131 169 169 tune
s4c 4 978 226 201 201 tune
s4d 4 1275 196 179 179 tune
s5a 5 361 939 211 212 check
s5b 5 572 459 197 198 check
s5c 5 781 161 164 165 check
s5d 5 1115 257 178 178 check
s5e 5 1419 441 218 219 check
s6a 6 239 538 224 224 check
s6b 6 661 378 237 237 check
s6c 6 1152 348 232 232 check
s6d 6 1472 315 242 242 check'

# The plan: perl turns the table into one convert command per photo (every still of its faces
# and the videos' base pictures; $work/stills.txt), the list of faces to make videos of
# ($work/videos.txt) and the truth (truth.json), from the same numbers.
#   image variants: name, side of the photo square shown (x the face size), output px, angle,
#   mirror, ImageMagick operators after the distort, JPEG quality
#   videos: from a 640 px base (4 x the face size, face centred): pan (a 480x270 window moving
#   40 px/s to the right, shown at 384x216, 64 kbit/s) and zoom (1x to 2x over 4 s, 320x320,
#   96 kbit/s); 110 frames at 25 fps.
FACES=$faces PHOTOS=$photos WORK=$work OUT=$out perl -e '
use strict; use warnings;
my %W = (1 => [1920,1280], 2 => [1920,1367], 3 => [1920,1350], 4 => [1920,1448],
         5 => [1920,1398], 6 => [1920,1537]);
my @faces = map { [split / /] } split /\n/, $ENV{FACES};
my @variants = (
    ["wide",   4.0, 320,   0, 0, "", 88],
    ["tight",  2.0, 256,   0, 0, "", 88],
    ["small",  4.0, 160,   0, 0, "", 88],
    ["bright", 3.0, 320,   0, 0, "-brightness-contrast 30x-25", 88],
    ["dark",   3.0, 320,   0, 0, "-gamma 0.45", 88],
    ["blur",   3.0, 320,   0, 0, "-gaussian-blur 0x2.5", 88],
    ["noise",  3.0, 320,   0, 0, "-seed 7 -attenuate 0.5 +noise Gaussian", 88],
    ["jpeg",   3.0, 320,   0, 0, "", 12],
    ["rot",    3.0, 320,  12, 0, "", 88],
    ["mirror", 3.0, 320,   0, 1, "-flop", 88],
);
sub r4 { sprintf "%.4f", $_[0] }
# box of face g in an output of size ow x oh that shows the photo square of side `side` (photo
# px) around (cx, cy) scaled by k = ow/side, turned by ang degrees clockwise about (cx, cy),
# with the output point (ox, oy) at (cx, cy); undef when its centre falls outside.
sub mapbox {
    my ($g, $cx, $cy, $k, $ang, $mir, $ox, $oy, $ow, $oh) = @_;
    my ($x, $y, $w, $h) = @$g[2..5];
    my ($dx, $dy) = ($x + $w / 2 - $cx, $y + $h / 2 - $cy);
    my $a = $ang * 3.14159265358979 / 180;
    my $u = ($ox + $k * ($dx * cos($a) - $dy * sin($a))) / $ow;
    my $v = ($oy + $k * ($dx * sin($a) + $dy * cos($a))) / $oh;
    $u = 1 - $u if $mir;
    return undef if $u < 0 || $u > 1 || $v < 0 || $v > 1;
    my ($bw, $bh) = ($w * $k / $ow, $h * $k / $oh);
    return [r4($u - $bw / 2), r4($v - $bh / 2), r4($bw), r4($bh)];
}
sub jbox { "[" . join(",", @{$_[0]}) . "]" }
open my $plan, ">", "$ENV{WORK}/stills.txt" or die;
open my $vplan, ">", "$ENV{WORK}/videos.txt" or die;
my (@ids, @files);
for my $f (@faces) {
    my ($id, $p, $x, $y, $w, $h, $set) = @$f;
    push @ids, sprintf "{\"id\":\"%s\",\"photo\":\"sample%d.jpg\",\"box\":[%d,%d,%d,%d],\"set\":\"%s\"}",
        $id, $p, $x, $y, $w, $h, $set;
}
for my $p (1..6) {
    my ($pw, $ph) = @{$W{$p}};
    my @mine = grep { $_->[1] == $p } @faces;
    # the group photo at half size
    my $name = "images/group_sample$p.jpg";
    my $cmd = "convert $ENV{PHOTOS}/sample$p.jpg ( +clone -resize 800x -strip -quality 85 -write $ENV{OUT}/$name +delete )";
    my @tf = map { sprintf "{\"id\":\"%s\",\"box\":[%s,%s,%s,%s]}", $_->[0], r4($_->[2] / $pw),
        r4($_->[3] / $ph), r4($_->[4] / $pw), r4($_->[5] / $ph) } @mine;
    push @files, sprintf "{\"file\":\"%s\",\"kind\":\"image\",\"variant\":\"group\",\"faces\":[%s]}",
        $name, join(",", @tf);
    for my $f (@mine) {
        my ($id, undef, $x, $y, $w, $h) = @$f;
        my ($cx, $cy, $s) = ($x + $w / 2, $y + $h / 2, $w > $h ? $w : $h);
        for my $v (@variants) {
            my ($vn, $mul, $o, $ang, $mir, $ops, $q) = @$v;
            my $k = $o / ($mul * $s);
            $name = "images/${id}_$vn.jpg";
            $cmd .= sprintf " ( +clone -virtual-pixel black -define distort:viewport=%dx%d+0+0 -distort SRT %.2f,%.2f,%.6f,%d,%.1f,%.1f +repage %s -strip -quality %d -write %s/%s +delete )",
                $o, $o, $cx, $cy, $k, $ang, $o / 2, $o / 2, $ops, $q, $ENV{OUT}, $name;
            my @t;
            for my $g (@mine) {
                my $b = mapbox($g, $cx, $cy, $k, $ang, $mir, $o / 2, $o / 2, $o, $o);
                push @t, "{\"id\":\"$g->[0]\",\"box\":" . jbox($b) . "}" if $b;
            }
            push @files, sprintf "{\"file\":\"%s\",\"kind\":\"image\",\"variant\":\"%s\",\"faces\":[%s]}",
                $name, $vn, join(",", @t);
        }
        # the videos base: 640 px showing 4 face sizes around the face
        my $kb = 640 / (4 * $s);
        $cmd .= sprintf " ( +clone -virtual-pixel black -define distort:viewport=640x640+0+0 -distort SRT %.2f,%.2f,%.6f,0,320,320 +repage -write %s/base_%s.png +delete )",
            $cx, $cy, $kb, $ENV{WORK}, $id;
        print $vplan "$id\n";
        my (@t0, @t1, @z0, @z1);
        for my $g (@mine) {
            # pan: window x = 40 t base px, y = 185; shown at 0.8x. Output point of the face
            # centre = (320 - 40 t, 135) window px.
            my ($b0, $b1) = (mapbox($g, $cx, $cy, $kb * 0.8, 0, 0, 256, 108, 384, 216),
                             mapbox($g, $cx, $cy, $kb * 0.8, 0, 0, 128, 108, 384, 216));
            push @t0, [$g->[0], $b0, $b1] if $b0 || $b1;
            # zoom: z = 1 + t/4: 640/z base px shown at 320 px
            ($b0, $b1) = (mapbox($g, $cx, $cy, $kb * 0.5, 0, 0, 160, 160, 320, 320),
                          mapbox($g, $cx, $cy, $kb * 1.0, 0, 0, 160, 160, 320, 320));
            push @z0, [$g->[0], $b0, $b1] if $b0 || $b1;
        }
        for my $vid (["pan", \@t0], ["zoom", \@z0]) {
            my @t = map { sprintf "{\"id\":\"%s\",\"box0\":%s,\"box1\":%s}", $_->[0],
                $_->[1] ? jbox($_->[1]) : "null", $_->[2] ? jbox($_->[2]) : "null" } @{$vid->[1]};
            push @files, sprintf "{\"file\":\"videos/%s_%s.mp4\",\"kind\":\"video\",\"variant\":\"%s\",\"duration\":4.4,\"t0\":0,\"t1\":4,\"faces\":[%s]}",
                $id, $vid->[0], $vid->[0], join(",", @t);
        }
    }
    print $plan "$cmd null:\n";
}
open my $tr, ">", "$ENV{OUT}/truth.json" or die;
print $tr "{\"identities\":[\n ", join(",\n ", @ids), "],\n \"files\":[\n ", join(",\n ", @files), "]}\n";
' || die "planning failed"

ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
enc=(-c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -fflags +bitexact -flags:v +bitexact
    -map_metadata -1 -frames:v 110)
# the base picture held for 110 frames (decoded once), then moved
hold="loop=109:1:0,setpts=N/25/TB"
video() { # video ID: its pan and zoom
    "${ff[@]}" -i "$work/base_$1.png" -vf "$hold,crop=480:270:x='40*t':y=185,scale=384:216" \
        -b:v 64k -maxrate 64k -bufsize 128k "${enc[@]}" "$out/videos/$1_pan.mp4" &&
        "${ff[@]}" -i "$work/base_$1.png" \
            -vf "$hold,zoompan=z='1+on/100':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=320x320:fps=25" \
            -b:v 96k -maxrate 96k -bufsize 192k "${enc[@]}" "$out/videos/$1_zoom.mp4"
}
still() { # one line of the plan: a convert command, words separated by single spaces
    local -a args
    read -ra args <<<"$1"
    "${args[@]}"
}
# two jobs at a time (the stills of one photo, or the videos of one face)
jobs_run() {
    local fn=$1 list=$2 line n=0 failed=0
    while IFS= read -r line; do
        "$fn" "$line" &
        n=$((n + 1))
        if [ "$n" -ge 2 ]; then
            wait -n || failed=1
            n=$((n - 1))
        fi
    done <"$list"
    while [ "$n" -gt 0 ]; do
        wait -n || failed=1
        n=$((n - 1))
    done
    return "$failed"
}
jobs_run still "$work/stills.txt" || die "a still failed"
jobs_run video "$work/videos.txt" || die "a video failed"

(cd "$out" && find images videos truth.json -type f | LC_ALL=C sort | xargs sha256sum) \
    >"$out/MANIFEST.txt"
rm -rf "$work"
echo "$stamp" >"$out/.stamp"
t_end=$(date +%s.%N)
awk -v a="$t_begin" -v b="$t_end" -v d="$out" \
    'BEGIN { printf "make_faceid_fixtures: wrote %s in %.1f s\n", d, b - a }'
