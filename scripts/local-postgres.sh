#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (15+, with contrib for btree_gist) on loopback
# with trust auth, for tests and benchmarks. Installs Debian's packages when
# no server is present. Prints the connection URL on the last line.
#   scripts/local-postgres.sh start [port] [datadir]
#   scripts/local-postgres.sh stop  [datadir]
set -euo pipefail
action=${1:-start}
port=${2:-55432}
datadir=${3:-${PGTEST_DATA:-/tmp/culturebridge-pg}}
if [ "$action" = "stop" ]; then datadir=${2:-${PGTEST_DATA:-/tmp/culturebridge-pg}}; fi

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
bindir=$(find_bin || true)
if [ -z "$bindir" ] || [ ! -f "/usr/share/postgresql/$(basename "$(dirname "$bindir")")/extension/btree_gist.control" ]; then
  echo "installing postgresql + postgresql-contrib" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql postgresql-contrib >&2
  bindir=$(find_bin)
fi

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$action" = "stop" ]; then
  as_pg "$bindir/pg_ctl" -D "$datadir" -m fast stop >&2 || true
  exit 0
fi

if [ ! -f "$datadir/PG_VERSION" ]; then
  mkdir -p "$datadir"
  [ "$(id -u)" = "0" ] && chown postgres "$datadir"
  as_pg "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! as_pg "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
  as_pg "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2
fi
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='culturebridge'" | grep -q 1 \
  || "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres culturebridge
echo "postgresql://postgres@127.0.0.1:$port/culturebridge"
