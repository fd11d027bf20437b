#!/usr/bin/env bash
# ctest-label: slow
# (not again under ASan: word error rates over the speech fixtures, recognition for most of
# its time; the speech code runs under ASan in test_speech)
# Speech end to end, on the speech fixtures (tools/make_speech_fixtures.sh: flite voices over
# real recorded sounds, truth by construction): the bars of docs/speech.md measured by
# speech_score (word error rate on clean speech, VAD edges, nothing heard in a speech-free
# clip), then `aitag tag --analyzers speech`: the transcript in the catalog (source speech,
# language, word times), "speech" markers, keywords from the user's vocabulary, subtitles
# (export --srt/--vtt), search in what was said (the words, and words WordNet relates to them),
# PocketSphinx's answer independent of the files heard before, and the remote engine against a local
# OpenAI-compatible server (tests/fake-upstream) reached directly and through the gateway.
# The fixtures come from build/fixtures/speech when up to date, else are made privately.
# ctest-cost: 49
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
gen=$src/tools/make_speech_fixtures.sh
fx=$AITAG_FIXTURES_DIR/speech
if ! [ -f "$fx/.stamp" ] || ! "$gen" --check "$fx" 2>/dev/null; then
    fx=$tmp/speech
    "$gen" "$fx" || { fail "make_speech_fixtures.sh failed"; finish; exit 1; }
fi
source "$src/tests/fake-upstream/spawn.sh"
db=$tmp/cat.db
# jq -e: the last result true; and a result at all (jq 1.6 exits 0 on empty input).
jqe() {
    local out
    out=$(jq -e "$@") && [ -n "$out" ]
}

# --- Accuracy bars, tune and check sets apart (docs/speech.md quotes the whole table).
"$AITAG_BUILD_DIR/speech_score" "$fx" "$src/models" "$src/deps/models" >"$tmp/score" 2>"$tmp/score.err"
check_eq "speech_score runs" "$?" 0
group() { jq -e -s --arg g "$1" "map(select(.group == \$g)) | length == 1 and (.[0] | $2)" "$tmp/score" >/dev/null; }
check "clean speech, both sets' words together: WER <= 15%" group all/clean '.wer <= 0.15'
check "clean speech, tune set: WER <= 20%" group tune/clean '.wer <= 0.20'
check "clean speech, check set: WER <= 20%" group check/clean '.wer <= 0.20'
for g in tune/clean check/clean tune/snr20 check/snr20 tune/snr10 check/snr10; do
    check "$g: every spoken sentence found, edges within 0.5 s" group "$g" '.worst_edge_s <= 0.5'
done
check "a clip of a washing machine: nothing heard" group negative/background '.errors == 0'
check "language recorded" jqe -s 'map(select(.noise == "clean")) | all(.lang == "en")' "$tmp/score"

# --- Tagging: transcript, markers, keywords.
"$AITAG_BIN" tag --catalog "$db" --analyzers speech --keywords "bridge,dinner,gardens" --json \
    "$fx/check_clean.mp4" "$fx/nospeech.mp4" >"$tmp/out" 2>"$tmp/err"
check_eq "tag exit code" "$?" 0
clean=$fx/check_clean.mp4
check "three spoken lines, from speech, in English" json_item "$tmp/out" "$clean" \
    '[.text[] | select(.source == "speech" and .lang == "en")] | length == 3'
check "the lines start within 0.5 s of the truth" json_item "$tmp/out" "$clean" \
    "[.text[].start] as \$s | $(jq -c '[.[] | select(.file == "check_clean.mp4") | .segments[].start]' "$fx/truth.json") as \$t |
     [range(3) | (\$s[.] - \$t[.]) | fabs <= 0.5] | all"
check "the council line is heard" json_item "$tmp/out" "$clean" \
    '.text[0].text | test("city council voted to build a new bridge")'
