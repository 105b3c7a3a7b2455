-- Every GET records an event, so the event write is on the hot path of every read. This makes a
-- row and its index entries small: the tenant and the event type are integer keys into two small
-- tables instead of repeated text (the type code alone was 22 bytes in the row and in
-- events_retention), and the fixed-width columns come first so that none is padded.
-- The order the Events endpoint lists (occurred_at, newest first, then the later id) is kept.

-- +goose Up
CREATE TABLE event_tenants (
    id     INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT COLLATE "C" NOT NULL UNIQUE
);

-- An event type is its code and its published id together: two codes share id 4601, and the
-- store keeps whatever pair it is given.
CREATE TABLE event_types (
    id      INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code    TEXT    NOT NULL,
    type_id INTEGER NOT NULL,
    UNIQUE (code, type_id)
);

INSERT INTO event_tenants (tenant) SELECT DISTINCT tenant FROM events ORDER BY tenant;
INSERT INTO event_types (code, type_id) SELECT DISTINCT type_code, type_id FROM events ORDER BY type_code, type_id;

CREATE TABLE events_compact (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_key    INTEGER     NOT NULL,
    type_key      INTEGER     NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    duration_ms   BIGINT      NOT NULL,
    crid          TEXT COLLATE "C" NOT NULL,
    source_system TEXT        NOT NULL,
    outcome       TEXT        NOT NULL,
    request_id    TEXT        NOT NULL,
    detail        TEXT        NOT NULL
);

INSERT INTO events_compact (id, tenant_key, type_key, occurred_at, duration_ms, crid, source_system, outcome, request_id, detail)
OVERRIDING SYSTEM VALUE
SELECT e.id, t.id, k.id, e.occurred_at, e.duration_ms, e.crid, e.source_system, e.outcome, e.request_id, e.detail
FROM events e
JOIN event_tenants t ON t.tenant = e.tenant
JOIN event_types k ON k.code = e.type_code AND k.type_id = e.type_id
ORDER BY e.id;

-- Ids are never reused: the new table goes on from the old one's sequence.
SELECT setval(pg_get_serial_sequence('events_compact', 'id'), s.last_value, s.is_called) FROM events_id_seq s;

DROP TABLE events;
ALTER TABLE events_compact RENAME TO events;
ALTER SEQUENCE events_compact_id_seq RENAME TO events_id_seq;
ALTER INDEX events_compact_pkey RENAME TO events_pkey;

-- A user's events, newest first: the Events endpoint's order, pages walk it.
CREATE INDEX events_by_user ON events (tenant_key, crid, occurred_at DESC, id DESC);
-- The pruner's: a range of occurred_at within each event type (see 00004_retention.sql).
CREATE INDEX events_retention ON events (type_key, occurred_at);

-- +goose Down
CREATE TABLE events_text (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant        TEXT COLLATE "C" NOT NULL,
    crid          TEXT COLLATE "C" NOT NULL,
    type_code     TEXT        NOT NULL,
    type_id       INTEGER     NOT NULL,
    source_system TEXT        NOT NULL,
    outcome       TEXT        NOT NULL,
    duration_ms   BIGINT      NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    request_id    TEXT        NOT NULL,
    detail        TEXT        NOT NULL
);

INSERT INTO events_text (id, tenant, crid, type_code, type_id, source_system, outcome, duration_ms, occurred_at, request_id, detail)
OVERRIDING SYSTEM VALUE
SELECT e.id, t.tenant, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail
FROM events e
JOIN event_tenants t ON t.id = e.tenant_key
JOIN event_types k ON k.id = e.type_key
ORDER BY e.id;

SELECT setval(pg_get_serial_sequence('events_text', 'id'), s.last_value, s.is_called) FROM events_id_seq s;

DROP TABLE events;
DROP TABLE event_types;
DROP TABLE event_tenants;
ALTER TABLE events_text RENAME TO events;
ALTER SEQUENCE events_text_id_seq RENAME TO events_id_seq;
ALTER INDEX events_text_pkey RENAME TO events_pkey;

CREATE INDEX events_by_user ON events (tenant, crid, occurred_at DESC, id DESC);
CREATE INDEX events_retention ON events (type_code, occurred_at);
