#!/usr/bin/env bash
# bench/review_app.sh [BUILD_DIR] - the review app on a 10,000-item catalog (make bench-review;
# BENCHMARKS.md, "Review app"). Medians of BENCH_REPEAT runs, each next to a floor measured in
# the same run:
#   1. GET /api/items (the library's first page: 60 tiles, the total for the pager) and
#      GET /api/items?q=WORD (a search over paths, tag names and the text index), against the
#      floor GET /api/session (the server's fixed cost per request);
#   2. first paint in headless Chromium: from navigation to the grid's 60 tiles in the page
#      (index.html, the ES modules, the session, the first page; thumbnails excluded: they are
#      cached JPEGs and load lazily), against the floor of the same browser loading a static
#      page of the app's (favicon.svg) from the same server.
# The catalog: the fixtures tagged once (faces, text, objects), then copied to 10,000 items by
# SQL (media rows, tags, markers and text lines; paths /bench/N-NAME), so every query meets the
# row counts of a real library. Prints a table and writes bench/results/review_app.json.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
repeat=${BENCH_REPEAT:-5}
items=${BENCH_ITEMS:-10000}
results="$root/bench/results"
A="$root/$build/aitag"
F="$root/$build/fixtures"
[[ -x "$A" && -d "$F" ]] || { echo "review_app: run make fixtures first" >&2; exit 1; }
mkdir -p "$results"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cat=$work/catalog.db

"$A" tag --analyzers faces,text,objects --quiet --progress never --catalog "$cat" "$F/videos" \
    "$F/images" 2>/dev/null
n0=$(sqlite3 "$cat" 'SELECT count(*) FROM media')
copies=$(( (items + n0 - 1) / n0 - 1 ))
sqlite3 "$cat" <<SQL
BEGIN;
CREATE TEMP TABLE k(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $copies)
INSERT INTO k SELECT i FROM c;
CREATE TEMP TABLE src AS SELECT * FROM media;
INSERT INTO media(path, size, mtime_ns, fingerprint, kind, duration, width, height, container,
    video_codec, audio_codec, fps, rotation, bit_rate, derive_key, status, updated_at)
  SELECT '/bench/' || k.i || '-' || replace(s.path, '/', '_'), s.size, s.mtime_ns,
    printf('%016x', k.i * 1000 + s.id), s.kind, s.duration, s.width, s.height, s.container,
    s.video_codec, s.audio_codec, s.fps, s.rotation, s.bit_rate, s.derive_key, s.status,
    s.updated_at FROM src s, k;
INSERT INTO tags(media_id, name, parent, label, confidence, coverage)
  SELECT m.id, t.name, t.parent, t.label, t.confidence, t.coverage FROM media m
  JOIN src s ON m.path LIKE '/bench/%-' || replace(s.path, '/', '_')
  JOIN tags t ON t.media_id = s.id;
INSERT INTO markers(media_id, tag, start, end, confidence)
  SELECT m.id, x.tag, x.start, x.end, x.confidence FROM media m
  JOIN src s ON m.path LIKE '/bench/%-' || replace(s.path, '/', '_')
  JOIN markers x ON x.media_id = s.id;
INSERT INTO texts(media_id, start, end, text, confidence, source, lang)
  SELECT m.id, x.start, x.end, x.text, x.confidence, x.source, x.lang FROM media m
  JOIN src s ON m.path LIKE '/bench/%-' || replace(s.path, '/', '_')
  JOIN texts x ON x.media_id = s.id;
COMMIT;
ANALYZE;
SQL
total=$(sqlite3 "$cat" 'SELECT count(*) FROM media')

"$A" serve --catalog "$cat" --port 0 --cache-dir "$work/thumbs" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -oE 'http://[0-9.:]+' "$work/serve.out")

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms_of() { # URL: median ms of BENCH_REPEAT x 5 GETs
    for _ in $(seq $((repeat * 5))); do
        curl -sS -o /dev/null -w '%{time_total}\n' "$1"
    done | awk '{ print $1 * 1000 }' | median
}
floor_api=$(ms_of "$url/api/session")
page_api=$(ms_of "$url/api/items?limit=60")
search_api=$(ms_of "$url/api/items?limit=60&q=horse")

# first paint in the browser
cat >"$work/paint.js" <<'JS'
const { chromium } = require('playwright-core');
(async () => {
  const [url, repeat] = [process.argv[2], Number(process.argv[3])];
  const browser = await chromium.launch({ executablePath: process.env.AITAG_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'] });
  const paint = [], floor = [];
  for (let i = 0; i < repeat; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    await page.route('**/thumb', (r) => r.abort()); // thumbnails are not part of the first paint
    let t0 = Date.now();
    await page.goto(`${url}/favicon.svg`);
    floor.push(Date.now() - t0);
    t0 = Date.now();
    await page.goto(`${url}/`);
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 60);
    paint.push(Date.now() - t0);
    await ctx.close();
  }
  await browser.close();
  const med = (a) => { a.sort((x, y) => x - y); const n = a.length; return n % 2 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2; };
  console.log(`${med(paint)} ${med(floor)}`);
})();
JS
read -r paint floor_page < <(NODE_PATH="$root/tests/e2e/ui/node_modules" node "$work/paint.js" "$url" "$repeat")

printf '\nReview app on %d items (medians of %d runs)\n' "$total" "$repeat"
printf '%-44s %10s %10s %8s\n' "what" "ms" "floor ms" "ratio"
row() { printf '%-44s %10.1f %10.1f %8.1f\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN { print a / b }')"; }
row "GET /api/items (first page)" "$page_api" "$floor_api"
row "GET /api/items?q=horse (search)" "$search_api" "$floor_api"
row "first paint: 60 tiles in the browser" "$paint" "$floor_page"
jq -cn --argjson n "$total" --argjson p "$page_api" --argjson s "$search_api" --argjson f "$floor_api" \
    --argjson paint "$paint" --argjson fp "$floor_page" --arg commit "$(git rev-parse --short HEAD)" \
    '{commit: $commit, items: $n, api_page_ms: $p, api_search_ms: $s, api_floor_ms: $f,
      first_paint_ms: $paint, page_floor_ms: $fp}' >"$results/review_app.json"
