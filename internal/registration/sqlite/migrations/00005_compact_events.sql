-- Every GET records an event, so the event write is on the hot path of every read: under
-- `make bench` it was about a quarter of a GET's CPU, most of it B-tree work in the two indexes
-- and WAL pages. This makes a row and its index entries small: the tenant and the event type are
-- integer keys into two small tables instead of repeated text (the type code alone was 22 bytes
-- in the row and in events_retention), and occurred_at is an integer (microseconds since the Unix
-- epoch, UTC; 8 bytes instead of 27 of text) in the row and in both indexes.
-- The order the Events endpoint lists (occurred_at, newest first, then the later id) is kept.

-- +goose Up
CREATE TABLE event_tenants (
    id     INTEGER PRIMARY KEY,
    tenant TEXT    NOT NULL UNIQUE
) STRICT;

-- An event type is its code and its published id together: two codes share id 4601, and the
-- store keeps whatever pair it is given.
CREATE TABLE event_types (
    id      INTEGER PRIMARY KEY,
    code    TEXT    NOT NULL,
    type_id INTEGER NOT NULL,
    UNIQUE (code, type_id)
) STRICT;

INSERT INTO event_tenants (tenant) SELECT DISTINCT tenant FROM events ORDER BY tenant;
INSERT INTO event_types (code, type_id) SELECT DISTINCT type_code, type_id FROM events ORDER BY type_code, type_id;

CREATE TABLE events_compact (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_key    INTEGER NOT NULL,
    crid          TEXT    NOT NULL,
    type_key      INTEGER NOT NULL,
    source_system TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    duration_ms   INTEGER NOT NULL,
    occurred_at   INTEGER NOT NULL,
    request_id    TEXT    NOT NULL,
    detail        TEXT    NOT NULL
) STRICT;

-- Times are stored as text of a fixed layout, 2006-01-02T15:04:05.000000Z, always UTC.
INSERT INTO events_compact (id, tenant_key, crid, type_key, source_system, outcome, duration_ms, occurred_at, request_id, detail)
SELECT e.id, t.id, e.crid, k.id, e.source_system, e.outcome, e.duration_ms,
       CAST(strftime('%s', substr(e.occurred_at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(e.occurred_at, 21, 6) AS INTEGER),
       e.request_id, e.detail
FROM events e
JOIN event_tenants t ON t.tenant = e.tenant
JOIN event_types k ON k.code = e.type_code AND k.type_id = e.type_id
ORDER BY e.id;

-- Ids are never reused: the new table goes on from the old one's sequence, which is past its
-- last row when the newest events were deleted (AUTOINCREMENT keeps seq >= every id given).
DELETE FROM sqlite_sequence WHERE name = 'events_compact';
INSERT INTO sqlite_sequence (name, seq) SELECT 'events_compact', seq FROM sqlite_sequence WHERE name = 'events';

DROP TABLE events;
ALTER TABLE events_compact RENAME TO events;

-- A user's events, newest first: the Events endpoint's order, pages walk it.
CREATE INDEX events_by_user ON events (tenant_key, crid, occurred_at DESC, id DESC);
-- The pruner's: a range of occurred_at within each event type (see 00004_retention.sql).
CREATE INDEX events_retention ON events (type_key, occurred_at);

-- +goose Down
CREATE TABLE events_text (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant        TEXT    NOT NULL,
    crid          TEXT    NOT NULL,
    type_code     TEXT    NOT NULL,
    type_id       INTEGER NOT NULL,
    source_system TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    duration_ms   INTEGER NOT NULL,
    occurred_at   TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    detail        TEXT    NOT NULL
) STRICT;

INSERT INTO events_text (id, tenant, crid, type_code, type_id, source_system, outcome, duration_ms, occurred_at, request_id, detail)
SELECT e.id, t.tenant, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms,
       strftime('%Y-%m-%dT%H:%M:%S', e.occurred_at / 1000000, 'unixepoch') || '.' || printf('%06d', e.occurred_at % 1000000) || 'Z',
       e.request_id, e.detail
FROM events e
JOIN event_tenants t ON t.id = e.tenant_key
JOIN event_types k ON k.id = e.type_key
ORDER BY e.id;

DELETE FROM sqlite_sequence WHERE name = 'events_text';
INSERT INTO sqlite_sequence (name, seq) SELECT 'events_text', seq FROM sqlite_sequence WHERE name = 'events';

DROP TABLE events;
ALTER TABLE events_text RENAME TO events;
DROP TABLE event_types;
DROP TABLE event_tenants;

CREATE INDEX events_by_user ON events (tenant, crid, occurred_at DESC, id DESC);
CREATE INDEX events_retention ON events (type_code, occurred_at);
