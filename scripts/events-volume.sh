#!/usr/bin/env bash
# events-volume.sh: the PostgreSQL events table at volume (issue 14): generates ROWS events in a
# schema of their own, with the schema of the service's migrations, and prints the plans and
# timings of what the service runs on it: listing one user's events (first page, a deep page) and
# a prune batch. Not part of `make test`; see docs/events-at-volume.md for the figures.
#
#   scripts/events-volume.sh [all|schema|load FROM TO|index|plans|prune N|drop]    (default: all)
#
#   DSN     the database (default: $UO_TEST_POSTGRES_DSN); psql must reach it
#   SCHEMA  the schema created (and dropped first) for the data set (default uo_events_volume)
#   ROWS    events generated (default 20000000); USERS ordinary users (default 100000)
#
# The data set: ROWS events over 400 days (2025-10-27 to 2026-12-01), ids growing with time as
# the service writes them; 95% reads (SUBSCRIBE_USER_GETBYID/GET), 5% changes; 3 tenants;
# one event in 100 belongs to heavy-user (200,000 events at 20M rows), the others to USERS users
# picked by a multiplicative hash of the id, so a user's events are spread over the whole heap as
# they are in production. Loaded without the two secondary indexes, in steps of `load FROM TO`
# (all: 4 steps), then indexed and vacuumed. About 4.5 GB of disk at 20M rows (table and indexes),
# plus up to max_wal_size of WAL while loading.
set -euo pipefail
cd "$(dirname "$0")/.."
DSN=${DSN:-${UO_TEST_POSTGRES_DSN:?set DSN or UO_TEST_POSTGRES_DSN}}
SCHEMA=${SCHEMA:-uo_events_volume}
ROWS=${ROWS:-20000000}
USERS=${USERS:-100000}

psql_() { PGOPTIONS="-c search_path=$SCHEMA" psql "$DSN" -X -v ON_ERROR_STOP=1 -q "$@"; }

