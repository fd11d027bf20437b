#!/usr/bin/env bash
# Bad values are refused alike from flags, environment and config file: one line on stderr
# naming the option, what is allowed and the value, exit code 2, nothing written. Unknown
# options, config keys, rules fields and commands name the nearest valid one. --no-X works
# wherever --X does.
source "$(dirname "$0")/lib.sh"
fx=$AITAG_FIXTURES_DIR
img=$(ls "$fx"/images/*.jpg | head -n 1)
video=$fx/videos/faces_text_720p_h264.mp4
db=$tmp/v.db

# usage_error DESCRIPTION PATTERN CMD...: exit 2, exactly one line on stderr matching PATTERN,
# and no catalog written.
usage_error() {
    local what=$1 pattern=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    check_eq "$what: exit code" "$rc" 2
    check_eq "$what: one line on stderr" "$(wc -l <"$tmp/err")" 1
    check "$what: message ($(head -c 200 "$tmp/err"))" grep -Eq -- "$pattern" "$tmp/err"
    check "$what: nothing written" [ ! -e "$db" ]
}

A=$AITAG_BIN
usage_error "--threshold 2" "--threshold must be a number from 0 to 1, not '2'" \
    "$A" tag --catalog "$db" --threshold 2 "$img"
usage_error "--threshold -1" "--threshold must be a number from 0 to 1, not '-1'" \
    "$A" tag --catalog "$db" --threshold -1 "$img"
usage_error "--threshold=abc" "--threshold must be a number" "$A" tag --catalog "$db" --threshold=abc "$img"
usage_error "--threads 0" "--threads must be a whole number from 1 to 256, not '0'" \
    "$A" tag --catalog "$db" --threads 0 "$img"
usage_error "--threads 999" "--threads must be a whole number from 1 to 256, not '999'" \
    "$A" tag --catalog "$db" --threads 999 "$img"
usage_error "--threads 2.5" "--threads must be a whole number" "$A" tag --catalog "$db" --threads 2.5 "$img"
usage_error "--progress sometimes" "--progress must be one of auto, always, never, json, not 'sometimes'" \
    "$A" tag --catalog "$db" --progress sometimes "$img"
usage_error "--interval 0" "--interval must be a number from 0.01 to 3600, not '0'" \
    "$A" tag --catalog "$db" --interval 0 "$img"
check "--interval 0 no longer says 'between 0 and'" sh -c "! grep -q 'between 0 and' '$tmp/err'"
usage_error "--markers=maybe" "--markers must be true or false, not 'maybe'" \
    "$A" tag --catalog "$db" --markers=maybe "$img"
usage_error "--queue 0" "--queue must be a whole number from 1 to 1024" "$A" tag --catalog "$db" --queue 0 "$img"
usage_error "--vlm-every -5" "--vlm-every must be a number from 0 to 86400" "$A" tag --catalog "$db" --vlm-every -5 "$img"
usage_error "--log-level loud" "--log-level must be one of error, warn, info, debug, not 'loud'" \
    "$A" tag --catalog "$db" --log-level loud "$img"
usage_error "--no- of a non-boolean" "unknown option --no-threads" "$A" tag --catalog "$db" --no-threads "$img"

# The same checks for the environment and the config file, naming where the value came from.
usage_error "AITAG_THREADS=0" "AITAG_THREADS: threads must be a whole number from 1 to 256, not '0'" \
    env AITAG_THREADS=0 "$A" tag --catalog "$db" "$img"
usage_error "AITAG_PROGRESS=sometimes" "AITAG_PROGRESS: progress must be one of auto, always, never" \
    env AITAG_PROGRESS=sometimes "$A" tag --catalog "$db" "$img"
mkdir -p "$XDG_CONFIG_HOME/aitag"
printf '# a comment\n\nthreshold = 1.5\n' >"$XDG_CONFIG_HOME/aitag/config"
usage_error "config threshold = 1.5" "config:3: threshold must be a number from 0 to 1, not '1.5'" \
    "$A" tag --catalog "$db" "$img"
printf 'treshold = 0.4\n' >"$XDG_CONFIG_HOME/aitag/config"
usage_error "config misspelt key" "config:1: unknown key 'treshold' \(did you mean threshold\?\)" \
    "$A" tag --catalog "$db" "$img"
rm "$XDG_CONFIG_HOME/aitag/config"

# A named config file must exist; the default one may be absent.
usage_error "AITAG_CONFIG=/nonexistent" "AITAG_CONFIG=/nonexistent: No such file or directory" \
    env AITAG_CONFIG=/nonexistent "$A" tag --catalog "$db" "$img"
printf 'threads = 1\n' >"$tmp/named.conf"
AITAG_CONFIG=$tmp/named.conf "$A" tag --catalog "$tmp/named.db" --dry-run "$img" >/dev/null 2>&1
check_eq "an existing AITAG_CONFIG is read" "$?" 0

# Unknown options and commands name the nearest valid one.
usage_error "--analyzer" "unknown option --analyzer \(did you mean --analyzers\?\)" \
    "$A" tag --catalog "$db" --analyzer faces "$img"
usage_error "--no-marker" "unknown option --no-marker \(did you mean --no-markers\?\)" \
    "$A" tag --catalog "$db" --no-marker "$img"
usage_error "-x" "unknown option -x" "$A" tag --catalog "$db" -x "$img"
usage_error "option of another command" "unknown option --any" "$A" tag --catalog "$db" --any "$img"
usage_error "unknown command" "unknown command 'tagg' \(did you mean tag\?\)" "$A" tagg "$img"
usage_error "unknown models command" "aitag models: unknown command 'verfy' \(did you mean verify\?\)" \
    "$A" models verfy
usage_error "unknown gateway command" "aitag gateway keys: unknown command 'revok' \(did you mean revoke\?\)" \
    "$A" gateway keys revok
usage_error "gateway --rpm -1" "--rpm must be a whole number from 0 to" \
    "$A" gateway keys create --db "$db" --rpm -1
usage_error "gateway --budget-period week" "--budget-period must be one of day, month, not 'week'" \
    "$A" gateway keys create --db "$db" --budget-period week

# A misspelt rules field is an error naming the field and the nearest valid one.
printf '{"tags":{"face":{"treshold":0.5}}}\n' >"$tmp/rules.json"
usage_error "rules tags.face.treshold" "rules.json: unknown field tags.face.treshold \(did you mean threshold\?\)" \
    "$A" tag --catalog "$db" --rules "$tmp/rules.json" "$img"
printf '{"defaults":{"max_gpa":3}}\n' >"$tmp/rules.json"
usage_error "rules defaults.max_gpa" "unknown field defaults.max_gpa \(did you mean max_gap\?\)" \
    "$A" tag --catalog "$db" --rules "$tmp/rules.json" "$img"
printf '{"prefx":"AI "}\n' >"$tmp/rules.json"
usage_error "rules top-level prefx" "unknown field prefx \(did you mean prefix\?\)" \
    "$A" tag --catalog "$db" --rules "$tmp/rules.json" "$img"

# --no-markers in the config file and the environment, as on the command line. One analysis,
# then each setting re-derives the stored evidence (no model runs).
mdb=$tmp/markers.db
markers() { sqlite3 "$mdb" "SELECT count(*) FROM markers"; }
"$A" tag --catalog "$mdb" --interval 1 "$video" >/dev/null 2>&1
check_eq "video tagged" "$?" 0
check "the video has markers by default" [ "$(markers)" -gt 0 ]
printf 'no-markers = true\n' >"$XDG_CONFIG_HOME/aitag/config"
"$A" tag --catalog "$mdb" --interval 1 "$video" >/dev/null 2>"$tmp/err"
check_eq "config no-markers = true accepted" "$?" 0
check_eq "config no-markers = true: no markers" "$(markers)" 0
AITAG_NO_MARKERS=false "$A" tag --catalog "$mdb" --interval 1 "$video" >/dev/null 2>&1
check_eq "AITAG_NO_MARKERS=false beats the config file" "$?" 0
check "AITAG_NO_MARKERS=false: markers again" [ "$(markers)" -gt 0 ]
"$A" tag --catalog "$mdb" --interval 1 --markers "$video" >/dev/null 2>&1
check "--markers beats config no-markers" [ "$(markers)" -gt 0 ]
printf 'markers = true\n' >"$XDG_CONFIG_HOME/aitag/config"
AITAG_NO_MARKERS=1 "$A" tag --catalog "$mdb" --interval 1 "$video" >/dev/null 2>&1
check_eq "AITAG_NO_MARKERS=1: no markers" "$(markers)" 0
"$A" tag --catalog "$mdb" --interval 1 --no-markers=false "$video" >/dev/null 2>&1
check "--no-markers=false: markers" [ "$(markers)" -gt 0 ]
printf 'no-threads = 1\n' >"$XDG_CONFIG_HOME/aitag/config"
usage_error "config no- of a non-boolean" "config:1: unknown key 'no-threads'" "$A" tag --catalog "$db" "$img"
rm "$XDG_CONFIG_HOME/aitag/config"
finish
