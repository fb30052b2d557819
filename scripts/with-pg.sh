#!/usr/bin/env bash
# scripts/with-pg.sh CMD...
# Runs CMD against a throwaway PostgreSQL server: initialised in a temp dir, listening only on
# 127.0.0.1 at a free port, trust auth, durability off (it is thrown away), always stopped and
# deleted afterwards, whatever CMD does. CMD's exit code is passed through.
# TEST_DATABASE_URL (read by tests/conftest.py) and DATABASE_URL (read by the app) both point at it.
# Installs postgresql with apt when no server binaries exist (needs root). Never touches the
# system's own clusters.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

find_pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

PGBIN=$(find_pgbin || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "with-pg: PostgreSQL server binaries not found; as root run: apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "with-pg: installing postgresql (apt)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 postgresql >/dev/null
  PGBIN=$(find_pgbin)
fi

# initdb and postgres refuse to run as root: run them as the postgres user when we are root.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "with-pg: no 'postgres' system user" >&2; exit 1; }
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

PGTMP=$(mktemp -d -t qq-pg.XXXXXX)
cleanup() {
  local rc=$?
  if [ -f "$PGTMP/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PGTMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ "$(id -u)" = 0 ] && chown postgres: "$PGTMP"
chmod 700 "$PGTMP"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_pg "$PGBIN/initdb" -D "$PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$PGTMP/initdb.log" 2>&1 \
  || { cat "$PGTMP/initdb.log" >&2; exit 1; }

# A free port can be taken between the check and the start: try a few.
started=""
for _attempt in 1 2 3 4 5; do
  PORT=$(free_port)
  if as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 30 -o \
      "-p $PORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
      start >/dev/null 2>&1; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  echo "with-pg: PostgreSQL did not start; its log:" >&2
  cat "$PGTMP/server.log" >&2 || true
  exit 1
fi

as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres queqiao_test
export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/queqiao_test"
export DATABASE_URL="$TEST_DATABASE_URL"
echo "with-pg: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2

# Not exec: the trap must stop the server after the command.
set +e
"$@"
rc=$?
set -e
exit "$rc"
