#!/usr/bin/env bash
# Start Debian's PostgreSQL on loopback for the portability pass of the repository tests and
# print its SQLAlchemy URL. Installs the server when missing.
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends postgresql >/dev/null
fi
read -r version cluster port status _ < <(pg_lsclusters -h | head -n 1)
[ "$status" = online ] || pg_ctlcluster "$version" "$cluster" start >&2
su postgres -c "psql -q -p $port -c \"ALTER USER postgres PASSWORD 'tagtune'\"" >&2
echo "postgresql+psycopg://postgres:tagtune@127.0.0.1:$port/postgres"
