#!/usr/bin/env bash
# package.sh BUILD_DIR [OUT_DIR] - builds the Stash plugin from a configured, built tree
# (`make plugin`); OUT_DIR defaults to BUILD_DIR/plugin:
#   OUT_DIR/aitag/      the plugin folder (copy it into Stash's plugins folder)
#   OUT_DIR/aitag.zip   the same folder zipped, files at the zip's root
#   OUT_DIR/index.yml   a Stash plugin source index listing aitag.zip
# The folder holds bin/aitag, lib/aitag/, share/aitag/{models,weights}, aitag.yml (version
# filled in), aitag.js, aitag.css and LICENSES/. Stash writes a package's files from the zip as
# they are (no symlinks survive), so every file here is a real file.
#
# Self-contained: the official Stash Docker image is Alpine (musl), without glibc or any of the
# Debian libraries the program was linked with. So bin/aitag is a POSIX sh wrapper that starts
# the real program, bin/aitag.bin (stripped), through the glibc dynamic loader shipped in
# lib/aitag/ with --library-path lib/aitag; lib/aitag holds every shared library the program
# needs (ldd's closure: the C and C++ runtimes, FFmpeg, SQLite, libcurl, OpenSSL, ONNX
# Runtime ...), so nothing of the host's is loaded. The libraries FFmpeg links only for
# encoders, network protocols, hardware acceleration and formats aitag does not tag are
# replaced by stubs (plugin/stub-libs.txt, plugin/make-stub.sh), and everything is stripped. The program finds share/aitag
# from its own path as the loader reports it (src/cli/main.c).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
mkdir -p "${2:-$build/plugin}"
out=$(cd "${2:-$build/plugin}" && pwd)
dir="$out/aitag"

version=$(sed -n 's/^#define AITAG_VERSION "\(.*\)"$/\1/p' "$top/include/aitag/common.h")
[ -n "$version" ] || { echo "package: cannot read AITAG_VERSION" >&2; exit 1; }
command -v zip >/dev/null || { echo "package: zip is missing (apt-get install zip)" >&2; exit 1; }

rm -rf "$dir" "$out/aitag.zip" "$out/index.yml"
mkdir -p "$dir"
cmake --install "$build" --prefix "$dir" --component runtime >/dev/null

# The program, its libraries and the loader (see the top of this file).
lib="$dir/lib/aitag"
mv "$dir/bin/aitag" "$dir/bin/aitag.bin"
strip --strip-unneeded "$dir/bin/aitag.bin"
# The libraries: ldd's closure of the program, walked through each library's NEEDED entries so
# that a library listed in plugin/stub-libs.txt is replaced by a generated stub
# (plugin/make-stub.sh) and what only it needed is left out.
declare -A where=() stub=()
loader=""
while read -r name arrow path _; do
    case $arrow in
    "=>") [ -f "$path" ] || { echo "package: $name not found (ldd)" >&2; exit 1; }
        where[$name]=$path ;;
    *) case $name in /*ld-linux*) loader=$name ;; esac ;;
    esac
done < <(ldd "$dir/bin/aitag.bin")
[ -n "$loader" ] || { echo "package: no dynamic loader in ldd's output" >&2; exit 1; }
while read -r name zero _; do
    case $zero in 0:*) zero=${zero#0:} ;; *) zero="" ;; esac
    [ -n "$name" ] && stub[$name]=${zero:- }
done < <(sed 's/#.*//' "$top/plugin/stub-libs.txt")
sources=("ld-linux-x86-64.so.2"$'\t'"$loader") # name<TAB>host path, for the licences below
stubs=()
queue=("$dir/bin/aitag.bin") # and what cmake --install put in lib/aitag (ONNX Runtime)
for f in "$lib"/*; do [ -f "$f" ] && chmod u+w "$f" && strip --strip-unneeded "$f" && queue+=("$f"); done
while [ ${#queue[@]} -gt 0 ]; do
    file=${queue[0]}; queue=("${queue[@]:1}")
    for name in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ -f "$lib/$name" ] || [ "$name" = ld-linux-x86-64.so.2 ] && continue
        path=${where[$name]:-}
        [ -n "$path" ] || { echo "package: $name (needed by ${file##*/}) not in ldd's output" >&2; exit 1; }
        if [ -n "${stub[$name]:-}" ]; then
            "$top/plugin/make-stub.sh" "$path" "$lib/$name" "${stub[$name]# }"
            stubs+=("$name")
        else
            cp -L "$path" "$lib/$name"
            chmod u+w "$lib/$name"
            strip --strip-unneeded "$lib/$name"
            sources+=("$name"$'\t'"$path")
            queue+=("$lib/$name")
        fi
    done
