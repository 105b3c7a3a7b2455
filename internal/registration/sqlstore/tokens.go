package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

const tokenCols = `tenant, purpose, id, crid, secret_hash, event_id, created_at, expires_at, used_at, failed_attempts`

// PutToken stores tok, replacing any token with the same tenant, purpose and ID. The token's
// registration must exist (ErrNotFound otherwise): tokens are deleted with it.
func (s *Store) PutToken(ctx context.Context, tok registration.Token) error {
	tk, err := encodeTenant(tok.Tenant)
	if err != nil {
		return err
	}
	hash := tok.SecretHash
	if hash == nil {
		// NOT NULL column: an absent hash is stored as an empty one, and reads back as nil.
		hash = []byte{}
	}
	return s.guard(ctx, func() error {
		_, err := s.writer().ExecContext(ctx, s.q(`INSERT INTO tokens (`+tokenCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, purpose, id) DO UPDATE SET
				crid = excluded.crid, secret_hash = excluded.secret_hash, event_id = excluded.event_id,
				created_at = excluded.created_at, expires_at = excluded.expires_at,
				used_at = excluded.used_at, failed_attempts = excluded.failed_attempts`),
			tk, string(tok.Purpose), tok.ID, tok.CustomerRegistrationID, hash, tok.EventID,
			s.timeArg(tok.CreatedAt), s.timeArg(tok.ExpiresAt), s.nullTimeArg(tok.UsedAt), tok.FailedAttempts)
		if err != nil {
			if mapped := s.d.Constraint(err); mapped != nil {
				return mapped
			}
			return s.wrap("put token", err)
		}
		return nil
	})
}

// GetToken returns the token, used or not.
func (s *Store) GetToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (registration.Token, error) {
	tk, err := encodeTenant(t)
	if err != nil {
		return registration.Token{}, err
	}
	var (
		tok     registration.Token
		purpose string
		hash    []byte
	)
	err = s.reader().QueryRowContext(ctx,
		s.q(`SELECT `+tokenCols+` FROM tokens WHERE tenant = ? AND purpose = ? AND id = ?`), tk, string(p), id).
		Scan(tenantCol{&tok.Tenant}, &purpose, &tok.ID, &tok.CustomerRegistrationID, &hash, &tok.EventID,
			scanTime(&tok.CreatedAt), scanTime(&tok.ExpiresAt), scanNullTime(&tok.UsedAt), &tok.FailedAttempts)
	if errors.Is(err, sql.ErrNoRows) {
		return registration.Token{}, registration.ErrNotFound
	}
	if err != nil {
		return registration.Token{}, s.wrap("get token", err)
	}
	tok.Purpose = registration.Purpose(purpose)
	if len(hash) > 0 {
		tok.SecretHash = hash
	}
	return tok, nil
}

// UseToken marks the token used at `at` if it is unused and expires after `at`. The check and
// the mark are one UPDATE, so of concurrent calls exactly one changes the row.
func (s *Store) UseToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string, at time.Time) error {
	tk, err := encodeTenant(t)
	if err != nil {
		return err
	}
	res, err := s.writer().ExecContext(ctx, s.q(`UPDATE tokens SET used_at = ?
		WHERE tenant = ? AND purpose = ? AND id = ? AND used_at IS NULL AND expires_at > ?`),
		s.timeArg(at), tk, string(p), id, s.timeArg(at))
	if err != nil {
		return s.wrap("use token", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap("use token", err)
	}
	if n != 1 {
		return registration.ErrNotFound
	}
	return nil
}

// RevokeTokens marks every unused token of the user for purpose p used at `at`, and returns how
// many it ended. A password or email change calls it in the same transaction as the change.
func (s *Store) RevokeTokens(ctx context.Context, t tenant.Key, crid string, p registration.Purpose, at time.Time) (int64, error) {
	tk, err := encodeTenant(t)
	if err != nil {
		return 0, err
	}
	res, err := s.writer().ExecContext(ctx, s.q(`UPDATE tokens SET used_at = ?
		WHERE tenant = ? AND crid = ? AND purpose = ? AND used_at IS NULL`),
		s.timeArg(at), tk, crid, string(p))
	if err != nil {
		return 0, s.wrap("revoke tokens", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap("revoke tokens", err)
	}
	return n, nil
}

// RecordTokenFailure counts a wrong attempt, used or expired token alike, and returns the count.
func (s *Store) RecordTokenFailure(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (int, error) {
	tk, err := encodeTenant(t)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.writer().QueryRowContext(ctx, s.q(`UPDATE tokens SET failed_attempts = failed_attempts + 1
		WHERE tenant = ? AND purpose = ? AND id = ? RETURNING failed_attempts`), tk, string(p), id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, registration.ErrNotFound
	}
	if err != nil {
		return 0, s.wrap("record token failure", err)
	}
	return n, nil
}
