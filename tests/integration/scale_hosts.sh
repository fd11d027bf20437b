#!/usr/bin/env bash
# scale_hosts.sh - workers on separate hosts: two network namespaces, each with its own
# address and its own mount of the library (a different path: --path-map), reach the
# PostgreSQL catalog over a virtual link, as machines on a LAN would. The catalog they leave
# names every item by its library path and equals one machine's `aitag tag`. Then one host is
# cut off the network mid-item: its lease runs out, the other host finishes its job, and when
# the cut-off host is back its late finish changes nothing (the job is the other's now).
# ctest-label: slow
source "$(dirname "$0")/lib.sh"
A=$AITAG_BIN
F=$AITAG_FIXTURES_DIR
PG=$AITAG_SOURCE_DIR/tests/pg/server.sh
PSQL=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
jqq() { jq -e "$@" >/dev/null; }
if [ "$(id -u)" != 0 ] || ! ip netns add "aitag$$-probe" 2>/dev/null; then
    echo "SKIP: network namespaces need root (CAP_NET_ADMIN)" >&2
    echo "0 passed, 0 failed"
    exit 0
fi
ip netns del "aitag$$-probe"

hosts=(h1 h2)
net=10.$((200 + $$ % 50))
cleanup() {
    kill -9 $(jobs -p) 2>/dev/null
    for h in "${hosts[@]}"; do ip netns del "aitag$$$h" 2>/dev/null; done
    bash "$PG" stop "$tmp/pg"
    rm -rf "$tmp"
}
trap cleanup EXIT
# host N: namespace aitag<pid>hN, its end of a veth pair at $net.N.2, ours at $net.N.1
for i in 1 2; do
    ns=aitag$$h$i
    ip netns add "$ns"
    ip link add "at$$h$i" type veth peer name eth0 netns "$ns"
    ip addr add "$net.$i.1/24" dev "at$$h$i"
    ip link set "at$$h$i" up
    ip netns exec "$ns" ip addr add "$net.$i.2/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
done
PG_LISTEN="127.0.0.1,$net.1.1,$net.2.1" bash "$PG" start "$tmp/pg" >/dev/null ||
    { echo "FAIL: start PostgreSQL" >&2; exit 1; }
port=$(cat "$tmp/pg/port")
url=$(bash "$PG" createdb "$tmp/pg" hosts)
host_url() { echo "postgresql://aitag@$net.$1.1:$port/hosts"; } # host N's way to the catalog

lib=$tmp/library
mkdir -p "$lib"
cp "$F"/images/*.jpg "$F"/images/*.png "$F/videos/text_720p_vp9.webm" \
    "$F/videos/rotated_720p_h264.mp4" "$lib/"
ln -s "$lib" "$tmp/mnt-h1" # each host mounts the library elsewhere
ln -s "$lib" "$tmp/mnt-h2"
T=(--analyzers faces,objects,text --no-people --threads 1)
"$A" tag --quiet --progress never "${T[@]}" --catalog "$tmp/one.db" "$lib" 2>/dev/null
"$A" show --json --catalog "$tmp/one.db" "$lib"/* >"$tmp/one.json"

check "host 1 reaches the catalog over its link" \
    ip netns exec "aitag$$h1" "$A" jobs --catalog "$(host_url 1)" >/dev/null
"$A" enqueue --catalog "$url" "$lib" 2>/dev/null
for i in 1 2; do
    ip netns exec "aitag$$h$i" timeout 300 "$A" worker --drain --lease 5 "${T[@]}" --json \
        --worker-name "host$i" --path-map "$lib=>$tmp/mnt-h$i" --catalog "$(host_url "$i")" \
        >"$tmp/h$i.out" 2>"$tmp/h$i.err" &
done
wait
"$A" jobs --json --catalog "$url" >"$tmp/jobs.json"
n=$(ls "$lib" | wc -l)
check "two hosts: every job done" jqq ".done == $n and .running == 0 and .dead == 0" \
    "$tmp/jobs.json"
check "two hosts: both worked" jqq '[.workers[] | .done > 0] | all and length == 2' \
    "$tmp/jobs.json"
"$A" show --json --catalog "$url" "$lib"/* >"$tmp/hosts.json"
check "two hosts: the catalog equals one machine's (library paths, same results)" \
    cmp -s "$tmp/one.json" "$tmp/hosts.json"
check_eq "no mount path in the catalog" \
    "$("$PSQL" -X -At "$url" -c "SELECT count(*) FROM media WHERE path LIKE '%mnt-h%'")" 0

# --- a host cut off mid-item ---
u2=$(bash "$PG" createdb "$tmp/pg" cut)
host2() { echo "postgresql://aitag@$net.$1.1:$port/cut"; }
"$A" enqueue --catalog "$u2" "$lib/text_720p_vp9.webm" 2>/dev/null
ip netns exec "aitag$$h1" "$A" worker --lease 5 "${T[@]}" --json --worker-name cut \
    --path-map "$lib=>$tmp/mnt-h1" --catalog "$(host2 1)" >"$tmp/cut.out" 2>"$tmp/cut.err" &
cut=$!
for _ in $(seq 300); do
    "$A" jobs --json --catalog "$u2" | jq -e '.running == 1' >/dev/null && break
    sleep 0.1
done
ip netns exec "aitag$$h1" ip link set eth0 down # the cable pulled
ip netns exec "aitag$$h2" timeout 300 "$A" worker --drain --lease 5 "${T[@]}" --json \
    --worker-name other --path-map "$lib=>$tmp/mnt-h2" --catalog "$(host2 2)" \
    >"$tmp/other.out" 2>"$tmp/other.err"
check "the other host took the cut-off host's job over" jqq -s \
    'length == 1 and .[0].status == "done" and .[0].attempt == 2' "$tmp/other.out"
ip netns exec "aitag$$h1" ip link set eth0 up # back: its late finish must change nothing
sleep 8
kill -TERM "$cut" 2>/dev/null
sleep 2
kill -9 "$cut" 2>/dev/null # still waiting on a dead connection's retransmits: gone anyway
wait "$cut" 2>/dev/null
"$A" jobs --json --catalog "$u2" >"$tmp/jobs2.json"
check "the job stays the other host's, done once" jqq \
    '.done == 1 and .running == 0 and .dead == 0 and
     (.workers[] | select(.name == "other") | .done == 1)' "$tmp/jobs2.json"
check_eq "one item, its evidence once" \
    "$("$PSQL" -X -At "$u2" -c "SELECT count(*) FROM media")" 1
check_eq "... as one machine stores it" \
    "$("$PSQL" -X -At "$u2" -c "SELECT count(*) FROM evidence")" \
    "$(sqlite3 "$tmp/one.db" "SELECT count(*) FROM evidence e JOIN media m ON m.id = e.media_id WHERE m.path LIKE '%text_720p_vp9.webm'")"
finish
