#!/usr/bin/env bash
# plugin_ui.sh - the "Tag with AI" buttons (plugin/aitag.js) in a real browser: Debian's headless
# Chromium, driven by tests/e2e/ui/drive.js (playwright-core), loads the Stash double's UI pages
# (tests/stash-double/ui.js: the DOM of Stash's scene, image and list pages), which load the
# real plugin/aitag.js as Stash loads a plugin's UI script. drive.js clicks the buttons and
# checks the jobs that reach the double (runPluginTask), the toasts, and the error paths (HTTP
# 500 from Stash, an expired session). Screenshots go to $tmp/shots, or to AITAG_UI_SHOTS when
# set (kept after the run). Needs no aitag binary.
. "$(dirname "$0")/lib.sh"

UI_DIR="$AITAG_SOURCE_DIR/tests/e2e/ui"
CHROMIUM=${AITAG_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    echo "plugin_ui: $CHROMIUM is missing: run scripts/setup.sh (it installs Debian's chromium)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -f "$UI_DIR/node_modules/playwright-core/package.json" ]; then
    echo "plugin_ui: playwright-core is not installed in tests/e2e/ui: run scripts/setup.sh" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

double_start
double_seed '{
  "scenes": [{"id": 3, "title": "Beach walk", "path": "/media/beach.mp4"},
             {"id": 5, "title": "City at night", "path": "/media/city.mp4"},
             {"id": 7, "title": "Garden", "path": "/media/garden.mp4"},
             {"id": 12, "title": "Birthday party", "path": "/media/party.mp4"}],
  "images": [{"id": 4, "path": "/media/cat.jpg", "width": 800, "height": 600},
             {"id": 9, "path": "/media/dog.jpg", "width": 640, "height": 480}],
  "plugins": {"aitag": {}}
}'

# The UI pages need a session like Stash's: without a cookie they redirect to the login page.
code=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$DOUBLE_URL/scenes/12")
check_eq "UI page without a session redirects to login" "$code" "302 $DOUBLE_URL/login?returnURL=%2Fscenes%2F12"
check "the double serves plugin/aitag.js as the plugin's UI script" \
    cmp -s <(curl -sS "$DOUBLE_URL/plugin/aitag/javascript") "$AITAG_SOURCE_DIR/plugin/aitag.js"

# runPluginTask as Stash answers it: a job id at once, the job kept with its arguments.
id1=$(gql 'mutation { runPluginTask(plugin_id: "aitag", task_name: "Tag queued items") }' | jq -r .runPluginTask)
id2=$(gql 'mutation M($a: Map) { runPluginTask(plugin_id: "aitag", description: "d", args_map: $a) }' \
    '{"a": {"mode": "scene", "ids": ["3"]}}' | jq -r .runPluginTask)
check_eq "runPluginTask answers job ids in order" "$id1 $id2" "1 2"
check_eq "GET /__test/jobs lists them" \
    "$(double_ctl GET /__test/jobs | jq -c 'map([.id, .plugin_id, .task_name, .description, .args_map])')" \
    '[["1","aitag","Tag queued items",null,null],["2","aitag",null,"d",{"mode":"scene","ids":["3"]}]]'
double_ctl DELETE /__test/jobs >/dev/null
id3=$(gql 'mutation { runPluginTask(plugin_id: "aitag") }' | jq -r .runPluginTask)
check_eq "job ids keep counting after DELETE /__test/jobs" "$id3 $(double_ctl GET /__test/jobs | jq length)" "3 1"

shots=${AITAG_UI_SHOTS:-$tmp/shots}
rc=0
DOUBLE_URL=$DOUBLE_URL AITAG_CHROMIUM=$CHROMIUM timeout 180 node "$UI_DIR/drive.js" "$shots" >"$tmp/drive.out" 2>&1 || rc=$?
grep -v '^[0-9]* passed, [0-9]* failed$' "$tmp/drive.out" | grep -v '^ok ' >&2
passed=$((passed + $(grep -c '^ok ' "$tmp/drive.out")))
failed=$((failed + $(grep -c '^FAIL: ' "$tmp/drive.out")))
check_eq "drive.js finished (exit status)" "$rc" 0
check "drive.js ran its checks" grep -q '^[1-9][0-9]* passed, 0 failed$' "$tmp/drive.out"
for s in scene-toast scene-list-selected scene-error-500; do
    check "screenshot $s.png" test -s "$shots/$s.png"
done
finish
