#!/usr/bin/env bash
# What the service does behind PgBouncer in transaction mode (docs/operations.md, "Connection
# pooling"). Starts Debian's pgbouncer on 127.0.0.1:$PORT in front of the local Postgres, with
# the settings given as arguments, and runs a set of Postgres integration tests through it.
#
#   scripts/pgbouncer-check.sh                                         # pool_mode=transaction
#   scripts/pgbouncer-check.sh "ignore_startup_parameters = extra_float_digits,options"
#   scripts/pgbouncer-check.sh "ignore_startup_parameters = extra_float_digits,options" "pool_mode = session"
#   TESTS='e2e::' scripts/pgbouncer-check.sh ...
#
# Needs `apt-get install pgbouncer` (1.18 on Debian 12), Postgres on 127.0.0.1:5432 with trust
# auth for postgres, and RabbitMQ for the tests' queue. Prints pgbouncer's log tail at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-6439}
TESTS=${TESTS:-concurrency::}
dir=$(mktemp -d)
chown postgres "$dir" 2>/dev/null || true
printf '"postgres" ""\n' >"$dir/users.txt"
{
  echo "[databases]"
  echo "* = host=127.0.0.1 port=5432"
  echo "[pgbouncer]"
  echo "listen_addr = 127.0.0.1"
  echo "listen_port = $PORT"
  echo "unix_socket_dir ="
  echo "auth_type = trust"
  echo "auth_file = $dir/users.txt"
  echo "pool_mode = transaction"
  echo "max_client_conn = 2000"
  echo "default_pool_size = 40"
  echo "logfile = $dir/pgbouncer.log"
  echo "pidfile = $dir/pgbouncer.pid"
  for setting in "$@"; do echo "$setting"; done
} >"$dir/pgbouncer.ini"
chown -R postgres "$dir" 2>/dev/null || true
pgbouncer --version | head -1
if [ "$(id -u)" = 0 ]; then runas=(-u postgres); else runas=(); fi
pgbouncer -d "${runas[@]}" "$dir/pgbouncer.ini"
trap 'kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true' EXIT
sleep 1
echo "pgbouncer (pool_mode = transaction unless a setting overrides it; extra settings: ${*:-none}) on 127.0.0.1:$PORT"
status=0
TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT" \
  nice -n 5 cargo test --locked --test it "$TESTS" -- --test-threads 2 >"$dir/tests.log" 2>&1 || status=$?
echo "--- why tests failed (first lines of each panic)"
grep -A6 "panicked at" "$dir/tests.log" | grep -v "^--$" | cut -c1-400 | head -n 20 || true
grep "^test result" "$dir/tests.log" || tail -n 20 "$dir/tests.log"
echo "--- pgbouncer log (last 10 lines)"
tail -n 10 "$dir/pgbouncer.log" || true
exit $status