schema() {
  psql "$DSN" -X -v ON_ERROR_STOP=1 -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" -c "CREATE SCHEMA $SCHEMA"
  # The Up sections of the service's migrations, in order (goose is not needed to read them).
  for f in internal/registration/postgres/migrations/*.sql; do
    awk '/^-- \+goose Up/{f=1;next} /^-- \+goose Down/{f=0} f' "$f"
  done | psql_ -f -
  psql_ <<'SQL'
INSERT INTO event_tenants (tenant) VALUES ('CLA/PAPA/GRP'), ('CLB/PAPB/GRP'), ('CLC/PAPC/GRP');
INSERT INTO event_types (code, type_id) VALUES
  ('SUBSCRIBE_USER_GETBYID', 4001), ('SUBSCRIBE_USER_GET', 4000),
  ('SUBSCRIBE_USER_UPDATE', 4004), ('SUBSCRIBE_USER_LOGIN', 4006);
DROP INDEX events_by_user;
DROP INDEX events_retention;
SQL
}

# load FROM TO: the events numbered [FROM, TO) of ROWS.
load() {
  local from=$1 to=$2
  psql_ -v from="$from" -v to="$to" -v rows="$ROWS" -v users="$USERS" <<'SQL'
\timing on
INSERT INTO events (tenant_key, type_key, occurred_at, duration_ms, crid, source_system, outcome, request_id, detail)
SELECT CASE WHEN g % 100 = 0 THEN 1 ELSE 1 + u % 3 END,
       CASE WHEN g % 20 = 0 THEN 3 + (g / 20) % 2 ELSE 1 + g % 2 END,
       timestamptz '2026-12-01 00:00:00+00' - interval '400 days' + interval '400 days' * (g::float8 / :rows),
       g % 50,
       CASE WHEN g % 100 = 0 THEN 'heavy-user' ELSE 'user-' || lpad(u::text, 6, '0') END,
       'Web', 'Success', md5(g::text), ''
FROM generate_series(:from::bigint, :to::bigint - 1) g, LATERAL (SELECT (g * 2654435761) % :users AS u) h
ORDER BY g;
SQL
}

index() {
  psql_ <<'SQL'
\timing on
SET maintenance_work_mem = '256MB';
CREATE INDEX events_by_user ON events (tenant_key, crid, occurred_at DESC, id DESC);
CREATE INDEX events_retention ON events (type_key, occurred_at);
VACUUM (ANALYZE) events;
SELECT count(*) AS events, pg_size_pretty(pg_table_size('events')) AS heap,
       pg_size_pretty(pg_relation_size('events_pkey')) AS pkey,
       pg_size_pretty(pg_relation_size('events_by_user')) AS by_user,
       pg_size_pretty(pg_relation_size('events_retention')) AS retention
FROM events;
SQL
}

# plans: EXPLAIN (ANALYZE, BUFFERS) of the statements sqlstore runs, with the values of a typical
# user and of heavy-user. Each query runs twice; the second plan shows it with warm caches.
plans() {
  psql_ <<'SQL'
\timing on
\echo === a typical user: events and the count, as ListEvents runs them
SELECT crid, count(*) FROM events WHERE tenant_key = 2 AND crid = 'user-000001' GROUP BY crid;
EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM events e
  WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLB/PAPB/GRP') AND e.crid = 'user-000001';
\echo --- first page (20), cold then warm
EXPLAIN (ANALYZE, BUFFERS) SELECT e.id, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail
  FROM events e JOIN event_types k ON k.id = e.type_key
  WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLB/PAPB/GRP') AND e.crid = 'user-000001'
  ORDER BY e.occurred_at DESC, e.id DESC LIMIT 20 OFFSET 0;
EXPLAIN (ANALYZE, BUFFERS) SELECT e.id, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail
  FROM events e JOIN event_types k ON k.id = e.type_key
  WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLB/PAPB/GRP') AND e.crid = 'user-000001'
  ORDER BY e.occurred_at DESC, e.id DESC LIMIT 20 OFFSET 0;
\echo === heavy-user (200k events at 20M rows): count, first page, a deep page (offset 100000)
EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM events e
  WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLA/PAPA/GRP') AND e.crid = 'heavy-user';
EXPLAIN (ANALYZE, BUFFERS) SELECT e.id, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail
  FROM events e JOIN event_types k ON k.id = e.type_key
  WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLA/PAPA/GRP') AND e.crid = 'heavy-user'
  ORDER BY e.occurred_at DESC, e.id DESC LIMIT 20 OFFSET 0;
\echo --- deep page as ListEvents reads it: the page picked from events_by_user alone, then its rows; cold then warm
EXPLAIN (ANALYZE, BUFFERS) SELECT e.id, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail
  FROM (SELECT id FROM events e
        WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLA/PAPA/GRP') AND e.crid = 'heavy-user'
        ORDER BY e.occurred_at DESC, e.id DESC LIMIT 20 OFFSET 100000) p
  JOIN events e ON e.id = p.id JOIN event_types k ON k.id = e.type_key
  ORDER BY e.occurred_at DESC, e.id DESC;
EXPLAIN (ANALYZE, BUFFERS) SELECT e.id, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail
  FROM (SELECT id FROM events e
        WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLA/PAPA/GRP') AND e.crid = 'heavy-user'
        ORDER BY e.occurred_at DESC, e.id DESC LIMIT 20 OFFSET 100000) p
  JOIN events e ON e.id = p.id JOIN event_types k ON k.id = e.type_key
  ORDER BY e.occurred_at DESC, e.id DESC;
\echo --- the same page as the first version of ListEvents read it (the rows joined before the offset), warm
EXPLAIN (ANALYZE, BUFFERS) SELECT e.id, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail
  FROM events e JOIN event_types k ON k.id = e.type_key
  WHERE e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = 'CLA/PAPA/GRP') AND e.crid = 'heavy-user'
  ORDER BY e.occurred_at DESC, e.id DESC LIMIT 20 OFFSET 100000;
\echo === a prune batch, the alternative measured: 1000 SUBSCRIBE_USER_GETBYID older than 90 days, oldest first (rolled back)
BEGIN;
EXPLAIN (ANALYZE, BUFFERS) WITH picked AS MATERIALIZED (SELECT id FROM events
    WHERE type_key = 1 AND occurred_at < timestamptz '2026-12-01 00:00:00+00' - interval '90 days'
    ORDER BY occurred_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
  DELETE FROM events WHERE (id) IN (SELECT id FROM picked);
ROLLBACK;
\echo --- a prune batch as PruneEvents runs it: both read types in one IN list, no order (rolled back)
BEGIN;
EXPLAIN (ANALYZE, BUFFERS) WITH picked AS MATERIALIZED (SELECT id FROM events
    WHERE type_key IN (1, 2) AND occurred_at < timestamptz '2026-12-01 00:00:00+00' - interval '90 days'
    LIMIT 1000 FOR UPDATE SKIP LOCKED)
  DELETE FROM events WHERE (id) IN (SELECT id FROM picked);
ROLLBACK;
SQL
}

# prune N: N committed prune batches of 1000 as PruneEvents runs them (the read types older than
# 90 days, in no order), each timed: the first and every tenth are printed. It deletes (about
# N*1000 rows); `index` does not bring them back. PICK=ordered runs the alternative measured
# instead (one type, oldest first through events_retention).
prune() {
  local n=${1:-100} pick="type_key IN (1, 2) AND occurred_at < timestamptz '2026-12-01 00:00:00+00' - interval '90 days'"
  if [[ "${PICK:-}" == ordered ]]; then
    pick="type_key = 1 AND occurred_at < timestamptz '2026-12-01 00:00:00+00' - interval '90 days' ORDER BY occurred_at"
  fi
  for i in $(seq 1 "$n"); do
    psql_ -At -c "\\timing on" -c "WITH picked AS MATERIALIZED (SELECT id FROM events WHERE $pick
        LIMIT 1000 FOR UPDATE SKIP LOCKED)
      DELETE FROM events WHERE (id) IN (SELECT id FROM picked)" | tr '\n' ' ' | { read -r out || true; if (( i == 1 || i % 10 == 0 )); then echo "batch $i: $out"; fi; }
  done
}

drop() { psql "$DSN" -X -v ON_ERROR_STOP=1 -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE"; }

case "${1:-all}" in
  all)
    schema
    step=$(( (ROWS + 3) / 4 ))
    for from in $(seq 0 "$step" $((ROWS - 1))); do load "$from" $((from + step > ROWS ? ROWS : from + step)); done
    index
    plans
    ;;
  schema) schema ;;
  load) load "$2" "$3" ;;
  index) index ;;
  plans) plans ;;
  prune) prune "${2:-100}" ;;
  drop) drop ;;
  *) echo "usage: $0 [all|schema|load FROM TO|index|plans|prune N|drop]" >&2; exit 2 ;;
esac
