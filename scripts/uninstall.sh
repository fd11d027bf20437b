#!/usr/bin/env bash
# uninstall.sh MANIFEST [DESTDIR] - `make uninstall`: removes every file that `make install`
# wrote, as listed in CMake's install manifest (BUILD/install_manifest.txt: the paths under
# PREFIX, without DESTDIR, so give the same DESTDIR as to make install), then aitag's own folders
# (share/aitag, lib/aitag) once empty. Folders shared with other software (bin, share/man/man1,
# the completion folders) are left in place.
set -euo pipefail
manifest=${1:?usage: uninstall.sh BUILD/install_manifest.txt [DESTDIR]}
destdir=${2:-}
if [ ! -f "$manifest" ]; then
    echo "uninstall: $manifest not found: nothing was installed from this build folder" >&2
    exit 1
fi
n=0
while IFS= read -r f || [ -n "$f" ]; do  # the manifest has no final newline
    [ -n "$f" ] || continue
    f=$destdir$f
    if [ -e "$f" ] || [ -L "$f" ]; then
        rm -f -- "$f"
        n=$((n + 1))
    fi
done <"$manifest"
grep -oE '^.*/(share|lib)/aitag/' "$manifest" | sort -u | while IFS= read -r d; do
    d=$destdir$d
    if [ -d "$d" ]; then find "$d" -depth -type d -empty -delete; fi
done
echo "uninstall: removed $n files listed in $manifest${destdir:+ under $destdir}"
