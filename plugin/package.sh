#!/usr/bin/env bash
# package.sh BUILD_DIR [OUT_DIR] - builds the Stash plugin from a configured, built tree
# (`make plugin`); OUT_DIR defaults to BUILD_DIR/plugin:
#   OUT_DIR/aitag/      the plugin folder (copy it into Stash's plugins folder)
#   OUT_DIR/aitag.zip   the same folder zipped, files at the zip's root
#   OUT_DIR/index.yml   a Stash plugin source index listing aitag.zip
# The folder holds bin/aitag, lib/aitag/libonnxruntime.so.1, share/aitag/{models,weights},
# aitag.yml (version filled in), aitag.js, aitag.css and LICENSES/. Stash writes a package's
# files from the zip as they are (no symlinks survive), so every file here is a real file.
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
  echo "Model weights (share/aitag/weights), from their manifests in share/aitag/models:"
  for m in "$dir"/share/aitag/models/*.json; do
    jq -r '"- \(.name) \(.version): \(.file)\n  source: \(.package)\n  licence: \(.license)"' "$m"
  done
} >"$dir/LICENSES/README.txt"

# Smoke check: the installed binary runs from the plugin folder and finds its models.
if ! "$dir/bin/aitag" models verify >"$out/verify.log" 2>&1; then
  cat "$out/verify.log" >&2
  echo "package: $dir/bin/aitag models verify failed" >&2
  exit 1
fi
rm -f "$out/verify.log"

# Zip with the files at the root (Stash installs them into plugins/<source>/aitag/), in a
# stable order and without extra attributes.
(cd "$dir" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | zip -q -X -@ "$out/aitag.zip")

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
