package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The Prune methods delete the rows retention no longer keeps, at most limit per call: one
// autocommit DELETE whose batch a MATERIALIZED CTE picks through an index of 00004_retention.sql,
// so a call holds its locks (SQLite: the database's write lock) only as long as that batch takes.
//
// Several instances may prune at once. On PostgreSQL the pick locks its rows and skips those
// another pruner holds, so concurrent calls delete disjoint batches instead of queueing; the
// DELETE repeats the condition, where a row may change between the pick and the delete (a token
// put again with a new expiry is then kept); each DELETE finds its rows by primary key (checked
// with EXPLAIN QUERY PLAN on SQLite), so a batch costs its rows, not the old rows left. On SQLite the statement holds the write lock from
// its start. Either way a call deletes only rows that are past retention when it runs, so running
// it twice, or on two instances, deletes nothing twice and nothing it should keep.

// PruneEvents deletes up to limit events of typeCodes that occurred before `before`.
func (s *Store) PruneEvents(ctx context.Context, typeCodes []string, before time.Time, limit int) (int64, error) {
	if len(typeCodes) == 0 {
		return 0, fmt.Errorf("registration: prune events: no type codes")
	}
	if limit < 1 {
		return 0, fmt.Errorf("registration: prune events: limit %d, want at least 1", limit)
	}
	// The types' keys first (event_types is a handful of rows).
	in := "?" + strings.Repeat(", ?", len(typeCodes)-1)
	codes := make([]any, 0, len(typeCodes))
	for _, c := range typeCodes {
		codes = append(codes, c)
	}
	rows, err := s.writer().QueryContext(ctx, s.q(`SELECT id FROM event_types WHERE code IN (`+in+`)`), codes...)
	if err != nil {
		return 0, s.wrap("prune events", err)
	}
	var keys []any
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return 0, s.wrap("prune events", err)
		}
		keys = append(keys, k)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, s.wrap("prune events", err)
	}
	// One pick for all the types, in no order. Measured on 20M rows (docs/events-at-volume.md):
	// picking one type at a time oldest first (ORDER BY occurred_at through events_retention)
	// walks the index entries of the rows earlier batches deleted until VACUUM removes them,
	// and its batches grew from 20 to 50 ms over 200; this pick stayed at 12-18 ms.
	if len(keys) == 0 {
		return 0, nil // no event of these types was ever recorded
	}
	cond := `type_key IN (?` + strings.Repeat(", ?", len(keys)-1) + `) AND occurred_at < ?`
	args := append(keys, s.d.EventTime(normTime(before)))
	// Events are never updated, so the DELETE need not check them again.
	return s.prune(ctx, "prune events", "events", "id", cond, args, limit, false)
}

// PruneTokens deletes up to limit tokens that expired before `before`.
func (s *Store) PruneTokens(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(ctx, "prune tokens", "tokens", "tenant, purpose, id", `expires_at < ?`,
		[]any{s.timeArg(before)}, limit, true)
}

// PruneSentEmails deletes up to limit emails sent before `before`.
func (s *Store) PruneSentEmails(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(ctx, "prune sent emails", "outbox", "id", `sent_at IS NOT NULL AND sent_at < ?`,
		[]any{s.timeArg(before)}, limit, true)
}

// PruneAbandonedEmails deletes up to limit unsent emails with a blank body created before
// `before` (outbox_unsent finds them by created_at).
func (s *Store) PruneAbandonedEmails(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(ctx, "prune abandoned emails", "outbox", "id", `sent_at IS NULL AND body = '' AND created_at < ?`,
		[]any{s.timeArg(before)}, limit, true)
}

// prune deletes up to limit rows of table matching cond (whose arguments are args); key is the
// table's primary key. recheck repeats cond in the DELETE, for rows that may change.
func (s *Store) prune(ctx context.Context, op, table, key, cond string, args []any, limit int, recheck bool) (int64, error) {
	if limit < 1 {
		return 0, fmt.Errorf("registration: %s: limit %d, want at least 1", op, limit)
	}
	query := `WITH picked AS MATERIALIZED (SELECT ` + key + ` FROM ` + table + ` WHERE ` + cond + ` LIMIT ?` + s.d.SkipLocked + `)
		DELETE FROM ` + table + ` WHERE (` + key + `) IN (SELECT ` + key + ` FROM picked)`
	all := make([]any, 0, 2*len(args)+1)
	all = append(append(all, args...), limit)
	if recheck {
		query += ` AND ` + cond
		all = append(all, args...)
	}
	res, err := s.writer().ExecContext(ctx, s.q(query), all...)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}
