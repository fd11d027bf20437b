#!/usr/bin/env bash
# Shots as the catalog holds them: the sampler finds them while tagging and the catalog stores
# them with the item; `aitag show` lists them (one line), `--json` (show and tag) has them with
# their edges, and markers derived while they are stored snap to their boundaries. To show
# every edge kind, the detected shots are then replaced by the fixture's segment boundaries
# with made-up kinds, written into the catalog's shots table as a sampler would store them.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
m=$tmp/media
mkdir -p "$m"
cp "$fx/videos/faces_text_720p_h264.mp4" "$m/v.mp4"
cp "$fx/images/group_3faces.jpg" "$m/p.jpg"
db=$tmp/cat.db
tag() { "$AITAG_BIN" tag --catalog "$db" --analyzers faces "$@" "$m" >"$tmp/out" 2>"$tmp/err"; }

# faces_text_720p_h264.mp4: segments [0, 15.5) [15.5, 30.5) [30.5, 45) [45, 60), hard cuts.
tag --json
check_eq "first run: exit code" "$?" 0
check "the sampler found the fixture's cuts" json_item "$tmp/out" "$m/v.mp4" \
    '[.shots[] | [.start, .edge]] == [[0, "start"], [15.5, "cut"], [30.5, "cut"], [45, "cut"]]'
check "the face markers end and start on the cuts, not on sample times (16, 44)" \
    json_item "$tmp/out" "$m/v.mp4" \
    '[.markers[] | select(.tag == "face") | [.start, .end]] == [[0, 15.5], [45, 60]]'

id=$(sqlite3 "$db" "SELECT id FROM media WHERE path = '$m/v.mp4'")
sqlite3 "$db" "DELETE FROM shots WHERE media_id = $id;
               INSERT INTO shots VALUES($id, 0, 15.5, 'start', 1), ($id, 15.5, 30.5, 'cut', 0.9),
               ($id, 30.5, 45, 'fade', 0.8), ($id, 45, 60, 'dissolve', 0.7)"

"$AITAG_BIN" show --catalog "$db" "$m/v.mp4" >"$tmp/show" 2>"$tmp/show.err"
check_eq "show: exit code" "$?" 0
check_eq "show: the shots on one line" "$(grep '^  shots:' "$tmp/show")" \
    "  shots:  4: 0:00:00.0 start, 0:00:15.5 cut, 0:00:30.5 fade, 0:00:45.0 dissolve"
"$AITAG_BIN" show --catalog "$db" --json "$m/v.mp4" >"$tmp/show.json"
check "show --json: the shots with edges and confidence" json_item "$tmp/show.json" "$m/v.mp4" \
    '.shots == [{"start":0,"end":15.5,"edge":"start","confidence":1},
                {"start":15.5,"end":30.5,"edge":"cut","confidence":0.9},
                {"start":30.5,"end":45,"edge":"fade","confidence":0.8},
                {"start":45,"end":60,"edge":"dissolve","confidence":0.7}]'
"$AITAG_BIN" show --catalog "$db" --json "$m/p.jpg" >"$tmp/photo.json"
check "an image has no shots" json_item "$tmp/photo.json" "$m/p.jpg" '.shots == []'

# An unchanged re-run prints the stored shots; re-analysing replaces them with what the
# sampler finds again and derives the markers with them: their edges move to the boundaries.
tag --json
check "skipped item: the stored shots in its JSON" json_item "$tmp/out" "$m/v.mp4" \
    '.status == "skipped" and (.shots | length) == 4 and .shots[2].edge == "fade"'
tag --json --force
check_eq "forced run: exit code" "$?" 0
check "forced run: the shots found again replace the stored ones" json_item "$tmp/out" \
    "$m/v.mp4" '[.shots[] | .edge] == ["start", "cut", "cut", "cut"]'
check "markers snapped to the truth's boundaries (15.5 s, 45 s)" json_item "$tmp/out" "$m/v.mp4" \
    '[.markers[] | select(.tag == "face") | [.start, .end]] == [[0, 15.5], [45, 60]]'
tag --force
check "human tag output lists them too" grep -q '^  shots:  4: 0:00:00.0 start' "$tmp/out"
finish
