#!/usr/bin/env bash
# gen_cli_docs.sh [AITAG_BIN] - rewrites docs/cli.md's reference section (between the BEGIN and
# END markers) from `aitag help --markdown`, i.e. from the option and command tables in
# src/options/table.c. tests/integration/help.sh fails when the committed file differs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/build/aitag}
doc=$top/docs/cli.md
gen=$(mktemp)
trap 'rm -f "$gen" "$gen.md"' EXIT
"$bin" help --markdown >"$gen"
awk -v gen="$gen" '
    /^<!-- BEGIN aitag help --markdown/ { print; while ((getline l < gen) > 0) print l; skip = 1; next }
    /^<!-- END aitag help --markdown/ { skip = 0 }
    !skip' "$doc" >"$gen.md"
grep -q '^<!-- END aitag help --markdown' "$gen.md" || { echo "gen_cli_docs: markers missing in $doc" >&2; exit 1; }
mv "$gen.md" "$doc"
echo "gen_cli_docs: $doc updated"
