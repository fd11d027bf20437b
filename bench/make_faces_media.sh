#!/usr/bin/env bash
# bench/make_faces_media.sh OUT_DIR - the media of the face verification measurement
# (bench/faces_verify.sh), made once from Debian packages and the pinned sample photos, and its
# list OUT_DIR/list.txt (`SET KIND PATH EXPECTED` lines, tests/tools/face_verify_bench.c).
#
# People-free (neg): darknet's dog, horses, kite, giraffe and eagle; scikit-image's sample
# photos without people (a cat, a coffee cup, a rocket, a motorcycle, textures, text pages,
# coins, the moon, ...); every second Tux Paint stamp of animals, food, household things,
# plants, vehicles, buildings, symbols and cartoons (no people, no drawn faces, no masks, no
# monuments), each laid on a grey, grass, gravel or brick background; text cards rendered with
# ImageMagick; and 8-second 1280x720 H.264 videos panning over or zooming into 12 of those.
# Faces (pos): deps/photos/sample1-6 (22 faces, counted by eye), the project's face fixtures
# with their truth JSON, and a video per sample photo zooming out from the full photo to a
# quarter of its size on a larger canvas (faces shrink to 20-40 px), every frame holding all
# its faces.
# Each group is split by alternation in name order: the first, third, ... item goes to the
# tune set, the others to the check set, which no threshold was chosen on.
set -euo pipefail

out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${FIXTURES:-$root/build/fixtures}
sk=/usr/lib/python3/dist-packages/skimage/data
stamps=/usr/share/tuxpaint/stamps
mkdir -p "$out/neg" "$out/pos"
list="$out/list.txt"
: >"$list.tmp"

n=0
add() { # KIND PATH EXPECTED: alternate tune/check within the current group
    local set=tune
    if ((n % 2)); then set=check; fi
    n=$((n + 1))
    printf '%s %s %s %s\n' "$set" "$1" "$2" "$3" >>"$list.tmp"
}
group() { n=0; }

video() { # IN OUT MOTION: an 8 s 1280x720 clip
    local vf
    case $3 in
    zoom) vf="zoompan=z='min(1+0.004*on,1.8)':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=200:s=1280x720:fps=25" ;;
    pan) vf="zoompan=z=1.4:x='(iw-iw/zoom)*on/200':y='(ih-ih/zoom)/2':d=200:s=1280x720:fps=25" ;;
    out) vf="pad=iw*2:ih*2:iw/2:ih/2:color=gray,zoompan=z='max(2-0.005*on,1)':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=200:s=1280x720:fps=25" ;;
    esac
    [[ -s $2 ]] || ffmpeg -v error -y -i "$1" -vf "scale=1920:-2,$vf" -t 8 -c:v libx264 \
        -preset veryfast -crf 23 -pix_fmt yuv420p "$2"
}

# --- people-free photos
group
for f in dog horses kite giraffe eagle; do add neg "/usr/share/darknet/data/$f.jpg" 0; done
group
for f in brick cell chelsea clock_motion coffee coins color grass gravel horse \
    hubble_deep_field ihc logo moon motorcycle_left page retina rocket text; do
    ext=png
    [[ -f $sk/$f.png ]] || ext=jpg
    add neg "$sk/$f.$ext" 0
done
group
bgs=(gray "$sk/grass.png" "$sk/gravel.png" "$sk/brick.png")
i=0
while read -r s; do
    i=$((i + 1))
    ((i % 2)) || continue
    name=$(echo "${s#"$stamps/"}" | tr '/' '_')
    dst="$out/neg/stamp_${name%.png}.jpg"
    if [[ ! -s $dst ]]; then
        bg=${bgs[$((i / 2 % 4))]}
        if [[ $bg == gray ]]; then
            convert -size 800x600 xc:'#8a8a8a' \( "$s" -resize 480x480 \) -gravity center \
                -composite -quality 90 "$dst"
        else
            convert "$bg" -resize 800x600^ -gravity center -extent 800x600 \
                \( "$s" -resize 480x480 \) -composite -quality 90 "$dst"
        fi
    fi
    add neg "$dst" 0
done < <(find "$stamps" -name '*.png' | LC_ALL=C sort |
    grep -v -E "/stamps/(people|seasonal|clothes|sports|medical|hobbies|military|town/monuments|symbols/alphabets|symbols/faces)/" |
    grep -v -i -E "man|woman|boy|girl|person|santa|face|head|hand|foot|ballet|skater|angel|mask|doll|robot|statue|scarecrow|snowman")
group
texts=("SAFARI PARK ENTRANCE" "Open 9:00 - 17:00" "Chapter 3: The long road" "NO PARKING"
    "Breakfast menu: eggs, toast, coffee" "www.example.org" "2024 ANNUAL REPORT" "Keep calm")
for k in "${!texts[@]}"; do
    dst="$out/neg/text_$k.png"
    [[ -s $dst ]] || convert -size 1280x720 "xc:#$(printf '%02x%02x%02x' $((40 + k * 25)) $((200 - k * 15)) $((90 + k * 10)))" \
        -font DejaVu-Sans-Bold -pointsize $((48 + k * 8)) -fill white -gravity center \
        -annotate "+0+0" "${texts[$k]}" "$dst"
    add neg "$dst" 0
done

# --- people-free videos
group
k=0
for src in /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/horses.jpg \
    /usr/share/darknet/data/giraffe.jpg /usr/share/darknet/data/eagle.jpg "$sk/chelsea.png" \
    "$sk/coffee.png" "$sk/rocket.jpg" "$sk/motorcycle_left.png" \
    "$out"/neg/stamp_animals_mammals_cats_*.jpg "$out"/neg/stamp_household_dishes_*.jpg; do
    [[ -f $src ]] || continue
    k=$((k + 1))
    ((k <= 12)) || break
    m=zoom
    ((k % 2)) || m=pan
    b=$(basename "$src")
    video "$src" "$out/neg/video_${b%.*}_$m.mp4" $m
    add neg "$out/neg/video_${b%.*}_$m.mp4" 0
done

# --- faces
group
for k in 1 2 3 4 5 6; do
    c=(0 3 3 3 4 5 4)
    add pos "$root/deps/photos/sample$k.jpg" "${c[$k]}"
done
group
for f in group_3faces.jpg pair_2faces.tiff portrait_1face.gif; do
    add pos "$fixtures/images/$f" "$fixtures/truth/$f.json"
done
group
for f in faces_1080p_h264.mp4 faces_720p_hevc.mkv faces_text_720p_h264.mp4 mixed_480p_mjpeg.avi \
    rotated_720p_h264.mp4; do
    add pos "$fixtures/videos/$f" "$fixtures/truth/$f.json"
done
group
for k in 1 2 3 4 5 6; do
    c=(0 3 3 3 4 5 4)
    video "$root/deps/photos/sample$k.jpg" "$out/pos/sample${k}_out.mp4" out
    add pos "$out/pos/sample${k}_out.mp4" "${c[$k]}"
done
mv "$list.tmp" "$list"
echo "faces media: $(grep -c ' neg ' "$list") people-free and $(grep -c ' pos ' "$list") face items in $list"