check "a speech marker over the talk" json_item "$tmp/out" "$clean" \
    '[.markers[] | select(.tag == "speech")] | length == 1 and .[0].start < 2 and .[0].end > 14'
check "keywords of the vocabulary said become tags, not those unsaid" json_item "$tmp/out" "$clean" \
    '[.tags[].name] == ["keyword:bridge", "keyword:dinner", "speech"]'
check "the washing machine clip: no speech at all" json_item "$tmp/out" "$fx/nospeech.mp4" \
    '(.text | length) == 0 and (.tags | length) == 0'
words=$(sqlite3 "$db" "SELECT extra FROM evidence WHERE analyzer = 'speech' AND label = 'speech' ORDER BY t LIMIT 1")
check "word times are stored with the segment" jqe '(.words | length) >= 10 and
    (.words | all(.[1] <= .[2])) and .lang == "en" and .end > .words[-1][1]' <<<"$words"
check_eq "transcripts are full-text indexed" \
    "$(sqlite3 "$db" "SELECT count(*) FROM texts_fts WHERE texts_fts MATCH 'children'")" 1

# --- Subtitles.
"$AITAG_BIN" export --catalog "$db" --srt "$tmp/a.srt" "$clean"
check_eq "export --srt" "$?" 0
check_eq "three SubRip cues" "$(grep -c -- ' --> ' "$tmp/a.srt")" 3
check "SubRip times use a comma" grep -qE '^00:00:0[0-9],[0-9]{3} --> 00:00:0[0-9],[0-9]{3}$' "$tmp/a.srt"
"$AITAG_BIN" export --catalog "$db" --vtt "$tmp/a.vtt" "$clean"
check_eq "WebVTT header" "$(head -n 1 "$tmp/a.vtt")" WEBVTT
check "WebVTT times use a dot" grep -qE '^00:00:0[0-9]\.[0-9]{3} --> ' "$tmp/a.vtt"
"$AITAG_BIN" export --catalog "$db" --srt "$tmp/none.srt" "$fx/nospeech.mp4" 2>"$tmp/none.err"
check "no transcript: an empty file and a note" grep -q 'no transcript' "$tmp/none.err"
"$AITAG_BIN" export --catalog "$db" --srt "$tmp/x.srt" "$tmp/not-there.mp4" 2>/dev/null
check_eq "an unknown file: exit 1" "$?" 1

# --- Search finds what was said.
"$AITAG_BIN" search --catalog "$db" "garden" >"$tmp/search" 2>/dev/null
check "search: a word said" grep -q "check_clean.mp4.*said 'the children played in the garden" "$tmp/search"
"$AITAG_BIN" search --catalog "$db" "meal" >"$tmp/search2" 2>/dev/null
check "search: a kind of the word said (dinner is a meal)" grep -q \
    "check_clean.mp4.*said '.*time for dinner' ('dinner': a kind of meal (1 level up))" "$tmp/search2"

# --- The same file gives the same words whatever was heard before it (no state carried over).
mkdir -p "$tmp/order/aa" "$tmp/order/zz"
cp "$fx/tune_snr5.mp4" "$tmp/order/aa/noisy.mp4"
cp "$clean" "$tmp/order/zz/clean.mp4"
"$AITAG_BIN" tag --catalog "$tmp/after.db" --analyzers speech "$tmp/order" >/dev/null 2>&1
"$AITAG_BIN" tag --catalog "$tmp/alone.db" --analyzers speech "$tmp/order/zz/clean.mp4" >/dev/null 2>&1
said() { sqlite3 "$1" "SELECT group_concat(text, '|') FROM (SELECT t.text FROM texts t JOIN media m
    ON m.id = t.media_id WHERE m.path LIKE '%/zz/clean.mp4' ORDER BY t.start)"; }
check "a file heard after a noisy one: a transcript" test -n "$(said "$tmp/after.db")"
check_eq "a file alone and after a noisy one: the same transcript" "$(said "$tmp/after.db")" \
    "$(said "$tmp/alone.db")"

