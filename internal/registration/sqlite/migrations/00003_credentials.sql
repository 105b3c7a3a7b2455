-- Credentials outlive nothing they should not (issue 9):
-- password_changed_at ends the sessions issued before a password change; body_expires_at is when
-- the link or code an unsent email carries stops working, after which its body is blanked, so that
-- a copy of the database holds no live secret.

-- +goose Up
ALTER TABLE registrations ADD COLUMN password_changed_at TEXT;
ALTER TABLE outbox ADD COLUMN body_expires_at TEXT;

-- +goose Down
ALTER TABLE outbox DROP COLUMN body_expires_at;
ALTER TABLE registrations DROP COLUMN password_changed_at;
