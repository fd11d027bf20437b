#!/usr/bin/env bash
# review_learn.sh - thresholds and context rules learned from decisions: `aitag review thresholds` fits the face
# label's threshold to accepts and rejects on the fixtures (decided by a rule on the stored
# confidence, so the fit has a clean answer), says what it would change, and changes nothing
# until `review learn`; then every derivation uses it (the items re-derive at once, and a
# forced re-analysis keeps it) until `review unlearn`.
# ctest-cost: 30
source "$(dirname "$0")/lib.sh"
A=$AITAG_BIN
F=$AITAG_FIXTURES_DIR
cat=$tmp/catalog.db
C=(--catalog "$cat")
jqe() {
    local out
    out=$(jq -e "$@") && [ -n "$out" ]
}
faces() { sqlite3 "$cat" "SELECT count(*) FROM tags WHERE name = 'face'"; }
T=(--analyzers faces --no-people --quiet --progress never "${C[@]}")

"$A" tag "${T[@]}" "$F/videos" "$F/images" 2>"$tmp/tag.err"
check_eq "tag the fixtures" "$?" 0
n_face=$(faces)
check "at least seven items with a face" test "$n_face" -ge 7

# "thresholds" with no decision: nothing to fit
check_eq "no decisions: no proposal" "$("$A" review thresholds --json "${C[@]}")" ""

# Judge all but the last two items carrying face (by path): accept those at 0.92 or more
sqlite3 "$cat" "SELECT m.path, t.confidence FROM tags t JOIN media m ON m.id = t.media_id
    WHERE t.name = 'face' ORDER BY m.path" >"$tmp/faces.txt"
head -n $((n_face - 2)) "$tmp/faces.txt" | while IFS='|' read -r path conf; do
    if awk -v c="$conf" 'BEGIN { exit !(c >= 0.92) }'; then v=accept; else v=reject; fi
    "$A" review "$v" --who tester "${C[@]}" "$path" face 2>/dev/null || echo "FAIL: review $v $path" >&2
done
n_dec=$((n_face - 2))
check_eq "decisions recorded" "$(sqlite3 "$cat" 'SELECT count(*) FROM decisions')" "$n_dec"
before=$(faces)
check "some accepted and some rejected" test "$(sqlite3 "$cat" "SELECT count(DISTINCT verdict) FROM decisions")" -eq 2

"$A" review thresholds --json --min-decisions 3 "${C[@]}" >"$tmp/fit.json"
check_eq "thresholds: exit 0" "$?" 0
check "thresholds: one proposal, for face, with every field" jqe -s '
    length == 1 and .[0].label == "face" and (.[0] | has("current") and has("proposed") and
    has("gained") and has("lost") and has("false_dropped") and has("true_dropped") and
    (.held_out | has("precision_current") and has("recall_fitted")))' "$tmp/fit.json"
check "the fit counts the decisions" jqe --argjson n "$n_dec" '.decided == $n and .accepted + .rejected == $n' "$tmp/fit.json"
check "the fit raises the threshold from 0.5 and does better on the decisions" jqe \
    '.current == 0.5 and .proposed > 0.5 and .proposed < 1 and .f1_proposed > .f1_current' "$tmp/fit.json"
check "the fit drops only rejected judged items" jqe '.true_dropped == 0 and .false_dropped == .rejected' "$tmp/fit.json"
check_eq "a fit changes nothing" "$(faces)" "$before"
check_eq "min-decisions above the count: no proposal" \
    "$("$A" review thresholds --json --min-decisions 100 "${C[@]}")" ""
"$A" review thresholds "${C[@]}" --min-decisions 3 >"$tmp/fit.txt"
check "thresholds in words: the change and the held-out numbers" \
    grep -qE '^face: 0\.50 -> 0\.[0-9]+ .*F1|held out: precision' "$tmp/fit.txt"

proposed=$(jq -r .proposed "$tmp/fit.json")
undecided_lost=$(jq -r '.lost - .false_dropped - .true_dropped' "$tmp/fit.json")
"$A" review learn --who tester "${C[@]}" face 2>"$tmp/learn.err"
check_eq "learn: exit 0" "$?" 0
check "learn: says the threshold and the items re-derived" grep -q "face: threshold .* from now on; $n_face items re-derived" "$tmp/learn.err"
check_eq "learned: stored with who and the fit shown" \
    "$(sqlite3 "$cat" "SELECT label, round(threshold, 2) = round($proposed, 2), previous, who, json_extract(fit, '$.decided') FROM learned_thresholds")" \
    "face|1|0.5|tester|$n_dec"
