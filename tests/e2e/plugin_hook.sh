#!/usr/bin/env bash
# plugin_hook.sh - the hooks (Scene.Create.Post, Image.Create.Post) only add AI_TagMe: fast, no
# catalog, no model, nothing else written; other hook types are no-ops; Stash's large hook
# input (the whole mutation input, hundreds of KB) is read to EOF; bad input gets a clear
# error in the one stdout object.
source "$(dirname "$0")/lib.sh"

double_start || exit 1
double_seed '{"tags": [{"name": "Favourite"}],
  "scenes": [{"path": "/media/a.mp4", "tags": ["Favourite"],
              "markers": [{"seconds": 3, "primary_tag": "Favourite", "title": "user"}]}],
  "images": [{"path": "/media/b.jpg"}]}' || exit 1
before=$(double_state)

mutations() { double_log | jq -c '[.[] | select(.fields[0] | test("Create|Update|Destroy")) | .fields[0]]'; }
hook_args() { # TYPE ID: a hook's args as Stash builds them
    jq -cn --arg t "$1" --argjson id "$2" '
      {mode: "hook", hookContext: {id: $id, type: $t,
        input: {id: ($id | tostring), title: null, details: null, tag_ids: null},
        inputFields: ["id", "title", "details"]}}'
}

# ---- Scene.Create.Post with a 400 KB input (built here: too large for a command-line argument)

double_log_clear
plugin_stdin "$(hook_args Scene.Create.Post 1)" >"$tmp/small.in" || exit 1
head -c 400000 /dev/zero | tr '\0' x >"$tmp/pad.txt"
jq -c --rawfile pad "$tmp/pad.txt" '.args.hookContext.input.details = $pad' "$tmp/small.in" >"$tmp/plugin.in"
t0=$(date +%s.%N)
check "scene hook exits 0" \
    bash -c 'cd "$1" && exec "$2" plugin <"$3" >"$4" 2>"$5"' _ "$tmp/stash" "$AITAG_BIN" \
    "$tmp/plugin.in" "$tmp/plugin.out" "$tmp/plugin.err"
t1=$(date +%s.%N)
check "the 400 KB input really was that large" test "$(stat -c %s "$tmp/plugin.in")" -gt 400000
check "stdout is one JSON object without error" \
    jq -e -s 'length == 1 and .[0].error == null and .[0].output.added == "AI_TagMe"' "$tmp/plugin.out" >/dev/null
state=$(double_state)
check_eq "scene: AI_TagMe added, user tag kept" \
    "$(jq -c '.scenes[0].tags | sort' <<<"$state")" '["AI_TagMe","Favourite"]'
check_eq "AI_TagMe is a child of AI" "$(jq -c '[.tags[] | select(.name == "AI_TagMe") | .parents]' <<<"$state")" '[["AI"]]'
check_eq "scene: markers untouched" "$(jq -c '.scenes[0].markers' <<<"$state")" "$(jq -c '.scenes[0].markers' <<<"$before")"
check_eq "hook writes: the two control tags, then one tag update" "$(mutations)" \
    '["tagCreate","tagCreate","bulkSceneUpdate"]'
check "no catalog, no model: the plugin's data folder was not created" test ! -e "$tmp/plugin/data"
check "the hook is fast (< 10 s: it loads no model)" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 10) }'

# ---- Image.Create.Post; a second scene hook writes only the one update

double_log_clear
check "image hook exits 0" run_plugin "$(hook_args Image.Create.Post 1)"
check "scene hook again exits 0" run_plugin "$(hook_args Scene.Create.Post 1)"
state=$(double_state)
check_eq "image: AI_TagMe added" "$(jq -c '.images[0].tags' <<<"$state")" '["AI_TagMe"]'
check_eq "tags exist already: only the updates" "$(mutations)" '["bulkImageUpdate","bulkSceneUpdate"]'
check_eq "scene unchanged by the repeated hook" "$(jq -c '.scenes[0].tags | sort' <<<"$state")" '["AI_TagMe","Favourite"]'

# ---- other hook types do nothing

double_log_clear
check "Scene.Update.Post exits 0" run_plugin "$(hook_args Scene.Update.Post 1)"
check_eq "Scene.Update.Post: ignored" "$(jq -r .output.ignored "$tmp/plugin.out")" Scene.Update.Post
check_eq "Scene.Update.Post: no mutation" "$(mutations)" '[]'

# ---- hook for an item Stash no longer has: an error in the output, nothing written

if run_plugin "$(hook_args Scene.Create.Post 99)"; then rc=0; else rc=$?; fi
check "missing scene: non-zero exit" test "$rc" -ne 0
check "missing scene: error in the stdout object" jq -e '.error | type == "string" and length > 0' "$tmp/plugin.out" >/dev/null

# ---- bad input

printf 'this is not JSON' >"$tmp/bad.in"
(cd "$tmp" && "$AITAG_BIN" plugin <"$tmp/bad.in" >"$tmp/bad.out" 2>"$tmp/bad.err") && rc=0 || rc=$?
check_eq "bad stdin: exit 2" "$rc" 2
check "bad stdin: the one stdout object has the error" \
    jq -e -s 'length == 1 and (.[0].error | test("not JSON"))' "$tmp/bad.out" >/dev/null
check "bad stdin: the error is logged at error level" grep -q $'^\x01e\x02' "$tmp/bad.err"
if run_plugin '{"mode": "frobnicate"}'; then rc=0; else rc=$?; fi
check_eq "unknown mode: exit 2" "$rc" 2
check "unknown mode: named in the error" jq -e '.error | test("frobnicate")' "$tmp/plugin.out" >/dev/null
if run_plugin '{"mode": "scene"}'; then rc=0; else rc=$?; fi
check_eq "scene mode without ids: exit 2" "$rc" 2

finish
