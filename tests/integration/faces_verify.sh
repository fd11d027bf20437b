#!/usr/bin/env bash
# faces_verify.sh - no face where there is none: with the faces analyzer's default verification
# stage, real photos without people (scikit-image's cat, whose face BlazeFace alone scores 0.75,
# the coffee cup it calls a face on a pan over the photo, darknet's dog and eagle) and a video
# panning over the cup get no "face" tag, while every sample photo with faces keeps its tag
# (docs/models.md "Face verification"; the numbers: make bench-faces).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

sk=/usr/lib/python3/dist-packages/skimage/data
photos=$here/../../deps/photos
ffmpeg -v error -y -i "$sk/coffee.png" -vf crop=428:286:8:57 "$tmp/cup.png"
ffmpeg -v error -y -loop 1 -i "$sk/coffee.png" \
    -vf "scale=1920:-2,zoompan=z=1.4:x='(iw-iw/zoom)*on/100':y='(ih-ih/zoom)/2':d=100:s=1280x720:fps=25" \
    -t 4 -c:v libx264 -preset veryfast -pix_fmt yuv420p "$tmp/cup_pan.mp4"

"$AITAG_BIN" tag --catalog "$tmp/cat.db" --json --analyzers faces --interval 0.5 \
    "$sk/chelsea.png" "$tmp/cup.png" "$tmp/cup_pan.mp4" /usr/share/darknet/data/dog.jpg \
    /usr/share/darknet/data/eagle.jpg "$photos"/sample{1,2,3,4,5,6}.jpg >"$tmp/out.jsonl"
check_eq "aitag tag exit" "$?" 0
faces() { # the face tags of the item whose path ends in $1
    jq -r --arg p "$1" 'select(.path | endswith($p)) | [.tags[] | select(.name == "face")] | length' \
        "$tmp/out.jsonl"
}
for f in chelsea.png cup.png cup_pan.mp4 dog.jpg eagle.jpg; do
    check_eq "$f: face tags" "$(faces "$f")" 0
done
for k in 1 2 3 4 5 6; do
    check_eq "sample$k.jpg: face tags" "$(faces "sample$k.jpg")" 1
done
check_eq "frames of the pan" "$(jq -r 'select(.path | endswith("cup_pan.mp4")) | .markers | length' "$tmp/out.jsonl")" 0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
