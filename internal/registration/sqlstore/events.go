package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// Events are stored compactly (00005_compact_events.sql): the tenant and the event type (code and
// id) are integer keys into event_tenants and event_types, so that a row and its index entries,
// written on every request, hold no repeated text. The keys are looked up once per Store and kept.

// eventKeys caches the keys of event_tenants and event_types. Only keys read or added outside a
// transaction are kept: one added inside a transaction is gone if it rolls back. Rows of those
// tables are never deleted, so a kept key stays right.
type eventKeys struct {
	tenants sync.Map // encoded tenant -> int64
	types   sync.Map // eventType -> int64
}

type eventType struct {
	code string
	id   int
}

// tenantKey is the key of the tenant tk in event_tenants, added when missing.
func (s *Store) tenantKey(ctx context.Context, tk string) (int64, error) {
	return s.eventKey(ctx, &s.keys.tenants, tk,
		`INSERT INTO event_tenants (tenant) VALUES (?) ON CONFLICT (tenant) DO NOTHING`,
		`SELECT id FROM event_tenants WHERE tenant = ?`, tk)
}

// typeKey is the key of the event type (code, id) in event_types, added when missing.
func (s *Store) typeKey(ctx context.Context, code string, id int) (int64, error) {
	return s.eventKey(ctx, &s.keys.types, eventType{code, id},
		`INSERT INTO event_types (code, type_id) VALUES (?, ?) ON CONFLICT (code, type_id) DO NOTHING`,
		`SELECT id FROM event_types WHERE code = ? AND type_id = ?`, code, id)
}

// eventKey adds a row with insert (which does nothing when it exists, also when another instance
// adds it at the same time) and reads its key with lookup; both take args.
func (s *Store) eventKey(ctx context.Context, cache *sync.Map, k any, insert, lookup string, args ...any) (int64, error) {
	if v, ok := cache.Load(k); ok {
		return v.(int64), nil
	}
	w := s.writer()
	if _, err := w.ExecContext(ctx, s.q(insert), args...); err != nil {
		return 0, s.wrap("event key", err)
	}
	var key int64
	if err := w.QueryRowContext(ctx, s.q(lookup), args...).Scan(&key); err != nil {
		return 0, s.wrap("event key", err)
	}
	if s.tx == nil {
		cache.Store(k, key)
	}
	return key, nil
}

// eventArgs are the values of eventInsertCols for e.
func (s *Store) eventArgs(ctx context.Context, args []any, e registration.Event) ([]any, error) {
	tk, err := encodeTenant(e.Tenant)
	if err != nil {
		return nil, err
	}
	tenantKey, err := s.tenantKey(ctx, tk)
	if err != nil {
		return nil, err
	}
	typeKey, err := s.typeKey(ctx, e.TypeCode, e.TypeID)
	if err != nil {
		return nil, err
	}
	return append(args, tenantKey, e.CustomerRegistrationID, typeKey, e.SourceSystem, e.Outcome, e.DurationMs,
		s.d.EventTime(normTime(e.OccurredAt)), e.RequestID, e.Detail), nil
}

const (
	eventInsert       = `INSERT INTO events (tenant_key, crid, type_key, source_system, outcome, duration_ms, occurred_at, request_id, detail) VALUES `
	eventPlaceholders = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	eventArgCount     = 9
)

// RecordEvent stores e (its ID is ignored) and returns the ID the database gave it. IDs grow.
func (s *Store) RecordEvent(ctx context.Context, e registration.Event) (int64, error) {
	args, err := s.eventArgs(ctx, make([]any, 0, eventArgCount), e)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := s.writeRow(ctx, s.q(eventInsert+eventPlaceholders+` RETURNING id`), args...).Scan(&id); err != nil {
		return 0, s.wrap("record event", err)
	}
	return id, nil
}

// maxEventsPerInsert keeps one INSERT under SQLite's default limit of 32766 bound parameters
// and PostgreSQL's 65535.
const maxEventsPerInsert = 1000

// RecordEvents stores es with multi-row INSERTs: one statement for a batch instead of one each,
// which is most of what batching events saves. Rows are inserted in es's order, so their IDs grow
// in that order.
func (s *Store) RecordEvents(ctx context.Context, es []registration.Event) error {
	for len(es) > 0 {
		n := min(len(es), maxEventsPerInsert)
		var b strings.Builder
		b.WriteString(eventInsert)
		args := make([]any, 0, n*eventArgCount)
		for i, e := range es[:n] {
			var err error
			if args, err = s.eventArgs(ctx, args, e); err != nil {
				return err
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(eventPlaceholders)
		}
		if _, err := s.writer().ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return s.wrap("record events", err)
		}
		es = es[n:]
	}
	return nil
}

// ListEvents returns one page of a user's events, newest first (ties: the later ID first), and
// their total number. limit 0 means no limit.
func (s *Store) ListEvents(ctx context.Context, t tenant.Key, id string, limit, offset int) ([]registration.Event, int64, error) {
	if limit < 0 || offset < 0 {
		return nil, 0, fmt.Errorf("registration: list events: negative limit %d or offset %d", limit, offset)
	}
	tk, err := encodeTenant(t)
	if err != nil {
		return nil, 0, err
	}
	// A tenant that never had an event has no key: the subquery is NULL and matches nothing.
	const user = `e.tenant_key = (SELECT id FROM event_tenants WHERE tenant = ?) AND e.crid = ?`
	var total int64
	if err := s.reader().QueryRowContext(ctx,
		s.q(`SELECT COUNT(*) FROM events e WHERE `+user), tk, id).Scan(&total); err != nil {
		return nil, 0, s.wrap("list events count", err)
	}
	const cols = `e.id, e.crid, k.code, k.type_id, e.source_system, e.outcome, e.duration_ms, e.occurred_at, e.request_id, e.detail`
	const order = ` ORDER BY e.occurred_at DESC, e.id DESC`
	args := []any{tk, id}
	var query string
	if offset == 0 {
		// The first page: the rows in events_by_user's order, read as the index meets them.
		query = `SELECT ` + cols + ` FROM events e JOIN event_types k ON k.id = e.type_key WHERE ` + user + order
		if limit > 0 {
			query, args = s.page(query, args, limit, 0)
		}
	} else {
		// A later page is picked from events_by_user alone (it holds the order and the id), and
		// only its rows are read from the table, so the rows skipped cost index entries, not
		// table rows: at 20 million rows, offset 100,000 took 12 ms this way and 2.4 s reading
		// the skipped rows (docs/events-at-volume.md). For the first page the detour through the
		// primary key costs more than it saves (2.9 ms against 0.2 ms there).
		pick, pickArgs := s.page(`SELECT e.id FROM events e WHERE `+user+order, args, limit, offset)
		query = `SELECT ` + cols + ` FROM (` + pick + `) p JOIN events e ON e.id = p.id JOIN event_types k ON k.id = e.type_key` + order
		args = pickArgs
	}
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, 0, s.wrap("list events", err)
	}
	defer rows.Close()
	out := make([]registration.Event, 0)
	for rows.Next() {
		e := registration.Event{Tenant: t}
		if err := rows.Scan(&e.ID, &e.CustomerRegistrationID, &e.TypeCode, &e.TypeID,
			&e.SourceSystem, &e.Outcome, &e.DurationMs, scanTime(&e.OccurredAt), &e.RequestID, &e.Detail); err != nil {
			return nil, 0, s.wrap("list events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.wrap("list events", err)
	}
	return out, total, nil
}
