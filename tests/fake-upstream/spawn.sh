# spawn.sh - background servers for the gateway tests (sourced after lib.sh, not run).
#   port=$(start NAME CMD...)   runs CMD in the background, output in $tmp/NAME.{out,err}, and
#                               echoes the port from its "listening ... PORT" line (empty if
#                               none in 10 s)
# Every started process is stopped on exit; GW_KEEP=1 keeps $tmp for a look afterwards. start
# runs in a command substitution (a subshell), so the pids go to a file, not to a variable.
cleanup() {
    local p pids
    pids=$(cat "$tmp/.pids" 2>/dev/null)
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    [ -n "${GW_KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT

start() {
    local name=$1; shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    echo $! >>"$tmp/.pids"
    for _ in $(seq 100); do
        grep -q listening "$tmp/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -oE '[0-9]+$' "$tmp/$name.out" | head -n 1
}
