# kill_lib.sh - shared by the random-kill tests (tests/integration/kill.sh and
# tests/e2e/plugin_kill.sh; sourced, not run).
#   kill_media DIR      50 small media files of distinct content (bytes) under DIR/videos and
#                       DIR/images: short low-resolution clips cut from the fixture videos (18)
#                       and small copies of the fixture pictures (32)
#   kill_seed           sets KILL_SEED (AITAG_KILL_SEED, or a random one), seeds bash's RANDOM
#                       with it and prints it, so that a failure can be replayed
#   kill_delay MIN MAX  a random delay in seconds, uniform in MIN..MAX
#   kill_span START PID TEST...  how long a reference run took to its first item and to its end
kill_media() { # DIR
    local dir=$1 fx=$AITAG_FIXTURES_DIR v b n i a
    local pad='scale=320:240:force_original_aspect_ratio=decrease,pad=320:240:(ow-iw)/2:(oh-ih)/2,setsar=1'
    mkdir -p "$dir/videos" "$dir/images"
    # Each fixture picture at 400 px and mirrored at 320 px (one ffmpeg each): 14 pictures.
    for v in "$fx"/images/*; do
        b=$dir/images/$(basename "${v%.*}")
        ffmpeg -nostdin -loglevel error -y -i "$v" \
            -filter_complex '[0:v]split[a][b];[a]scale=400:-2[x];[b]scale=320:-2,hflip[y]' \
            -map '[x]' -frames:v 1 "${b}_400.jpg" -map '[y]' -frames:v 1 "${b}_320f.jpg" || return 1
    done
    # 16 videos of 8 s at 320x240: 2 s of black, then two of those pictures 3 s each (a pair
    # of its own per video: markers that start and end), and two clips cut from fixture videos.
    a=("$dir"/images/*_400.jpg "$dir"/images/*_320f.jpg)
    for i in $(seq 0 15); do
        ffmpeg -nostdin -loglevel error -y -f lavfi -i color=black:s=320x240:r=5:d=2 \
            -loop 1 -framerate 5 -t 3 -i "${a[i % 14]}" -loop 1 -framerate 5 -t 3 -i "${a[(i * 5 + 3 + i / 14) % 14]}" \
            -filter_complex "[1:v]$pad[x];[2:v]$pad[y];[0:v][x][y]concat=n=3:v=1:a=0" \
            -c:v libx264 -preset ultrafast -crf 30 "$dir/videos/pair$i.mp4" || return 1
    done
    for v in "$fx"/videos/mixed_480p_mjpeg.avi "$fx"/videos/text_720p_vp9.webm; do
        ffmpeg -nostdin -loglevel error -y -i "$v" -t 6 -an -vf scale=320:-2,fps=5 \
            -c:v libx264 -preset ultrafast -crf 30 "$dir/videos/$(basename "${v%.*}").mp4" || return 1
    done
    # Copies of the pictures with a JPEG comment segment of their own after the start-of-image
    # marker (same pixels, other bytes), up to 32 pictures.
    n=14 i=0
    while [ "$n" -lt 32 ]; do
        v=${a[i % 14]}
        { head -c 2 "$v"; printf '\377\376\000\010copy%02d' "$i"; tail -c +3 "$v"; } >"${v%.jpg}_c$i.jpg"
        i=$((i + 1)) n=$((n + 1))
    done
}

kill_seed() {
    KILL_SEED=${AITAG_KILL_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
    RANDOM=$KILL_SEED
    echo "kill seed: $KILL_SEED (AITAG_KILL_SEED=$KILL_SEED replays these kill moments)"
}

kill_delay() { # MIN MAX (seconds): uniform in MIN..MAX, printed as a decimal
    awk -v a="$1" -v b="$2" -v r="$RANDOM" 'BEGIN { printf "%.3f\n", a + (b - a) * r / 32768 }'
}

# kill_span START PID TEST...: how long PID, started at START (date +%s.%N), took to store its
# first item (the first time TEST... succeeds) and to end, as "FIRST TOTAL" in seconds. The
# caller waits for PID afterwards for its exit status.
kill_span() {
    local start=$1 pid=$2 first=""
    shift 2
    while kill -0 "$pid" 2>/dev/null; do
        [ -z "$first" ] && "$@" && first=$(date +%s.%N)
        sleep 0.02
    done
    awk -v s="$start" -v f="${first:-$(date +%s.%N)}" -v e="$(date +%s.%N)" \
        'BEGIN { printf "%.2f %.2f\n", f - s, e - s }'
}
