#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 for development and CI, makes sure the role
# and database the tests use exist, and prints the URL to export:
#
#   eval "$(scripts/postgres.sh)"
#
# Everything but the final `export` line goes to stderr so `eval` sees only it.
# Idempotent: running it again on a started server changes nothing.
set -euo pipefail

VERSION=15
CLUSTER=main
ROLE=linked
PASSWORD=linked
DATABASE=linked_accounts
HOST=127.0.0.1
PORT=5432
WAIT_SECONDS=${PG_WAIT_SECONDS:-30}

say() { echo "postgres.sh: $*" >&2; }

as_postgres() {
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -c "$(printf '%q ' "$@")"; fi
}

if ! pg_isready -q -h "$HOST" -p "$PORT"; then
  say "starting cluster $VERSION/$CLUSTER"
  # Outside systemd (containers, CI) pg_ctlcluster would try to redirect to systemctl.
  pg_ctlcluster "$VERSION" "$CLUSTER" start --skip-systemctl-redirect >&2 \
    || pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

waited=0
until pg_isready -q -h "$HOST" -p "$PORT"; do
  if [ "$waited" -ge "$WAIT_SECONDS" ]; then
    say "PostgreSQL on $HOST:$PORT did not accept connections within ${WAIT_SECONDS}s"
    pg_isready -h "$HOST" -p "$PORT" >&2 || true
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
say "accepting connections on $HOST:$PORT"

# The role gets a password because TCP connections ask for one.
as_postgres psql -v ON_ERROR_STOP=1 -q -d postgres >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
  END IF;
END
\$\$;
SQL

if [ "$(as_postgres psql -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  say "creating database $DATABASE"
  as_postgres psql -v ON_ERROR_STOP=1 -q -d postgres -c "CREATE DATABASE $DATABASE OWNER $ROLE" >&2
fi

echo "export PG_TEST_URL=postgres://$ROLE:$PASSWORD@$HOST:$PORT/$DATABASE"
