#!/usr/bin/env bash
# check_deps.sh [--packages FILE] [--base FILE] [--list] BUILD_DIR - fails when the build, the tests,
# the fixtures, the demo or the benchmarks use a file or a program from a Debian package that
# neither scripts/setup.sh installs (scripts/apt-packages.txt) nor a new machine has.
#
# What counts as used:
#   - every /usr file in the compiler's dependency files (*.d, compiler_depend.make) and link
#     lines (link.txt; -lNAME through the compiler's own search) under BUILD_DIR;
#   - every /usr file CMake found (CMakeCache.txt: compilers, pkg-config libraries, protoc-c,
#     onnx.proto ...);
#   - every program in a command position of the tracked shell scripts and Makefile (tests,
#     tools/make_fixtures.sh, scripts/demo.sh, bench/*.sh, .ci/run) and of the C tests'
#     system()/popen() lines, found on the standard PATH (not /usr/local, not ~);
#   - every existing /usr file named literally in the tracked scripts and sources (fonts,
#     darknet's photos, /usr/bin/chromium ...).
# Each is mapped to its package with `dpkg -S`. What is present: the packages of the list,
# those of scripts/base-packages.txt, and the installed Essential, required and important
# packages, closed over `apt-cache depends --recurse` (Depends and PreDepends only). A package
# used but not present is named, with one file that needs it and where that file was seen.
# Exit status: 0 all present, 1 something missing, 2 usage error.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pkgs_file="$top/scripts/apt-packages.txt"
base_file="$top/scripts/base-packages.txt"
list=0
while [ $# -gt 1 ]; do # options before BUILD_DIR
    case $1 in
    --packages) pkgs_file=$2; shift 2 ;;
    --base) base_file=$2; shift 2 ;;
    --list) list=1; shift ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: check_deps.sh [--packages FILE] [--base FILE] [--list] BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" 2>/dev/null && pwd) || { echo "check_deps: $1: no such build folder" >&2; exit 2; }
for f in "$pkgs_file" "$base_file" "$build/CMakeCache.txt"; do
    [ -f "$f" ] || { echo "check_deps: $f: not found" >&2; exit 2; }
done
work=$(mktemp -d /tmp/aitag-deps-XXXXXX)
trap 'rm -rf "$work"' EXIT
std_path=/usr/sbin:/usr/bin:/sbin:/bin

# ---- what is used: "PATH<TAB>WHERE" lines in $work/used

# Dependency files and link lines.
(cd "$build" && find . \( -name '*.d' -o -name compiler_depend.make -o -name depend.make \
    -o -name link.txt \) -type f -print0 | xargs -0 -r grep -o -H '/usr/[^ :\\]*' || true) |
    sed 's|^\./\([^:]*\):\(.*\)$|\2\tbuild/\1|' >"$work/used"
