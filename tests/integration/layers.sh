#!/usr/bin/env bash
# layers.sh - the libraries keep the order docs/architecture.md writes down: every aitag_*
# library a CMake target links, and every "aitag/X.h" a library's sources, *_int.h or public
# header include, is allowed by that library's row in the table between the layers markers.
set -u
src=${AITAG_SOURCE_DIR:?set by ctest}
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

table=$(sed -n '/<!-- layers:begin/,/<!-- layers:end/p' "$src/docs/architecture.md" | grep -E '^[a-z-]+:')
[ -n "$table" ] || { echo "FAIL: no layers table in docs/architecture.md"; exit 1; }
declare -A uses header_lib types_only
while IFS= read -r line; do
    key=${line%%:*}
    val=${line#*:}
    case $key in
    headers) for kv in $val; do header_lib[${kv%%=*}]=${kv#*=}; done ;;
    types-only) for kv in $val; do types_only[${kv%%=*}]+=" ${kv#*=} "; done ;;
    prefixes) ;; # symbol prefixes: tests/integration/symbols.sh
    *) uses[$key]=" $val " ;;
    esac
done <<<"$table"

lib_of_header() { echo "${header_lib[$1]:-$1}"; }
allowed() { # allowed LIB DEP [include]
    [ "$1" = "$2" ] && return 0
    [[ ${uses[$1]-} == *" $2 "* ]] && return 0
    [ "${3-}" = include ] && [[ ${types_only[$1]-} == *" $2 "* ]] && return 0
    return 1
}

# Every library folder has a row (a new library must be placed in the order).
for d in "$src"/src/*/; do
    l=$(basename "$d")
    if [ -n "${uses[$l]+x}" ]; then ok; else fail "src/$l has no row in docs/architecture.md"; fi
done

# Includes: sources and internal headers of src/<lib>, and the public header(s) of <lib>.
check_includes() { # check_includes LIB FILE...
    local lib=$1 f h dep
    shift
    for f in "$@"; do
        [ -f "$f" ] || continue
        for h in $(sed -n 's/^#include "aitag\/\([a-z_]*\)\.h".*/\1/p' "$f"); do
            dep=$(lib_of_header "$h")
            if allowed "$lib" "$dep" include; then ok; else
                fail "${f#"$src"/} ($lib) includes aitag/$h.h of $dep, which its layer may not use"
            fi
        done
    done
}
for d in "$src"/src/*/; do
    l=$(basename "$d")
    check_includes "$l" "$d"*.c "$d"*.h
done
for h in "$src"/include/aitag/*.h; do
    n=$(basename "$h" .h)
    check_includes "$(lib_of_header "$n")" "$h"
done

# Links: target_link_libraries(aitag_<lib> ...) in CMakeLists.txt, joined across lines.
links=$(tr '\n' ' ' <"$src/CMakeLists.txt" | grep -oE 'target_link_libraries\(aitag_[a-z]+ [^)]*\)')
n_links=0
while IFS= read -r tl; do
    [ -n "$tl" ] || continue
    lib=$(sed -E 's/target_link_libraries\(aitag_([a-z]+) .*/\1/' <<<"$tl")
    n_links=$((n_links + 1))
    for dep in $(grep -oE 'aitag_[a-z]+' <<<"${tl#* }" | sed 's/^aitag_//'); do
        if allowed "$lib" "$dep"; then ok; else
            fail "CMakeLists.txt: aitag_$lib links aitag_$dep, which its layer may not use"
        fi
    done
done <<<"$links"
if [ "$n_links" -ge 10 ]; then ok; else fail "found only $n_links library link lines"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
