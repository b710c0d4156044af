#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's `postgresql` package (no system cluster,
# no service manager: one postmaster on a temporary directory).
#
#   scripts/pg-throwaway.sh start DIR [--no-fsync]   creates DIR, starts a server there, prints its postgres:// URL
#   scripts/pg-throwaway.sh stop DIR                 stops that server and removes DIR
#   scripts/pg-throwaway.sh down DIR | up DIR        stops it, keeping its data / starts it again on the same port
#                                                    (a database outage, for the tests that need one)
#
# Trust authentication on 127.0.0.1 only, a free port, and the Unix socket inside DIR (never /var/run/postgresql).
# `initdb` refuses to run as root, so as root the server runs as the `postgres` user that the package creates and DIR
# belongs to it; otherwise it runs as the current user. --no-fsync trades crash safety for speed (tests: the server is
# thrown away anyway); benchmarks leave it out so that commits cost what they cost in production.
set -euo pipefail

usage() { echo "usage: $0 start DIR [--no-fsync] | stop DIR | down DIR | up DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
command=$1
dir=$2

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
    echo "pg-throwaway: PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; run: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "$found"
}

# Runs a server binary as the user that owns the cluster.
as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

server_options() { # port fsync
  echo "-c listen_addresses=127.0.0.1 -p $1 -k $dir -c fsync=$2 -c synchronous_commit=$2 -c full_page_writes=$2 -c max_connections=200"
}

case "$command" in
  start)
    fsync=on
    [ "${3:-}" = "--no-fsync" ] && fsync=off
    bin=$(pg_bin)
    mkdir -p "$dir"
    if [ -n "$(ls -A "$dir")" ]; then echo "pg-throwaway: $dir is not empty" >&2; exit 1; fi
    if [ "$(id -u)" = "0" ]; then
      chown postgres: "$dir"
      if ! runuser -u postgres -- test -w "$dir"; then
        echo "pg-throwaway: the postgres user cannot reach $dir (choose a directory under /tmp)" >&2
        exit 1
      fi
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # The port is free when chosen but could be taken before the server binds it: try again with another one.
    for attempt in 1 2 3; do
      port=$(free_port)
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o "$(server_options "$port" "$fsync")" >/dev/null; then
        echo "$port $fsync" >"$dir/server.conf"
        echo "postgres://postgres@127.0.0.1:$port/postgres"
        exit 0
      fi
      echo "pg-throwaway: start attempt $attempt failed" >&2
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  down)
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  up)
    read -r port fsync <"$dir/server.conf"
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o "$(server_options "$port" "$fsync")" >/dev/null
    ;;
  *) usage ;;
esac
