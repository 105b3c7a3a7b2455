-- The registration store on PostgreSQL. Times are TIMESTAMPTZ (microseconds, as the store
-- truncates them). Keys compare and sort with COLLATE "C", byte by byte, as SQLite's BINARY does,
-- so both databases return pages in the same order whatever the database's locale. The *_key
-- columns hold the lowered value (Go's strings.ToLower), used to match, to keep emails unique and
-- to sort, whatever the case. Constraint names are what the store maps errors by.

-- +goose Up
CREATE TABLE registrations (
    tenant                   TEXT COLLATE "C" NOT NULL,
    customer_registration_id TEXT COLLATE "C" NOT NULL,
    email                    TEXT        NOT NULL,
    email_key                TEXT COLLATE "C" NOT NULL,
    password_hash            TEXT        NOT NULL DEFAULT '',
    verified                 BOOLEAN     NOT NULL,
    pending                  BOOLEAN     NOT NULL,
    first_name               TEXT,
    first_name_key           TEXT COLLATE "C",
    last_name                TEXT,
    last_name_key            TEXT COLLATE "C",
    metadata                 TEXT        NOT NULL DEFAULT '{}',
    last_logout_date         TIMESTAMPTZ,
    auth_system              TEXT        NOT NULL DEFAULT '',
    add_date                 TIMESTAMPTZ NOT NULL,
    add_source               TEXT        NOT NULL DEFAULT '',
    change_date              TIMESTAMPTZ NOT NULL,
    change_source            TEXT        NOT NULL DEFAULT '',
    version                  BIGINT      NOT NULL,
    CONSTRAINT registrations_pkey PRIMARY KEY (tenant, customer_registration_id),
    CONSTRAINT registrations_email_key UNIQUE (tenant, email_key)
);

CREATE INDEX registrations_first_name ON registrations (tenant, first_name_key, customer_registration_id);
CREATE INDEX registrations_last_name ON registrations (tenant, last_name_key, customer_registration_id);
CREATE INDEX registrations_add_date ON registrations (tenant, add_date, customer_registration_id);
CREATE INDEX registrations_change_date ON registrations (tenant, change_date, customer_registration_id);

CREATE TABLE tokens (
    tenant          TEXT COLLATE "C" NOT NULL,
    purpose         TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    crid            TEXT COLLATE "C" NOT NULL,
    secret_hash     BYTEA       NOT NULL,
    event_id        BIGINT      NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ,
    failed_attempts INTEGER     NOT NULL DEFAULT 0,
    CONSTRAINT tokens_pkey PRIMARY KEY (tenant, purpose, id),
    CONSTRAINT tokens_registration_fkey FOREIGN KEY (tenant, crid)
        REFERENCES registrations (tenant, customer_registration_id) ON DELETE CASCADE
);

CREATE INDEX tokens_registration ON tokens (tenant, crid);

CREATE TABLE events (
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

CREATE INDEX events_by_user ON events (tenant, crid, occurred_at DESC, id DESC);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant          TEXT        NOT NULL,
    kind            TEXT        NOT NULL,
    from_address    TEXT        NOT NULL,
    to_address      TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT        NOT NULL DEFAULT ''
);

-- Only unsent emails are ever looked for; sent ones stay out of the index.
CREATE INDEX outbox_unsent ON outbox (created_at, id) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE outbox;
DROP TABLE events;
DROP TABLE tokens;
DROP TABLE registrations;
