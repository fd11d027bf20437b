#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (Debian's postgresql): initdb in DIR, listening
# on 127.0.0.1 at a free port, run by an unprivileged user (the postgres account when started
# as root: initdb refuses root; folders above DIR it cannot enter get o+x), trust
# authentication for the superuser aitag.
#
#   tests/pg/server.sh start DIR     # prints the server's URL (no database), also in DIR/url
#   tests/pg/server.sh stop DIR      # stops it (fast) and removes DIR
#   tests/pg/server.sh restart DIR   # stops it (immediate: as a crash would) and starts it again
#   tests/pg/server.sh createdb DIR NAME   # prints the URL of a new, empty database NAME
# PG_LISTEN (start): the addresses to listen on, comma-separated (default 127.0.0.1); the /24
# of each is trusted (pg_hba), for workers in network namespaces (tests/integration/scale_hosts.sh).
set -euo pipefail

cmd=${1:?usage: server.sh start|stop|restart|createdb DIR [NAME]}
dir=${2:?usage: server.sh start|stop|restart|createdb DIR [NAME]}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "server.sh: PostgreSQL server not installed (scripts/setup.sh)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port below the ephemeral range, where outgoing connections (other tests' clients) take
# theirs: a port in that range can be taken between this check and the server's bind.
free_port() {
    local p low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 12000 ] 2>/dev/null || low=32768
    for _ in $(seq 50); do
        p=$((10000 + RANDOM % (low - 10000)))
        ss -Hatn "sport = :$p" | grep -q . || { echo "$p"; return; }
    done
    echo "server.sh: no free port" >&2
    return 1
}

pg_ctl_start() {
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=$(cat "$dir/listen") -p $(cat "$dir/port") -c unix_socket_directories=$dir \
            -c fsync=off -c max_connections=200" start >/dev/null
}

case $cmd in
start)
    if [ -d "$dir/data" ]; then # a server left by a run that was killed
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$dir"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        # the server's user must reach DIR: folders above it it cannot enter get o+x
        p=$(dirname "$dir")
        while [ "$p" != / ]; do
            runuser -u postgres -- test -x "$p" || chmod o+x "$p"
            p=$(dirname "$p")
        done
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U aitag --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    free_port >"$dir/port"
    echo "${PG_LISTEN:-127.0.0.1}" >"$dir/listen"
    for a in $(tr ',' ' ' <"$dir/listen"); do
        echo "host all all ${a%.*}.0/24 trust" >>"$dir/data/pg_hba.conf" # its /24: the hosts there
    done
    # another test may bind the port between the check and the start: then another port
    for try in 1 2 3; do
        pg_ctl_start && break
        if [ "$try" = 3 ] || ! grep -q "Address already in use" "$dir/server.log"; then
            cat "$dir/server.log" >&2
            exit 1
        fi
        free_port >"$dir/port"
    done
    echo "postgresql://aitag@127.0.0.1:$(cat "$dir/port")" | tee "$dir/url"
    ;;
stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    pg_ctl_start || { cat "$dir/server.log" >&2; exit 1; }
    ;;
createdb)
    name=${3:?usage: server.sh createdb DIR NAME}
    PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -q -X -v ON_ERROR_STOP=1 "$(cat "$dir/url")/postgres" \
        -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\"" >/dev/null
    echo "$(cat "$dir/url")/$name"
    ;;
*)
    echo "server.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
