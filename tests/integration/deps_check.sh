#!/usr/bin/env bash
# deps_check.sh - setup installs everything the build and the tests use (scripts/check_deps.sh
# on this build folder passes), and the check would notice if it did not: with a header package
# (libprotobuf-c-dev), a program's package (jq) or the fixtures' photos (darknet) taken
# out of setup's list, it fails and names the package and a file that needs it.
source "$(dirname "$0")/lib.sh"
: "${AITAG_SOURCE_DIR:?set by ctest}" "${AITAG_BUILD_DIR:?set by ctest}"
checker="$AITAG_SOURCE_DIR/scripts/check_deps.sh"
list="$AITAG_SOURCE_DIR/scripts/apt-packages.txt"

check "setup's list covers the build, the tests, the fixtures, the demo and the benchmarks" \
    bash -c '"$1" "$2" >"$3/ok.out" 2>&1 || { cat "$3/ok.out" >&2; exit 1; }' _ "$checker" "$AITAG_BUILD_DIR" "$tmp"
check "setup reads the same list" grep -q 'scripts/apt-packages.txt' "$AITAG_SOURCE_DIR/scripts/setup.sh"

without() { # PACKAGE WANT_FILE: the check fails without PACKAGE, naming it and WANT_FILE
    local rc=0
    sed "s/#.*//; s/\(^\|[[:space:]]\)$1\([[:space:]]\|$\)/\1\2/g" "$list" >"$tmp/without-$1.txt"
    if grep -qw -- "$1" "$tmp/without-$1.txt"; then fail "$1 still in the trimmed list"; return; fi
    "$checker" --packages "$tmp/without-$1.txt" "$AITAG_BUILD_DIR" >"$tmp/without-$1.out" 2>&1 || rc=$?
    check_eq "without $1: exit status" "$rc" 1
    check "without $1: names it and $2" grep -q "^check_deps: $1 is used .*$2" "$tmp/without-$1.out"
}
without libprotobuf-c-dev /usr/include/protobuf-c/protobuf-c.h
without jq /usr/bin/jq
without darknet /usr/share/darknet/

rc=0
"$checker" "$tmp/nowhere" >/dev/null 2>"$tmp/usage.err" || rc=$?
check_eq "a missing build folder is a usage error" "$rc" 2

finish
