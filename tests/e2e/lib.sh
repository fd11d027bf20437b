# lib.sh - shared helpers for the e2e tests (sourced, not run).
#
# The e2e tests run aitag exactly as Stash runs a raw plugin, against the Stash double
# (tests/stash-double/server.js), and check what lands in the double's state. This file gives:
#   double_start [ARGS...]    start the double (free port, state in $tmp); sets DOUBLE_URL,
#                             DOUBLE_PORT, DOUBLE_PID. ARGS go to server.js (--api-key K,
#                             --session-max-age S, --version v0.27.2, --no-cookie-refresh ...)
#   double_stop               SIGTERM and wait;   double_kill: SIGKILL ("Stash killed")
#   double_restart [ARGS...]  stop, then start on the same port and state file (same ARGS
#                             unless new ones are given)
#   double_seed JSON | double_state | double_fault JSON | double_session [AGE] | double_log
#   gql QUERY [VARS_JSON]     POST to the double (ApiKey when started with --api-key, else a
#                             fresh session cookie); prints .data, fails on errors or non-200
#   gql_raw QUERY [VARS_JSON] the same, prints the whole body whatever happens; gql_status then
#                             prints the HTTP status. GQL_HEADERS=(...) adds curl -H values.
#   plugin_stdin ARGS_JSON [COOKIE]  the raw-interface stdin JSON Stash writes for a task
#                             (PluginDir: $PLUGIN_DIR, default $tmp/plugin)
#   run_plugin ARGS_JSON [COOKIE]    run "${PLUGIN_EXEC[@]}" (default: "$AITAG_BIN" plugin) on that
#                             stdin; stdout to $tmp/plugin.out, stderr to $tmp/plugin.err; returns
#                             its exit status. run_plugin_bg starts it in the background
#                             (PLUGIN_PID); plugin_wait waits for it and returns its status.
#   ok / fail / check / check_eq / finish   counters ending in the line "N passed, N failed"
# Everything lives in $tmp, removed on exit; the double is stopped on exit.
set -u
AITAG_SOURCE_DIR=${AITAG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AITAG_BIN=${AITAG_BIN:-$AITAG_SOURCE_DIR/build/aitag}
AITAG_BUILD_DIR=${AITAG_BUILD_DIR:-$AITAG_SOURCE_DIR/build}
AITAG_FIXTURES_DIR=${AITAG_FIXTURES_DIR:-$AITAG_BUILD_DIR/fixtures}
DOUBLE_DIR="$AITAG_SOURCE_DIR/tests/stash-double"

passed=0
failed=0
tmp=$(mktemp -d /tmp/aitag-e2e-XXXXXX)
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
unset AITAG_CATALOG AITAG_ANALYZERS AITAG_INTERVAL AITAG_THREADS AITAG_CONFIG

DOUBLE_PID=""
DOUBLE_PORT=0
DOUBLE_URL=""
DOUBLE_STATE="$tmp/stash-state.json"
DOUBLE_ARGS=()
DOUBLE_API_KEY=""
DOUBLE_MAX_AGE=3600
PLUGIN_PID=""
PLUGIN_EXEC=("$AITAG_BIN" plugin)
PLUGIN_DIR=""
GQL_HEADERS=()

e2e_cleanup() {
    [ -n "$PLUGIN_PID" ] && kill -9 "$PLUGIN_PID" 2>/dev/null
    double_stop
    rm -rf "$tmp"
}
trap e2e_cleanup EXIT

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then ok; else fail "$what"; fi
}
check_eq() { # check_eq DESCRIPTION GOT WANT
    if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi
}
finish() {
    if [ "$failed" -gt 0 ] && [ -s "$tmp/double.err" ]; then
        echo "--- Stash double stderr:" >&2; tail -n 20 "$tmp/double.err" >&2
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# ---- the Stash double

if ! command -v node >/dev/null 2>&1 || [ ! -f "$DOUBLE_DIR/node_modules/graphql/package.json" ]; then
    echo "e2e: the Stash double needs node and its npm packages: run scripts/setup.sh" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

double_launch() { # PORT ARGS...
    local port=$1; shift
    local out="$tmp/double.out" i
    : >"$out"
    mkdir -p "$tmp/stash"
    node "$DOUBLE_DIR/server.js" --state "$DOUBLE_STATE" --port "$port" --config-dir "$tmp/stash" "$@" \
        >"$out" 2>>"$tmp/double.err" &
    DOUBLE_PID=$!
    for i in $(seq 200); do
        grep -q '^listening on ' "$out" && break
        if ! kill -0 "$DOUBLE_PID" 2>/dev/null; then
            echo "e2e: the Stash double did not start:" >&2; cat "$tmp/double.err" >&2
            DOUBLE_PID=""; return 1
        fi
        sleep 0.05
    done
    DOUBLE_URL=$(sed -n '1s/^listening on //p' "$out")
    [ -n "$DOUBLE_URL" ] || { echo "e2e: no listening line from the Stash double" >&2; return 1; }
    DOUBLE_PORT=${DOUBLE_URL##*:}
    DOUBLE_API_KEY=""
    DOUBLE_MAX_AGE=3600
    for ((i = 1; i < $#; i++)); do
        local j=$((i + 1))
        case ${!i} in
        --api-key) DOUBLE_API_KEY=${!j} ;;
        --session-max-age) DOUBLE_MAX_AGE=${!j} ;;
        esac
    done
    export DOUBLE_URL DOUBLE_PORT DOUBLE_PID
}

double_start() { # [ARGS...]
    DOUBLE_ARGS=("$@")
    double_launch 0 "$@"
}

double_stop() {
    [ -n "$DOUBLE_PID" ] || return 0
    kill -TERM "$DOUBLE_PID" 2>/dev/null
    wait "$DOUBLE_PID" 2>/dev/null
    DOUBLE_PID=""
    return 0
}

double_kill() {
    [ -n "$DOUBLE_PID" ] || return 0
    kill -KILL "$DOUBLE_PID" 2>/dev/null
    wait "$DOUBLE_PID" 2>/dev/null
    DOUBLE_PID=""
    return 0
}

double_restart() { # [ARGS...]: same port and state file; new ARGS replace the old ones
    local port=$DOUBLE_PORT
    [ $# -gt 0 ] && DOUBLE_ARGS=("$@")
    double_stop
    double_launch "$port" "${DOUBLE_ARGS[@]+"${DOUBLE_ARGS[@]}"}"
}

double_ctl() { # METHOD PATH [JSON]: the control API; prints the answer, fails on non-200
    local code
    code=$(curl -sS -o "$tmp/ctl.body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
        ${3+--data-binary "$3"} "$DOUBLE_URL$2") || return 1
    cat "$tmp/ctl.body"
    [ "$code" = 200 ] || { echo "e2e: $1 $2 -> HTTP $code: $(cat "$tmp/ctl.body")" >&2; return 1; }
}
double_seed() { double_ctl POST /__test/seed "$1" >/dev/null; }
double_state() { double_ctl GET /__test/state; }
double_fault() { double_ctl POST /__test/fault "$1" >/dev/null; }
double_log() { double_ctl GET /__test/log; }
double_log_clear() { double_ctl DELETE /__test/log >/dev/null; }
double_session() { # [AGE]: a fresh session cookie value, optionally issued AGE seconds ago
    double_ctl POST /__test/session "{\"age\":${1:-0}}" | jq -r .cookie
}

# ---- GraphQL

gql_raw() { # QUERY [VARS_JSON]
    local body auth
    body=$(jq -cn --arg q "$1" --argjson v "${2:-null}" '{query: $q, variables: $v}') || return 1
    if [ -n "$DOUBLE_API_KEY" ]; then
        auth="ApiKey: $DOUBLE_API_KEY"
    else
        auth="Cookie: session=$(double_session)"
    fi
    curl -sS -o "$tmp/gql.body" -w '%{http_code}' -H 'Content-Type: application/json' -H "$auth" \
        ${GQL_HEADERS[@]+"${GQL_HEADERS[@]/#/-H}"} --data-binary "$body" "$DOUBLE_URL/graphql" \
        >"$tmp/gql.status" || echo 000 >"$tmp/gql.status"
    cat "$tmp/gql.body"
}
gql_status() { cat "$tmp/gql.status"; }
gql() { # QUERY [VARS_JSON]: prints .data
    gql_raw "$@" >/dev/null
    if [ "$(gql_status)" != 200 ] || jq -e '.errors' "$tmp/gql.body" >/dev/null 2>&1; then
        echo "e2e: GraphQL HTTP $(gql_status): $(cat "$tmp/gql.body")" >&2
        return 1
    fi
    jq -c .data "$tmp/gql.body"
}

# ---- the plugin, run as Stash runs it

# Go's encoding/json output (Stash marshals PluginInput with json.Marshal): compact, with <, >
# and & escaped. SessionCookie is a Go 1.24 net/http.Cookie as gorilla/sessions fills it.
plugin_stdin() { # ARGS_JSON [COOKIE]
    local cookie=${2:-}
    [ -n "$cookie" ] || cookie=$(double_session) || return 1
    mkdir -p "$tmp/plugin" "$tmp/stash"
    jq -cn --argjson args "$1" --arg cookie "$cookie" --argjson port "$DOUBLE_PORT" \
        --arg dir "$tmp/stash" --arg plugindir "${PLUGIN_DIR:-$tmp/plugin}" --argjson maxage "$DOUBLE_MAX_AGE" \
        --arg expires "$(date -u -d "+$DOUBLE_MAX_AGE seconds" +%Y-%m-%dT%H:%M:%S.%NZ)" \
        '{server_connection: {Scheme: "http", Host: "0.0.0.0", Port: $port,
            SessionCookie: {Name: "session", Value: $cookie, Quoted: false, Path: "/", Domain: "",
              Expires: $expires, RawExpires: "", MaxAge: $maxage, Secure: false, HttpOnly: false,
              SameSite: 2, Partitioned: false, Raw: "", Unparsed: null},
            Dir: $dir, PluginDir: $plugindir},
          args: $args}' |
        sed -e 's/</\\u003c/g' -e 's/>/\\u003e/g' -e 's/&/\\u0026/g'
}

# Stash starts the plugin with its own working directory and environment; here that is
# $tmp/stash. PLUGIN_TIMEOUT (seconds, default 600) bounds a run.
run_plugin() { # ARGS_JSON [COOKIE]
    plugin_stdin "$@" >"$tmp/plugin.in" || return 1
    local rc=0
    (cd "$tmp/stash" && timeout "${PLUGIN_TIMEOUT:-600}" "${PLUGIN_EXEC[@]}" \
        <"$tmp/plugin.in" >"$tmp/plugin.out" 2>"$tmp/plugin.err") || rc=$?
    return $rc
}

run_plugin_bg() { # ARGS_JSON [COOKIE]: sets PLUGIN_PID
    plugin_stdin "$@" >"$tmp/plugin.in" || return 1
    (cd "$tmp/stash" && exec "${PLUGIN_EXEC[@]}" <"$tmp/plugin.in" >"$tmp/plugin.out" 2>"$tmp/plugin.err") &
    PLUGIN_PID=$!
}

plugin_wait() { # returns the background plugin's exit status
    local rc=0
    [ -n "$PLUGIN_PID" ] || return 0
    wait "$PLUGIN_PID" || rc=$?
    PLUGIN_PID=""
    return $rc
}
