#!/usr/bin/env bash
# ctest-label: slow
# (not again under ASan: every command's --help and the generated docs; the option parser is
# fuzzed and its unit test runs under ASan)
# Help, docs/cli.md, the man page and the completions all come from the option and command
# tables: every command and subcommand's --help exits 0 and shows its own synopsis and options,
# docs/cli.md's reference section is exactly `aitag help --markdown`, and README's option
# table names only options that exist.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
A=$AITAG_BIN

mapfile -t cmds < <("$A" help --commands)
check "the command table lists commands" [ "${#cmds[@]}" -ge 10 ]
for want in tag show search models "models list" "models verify" "models add" "models remove" \
    "models install" plugin gateway "gateway serve" "gateway keys" "gateway keys create" \
    "gateway keys list" "gateway keys revoke" "gateway usage" people "people recluster" \
    "people update"; do
    check "command table has '$want'" sh -c "'$A' help --commands | grep -qx '$want'"
done
for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086 # the command's words are separate arguments
    $A $c --help >"$tmp/help" 2>"$tmp/err"
    check_eq "aitag $c --help: exit code" "$?" 0
    check "aitag $c --help: its usage line" grep -q "^Usage: aitag $c " "$tmp/help"
    check "aitag $c --help: nothing on stderr" [ ! -s "$tmp/err" ]
    # shellcheck disable=SC2086
    $A help $c >"$tmp/help2" 2>/dev/null
    check "aitag help $c = aitag $c --help" cmp -s "$tmp/help" "$tmp/help2"
done
"$A" --help >"$tmp/top" 2>&1
check_eq "aitag --help exit code" "$?" 0
for c in tag show search models plugin gateway; do
    check "aitag --help lists $c" grep -q "^  aitag $c " "$tmp/top"
done
"$A" >/dev/null 2>&1
check_eq "aitag with no command is a usage error" "$?" 2

# The seen disagreements: show takes FILE..., models lists all five subcommands, the gateway
# keys help is not a --db error, the --no- forms are shown.
check "show FILE..." sh -c "'$A' show --help | grep -q '^Usage: aitag show \[OPTIONS\] FILE\.\.\.'"
check "models: every subcommand" sh -c "'$A' models --help | grep -q 'list|verify|add|remove|install'"
check "tag --help shows --[no-]markers" sh -c "'$A' tag --help | grep -q -- '--\[no-\]markers'"
check "tag --help shows ranges" sh -c "'$A' tag --help | grep -q -- '--threads 1\.\.256'"
check "tag --help shows enum values" sh -c "'$A' tag --help | grep -q -- '--progress auto|always|never'"
check "gateway keys create --help shows --rpm" sh -c "'$A' gateway keys create --help | grep -q -- '--rpm'"
"$A" gateway keys >/dev/null 2>"$tmp/err"
check_eq "gateway keys without a command: exit 2" "$?" 2
check "... names the commands" grep -q "create, list, revoke" "$tmp/err"

# docs/cli.md carries the generated reference verbatim.
awk '/^<!-- BEGIN aitag help --markdown/{on=1; next} /^<!-- END aitag help --markdown/{on=0} on' \
    "$src/docs/cli.md" >"$tmp/doc.md"
"$A" help --markdown >"$tmp/gen.md"
check "docs/cli.md has the generated section" [ -s "$tmp/doc.md" ]
if ! diff -u "$tmp/doc.md" "$tmp/gen.md" >"$tmp/doc.diff"; then
    fail "docs/cli.md differs from aitag help --markdown (regenerate: scripts/gen_cli_docs.sh)"
    head -n 40 "$tmp/doc.diff" >&2
else
    ok
fi
for c in tag show search models plugin gateway; do
    check "docs/cli.md lists aitag $c" grep -q "^| \`aitag $c " "$src/docs/cli.md"
done
# README's option table: every option it names exists (as --X or --no-X) for aitag tag.
"$A" tag --help >"$tmp/tag_help"
grep -oE '^\| `--[a-z-]+`' "$src/README.md" | sed 's/^| `--//; s/`$//' | sort -u >"$tmp/readme_opts"
check "README has an option table" [ -s "$tmp/readme_opts" ]
while read -r opt; do
    base=${opt#no-}
    check "README option --$opt exists" grep -qE -- "--(\[no-\])?$base( |$)" "$tmp/tag_help"
done <"$tmp/readme_opts"

# The man page renders and lists every command.
"$A" help --man >"$tmp/aitag.1"
check "man page: title" grep -q '^\.TH AITAG 1' "$tmp/aitag.1"
for c in "${cmds[@]}"; do
    check "man page: aitag $c" grep -q "^\.B aitag $c\$" "$tmp/aitag.1"
done
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww "$tmp/aitag.1" >"$tmp/man.txt" 2>"$tmp/groff.err"
    check "groff renders the man page" [ -s "$tmp/man.txt" ]
    check "groff: no warnings ($(head -c 300 "$tmp/groff.err"))" [ ! -s "$tmp/groff.err" ]
fi

# Bash completion: subcommands, flags, --no- forms and enum values.
"$A" help --completion bash >"$tmp/aitag.bash"
complete_words() { # complete_words WORD... : COMPREPLY for the last word, sorted, one line
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _aitag; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
        _ "$tmp/aitag.bash" "$@"
}
check_eq "bash: commands" "$(complete_words aitag se)" "search serve "
check_eq "bash: subcommands" "$(complete_words aitag gateway keys c)" "create "
check_eq "bash: flags" "$(complete_words aitag tag --thr)" "--threads --threshold "
check_eq "bash: --no- forms" "$(complete_words aitag tag --no-mar)" "--no-markers "
check_eq "bash: enum values" "$(complete_words aitag tag --progress a)" "always auto "
check_eq "bash: a subcommand's own flags" "$(complete_words aitag models install --li)" "--list "
check_eq "bash: paths are left to the shell" "$(complete_words aitag tag fi)" " "
"$A" help --completion zsh >"$tmp/_aitag"
check "zsh completion: a compdef file" grep -q '^#compdef aitag' "$tmp/_aitag"
if command -v zsh >/dev/null; then
    check "zsh completion parses" zsh -n "$tmp/_aitag"
fi
finish
