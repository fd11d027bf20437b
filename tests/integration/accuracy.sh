#!/usr/bin/env bash
# ctest-label: slow
# (not again under ASan: an accuracy measurement, model inference for most of its time)
# accuracy.sh - tag every good fixture with the real models and score the result against the
# ground truth (faces: temporal IoU >= 0.8 and no markers across no-face gaps; text: CER <= 0.10;
# images: a "face" tag exactly when faces are there). See docs/fixtures.md.
#
# Environment (CTest sets all of them): AITAG_BIN, the aitag binary; AITAG_FIXTURES_DIR, made by
# tools/make_fixtures.sh (run here if missing or stale); AITAG_BUILD_DIR, holding score_fixtures;
# AITAG_SOURCE_DIR, the repository (default: two levels up from this script).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${AITAG_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
: "${AITAG_BIN:?set AITAG_BIN to the aitag binary}"
: "${AITAG_FIXTURES_DIR:?set AITAG_FIXTURES_DIR to the fixtures folder}"
: "${AITAG_BUILD_DIR:?set AITAG_BUILD_DIR to the build folder}"
scorer=$AITAG_BUILD_DIR/score_fixtures
[ -x "$scorer" ] || {
    echo "accuracy: $scorer not built (cmake --build ... --target score_fixtures)" >&2
    exit 1
}

# A no-op when the fixtures' stamp matches the generator.
"$src/tools/make_fixtures.sh" "$AITAG_FIXTURES_DIR"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A non-zero exit only says some item failed; the scorer reports which, by its "status" check.
status=0
"$AITAG_BIN" tag --catalog "$tmp/cat.db" --json \
    "$AITAG_FIXTURES_DIR/videos" "$AITAG_FIXTURES_DIR/images" >"$tmp/results.jsonl" || status=$?
if [ "$status" -ne 0 ]; then
    echo "accuracy: aitag tag exited with $status" >&2
fi
if [ "$status" -gt 1 ] && [ ! -s "$tmp/results.jsonl" ]; then
    echo "accuracy: aitag tag printed no results" >&2
    exit 1
fi

"$scorer" --truth "$AITAG_FIXTURES_DIR/truth" --results "$tmp/results.jsonl"
