#!/usr/bin/env bash
# make_speech_fixtures.sh [--check] OUTDIR - the fixtures of speech to text, with their truth:
# short MP4 videos (a plain coloured picture) whose sound is three English sentences spoken by
# flite, 2 s apart, over real household and music recordings from Debian's tuxpaint stamps,
# looped, at a known speech-to-background ratio, plus one clip of background only that must
# give no transcript at all.
#
# Two sets, so accuracy can be reported on media that was not tuned on: `tune` (sentences 1-5,
# voice slt) and `check` (sentences 6-10, voice rms), each as clean (digital silence around the
# speech), snr20, snr10 and snr5. A clip says sentences k, k+1, k+2 of its set (wrapping), so
# every sentence is heard at two or more noise levels. The SNR is the power of the speech over
# the power of the background, both measured (astats RMS) over the samples where a sentence is
# spoken; the background is scaled with the volume filter to hit it, then measured again.
#
# Each sentence is synthesised at flite's native rate, resampled to 16 kHz mono and trimmed of
# flite's leading and trailing silence (silenceremove at -40 dB, both ends), so its extent in a
# clip is exactly its sample count. Clips are assembled as raw 16 kHz float samples (lead of
# background, A, 2 s, B, 2 s, C, 1.5 s tail), so the truth (truth.json, seconds, 3 decimals) is
# by construction, not by detection.
#
# Offline, deterministic (bit-exact muxing, fixed encoder settings) and idempotent like
# tools/make_cue_fixtures.sh: OUTDIR/.stamp holds the sha256 of this script, flite's version and
# the recordings; a run whose stamp matches does nothing; only the files listed here are ever
# written. When the CMU dictionary is there (pocketsphinx-en-us), every word of every sentence
# must be in it, so a recogniser with that vocabulary can in principle get each one right.
#
# Needs: bash, flite (voices slt, rms), ffmpeg (lavfi, libx264, aac), awk, GNU coreutils, flock,
# Debian's tuxpaint-stamps-default. Environment: AITAG_TUXPAINT_STAMPS (default
# /usr/share/tuxpaint/stamps), AITAG_CMUDICT (default pocketsphinx's cmudict-en-us.dict).
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
stamps=${AITAG_TUXPAINT_STAMPS:-/usr/share/tuxpaint/stamps}
cmudict=${AITAG_CMUDICT:-/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict}
out=$1
die() {
    echo "make_speech_fixtures: $*" >&2
    exit 1
}
for tool in flite ffmpeg awk dd truncate sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
voices=" $(flite -lv) "
for voice in slt rms; do
    [[ $voices == *" $voice "* ]] || die "flite has no voice $voice"
done

# The sentences: plain words, numbers written out, no punctuation.
sentences=(
    "we are meeting today to talk about the budget for next year"
    "happy birthday to you now blow out the candles on the cake"
    "please put the kettle on and make a cup of tea for everyone"
    "the weather will be cold and windy with rain in the north tonight"
    "turn the oven down and let the bread bake for another twenty minutes"
    "the city council voted to build a new bridge across the river"
    "could you send me the report before the end of the week"
    "the children played in the garden until it was time for dinner"
    "wash the vegetables and cut the onions into small pieces"
    "the train to london was late again this morning because of the snow"
)
# The clips: name set voice first-sentence(1-based) lead(s) noise snr(dB or -) background colour
clips=(
    "tune_clean tune slt 1 1.5 clean - - navy"
    "tune_snr20 tune slt 2 2.0 snr20 20 household/vacuum_cleaner.ogg navy"
    "tune_snr10 tune slt 3 2.5 snr10 10 household/kettle.ogg navy"
    "tune_snr5 tune slt 4 3.0 snr5 5 household/Washing-machine.ogg navy"
    "check_clean check rms 6 1.5 clean - - darkgreen"
    "check_snr20 check rms 7 2.0 snr20 20 hobbies/music/string/violin.ogg darkgreen"
    "check_snr10 check rms 8 2.5 snr10 10 seasonal/newyears/fireworks.ogg darkgreen"
    "check_snr5 check rms 9 3.0 snr5 5 hobbies/music/percussion/drumkit.ogg darkgreen"
)
nospeech_bg=household/Washing-machine.ogg
nospeech_len=8
bgs=(household/vacuum_cleaner.ogg household/kettle.ogg household/Washing-machine.ogg
    hobbies/music/string/violin.ogg seasonal/newyears/fireworks.ogg
    hobbies/music/percussion/drumkit.ogg)
