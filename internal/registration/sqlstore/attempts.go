package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// The attempt buckets (table rate_limits) are token buckets kept as one number per key, the
// generic cell rate algorithm: full_at is the time at which the bucket is full again. With burst
// tokens, one back every interval, the bucket holds burst - (full_at-now)/interval tokens, so an
// attempt at now finds a token iff full_at <= now + (burst-1)*interval, and taking it moves
// full_at to max(full_at, now) + interval. That is the in-memory limiter's token bucket exactly,
// in integers, updated by one statement; a full bucket (full_at <= now) is the same as no row,
// which is what makes sweeping lossless.
//
// Times here are Unix nanoseconds in an integer column, not the timestamp columns of the other
// tables: the arithmetic is then the same plain integer SQL on both databases, and exact to the
// nanosecond, so RetryAfter never comes out a rounding short.

// maxKeyHash bounds a key hash: a hash is at most 64 bytes (SHA-512); anything longer is a key
// passed in clear by mistake, which must not be stored.
const maxKeyHash = 64

func checkKeyHash(op string, keyHash []byte) error {
	if len(keyHash) == 0 || len(keyHash) > maxKeyHash {
		return fmt.Errorf("registration: %s: key hash of %d bytes, want 1 to %d", op, len(keyHash), maxKeyHash)
	}
	return nil
}

// AllowAttempt counts one attempt against keyHash's bucket (see the comment at the top of this
// file).
//
// A plain read comes first: when it finds the bucket empty the attempt is refused without a
// write. That is the case an attacker makes common, and it then costs a read (on SQLite through
// the read pool, off the one write connection; on PostgreSQL no commit to flush). The refusal is
// sound whatever happens meanwhile: full_at only moves forward, except when Reset or the sweep
// deletes the row, and a refusal ordered just before that Reset is one it could have had.
//
// Otherwise one INSERT ... ON CONFLICT DO UPDATE decides and counts: on PostgreSQL the
// conflicting row is locked and the SET sees its latest version, on SQLite the statement holds
// the write lock, so concurrent attempts on one key are applied one after the other and never
// both take the last token. If the bucket emptied since the read, the statement refuses and
// leaves full_at as it was (a refused attempt is not counted), but still writes last_allowed:
// RETURNING shows only the new row, and the decision cannot be told from full_at alone. The SET
// expressions all read the row as it was before the statement.
func (s *Store) AllowAttempt(ctx context.Context, keyHash []byte, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	if err := checkKeyHash("allow attempt", keyHash); err != nil {
		return false, 0, err
	}
	if interval <= 0 || burst < 1 {
		return false, 0, fmt.Errorf("registration: allow attempt: interval %v and burst %d, want both positive", interval, burst)
	}
	if time.Duration(burst-1) > math.MaxInt64/interval {
		return false, 0, fmt.Errorf("registration: allow attempt: a burst of %d per %v overflows", burst, interval)
	}
	n := now.UnixNano()
	step := int64(interval)
	// threshold: the latest full_at that still leaves a token at now.
	threshold := n + int64(burst-1)*step
	var seen int64
	// Both statements are prepared (readRow, writeRow): a limiter is on the path of every login.
	err := s.readRow(ctx, s.q(`SELECT full_at FROM rate_limits WHERE key_hash = ?`), keyHash).Scan(&seen)
	switch {
	case err == nil && seen > threshold:
		return false, time.Duration(seen - threshold), nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, 0, s.wrap("allow attempt", err)
	}
	var (
		fullAt  int64
		allowed bool
	)
	err = s.writeRow(ctx, s.q(`INSERT INTO rate_limits (key_hash, full_at, last_allowed)
		VALUES (?, ?, TRUE)
		ON CONFLICT (key_hash) DO UPDATE SET
			last_allowed = (rate_limits.full_at <= ?),
			full_at = CASE
				WHEN rate_limits.full_at > ? THEN rate_limits.full_at
				WHEN rate_limits.full_at > ? THEN rate_limits.full_at + ?
				ELSE ? END
		RETURNING full_at, last_allowed`),
		keyHash, n+step, threshold, threshold, n, step, n+step).Scan(&fullAt, &allowed)
	if err != nil {
		return false, 0, s.wrap("allow attempt", err)
	}
	if allowed {
		return true, 0, nil
	}
	return false, time.Duration(fullAt - threshold), nil
}

// ResetAttempts deletes keyHash's bucket.
func (s *Store) ResetAttempts(ctx context.Context, keyHash []byte) error {
	if err := checkKeyHash("reset attempts", keyHash); err != nil {
		return err
	}
	if _, err := s.writer().ExecContext(ctx, s.q(`DELETE FROM rate_limits WHERE key_hash = ?`), keyHash); err != nil {
		return s.wrap("reset attempts", err)
	}
	return nil
}

// SweepAttempts deletes up to max buckets full at now. There is no index on full_at (every
// attempt changes it; see the migration), so the pick scans the table and stops at max. The
// outer condition repeats the inner one because on PostgreSQL an attempt may refill a picked
// row between the pick and the delete: the row is then checked again and kept, instead of
// forgetting that attempt.
func (s *Store) SweepAttempts(ctx context.Context, now time.Time, max int) (int64, error) {
	if max < 1 {
		return 0, fmt.Errorf("registration: sweep attempts: max %d, want at least 1", max)
	}
	n := now.UnixNano()
	res, err := s.writer().ExecContext(ctx, s.q(`DELETE FROM rate_limits WHERE full_at <= ? AND key_hash IN
		(SELECT key_hash FROM rate_limits WHERE full_at <= ? LIMIT ?)`), n, n, max)
	if err != nil {
		return 0, s.wrap("sweep attempts", err)
	}
	deleted, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap("sweep attempts", err)
	}
	return deleted, nil
}
