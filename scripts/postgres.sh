#!/usr/bin/env bash
# A throwaway PostgreSQL for the ledger tests (and local runs with JOBS_LEDGER_URL).
#
#   scripts/postgres.sh          # install if needed, init, start; last line of stdout is the URL
#   scripts/postgres.sh stop     # stop it (the data directory is kept; delete it to start afresh)
#
# Environment: PGDATA_DIR (default /tmp/sla-pg), PGPORT (default 55432), PG_BIN (a directory
# holding initdb/pg_ctl/psql; found automatically otherwise).
# Safe to run twice: an already running cluster just prints its URL again.
# Progress goes to stderr so `URL=$(scripts/postgres.sh | tail -n 1)` works.
set -euo pipefail

PGDATA_DIR="${PGDATA_DIR:-/tmp/sla-pg}"
PGPORT="${PGPORT:-55432}"
PGHOST=127.0.0.1
DBNAME=sla_test
PGUSER_OS=postgres
URL="postgresql://postgres@${PGHOST}:${PGPORT}/${DBNAME}"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }

# Each server binary must come from the same version, so look for a directory holding all of them.
find_bin() {
  local dir
  if [[ -n "${PG_BIN:-}" ]]; then
    printf '%s\n' "$PG_BIN"
    return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/psql" ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null 2>&1; then
    dir="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
    if [[ -x "$dir/initdb" && -x "$dir/psql" ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  fi
  return 1
}

# Run a command as the postgres OS user: the server refuses to run as root.
as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u "$PGUSER_OS" -- "$@"
  else
    "$@"
  fi
}

ensure_installed() {
  if PG_BIN="$(find_bin)"; then
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    log "PostgreSQL server binaries not found and not root: install the 'postgresql' package or set PG_BIN"
    exit 1
  fi
  log "installing PostgreSQL from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  if ! PG_BIN="$(find_bin)"; then
    log "PostgreSQL was installed but initdb/pg_ctl/psql were not found under /usr/lib/postgresql/*/bin"
    exit 1
  fi
}

ensure_os_user() {
  if [[ "$(id -u)" -ne 0 ]] || id "$PGUSER_OS" >/dev/null 2>&1; then
    return 0
  fi
  log "creating the $PGUSER_OS system user"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PGUSER_OS"
}

is_running() {
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

stop() {
  if ! PG_BIN="$(find_bin)"; then
    log "no PostgreSQL binaries, nothing to stop"
    return 0
  fi
  if is_running; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >&2
  else
    log "not running ($PGDATA_DIR)"
  fi
}

init_cluster() {
  if [[ -f "$PGDATA_DIR/PG_VERSION" ]]; then
    return 0
  fi
  log "initialising a throwaway cluster in $PGDATA_DIR"
  mkdir -p "$PGDATA_DIR"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "$PGUSER_OS": "$PGDATA_DIR"
  fi
  chmod 700 "$PGDATA_DIR"
  # Trust is acceptable only because the server listens on loopback and holds test data.
  as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --no-locale >&2
}

start() {
  ensure_installed
  ensure_os_user
  if is_running; then
    log "already running ($PGDATA_DIR)"
  else
    init_cluster
    log "starting on $PGHOST:$PGPORT"
    # The socket goes in the data directory: /var/run/postgresql may not exist without the package.
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=$PGHOST -p $PGPORT -k $PGDATA_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >&2; then
      log "server did not start; last lines of $PGDATA_DIR/server.log:"
      tail -n 20 "$PGDATA_DIR/server.log" >&2 || true
      exit 1
    fi
  fi
  local exists
  exists="$("$PG_BIN/psql" -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -X -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")"
  if [[ "$exists" != "1" ]]; then
    log "creating database $DBNAME"
    "$PG_BIN/psql" -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -X -q \
      -c "CREATE DATABASE $DBNAME" >&2
  fi
  printf '%s\n' "$URL"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  url) printf '%s\n' "$URL" ;;
  *)
    log "usage: $0 [start|stop|url]"
    exit 2
    ;;
esac
