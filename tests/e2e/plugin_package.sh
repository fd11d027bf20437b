#!/usr/bin/env bash
# plugin_package.sh - what `make plugin` builds (plugin/package.sh, into a scratch folder here):
# the plugin folder with every file Stash needs, aitag.yml using only keys Stash accepts (its
# loader is strict: pkg/plugin/config.go, yaml.v2 SetStrict), a zip with the files at its root
# and no symlinks, an index.yml in Stash's plugin-source format whose sha256 matches the zip,
# and the packaged binary working from the plugin folder (models found, Stash spoken to).
# Self-contained: bin/aitag is a sh wrapper starting bin/aitag.bin through the bundled glibc
# loader with every library from lib/aitag; in a chroot holding nothing but the plugin folder
# (unzipped) and a static busybox, as in Stash's Alpine image, it tags a scene of the Stash
# double. The chroot needs root (CI runs as root) or an unprivileged user namespace.
# ctest-label: slow
# ctest-cost: 193
source "$(dirname "$0")/lib.sh"

out="$tmp/pkg"
dir="$out/aitag"
check "package.sh succeeds" bash -c '"$1/plugin/package.sh" "$2" "$3" >"$3.log" 2>&1' _ \
    "$AITAG_SOURCE_DIR" "$AITAG_BUILD_DIR" "$out"
[ -d "$dir" ] || { cat "$out.log" >&2; finish; exit 1; }

for f in aitag.yml aitag.js aitag.css bin/aitag bin/aitag.bin lib/aitag/libonnxruntime.so.1 \
    lib/aitag/ld-linux-x86-64.so.2 lib/aitag/libc.so.6 lib/aitag/libstdc++.so.6 \
    lib/aitag/libavcodec.so.59 LICENSES/onnxruntime.LICENSE.txt LICENSES/README.txt \
    LICENSES/debian/libc6.copyright LICENSES/debian/libavcodec59.copyright; do
    check "has $f" test -f "$dir/$f"
done
check "bin/aitag is executable" test -x "$dir/bin/aitag"
check "model manifests installed" test -n "$(ls "$dir"/share/aitag/models/*.json 2>/dev/null)"
check "weights installed" test -f "$dir/share/aitag/weights/blazeface/face_detection_back_256x256_barracuda.onnx"
check "no symlinks (a zip install would turn them into text files)" test -z "$(find "$dir" -type l)"
check "the runtime path is relative to the binary" \
    bash -c 'readelf -d "$1" | grep -q "\$ORIGIN/../lib/aitag"' _ "$dir/bin/aitag.bin"
check "bin/aitag is a POSIX sh wrapper" grep -qx '#!/bin/sh' <(head -n 1 "$dir/bin/aitag")
check "bin/aitag.bin is stripped" bash -c '! readelf -S "$1" | grep -q "\.debug_info\|\.symtab"' _ "$dir/bin/aitag.bin"
# Every library the program needs resolves inside lib/aitag, through the bundled loader.
"$dir/lib/aitag/ld-linux-x86-64.so.2" --library-path "$dir/lib/aitag" --list "$dir/bin/aitag.bin" \
    >"$tmp/ldlist" 2>&1
check "the bundled loader resolves every library" bash -c '! grep -q "not found" "$1"' _ "$tmp/ldlist"
check_eq "no library from outside lib/aitag" \
    "$(grep '=>' "$tmp/ldlist" | grep -v "=> $dir/lib/aitag/" | grep -v 'linux-vdso')" ""
check "every licence of a bundled library is listed" bash -c \
    'for f in "$1"/lib/aitag/*; do grep -q "lib/aitag/${f##*/}" "$1/LICENSES/README.txt" || { echo "${f##*/}"; exit 1; }; done' \
    _ "$dir"
check "the packaged binary verifies its models from the plugin folder" \
    bash -c 'cd / && "$1" models verify >/dev/null' _ "$dir/bin/aitag"
check "version filled in" grep -q "^version: \"$("$AITAG_BIN" --version | cut -d' ' -f2)\"$" "$dir/aitag.yml"
check "every model's licence is listed" bash -c \
    'for m in "$1"/share/aitag/models/*.json; do grep -q "$(jq -r .name "$m")" "$2" || exit 1; done' _ \
    "$dir" "$dir/LICENSES/README.txt"

# ---- aitag.yml: only the keys pkg/plugin/config.go knows, with valid values

if python3 -c 'import yaml' 2>/dev/null; then
    check "aitag.yml: only keys Stash accepts" python3 - "$dir/aitag.yml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
