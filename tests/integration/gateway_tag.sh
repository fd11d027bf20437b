#!/usr/bin/env bash
# `aitag tag --gateway`: tagging through a real `aitag gateway serve` gives the catalog and the
# --json lines of an in-process run, with the local catalog deciding what runs. Covers path
# mode and upload mode (the gateway cannot see the files), skipping unchanged files without
# calling the gateway, keys (401), a gateway that is down and comes back, --local-only, a route
# that lacks an analyzer, an interval that differs, and uploads over the gateway's body limit.
# ctest-label: slow
# (not again under ASan, for CI time: inference for most of its time; the gateway's request
# code runs under ASan in the other gateway tests and test_gw_*, and this test under TSan)
# ctest-cost: 37
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
for t in curl jq sqlite3; do
    command -v $t >/dev/null || { echo "gateway_tag.sh: $t is required" >&2; exit 1; }
done
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME CONFIG: starts a gateway (not in a subshell, so its pid is kept for cleanup) and
# sets port from its "listening" line.
start() {
    "$AITAG_BIN" gateway serve --config "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q listening "$tmp/$1.out" 2>/dev/null && break
        sleep 0.1
    done
    port=$(grep -oE '[0-9]+$' "$tmp/$1.out" | head -n 1)
}
# gw_config FILE PORT ROOT CATALOG ACCESS_LOG MAX_BODY: a gateway with keys and three routes.
gw_config() {
    cat >"$1" <<JSON
{
  "listen": "127.0.0.1", "port": $2, "workers": 2, "max_body_bytes": $6,
  "library_roots": ["$3"], "keys_db": "$tmp/keys.db", "access_log": "$5",
  "catalog": "$4", "tmp_dir": "$tmp/up",
  "routes": {
    "tag": {"backends": [{"kind": "local", "analyzers": ["faces", "text"]}]},
    "vision": {"backends": [{"kind": "local", "analyzers": ["objects", "pose"]}]},
    "facesonly": {"backends": [{"kind": "local", "analyzers": ["faces"]}]}
  }
}
JSON
}
tag_calls() { # /v1/tag requests in an access log
    grep -c '"path":"/v1/tag"' "$1" 2>/dev/null || true
}

