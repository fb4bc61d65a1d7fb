#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster when none answers on 127.0.0.1:5432 and make sure the role the
# tests use exists (the tests create and drop their own databases). Prints TEST_DATABASE_URL.
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  read -r version cluster _ < <(pg_lsclusters --no-header | head -n 1)
  pg_ctlcluster "$version" "$cluster" start >&2
  deadline=$((SECONDS + 30))
  until pg_isready -q -h 127.0.0.1 -p 5432; do
    [ $SECONDS -lt $deadline ] || { echo "postgres: cluster did not come up" >&2; exit 1; }
    sleep 0.5
  done
fi
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'autobuild_test'\"" \
    | grep -q 1; then
  su postgres -c "psql -q -c \"CREATE ROLE autobuild_test LOGIN CREATEDB PASSWORD 'autobuild_test'\"" >&2
fi
echo "postgresql+psycopg://autobuild_test:autobuild_test@127.0.0.1:5432/postgres"
