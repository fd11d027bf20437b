# lib.sh - shared helpers for the integration tests (sourced, not run).
# Each test counts its checks and ends with the plain line "N passed, N failed".
set -u
: "${AITAG_BIN:?set by ctest}" "${AITAG_FIXTURES_DIR:?set by ctest}"
passed=0
failed=0
tmp=$(mktemp -d /tmp/aitag-it-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
unset AITAG_CATALOG AITAG_ANALYZERS AITAG_INTERVAL AITAG_THREADS AITAG_CONFIG

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then ok; else fail "$what"; fi
}
check_eq() { # check_eq DESCRIPTION GOT WANT
    if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi
}
# eventually CMD...: true once CMD succeeds, retried for up to 10 s (state that a server
# writes in the background, like the gateway's usage rows, batched every few milliseconds).
eventually() {
    for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done
    return 1
}
# gateway_start CONFIG [FLAGS...]: `aitag gateway serve` in the background (GW_PID; the caller
# stops it), output in $tmp/gw.out and $tmp/gw.err; sets GW_PORT from its "listening" line.
gateway_start() {
    "$AITAG_BIN" gateway serve --config "$@" >"$tmp/gw.out" 2>"$tmp/gw.err" &
    GW_PID=$!
    for _ in $(seq 100); do grep -q listening "$tmp/gw.out" 2>/dev/null && break; sleep 0.1; done
    GW_PORT=$(grep -oE '[0-9]+$' "$tmp/gw.out" | head -n 1)
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
# in_own_mounts SCRIPT ARGS...: bash SCRIPT in a mount namespace of its own (root only, so that
# it may mount a small tmpfs that nothing outside sees); its exit code, or 77 when not possible.
in_own_mounts() {
    if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
        unshare -m bash "$@"
    else
        return 77
    fi
}
# A canonical dump of everything a run stores, minus run bookkeeping and wall-clock stamps.
catalog_dump() {
    sqlite3 "$1" \
        "SELECT path, size, mtime_ns, fingerprint, kind, duration, status, error, derive_key FROM media ORDER BY path;" \
        "SELECT m.path, a.analyzer, a.key, a.interval, a.n_frames, a.run_id FROM analyses a JOIN media m ON m.id = a.media_id ORDER BY 1, 2;" \
        "SELECT m.path, e.analyzer, e.label, e.confidence, e.t, e.x, e.y, e.w, e.h, e.text FROM evidence e JOIN media m ON m.id = e.media_id ORDER BY 1, 2, 5, 3, 6, 7;" \
        "SELECT m.path, t.name, t.confidence, t.coverage FROM tags t JOIN media m ON m.id = t.media_id ORDER BY 1, 2;" \
        "SELECT m.path, k.tag, k.start, k.end, k.confidence FROM markers k JOIN media m ON m.id = k.media_id ORDER BY 1, 3, 2;" \
        "SELECT m.path, x.start, x.end, x.text FROM texts x JOIN media m ON m.id = x.media_id ORDER BY 1, 2, 4;"
}
# Results without run-specific fields, for comparing two catalogs.
results_dump() {
    sqlite3 "$1" \
        "SELECT path, status FROM media ORDER BY path;" \
        "SELECT m.path, e.analyzer, e.label, round(e.confidence, 4), e.t, e.text FROM evidence e JOIN media m ON m.id = e.media_id ORDER BY 1, 2, 5, 3, 4, 6;" \
        "SELECT m.path, t.name, round(t.confidence, 4), round(t.coverage, 4) FROM tags t JOIN media m ON m.id = t.media_id ORDER BY 1, 2;" \
        "SELECT m.path, k.tag, k.start, k.end FROM markers k JOIN media m ON m.id = k.media_id ORDER BY 1, 3, 2;" \
        "SELECT m.path, x.start, x.end, x.text FROM texts x JOIN media m ON m.id = x.media_id ORDER BY 1, 2, 4;"
}
# json_item FILE PATH FILTER: true when the one JSON line for PATH in FILE satisfies FILTER.
json_item() {
    jq -e -s --arg p "$2" "map(select(.path == \$p)) | length == 1 and (.[0] | $3)" "$1" >/dev/null
}
