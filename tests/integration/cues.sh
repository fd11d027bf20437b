#!/usr/bin/env bash
# Technical cues end to end: `aitag tag --json --analyzers cues` on the cue fixtures
# (tools/make_cue_fixtures.sh, truth by construction) gives each fixture's cue markers at its
# times, silence from the audio track included; footage without any cue gives none.
# The fixtures come from build/fixtures/cues when it is up to date, else they are made here in
# a private folder (the shared fixtures are never written by a test).
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
gen=$src/tools/make_cue_fixtures.sh
fx=$AITAG_FIXTURES_DIR/cues
if ! [ -f "$fx/.stamp" ] || ! "$gen" --check "$fx" 2>/dev/null; then
    fx=$tmp/cues
    "$gen" "$fx" || { fail "make_cue_fixtures.sh failed"; finish; exit 1; }
fi
db=$tmp/cat.db

"$AITAG_BIN" tag --catalog "$db" --analyzers cues --interval 1 --json "$fx" >"$tmp/out" 2>"$tmp/err"
check_eq "exit code" "$?" 0
# marker FILE TAG START END: the file has exactly one TAG marker, [START, END) within 0.1 s.
marker() {
    json_item "$tmp/out" "$fx/$1" "[.markers[] | select(.tag == \"$2\")] | length == 1 and
        (.[0].start - $3 | fabs) <= 0.1 and (.[0].end - $4 | fabs) <= 0.1"
}
check "black: [9, 14)" marker black_fade.mp4 cue:black 9 14
check "fade to black: from the first darker sample to the black (7, 9)" \
    marker black_fade.mp4 cue:fade_to_black 7 9
check "silence from the audio: [9, 14)" marker black_fade.mp4 cue:silence 9 14
check "black_fade: tagged with its three cues" json_item "$tmp/out" "$fx/black_fade.mp4" \
    '[.tags[].name] == ["cue:black", "cue:fade_to_black", "cue:silence"]'
check "colour bars: [0, 5)" marker bars.mp4 cue:color_bars 0 5
check "bars: no other cue (a still picture of bars is bars)" json_item "$tmp/out" "$fx/bars.mp4" \
    '[.tags[].name] == ["cue:color_bars"]'
check "frozen picture: static [5, 11)" marker static.mp4 cue:static 5 11
check "static: no other cue" json_item "$tmp/out" "$fx/static.mp4" '[.tags[].name] == ["cue:static"]'
check "rolling end credits: to the end, from their first lines" json_item "$tmp/out" \
    "$fx/credits.mp4" '[.markers[] | select(.tag == "cue:credits")] | length == 1 and
        .[0].start >= 20 and .[0].start <= 23 and .[0].end == 30'
check "credits: no silence (the tone goes on)" json_item "$tmp/out" "$fx/credits.mp4" \
    '[.tags[].name] | index("cue:silence") == null'
check "negative: a zoomed photo with sound gives no cue" json_item "$tmp/out" "$fx/none.mp4" \
    '.tags == [] and .markers == []'

# At the default interval (2 s) the same cues come, on the 2 s grid.
"$AITAG_BIN" tag --catalog "$tmp/cat2.db" --analyzers cues --json "$fx/black_fade.mp4" \
    "$fx/none.mp4" >"$tmp/out" 2>"$tmp/err"
check "2 s: black within one interval" json_item "$tmp/out" "$fx/black_fade.mp4" \
    '[.markers[] | select(.tag == "cue:black")] | length == 1 and (.[0].start - 9 | fabs) <= 2
     and (.[0].end - 14 | fabs) <= 2'
check "2 s: silence is the audio's, not the grid's" marker black_fade.mp4 cue:silence 9 14
check "2 s: negative still empty" json_item "$tmp/out" "$fx/none.mp4" '.markers == []'

# Normal footage from the main fixtures: panned and zoomed photos give no cue at all (their
# still segments are still pictures, found as such).
"$AITAG_BIN" tag --catalog "$tmp/cat3.db" --analyzers cues --json \
    "$AITAG_FIXTURES_DIR/videos/faces_text_720p_h264.mp4" >"$tmp/out" 2>"$tmp/err"
check "faces_text: only static, and only in its still segments (15.5-45 s)" json_item "$tmp/out" \
    "$AITAG_FIXTURES_DIR/videos/faces_text_720p_h264.mp4" \
    '[.tags[].name] == ["cue:static"] and all(.markers[]; .start >= 15.5 and .end <= 46)'
finish