check_eq "learned: the items the fit said would go, went (undecided ones; decisions still hold)" \
    "$(faces)" "$((before - undecided_lost))"
after=$(faces)
"$A" tag "${T[@]}" --force "$F/videos" "$F/images" 2>"$tmp/tag.err"
check_eq "a forced re-analysis keeps the learned threshold" "$(faces)" "$after"
check "... every item's derive key has it" test "$(sqlite3 "$cat" "SELECT count(*) FROM media WHERE derive_key IS NULL")" -eq 0

"$A" review learn --who tester "${C[@]}" face 1.5 2>"$tmp/err"
check_eq "learn a threshold above 1: exit 2" "$?" 2
"$A" review learn "${C[@]}" unicorn 2>"$tmp/err"
check_eq "learn a label nobody judged: exit 2" "$?" 2
check "... named" grep -q "LABEL 'unicorn': no decisions to fit" "$tmp/err"

"$A" review unlearn "${C[@]}" face 2>"$tmp/err"
check_eq "unlearn: exit 0" "$?" 0
check_eq "unlearn: back to the rules' threshold" "$(faces)" "$before"
check_eq "unlearn: nothing learned left" "$(sqlite3 "$cat" 'SELECT count(*) FROM learned_thresholds')" 0
"$A" review unlearn "${C[@]}" face 2>"$tmp/err"
check_eq "unlearn twice: exit 2" "$?" 2
# --- context rules proposed from repeated rejections ------------------------------------------
# horse rejected on the two photos (no one in them), accepted in the video with people: the
# proposal "no horse without a face/person" explains both rejections and removes no accept
cat2=$tmp/rules.db
R2=(--catalog "$cat2")
"$A" tag --analyzers faces,objects --no-people --quiet --progress never "${R2[@]}" \
    "$F/images/horses.webp" "$F/images/sign_on_photo.jpg" "$F/videos/faces_text_720p_h264.mp4" \
    "$F/images/eagle.bmp" 2>"$tmp/tag.err"
check_eq "tag the horse fixtures" "$(sqlite3 "$cat2" "SELECT count(*) FROM tags WHERE label = 'horse'")" 3
check_eq "rules: none before any decision" "$("$A" review rules --json "${R2[@]}" --min-rejections 1)" ""
"$A" review reject "${R2[@]}" "$F/images/horses.webp" horse 2>/dev/null
"$A" review reject "${R2[@]}" "$F/images/sign_on_photo.jpg" horse 2>/dev/null
"$A" review accept "${R2[@]}" "$F/videos/faces_text_720p_h264.mp4" horse 2>/dev/null
"$A" review rules --json --min-rejections 2 "${R2[@]}" >"$tmp/rules.json"
check_eq "rules: exit 0" "$?" 0
check "rules: 'no horse without person' among the proposals, explaining both rejections" jqe -s '
    any(.[]; .label == "horse" and .context == "person" and .unless and .rejected_explained == 2
        and .accepted_removed == 0 and .library_items == 2)' "$tmp/rules.json"
check "rules: no proposal removes an accepted item" jqe -s 'all(.[]; .accepted_removed == 0)' "$tmp/rules.json"
check "rules: best first" jqe -s '[.[].rejected_explained] == ([.[].rejected_explained] | sort | reverse)' "$tmp/rules.json"
check_eq "rules: more rejections needed than there are: none" \
    "$("$A" review rules --json --min-rejections 3 "${R2[@]}")" ""
# the proposed rule does what it says on a catalog without any decision: horse goes from the two
# photos (library_items: 2) and stays in the video
jq -s '{suppress: [.[] | select(.context == "person") | .rule]}' "$tmp/rules.json" >"$tmp/context.json"
"$A" tag --analyzers faces,objects --no-people --quiet --progress never --catalog "$tmp/fresh.db" \
    --context "$tmp/context.json" "$F/images/horses.webp" "$F/images/sign_on_photo.jpg" \
    "$F/videos/faces_text_720p_h264.mp4" 2>"$tmp/tag.err"
check_eq "the proposed rule, as a context file, loads and runs" "$?" 0
check_eq "... and removes horse from exactly the items it said" \
    "$(sqlite3 "$tmp/fresh.db" "SELECT group_concat(replace(m.path, rtrim(m.path, replace(m.path, '/', '')), ''))
        FROM tags t JOIN media m ON m.id = t.media_id WHERE t.label = 'horse'")" "faces_text_720p_h264.mp4"
finish