# --- Re-run: nothing to redo.
"$AITAG_BIN" tag --catalog "$db" --analyzers speech --keywords "bridge,dinner,gardens" "$fx" \
    >"$tmp/rerun" 2>&1
check "re-run skips the tagged clips" grep -q '2 skipped' "$tmp/rerun"

# --- Remote engine: an OpenAI-compatible server, directly and through the gateway's route.
port=$(start upstream node "$src/tests/fake-upstream/server.js" --name whisperish)
check "fake transcription server up" test -n "$port"
"$AITAG_BIN" tag --catalog "$tmp/remote.db" --analyzers speech --speech-engine remote \
    --speech-url "http://127.0.0.1:$port/v1" --speech-model whisper-large --json "$clean" \
    >"$tmp/remote.out" 2>"$tmp/remote.err"
check_eq "remote: tag exit code" "$?" 0
check "remote: one line per spoken segment, the server's words" json_item "$tmp/remote.out" "$clean" \
    '[.text[] | select(.source == "speech" and .lang == "en" and (.text | test("^heard [0-9]+ bytes with whisper-large at whisperish$")))] | length == 3'
curl -s "http://127.0.0.1:$port/_stats" >"$tmp/stats"
check "remote: a WAV per segment, verbose_json with word times asked" jqe '.transcriptions == 3 and
    .last_transcription.file_type == "audio/wav" and .last_transcription.model == "whisper-large" and
    .last_transcription.response_format == "verbose_json"' "$tmp/stats"
rw=$(sqlite3 "$tmp/remote.db" "SELECT extra FROM evidence WHERE analyzer = 'speech' AND extra LIKE '%\"words\"%' ORDER BY t LIMIT 1")
check "remote: word times are shifted to the segment's place in the file" jqe \
    '.words[0][1] >= 1 and .words[0][1] < 2 and .words[-1][2] <= .end + 0.2' <<<"$rw"
check "remote: each word has its own segment's confidence (exp(-0.1), then exp(-0.7))" jqe \
    '(.words | length) == 7 and (.words[0:4] | all(.[3] > 0.89 and .[3] < 0.92)) and
     (.words[4:] | all(.[3] > 0.48 and .[3] < 0.51))' <<<"$rw"
"$AITAG_BIN" tag --catalog "$tmp/local.db" --analyzers speech --speech-engine remote \
    --speech-url "http://10.255.255.1:9/v1" --local-only "$clean" >/dev/null 2>"$tmp/lo.err"
check "local-only refuses a server off this machine" grep -q 'local-only' "$tmp/lo.err"
"$AITAG_BIN" tag --catalog "$tmp/down.db" --analyzers speech --speech-engine remote \
    --speech-url "http://127.0.0.1:9/v1" "$clean" >"$tmp/down.err" 2>&1
check_eq "a server that is down: the item fails (exit 1)" "$?" 1
check "the error names the url" grep -q '127.0.0.1:9/v1/audio/transcriptions' "$tmp/down.err"

cat >"$tmp/gw.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "workers": 2, "tmp_dir": "$tmp", "retries": 0,
 "routes": {"whisper": {"backends": [{"name": "w", "kind": "openai", "url": "http://127.0.0.1:$port/v1"}]}}}
JSON
gw=$(start gateway "$AITAG_BIN" gateway serve --config "$tmp/gw.json")
check "gateway up" test -n "$gw"
"$AITAG_BIN" tag --catalog "$tmp/gwt.db" --analyzers speech --speech-engine remote \
    --speech-url "http://127.0.0.1:$gw/v1" --speech-model whisper --json "$clean" \
    >"$tmp/gwt.out" 2>"$tmp/gwt.err"
check_eq "through the gateway: tag exit code" "$?" 0
check "through the gateway: the route's server answered" json_item "$tmp/gwt.out" "$clean" \
    '[.text[] | select(.text | test("with whisper at whisperish$"))] | length == 3'
finish