top = {"name", "description", "url", "version", "interface", "exec", "errLog", "tasks", "hooks", "ui", "settings"}
op = {"name", "description", "execArgs", "defaultArgs"}
bad = [k for k in doc if k not in top]
bad += ["tasks." + k for t in doc.get("tasks", []) for k in t if k not in op]
bad += ["hooks." + k for h in doc.get("hooks", []) for k in h if k not in op | {"triggeredBy"}]
bad += ["ui." + k for k in doc.get("ui", {}) if k not in {"requires", "csp", "javascript", "css", "assets"}]
bad += ["settings.%s.%s" % (n, k) for n, s in doc.get("settings", {}).items() for k in s
        if k not in {"type", "displayName", "description"}]
bad += ["settings.%s.type" % n for n, s in doc.get("settings", {}).items()
        if s.get("type", "STRING") not in ("STRING", "NUMBER", "BOOLEAN")]
bad += ["interface"] if doc.get("interface", "raw") not in ("raw", "rpc", "js") else []
bad += ["errLog"] if doc.get("errLog", "error") not in ("none", "trace", "debug", "info", "warning", "error") else []
hooks = {"%s.%s.Post" % (o, op_) for o in ("Scene", "SceneMarker", "Image", "Gallery", "GalleryChapter",
         "Movie", "Group", "Performer", "Studio", "Tag") for op_ in ("Create", "Update", "Destroy", "Merge")}
bad += ["hooks.triggeredBy." + t for h in doc.get("hooks", []) for t in h.get("triggeredBy", []) if t not in hooks]
bad += ["defaultArgs values must be strings"] if any(not isinstance(v, str)
        for o in doc.get("tasks", []) + doc.get("hooks", []) for v in (o.get("defaultArgs") or {}).values()) else []
if bad:
    print("not accepted by Stash:", bad)
    sys.exit(1)
PY
else
    echo "plugin_package: python3-yaml not installed; checking top-level keys only" >&2
    check "aitag.yml: top-level keys Stash accepts" bash -c \
        '! grep -E "^[A-Za-z]" "$1" | cut -d: -f1 | grep -vxE "name|description|url|version|interface|exec|errLog|tasks|hooks|ui|settings"' \
        _ "$dir/aitag.yml"
fi
check_eq "exec: the binary relative to the plugin folder" \
    "$(sed -n '/^exec:/,/^[a-z]/p' "$dir/aitag.yml" | grep '^  - ' | tr -d ' -' | paste -sd,)" "bin/aitag,plugin"
check "ui files named in aitag.yml exist" bash -c \
    'grep -A4 "^ui:" "$1/aitag.yml" | sed -n "s/^ *- //p" | while read -r f; do test -f "$1/$f" || exit 1; done' _ "$dir"
for m in queue untagged_scenes untagged_images retag_all hook; do
    check "a task or hook runs mode $m" grep -q "mode: $m$" "$dir/aitag.yml"
done

# ---- the zip and the index

check "zip exists" test -s "$out/aitag.zip"
check "zip: aitag.yml at the root" bash -c 'zip -sf "$1" | grep -qx "  aitag.yml"' _ "$out/aitag.zip"
check "zip: the binary inside" bash -c 'zip -sf "$1" | grep -qx "  bin/aitag"' _ "$out/aitag.zip"
check_eq "zip: as many files as the folder" \
    "$(zip -sf "$out/aitag.zip" | grep -c '^  ')" "$(find "$dir" -type f | wc -l)"
if command -v unzip >/dev/null; then
    mkdir -p "$tmp/unz" && (cd "$tmp/unz" && unzip -q "$out/aitag.zip")
    check "zip: the binary keeps its executable bit" test -x "$tmp/unz/bin/aitag"
fi
check_eq "index: sha256 of the zip" "$(sed -n 's/^  sha256: //p' "$out/index.yml")" \
    "$(sha256sum "$out/aitag.zip" | cut -d' ' -f1)"
check "index: Stash's fields" bash -c 'for k in "- id: aitag" "  name: aitag" "  version: " "  date: " "  path: aitag.zip" "  sha256: " "  metadata:"; do grep -q "^$k" "$1" || exit 1; done' _ "$out/index.yml"
check "index: date in Stash's format" grep -qE '^  date: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' "$out/index.yml"

