#!/usr/bin/env bash
# symbols.sh - every external symbol a library defines (nm -g --defined-only on its static
# library) starts with aitag_ or with one of the internal prefixes docs/architecture.md's
# "prefixes" row allows that library.
. "$(dirname "$0")/lib.sh"
src=${AITAG_SOURCE_DIR:?set by ctest}
build=${AITAG_BUILD_DIR:?set by ctest}

row=$(sed -n '/<!-- layers:begin/,/<!-- layers:end/p' "$src/docs/architecture.md" | grep -E '^prefixes:')
check "docs/architecture.md has a prefixes row" test -n "$row"
declare -A prefixes
for kv in ${row#prefixes:}; do prefixes[${kv%%=*}]=${kv#*=}; done

n_libs=0
for a in "$build"/libaitag_*.a; do
    [ -f "$a" ] || continue
    lib=$(basename "$a" .a)
    lib=${lib#libaitag_}
    n_libs=$((n_libs + 1))
    re="^(aitag_$(sed 's/,/|/g; s/^\(.\)/|\1/' <<<"${prefixes[$lib]-}"))"
    # __odr_asan.NAME: AddressSanitizer's one-definition-rule marker for our global NAME (the
    # sanitizer build); NAME itself is what is checked.
    bad=$(nm -g --defined-only "$a" | awk 'NF == 3 {sub(/^__odr_asan\./, "", $3); print $3}' |
        grep -Ev "$re" | sort -u)
    if [ -z "$bad" ]; then ok; else
        fail "libaitag_$lib.a exports symbols without an allowed prefix (aitag_ ${prefixes[$lib]-}):" $bad
    fi
done
check "found the libraries ($n_libs)" test "$n_libs" -ge 12
finish
