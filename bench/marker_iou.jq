# marker_iou.jq - temporal IoU of two `aitag tag --json` lines' markers, per tag: the total
# overlap of the two runs' markers of a tag over the length of their union. Run with
# `jq -s -r -f bench/marker_iou.jq A.json B.json`; prints "tag=iou" pairs (3 decimals).
def len: map(.end - .start) | add // 0;
def by_tag: group_by(.tag) | map({key: .[0].tag, value: .}) | from_entries;
(.[0].markers | by_tag) as $a |
(.[1].markers | by_tag) as $b |
[($a + $b) | keys[] | . as $t | ($a[$t] // []) as $x | ($b[$t] // []) as $y |
 ([$x[] as $p | $y[] as $q | ([$p.end, $q.end] | min) - ([$p.start, $q.start] | max)
   | select(. > 0)] | add // 0) as $i |
 "\($t)=\($i / (($x | len) + ($y | len) - $i) * 1000 | floor / 1000)"] | join(" ")
