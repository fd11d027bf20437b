#!/usr/bin/env bash
# A second `aitag tag` over the same folders loads no model and changes nothing in the catalog;
# a change of rules re-derives from stored evidence, still without any model.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
db=$tmp/cat.db

"$AITAG_BIN" tag --catalog "$db" --json "$fx/videos" "$fx/images" >"$tmp/first.jsonl" 2>"$tmp/first.err"
check_eq "first run exit code" "$?" 0
n=$(wc -l <"$tmp/first.jsonl")
check "first run reports every file" [ "$n" -ge 10 ]
check_eq "first run tags everything" "$(jq -r .status "$tmp/first.jsonl" | sort -u)" "tagged"
catalog_dump "$db" >"$tmp/dump1"
sha1=$(sha256sum "$db" | cut -c1-64)

"$AITAG_BIN" tag --catalog "$db" --json --log-level info "$fx/videos" "$fx/images" >"$tmp/second.jsonl" 2>"$tmp/second.err"
check_eq "second run exit code" "$?" 0
check_eq "second run skips everything" "$(jq -r .status "$tmp/second.jsonl" | sort -u)" "skipped"
check_eq "second run loads no model" "$(grep -c 'event=load' "$tmp/second.err")" 0
catalog_dump "$db" >"$tmp/dump2"
check "catalog unchanged after second run" cmp -s "$tmp/dump1" "$tmp/dump2"
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
check_eq "no run recorded when nothing ran" "$(sqlite3 "$db" 'SELECT count(*) FROM runs')" 1
# The JSON of a skipped item equals the JSON of the run that made it (status aside).
check "skipped items report the stored results" \
    cmp -s <(jq -c 'del(.status)' "$tmp/first.jsonl") <(jq -c 'del(.status)' "$tmp/second.jsonl")

sqlite3 "$db" "SELECT * FROM evidence ORDER BY id" >"$tmp/ev1"
# New rules: markers off. Results change, evidence stays, no model loads.
mkdir -p "$XDG_CONFIG_HOME/aitag"
echo '{"defaults": {"markers": false}, "tags": {"face": {"name": "Face"}}}' >"$XDG_CONFIG_HOME/aitag/rules.json"
"$AITAG_BIN" tag --catalog "$db" --json --log-level info "$fx/videos" >"$tmp/third.jsonl" 2>"$tmp/third.err"
check_eq "re-derive run loads no model" "$(grep -c 'event=load' "$tmp/third.err")" 0
check_eq "markers gone under new rules" "$(jq '.markers | length' "$tmp/third.jsonl" | sort -u)" 0
check "renamed tag appears" grep -q '"name":"Face"' "$tmp/third.jsonl"
sqlite3 "$db" "SELECT * FROM evidence ORDER BY id" >"$tmp/ev3"
check "evidence untouched by re-derivation" cmp -s "$tmp/ev1" "$tmp/ev3"

# --force re-runs the models and yields the same results.
rm "$XDG_CONFIG_HOME/aitag/rules.json"
"$AITAG_BIN" tag --catalog "$db" --json --force --log-level info "$fx/images" >"$tmp/force.jsonl" 2>"$tmp/force.err"
check "--force loads models" grep -q 'event=load' "$tmp/force.err"
check_eq "--force re-tags" "$(jq -r .status "$tmp/force.jsonl" | sort -u)" "tagged"
check "--force gives the same image results" \
    cmp -s <(jq -c 'del(.status)' "$tmp/force.jsonl") <(grep '"kind":"image"' "$tmp/first.jsonl" | jq -c 'del(.status)')
finish