for bg in "${bgs[@]}"; do
    [ -f "$stamps/$bg" ] ||
        die "recording $stamps/$bg not found (install tuxpaint-stamps-default; set AITAG_TUXPAINT_STAMPS)"
done
stamp=$({
    sha256sum <"$script"
    flite --version
    for bg in "${bgs[@]}"; do sha256sum <"$stamps/$bg"; done
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
if [ -f "$cmudict" ]; then
    missing=$(printf '%s\n' "${sentences[@]}" | awk 'NR == FNR { dict[$1] = 1; next }
        { for (i = 1; i <= NF; i++) if (!($i in dict)) printf " %s", $i }' "$cmudict" -)
    [ -z "$missing" ] || die "words not in $cmudict:$missing"
fi
media=()
for c in "${clips[@]}"; do media+=("${c%% *}.mp4"); done
media+=(nospeech.mp4)
files=("${media[@]}" truth.json MANIFEST.txt .stamp)
for f in "${files[@]}"; do rm -f "$out/$f"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
rate=16000
raw=(-f f32le -ar "$rate" -ac 1) # every intermediate: raw 16 kHz mono float, 4 bytes a sample
enc=(-c:v libx264 -preset veryfast -crf 23 -g 50 -pix_fmt yuv420p -c:a aac -b:a 64k -ar "$rate"
    -ac 1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 -shortest)
samples() { echo $(($(stat -c %s "$1") / 4)); }
secs() { awk -v n="$1" -v r="$rate" 'BEGIN { printf "%.3f", n / r }'; }
zeros() { head -c $((4 * $1)) /dev/zero; }
rms_db() { # rms_db RAWFILE: its RMS level, dBFS
    "${ff[@]}" -loglevel info "${raw[@]}" -i "$1" -af astats -f null - 2>&1 |
        awk '/Overall/ { o = 1 } o && !done && /RMS level dB/ { print $NF; done = 1 }'
}
peak() { # peak RAWFILE: its largest absolute sample
    "${ff[@]}" -loglevel info "${raw[@]}" -i "$1" -af astats -f null - 2>&1 |
        awk '/Overall/ { o = 1 }
            o && !done && /Peak level dB/ { printf "%.6f", 10 ^ ($NF / 20); done = 1 }'
}
loop_bg() { # loop_bg OGG SAMPLES OUT: the recording at 16 kHz mono, repeated to SAMPLES
    local once=$tmp/once.raw n reps i
    "${ff[@]}" -i "$1" -af "aresample=$rate,aformat=sample_fmts=flt:channel_layouts=mono" \
        "${raw[@]}" "$once"
    n=$(samples "$once")
    reps=$((($2 + n - 1) / n))
    for ((i = 0; i < reps; i++)); do cat "$once"; done >"$3"
    truncate -s $((4 * $2)) "$3"
}
cut_raw() { # cut_raw RAWFILE START SAMPLES: those samples of a raw file, to stdout
    dd if="$1" iflag=skip_bytes,count_bytes skip=$((4 * $2)) count=$((4 * $3)) bs=64K status=none
}
encode() { # encode RAWFILE COLOUR OUT.mp4
    local d
    d=$(awk -v n="$(samples "$1")" -v r="$rate" 'BEGIN { printf "%.4f", n / r }')
    "${ff[@]}" -f lavfi -i "color=c=$2:size=320x240:rate=10:duration=$d" "${raw[@]}" -i "$1" \
        -map 0:v -map 1:a "${enc[@]}" "$3"
}

# Each sentence in each voice it is needed in, trimmed of silence at both ends, at -6 dB so
# speech plus the loudest background stays below full scale.
trim="silenceremove=start_periods=1:start_threshold=-40dB"
for i in "${!sentences[@]}"; do
    voice=slt
    [ "$i" -ge 5 ] && voice=rms
    flite -voice "$voice" -t "${sentences[$i]}" -o "$tmp/s$i.wav"
    "${ff[@]}" -i "$tmp/s$i.wav" \
        -af "aresample=$rate,aformat=sample_fmts=flt:channel_layouts=mono,$trim,areverse,$trim,\
areverse,volume=0.5" \
        "${raw[@]}" "$tmp/s$i.raw"
    [ "$(samples "$tmp/s$i.raw")" -gt "$rate" ] || die "sentence $((i + 1)) synthesised too short"
done

truth=$tmp/truth.json
echo "[" >"$truth"
pause=$((2 * rate))
tail_len=$((rate * 3 / 2))
for c in "${clips[@]}"; do
    read -r name set voice first lead noise snr bg colour <<<"$c"
    speech=$tmp/speech.raw
    parts=$tmp/parts.txt # where a sentence is spoken: start and length, in samples
    : >"$parts"
    pos=$(awk -v l="$lead" -v r="$rate" 'BEGIN { printf "%d", l * r }')
    segs=""
    {
        zeros "$pos"
        base=$(((first - 1) / 5 * 5))
        for k in 0 1 2; do
            i=$((base + (first - 1 - base + k) % 5))
            n=$(samples "$tmp/s$i.raw")
            cat "$tmp/s$i.raw"
            echo "$pos $n" >>"$parts"
            segs+="${segs:+,
      }{\"start\": $(secs "$pos"), \"end\": $(secs $((pos + n))), \"text\": \"${sentences[$i]}\"}"
            pos=$((pos + n))
            if [ "$k" -lt 2 ]; then
                zeros "$pause"
                pos=$((pos + pause))
            fi
        done
        zeros "$tail_len"
    } >"$speech"
    total=$((pos + tail_len))
    [ "$(samples "$speech")" -eq "$total" ] ||
        die "$name: assembled $(samples "$speech") samples, expected $total"

    mix=$speech
    snr_json=null
    bg_json=null
    measured_json=null
    if [ "$noise" != clean ]; then
        loop_bg "$stamps/$bg" "$total" "$tmp/bg.raw"
        while read -r s n; do cut_raw "$speech" "$s" "$n"; done <"$parts" >"$tmp/sp_only.raw"
        while read -r s n; do cut_raw "$tmp/bg.raw" "$s" "$n"; done <"$parts" >"$tmp/bg_only.raw"
        sp_db=$(rms_db "$tmp/sp_only.raw")
        bg_db=$(rms_db "$tmp/bg_only.raw")
        if [ -z "$sp_db" ] || [ -z "$bg_db" ]; then
            die "$name: could not measure levels with astats"
        fi
        gain=$(awk -v s="$sp_db" -v b="$bg_db" -v t="$snr" 'BEGIN { printf "%.4f", s - b - t }')
        "${ff[@]}" "${raw[@]}" -i "$tmp/bg.raw" -af "volume=${gain}dB:precision=float" \
            "${raw[@]}" "$tmp/bg_scaled.raw"
        while read -r s n; do cut_raw "$tmp/bg_scaled.raw" "$s" "$n"; done <"$parts" >"$tmp/bg_only.raw"
        measured_json=$(awk -v s="$sp_db" -v b="$(rms_db "$tmp/bg_only.raw")" \
            'BEGIN { printf "%.2f", s - b }')
        mix=$tmp/mix.raw
        "${ff[@]}" "${raw[@]}" -i "$speech" "${raw[@]}" -i "$tmp/bg_scaled.raw" \
            -filter_complex "[0:a][1:a]amix=inputs=2:normalize=0:duration=first" "${raw[@]}" "$mix"
        snr_json=$snr
        bg_json="\"${bg##*/}\""
    fi
    awk -v p="$(peak "$mix")" 'BEGIN { exit !(p < 1) }' || die "$name: the mix clips"
    encode "$mix" "$colour" "$out/$name.mp4"
    cat >>"$truth" <<EOF
 {"file": "$name.mp4", "set": "$set", "noise": "$noise", "snr_db": $snr_json,
  "snr_measured_db": $measured_json, "background": $bg_json, "voice": "$voice",
  "duration": $(secs "$total"),
  "segments": [$segs]},
EOF
done

# nospeech.mp4: the washing machine alone, as loud as it was recorded.
loop_bg "$stamps/$nospeech_bg" $((nospeech_len * rate)) "$tmp/bg.raw"
encode "$tmp/bg.raw" gray "$out/nospeech.mp4"
cat >>"$truth" <<EOF
 {"file": "nospeech.mp4", "set": "negative", "noise": "background", "snr_db": null,
  "snr_measured_db": null, "background": "${nospeech_bg##*/}", "voice": null,
  "duration": $nospeech_len, "segments": []}
]
EOF
mv "$truth" "$out/truth.json"
(cd "$out" && sha256sum "${media[@]}" truth.json) >"$out/MANIFEST.txt"
echo "$stamp" >"$out/.stamp"
