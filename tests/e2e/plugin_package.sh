#!/usr/bin/env bash
# plugin_package.sh - what `make plugin` builds (plugin/package.sh, into a scratch folder here):
# the plugin folder with every file Stash needs, aitag.yml using only keys Stash accepts (its
# loader is strict: pkg/plugin/config.go, yaml.v2 SetStrict), a zip with the files at its root
# and no symlinks, an index.yml in Stash's plugin-source format whose sha256 matches the zip,
# and the packaged binary working from the plugin folder (models found, Stash spoken to).
source "$(dirname "$0")/lib.sh"

out="$tmp/pkg"
dir="$out/aitag"
check "package.sh succeeds" bash -c '"$1/plugin/package.sh" "$2" "$3" >"$3.log" 2>&1' _ \
    "$AITAG_SOURCE_DIR" "$AITAG_BUILD_DIR" "$out"
[ -d "$dir" ] || { cat "$out.log" >&2; finish; exit 1; }

for f in aitag.yml aitag.js aitag.css bin/aitag lib/aitag/libonnxruntime.so.1 \
    LICENSES/onnxruntime.LICENSE.txt LICENSES/README.txt; do
    check "has $f" test -f "$dir/$f"
done
check "bin/aitag is executable" test -x "$dir/bin/aitag"
check "model manifests installed" test -n "$(ls "$dir"/share/aitag/models/*.json 2>/dev/null)"
check "weights installed" test -f "$dir/share/aitag/weights/blazeface/face_detection_back_256x256_barracuda.onnx"
check "no symlinks (a zip install would turn them into text files)" test -z "$(find "$dir" -type l)"
check "the runtime path is relative to the binary" \
    bash -c 'readelf -d "$1" | grep -q "\$ORIGIN/../lib/aitag"' _ "$dir/bin/aitag"
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

finish
