#!/usr/bin/env bash
# Allocation-failure test mode (make test-allocfail): each unit test named runs once per
# allocation with that allocation failing (AITAG_ALLOC_FAIL=all, tests/alloc_fail.c says how a
# run is judged: no crash, sanitizer report, leak or hang).
#
#   tests/alloc_fail.sh BUILD_DIR TEST[:STEP]...     e.g. tests/alloc_fail.sh build-asan test_buf
#
# BUILD_DIR is the sanitizer build (AITAG_SANITIZE=ON). JOBS runs go at once (default nproc).
# TEST:k (or STEP=k for all) fails only every kth allocation, and TEST:/r about r allocations
# spread evenly over the test's: samples, for tests whose every allocation takes too long. The
# sample starts at N = 1 + OFFSET mod k (OFFSET default 0), so that runs with other offsets
# (make test-allocfail takes one from the commit) fail other allocations; each test's line
# says which.
# The logs of failing runs stay in BUILD_DIR/allocfail/TEST/N.log; reproduce one with
# AITAG_ALLOC_FAIL=N BUILD_DIR/TEST. Exit status: the number of tests with a failing run.
set -uo pipefail

build=${1:?usage: alloc_fail.sh BUILD_DIR TEST...}
shift
export AITAG_ALLOC_FAIL_JOBS=${JOBS:-$(nproc)}
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1"

failed=0
for arg in "$@"; do
    test=${arg%%:*}
    step=${STEP:-1}
    [ "$arg" != "$test" ] && step=${arg#*:}
    runs=0
    case $step in /*) runs=${step#/} step=1 ;; esac
    logs="$build/allocfail/$test"
    rm -rf "$logs" && mkdir -p "$logs"
    if (cd "$build" && AITAG_ALLOC_FAIL=all AITAG_ALLOC_FAIL_STEP=$step \
        AITAG_ALLOC_FAIL_RUNS=$runs AITAG_ALLOC_FAIL_OFFSET=${OFFSET:-0} \
        AITAG_ALLOC_FAIL_LOGS="allocfail/$test" "./$test") 2>"$logs/runner.log"; then
        echo "$test: $(tail -n 1 "$logs/runner.log" | sed 's/^alloc-fail: //')"
        rm -rf "$logs"
        continue
    fi
    failed=$((failed + 1))
    echo "$test: FAILED"
    sed 's/^/  /' "$logs/runner.log"
    first=$(ls "$logs" | grep -v runner | sort -n | head -n 1)
    if [ -n "$first" ]; then
        echo "  --- $logs/$first (last 30 lines) ---"
        tail -n 30 "$logs/$first" | sed 's/^/  /'
    fi
done
exit "$failed"