(cd "$build" && find . -name link.txt -type f -print0 | xargs -0 -r grep -o -H -- ' -l[A-Za-z0-9_+.-]*' || true) |
    while IFS=: read -r where flag; do
        lib=$(cc -print-file-name="lib${flag# -l}.so")
        case $lib in /*) printf '%s\tbuild/%s (%s)\n' "$lib" "${where#./}" "${flag# }" ;; esac
    done >>"$work/used"

# What CMake found.
sed -n 's|^\([A-Za-z0-9_-]*\):[A-Z]*=\(/usr/[^;]*\)$|\2\tCMakeCache.txt \1|p' "$build/CMakeCache.txt" |
    while IFS=$'\t' read -r path where; do
        if [ -f "$path" ]; then printf '%s\t%s\n' "$path" "$where"; fi
    done >>"$work/used"

# Programs called by the scripts and the C tests.
cd "$top"
tracked() { git ls-files "$@" 2>/dev/null | grep -v '/node_modules/' || true; } # none outside git
mapfile -t scripts < <(tracked '*.sh' Makefile .ci/run 'tests/unit/*.c')
# Words in a command position, less the scripts' own functions, found on the standard PATH.
STD_PATH=$std_path perl -e '
    my (%seen, %funcs, @hits);
    my @dirs = split /:/, $ENV{STD_PATH};
    for my $f (@ARGV) {
        open(my $fh, "<", $f) or next;
        my $c = $f =~ /\.c$/;
        while (my $l = <$fh>) {
            my @segs;
            if ($c) {
                push @segs, $1 while $l =~ /(?:system|popen|execvp|execlp)\(\s*"([^"]*)/g;
                push @segs, $1 while $l =~ /snprintf\(\s*cmd\s*,[^,]*,\s*"([^"]*)/g;
            } else {
                next if $l =~ /^\s*#/;
                $funcs{$1} = 1 if $l =~ /^\s*(?:function\s+)?([\w.-]+)\s*\(\)/;
                $l =~ s/(^|\s)#.*$//;
                $l =~ s/^\s*[^\s()]+\)\s*//;    # a case label
                push @segs, $1 while $l =~ /\b(?:CC|CXX)=([a-z][\w.+-]*)/g;
                push @segs, split /\|\||&&|[|;&`{}()]|\$\(|\s-c\s+[\x27"]|\b(?:then|do|else|elif|if|while|until|exec|command\s+-v|timeout(?:\s+-\S+)*\s+\S+|xargs(?:\s+-\S+)*|env|nice|setsid|!)\s/, $l;
            }
            for my $s (@segs) {
                next unless defined $s;
                $s =~ s/^\s+//;
                $s =~ s/^(?:check_eq|check|eventually)\s+("[^"]*"|\x27[^\x27]*\x27)?\s*//;
                $s =~ s/^(?:[A-Za-z_]\w*=(?:"[^"]*"|\x27[^\x27]*\x27|\S*)\s+)+//;
                $s =~ s/^[\x27"]+//;
                next unless $s =~ /^([a-z][\w.+-]*)(?:\s|$)/;
                push @hits, [$1, $f] unless $seen{"$1\t$f"}++;
            }
        }
    }
    for my $h (@hits) {
        my ($w, $f) = @$h;
        next if $funcs{$w};
        for my $d (@dirs) {
            if (-f "$d/$w" && -x _) { print "$d/$w\t$f calls $w\n"; last; }
        }
    }' "${scripts[@]}" >>"$work/used"

# /usr files named literally in the tracked scripts and sources.
tracked '*.sh' '*.c' '*.h' '*.js' Makefile CMakeLists.txt .ci/run |
    xargs -r grep -o -H '/usr/[A-Za-z0-9_./+-]*' | sort -u |
    perl -ne 'chomp; my ($w, $p) = split /:/, $_, 2; print "$p\t$w\n" if -f $p' >>"$work/used"

sort -t $'\t' -k1,1 -u "$work/used" -o "$work/used"

# ---- which package owns each file: "PACKAGE<TAB>PATH"

# dpkg knows a file by the name its package ships: /bin/x or /usr/bin/x (merged /usr), the
# link or its target (/usr/bin/cc is an alternative). Try each spelling until one is owned.
owners() { # PATHS on stdin -> "pkg<TAB>path" for those dpkg knows
    xargs -r dpkg -S 2>/dev/null | grep -v '^diversion ' |
        sed 's|^\(.*\): \(/.*\)$|\1\t\2|' | sed 's|:[a-z0-9]*\([,\t]\)|\1|g' || true
}
cut -f1 "$work/used" >"$work/paths"
: >"$work/owned"
for variant in same unmerged real real_unmerged; do
    [ -s "$work/paths" ] || break
    while read -r p; do
        case $variant in
        same) q=$p ;;
        unmerged) q=${p#/usr} ;;
        real) q=$(readlink -f "$p") ;;
        real_unmerged) q=$(readlink -f "$p"); q=${q#/usr} ;;
        esac
        printf '%s\t%s\n' "$p" "$q"
    done <"$work/paths" >"$work/try"
    cut -f2 "$work/try" | sort -u | owners >"$work/found"
    # back to the original spelling
    awk -F'\t' 'NR == FNR { own[$2] = $1; next } ($2 in own) { print own[$2] "\t" $1 }' \
        "$work/found" "$work/try" >>"$work/owned"
    cut -f2 "$work/owned" | sort -u | comm -23 <(sort -u "$work/paths") - >"$work/left"
    mv "$work/left" "$work/paths"
done

# ---- what is present: the lists and the machine's own, closed over Depends/PreDepends

words() { sed 's/#.*//' "$1" | tr -s ' \t' '\n\n' | grep -v '^$' || true; }
{
    # As setup does: Debian's npm only when no npm works (a new machine has Node.js's own).
    if command -v npm >/dev/null 2>&1; then words "$pkgs_file" | grep -vx npm; else words "$pkgs_file"; fi
    words "$base_file"
    dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' |
        awk '$2 == "yes" || $3 == "required" || $3 == "important" { print $1 }'
} | sort -u >"$work/roots"
xargs -a "$work/roots" apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances 2>/dev/null |
    sed -e 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: //' -e 's/^ *//' -e 's/[<>]//g' -e 's/:[a-z0-9]*$//' |
    cat - "$work/roots" | sort -u >"$work/present"

# ---- verdict

if [ $list -eq 1 ]; then # every package used, with one file and where it was seen
    sort -t $'\t' -k1,1 -u "$work/owned" | while IFS=$'\t' read -r pkg path; do
        printf '%s\t%s\t%s\n' "$pkg" "$path" "$(awk -F'\t' -v p="$path" '$1 == p { print $2; exit }' "$work/used")"
    done
fi

status=0
if [ -s "$work/paths" ]; then
    while read -r p; do
        printf 'check_deps: %s (%s) belongs to no Debian package\n' "$p" \
            "$(awk -F'\t' -v p="$p" '$1 == p { print $2; exit }' "$work/used")"
    done <"$work/paths"
    status=1
fi
# A file may belong to several packages ("a, b"); one present is enough.
awk -F'\t' 'NR == FNR { ok[$1] = 1; next }
    { n = split($1, ps, ", "); good = 0; for (i = 1; i <= n; i++) if (ps[i] in ok) good = 1
      if (!good) print ps[1] "\t" $2 }' "$work/present" "$work/owned" | sort -t $'\t' -k1,1 -u >"$work/missing"
while IFS=$'\t' read -r pkg path; do
    where=$(awk -F'\t' -v p="$path" '$1 == p { print $2; exit }' "$work/used")
    printf 'check_deps: %s is used but neither setup (%s) nor a new machine installs it: %s (%s)\n' \
        "$pkg" "${pkgs_file#"$top"/}" "$path" "$where"
    status=1
done <"$work/missing"
if [ $status -eq 0 ]; then
    echo "check_deps: ok: $(wc -l <"$work/used") files and programs from" \
        "$(cut -f1 "$work/owned" | tr ',' '\n' | tr -d ' ' | sort -u | wc -l) packages, each installed by setup or on a new machine"
fi
exit $status
