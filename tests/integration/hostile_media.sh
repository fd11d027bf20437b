#!/usr/bin/env bash
# Hostile media (docs/limits.md): a PNG and a GIF bomb, a tiny file of thousands of frames,
# timestamps jumping years ahead or going backwards, a container of 990 streams, FIFOs and a
# device among the paths, and a file still being written. Each bad item gets one error naming
# it, the limit and the option that raises it; the good item of the same run is tagged; the
# exit code says some failed; nothing hangs; what was stored stays.
source "$(dirname "$0")/lib.sh"
hf=$AITAG_FIXTURES_DIR/hostile
if [ ! -f "$hf/.stamp" ]; then # fixtures made before this test existed
    hf=$tmp/hostile
    "$AITAG_SOURCE_DIR/tools/make_hostile_fixtures.sh" "$hf" || fail "make_hostile_fixtures.sh"
fi
db=$tmp/cat.db
A=("$AITAG_BIN" tag --catalog "$db" --json --analyzers cues --progress never)

# FIFOs never opened (a read would block: nobody writes), given or met in a folder; a device.
mkdir -p "$tmp/dir"
mkfifo "$tmp/given.mp4" "$tmp/dir/inside.mp4"
ln -s /dev/zero "$tmp/dir/zero.mp4"
cp "$hf/good.mp4" "$tmp/dir/good.mp4"

timeout 60 "${A[@]}" --max-frames 1000 "$hf/bomb.png" "$hf/bomb.gif" "$hf/many-frames.mkv" \
    "$hf/pts-jump.mkv" "$hf/pts-backwards.ts" "$hf/many-streams.mkv" "$tmp/given.mp4" \
    "$tmp/dir" >"$tmp/out.jsonl" 2>"$tmp/err"
check_eq "exit code says some failed (no hang: not 124)" "$?" 1
check "PNG bomb refused from its header" \
    grep -q "bomb.png: picture 16000x16000 (256.0 megapixels) is over the limit of 64.0 megapixels" "$tmp/err"
check "GIF bomb refused from its header" grep -q "bomb.gif: picture 65535x65535 .*over the limit" "$tmp/err"
check "frames limit names its option" \
    grep -q "many-frames.mkv: stopped after decoding 1000 frames, the limit per item (--max-frames)" "$tmp/err"
check "timestamps 31 years ahead refused" \
    grep -q "pts-jump.mkv: video of 1000000003 s is over the duration limit of 86400 s (--max-duration)" "$tmp/err"
check "990 streams refused" grep -q "many-streams.mkv: more than 256 streams, the limit (--max-streams)" "$tmp/err"
check "a FIFO given is refused" grep -q "given.mp4: not a regular file (a FIFO" "$tmp/err"
check "a FIFO in a folder is refused" grep -q "dir/inside.mp4: not a regular file (a FIFO" "$tmp/err"
check "a device is refused" grep -q "dir/zero.mp4: not a regular file (a device" "$tmp/err"
check "timestamps going backwards: tagged, no loop" \
    json_item "$tmp/out.jsonl" "$hf/pts-backwards.ts" '.status == "tagged"'
check "the good item is tagged" json_item "$tmp/out.jsonl" "$tmp/dir/good.mp4" '.status == "tagged"'
check "one error in each failed item's JSON" \
    json_item "$tmp/out.jsonl" "$hf/many-frames.mkv" '.status == "error" and (.errors | length == 1)'
check "summary counts 8 failed" grep -q " 8 failed" "$tmp/err"

# A file still being written, far faster than it is read (the 4 s stream looped at 4000x real
# time): it stops at the time, CPU or duration limit; the good item in the run is tagged. The
# run starts once the file holds 2,000 s of video (16 MB, about 50,000 frames): a reader that
# caught up with the writer would end the item at its end, within the limits.
grow() { # grow FILE: starts the writer (WRITER) and waits for its first 16 MB
    timeout 30 ffmpeg -nostdin -v error -y -stream_loop -1 -readrate 4000 -i "$hf/stream.ts" \
        -c copy -t 20000 -f mpegts - >"$1" &
    WRITER=$!
    for _ in $(seq 100); do [ "$(stat -c %s "$1")" -gt 16000000 ] && break; sleep 0.05; done
}
grow "$tmp/live1.ts"
timeout 60 "${A[@]}" --item-timeout 0.5 "$tmp/live1.ts" "$hf/good.mp4" >"$tmp/live1.jsonl" 2>"$tmp/live1.err"
check_eq "time limit: exit code" "$?" 1
kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null
check "time limit names its option" grep -q "live1.ts: stopped after 0.5 s, the time limit per item (--item-timeout)" "$tmp/live1.err"
check "time limit: the good item is tagged" json_item "$tmp/live1.jsonl" "$hf/good.mp4" '.status == "tagged"'
grow "$tmp/live2.ts"
timeout 60 "${A[@]}" --item-cpu 0.5 "$tmp/live2.ts" >/dev/null 2>"$tmp/live2.err"
check_eq "CPU limit: exit code" "$?" 1
kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null
check "CPU limit names its option" grep -q "live2.ts: stopped after 0.5 s of CPU time, the CPU limit per item (--item-cpu)" "$tmp/live2.err"
grow "$tmp/live3.ts"
timeout 60 "${A[@]}" --max-duration 30 "$tmp/live3.ts" >/dev/null 2>"$tmp/live3.err"
check_eq "duration limit: exit code" "$?" 1
kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null
check "duration limit names its option" grep -q "live3.ts: .*30 s.*(--max-duration)" "$tmp/live3.err"

# The item's time limit holds for its sound too: the frames of this 18 s clip take a fraction
# of a second, then speech recognition (1-2 s here) runs past 0.6 s and fails the item.
sp=$AITAG_FIXTURES_DIR/speech/tune_snr5.mp4
"$AITAG_BIN" tag --catalog "$tmp/speech.db" --json --analyzers speech --progress never \
    --item-timeout 0.6 "$sp" "$hf/good.mp4" >"$tmp/speech.jsonl" 2>"$tmp/speech.err"
check_eq "time limit over speech: exit code" "$?" 1
check "time limit over speech: the analyzer and the option are named" \
    grep -q "analyzer speech: $sp: stopped after 0.6 s, the time limit per item (--item-timeout)" "$tmp/speech.err"
check "time limit over speech: the next item is tagged" json_item "$tmp/speech.jsonl" "$hf/good.mp4" '.status == "tagged"'

# A stored item whose file turns hostile keeps what was stored.
cp "$hf/good.mp4" "$tmp/item.mkv"
"${A[@]}" "$tmp/item.mkv" >/dev/null 2>&1
before=$("$AITAG_BIN" show --catalog "$db" --json "$tmp/item.mkv" | jq -c '[.tags, .duration]')
cp "$hf/many-frames.mkv" "$tmp/item.mkv"
"${A[@]}" --max-frames 1000 "$tmp/item.mkv" >/dev/null 2>"$tmp/item.err"
check_eq "re-tag over the frames limit fails" "$?" 1
check "its error names the limit" grep -q "item.mkv: .*(--max-frames)" "$tmp/item.err"
after=$("$AITAG_BIN" show --catalog "$db" --json "$tmp/item.mkv" | jq -c '[.tags, .duration]')
check_eq "stored results kept" "$after" "$before"
finish
