#!/usr/bin/env bash
# The command line: help, version, exit codes, the option table across config file,
# environment and flags, search, dry runs.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
img=$(ls "$fx"/images/*.jpg | head -n 1)

check "--version" sh -c "'$AITAG_BIN' --version | grep -Eq '^aitag [0-9]+\.[0-9]+\.[0-9]+$'"
for c in tag show search models; do
    check "$c --help exits 0 and prints usage" sh -c "'$AITAG_BIN' $c --help | grep -q Usage"
done
check "tag --help lists env names" sh -c "'$AITAG_BIN' tag --help | grep -q AITAG_"
"$AITAG_BIN" frobnicate >/dev/null 2>&1
check_eq "unknown command exit code" "$?" 2
"$AITAG_BIN" tag --bogus "$img" >/dev/null 2>&1
check_eq "unknown option exit code" "$?" 2
"$AITAG_BIN" tag --interval abc "$img" >/dev/null 2>"$tmp/err"
check_eq "bad number exit code" "$?" 2
check "bad number names the option" grep -q interval "$tmp/err"
"$AITAG_BIN" tag --analyzers nope "$img" >/dev/null 2>"$tmp/err"
check_eq "unknown analyzer exit code" "$?" 2
check "unknown analyzer named" grep -q "'nope'" "$tmp/err"

# Precedence: config file < environment < flag. Default catalog lives under XDG_DATA_HOME.
mkdir -p "$XDG_CONFIG_HOME/aitag"
printf '# test config\nanalyzers = nope-from-config\n' >"$XDG_CONFIG_HOME/aitag/config"
"$AITAG_BIN" tag "$img" >/dev/null 2>"$tmp/err"
check "config file is read" grep -q "nope-from-config" "$tmp/err"
AITAG_ANALYZERS=nope-from-env "$AITAG_BIN" tag "$img" >/dev/null 2>"$tmp/err"
check "environment beats config" grep -q "nope-from-env" "$tmp/err"
AITAG_ANALYZERS=nope-from-env "$AITAG_BIN" tag --analyzers faces "$img" >/dev/null 2>&1
check_eq "flag beats environment" "$?" 0
check "default catalog under XDG_DATA_HOME" test -f "$XDG_DATA_HOME/aitag/catalog.db"
printf 'no equals sign\n' >"$XDG_CONFIG_HOME/aitag/config"
"$AITAG_BIN" tag "$img" >/dev/null 2>"$tmp/err"
check_eq "broken config exit code" "$?" 2
check "broken config names file and line" grep -q "config:1" "$tmp/err"
rm "$XDG_CONFIG_HOME/aitag/config"

# Dry run: reports what would run and writes nothing.
"$AITAG_BIN" tag --catalog "$tmp/dry.db" --dry-run --json "$fx/images" >"$tmp/dry.jsonl" 2>/dev/null
check_eq "dry run exit code" "$?" 0
check_eq "dry run plans everything" "$(jq -r .status "$tmp/dry.jsonl" | sort -u)" planned
check "dry run creates no catalog" test ! -e "$tmp/dry.db"

# Search: AND by default, OR with --any.
db=$tmp/s.db
"$AITAG_BIN" tag --catalog "$db" "$fx/images" "$fx/videos" >/dev/null 2>&1
faces=$("$AITAG_BIN" search --catalog "$db" --tag face | wc -l)
texts=$("$AITAG_BIN" search --catalog "$db" --tag text | wc -l)
both=$("$AITAG_BIN" search --catalog "$db" --tag face --tag TEXT | wc -l)
any=$("$AITAG_BIN" search --catalog "$db" --tag face --tag text --any | wc -l)
check "some media have faces" [ "$faces" -gt 0 ]
check "some media have text" [ "$texts" -gt 0 ]
check "AND is no larger than either" [ "$both" -le "$faces" -a "$both" -le "$texts" ]
check_eq "OR = A + B - AND" "$any" "$((faces + texts - both))"
check_eq "search for an absent tag finds nothing" "$("$AITAG_BIN" search --catalog "$db" --tag 'fac%' | wc -l)" 0
"$AITAG_BIN" search --catalog "$db" >/dev/null 2>&1
check_eq "search without --tag is a usage error" "$?" 2
# --no-objects-mirror: the objects analyzer without its mirrored pass, a different analysis.
"$AITAG_BIN" tag --catalog "$tmp/mirror.db" --analyzers objects --json "$img" >"$tmp/m1.json" 2>/dev/null
check_eq "objects with the mirrored pass: exit 0" "$?" 0
"$AITAG_BIN" tag --catalog "$tmp/mirror.db" --analyzers objects --no-objects-mirror --json "$img" >"$tmp/m2.json" 2>/dev/null
check_eq "objects without it: exit 0" "$?" 0
check_eq "turning the mirror off re-analyses" "$(jq -r .status "$tmp/m2.json")" tagged
check "the analysis key records it" sh -c "sqlite3 '$tmp/mirror.db' \"SELECT key FROM analyses WHERE analyzer = 'objects'\" | grep -q 'flip=0'"
"$AITAG_BIN" tag --catalog "$tmp/mirror.db" --analyzers objects --no-objects-mirror --json "$img" >"$tmp/m3.json" 2>/dev/null
check_eq "same setting again: skipped" "$(jq -r .status "$tmp/m3.json")" skipped
"$AITAG_BIN" tag --catalog "$tmp/strategy.db" --strategy fast "$img" >/dev/null 2>"$tmp/strategy.err"
check_eq "unknown --strategy is a usage error" "$?" 2
check "the error names the option and the value" grep -q "strategy must be .*'fast'" "$tmp/strategy.err"
check "nothing written on a usage error" [ ! -e "$tmp/strategy.db" ]
"$AITAG_BIN" show --catalog "$tmp/none.db" "$img" >/dev/null 2>&1
check_eq "show without a catalog exit code (an empty catalog, not an error)" "$?" 0
check "show prints stored tags" sh -c "'$AITAG_BIN' show --catalog '$db' '$img' | grep -q 'tags:'"
check "models list names the analyzers" sh -c "'$AITAG_BIN' models list | grep -q faces"
check "models verify passes" "$AITAG_BIN" models verify
finish
