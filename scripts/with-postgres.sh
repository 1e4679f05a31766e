#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster on a Unix socket, then remove it.
# The command sees OVERSIGHT_TEST_PG_URL (a SQLAlchemy URL). initdb refuses to run as
# root, so as root the cluster belongs to the 'postgres' system user.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "PostgreSQL server binaries not found: run scripts/system-deps.sh" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/oversight-pg.XXXXXX)
as_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  chown postgres "$dir"
  as_pg() { runuser -u postgres -- "$@"; }
fi

cleanup() {
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
  "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off \
   -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
as_pg "$bindir/createdb" -h "$dir" -U postgres oversight_test

export OVERSIGHT_TEST_PG_URL="postgresql+psycopg://postgres@/oversight_test?host=$dir"
"$@"
