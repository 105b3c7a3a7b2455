-- State that instances sharing one database must see alike: the attempt counters of the rate
-- limits, and an index for claiming due emails from the outbox.

-- +goose Up
-- One token bucket per limiter key (sqlstore/attempts.go). key_hash is a hash of the key (an HMAC
-- under the service key, see ratelimit.Shared): keys hold login names and emails and are never
-- stored in clear. full_at is when the bucket is full again, in Unix nanoseconds (integers, so
-- that both databases do the same exact arithmetic); a row with full_at <= now is the same as no
-- row, and the sweep deletes it.
-- last_allowed is the decision of the last attempt, read back by RETURNING only.
-- Every attempt updates its row, so no index but the key's: an update that changes no indexed
-- column, with room left on the page (fillfactor), is a HOT update that writes no index entry
-- and leaves no dead index tuple. The sweep scans the table instead, which holds only the keys
-- used within their window.
CREATE TABLE rate_limits (
    key_hash     BYTEA   NOT NULL,
    full_at      BIGINT  NOT NULL,
    last_allowed BOOLEAN NOT NULL,
    CONSTRAINT rate_limits_pkey PRIMARY KEY (key_hash)
) WITH (fillfactor = 70);

-- A claim looks for unsent emails due now. Parked emails (no SMTP, or given up) stay unsent
-- with a next attempt a century away: by next_attempt_at a claim skips them at once, where
-- outbox_unsent (by created_at) would walk past every one of them at every poll.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;

-- +goose Down
DROP INDEX outbox_due;
DROP TABLE rate_limits;