# The media: photos, a short video, a truncated video (partial) and an empty file (error).
mkdir -p "$tmp/media" "$tmp/elsewhere" "$tmp/up"
cp "$fx"/images/* "$fx/videos/faces_720p_hevc.mkv" "$fx/bad/truncated.mp4" \
    "$fx/bad/zero-byte.mp4" "$tmp/media/"
n_files=$(ls "$tmp/media" | wc -l)
"$AITAG_BIN" gateway keys create --db "$tmp/keys.db" --name t --json >"$tmp/key.json"
export AITAG_GATEWAY_KEY=$(jq -r .key "$tmp/key.json")
check "key created" [ -n "$AITAG_GATEWAY_KEY" ]

gw_config "$tmp/g1.json" 0 "$tmp/media" "$tmp/g1.db" "$tmp/g1.jsonl" 16777216
start g1 "$tmp/g1.json"
p1=$port
check "gateway started" [ -n "$p1" ]
url1=http://127.0.0.1:$p1

# In process (catalog A) and through the gateway by path (catalog B): the same everything.
"$AITAG_BIN" tag --json --catalog "$tmp/A.db" "$tmp/media" >"$tmp/A.json" 2>"$tmp/A.err"
rc_a=$?
"$AITAG_BIN" tag --json --catalog "$tmp/B.db" --gateway "$url1" --log-level info "$tmp/media" \
    >"$tmp/B.json" 2>"$tmp/B.err"
rc_b=$?
check_eq "in-process exit code (one failed, one partial)" "$rc_a" 1
check_eq "gateway exit code = in-process" "$rc_b" "$rc_a"
check_eq "every file reported" "$(wc -l <"$tmp/B.json")" "$n_files"
check "--json lines identical" cmp -s "$tmp/A.json" "$tmp/B.json"
check "results identical" cmp -s <(results_dump "$tmp/A.db") <(results_dump "$tmp/B.db")
# Evidence by item and analyzer, in each analyzer's own order: cues runs here under --gateway
# (runs_here), so its rows are stored before the gateway's, not interleaved frame by frame.
ev() { sqlite3 "$1" "SELECT m.path, e.analyzer, e.label, e.confidence, e.t, e.x, e.y, e.w, e.h, e.text, e.extra FROM evidence e JOIN media m ON m.id = e.media_id ORDER BY m.path, e.analyzer, e.id"; }
an() { sqlite3 "$1" "SELECT m.path, a.analyzer, a.key, a.interval, a.n_frames, a.strategy FROM analyses a JOIN media m ON m.id = a.media_id ORDER BY 1, 2"; }
check "evidence identical to the last bit" cmp -s <(ev "$tmp/A.db") <(ev "$tmp/B.db")
check "analyses identical (keys, frames, strategy)" cmp -s <(an "$tmp/A.db") <(an "$tmp/B.db")
check_eq "partial item stored as partial" \
    "$(sqlite3 "$tmp/B.db" "SELECT status FROM media WHERE path LIKE '%truncated.mp4'")" partial
check_eq "no model loaded by the client" "$(grep -c 'event=load' "$tmp/B.err")" 0
check_eq "one /v1/tag call per file with work" "$(tag_calls "$tmp/g1.jsonl")" $((n_files - 1))

# A second run decides locally that nothing changed: no call to the gateway at all.
"$AITAG_BIN" tag --json --catalog "$tmp/B.db" --gateway "$url1" "$tmp/media" >"$tmp/B2.json" 2>/dev/null
check_eq "second run: unchanged files skipped" \
    "$(jq -r .status "$tmp/B2.json" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
    "error=1 partial=1 skipped=$((n_files - 2)) "
check_eq "second run: no /v1/tag call" "$(tag_calls "$tmp/g1.jsonl")" $((n_files - 1))
# A fresh catalog through the same gateway: the gateway's catalog skips, no model re-runs.
runs=$(sqlite3 "$tmp/g1.db" "SELECT count(*) FROM runs")
"$AITAG_BIN" tag --json --catalog "$tmp/B3.db" --gateway "$url1" "$tmp/media" >"$tmp/B3.json" 2>/dev/null
check "fresh catalog, same answers" cmp -s "$tmp/A.json" "$tmp/B3.json"
check_eq "the gateway re-analysed nothing" "$(sqlite3 "$tmp/g1.db" "SELECT count(*) FROM runs")" "$runs"

# A second route with other analyzers (objects, pose: evidence with boxes and keypoints).
"$AITAG_BIN" tag --json --catalog "$tmp/V1.db" --analyzers objects,pose "$tmp/media"/*.jpg \
    >"$tmp/V1.json" 2>/dev/null
"$AITAG_BIN" tag --json --catalog "$tmp/V2.db" --analyzers objects,pose --gateway "$url1" \
    --gateway-route vision "$tmp/media"/*.jpg >"$tmp/V2.json" 2>/dev/null
check_eq "objects+pose through the gateway: exit code" "$?" 0
check "objects+pose: --json identical" cmp -s "$tmp/V1.json" "$tmp/V2.json"
check "objects+pose: evidence identical" cmp -s <(ev "$tmp/V1.db") <(ev "$tmp/V2.db")
check "objects+pose: some evidence" [ -n "$(ev "$tmp/V2.db")" ]

# Upload mode: the gateway's library roots don't hold the files (403, then multipart).
gw_config "$tmp/g2.json" 0 "$tmp/elsewhere" "$tmp/g2.db" "$tmp/g2.jsonl" 4194304
start g2 "$tmp/g2.json"
p2=$port
url2=http://127.0.0.1:$p2
small=$(ls "$tmp/media"/* | grep -v zero-byte)
"$AITAG_BIN" tag --json --catalog "$tmp/C.db" --gateway "$url2" --log-level info $small \
    >"$tmp/C.json" 2>"$tmp/C.err"
check_eq "upload mode: exit code (partial item)" "$?" 1
check "upload mode: --json identical" cmp -s <(grep -v zero-byte "$tmp/A.json") "$tmp/C.json"
check "upload mode: results identical" \
    cmp -s <(results_dump "$tmp/A.db" | grep -v zero-byte) <(results_dump "$tmp/C.db")
check "upload mode: evidence identical" cmp -s <(ev "$tmp/A.db") <(ev "$tmp/C.db")
check "upload mode: switched to uploading" grep -q 'event=upload.*path_not_allowed' "$tmp/C.err"
check_eq "upload mode: one refused path, then uploads" \
    "$(jq -r 'select(.path == "/v1/tag") | .status' "$tmp/g2.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
    "200=$((n_files - 1)) 403=1 "
check "upload mode: no upload left on disk" [ -z "$(find "$tmp/up" -type f)" ]
# The same bytes again: one gateway catalog row per distinct upload, nothing re-analysed.
runs=$(sqlite3 "$tmp/g2.db" "SELECT count(*) FROM runs")
"$AITAG_BIN" tag --json --catalog "$tmp/C2.db" --gateway "$url2" $small >"$tmp/C2.json" 2>/dev/null
check "re-upload: same answers" cmp -s "$tmp/C.json" "$tmp/C2.json"
check_eq "re-upload: the gateway re-analysed nothing" "$(sqlite3 "$tmp/g2.db" "SELECT count(*) FROM runs")" "$runs"
check_eq "re-upload: one gateway row per distinct file" \
    "$(sqlite3 "$tmp/g2.db" "SELECT count(*) FROM media")" $((n_files - 1))
# A file over the gateway's body limit (4 MiB): a clear error naming 413; the run goes on.
cp "$fx/videos/mixed_480p_mjpeg.avi" "$tmp/big.avi"
"$AITAG_BIN" tag --json --catalog "$tmp/C3.db" --gateway "$url2" "$tmp/big.avi" \
    "$tmp/media/group_3faces.jpg" >"$tmp/C3.json" 2>"$tmp/C3.err"
check_eq "oversize upload: exit code 1" "$?" 1
check "oversize upload: error names 413" json_item "$tmp/C3.json" "$tmp/big.avi" \
    '.status == "error" and (.errors[0].message | test("413"))'
check "oversize upload: the other file is tagged" json_item "$tmp/C3.json" \
    "$tmp/media/group_3faces.jpg" '.status == "tagged"'

# Keys: a wrong key fails every item with an error naming 401; exit code 1 (docs/cli.md).
AITAG_GATEWAY_KEY=agk_0000000000000000000000000000000000000000 "$AITAG_BIN" tag --json \
    --catalog "$tmp/K.db" --gateway "$url1" "$tmp/media" >"$tmp/K.json" 2>"$tmp/K.err"
check_eq "wrong key: exit code 1" "$?" 1
check_eq "wrong key: every file with work fails" "$(jq -r .status "$tmp/K.json" | sort -u)" error
check "wrong key: error names the gateway and 401" \
    json_item "$tmp/K.json" "$tmp/media/group_3faces.jpg" \
    "(.errors[0].message | test(\"gateway $url1: HTTP 401 invalid_api_key\"))"
check_eq "wrong key: summary counts the failures" \
    "$(grep -oE '[0-9]+ failed' "$tmp/K.err")" "$n_files failed"
# The key comes from the variable --gateway-key-env names.
MY_KEY=$AITAG_GATEWAY_KEY AITAG_GATEWAY_KEY= "$AITAG_BIN" tag --json --catalog "$tmp/K2.db" \
    --gateway "$url1" --gateway-key-env MY_KEY "$tmp/media/group_3faces.jpg" >/dev/null 2>&1
check_eq "key from --gateway-key-env" "$?" 0

# A route without an analyzer asked for: item error naming it.
"$AITAG_BIN" tag --json --catalog "$tmp/M.db" --gateway "$url1" --gateway-route facesonly \
    "$tmp/media/group_3faces.jpg" >"$tmp/M.json" 2>/dev/null
check_eq "missing analyzer: exit code 1" "$?" 1
check "missing analyzer: named" json_item "$tmp/M.json" "$tmp/media/group_3faces.jpg" \
    '.status == "error" and (.errors[0].message | test("does not run analyzer\\(s\\): text"))'
# Another interval than the gateway's: the keys differ, so nothing is mixed in.
"$AITAG_BIN" tag --json --catalog "$tmp/I.db" --gateway "$url1" --interval 1 \
    "$tmp/media/faces_720p_hevc.mkv" >"$tmp/I.json" 2>/dev/null
check "other interval: item error naming the interval" json_item "$tmp/I.json" \
    "$tmp/media/faces_720p_hevc.mkv" '.status == "error" and (.errors[0].message | test("interval"))'
check_eq "other interval: nothing stored" "$(sqlite3 "$tmp/I.db" "SELECT count(*) FROM evidence")" 0

# --local-only: a non-loopback gateway is refused before anything runs (exit 2).
"$AITAG_BIN" tag --catalog "$tmp/L.db" --gateway http://192.0.2.1:8089 --local-only \
    "$tmp/media" >/dev/null 2>"$tmp/L.err"
check_eq "local-only, remote host: exit 2" "$?" 2
check "local-only: the message says why" grep -q "not loopback" "$tmp/L.err"
check "local-only: nothing written" [ ! -e "$tmp/L.db" ]
"$AITAG_BIN" tag --json --catalog "$tmp/L2.db" --gateway "http://localhost:$p1" --local-only \
    "$tmp/media/group_3faces.jpg" >"$tmp/L2.json" 2>/dev/null
check_eq "local-only, loopback gateway: works" "$?" 0
check "local-only, loopback gateway: same answer" \
    cmp -s <(grep group_3faces.jpg "$tmp/A.json") "$tmp/L2.json"
"$AITAG_BIN" tag --catalog "$tmp/L3.db" --gateway "ftp://127.0.0.1/" "$tmp/media" >/dev/null 2>"$tmp/L3.err"
check_eq "not an http URL: exit 2" "$?" 2

# Gateway down: each item fails with a clear error, the run goes on; once it is up again a
# re-run completes exactly the failed items.
gw_config "$tmp/g3.json" 0 "$tmp/media" "$tmp/g3.db" "$tmp/g3.jsonl" 16777216
start g3 "$tmp/g3.json"
p3=$port
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null
"$AITAG_BIN" tag --json --catalog "$tmp/D.db" --gateway "http://127.0.0.1:$p3" "$tmp/media" \
    >"$tmp/D.json" 2>"$tmp/D.err"
check_eq "gateway down: exit code 1" "$?" 1
check_eq "gateway down: every file reported" "$(wc -l <"$tmp/D.json")" "$n_files"
check "gateway down: error names the gateway" json_item "$tmp/D.json" \
    "$tmp/media/group_3faces.jpg" "(.errors[0].message | test(\"gateway http://127.0.0.1:$p3: \"))"
gw_config "$tmp/g3.json" "$p3" "$tmp/media" "$tmp/g3.db" "$tmp/g3.jsonl" 16777216
start g3b "$tmp/g3.json"
check_eq "gateway up again on its port" "$port" "$p3"
"$AITAG_BIN" tag --json --catalog "$tmp/D.db" --gateway "http://127.0.0.1:$p3" "$tmp/media" \
    >"$tmp/D2.json" 2>/dev/null
check_eq "re-run after the gateway is back: exit code as in-process" "$?" "$rc_a"
check "re-run: results identical to in-process" \
    cmp -s <(results_dump "$tmp/A.db") <(results_dump "$tmp/D.db")
check "re-run: --json identical" cmp -s "$tmp/A.json" "$tmp/D2.json"
finish
