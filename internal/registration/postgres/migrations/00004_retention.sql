-- Retention (issue 14): the pruner deletes, in small batches, the rows that are kept no longer
-- (see README, "Retention"). Each of its DELETEs finds its batch through one of these indexes, so
-- a batch reads the rows it deletes and not the table.

-- +goose Up
-- Events are pruned per group of types (reads go sooner than changes), oldest first: a range of
-- occurred_at within each type code. With occurred_at alone, pruning the reads would walk past
-- every change event kept longer, at every run.
CREATE INDEX events_retention ON events (type_code, occurred_at);
-- Tokens go some time after they expire (used ones too: a token is used before it expires).
CREATE INDEX tokens_expires ON tokens (expires_at);
-- Sent emails go some time after they were sent; the unsent ones are in outbox_unsent.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_sent;
DROP INDEX tokens_expires;
DROP INDEX events_retention;
