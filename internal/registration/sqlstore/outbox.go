package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"usersorchestrator/internal/registration"
)

const emailCols = `id, tenant, kind, from_address, to_address, subject, body, created_at, attempts,
	next_attempt_at, sent_at, last_error, body_expires_at`

func scanEmail(row rowScanner) (registration.Email, error) {
	var e registration.Email
	err := row.Scan(&e.ID, tenantCol{&e.Tenant}, &e.Kind, &e.From, &e.To, &e.Subject, &e.Body,
		scanTime(&e.CreatedAt), &e.Attempts, scanTime(&e.NextAttemptAt), scanNullTime(&e.SentAt), &e.LastError,
		scanNullTime(&e.BodyExpiresAt))
	return e, err
}

// EnqueueEmail adds e as a new email: no attempts, not sent (e's ID, Attempts, SentAt and
// LastError are ignored). A zero CreatedAt is now; a zero NextAttemptAt is CreatedAt.
func (s *Store) EnqueueEmail(ctx context.Context, e registration.Email) (int64, error) {
	tk, err := encodeTenant(e.Tenant)
	if err != nil {
		return 0, err
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	var id int64
	err = s.writer().QueryRowContext(ctx, s.q(`INSERT INTO outbox
		(tenant, kind, from_address, to_address, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error, body_expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, '', ?) RETURNING id`),
		tk, e.Kind, e.From, e.To, e.Subject, e.Body, s.timeArg(e.CreatedAt), s.timeArg(e.NextAttemptAt), s.nullTimeArg(e.BodyExpiresAt)).Scan(&id)
	if err != nil {
		return 0, s.wrap("enqueue email", err)
	}
	return id, nil
}

// Email returns one email of the outbox, sent or not, or ErrNotFound. It is not part of
// registration.Store: the mail worker does not need it, but support and the store tests do
// (they check that a sent email's body is gone).
func (s *Store) Email(ctx context.Context, id int64) (registration.Email, error) {
	e, err := scanEmail(s.reader().QueryRowContext(ctx, s.q(`SELECT `+emailCols+` FROM outbox WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return registration.Email{}, registration.ErrNotFound
	}
	if err != nil {
		return registration.Email{}, s.wrap("email", err)
	}
	return e, nil
}

// DueEmails returns up to limit unsent emails whose next attempt is at or before now, oldest
// (by CreatedAt, then ID) first. limit 0 means no limit. It reads only; ClaimDueEmails is how
// the worker takes emails to send.
func (s *Store) DueEmails(ctx context.Context, now time.Time, limit int) ([]registration.Email, error) {
	if limit < 0 {
		return nil, fmt.Errorf("registration: due emails: negative limit %d", limit)
	}
	query := `SELECT ` + emailCols + ` FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ?
		ORDER BY created_at, id`
	args := []any{s.timeArg(now)}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap("due emails", err)
	}
	defer rows.Close()
	out := make([]registration.Email, 0)
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, s.wrap("due emails", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("due emails", err)
	}
	return out, nil
}

// ClaimDueEmails takes up to limit unsent emails due at now, oldest first, by moving their next
// attempt to now+lease in one UPDATE ... RETURNING, so no two claims can both take a row. On
// SQLite the statement holds the database's write lock from its start. On PostgreSQL the picking
// SELECT locks its rows and skips those another claim has locked; a row another claim took
// between this statement's snapshot and its lock fails the due condition when PostgreSQL checks
// the row again, which is why the UPDATE repeats it. The pick is a MATERIALIZED CTE because a
// subquery under IN may be run again for each outer row, and with SKIP LOCKED a second run can
// pick other rows, beyond the limit. limit 0 means no limit.
func (s *Store) ClaimDueEmails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]registration.Email, error) {
	if limit < 0 {
		return nil, fmt.Errorf("registration: claim due emails: negative limit %d", limit)
	}
	if lease <= 0 {
		// A lease of zero would leave the rows due: every other instance could take them too.
		return nil, fmt.Errorf("registration: claim due emails: lease %v, want a positive one", lease)
	}
	const due = `sent_at IS NULL AND next_attempt_at <= ?`
	nowArg := s.timeArg(now)
	pick := `SELECT id FROM outbox WHERE ` + due + ` ORDER BY created_at, id`
	args := []any{nowArg}
	if limit > 0 {
		pick += ` LIMIT ?`
		args = append(args, limit)
	}
	args = append(args, s.timeArg(now.Add(lease)), nowArg)
	query := `WITH picked AS MATERIALIZED (` + pick + s.d.SkipLocked + `)
		UPDATE outbox SET next_attempt_at = ? WHERE id IN (SELECT id FROM picked) AND ` + due + `
		RETURNING ` + emailCols
	rows, err := s.writer().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap("claim due emails", err)
	}
	defer rows.Close()
	out := make([]registration.Email, 0)
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, s.wrap("claim due emails", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("claim due emails", err)
	}
	// RETURNING follows no ORDER BY: put the oldest first again.
	slices.SortFunc(out, func(a, b registration.Email) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// MarkEmailSent records the delivery and clears the body, which may hold a secret link.
func (s *Store) MarkEmailSent(ctx context.Context, id int64, at time.Time) error {
	return s.updateEmail(ctx, "mark email sent",
		`UPDATE outbox SET sent_at = ?, body = '' WHERE id = ?`, s.timeArg(at), id)
}

// MarkEmailFailed counts a failed attempt and postpones the next one to `next`.
func (s *Store) MarkEmailFailed(ctx context.Context, id int64, next time.Time, lastError string) error {
	return s.updateEmail(ctx, "mark email failed",
		`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`,
		s.timeArg(next), lastError, id)
}

func (s *Store) updateEmail(ctx context.Context, op, query string, args ...any) error {
	res, err := s.writer().ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n == 0 {
		return registration.ErrNotFound
	}
	return nil
}

// ScrubEmails blanks the body of unsent emails whose secret has expired (BodyExpiresAt at or
// before now), and of the emails ids names (ones delivery gave up on), and returns how many it
// blanked. The rows stay, with their subject and last error, for support to see what happened.
func (s *Store) ScrubEmails(ctx context.Context, now time.Time, ids ...int64) (int64, error) {
	query := `UPDATE outbox SET body = '' WHERE body <> '' AND sent_at IS NULL AND (body_expires_at <= ?`
	args := []any{s.timeArg(now)}
	for _, id := range ids {
		query += ` OR id = ?`
		args = append(args, id)
	}
	res, err := s.writer().ExecContext(ctx, s.q(query+`)`), args...)
	if err != nil {
		return 0, s.wrap("scrub emails", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap("scrub emails", err)
	}
	return n, nil
}

// OutboxBacklog counts the unsent emails, due or not.
func (s *Store) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n); err != nil {
		return 0, s.wrap("outbox backlog", err)
	}
	return n, nil
}