# ---- the UI's one GraphQL document is the one listed in src/stash/documents.c
ui_doc=$(node -e 'const s = require("fs").readFileSync(process.argv[1], "utf8");
  const m = s.match(/const RUN_TASK =([^;]*);/); console.log(eval(m[1]));' "$dir/aitag.js")
c_doc=$(sed -n '/stash_doc_ui_run_task =/,/;$/p' "$AITAG_SOURCE_DIR/src/stash/documents.c" |
    grep -o '"[^"]*"' | sed 's/^"//; s/"$//' | tr -d '\n')
check_eq "UI document equals the one in documents.c" "$ui_doc" "$c_doc"

# ---- the packaged binary, run as Stash runs it (exec from aitag.yml, plugin folder as PluginDir)

double_start || exit 1
double_seed '{"scenes": [{"path": "/x/a.mp4"}]}'
PLUGIN_EXEC=("$dir/bin/aitag" plugin)
check "packaged plugin: hook run exits 0" run_plugin '{"mode": "hook", "hookContext": {"id": 1, "type": "Scene.Create.Post"}}'
check_eq "packaged plugin: the scene is queued" "$(double_state | jq -c '.scenes[0].tags')" '["AI_TagMe"]'

# ---- stubs (plugin/stub-libs.txt): what FFmpeg links only for encoders, network protocols,
# hardware and formats aitag does not tag is a generated stub; every symbol resolves at load
# time; a stub that is called aborts naming its library; every kept format decodes.

check "the stubs are listed in LICENSES/README.txt" grep -q '^- lib/aitag/libx265.so.199: stub$' "$dir/LICENSES/README.txt"
check "libx265 is a stub (no code of the original: under 1 MiB)" \
    test "$(stat -c %s "$dir/lib/aitag/libx265.so.199")" -lt 1048576
check "a stub needs no library" bash -c '! readelf -d "$1" | grep -q NEEDED' _ "$dir/lib/aitag/libxml2.so.2"
check "what only stubs needed is left out (ICU, from libxml2)" test ! -e "$dir/lib/aitag/libicudata.so.72"
check "libdav1d (AV1) is the real library" bash -c 'readelf -d "$1" | grep -q NEEDED' _ "$dir/lib/aitag/libdav1d.so.6"
check "bundled libraries are stripped" bash -c \
    'for f in "$1"/lib/aitag/*.so*; do ! readelf -S "$f" | grep -q "\.debug_info\|\.symtab" || { echo "${f##*/}"; exit 1; }; done' _ "$dir"
check "every symbol resolves at load time (LD_BIND_NOW)" \
    bash -c 'LD_BIND_NOW=1 "$1" --version >/dev/null' _ "$dir/bin/aitag"
# A called stub: load libxml2's stub with the bundled loader and call one of its functions.
cat >"$tmp/callstub.c" <<'C'
#include <dlfcn.h>
int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW);
    void (*f)(void) = h ? (void (*)(void))dlsym(h, "xmlInitParser") : 0;
    if (f) f();
    return argc > 5 ? 0 : 3;
}
C
if cc -o "$tmp/callstub" "$tmp/callstub.c" -ldl 2>/dev/null; then
    "$dir/lib/aitag/ld-linux-x86-64.so.2" --library-path "$dir/lib/aitag" "$tmp/callstub" \
        "$dir/lib/aitag/libxml2.so.2" 2>"$tmp/callstub.err"
    rc=$?
    check_eq "a called stub aborts (SIGABRT)" "$rc" 134
    check "a called stub names its library and the function" grep -qx \
        'aitag: libxml2.so.2 is not bundled in this plugin (xmlInitParser called)' "$tmp/callstub.err"
fi

# Every kept format family: the fixtures (H.264, HEVC, VP9, MJPEG; JPEG, PNG, WebP, GIF, BMP,
# TIFF) and clips made here from a fixture's first seconds: AV1 (libdav1d), MPEG-4 Part 2,
# MPEG-2, VP8, with AAC, MP3, Opus, Vorbis and FLAC sound in MP4, MOV, AVI, TS, WebM and MKV.
# The packaged binary (its loader, its libraries, LD_BIND_NOW) gives the build tree's tags.
media="$tmp/media"
mkdir -p "$media"
cp "$AITAG_FIXTURES_DIR"/videos/* "$AITAG_FIXTURES_DIR"/images/* "$media/"
src="$AITAG_FIXTURES_DIR/videos/faces_1080p_h264.mp4"
mk() { ffmpeg -v error -y -t 3 -i "$src" -f lavfi -t 3 -i sine=frequency=440 -map 0:v -map 1:a \
    -vf scale=480:-2 "$@" </dev/null; }
mk -c:v libaom-av1 -cpu-used 8 -crf 40 -c:a aac "$media/av1_aac.mp4" &&
    mk -c:v mpeg4 -q:v 5 -c:a libmp3lame "$media/mpeg4_mp3.avi" &&
    mk -c:v mpeg2video -q:v 5 -c:a mp2 "$media/mpeg2_mp2.ts" &&
    mk -c:v libvpx -b:v 500k -c:a libvorbis "$media/vp8_vorbis.webm" &&
    mk -c:v mpeg4 -q:v 5 -c:a libopus "$media/mpeg4_opus.mkv" &&
    mk -c:v mpeg4 -q:v 5 -c:a flac "$media/mpeg4_flac.mkv" &&
    mk -c:v mpeg4 -q:v 5 -c:a aac "$media/mpeg4_aac.mov"
check "sample clips made with ffmpeg" test -s "$media/mpeg4_aac.mov"
# Faces (ONNX Runtime through the bundled libraries) every 10 s: what is checked is that each
# file decodes and the two binaries agree, not the analyzers (tests elsewhere).
"$AITAG_BIN" tag --catalog "$tmp/build.db" --json --analyzers faces --interval 10 "$media" \
    >"$tmp/build.jsonl" 2>"$tmp/build.err"
LD_BIND_NOW=1 "$dir/bin/aitag" tag --catalog "$tmp/pkg.db" --json --analyzers faces --interval 10 \
    "$media" >"$tmp/pkg.jsonl" 2>"$tmp/pkg.err"
check "packaged binary: no stub was called" bash -c '! grep -q "is not bundled in this plugin" "$1"' _ "$tmp/pkg.err"
tags_of() { jq -r '"\(.path | split("/") | last) \(.status) \([.tags[]? | .name // .] | sort | join(","))"' "$1" | sort; }
check_eq "packaged binary: every file's tags as the build tree's" "$(tags_of "$tmp/pkg.jsonl")" "$(tags_of "$tmp/build.jsonl")"
for f in "$media"/*; do
    n=${f##*/}
    check "packaged binary: $n decoded and tagged" bash -c 'grep "$1" "$2" | jq -e ".status == \"tagged\"" >/dev/null' _ "\"${n//./\\.}\"" "$tmp/pkg.jsonl"