done
cp -L "$loader" "$lib/ld-linux-x86-64.so.2"
chmod 0755 "$lib/ld-linux-x86-64.so.2"
cat >"$dir/bin/aitag" <<'SH'
#!/bin/sh
# Starts aitag.bin with the C library and every shared library it needs from ../lib/aitag,
# never the host's (the plugin runs on Alpine/musl as on glibc systems); plugin/package.sh.
case $0 in */*) bin=${0%/*} ;; *) bin=. ;; esac
dir=$(cd "$bin/.." && pwd -P) || exit 127
exec "$dir/lib/aitag/ld-linux-x86-64.so.2" --library-path "$dir/lib/aitag" --argv0 "$0" \
    "$dir/bin/aitag.bin" "$@"
SH
chmod 0755 "$dir/bin/aitag"

sed "s/@PROJECT_VERSION@/$version/" "$top/plugin/aitag.yml" >"$dir/aitag.yml"
cp "$top/plugin/aitag.js" "$top/plugin/aitag.css" "$dir/"

# Licences of everything shipped: ONNX Runtime, the model weights (from their manifests).
mkdir -p "$dir/LICENSES"
cp "$top/deps/onnxruntime/LICENSE" "$dir/LICENSES/onnxruntime.LICENSE.txt"
for l in "$top"/deps/models/*/LICENSE; do
  [ -f "$l" ] && cp "$l" "$dir/LICENSES/$(basename "$(dirname "$l")").LICENSE.txt"
done
{
  echo "Third-party components shipped in this plugin"
  echo
  echo "ONNX Runtime (lib/aitag/libonnxruntime.so.1): MIT, see onnxruntime.LICENSE.txt"
  echo
  echo "The other files in lib/aitag are Debian 12's libraries and dynamic loader, unchanged;"
  echo "the copyright file of each one's Debian package is LICENSES/debian/PACKAGE.copyright:"
  for s in "${sources[@]}"; do
    name=${s%%$'\t'*}; path=${s#*$'\t'}
    [ "$name" = libonnxruntime.so.1 ] && continue
    # dpkg knows a library by the name its package ships (/lib/... or /usr/lib/..., merged /usr).
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$(readlink -f "$path" | sed 's|^/usr||')" 2>/dev/null) ||
      { echo "package: no Debian package owns $path" >&2; exit 1; }
    pkg=${pkg%%: *}; pkg=${pkg%%:*}
    mkdir -p "$dir/LICENSES/debian"
    cp "/usr/share/doc/$pkg/copyright" "$dir/LICENSES/debian/$pkg.copyright"
    echo "- lib/aitag/$name: Debian package $pkg"
  done
  echo
  echo "Stubs generated by plugin/make-stub.sh (no code of the original library; plugin/stub-libs.txt"
  echo "says why each one is not needed):"
  for name in "${stubs[@]}"; do echo "- lib/aitag/$name: stub"; done
  echo
  echo "Model weights (share/aitag/weights), from their manifests in share/aitag/models:"
  for m in "$dir"/share/aitag/models/*.json; do
    jq -r '"- \(.name) \(.version): \(.file)\n  source: \(.package)\n  licence: \(.license)"' "$m"
  done
} >"$dir/LICENSES/README.txt"

# Smoke check: the installed binary runs from the plugin folder and finds its models, with
# every symbol of every library (stubs included) resolved at load time (LD_BIND_NOW).
if ! LD_BIND_NOW=1 "$dir/bin/aitag" models verify >"$out/verify.log" 2>&1; then
  cat "$out/verify.log" >&2
  echo "package: $dir/bin/aitag models verify failed" >&2
  exit 1
fi
rm -f "$out/verify.log"

# Zip with the files at the root (Stash installs them into plugins/<source>/aitag/), in a
# stable order and without extra attributes.
(cd "$dir" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | zip -q -9 -X -@ "$out/aitag.zip")

date=${SOURCE_DATE_EPOCH:+$(date -u -d "@$SOURCE_DATE_EPOCH" '+%F %T')}
date=${date:-$(date -u '+%F %T')}
sha=$(sha256sum "$out/aitag.zip" | cut -d' ' -f1)
description=$(sed -n 's/^description: //p' "$dir/aitag.yml" | head -n 1)
q="'"
description="'${description//$q/$q$q}'" # a YAML single-quoted scalar
cat >"$out/index.yml" <<EOF
- id: aitag
  name: aitag
  metadata:
    description: $description
  version: $version
  date: $date
  path: aitag.zip
  sha256: $sha
  requires: []
EOF
echo "plugin: $dir"
echo "plugin: $out/aitag.zip ($(du -h "$out/aitag.zip" | cut -f1), sha256 $sha)"
echo "plugin: $out/index.yml (a Stash plugin source: serve this folder, add index.yml's URL)"
