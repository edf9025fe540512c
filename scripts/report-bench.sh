#!/usr/bin/env bash
# Loads 10 million inbox rows (and 100,000 conflicts, decisions and write-backs) into a fresh
# Postgres database with generate_series, then times each report through the CLI, which is
# what an operator runs (connection and the migration check included). Rows are spread evenly
# over 400 days, the default inbox retention: what a steady deployment holds. Events per day is
# timed twice: its first read, which rolls the window's closed days, then warm.
#
#   scripts/report-bench.sh [ROWS]      # needs psql and Postgres on 127.0.0.1:5432 (user postgres)
set -euo pipefail
ROWS=${1:-10000000}
DB=clientsync_report_bench
PSQL=(psql -q -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1)
BIN=${BIN:-target/release/clientsync}
[ -x "$BIN" ] || cargo build --locked --release
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export CLIENTSYNC_DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB"
"$BIN" migrate
start=$(date +%s)
"${PSQL[@]}" -d $DB <<SQL
SET TIME ZONE 'UTC';
INSERT INTO inbox_events (id, source, event_type, object_id, occurred_at_ms, received_at, payload,
                          status, attempts, last_error, updated_at)
SELECT 'bench:' || g,
       CASE WHEN g % 3 = 0 THEN 'clickup' ELSE 'hubspot' END,
       (ARRAY['contact.creation','contact.propertyChange','company.propertyChange','taskUpdated','taskCreated'])[1 + g % 5],
       (g % 100000)::text,
       0,
       now() - (g::double precision / $ROWS) * interval '400 days',
       'null'::json,
       CASE WHEN g % 10000 = 0 THEN 'pending_enrichment' WHEN g % 5000 = 0 THEN 'dead' ELSE 'processed' END,
       1, NULL, now()
FROM generate_series(1, $ROWS) AS g;
INSERT INTO conflicts (id, kind, status, client_id, field, hubspot_value, clickup_value, candidates,
                       source, external_id, event_id, resolution, resolved_by, resolved_at, created_at, updated_at)
SELECT gen_random_uuid(), 'field_mismatch', CASE WHEN g % 4 = 0 THEN 'open' ELSE 'resolved' END, NULL,
       'phone', '1', '2', '[]'::json, 'hubspot', 'contact:' || g, 'bench:' || g,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'kept' END, CASE WHEN g % 4 = 0 THEN NULL ELSE 'bench' END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE now() - (g::double precision / 100000) * interval '400 days' + interval '1 hour' * (g % 48) END,
       now() - (g::double precision / 100000) * interval '400 days', now()
FROM generate_series(1, 100000) AS g;
INSERT INTO decisions (id, kind, source, external_id, event_id, client_id, from_client_id, probability,
                       evidence, model_version, decided_at)
SELECT gen_random_uuid(), (ARRAY['link','new_client','ambiguous','merge','collision'])[1 + g % 5], 'hubspot',
       'contact:' || g, 'bench:' || g, NULL, NULL, NULL, '{}'::json, 'bench',
       now() - (g::double precision / 100000) * interval '400 days'
FROM generate_series(1, 100000) AS g;
INSERT INTO outbox (id, client_id, source, external_id, kind, field, value, status, pending_key, attempts,
                    next_attempt_at, last_error, created_at, updated_at)
SELECT gen_random_uuid(), gen_random_uuid(), 'hubspot', 'contact:' || g, 'contact', 'phone', '1',
       CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'sent' END, NULL, 1, now(), NULL, now(),
       now() - (g::double precision / 100000) * interval '400 days'
FROM generate_series(1, 100000) AS g;
VACUUM ANALYZE;
SQL
echo "loaded $ROWS inbox rows in $(( $(date +%s) - start )) s"
ms() { local t0; t0=$(date +%s%N); "$BIN" report "$@" --format json >/dev/null; echo $(( ($(date +%s%N) - t0) / 1000000 )); }
for days in 30 90 400; do
  for report in events-per-day conflicts-per-day decisions-per-day write-backs-per-day backlog; do
    [ "$report" = backlog ] && [ "$days" != 30 ] && continue
    if [ "$report" = events-per-day ]; then
      # The first read rolls every closed day of its window (and the 13 before) from the inbox.
      "${PSQL[@]}" -d $DB -c "TRUNCATE report_event_counts, report_rolled_days, report_late_events"
      echo "$report --days $days: first read (rolls $(( days + 12 )) days) $(ms "$report" --days "$days") ms"
    else
      ms "$report" --days "$days" >/dev/null   # warm
    fi
    best=
    for _ in 1 2 3; do
      t=$(ms "$report" --days "$days")
      [ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
    done
    echo "$report --days $days: best of 3 $best ms"
  done
done