done

# ---- the zip's contents alone, as in Stash's Alpine image: a chroot with the plugin folder and
# a static busybox (/bin/sh), no C library, no /proc; the media at the path Stash reports.

busybox=$(command -v busybox || echo /bin/busybox)
chroot_cmd=()
if [ "$(id -u)" = 0 ]; then
    chroot_cmd=("$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v chroot)")
elif unshare -r true 2>/dev/null; then
    chroot_cmd=(unshare -r "$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v chroot)")
fi
check "a static busybox (Debian busybox-static, scripts/apt-packages.txt)" \
    bash -c 'test -x "$1" && ! ldd "$1" >/dev/null 2>&1' _ "$busybox"
check "chroot is possible (root, or an unprivileged user namespace)" test ${#chroot_cmd[@]} -gt 0
root="$tmp/root"
mkdir -p "$root/bin" "$root/plugins/aitag" "$root/media" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
(cd "$root/plugins/aitag" && unzip -q "$out/aitag.zip")
cp "$AITAG_FIXTURES_DIR/videos/faces_720p_hevc.mkv" "$root/media/"
check_eq "the chroot holds only busybox, the plugin and the media" \
    "$(cd "$root" && find . -type f ! -path './plugins/aitag/*' | sort | paste -sd ' ')" \
    "./bin/busybox ./media/faces_720p_hevc.mkv"
check "no C library outside the plugin folder" test -z "$(find "$root" -name 'libc.so*' ! -path "$root/plugins/aitag/*")"
# The sanitizer build (make test-asan) cannot run without /proc: its runtime reads even
# ASAN_OPTIONS from /proc/self/environ, and LeakSanitizer stops the process through
# /proc/PID/task. That build skips the chroot run; `make test` runs it.
sanitized=""
ldd "$AITAG_BIN" 2>/dev/null | grep -q 'libasan' && sanitized=1
[ -n "$sanitized" ] && echo "skip: the chroot run (sanitizer build: it needs /proc)"
if [ ${#chroot_cmd[@]} -gt 0 ] && [ -z "$sanitized" ]; then
    double_seed '{"tags": [{"name": "AI"}, {"name": "AI_TagMe", "parents": ["AI"]}],
      "scenes": [{"path": "/media/faces_720p_hevc.mkv", "tags": ["AI_TagMe"]}],
      "plugins": {"aitag": {"analyzers": "faces"}}}'
    PLUGIN_DIR=/plugins/aitag
    PLUGIN_EXEC=(env -i PATH=/bin HOME=/tmp "${chroot_cmd[@]}" "$root" /plugins/aitag/bin/aitag plugin)
    check "chroot: the queue run exits 0" run_plugin '{"mode": "queue"}'
    [ "$failed" -eq 0 ] || { echo "--- plugin stderr:" >&2; tail -n 20 "$tmp/plugin.err" >&2; }
    tags=$(double_state | jq -c '.scenes[0].tags')
    check "chroot: the scene is tagged (AI_Tagged and a face tag): $tags" \
        jq -e 'index("AI_Tagged") != null and index("AI_TagMe") == null and any(.[]; test("face"))' <<<"$tags"
    check "chroot: markers written" jq -e '.scenes[0].markers | length > 0' <(double_state)
    check "chroot: the catalog is in the plugin folder" test -s "$root/plugins/aitag/data/catalog.db"
fi

finish
