#!/usr/bin/env bash
# demo.sh BUILD_DIR - tag the bundled fixtures into a fresh demo catalog and print the results.
set -euo pipefail
build=${1:-build}
fx=$build/fixtures
db=$build/demo.db
rm -f "$db" "$db-wal" "$db-shm"
echo "== aitag tag $fx/videos $fx/images (catalog: $db)"
"$build/aitag" tag --catalog "$db" --progress never "$fx/videos" "$fx/images"
echo
echo "== again: unchanged files are skipped, no model runs"
"$build/aitag" tag --catalog "$db" --progress never "$fx/videos" "$fx/images" >/dev/null
echo
echo "== aitag search --tag face --tag text (both)"
"$build/aitag" search --catalog "$db" --tag face --tag text
echo
echo "== aitag show --json $fx/videos/faces_text_720p_h264.mp4"
"$build/aitag" show --catalog "$db" --json "$fx/videos/faces_text_720p_h264.mp4"
echo
echo "== aitag search party (by meaning: WordNet, the context rules, recognised text)"
"$build/aitag" search --catalog "$db" party
echo
echo "== aitag show --why $fx/images/group_3faces.jpg (which evidence made each concept)"
"$build/aitag" show --catalog "$db" --why "$fx/images/group_3faces.jpg"
echo
echo "== aitag tag --analyzers speech $fx/speech/check_clean.mp4 (what is said; docs/speech.md)"
"$build/aitag" tag --catalog "$db" --progress never --analyzers speech --keywords bridge \
    "$fx/speech/check_clean.mp4"
echo
echo "== aitag export --srt - $fx/speech/check_clean.mp4 (the transcript as subtitles)"
"$build/aitag" export --catalog "$db" --srt - "$fx/speech/check_clean.mp4"
echo "== aitag search meal (a word said: dinner is a kind of meal)"
"$build/aitag" search --catalog "$db" meal
