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
	// One type at a time, oldest first: each pick is then one range of events_retention, walked
	// in its order, and takes the first limit rows of it. Given the whole IN list and no order,
	// PostgreSQL chose a sequential scan when most of the table was past retention (a first run
	// over a grown table: 14.6M of 20M rows) and read 1.6M kept rows before the first match
	// (docs/events-at-volume.md); once those rows are deleted, every later batch would walk
	// past them again.
	var total int64
	for _, k := range keys {
		n, err := s.prune(ctx, "prune events", "events", "id", `type_key = ? AND occurred_at < ?`,
			[]any{k, s.d.EventTime(normTime(before))}, limit-int(total), false, ` ORDER BY occurred_at`)
		total += n
		if err != nil || total >= int64(limit) {
			return total, err
		}
	}
	return total, nil
}

// PruneTokens deletes up to limit tokens that expired before `before`.
func (s *Store) PruneTokens(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(ctx, "prune tokens", "tokens", "tenant, purpose, id", `expires_at < ?`,
		[]any{s.timeArg(before)}, limit, true, "")
}

// PruneSentEmails deletes up to limit emails sent before `before`.
func (s *Store) PruneSentEmails(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(ctx, "prune sent emails", "outbox", "id", `sent_at IS NOT NULL AND sent_at < ?`,
		[]any{s.timeArg(before)}, limit, true, "")
}

// PruneAbandonedEmails deletes up to limit unsent emails with a blank body created before
// `before` (outbox_unsent finds them by created_at).
func (s *Store) PruneAbandonedEmails(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.prune(ctx, "prune abandoned emails", "outbox", "id", `sent_at IS NULL AND body = '' AND created_at < ?`,
		[]any{s.timeArg(before)}, limit, true, "")
}

// prune deletes up to limit rows of table matching cond (whose arguments are args); key is the
// table's primary key. recheck repeats cond in the DELETE, for rows that may change. order, if
// any, is the ORDER BY of the pick.
func (s *Store) prune(ctx context.Context, op, table, key, cond string, args []any, limit int, recheck bool, order string) (int64, error) {
	if limit < 1 {
		return 0, fmt.Errorf("registration: %s: limit %d, want at least 1", op, limit)
	}
	query := `WITH picked AS MATERIALIZED (SELECT ` + key + ` FROM ` + table + ` WHERE ` + cond + order + ` LIMIT ?` + s.d.SkipLocked + `)
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
