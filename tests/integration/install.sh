#!/usr/bin/env bash
# `make install DESTDIR=... PREFIX=/usr` then the installed binary, copied to another folder
# and run from /, tags a fixture with the installed models and weights (not the source tree's),
# finds its bundled ONNX Runtime through its RPATH, and has its man page and completions;
# `make uninstall` removes every file it installed.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
: "${AITAG_BUILD_DIR:?set by ctest}"
img=$(ls "$AITAG_FIXTURES_DIR"/images/*.jpg | head -n 1)
dest=$tmp/x
root=$dest/usr

make -s -C "$src" install DESTDIR="$dest" PREFIX=/usr BUILD="$AITAG_BUILD_DIR" >"$tmp/install.log" 2>&1
rc=$?
check_eq "make install DESTDIR=$dest PREFIX=/usr" "$rc" 0
[ "$rc" -eq 0 ] || cat "$tmp/install.log" >&2
for f in bin/aitag lib/aitag/libonnxruntime.so.1 share/man/man1/aitag.1 \
    share/bash-completion/completions/aitag share/zsh/site-functions/_aitag; do
    check "installed $f" test -f "$root/$f"
done
check "model manifests installed" test -n "$(ls "$root"/share/aitag/models/*.json 2>/dev/null)"
check "weights installed" test -n "$(find "$root/share/aitag/weights" -name '*.onnx' | head -n 1)"
check "RPATH relative to the binary" bash -c 'readelf -d "$1" | grep -q "\$ORIGIN/../lib/aitag"' _ "$root/bin/aitag"
check "the installed man page is the generated one" cmp -s "$root/share/man/man1/aitag.1" <("$AITAG_BIN" help --man)
if command -v man >/dev/null; then # man-db: not on every machine (the content check is above)
    check "man renders it" bash -c 'MANWIDTH=80 man -l "$1" 2>/dev/null | grep -q "aitag tag"' _ "$root/share/man/man1/aitag.1"
fi

# A copy of the installed tree elsewhere: whatever it runs must come from that copy.
cp -a "$root" "$tmp/copy"
bin=$tmp/copy/bin/aitag
check "ONNX Runtime from the copied tree" bash -c 'ldd "$1" | grep -q "=> $2/bin/../lib/aitag/libonnxruntime.so.1"' _ "$bin" "$tmp/copy"
(cd / && "$bin" models list) >"$tmp/list" 2>&1
check "models from the copied tree" grep -q "^Models ($tmp/copy/bin/../share/aitag/models):" "$tmp/list"
(cd / && "$bin" tag --catalog "$tmp/cat.db" --analyzers faces --json "$img") >"$tmp/tag.json" 2>"$tmp/tag.err"
check_eq "installed aitag tag exits 0" "$?" 0
check_eq "installed aitag tag: tagged" "$(jq -r .status "$tmp/tag.json")" tagged
"$AITAG_BIN" tag --catalog "$tmp/ref.db" --analyzers faces --json "$img" >"$tmp/ref.json" 2>/dev/null
check_eq "installed tags = build tree tags" "$(jq -c .tags "$tmp/tag.json")" "$(jq -c .tags "$tmp/ref.json")"
# Proof that the weights are the copy's: break one there and the installed binary notices.
w=$(find "$tmp/copy/share/aitag/weights" -name '*.onnx' | head -n 1)
printf 'x' >>"$w"
(cd / && "$bin" models verify) >"$tmp/verify" 2>&1
check "verify fails on the copy's broken weight file" [ "$?" -ne 0 ]
check "... naming the copy's file" grep -q "^BAD .*$tmp/copy/bin/../share/aitag/weights/.*$(basename "$w")" "$tmp/verify"
"$AITAG_BIN" models verify >/dev/null 2>&1
check_eq "the build tree's weights are intact" "$?" 0

make -s -C "$src" uninstall DESTDIR="$dest" PREFIX=/usr BUILD="$AITAG_BUILD_DIR" >"$tmp/uninstall.log" 2>&1
rc=$?
check_eq "make uninstall" "$rc" 0
[ "$rc" -eq 0 ] || cat "$tmp/uninstall.log" >&2
left=$(find "$dest" -type f -o -type l)
check_eq "no files left under DESTDIR" "$left" ""
check "share/aitag removed" [ ! -e "$root/share/aitag" ]
check "lib/aitag removed" [ ! -e "$root/lib/aitag" ]
finish
