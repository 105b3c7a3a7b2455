-- The registration store on SQLite. Times are TEXT in sqlstore.TextTimeLayout
-- ('2006-01-02T15:04:05.000000Z', UTC): fixed width, so text order is time order. The *_key
-- columns hold the lowered value (Go's strings.ToLower), used to match, to keep emails unique and
-- to sort, whatever the case. STRICT makes SQLite refuse values of the wrong type.

-- +goose Up
CREATE TABLE registrations (
    tenant                   TEXT    NOT NULL,
    customer_registration_id TEXT    NOT NULL,
    email                    TEXT    NOT NULL,
    email_key                TEXT    NOT NULL,
    password_hash            TEXT    NOT NULL DEFAULT '',
    verified                 INTEGER NOT NULL CHECK (verified IN (0, 1)),
    pending                  INTEGER NOT NULL CHECK (pending IN (0, 1)),
    first_name               TEXT,
    first_name_key           TEXT,
    last_name                TEXT,
    last_name_key            TEXT,
    metadata                 TEXT    NOT NULL DEFAULT '{}',
    last_logout_date         TEXT,
    auth_system              TEXT    NOT NULL DEFAULT '',
    add_date                 TEXT    NOT NULL,
    add_source               TEXT    NOT NULL DEFAULT '',
    change_date              TEXT    NOT NULL,
    change_source            TEXT    NOT NULL DEFAULT '',
    version                  INTEGER NOT NULL,
    PRIMARY KEY (tenant, customer_registration_id),
    UNIQUE (tenant, email_key)
) STRICT;

CREATE INDEX registrations_first_name ON registrations (tenant, first_name_key, customer_registration_id);
CREATE INDEX registrations_last_name ON registrations (tenant, last_name_key, customer_registration_id);
CREATE INDEX registrations_add_date ON registrations (tenant, add_date, customer_registration_id);
CREATE INDEX registrations_change_date ON registrations (tenant, change_date, customer_registration_id);

CREATE TABLE tokens (
    tenant          TEXT    NOT NULL,
    purpose         TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    crid            TEXT    NOT NULL,
    secret_hash     BLOB    NOT NULL,
    event_id        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL,
    used_at         TEXT,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, purpose, id),
    FOREIGN KEY (tenant, crid) REFERENCES registrations (tenant, customer_registration_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX tokens_registration ON tokens (tenant, crid);

-- AUTOINCREMENT: ids are never reused, so they keep growing even after the newest row is gone.
CREATE TABLE events (
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

CREATE INDEX events_by_user ON events (tenant, crid, occurred_at DESC, id DESC);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    from_address    TEXT    NOT NULL,
    to_address      TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Only unsent emails are ever looked for; sent ones stay out of the index.
CREATE INDEX outbox_unsent ON outbox (created_at, id) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE outbox;
DROP TABLE events;
DROP TABLE tokens;
DROP TABLE registrations;
