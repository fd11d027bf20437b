#!/usr/bin/env bash
# curl_setup.sh - libcurl is set up in one place: no library calls curl_global_init but
# src/util/curl_init.c, and every source file that creates a curl handle (curl_easy_init,
# curl_multi_init, curl_share_init) calls aitag_curl_global_init() first.
. "$(dirname "$0")/lib.sh"
src=${AITAG_SOURCE_DIR:?set by ctest}

for f in "$src"/src/*/*.c; do
    rel=${f#"$src"/}
    [ "$rel" = src/util/curl_init.c ] && continue
    if grep -qE '(^|[^_[:alnum:]])curl_global_init\(' "$f"; then
        fail "$rel calls curl_global_init itself (use aitag_curl_global_init)"
    else ok; fi
    # each handle creation must come after an aitag_curl_global_init() call in the same file
    first_init=$(grep -n 'aitag_curl_global_init()' "$f" | head -1 | cut -d: -f1)
    while IFS=: read -r line _; do
        [ -n "$line" ] || continue
        if [ -n "$first_init" ] && [ "$first_init" -le "$line" ]; then ok; else
            fail "$rel:$line creates a curl handle without aitag_curl_global_init() before it"
        fi
    done < <(grep -nE 'curl_(easy|multi|share)_init\(' "$f")
done
n=$(grep -lE 'curl_(easy|multi|share)_init\(' "$src"/src/*/*.c | wc -l)
if [ "$n" -ge 5 ]; then ok; else fail "found only $n files creating curl handles"; fi

finish
